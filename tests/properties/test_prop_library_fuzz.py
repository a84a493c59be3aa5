"""Hypothesis fuzz over the public library functions' arguments (issue 21 item 7).

For each function every argument has a *kind* (an integer range, a real interval, a choice, a
flag, …) that states, independently of the code under test, which values the documentation
allows. Hypothesis draws each argument either at its default or from a mix of in-range values,
values just outside the range and junk (NaN, ±inf, −1, 0, 10**30, text, booleans, None, complex
numbers, containers, an ``object()``), then calls the function:

* a call whose arguments are all allowed must not raise (solver failures aside, where the
  function documents :class:`~bounds.SolverError`);
* a call with a disallowed argument must raise :class:`~bounds.InvalidArgument` whose message
  starts with the name of one of the disallowed arguments — never another exception, never a
  silent result.

Sizes are tiny (n ≤ 12, m ≤ 16) so one example takes milliseconds; the default run draws a
modest number of examples per function, ``-m slow`` many more (and the slower functions).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bounds
import verify
from bounds._errors import InvalidArgument, SolverError

NAN, INF = float("nan"), float("inf")
JUNK = [None, "x", "", "1", True, False, NAN, INF, -INF, -1, 0, 1.5, -0.5, 10**30, -(10**30), 1e308,
        complex(1, 1), [1], (), {}, object()]


@dataclass(frozen=True)
class Kind:
    """Which values an argument allows (``ok``) and a strategy of in-range ones (``good``)."""

    ok: Callable[[Any], bool]
    good: st.SearchStrategy
    edges: tuple = ()


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _is_real(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _elementwise(ok: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """``ok`` for a scalar, or for every entry of a list/tuple/array (numpy-style arguments)."""
    def each(v: Any) -> bool:
        if isinstance(v, (list, tuple, np.ndarray)):
            flat = np.asarray(v, dtype=object).ravel().tolist()
            return all(ok(x) and not isinstance(x, (list, tuple)) for x in flat)
        return ok(v)
    return each


def I(lo: int, hi: int | None = None, *, none: bool = False, top: int = 24,  # noqa: E743
      hi_edge: bool = True) -> Kind:
    """An integer in [lo, hi] (``None`` too if ``none``); in-range draws stay below lo + top,
    and ``hi + 1`` is drawn only if ``hi_edge`` (not where the limit is a work cap: the values
    just below it would run for an hour)."""
    def ok(v: Any) -> bool:
        return (none and v is None) or (_is_int(v) and v >= lo and (hi is None or v <= hi))
    good = st.integers(lo, lo + top if hi is None else min(hi, lo + top))
    edges = (lo - 1, *(() if hi is None or not hi_edge else (hi + 1,)))
    return Kind(ok, st.one_of(good, st.none()) if none else good, edges)


def R(lo: float | None = None, hi: float | None = None, *, lo_open: bool = False, hi_open: bool = False,
      none: bool = False, nan_ok: bool = False, inf_ok: bool = False) -> Kind:
    """A real number in the interval (finite unless ``inf_ok``; NaN only if ``nan_ok``)."""
    def ok(v: Any) -> bool:
        if none and v is None:
            return True
        if not _is_real(v):
            return False
        try:
            f = float(v)
        except OverflowError:
            return False
        if math.isnan(f):
            return nan_ok
        if math.isinf(f) and not inf_ok:
            return False
        if lo is not None and (f < lo or (lo_open and f == lo)):
            return False
        return not (hi is not None and (f > hi or (hi_open and f == hi)))
    a = -1e3 if lo is None else lo
    b = 1e3 if hi is None else hi
    good = st.floats(a, b, exclude_min=lo_open, exclude_max=hi_open, allow_nan=False, allow_infinity=False)
    edges = tuple(x for x in ((lo if lo_open else None), (hi if hi_open else None),
                              (None if lo is None else lo - 1e-3), (None if hi is None else hi + 1e-3))
                  if x is not None)
    return Kind(ok, st.one_of(good, st.none()) if none else good, edges)


def C(*choices: Any) -> Kind:
    return Kind(lambda v: any(type(v) is type(c) and v == c for c in choices), st.sampled_from(choices),
                ("nope", 3))


def W(lo: float) -> Kind:
    """A whole number ≥ lo (an int, or a float such as 8.0: widths found by a search are floats)."""
    def ok(v: Any) -> bool:
        if _is_int(v):
            return v >= lo
        return _is_real(v) and math.isfinite(float(v)) and float(v) == int(v) and v >= lo
    return Kind(ok, st.one_of(st.integers(int(lo), int(lo) + 64), st.integers(int(lo), 99).map(float)),
                (lo - 1, lo + 0.5))


B = Kind(lambda v: isinstance(v, bool), st.booleans(), (0, 1, "yes"))


def _arr(kind: Kind) -> Kind:
    """The same kind for an argument that also takes arrays (each entry must be allowed)."""
    return Kind(_elementwise(kind.ok), kind.good, kind.edges)


def value(kind: Kind) -> st.SearchStrategy:
    return st.one_of(kind.good, st.sampled_from(list(kind.edges) + JUNK))


@functools.cache
def _X(n: int = 6, d: int = 3) -> np.ndarray:
    X = np.random.default_rng(1).standard_normal((n, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    X.setflags(write=False)
    return X


@functools.cache
def _net():
    return verify.ImplicitNetwork.init(8, 3, 0.2, 0)


def _trace():
    k = np.arange(6.0)
    return {"step": k, "residual_sq": 0.6**k}


@dataclass(frozen=True)
class Target:
    """``call(**kwargs)`` with ``defaults`` (valid) and the fuzzed arguments' kinds."""

    name: str
    call: Callable[..., Any]
    kinds: dict[str, Kind]
    defaults: dict[str, Any]
    joint: Callable[[dict[str, Any]], bool] = staticmethod(lambda kw: True)  # type: ignore[assignment]
    solver_errors: bool = False
    #: fixed arguments a joint violation may be reported under (validate_y's y for a wrong n)
    also: tuple[str, ...] = ()


def _sweep_spec(**kw):
    return verify.SweepSpec(kind="init", data="synthetic", **kw)


TARGETS = [
    Target("arccos_kernel", bounds.arccos_kernel, {"rho": _arr(R(-1.0, 1.0))}, {"rho": 0.3}),
    Target("relu_hermite_coefficients", bounds.relu_hermite_coefficients, {"terms": I(0, 10**7)}, {"terms": 8}),
    Target("hermite_tail_bound", bounds.hermite_tail_bound, {"terms": I(0, 10**7)}, {"terms": 8}),
    Target("audit_data", lambda **k: bounds.audit_data(_X(), **k),
           {"norm_tol": R(0.0), "parallel_tol": R(0.0, 1.0, hi_open=True), "block": I(1)},
           {"norm_tol": 1e-6, "parallel_tol": 1e-12, "block": 4}),
    Target("gram_infinity_mc", lambda **k: bounds.gram_infinity_mc(_X(), **k),
           {"samples": I(2, 10**11, top=200, hi_edge=False), "seed": I(0, 2**63 - 1, none=True),
            "level": R(0.0, 1.0, lo_open=True, hi_open=True), "batch": I(1)},
           {"samples": 50, "seed": 0, "level": 0.99, "batch": 16}),
    Target("gamma_max", bounds.gamma_max, {"c": R(0.0, lo_open=True)}, {"c": 2.0}),
    Target("step_max", bounds.step_max,
           {"lambda0": R(0.0, lo_open=True), "n": R(0.0, lo_open=True), "C_step": R(0.0, lo_open=True)},
           {"lambda0": 0.1, "n": 4, "C_step": 1.0}),
    Target("norm_constant_tail", bounds.norm_constant_tail,
           {"m": W(1), "d": W(1), "delta": R(0.0, 1.0, lo_open=True, hi_open=True)},
           {"m": 16, "d": 3, "delta": 0.01}),
    Target("required_width", lambda **k: bounds.required_width(_X(), **k),
           {"delta": R(0.0, 1.0, lo_open=True, hi_open=True), "lambda0": R(0.0, none=True),
            "e0_norm": R(0.0, lo_open=True, none=True), "mode": C("gd", "gf")},
           {"delta": 0.01, "lambda0": None, "e0_norm": None, "mode": "gd"}),
    Target("validate_y", lambda **k: bounds.validate_y(np.ones(6), **k), {"n": I(0)}, {"n": 6},
           joint=lambda kw: kw["n"] == 6, also=("y",)),
    Target("contraction_factor", lambda **k: verify.contraction_factor(_net().A.detach(), **k),
           {"gamma_tilde": R(0.0)}, {"gamma_tilde": 0.05}),
    Target("predicted_iterations", verify.predicted_iterations,
           {"rho": R(0.0, nan_ok=True, inf_ok=True), "tol": R(0.0, 1.0, lo_open=True, hi_open=True)},
           {"rho": 0.5, "tol": 1e-12}),
    Target("clopper_pearson", verify.clopper_pearson,
           {"k": _arr(I(0, 2**53 - 1)), "N": _arr(I(0, 2**53 - 1)), "ci": R(0.0, 1.0, lo_open=True, hi_open=True)},
           {"k": 2, "N": 5, "ci": 0.95},
           joint=lambda kw: bool(np.all(np.asarray(kw["k"]) <= np.asarray(kw["N"])))),
    Target("fit_rates", lambda **k: verify.fit_rates(_trace(), **k),
           {"alpha": R(0.0, lo_open=True), "lambda0": R(-1e-10), "mode": C("gd", "gf"),
            "floor_rel": R(0.0, 1.0, hi_open=True)},
           {"alpha": 0.1, "lambda0": 0.2, "mode": "gd", "floor_rel": 1e-24}),
    Target("slack_tol", verify.slack_tol, {"dtype": C("float64", "float32", "double", "float")},
           {"dtype": "float64"}),
    Target("SweepSpec", _sweep_spec,
           {"gamma": R(0.0, 1.0, lo_open=True, hi_open=True), "steps": I(1, 2**62),
            "target": R(0.0, 1.0, lo_open=True, hi_open=True), "tol": R(0.0, 1.0, lo_open=True, hi_open=True),
            "d": I(1, 2**62, none=True), "data_seed": I(0, 2**62), "max_iter": I(1, 2**62),
            "torch_threads": I(1, 2**62), "hk_max_m": I(0, 2**62, none=True)},
           {"n": (6,), "m": (8,), "seeds": (0,), "gamma": 0.1, "steps": 10, "target": 1e-3, "tol": 1e-12,
            "d": None, "data_seed": 0, "max_iter": 500, "torch_threads": 1, "hk_max_m": 512}),
    Target("jacobian_gram", lambda **k: verify.jacobian_gram(_net(), _X(4), **k),
           {"depth": I(1, 100_000, none=True, top=6), "return_jacobian": B},
           {"depth": 3, "return_jacobian": False}),
    Target("lambda_min_iterative", lambda **k: verify.lambda_min_iterative(np.diag(np.arange(1.0, 13.0)), **k),
           {"method": C("lanczos", "lobpcg"), "tol": R(0.0, 1.0, lo_open=True, hi_open=True),
            "max_iter": I(1, 2**31 - 1, none=True, top=50), "seed": I(0, 2**63 - 1)},
           {"method": "lanczos", "tol": 1e-10, "max_iter": None, "seed": 0}, solver_errors=True),
    Target("ImplicitNetwork.init", lambda **k: verify.ImplicitNetwork.init(**k),
           {"m": I(1, 10**5, top=16), "d": I(1, 10**5, top=8, hi_edge=False), "gamma": R(0.0, 1.0, hi_open=True),
            "seed": I(0, 2**63 - 1)},
           {"m": 4, "d": 3, "gamma": 0.1, "seed": 0}),
]
SLOW_TARGETS = [
    Target("deq_kernels", lambda **k: bounds.deq_kernels(_X(4), **k),
           {"gamma": R(1e-100, inf_ok=False), "order": I(4, 256, top=12), "nodes": I(4, 4096, top=12),
            "max_iter": I(1, top=60), "tol": R(0.0, 1.0, lo_open=True, hi_open=True),
            "accuracy": R(0.0, lo_open=True), "throw": B},
           {"gamma": 0.3, "order": 16, "nodes": 8, "max_iter": 50, "tol": 1e-13, "accuracy": 1e-8,
            "throw": False}, solver_errors=True),
]


def _draw(data: Any, target: Target) -> dict[str, Any]:
    kw = dict(target.defaults)
    for name, kind in target.kinds.items():
        if data.draw(st.booleans(), label=f"fuzz {name}"):
            kw[name] = data.draw(value(kind), label=name)
    return kw


def _check(target: Target, kw: dict[str, Any]) -> None:
    bad = [n for n, k in target.kinds.items() if not k.ok(kw[n])]
    allowed = not bad and target.joint(kw)
    try:
        target.call(**kw)
    except InvalidArgument as exc:
        msg = str(exc)
        assert not allowed, f"{target.name}({kw}): an allowed call was refused: {msg}"
        names = bad or [*target.kinds, *target.also]  # a joint violation may name any of them
        assert any(msg.startswith((f"{n}=", f"{n}[")) for n in names), f"{target.name}({kw}): {msg}"
        assert "; " in msg, msg
    except SolverError:
        assert target.solver_errors and allowed, f"{target.name}({kw}): unexpected SolverError"
    else:
        assert allowed, f"{target.name}({kw}): accepted the disallowed {bad or 'combination'}"


_SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much]}


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
@settings(max_examples=50, **_SETTINGS)
@given(data=st.data())
def test_library_arguments_are_refused_by_name_or_accepted(target, data):
    with torch.no_grad():
        _check(target, _draw(data, target))


@pytest.mark.slow
@pytest.mark.parametrize("target", TARGETS + SLOW_TARGETS, ids=[t.name for t in TARGETS + SLOW_TARGETS])
@settings(max_examples=300, **_SETTINGS)
@given(data=st.data())
def test_library_arguments_fuzzed_long(target, data):
    with torch.no_grad():
        _check(target, _draw(data, target))


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_every_junk_value_is_refused(target):
    """Deterministic sweep of the junk list over each argument (the fuzz's worst cases)."""
    for name, kind in target.kinds.items():
        for v in [*kind.edges, *JUNK]:
            _check(target, {**target.defaults, name: v})
