"""implicit-verify, torch side: the implicit network, its solves, Gram matrices, instrumented
gradient descent, verdicts and reports.  Builds on :mod:`bounds`."""

from bounds._errors import InvalidArgument, SolverError, VerifyError
from verify.experiment.checks import Verdict, check_spec, fit_rates, slack_tol
from verify.experiment.data import Dataset, load_dataset
from verify.experiment.gd import OBSERVABLES, Observable, RunConfig, RunResult, load_run, run_gd
from verify.model import gram
from verify.model.equilibrium import (
    SolveResult,
    SolveStatus,
    contraction_factor,
    predicted_iterations,
    solve_adjoint,
    solve_forward,
    solve_forward_direct,
)
from verify.model.gram import (
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
from verify.model.kernels import KernelConvergence, kernel_convergence, kernel_init_outcomes
from verify.model.network import ImplicitNetwork, NetState, implicit_gradients
from verify.model.validate import resolve_device, resolve_dtype
from verify.report.make import make_report
from verify.report.render import ReportMeta, ReportRun, build_summary, render_report
from verify.report.sections.g22_findings import compute_findings

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
    "KernelConvergence",
    "kernel_convergence",
    "kernel_init_outcomes",
    "SweepSpec",
    "SweepResult",
    "run_sweep",
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
    "analyse_sweep",
    "SweepAnalysis",
]

_SWEEP = ("SweepSpec", "SweepResult", "run_sweep", "Outcome", "OUTCOMES", "register_outcome",
          "outcome_indicator", "fit_width_threshold", "WidthThresholds", "ScalingLaw",
          "clopper_pearson", "theory_vs_measured", "TheoryComparison", "ConstantTrend",
          "analyse_sweep", "SweepAnalysis")


def __getattr__(name: str) -> object:
    # the sweep API (verify.sweep: engine, outcomes, thresholds) is imported on first use: it
    # pulls in pandas and pyarrow
    if name in _SWEEP:
        from . import sweep

        return getattr(sweep, name)
    raise AttributeError(f"module 'verify' has no attribute {name!r}")
