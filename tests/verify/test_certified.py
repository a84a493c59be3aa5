"""Certified bounds really bound: random matrices and perturbations vs exact SVD / eigvalsh."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from bounds._errors import InvalidArgument
from verify import ImplicitNetwork, implicit_gradients, solve_forward
from verify.model.certified import (
    BoundKind,
    ContractionTracker,
    certify_lambda_min_above,
    lambda_min_bounds,
    spectral_norm,
    spectral_norm_lower,
    spectral_norm_upper,
)


def _svd_norm(M: torch.Tensor) -> float:
    return float(torch.linalg.matrix_norm(M.double(), ord=2))


def _rand(seed: int, shape: tuple[int, int], scale: float = 1.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(*shape, generator=g, dtype=torch.float64)


shapes = st.tuples(st.integers(1, 40), st.integers(1, 40))


@given(seed=st.integers(0, 10**6), shape=shapes, eps=st.floats(1e-8, 2.0))
def test_weyl_frobenius_upper_bounds_the_perturbed_norm(seed, shape, eps):
    ref = _rand(seed, shape)
    M = ref + _rand(seed + 1, shape, eps)
    ub = spectral_norm_upper(M, ref, spectral_norm(ref).value)
    assert ub.kind is BoundKind.UPPER and ub.bounds_above and not ub.bounds_below
    assert ub.value >= _svd_norm(M), (seed, shape, eps)


@given(seed=st.integers(0, 10**6), shape=shapes, rank=st.integers(1, 5))
def test_lower_bounds_are_below_the_norm_including_low_rank(seed, shape, rank):
    # Low-rank matrices are the hard case for ‖M‖_F/√min(shape) (it is tight at full rank).
    r = min(rank, *shape)
    M = _rand(seed, (shape[0], r)) @ _rand(seed + 1, (r, shape[1]))
    lb, x = spectral_norm_lower(M, iters=3, seed=seed)
    assert lb.kind is BoundKind.LOWER and lb.bounds_below
    assert lb.value <= _svd_norm(M), (seed, shape, rank)
    assert x.shape == (shape[1],)


def test_power_lower_bound_approaches_the_norm_with_iterations():
    M = _rand(3, (60, 50))
    exact = _svd_norm(M)
    lb, _ = spectral_norm_lower(M, iters=200)
    assert lb.method == "power"
    assert exact * (1 - 1e-3) <= lb.value <= exact


@given(seed=st.integers(0, 10**6), m=st.integers(2, 30), steps=st.integers(1, 25),
       size=st.floats(1e-6, 0.5), gt=st.floats(0.01, 0.5), width=st.floats(1e-3, 0.5))
def test_tracker_never_understates_the_contraction(seed, m, steps, size, gt, width):
    """Random walks of A: the tracker's value is ≥ γ̃‖A‖₂ (exact SVD) at every step."""
    tr = ContractionTracker(gt, rel_width=width)
    A = _rand(seed, (m, m))
    for k in range(steps):
        val = tr.update(A)
        exact = gt * _svd_norm(A)
        assert val.bounds_above
        assert val.value >= exact * (1 - 1e-14), (seed, m, k)  # EXACT: equal up to SVD rounding
        if val.kind is BoundKind.UPPER:
            assert val.value >= exact
            assert tr.lower is not None and tr.lower.value <= exact
            # the refresh rule keeps the relative width below rel_width
            assert val.value <= exact * (1 + width) * (1 + 1e-12)
        A = A + _rand(seed + 100 + k, (m, m), size / math.sqrt(m))


def test_tracker_refreshes_only_when_slack_is_lost():
    gt = 0.1 / math.sqrt(64)
    tr = ContractionTracker(gt, rel_width=0.05)
    A = _rand(0, (64, 64))
    assert tr.update(A).kind is BoundKind.EXACT
    # tiny moves: bounds, no SVD
    for k in range(5):
        A = A + 1e-4 * _rand(10 + k, (64, 64))
        assert tr.update(A).kind is BoundKind.UPPER
    assert tr.refreshes == 1
    # a large move loses the slack: exact again
    A = A + 0.5 * _rand(99, (64, 64))
    assert tr.update(A).kind is BoundKind.EXACT and tr.refreshes == 2


def test_tracker_refreshes_when_the_bound_straddles_the_limit():
    A = _rand(1, (20, 20))
    s = _svd_norm(A)
    gt = 0.999 / s  # ρ just below 1
    tr = ContractionTracker(gt, rel_width=0.5)
    tr.update(A)
    val = tr.update(A + 1e-3 * _rand(2, (20, 20)))
    assert val.kind is BoundKind.EXACT  # upper bound would be ≥ 1 > lower bound: decided exactly
    assert tr.refreshes == 2


def test_tracker_in_place_updates_and_nonfinite():
    A = _rand(5, (8, 8))
    tr = ContractionTracker(0.1)
    tr.update(A)
    A.mul_(1.5)  # the tracker's reference is a copy
    assert tr.update(A).value >= 0.1 * _svd_norm(A)
    A[0, 0] = float("nan")
    v = tr.update(A)
    assert math.isnan(v.value) and v.method == "nonfinite"
    with pytest.raises(InvalidArgument, match="^gamma_tilde="):
        ContractionTracker(-0.1)
    with pytest.raises(InvalidArgument, match="^A="):
        tr.update(torch.zeros(3, 3, dtype=torch.float64))


def test_state_with_tracker_matches_state_with_svd():
    net = ImplicitNetwork.init(48, 5, 0.3, 2)
    g = torch.Generator().manual_seed(7)
    X = torch.randn(12, 5, generator=g, dtype=torch.float64)
    X = X / X.norm(dim=1, keepdim=True)
    y = torch.randn(12, generator=g, dtype=torch.float64)
    tr = ContractionTracker(net.gamma_tilde)
    tr.update(net.A)
    with torch.no_grad():
        net.A.add_(1e-3 * torch.randn(48, 48, generator=g, dtype=torch.float64))
    st_exact = net.state(X, y)
    st_bound = net.state(X, y, contraction=tr.update(net.A))
    assert st_bound.fwd.contraction_kind == "upper_bound" == st_bound.adj.contraction_kind
    assert st_exact.fwd.contraction_kind == "exact"
    assert st_bound.fwd.contraction >= st_exact.fwd.contraction
    assert torch.equal(st_bound.Z, st_exact.Z) and torch.equal(st_bound.B, st_exact.B)
    lb = tr.lower
    assert lb is not None
    with pytest.raises(InvalidArgument, match="^contraction="):
        solve_forward(net.A, st_exact.Phi, net.gamma_tilde, contraction=lb)


def test_warm_started_adjoint_gives_the_same_gradients():
    """b0 = previous step's B: same B and gradients within the solver's error bound."""
    n, m, d, gamma = 16, 64, 6, 0.4
    net = ImplicitNetwork.init(m, d, gamma, 3)
    g = torch.Generator().manual_seed(4)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    X = X / X.norm(dim=1, keepdim=True)
    y = torch.randn(n, generator=g, dtype=torch.float64)
    prev = net.state(X, y)
    grads = implicit_gradients(net, X, y, state=prev)
    with torch.no_grad():
        for k, v in grads.items():
            getattr(net, k).sub_(0.05 * v)
    cold = net.state(X, y)
    warm = net.state(X, y, z0=prev.Z, b0=prev.B)
    assert warm.ok and cold.ok
    assert warm.adj.iterations < cold.adj.iterations
    # both B's are within residual·s·ρ/(1−ρ) of the fixed point (module docstring of the solver)
    rho = cold.adj.contraction
    s = float(torch.linalg.vector_norm(cold.D * net.u.detach()))
    err = (cold.adj.residual + warm.adj.residual) * s * rho / (1 - rho)
    assert float(torch.linalg.vector_norm(warm.B - cold.B)) <= err * (1 + 1e-6) + 1e-14
    gw = implicit_gradients(net, X, y, state=warm)
    gc = implicit_gradients(net, X, y, state=cold)
    for k in gc:
        scale = float(gc[k].abs().max())
        assert float((gw[k] - gc[k]).abs().max()) <= 1e-9 * max(scale, 1.0), k


@given(seed=st.integers(0, 10**6), n=st.integers(3, 40), shift=st.floats(-5, 5))
def test_lambda_min_interval_contains_the_eigenvalue(seed, n, shift):
    B = _rand(seed, (n, n))
    S = B @ B.T / n + shift * torch.eye(n, dtype=torch.float64)
    lam = float(torch.linalg.eigvalsh(S)[0])
    iv = lambda_min_bounds(S)
    assert iv.lower.bounds_below and iv.upper.bounds_above
    assert iv.lower.value <= lam <= iv.upper.value, (seed, n, shift, iv)
    assert iv.upper.value - iv.lower.value <= 1e-6 * max(1.0, float(torch.linalg.matrix_norm(S)))


def test_lambda_min_warm_start_and_fallback():
    S = _rand(8, (50, 50))
    S = S @ S.T
    iv = lambda_min_bounds(S)
    assert iv.lower.method == "cholesky_shift" and iv.upper.method == "rayleigh"
    S2 = S + 1e-4 * torch.eye(50, dtype=torch.float64)
    iv2 = lambda_min_bounds(S2, v0=iv.vector)
    lam = float(torch.linalg.eigvalsh(S2)[0])
    assert iv2.lower.value <= lam <= iv2.upper.value
    # an absurd margin makes the Cholesky test impossible to fail, a negative one forces the
    # shift above λ_min, so the dense fallback answers
    iv3 = lambda_min_bounds(S, margin=-10.0 * float(np.linalg.norm(S.numpy())))
    assert iv3.lower.method == "eigvalsh"
    lam0 = float(torch.linalg.eigvalsh(S)[0])
    assert iv3.lower.value <= lam0 <= iv3.upper.value
    small = lambda_min_bounds(torch.tensor([[2.0, 1.0], [1.0, 2.0]], dtype=torch.float64))
    assert small.lower.value <= 1.0 <= small.upper.value


@given(seed=st.integers(0, 10**6), n=st.integers(1, 30), frac=st.floats(-0.5, 1.5))
def test_cholesky_certificate_is_sound(seed, n, frac):
    B = _rand(seed, (n, n))
    S = B @ B.T / n + 0.01 * torch.eye(n, dtype=torch.float64)
    lam = float(torch.linalg.eigvalsh(S)[0])
    cert = certify_lambda_min_above(S, frac * lam)
    if cert is not None:
        assert cert.kind is BoundKind.LOWER and cert.value <= lam
    if frac <= 0.9:  # clearly below λ_min: the factorisation must succeed
        assert cert is not None
