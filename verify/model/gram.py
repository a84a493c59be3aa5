r"""Gram matrices of the G22 implicit network: the empirical NTK in O(n²m), its reference
Jacobian path, and smallest eigenvalues (digest A §4, §6, §9 items 1–2).

Per-sample gradients of ``ŷ_i = uᵀz_i + vᵀφ_i`` [G22 Lemma 2.3], with ``b_i`` the adjoint rows
(``b_i = D_i(u + γ̃Aᵀb_i) = D_i(I − γ̃D_iA)^{-T}u``, ``state.B``):

.. math::
    \partial ŷ_i/\partial u = z_i,\quad \partial ŷ_i/\partial v = φ_i,\quad
    \partial ŷ_i/\partial A = γ̃\, b_i z_iᵀ,\quad
    \partial ŷ_i/\partial W = m^{-1/2} E_i(b_i + v)\, x_iᵀ.

The inner product of two rank-one matrices is ``⟨a cᵀ, b dᵀ⟩ = (aᵀb)(cᵀd)``, so every block of
``H_ij = ⟨∂ŷ_i/∂θ, ∂ŷ_j/∂θ⟩`` is a Hadamard product of n×n Gram factors:

=========  =====================================================================
``H_u``    ``ZZᵀ``
``H_v``    ``ΦΦᵀ``  (``= G``)
``H_A``    ``γ̃² (BBᵀ) ∘ (ZZᵀ) = γ² M ∘ ZZᵀ`` with ``M = BBᵀ/m``
``H_W``    ``(1/m)(QQᵀ) ∘ (XXᵀ)`` with rows ``q_i = E_i(b_i + v)``
``H``      ``(γ²M + 𝟙𝟙ᵀ) ∘ ZZᵀ + Q∘XXᵀ + ΦΦᵀ``   (the corrected eq. 14; ``Q`` here ``= QQᵀ/m``)
=========  =====================================================================

Cost: four (n×m)·(m×n) products, O(n²m), from a :class:`~verify.NetState` (whose forward and
adjoint solves cost O(n m² · iterations)). No n×m² Jacobian is formed.

``H ⪰ K = ZZᵀ + ΦΦᵀ ⪰ G = ΦΦᵀ`` in the Loewner order, because ``H − K = H_A + H_W`` and
``K − G = ZZᵀ`` are Hadamard products of positive semidefinite matrices (Schur product
theorem).

The paper's printed formulas are available for documentation of its known issues:
:func:`paper_eq14_as_printed` (``I_n`` instead of ``𝟙𝟙ᵀ``) and :func:`paper_eq16_as_printed`
(``(I − γ̃D_iA)^{-1}`` instead of the transpose-inverse). Only the corrected forms agree with the
Jacobian Gram from :func:`jacobian_gram` (see ``tests/verify/test_gram.py``).

Length (~500 lines): the structured Gram, the paper's printed variants and the Jacobian
references it is tested against belong together (the references exist to check the blocks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from bounds._args import check_seed
from bounds._errors import SolverError, check_bool, check_int, invalid
from verify.model.network import ImplicitNetwork, NetState, state_matches
from verify.model.validate import check_network_memory

__all__ = [
    "GramBlocks",
    "PaperVariant",
    "EigResult",
    "gram_blocks",
    "jacobian_gram",
    "paper_eq14_as_printed",
    "paper_eq16_as_printed",
    "adjoint_dense",
    "lambda_min",
    "lambda_min_iterative",
    "unrolled_depth",
]

_BLOCKS = ("A", "W", "u", "v")


@dataclass(frozen=True)
class GramBlocks:
    """Structured empirical NTK of the implicit network at one state.

    All matrices are (n, n), in the network's dtype and on its device.

    Attributes:
        H_A: ``γ² M ∘ ZZᵀ`` (A-block), ``M = BBᵀ/m``.
        H_W: ``Q ∘ XXᵀ`` (W-block), ``Q = (1/m)[E_i(b_i+v)]ᵀ[E_j(b_j+v)]``.
        H_u: ``ZZᵀ`` (u-block).
        H_v: ``ΦΦᵀ`` (v-block).
        H: ``H_A + H_W + H_u + H_v`` (corrected G22 eq. 14).
        G: ``ΦΦᵀ`` (feature Gram; equals ``H_v``).
        K: ``ZZᵀ + ΦΦᵀ`` (used by the GD proof, Lemma 3.6).
        M: ``BBᵀ/m`` (G22 eq. 15).
        Q: ``(1/m) Q_rows Q_rowsᵀ`` (G22 eq. 16, transpose-inverse reading).
        gamma: γ of the network.
        m: width.
    """

    H_A: torch.Tensor
    H_W: torch.Tensor
    H_u: torch.Tensor
    H_v: torch.Tensor
    H: torch.Tensor
    G: torch.Tensor
    K: torch.Tensor
    M: torch.Tensor
    Q: torch.Tensor
    gamma: float
    m: int

    @property
    def n(self) -> int:
        return int(self.H.shape[0])

    def blocks(self) -> dict[str, torch.Tensor]:
        """The four parameter blocks keyed ``"A", "W", "u", "v"`` (as :func:`jacobian_gram`)."""
        return {"A": self.H_A, "W": self.H_W, "u": self.H_u, "v": self.H_v}


@dataclass(frozen=True)
class PaperVariant:
    """A Gram matrix built from one of the paper's formulas exactly as printed.

    Attributes:
        H: the full (n, n) matrix that the printed formula gives.
        block: the (n, n) block that differs from the correct one.
        block_name: ``"u"`` (eq. 14) or ``"W"`` (eq. 16).
        issue: which known issue (digest A §9) this documents.
    """

    H: torch.Tensor
    block: torch.Tensor
    block_name: str
    issue: str


@dataclass(frozen=True)
class EigResult:
    """Smallest eigenvalue from an iterative method, with its accuracy certificate.

    For a symmetric ``M`` and a unit vector ``x``, some eigenvalue of ``M`` lies within
    ``residual = ‖Mx − λx‖₂`` of ``λ = xᵀMx`` (residual bound for symmetric matrices). That the
    eigenvalue found is the *smallest* one is what the iteration aims at, not what the residual
    proves; compare with :func:`lambda_min` when n is small enough.

    Attributes:
        value: the Rayleigh quotient ``xᵀMx``.
        residual: ``‖Mx − value·x‖₂`` (absolute).
        tol: requested relative tolerance.
        method: ``"lobpcg"`` or ``"lanczos"``.
        norm_estimate: ``‖M‖_F`` (scale for the relative accuracy ``residual / norm_estimate``).
        vector: the unit eigenvector estimate (n,), float64, on the CPU.
    """

    value: float
    residual: float
    tol: float
    method: str
    norm_estimate: float
    vector: np.ndarray

    @property
    def accurate(self) -> bool:
        """``residual ≤ tol · ‖M‖_F``: the requested accuracy was reached."""
        return self.residual <= self.tol * max(self.norm_estimate, np.finfo(np.float64).tiny)


# ------------------------------------------------------------------ argument handling
def _net_and_state(a: Any, b: Any, check: bool) -> tuple[ImplicitNetwork, NetState]:
    """Accept ``(net, state)`` (documented) and ``(state, net)`` (docs/CONTRACTS.md order)."""
    if isinstance(a, NetState) and isinstance(b, ImplicitNetwork):
        a, b = b, a
    net, state = a, b
    if not isinstance(net, ImplicitNetwork):
        raise invalid("net", type(net).__name__, "expected an ImplicitNetwork",
                      "call gram_blocks(net, net.state(X, y))")
    if not isinstance(state, NetState):
        raise invalid("state", type(state).__name__, "expected a NetState",
                      "compute it with net.state(X, y)")
    state_matches(net, state, check_fresh=check)
    if check:
        if not state.fwd.converged:
            raise SolverError("gram_blocks: " + state.fwd.message())
        if not state.adj.converged:
            raise SolverError("gram_blocks: " + state.adj.message())
    return net, state


# ------------------------------------------------------------------ structured Gram
def gram_blocks(net: Any, state: Any, *, check: bool = True) -> GramBlocks:
    r"""Structured empirical NTK ``H = H_A + H_W + H_u + H_v``, ``G`` and ``K`` in O(n²m).

    Formulas: module docstring (G22 Lemma 3.1, eq. 14–16, with the two corrections of digest A
    §9 items 1–2). ``(state, net)`` is accepted too (docs/CONTRACTS.md order).

    Args:
        net: the :class:`~verify.ImplicitNetwork` whose parameters produced ``state``.
        state: ``net.state(X, y)`` (``y`` does not enter the Gram matrices).
        check: raise :class:`~bounds.SolverError` if a solve of the state did not converge,
            and :class:`~bounds.InvalidArgument` if the state is stale (``Zu + Φv ≠ ŷ``).

    Returns:
        :class:`GramBlocks` with (n, n) tensors in the network's dtype and device.
    """
    net, state = _net_and_state(net, state, check)
    m = net.m
    with torch.no_grad():
        Z, Phi, B, E, X = state.Z, state.Phi, state.B, state.E, state.X
        v = net.v.detach()
        ZZ = Z @ Z.T
        PP = Phi @ Phi.T
        M = (B @ B.T) / m
        Qr = E * (B + v[None, :])
        Q = (Qr @ Qr.T) / m
        XX = X @ X.T
        H_A = (net.gamma ** 2) * M * ZZ
        H_W = Q * XX
        H_u = ZZ
        H_v = PP
        H = H_A + H_W + H_u + H_v
        K = ZZ + PP
    return GramBlocks(H_A=H_A, H_W=H_W, H_u=H_u, H_v=H_v, H=H, G=PP, K=K, M=M, Q=Q,
                      gamma=float(net.gamma), m=m)


def paper_eq14_as_printed(net: Any, state: Any, *, check: bool = True) -> PaperVariant:
    r"""G22 eq. 14 as printed: ``(γ²M + I_n) ∘ ZZᵀ + Q ∘ XXᵀ + ΦΦᵀ``.

    The ``I_n`` keeps only the diagonal of the u-block ``ZZᵀ``; the derivation (App. A.3) and
    autograd give ``𝟙𝟙ᵀ`` (digest A §9 item 1). Everything else is the corrected formula, so
    the difference to :func:`gram_blocks` is exactly ``ZZᵀ − diag(ZZᵀ)``.
    """
    gb = gram_blocks(net, state, check=check)
    block = torch.diag(torch.diagonal(gb.H_u))
    H = gb.H_A + gb.H_W + block + gb.H_v
    return PaperVariant(H=H, block=block, block_name="u",
                        issue="G22 eq. 14 prints γ²M + I_n; the u-block needs the all-ones 𝟙𝟙ᵀ")


def adjoint_dense(net: Any, state: Any, *, inverse: str = "transpose", max_m: int = 512) -> torch.Tensor:
    r"""Adjoint rows by dense per-sample solves (small m; a test oracle).

    ``inverse="transpose"``: ``b_i = D_i (I − γ̃D_iA)^{-T} u`` (G22 eq. 12, correct; equals
    ``state.B`` up to the solver tolerance). ``inverse="printed"``:
    ``b̃_i = D_i (I − γ̃D_iA)^{-1} u`` (G22 eq. 16 as printed). Cost O(n m³).
    """
    if inverse not in ("transpose", "printed"):
        raise invalid("inverse", inverse, "choose 'transpose' (eq. 12) or 'printed' (eq. 16)",
                      "use inverse='transpose'")
    check_int("max_m", max_m, 1, fix="use e.g. max_m=512")
    net, state = _net_and_state(net, state, check=False)
    m = net.m
    if m > max_m:
        raise invalid("net", f"ImplicitNetwork(m={m})", f"dense per-sample solves need m ≤ {max_m}",
                      "use state.B (the iterative adjoint) for wide networks, or raise max_m")
    with torch.no_grad():
        A = net.A.detach()
        u = net.u.detach()
        eye = torch.eye(m, dtype=A.dtype, device=A.device)
        rows = []
        for i in range(state.D.shape[0]):
            Di = state.D[i]
            T = eye - net.gamma_tilde * (Di[:, None] * A)  # I − γ̃ D_i A
            if inverse == "transpose":
                T = T.T
            rows.append(Di * torch.linalg.solve(T, u))
        return torch.stack(rows)


def paper_eq16_as_printed(
    net: Any,
    state: Any,
    *,
    inverse: str = "printed",
    factors: str = "both",
    check: bool = True,
) -> PaperVariant:
    r"""W-block with G22 eq. 16's ``Q`` computed exactly as printed, by dense solves (small m).

    ``Q_ij = (1/m) [E_i(b̃_i + v)]ᵀ [E_j(b̃_j + v)]`` with ``b̃_i = D_i(I − γ̃D_iA)^{-1}u``
    (``inverse="printed"``) or the gradient's ``b_i = D_i(I − γ̃D_iA)^{-T}u`` (``"transpose"``,
    G22 eq. 12; reproduces :func:`gram_blocks` and autograd). Digest A §9 item 2 locates the
    printed inverse in the *first* factor only; ``factors="first"`` uses ``b̃`` there and the
    correct ``b`` in the second (a non-symmetric matrix), ``factors="both"`` uses ``b̃`` in both.
    The other blocks are the corrected ones, so the difference isolates this issue.

    When do the two coincide? ``b̃_i − b_i = Σ_{k≥1}(γ̃D_iA)^k u − Σ_{k≥1}(γ̃D_iAᵀ)^k D_i u``;
    for symmetric A this is ``γ̃D_iA(I − γ̃D_iA)^{-1}(I − D_i)u``, zero e.g. when all units are
    active (``D_i = I``) but not for symmetric A alone.
    """
    if factors not in ("both", "first"):
        raise invalid("factors", factors, "choose 'both' or 'first'", "use factors='both'")
    gb = gram_blocks(net, state, check=check)
    net, state = _net_and_state(net, state, check=False)
    m = net.m
    with torch.no_grad():
        v = net.v.detach()
        Bt = adjoint_dense(net, state, inverse=inverse)
        Q1 = state.E * (Bt + v[None, :])
        if factors == "both":
            Q2 = Q1
        else:
            Q2 = state.E * (adjoint_dense(net, state, inverse="transpose") + v[None, :])
        block = ((Q1 @ Q2.T) / m) * (state.X @ state.X.T)
        H = gb.H_A + block + gb.H_u + gb.H_v
    issue = ("G22 eq. 16 prints (I − γ̃D_iA)^{-1} in Q; the gradient (eq. 12) needs "
             "(I − γ̃D_iA)^{-T}")
    return PaperVariant(H=H, block=block, block_name="W", issue=issue)


# ------------------------------------------------------------------ reference Jacobian Gram
#: most unrolled Picard steps: ρ^depth ≤ 1e-18 needs depth ≤ 10^5 down to ρ = 0.9996, and
#: each step is an O(n·m²) product differentiated by autograd
MAX_UNROLL_DEPTH = 100_000


def unrolled_depth(rho: float, target: float = 1e-18) -> int:
    r"""Picard steps for the unrolled reference: ``2⌈log(target)/log ρ⌉ + 20``.

    The derivative of ``L`` unrolled steps differs from the implicit derivative by terms
    ``∏(γ̃D^{(k)}A)`` over the last ``L − ℓ₀`` steps (ℓ₀: the step after which the activation
    pattern is final), i.e. ``O(ρ^{L−ℓ₀})``. Doubling the count that takes ``ρ^p`` to ``target``
    leaves room for ℓ₀.
    """
    if not (0.0 < rho < 1.0):
        raise invalid("rho", rho, "the layer map is not a contraction (γ̃‖A‖₂ ∉ (0, 1))",
                      "reduce γ so that γ̃‖A‖₂ < 1; the unrolled reference needs a contraction")
    return 2 * math.ceil(math.log(target) / math.log(rho)) + 20


def _jacobian_unrolled(net: ImplicitNetwork, X: torch.Tensor, depth: int | None) -> dict[str, torch.Tensor]:
    """Per-sample Jacobian by differentiating through ``depth`` plain Picard steps.

    Shares no code with the implicit backward or the adjoint solver: ``torch.func.jacrev`` of a
    plain loop, vmapped over samples.
    """
    params = {k: getattr(net, k).detach() for k in _BLOCKS}
    m = net.m
    gt = net.gamma_tilde
    if depth is None:
        rho = float(gt * torch.linalg.matrix_norm(params["A"], ord=2))
        depth = unrolled_depth(rho)
    sqrt_m = math.sqrt(m)

    def yhat_one(p: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        phi = torch.relu(p["W"] @ x) / sqrt_m
        z = torch.zeros_like(phi)
        for _ in range(depth):
            z = torch.relu(gt * (p["A"] @ z) + phi)
        return p["u"] @ z + p["v"] @ phi

    jac = torch.func.vmap(torch.func.jacrev(yhat_one), in_dims=(None, 0))(params, X)
    return {k: jac[k].reshape(X.shape[0], -1) for k in _BLOCKS}


def _jacobian_autograd(net: ImplicitNetwork, X: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-sample Jacobian through ``net.forward`` (implicit custom backward), one sample at a time."""
    params = [getattr(net, k) for k in _BLOCKS]
    rows: dict[str, list[torch.Tensor]] = {k: [] for k in _BLOCKS}
    with torch.enable_grad():
        for i in range(X.shape[0]):
            yi = net.forward(X[i:i + 1])
            grads = torch.autograd.grad(yi.sum(), params)
            for k, g in zip(_BLOCKS, grads, strict=True):
                rows[k].append(g.reshape(-1))
    return {k: torch.stack(rows[k]) for k in _BLOCKS}


def jacobian_gram(
    net: ImplicitNetwork,
    X: Any,
    *,
    method: str = "unrolled",
    depth: int | None = None,
    return_jacobian: bool = False,
    allow_large: bool = False,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    r"""Reference empirical NTK ``H = JJᵀ`` from the explicit n×P Jacobian (P = m² + md + 2m).

    Args:
        net: the network.
        X: (n, d) data.
        method: ``"unrolled"`` — autograd (``torch.func.jacrev``, vmapped over samples) through
            ``depth`` plain Picard steps from 0, independent of the adjoint code;
            ``"autograd"`` — ``torch.autograd.grad`` of ``net.forward(X[i:i+1])`` for each i,
            through the network's implicit custom backward (one forward and one adjoint solve
            per sample).
        depth: unrolled steps (default :func:`unrolled_depth` of the measured contraction).
        return_jacobian: also return the per-block Jacobians under keys ``"J_A"`` … ``"J_v"``.
        allow_large: skip the memory estimate of the Jacobian (refused beyond the free memory).

    Returns:
        ``(H, blocks)`` with ``blocks`` keyed ``"A", "W", "u", "v"`` (each ``J_p J_pᵀ``).
        Memory: the n×P Jacobian (``8·n·P`` bytes in float64).
    """
    if not isinstance(net, ImplicitNetwork):
        raise invalid("net", type(net).__name__, "expected an ImplicitNetwork", "pass the network")
    if method not in ("unrolled", "autograd"):
        raise invalid("method", method, "choose 'unrolled' or 'autograd'", "use method='unrolled'")
    if depth is not None:
        if method != "unrolled":
            raise invalid("depth", depth, "only used with method='unrolled'", "drop depth=")
        check_int("depth", depth, 1, MAX_UNROLL_DEPTH,
                  f"pass 1 ≤ depth ≤ {MAX_UNROLL_DEPTH} or depth=None (enough steps for ρ^depth ≈ 1e-18)")
    check_bool("return_jacobian", return_jacobian)
    X = net._X(X)
    P = net.m * net.m + net.m * net.d + 2 * net.m
    check_network_memory(3 * 8 * X.shape[0] * P, "X", f"array of shape {tuple(X.shape)}",
                         f"the n×P Jacobian (n = {X.shape[0]}, P = {P})", allow_large)
    try:
        if method == "unrolled":
            J = _jacobian_unrolled(net, X, depth)
        else:
            J = _jacobian_autograd(net, X)
    except (RuntimeError, MemoryError) as exc:  # autograd's intermediates exceed the estimate
        if not isinstance(exc, MemoryError) and "allocate" not in str(exc):
            raise
        raise invalid("X", f"array of shape {tuple(X.shape)}", "the Jacobian's autograd "
                      f"intermediates do not fit in memory ({' '.join(str(exc).split())[:120]})",
                      "use fewer samples or a smaller width") from None
    with torch.no_grad():
        blocks = {k: J[k] @ J[k].T for k in _BLOCKS}
        H = blocks["A"] + blocks["W"] + blocks["u"] + blocks["v"]
    if return_jacobian:
        blocks.update({f"J_{k}": J[k] for k in _BLOCKS})
    return H, blocks


# ------------------------------------------------------------------ eigenvalues
def _as_square_float64(M: Any, name: str = "M") -> torch.Tensor:
    if isinstance(M, torch.Tensor):
        T = M.detach().to(torch.float64)
    else:
        try:
            T = torch.as_tensor(np.asarray(M, dtype=np.float64))
        except (TypeError, ValueError):
            raise invalid(name, type(M).__name__, "cannot be read as a float matrix",
                          "pass a square tensor or ndarray") from None
    if T.ndim != 2 or T.shape[0] != T.shape[1] or T.shape[0] < 1:
        raise invalid(name, f"array of shape {tuple(T.shape)}", "expected a non-empty square matrix",
                      "pass an n×n Gram matrix")
    if not bool(torch.isfinite(T).all()):
        raise invalid(name, "matrix with non-finite entries", "NaN/Inf in the matrix",
                      "check the computation that produced it")
    return T


def lambda_min(M: Any) -> float:
    """Smallest eigenvalue of ``(M + Mᵀ)/2`` in float64 (``torch.linalg.eigvalsh``, dense O(n³))."""
    T = _as_square_float64(M)
    S = 0.5 * (T + T.T)
    return float(torch.linalg.eigvalsh(S)[0])


def lambda_min_iterative(
    M: Any,
    *,
    method: str = "lanczos",
    tol: float = 1e-10,
    max_iter: int | None = None,
    seed: int = 0,
) -> EigResult:
    r"""Smallest eigenvalue of ``(M + Mᵀ)/2`` by an iterative method (large n), with a residual.

    Args:
        M: (n, n) matrix (tensor on any device, or ndarray); symmetrised in float64.
        method: ``"lanczos"`` (recommended) — ``scipy.sparse.linalg.eigsh(which="SA")``
            (implicitly restarted Lanczos, on the CPU); ``"lobpcg"`` — ``torch.lobpcg(largest=
            False)`` on M's device (n ≥ 3). Measured on NTK Gram matrices, whose smallest
            eigenvalues cluster while the largest is O(n): Lanczos reaches 1e-10 in well under a
            second at n = 1000; unpreconditioned LOBPCG needs thousands of iterations and
            torch's implementation is slow per iteration (seconds at n = 60), so it often stops
            at ``max_iter`` with ``accurate == False`` — the residual still bounds its error.
        tol: relative tolerance passed to the method; :attr:`EigResult.accurate` checks
            ``‖Mx − λx‖ ≤ tol·‖M‖_F``.
        max_iter: iteration cap (scipy's default for Lanczos, 1000 for LOBPCG when None).
        seed: start vector seed (deterministic results).

    Returns:
        :class:`EigResult` (value, absolute residual ``‖Mx − λx‖₂``, …).
    """
    if method not in ("lanczos", "lobpcg"):
        raise invalid("method", method, "choose 'lanczos' or 'lobpcg'", "use method='lanczos'")
    if not (isinstance(tol, (int, float)) and math.isfinite(tol) and 0.0 < tol < 1.0):
        raise invalid("tol", tol, "must be a float in (0, 1)", "use e.g. tol=1e-10")
    check_int("max_iter", max_iter, 1, 2**31 - 1,  # ARPACK counts in int32
              fix="use e.g. max_iter=1000 (or None: the method's default)", allow_none=True)
    check_seed(seed, "seed")
    T = _as_square_float64(M)
    S = 0.5 * (T + T.T)
    n = S.shape[0]
    if n == 1:
        x = torch.ones(1, dtype=torch.float64, device=S.device)
        lam = float(S[0, 0])
    elif method == "lanczos":
        import scipy.sparse.linalg as spla

        Sn = S.cpu().numpy()
        if n <= 2:
            w, V = np.linalg.eigh(Sn)
            lam, xv = float(w[0]), V[:, 0]
        else:
            rng = np.random.default_rng(seed)
            v0 = rng.standard_normal(n)
            w, V = spla.eigsh(Sn, k=1, which="SA", tol=tol, v0=v0, maxiter=max_iter)
            lam, xv = float(w[0]), V[:, 0]
        x = torch.as_tensor(xv, dtype=torch.float64, device=S.device)
    else:
        if n < 3:
            raise invalid("M", f"matrix of size {n}", "torch.lobpcg needs n ≥ 3",
                          "use method='lanczos' or lambda_min for tiny matrices")
        g = torch.Generator().manual_seed(seed)
        X0 = torch.randn(n, 1, generator=g, dtype=torch.float64).to(S.device)
        wt, Vt = torch.lobpcg(S, k=1, X=X0, largest=False, tol=tol,
                              niter=max_iter if max_iter is not None else 1000)
        lam, x = float(wt[0]), Vt[:, 0]
    x = x / torch.linalg.vector_norm(x)
    lam = float(x @ (S @ x))  # Rayleigh quotient of the normalised vector
    residual = float(torch.linalg.vector_norm(S @ x - lam * x))
    return EigResult(value=lam, residual=residual, tol=float(tol), method=method,
                     norm_estimate=float(torch.linalg.matrix_norm(S)),
                     vector=x.detach().cpu().numpy())
