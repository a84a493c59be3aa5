"""G∞ and λ0: closed form vs independent oracles (quadrature, Hermite series, Monte Carlo)."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pytest
import sympy as sp
from bounds_testdata import EPS, unit_data, unit_rows
from hypothesis import given
from numpy.polynomial import hermite_e as He
from numpy.polynomial import laguerre as La
from scipy import integrate, special, stats

from bounds import (
    InvalidArgument,
    arccos_kernel,
    gram_infinity,
    gram_infinity_mc,
    hermite_tail_bound,
    lambda0,
    relu_hermite_coefficients,
)


def _pair_quadrature(rho: float, a: float = 1.0, b: float = 1.0) -> float:
    """E[σ(a g1) σ(b g2)], corr(g1, g2) = ρ, by quadrature.

    Write g1 = z1, g2 = ρ z1 + s z2 (s = √(1−ρ²), z ~ N(0, I)).  The inner integral over z2
    is the elementary Gaussian identity ∫_c^∞ (ρz1 + s z2) φ(z2) dz2 = ρ z1 Q(c) + s φ(c),
    c = −ρ z1/s; the outer integral over z1 > 0 is smooth and done by adaptive quadrature.
    """
    s = math.sqrt(1.0 - rho * rho)

    def inner(z1: float) -> float:
        c = -rho * z1 / s
        return z1 * stats.norm.pdf(z1) * (rho * z1 * stats.norm.sf(c) + s * stats.norm.pdf(c))

    val, err = integrate.quad(inner, 0.0, np.inf, epsabs=1e-14, epsrel=1e-13, limit=200)
    assert err < 1e-11
    return a * b * val


def test_lambdified_kernel_equals_formula_typed_from_the_digest():
    rho = np.linspace(-1.0, 1.0, 2001)
    # digest A §6, typed independently here
    expected = (np.sqrt(1 - rho**2) + (np.pi - np.arccos(rho)) * rho) / (2 * np.pi)
    # a dozen float64 operations on values ≤ 1, each rounding by ≤ eps/2: 8 eps absolute
    np.testing.assert_allclose(arccos_kernel(rho), expected, rtol=0, atol=8 * EPS)
    assert arccos_kernel(1.0) == pytest.approx(0.5, abs=2 * EPS)
    assert arccos_kernel(-1.0) == pytest.approx(0.0, abs=2 * EPS)


@pytest.mark.parametrize("rho", [-0.99, -0.6, 0.0, 0.35, 0.8, 0.995])
@pytest.mark.parametrize("norms", [(1.0, 1.0), (0.3, 2.5)])
def test_closed_form_matches_2d_quadrature(rho, norms):
    a, b = norms
    X = np.array([[a, 0.0], [b * rho, b * math.sqrt(1 - rho * rho)]])
    G = gram_infinity(X)
    # quad is asked for 1e-14 absolute / 1e-13 relative and its error estimate is asserted
    # < 1e-11; times the norms product (≤ 1) plus rounding, 1e-10 is a safe margin
    assert G[0, 1] == pytest.approx(_pair_quadrature(rho, a, b), abs=1e-10)
    assert G[0, 0] == pytest.approx(a * a / 2, rel=4 * EPS)
    assert G[1, 1] == pytest.approx(b * b / 2, rel=4 * EPS)


def test_hermite_coefficients_match_exact_double_factorial_form():
    K = 40
    a = relu_hermite_coefficients(K)
    assert a[0] == pytest.approx(1 / math.sqrt(2 * math.pi), rel=2 * EPS)
    assert a[1] == 0.5
    assert np.all(a[3::2] == 0.0)
    for k in range(2, K + 1, 2):
        exact = sp.factorial2(k - 3) ** 2 / (2 * sp.pi * sp.factorial(k))  # ((k−3)!!)²/(2π k!)
        # gammaln/exp: relative error ≲ (sum of |log terms| ≈ 150 at k = 40)·eps ≈ 3e-14
        assert a[k] ** 2 == pytest.approx(float(exact), rel=1e-12), k


@pytest.mark.parametrize("k", list(range(0, 25)))
def test_hermite_coefficients_by_exact_gauss_laguerre_quadrature(k):
    """a_k = (2π k!)^{-1/2} ∫_0^∞ He_k(√(2u)) e^{−u} du  (u = x²/2).

    For even k the integrand is a polynomial of degree k/2 in u (Gauss–Laguerre with
    k/2 + 1 nodes is exact); for odd k it is u^{1/2}·(polynomial), exact for generalised
    Gauss–Laguerre with α = ½.  Only rounding remains.
    """
    coef = np.zeros(k + 1)
    coef[k] = 1.0
    N = k // 2 + 2
    if k % 2 == 0:
        u, w = La.laggauss(N)
        f = He.hermeval(np.sqrt(2 * u), coef)
    else:
        u, w = special.roots_genlaguerre(N, 0.5)
        f = He.hermeval(np.sqrt(2 * u), coef) / np.sqrt(u)
    scale = 1.0 / math.sqrt(2 * math.pi * math.factorial(k))
    quad = scale * float(np.sum(w * f))
    # rounding only: numpy's nodes/weights come from an eigenproblem plus a Newton step
    # (relative error O(N·eps)), and Horner of degree k adds O(k·eps) per term; with N, k ≤ 25
    # each term is off by ≤ 1024 eps relative, so the sum by ≤ 1024·eps·Σ|w f|
    tol = 1024 * EPS * scale * float(np.sum(np.abs(w * f)))
    assert relu_hermite_coefficients(k)[k] == pytest.approx(quad, abs=tol)


@pytest.mark.parametrize("k", [0, 1, 2, 3, 4, 5, 6, 10, 20])
def test_hermite_coefficients_against_gauss_hermite(k):
    """hermegauss on the kinked integrand σ(x)He_k(x).

    Odd k ≥ 1: σ(x)He_k(x) = (x He_k(x) + |x| He_k(x))/2; the first part is a polynomial
    (exact), the second is odd (cancels exactly on the symmetric nodes): exact up to rounding.
    Even k: the kink at 0 limits Gauss–Hermite to first order in the squared node spacing
    h² ∝ 1/N, so the error must fall like 1/N: halve when N doubles.
    """
    a_k = relu_hermite_coefficients(k)[k]
    coef = np.zeros(k + 1)
    coef[k] = 1.0
    errs = []
    for N in (50, 100, 200):
        x, w = He.hermegauss(N)
        q = float(np.sum(w * np.maximum(x, 0.0) * He.hermeval(x, coef)))
        q /= math.sqrt(2 * math.pi * math.factorial(k))
        errs.append(abs(q - a_k))
    if k % 2 == 1:
        # terms up to |He_k(x)|·w ≲ 1 summed over N = 200 nodes: 200·4 eps
        assert max(errs) <= 800 * EPS
    else:
        assert errs[0] <= 0.5 / 50
        for e1, e2 in pairwise(errs):
            assert 1.6 <= e1 / e2 <= 2.4  # first-order in 1/N


def test_hermite_tail_bound_is_nonnegative_decreasing_and_decays_like_K_to_minus_3_2():
    Ks = [10, 100, 1000, 10_000]
    T = [hermite_tail_bound(K) for K in Ks]
    assert all(t > 0 for t in T)
    assert all(t1 > t2 for t1, t2 in pairwise(T))
    # a_k² ∝ k^{-5/2} ⇒ T_K ∝ K^{-3/2}: a factor 10 in K divides T by 10^{1.5} ≈ 31.6.
    # If Σ a_k² were not ½ (Parseval, E[σ(g)²] = ½), T_K would tend to a non-zero constant.
    for t1, t2 in pairwise(T[1:]):
        assert t1 / t2 == pytest.approx(10**1.5, rel=0.05)


@pytest.mark.parametrize("K", [4, 20, 100, 400])
def test_hermite_series_within_documented_tail_bound(K):
    rng = np.random.default_rng(3)
    X = unit_rows(7, 4, seed=3) * rng.uniform(0.2, 3.0, size=(7, 1))
    norms = np.linalg.norm(X, axis=1)
    G_closed = gram_infinity(X)
    G_herm = gram_infinity(X, method="hermite", terms=K)
    # truncation ≤ ‖x_i‖‖x_j‖·T_K; rounding of K Hadamard products and sums: 4 K eps per unit
    bound = np.outer(norms, norms) * (hermite_tail_bound(K) + 4 * K * EPS)
    err = np.abs(G_closed - G_herm)
    assert np.all(err <= bound)
    # the remainder is a non-negative combination of even/odd powers: on the diagonal
    # (ρ = 1) all terms are positive, so the series is below the closed form there
    assert np.all(np.diag(G_herm) <= np.diag(G_closed) + 4 * K * EPS * norms**2)


def test_lambda0_bracketed_by_hermite_truncation():
    """λ_min(G_K) ≤ λ0 ≤ λ_min(G_K) + T_K Σ‖x_i‖² (the remainder is PSD with trace ≤ T_K Σ‖x_i‖²)."""
    X = unit_rows(9, 5, seed=11)
    lam = lambda0(X)
    for K in (10, 60):
        GK = gram_infinity(X, method="hermite", terms=K)
        lk = float(np.linalg.eigvalsh(GK)[0])
        # eigvalsh is backward stable: eigenvalue error ≤ c·n·eps·‖G‖ (‖G‖ ≤ n/2 here)
        slack = 8 * X.shape[0] ** 2 * EPS
        assert lk <= lam + slack
        assert lam <= lk + hermite_tail_bound(K) * X.shape[0] + slack


def test_monte_carlo_within_its_confidence_interval():
    X = unit_rows(5, 3, seed=5) * np.array([[1.0], [0.5], [2.0], [1.0], [1.5]])
    mean, half = gram_infinity_mc(X, samples=200_000, seed=7, level=0.99)
    G = gram_infinity(X)
    # simultaneous (Bonferroni) 99% CLT interval over the 15 distinct entries; fixed seed
    assert np.all(np.abs(mean - G) <= half)
    assert half.max() < 0.05  # the interval is informative, not vacuous
    assert np.allclose(mean, mean.T) and np.allclose(half, half.T)


@given(unit_data())
def test_unit_data_diagonal_is_half_and_gram_is_psd(X):
    G = gram_infinity(X)
    np.testing.assert_allclose(np.diag(G), 0.5, rtol=0, atol=4 * EPS)
    assert np.array_equal(G, G.T)
    assert np.linalg.eigvalsh(G)[0] >= -8 * X.shape[0] * EPS


@given(unit_data(max_abs_cos=0.99))
def test_lambda0_positive_for_non_parallel_data_with_paper_lower_bound(X):
    """G22 App. A.4: λ0 ≥ a_k² λ_min(C^{∘k}) ≥ a_k² (1 − (n−1)δ^k) for every k (Gershgorin on
    the Hadamard power, all other terms PSD), δ = max_{i≠j} |cos|."""
    n = X.shape[0]
    C = X @ X.T
    np.fill_diagonal(C, 0.0)
    dl = float(np.abs(C).max())
    K = 4000
    a2 = relu_hermite_coefficients(K) ** 2
    ks = np.arange(K + 1)
    lower = np.max(a2 * (1.0 - (n - 1) * dl**ks))
    lam = lambda0(X)
    assert lower > 0
    assert lam >= lower - 8 * n * EPS  # eigvalsh rounding, ‖G‖ ≤ n/2


def test_lambda0_decreases_to_zero_as_two_points_become_parallel():
    thetas = np.geomspace(1.0, 1e-6, 25)
    lams = []
    for th in thetas:
        X = np.array([[1.0, 0.0], [math.cos(th), math.sin(th)]])
        lams.append(lambda0(X))
    assert all(l1 > l2 for l1, l2 in pairwise(lams))  # strictly monotone along the path
    # n = 2: λ0 = ½ − f(cos θ), f'(1) = ½ ⇒ λ0 ≈ θ²/4 for small θ
    assert lams[-1] == pytest.approx(thetas[-1] ** 2 / 4, rel=1e-3, abs=64 * EPS)


def test_lambda0_of_larger_set_vanishes_with_a_nearly_parallel_pair():
    base = unit_rows(5, 4, seed=2)
    prev = None
    for eps in (1e-1, 1e-2, 1e-3, 1e-4):
        X = base.copy()
        v = base[0] + eps * base[1]
        X[4] = v / np.linalg.norm(v)
        G = gram_infinity(X)
        lam = lambda0(X)
        # Rayleigh quotient at (e_0 − e_4)/√2 bounds λ0 from above
        assert lam <= 0.5 * (G[0, 0] + G[4, 4]) - G[0, 4] + 8 * 5 * EPS
        if prev is not None:
            assert lam < prev
        prev = lam
    assert prev < 1e-7


def test_zero_row_gives_zero_row_and_lambda0_zero():
    X = np.array([[1.0, 0.0], [0.0, 0.0], [0.6, 0.8]])
    G = gram_infinity(X)
    assert np.all(G[1] == 0) and np.all(G[:, 1] == 0)
    assert abs(lambda0(X)) <= 8 * EPS


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: gram_infinity(np.eye(2), method="taylor"), "method"),
        (lambda: gram_infinity(np.eye(2), method="hermite", terms=-1), "terms"),
        (lambda: gram_infinity(np.eye(2), terms=5), "terms"),
        (lambda: gram_infinity(np.array([[1.0, np.nan]])), "X"),
        (lambda: gram_infinity(np.ones(3)), "X"),
        (lambda: lambda0(np.zeros((0, 3))), "X"),
        (lambda: gram_infinity_mc(np.eye(2), samples=1, seed=0), "samples"),
        (lambda: gram_infinity_mc(np.eye(2), samples=10, seed=0, level=1.5), "level"),
        (lambda: relu_hermite_coefficients(2.5), "terms"),
    ],
)
def test_bad_inputs_raise_invalid_argument_naming_the_argument(call, name):
    with pytest.raises(InvalidArgument, match=rf"^{name}="):
        call()
