"""``implicit-verify run`` through the real dispatcher (verify.cli.main)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from verify.cli import main
from verify.experiment.gd import OBSERVABLE_NAMES

TINY = ["--data", "synthetic", "--n", "3", "--d", "4", "--m", "16", "--steps", "4",
        "--step", "0.05", "--quiet", "--device", "cpu"]


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def test_list_observables(capsys):
    assert main(["run", "--list-observables"]) == 0
    out = capsys.readouterr().out
    listed = [line.split()[0] for line in out.strip().splitlines()]
    assert listed == list(OBSERVABLE_NAMES)


def test_synthetic_run_writes_all_files(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", *TINY, "--out", str(out), "--n-test", "2"]) == 0
    text = capsys.readouterr().out
    for name in ("record.json", "trace.npz", "params_init.npz", "params_final.npz"):
        assert (out / name).is_file(), name
    assert f"record: {out / 'record.json'}" in text
    assert "lemma36_vi" in text and "status: max_steps" in text and "G22 Assumption 2" in text
    rec = json.loads((out / "record.json").read_text())
    assert rec["command"].startswith("implicit-verify run --data synthetic --n 3 --d 4")
    assert f"--out {out}" in rec["command"]
    assert rec["config"]["m"] == 16 and rec["data"]["n_test"] == 2
    with np.load(out / "trace.npz") as z:
        assert z["step"].tolist() == [0, 1, 2, 3, 4]


def test_no_overwrite_without_force_then_force_and_resume(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", *TINY, "--out", str(out)]) == 0
    before = (out / "record.json").read_bytes()
    capsys.readouterr()
    assert main(["run", *TINY, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "--force" in err and len(err.strip().splitlines()) == 1
    assert (out / "record.json").read_bytes() == before
    assert main(["run", *TINY, "--out", str(out), "--force", "--seed", "1"]) == 0
    assert json.loads((out / "record.json").read_text())["config"]["seed"] == 1
    i = TINY.index("--steps")
    more = [*TINY[:i + 1], "6", *TINY[i + 2:]]
    assert main(["run", *more, "--out", str(out), "--seed", "1", "--resume"]) == 0
    rec = json.loads((out / "record.json").read_text())
    assert rec["steps_done"] == 6 and rec["schedule"]["resumed_from"] == 4


def test_digits_run(tmp_path, capsys):
    out = tmp_path / "digits"
    args = ["run", "--data", "digits", "--n", "20", "--m", "16", "--steps", "3", "--quiet",
            "--device", "cpu", "--out", str(out)]
    assert main(args) == 0  # --step auto
    rec = json.loads((out / "record.json").read_text())
    assert rec["data"]["name"] == "digits" and rec["data"]["n"] == 20 and rec["data"]["d"] == 64
    assert rec["data"]["n_test"] == 180 and rec["data"]["unit_norm_normalised"] is True
    assert rec["config"]["step"] > 0 and "--step auto" in rec["command"]
    assert np.isfinite(np.load(out / "trace.npz")["test_loss"]).all()
    assert next(v for v in rec["verdicts"] if v["name"] == "data")["status"] == "holds"


def _write(tmp_path, name, X, y=None):
    p = tmp_path / name
    if name.endswith(".npz"):
        np.savez(p, **({"X": X} if y is None else {"X": X, "y": y}))
    elif name.endswith(".npy"):
        np.save(p, X)
    return p


@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--gamma", "1.5"], "--gamma"),
        (["--gamma", "-0.5"], "--gamma"),
        (["--step", "0"], "--step"),
        (["--step", "-0.1"], "--step"),
        (["--step", "fast"], "--step"),
        (["--m", "0"], "--m"),
        (["--m", "2.5"], "--m"),
        (["--steps", "-1"], "--steps"),
        (["--record-every", "0"], "--record-every"),
        (["--expensive-every", "3", "--record-every", "2"], "--expensive-every"),
        (["--n", "0"], "--n"),
        (["--data", "no-such-file.npz"], "--data"),
        (["--hidden", "C_width"], "--hidden"),
        (["--hidden", "C_unknown=2"], "--hidden"),
        (["--device", "tpu"], "--device"),
        (["--hidden-range", "1e3"], "--hidden-range"),
        (["--hidden-range", "5,1"], "--hidden-range"),
        (["--gf-threshold", "-1"], "--gf-threshold"),
    ],
)
def test_bad_arguments_exit_2_naming_the_argument(tmp_path, capsys, extra, needle):
    out = tmp_path / "never"
    args = ["run", *TINY, "--out", str(out), *extra]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("implicit-verify run: error: ") and needle in err
    assert len(err.splitlines()) == 1
    assert not out.exists()  # nothing was done


def test_bad_data_files_exit_2(tmp_path, capsys):
    rng = np.random.default_rng(0)
    cases = {
        "nan_labels": _write(tmp_path, "nan.npz", rng.standard_normal((4, 3)),
                             np.array([1.0, np.nan, 1.0, -1.0])),
        "mismatch": _write(tmp_path, "mismatch.npz", rng.standard_normal((4, 3)), np.ones(3)),
        "empty": _write(tmp_path, "empty.npz", np.zeros((0, 3)), np.zeros(0)),
        "no_labels": _write(tmp_path, "nolab.npy", rng.standard_normal((4, 3))),
    }
    expect = {"nan_labels": "NaN", "mismatch": "labels", "empty": "empty", "no_labels": "no labels"}
    for key, path in cases.items():
        args = ["run", "--data", str(path), "--m", "8", "--steps", "1", "--step", "0.1",
                "--quiet", "--out", str(tmp_path / f"out_{key}")]
        assert main(args) == 2, key
        err = capsys.readouterr().err.strip()
        assert "--data" in err and expect[key] in err, (key, err)
        assert not (tmp_path / f"out_{key}").exists()


def test_unwritable_out(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    assert main(["run", *TINY, "--out", str(blocker / "run")]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "not writable" in err


def test_user_file_run(tmp_path, capsys):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((5, 3)) * 3.0
    p = _write(tmp_path, "data.npz", X, np.sign(rng.standard_normal(5)))
    out = tmp_path / "f"
    # G22 Assumption 2 failing is an error by default, naming the option that fixes it
    assert main(["run", "--data", str(p), "--m", "8", "--steps", "2", "--step", "0.05", "--quiet",
                 "--out", str(out), "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert "Assumption 2" in err and "--normalise" in err and "--allow-assumption-violation" in err
    assert not out.exists()
    assert main(["run", "--data", str(p), "--m", "8", "--steps", "2", "--step", "0.05", "--quiet",
                 "--out", str(out), "--device", "cpu", "--allow-assumption-violation"]) == 0
    rec = json.loads((out / "record.json").read_text())
    data_v = next(v for v in rec["verdicts"] if v["name"] == "data")
    assert data_v["status"] == "violated" and "not unit norm" in data_v["message"]
    out2 = tmp_path / "g"
    assert main(["run", "--data", str(p), "--normalise", "--m", "8", "--steps", "2", "--step",
                 "0.05", "--quiet", "--out", str(out2), "--device", "cpu"]) == 0
    rec2 = json.loads((out2 / "record.json").read_text())
    assert next(v for v in rec2["verdicts"] if v["name"] == "data")["status"] == "holds"
    assert rec2["data"]["unit_norm_normalised"] is True


def test_resume_with_only_out_takes_the_saved_options(tmp_path, capsys):
    """`implicit-verify run --out DIR --resume` continues the run as it was started (the
    README's form); a changed option that matters is still refused by run_gd."""
    out = tmp_path / "run"
    assert main(["run", *TINY, "--seed", "3", "--out", str(out)]) == 0
    assert main(["run", "--out", str(out), "--resume", "--steps", "7", "--quiet"]) == 0
    rec = json.loads((out / "record.json").read_text())
    assert rec["steps_done"] == 7 and rec["schedule"]["resumed_from"] == 4
    assert rec["config"]["seed"] == 3 and rec["config"]["m"] == 16
    # resumed = uninterrupted (bit-identical on CPU)
    ref = tmp_path / "ref"
    i = TINY.index("--steps")
    assert main(["run", *TINY[:i + 1], "7", *TINY[i + 2:], "--seed", "3", "--out", str(ref)]) == 0
    a, b = np.load(out / "params_final.npz"), np.load(ref / "params_final.npz")
    assert all(np.array_equal(a[k], b[k]) for k in ("A", "W", "u", "v"))
    capsys.readouterr()
    assert main(["run", "--out", str(out), "--resume", "--m", "8", "--quiet"]) == 2
    assert "m" in capsys.readouterr().err


def test_verdict_options_are_recorded(tmp_path, capsys):
    out = tmp_path / "v"
    assert main(["run", *TINY, "--out", str(out), "--hidden-range", "0.5,2",
                 "--hypotheses", "explicit"]) == 0
    rec = json.loads((out / "record.json").read_text())
    assert rec["verdict_options"] == {"hidden_range": [0.5, 2.0], "hypotheses": "explicit",
                                      "gf_threshold": 0.1}
    assert "--hidden-range 0.5,2" in rec["command"] and "--hypotheses explicit" in rec["command"]
    vd = {v["name"]: v for v in rec["verdicts"]}
    assert "width_lemma36_explicit" in vd["W_move_R"]["hypotheses_failed"]
