r"""Infinite-width kernels of the G22 equilibrium network: NNGP fixed point ``K∞`` and NTK ``H∞``.

Provenance: **derived** (this toolkit's derivation, written out below — "digest C" in the
reports; the papers do not state these limits).  Model ``z = σ(γ̃Az + φ)``, ``φ = σ(Wx)/√m``, ``γ̃ = γ/√m``,
``ŷ = uᵀz + vᵀφ``.  With ``a = wᵀx`` and ``g`` an independent centred Gaussian process:

    K(x, x')  = E[σ(γg + σ(a)) σ(γg' + σ(a'))],  (g, g') ~ N(0, K|{x,x'})      (fixed point)
    Ė         = E[σ'(h)σ'(h')],  h = γg + σ(a)
    Ė_a       = E[σ'(a)σ'(a')] = (π − θ)/(2π)                          (order-0 arc-cosine)
    Ė_ah      = E[σ'(a)σ'(a')σ'(h)σ'(h')]
    Ψ         = Ė/(1 − γ²Ė)           (elementwise, per pair: Ψ = Ė(1 + γ²Ψ))
    H∞ = K  [u]  +  G∞  [v]  +  γ²Ψ∘K  [A]  +  (XXᵀ)∘(Ė_a + (1 + γ²Ψ)∘Ė_ah)  [W]

Each block is the limit of the corresponding block of :func:`verify.gram_blocks` at
initialisation (``ZZᵀ``, ``ΦΦᵀ``, ``γ̃²(BBᵀ)∘ZZᵀ``, ``(1/m)(CCᵀ)∘XXᵀ``); the finite-width
convergence is measured by ``verify.model.kernels`` (tests/verify/test_kernels_finite.py).

Solver.  Diagonal: by positive homogeneity ``K(x, x) = ‖x‖² κ`` with κ the fixed point for a
unit input.  Off-diagonal: each ``K_ij`` solves a scalar equation ``K_ij = F_ij(K_ij)``
given the diagonal.  Price's theorem gives ``∂F_ij/∂K_ij = γ²Ė_ij`` (and ``dF/dκ = γ²Ė_ii``
on the diagonal), so Newton's method costs nothing extra: ``K ← K − (K − F)/(1 − γ²Ė)``,
started from ``G∞``.  ``contraction = max γ²Ė`` is the local rate of the plain iteration
``K ← F(K)``; ``≥ 1`` means no stable fixed point (for γ² ≥ 2 there is none:
``F(κ) ≥ γ²κ/2``), and then the status says so.

Quadrature: :mod:`bounds._deq_quad` (closed-form inner moments, four sign quadrants).  Two
evaluation paths, chosen by ``method``:

* ``"pairs"``: every pair directly (cost ∝ n² · order²).
* ``"angular"`` (default when all rows have the same norm, as in G22): then ``K_ij, Ė_ij,
  Ė_ah,ij`` depend on the pair only through ``θ_ij = arccos ρ_ij``; they are solved at
  ``nodes`` Chebyshev points on ``[θ_min, θ_max]`` of the data and interpolated (cost
  independent of n apart from O(n²) interpolation and one eigendecomposition).

Accuracy is measured, not assumed (``errors``): on a set of check pairs (the extreme angles
and points midway between Chebyshev nodes) the kernels are recomputed directly at twice the
quadrature order; ``errors["quadrature"]`` is the largest change from order to 2·order and
``errors["interpolation"]`` the largest difference between the interpolant and the direct
value.  If either exceeds ``accuracy`` the status is ``INACCURATE``.

Length (~510 lines), kept as one module: the fixed-point solve of the three kernels, the two
evaluation paths and the accuracy check use one quadrature and one status vocabulary, and the
check is only meaningful next to the paths it checks; the Gauss–Hermite quadrature itself is
:mod:`bounds._deq_quad`.
"""

from __future__ import annotations

import enum
import math
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy import stats

from bounds._args import check_seed
from bounds._data import check_kernel_scale, row_norms, validate_X
from bounds._deq_quad import diag_map, pair_map
from bounds._errors import SolverError, check_bool, check_real, invalid
from bounds._kernels import _MC_MAX_WORK, gram_infinity

__all__ = ["KernelStatus", "DEQKernels", "deq_kernels", "KernelMC", "deq_kernels_mc",
           "DIGEST_C"]

#: Where the derivation lives (for provenance strings).
DIGEST_C = "digest C: derived in this toolkit, formulas in the docstring of bounds.deq_kernels"


class KernelStatus(enum.Enum):
    """Outcome of :func:`deq_kernels`; the value is the user-facing message."""

    CONVERGED = "fixed point found; quadrature/interpolation checks within accuracy"
    INACCURATE = "fixed point found, but the quadrature or interpolation check exceeded accuracy"
    MAX_ITER = "Newton iteration for K∞ did not reach tol within max_iter"
    NO_FIXED_POINT = "no stable NNGP fixed point: γ²Ė ≥ 1 or the iteration diverged (γ too large)"

    @property
    def ok(self) -> bool:
        return self in (KernelStatus.CONVERGED, KernelStatus.INACCURATE)


@dataclass(frozen=True)
class DEQKernels:
    """Infinite-width kernels for data X (n×d) and γ; all matrices (n, n) float64, symmetric.

    Attributes:
        K, G, Edot, Edot_a, Edot_ah, Psi: the kernels of the module docstring (``G = G∞``).
        H_u, H_v, H_A, H_W, H: the NTK blocks and their sum ``H∞``.
        gamma: γ.  status: :class:`KernelStatus`.  method: ``"angular"`` or ``"pairs"``.
        iterations: Newton iterations (max over pairs / nodes).  residual: final
            ``max |K − F(K)| / √(K_ii K_jj)``.  contraction: ``max γ²Ė`` (rate of ``K ← F(K)``).
        order: quadrature order; nodes: Chebyshev nodes (angular path, else 0).
        errors: ``{"quadrature": …, "interpolation": …}`` (max abs change, see module doc).
        seconds: wall time.
    """

    K: np.ndarray
    G: np.ndarray
    Edot: np.ndarray
    Edot_a: np.ndarray
    Edot_ah: np.ndarray
    Psi: np.ndarray
    H_u: np.ndarray
    H_v: np.ndarray
    H_A: np.ndarray
    H_W: np.ndarray
    H: np.ndarray
    gamma: float
    status: KernelStatus
    method: str
    iterations: int
    residual: float
    contraction: float
    order: int
    nodes: int
    errors: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def converged(self) -> bool:
        return self.status.ok

    def message(self) -> str:
        return (f"deq_kernels: {self.status.value} (iterations={self.iterations}, "
                f"residual={self.residual:.2e}, contraction={self.contraction:.3g}, "
                f"errors={ {k: float(f'{v:.2e}') for k, v in self.errors.items()} })")

    def blocks(self) -> dict[str, np.ndarray]:
        """The four limiting blocks keyed ``"A", "W", "u", "v"`` (as ``verify.GramBlocks``)."""
        return {"A": self.H_A, "W": self.H_W, "u": self.H_u, "v": self.H_v}

    @property
    def lambda_min_H(self) -> float:
        return _lmin(self.H)

    @property
    def lambda_min_K(self) -> float:
        return _lmin(self.K)

    @property
    def lambda0(self) -> float:
        return _lmin(self.G)

    def summary(self) -> dict[str, Any]:
        """JSON-ready scalars: λ's, status and solver/accuracy figures."""
        return {"gamma": self.gamma, "lambda0": self.lambda0, "lambda_min_K": self.lambda_min_K,
                "lambda_min_H": self.lambda_min_H, "status": self.status.name,
                "message": self.status.value, "method": self.method,
                "iterations": self.iterations, "residual": self.residual,
                "contraction": self.contraction, "order": self.order, "nodes": self.nodes,
                "errors": dict(self.errors), "seconds": self.seconds, "provenance": "derived",
                "source": DIGEST_C}


def _lmin(M: np.ndarray) -> float:
    if not np.isfinite(M).all():  # a failed solve leaves NaN kernels: no eigenvalue to report
        return math.nan
    return float(np.linalg.eigvalsh((M + M.T) / 2)[0])


# ------------------------------------------------------------------ solvers
def _solve_diag(gamma: float, order: int, tol: float, max_iter: int) -> tuple[float, float, float, int, float, bool]:
    """Unit-norm diagonal: ``(κ, Ė_ii, Ė_ah,ii, iterations, residual, ok)`` (Newton from ½)."""
    kappa = 0.5
    for it in range(1, max_iter + 1):
        F, Ed, Eah = diag_map(gamma, kappa, order)
        slope = gamma * gamma * Ed
        if not (math.isfinite(F) and slope < 1.0):
            return kappa, Ed, Eah, it, math.inf, False
        new = kappa - (kappa - F) / (1.0 - slope)
        if not (math.isfinite(new) and new > 0):
            return kappa, Ed, Eah, it, math.inf, False
        step = abs(new - kappa)
        kappa = new
        if step <= tol * kappa:
            F, Ed, Eah = diag_map(gamma, kappa, order)
            return kappa, Ed, Eah, it, abs(F - kappa) / kappa, True
    F, Ed, Eah = diag_map(gamma, kappa, order)
    return kappa, Ed, Eah, max_iter, abs(F - kappa) / kappa, False


def _solve_pairs(r1: np.ndarray, r2: np.ndarray, rho: np.ndarray, kappa: float, gamma: float,
                 order: int, tol: float, max_iter: int, K0: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, float, bool]:
    """Newton per pair for ``K12`` given ``K_ii = r_i² κ``; returns K12, Ė, Ė_ah, its, res, ok."""
    K11, K22 = r1 * r1 * kappa, r2 * r2 * kappa
    scale = np.sqrt(K11 * K22)
    K12 = K0.copy()
    active = np.ones(K12.shape, bool)
    Ed = np.zeros_like(K12)
    Eah = np.zeros_like(K12)
    its = 0
    for its in range(1, max_iter + 1):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        F, e, eah = pair_map(r1[idx], r2[idx], rho[idx], K11[idx], K12[idx], K22[idx], gamma, order)
        Ed[idx], Eah[idx] = e, eah
        slope = gamma * gamma * e
        if not (np.all(np.isfinite(F)) and np.all(slope < 1.0)):
            return K12, Ed, Eah, its, math.inf, False
        new = K12[idx] - (K12[idx] - F) / (1.0 - slope)
        new = np.clip(new, -scale[idx], scale[idx])
        step = np.abs(new - K12[idx])
        K12[idx] = new
        active[idx[step <= tol * scale[idx]]] = False
    F, e, eah = pair_map(r1, r2, rho, K11, K12, K22, gamma, order)
    res = float(np.max(np.abs(F - K12) / scale)) if K12.size else 0.0
    return K12, e, eah, its, res, not active.any()


def _check_gamma(gamma: Any) -> float:
    if isinstance(gamma, (bool, str, bytes)):
        raise invalid("gamma", gamma, "expected a number", "pass a float in (0, 1), e.g. 0.4")
    try:
        g = float(gamma)
    except (TypeError, ValueError):
        raise invalid("gamma", gamma, "expected a number", "pass a float in (0, 1), e.g. 0.4") from None
    if not (math.isfinite(g) and g > 0):
        raise invalid("gamma", gamma, "γ must be positive and finite", "pass a float in (0, 1), e.g. 0.4")
    if g < GAMMA_RANGE[0]:
        raise invalid("gamma", gamma, f"γ < {GAMMA_RANGE[0]:g}: γ² and the quadrature of the kink's "
                      "boundary layer (width ∝ γ) leave the float64 range",
                      f"pass γ ≥ {GAMMA_RANGE[0]:g} (the limit γ → 0 is the explicit network's)")
    return g


#: smallest γ of :func:`deq_kernels`: near γ = 1e-150 γ² and the quadrature of the kink's
#: boundary layer (width ∝ γ) leave the float64 range (overflow at order 4); 1e-100 keeps a
#: margin. Large γ without a fixed point gives the status NO_FIXED_POINT.
GAMMA_RANGE = (1e-100,)


def _check_int(name: str, v: Any, lo: int, fix: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise invalid(name, v, f"must be an integer ≥ {lo}", fix)
    return int(v)


def _geometry(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    norms = row_norms(X)
    check_kernel_scale(norms)
    if np.any(norms == 0):
        i = int(np.flatnonzero(norms == 0)[0])
        raise invalid("X", f"<array shape {X.shape}>", f"row {i} is zero (no NTK limit defined here)",
                      "remove zero rows or normalise the data")
    U = X / norms[:, None]
    C = np.clip((U @ U.T + (U @ U.T).T) / 2, -1.0, 1.0)
    np.fill_diagonal(C, 1.0)
    off = C[np.triu_indices(X.shape[0], 1)]
    if off.size and np.max(np.abs(off)) >= 1 - 1e-12:
        k = int(np.argmax(np.abs(off)))
        i, j = (int(t[k]) for t in np.triu_indices(X.shape[0], 1))
        raise invalid("X", f"<array shape {X.shape}>",
                      f"rows {i} and {j} are parallel (|cos| = {abs(off[k]):.15g}); the limits "
                      "are computed for non-parallel data (G22 Assumption 2)",
                      "remove or perturb parallel rows")
    return norms, C


def _cheb_nodes(lo: float, hi: float, k: int) -> np.ndarray:
    j = np.arange(k)
    return (lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.pi * (2 * j + 1) / (2 * k))


#: most Gauss–Legendre / Chebyshev nodes per dimension (order² wedge nodes per pair)
MAX_ORDER = 4096


def deq_kernels(
    X: Any,
    gamma: float,
    *,
    method: str = "auto",
    order: int = 64,
    nodes: int = 48,
    tol: float = 1e-13,
    max_iter: int = 50,
    accuracy: float = 1e-8,
    max_order: int = 256,
    throw: bool = False,
) -> DEQKernels:
    r"""Infinite-width NNGP fixed point ``K∞``, ``Ψ``, ``Ė``'s and the limiting NTK ``H∞``.

    Formulas, solver and accuracy checks: module docstring (digest C, provenance ``derived``).

    Args:
        X: data, n×d, non-zero, pairwise non-parallel rows.
        gamma: γ > 0 (the papers take γ < 1; beyond √2 no fixed point exists).
        method: ``"auto"`` (``"angular"`` when all norms agree to 1e-12 relative and n > 8,
            else ``"pairs"``), ``"angular"`` or ``"pairs"``.
        order: Gauss–Legendre order per dimension (1-D pieces: order nodes; wedge: order²).
        nodes: Chebyshev nodes in θ (angular path).
        tol: Newton stopping rule on the relative step.
        max_iter: Newton iterations at most.
        accuracy: largest acceptable quadrature / interpolation change (absolute, per entry).
        max_order: while the doubling check exceeds ``accuracy`` the order is doubled, up to
            this (small γ puts a boundary layer of width ∝ γ at the kink; the result records
            the order used).
        throw: raise :class:`~bounds.SolverError` instead of returning a failed status.
    """
    t0 = time.perf_counter()
    Xv = validate_X(X)
    g = _check_gamma(gamma)
    if method not in ("auto", "angular", "pairs"):
        raise invalid("method", method, "unknown method", "use 'auto', 'angular' or 'pairs'")
    order = _check_int("order", order, 4, "e.g. order=64")
    nodes = _check_int("nodes", nodes, 4, "e.g. nodes=48")
    max_iter = _check_int("max_iter", max_iter, 1, "e.g. max_iter=50")
    if not (isinstance(tol, (int, float)) and tol > 0):
        raise invalid("tol", tol, "must be a positive number", "e.g. tol=1e-13")
    if not (isinstance(tol, (int, float)) and math.isfinite(tol) and tol < 1):
        raise invalid("tol", tol, "must be a number in (0, 1)", "e.g. tol=1e-13")
    accuracy = check_real("accuracy", accuracy, 0.0, low_open=True, fix="e.g. accuracy=1e-8")
    throw = check_bool("throw", throw)
    # the quadrature holds order² (wedge) × n pairs nodes at once; refuse sizes that cannot fit
    for nm, v in (("order", order), ("nodes", nodes)):
        if v > MAX_ORDER:
            raise invalid(nm, v, f"more than {MAX_ORDER} quadrature nodes (the wedge rule holds "
                          f"{nm}² nodes per pair)", f"pass {nm} ≤ {MAX_ORDER}; the order doubles "
                          "itself up to max_order while the accuracy check fails")
    if order > max_order:
        raise invalid("order", order, f"exceeds max_order={max_order}", "pass order ≤ max_order "
                      "(or raise max_order)")
    max_order = _check_int("max_order", max_order, order, f"e.g. max_order={4 * order}")
    if max_order > MAX_ORDER:
        raise invalid("max_order", max_order, f"more than {MAX_ORDER} quadrature nodes",
                      f"pass max_order ≤ {MAX_ORDER}")
    n = Xv.shape[0]
    norms, C = _geometry(Xv)
    equal = bool(np.ptp(norms) <= 1e-12 * np.max(norms))
    if method == "auto":
        method = "angular" if (equal and n > 8) else "pairs"
    if method == "angular" and not equal:
        raise invalid("method", method, "needs rows of equal norm", "normalise X or use method='pairs'")
    G = gram_infinity(Xv)
    while True:
        res = _once(Xv, g, method, order, nodes, tol, max_iter, accuracy, norms, C, G)
        quad = res.errors.get("quadrature", 0.0)
        if res.status is not KernelStatus.INACCURATE or quad <= accuracy or 2 * order > max_order:
            break
        order *= 2  # the doubling check failed: refine and repeat
    if not res.status.ok and throw:
        raise SolverError(f"deq_kernels(gamma={g}): {res.status.value} (iterations="
                          f"{res.iterations}, residual={res.residual:.3g})")
    return replace(res, seconds=time.perf_counter() - t0)


def _once(Xv: np.ndarray, g: float, method: str, order: int, nodes: int, tol: float,
          max_iter: int, accuracy: float, norms: np.ndarray, C: np.ndarray,
          G: np.ndarray) -> DEQKernels:
    n = Xv.shape[0]
    iu = np.triu_indices(n, 1)

    kappa, Ed_d, Eah_d, it_d, res_d, ok_d = _solve_diag(g, order, tol, max_iter)
    its, res = it_d, res_d
    status = KernelStatus.CONVERGED
    errors: dict[str, float] = {}
    K12 = Ed12 = Eah12 = np.zeros(0)
    if not ok_d:
        status = KernelStatus.NO_FIXED_POINT if not math.isfinite(res_d) else KernelStatus.MAX_ITER
    elif iu[0].size:
        r1, r2, rho = norms[iu[0]], norms[iu[1]], C[iu]
        th = np.arccos(rho)
        if method == "angular":
            lo, hi = float(th.min()), float(th.max())
            if hi - lo < 1e-9:
                tn = np.array([lo])
            else:
                tn = _cheb_nodes(lo, hi, nodes)
            one = np.full(tn.size, norms[0])
            G_nodes = norms[0] ** 2 * (np.sin(tn) + (np.pi - tn) * np.cos(tn)) / (2 * np.pi)
            Kn, En, Ean, its2, res2, ok2 = _solve_pairs(one, one, np.cos(tn), kappa, g, order, tol,
                                                        max_iter, G_nodes)
            if tn.size == 1:
                K12, Ed12, Eah12 = (np.full(th.size, v[0]) for v in (Kn, En, Ean))
            else:
                x = (2 * th - (lo + hi)) / (hi - lo)
                xn = (2 * tn - (lo + hi)) / (hi - lo)
                K12, Ed12, Eah12 = (np.polynomial.chebyshev.chebval(
                    x, np.polynomial.chebyshev.chebfit(xn, v, tn.size - 1)) for v in (Kn, En, Ean))
        else:
            K12, Ed12, Eah12, its2, res2, ok2 = _solve_pairs(r1, r2, rho, kappa, g, order, tol,
                                                             max_iter, G[iu])
        its, res = max(its, its2), max(res, res2)
        if not ok2:
            status = KernelStatus.NO_FIXED_POINT if not math.isfinite(res2) else KernelStatus.MAX_ITER
        else:
            errors = _accuracy_checks(norms, rho, th, r1, r2, kappa, g, order, tol, max_iter,
                                      G[iu], K12, Ed12, Eah12, method, nodes)
    if status is KernelStatus.CONVERGED:
        if ok_d:
            k2, e2, a2, *_ = _solve_diag(g, 2 * order, tol, max_iter)
            errors["quadrature"] = max(errors.get("quadrature", 0.0),
                                       abs(k2 - kappa) * float(np.max(norms)) ** 2,
                                       abs(e2 - Ed_d), abs(a2 - Eah_d))
        if max(errors.values(), default=0.0) > accuracy:
            status = KernelStatus.INACCURATE
    nan = np.full((n, n), np.nan)
    if status.ok:
        K, Ed, Eah = (np.empty((n, n)) for _ in range(3))
        for M, off, dv in ((K, K12, kappa * norms**2), (Ed, Ed12, np.full(n, Ed_d)),
                           (Eah, Eah12, np.full(n, Eah_d))):
            M[iu] = off
            M[(iu[1], iu[0])] = off
            M[np.diag_indices(n)] = dv
    else:
        K, Ed, Eah = nan.copy(), nan.copy(), nan.copy()
    contraction = float(g * g * np.nanmax(Ed)) if status.ok else math.inf
    Ea = (np.pi - np.arccos(C)) / (2 * np.pi)
    Psi = Ed / (1.0 - g * g * Ed)
    XX = Xv @ Xv.T
    H_A = g * g * Psi * K
    H_W = XX * (Ea + (1.0 + g * g * Psi) * Eah)
    H = K + G + H_A + H_W
    sym = [(M + M.T) / 2 for M in (K, Ed, Eah, Psi, H_A, H_W, H)]
    return DEQKernels(K=sym[0], G=G, Edot=sym[1], Edot_a=Ea, Edot_ah=sym[2], Psi=sym[3],
                      H_u=sym[0], H_v=G, H_A=sym[4], H_W=sym[5], H=sym[6], gamma=g, status=status,
                      method=method, iterations=its, residual=res, contraction=contraction,
                      order=order, nodes=nodes if method == "angular" else 0, errors=errors)


def _accuracy_checks(norms: np.ndarray, rho: np.ndarray, th: np.ndarray, r1: np.ndarray,
                     r2: np.ndarray, kappa: float, g: float, order: int, tol: float,
                     max_iter: int, G12: np.ndarray, K12: np.ndarray, Ed12: np.ndarray,
                     Eah12: np.ndarray, method: str, nodes: int) -> dict[str, float]:
    """Recompute the check pairs directly at ``order`` and ``2·order`` (module docstring)."""
    pick = {int(np.argmin(th)), int(np.argmax(th))}
    if method == "angular" and th.size > 2:
        lo, hi = float(th.min()), float(th.max())
        tn = np.sort(_cheb_nodes(lo, hi, nodes))
        mids = (tn[:-1] + tn[1:]) / 2
        mids = np.concatenate([mids[:6], mids[-6:], mids[len(mids) // 2 - 2: len(mids) // 2 + 2]])
        order_idx = np.argsort(th)
        pos = np.clip(np.searchsorted(th[order_idx], mids), 0, th.size - 1)
        pick.update(int(order_idx[p]) for p in pos)
    rng = np.random.default_rng(0)
    pick.update(int(i) for i in rng.choice(th.size, size=min(8, th.size), replace=False))
    idx = np.array(sorted(pick))
    k2 = _solve_diag(g, 2 * order, tol, max_iter)[0]
    a = _solve_pairs(r1[idx], r2[idx], rho[idx], kappa, g, order, tol, max_iter, G12[idx])
    b = _solve_pairs(r1[idx], r2[idx], rho[idx], k2, g, 2 * order, tol, max_iter, G12[idx])
    quad = max(float(np.max(np.abs(a[j] - b[j]))) for j in range(3))
    out = {"quadrature": quad}
    if method == "angular":
        out["interpolation"] = max(float(np.max(np.abs(a[0] - K12[idx]))),
                                   float(np.max(np.abs(a[1] - Ed12[idx]))),
                                   float(np.max(np.abs(a[2] - Eah12[idx]))))
    return out


# ------------------------------------------------------------------ Monte Carlo check
@dataclass(frozen=True)
class KernelMC:
    """Monte Carlo estimates of ``F(K)`` (the NNGP map at a given K), ``Ė`` and ``Ė_ah``.

    ``mean`` and ``half`` are dicts keyed ``"F", "Edot", "Edot_ah"`` of (n, n) arrays;
    ``|mean − exact| ≤ half`` holds with asymptotic (CLT) probability ``level`` for all
    ``3·n(n+1)/2`` entries at once (Bonferroni).  ``samples``, ``seed`` as drawn.
    """

    mean: dict[str, np.ndarray]
    half: dict[str, np.ndarray]
    samples: int
    seed: int
    level: float


def deq_kernels_mc(X: Any, gamma: float, K: Any, samples: int, seed: int = 0, *,
                   level: float = 0.99, batch: int = 8192) -> KernelMC:
    """Monte Carlo of the NNGP map and the derivative kernels at a given ``K`` (n×n PSD).

    Draws ``w ~ N(0, I_d)`` (so ``a = Xw``) and ``g = Lξ`` with ``LLᵀ = K``, ``h = γg + σ(a)``
    and averages ``σ(h)σ(h)ᵀ``, ``σ'(h)σ'(h)ᵀ`` and ``(σ'(a)σ'(h))(σ'(a)σ'(h))ᵀ``.  At the
    quadrature fixed point, ``F`` must reproduce ``K`` within ``half`` (independent check of
    both the fixed point and the quadrature).
    """
    Xv = validate_X(X)
    g = _check_gamma(gamma)
    n, d = Xv.shape
    Km = np.asarray(K, dtype=np.float64)
    if Km.shape != (n, n) or not np.all(np.isfinite(Km)):
        raise invalid("K", f"<array shape {Km.shape}>", f"must be a finite {n}×{n} matrix",
                      "pass deq_kernels(X, gamma).K")
    samples = _check_int("samples", samples, 2, "e.g. samples=200_000")
    batch = _check_int("batch", batch, 1, "e.g. batch=8192")
    check_real("level", level, 0.0, 1.0, low_open=True, high_open=True, fix="e.g. level=0.99")
    seed = int(check_seed(seed, "seed") or 0)
    work = float(samples) * n * (n + d)
    if work > _MC_MAX_WORK:  # bounds.gram_infinity_mc's cap: about an hour of one core
        raise invalid("samples", samples, f"needs about {work:.2g} multiply-adds at n = {n}",
                      "use fewer samples (the half-width falls like 1/√samples)")
    w, V = np.linalg.eigh((Km + Km.T) / 2)
    L = V * np.sqrt(np.maximum(w, 0.0))
    rng = np.random.default_rng(seed)
    s1 = {k: np.zeros((n, n)) for k in ("F", "Edot", "Edot_ah")}
    s2 = {k: np.zeros((n, n)) for k in s1}
    done = 0
    while done < samples:
        b = min(batch, samples - done)
        a = Xv @ rng.standard_normal((d, b))
        h = g * (L @ rng.standard_normal((n, b))) + np.maximum(a, 0.0)
        feats = {"F": np.maximum(h, 0.0), "Edot": (h > 0).astype(float),
                 "Edot_ah": ((h > 0) & (a > 0)).astype(float)}
        for k, S in feats.items():
            s1[k] += S @ S.T
            s2[k] += (S * S) @ (S * S).T
        done += b
    z = float(stats.norm.isf((1 - level) / (2 * 3 * n * (n + 1) / 2)))
    mean, half = {}, {}
    for k in s1:
        mu = s1[k] / samples
        var = np.maximum(s2[k] - samples * mu * mu, 0.0) / (samples - 1)
        mean[k] = (mu + mu.T) / 2
        hw = z * np.sqrt(var / samples)
        half[k] = (hw + hw.T) / 2
    return KernelMC(mean=mean, half=half, samples=samples, seed=int(seed), level=float(level))
