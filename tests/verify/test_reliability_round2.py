"""Issue 21 ("Reliability, second round"): ``--force`` deletes only what this toolkit made for
that purpose, sweeps stop cleanly on signals, sweep directories are closed, and the CLI answers
bad input with one line naming the option.

CLI cases go through :func:`verify.cli.main` (exit status 2, one line naming the option); the
files that must survive are compared byte for byte before and after.
"""

from __future__ import annotations

import shutil

import pytest

from verify.cli import main

RUN = ["run", "--data", "synthetic", "--n", "8", "--d", "4", "--m", "16", "--steps", "5", "--quiet"]


def _snapshot(d):
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """One saved run, one report of it and one tiny init sweep, made once (copied per test)."""
    d = tmp_path_factory.mktemp("made")
    assert main([*RUN, "--out", str(d / "run")]) == 0
    assert main(["report", "--from", str(d / "run"), "--out", str(d / "report"), "--quiet",
                 "--no-findings"]) == 0
    assert main(["sweep", "--kind", "init", "--n", "6", "--m", "8,16", "--seeds", "2",
                 "--serial", "--out", str(d / "sweep")]) == 0
    return d


@pytest.fixture
def tree(made, tmp_path):
    """``P/r1`` (a run), ``P/s1`` (a sweep), ``P/rep`` (a report) and ``Q`` (someone's files)."""
    p = tmp_path / "P"
    shutil.copytree(made / "run", p / "r1")
    shutil.copytree(made / "sweep", p / "s1")
    shutil.copytree(made / "report", p / "rep")
    (tmp_path / "Q").mkdir()
    (tmp_path / "Q" / "notes.txt").write_text("mine")
    return tmp_path


# (id, argv with {t} for the tree, the directory that must be unchanged)
FORCE_CASES = [
    ("report-from-is-out", ["report", "--from", "{t}/P/r1", "--out", "{t}/P/r1"], "P"),
    ("report-out-parent-of-from", ["report", "--from", "{t}/P/r1", "--out", "{t}/P"], "P"),
    ("report-sweep-only-out-is-sweep", ["report", "--sweep", "{t}/P/s1", "--sweep-only", "--out",
                                        "{t}/P/s1"], "P"),
    ("report-sweep-only-out-parent-of-sweep", ["report", "--sweep", "{t}/P/s1", "--sweep-only",
                                               "--out", "{t}/P"], "P"),
    ("report-out-is-another-run", ["report", "--from", "{t}/P/r1", "--out", "{t}/P/rep/runs/m16"], "P"),
    ("report-out-is-a-sweep", ["report", "--from", "{t}/P/r1", "--out", "{t}/P/s1"], "P"),
    ("report-out-is-someones-dir", ["report", "--from", "{t}/P/r1", "--out", "{t}/Q"], "Q"),
    ("report-out-is-a-file", ["report", "--from", "{t}/P/r1", "--out", "{t}/Q/notes.txt"], "Q"),
    ("report-from-inside-report-out", ["report", "--from", "{t}/P/rep/runs/m16", "--out", "{t}/P/rep"],
     "P"),
    ("run-force-over-a-sweep", [*RUN, "--out", "{t}/P/s1"], "P"),
    ("run-force-over-a-report", [*RUN, "--out", "{t}/P/rep"], "P"),
]


@pytest.mark.parametrize("argv,keep", [c[1:] for c in FORCE_CASES], ids=[c[0] for c in FORCE_CASES])
def test_force_never_deletes_what_it_did_not_make(tree, capsys, argv, keep):
    before = _snapshot(tree / keep)
    argv = [a.format(t=tree) for a in argv] + ["--force"]
    if argv[0] == "report":
        argv += ["--quiet", "--no-findings"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--out" in err[0], err
    assert _snapshot(tree / keep) == before


def test_force_over_a_run_holding_other_entries_is_refused(tree, capsys):
    (tree / "P" / "r1" / "mine").mkdir()
    before = _snapshot(tree / "P")
    assert main([*RUN, "--out", str(tree / "P" / "r1"), "--force"]) == 2
    assert "'mine'" in capsys.readouterr().err
    assert _snapshot(tree / "P") == before


def test_force_replaces_a_report_and_a_run_it_made(tree, capsys):
    rep = tree / "P" / "rep"
    (rep / "stale.txt").write_text("old report file")
    assert main(["report", "--from", str(tree / "P" / "r1"), "--out", str(rep), "--force", "--quiet",
                 "--no-findings"]) == 0
    assert not (rep / "stale.txt").exists() and (rep / "report.md").is_file()
    assert (rep / ".implicit-verify-report").is_file()  # still replaceable next time
    assert main([*RUN, "--out", str(tree / "P" / "r1"), "--force"]) == 0
    assert (tree / "P" / "r1" / "record.json").is_file()


def test_library_files_cannot_leave_out_dir(tmp_path):
    import numpy as np

    from bounds._errors import InvalidArgument
    from verify import RunConfig, run_gd

    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 3))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    with pytest.raises(InvalidArgument, match="files"):
        run_gd(X, np.ones(4), config=RunConfig(m=4, gamma=0.1, step=0.01, steps=1), out_dir=tmp_path / "o",
               files={"../escaped.json": {}})
    assert not (tmp_path / "escaped.json").exists() and not (tmp_path / "o").exists()


# ---------------------------------------------------------------------------------------------
# Item 2: SIGINT/SIGTERM stop a sweep after saving finished cells; the cell in progress is
# dropped (never stored as done); resuming gives the table of an uninterrupted sweep.

def _gd_spec(steps):
    from verify.sweep.spec import SweepSpec

    return SweepSpec(kind="gd", data="synthetic", n=(6,), m=(8,), seeds=(0, 1, 2), d=4,
                     steps=steps, target=1e-300, step="0.05")


_COMPARED = ["n", "m", "seed", "status", "gd_status", "loss_final", "steps_done"]


def _cmp(table):
    cols = [c for c in _COMPARED if c in table.columns]
    return table.sort_values(["n", "m", "seed"])[cols].reset_index(drop=True)


@pytest.mark.parametrize("signum", ["SIGINT", "SIGTERM"])
def test_signal_inside_a_serial_gd_cell_drops_it_and_resume_matches(tmp_path, signum):
    """The signal arrives while run_gd is inside the second cell: the sweep stops at once with
    :class:`SweepInterrupted`, that cell is not in the table, and a resume equals a fresh run."""
    import os
    import signal
    import threading

    import pandas.testing as pdt

    from verify.sweep.engine import SweepInterrupted, run_sweep
    from verify.sweep.store import read_table
    from verify.sweep.tasks import run_cell

    spec = _gd_spec(400)
    full = run_sweep(spec, tmp_path / "full", serial=True, progress=False).table
    sig = getattr(signal, signum)
    calls = []

    def task(spec_, cell, data, shared):
        calls.append(cell.seed)
        if len(calls) == 2:  # a signal from another thread while this cell's GD loop runs
            threading.Timer(0.02, os.kill, (os.getpid(), sig)).start()
            import time

            t0 = time.monotonic()
            while time.monotonic() - t0 < 10:  # the sweep's handler raises in here
                run_cell(spec_, cell, data, shared)
        return run_cell(spec_, cell, data, shared)

    with pytest.raises(SweepInterrupted) as info:
        run_sweep(spec, tmp_path / "k", serial=True, progress=False, task=task)
    assert info.value.signum == sig and info.value.saved == 1
    part = read_table(tmp_path / "k", "gd")
    assert list(part["seed"]) == [calls[0]] and set(part["status"]) == {"done"}
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handlers restored
    assert signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None)
    res = run_sweep(spec, tmp_path / "k", serial=True, resume=True, progress=False)
    assert res.skipped == 1 and res.computed == 2
    pdt.assert_frame_equal(_cmp(res.table), _cmp(full))


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["serial", "local-cluster"])
@pytest.mark.parametrize("signum", ["SIGINT", "SIGTERM"])
def test_cli_sweep_killed_by_a_signal_resumes_to_the_uninterrupted_table(tmp_path, mode, signum):
    """The CLI in a subprocess, signalled once its first part is saved: exit 128 + signal, a line
    with the resume command, no interrupted row, and the resumed table equals a fresh one."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import pandas.testing as pdt

    from verify.sweep.store import read_table

    argv = [sys.executable, "-c", "import sys; from verify.cli import main; sys.exit(main(sys.argv[1:]))", "sweep", "--kind", "gd", "--data", "synthetic",
            "--n", "6", "--d", "4", "--m", "8", "--seeds", "4", "--steps", "4000", "--target",
            "1e-300", "--step", "0.05", "--quiet"]
    argv += ["--serial"] if mode == "serial" else ["--workers", "1"]
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    full = tmp_path / "full"
    subprocess.run([*argv, "--out", str(full)], check=True, env=env, capture_output=True)
    k = tmp_path / "k"
    p = subprocess.Popen([*argv, "--out", str(k)], env=env, stderr=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    while not any((k / "parts").glob("*")) and time.monotonic() - t0 < 120 and p.poll() is None:
        time.sleep(0.05)
    time.sleep(0.2)
    p.send_signal(getattr(signal, signum))
    err = p.communicate(timeout=60)[1]
    assert p.returncode == 128 + getattr(signal, signum), err
    assert "--resume" in err.strip().splitlines()[-1]
    part = read_table(k, "gd")
    assert len(part) < 4 and set(part["gd_status"]) <= {"max_steps"}
    subprocess.run([*argv, "--out", str(k), "--resume"], check=True, env=env, capture_output=True)
    pdt.assert_frame_equal(_cmp(read_table(k, "gd")), _cmp(read_table(full, "gd")))
