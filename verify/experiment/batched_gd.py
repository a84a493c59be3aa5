r"""The seeds of one sweep cell group as one batched bare GD run, each member to its own stop.

:func:`run_members_to_target` advances S networks of the same (n, m) on the same data with
:class:`verify.model.batched.BatchedNetworks` (one batched forward/adjoint Picard solve and one
batched update per step) and stops each member by the GD loop's own rule,
:func:`verify.experiment.stopping.stop_rule`, evaluated on that member's state at step k
*before* its update — the same order as :meth:`verify.experiment.loop.GDLoop.advance`. A member
that stops leaves the batch (:meth:`BatchedNetworks.keep`); the others go on. Per member the
result equals a separate :func:`verify.run_gd` with the same ``steps``, ``target_loss`` and
step size and ``solver="picard"`` (the batched solves are Picard; the run's default is
Gauss–Seidel, whose iteration counts differ): same statuses, same stopping step, same losses to ~1e-12 (the batched products sum
in another order), same solver iteration counts (both warm-start forward and adjoint from the
previous step and get ``γ̃‖A‖₂`` from a :class:`~verify.model.certified.ContractionTracker`).

This is the *bare* run: no observables besides the loss and the solver counters, no run
directory. It is what a sweep needs for "steps to reach the target" over many seeds; a cell
whose verdicts need the instrumented trace still runs :func:`verify.run_gd`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from bounds._errors import invalid
from verify.experiment.stopping import stop_rule
from verify.model.batched import BatchedNetworks, BatchedStep, _member_finite
from verify.model.network import ImplicitNetwork

__all__ = ["MemberRun", "run_members_to_target"]


@dataclass(frozen=True)
class MemberRun:
    """One member's run.

    Attributes:
        index: position in the input sequence.
        status: ``"target_reached"``, ``"max_steps"``, ``"solver_failed"`` or ``"diverged"``
            (:data:`verify.experiment.stopping.STOP_STATUSES`, never ``"interrupted"``).
        message: the stop rule's message.
        steps_done: the step k at which it stopped (= number of updates performed).
        steps_to_target: ``steps_done`` when the target was reached, else ``None``.
        loss: losses at steps 0 … ``steps_done`` (NaN where the forward solve failed).
        fwd_iters, adj_iters: solver iterations per step.
        params: ``A, W, u, v`` at the stopping step (θ(k), not updated at k).
    """

    index: int
    status: str
    message: str
    steps_done: int
    steps_to_target: int | None
    loss: tuple[float, ...]
    fwd_iters: tuple[int, ...]
    adj_iters: tuple[int, ...]
    params: dict[str, torch.Tensor]


class _MemberState:
    """What :func:`stop_rule` reads of a state (``ok``, ``fwd``, ``adj``, ``loss``)."""

    __slots__ = ("fwd", "adj", "loss")

    def __init__(self, fwd: Any, adj: Any, loss: float) -> None:
        self.fwd, self.adj, self.loss = fwd, adj, loss

    @property
    def ok(self) -> bool:
        return bool(self.fwd.converged and self.adj.converged)


def _per_member(value: Any, S: int, name: str) -> list[Any]:
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return [value] * S
    vals = list(value)
    if len(vals) != S:
        raise invalid(name, value, f"expected one value or {S} (one per member)", f"pass {name} as a float")
    return vals


def run_members_to_target(
    nets: Sequence[ImplicitNetwork],
    X: Any,
    y: Any,
    alpha: float | Sequence[float],
    *,
    steps: int,
    target_loss: float | Sequence[float] | None = None,
) -> tuple[MemberRun, ...]:
    """Run the members of one (n, m) cell group by batched bare GD, each to its own stop.

    Args:
        nets: S networks of the same m, d, γ, dtype and device (e.g.
            ``[ImplicitNetwork.init(m, d, γ, s, tol=…) for s in seeds]``); they are copied, not
            changed. Their solver settings (tol, max_iter; Picard) are the first network's.
        X, y: the shared training data, (n, d) and (n,).
        alpha: the step size, one for all or one per member (e.g. ``1/λ_max(H(0))`` per seed).
        steps: the most GD steps (``max_steps`` at step ``steps``, as :func:`verify.run_gd`).
        target_loss: stop a member when its loss is ≤ this (one for all, one per member, or
            ``None``: never), e.g. ``target · loss(0)`` per member.

    Returns:
        One :class:`MemberRun` per network, in the input order.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise invalid("steps", steps, "expected an int ≥ 0", "pass e.g. steps=1000")
    bn = BatchedNetworks(nets)
    S = bn.S
    alphas = bn._alphas(alpha)
    targets = _per_member(target_loss, S, "target_loss")
    dt, dev = bn.A.dtype, bn.A.device
    X = torch.as_tensor(X).to(dtype=dt, device=dev)
    y = torch.as_tensor(y).to(dtype=dt, device=dev)
    alive = list(range(S))  # input indices of the members still in the batch, in batch order
    L0 = [math.nan] * S
    logs: list[dict[str, Any]] = [{"forward_failures": 0, "adjoint_failures": 0} for _ in range(S)]
    loss: list[list[float]] = [[] for _ in range(S)]
    fits: list[list[int]] = [[] for _ in range(S)]
    aits: list[list[int]] = [[] for _ in range(S)]
    done: dict[int, MemberRun] = {}
    k = 0
    while alive:
        finite = _member_finite(bn.A, bn.W, bn.u, bn.v).tolist()
        stops: dict[int, tuple[str, str]] = {}

        def decide(st: BatchedStep, k: int = k, finite: list[bool] = finite,
                   stops: dict[int, tuple[str, str]] = stops, alive: list[int] = alive) -> list[bool]:
            go = []
            for b, i in enumerate(alive):
                ms = _MemberState(st.fwd[b], st.adj[b], st.loss[b])
                fits[i].append(st.fwd[b].iterations)
                aits[i].append(st.adj[b].iterations)
                loss[i].append(st.loss[b] if st.fwd[b].converged else math.nan)
                if k == 0 and ms.ok:
                    L0[i] = ms.loss
                stop, msg = stop_rule(ms if finite[b] else None, k, bool(finite[b]), L0[i], steps,
                                      targets[i], logs[i])
                if stop is not None:
                    stops[b] = (stop, msg)
                go.append(stop is None)
            return go

        bn.step(X, y, [alphas[i] for i in alive], decide=decide)
        if stops:
            for b, (stop, msg) in stops.items():
                i = alive[b]
                done[i] = MemberRun(
                    index=i, status=stop, message=msg, steps_done=k,
                    steps_to_target=k if stop == "target_reached" else None, loss=tuple(loss[i]),
                    fwd_iters=tuple(fits[i]), adj_iters=tuple(aits[i]),
                    params={p: getattr(bn, p)[b].detach().clone() for p in ("A", "W", "u", "v")})
            keep = [b for b in range(len(alive)) if b not in stops]
            alive = [alive[b] for b in keep]
            if alive:
                bn.keep(keep)
        k += 1
    return tuple(done[i] for i in range(S))
