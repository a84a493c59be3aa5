"""``--help`` of every sub-command (issue 20 item 5): each option has a description and states
its default exactly once, ``--version`` works, ``bench gram``/``bench solver`` show only their
own options, ``bounds --help`` names the hidden constants."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator

import pytest

import bounds
from verify.cli import build_parser, main


def _parsers() -> Iterator[tuple[str, argparse.ArgumentParser]]:
    def walk(p: argparse.ArgumentParser, name: str) -> Iterator[tuple[str, argparse.ArgumentParser]]:
        yield name, p
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                for n, sp in a.choices.items():
                    yield from walk(sp, f"{name} {n}")

    yield from walk(build_parser(), "implicit-verify")


def _options() -> list[tuple[str, str, str]]:
    """(command, option, the help text as printed) for every option of every parser."""
    out = []
    for name, p in _parsers():
        fmt = p._get_formatter()
        for a in p._actions:
            if not a.option_strings or isinstance(a, (argparse._HelpAction,
                                                      argparse._VersionAction)):
                continue
            text = fmt._expand_help(a) if a.help else ""
            out.append((name, a.option_strings[0], text))
    return out


OPTIONS = _options()


@pytest.mark.parametrize(("command", "option", "text"), OPTIONS,
                         ids=[f"{c.split(' ', 1)[-1]} {o}" for c, o, _ in OPTIONS])
def test_every_option_has_a_description_and_one_default(command, option, text):
    assert text.strip(), f"{command} {option} has no description"
    assert re.search(r"\bdefault", text, re.I), f"{command} {option}: no default stated: {text}"
    # never the same default twice ("(0.01) (default: 0.01)", "(default: x) (default: x)")
    assert not re.search(r"\(([^()]+)\)\s*\(default: \1\)", text), text
    assert len(re.findall(r"\(default: ", text)) <= 1, text


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip().startswith("implicit-verify ")


def test_bench_targets_show_only_their_own_options():
    subs = {n.rsplit(" ", 1)[-1]: p for n, p in _parsers() if n.startswith("implicit-verify bench ")}
    gram = {o for a in subs["gram"]._actions for o in a.option_strings}
    solver = {o for a in subs["solver"]._actions for o in a.option_strings}
    assert {"--gamma", "--reference-repeat"} <= gram and not {"--gammas", "--tol"} & gram
    assert {"--gammas", "--tol"} <= solver and not {"--gamma", "--reference-repeat"} & solver


def test_bounds_help_lists_the_hidden_constants(capsys):
    assert main(["bounds", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    for name in bounds.HIDDEN_CONSTANTS:
        assert name in out


def test_help_cites_no_file_outside_the_package(capsys):
    for name, _ in _parsers():
        argv = name.split()[1:]
        if argv[:1] == ["bench"] and len(argv) == 1:
            continue  # the parent of the bench targets needs a target; its targets are checked
        assert main([*argv, "--help"]) == 0
        assert "shared/theory" not in capsys.readouterr().out, name
