"""Well-posedness of the implicit layer: G22 Lemma 2.2 and Lemma 2.3(ii) (digest A §4–§5)."""

from __future__ import annotations

import math

import numpy as np
import torch
from _helpers import EPS, op_norm, to_np, well_posed_net
from hypothesis import given, settings, target
from hypothesis import strategies as st
from strategies import (
    activation_patterns,
    gamma_fractions,
    gaussian_matrices,
    seeds,
    unit_data,
    widths,
)

import verify


@settings(max_examples=30)
@given(
    X=unit_data(),
    m=widths(1, 32),
    seed=seeds(),
    frac=gamma_fractions(),
    tol=st.sampled_from([1e-6, 1e-9, 1e-12]),
)
def test_picard_converges_within_predicted_iterations(X, m, seed, frac, tol):
    """G22 Lemma 2.2: when ``ρ = γ̃‖A‖ < 1`` the layer map is a ρ-contraction, so Picard from
    ``z⁰ = 0`` converges geometrically — relative residual after p evaluations ≤ ρ^{p−1} — and
    stops within ``verify.predicted_iterations(ρ, tol)`` evaluations; the iterates obey
    ``‖z_i‖ ≤ ‖φ_i‖/(1 − ρ)``."""
    net = well_posed_net(m, X.shape[1], seed, frac)
    Phi = net.features(X).detach()
    res = verify.solve_forward(net.A.detach(), Phi, net.gamma_tilde, tol=tol, max_iter=100_000)
    rho = res.contraction
    assert 0.0 <= rho <= frac * (1 + 1e-12)
    assert res.converged, res.message()
    budget = verify.predicted_iterations(rho, tol) if rho > 0 else 1
    assert res.iterations <= budget, (res.iterations, budget, rho)
    # geometric decay of the relative residual (Lemma 2.2 applied to successive differences)
    slack = 64 * EPS / (1.0 - rho)
    for p, r in enumerate(res.history, start=1):
        assert r <= rho ** (p - 1) + slack, (p, r, rho)
    # ‖z_i‖ ≤ ‖φ_i‖ / (1 − ρ)
    z_norms = torch.linalg.vector_norm(res.value, dim=1)
    phi_norms = torch.linalg.vector_norm(Phi, dim=1)
    assert bool(torch.all(z_norms <= phi_norms / (1.0 - rho) * (1 + 1e-12) + 1e-15))


@settings(max_examples=30)
@given(
    X=unit_data(),
    m=widths(1, 12),
    seed=seeds(),
    frac=gamma_fractions(),
    start_seed=seeds(),
    start_scale=st.floats(0.0, 100.0),
)
def test_fixed_point_unique_from_any_start(X, m, seed, frac, start_seed, start_scale):
    """G22 Lemma 2.2 (existence and uniqueness of ``z*`` when ``γ̃‖A‖ < 1``): Picard from 0,
    Picard from an arbitrary start, Anderson, and the direct pattern solve all return the same
    equilibrium, within the a-posteriori error bound ``‖x − z*‖ ≤ residual·s·ρ/(1 − ρ)`` of each
    solve."""
    net = well_posed_net(m, X.shape[1], seed, frac)
    A = net.A.detach()
    Phi = net.features(X).detach()
    gt = net.gamma_tilde
    z0 = torch.as_tensor(
        np.random.default_rng(start_seed).standard_normal(tuple(Phi.shape)) * start_scale, dtype=Phi.dtype
    )
    tol = 1e-12
    r0 = verify.solve_forward(A, Phi, gt, tol=tol, max_iter=100_000)
    r1 = verify.solve_forward(A, Phi, gt, tol=tol, max_iter=100_000, z0=z0)
    r2 = verify.solve_forward(A, Phi, gt, tol=tol, max_iter=2_000, method="anderson")
    rd = verify.solve_forward_direct(A, Phi, gt)
    assert r0.converged, r0.message()
    assert r1.converged, r1.message()
    assert rd.converged, rd.message()
    rho = r0.contraction
    s = float(torch.linalg.vector_norm(torch.relu(Phi))) or 1.0  # the solver's scale (1 when Φ = 0)
    k = rho / (1.0 - rho)

    def bound(r):
        return r.residual * s * k + 1e3 * EPS * (s / (1.0 - rho) + 1.0)

    Z0 = r0.value
    assert float(torch.linalg.vector_norm(r1.value - Z0)) <= bound(r0) + bound(r1)
    assert float(torch.linalg.vector_norm(rd.value - Z0)) <= bound(r0) + 1e3 * EPS * (s / (1 - rho) + 1)
    if r2.converged:  # Anderson has no convergence guarantee; when it converges it must agree
        assert float(torch.linalg.vector_norm(r2.value - Z0)) <= bound(r0) + bound(r2)
    # the equilibrium equation itself
    F = torch.relu(gt * (Z0 @ A.T) + Phi)
    assert float(torch.linalg.vector_norm(F - Z0)) <= r0.residual * s + 1e3 * EPS * (s + 1)


@settings(max_examples=100)
@given(data=st.data(), m=st.integers(1, 10), gamma=st.floats(1e-3, 0.999))
def test_sigma_min_lower_bound_any_pattern(data, m, gamma):
    """G22 Lemma 2.3(ii): for ANY activation pattern D (a 0/1 diagonal),
    ``σ_min(I − γ̃ D A) ≥ 1 − γ̃‖A‖₂``; hypothesis draws A, γ and D and is steered
    (``target``) towards patterns where the bound is tightest."""
    A = data.draw(gaussian_matrices(m, m), label="A")
    D = data.draw(activation_patterns(1, m), label="D")[0]
    gt = gamma / math.sqrt(m)
    rho = gt * op_norm(A)
    M = np.eye(m) - gt * (D[:, None] * A)
    smin = float(np.linalg.svd(M, compute_uv=False).min())
    lower = 1.0 - rho
    if lower > 0:
        target(lower / max(smin, 1e-300), label="(1 − γ̃‖A‖)/σ_min")
    assert smin >= lower - 1e3 * EPS * (1.0 + rho), (smin, lower)


@settings(max_examples=30)
@given(X=unit_data(), m=widths(1, 24), seed=seeds(), frac=gamma_fractions())
def test_adjoint_matches_closed_form(X, m, seed, frac):
    """G22 Lemma 2.3: the adjoint vectors ``b_i`` solving ``b = D_i(u + γ̃Aᵀb)`` equal the closed
    form ``D_i (I − γ̃ D_i A)^{-T} u`` (which exists by Lemma 2.3(ii) when ``γ̃‖A‖ < 1``)."""
    net = well_posed_net(m, X.shape[1], seed, frac)
    y = np.zeros(X.shape[0])
    st_ = net.state(X, y)
    assert st_.ok, (st_.fwd.message(), st_.adj.message())
    A, u = to_np(net.A), to_np(net.u)
    D, B = to_np(st_.D), to_np(st_.B)
    gt = net.gamma_tilde
    rho = gt * op_norm(A)
    for i in range(X.shape[0]):
        Di = np.diag(D[i])
        b = Di @ np.linalg.solve((np.eye(m) - gt * Di @ A).T, u)
        err = float(np.linalg.norm(B[i] - b))
        scale = float(np.linalg.norm(D[i] * u)) / (1.0 - rho)
        assert err <= 1e-10 * (scale + 1.0), (i, err, scale)
