"""implicit-verify, torch side: the implicit network, its solves, Gram matrices, instrumented
gradient descent, verdicts and reports.  Builds on :mod:`bounds`."""

from bounds._errors import InvalidArgument, SolverError, VerifyError

from . import _gram as gram
from ._checks import Verdict, check_spec, fit_rates, slack_tol
from ._data import Dataset, load_dataset
from ._equilibrium import (
    SolveResult,
    SolveStatus,
    contraction_factor,
    predicted_iterations,
    solve_adjoint,
    solve_forward,
    solve_forward_direct,
)
from ._gd import OBSERVABLES, Observable, RunConfig, RunResult, load_run, run_gd
from ._gram import (
    EigResult,
    GramBlocks,
    PaperVariant,
    adjoint_dense,
    gram_blocks,
    jacobian_gram,
    lambda_min,
    lambda_min_iterative,
    paper_eq14_as_printed,
    paper_eq16_as_printed,
)
from ._network import ImplicitNetwork, NetState, implicit_gradients
from ._outcomes import OUTCOMES, Outcome, outcome_indicator, register_outcome
from ._report import ReportMeta, ReportRun, build_summary, render_report
from ._report_cli import compute_findings, make_report
from ._thresholds import ScalingLaw, WidthThresholds, clopper_pearson, fit_width_threshold
from ._validate import resolve_device, resolve_dtype
from ._width_theory import ConstantTrend, TheoryComparison, theory_vs_measured

__all__ = [
    "VerifyError",
    "InvalidArgument",
    "SolverError",
    "ImplicitNetwork",
    "NetState",
    "implicit_gradients",
    "SolveResult",
    "SolveStatus",
    "solve_forward",
    "solve_adjoint",
    "solve_forward_direct",
    "contraction_factor",
    "predicted_iterations",
    "resolve_device",
    "resolve_dtype",
    "gram",
    "GramBlocks",
    "PaperVariant",
    "EigResult",
    "gram_blocks",
    "jacobian_gram",
    "lambda_min",
    "lambda_min_iterative",
    "paper_eq14_as_printed",
    "paper_eq16_as_printed",
    "adjoint_dense",
    "RunConfig",
    "RunResult",
    "run_gd",
    "load_run",
    "Observable",
    "OBSERVABLES",
    "Verdict",
    "check_spec",
    "fit_rates",
    "slack_tol",
    "Dataset",
    "load_dataset",
    "ReportRun",
    "ReportMeta",
    "build_summary",
    "render_report",
    "make_report",
    "compute_findings",
    "Outcome",
    "OUTCOMES",
    "register_outcome",
    "outcome_indicator",
    "fit_width_threshold",
    "WidthThresholds",
    "ScalingLaw",
    "clopper_pearson",
    "theory_vs_measured",
    "TheoryComparison",
    "ConstantTrend",
]
