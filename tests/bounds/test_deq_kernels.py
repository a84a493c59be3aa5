"""Infinite-width kernels of the G22 network (bounds.deq_kernels, digest C).

Oracles: scipy's bivariate normal CDF (Genz) for Φ₂; the order-1 / order-0 arc-cosine
kernels (γ → 0 limits, with the first-order term derived independently in the test);
Monte Carlo with a simultaneous CLT interval; the two evaluation paths against each other.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from bounds import InvalidArgument, SolverError, arccos_kernel, gram_infinity
from bounds._deq_quad import diag_map, pair_inner, phi2_nonneg
from bounds.deq_kernels import KernelStatus, deq_kernels, deq_kernels_mc

EPS = float(np.finfo(np.float64).eps)


def _unit(n: int, d: int, seed: int) -> np.ndarray:
    X = np.random.default_rng(seed).standard_normal((n, d))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def test_phi2_matches_scipy_including_zero_arguments() -> None:
    rng = np.random.default_rng(0)
    h = np.concatenate([[0.0, 0.0, 1.3, 0.0], rng.uniform(0, 4, 12)])
    k = np.concatenate([[0.0, 0.7, 0.0, 2.5], rng.uniform(0, 4, 12)])
    c = np.concatenate([[0.3, -0.6, 0.95, -0.99], rng.uniform(-0.999, 0.999, 12)])
    got = phi2_nonneg(h, k, c)
    ref = np.array([multivariate_normal.cdf([a, b], mean=[0, 0], cov=[[1, r], [r, 1]])
                    for a, b, r in zip(h, k, c, strict=True)])
    # scipy's Genz integration is accurate to ~1e-8 absolute by default (abseps=1e-5 is its
    # *requested* bound; observed agreement is far better); use its documented bound.
    assert np.max(np.abs(got - ref)) <= 1e-5


def test_inner_moment_at_zero_shift_is_arccos_kernel() -> None:
    c = np.linspace(-0.99, 0.99, 21)
    I, P = pair_inner(np.zeros_like(c), np.zeros_like(c), c)
    np.testing.assert_allclose(I, arccos_kernel(c), rtol=0, atol=20 * EPS)
    np.testing.assert_allclose(P, 0.25 + np.arcsin(c) / (2 * np.pi), rtol=0, atol=20 * EPS)


def test_diag_map_against_one_dimensional_monte_carlo() -> None:
    gamma, kappa, N = 0.4, 0.55, 400_000
    rng = np.random.default_rng(3)
    h = gamma * math.sqrt(kappa) * rng.standard_normal(N) + np.maximum(rng.standard_normal(N), 0)
    F, Ed, _ = diag_map(gamma, kappa, 64)
    for est, samp in ((F, np.maximum(h, 0) ** 2), (Ed, (h > 0).astype(float))):
        half = 4.0 * samp.std() / math.sqrt(N)  # |z| ≤ 4: two-sided level 1 − 6e-5
        assert abs(est - samp.mean()) <= half


@pytest.fixture(scope="module")
def small() -> tuple[np.ndarray, object]:
    X = _unit(6, 5, seed=1)
    return X, deq_kernels(X, 0.4, method="pairs")


def test_fixed_point_reports_and_structure(small) -> None:
    X, r = small
    assert r.status is KernelStatus.CONVERGED, r.message()
    assert r.residual <= 1e-12 and r.iterations <= 10
    assert 0 < r.contraction < 0.4**2  # γ²Ė with Ė < 1
    assert r.errors["quadrature"] <= 1e-8
    for M in (r.K, r.Edot, r.Edot_ah, r.Psi, r.H_A, r.H_W, r.H):
        assert np.array_equal(M, M.T)
    scale = np.linalg.norm(r.H, 2)
    # PSD and H∞ ⪰ G∞ (the other blocks are Hadamard products of PSD kernels); slack: rounding
    # of an n×n eigendecomposition (n·eps·‖H‖) plus the checked quadrature error per entry × n.
    slack = X.shape[0] * (EPS * scale + r.errors["quadrature"])
    assert np.linalg.eigvalsh(r.K)[0] >= -slack
    assert np.linalg.eigvalsh(r.H - r.G)[0] >= -slack
    assert r.lambda_min_H >= r.lambda0 - slack
    # Ψ solves Ψ = Ė(1 + γ²Ψ) entrywise
    np.testing.assert_allclose(r.Psi, r.Edot * (1 + 0.16 * r.Psi), rtol=10 * EPS, atol=0)
    np.testing.assert_array_equal(r.H, r.H_u + r.H_v + r.H_A + r.H_W)


def test_angular_path_equals_pairs_path() -> None:
    X = _unit(12, 7, seed=2)
    a = deq_kernels(X, 0.5, method="angular")
    b = deq_kernels(X, 0.5, method="pairs")
    assert a.status.ok and b.status.ok
    tol = a.errors["interpolation"] + a.errors["quadrature"] + b.errors["quadrature"] + 1e-13
    for M, N in ((a.K, b.K), (a.Edot, b.Edot), (a.Edot_ah, b.Edot_ah), (a.H, b.H)):
        assert np.max(np.abs(M - N)) <= 4 * tol


def test_quadrature_agrees_with_monte_carlo(small) -> None:
    X, r = small
    mc = deq_kernels_mc(X, 0.4, r.K, samples=200_000, seed=7, level=0.999)
    for key, quad in (("F", r.K), ("Edot", r.Edot), ("Edot_ah", r.Edot_ah)):
        dev = np.abs(mc.mean[key] - quad)
        # the interval is simultaneous over all entries of the three kernels (Bonferroni)
        assert np.all(dev <= mc.half[key] + r.errors["quadrature"]), (key, float(dev.max()))


def test_gamma_to_zero_limits() -> None:
    """K∞ → G∞ with the first-order term; Ė_ah → Ė_a (order-0 arc-cosine); H_W → 2XXᵀ∘Ė_a.

    First order (derived for this test): with a ≤ 0, σ(γg) = γg₊ and E[g₊] = √κ₀/√(2π),
    κ₀ = ½, and E[σ(a')1{a ≤ 0}] = (1 − ρ)/(2√(2π)); so K − G∞ = γ(1 − ρ)/(2π√2) + O(γ²).
    """
    X = _unit(5, 6, seed=1)
    C = np.clip(X @ X.T, -1, 1)
    np.fill_diagonal(C, 1.0)  # rows are unit only up to rounding; arccos would amplify it to √eps
    L1 = (1 - C) / (2 * math.pi * math.sqrt(2))
    Ea = (np.pi - np.arccos(C)) / (2 * np.pi)
    rem, dW = [], []
    for g in (0.04, 0.02):
        r = deq_kernels(X, g, method="pairs", accuracy=1e-6)
        assert r.status.ok, r.message()
        np.testing.assert_allclose(r.G, gram_infinity(X), atol=0, rtol=0)
        np.testing.assert_allclose(r.Edot_a, Ea, atol=8 * EPS, rtol=0)
        q = r.errors["quadrature"]
        rem.append(np.max(np.abs((r.K - r.G) / g - L1)) + q / g)
        dW.append(np.max(np.abs(r.H_W - 2 * (X @ X.T) * Ea)) + q)
    # remainders are O(γ): halving γ must (at least nearly) halve them
    assert rem[1] <= 0.6 * rem[0] and rem[0] <= 1.0 * 0.04
    assert dW[1] <= 0.6 * dW[0]


def test_no_fixed_point_is_a_status_or_raises() -> None:
    X = _unit(4, 3, seed=0)
    r = deq_kernels(X, 1.5)  # γ² > 2: F(κ) ≥ γ²κ/2 > κ, no fixed point
    assert r.status is KernelStatus.NO_FIXED_POINT and not r.converged
    assert np.isnan(r.K).all() and "no stable" in r.message()
    with pytest.raises(SolverError, match="no stable NNGP fixed point"):
        deq_kernels(X, 1.5, throw=True)
    r2 = deq_kernels(X, 0.9, max_iter=1)
    assert r2.status is KernelStatus.MAX_ITER
    with pytest.raises(SolverError, match="max_iter"):
        deq_kernels(X, 0.9, max_iter=1, throw=True)


@pytest.mark.parametrize(("kw", "match"), [
    ({"gamma": 0.0}, "gamma=0.0"),
    ({"gamma": "x"}, "gamma='x'"),
    ({"method": "fast"}, "method='fast'"),
    ({"order": 2}, "order=2"),
])
def test_bad_arguments(kw, match) -> None:
    args = {"X": _unit(3, 3, 0), "gamma": 0.3, **kw}
    with pytest.raises(InvalidArgument, match=match):
        deq_kernels(**args)


def test_bad_data() -> None:
    X = _unit(3, 3, 0)
    with pytest.raises(InvalidArgument, match="parallel"):
        deq_kernels(np.vstack([X, -X[:1]]), 0.3)
    with pytest.raises(InvalidArgument, match="zero"):
        deq_kernels(np.vstack([X, np.zeros((1, 3))]), 0.3)
    with pytest.raises(InvalidArgument, match="equal norm"):
        deq_kernels(np.vstack([X, 2 * _unit(1, 3, 5)]), 0.3, method="angular")


def test_order_doubles_until_the_check_passes() -> None:
    """Small γ: boundary layer ∝ γ at the kink; order 16 fails the doubling check, so it refines."""
    X = _unit(3, 4, seed=5)
    r = deq_kernels(X, 0.05, method="pairs", order=16, max_order=128)
    assert r.order > 16 and r.status is KernelStatus.CONVERGED, r.message()
    assert r.errors["quadrature"] <= 1e-8
    capped = deq_kernels(X, 0.05, method="pairs", order=16, max_order=16)
    assert capped.order == 16 and capped.status is KernelStatus.INACCURATE
