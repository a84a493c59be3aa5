"""The defaults of every surface, in one place (no imports: the CLI reads them before torch).

:data:`DEFAULTS` holds the settings that ``bounds``, ``run``, ``report``, ``sweep`` and the
library (:class:`verify.RunConfig`, :class:`verify.sweep.SweepSpec`,
:func:`verify.sweep.fit_width_threshold`, :func:`bounds.load_dataset`) share: each surface reads
its default from here, so a value changed here changes everywhere, and ``--help`` prints it.

:data:`PER_COMMAND` holds the few defaults that differ by a command's purpose, each with the
reason, printed in that command's ``--help`` beside the option (tests/verify/test_defaults.py
checks every parser and library signature against both tables).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

__all__ = ["DEFAULTS", "PER_COMMAND", "default_for"]

#: setting → default, shared by every surface that has the setting.
DEFAULTS: MappingProxyType[str, Any] = MappingProxyType({
    # data (bounds, run, report; sweep overrides, see PER_COMMAND)
    "data": "digits",
    "data_seed": 0,
    "test_fraction": 0.5,
    "classes": (0, 1),
    "synthetic_n": 32,
    "synthetic_d": 8,
    # the network and its training
    "m": 256,
    "gamma": 0.1,
    "step": "auto",          # α = 1/λ_max(H(0))
    "steps": 300,
    "seed": 0,
    "mode": "gd",
    "device": "cpu",         # the float64 CPU run is the reference; pass cuda or auto for a GPU
    "dtype": "float64",
    "solver": "gauss-seidel",
    "tol": 1e-12,
    "max_iter": 500,
    # the theorems' probabilities and constants
    "delta": 0.01,
    "c_source": "measured",
    "hidden_range": (1e-3, 1e3),
    "gf_threshold": 0.1,
    # width thresholds: the median and the 0.9-quantile, and their bootstrap
    "quantiles": (0.5, 0.9),
    "n_boot": 200,
})

#: (command, setting) → (default, why it differs from :data:`DEFAULTS`).
PER_COMMAND: MappingProxyType[tuple[str, str], tuple[Any, str]] = MappingProxyType({
    ("report", "step"): (0.005, "one α at every width, as G22's Figure 1 compares widths at the "
                                "same step ('auto' would differ per width)"),
    ("report", "n"): (128, "the widths 64…512 then keep the paper's ratios m/n ∈ {½, 1, 2, 4}"),
    ("report", "synthetic_n_test"): ("n", "the report's figures plot the test loss, so synthetic "
                                          "data gets a test set as large as the training set"),
    ("sweep", "data"): ("digits-all", "a sweep's n grid reaches 1024; digits has 360 rows"),
    ("sweep", "steps"): (2000, "a budget for GD to reach --target, not a run length"),
    ("ImplicitNetwork", "solver"): ("picard", "the library's network (and so every sweep cell) "
                                              "solves with plain Picard; Gauss–Seidel, the runs' "
                                              "default, stops on the same certified error"),
})


def default_for(command: str, setting: str) -> Any:
    """The default of ``setting`` in ``command``: its :data:`PER_COMMAND` entry, else the shared
    :data:`DEFAULTS` value (``KeyError`` for a setting neither table has)."""
    if (command, setting) in PER_COMMAND:
        return PER_COMMAND[(command, setting)][0]
    return DEFAULTS[setting]
