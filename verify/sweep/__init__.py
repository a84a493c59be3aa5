"""Sweeps: grids of cells over (n, m, seed) run on dask.distributed (local by default, any
cluster by address, or in-process), written as they finish, resumable.

>>> from verify.sweep import SweepSpec, run_sweep
>>> spec = SweepSpec(kind="init", data="digits-all", n=(16, 32), m=(8, 64), seeds=(0, 1))
>>> res = run_sweep(spec, "sweeps/demo", serial=True, progress=False)   # doctest: +SKIP
>>> res.table.head()                                                    # doctest: +SKIP

Modules: :mod:`.spec` (grid, keys), :mod:`.tasks` (the ``init`` and ``gd`` cells),
:mod:`.engine` (:func:`run_sweep`), :mod:`.store` (files), :mod:`.progress`, :mod:`.bench`
(``implicit-verify bench sweep``); the statistics of a sweep table: :mod:`.outcomes` (named
success indicators, as data), :mod:`.thresholds` (per-n width thresholds with Clopper–Pearson
and bootstrap intervals, the scaling exponent), :mod:`.width_theory` (the theory's widths and
implied hidden constants vs the measured thresholds), :mod:`.analysis` (a sweep directory →
thresholds of every applicable outcome and the theory, for ``sweep --from`` and the report). The command line is
:mod:`verify.cli.sweep`. Imports :mod:`verify.model`, :mod:`verify.experiment` and
:mod:`bounds` only.
"""

from .analysis import SweepAnalysis, analyse_sweep, applicable_outcomes
from .engine import SweepResult, load_sweep, prepare_data, run_sweep
from .outcomes import OUTCOMES, Outcome, outcome_indicator, register_outcome
from .spec import KINDS, Cell, SweepSpec, parse_int_list
from .store import read_table
from .tasks import run_cell
from .thresholds import ScalingLaw, WidthThresholds, clopper_pearson, fit_width_threshold
from .width_theory import ConstantTrend, TheoryComparison, theory_vs_measured

__all__ = ["SweepSpec", "Cell", "KINDS", "parse_int_list", "run_sweep", "SweepResult",
           "load_sweep", "prepare_data", "read_table", "run_cell",
           "Outcome", "OUTCOMES", "register_outcome", "outcome_indicator", "fit_width_threshold",
           "WidthThresholds", "ScalingLaw", "clopper_pearson", "theory_vs_measured",
           "TheoryComparison", "ConstantTrend", "analyse_sweep", "SweepAnalysis",
           "applicable_outcomes"]
