"""The bounds library: symbolic = numeric, and the monotonicity the theorems imply.

Digest A §5 (γ range), §7 (width and step conditions, explicit proof constants)."""

from __future__ import annotations

import math

import numpy as np
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import unit_data

import bounds

SPECS = {
    "g22-gd": lambda: bounds.g22_spec("gd"),
    "g22-gf": lambda: bounds.g22_spec("gf"),
    "gg22-gd": lambda: bounds.gg22_spec("gd"),
}

_pos = dict(allow_nan=False, allow_infinity=False)


def _symbol_values() -> st.SearchStrategy[dict[str, float]]:
    """One value per symbol, inside the ranges where every bound is real (e.g. αλ0/2 < 1)."""
    return st.fixed_dictionaries({
        "n": st.integers(1, 10_000).map(float),
        "m": st.integers(1, 10**9).map(float),
        "d": st.integers(1, 1000).map(float),
        "gamma": st.floats(1e-4, 0.999, **_pos),
        "alpha": st.floats(1e-6, 1.0, **_pos),
        "delta": st.floats(1e-9, 0.999, **_pos),
        "lambda0": st.floats(1e-6, 0.5, **_pos),
        "c": st.floats(0.1, 10.0, **_pos),
        "X_norm": st.floats(0.1, 100.0, **_pos),
        "e0_norm": st.floats(1e-3, 100.0, **_pos),
        "k": st.integers(0, 10_000).map(float),
        "t": st.floats(0.0, 1e3, **_pos),
        "A0_norm": st.floats(0.1, 100.0, **_pos),
        "C_width": st.floats(0.01, 100.0, **_pos),
        "C_width_lemma": st.floats(0.01, 1e4, **_pos),
        "C_step": st.floats(0.01, 100.0, **_pos),
        "C_prob": st.floats(0.01, 100.0, **_pos),
        "C_lin": st.floats(0.01, 100.0, **_pos),
    })


@settings(max_examples=20)
@given(key=st.sampled_from(sorted(SPECS)), values=_symbol_values())
def test_bound_evaluate_equals_sympy(key, values):
    """Every bound of every theorem spec (G22 GD/GF Lemma 2.1–3.6, Thm 3.1/3.2; GG22) is written
    once as sympy; its numeric ``Bound.evaluate`` (lambdified) equals the exact sympy value of
    the same expression at the same point (symbolic = numeric)."""
    spec = SPECS[key]()
    for b in spec.bounds:
        used = {name: values[name] for name in b.free_symbols}
        num = b.evaluate(**values)
        subs = {bounds.symbol(name): sp.Float(v, 30) for name, v in used.items()}
        exact = complex(sp.N(b.expr.subs(subs), 30))
        assert abs(exact.imag) <= 1e-12 * max(1.0, abs(exact.real)), (b.name, exact)
        exact = exact.real
        if math.isinf(num) or abs(exact) > 1e300:
            assert math.isinf(num) or abs(num) > 1e300, (b.name, num, exact)
            continue
        assert math.isclose(num, exact, rel_tol=1e-9, abs_tol=1e-300), (b.name, num, exact, used)


@settings(max_examples=40)
@given(
    c=st.floats(1e-3, 1e3, **_pos),
    lam=st.floats(1e-6, 0.5, **_pos),
    n=st.integers(1, 10_000),
    C=st.floats(1e-3, 1e3, **_pos),
    m=st.integers(1, 10**9),
    d=st.integers(1, 10_000),
    delta=st.floats(1e-12, 0.999, **_pos),
)
def test_numeric_helpers_match_digest_formulas(c, lam, n, C, m, d, delta):
    """Digest A §5 and §7, retyped independently: ``γ_max = min(½, 1/(4c))`` [G22 Thm 3.1/3.2],
    ``α_max = C_step λ0/n²`` [Thm 3.2], the explicit Gaussian-tail ``c(m, d, δ) =
    max(2√m + t, √m + √d + t)/√m``, ``t = √(2 log(4/δ))`` [Lemma 2.1 made explicit]."""
    assert math.isclose(bounds.gamma_max(c), min(0.5, 1.0 / (4.0 * c)), rel_tol=1e-14)
    assert math.isclose(bounds.step_max(lam, n, C), C * lam / n**2, rel_tol=1e-13)
    t = math.sqrt(2.0 * math.log(4.0 / delta))
    expect = max(2 * math.sqrt(m) + t, math.sqrt(m) + math.sqrt(d) + t) / math.sqrt(m)
    assert math.isclose(bounds.norm_constant_tail(m, d, delta), expect, rel_tol=1e-12)


@settings(max_examples=40)
@given(c1=st.floats(1e-3, 1e3, **_pos), c2=st.floats(1e-3, 1e3, **_pos))
def test_gamma_bound_monotone_in_c(c1, c2):
    """G22 §5: the admissible γ range ``(0, min(½, 1/(4c))]`` shrinks as the norm constant c
    grows (non-increasing in c), equals ½ for ``c ≤ ½``, and keeps ``γ·2c ≤ ½`` (contraction
    ``γ̃‖A‖ ≤ ½`` while ``‖A‖ ≤ 2c√m``)."""
    lo, hi = sorted((c1, c2))
    assert bounds.gamma_max(hi) <= bounds.gamma_max(lo)
    for c in (c1, c2):
        g = bounds.gamma_max(c)
        assert 0.0 < g <= 0.5
        assert g * 2 * c <= 0.5 * (1 + 1e-15)
        if c <= 0.5:
            assert g == 0.5


def _entry_bound(req, name, m, c_given):
    """Re-evaluate the condition ``name`` of the spec used by ``req`` at width m."""
    spec = bounds.g22_spec(req.spec_key.split("-")[1])
    b = spec.condition(name).bound
    c = c_given if c_given is not None else bounds.norm_constant_tail(int(m), req.d, req.delta)
    return float(b.evaluate(n=req.n, d=req.d, delta=req.delta, lambda0=req.lambda0, X_norm=req.X_norm,
                            e0_norm=req.e0_norm, m=m, c=c, **req.hidden))


@settings(max_examples=20)
@given(
    X=unit_data(min_n=1),
    lam=st.floats(0.02, 0.5, **_pos),
    delta=st.floats(1e-6, 0.5, **_pos),
    e0=st.floats(0.1, 5.0, **_pos),
    c=st.one_of(st.none(), st.floats(1.0, 4.0, **_pos)),
    mode=st.sampled_from(["gd", "gf"]),
)
def test_required_width_is_smallest_admissible(X, lam, delta, e0, c, mode):
    """G22 Thm 3.1/3.2, Lemma 3.3, 3.5/3.6 width conditions: ``required_width`` returns, for each
    condition, the smallest integer m with ``m ≥ bound(m)`` (c from the tail bound at that m,
    or the given c)."""
    req = bounds.required_width(X, delta=delta, c=c, e0_norm=e0, lambda0=lam, mode=mode)
    for e in req.entries:
        w = e.width
        assert math.isfinite(w) and w >= 1
        assert w >= _entry_bound(req, e.name, w, c) * (1 - 1e-12), (e.name, w)
        if 1 < w < 2**50:
            assert w - 1 < _entry_bound(req, e.name, w - 1, c), (e.name, w)
    assert req.m == max(e.width for e in req.entries)


@settings(max_examples=20)
@given(
    X=unit_data(min_n=2),
    lam=st.tuples(st.floats(0.01, 0.5, **_pos), st.floats(0.01, 0.5, **_pos)),
    delta=st.tuples(st.floats(1e-6, 0.5, **_pos), st.floats(1e-6, 0.5, **_pos)),
    e0=st.floats(0.1, 5.0, **_pos),
    c=st.one_of(st.none(), st.floats(1.0, 4.0, **_pos)),
    keep=st.integers(1, 7),
    mode=st.sampled_from(["gd", "gf"]),
)
def test_required_width_monotone(X, lam, delta, e0, c, keep, mode):
    """G22 width conditions (Thm 3.1/3.2 ``n²/λ0^{(2)} log(n/δ)``, Lemma 3.3, Lemma 3.5/3.6
    ``c²n‖X‖²‖e0‖²/λ0³``): every required width is non-increasing in λ0, non-increasing in δ,
    and non-decreasing in n (adding samples, other inputs fixed)."""
    kw = {"e0_norm": e0, "c": c, "mode": mode}
    lam_lo, lam_hi = sorted(lam)
    d_lo, d_hi = sorted(delta)
    keep = min(keep, X.shape[0] - 1)

    def widths(r):
        return {e.name: e.width for e in r.entries}

    a = widths(bounds.required_width(X, delta=d_lo, lambda0=lam_lo, **kw))
    b = widths(bounds.required_width(X, delta=d_lo, lambda0=lam_hi, **kw))
    assert all(b[k] <= a[k] for k in a), (a, b)
    b = widths(bounds.required_width(X, delta=d_hi, lambda0=lam_lo, **kw))
    assert all(b[k] <= a[k] for k in a), (a, b)
    sub = widths(bounds.required_width(X[:keep], delta=d_lo, lambda0=lam_lo, **kw))
    assert all(sub[k] <= a[k] for k in a), (sub, a)


@settings(max_examples=20)
@given(
    n=st.tuples(st.integers(1, 1000), st.integers(1, 1000)),
    lam=st.tuples(st.floats(1e-4, 0.5, **_pos), st.floats(1e-4, 0.5, **_pos)),
    delta=st.tuples(st.floats(1e-9, 0.9, **_pos), st.floats(1e-9, 0.9, **_pos)),
    values=_symbol_values(),
    mode=st.sampled_from(["gd", "gf"]),
)
def test_width_bounds_monotone_symbolically(n, lam, delta, values, mode):
    """Same monotonicity on the spec's width bounds themselves (any n, not only data sets we
    can build): increasing in n, decreasing in λ0 and δ, for G22 Thm 3.1/3.2, Lemma 3.3 and
    Lemma 3.5/3.6 (hypothesis and explicit versions)."""
    spec = bounds.g22_spec(mode)
    (n1, n2), (l1, l2), (d1, d2) = sorted(n), sorted(lam), sorted(delta)
    for cond in spec.width_conditions():
        f = cond.bound.evaluate
        base = {**values, "n": float(n1), "lambda0": l1, "delta": d1}
        v = f(**base)
        assert f(**{**base, "n": float(n2)}) >= v * (1 - 1e-12), cond.name
        assert f(**{**base, "lambda0": l2}) <= v * (1 + 1e-12), cond.name
        assert f(**{**base, "delta": d2}) <= v * (1 + 1e-12), cond.name


def test_width_explicit_matches_movement_radius():
    """G22 Lemma 3.6 proof: at the explicit width ``8192 c²n‖X‖²‖e0‖²/λ0³`` the W-movement bound
    ``512 c n‖e0‖²/(λ0²√m)`` equals Lemma 3.4's radius ``R = λ0√m/(16c‖X‖²)`` (GF: 2048 and
    128) — the derivation quoted in the spec's docstring."""
    vals = {"n": 7.0, "lambda0": 0.13, "c": 2.3, "X_norm": 1.9, "e0_norm": 2.2}
    for mode in ("gd", "gf"):
        spec = bounds.g22_spec(mode)
        lem = "36" if mode == "gd" else "35"
        m = spec.bound(f"width_lemma{lem}_explicit").evaluate(**vals)
        move = spec.bound("W_move_max").evaluate(**vals, m=m)
        R = spec.bound("R").evaluate(**vals, m=m)
        assert math.isclose(move, R, rel_tol=1e-12), (mode, move, R)
    assert np.isfinite(m)
