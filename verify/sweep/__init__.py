"""Sweeps: grids of cells over (n, m, seed) run on dask.distributed (local by default, any
cluster by address, or in-process), written as they finish, resumable.

>>> from verify.sweep import SweepSpec, run_sweep
>>> spec = SweepSpec(kind="init", data="digits-all", n=(16, 32), m=(8, 64), seeds=(0, 1))
>>> res = run_sweep(spec, "sweeps/demo", serial=True, progress=False)   # doctest: +SKIP
>>> res.table.head()                                                    # doctest: +SKIP

Modules: :mod:`.spec` (grid, keys), :mod:`.tasks` (the ``init`` and ``gd`` cells),
:mod:`.engine` (:func:`run_sweep`), :mod:`.adaptive` (``sweep --adaptive``: cells placed per n
by bisection and the psi-marginal method, in rounds on the engine), :mod:`.store` (files), :mod:`.progress`, :mod:`.bench`
(``implicit-verify bench sweep``); the statistics of a sweep table: :mod:`.outcomes` (named
success indicators, as data), :mod:`.thresholds` (per-n width thresholds with Clopper–Pearson
and bootstrap intervals, the scaling exponent), :mod:`.width_theory` (the theory's widths and
implied hidden constants vs the measured thresholds), :mod:`.analysis` (a sweep directory →
thresholds of every applicable outcome and the theory, for ``sweep --from`` and the report). The command line is
:mod:`verify.cli.sweep`. Imports :mod:`verify.model`, :mod:`verify.experiment` and
:mod:`bounds` only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bounds._lazy import lazy_attributes

if TYPE_CHECKING:  # imported on first use: pandas, pyarrow and dask take seconds to import
    from verify.sweep.adaptive import AdaptiveDesign
    from verify.sweep.adaptive_run import AdaptiveResult, run_adaptive
    from verify.sweep.analysis import SweepAnalysis, analyse_sweep, applicable_outcomes
    from verify.sweep.engine import SweepResult, load_sweep, prepare_data, run_sweep
    from verify.sweep.outcomes import OUTCOMES, Outcome, outcome_indicator, register_outcome
    from verify.sweep.spec import KINDS, Cell, SweepSpec, parse_int_list
    from verify.sweep.store import read_table
    from verify.sweep.tasks import run_cell
    from verify.sweep.thresholds import (
        ScalingLaw,
        WidthThresholds,
        clopper_pearson,
        fit_width_threshold,
    )
    from verify.sweep.width_theory import ConstantTrend, TheoryComparison, theory_vs_measured

#: public name → the module that defines it (PEP 562 lazy attributes)
_LAZY: dict[str, str] = {
    'AdaptiveDesign': 'verify.sweep.adaptive',
    'AdaptiveResult': 'verify.sweep.adaptive_run',
    'run_adaptive': 'verify.sweep.adaptive_run',
    'SweepAnalysis': 'verify.sweep.analysis',
    'analyse_sweep': 'verify.sweep.analysis',
    'applicable_outcomes': 'verify.sweep.analysis',
    'SweepResult': 'verify.sweep.engine',
    'load_sweep': 'verify.sweep.engine',
    'prepare_data': 'verify.sweep.engine',
    'run_sweep': 'verify.sweep.engine',
    'OUTCOMES': 'verify.sweep.outcomes',
    'Outcome': 'verify.sweep.outcomes',
    'outcome_indicator': 'verify.sweep.outcomes',
    'register_outcome': 'verify.sweep.outcomes',
    'KINDS': 'verify.sweep.spec',
    'Cell': 'verify.sweep.spec',
    'SweepSpec': 'verify.sweep.spec',
    'parse_int_list': 'verify.sweep.spec',
    'read_table': 'verify.sweep.store',
    'run_cell': 'verify.sweep.tasks',
    'ScalingLaw': 'verify.sweep.thresholds',
    'WidthThresholds': 'verify.sweep.thresholds',
    'clopper_pearson': 'verify.sweep.thresholds',
    'fit_width_threshold': 'verify.sweep.thresholds',
    'ConstantTrend': 'verify.sweep.width_theory',
    'TheoryComparison': 'verify.sweep.width_theory',
    'theory_vs_measured': 'verify.sweep.width_theory',
}


__all__ = ["SweepSpec", "Cell", "KINDS", "parse_int_list", "run_sweep", "SweepResult",
           "load_sweep", "prepare_data", "read_table", "run_cell",
           "Outcome", "OUTCOMES", "register_outcome", "outcome_indicator", "fit_width_threshold",
           "WidthThresholds", "ScalingLaw", "clopper_pearson", "theory_vs_measured",
           "TheoryComparison", "ConstantTrend", "analyse_sweep", "SweepAnalysis",
           "applicable_outcomes", "AdaptiveDesign", "AdaptiveResult", "run_adaptive"]


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals(), __all__)

