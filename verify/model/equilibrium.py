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

Gauss–Seidel (``method="gauss-seidel"``). The spectrum of the linearised map ``γ̃ D A`` fills a
disc (circular law for the masked Gaussian ``A``), on which no Krylov method, Anderson included,
beats plain iteration: Anderson measures 1.00× Picard here. A block Gauss–Seidel sweep
(:func:`_gauss_seidel`) costs the same products as one map evaluation and contracts faster
(measured 0.044 against 0.086 per evaluation). Its stop is a Picard evaluation: when the
sweeps' increments predict the tolerance, ``F(x)`` is computed, and the solve stops only when
``‖F(x) − x‖/s ≤ tol`` and returns ``F(x)``, so its certified error is the Picard solver's,
``residual · s · ρ/(1 − ρ)``; a failed check is a Picard step and the sweeps go on. A sweep whose
increment grows (Gauss–Seidel is not guaranteed to contract where Picard does) switches the
solve to Picard for good.

Length (~720 lines): the forward, adjoint and direct solves share their argument checks, the
Picard/Anderson/Gauss–Seidel iterations and the certificate logic — Gauss–Seidel may stop only
through a Picard check step, so its certificate *is* Picard's; splitting the methods apart would
separate one contract (the stop rule and what it certifies) across files.
"""

from __future__ import annotations

import enum
import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from bounds._errors import SolverError, check_int, invalid

__all__ = [
    "SolveStatus",
    "SolveResult",
    "solve_forward",
    "solve_adjoint",
    "solve_forward_direct",
    "contraction_factor",
    "predicted_iterations",
    "DEFAULT_TOL",
    "DEFAULT_TOL_FLOAT32",
    "DEFAULT_MAX_ITER",
    "default_tol",
]

DEFAULT_TOL = 1e-12
DEFAULT_TOL_FLOAT32 = 1e-6
"""float32 default: the relative residual of a float32 Picard/adjoint iteration stagnates at
``≈ eps32·O(1/(1−ρ))`` (measured 2e-9 … 4e-7 for m ≤ 2000, ρ ≤ 1.8), so 1e-12 is unreachable
there; 1e-6 ≈ 8·eps32 is reachable and still far below any bound the toolkit compares with."""
DEFAULT_MAX_ITER = 500
_DIVERGE_FACTOR = 1e8  # residual growth (relative to the first one) that counts as divergence
_METHODS = ("picard", "anderson", "gauss-seidel")
DEFAULT_GS_BLOCK = 64
"""Smallest default block of the Gauss–Seidel sweep (:func:`gs_block_size`). Rate per sweep on
digits (128, 512), γ = 0.1: 0.052 (blocks of 128), 0.044 (64), 0.040 (32) against Picard's 0.086
per evaluation; smaller blocks make the block products (b×m)·(m×n) slower than one full product
(measured 1.3× per sweep at b = 64, n = 128 and at b = 64, m = 1000)."""


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
        contraction: ``γ̃‖A‖₂`` (the Lipschitz constant of the map), or a certified upper
            bound on it (see ``contraction_kind``); only reported, never used to stop.
        kind: ``"forward"`` or ``"adjoint"``.
        contraction_kind: ``"exact"`` (an SVD value) or ``"upper_bound"`` (a certified upper
            bound supplied by the caller, e.g. :class:`verify.model.certified.ContractionTracker`).
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
    contraction_kind: str = "exact"

    @property
    def converged(self) -> bool:
        return self.status.ok

    def message(self) -> str:
        """What happened and, on failure, what to change."""
        rel = "=" if self.contraction_kind == "exact" else "≤"
        head = (f"{self.kind} {self.method} solve: {self.status.value} "
                f"(iterations={self.iterations}, residual={self.residual:.3e}, "
                f"contraction γ̃‖A‖₂{rel}{self.contraction:.4f})")
        if self.status.ok:
            return head
        if self.contraction >= 1.0 and self.contraction_kind != "exact":
            return head + ("; the certified upper bound on γ̃‖A‖₂ is ≥ 1, so contraction is not "
                           "guaranteed: compute the exact value (verify.contraction_factor) and, if "
                           "it is ≥ 1 too, reduce γ or the step size")
        if self.contraction >= 1.0:
            return head + ("; the layer map is not a contraction (γ̃‖A‖₂ ≥ 1), so the equilibrium "
                           "need not exist or be unique: reduce γ (the paper's sufficient choice "
                           "is γ ≤ min(½, 1/(4c)), making γ̃‖A‖₂ ≤ ½)")
        if self.status is SolveStatus.MAX_ITER:
            predicted = predicted_iterations(self.contraction, self.tol)
            return head + (f"; raise max_iter (the contraction predicts ≈{predicted} iterations) "
                           "or loosen tol, or use method='anderson'")
        if self.status is SolveStatus.NONFINITE:
            return head + ("; an operand (A, Φ / right-hand side, D, z0) or an iterate holds NaN/Inf: "
                           "check the data and the parameters (a diverged training step produces this)")
        return head + "; reduce γ or the step size so that γ̃‖A‖₂ stays well below 1"

    def raise_if_failed(self) -> SolveResult:
        if not self.status.ok:
            raise SolverError(self.message())
        return self


def contraction_factor(A: torch.Tensor, gamma_tilde: float) -> float:
    """``γ̃‖A‖₂``: the Lipschitz constant of the layer map (float64 SVD); NaN if A is not finite."""
    A = _check_tensor(A, "A", 2)
    if A.shape[0] != A.shape[1] or A.shape[0] < 1:
        raise invalid("A", f"tensor of shape {tuple(A.shape)}", "must be square (m, m) with m ≥ 1",
                      "pass the network's m×m matrix A")
    gamma_tilde = _check_gamma_tilde(gamma_tilde)
    A64 = A.detach().to(torch.float64)
    if not bool(torch.isfinite(A64).all()):
        return float("nan")
    return float(gamma_tilde * torch.linalg.matrix_norm(A64, ord=2))


def predicted_iterations(rho: float, tol: float) -> int:
    """Map evaluations Picard-from-0 needs at most for relative residual ``tol``.

    The p-th evaluation sees residual ``‖X_p − X_{p−1}‖ ≤ ρ^{p−1} ‖X_1 − X_0‖`` (relative value
    ``≤ ρ^{p−1}``), so ``1 + ⌈log tol / log ρ⌉`` evaluations suffice. (In absolute terms this is
    the paper's ``‖z^p − z*‖ ≤ ρ^p ‖φ‖/(1−ρ)`` [G22 Lemma 2.2] applied to the residual.)
    ``ρ = 0`` (``A = 0``: the map is constant) gives 2. Returns -1 when ``ρ ∉ [0, 1)`` (no
    guarantee).

    Raises:
        InvalidArgument: ``tol`` not in (0, 1) or ``rho`` negative / not a number.
    """
    for name, val in (("rho", rho), ("tol", tol)):
        if isinstance(val, bool) or not isinstance(val, (int, float, np.floating, np.integer)):
            raise invalid(name, val, "expected a number", "pass rho = γ̃‖A‖₂ ≥ 0 and tol in (0, 1)")
    if not (math.isfinite(tol) and 0.0 < tol < 1.0):
        raise invalid("tol", tol, "must be a float in (0, 1)", "use e.g. tol=1e-12")
    if rho < 0.0:
        raise invalid("rho", rho, "must be a non-negative number", "pass rho = γ̃‖A‖₂")
    if math.isnan(rho) or rho >= 1.0:
        return -1  # NaN: A was not finite (contraction_factor's convention); no guarantee
    if rho == 0.0:
        return 2
    return 1 + max(0, math.ceil(math.log(tol) / math.log(rho)))


def gs_block_size(m: int, block: int | None = None) -> int:
    """Rows of ``A`` per Gauss–Seidel block: ``block`` when given, else ``max(64, ⌈m/8⌉)``
    (eight blocks, and none under 64 rows: at m = 1000 blocks of 125 ran 1.07× faster per GD
    step than Picard and blocks of 64 1.05× slower)."""
    if block is None:
        return min(m, max(DEFAULT_GS_BLOCK, -(-m // 8)))
    if isinstance(block, bool) or not isinstance(block, (int, np.integer)) or block < 1:
        raise invalid("gs_block", block, "must be an int ≥ 1 or None", "use e.g. gs_block=None (the default size)")
    return min(m, int(block))


def default_tol(dtype: torch.dtype) -> float:
    """Default relative-residual tolerance for ``dtype``: 1e-12 (float64), 1e-6 (float32)."""
    return DEFAULT_TOL_FLOAT32 if dtype == torch.float32 else DEFAULT_TOL


def _check_common(tol: float | None, max_iter: int, method: str) -> None:
    """Validate solver settings (``tol=None`` means the dtype's default)."""
    if tol is not None and not (
        not isinstance(tol, bool) and isinstance(tol, (int, float)) and math.isfinite(tol) and 0.0 < tol < 1.0
    ):
        raise invalid("tol", tol, "must be a float in (0, 1)", "use e.g. tol=1e-12 (float64) or 1e-6 (float32)")
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise invalid("max_iter", max_iter, "must be an int ≥ 1", "use e.g. max_iter=500")
    if not isinstance(method, str) or method not in _METHODS:
        raise invalid("method", method, f"unknown solver; choose one of {_METHODS}", "use method='picard'")


def _check_gamma_tilde(gamma_tilde: float) -> float:
    try:
        g = float(gamma_tilde)
    except (TypeError, ValueError):
        raise invalid("gamma_tilde", gamma_tilde, "expected a number", "pass γ/√m, e.g. 0.1/math.sqrt(m)") from None
    if isinstance(gamma_tilde, (bool, str)) or not math.isfinite(g) or g < 0.0:
        raise invalid("gamma_tilde", gamma_tilde, "must be a finite number ≥ 0", "pass γ/√m with γ in [0, 1)")
    return g


def _check_tensor(t: object, name: str, ndim: int) -> torch.Tensor:
    if not isinstance(t, torch.Tensor):
        raise invalid(name, type(t).__name__, "expected a torch.Tensor", f"convert with torch.as_tensor({name})")
    if t.ndim != ndim:
        raise invalid(name, f"tensor of shape {tuple(t.shape)}", f"expected a {ndim}-D tensor",
                      "see the docstring for the expected shapes")
    if t.dtype not in (torch.float64, torch.float32):
        raise invalid(name, f"tensor(dtype={t.dtype})", "only float64/float32 are supported", "convert with .double()")
    return t


def _check_operands(A: object, M: object, M_name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``A`` (m, m) and an (n, m) matrix of the same dtype and device (finiteness is not checked:
    non-finite operands give the NONFINITE status)."""
    A = _check_tensor(A, "A", 2)
    M = _check_tensor(M, M_name, 2)
    m = A.shape[0]
    if A.shape[1] != m or m < 1:
        raise invalid("A", f"tensor of shape {tuple(A.shape)}", "must be square (m, m) with m ≥ 1", "pass an m×m matrix")
    if M.shape[1] != m:
        raise invalid(M_name, f"tensor of shape {tuple(M.shape)}", f"expected shape (n, {m}) to match A",
                      "pass one row per sample and one column per hidden unit")
    if M.dtype != A.dtype:
        raise invalid(M_name, f"tensor(dtype={M.dtype})", f"dtype differs from A's {A.dtype}",
                      "give both operands the same dtype")
    if M.device != A.device:
        raise invalid(M_name, f"tensor(device={M.device})", f"device differs from A's {A.device}",
                      "put both operands on the same device")
    return A, M


def _all_finite(*ts: torch.Tensor) -> bool:
    """True iff every entry of every tensor is finite.

    One reduction per tensor and no temporary: a sum is finite only if every entry is (a NaN
    or ±inf entry makes it NaN or ±inf). Only when the sum is not finite (a non-finite entry,
    or overflow of huge finite entries) is the exact elementwise test run.
    """
    for t in ts:
        if not math.isfinite(float(t.sum())) and not bool(torch.isfinite(t).all()):
            return False
    return True


def _nonfinite_result(like: torch.Tensor, method: str, rho: float, kind: str, tol: float,
                      throw: bool) -> SolveResult:
    """NONFINITE result for non-finite operands (no iteration is run)."""
    value = torch.full(like.shape, float("nan"), dtype=like.dtype, device=like.device)
    result = SolveResult(value, SolveStatus.NONFINITE, 0, float("nan"), (), method, rho, kind, tol)
    if throw:
        result.raise_if_failed()
    return result


def _residual_step(fx: torch.Tensor, x: torch.Tensor, g: torch.Tensor, scale: float, tol: float,
                   first: float | None, history: list[float]
                   ) -> tuple[float, float | None, SolveStatus | None]:
    """One pass's bookkeeping, shared by Picard and Anderson: ``g ← fx − x``, the relative
    residual appended to ``history`` and ``(residual, first residual, stop status or None)``.
    A non-finite entry of fx (or x) makes ‖fx − x‖ inf or NaN, so the residual alone detects it
    without a separate pass over the array (NONFINITE, residual NaN)."""
    torch.sub(fx, x, out=g)
    res = float(torch.linalg.vector_norm(g)) / scale
    if not math.isfinite(res):
        history.append(float("nan"))
        return float("nan"), first, SolveStatus.NONFINITE
    history.append(res)
    if first is None:
        first = max(res, 1e-300)
    if res <= tol:
        return res, first, SolveStatus.CONVERGED
    if res > _DIVERGE_FACTOR * first:
        return res, first, SolveStatus.DIVERGED
    return res, first, None


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
    sweep: Any = None,
) -> tuple[torch.Tensor, SolveStatus, int, float, tuple[float, ...]]:
    """Generic fixed-point loop ``x = F(x)`` with relative residual ``‖F(x) − x‖_F / scale``.

    ``F(x, out)`` writes the map's value into ``out`` (same shape as ``x``, never aliasing it)
    and returns it. Picard runs in three preallocated buffers (two alternating iterates and
    the difference); ``x0`` is only read.
    """
    scale = scale if scale > 0.0 else 1.0
    history: list[float] = []
    first = None
    res = float("nan")
    g = torch.empty_like(x0)
    if method == "gauss-seidel":
        return _gauss_seidel(F, sweep, x0, scale, g, tol=tol, max_iter=max_iter)
    if method == "picard":
        x = x0
        fx = torch.empty_like(x0)
        # Exactly one map evaluation per pass, so ``iterations`` counts map evaluations and the
        # returned residual is always ``history[-1]``.
        for it in range(1, max_iter + 1):
            F(x, fx)
            res, first, stop = _residual_step(fx, x, g, scale, tol, first, history)
            if stop is not None:
                return fx, stop, it, res, tuple(history)
            nxt = x if x is not x0 else torch.empty_like(x0)  # reuse the old iterate's buffer
            x, fx = fx, nxt
        return x, SolveStatus.MAX_ITER, max_iter, res, tuple(history)  # x: the last map value
    # Anderson state: recent iterates' residuals g_k = F(x_k) - x_k and images F(x_k).
    x = x0
    G_hist: list[torch.Tensor] = []
    F_hist: list[torch.Tensor] = []
    fx = x0
    for it in range(1, max_iter + 1):
        fx = F(x, torch.empty_like(x0))
        res, first, stop = _residual_step(fx, x, g, scale, tol, first, history)
        if stop is not None:
            return fx, stop, it, res, tuple(history)
        G_hist.append(g.reshape(-1).clone())
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
    return fx, SolveStatus.MAX_ITER, max_iter, res, tuple(history)


def _gauss_seidel(F, sweep, x0: torch.Tensor, scale: float, g: torch.Tensor, *, tol: float,
                  max_iter: int) -> tuple[torch.Tensor, SolveStatus, int, float, tuple[float, ...]]:
    """Block Gauss–Seidel sweeps with Picard checks (module docstring).

    ``sweep(x)`` updates ``x`` in place block by block and returns ``‖x_new − x_old‖_F``;
    ``F(x, out)`` is the map. ``iterations`` counts sweeps plus checks (each costs the products
    of one map evaluation); ``history`` holds the sweeps' relative increments and the checks'
    relative residuals; the returned residual is always a check's ``‖F(x) − x‖/s``.
    """
    history: list[float] = []
    first: float | None = None
    x = x0.clone()
    fx = torch.empty_like(x0)
    prev: float | None = None
    ratio: float | None = None  # check residual / the increment before it, once measured
    picard = False
    res = float("nan")
    for it in range(1, max_iter + 1):
        due = picard or it == max_iter
        if not due and prev is not None:
            # predicted residual of x: the last increment times the measured ratio, or the
            # geometric tail q/(1 − q) of the observed sweep rate q before the first check
            q = min(history[-1] / max(history[-2], 1e-300), 0.99) if len(history) >= 2 else 0.99
            due = prev * (ratio if ratio is not None else q / (1.0 - q)) <= tol
        if due:
            F(x, fx)
            res, first, stop = _residual_step(fx, x, g, scale, tol, first, history)
            if stop is not None:
                return fx, stop, it, res, tuple(history)
            if prev is not None and not picard:
                ratio = res / max(prev, 1e-300)
            x, fx = fx, x
            prev = None
            continue
        delta = float(sweep(x)) / scale
        if not math.isfinite(delta):
            history.append(float("nan"))
            return x, SolveStatus.NONFINITE, it, float("nan"), tuple(history)
        history.append(delta)
        first = max(delta, 1e-300) if first is None else first
        if delta > _DIVERGE_FACTOR * first:
            return x, SolveStatus.DIVERGED, it, delta, tuple(history)
        if prev is not None and delta >= prev:
            picard = True  # the sweeps stopped contracting: plain iteration from here on
        prev = delta
    return x, SolveStatus.MAX_ITER, max_iter, res, tuple(history)


def _transposed_gs(M: torch.Tensor, CT: torch.Tensor, maskT: torch.Tensor | None, gamma_tilde: float,
                   start: torch.Tensor, scale: float, tol: float, max_iter: int, block: int | None
                   ) -> tuple[torch.Tensor, SolveStatus, int, float, tuple[float, ...]]:
    """Gauss–Seidel on the transposed iterate ``Xᵀ`` (m, n), whose blocks of rows are contiguous.

    Forward (``maskT is None``): ``x ↦ σ(γ̃ M x + c)`` with ``M = A``, ``c = Φᵀ``; adjoint:
    ``x ↦ Dᵀ∘(γ̃ M x) + c`` with ``M = Aᵀ``, ``c = (D∘R)ᵀ``. Returns the solution as (n, m)."""
    m = M.shape[0]
    step = gs_block_size(m, block)
    blocks = [slice(j, min(j + step, m)) for j in range(0, m, step)]
    buf = torch.empty((step, CT.shape[1]), dtype=CT.dtype, device=CT.device)
    old = torch.empty_like(CT)
    gmaskT = None if maskT is None else maskT * gamma_tilde

    def F(x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        # the map, the same products as the sweep's blocks: relu(γ̃·Mx + c) or γ̃Dᵀ∘(Mx) + c
        if gmaskT is None:
            return torch.addmm(CT, M, x, alpha=gamma_tilde, out=out).relu_()
        torch.mm(M, x, out=out)
        return out.mul_(gmaskT).add_(CT)

    def sweep(x: torch.Tensor) -> float:
        old.copy_(x)
        for j in blocks:
            v = buf[: j.stop - j.start]
            if gmaskT is None:
                torch.clamp_min(torch.addmm(CT[j], M[j], x, alpha=gamma_tilde, out=v), 0.0, out=x[j])
            else:
                torch.addcmul(CT[j], gmaskT[j], torch.mm(M[j], x, out=v), out=x[j])
        return float(torch.linalg.vector_norm(old.sub_(x)))

    valueT, status, iters, res, hist = _iterate(
        F, start.T.contiguous(), scale, tol=tol, max_iter=max_iter, method="gauss-seidel",
        anderson_memory=0, anderson_reg=0.0, sweep=sweep)
    return valueT.T.contiguous(), status, iters, res, hist


def _contraction_arg(contraction: Any, A: torch.Tensor, gamma_tilde: float) -> tuple[float, str]:
    """``(ρ, kind)`` from the caller's ``contraction`` (None → one SVD)."""
    if contraction is None:
        return contraction_factor(A, gamma_tilde), "exact"
    kind = getattr(contraction, "kind", None)
    if kind is not None:  # a verify.model.certified.CertifiedValue
        if kind.value == "lower":
            raise invalid("contraction", contraction, "a lower bound cannot stand for γ̃‖A‖₂",
                          "pass an exact value or a certified upper bound (ContractionTracker.update)")
        return float(contraction.value), ("exact" if kind.value == "exact" else "upper_bound")
    if isinstance(contraction, bool) or not isinstance(contraction, (int, float, np.floating)):
        raise invalid("contraction", contraction, "expected a number or a CertifiedValue",
                      "pass γ̃‖A‖₂ or ContractionTracker.update(A)")
    return float(contraction), "exact"


def solve_forward(
    A: torch.Tensor,
    Phi: torch.Tensor,
    gamma_tilde: float,
    *,
    method: str = "picard",
    tol: float | None = None,
    max_iter: int = DEFAULT_MAX_ITER,
    z0: torch.Tensor | None = None,
    throw: bool = False,
    anderson_memory: int = 5,
    anderson_reg: float = 1e-12,
    contraction: Any = None,
    gs_block: int | None = None,
) -> SolveResult:
    """Solve ``Z = σ(γ̃ Z Aᵀ + Φ)`` for all rows at once.

    Args:
        A: (m, m) implicit-layer weight.
        Phi: (n, m) features ``σ(X Wᵀ)/√m``.
        gamma_tilde: ``γ/√m``.
        method: ``"picard"`` (plain iteration, the paper's ``z^ℓ``), ``"anderson"`` or
            ``"gauss-seidel"`` (block sweeps with Picard checks, module docstring; ``gs_block``
            rows of ``A`` per block, ``None``: :func:`gs_block_size`).
        tol: relative residual tolerance (module docstring); ``None`` (default) means
            :func:`default_tol` of ``Phi``'s dtype (1e-12 float64, 1e-6 float32).
        max_iter: iteration cap.
        z0: start point (default 0, as in the paper), shape (n, m) like ``Phi``.
        throw: raise :class:`~bounds.SolverError` instead of returning a failed status.
        contraction: ``γ̃‖A‖₂`` when the caller already has it (saves one SVD per solve; it
            is only reported, never used to decide convergence): a float (taken as exact) or a
            :class:`verify.model.certified.CertifiedValue` (exact or a certified upper bound; the
            result's ``contraction_kind`` says which).

    Raises:
        InvalidArgument: wrong shapes/dtypes/devices, ``gamma_tilde`` not positive and finite,
            bad ``tol``/``max_iter``/``method``. Non-finite ``Phi`` is not an error: it gives
            the ``NONFINITE`` status.
    """
    _check_common(tol, max_iter, method)
    A, Phi = _check_operands(A, Phi, "Phi")
    gamma_tilde = _check_gamma_tilde(gamma_tilde)
    tol = default_tol(Phi.dtype) if tol is None else float(tol)
    max_iter = int(max_iter)
    if z0 is not None:
        if not isinstance(z0, torch.Tensor) or tuple(z0.shape) != tuple(Phi.shape):
            shown = f"tensor of shape {tuple(z0.shape)}" if isinstance(z0, torch.Tensor) else type(z0).__name__
            raise invalid("z0", shown, f"expected a tensor of shape {tuple(Phi.shape)} like Phi",
                          "pass the previous Z (n, m) or None to start from 0")
    with torch.no_grad():
        A = A.detach()
        Phi = Phi.detach()
        At = A.T
        rho, rho_kind = _contraction_arg(contraction, A, gamma_tilde)

        def F(Z: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
            # relu(γ̃·(Z Aᵀ) + Φ) in place, the same operations (bit for bit) as the formula
            torch.mm(Z, At, out=out)
            return out.mul_(gamma_tilde).add_(Phi).relu_()

        start = torch.zeros_like(Phi) if z0 is None else z0.detach().to(Phi)
        if not _all_finite(A, Phi, start):
            # Checked up front: a -inf in Φ would otherwise be absorbed by the ReLU and the
            # "solution" reported as converged.
            return _nonfinite_result(Phi, method, rho, "forward", tol, throw)
        scale = float(torch.linalg.vector_norm(torch.relu(Phi)))
        if method == "gauss-seidel":
            value, status, iters, res, hist = _transposed_gs(
                A, Phi.T.contiguous(), None, gamma_tilde, start, scale, tol, max_iter, gs_block)
        else:
            value, status, iters, res, hist = _iterate(
                F, start, scale, tol=tol, max_iter=max_iter, method=method,
                anderson_memory=anderson_memory, anderson_reg=anderson_reg,
            )
    result = SolveResult(value, status, iters, res, hist, method, rho, "forward", tol, rho_kind)
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
    tol: float | None = None,
    max_iter: int = DEFAULT_MAX_ITER,
    throw: bool = False,
    anderson_memory: int = 5,
    anderson_reg: float = 1e-12,
    contraction: Any = None,
    b0: torch.Tensor | None = None,
    gs_block: int | None = None,
) -> SolveResult:
    """Solve ``B = D ∘ (R + γ̃ B A)`` (rows: ``b_i = D_i (r_i + γ̃ Aᵀ b_i)``).

    Args:
        A: (m, m).
        rhs: ``u`` of shape (m,) (broadcast to every row: the ``b_i`` of G22 Lemma 2.3) or an
            (n, m) matrix of per-row right-hand sides (vector-Jacobian products).
        D: (n, m) activation pattern ``σ'(γ̃ Z Aᵀ + Φ)`` as 0/1 entries.
        gamma_tilde: ``γ/√m``.
        method, tol, max_iter, throw, contraction, gs_block: as in :func:`solve_forward`.
        b0: start point (default 0), shape (n, m) like ``D``: e.g. the previous GD step's ``B``
            (the adjoint's warm start, like ``z0`` for the forward solve).
    """
    _check_common(tol, max_iter, method)
    if not isinstance(D, torch.Tensor):
        raise invalid("D", type(D).__name__, "expected a torch.Tensor", "pass the 0/1 pattern as a tensor")
    if D.dtype == torch.bool and isinstance(A, torch.Tensor):
        D = D.to(A.dtype)
    A, D = _check_operands(A, D, "D")
    if not isinstance(rhs, torch.Tensor):
        raise invalid("rhs", type(rhs).__name__, "expected a torch.Tensor", "pass u (m,) or ∂ℓ/∂Z (n, m)")
    if tuple(rhs.shape) not in ((A.shape[0],), tuple(D.shape)):
        raise invalid("rhs", f"tensor of shape {tuple(rhs.shape)}", f"expected ({A.shape[0]},) or {tuple(D.shape)}",
                      "pass u (m,) or one right-hand side row per sample")
    if rhs.dtype != A.dtype or rhs.device != A.device:
        raise invalid("rhs", f"tensor(dtype={rhs.dtype}, device={rhs.device})",
                      f"must match A's dtype {A.dtype} and device {A.device}", "convert with .to(A)")
    gamma_tilde = _check_gamma_tilde(gamma_tilde)
    tol = default_tol(A.dtype) if tol is None else float(tol)
    max_iter = int(max_iter)
    if b0 is not None:
        if not isinstance(b0, torch.Tensor) or tuple(b0.shape) != tuple(D.shape):
            shown = f"tensor of shape {tuple(b0.shape)}" if isinstance(b0, torch.Tensor) else type(b0).__name__
            raise invalid("b0", shown, f"expected a tensor of shape {tuple(D.shape)} like D",
                          "pass the previous B (n, m) or None to start from 0")
    with torch.no_grad():
        A = A.detach()
        D = D.detach().to(A.dtype)
        R = rhs.detach()
        rho, rho_kind = _contraction_arg(contraction, A, gamma_tilde)
        start = torch.zeros_like(D) if b0 is None else b0.detach().to(D)
        if not _all_finite(A, D, R, start):
            return _nonfinite_result(D, method, rho, "adjoint", tol, throw)
        DR = D * R  # a vector R broadcasts over rows
        scale = float(torch.linalg.vector_norm(DR))

        def F(B: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
            # DR + D∘(γ̃·(B A)) in place, the same operations (bit for bit) as the formula
            torch.mm(B, A, out=out)
            return out.mul_(gamma_tilde).mul_(D).add_(DR)

        if method == "gauss-seidel":
            value, status, iters, res, hist = _transposed_gs(
                A.T.contiguous(), (DR if DR.shape == D.shape else DR.expand_as(D)).T.contiguous(),
                D.T.contiguous(), gamma_tilde, start, scale, tol, max_iter, gs_block)
        else:
            value, status, iters, res, hist = _iterate(
                F, start, scale, tol=tol, max_iter=max_iter, method=method,
                anderson_memory=anderson_memory, anderson_reg=anderson_reg,
            )
    result = SolveResult(value, status, iters, res, hist, method, rho, "adjoint", tol, rho_kind)
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

    Raises:
        InvalidArgument: malformed ``A``/``Phi``/``gamma_tilde``, non-finite operands, or a
            pattern cycle with ``m > enumerate_up_to``.
    """
    A, Phi = _check_operands(A, Phi, "Phi")
    gamma_tilde = _check_gamma_tilde(gamma_tilde)
    check_int("max_patterns", max_patterns, 1, fix="use e.g. max_patterns=64")
    check_int("enumerate_up_to", enumerate_up_to, 0, 24,
              fix="use e.g. enumerate_up_to=14 (2**enumerate_up_to patterns are tried)")
    if not _all_finite(A, Phi):
        raise invalid("Phi", "tensor with non-finite entries", "the direct solve needs finite operands",
                      "pass finite A and Phi")
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
                assert best is not None  # m ≥ 1, so at least one pattern was tried
                z = best[1]
            Z[i] = z
            worst = max(worst, consistent(z, phi))
        scale = float(torch.linalg.vector_norm(P64)) or 1.0
        res = worst / scale
    value = Z.to(dtype=Phi.dtype, device=Phi.device)
    status = SolveStatus.CONVERGED if res <= 1e-10 else SolveStatus.MAX_ITER
    return SolveResult(value, status, 1, res, (res,), "direct", rho, "forward")
