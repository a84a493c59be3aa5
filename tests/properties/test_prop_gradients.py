"""Implicit gradients [G22 Lemma 2.3] against central finite differences and torch autograd."""

from __future__ import annotations

import math

import numpy as np
import torch
from _helpers import to_np, well_posed_net
from hypothesis import assume, given, settings
from strategies import data_and_labels, gamma_fractions, seeds, widths

import verify


def _exact_state(A, W, u, v, gamma, X, y):
    """Loss and activation patterns from an independent dense solve (numpy).

    Picard (verify) only supplies the pattern; the equilibrium is then re-solved exactly on
    that pattern, ``z_i = (I − γ̃ D_i A)^{-1} D_i φ_i``, and checked for consistency, so the
    finite differences below are not polluted by the solver tolerance.
    """
    m = A.shape[0]
    gt = gamma / math.sqrt(m)
    pre_W = X @ W.T
    Phi = np.maximum(pre_W, 0.0) / math.sqrt(m)
    res = verify.solve_forward(torch.as_tensor(A), torch.as_tensor(Phi), gt, tol=1e-13, max_iter=100_000)
    assert res.converged, res.message()
    Z = to_np(res.value)
    D = (gt * Z @ A.T + Phi) > 0
    Zx = np.empty_like(Z)
    for i in range(X.shape[0]):
        Di = np.diag(D[i].astype(np.float64))
        Zx[i] = np.linalg.solve(np.eye(m) - gt * Di @ A, Di @ Phi[i])
    D2 = (gt * Zx @ A.T + Phi) > 0
    e = Zx @ u + Phi @ v - y
    return 0.5 * float(e @ e), (pre_W > 0), D, bool(np.array_equal(D, D2))


@settings(max_examples=25)
@given(
    Xy=data_and_labels(),
    m=widths(1, 16),
    seed=seeds(),
    frac=gamma_fractions(0.05, 0.9),
    dir_seed=seeds(),
)
def test_implicit_gradients_match_central_differences(Xy, m, seed, frac, dir_seed):
    """G22 Lemma 2.3 (gradients): ``∇_u L = Σe_i z_i``, ``∇_v L = Σe_i φ_i``,
    ``∇_A L = Σ γ̃ e_i b_i z_iᵀ``, ``∇_W L = Σ m^{-1/2} e_i E_i(b_i + v)x_iᵀ`` — as computed by
    ``verify.implicit_gradients`` — equal central finite differences of the loss along a random
    direction in each parameter block (inside one activation region, where L is smooth)."""
    X, y = Xy
    net = well_posed_net(m, X.shape[1], seed, frac)
    grads = {k: to_np(g) for k, g in verify.implicit_gradients(net, X, y).items()}
    P = {k: to_np(t) for k, t in net.parameters_dict().items()}
    L0, E0, D0, consistent = _exact_state(P["A"], P["W"], P["u"], P["v"], net.gamma, X, y)
    assume(consistent)
    rng = np.random.default_rng(dir_seed)
    for name in ("A", "W", "u", "v"):
        V = rng.standard_normal(P[name].shape)
        V /= np.linalg.norm(V)
        fd = None
        for h in (1e-5, 1e-6, 1e-7):  # shrink h until both probes stay in the same region
            probes = []
            for sgn in (+1.0, -1.0):
                Q = dict(P)
                Q[name] = P[name] + sgn * h * V
                Lp, Ep, Dp, ok = _exact_state(Q["A"], Q["W"], Q["u"], Q["v"], net.gamma, X, y)
                probes.append((Lp, ok and np.array_equal(Ep, E0) and np.array_equal(Dp, D0)))
            if probes[0][1] and probes[1][1]:
                fd = (probes[0][0] - probes[1][0]) / (2 * h)
                break
        assume(fd is not None)
        analytic = float(np.sum(grads[name] * V))
        scale = abs(fd) + float(np.linalg.norm(grads[name])) + L0 + 1e-3
        assert abs(analytic - fd) <= 1e-6 * scale, (name, analytic, fd)


@settings(max_examples=25)
@given(Xy=data_and_labels(), m=widths(1, 32), seed=seeds(), frac=gamma_fractions())
def test_implicit_gradients_match_autograd(Xy, m, seed, frac):
    """G22 Lemma 2.3: the closed-form gradients equal torch autograd through the network's
    implicit-function backward (one adjoint solve ``b = D(g + γ̃Aᵀb)``)."""
    X, y = Xy
    net = well_posed_net(m, X.shape[1], seed, frac)
    grads = verify.implicit_gradients(net, X, y)
    net.zero_grad()
    loss = net.loss(X, y)
    loss.backward()
    for name in ("A", "W", "u", "v"):
        auto = getattr(net, name).grad
        assert auto is not None, name
        g = grads[name]
        err = float(torch.linalg.vector_norm(auto - g))
        scale = float(torch.linalg.vector_norm(g)) + float(loss.detach()) + 1.0
        assert err <= 1e-9 * scale, (name, err, scale)
