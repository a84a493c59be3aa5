"""Bounds for deep ReLU implicit networks: kernels, constants and theorems as data.

numpy / scipy / sympy only (never torch).  See ``docs/CONTRACTS.md`` for the names other
modules rely on; every statement's label cites the paper and its numbering (G22 = Gao et al.,
ICLR 2022, arXiv 2110.05645; GG22 = Gao & Gao 2022).
"""

from bounds._data import DataAudit, audit_data, load_data, validate_X, validate_y
from bounds._errors import InvalidArgument, SolverError, VerifyError, invalid
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
