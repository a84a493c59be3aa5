"""The infinite-width Gram matrix G∞ and λ0 [G22 eq. 17, Lemma 3.2] (digest A §6)."""

from __future__ import annotations

import math

import numpy as np
import sympy as sp
from _helpers import EPS, lam_min
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats
from strategies import orthogonal_matrices, permutations, unit_data

import bounds

TERMS = st.sampled_from([0, 1, 2, 5, 20, 100])


@settings(max_examples=40)
@given(X=unit_data())
def test_gram_infinity_symmetric_psd_half_diagonal(X):
    """G22 eq. 17 / digest A §6: ``G∞ = E_w[σ(Xw)σ(Xw)ᵀ]`` is symmetric PSD, its diagonal is
    ``½`` on unit data, and ``λ0 = λ_min(G∞)`` satisfies ``0 < λ0 ≤ ½`` when no two samples are
    parallel (G22 Lemma 3.2 under Assumption 2)."""
    G = bounds.gram_infinity(X)
    n = X.shape[0]
    assert G.shape == (n, n) and G.dtype == np.float64
    assert np.array_equal(G, G.T)
    np.testing.assert_allclose(np.diag(G), 0.5, rtol=0, atol=1e-14)
    lam = bounds.lambda0(X)
    assert abs(lam - lam_min(G)) <= 1e-14
    assert 0.0 < lam <= 0.5 + 1e-14, lam
    # entries are E[σσ] of unit-variance Gaussians: in [0, ½], and 1/(2π) at orthogonality
    assert np.all(G >= -1e-15) and np.all(G <= 0.5 + 1e-15)


@settings(max_examples=40)
@given(X=unit_data(), K=TERMS)
def test_hermite_series_within_tail_bound(X, K):
    """G22 Lemma 3.2 proof (App. A.4): ``G∞ = Σ_k a_k² (XXᵀ)^{∘k}``. The series truncated after K
    terms differs from the closed form by at most ``T_K = hermite_tail_bound(K)`` per entry (unit
    rows), the remainder is PSD, hence ``λ_min(G_K) ≤ λ0 ≤ λ_min(G_K) + n·T_K``."""
    Gc = bounds.gram_infinity(X, method="closed")
    Gh = bounds.gram_infinity(X, method="hermite", terms=K)
    T = bounds.hermite_tail_bound(K)
    slack = 64 * EPS
    assert np.max(np.abs(Gc - Gh)) <= T + slack, (np.max(np.abs(Gc - Gh)), T)
    R = Gc - Gh
    assert lam_min(R) >= -slack * X.shape[0], lam_min(R)
    lam0, lamK = bounds.lambda0(X), lam_min(Gh)
    assert lamK - slack * X.shape[0] <= lam0 <= lamK + X.shape[0] * T + slack * X.shape[0]


@settings(max_examples=30)
@given(data=st.data(), X=unit_data(min_n=1))
def test_gram_infinity_invariances(data, X):
    """G22 eq. 17: ``G∞`` depends on the data only through the inner products
    (``w ~ N(0, I_d)`` is rotation invariant), so ``G∞(XQ) = G∞(X)`` for orthogonal Q, and
    permuting the samples permutes rows and columns: ``G∞(X[π]) = G∞(X)[π][:, π]``; λ0 is
    invariant under both."""
    n, d = X.shape
    Q = data.draw(orthogonal_matrices(d), label="Q")
    p = data.draw(permutations(n), label="perm")
    G = bounds.gram_infinity(X)
    np.testing.assert_allclose(bounds.gram_infinity(X @ Q), G, rtol=0, atol=1e-12)
    np.testing.assert_allclose(bounds.gram_infinity(X[p]), G[np.ix_(p, p)], rtol=0, atol=1e-15)
    lam = bounds.lambda0(X)
    assert abs(bounds.lambda0(X @ Q) - lam) <= 1e-12
    assert abs(bounds.lambda0(X[p]) - lam) <= 1e-12
    # the Hermite form shares the invariances
    Gh = bounds.gram_infinity(X, method="hermite", terms=20)
    np.testing.assert_allclose(bounds.gram_infinity(X @ Q, method="hermite", terms=20), Gh, rtol=0, atol=1e-12)


def _relu_pair_expectation(rho: float) -> float:
    """Independent oracle for ``E[σ(g₁)σ(g₂)]``, corr(g₁, g₂) = ρ, by 1-D quadrature:
    ``g₂ = ρg₁ + s g₃`` (s = √(1−ρ²)) and ``E[σ(a + s g)] = aΦ(a/s) + sφ(a/s)``."""
    s = math.sqrt(max(1.0 - rho * rho, 0.0))

    def inner(g1: float) -> float:
        a = rho * g1
        if s == 0.0:
            return max(a, 0.0)
        return a * stats.norm.cdf(a / s) + s * stats.norm.pdf(a / s)

    val, _ = integrate.quad(lambda g: g * inner(g) * stats.norm.pdf(g), 0.0, np.inf, epsabs=1e-13, epsrel=1e-12)
    return val


@settings(max_examples=20)
@given(rho=st.floats(-1.0, 1.0))
def test_arccos_closed_form_matches_quadrature(rho):
    """Digest A §6: the closed form ``(√(1−ρ²) + (π − arccos ρ)ρ)/(2π)`` (not printed in G22) is
    ``E[σ(g₁)σ(g₂)]`` for standard Gaussians of correlation ρ — checked against quadrature."""
    assert abs(bounds.arccos_kernel(rho) - _relu_pair_expectation(rho)) <= 1e-10


def _hermite_coefficient_exact(k: int) -> float:
    """Independent oracle for ``a_k = E[σ(g) He_k(g)]/√(k!)`` in exact arithmetic (sympy):
    expand ``He_k`` in monomials and use the half-line Gaussian moments
    ``∫_0^∞ x^j φ(x) dx = 2^{j/2} Γ((j+1)/2) / (2√π)``."""
    x = sp.Symbol("x")
    poly = sp.Poly(sp.hermite_prob(k, x), x)
    total = sp.Integer(0)
    for (j,), coef in poly.terms():
        p = j + 1  # the extra factor x from σ(x) = x on the half line
        total += coef * 2 ** sp.Rational(p, 2) * sp.gamma(sp.Rational(p + 1, 2)) / (2 * sp.sqrt(sp.pi))
    return float(sp.N(total / sp.sqrt(sp.factorial(k)), 30))


@settings(max_examples=15)
@given(k=st.integers(0, 14))
def test_relu_hermite_coefficients_match_exact(k):
    """G22 App. A.4: ``a_k = E[σ(g) h_k(g)]`` with ``h_k = He_k/√(k!)`` (ReLU has infinitely many
    non-zero even coefficients; odd ``k ≥ 3`` vanish); Parseval ``Σ a_k² = E σ(g)² = ½``."""
    a = bounds.relu_hermite_coefficients(14)
    val = _hermite_coefficient_exact(k)
    assert abs(a[k] - val) <= 1e-14, (k, a[k], val)
    if k >= 3 and k % 2 == 1:
        assert a[k] == 0.0
    if k % 2 == 0:
        assert a[k] != 0.0
    # Parseval: partial sums increase to ½
    tails = [bounds.hermite_tail_bound(K) for K in (0, 2, 10, 100, 1000)]
    assert all(t1 >= t2 for t1, t2 in zip(tails, tails[1:], strict=False))
    assert tails[-1] < 1e-4


@settings(max_examples=30)
@given(theta=st.floats(1e-4, math.pi / 2), d=st.integers(2, 6), data=st.data())
def test_lambda0_positive_iff_not_parallel(theta, d, data):
    """G22 Lemma 3.2 / Assumption 2: ``λ0 > 0`` for two non-parallel unit samples however small
    the angle θ (here down to 1e-4 rad), growing with θ; a parallel (or anti-parallel) pair
    makes G∞ singular (λ0 = 0), and ``audit_data`` flags exactly that pair. (An ANTI-parallel
    pair gives ``G∞ = ½I``, λ0 = ½: Assumption 2 forbids it although λ0 > 0 — the assumption is
    sufficient, not necessary.)"""
    Q = data.draw(orthogonal_matrices(d), label="Q")
    x = Q[0]
    y = math.cos(theta) * Q[0] + math.sin(theta) * Q[1]
    lam = bounds.lambda0(np.stack([x, y]))
    # two samples: λ0 = ½ − G∞_12 = ½ − (sin θ + (π − θ) cos θ)/(2π)
    expected = 0.5 - (math.sin(theta) + (math.pi - theta) * math.cos(theta)) / (2 * math.pi)
    assert lam > 0.0
    assert abs(lam - expected) <= 1e-12
    wider = bounds.lambda0(np.stack([x, math.cos(2 * theta) * Q[0] + math.sin(2 * theta) * Q[1]]))
    assert wider >= lam - 1e-15 or 2 * theta > math.pi / 2
    sign = data.draw(st.sampled_from([1.0, -1.0]), label="sign")
    par = np.stack([x, sign * x])
    if sign > 0:
        assert abs(bounds.lambda0(par)) <= 1e-14
    else:
        assert abs(bounds.lambda0(par) - 0.5) <= 1e-14
    audit = bounds.audit_data(par)
    assert audit.parallel_pairs == ((0, 1),) and not audit.ok
    assert bounds.audit_data(np.stack([x, y])).ok == (abs(math.cos(theta)) < 1 - 1e-12)
