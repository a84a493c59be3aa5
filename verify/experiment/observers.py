"""What a GD run measures: the :data:`OBSERVABLES` table and the per-step observer.

:func:`observe` evaluates every observable at one step: the cheap ones from the state the step
computes anyway (norms, movements, solver counts, losses), the expensive ones (smallest
eigenvalues of G, H, K, ``‖G − G(0)‖₂`` and operator norms) only when ``expensive`` is set by
the schedule (:func:`~verify.experiment.config.auto_expensive_every`). A new observable is a
row of :data:`OBSERVABLES` plus its line in :func:`observe` (and docs/CONTRACTS.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from verify.model.equilibrium import SolveStatus, solve_forward
from verify.model.gram import gram_blocks, lambda_min

__all__ = ["Observable", "OBSERVABLES", "OBSERVABLE_NAMES", "observables_table", "observe"]

@dataclass(frozen=True)
class Observable:
    """One trace observable: name (docs/CONTRACTS.md), meaning, and cost class.

    ``cost``: ``"index"`` (step/time), ``"cheap"`` (every recorded step) or ``"expensive"``
    (every ``expensive_every`` steps, NaN in between).
    """

    name: str
    meaning: str
    cost: str


#: The single source of the observable names and their documentation (``--list-observables``).
OBSERVABLES: tuple[Observable, ...] = (
    Observable("step", "GD step k", "index"),
    Observable("time", "t = kα (gradient-flow time)", "index"),
    Observable("loss", "½‖ŷ − y‖² on the training set", "cheap"),
    Observable("residual_sq", "‖ŷ − y‖²", "cheap"),
    Observable("test_loss", "½‖ŷ_test − y_test‖² (NaN without a test set)", "cheap"),
    Observable("A_norm", "‖A‖₂ (operator norm; from the forward solve's contraction factor)", "cheap"),
    Observable("W_norm", "‖W‖₂ (operator norm)", "expensive"),
    Observable("A_norm_scaled", "‖A‖₂/√m", "cheap"),
    Observable("W_norm_scaled", "‖W‖₂/√m", "expensive"),
    Observable("contraction", "γ̃‖A‖₂ = (γ/√m)‖A‖₂, Lipschitz constant of the layer map", "cheap"),
    Observable("u_norm", "‖u‖", "cheap"),
    Observable("v_norm", "‖v‖", "cheap"),
    Observable("u_move", "‖u − u(0)‖", "cheap"),
    Observable("v_move", "‖v − v(0)‖", "cheap"),
    Observable("A_move", "‖A − A(0)‖₂ (operator norm)", "expensive"),
    Observable("W_move", "‖W − W(0)‖₂ (operator norm)", "expensive"),
    Observable("A_move_fro", "‖A − A(0)‖_F", "cheap"),
    Observable("W_move_fro", "‖W − W(0)‖_F", "cheap"),
    Observable("phi_max", "max_i ‖φ_i‖", "cheap"),
    Observable("z_max", "max_i ‖z_i‖", "cheap"),
    Observable("Z_step", "‖Z(k+1) − Z(k)‖_F (NaN at the last recorded step)", "cheap"),
    Observable("lambda_min_G", "λ_min(G), G = ΦΦᵀ", "expensive"),
    Observable("lambda_min_H", "λ_min(H), H the empirical NTK (corrected G22 eq. 14)", "expensive"),
    Observable("lambda_min_K", "λ_min(K), K = ZZᵀ + ΦΦᵀ", "expensive"),
    Observable("G_dev", "‖G − G(0)‖₂", "expensive"),
    Observable("H_dev", "‖H − H(0)‖₂ (does the empirical NTK stay put?)", "expensive"),
    Observable("flip_D", "fraction of entries of D = σ'(γ̃ZAᵀ + Φ) that differ from step 0", "cheap"),
    Observable("flip_E", "fraction of entries of E = σ'(XWᵀ) that differ from step 0", "cheap"),
    Observable("fwd_iters", "forward-solve iterations", "cheap"),
    Observable("fwd_residual", "forward-solve final relative residual", "cheap"),
    Observable("adj_iters", "adjoint-solve iterations", "cheap"),
    Observable("adj_residual", "adjoint-solve final relative residual", "cheap"),
)
OBSERVABLE_NAMES: tuple[str, ...] = tuple(o.name for o in OBSERVABLES)
_EXPENSIVE = tuple(o.name for o in OBSERVABLES if o.cost == "expensive")
# depend on the equilibrium Z (NaN at a step whose solve failed)
_Z_DEPENDENT = ("loss", "residual_sq", "test_loss", "z_max", "Z_step", "flip_D", "lambda_min_H",
                "lambda_min_K", "lambda_min_G", "G_dev", "H_dev")


def observables_table(markdown: bool = False) -> str:
    """The observable table as text (``markdown=True``: a Markdown table)."""
    if markdown:
        lines = ["| name | meaning | recorded |", "|---|---|---|"]
        lines += [f"| `{o.name}` | {o.meaning} | {o.cost} |" for o in OBSERVABLES]
        return "\n".join(lines)
    w = max(len(o.name) for o in OBSERVABLES)
    return "\n".join(f"{o.name:<{w}}  {o.cost:<9}  {o.meaning}" for o in OBSERVABLES)


def _opnorm(M: torch.Tensor) -> float:
    return float(torch.linalg.matrix_norm(M.to(torch.float64), ord=2))


def _sym_opnorm(M: torch.Tensor) -> float:
    S = M.to(torch.float64)
    S = 0.5 * (S + S.T)
    return float(torch.linalg.eigvalsh(S).abs().max())


def observe(net, state, P0, D0, E0, G0, Xtest, ytest, zt_warm, k, alpha, expensive,
             params_finite, solver_log, H0=None) -> dict[str, Any]:
    """Observables at step k (see :data:`OBSERVABLES`)."""
    row: dict[str, Any] = {"step": float(k), "time": float(k) * alpha}
    if not params_finite:
        return row
    m = net.m
    sq = math.sqrt(m)
    with torch.no_grad():
        A, W, u, v = (getattr(net, p).detach() for p in ("A", "W", "u", "v"))
        contraction = float(state.fwd.contraction)
        row["contraction"] = contraction
        row["A_norm"] = contraction / net.gamma_tilde
        row["A_norm_scaled"] = row["A_norm"] / sq
        row["u_norm"] = float(torch.linalg.vector_norm(u))
        row["v_norm"] = float(torch.linalg.vector_norm(v))
        row["u_move"] = float(torch.linalg.vector_norm(u - P0["u"]))
        row["v_move"] = float(torch.linalg.vector_norm(v - P0["v"]))
        row["A_move_fro"] = float(torch.linalg.vector_norm(A - P0["A"]))
        row["W_move_fro"] = float(torch.linalg.vector_norm(W - P0["W"]))
        row["phi_max"] = float(torch.linalg.vector_norm(state.Phi, dim=1).max())
        row["fwd_iters"] = float(state.fwd.iterations)
        row["fwd_residual"] = float(state.fwd.residual)
        row["adj_iters"] = float(state.adj.iterations)
        row["adj_residual"] = float(state.adj.residual)
        if E0 is not None:
            row["flip_E"] = float((state.E != E0).to(torch.float64).mean())
        if expensive:
            row["W_norm"] = _opnorm(W)
            row["W_norm_scaled"] = row["W_norm"] / sq
            row["A_move"] = _opnorm(A - P0["A"])
            row["W_move"] = _opnorm(W - P0["W"])
        if not state.fwd.converged:
            return row
        row["loss"] = state.loss
        row["residual_sq"] = 2.0 * state.loss
        row["z_max"] = float(torch.linalg.vector_norm(state.Z, dim=1).max())
        if D0 is not None:
            row["flip_D"] = float((state.D != D0).to(torch.float64).mean())
        elif k == 0:
            row["flip_D"] = 0.0
            row["flip_E"] = 0.0
        if Xtest is not None:
            Phi_t = net.features(Xtest).detach()
            opts = dict(net.solver_opts["forward"])
            opts["throw"] = False
            res = solve_forward(A, Phi_t, net.gamma_tilde, z0=zt_warm, **opts)
            if res.status is SolveStatus.CONVERGED:
                et = res.value @ u + Phi_t @ v - ytest
                row["test_loss"] = 0.5 * float(torch.sum(et * et))
                row["_Zt"] = res.value
            else:
                solver_log["test_failures"] += 1
        if expensive and state.ok:
            gb = gram_blocks(net, state)
            row["lambda_min_G"] = lambda_min(gb.G)
            row["lambda_min_H"] = lambda_min(gb.H)
            row["lambda_min_K"] = lambda_min(gb.K)
            if G0 is not None:
                row["G_dev"] = _sym_opnorm(gb.G - G0)
            if H0 is not None:
                row["H_dev"] = _sym_opnorm(gb.H - H0)
            if G0 is None and k == 0:
                row["_G"] = gb.G.clone()
                row["_H"] = gb.H.clone()
                Hs = gb.H.to(torch.float64)
                row["_lambda_max_H"] = float(torch.linalg.eigvalsh(0.5 * (Hs + Hs.T))[-1])
    return row
