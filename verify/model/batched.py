r"""S independent implicit networks of the same (n, m) advanced as one batched computation.

Seeds of one sweep cell differ only in their initialisation, so their GD steps have the same
shapes: stacking the S parameter sets along a leading batch dimension turns S·K small matrix
products into K batched ones (``torch.bmm``). Everything is per member: each member's forward
and adjoint Picard iterations stop at *its own* tolerance crossing (the value is frozen at that
iteration, exactly as a separate :func:`verify.solve_forward` would return it), each member
gets its own :class:`~verify.SolveResult` status, and a member whose solve fails (diverges,
NaN) is not updated and cannot touch the others (batched products never mix members).

The maths is :mod:`verify._network`'s (G22 §2, Lemma 2.3), member by member:
``Z_s = σ(γ̃ Z_s A_sᵀ + Φ_s)``, ``B_s = D_s ∘ (1u_sᵀ + γ̃ B_s A_s)``, and the closed-form
gradients. Only Picard iteration is batched (Anderson's least-squares step is per member).

Speed (``implicit-verify bench step``, 1 CPU thread, shared 2-core machine, S = 8, all
timings interleaved): about 3× one-at-a-time at n = m = 32, but only 0.9–1.1× at n = 128,
m = 128–256. At those sizes the single-network step is not dominated by Python overhead: its
GEMMs are ~40 % of it and the rest are elementwise passes (ReLU, mask, residual) over n×m
arrays that fit in L2 cache one member at a time; stacked, the same passes run over S·n·m
arrays that do not (a batched ``sub`` measured ~8× slower per element than the single one),
which eats what batching saves in dispatch. Batching pays where per-call overhead dominates:
small m on a CPU, and a GPU (kernel launches), which this project could not measure.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from bounds._errors import invalid

from .certified import ContractionTracker
from .equilibrium import (
    _DIVERGE_FACTOR,
    DEFAULT_MAX_ITER,
    SolveResult,
    SolveStatus,
    _check_common,
    default_tol,
)
from .network import ImplicitNetwork

__all__ = ["BatchedNetworks", "BatchedStep", "batched_picard"]


def _member_finite(*ts: torch.Tensor) -> torch.Tensor:
    """(S,) bool: every entry of member s of every tensor is finite (one reduction each)."""
    ok = None
    for t in ts:
        dims = tuple(range(1, t.ndim))
        f = torch.isfinite(t.sum(dim=dims))
        if not bool(f.all()):
            f = torch.isfinite(t).reshape(t.shape[0], -1).all(dim=1)
        ok = f if ok is None else ok & f
    assert ok is not None
    return ok


def batched_picard(
    F: Any,
    x0: torch.Tensor,
    scale: torch.Tensor,
    valid: torch.Tensor,
    *,
    tol: float,
    max_iter: int,
    kind: str,
    contraction: Sequence[float],
    contraction_kind: Sequence[str],
) -> list[SolveResult]:
    """Picard iteration ``x = F(x)`` on (S, n, m) with a per-member stop (see module docstring).

    ``F(x, out)`` writes the batched map into ``out``. ``scale`` (S,) are the residual scales,
    ``valid`` (S,) False for members whose operands are not finite (NONFINITE, no iteration).
    """
    S = x0.shape[0]
    scale_l = [s if s > 0.0 else 1.0 for s in scale.tolist()]
    valid_l = [bool(v) for v in valid.tolist()]
    hist: list[list[float]] = [[] for _ in range(S)]
    first: list[float | None] = [None] * S
    final: list[torch.Tensor | None] = [None] * S
    status: list[SolveStatus | None] = [None] * S
    iters = [0] * S
    active = [i for i in range(S) if valid_l[i]]
    for i in range(S):
        if not valid_l[i]:
            final[i] = torch.full(x0.shape[1:], float("nan"), dtype=x0.dtype, device=x0.device)
            status[i] = SolveStatus.NONFINITE
    x = x0
    fx = torch.empty_like(x0)
    g = torch.empty_like(x0)
    for it in range(1, max_iter + 1):
        if not active:
            break
        F(x, fx)
        torch.sub(fx, x, out=g)
        res_all = torch.linalg.vector_norm(g, dim=(1, 2)).tolist()  # one host sync per iteration
        still = []
        for i in active:
            res = res_all[i] / scale_l[i]
            iters[i] = it
            done: SolveStatus | None = None
            if not math.isfinite(res):
                hist[i].append(float("nan"))
                done = SolveStatus.NONFINITE
            else:
                hist[i].append(res)
                if first[i] is None:
                    first[i] = max(res, 1e-300)
                if res <= tol:
                    done = SolveStatus.CONVERGED
                elif res > _DIVERGE_FACTOR * first[i]:  # type: ignore[operator]
                    done = SolveStatus.DIVERGED
            if done is None:
                still.append(i)
            else:
                status[i] = done
                final[i] = fx[i].clone()
        active = still
        nxt = x if x is not x0 else torch.empty_like(x0)
        x, fx = fx, nxt
    for i in active:  # iteration cap
        status[i] = SolveStatus.MAX_ITER
        final[i] = x[i].clone()
    out = []
    for i in range(S):
        h = tuple(hist[i])
        res_i = h[-1] if h else float("nan")
        st = status[i]
        v = final[i]
        assert st is not None and v is not None
        out.append(SolveResult(v, st, iters[i], res_i, h, "picard", float(contraction[i]), kind, tol,
                               contraction_kind[i]))
    return out


@dataclass(frozen=True)
class BatchedStep:
    """One batched GD step's outcome, per member.

    ``fwd``/``adj``: the members' solve results (values are (n, m)); ``loss``: losses before the
    update; ``updated``: whether member s's parameters were updated (False when its solves
    failed: a gradient from an unconverged equilibrium is meaningless); ``grads``: the
    stacked gradients (zero rows for members not updated).
    """

    fwd: tuple[SolveResult, ...]
    adj: tuple[SolveResult, ...]
    loss: tuple[float, ...]
    updated: tuple[bool, ...]
    grads: dict[str, torch.Tensor]

    @property
    def ok(self) -> tuple[bool, ...]:
        return tuple(f.converged and a.converged for f, a in zip(self.fwd, self.adj, strict=True))


class BatchedNetworks:
    """S networks with stacked parameters ``A`` (S,m,m), ``W`` (S,m,d), ``u``, ``v`` (S,m).

    Build with :meth:`from_networks` (copies) or :meth:`init` (one
    :meth:`ImplicitNetwork.init` per seed, so member s equals the separate network of seed s).
    :meth:`step` does state → gradients → ``θ ← θ − α∇L`` for all members, warm-starting
    both solves from the previous step and using one :class:`ContractionTracker` per member
    for the reported contraction (no SVD per step).
    """

    def __init__(self, nets: Sequence[ImplicitNetwork], *, track_contraction: bool = True) -> None:
        if not nets or not all(isinstance(n, ImplicitNetwork) for n in nets):
            raise invalid("nets", type(nets).__name__, "expected a non-empty sequence of ImplicitNetwork",
                          "pass [ImplicitNetwork.init(m, d, gamma, s) for s in seeds]")
        ref = nets[0]
        for k, n in enumerate(nets):
            if (n.m, n.d, n.gamma, n.dtype, n.device) != (ref.m, ref.d, ref.gamma, ref.dtype, ref.device):
                raise invalid(f"nets[{k}]", f"(m={n.m}, d={n.d}, gamma={n.gamma}, {n.dtype}, {n.device})",
                              f"differs from nets[0] (m={ref.m}, d={ref.d}, gamma={ref.gamma}, {ref.dtype}, {ref.device})",
                              "batch only networks of the same shape, γ, dtype and device")
        with torch.no_grad():
            self.A = torch.stack([n.A.detach() for n in nets]).clone()
            self.W = torch.stack([n.W.detach() for n in nets]).clone()
            self.u = torch.stack([n.u.detach() for n in nets]).clone()
            self.v = torch.stack([n.v.detach() for n in nets]).clone()
        self.gamma = ref.gamma
        fo = ref.solver_opts["forward"]
        self.tol = default_tol(ref.dtype) if fo["tol"] is None else float(fo["tol"])
        self.max_iter = int(fo["max_iter"])
        _check_common(self.tol, self.max_iter, "picard")
        self.trackers = [ContractionTracker(ref.gamma_tilde) for _ in nets] if track_contraction else None
        self._Z: torch.Tensor | None = None
        self._B: torch.Tensor | None = None

    @classmethod
    def init(cls, m: int, d: int, gamma: float, seeds: Sequence[int], *, dtype: Any = torch.float64,
             device: Any = "cpu", tol: float | None = None, max_iter: int = DEFAULT_MAX_ITER) -> BatchedNetworks:
        return cls([ImplicitNetwork.init(m, d, gamma, s, dtype=dtype, device=device, tol=tol, max_iter=max_iter)
                    for s in seeds])

    @property
    def S(self) -> int:
        return int(self.A.shape[0])

    @property
    def m(self) -> int:
        return int(self.A.shape[1])

    @property
    def gamma_tilde(self) -> float:
        return self.gamma / math.sqrt(self.m)

    def member(self, s: int) -> ImplicitNetwork:
        """Member ``s`` as a separate :class:`ImplicitNetwork` (a copy)."""
        return ImplicitNetwork(self.A[s], self.W[s], self.u[s], self.v[s], self.gamma, tol=self.tol,
                               max_iter=self.max_iter)

    def _contractions(self) -> tuple[list[float], list[str]]:
        if self.trackers is None:
            vals = (self.gamma_tilde * torch.linalg.matrix_norm(self.A.to(torch.float64), ord=2)).tolist()
            return vals, ["exact"] * self.S
        cv = [t.update(self.A[s]) for s, t in enumerate(self.trackers)]
        return [c.value for c in cv], ["exact" if c.kind.value == "exact" else "upper_bound" for c in cv]

    def keep(self, members: Sequence[int]) -> None:
        """Keep only the given members (in that order), with their warm starts and trackers;
        a finished member leaves the batch so that it costs nothing any more."""
        idx = [int(i) for i in members]
        if not idx or any(not 0 <= i < self.S for i in idx):
            raise invalid("members", idx, f"expected a non-empty list of indices in [0, {self.S})",
                          "pass the indices of the members still running")
        it = torch.tensor(idx, device=self.A.device)
        for name in ("A", "W", "u", "v"):
            setattr(self, name, getattr(self, name).index_select(0, it))
        self._Z = None if self._Z is None else self._Z.index_select(0, it)
        self._B = None if self._B is None else self._B.index_select(0, it)
        if self.trackers is not None:
            self.trackers = [self.trackers[i] for i in idx]

    def _alphas(self, alpha: Any) -> list[float]:
        vals = [alpha] * self.S if isinstance(alpha, (int, float)) and not isinstance(alpha, bool) else list(alpha)
        if len(vals) != self.S or not all(isinstance(a, (int, float)) and not isinstance(a, bool)
                                          and math.isfinite(a) and a > 0 for a in vals):
            raise invalid("alpha", alpha, f"the step size must be positive and finite (one, or {self.S} per member)",
                          "pass e.g. alpha=0.01")
        return [float(a) for a in vals]

    def step(self, X: torch.Tensor, y: torch.Tensor, alpha: Any,
             decide: Callable[[BatchedStep], Sequence[bool]] | None = None) -> BatchedStep:
        """One GD step for every member on shared data ``X`` (n, d), ``y`` (n,) or per-member
        ``X`` (S, n, d), ``y`` (S, n). ``alpha``: one step size or one per member. Members
        whose solves fail are left unchanged; ``decide`` (optional) sees the step's solves and
        losses *before* the update (``grads`` empty, ``updated`` all False) and returns which
        members to update (e.g. not those that reached their target)."""
        alphas = self._alphas(alpha)
        dt, dev = self.A.dtype, self.A.device
        X = torch.as_tensor(X).to(dtype=dt, device=dev)
        y = torch.as_tensor(y).to(dtype=dt, device=dev)
        if X.ndim == 2:
            X = X.unsqueeze(0).expand(self.S, *X.shape)
        if y.ndim == 1:
            y = y.unsqueeze(0).expand(self.S, *y.shape)
        if X.shape[0] != self.S or X.shape[2] != self.W.shape[2] or y.shape != X.shape[:2]:
            raise invalid("X", f"tensor of shape {tuple(X.shape)} with y {tuple(y.shape)}",
                          f"expected X (n, {self.W.shape[2]}) or ({self.S}, n, {self.W.shape[2]}) and matching y",
                          "pass the members' shared data or one data set per member")
        gt, m = self.gamma_tilde, self.m
        with torch.no_grad():
            A, W, u, v = self.A, self.W, self.u, self.v
            pre_W = torch.matmul(X, W.transpose(1, 2))  # (S, n, m)
            Phi = torch.relu(pre_W).div_(math.sqrt(m))
            E = (pre_W > 0).to(dt)
            rho, kinds = self._contractions()
            At = A.transpose(1, 2)
            z0 = self._Z if self._Z is not None and self._Z.shape == Phi.shape else torch.zeros_like(Phi)

            def Ff(Z: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
                # Φ + γ̃·Z Aᵀ fused in the GEMM (one pass over the output instead of three)
                torch.baddbmm(Phi, Z, At, alpha=gt, out=out)
                return out.relu_()

            fwd = batched_picard(Ff, z0, torch.linalg.vector_norm(Phi, dim=(1, 2)), _member_finite(A, Phi, z0),
                                 tol=self.tol, max_iter=self.max_iter, kind="forward", contraction=rho,
                                 contraction_kind=kinds)
            Z = torch.stack([r.value for r in fwd])
            D = ((torch.bmm(Z, At).mul_(gt).add_(Phi)) > 0).to(dt)
            Rb = u[:, None, :].expand_as(D)
            DR = D * Rb
            b0 = self._B if self._B is not None and self._B.shape == D.shape else torch.zeros_like(D)

            def Fa(B: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
                # D∘(R + γ̃ B A) = DR + D∘(γ̃ B A) for a 0/1 pattern D; R + γ̃BA fused in the GEMM
                torch.baddbmm(Rb, B, A, alpha=gt, out=out)
                return out.mul_(D)

            fin = _member_finite(A, D, u, b0) & torch.tensor([f.converged for f in fwd], device=dev)
            adj = batched_picard(Fa, b0, torch.linalg.vector_norm(DR, dim=(1, 2)), fin,
                                 tol=self.tol, max_iter=self.max_iter, kind="adjoint", contraction=rho,
                                 contraction_kind=kinds)
            B = torch.stack([r.value for r in adj])
            yhat = torch.bmm(Z, u[:, :, None])[..., 0] + torch.bmm(Phi, v[:, :, None])[..., 0]
            e = yhat - y
            loss = (0.5 * (e * e).sum(dim=1)).tolist()
            ok = [f.converged and a.converged for f, a in zip(fwd, adj, strict=True)]
            if decide is not None:
                want = list(decide(BatchedStep(tuple(fwd), tuple(adj), tuple(loss), (False,) * self.S, {})))
                ok = [o and bool(w) for o, w in zip(ok, want, strict=True)]
            okm = torch.tensor(ok, device=dev)
            Zs, Bs = Z, B
            if not all(ok):  # failed members: zero error vector ⇒ zero gradient, NaN-free operands
                e = torch.where(okm[:, None], e, torch.zeros_like(e))
                Zs = torch.where(okm[:, None, None], Z, torch.zeros_like(Z))
                Bs = torch.where(okm[:, None, None], B, torch.zeros_like(B))
            eB = e[:, :, None] * Bs
            grads = {
                "A": gt * torch.bmm(eB.transpose(1, 2), Zs),
                "W": torch.bmm(((E * (Bs + v[:, None, :])) * e[:, :, None]).transpose(1, 2), X) / math.sqrt(m),
                "u": torch.bmm(Zs.transpose(1, 2), e[:, :, None])[..., 0],
                "v": torch.bmm(Phi.transpose(1, 2), e[:, :, None])[..., 0],
            }
            if len(set(alphas)) == 1:
                for k, gk in grads.items():
                    getattr(self, k).sub_(alphas[0] * gk)
            else:
                at = torch.tensor(alphas, dtype=dt, device=dev)
                for k, gk in grads.items():
                    getattr(self, k).sub_(at.view(-1, *([1] * (gk.ndim - 1))) * gk)
            self._Z = Z if all(ok) else torch.where(okm[:, None, None], Z, z0)
            self._B = B if all(ok) else torch.where(okm[:, None, None], B, b0)
        return BatchedStep(tuple(fwd), tuple(adj), tuple(loss), tuple(ok), grads)
