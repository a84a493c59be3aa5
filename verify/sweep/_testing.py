"""Fault-injecting task wrappers for the sweep tests (importable by dask workers).

They wrap :func:`verify.sweep.tasks.run_cell` and are passed as ``run_sweep(task=...)``
(with :func:`functools.partial` for their options).  Not used by the command line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .tasks import run_cell

__all__ = ["die_once", "raise_on_seed"]


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
