"""Bounds for deep ReLU implicit networks: kernels, constants and theorems as data.

numpy / scipy / sympy only (never torch).  See ``docs/CONTRACTS.md`` for the names other
modules rely on; every statement's label cites the paper and its numbering (G22 = Gao et al.,
ICLR 2022, arXiv 2110.05645; GG22 = Gao & Gao 2022).
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from bounds._errors import InvalidArgument, SolverError, VerifyError, invalid
from bounds._lazy import lazy_attributes

if TYPE_CHECKING:  # the names below are imported on first use (start-up time: torch, scipy, sympy)
    from bounds._data import DataAudit, audit_data, load_data, validate_X, validate_y
    from bounds._kernels import (
        arccos_kernel,
        gram_infinity,
        gram_infinity_mc,
        hermite_tail_bound,
        lambda0,
        relu_hermite_coefficients,
    )
    from bounds._norms import (
        NORM_CONSTANT_TAIL,
        NormConstant,
        norm_constant_measured,
        norm_constant_tail,
    )
    from bounds._report import bounds_report
    from bounds._solve import (
        E0_EXPECTED,
        InitNormTension,
        WidthRequirement,
        gamma_max,
        init_norm_tension,
        initial_residual_estimate,
        required_width,
        step_max,
    )
    from bounds._symbolic import (
        HIDDEN_CONSTANTS,
        SYMBOLS,
        Assumption,
        Bound,
        Claim,
        Condition,
        ConditionCheck,
        Provenance,
        TheoremSpec,
        evaluate_spec,
        symbol,
    )
    from bounds._verdicts import Outcome, classify_verdict, verdict_words
    from bounds.datasets import DATASETS, Dataset, image_dataset, load_dataset
    from bounds.deq_kernels import (
        DIGEST_C,
        DEQKernels,
        KernelMC,
        KernelStatus,
        deq_kernels,
        deq_kernels_mc,
    )
    from bounds.gao2022_iclr import g22_issue3_limits, g22_spec
    from bounds.gao2022_linear import gg22_spec

#: public name → the module that defines it; imported on first attribute access (PEP 562)
_LAZY: dict[str, str] = {
    'DataAudit': 'bounds._data',
    'audit_data': 'bounds._data',
    'load_data': 'bounds._data',
    'validate_X': 'bounds._data',
    'validate_y': 'bounds._data',
    'arccos_kernel': 'bounds._kernels',
    'gram_infinity': 'bounds._kernels',
    'gram_infinity_mc': 'bounds._kernels',
    'hermite_tail_bound': 'bounds._kernels',
    'lambda0': 'bounds._kernels',
    'relu_hermite_coefficients': 'bounds._kernels',
    'NORM_CONSTANT_TAIL': 'bounds._norms',
    'NormConstant': 'bounds._norms',
    'norm_constant_measured': 'bounds._norms',
    'norm_constant_tail': 'bounds._norms',
    'bounds_report': 'bounds._report',
    'E0_EXPECTED': 'bounds._solve',
    'InitNormTension': 'bounds._solve',
    'WidthRequirement': 'bounds._solve',
    'gamma_max': 'bounds._solve',
    'init_norm_tension': 'bounds._solve',
    'initial_residual_estimate': 'bounds._solve',
    'required_width': 'bounds._solve',
    'step_max': 'bounds._solve',
    'HIDDEN_CONSTANTS': 'bounds._symbolic',
    'SYMBOLS': 'bounds._symbolic',
    'Assumption': 'bounds._symbolic',
    'Bound': 'bounds._symbolic',
    'Claim': 'bounds._symbolic',
    'Condition': 'bounds._symbolic',
    'ConditionCheck': 'bounds._symbolic',
    'Provenance': 'bounds._symbolic',
    'TheoremSpec': 'bounds._symbolic',
    'evaluate_spec': 'bounds._symbolic',
    'symbol': 'bounds._symbolic',
    'Outcome': 'bounds._verdicts',
    'classify_verdict': 'bounds._verdicts',
    'verdict_words': 'bounds._verdicts',
    'DATASETS': 'bounds.datasets',
    'Dataset': 'bounds.datasets',
    'image_dataset': 'bounds.datasets',
    'load_dataset': 'bounds.datasets',
    'DIGEST_C': 'bounds.deq_kernels',
    'DEQKernels': 'bounds.deq_kernels',
    'KernelMC': 'bounds.deq_kernels',
    'KernelStatus': 'bounds.deq_kernels',
    'deq_kernels': 'bounds.deq_kernels',
    'deq_kernels_mc': 'bounds.deq_kernels',
    'g22_issue3_limits': 'bounds.gao2022_iclr',
    'g22_spec': 'bounds.gao2022_iclr',
    'gg22_spec': 'bounds.gao2022_linear',
}

__all__ = [
    # errors
    "VerifyError",
    "InvalidArgument",
    "SolverError",
    "invalid",
    # data
    "DataAudit",
    "audit_data",
    "load_data",
    "load_dataset",
    "Dataset",
    "DATASETS",
    "image_dataset",
    "validate_X",
    "validate_y",
    # kernels
    "gram_infinity",
    "gram_infinity_mc",
    "lambda0",
    "arccos_kernel",
    "relu_hermite_coefficients",
    "hermite_tail_bound",
    # infinite-width kernels of the equilibrium network (digest C, derived)
    "deq_kernels",
    "deq_kernels_mc",
    "DEQKernels",
    "KernelMC",
    "KernelStatus",
    "DIGEST_C",
    # operator-norm constants
    "NormConstant",
    "NORM_CONSTANT_TAIL",
    "norm_constant_tail",
    "norm_constant_measured",
    # symbolic layer
    "SYMBOLS",
    "HIDDEN_CONSTANTS",
    "symbol",
    "Provenance",
    "Bound",
    "Condition",
    "ConditionCheck",
    "Claim",
    "Assumption",
    "TheoremSpec",
    "evaluate_spec",
    # theorem specs
    "g22_spec",
    "g22_issue3_limits",
    "gg22_spec",
    # solvers and report
    "required_width",
    "WidthRequirement",
    "gamma_max",
    "step_max",
    "init_norm_tension",
    "InitNormTension",
    "initial_residual_estimate",
    "E0_EXPECTED",
    "bounds_report",
    # the one verdict vocabulary
    "Outcome",
    "classify_verdict",
    "verdict_words",
]


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals(), __all__)


class _Namespace(types.ModuleType):
    """The package module: the import system binds a submodule on its package once imported,
    which would hide the function ``deq_kernels`` behind the module ``bounds.deq_kernels``."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Namespace

