r"""What a trace can and cannot decide: per-step evidence for the verdicts of
:mod:`verify.experiment.checks`.

* **Cheap certificates** (:data:`CERTIFICATES`).  For a matrix ``M`` of rank ``≤ r``,
  ``‖M‖_F/√r ≤ ‖M‖₂ ≤ ‖M‖_F``.  The operator-norm movements ``W_move = ‖W − W(0)‖₂`` and
  ``A_move = ‖A − A(0)‖₂`` are SVDs, computed only on the expensive schedule; their Frobenius
  norms ``W_move_fro``, ``A_move_fro`` are recorded at every step.  At a step without the exact
  value, ``‖ΔW‖_F ≤ bound`` proves ``‖ΔW‖₂ ≤ bound`` and ``‖ΔW‖_F/√r > bound`` proves
  ``‖ΔW‖₂ > bound`` (``r = min(m, d)`` for W, ``m`` for A).  The Frobenius norm is computed with
  a relative error below ``N·eps`` (N entries), far below the slack ``tol`` required on either
  side, so only a gap beyond ``tol`` decides a step.  A step that neither the exact value nor a
  certificate decides stays *undecided*.
* **Eigenvalue error bound** (:func:`eig_atol`).  ``λ_min`` of a Gram matrix ``M = FFᵀ``
  (``F`` n×m) carries two rounding errors: forming each entry as an inner product of length m
  (``|fl(f_iᵀf_j) − f_iᵀf_j| ≤ m·eps·‖f_i‖‖f_j‖``, so ``‖ΔM‖₂ ≤ ‖ΔM‖_F ≤ m·eps·tr M``) and the
  symmetric eigensolver (backward stable: the computed eigenvalues are exact for ``M + E`` with
  ``‖E‖₂ ≤ p(n)·eps·‖M‖₂``, LAPACK's "modest function" ``p(n)``; we take ``p(n) = n``, the usual
  conservative choice; Weyl turns both into eigenvalue errors).  With ``‖M‖₂ ≤ tr M`` the bound
  used is ``(n + m)·eps·T`` where ``T`` bounds ``tr M`` from recorded values:
  ``G = ΦΦᵀ``: ``T = n·φ_max²``; ``K = ZZᵀ + ΦΦᵀ``: ``T = n(φ_max² + z_max²)``; ``H`` (its A and
  W blocks are not recorded per step): ``T = n·max(φ_max² + z_max², λ_max(H(0)))`` — for H an
  estimate, not a bound, stated as such in the verdict.  Within the bound the verdict is
  ``inconclusive``.
* **Structural impossibility** (:func:`structural_note`).  ``rank G ≤ m`` (``G = ΦΦᵀ``,
  Φ is n×m) and ``rank K ≤ 2m``: when that is below n, ``λ_min = 0`` exactly whatever the draw.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["CERTIFICATES", "EIG_OBSERVABLES", "certificate", "eig_atol", "structural_note",
           "step_decisions"]

EPS = float(np.finfo(np.float64).eps)

#: operator-norm observable → (its Frobenius-norm observable, rank bound from the symbols)
CERTIFICATES: dict[str, tuple[str, Any]] = {
    "W_move": ("W_move_fro", lambda s: min(int(s["m"]), int(s["d"]))),
    "A_move": ("A_move_fro", lambda s: int(s["m"])),
}

#: eigenvalue observables whose comparisons use :func:`eig_atol`
EIG_OBSERVABLES = ("lambda_min_G", "lambda_min_H", "lambda_min_K")


def certificate(observable: str, trace: Mapping[str, np.ndarray], symbols: Mapping[str, Any],
                sel: np.ndarray) -> tuple[np.ndarray, np.ndarray, str] | None:
    """``(lower, upper, text)`` bounds on ``observable`` at the selected steps, or ``None``."""
    if observable not in CERTIFICATES:
        return None
    fro_name, rank_of = CERTIFICATES[observable]
    if fro_name not in trace or "m" not in symbols or "d" not in symbols:
        return None
    fro = np.asarray(trace[fro_name], dtype=np.float64)[sel]
    r = max(1, int(rank_of(symbols)))
    return fro / math.sqrt(r), fro, f"‖·‖_F/√{r} ≤ ‖·‖₂ ≤ ‖·‖_F ({fro_name})"


def eig_atol(observable: str, trace: Mapping[str, np.ndarray], symbols: Mapping[str, Any],
             sel: np.ndarray, lambda_max_H0: float | None = None) -> tuple[np.ndarray, str] | None:
    """Per-step absolute error bound ``(n + m)·eps·T`` of a recorded λ_min (module docstring)."""
    if observable not in EIG_OBSERVABLES or "n" not in symbols or "m" not in symbols:
        return None
    if "phi_max" not in trace:
        return None
    n, m = float(symbols["n"]), float(symbols["m"])
    phi = np.asarray(trace["phi_max"], dtype=np.float64)[sel]
    z = np.asarray(trace.get("z_max", np.full(len(trace["phi_max"]), np.nan)),
                   dtype=np.float64)[sel]
    if observable == "lambda_min_G":
        T, what = n * phi**2, "n·φ_max²"
    elif observable == "lambda_min_K":
        T, what = n * (phi**2 + z**2), "n(φ_max² + z_max²)"
    else:
        base = phi**2 + z**2
        lm = lambda_max_H0 if lambda_max_H0 is not None and math.isfinite(lambda_max_H0) else 0.0
        T, what = n * np.maximum(base, lm), "n·max(φ_max² + z_max², λ_max(H(0))) (estimate)"
    return (n + m) * EPS * T, f"(n + m)·eps·{what}"


def structural_note(observable: str, symbols: Mapping[str, Any]) -> str | None:
    """Why ``observable`` is 0 whatever the draw (rank deficiency), or ``None``."""
    try:
        n, m = int(symbols["n"]), int(symbols["m"])
    except (KeyError, TypeError, ValueError):
        return None
    if observable == "lambda_min_G" and m < n:
        return f"rank G ≤ m = {m} < n = {n}, so λ_min(G) = 0 whatever the draw"
    if observable == "lambda_min_K" and 2 * m < n:
        return f"rank(ZZᵀ + ΦΦᵀ) ≤ 2m = {2 * m} < n = {n}, so λ_min = 0 whatever the draw"
    return None


def step_decisions(obs: np.ndarray, bnd: np.ndarray, sense: str, tol: float,
                   atol: np.ndarray | None = None,
                   cert: tuple[np.ndarray, np.ndarray, str] | None = None) -> dict[str, Any]:
    """Per-step decisions: ``"holds"``, ``"violated"``, ``"tie"`` (within rounding) or
    ``"undecided"``, and whether each came from the exact value or a certificate.

    Exact step: excess ``e = obs − bnd`` (``≤``) or ``bnd − obs`` (``≥``); violated if
    ``e > atol`` (default ``tol·max(|bnd|, tiny)``), tie if ``0 < e ≤ atol``, else holds.
    Certificate step (exact value NaN): for ``≤`` claims, holds if ``upper < bnd − tol|bnd|``,
    violated if ``lower > bnd + tol|bnd|``; otherwise undecided.
    """
    obs = np.asarray(obs, dtype=np.float64)
    bnd = np.broadcast_to(np.asarray(bnd, dtype=np.float64), obs.shape)
    scale = np.maximum(np.where(np.isfinite(bnd), np.abs(bnd), np.inf), np.finfo(np.float64).tiny)
    thr = tol * scale if atol is None else np.broadcast_to(np.asarray(atol, dtype=np.float64),
                                                           obs.shape)
    thr = np.where(np.isfinite(thr), thr, 0.0)
    dec = np.full(obs.shape, "undecided", dtype=object)
    source = np.full(obs.shape, "", dtype=object)
    exact = np.isfinite(obs) & ~np.isnan(bnd)
    with np.errstate(invalid="ignore", over="ignore"):
        excess = np.where(sense == "le", obs - bnd, bnd - obs)
    dec[exact & (excess > thr)] = "violated"
    dec[exact & (excess > 0) & (excess <= thr)] = "tie"
    dec[exact & ~(excess > 0)] = "holds"
    source[exact] = "exact"
    if cert is not None and sense == "le":
        lower, upper, _ = cert
        margin = tol * scale
        free = ~exact & ~np.isnan(bnd)
        with np.errstate(invalid="ignore"):
            ok = free & np.isfinite(upper) & (upper < bnd - margin)
            bad = free & np.isfinite(lower) & (lower > bnd + margin)
        dec[ok], source[ok] = "holds", "certificate"
        dec[bad], source[bad] = "violated", "certificate"
    return {"decision": dec, "source": source, "exact": exact, "excess": excess, "scale": scale}
