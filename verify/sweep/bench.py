"""``implicit-verify bench sweep``: serial vs local-cluster throughput on ``init`` cells and
dask's per-task overhead, measured in one run.

1. The same ``init`` grid is swept with ``serial=True`` and on a :class:`distributed.LocalCluster`
   (W worker processes × 1 thread), both into temporary directories (files included: the
   timings are of the whole :func:`run_sweep`).  The cluster is started, and torch/verify
   imported in its workers, before the timed sweep; both times are reported separately.
2. Overhead: ``K`` no-op tasks submitted to the same cluster and gathered, timed; per-task
   overhead = wall / K (with W workers, the scheduler's throughput, not latency).

Printed: cells/s of each engine, the speed-up (ideal: W, on an idle machine), the mean cell
time, the per-task overhead and its ratio to the mean cell time.  On a shared machine the
figures vary between runs; say so when quoting them.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["bench_sweep", "run_bench"]

DEFAULT_GRID = {"data": "digits-all", "n": (32, 64), "m": (64, 128, 256, 512, 1024),
                "seeds": tuple(range(8))}


def _noop(x: int) -> int:
    return x


def _warm() -> None:
    """Import what a task imports (torch, verify, scipy's ARPACK) in a worker."""
    import scipy.sparse.linalg  # noqa: F401
    import torch  # noqa: F401

    import verify.sweep.tasks  # noqa: F401


def bench_sweep(*, workers: int | None = None, noop_tasks: int = 300,
                grid: dict[str, Any] | None = None, quiet: bool = False) -> dict[str, Any]:
    """Measure (module docstring); returns the figures as a dict."""
    import logging

    from distributed import Client, LocalCluster

    from .engine import available_cpus, run_sweep
    from .spec import SweepSpec

    g = dict(DEFAULT_GRID if grid is None else grid)
    spec = SweepSpec(kind="init", **g)
    w = workers or available_cpus()
    cells = len(spec.n) * len(spec.m) * len(spec.seeds)
    with tempfile.TemporaryDirectory(prefix="iv-bench-sweep-") as tmp:
        t = time.perf_counter()
        ser = run_sweep(spec, Path(tmp) / "serial", serial=True, progress=False)
        t_serial = time.perf_counter() - t
        t = time.perf_counter()
        cluster = LocalCluster(n_workers=w, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=logging.ERROR,
                               env={"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
        client = Client(cluster, set_as_default=False)
        client.wait_for_workers(w)
        t_start = time.perf_counter() - t
        t = time.perf_counter()
        client.run(_warm)
        t_warm = time.perf_counter() - t
        try:
            t = time.perf_counter()
            dist = run_sweep(spec, Path(tmp) / "dask", client=client, progress=False)
            t_dask = time.perf_counter() - t
            client.gather(client.map(_noop, range(10), pure=False))  # warm-up
            t = time.perf_counter()
            client.gather(client.map(_noop, range(noop_tasks), pure=False))
            t_noop = time.perf_counter() - t
        finally:
            client.close()
            cluster.close()
    same = ser.table.drop(columns="wall_s").equals(dist.table.drop(columns="wall_s"))
    mean_cell = float(ser.table["wall_s"].mean())
    out = {"workers": w, "cells": cells, "grid": {k: list(v) if isinstance(v, tuple) else v
                                                  for k, v in g.items()},
           "serial_s": t_serial, "dask_s": t_dask, "cluster_start_s": t_start, "worker_imports_s": t_warm,
           "serial_cells_per_s": cells / t_serial, "dask_cells_per_s": cells / t_dask,
           "speedup": t_serial / t_dask,
           "speedup_incl_start": t_serial / (t_dask + t_start + t_warm),
           "mean_cell_s": mean_cell, "noop_tasks": noop_tasks,
           "overhead_per_task_s": t_noop / noop_tasks,
           "overhead_over_mean_cell": (t_noop / noop_tasks) / mean_cell if mean_cell > 0 else None,
           "rows_identical": bool(same)}
    return out


def format_bench(r: dict[str, Any]) -> str:
    g = r["grid"]
    return "\n".join([
        f"bench sweep: init cells, data {g['data']}, n {g['n']}, m {g['m']}, "
        f"{len(g['seeds'])} seeds = {r['cells']} cells; local cluster {r['workers']} workers × 1 thread",
        f"  serial      {r['serial_s']:8.2f} s  {r['serial_cells_per_s']:8.2f} cells/s",
        f"  dask        {r['dask_s']:8.2f} s  {r['dask_cells_per_s']:8.2f} cells/s   "
        f"(+ cluster start {r['cluster_start_s']:.2f} s, worker imports "
        f"{r['worker_imports_s']:.2f} s)",
        f"  speed-up dask/serial = {r['speedup']:.2f} (ideal {r['workers']}); including the "
        f"cluster start and imports {r['speedup_incl_start']:.2f}",
        f"  dask per-task overhead = {1e3 * r['overhead_per_task_s']:.2f} ms "
        f"({r['noop_tasks']} no-op tasks) = {r['overhead_over_mean_cell']:.3f} × the mean cell "
        f"({1e3 * r['mean_cell_s']:.1f} ms)",
        f"  rows identical (serial vs dask, wall_s aside): {r['rows_identical']}",
    ])


def run_bench(args: argparse.Namespace) -> int:
    """``implicit-verify bench sweep`` (dispatched from :mod:`verify.cli.bench`)."""
    from bounds._errors import invalid

    workers = getattr(args, "workers", None)
    if workers is not None and workers < 1:
        raise invalid("--workers", workers, "expected an int ≥ 1", "use e.g. --workers 2")
    r = bench_sweep(workers=workers)
    if getattr(args, "json", False):
        print(json.dumps(r, indent=2))
    else:
        print(format_bench(r))
        print("(timings from one run; on a shared machine they vary)", file=sys.stderr)
    return 0
