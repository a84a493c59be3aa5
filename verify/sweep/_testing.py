"""Fault-injecting task wrappers for the sweep tests (importable by dask workers).

They wrap :func:`verify.sweep.tasks.run_cell` and are passed as ``run_sweep(task=...)``
(with :func:`functools.partial` for their options).  Not used by the command line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .tasks import run_cell

__all__ = ["die_once", "raise_on_seed", "planted_cell", "interrupt_after"]


def die_once(spec: Any, cell: Any, data: dict[str, Any], shared: dict[str, Any] | None = None, *,
             marker: str, seed: int) -> dict[str, Any]:
    """Kill this worker process (``os._exit``) the first time a cell with ``seed`` runs; the
    marker file records that it happened, so the retried task completes."""
    if cell.seed == seed:
        p = Path(marker)
        try:
            fd = os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            pass
        else:
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            os._exit(17)
    return run_cell(spec, cell, data, shared)


class _Boom(RuntimeError):
    pass


def _explode(spec: Any, m: int, seed: int, data: dict[str, Any], shared: Any = None) -> dict[str, Any]:
    raise _Boom(f"injected failure for seed {seed}")


def raise_on_seed(spec: Any, cell: Any, data: dict[str, Any], shared: dict[str, Any] | None = None,
                  *, seed: int) -> dict[str, Any]:
    """``run_cell`` with a task that raises for cells with ``seed`` (an ``error`` row)."""
    if cell.seed != seed:
        return run_cell(spec, cell, data, shared)
    from . import tasks

    orig = tasks._TASKS[spec.kind]
    tasks._TASKS[spec.kind] = _explode
    try:
        return run_cell(spec, cell, data, shared)
    finally:
        tasks._TASKS[spec.kind] = orig


def planted_success(n: int, m: int, seed: int, a: float, p: float, s0: float, s1: float,
                    n0: float = 16.0) -> bool:
    """A Bernoulli draw from the planted probit law P = Φ((log m − a − p·log(n/n0))/s(n)),
    s(n) = s0·(n/n0)^s1, with a uniform seeded by (n, m, seed) alone (any order, any process)."""
    import math

    import numpy as np
    from scipy import special

    u = np.random.default_rng([int(n), int(m), int(seed), 20261207]).random()
    sn = s0 * (n / n0) ** s1
    return bool(u < special.ndtr((math.log(m) - a - p * math.log(n / n0)) / sn))


def planted_cell(spec: Any, cell: Any, data: dict[str, Any], shared: dict[str, Any] | None = None,
                 *, a: float, p: float, s0: float, s1: float = 0.0,
                 calls: str | None = None) -> dict[str, Any]:
    """An init row whose Lemma 3.3 event (λ_min(G(0)) ≥ ¾λ0) is a draw from a planted law
    (:func:`planted_success`): ``lam_min_G0`` = λ0 on success, ½λ0 on failure; no network is
    built.  ``calls``: a file that gets one line per call (tests count the cells run)."""
    import math

    lam0 = float(data["lambda0"])
    ok = planted_success(cell.n, cell.m, cell.seed, a, p, s0, s1)
    if calls is not None:
        with open(calls, "a", encoding="utf-8") as f:
            f.write(f"{cell.n} {cell.m} {cell.seed}\n")
    return {"n": cell.n, "m": cell.m, "seed": cell.seed, "gamma": spec.gamma, "step": None,
            "kind": spec.kind, "data": spec.data, "cell_key": cell.key, "lambda0": lam0,
            "lam_min_G0": lam0 if ok else 0.5 * lam0, "G0_dev_op": math.nan, "status": "done",
            "error": None, "wall_s": 0.0}


def interrupt_after(spec: Any, cell: Any, data: dict[str, Any], shared: dict[str, Any] | None = None,
                    *, counter: str, limit: int, **law: Any) -> dict[str, Any]:
    """:func:`planted_cell`, but the call after ``limit`` calls (counted in the file
    ``counter``, across sweeps) raises :class:`KeyboardInterrupt`, as a kill would stop a run."""
    p = Path(counter)
    k = int(p.read_text()) if p.is_file() else 0
    if k >= limit:
        raise KeyboardInterrupt
    p.write_text(str(k + 1))
    return planted_cell(spec, cell, data, shared, **law)
