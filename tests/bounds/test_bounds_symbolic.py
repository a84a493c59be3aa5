"""The symbolic layer: lambdified evaluation vs sympy's own arithmetic, errors, validation."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from bounds_testdata import EPS
from hypothesis import given
from hypothesis import strategies as st

from bounds import (
    Assumption,
    Bound,
    Claim,
    Condition,
    InvalidArgument,
    Provenance,
    TheoremSpec,
    evaluate_spec,
    g22_spec,
    gg22_spec,
    symbol,
)

pos = st.floats(min_value=1e-3, max_value=1e3, allow_nan=False, allow_infinity=False)


def _all_bounds():
    for spec in (g22_spec("gd"), g22_spec("gf"), gg22_spec("gd")):
        for b in spec.bounds:
            yield spec.key, b


@pytest.mark.parametrize(("key", "bound"), list(_all_bounds()),
                         ids=[f"{k}:{b.name}" for k, b in _all_bounds()])
def test_lambdified_value_equals_sympy_exact_evaluation(key, bound):
    """evaluate() (numpy, lambdified) against sympy's own arbitrary-precision evalf."""
    rng = np.random.default_rng(abs(hash(bound.name)) % 2**32)
    for _ in range(3):
        vals = {}
        for name in bound.free_symbols:
            if name in ("k", "t"):
                vals[name] = float(rng.integers(0, 50))
            elif name in ("delta", "gamma"):
                vals[name] = float(rng.uniform(0.01, 0.4))
            elif name == "alpha":
                vals[name] = float(rng.uniform(1e-4, 1e-2))
            elif name == "lambda0":
                vals[name] = float(rng.uniform(0.01, 0.5))
            else:
                vals[name] = float(rng.uniform(1.0, 100.0))
        got = bound.evaluate(**vals)
        exact = bound.expr.subs({symbol(k): sp.Float(v, 30) for k, v in vals.items()})
        exact = float(exact.evalf(30))
        # a few dozen float64 operations: relative error ≤ 64 eps (logs/powers included)
        assert got == pytest.approx(exact, rel=64 * EPS, abs=1e-300)


def test_hidden_constants_default_to_one_and_are_listed():
    b = g22_spec("gd").bound("width_lemma33")
    assert b.hidden == ("C_prob",)
    assert b.provenance is Provenance.HIDDEN
    base = b.evaluate(n=10, lambda0=0.1, delta=0.01)
    assert b.evaluate(n=10, lambda0=0.1, delta=0.01, C_prob=3.0) == pytest.approx(3 * base, rel=EPS)
    assert base == pytest.approx(100 / 0.01 * np.log(10 / 0.01), rel=4 * EPS)


def test_evaluate_broadcasts_over_arrays():
    b = g22_spec("gd").bound("residual_sq_max")
    k = np.arange(6)
    got = b.evaluate(alpha=0.1, lambda0=0.5, e0_norm=2.0, k=k)
    assert isinstance(got, np.ndarray) and got.shape == (6,) and got.dtype == np.float64
    np.testing.assert_allclose(got, 4.0 * 0.975**k, rtol=8 * EPS)
    grid = b.evaluate(alpha=np.array([[0.1], [0.2]]), lambda0=0.5, e0_norm=2.0, k=k)
    assert grid.shape == (2, 6)
    const = g22_spec("gd").bound("contraction_max").evaluate(k=k)
    assert const.shape == (6,) and np.all(const == 0.5)


def test_missing_symbol_raises_naming_it():
    b = g22_spec("gd").bound("R")
    with pytest.raises(InvalidArgument, match=r"^X_norm=None: .*R"):
        b.evaluate(lambda0=0.1, m=100, c=2.0)


def test_unknown_symbol_name_raises():
    with pytest.raises(InvalidArgument, match=r"^lamda0="):
        g22_spec("gd").bound("half_lambda0").evaluate(lamda0=0.1)


def test_non_numeric_value_raises():
    with pytest.raises(InvalidArgument, match=r"^lambda0="):
        g22_spec("gd").bound("half_lambda0").evaluate(lambda0="small")


def test_latex_uses_readable_symbol_names():
    tex = g22_spec("gd").bound("R").latex()
    assert r"\lambda_0" in tex and r"\|X\|" in tex and r"\sqrt{m}" in tex
    assert "C_{\\mathrm{width" in g22_spec("gd").bound("width_thm32").latex()


def test_bound_validation():
    n = symbol("n")
    with pytest.raises(InvalidArgument, match="^provenance="):
        Bound("b", "x", n, "guessed")
    with pytest.raises(InvalidArgument, match="^provenance="):
        Bound("b", "x", n, Provenance.HIDDEN)  # hidden without a hidden constant
    with pytest.raises(InvalidArgument, match="^hidden="):
        Bound("b", "x", n, Provenance.PAPER, hidden=("C_step",))
    with pytest.raises(InvalidArgument, match="^expr="):
        Bound("b", "x", sp.Symbol("n") + 1, Provenance.PAPER)  # not the registry's symbol
    b = Bound("b", "x", 2 * n * symbol("C_step"), Provenance.HIDDEN)
    assert b.hidden == ("C_step",) and b.free_symbols == ("C_step", "n")
    assert Bound("b", "x", n, "paper").provenance is Provenance.PAPER


@given(value=pos, req=pos)
def test_condition_check_semantics(value, req):
    c = symbol("c")
    le = Condition("g", "x", "gamma", "le", Bound("gb", "x", c, Provenance.PAPER))
    ge = Condition("w", "x", "m", "ge", Bound("wb", "x", c, Provenance.PAPER))
    r1 = le.check(value, c=req)
    r2 = ge.check(value, c=req)
    assert r1.required == req and r1.satisfied == (value <= req)
    assert r2.satisfied == (value >= req)
    assert r1.ratio == pytest.approx(value / req, rel=EPS)
    # one ratio convention: > 1 means fails, for ≥ conditions too (required/value)
    assert r2.ratio == pytest.approx(req / value, rel=EPS)
    assert (r1.ratio > 1) == (value > req) and (r2.ratio > 1) == (value < req)
    assert r1.verdict == ("met" if value <= req else "not met")


def test_theorem_spec_validation():
    n = symbol("n")
    b = Bound("b", "x", n, Provenance.PAPER)
    cond = Condition("cond", "x", "m", "ge", b)
    good_claim = Claim("cl", "x", "loss", "le", b, "gd", ("cond", "a"))
    a = Assumption("a", "x")
    kw = dict(key="k", title="t", paper="p", symbols={}, hidden={}, assumptions=(a,),
              conditions=(cond,), bounds=(b,))
    TheoremSpec(claims=(good_claim,), **kw)
    with pytest.raises(InvalidArgument, match="^hypotheses=.*nope"):
        TheoremSpec(claims=(Claim("cl", "x", "loss", "le", b, "gd", ("nope",)),), **kw)
    with pytest.raises(InvalidArgument, match="^claim="):
        TheoremSpec(claims=(good_claim, good_claim), **kw)
    with pytest.raises(InvalidArgument, match="^bounds="):
        TheoremSpec(claims=(), **{**kw, "bounds": ()})
    with pytest.raises(InvalidArgument, match="^sense="):
        Claim("cl", "x", "loss", "lt", b)
    with pytest.raises(InvalidArgument, match="^mode="):
        Claim("cl", "x", "loss", "le", b, mode="sgd")
    spec = g22_spec("gd")
    with pytest.raises(InvalidArgument, match="^claim="):
        spec.claim("lemma99_i")


def test_evaluate_spec_partial_and_strict():
    spec = g22_spec("gd")
    vals = evaluate_spec(spec, c=2.0, lambda0=0.1)
    assert set(vals) == {"gamma_max", "half_lambda0", "three_quarter_lambda0", "quarter_lambda0",
                         "phi_max_bound", "z_max_bound", "contraction_max"}
    assert vals["gamma_max"] == pytest.approx(1 / 8, rel=EPS)
    with pytest.raises(InvalidArgument, match=r"^(n|delta|m|d|X_norm|e0_norm|alpha|k)=None: "):
        evaluate_spec(spec, strict=True, c=2.0, lambda0=0.1)
