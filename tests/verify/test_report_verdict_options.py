"""``implicit-verify report`` takes run's verdict options (issue 11) and passes them to every run."""

from __future__ import annotations

import json

import pytest

from verify.cli import main


def test_report_passes_verdict_options_to_every_run(tmp_path, capsys):
    out = tmp_path / "rep"
    rc = main(["report", "--data", "synthetic", "--n", "8", "--widths", "8,16", "--steps", "3",
               "--step", "0.01", "--no-sweep", "--no-findings", "--format", "json", "--quiet",
               "--hypotheses", "explicit", "--hidden-range", "0.5,2", "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    for m in (8, 16):
        rec = json.loads((out / "runs" / f"m{m}" / "record.json").read_text())
        opts = rec["verdict_options"]
        assert opts["hypotheses"] == "explicit"
        assert opts["hidden_range"] == [0.5, 2.0]
        assert "--hypotheses explicit" in rec["command"] and "--hidden-range 0.5,2" in rec["command"]


def test_report_default_verdict_options_are_run_defaults(tmp_path, capsys):
    """Without the options the runs get RunConfig's defaults (paper hypotheses)."""
    from verify import RunConfig

    out = tmp_path / "rep"
    rc = main(["report", "--data", "synthetic", "--n", "8", "--widths", "8", "--steps", "2",
               "--step", "0.01", "--no-sweep", "--no-findings", "--format", "json", "--quiet",
               "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    rec = json.loads((out / "runs" / "m8" / "record.json").read_text())
    d = RunConfig(m=8, gamma=0.1, step=0.01, steps=1)
    assert rec["verdict_options"]["hypotheses"] == "paper"
    assert rec["verdict_options"]["hidden_range"] == list(d.hidden_range)
    assert "--hypotheses" not in rec["command"]


@pytest.mark.parametrize(("argv", "option", "value"), [
    (["--hidden-range", "5,1"], "--hidden-range", "5,1"),
    (["--hidden-range", "0,1"], "--hidden-range", "0"),
    (["--hidden-range", "1"], "--hidden-range", "1"),
    (["--gf-threshold", "-1"], "--gf-threshold", "-1"),
    (["--hypotheses", "both"], "--hypotheses", "both"),
])
def test_report_bad_verdict_option_is_one_line(tmp_path, capsys, argv, option, value):
    out = tmp_path / "rep"
    rc = main(["report", "--data", "synthetic", "--n", "8", "--widths", "8", "--steps", "2",
               "--no-sweep", "--quiet", *argv, "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1 and option in err and value in err and "Traceback" not in err
    assert not out.exists()


def test_report_from_refuses_verdict_options(tmp_path, capsys):
    rc = main(["report", "--from", str(tmp_path), "--hypotheses", "explicit", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and "--hypotheses" in err and "--from" in err
