"""One vocabulary on every surface (issue 20 item 9): one run, read back from ``run``'s terminal
table, the report's markdown (verdict tables and the card's count of claims) and its
``summary.json`` — every surface must name each verdict with the same words and count the same
outcomes.

The reference is :func:`bounds.verdict_words` applied to ``record.json``'s verdicts; each surface
is parsed from its own output, so a surface that re-words or re-counts fails here.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from collections import Counter
from pathlib import Path

import pytest

import bounds
from bounds._verdicts import CLAIM_ORDER, Outcome
from verify.cli import main

RUN = ["run", "--data", "synthetic", "--n", "6", "--d", "3", "--m", "16", "--steps", "5",
       "--seed", "1", "--quiet"]
WORDS = {o.value for o in Outcome}


@pytest.fixture(scope="module")
def one_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    d = tmp_path_factory.mktemp("surfaces")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main([*RUN, "--out", str(d / "r")]) == 0
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["report", "--from", str(d / "r"), "--out", str(d / "rep"), "--quiet",
                     "--format", "md,json", "--no-sweep"]) == 0
    record = json.loads((d / "r" / "record.json").read_text())
    return {"dir": d, "stdout": out.getvalue(), "record": record,
            "reference": {v["name"]: bounds.verdict_words(v) for v in record["verdicts"]}}


def _base(words: str) -> str:
    """The outcome of a word string (``inconclusive (hidden constant)`` → ``inconclusive``)."""
    return "inconclusive" if words.startswith("inconclusive") else words


def _run_table(run: dict) -> dict[str, str]:
    rows = {}
    for line in run["stdout"].splitlines():
        cols = re.split(r"\s{2,}", line.strip())
        if len(cols) >= 4 and cols[0] in ("assumption", "condition", "claim"):
            rows[cols[1]] = cols[3]
    return rows


def _report_md(run: dict) -> dict[str, str]:
    """The verdict tables' rows: | label | `name` | words (ratio) | figure |."""
    text = (run["dir"] / "rep" / "report.md").read_text()
    rows: dict[str, str] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        name = re.fullmatch(r"`(\w+)`", cells[1]) if len(cells) == 4 else None
        if line.startswith("|") and name and name.group(1) in run["reference"]:
            rows.setdefault(name.group(1), re.sub(r" \([-+0-9.e]+\)$", "", cells[2]))
    return rows


# (the library's ``Verdict.words`` is ``bounds.verdict_words`` itself, so it is no independent
# surface: comparing it with the reference could not fail)
SURFACES = {"run table": _run_table, "report markdown": _report_md}


@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_every_surface_uses_the_same_words(one_run: dict, surface: str) -> None:
    got = SURFACES[surface](one_run)
    ref = one_run["reference"]
    claims = {v["name"] for v in one_run["record"]["verdicts"] if v["kind"] == "claim"}
    assert claims <= set(got), f"{surface} leaves out {sorted(claims - set(got))}"
    wrong = {k: (got[k], ref[k]) for k in got if k in ref and got[k] != ref[k]}
    assert not wrong, wrong
    assert {_base(w) for w in got.values()} <= WORDS


@pytest.mark.parametrize("surface", ["run table", "report markdown", "summary.json",
                                     "report card"])
def test_every_surface_counts_the_same_outcomes(one_run: dict, surface: str) -> None:
    ref_all = Counter(_base(w) for w in one_run["reference"].values())
    claim_names = {v["name"] for v in one_run["record"]["verdicts"] if v["kind"] == "claim"}
    ref_claims = Counter(_base(one_run["reference"][k]) for k in claim_names)
    if surface == "summary.json":
        summary = json.loads((one_run["dir"] / "rep" / "summary.json").read_text())
        assert Counter(summary["runs"][0]["verdict_counts"]) == ref_all
    elif surface == "report card":
        text = (one_run["dir"] / "rep" / "report.md").read_text()
        line = next(ln for ln in text.splitlines() if ln.startswith("- **Trajectory:**"))
        total = int(re.search(r"of (\d+) claims", line).group(1))
        counted = {w: int(k) for k, w in re.findall(
            r"(\d+) (" + "|".join(re.escape(o.value) for o in CLAIM_ORDER) + r")", line)}
        assert total == len(claim_names)
        assert counted == dict(ref_claims)
        if not any(ref_claims[o.value] for o in (Outcome.HOLDS, Outcome.VIOLATED)):
            assert "no claim had its hypotheses met" in line
    else:
        got = SURFACES[surface](one_run)
        assert Counter(_base(got[k]) for k in claim_names) == ref_claims


def test_the_reference_is_not_trivial(one_run: dict) -> None:
    """The run must exercise several outcomes, or the tests above compare little."""
    assert len({_base(w) for w in one_run["reference"].values()}) >= 4
    assert isinstance(one_run["dir"], Path)
