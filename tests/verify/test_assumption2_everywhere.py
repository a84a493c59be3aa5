"""G22 Assumption 2 (unit rows, no parallel or zero row) is audited the same way by every
sub-command: ``run``, ``report`` and ``sweep`` refuse a failing file in the same words, naming
the option that fixes it, and ``bounds`` prints the same findings; the override
``--allow-assumption-violation`` runs anyway and the sweep's record, ``--from`` table and
analysis say so."""

from __future__ import annotations

import json

import numpy as np
import pytest

import bounds
from verify.cli import main
from verify.sweep.analysis import analyse_sweep

N, D = 12, 4
PAIR = (2, 5)  # row 5 is a copy of row 2: the parallel pair planted below


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def _unit_rows(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X, np.sign(rng.standard_normal(N))


@pytest.fixture
def duplicated(tmp_path):
    X, y = _unit_rows()
    X[PAIR[1]] = X[PAIR[0]]
    p = tmp_path / "dup.npz"
    np.savez(p, X=X, y=y)
    return p


@pytest.fixture
def non_unit(tmp_path):
    X, y = _unit_rows(1)
    X[3] *= 3.0  # ‖x_3‖ = 3: max |‖x_i‖ − 1| = 2 at row 3
    p = tmp_path / "scaled.npz"
    np.savez(p, X=X, y=y)
    return p


def _argv(command: str, data, out) -> list[str]:
    tail = {"run": ["--m", "8", "--steps", "1", "--step", "0.01", "--device", "cpu"],
            "report": [],
            "sweep": ["--kind", "init", "--n", str(N), "--m", "8", "--seeds", "1", "--serial"]}
    return [command, "--data", str(data), *tail[command], "--quiet", "--out", str(out)]


def _refusal(command: str, data, out, capsys) -> str:
    assert main(_argv(command, data, out)) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err  # one line, no traceback
    prefix = f"implicit-verify {command}: error: "
    assert err.startswith(prefix), err
    assert not out.exists()  # refused before anything is written
    return err[len(prefix):]


SURFACES = ["run", "report", "sweep"]


@pytest.mark.parametrize("command", SURFACES)
def test_parallel_rows_refused_naming_the_fix(command, duplicated, tmp_path, capsys):
    msg = _refusal(command, duplicated, tmp_path / "out", capsys)
    assert "G22 Assumption 2 fails" in msg and "parallel pair" in msg
    assert f"({PAIR[0]},{PAIR[1]})" in msg
    assert "--perturb-parallel" in msg and "--allow-assumption-violation" in msg
    assert "--normalise" not in msg  # the rows are unit: normalising fixes nothing here


@pytest.mark.parametrize("command", SURFACES)
def test_non_unit_rows_refused_naming_the_fix(command, non_unit, tmp_path, capsys):
    msg = _refusal(command, non_unit, tmp_path / "out", capsys)
    assert "G22 Assumption 2 fails" in msg and "not unit norm" in msg and "(row 3)" in msg
    assert "--normalise" in msg and "--allow-assumption-violation" in msg
    assert "--perturb-parallel" not in msg


@pytest.mark.parametrize("fixture", ["duplicated", "non_unit"])
def test_same_words_on_every_surface(fixture, request, tmp_path, capsys):
    data = request.getfixturevalue(fixture)
    msgs = {c: _refusal(c, data, tmp_path / c, capsys) for c in SURFACES}
    assert len(set(msgs.values())) == 1, msgs
    # bounds reports (does not refuse) the same audit findings
    assert main(["bounds", "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert "Assumption 2: VIOLATED" in out
    findings = bounds.audit_data(np.load(data)["X"]).messages()
    assert findings
    for finding in findings:
        assert finding in msgs["run"] and finding in out, (finding, out)


def test_sweep_named_fixes_work(duplicated, non_unit, tmp_path, capsys):
    """The options the refusal names make the sweep's data pass the audit."""
    for data, fix in ((duplicated, "--perturb-parallel"), (non_unit, "--normalise")):
        out = tmp_path / fix.strip("-")
        assert main([*_argv("sweep", data, out), fix]) == 0
        rec = json.loads((out / "sweep.json").read_text())
        assert rec["data"][str(N)]["audit"]["ok"] is True
    capsys.readouterr()


def test_sweep_override_is_recorded_and_reported(duplicated, tmp_path, capsys):
    out = tmp_path / "s"
    argv = [*_argv("sweep", duplicated, out), "--n", f"6,{N}", "--allow-assumption-violation"]
    assert main(argv) == 0
    capsys.readouterr()
    rec = json.loads((out / "sweep.json").read_text())
    for n in (6, N):  # the record keeps each n's failed audit (the pair lies in the first 6 rows)
        audit = rec["data"][str(n)]["audit"]
        assert audit["ok"] is False and audit["parallel_pairs"] == [list(PAIR)]
        # no infinite-width limit exists for parallel rows: recorded as not computed
        assert rec["data"][str(n)]["kernels"]["status"] == "not computed"
    # the --from table and the analysis (which the report's width section prints) say so
    assert main(["sweep", "--from", str(out), "--n-boot", "0"]) == 0
    text = capsys.readouterr().out
    notes = [ln for ln in text.splitlines() if ln.startswith("note: ") and "Assumption 2" in ln]
    assert [ln.split(":")[1].strip() for ln in notes] == ["n = 6", f"n = {N}"]
    assert all("--allow-assumption-violation" in ln and "not met" in ln for ln in notes)
    an = analyse_sweep(out, n_boot=0, theory=False)
    assert sum("Assumption 2 fails" in x for x in an.notes) == 2
    # resuming keeps the choice the sweep was started with (no option needed again)
    assert main(["sweep", "--out", str(out), "--resume", "--quiet", "--serial"]) == 0
    assert "0 computed" in capsys.readouterr().out


def test_passing_data_has_no_note(tmp_path, capsys):
    X, y = _unit_rows()
    p = tmp_path / "ok.npz"
    np.savez(p, X=X, y=y)
    out = tmp_path / "s"
    assert main(_argv("sweep", p, out)) == 0
    assert main(["sweep", "--from", str(out), "--n-boot", "0"]) == 0
    assert "Assumption 2" not in capsys.readouterr().out
