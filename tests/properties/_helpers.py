"""Small helpers shared by the property tests (not strategies: plain functions)."""

from __future__ import annotations

import math

import numpy as np
import torch

import verify

EPS = float(np.finfo(np.float64).eps)


def well_posed_net(m: int, d: int, seed: int, fraction: float) -> verify.ImplicitNetwork:
    """Paper initialisation [G22 Assumption 1] from ``seed``, with ``γ`` set to
    ``fraction · min(1, √m/‖A‖₂)`` so that the contraction factor ``γ̃‖A‖₂ ≤ fraction < 1``
    (the well-posed range of G22 Lemma 2.2 for this very A)."""
    base = verify.ImplicitNetwork.init(m, d, 0.5, seed)
    p = base.parameters_dict()
    a_norm = float(torch.linalg.matrix_norm(p["A"], ord=2))
    gamma = fraction * min(1.0, math.sqrt(m) / a_norm)
    return verify.ImplicitNetwork(p["A"], p["W"], p["u"], p["v"], gamma)


def op_norm(M) -> float:
    """Spectral norm ``‖M‖₂`` in float64 (numpy or torch input)."""
    if isinstance(M, torch.Tensor):
        M = M.detach().cpu().to(torch.float64).numpy()
    M = np.asarray(M, dtype=np.float64)
    if M.size == 0:
        return 0.0
    return float(np.linalg.norm(M, 2))


def lam_min(M) -> float:
    """``λ_min`` of the symmetrised matrix, float64 (an independent oracle, not verify's)."""
    if isinstance(M, torch.Tensor):
        M = M.detach().cpu().to(torch.float64).numpy()
    M = np.asarray(M, dtype=np.float64)
    return float(np.linalg.eigvalsh(0.5 * (M + M.T)).min())


def to_np(t) -> np.ndarray:
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().to(torch.float64).numpy()
    return np.asarray(t, dtype=np.float64)
