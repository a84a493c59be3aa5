"""Run directories (issue 12): no run lost to a kill, a clash, a refused command or a damaged file.

* every file of a run directory × {truncate, garble, empty, edit}: the reader (``load_run``)
  gives one clean error naming the file, never a traceback and never the edited numbers; then
  ``run --resume`` rebuilds what can be rebuilt (bit-identical to the original) or refuses
  cleanly (a damaged checkpoint or saved options);
* two real processes on one ``--out``: the second gets a clean error naming the first's pid;
* SIGKILL / SIGTERM of a real ``run`` subprocess: the checkpoint written by the *wall-time* rule
  (``--checkpoint-seconds 1``, step rule off) resumes to results bit-identical to an
  uninterrupted run; SIGTERM exits 143 after saving;
* ``--force`` validates the new run before touching the old one, swaps atomically and says which
  saved options it replaces; a refused command writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bounds._errors import InvalidArgument
from verify.cli import main
from verify.experiment.record import RUN_FILES, json_checksum, npz_checksum
from verify.experiment.result import load_run

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--data", "synthetic", "--n", "6", "--d", "3", "--m", "8", "--step", "0.05", "--steps", "6", "--quiet", "--device", "cpu"]
FILES = (*RUN_FILES, "cli_args.json")


def _digest(d: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.iterdir()) if p.is_file()}


def _same_results(a: Path, b: Path) -> None:
    ra, rb = load_run(a), load_run(b)
    assert set(ra.trace) == set(rb.trace)
    for k in ra.trace:
        assert np.array_equal(ra.trace[k], rb.trace[k], equal_nan=True), k
    for k in ("A", "W", "u", "v"):
        assert np.array_equal(ra.params_final[k], rb.params_final[k]), k
        assert np.array_equal(ra.params_init[k], rb.params_init[k]), k
    assert ra.record["steps_done"] == rb.record["steps_done"]
    assert [v.to_dict() for v in ra.verdicts] == [v.to_dict() for v in rb.verdicts]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    d = tmp_path_factory.mktemp("runs") / "orig"
    assert main(["run", *TINY, "--out", str(d)]) == 0
    return d


# ------------------------------------------------------------------ damaged files
def _edit(path: Path) -> None:
    """A valid file with changed contents (the stored checksum kept, as an editor would)."""
    if path.suffix == ".json":
        data = json.loads(path.read_text())
        if path.name == "record.json":
            data["steps_done"] = int(data["steps_done"]) + 1
        else:
            data["m"] = "16"
        path.write_text(json.dumps(data))
        return
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    if path.name == "trace.npz":
        arrays["loss"] = arrays["loss"][:-1]          # a shortened loss array
    elif path.name == "checkpoint.npz":
        meta = json.loads(str(arrays["meta"]))
        meta["next_step"] = int(meta["next_step"]) - 2  # would duplicate trace rows
        arrays["meta"] = np.array(json.dumps(meta))
    else:
        arrays["A"] = arrays["A"] + 1e-9               # a perturbed A
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif how == "garble":
        mid = len(data) // 2
        path.write_bytes(data[:mid] + bytes(b ^ 0x5A for b in data[mid:mid + 64]) + data[mid + 64:])
    elif how == "empty":
        path.write_bytes(b"")
    else:
        _edit(path)


@pytest.mark.parametrize("how", ["truncate", "garble", "empty", "edit"])
@pytest.mark.parametrize("name", FILES)
def test_damaged_file_is_detected_and_rebuilt(finished, tmp_path, capsys, name, how):
    d = tmp_path / "run"
    shutil.copytree(finished, d)
    _damage(d / name, how)
    read_by_load_run = name in ("record.json", "trace.npz", "params_init.npz", "params_final.npz")
    if read_by_load_run:
        with pytest.raises(InvalidArgument) as info:
            load_run(d)
        assert name in str(info.value) and "--resume" in str(info.value)
    else:
        load_run(d)  # the record does not depend on this file
    # --resume: rebuilds record/trace/parameters from the checkpoint, or refuses cleanly
    rc = main(["run", "--out", str(d), "--resume", "--quiet"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if name in ("checkpoint.npz", "cli_args.json"):
        assert rc == 2 and len(err.strip().splitlines()) == 1 and name in err, err
        # nothing else was touched: the readable files are as they were
        assert _digest(d) == {**_digest(finished), name: _digest(d)[name]}
    else:
        assert rc == 0, err
        _same_results(d, finished)


def test_nan_checkpoint_never_overwrites_the_record(finished, tmp_path, capsys):
    """A checkpoint whose NaN parameters carry a *valid* checksum is refused before any write."""
    d = tmp_path / "run"
    shutil.copytree(finished, d)
    path = d / "checkpoint.npz"
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files if k != "_sha256"}
    arrays["A"] = arrays["A"].copy()
    arrays["A"][0, 0] = np.nan
    arrays["_sha256"] = np.array(npz_checksum(arrays))
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)
    before = _digest(d)
    assert main(["run", "--out", str(d), "--resume", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "checkpoint.npz" in err and "NaN" in err
    assert _digest(d) == before


def test_record_without_schema_is_a_clean_error(tmp_path, capsys):
    d = tmp_path / "r"
    d.mkdir()
    (d / "record.json").write_text("{}")
    assert main(["report", "--from", str(d), "--out", str(tmp_path / "rep"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "record.json" in err and "schema" in err
    assert not (tmp_path / "rep").exists()


def test_report_from_refuses_runs_on_different_data(finished, tmp_path, capsys):
    other = tmp_path / "other"
    assert main(["run", *TINY, "--m", "16", "--data-seed", "1", "--out", str(other)]) == 0
    assert main(["report", "--from", str(finished), str(other), "--out", str(tmp_path / "rep"),
                 "--quiet", "--no-findings"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--from" in err and "seed" in err
    assert not (tmp_path / "rep").exists()


def test_json_checksum_is_stable_under_a_round_trip(finished):
    data = json.loads((finished / "record.json").read_text())
    stored = data.pop("_sha256")
    assert stored == json_checksum(json.loads(json.dumps(data)))


# ------------------------------------------------------------------ --force and refusals
def test_refused_run_writes_nothing(finished, tmp_path, capsys):
    d = tmp_path / "run"
    shutil.copytree(finished, d)
    before = _digest(d)
    assert main(["run", *TINY, "--m", "16", "--out", str(d)]) == 2      # no --force
    assert main(["run", *TINY, "--gamma", "2", "--out", str(d), "--force"]) == 2
    assert main(["run", *TINY, "--out", str(tmp_path / "new"), "--steps", "x"]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "--gamma" in err and "--steps" in err
    assert _digest(d) == before and not (tmp_path / "new").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


@pytest.mark.parametrize("bad", [["--m", "1000000000"], ["--data", "/nonexistent.npz"], ["--n", "0"]])
def test_force_with_a_run_that_cannot_start_keeps_the_old_run(finished, tmp_path, capsys, bad):
    d = tmp_path / "run"
    shutil.copytree(finished, d)
    before = _digest(d)
    assert main(["run", *TINY, *bad, "--out", str(d), "--force"]) == 2
    assert _digest(d) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_force_failing_mid_run_keeps_the_old_run(finished, tmp_path, monkeypatch, capsys):
    from verify.experiment import loop

    d = tmp_path / "run"
    shutil.copytree(finished, d)
    before = _digest(d)

    def boom(self, *a, **k):
        raise RuntimeError("simulated crash in the middle of the new run")

    monkeypatch.setattr(loop.GDLoop, "run", boom)
    assert main(["run", *TINY, "--m", "16", "--out", str(d), "--force"]) == 1  # a bug: one line
    assert "internal error: RuntimeError: simulated crash" in capsys.readouterr().err
    assert _digest(d) == before
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == ["run"]


def test_force_replaces_atomically_and_names_the_replaced_options(finished, tmp_path, capsys):
    d = tmp_path / "run"
    shutil.copytree(finished, d)
    assert main(["run", "--out", str(d), "--force", "--quiet", "--device", "cpu", "--data", "synthetic", "--n", "6", "--d", "3",
                 "--steps", "3", "--step", "0.05"]) == 0
    err = capsys.readouterr().err
    assert "--force" in err and "--m '8' → '256'" in err  # not silently the defaults
    rec = load_run(d).record
    assert rec["config"]["m"] == 256 and rec["steps_done"] == 3
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == ["run"]


# ------------------------------------------------------------------ real processes
def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from verify.cli import main; sys.exit(main(sys.argv[1:]))", *args]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


LONG = ["--data", "synthetic", "--n", "12", "--d", "4", "--m", "32", "--step", "0.05", "--steps", "2500", "--record-every", "10",
        "--quiet", "--device", "cpu", "--checkpoint-every", "1000000000", "--checkpoint-seconds", "1"]


def _start(out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(_cli("run", *LONG, *extra, "--out", str(out)), cwd=ROOT, env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _wait_for(pred, timeout: float = 60.0) -> None:
    t0 = time.monotonic()
    while not pred():
        assert time.monotonic() - t0 < timeout, "timed out"
        time.sleep(0.05)


def _checkpoint_step(out: Path) -> int:
    try:
        with np.load(out / "checkpoint.npz") as z:
            return int(json.loads(str(z["meta"]))["next_step"])
    except Exception:
        return -1


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run, in a subprocess like the killed ones."""
    out = tmp_path_factory.mktemp("ref") / "run"
    p = subprocess.run(_cli("run", *LONG, "--out", str(out)), cwd=ROOT, env=_env(), capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return out


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM,
                                 pytest.param(signal.SIGINT, marks=pytest.mark.slow)])  # SIGTERM's path
def test_kill_resumes_from_the_wall_time_checkpoint(reference, tmp_path, sig):
    out = tmp_path / "run"
    proc = _start(out)
    try:
        # the step rule is off (every 10⁹ steps): a checkpoint can only come from the 1 s wall-time rule
        _wait_for(lambda: _checkpoint_step(out) > 0 or proc.poll() is not None)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with np.load(out / "checkpoint.npz") as z:
        meta = json.loads(str(z["meta"]))
    assert 0 < meta["next_step"] < 2500
    if sig != signal.SIGKILL:
        assert proc.returncode == 128 + sig, err  # 143 for SIGTERM, 130 for SIGINT
        assert "Traceback" not in err and "--resume" in err
        assert meta["status"] == "interrupted"
        assert json.loads((out / "record.json").read_text())["status"] == "interrupted"
    else:
        assert proc.returncode == -signal.SIGKILL
        assert meta["status"] == "running"
    p = subprocess.run(_cli("run", "--out", str(out), "--resume", "--quiet"), cwd=ROOT, env=_env(),
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    _same_results(out, reference)


def test_two_writers_second_gets_a_clean_error(tmp_path):
    out = tmp_path / "run"
    first = _start(out, "--steps", "1000000")
    try:
        lock = tmp_path / ".run.lock"
        _wait_for(lambda: (lock.exists() and lock.read_text().strip() == str(first.pid))
                  or first.poll() is not None)
        assert first.poll() is None
        second = subprocess.run(_cli("run", *LONG, "--out", str(out), "--force"), cwd=ROOT, env=_env(),
                                capture_output=True, text=True, timeout=120)
        assert second.returncode == 2, second.stderr
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1 and "--out" in lines[0] and f"pid {first.pid}" in lines[0], second.stderr
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)
        assert first.returncode == 143
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    res = load_run(out)  # one consistent run: every checksum holds, all from the first writer
    assert res.record["config"]["m"] == 32 and res.status == "interrupted"


def test_report_from_with_damaged_findings_is_a_clean_error(finished, tmp_path, capsys):
    d = tmp_path / "run"
    shutil.copytree(finished, d)
    (d / "report_findings.json").write_text('{"m": 8, "chec')
    assert main(["report", "--from", str(d), "--out", str(tmp_path / "rep"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "report_findings.json" in err and "Traceback" not in err
    assert not (tmp_path / "rep").exists()
