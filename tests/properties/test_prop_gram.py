"""Empirical NTK of the implicit network: G22 Lemma 3.1, eq. 14–16 (digest A §6, §9 items 1–2)."""

from __future__ import annotations

import numpy as np
from _helpers import EPS, lam_min, to_np, well_posed_net
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import data_and_labels, gamma_fractions, seeds, widths

import verify


def _fro(M) -> float:
    return float(np.linalg.norm(to_np(M)))


@settings(max_examples=20)
@given(
    Xy=data_and_labels(),
    m=widths(1, 12),
    seed=seeds(),
    frac=gamma_fractions(0.05, 0.8),
    method=st.sampled_from(["unrolled", "autograd"]),
)
def test_structured_ntk_equals_jacobian_gram(Xy, m, seed, frac, method):
    """G22 Lemma 3.1 / eq. 14 (corrected: 𝟙𝟙ᵀ, transpose-inverse): the structured
    ``H = (γ²M + 𝟙𝟙ᵀ)∘ZZᵀ + Q∘XXᵀ + ΦΦᵀ`` computed in O(n²m) by ``verify.gram_blocks`` equals
    ``JJᵀ`` from the explicit Jacobian of ŷ in (A, W, u, v) — block by block — with the Jacobian
    taken through unrolled Picard steps (independent of the adjoint code) or autograd."""
    X, y = Xy
    net = well_posed_net(m, X.shape[1], seed, frac)
    st_ = net.state(X, y)
    gb = verify.gram_blocks(net, st_)
    H_ref, blocks = verify.jacobian_gram(net, X, method=method)
    scale = _fro(gb.H) + 1e-300
    assert _fro(gb.H - H_ref) <= 1e-9 * scale, (_fro(gb.H - H_ref), scale)
    for name, Hb in gb.blocks().items():
        assert _fro(Hb - blocks[name]) <= 1e-9 * scale, name


@settings(max_examples=30)
@given(Xy=data_and_labels(), m=widths(1, 64), seed=seeds(), frac=gamma_fractions())
def test_ntk_loewner_order(Xy, m, seed, frac):
    """G22 Lemma 3.1 and §6: ``H ⪰ K = ZZᵀ + ΦΦᵀ ⪰ G = ΦΦᵀ ⪰ 0`` (Schur product theorem: the
    A- and W-blocks are Hadamard products of PSD matrices), with ``G = ΦΦᵀ`` and ``K`` as
    defined, and ``λ_min`` of each ordered the same way; ``verify.lambda_min`` agrees with an
    independent eigen-solve."""
    X, y = Xy
    net = well_posed_net(m, X.shape[1], seed, frac)
    st_ = net.state(X, y)
    gb = verify.gram_blocks(net, st_)
    H, K, G = to_np(gb.H), to_np(gb.K), to_np(gb.G)
    Phi, Z = to_np(st_.Phi), to_np(st_.Z)
    scale = np.linalg.norm(H) + 1.0
    tol = 1e3 * EPS * scale
    np.testing.assert_allclose(G, Phi @ Phi.T, rtol=0, atol=tol)
    np.testing.assert_allclose(K, Z @ Z.T + Phi @ Phi.T, rtol=0, atol=tol)
    assert lam_min(G) >= -tol
    assert lam_min(K - G) >= -tol
    assert lam_min(H - K) >= -tol
    lh, lk, lg = (verify.lambda_min(M) for M in (gb.H, gb.K, gb.G))
    assert lh >= lk - tol and lk >= lg - tol
    for M, lv in ((H, lh), (K, lk), (G, lg)):
        assert abs(lv - lam_min(M)) <= tol


@settings(max_examples=15)
@given(Xy=data_and_labels(min_n=2), m=widths(2, 12), seed=seeds(), frac=gamma_fractions(0.05, 0.8))
def test_printed_eq14_differs_from_jacobian_gram(Xy, m, seed, frac):
    """Digest A §9 item 1: G22 eq. 14 as printed (``γ²M + I_n``) is NOT the Jacobian Gram: it
    drops exactly the off-diagonal of the u-block ``ZZᵀ``; the all-ones version matches."""
    X, y = Xy
    net = well_posed_net(m, X.shape[1], seed, frac)
    st_ = net.state(X, y)
    gb = verify.gram_blocks(net, st_)
    printed = verify.paper_eq14_as_printed(net, st_)
    H_ref, _ = verify.jacobian_gram(net, X)
    ZZ = to_np(st_.Z) @ to_np(st_.Z).T
    off = ZZ - np.diag(np.diag(ZZ))
    scale = _fro(gb.H) + 1e-300
    np.testing.assert_allclose(to_np(H_ref) - to_np(printed.H), off, rtol=0, atol=1e-9 * scale)
    assert _fro(gb.H - H_ref) <= 1e-9 * scale
    if np.linalg.norm(off) > 1e-6 * scale:
        assert _fro(printed.H - H_ref) > 1e-6 * scale

