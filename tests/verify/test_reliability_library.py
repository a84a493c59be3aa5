"""Issue 21 item 6: every public function of :mod:`bounds` and :mod:`verify` refuses a bad
argument up front with :class:`~bounds.InvalidArgument` (a ``ValueError``) whose message starts
with ``<argument>=`` and gives a fix after ``"; "`` — never a deep ``AttributeError``,
``KeyError``, ``RuntimeError`` or a huge allocation, and never a silent result.

Each case is one bad argument to one public call with everything else valid (small sizes:
nothing here computes for more than a moment). The "silently accepted" cases of the issue
(``jacobian_gram(depth=-1)``, ``arccos_kernel(2.0)``, ``clopper_pearson(5, 3)``, …) used to
return a number; the "deep error" cases raised from inside numpy/torch.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

import bounds
import verify
from bounds._errors import InvalidArgument

NAN, INF = float("nan"), float("inf")


@functools.cache
def _X(n: int = 6, d: int = 3, seed: int = 0) -> np.ndarray:
    X = np.random.default_rng(seed).standard_normal((n, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    X.setflags(write=False)
    return X


def _y(n: int = 6) -> np.ndarray:
    return np.linspace(-1.0, 1.0, n)


@functools.cache
def _net(m: int = 8, d: int = 3):
    return verify.ImplicitNetwork.init(m, d, 0.1, 0)


def _state(n: int = 6, d: int = 3, seed: int = 0):
    return _net(8, d).state(_X(n, d, seed), _y(n))


def _spec(**kw):
    base = {"kind": "init", "data": "synthetic", "n": (6,), "m": (8,), "seeds": (0,)}
    return verify.SweepSpec(**{**base, **kw})


def _trace():
    k = np.arange(5.0)
    return {"step": k, "residual_sq": 0.5**k, "loss": 0.5 * 0.5**k}


def _table():
    import pandas as pd

    return pd.DataFrame({"n": [6] * 4, "m": [4, 8, 16, 32], "seed": [0] * 4, "status": ["done"] * 4,
                         "lemma33_init": [False, False, True, True]})


def _cfg(**kw):
    base = {"m": 4, "gamma": 0.1, "step": 0.01, "steps": 1}
    return verify.RunConfig(**{**base, **kw})


def _A():
    return _net().A.detach()


# (id, call, argument the message must start with)
CASES = [
    # ---- bounds: data
    ("audit_data-block-negative", lambda: bounds.audit_data(_X(), block=-5), "block"),
    ("audit_data-block-zero", lambda: bounds.audit_data(_X(), block=0), "block"),
    ("audit_data-block-float", lambda: bounds.audit_data(_X(), block=2.5), "block"),
    ("audit_data-norm_tol-negative", lambda: bounds.audit_data(_X(), norm_tol=-1.0), "norm_tol"),
    ("audit_data-norm_tol-nan", lambda: bounds.audit_data(_X(), norm_tol=NAN), "norm_tol"),
    ("audit_data-parallel_tol-2", lambda: bounds.audit_data(_X(), parallel_tol=2.0), "parallel_tol"),
    ("audit_data-X-1d", lambda: bounds.audit_data(np.ones(3)), "X"),
    ("load_data-None", lambda: bounds.load_data(None), "path"),
    ("load_data-int", lambda: bounds.load_data(3), "path"),
    ("validate_X-str", lambda: bounds.validate_X("abc"), "X"),
    ("validate_X-3d", lambda: bounds.validate_X(np.ones((2, 2, 2))), "X"),
    ("validate_y-n-mismatch", lambda: bounds.validate_y(np.ones(3), 4), "y"),
    ("validate_y-n-negative", lambda: bounds.validate_y(np.ones(3), -3), "n"),
    ("load_dataset-n-negative", lambda: bounds.load_dataset("synthetic", n=-1, d=3), "n"),
    ("load_dataset-noise-negative", lambda: bounds.load_dataset("synthetic", n=4, d=3, noise=-1.0), "noise"),
    ("load_dataset-test_fraction-2", lambda: bounds.load_dataset("digits", n=4, test_fraction=2.0),
     "test_fraction"),
    # the loaders name their source argument ``data`` throughout (the CLI's --data)
    ("load_dataset-name-None", lambda: bounds.load_dataset(None), "data"),
    # ---- bounds: kernels
    ("arccos_kernel-2", lambda: bounds.arccos_kernel(2.0), "rho"),
    ("arccos_kernel-minus-2", lambda: bounds.arccos_kernel(-2.0), "rho"),
    ("arccos_kernel-nan", lambda: bounds.arccos_kernel(NAN), "rho"),
    ("arccos_kernel-str", lambda: bounds.arccos_kernel("x"), "rho"),
    ("arccos_kernel-array-out-of-range", lambda: bounds.arccos_kernel(np.array([0.5, 1.5])), "rho"),
    ("relu_hermite-10**12", lambda: bounds.relu_hermite_coefficients(10**12), "terms"),
    ("relu_hermite-negative", lambda: bounds.relu_hermite_coefficients(-1), "terms"),
    ("relu_hermite-float", lambda: bounds.relu_hermite_coefficients(3.5), "terms"),
    ("hermite_tail-10**12", lambda: bounds.hermite_tail_bound(10**30), "terms"),
    ("gram_infinity-terms-negative", lambda: bounds.gram_infinity(_X(), method="hermite", terms=-1), "terms"),
    ("gram_infinity-method", lambda: bounds.gram_infinity(_X(), method="nope"), "method"),
    ("gram_infinity-terms-10**12", lambda: bounds.gram_infinity(_X(), method="hermite", terms=10**12),
     "terms"),
    ("gram_infinity_mc-samples-0", lambda: bounds.gram_infinity_mc(_X(), 0), "samples"),
    ("gram_infinity_mc-samples-huge", lambda: bounds.gram_infinity_mc(_X(), 10**15), "samples"),
    ("gram_infinity_mc-level-2", lambda: bounds.gram_infinity_mc(_X(), 10, level=2.0), "level"),
    ("gram_infinity_mc-batch-0", lambda: bounds.gram_infinity_mc(_X(), 10, batch=0), "batch"),
    ("lambda0-method", lambda: bounds.lambda0(_X(), method=3), "method"),
    ("lambda0-X-nan", lambda: bounds.lambda0(np.full((3, 2), NAN)), "X"),
    # ---- bounds: DEQ kernels
    ("deq_kernels-gamma-1e-320", lambda: bounds.deq_kernels(_X(), 1e-320), "gamma"),
    ("deq_kernels-method", lambda: bounds.deq_kernels(_X(), 0.2, method="nope"), "method"),
    ("deq_kernels-order-0", lambda: bounds.deq_kernels(_X(), 0.2, order=0), "order"),
    ("deq_kernels-order-huge", lambda: bounds.deq_kernels(_X(), 0.2, order=10**9), "order"),
    ("deq_kernels-nodes-huge", lambda: bounds.deq_kernels(_X(), 0.2, nodes=10**9), "nodes"),
    ("deq_kernels-tol-negative", lambda: bounds.deq_kernels(_X(), 0.2, tol=-1.0), "tol"),
    ("deq_kernels-max_iter-0", lambda: bounds.deq_kernels(_X(), 0.2, max_iter=0), "max_iter"),
    ("deq_kernels-accuracy-nan", lambda: bounds.deq_kernels(_X(), 0.2, accuracy=NAN), "accuracy"),
    ("deq_kernels-throw-str", lambda: bounds.deq_kernels(_X(), 0.2, throw="yes"), "throw"),
    ("deq_kernels-X-1e200", lambda: bounds.deq_kernels(_X() * 1e200, 0.2), "X"),
    ("deq_kernels_mc-samples-0", lambda: bounds.deq_kernels_mc(_X(), 0.2, np.eye(6), 0), "samples"),
    ("deq_kernels_mc-K-shape", lambda: bounds.deq_kernels_mc(_X(), 0.2, np.eye(5), 10), "K"),
    ("deq_kernels_mc-level-0", lambda: bounds.deq_kernels_mc(_X(), 0.2, np.eye(6), 10, level=0.0), "level"),
    ("deq_kernels_mc-seed-negative", lambda: bounds.deq_kernels_mc(_X(), 0.2, np.eye(6), 10, seed=-1), "seed"),
    # ---- bounds: norm constants, solvers, specs
    ("norm_constant_tail-m-0", lambda: bounds.norm_constant_tail(0, 3, 0.01), "m"),
    ("norm_constant_tail-delta-2", lambda: bounds.norm_constant_tail(8, 3, 2.0), "delta"),
    ("norm_constant_measured-A-not-square", lambda: bounds.norm_constant_measured(np.ones((3, 2)), np.ones((3, 2))),
     "A"),
    ("norm_constant_measured-W-rows", lambda: bounds.norm_constant_measured(np.eye(3), np.ones((4, 2))), "W"),
    ("required_width-lambda0-negative", lambda: bounds.required_width(_X(), lambda0=-1.0), "lambda0"),
    ("required_width-lambda0-nan", lambda: bounds.required_width(_X(), lambda0=NAN), "lambda0"),
    ("required_width-delta-0", lambda: bounds.required_width(_X(), delta=0.0), "delta"),
    ("required_width-mode", lambda: bounds.required_width(_X(), mode="sgd"), "mode"),
    ("required_width-e0-negative", lambda: bounds.required_width(_X(), e0_norm=-1.0), "e0_norm"),
    ("required_width-c-negative", lambda: bounds.required_width(_X(), c=-1.0), "c"),
    ("required_width-hidden-negative", lambda: bounds.required_width(_X(), hidden={"C_width": -1.0}), "hidden"),
    ("required_width-y-length", lambda: bounds.required_width(_X(), np.ones(5)), "y"),
    ("init_norm_tension-lambda0-negative", lambda: bounds.init_norm_tension(_X(), lambda0=-1e-3), "lambda0"),
    ("initial_residual_estimate-y-length", lambda: bounds.initial_residual_estimate(_X(), np.ones(2)), "y"),
    ("gamma_max-negative", lambda: bounds.gamma_max(-1.0), "c"),
    ("gamma_max-nan", lambda: bounds.gamma_max(NAN), "c"),
    ("step_max-lambda0-negative", lambda: bounds.step_max(-1.0, 4), "lambda0"),
    ("step_max-n-0", lambda: bounds.step_max(0.1, 0), "n"),
    ("step_max-C-inf", lambda: bounds.step_max(0.1, 4, C_step=INF), "C_step"),
    ("bounds_report-m-0", lambda: bounds.bounds_report(_X(), m=0), "m"),
    ("bounds_report-mode", lambda: bounds.bounds_report(_X(), mode="x"), "mode"),
    ("bounds_report-gamma-nan", lambda: bounds.bounds_report(_X(), gamma=NAN), "gamma"),
    ("bounds_report-alpha-negative", lambda: bounds.bounds_report(_X(), alpha=-0.1), "alpha"),
    ("evaluate_spec-str", lambda: bounds.evaluate_spec("g22"), "spec"),
    ("evaluate_spec-strict-str", lambda: bounds.evaluate_spec(bounds.g22_spec(), strict="yes", c=1.0), "strict"),
    ("g22_spec-mode", lambda: bounds.g22_spec("sgd"), "mode"),
    ("gg22_spec-mode", lambda: bounds.gg22_spec(3), "mode"),
    ("g22_issue3_limits-mode", lambda: bounds.g22_issue3_limits("x"), "mode"),
    ("symbol-int", lambda: bounds.symbol(3), "name"),
    ("classify_verdict-not-mapping", lambda: bounds.classify_verdict(3), "v"),
    ("verdict_words-not-mapping", lambda: bounds.verdict_words([1, 2]), "v"),
    ("image_dataset-source", lambda: bounds.image_dataset("nope"), "data"),
    ("image_dataset-n-negative", lambda: bounds.image_dataset("mnist", n=-1), "n"),
    # ---- verify: equilibrium
    ("contraction_factor-gamma-negative", lambda: verify.contraction_factor(_A(), -1.0), "gamma_tilde"),
    ("contraction_factor-gamma-nan", lambda: verify.contraction_factor(_A(), NAN), "gamma_tilde"),
    ("contraction_factor-numpy", lambda: verify.contraction_factor(np.eye(3), 0.1), "A"),
    ("contraction_factor-1d", lambda: verify.contraction_factor(_A()[0], 0.1), "A"),
    ("contraction_factor-not-square", lambda: verify.contraction_factor(_A()[:3], 0.1), "A"),
    ("predicted_iterations-rho-negative", lambda: verify.predicted_iterations(-0.5, 1e-12), "rho"),
    ("predicted_iterations-tol-0", lambda: verify.predicted_iterations(0.5, 0.0), "tol"),
    ("predicted_iterations-tol-str", lambda: verify.predicted_iterations(0.5, "x"), "tol"),
    ("solve_forward-gamma-negative", lambda: verify.solve_forward(_A(), _state().Phi, -0.1), "gamma_tilde"),
    ("solve_forward-Phi-shape", lambda: verify.solve_forward(_A(), _state().Phi[:, :3], 0.01), "Phi"),
    ("solve_forward-method", lambda: verify.solve_forward(_A(), _state().Phi, 0.01, method="x"), "method"),
    ("solve_forward-max_iter-0", lambda: verify.solve_forward(_A(), _state().Phi, 0.01, max_iter=0), "max_iter"),
    ("solve_forward-z0-shape", lambda: verify.solve_forward(_A(), _state().Phi, 0.01, z0=_state().Phi[:2]), "z0"),
    ("solve_adjoint-D-shape", lambda: verify.solve_adjoint(_A(), _state().Phi, _state().D[:, :3], 0.01), "D"),
    ("solve_forward_direct-max_patterns-0", lambda: verify.solve_forward_direct(_A(), _state().Phi, 0.01,
                                                                              max_patterns=0), "max_patterns"),
    ("resolve_device-int", lambda: verify.resolve_device(3), "device"),
    ("resolve_dtype-int32", lambda: verify.resolve_dtype("int32"), "dtype"),
    # ---- verify: network and gradients
    ("ImplicitNetwork.init-m-0", lambda: verify.ImplicitNetwork.init(0, 3, 0.1, 0), "m"),
    ("ImplicitNetwork.init-gamma-1", lambda: verify.ImplicitNetwork.init(4, 3, 1.0, 0), "gamma"),
    ("ImplicitNetwork-A-not-square", lambda: verify.ImplicitNetwork(np.ones((3, 2)), np.ones((3, 2)), np.ones(3),
                                                                   np.ones(3), 0.1), "A"),
    ("ImplicitNetwork-W-rows", lambda: verify.ImplicitNetwork(np.eye(3), np.ones((4, 2)), np.ones(3), np.ones(3),
                                                             0.1), "W"),
    ("ImplicitNetwork-u-length", lambda: verify.ImplicitNetwork(np.eye(3), np.ones((3, 2)), np.ones(4), np.ones(3),
                                                               0.1), "u"),
    ("net.state-X-columns", lambda: _net().state(np.ones((2, 5)), np.ones(2)), "X"),
    ("implicit_gradients-state-other-data", lambda: verify.implicit_gradients(_net(), _X(), _y(), _state(5)),
     "state"),
    ("implicit_gradients-state-other-X-same-n", lambda: verify.implicit_gradients(_net(), _X(), _y(),
                                                                                 _state(6, 3, 1)), "state"),
    ("implicit_gradients-state-not-state", lambda: verify.implicit_gradients(_net(), _X(), _y(), state=3), "state"),
    ("implicit_gradients-net-not-net", lambda: verify.implicit_gradients("net", _X(), _y()), "net"),
    # ---- verify: Gram matrices
    ("jacobian_gram-depth-negative", lambda: verify.jacobian_gram(_net(), _X(), depth=-1), "depth"),
    ("jacobian_gram-depth-0", lambda: verify.jacobian_gram(_net(), _X(), depth=0), "depth"),
    ("jacobian_gram-depth-huge", lambda: verify.jacobian_gram(_net(), _X(), depth=10**12), "depth"),
    ("jacobian_gram-depth-float", lambda: verify.jacobian_gram(_net(), _X(), depth=2.5), "depth"),
    ("jacobian_gram-method", lambda: verify.jacobian_gram(_net(), _X(), method="x"), "method"),
    ("jacobian_gram-net", lambda: verify.jacobian_gram(None, _X()), "net"),
    ("gram_blocks-state-other-net", lambda: verify.gram_blocks(_net(16), _state()), "state"),
    ("gram_blocks-state-not-state", lambda: verify.gram_blocks(_net(), 3), "state"),
    ("lambda_min-not-square", lambda: verify.lambda_min(np.ones((3, 2))), "M"),
    ("lambda_min-nan", lambda: verify.lambda_min(np.full((2, 2), NAN)), "M"),
    ("lambda_min_iterative-method", lambda: verify.lambda_min_iterative(np.eye(3), method="x"), "method"),
    ("lambda_min_iterative-tol-negative", lambda: verify.lambda_min_iterative(np.eye(3), tol=-1.0), "tol"),
    ("lambda_min_iterative-max_iter-0", lambda: verify.lambda_min_iterative(np.eye(3), max_iter=0), "max_iter"),
    ("adjoint_dense-inverse", lambda: verify.adjoint_dense(_net(), _state(), inverse="x"), "inverse"),
    ("adjoint_dense-max_m-negative", lambda: verify.adjoint_dense(_net(), _state(), max_m=-1), "max_m"),
    ("paper_eq16-factors", lambda: verify.paper_eq16_as_printed(_net(), _state(), factors="x"), "factors"),
    # ---- verify: runs and checks
    ("RunConfig-m-0", lambda: _cfg(m=0), "m"),
    ("RunConfig-gamma-nan", lambda: _cfg(gamma=NAN), "gamma"),
    ("RunConfig-step-negative", lambda: _cfg(step=-0.1), "step"),
    ("RunConfig-steps-True", lambda: _cfg(steps=True), "steps"),
    ("RunConfig-mode", lambda: _cfg(mode="sgd"), "mode"),
    ("run_gd-files-escape", lambda: verify.run_gd(_X(4), _y(4), _cfg(), out_dir="/tmp/iv-lib-never",
                                                  files={"../escaped.json": {}}, progress=False), "files"),
    ("run_gd-files-absolute", lambda: verify.run_gd(_X(4), _y(4), _cfg(), out_dir="/tmp/iv-lib-never",
                                                    files={"/tmp/iv-abs.json": {}}, progress=False), "files"),
    ("run_gd-files-reserved", lambda: verify.run_gd(_X(4), _y(4), _cfg(), out_dir="/tmp/iv-lib-never",
                                                    files={"record.json": {}}, progress=False), "files"),
    ("run_gd-files-not-dict", lambda: verify.run_gd(_X(4), _y(4), _cfg(), out_dir="/tmp/iv-lib-never",
                                                    files=["a"], progress=False), "files"),
    ("run_gd-config-none", lambda: verify.run_gd(_X(4), _y(4), None), "config"),
    ("run_gd-config-dict", lambda: verify.run_gd(_X(4), _y(4), {"m": 4}), "config"),
    ("run_gd-out_dir-int", lambda: verify.run_gd(_X(4), _y(4), _cfg(), out_dir=3, progress=False), "out_dir"),
    ("load_run-None", lambda: verify.load_run(None), "run_dir"),
    ("load_run-int", lambda: verify.load_run(3), "run_dir"),
    ("load_run-missing", lambda: verify.load_run("/nonexistent/iv-run"), "run_dir"),
    ("fit_rates-alpha-negative", lambda: verify.fit_rates(_trace(), -0.1, 0.1), "alpha"),
    ("fit_rates-alpha-nan", lambda: verify.fit_rates(_trace(), NAN, 0.1), "alpha"),
    ("fit_rates-lambda0-negative", lambda: verify.fit_rates(_trace(), 0.1, -1.0), "lambda0"),
    ("fit_rates-empty-trace", lambda: verify.fit_rates({}, 0.1, 0.1), "trace"),
    ("fit_rates-trace-not-mapping", lambda: verify.fit_rates([1, 2], 0.1, 0.1), "trace"),
    ("fit_rates-trace-lengths", lambda: verify.fit_rates({**_trace(), "step": np.arange(3.0)}, 0.1, 0.1), "trace"),
    ("fit_rates-mode", lambda: verify.fit_rates(_trace(), 0.1, 0.1, mode="x"), "mode"),
    ("fit_rates-floor_rel-negative", lambda: verify.fit_rates(_trace(), 0.1, 0.1, floor_rel=-1.0), "floor_rel"),
    ("slack_tol-int64", lambda: verify.slack_tol("int64"), "dtype"),
    ("check_spec-spec-str", lambda: verify.check_spec("g22", _trace(), {}), "spec"),
    ("check_spec-mode", lambda: verify.check_spec(bounds.g22_spec(), _trace(), {}, mode="x"), "mode"),
    ("check_spec-hypotheses", lambda: verify.check_spec(bounds.g22_spec(), _trace(), {}, hypotheses="x"),
     "hypotheses"),
    # ---- verify: sweeps
    ("SweepSpec-data-None", lambda: _spec(data=None), "data"),
    ("SweepSpec-data-int", lambda: _spec(data=3), "data"),
    ("SweepSpec-seeds-2**70", lambda: _spec(seeds=(2**70,)), "seeds"),
    ("SweepSpec-d-True", lambda: _spec(d=True), "d"),
    ("SweepSpec-n-int", lambda: _spec(n=4), "n"),
    ("SweepSpec-m-str", lambda: _spec(m="8"), "m"),
    ("SweepSpec-m-2**70", lambda: _spec(m=(2**70,)), "m"),
    ("SweepSpec-gamma-str", lambda: _spec(gamma="x"), "gamma"),
    ("SweepSpec-gamma-nan", lambda: _spec(gamma=NAN), "gamma"),
    ("SweepSpec-target-nan", lambda: _spec(kind="gd", target=NAN), "target"),
    ("SweepSpec-tol-str", lambda: _spec(tol="x"), "tol"),
    ("SweepSpec-device-int", lambda: _spec(device=3), "device"),
    ("SweepSpec-kappa-True", lambda: _spec(kind="gd", budget="rate", kappa=True), "kappa"),
    ("SweepSpec-steps-2**70", lambda: _spec(kind="gd", steps=2**70), "steps"),
    ("run_sweep-out_dir-None", lambda: verify.run_sweep(_spec(), None), "out_dir"),
    ("run_sweep-spec-dict", lambda: verify.run_sweep({"kind": "init"}, "/tmp/iv-never"), "spec"),
    ("run_sweep-retries-negative", lambda: verify.run_sweep(_spec(), "/tmp/iv-never", retries=-1), "retries"),
    ("run_sweep-workers-0", lambda: verify.run_sweep(_spec(), "/tmp/iv-never", workers=0), "workers"),
    ("clopper_pearson-k-gt-N", lambda: verify.clopper_pearson(5, 3), "k"),
    ("clopper_pearson-k-negative", lambda: verify.clopper_pearson(-1, 3), "k"),
    ("clopper_pearson-N-negative", lambda: verify.clopper_pearson(0, -2), "N"),
    ("clopper_pearson-ci-1", lambda: verify.clopper_pearson(1, 3, ci=1.0), "ci"),
    ("clopper_pearson-k-float", lambda: verify.clopper_pearson(1.5, 3), "k"),
    ("clopper_pearson-shapes", lambda: verify.clopper_pearson(np.array([1, 2]), np.array([3, 4, 5])), "k"),
    ("fit_width_threshold-table-list", lambda: verify.fit_width_threshold([1, 2]), "table"),
    ("fit_width_threshold-outcome", lambda: verify.fit_width_threshold(_table(), outcome="nope"), "outcome"),
    ("fit_width_threshold-n_boot-negative", lambda: verify.fit_width_threshold(_table(), n_boot=-1), "n_boot"),
    ("fit_width_threshold-q-2", lambda: verify.fit_width_threshold(_table(), q=2.0), "q"),
    ("fit_width_threshold-link", lambda: verify.fit_width_threshold(_table(), link="x"), "link"),
    ("outcome_indicator-unknown", lambda: verify.outcome_indicator(_table(), "nope"), "outcome"),
    ("register_outcome-not-outcome", lambda: verify.register_outcome("x"), "outcome"),
    ("analyse_sweep-None", lambda: verify.analyse_sweep(None), "sweep"),
    ("kernel_convergence-widths-empty", lambda: verify.kernel_convergence(_X(), 0.2, [], [0]), "widths"),
    ("kernel_convergence-seeds-negative", lambda: verify.kernel_convergence(_X(), 0.2, [4], [-1]), "seeds"),
    ("kernel_convergence-widths-huge", lambda: verify.kernel_convergence(_X(), 0.2, [10**9], [0]), "widths"),
    ("kernel_convergence-gamma-2", lambda: verify.kernel_convergence(_X(), 2.0, [4], [0]), "gamma"),
    ("kernel_init_outcomes-net", lambda: verify.kernel_init_outcomes(None, _X()), "net"),
    ("kernel_init_outcomes-X-columns", lambda: verify.kernel_init_outcomes(_net(), np.ones((3, 5))), "X"),
    # ---- verify: reports
    ("render_report-formats", lambda: verify.render_report([], formats=("docx",)), "formats"),
    ("render_report-dpi-0", lambda: verify.render_report([], dpi=0), "dpi"),
    ("render_report-runs-not-seq", lambda: verify.render_report(3), "runs"),
    ("build_summary-runs-not-seq", lambda: verify.build_summary(3), "runs"),
    ("make_report-formats", lambda: verify.make_report([], command="x", formats=("docx",)), "formats"),
    ("compute_findings-record-not-mapping", lambda: verify.compute_findings(3, {}, None), "record"),
]


class _Hang(Exception):
    pass


@pytest.fixture
def no_hang():
    """A refusal is immediate: a case still running after 20 s is a hang (SIGALRM)."""
    import signal

    def alarm(*_):
        raise _Hang("still running after 20 s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize("call,name", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_argument_raises_invalid_argument_naming_it(no_hang, call, name):
    with pytest.raises(InvalidArgument) as info:
        call()
    msg = str(info.value)
    assert msg.startswith(f"{name}=") or msg.startswith(f"{name}["), msg
    assert "; " in msg, msg
    assert isinstance(info.value, ValueError)


def test_ids_are_distinct():
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids))


def test_files_never_leave_out_dir(tmp_path):
    """``files=`` names are plain file names: the check runs before any directory is made."""
    out = tmp_path / "o"
    for name in ("../escaped.json", "sub/../../x.json", str(tmp_path / "abs.json"), "", ".", ".."):
        with pytest.raises(InvalidArgument, match="^files="):
            verify.run_gd(_X(4), _y(4), _cfg(), out_dir=out, files={name: {}}, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_valid_values_still_work():
    """The checks reject the bad values only: the edges of each range are accepted."""
    assert bounds.arccos_kernel(1.0) == pytest.approx(0.5)  # E[σ(g)²] = 1/2
    assert bounds.arccos_kernel(-1.0) == pytest.approx(0.0, abs=1e-15)  # σ(g)σ(−g) = 0
    assert bounds.arccos_kernel(1.0 + 1e-13) == pytest.approx(0.5)  # rounding above 1 is clipped
    lo, hi = verify.clopper_pearson(3, 3)
    assert 0.0 < float(lo) < 1.0 and float(hi) == 1.0
    assert tuple(map(float, verify.clopper_pearson(0, 0))) == (0.0, 1.0)  # no trials: no information
    assert bounds.audit_data(_X(), block=1).n == 6
    G, _ = verify.jacobian_gram(_net(), _X(), depth=1)
    assert tuple(G.shape) == (6, 6)
    assert verify.contraction_factor(_A(), 0.0) == 0.0
