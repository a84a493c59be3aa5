"""``bounds --format latex`` compiles (issue 20 item 7), checked without a LaTeX installation:
the document is ASCII, every row of the tabular has its five cells, braces and ``$`` balance in
each cell, and every math segment is parsed by matplotlib's mathtext parser (a TeX-math parser;
it rejects unknown commands and unbalanced groups)."""

from __future__ import annotations

import json
import re

import pytest

import verify.cli as vcli
from bounds._report import format_latex


@pytest.fixture
def main(monkeypatch):
    monkeypatch.setattr(vcli, "_SUBCOMMANDS", (("bounds", "bounds._cli"),))
    return vcli.main


def _report(main, capsys, *argv):
    assert main(["bounds", *argv, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def _cells(doc: str) -> list[list[str]]:
    body = doc.split(r"\begin{tabular}{llllr}", 1)[1].split(r"\end{tabular}", 1)[0]
    rows = []
    for line in body.splitlines():
        line = line.strip()
        if not line or line == r"\hline":
            continue
        assert line.endswith(r"\\"), line
        rows.append([c.strip() for c in re.split(r"(?<!\\)&", line[:-2])])
    return rows


def _balanced(cell: str) -> bool:
    depth = 0
    for i, ch in enumerate(cell):
        if ch in "{}" and i and cell[i - 1] == "\\":
            continue
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


@pytest.mark.parametrize("argv", [("--synthetic", "12,4"),
                                  ("--synthetic", "12,4", "--m", "4096", "--gamma", "0.1",
                                   "--step", "0.01"),
                                  ("--synthetic", "10,3", "--mode", "gf", "--m", "100")])
def test_latex_output_parses(main, capsys, argv):
    mathtext = pytest.importorskip("matplotlib.mathtext")
    parser = mathtext.MathTextParser("path")
    doc = format_latex(_report(main, capsys, *argv))
    assert doc.isascii()
    assert doc.count(r"\begin{tabular}") == doc.count(r"\end{tabular}") == 1
    rows = _cells(doc)
    assert rows and all(len(r) == 5 for r in rows), [r for r in rows if len(r) != 5]
    widths = [r for r in rows if r[1].startswith(r"width\_")]
    assert widths and any(r"m \geq \frac" in r[2] for r in widths)  # the formulas are there
    for row in rows:
        for cell in row:
            assert _balanced(cell), cell
            parts = re.split(r"(?<!\\)\$", cell)
            assert len(parts) % 2 == 1, cell  # every $ closed
            for seg in parts[1::2]:
                parser.parse(f"${seg}$")  # raises ValueError on malformed TeX math
