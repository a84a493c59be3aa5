"""Run a sweep: data once per n on the client, cells on dask.distributed (or in-process).

Engines:

* default — a :class:`distributed.LocalCluster` started and closed by the sweep: ``workers``
  worker processes (default: the CPUs this process may use), one thread each, torch limited to
  ``spec.torch_threads`` threads inside every task, ``OMP_NUM_THREADS=MKL_NUM_THREADS=1`` in
  the workers' environment;
* ``scheduler="tcp://HOST:PORT"`` (or the environment variable ``DASK_SCHEDULER_ADDRESS``) —
  attach to a running cluster (dask-jobqueue, dask-kubernetes, ``dask scheduler`` …); the
  address is checked and the connection made, under ``connect_timeout``, before any file is
  written (:mod:`verify.sweep.scheduler`);
* ``serial=True`` — no dask; the same task function in this process, identical rows.

Per n, the client loads the data (:func:`load_dataset`), computes its fingerprint,
``λ0`` (:func:`bounds.lambda0`) and, for ``init``, ``G∞`` (:func:`bounds.gram_infinity`), and
sends them to the workers once (``scatter(broadcast=True)``); cells never recompute them.

Tasks: one per group of cells (:func:`verify.sweep.tasks.group_key`): for ``init`` all n of one
(m, seed), which share the network and ‖A(0)‖₂ (the costly part at large m); for ``gd`` one
cell.  Groups are submitted widest first.  Rows do not depend on the grouping or the order.

Fault handling: a cell that raises is an ``error`` row (:func:`verify.sweep.tasks.run_cell`); a
task whose worker dies is rescheduled by the scheduler (up to ``retries`` times on a local
cluster: ``distributed.scheduler.allowed-failures``) and, should it still fail, becomes an
``error`` row with dask's message.  Rows are written by the client as cells finish
(:mod:`verify.sweep.store`); ``resume=True`` skips the cells already ``done`` (error rows are
run again) and ends with the same table an uninterrupted sweep writes.

Closed directories: the sweep holds the directory's writer lock (:mod:`verify.sweep.lock`)
from before it reads ``sweep.json`` until it returns, so two processes never write one sweep;
``sweep.json`` is checksummed and every row read back must be a cell of the grid
(:mod:`verify.sweep.integrity`); ``resume=True`` into a non-empty directory without a
``sweep.json`` is refused.

Length (~510 lines), kept as one module: it is the one loop from a spec to a table — data
preparation, the resume check, the cluster, submission, collection, compaction and the
signal handling all act on the same in-flight state, and the module reads top to bottom in
that order.  What stands alone is elsewhere: the files (:mod:`.store`, :mod:`.integrity`),
the lock (:mod:`.lock`), the remote connection (:mod:`.scheduler`), the cells (:mod:`.tasks`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
import shlex
import signal
import sys
import time
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bounds._errors import check_path, invalid

from . import store
from .lock import LOCK_FILE, SweepLock
from .progress import Progress
from .scheduler import CONNECT_TIMEOUT, check_connect_timeout, connect, resolve_scheduler
from .spec import Cell, SweepSpec, cell_key
from .tasks import group_key, run_cell, run_cells

__all__ = ["run_sweep", "SweepResult", "SweepInterrupted", "prepare_data", "grid_inputs",
           "load_sweep", "environment"]

_BUNDLED = ("digits", "digits-all", "breast-cancer")
_COMPACT_EVERY = 200  # parts; then results.parquet is rewritten and the parts removed


@dataclass(frozen=True)
class SweepResult:
    """``table``: one row per cell in (n, m, seed) order; ``computed``: cells run by this call;
    ``skipped``: cells already done (resume); ``errors``: error rows in the table."""

    table: pd.DataFrame
    out_dir: Path
    spec: SweepSpec
    computed: int
    skipped: int
    errors: int
    wall_s: float
    engine: str


def environment() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for pkg in ("implicit-verify", "torch", "numpy", "scipy", "sympy", "scikit-learn", "pandas",
                "pyarrow", "dask", "distributed"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:  # pragma: no cover
            out[pkg] = "not installed"
    return out


def _fingerprint(X: np.ndarray, y: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in (X, y):
        a = np.ascontiguousarray(a, dtype=np.float64)
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def _load(spec: SweepSpec, n: int) -> Any:
    ds = _load_base(spec, n)
    if spec.project_d is None:
        return ds
    from bounds.datasets import is_image_source, project_dataset

    on = (is_image_source(spec.data) if spec.perturb_parallel is None
          else bool(spec.perturb_parallel))
    return project_dataset(ds, spec.project_d, spec.project_seed, perturb_parallel=on)


def _load_base(spec: SweepSpec, n: int) -> Any:
    from verify.experiment.data import load_dataset

    if spec.data in _BUNDLED:
        if spec.d is not None:
            raise invalid("d", spec.d, f"{spec.data} has a fixed input dimension", "omit --d")
        return load_dataset(spec.data, n=n, seed=spec.data_seed, test_fraction=0.0,
                            perturb_parallel=spec.perturb_parallel)
    from bounds.datasets import is_image_source

    if is_image_source(spec.data):  # G22's image sets: classes 0/1, n balanced, no test set
        if spec.d is not None:
            raise invalid("d", spec.d, f"{spec.data} has d = 784 (28×28 images)", "omit --d")
        return load_dataset(spec.data, n=n, n_test=0, seed=spec.data_seed, classes=spec.classes,
                            perturb_parallel=spec.perturb_parallel)
    if spec.data == "synthetic":
        return load_dataset("synthetic", n=n, d=8 if spec.d is None else spec.d,
                            seed=spec.data_seed, perturb_parallel=spec.perturb_parallel)
    if spec.d is not None:
        raise invalid("d", spec.d, "applies to synthetic data only", "omit --d for a file")
    ds = load_dataset(spec.data, normalise=spec.normalise, perturb_parallel=spec.perturb_parallel,
                      seed=spec.data_seed)
    if n > ds.n:
        raise invalid("n", n, f"the file {spec.data} has only {ds.n} rows",
                      f"use n ≤ {ds.n}")
    return ds


def grid_inputs(spec: SweepSpec, n: int) -> np.ndarray:
    """The inputs (n×d) of the cells of ``n``: what :func:`prepare_data` audits and uses."""
    return np.array(_load(spec, n).X[:n])


def prepare_data(spec: SweepSpec) -> dict[int, dict[str, Any]]:
    """Per n: ``X, y`` (first n rows), ``lambda0``, ``fingerprint``, ``record`` and, for
    ``init``, ``Ginf``, ``lam_min_Hinf`` (λ_min(H∞) of :func:`bounds.deq_kernels` at the
    spec's γ; NaN when its fixed point fails) and ``Hinf_blocks`` (the limit blocks A, W, u, v
    and H, or ``None``).  Raises :class:`~bounds.InvalidArgument` (e.g. n larger than the data)."""
    import bounds

    out: dict[int, dict[str, Any]] = {}
    for n in spec.n:
        ds = _load(spec, n)
        X, y = np.array(ds.X[:n]), np.array(ds.y[:n])
        audit = bounds.audit_data(X)
        rec = {**ds.record(), "n": n, "audit": audit.to_dict()}
        p: dict[str, Any] = {"X": X, "y": y, "lambda0": float(bounds.lambda0(X)),
                             "fingerprint": _fingerprint(X, y), "record": rec}
        if spec.kind == "init":
            p["Ginf"] = np.asarray(bounds.gram_infinity(X), dtype=np.float64)
            try:
                lim = bounds.deq_kernels(X, spec.gamma)
            except bounds.InvalidArgument as exc:  # zero or parallel rows (Assumption 2
                if audit.ok:                       # overridden): no limit is defined there
                    raise
                p["lam_min_Hinf"], p["Hinf_blocks"] = float("nan"), None
                rec["kernels"] = {"status": "not computed", "message": str(exc).partition(": ")[2]}
            else:
                ok = lim.status.ok
                p["lam_min_Hinf"] = float(lim.lambda_min_H) if ok else float("nan")
                p["Hinf_blocks"] = {**lim.blocks(), "H": lim.H} if ok else None
                rec["kernels"] = lim.summary()
        out[n] = p
    return out


def load_sweep(out_dir: str | os.PathLike[str]) -> tuple[SweepSpec, pd.DataFrame]:
    """The spec and the rows written so far of a sweep directory (no computation)."""
    out = Path(out_dir)
    meta = store.read_json(out / store.SWEEP_JSON)
    spec = SweepSpec.from_dict(meta["spec"])
    return spec, store.read_table(out, spec.kind)


def _check_out(out: Path, spec: SweepSpec, data: dict[int, dict[str, Any]], resume: bool) -> dict[str, Any] | None:
    sj = out / store.SWEEP_JSON
    if out.exists() and not out.is_dir():
        raise invalid("out", str(out), "exists and is not a directory", "choose another --out")
    if not sj.is_file():
        # the lock, and an adaptive sweep's design log written before its first round
        if out.is_dir() and any(p.name not in (LOCK_FILE, "adaptive.json") for p in out.iterdir()):
            raise invalid("out", str(out), "is a non-empty directory without a sweep.json "
                          "(not a sweep)", "choose a new or empty --out" + (
                              ", or the --out of the sweep to resume" if resume else ""))
        return None
    if not resume:
        raise invalid("out", str(out), "already holds a sweep",
                      "pass --resume to continue it, or choose a new --out")
    old = store.read_json(sj)
    old_spec = old.get("spec", {})
    diffs = sorted(k for k, v in spec.to_dict().items() if old_spec.get(k) != v)
    if diffs:
        shown = ", ".join(f"{k}={old_spec.get(k)!r}" for k in diffs)
        raise invalid("resume", True, f"the sweep in {out} has other settings ({shown})",
                      "resume with the same options (or none: they come from sweep.json), "
                      "or start a new --out")
    old_fp = {int(k): v["fingerprint"] for k, v in old.get("data", {}).items()}
    new_fp = {n: p["fingerprint"] for n, p in data.items()}
    if old_fp != new_fp:
        raise invalid("resume", True, f"the data differ from those of the sweep in {out}",
                      "resume on the same data (same --data and --data-seed, same file)")
    return dict(old)


def _client(workers: int | None, retries: int) -> tuple[Any, Any, str]:
    """A local cluster and its client (a remote scheduler's client is made by
    :func:`verify.sweep.scheduler.connect` before any file is written)."""
    import dask
    from distributed import Client, LocalCluster

    nw = workers or available_cpus()
    with dask.config.set({"distributed.scheduler.allowed-failures": retries}):
        cluster = LocalCluster(n_workers=nw, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=logging.ERROR,
                               env={"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                                    "OPENBLAS_NUM_THREADS": "1"})
    client = Client(cluster, set_as_default=False)
    return client, cluster, f"dask LocalCluster, {nw} worker processes × 1 thread"


def available_cpus() -> int:
    """CPUs this process may run on (affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1  # pragma: no cover


class SweepInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM stopped :func:`run_sweep`: the cells finished before it are saved
    (``results.parquet``, ``sweep.json``); the ones in progress were dropped, so
    ``resume=True`` runs them again.  ``signum``: the signal; ``saved``/``cells``: rows done
    and the grid's size."""

    def __init__(self, signum: int, out_dir: Path, saved: int, cells: int) -> None:
        super().__init__(f"interrupted by signal {signum}; {saved} of {cells} cells saved in {out_dir}")
        self.signum, self.out_dir, self.saved, self.cells = signum, out_dir, saved, cells


class _StopOnSignal:
    """While a sweep runs: the first SIGINT/SIGTERM raises :class:`KeyboardInterrupt` at once
    (deferred while a part file is written), restoring the previous handlers so a second signal
    acts as it normally does.  ``stops_sweep`` tells :class:`verify.experiment.stopping.Sigint`
    (a GD cell's handler) to leave the signal to the sweep."""

    stops_sweep = True
    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.signum: int | None = None
        self.defer = 0
        self._old: dict[int, Any] = {}

    def __enter__(self) -> _StopOnSignal:
        import threading

        if threading.current_thread() is threading.main_thread():
            for s in self.SIGNALS:
                self._old[s] = signal.signal(s, self)
        return self

    def restore(self) -> None:
        for s, old in self._old.items():
            signal.signal(s, signal.SIG_DFL if old is None else old)
        self._old = {}

    def __call__(self, signum: int, frame: Any) -> None:
        if self.signum is None:
            self.signum = signum
        self.restore()
        if not self.defer:
            raise KeyboardInterrupt

    def check(self) -> None:
        if self.signum is not None and not self.defer:
            raise KeyboardInterrupt

    def __exit__(self, *exc: Any) -> None:
        self.restore()


def _error_row(spec: SweepSpec, cell: Cell, exc: BaseException) -> dict[str, Any]:
    return {"n": cell.n, "m": cell.m, "seed": cell.seed,
            "gamma": float("nan") if spec.kind == "gamma" else spec.gamma,
            "step": spec.step if spec.kind in ("gd", "gamma") else None, "kind": spec.kind,
            "data": spec.data,
            "cell_key": cell.key, "status": "error",
            "error": f"{type(exc).__name__}: {exc} (the task did not return; dask)",
            "wall_s": float("nan")}


def run_sweep(
    spec: SweepSpec,
    out_dir: str | os.PathLike[str],
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    serial: bool = False,
    resume: bool = False,
    progress: bool = True,
    retries: int = 3,
    command: str | None = None,
    client: Any = None,
    task: Callable[..., dict[str, Any]] | None = None,
    connect_timeout: float = CONNECT_TIMEOUT,
    only: Collection[tuple[int, int, int]] | None = None,
    data: dict[int, dict[str, Any]] | None = None,
) -> SweepResult:
    """Run (or resume) a sweep into ``out_dir``; see the module docstring.

    Args:
        spec: the grid and settings.
        out_dir: the sweep directory (created).
        scheduler: address of a running dask scheduler (default: ``DASK_SCHEDULER_ADDRESS``
            if set, else a local cluster).
        workers: local cluster size (default: available CPUs).
        serial: run in this process without dask.
        resume: continue the sweep in ``out_dir``.
        progress: progress bar on stderr.
        retries: task retries / allowed worker losses per task.
        command: the command line recorded in ``sweep.json``.
        client: an existing ``distributed.Client`` to use (not closed here).
        connect_timeout: seconds allowed for connecting to ``scheduler``
            (:func:`verify.sweep.scheduler.connect`: a refused, silent or non-dask peer is an
            :class:`~bounds.InvalidArgument` naming ``scheduler`` or
            ``DASK_SCHEDULER_ADDRESS``, raised before anything is written).
        task: the cell function ``(spec, cell, data, shared) -> row`` (default
            :func:`verify.sweep.tasks.run_cell`; tests inject faults through it).  Cells are
            run in groups (:func:`verify.sweep.tasks.group_key`): one dask task per group.
        only: run just these ``(n, m, seed)`` cells instead of the whole product grid (the
            rounds of :mod:`.adaptive`); n must be in ``spec.n``, keys as for the grid.
        data: :func:`prepare_data` of ``spec``, when the caller already has it (rounds).
    """
    t0 = time.monotonic()
    if not isinstance(spec, SweepSpec):
        raise invalid("spec", type(spec).__name__, "expected a SweepSpec", "build one with SweepSpec(...)")
    for name, val, lo in (("workers", workers, 1), ("retries", retries, 0)):
        if val is not None and (isinstance(val, bool) or not isinstance(val, int) or val < lo):
            raise invalid(name, val, f"must be an integer ≥ {lo}", f"pass {name} ≥ {lo}")
    task = run_cell if task is None else task
    out = check_path(out_dir, "out_dir")
    remote = resolve_scheduler(None if serial or client is not None else scheduler,
                               serial=serial, client=client)  # a given client wins, as before
    timeout = check_connect_timeout(connect_timeout)
    data = prepare_data(spec) if data is None else data  # raises on bad n before any cluster
    bad = sorted({c[0] for c in only} - set(data)) if only is not None else []
    if bad:
        raise invalid("only", bad, "cells at sample sizes not in the spec's n",
                      "add them to the spec's n")
    own = None if remote is None else connect(remote, timeout)  # fails fast, before any file
    try:
        with SweepLock(out, "out_dir"):  # one writer; a directory it made goes if nothing was written
            return _run_locked(spec, out, data, None if remote is None else remote.address,
                               workers, serial, resume, progress, retries, command,
                               client if own is None else own, task, t0, only)
    finally:
        if own is not None:
            own.close()


def _run_locked(spec: SweepSpec, out: Path, data: dict[int, dict[str, Any]],
                scheduler: str | None, workers: int | None, serial: bool, resume: bool,
                progress: bool, retries: int, command: str | None, client: Any,
                task: Callable[..., dict[str, Any]], t0: float,
                only: Collection[tuple[int, int, int]] | None = None) -> SweepResult:
    old = _check_out(out, spec, data, resume)
    fps = {n: p["fingerprint"] for n, p in data.items()}
    if only is None:
        cells = spec.cells(fps)
    else:
        base = spec.task_fields()
        cells = [Cell(n, m, s, cell_key(base, n, m, s, fps[n])) for n, m, s in sorted(set(only))]
    prev = store.read_table(out, spec.kind) if old is not None else None
    done_keys = set() if prev is None else set(prev.loc[prev["status"] == "done", "cell_key"])
    todo = [c for c in cells if c.key not in done_keys]
    skipped = len(cells) - len(todo)
    engine = "serial (in-process)" if serial else (
        f"dask scheduler {scheduler}" if scheduler else
        "dask client (given)" if client is not None else "dask LocalCluster")
    invocation = {"started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "command": command, "engine": engine, "cells_to_run": len(todo),
                  "cells_skipped": skipped}
    meta = {"schema": "implicit-verify/sweep/1", "spec": spec.to_dict(),
            "command": command if old is None else old.get("command"),
            "environment": environment(),
            "data_fingerprint": hashlib.sha256("".join(fps[n] for n in spec.n).encode()).hexdigest()[:16],
            "data": {str(n): {"fingerprint": p["fingerprint"], "lambda0": p["lambda0"], **p["record"]}
                     for n, p in data.items()},
            "cells": len(cells),
            "table": {"file": store.RESULTS, "parts": store.PARTS + "/",
                      "read": "pandas.read_parquet(OUT/'results.parquet') once finished; "
                              "verify.sweep.read_table(OUT) at any time"},
            "invocations": ([] if old is None else list(old.get("invocations", []))) + [invocation]}
    store.write_json(out / store.SWEEP_JSON, meta)

    bar = Progress(len(cells), skipped=skipped, enabled=progress)
    errors = 0 if prev is None else int(((prev["status"] == "error")
                                         & ~prev["cell_key"].isin({c.key for c in todo})).sum())
    state = {"done": skipped, "errors": errors, "parts": 0}

    stop = _StopOnSignal()

    def record(rows: list[dict[str, Any]]) -> None:
        stop.defer += 1  # a part is written whole or not at all
        try:
            store.write_part(out, rows, spec.kind)
            state["done"] += len(rows)
            state["errors"] += sum(r.get("status") != "done" for r in rows)
            state["parts"] += 1
            if state["parts"] >= _COMPACT_EVERY:
                store.write_final(out, store.read_table(out, spec.kind), spec.kind)
                state["parts"] = 0
            bar.update(state["done"], state["errors"])
        finally:
            stop.defer -= 1
        stop.check()

    groups: dict[tuple[int, ...], list[Cell]] = {}
    for c in todo:
        groups.setdefault(group_key(spec, c), []).append(c)
    # widest first: the longest tasks start early, so the workers finish together
    batches = sorted(groups.values(), key=lambda g: (-g[0].m, g[0].seed, g[0].n))
    bar.update(state["done"], state["errors"], force=True)
    try:
        with stop:
            if serial:
                for group in batches:
                    rows = run_cells(spec, group, {c.n: data[c.n] for c in group}, task)
                    stop.check()  # a group that saw the signal is dropped, never stored
                    record(rows)
            elif todo:
                _run_dask(spec, batches, data, task, record, workers, retries, client)
    except KeyboardInterrupt:
        if stop.signum is None:  # not ours (e.g. an interrupt raised by a library call)
            raise
        bar.close()
        table = store.read_table(out, spec.kind)
        store.write_final(out, table, spec.kind)
        invocation["interrupted"] = signal.Signals(stop.signum).name
        store.write_json(out / store.SWEEP_JSON, meta)
        raise SweepInterrupted(stop.signum, out, int((table["status"] == "done").sum()),
                               len(cells)) from None
    finally:
        bar.close()
    table = store.read_table(out, spec.kind)
    store.write_final(out, table, spec.kind)
    invocation["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    store.write_json(out / store.SWEEP_JSON, meta)
    n_err = int((table["status"] != "done").sum())
    return SweepResult(table, out, spec, len(todo), skipped, n_err, time.monotonic() - t0, engine)


def _run_dask(spec: SweepSpec, batches: list[list[Cell]], data: dict[int, dict[str, Any]],
              task: Callable[..., dict[str, Any]], record: Callable[[list[dict[str, Any]]], None],
              workers: int | None, retries: int, client: Any) -> None:
    from distributed import as_completed

    own = client is None
    cluster = None
    if own:
        client, cluster, _ = _client(workers, retries)
    try:
        needed = sorted({c.n for g in batches for c in g})
        # (a list of one: scattering a dict would scatter its values under the dict's keys)
        payload = {n: client.scatter([data[n]], broadcast=True, hash=False)[0] for n in needed}
        tag = uuid.uuid4().hex[:8]
        by_key: dict[str, list[Cell]] = {}
        futures = []
        for g in batches:
            c = g[0]
            key = f"sweep-{tag}-m{c.m}-s{c.seed}-n{c.n}-{c.key}"
            by_key[key] = g
            futures.append(client.submit(run_cells, spec, g, {x.n: payload[x.n] for x in g},
                                         task, key=key, pure=False, retries=retries))
        ac = as_completed(futures, loop=client.loop, with_results=True, raise_errors=False)
        for batch in ac.batches():
            rows = []
            for fut, res in batch:
                group = by_key[fut.key]
                if isinstance(res, BaseException) or fut.status != "finished":
                    exc = res if isinstance(res, BaseException) else RuntimeError(str(fut.status))
                    rows += [_error_row(spec, cell, exc) for cell in group]
                else:
                    rows += res
            record(rows)
    finally:
        if own:
            client.close()
            if cluster is not None:
                cluster.close()


def command_line(argv: list[str]) -> str:
    return " ".join(shlex.quote(a) for a in ["implicit-verify", "sweep", *argv])
