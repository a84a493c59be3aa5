"""One GD step split into its pieces: state (forward + adjoint solves) → gradients → update.

:func:`solve_state` runs the solves warm-started from the previous equilibrium and logs their
iteration counts; :func:`gd_update` applies θ ← θ − α∇L with the closed-form gradients of
G22 Lemma 2.3 in place. A batched or differently certified step replaces these two functions.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from verify.model.certified import ContractionTracker
from verify.model.network import ImplicitNetwork, NetState, implicit_gradients

__all__ = ["PARAMS", "new_solver_log", "params_finite", "solve_state", "gd_update"]

#: the trained parameters, in the order of every record and checkpoint.
PARAMS = ("A", "W", "u", "v")


def new_solver_log() -> dict[str, Any]:
    """The counters of ``record["solver"]`` at the start of a run."""
    return {"forward_failures": 0, "adjoint_failures": 0, "test_failures": 0,
            "fwd_iters_total": 0, "adj_iters_total": 0, "max_fwd_iters": 0, "max_adj_iters": 0,
            "contraction_svds": 0}


def params_finite(net: ImplicitNetwork) -> bool:
    """Every parameter finite: one sum per parameter (finite sum ⇒ finite entries), the entrywise
    scan only when a sum is not finite (it may overflow with finite entries)."""
    for p in PARAMS:
        t = getattr(net, p).detach()
        if not math.isfinite(float(t.sum())) and not bool(torch.isfinite(t).all()):
            return False
    return True


def solve_state(net: ImplicitNetwork, X: torch.Tensor, y: torch.Tensor,
                z_warm: torch.Tensor | None, solver_log: dict[str, Any], *,
                b_warm: torch.Tensor | None = None, tracker: ContractionTracker | None = None,
                k: int | None = None) -> tuple[NetState, dict[str, str]]:
    """The state at the current θ and the solves' statuses (``record["solver"]["last"]``).

    ``z_warm``/``b_warm`` warm-start the forward/adjoint solves (the previous step's Z and B).
    ``tracker`` supplies the certified ``γ̃‖A‖₂`` (exact at a refresh, else a Weyl–Frobenius
    upper bound: no SVD per step; ``solver_log["contraction_svds"]`` counts the refreshes);
    ``None`` computes it by SVD."""
    contraction = None
    if tracker is not None:
        before = tracker.refreshes
        contraction = tracker.update(net.A, k)
        solver_log["contraction_svds"] = solver_log.get("contraction_svds", 0) + tracker.refreshes - before
    state = net.state(X, y, z0=z_warm, b0=b_warm, contraction=contraction)
    solver_log["fwd_iters_total"] += state.fwd.iterations
    solver_log["adj_iters_total"] += state.adj.iterations
    solver_log["max_fwd_iters"] = max(solver_log["max_fwd_iters"], state.fwd.iterations)
    solver_log["max_adj_iters"] = max(solver_log["max_adj_iters"], state.adj.iterations)
    last = {"forward": state.fwd.status.name, "adjoint": state.adj.status.name,
            "forward_message": state.fwd.message(), "adjoint_message": state.adj.message()}
    return state, last


def gd_update(net: ImplicitNetwork, X: torch.Tensor, y: torch.Tensor, state: NetState,
              alpha: float) -> None:
    """θ ← θ − α∇L(θ) in place (gradients from ``state``, G22 Lemma 2.3)."""
    grads = implicit_gradients(net, X, y, state)
    with torch.no_grad():
        for p in PARAMS:
            getattr(net, p).add_(grads[p], alpha=-alpha)
