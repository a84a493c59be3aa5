"""Sweeps: grids of cells over (n, m, seed) run on dask.distributed (local by default, any
cluster by address, or in-process), written as they finish, resumable.

>>> from verify.sweep import SweepSpec, run_sweep
>>> spec = SweepSpec(kind="init", data="digits-all", n=(16, 32), m=(8, 64), seeds=(0, 1))
>>> res = run_sweep(spec, "sweeps/demo", serial=True, progress=False)   # doctest: +SKIP
>>> res.table.head()                                                    # doctest: +SKIP

Modules: :mod:`.spec` (grid, keys), :mod:`.tasks` (the ``init`` and ``gd`` cells),
:mod:`.engine` (:func:`run_sweep`), :mod:`.store` (files), :mod:`.progress`, :mod:`.cli`
(``implicit-verify sweep``), :mod:`.bench` (``implicit-verify bench sweep``).
"""

from .engine import SweepResult, load_sweep, prepare_data, run_sweep
from .spec import KINDS, Cell, SweepSpec, parse_int_list
from .store import read_table
from .tasks import run_cell

__all__ = ["SweepSpec", "Cell", "KINDS", "parse_int_list", "run_sweep", "SweepResult",
           "load_sweep", "prepare_data", "read_table", "run_cell"]
