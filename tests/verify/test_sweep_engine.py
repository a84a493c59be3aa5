"""verify.sweep on a real LocalCluster: distributed = serial, error rows, worker death, kill + resume."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from verify.sweep import SweepSpec, read_table, run_sweep
from verify.sweep._testing import die_once, raise_on_seed

ROOT = Path(__file__).resolve().parents[2]

INIT = SweepSpec(kind="init", data="digits-all", n=(8, 16), m=(8, 32, 128), seeds=(0, 1),
                 hk_max_m=32)
GD = SweepSpec(kind="gd", data="synthetic", d=4, n=(6,), m=(16, 32), seeds=(0, 1), steps=40,
               target=1e-2)


def _rows(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=["wall_s"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                           dashboard_address=":0", silence_logs=50,
                           env={"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    c = Client(cluster, set_as_default=False)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def serial_tables(tmp_path_factory):
    base = tmp_path_factory.mktemp("serial")
    return {s.kind: run_sweep(s, base / s.kind, serial=True, progress=False).table
            for s in (INIT, GD)}


@pytest.mark.parametrize("spec", [INIT, GD], ids=["init", "gd"])
def test_distributed_rows_equal_serial_rows(client, serial_tables, tmp_path, spec):
    res = run_sweep(spec, tmp_path / "dist", client=client, progress=False)
    assert res.computed == len(res.table) == len(spec.n) * len(spec.m) * len(spec.seeds)
    assert (res.table["status"] == "done").all(), res.table["error"].dropna().tolist()
    pd.testing.assert_frame_equal(_rows(res.table), _rows(serial_tables[spec.kind]))
    # the file on disk is the same table, readable by pandas directly
    disk = pd.read_parquet(tmp_path / "dist" / "results.parquet")
    pd.testing.assert_frame_equal(_rows(disk), _rows(res.table))
    assert not (tmp_path / "dist" / "parts").exists()
    if spec.kind == "init":  # H/K skipped above hk_max_m, computed at or below it
        big = res.table["m"] > spec.hk_max_m
        assert res.table.loc[big, "lam_min_H0"].isna().all()
        assert res.table.loc[~big, "lam_min_H0"].notna().all()
        assert res.table["lam_min_G0"].notna().all()


def test_raising_cell_is_an_error_row(client, tmp_path):
    task = functools.partial(raise_on_seed, seed=1)
    res = run_sweep(INIT, tmp_path / "err", client=client, progress=False, task=task)
    t = res.table
    bad = t["seed"] == 1
    assert (t.loc[bad, "status"] == "error").all()
    assert t.loc[bad, "error"].str.contains("injected failure for seed 1").all()
    assert (t.loc[~bad, "status"] == "done").all()
    assert res.errors == int(bad.sum())
    assert t.loc[bad, "lam_min_G0"].isna().all()


def test_worker_death_is_retried(client, serial_tables, tmp_path):
    marker = tmp_path / "died"
    task = functools.partial(die_once, marker=str(marker), seed=1)
    res = run_sweep(INIT, tmp_path / "die", client=client, progress=False, task=task)
    assert marker.is_file(), "the task never killed its worker"
    assert int(marker.read_text()) not in client.run(os.getpid).values()  # that process is gone
    assert (res.table["status"] == "done").all(), res.table["error"].dropna().tolist()
    pd.testing.assert_frame_equal(_rows(res.table), _rows(serial_tables["init"]))


def test_killed_sweep_resumes_to_the_uninterrupted_table(tmp_path):
    out = tmp_path / "killed"
    args = ["--data", "breast-cancer", "--kind", "init", "--n", "24", "--m", "64:512:+64",
            "--seeds", "3", "--out", str(out), "--serial", "--quiet"]
    code = "import sys; from verify.cli import main; sys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    log = tmp_path / "stderr.txt"
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-c", code, "sweep", *args], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            parts = list((out / "parts").glob("part-*.parquet")) if (out / "parts").is_dir() else []
            if len(parts) >= 3:
                break
            time.sleep(0.02)
        assert proc.poll() is None, f"the sweep ended before the kill: {log.read_text()!r}"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert not (out / "results.parquet").exists()
    partial = read_table(out)
    total = 8 * 3
    assert 3 <= len(partial) < total
    spec = SweepSpec(kind="init", data="breast-cancer", n=(24,), m=tuple(range(64, 513, 64)),
                     seeds=(0, 1, 2))
    res = run_sweep(spec, out, serial=True, resume=True, progress=False)
    assert res.skipped == len(partial) and res.computed == total - len(partial)
    meta = json.loads((out / "sweep.json").read_text())
    assert meta["invocations"][-1]["cells_skipped"] == len(partial)
    assert meta["command"].startswith("implicit-verify sweep --data breast-cancer")
    resumed = pd.read_parquet(out / "results.parquet")
    fresh = run_sweep(spec, tmp_path / "fresh", serial=True, progress=False).table
    pd.testing.assert_frame_equal(_rows(resumed), _rows(fresh))
    # cells finished before the kill were not recomputed: their rows (incl. wall time) survive
    kept = resumed.set_index("cell_key").loc[partial["cell_key"], "wall_s"].to_numpy()
    np.testing.assert_array_equal(kept, partial["wall_s"].to_numpy())
