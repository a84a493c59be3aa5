"""Error paths: every public entry point rejects invalid input with the documented
:class:`~bounds.InvalidArgument` (a ``ValueError``) whose message names the argument
(docs/CONTRACTS.md "Errors"; STYLE.md "validate at the top of each public function") —
never a ``TypeError``/``AttributeError``/``RuntimeError`` from inside numpy or torch.

Each case is ``(id, strategy of invalid values, call(bad), argument name)``; hypothesis draws
the invalid value. Cases that currently fail are bugs in the package, reported with a
reproducer and marked ``xfail(strict=True)`` so that the fix turns them into failures to remove;
such a case draws only from values that fail today, so the xfail is deterministic under every
hypothesis profile.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import (
    bad_data,
    bad_devices,
    bad_dtypes,
    bad_gammas,
    bad_labels,
    bad_max_iters,
    bad_nonnegative_floats,
    bad_positive_floats,
    bad_probabilities,
    bad_seeds,
    bad_tols,
    bad_widths,
)

import bounds
import verify

F64 = torch.float64


@dataclass(frozen=True)
class Case:
    id: str
    values: st.SearchStrategy[Any]
    call: Callable[[Any], Any]
    name: str
    bug: str | None = None  # reported bug: the case is a strict xfail


class _Fix:
    """Small valid objects the cases perturb one argument of (built once)."""

    def __init__(self) -> None:
        self.net = verify.ImplicitNetwork.init(4, 3, 0.1, seed=0)
        p = self.net.parameters_dict()
        self.A, self.W, self.u, self.v = p["A"], p["W"], p["u"], p["v"]
        self.X = np.eye(3)
        self.y = np.array([0.5, -0.5, 0.25])
        self.Phi = self.net.features(self.X).detach()
        self.state = self.net.state(self.X, self.y)
        self.D = self.state.D
        self.gt = self.net.gamma_tilde
        self.cfg = verify.RunConfig(m=4, gamma=0.1, step=0.01, steps=1)


FIX = _Fix()


def _text_not_in(*allowed: str) -> st.SearchStrategy[Any]:
    return st.one_of(st.text(max_size=6).filter(lambda s: s not in allowed), st.none(), st.integers())


def _not_none(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Where ``None`` is the documented default (e.g. ``tol=None``, ``c=None``) it is valid."""
    return strategy.filter(lambda v: v is not None)


def _not_numbers_or_bool() -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), st.sampled_from(["abc", "", "x1"]), st.booleans(), st.lists(st.integers(), max_size=2))


def _bad_terms() -> st.SearchStrategy[Any]:
    return st.one_of(st.integers(max_value=-1), st.booleans(), st.floats(), st.text(max_size=3))


def _bad_matrices() -> st.SearchStrategy[Any]:
    return st.sampled_from([
        np.ones((2, 3)), np.ones(3), np.ones((0, 0)), np.array([[np.nan, 0.0], [0.0, 1.0]]),
        np.array([[np.inf]]), "abc", None, [[1.0, 2.0], [3.0]],
    ])


def _bad_square_tensors() -> st.SearchStrategy[Any]:
    """Invalid ``A`` for the solvers: not a tensor, not square, wrong ndim, integer dtype."""
    return st.sampled_from([
        np.eye(4), "abc", None, torch.ones(4, 3, dtype=F64), torch.ones(4, dtype=F64),
        torch.ones(4, 4, dtype=torch.int64), torch.ones(0, 0, dtype=F64),
    ])


def _bad_objects() -> st.SearchStrategy[Any]:
    return st.sampled_from(["net", None, 3, np.eye(3)])


def _no_columns(d: int) -> st.SearchStrategy[Any]:
    """bad_data minus the 'columns' kind (functions without a fixed d accept any d)."""
    return bad_data(d).filter(lambda kv: kv[0] != "columns")


_Y = FIX.y
_unknown_symbol = st.from_regex(r"[a-z]{3,8}_zz", fullmatch=True)


CASES: list[Case] = [
    # ---- γ and the scale γ̃
    Case("ImplicitNetwork.init.gamma", bad_gammas(), lambda b: verify.ImplicitNetwork.init(4, 3, b), "gamma"),
    Case("ImplicitNetwork.gamma", bad_gammas(),
         lambda b: verify.ImplicitNetwork(FIX.A, FIX.W, FIX.u, FIX.v, b), "gamma"),
    Case("RunConfig.gamma", bad_gammas(), lambda b: verify.RunConfig(m=4, gamma=b, step=0.1, steps=1), "gamma"),
    Case("solve_forward.gamma_tilde", bad_nonnegative_floats(),
         lambda b: verify.solve_forward(FIX.A, FIX.Phi, b), "gamma_tilde"),
    Case("solve_adjoint.gamma_tilde", bad_nonnegative_floats(),
         lambda b: verify.solve_adjoint(FIX.A, FIX.u, FIX.D, b), "gamma_tilde"),
    # ---- sizes, counts, seeds
    Case("ImplicitNetwork.init.m", bad_widths(), lambda b: verify.ImplicitNetwork.init(b, 3, 0.1), "m"),
    Case("ImplicitNetwork.init.d", bad_widths(), lambda b: verify.ImplicitNetwork.init(4, b, 0.1), "d"),
    Case("ImplicitNetwork.init.seed", bad_seeds(), lambda b: verify.ImplicitNetwork.init(4, 3, 0.1, seed=b), "seed"),
    Case("RunConfig.m", bad_widths(), lambda b: verify.RunConfig(m=b, gamma=0.1, step=0.1, steps=1), "m"),
    Case("RunConfig.steps", bad_seeds(), lambda b: verify.RunConfig(m=4, gamma=0.1, step=0.1, steps=b), "steps"),
    Case("RunConfig.seed", bad_seeds(),
         lambda b: verify.RunConfig(m=4, gamma=0.1, step=0.1, steps=1, seed=b), "seed"),
    Case("norm_constant_tail.m", bad_widths(), lambda b: bounds.norm_constant_tail(b, 3, 0.1), "m"),
    Case("norm_constant_tail.d", bad_widths(), lambda b: bounds.norm_constant_tail(4, b, 0.1), "d"),
    Case("gram_infinity.terms", _bad_terms(), lambda b: bounds.gram_infinity(FIX.X, "hermite", terms=b), "terms"),
    Case("hermite_tail_bound.terms", _bad_terms(), lambda b: bounds.hermite_tail_bound(b), "terms"),
    Case("gram_infinity_mc.samples", st.one_of(st.integers(max_value=1), st.booleans(), st.floats()),
         lambda b: bounds.gram_infinity_mc(FIX.X, b, seed=0), "samples"),
    # ---- probabilities and positive reals
    Case("norm_constant_tail.delta", bad_probabilities(), lambda b: bounds.norm_constant_tail(4, 3, b), "delta"),
    Case("required_width.delta", bad_probabilities(), lambda b: bounds.required_width(FIX.X, delta=b), "delta"),
    Case("RunConfig.delta", bad_probabilities(),
         lambda b: verify.RunConfig(m=4, gamma=0.1, step=0.1, steps=1, delta=b), "delta"),
    Case("gram_infinity_mc.level", st.floats(allow_nan=True).filter(lambda x: not 0.0 < x < 1.0),
         lambda b: bounds.gram_infinity_mc(FIX.X, 10, seed=0, level=b), "level"),
    Case("gram_infinity_mc.level.not_a_number", st.sampled_from([None, "abc", [0.5]]),
         lambda b: bounds.gram_infinity_mc(FIX.X, 10, seed=0, level=b), "level"),
    Case("gamma_max.c", bad_positive_floats(), lambda b: bounds.gamma_max(b), "c"),
    Case("step_max.lambda0", bad_positive_floats(), lambda b: bounds.step_max(b, 3), "lambda0"),
    Case("step_max.n", bad_positive_floats(), lambda b: bounds.step_max(0.1, b), "n"),
    Case("required_width.c", _not_none(bad_positive_floats()), lambda b: bounds.required_width(FIX.X, c=b), "c"),
    Case("required_width.e0_norm", _not_none(bad_positive_floats()),
         lambda b: bounds.required_width(FIX.X, e0_norm=b), "e0_norm"),
    Case("RunConfig.step", bad_positive_floats(), lambda b: verify.RunConfig(m=4, gamma=0.1, step=b, steps=1), "step"),
    # ---- solver settings
    Case("solve_forward.tol", _not_none(bad_tols()), lambda b: verify.solve_forward(FIX.A, FIX.Phi, FIX.gt, tol=b), "tol"),
    Case("solve_adjoint.tol", _not_none(bad_tols()), lambda b: verify.solve_adjoint(FIX.A, FIX.u, FIX.D, FIX.gt, tol=b), "tol"),
    Case("RunConfig.tol", bad_tols(), lambda b: verify.RunConfig(m=4, gamma=0.1, step=0.1, steps=1, tol=b), "tol"),
    Case("lambda_min_iterative.tol", bad_tols(), lambda b: verify.lambda_min_iterative(np.eye(3), tol=b), "tol"),
    Case("predicted_iterations.tol", bad_tols(), lambda b: verify.predicted_iterations(0.5, b), "tol"),
    Case("predicted_iterations.rho", st.one_of(st.floats(max_value=-1e-300, allow_nan=False), _not_numbers_or_bool()),
         lambda b: verify.predicted_iterations(b, 1e-10), "rho"),
    Case("solve_forward.max_iter", bad_max_iters(),
         lambda b: verify.solve_forward(FIX.A, FIX.Phi, FIX.gt, max_iter=b), "max_iter"),
    Case("RunConfig.max_iter", bad_max_iters(),
         lambda b: verify.RunConfig(m=4, gamma=0.1, step=0.1, steps=1, max_iter=b), "max_iter"),
    Case("solve_forward.method", _text_not_in("picard", "anderson", "gauss-seidel"),
         lambda b: verify.solve_forward(FIX.A, FIX.Phi, FIX.gt, method=b), "method"),
    Case("gram_infinity.method", _text_not_in("closed", "hermite"),
         lambda b: bounds.gram_infinity(FIX.X, method=b), "method"),
    Case("g22_spec.mode", _text_not_in("gd", "gf"), lambda b: bounds.g22_spec(b), "mode"),
    Case("jacobian_gram.method", _text_not_in("unrolled", "autograd"),
         lambda b: verify.jacobian_gram(FIX.net, FIX.X, method=b), "method"),
    # ---- dtypes and devices
    Case("ImplicitNetwork.init.dtype", bad_dtypes(), lambda b: verify.ImplicitNetwork.init(4, 3, 0.1, dtype=b), "dtype"),
    Case("resolve_dtype", bad_dtypes(), lambda b: verify.resolve_dtype(b), "dtype"),
    Case("RunConfig.dtype", bad_dtypes(), lambda b: verify.RunConfig(m=4, gamma=0.1, step=0.1, steps=1, dtype=b), "dtype"),
    Case("ImplicitNetwork.init.device", bad_devices(),
         lambda b: verify.ImplicitNetwork.init(4, 3, 0.1, device=b), "device"),
    Case("resolve_device", bad_devices(), lambda b: verify.resolve_device(b), "device"),
    # ---- data matrices X (network with d = 3; bounds accept any d)
    Case("ImplicitNetwork.features.X", bad_data(3), lambda kv: FIX.net.features(kv[1]), "X"),
    Case("ImplicitNetwork.forward.X", bad_data(3), lambda kv: FIX.net(kv[1]), "X"),
    Case("ImplicitNetwork.loss.X", bad_data(3), lambda kv: FIX.net.loss(kv[1], _Y), "X"),
    Case("ImplicitNetwork.state.X", bad_data(3), lambda kv: FIX.net.state(kv[1], _Y), "X"),
    Case("ImplicitNetwork.equilibrium.X", bad_data(3), lambda kv: FIX.net.equilibrium(kv[1]), "X"),
    Case("implicit_gradients.X", bad_data(3), lambda kv: verify.implicit_gradients(FIX.net, kv[1], _Y), "X"),
    Case("jacobian_gram.X", bad_data(3), lambda kv: verify.jacobian_gram(FIX.net, kv[1]), "X"),
    Case("gram_infinity.X", _no_columns(3), lambda kv: bounds.gram_infinity(kv[1]), "X"),
    Case("lambda0.X", _no_columns(3), lambda kv: bounds.lambda0(kv[1]), "X"),
    Case("audit_data.X", _no_columns(3), lambda kv: bounds.audit_data(kv[1]), "X"),
    Case("required_width.X", _no_columns(3), lambda kv: bounds.required_width(kv[1]), "X"),
    Case("run_gd.X", _no_columns(3), lambda kv: verify.run_gd(kv[1], _Y, FIX.cfg, progress=False), "X"),
    # ---- labels y (n = 3)
    Case("ImplicitNetwork.state.y", bad_labels(3), lambda kv: FIX.net.state(FIX.X, kv[1]), "y"),
    Case("ImplicitNetwork.loss.y", bad_labels(3), lambda kv: FIX.net.loss(FIX.X, kv[1]), "y"),
    Case("implicit_gradients.y", bad_labels(3), lambda kv: verify.implicit_gradients(FIX.net, FIX.X, kv[1]), "y"),
    Case("required_width.y", bad_labels(3), lambda kv: bounds.required_width(FIX.X, kv[1]), "y"),
    Case("run_gd.y", bad_labels(3), lambda kv: verify.run_gd(FIX.X, kv[1], FIX.cfg, progress=False), "y"),
    # ---- matrices and tensors
    Case("lambda_min.M", _bad_matrices(), lambda b: verify.lambda_min(b), "M"),
    Case("lambda_min_iterative.M", _bad_matrices(), lambda b: verify.lambda_min_iterative(b), "M"),
    Case("norm_constant_measured.A", _bad_matrices(), lambda b: bounds.norm_constant_measured(b, np.ones((2, 3))), "A"),
    Case("solve_forward.A", _bad_square_tensors(), lambda b: verify.solve_forward(b, FIX.Phi, FIX.gt), "A"),
    Case("solve_forward.Phi", st.sampled_from([torch.ones(3, 5, dtype=F64), torch.ones(4, dtype=F64), "x",
                                               torch.ones(3, 4, dtype=torch.float32)]),
         lambda b: verify.solve_forward(FIX.A, b, FIX.gt), "Phi"),
    Case("solve_forward.z0", st.sampled_from([torch.zeros(2, 4, dtype=F64), torch.zeros(3, 5, dtype=F64), "z"]),
         lambda b: verify.solve_forward(FIX.A, FIX.Phi, FIX.gt, z0=b), "z0"),
    Case("solve_adjoint.rhs", st.sampled_from([torch.ones(5, dtype=F64), torch.ones(2, 4, dtype=F64), "u"]),
         lambda b: verify.solve_adjoint(FIX.A, b, FIX.D, FIX.gt), "rhs"),
    Case("solve_adjoint.D", st.sampled_from([torch.ones(3, 5, dtype=F64), "D", None]),
         lambda b: verify.solve_adjoint(FIX.A, FIX.u, b, FIX.gt), "D"),
    Case("solve_forward_direct.A", _bad_square_tensors(), lambda b: verify.solve_forward_direct(b, FIX.Phi, FIX.gt),
         "A"),
    Case("ImplicitNetwork.A", st.sampled_from([np.ones(4), np.ones((4, 3)), np.full((4, 4), np.nan)]),
         lambda b: verify.ImplicitNetwork(b, FIX.W, FIX.u, FIX.v, 0.1), "A"),
    Case("ImplicitNetwork.A.unreadable", st.sampled_from(["abc", [[1.0, 2.0], [3.0]], None]),
         lambda b: verify.ImplicitNetwork(b, FIX.W, FIX.u, FIX.v, 0.1), "A"),
    # ---- wrong objects
    Case("gram_blocks.net", _bad_objects(), lambda b: verify.gram_blocks(b, FIX.state), "net"),
    Case("gram_blocks.state", _bad_objects(), lambda b: verify.gram_blocks(FIX.net, b), "state"),
    Case("jacobian_gram.net", _bad_objects(), lambda b: verify.jacobian_gram(b, FIX.X), "net"),
    Case("implicit_gradients.net", _bad_objects(), lambda b: verify.implicit_gradients(b, FIX.X, _Y), "net"),
    Case("run_gd.config", _bad_objects(), lambda b: verify.run_gd(FIX.X, _Y, b, progress=False), "config"),
    # ---- symbolic layer
    Case("Bound.evaluate.unknown", _unknown_symbol,
         lambda b: bounds.g22_spec("gd").bound("R").evaluate(lambda0=0.1, m=10, c=2.0, X_norm=1.0, **{b: 1.0}),
         "<symbol>"),
]


def _params():
    for c in CASES:
        marks = [pytest.mark.xfail(strict=True, reason="BUG (reported): " + c.bug)] if c.bug else []
        yield pytest.param(c, id=c.id, marks=marks)


@pytest.mark.parametrize("case", list(_params()))
@settings(max_examples=8)
@given(data=st.data())
def test_invalid_input_raises_invalid_argument(case, data):
    """docs/CONTRACTS.md, Errors: a bad argument raises ``InvalidArgument`` (subclass of
    ``ValueError``) with the message ``"<name>=<value>: <problem>; <fix>"`` — it names the
    argument. Any other exception type is a crash from inside numpy/torch (a bug)."""
    bad = data.draw(case.values, label="bad")
    with pytest.raises(Exception) as info:
        case.call(bad)
    err = info.value
    assert isinstance(err, bounds.InvalidArgument), f"{type(err).__name__}: {err}"
    assert isinstance(err, ValueError) and isinstance(err, verify.InvalidArgument)
    name = case.name if case.name != "<symbol>" else bad
    assert str(err).startswith(f"{name}=") or f"{name}=" in str(err), str(err)


@settings(max_examples=10)
@given(rho=st.one_of(st.floats(min_value=0.0), st.just(math.nan), st.floats(1.0, 1e9)), tol=st.floats(1e-15, 0.5))
def test_predicted_iterations_outside_contraction_is_minus_one(rho, tol):
    """``verify.predicted_iterations`` documents ``-1`` (no guarantee) for ``ρ ≥ 1`` or NaN
    (non-finite A) rather than raising (G22 Lemma 2.2 needs a contraction); negative ρ raises."""
    if not (0.0 <= rho < 1.0):
        assert verify.predicted_iterations(rho, tol) == -1
    else:
        assert verify.predicted_iterations(rho, tol) >= 1


@settings(max_examples=10)
@given(scale=st.sampled_from([math.nan, math.inf, -math.inf]))
def test_nonfinite_solver_operands_give_status_not_exception(scale):
    """``verify.solve_forward``'s documented contract: non-finite operands are not an error but
    the ``NONFINITE`` status (and :class:`~bounds.SolverError` with ``throw=True``)."""
    Phi = FIX.Phi * scale
    res = verify.solve_forward(FIX.A, Phi, FIX.gt)
    assert res.status is verify.SolveStatus.NONFINITE
    with pytest.raises(verify.SolverError):
        verify.solve_forward(FIX.A, Phi, FIX.gt, throw=True)
