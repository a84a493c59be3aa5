r"""Forward (equilibrium) and adjoint solves of the G22 implicit layer, batched over samples.

Forward [G22 eq. 2–3]: every row of ``Z`` (n×m) solves ``z = σ(γ̃ A z + φ)``, i.e.

.. math::  Z = σ(γ̃\, Z A^\top + Φ).

Adjoint [G22 Lemma 2.3]: for a right-hand side ``R`` (n×m, or a vector ``u`` broadcast to every
row) and the activation pattern ``D`` (n×m, entries 0/1, ``D_i = σ'(γ̃ A z_i + φ_i)``), every row of
``B`` solves ``b = D_i (r_i + γ̃ Aᵀ b)``, i.e. ``B = D ∘ (R + γ̃ B A)``. With ``R = 1uᵀ`` these are
the vectors ``b_i`` of the gradient formula; with ``R = ∂ℓ/∂Z`` it is the vector-Jacobian
product of the equilibrium map.

Both maps are ``ρ``-Lipschitz in the Frobenius norm with ``ρ = γ̃‖A‖₂`` (ReLU and 0/1 masks are
1-Lipschitz), so plain (Picard) iteration from 0 converges when ``ρ < 1`` [Lemma 2.2].

Residual. ``residual = ‖F(X) − X‖_F / s`` with the scale ``s = ‖F(0)‖_F`` (``‖Φ‖_F`` forward,
``‖D∘R‖_F`` adjoint). Picard from 0 has ``‖X_{p+1} − X_p‖ ≤ ρ^p s``, so it stops within
``1 + ⌈log(tol)/log ρ⌉`` map evaluations (:func:`predicted_iterations`), and on stopping the error to the fixed point is at most
``residual · s · ρ/(1 − ρ)``.
"""

from __future__ import annotations

import enum
import itertools
import math
from dataclasses import dataclass, field

import torch

from bounds._errors import SolverError, invalid

__all__ = [
    "SolveStatus",
    "SolveResult",
    "solve_forward",
    "solve_adjoint",
    "solve_forward_direct",
    "contraction_factor",
    "predicted_iterations",
    "DEFAULT_TOL",
    "DEFAULT_MAX_ITER",
]

DEFAULT_TOL = 1e-12
DEFAULT_MAX_ITER = 500
_DIVERGE_FACTOR = 1e8  # residual growth (relative to the first one) that counts as divergence
_METHODS = ("picard", "anderson")


class SolveStatus(enum.Enum):
    """Outcome of a solve; the value is the user-facing message."""

    CONVERGED = "converged: the relative residual reached the tolerance"
    MAX_ITER = "stopped at the iteration cap before reaching the tolerance"
    DIVERGED = "diverged: the residual grew by more than 1e8 over its first value"
    NONFINITE = "non-finite values (NaN/Inf) appeared during the iteration"

    @property
    def ok(self) -> bool:
        return self is SolveStatus.CONVERGED


@dataclass(frozen=True)
class SolveResult:
    """Result of one batched solve.

    Attributes:
        value: the solution, shape (n, m) (``Z`` forward, ``B`` adjoint).
        status: :class:`SolveStatus`.
        iterations: number of map evaluations after the start point.
        residual: final relative residual (see module docstring).
        history: relative residual after each iteration.
        method: ``"picard"``, ``"anderson"`` or ``"direct"``.
        contraction: ``γ̃‖A‖₂`` (the Lipschitz constant of the map).
        kind: ``"forward"`` or ``"adjoint"``.
    """

    value: torch.Tensor
    status: SolveStatus
    iterations: int
    residual: float
    history: tuple[float, ...] = field(repr=False)
    method: str
    contraction: float
    kind: str
    tol: float = DEFAULT_TOL

    @property
    def converged(self) -> bool:
        return self.status.ok

    def message(self) -> str:
        """What happened and, on failure, what to change."""
        head = (f"{self.kind} {self.method} solve: {self.status.value} "
                f"(iterations={self.iterations}, residual={self.residual:.3e}, "
                f"contraction γ̃‖A‖₂={self.contraction:.4f})")
        if self.status.ok:
            return head
        if self.contraction >= 1.0:
            return head + ("; the layer map is not a contraction (γ̃‖A‖₂ ≥ 1), so the equilibrium "
                           "need not exist or be unique: reduce γ (the paper's sufficient choice "
                           "is γ ≤ min(½, 1/(4c)), making γ̃‖A‖₂ ≤ ½)")
        if self.status is SolveStatus.MAX_ITER:
            predicted = predicted_iterations(self.contraction, self.tol)
            return head + (f"; raise max_iter (the contraction predicts ≈{predicted} iterations) "
                           "or loosen tol, or use method='anderson'")
        return head + "; reduce γ or the step size so that γ̃‖A‖₂ stays well below 1"

    def raise_if_failed(self) -> SolveResult:
        if not self.status.ok:
            raise SolverError(self.message())
        return self


def contraction_factor(A: torch.Tensor, gamma_tilde: float) -> float:
    """``γ̃‖A‖₂``: the Lipschitz constant of the layer map (float64 SVD)."""
    return float(gamma_tilde * torch.linalg.matrix_norm(A.detach().to(torch.float64), ord=2))


def predicted_iterations(rho: float, tol: float) -> int:
    """Map evaluations Picard-from-0 needs at most for relative residual ``tol``.

    The p-th evaluation sees residual ``‖X_p − X_{p−1}‖ ≤ ρ^{p−1} ‖X_1 − X_0‖`` (relative value
    ``≤ ρ^{p−1}``), so ``1 + ⌈log tol / log ρ⌉`` evaluations suffice. (In absolute terms this is
    the paper's ``‖z^p − z*‖ ≤ ρ^p ‖φ‖/(1−ρ)`` [G22 Lemma 2.2] applied to the residual.)
    Returns -1 when ``ρ ∉ (0, 1)`` (no guarantee).
    """
    if not (0.0 < rho < 1.0):
        return -1
    return 1 + max(0, math.ceil(math.log(tol) / math.log(rho)))


def _check_common(tol: float, max_iter: int, method: str) -> None:
    if not (isinstance(tol, (int, float)) and math.isfinite(tol) and 0.0 < tol < 1.0):
        raise invalid("tol", tol, "must be a float in (0, 1)", "use e.g. tol=1e-12 (float64) or 1e-6 (float32)")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise invalid("max_iter", max_iter, "must be an int ≥ 1", "use e.g. max_iter=500")
    if method not in _METHODS:
        raise invalid("method", method, f"unknown solver; choose one of {_METHODS}", "use method='picard'")


def _iterate(
    F,
    x0: torch.Tensor,
    scale: float,
    *,
    tol: float,
    max_iter: int,
    method: str,
    anderson_memory: int,
    anderson_reg: float,
) -> tuple[torch.Tensor, SolveStatus, int, float, tuple[float, ...]]:
    """Generic fixed-point loop ``x = F(x)`` with relative residual ``‖F(x) − x‖_F / scale``."""
    scale = scale if scale > 0.0 else 1.0
    history: list[float] = []
    x = x0
    fx = F(x)
    first = None
    # Anderson state: recent iterates' residuals g_k = F(x_k) - x_k and images F(x_k).
    G_hist: list[torch.Tensor] = []
    F_hist: list[torch.Tensor] = []
    for it in range(1, max_iter + 1):
        g = fx - x
        res = float(torch.linalg.vector_norm(g)) / scale
        if not math.isfinite(res) or not bool(torch.isfinite(fx).all()):
            history.append(float("nan"))
            return fx, SolveStatus.NONFINITE, it, float("nan"), tuple(history)
        history.append(res)
        if first is None:
            first = max(res, 1e-300)
        if res <= tol:
            return fx, SolveStatus.CONVERGED, it, res, tuple(history)
        if res > _DIVERGE_FACTOR * first:
            return fx, SolveStatus.DIVERGED, it, res, tuple(history)
        if method == "picard":
            x = fx
        else:
            G_hist.append(g.reshape(-1))
            F_hist.append(fx.reshape(-1))
            if len(G_hist) > anderson_memory + 1:
                G_hist.pop(0)
                F_hist.pop(0)
            if len(G_hist) == 1:
                x = fx
            else:
                # Type-II Anderson: minimise ‖Σ a_j g_j‖ subject to Σ a_j = 1, written with
                # differences; Tikhonov regularisation keeps the small LS problem well posed.
                Gm = torch.stack(G_hist, dim=1)  # (N, k)
                Fm = torch.stack(F_hist, dim=1)
                dG = Gm[:, 1:] - Gm[:, :-1]
                dF = Fm[:, 1:] - Fm[:, :-1]
                gram = dG.T @ dG
                reg = anderson_reg * float(torch.linalg.matrix_norm(gram)) + 1e-300
                gram = gram + reg * torch.eye(gram.shape[0], dtype=gram.dtype, device=gram.device)
                try:
                    coef = torch.linalg.solve(gram, dG.T @ Gm[:, -1])
                except RuntimeError:
                    coef = torch.zeros(dG.shape[1], dtype=gram.dtype, device=gram.device)
                x = (Fm[:, -1] - dF @ coef).reshape(fx.shape)
        fx = F(x)
    g = fx - x
    res = float(torch.linalg.vector_norm(g)) / scale
    return fx, SolveStatus.MAX_ITER, max_iter, res, tuple(history)


def solve_forward(
    A: torch.Tensor,
    Phi: torch.Tensor,
    gamma_tilde: float,
    *,
    method: str = "picard",
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    z0: torch.Tensor | None = None,
    throw: bool = False,
    anderson_memory: int = 5,
    anderson_reg: float = 1e-12,
) -> SolveResult:
    """Solve ``Z = σ(γ̃ Z Aᵀ + Φ)`` for all rows at once.

    Args:
        A: (m, m) implicit-layer weight.
        Phi: (n, m) features ``σ(X Wᵀ)/√m``.
        gamma_tilde: ``γ/√m``.
        method: ``"picard"`` (plain iteration, the paper's ``z^ℓ``) or ``"anderson"``.
        tol: relative residual tolerance (module docstring).
        max_iter: iteration cap.
        z0: start point (default 0, as in the paper).
        throw: raise :class:`~bounds.SolverError` instead of returning a failed status.
    """
    _check_common(tol, max_iter, method)
    with torch.no_grad():
        A = A.detach()
        Phi = Phi.detach()
        At = A.T
        rho = contraction_factor(A, gamma_tilde)

        def F(Z: torch.Tensor) -> torch.Tensor:
            return torch.relu(gamma_tilde * (Z @ At) + Phi)

        start = torch.zeros_like(Phi) if z0 is None else z0.detach().to(Phi)
        scale = float(torch.linalg.vector_norm(torch.relu(Phi)))
        value, status, iters, res, hist = _iterate(
            F, start, scale, tol=tol, max_iter=max_iter, method=method,
            anderson_memory=anderson_memory, anderson_reg=anderson_reg,
        )
    result = SolveResult(value, status, iters, res, hist, method, rho, "forward", tol)
    if throw:
        result.raise_if_failed()
    return result


def solve_adjoint(
    A: torch.Tensor,
    rhs: torch.Tensor,
    D: torch.Tensor,
    gamma_tilde: float,
    *,
    method: str = "picard",
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    throw: bool = False,
    anderson_memory: int = 5,
    anderson_reg: float = 1e-12,
) -> SolveResult:
    """Solve ``B = D ∘ (R + γ̃ B A)`` (rows: ``b_i = D_i (r_i + γ̃ Aᵀ b_i)``).

    Args:
        A: (m, m).
        rhs: ``u`` of shape (m,) (broadcast to every row: the ``b_i`` of G22 Lemma 2.3) or an
            (n, m) matrix of per-row right-hand sides (vector-Jacobian products).
        D: (n, m) activation pattern ``σ'(γ̃ Z Aᵀ + Φ)`` as 0/1 entries.
        gamma_tilde: ``γ/√m``.
    """
    _check_common(tol, max_iter, method)
    with torch.no_grad():
        A = A.detach()
        D = D.detach().to(A.dtype)
        R = rhs.detach()
        if R.ndim == 1:
            R = R.unsqueeze(0).expand_as(D)
        DR = D * R
        rho = contraction_factor(A, gamma_tilde)

        def F(B: torch.Tensor) -> torch.Tensor:
            return DR + D * (gamma_tilde * (B @ A))

        scale = float(torch.linalg.vector_norm(DR))
        value, status, iters, res, hist = _iterate(
            F, torch.zeros_like(DR), scale, tol=tol, max_iter=max_iter, method=method,
            anderson_memory=anderson_memory, anderson_reg=anderson_reg,
        )
    result = SolveResult(value, status, iters, res, hist, method, rho, "adjoint", tol)
    if throw:
        result.raise_if_failed()
    return result


def solve_forward_direct(
    A: torch.Tensor,
    Phi: torch.Tensor,
    gamma_tilde: float,
    *,
    max_patterns: int = 64,
    enumerate_up_to: int = 14,
) -> SolveResult:
    """Dense reference solve through the activation pattern (for small m; a test oracle).

    For a pattern ``D`` the equation is linear: ``(I − γ̃ D A) z = D φ``. Starting from the
    pattern of ``φ``, the pattern is updated to ``1[γ̃ A z + φ > 0]`` until it repeats (a
    semismooth Newton iteration); if that cycles, all ``2^m`` patterns are enumerated (``m ≤
    enumerate_up_to``) and the consistent one is returned. The solution is consistent when
    ``z = D(γ̃Az + φ)`` and the pre-activation is ``> 0`` on D and ``≤ 0`` off D.
    """
    with torch.no_grad():
        A64 = A.detach().to(torch.float64).cpu()
        P64 = Phi.detach().to(torch.float64).cpu()
        n, m = P64.shape
        eye = torch.eye(m, dtype=torch.float64)
        Z = torch.zeros_like(P64)
        worst = 0.0
        rho = contraction_factor(A64, gamma_tilde)

        def solve_pattern(mask: torch.Tensor, phi: torch.Tensor) -> torch.Tensor:
            Dm = torch.diag(mask)
            return torch.linalg.solve(eye - gamma_tilde * Dm @ A64, Dm @ phi)

        def consistent(z: torch.Tensor, phi: torch.Tensor) -> float:
            return float(torch.linalg.vector_norm(torch.relu(gamma_tilde * A64 @ z + phi) - z))

        for i in range(n):
            phi = P64[i]
            mask = (phi > 0).to(torch.float64)
            seen = set()
            z = None
            for _ in range(max_patterns):
                key = tuple(int(b) for b in mask.tolist())
                if key in seen:
                    z = None
                    break
                seen.add(key)
                z = solve_pattern(mask, phi)
                new_mask = ((gamma_tilde * A64 @ z + phi) > 0).to(torch.float64)
                if torch.equal(new_mask, mask):
                    break
                mask = new_mask
                z = None
            if z is None:
                if m > enumerate_up_to:
                    raise invalid("A", f"tensor of shape {tuple(A.shape)}",
                                  "pattern iteration cycled and m is too large to enumerate patterns",
                                  f"use m ≤ {enumerate_up_to} for the direct reference solve")
                best = None
                for bits in itertools.product((0.0, 1.0), repeat=m):
                    msk = torch.tensor(bits, dtype=torch.float64)
                    cand = solve_pattern(msk, phi)
                    err = consistent(cand, phi)
                    if best is None or err < best[0]:
                        best = (err, cand)
                z = best[1]
            Z[i] = z
            worst = max(worst, consistent(z, phi))
        scale = float(torch.linalg.vector_norm(P64)) or 1.0
        res = worst / scale
    value = Z.to(dtype=Phi.dtype, device=Phi.device)
    status = SolveStatus.CONVERGED if res <= 1e-10 else SolveStatus.MAX_ITER
    return SolveResult(value, status, 1, res, (res,), "direct", rho, "forward")
