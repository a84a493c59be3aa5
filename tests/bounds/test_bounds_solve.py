"""Solvers: required width (fixed point in c(m)), γ and step limits, known-issue numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from bounds_testdata import EPS, unit_rows
from hypothesis import given
from hypothesis import strategies as st

from bounds import (
    InvalidArgument,
    NormConstant,
    g22_spec,
    gamma_max,
    init_norm_tension,
    initial_residual_estimate,
    lambda0,
    norm_constant_tail,
    required_width,
    step_max,
)

X20 = unit_rows(20, 6, seed=21)


@pytest.mark.parametrize("mode", ["gd", "gf"])
def test_required_width_is_the_smallest_admissible_integer(mode):
    """Defining property: m* ≥ bound(m*, c(m*)) and m* − 1 < bound(m* − 1, c(m* − 1))."""
    r = required_width(X20, delta=0.05, mode=mode)
    spec = g22_spec(mode)
    base = dict(n=20.0, d=6.0, delta=0.05, lambda0=r.lambda0, X_norm=r.X_norm, e0_norm=r.e0_norm)
    for e in r.entries:
        b = spec.condition(e.name).bound
        m = e.width
        assert m == int(m) and m > 1
        ok = m >= b.evaluate(**base, m=m, c=norm_constant_tail(int(m), 6, 0.05))
        prev_ok = (m - 1) >= b.evaluate(**base, m=m - 1, c=norm_constant_tail(int(m - 1), 6, 0.05))
        assert ok and not prev_ok, e.name
        assert e.c == norm_constant_tail(int(m), 6, 0.05)
    assert r.m == max(e.width for e in r.entries)
    assert r.binding == max(r.entries, key=lambda e: e.width).name
    assert r.entry(r.binding_printed).provenance in ("paper", "hidden")


def test_required_width_with_fixed_c_matches_hand_formulas():
    """Digest A §7 formulas typed here; with c fixed there is no fixed point: m* = ⌈bound⌉."""
    lam = lambda0(X20)
    Xn = float(np.linalg.norm(X20, 2))
    r = required_width(X20, delta=0.01, c=2.5, e0_norm=6.0)
    ln = math.log(20 / 0.01)
    assert r.entry("width_thm32").width == math.ceil(400 / lam * ln)
    assert r.entry("width_lemma33").width == math.ceil(400 / lam**2 * ln)
    assert r.entry("width_lemma36").width == math.ceil(2.5**2 * 20 * Xn**2 * 36 / lam**3)
    assert r.entry("width_lemma36_explicit").width == math.ceil(8192 * 2.5**2 * 20 * Xn**2 * 36 / lam**3)
    assert r.c_source == "given" and r.e0_source == "given"
    r2 = required_width(X20, delta=0.01, c=NormConstant(2.5, "given"), e0_norm=6.0,
                        hidden={"C_width_lemma": 8192})
    assert r2.entry("width_lemma36").width == r.entry("width_lemma36_explicit").width


def test_required_width_monotone_in_n_lambda0_and_delta():
    X = unit_rows(40, 8, seed=3)
    kw = dict(e0_norm=5.0, lambda0=0.05)
    by_n = [required_width(X[:n], **kw) for n in (5, 10, 20, 40)]
    for a, b in zip(by_n, by_n[1:], strict=False):
        for ea, eb in zip(a.entries, b.entries, strict=True):
            assert eb.width >= ea.width, ea.name  # ‖X_sub‖ also grows with n
    by_lam = [required_width(X, e0_norm=5.0, lambda0=lam) for lam in (0.01, 0.05, 0.2)]
    for a, b in zip(by_lam, by_lam[1:], strict=False):
        assert all(eb.width < ea.width for ea, eb in zip(a.entries, b.entries, strict=True))
    by_delta = [required_width(X, delta=dl, **kw) for dl in (0.5, 0.1, 0.01, 1e-4)]
    for a, b in zip(by_delta, by_delta[1:], strict=False):
        # every condition depends on δ, through log(n/δ) or through c(m, d, δ)
        assert all(eb.width > ea.width for ea, eb in zip(a.entries, b.entries, strict=True))


def test_required_width_for_parallel_data_is_infinite_not_an_error():
    X = unit_rows(4, 3, seed=1)
    X[3] = X[0]
    r = required_width(X)
    assert all(math.isinf(e.width) for e in r.entries)
    assert r.notes and "λ0" in r.notes[0]
    assert r.to_dict()["value"] is None


@given(c1=st.floats(1e-3, 1e3), c2=st.floats(1e-3, 1e3))
def test_gamma_max_is_nonincreasing_in_c(c1, c2):
    lo, hi = sorted((c1, c2))
    assert gamma_max(lo) >= gamma_max(hi)
    assert gamma_max(lo) == pytest.approx(min(0.5, 1 / (4 * lo)), rel=EPS)


def test_step_max():
    assert step_max(0.1, 10) == pytest.approx(0.1 / 100, rel=EPS)
    assert step_max(0.1, 10, C_step=3.0) == pytest.approx(0.003, rel=EPS)
    with pytest.raises(InvalidArgument, match="^lambda0="):
        step_max(0.0, 10)
    with pytest.raises(InvalidArgument, match="^c="):
        gamma_max(-1.0)


def test_init_norm_tension_with_fixed_c_matches_hand_formula():
    """At t = 0, ‖u(0)‖ = √m ≤ K c√n‖e0‖/λ0 ⟺ m ≤ (K c√n‖e0‖/λ0)²."""
    lam = lambda0(X20)
    T = init_norm_tension(X20, c=2.5, e0_norm=6.0)
    Ks = {"lemma36_ii": 32, "lemma36_iii": 16, "lemma35_ii": 16, "lemma35_iii": 8}
    for e in T.entries:
        K = Ks[e.claim]
        assert e.constant == K
        assert e.m_max == math.floor((K * 2.5 * math.sqrt(20) * 6.0 / lam) ** 2)
        assert e.conflict == (e.m_max < e.required_width)
    assert T.lambda_ratio == pytest.approx(1 / lam, rel=8 * EPS)  # λ0² as needed vs λ0 as printed
    # with the explicit (derived) lemma constant the claims (ii) can never hold at t = 0:
    # 8192 c² n‖X‖²‖e0‖²/λ0³ > (32 c√n‖e0‖/λ0)² ⟺ 8‖X‖²/λ0 > 1, true for unit data
    assert all(e.conflict for e in T.entries)


def test_init_norm_tension_with_tail_c_is_a_fixed_point():
    T = init_norm_tension(X20, delta=0.05)

    def allowed(K: float, m: float) -> float:
        return K * norm_constant_tail(int(m), 6, 0.05) * math.sqrt(20) * T.e0_norm / T.lambda0

    for e in T.entries:
        m = e.m_max
        assert math.sqrt(m) <= allowed(e.constant, m) and math.sqrt(m + 1) > allowed(e.constant, m + 1)


def test_initial_residual_estimate_bounds_the_expectation_at_init():
    """E‖e0‖² ≤ ‖y‖² + (25/18)‖X‖_F² for the G22 initialisation with γ̃‖A(0)‖ ≤ ¼.

    Monte Carlo over initialisations (numpy forward pass, Picard iteration to 1e-13);
    tolerance: 3 standard errors of the mean.
    """
    X = unit_rows(4, 3, seed=6)
    y = np.array([1.0, -1.0, 0.5, 0.0])
    est, src = initial_residual_estimate(X, y)
    assert "estimate" in src
    assert est**2 == pytest.approx(np.sum(y**2) + 25 / 18 * 4, rel=4 * EPS)
    m, gamma, draws = 200, 0.1, 300
    # the estimate's hypothesis γ̃‖A(0)‖ ≤ ¼ holds whenever ‖A(0)‖ ≤ c√m with γc ≤ ¼; the tail
    # bound gives such a c except with probability 1e-9 per draw
    assert gamma * norm_constant_tail(m, 3, 1e-9) <= 0.25
    rng = np.random.default_rng(0)
    vals = []
    gt = gamma / math.sqrt(m)
    for _ in range(draws):
        A = rng.standard_normal((m, m))
        W = rng.standard_normal((m, 3))
        u = rng.choice([-1.0, 1.0], m)
        v = rng.choice([-1.0, 1.0], m)
        Phi = np.maximum(X @ W.T, 0.0) / math.sqrt(m)
        Z = np.zeros_like(Phi)
        for _ in range(200):
            Z_new = np.maximum(gt * Z @ A.T + Phi, 0.0)
            if np.max(np.abs(Z_new - Z)) < 1e-13:
                break
            Z = Z_new
        yhat = Z_new @ u + Phi @ v
        vals.append(float(np.sum((yhat - y) ** 2)))
    vals = np.array(vals)
    se = vals.std(ddof=1) / math.sqrt(draws)
    assert vals.mean() <= est**2 + 3 * se
    # without labels |y_i| = 1 is assumed and said so
    est0, src0 = initial_residual_estimate(X)
    assert est0**2 == pytest.approx(4 + 25 / 18 * 4, rel=4 * EPS) and "|y_i| = 1" in src0


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(delta=0.0), "delta"),
        (dict(delta=1.5), "delta"),
        (dict(e0_norm=-1.0), "e0_norm"),
        (dict(c=0.0), "c"),
        (dict(hidden={"C_wdth": 2.0}), "hidden"),
        (dict(hidden={"C_width": -2.0}), r"hidden\['C_width'\]"),
        (dict(mode="sgd"), "mode"),
        (dict(y=np.ones(3)), "y"),
    ],
)
def test_required_width_bad_inputs(kwargs, name):
    with pytest.raises(InvalidArgument, match=rf"^{name}="):
        required_width(X20, **kwargs)
