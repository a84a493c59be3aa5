"""implicit-verify, torch side: the implicit network, its solves, Gram matrices, instrumented
gradient descent, verdicts and reports.  Builds on :mod:`bounds`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bounds._errors import InvalidArgument, SolverError, VerifyError
from bounds._lazy import lazy_attributes

if TYPE_CHECKING:  # the names below are imported on first use (start-up time: torch, scipy, sympy)
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

#: public name → the module that defines it; imported on first attribute access (PEP 562)
_LAZY: dict[str, str] = {
    'Verdict': 'verify.experiment.checks',
    'check_spec': 'verify.experiment.checks',
    'fit_rates': 'verify.experiment.checks',
    'slack_tol': 'verify.experiment.checks',
    'Dataset': 'verify.experiment.data',
    'load_dataset': 'verify.experiment.data',
    'OBSERVABLES': 'verify.experiment.gd',
    'Observable': 'verify.experiment.gd',
    'RunConfig': 'verify.experiment.gd',
    'RunResult': 'verify.experiment.gd',
    'load_run': 'verify.experiment.gd',
    'run_gd': 'verify.experiment.gd',
    'gram': 'verify.model',
    'SolveResult': 'verify.model.equilibrium',
    'SolveStatus': 'verify.model.equilibrium',
    'contraction_factor': 'verify.model.equilibrium',
    'predicted_iterations': 'verify.model.equilibrium',
    'solve_adjoint': 'verify.model.equilibrium',
    'solve_forward': 'verify.model.equilibrium',
    'solve_forward_direct': 'verify.model.equilibrium',
    'EigResult': 'verify.model.gram',
    'GramBlocks': 'verify.model.gram',
    'PaperVariant': 'verify.model.gram',
    'adjoint_dense': 'verify.model.gram',
    'gram_blocks': 'verify.model.gram',
    'jacobian_gram': 'verify.model.gram',
    'lambda_min': 'verify.model.gram',
    'lambda_min_iterative': 'verify.model.gram',
    'paper_eq14_as_printed': 'verify.model.gram',
    'paper_eq16_as_printed': 'verify.model.gram',
    'KernelConvergence': 'verify.model.kernels',
    'kernel_convergence': 'verify.model.kernels',
    'kernel_init_outcomes': 'verify.model.kernels',
    'ImplicitNetwork': 'verify.model.network',
    'NetState': 'verify.model.network',
    'implicit_gradients': 'verify.model.network',
    'resolve_device': 'verify.model.validate',
    'resolve_dtype': 'verify.model.validate',
    'make_report': 'verify.report.make',
    'ReportMeta': 'verify.report.render',
    'ReportRun': 'verify.report.render',
    'build_summary': 'verify.report.render',
    'render_report': 'verify.report.render',
    'compute_findings': 'verify.report.sections.g22_findings',
}

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
# the sweep API (verify.sweep: engine, outcomes, thresholds; pandas, pyarrow, dask)
_LAZY.update(dict.fromkeys(('SweepSpec', 'SweepResult', 'run_sweep', 'Outcome', 'OUTCOMES', 'register_outcome', 'outcome_indicator', 'fit_width_threshold', 'WidthThresholds', 'ScalingLaw', 'clopper_pearson', 'theory_vs_measured', 'TheoryComparison', 'ConstantTrend', 'analyse_sweep', 'SweepAnalysis'), "verify.sweep"))


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals(), __all__)

