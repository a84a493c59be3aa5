"""Issue 21 item 3: closed sweep directories.

* one writer at a time (:mod:`verify.sweep.lock`): a second writer — another process or a
  nested call in this one — is refused naming ``--out`` and the holder's pid; a lock left by a
  dead process is taken over; a lock path that is a directory is refused by name;
* ``sweep.json`` carries its checksum: an edit is refused by ``--resume`` and the readers,
  naming the file and the fix; records without a checksum (legacy, e.g. the sweeps committed
  under ``reports/``) still load;
* a part or a row that is not a cell of the directory's grid, or disagrees with its settings,
  is refused by name by ``--resume``, ``sweep --from``, ``report --sweep`` and ``read_table``;
* ``--resume`` into a non-empty directory that is not a sweep is refused.

Every refusal is exit 2 with one line, and the sweep directory is unchanged byte for byte.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bounds._errors import InvalidArgument
from verify.cli import main
from verify.sweep import store
from verify.sweep.lock import LOCK_FILE

GRID = ["--kind", "init", "--data", "synthetic", "--d", "4", "--n", "6", "--m", "8,16", "--seeds",
        "2", "--serial", "--quiet"]
REPO = Path(__file__).resolve().parents[2]


def _tree(d: Path) -> dict[str, str]:
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(d.rglob("*")) if p.is_file()} | {
        str(p.relative_to(d)) + "/": "dir" for p in d.rglob("*") if p.is_dir()}


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A finished tiny init sweep ``s`` and one with another γ (``other``, its rows foreign)."""
    d = tmp_path_factory.mktemp("closed")
    assert main(["sweep", *GRID, "--out", str(d / "s")]) == 0
    assert main(["sweep", *GRID, "--gamma", "0.2", "--out", str(d / "other")]) == 0
    return d


@pytest.fixture
def sw(made, tmp_path):
    shutil.copytree(made / "s", tmp_path / "s")
    return tmp_path / "s"


def _one_line(capsys, *needles):
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


def _refused_everywhere(sw, capsys, *needles):
    """--resume (--out), sweep --from (--from) and report --sweep (--sweep) refuse the directory
    in one line naming their option and ``needles``; nothing in it changes."""
    before = _tree(sw)
    assert main(["sweep", "--out", str(sw), "--resume", "--serial", "--quiet"]) == 2
    _one_line(capsys, "--out", *needles)
    assert main(["sweep", "--from", str(sw), "--n-boot", "0"]) == 2
    _one_line(capsys, "--from", *needles)
    rep = sw.parent / "rep"
    assert main(["report", "--sweep", str(sw), "--sweep-only", "--out", str(rep), "--quiet",
                 "--no-findings", "--n-boot", "0"]) == 2
    _one_line(capsys, "--sweep", *needles)
    assert _tree(sw) == before
    assert not rep.exists()


# ------------------------------------------------------------------ sweep.json is checksummed
def _edit(sw, fn):
    p = sw / store.SWEEP_JSON
    meta = json.loads(p.read_text())
    fn(meta)
    p.write_text(json.dumps(meta, indent=2))


EDITS = [
    ("kind-to-gd", lambda m: m["spec"].update(kind="gd")),
    ("gamma", lambda m: m["spec"].update(gamma=0.3)),
    ("grid-m", lambda m: m["spec"].update(m=[8, 16, 32])),
    ("fingerprint", lambda m: m["data"]["6"].update(fingerprint="0" * 16)),
    ("invocation-dropped", lambda m: m["invocations"].clear()),
    ("checksum-itself", lambda m: m.update(_sha256="0" * 64)),
]


@pytest.mark.parametrize("edit", [e[1] for e in EDITS], ids=[e[0] for e in EDITS])
def test_an_edited_sweep_json_is_refused_naming_the_file(sw, capsys, edit):
    _edit(sw, edit)
    _refused_everywhere(sw, capsys, "sweep.json", "_sha256")
    with pytest.raises(InvalidArgument, match="sweep.json was changed"):
        store.read_table(sw)


def test_the_checksum_is_written_and_survives_a_resume(sw, capsys):
    meta = json.loads((sw / store.SWEEP_JSON).read_text())
    assert len(meta["_sha256"]) == 64
    assert main(["sweep", "--out", str(sw), "--resume", "--serial", "--quiet"]) == 0
    assert "0 computed, 4 already done" in capsys.readouterr().out
    again = json.loads((sw / store.SWEEP_JSON).read_text())
    assert len(again["invocations"]) == 2 and again["_sha256"] != meta["_sha256"]
    assert len(store.read_table(sw)) == 4


def test_a_legacy_sweep_json_without_checksum_loads_and_gets_one_on_resume(sw, capsys):
    _edit(sw, lambda m: m.pop("_sha256"))
    assert main(["sweep", "--from", str(sw), "--n-boot", "0"]) == 0
    capsys.readouterr()
    assert main(["sweep", "--out", str(sw), "--resume", "--serial", "--quiet"]) == 0
    assert "_sha256" in json.loads((sw / store.SWEEP_JSON).read_text())


def test_a_legacy_sweep_json_edited_by_hand_is_still_caught_by_its_rows(sw, capsys):
    """No checksum to compare, but the rows' cell keys belong to kind init, not gd."""
    _edit(sw, lambda m: (m.pop("_sha256"), m["spec"].update(kind="gd")))
    assert main(["sweep", "--from", str(sw), "--n-boot", "0"]) == 2
    _one_line(capsys, "--from", "results.parquet", "not cells of this sweep's grid")


def _committed_sweeps() -> list[str]:
    """The sweep directories git tracks under reports/ (not the ones a user's own
    ``implicit-verify report`` has since written there); every one found where git is absent."""
    try:
        out = subprocess.run(["git", "-C", str(REPO), "ls-files", "reports/*/sweeps/*/sweep.json"],
                             capture_output=True, text=True, timeout=60, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        out = ""
    tracked = sorted(str(REPO / Path(f).parent) for f in out.split())
    return tracked or sorted(glob.glob(str(REPO / "reports" / "*" / "sweeps" / "*")))


COMMITTED = _committed_sweeps()


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: "/".join(Path(p).parts[-3:]))
def test_committed_sweeps_still_load(path):
    """The sweeps under reports/ were written before checksums: they read as legacy records
    through the reader of ``sweep --from`` and ``report --sweep``, and every row passes the
    grid check."""
    from verify.sweep.analysis import read_sweep

    meta = json.loads((Path(path) / store.SWEEP_JSON).read_text())
    assert "_sha256" not in meta, "a committed sweep was re-sealed: commit it, or drop this check"
    spec, table, _ = read_sweep(path)
    assert len(table) == meta["cells"] and set(table["status"]) == {"done"}


@pytest.mark.parametrize("path", [p for p in COMMITTED if p.endswith("ctl-128")]
                         + [pytest.param(p, marks=pytest.mark.slow) for p in COMMITTED
                            if not p.endswith("ctl-128")],
                         ids=lambda p: "/".join(Path(p).parts[-3:]))
def test_sweep_from_on_committed_sweeps(path, capsys):
    assert main(["sweep", "--from", path, "--n-boot", "0", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)


# ------------------------------------------------------------------ rows from elsewhere
def _rows(sw):
    return pq.read_table(sw / store.RESULTS).to_pandas()


def _put_part(sw, df, kind="init"):
    (sw / store.PARTS).mkdir(exist_ok=True)
    pq.write_table(pa.Table.from_pandas(df, schema=store.schema(kind), preserve_index=False),
                   sw / store.PARTS / "part-foreign.parquet")


def _row_m_outside_grid(sw, made):
    df = _rows(sw).iloc[:1].copy()
    df["m"] = 32
    return df, "n, m, seed = 6, 32, 0"


def _row_new_key_m_outside(sw, made):
    df = _rows(sw).iloc[:1].copy()
    df["m"], df["cell_key"] = 32, "0123456789abcdef"
    return df, "not cells of this sweep's grid"


def _row_kind_gd(sw, made):
    df = _rows(sw).iloc[:1].copy()
    df["kind"] = "gd"
    return df, "kind='gd'"


def _row_data(sw, made):
    df = _rows(sw).iloc[:1].copy()
    df["data"] = "digits"
    return df, "data='digits' (sweep: 'synthetic')"


def _part_of_another_sweep(sw, made):
    return _rows(made / "other"), "not cells of this sweep's grid"


FOREIGN = [("row-m-outside-grid-same-key", _row_m_outside_grid),
           ("row-m-outside-grid-new-key", _row_new_key_m_outside),
           ("row-kind-changed", _row_kind_gd),
           ("row-data-changed", _row_data),
           ("part-of-another-sweep", _part_of_another_sweep)]


@pytest.mark.parametrize("make", [f[1] for f in FOREIGN], ids=[f[0] for f in FOREIGN])
def test_a_foreign_part_is_refused_by_name(sw, made, capsys, make):
    df, what = make(sw, made)
    _put_part(sw, df)
    _refused_everywhere(sw, capsys, "parts/part-foreign.parquet", what)
    with pytest.raises(InvalidArgument, match="part-foreign"):
        store.read_table(sw)


def test_a_foreign_row_in_results_parquet_is_refused_by_name(sw, made, capsys):
    df = pd.concat([_rows(sw), _rows(made / "other").iloc[:1]], ignore_index=True)
    pq.write_table(pa.Table.from_pandas(df, schema=store.schema("init"), preserve_index=False),
                   sw / store.RESULTS)
    _refused_everywhere(sw, capsys, "results.parquet", "1 row(s) that are not cells")


def test_moving_the_foreign_part_out_lets_the_sweep_resume(sw, made, capsys):
    _put_part(sw, _rows(made / "other"))
    assert main(["sweep", "--out", str(sw), "--resume", "--serial", "--quiet"]) == 2
    capsys.readouterr()
    (sw / store.PARTS / "part-foreign.parquet").unlink()
    assert main(["sweep", "--out", str(sw), "--resume", "--serial", "--quiet"]) == 0
    assert len(store.read_table(sw)) == 4


# ------------------------------------------------------------------ not a sweep
@pytest.mark.parametrize("content", ["notes.txt", "parts/part-x.parquet", "results.parquet"])
def test_resume_into_a_non_empty_directory_that_is_not_a_sweep_is_refused(tmp_path, capsys, content):
    d = tmp_path / "mine"
    (d / content).parent.mkdir(parents=True)
    (d / content).write_text("mine")
    before = _tree(d)
    assert main(["sweep", *GRID, "--out", str(d), "--resume"]) == 2
    _one_line(capsys, "--out", "not a sweep")
    assert _tree(d) == before


def test_resume_into_an_empty_or_new_directory_starts_the_sweep(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    for d in (tmp_path / "empty", tmp_path / "new"):
        assert main(["sweep", *GRID, "--out", str(d), "--resume"]) == 0
        assert len(store.read_table(d)) == 4 and not (d / LOCK_FILE).exists()


# ------------------------------------------------------------------ the writer lock
_HOLD = ("import fcntl, os, sys, time\n"
         "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)\n"
         "fcntl.flock(fd, fcntl.LOCK_EX)\n"
         "os.pwrite(fd, f'{os.getpid()}\\n'.encode(), 0)\n"
         "print('held', flush=True)\n"
         "time.sleep(60)\n")


@pytest.fixture
def holder():
    """Start a process that holds a lock file (flock), like a running sweep; always stopped."""
    procs = []

    def start(path):
        p = subprocess.Popen([sys.executable, "-c", _HOLD, str(path)], stdout=subprocess.PIPE, text=True)
        procs.append(p)
        assert p.stdout is not None and p.stdout.readline().strip() == "held"
        return p

    yield start
    for p in procs:
        p.kill()
        p.wait(timeout=10)
        if p.stdout is not None:
            p.stdout.close()


@pytest.mark.parametrize("resume", [True, False], ids=["resume", "new-sweep"])
def test_a_second_writer_is_refused_naming_out_and_the_pid(sw, tmp_path, capsys, holder, resume):
    d = sw if resume else tmp_path / "fresh"
    d.mkdir(exist_ok=True)
    p = holder(d / LOCK_FILE)
    before = _tree(d)
    argv = ["sweep", "--out", str(d), "--resume", "--serial", "--quiet"] if resume else \
        ["sweep", *GRID, "--out", str(d)]
    assert main(argv) == 2
    _one_line(capsys, "--out", f"another process (pid {p.pid})")
    assert _tree(d) == before


def test_a_nested_writer_in_the_same_process_is_refused(tmp_path):
    """While a sweep runs its first cell, a second run_sweep on the same directory is refused
    (flock is per open file, so this holds within one process too); the first one finishes."""
    from verify.sweep.engine import run_sweep
    from verify.sweep.spec import SweepSpec
    from verify.sweep.tasks import run_cell

    spec = SweepSpec(kind="init", data="synthetic", d=4, n=(6,), m=(8,), seeds=(0, 1))
    seen = []

    def task(spec_, cell, data, shared):
        if not seen:
            with pytest.raises(InvalidArgument, match=r"out_dir=.*being written by another process "
                                                      rf"\(pid {os.getpid()}\)") as info:
                run_sweep(spec_, tmp_path / "s", serial=True, resume=True, progress=False)
            seen.append(str(info.value))
        return run_cell(spec_, cell, data, shared)

    res = run_sweep(spec, tmp_path / "s", serial=True, progress=False, task=task)
    assert seen and len(res.table) == 2 and set(res.table["status"]) == {"done"}
    assert not (tmp_path / "s" / LOCK_FILE).exists()


def test_a_lock_left_by_a_dead_process_is_taken_over(sw, capsys):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=30)
    (sw / LOCK_FILE).write_text(f"{dead.pid}\n")  # what a SIGKILLed sweep leaves
    assert main(["sweep", "--out", str(sw), "--resume", "--serial", "--quiet"]) == 0
    assert "4 already done" in capsys.readouterr().out
    assert not (sw / LOCK_FILE).exists()


def test_a_sigkilled_holder_releases_the_lock(sw, capsys, holder):
    p = holder(sw / LOCK_FILE)
    p.kill()
    p.wait(timeout=10)
    assert (sw / LOCK_FILE).read_text().strip() == str(p.pid)
    assert main(["sweep", "--out", str(sw), "--resume", "--serial", "--quiet"]) == 0


@pytest.mark.parametrize("resume", [True, False], ids=["resume", "new-sweep"])
def test_a_lock_path_that_is_a_directory_is_refused_naming_out(sw, tmp_path, capsys, resume):
    d = sw if resume else tmp_path / "fresh"
    (d / LOCK_FILE).mkdir(parents=True)
    before = _tree(d)
    argv = ["sweep", "--out", str(d), "--resume", "--serial", "--quiet"] if resume else \
        ["sweep", *GRID, "--out", str(d)]
    assert main(argv) == 2
    _one_line(capsys, "--out", f"{LOCK_FILE} is a directory", "remove")
    assert _tree(d) == before


def test_a_refused_new_sweep_leaves_no_directory_behind(tmp_path, monkeypatch):
    """An error raised under the lock, in a directory the lock created (a/b/s, none of which
    existed), removes what the lock made: the file system is as it was."""
    from verify.sweep import engine
    from verify.sweep.spec import SweepSpec

    spec = SweepSpec(kind="init", data="synthetic", d=4, n=(6,), m=(8,), seeds=(0,))
    out = tmp_path / "a" / "b" / "s"
    real = engine._check_out

    def failing(*a, **k):
        real(*a, **k)
        assert (out / LOCK_FILE).is_file()  # the lock is held while the directory is checked
        raise InvalidArgument("out_dir='x': refused for the test; no fix")

    monkeypatch.setattr(engine, "_check_out", failing)
    with pytest.raises(InvalidArgument, match="refused for the test"):
        engine.run_sweep(spec, out, serial=True, progress=False)
    assert not (tmp_path / "a").exists()


@pytest.mark.slow
def test_two_cli_processes_on_one_directory_one_is_refused(tmp_path):
    """Two real CLI processes on one --out (the first kept busy by a GD cell): exactly one
    writes, the other exits 2 naming --out; the finished table equals a serial one."""
    argv = [sys.executable, "-c", "import sys; from verify.cli import main; sys.exit(main(sys.argv[1:]))",
            "sweep", "--kind", "gd", "--data", "synthetic", "--d", "4", "--n", "6", "--m", "8",
            "--seeds", "2", "--steps", "3000", "--target", "1e-300", "--step", "0.05", "--serial",
            "--quiet", "--out", str(tmp_path / "s")]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    first = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True)
    try:
        t0 = time.monotonic()
        while not (tmp_path / "s" / store.SWEEP_JSON).is_file() and time.monotonic() - t0 < 60:
            time.sleep(0.05)
        second = subprocess.run([*argv, "--resume"], env=env, capture_output=True, text=True,
                                timeout=120)
        assert first.poll() is None, "the first sweep ended before the second started"
        assert second.returncode == 2, second.stderr
        line = second.stderr.strip().splitlines()
        assert len(line) == 1 and "--out" in line[0] and f"pid {first.pid}" in line[0], line
        err = first.communicate(timeout=120)[1]
        assert first.returncode == 0, err
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate(timeout=10)
    assert len(store.read_table(tmp_path / "s")) == 2


def test_a_run_lock_path_that_is_a_directory_is_refused_naming_out(tmp_path, capsys):
    """The same case for ``run`` (its lock lies beside the run directory)."""
    (tmp_path / ".r1.lock").mkdir()
    assert main(["run", "--data", "synthetic", "--n", "8", "--d", "4", "--m", "16", "--steps", "5",
                 "--quiet", "--out", str(tmp_path / "r1")]) == 2
    _one_line(capsys, "--out", ".r1.lock is a directory", "remove")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".r1.lock"]
