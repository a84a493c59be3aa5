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

from verify.model.certified import BoundKind, CertifiedValue, rounding_factor, spectral_norm_gram
from verify.model.equilibrium import SolveStatus, solve_forward
from verify.model.gram import gram_blocks

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
    Observable("A_norm", "‖A‖₂ = contraction/γ̃ (exact or a certified upper bound, as contraction)", "cheap"),
    Observable("W_norm", "‖W‖₂ (operator norm)", "expensive"),
    Observable("A_norm_scaled", "‖A‖₂/√m", "cheap"),
    Observable("W_norm_scaled", "‖W‖₂/√m", "expensive"),
    Observable("contraction", "γ̃‖A‖₂ = (γ/√m)‖A‖₂, Lipschitz constant of the layer map: exact where "
               "contraction_exact = 1 (step 0, the last step, and whenever the tracker's interval is > 2 % "
               "wide or straddles 1), else a certified upper bound (Weyl–Frobenius from the last exact value)",
               "cheap"),
    Observable("contraction_lower", "certified lower bound on γ̃‖A‖₂ (= contraction where contraction_exact = 1)",
               "cheap"),
    Observable("contraction_exact", "1 if contraction is the exact value at this step, 0 if an upper bound",
               "cheap"),
    Observable("u_norm", "‖u‖", "cheap"),
    Observable("v_norm", "‖v‖", "cheap"),
    Observable("u_move", "‖u − u(0)‖", "cheap"),
    Observable("v_move", "‖v − v(0)‖", "cheap"),
    Observable("A_move", "‖A − A(0)‖₂ (operator norm)", "expensive"),
    Observable("W_move", "‖W − W(0)‖₂ (operator norm)", "expensive"),
    Observable("A_move_fro", "‖A − A(0)‖_F", "cheap"),
    Observable("W_move_fro", "‖W − W(0)‖_F", "cheap"),
    Observable("A_move_upper", "certified upper bound on ‖A − A(0)‖₂: A_move where recorded, else "
               "A_move_fro widened for rounding", "cheap"),
    Observable("A_move_lower", "certified lower bound on ‖A − A(0)‖₂: A_move where recorded, else "
               "A_move_fro/√m shrunk for rounding", "cheap"),
    Observable("W_move_upper", "certified upper bound on ‖W − W(0)‖₂ (as A_move_upper)", "cheap"),
    Observable("W_move_lower", "certified lower bound on ‖W − W(0)‖₂: W_move where recorded, else "
               "W_move_fro/√min(m, d) shrunk for rounding", "cheap"),
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
    """``‖M‖₂`` in float64, exact to rounding (:func:`~verify.model.certified.spectral_norm_gram`)."""
    return spectral_norm_gram(M).value


def _sym_eigvals(M: torch.Tensor) -> torch.Tensor:
    """All eigenvalues (ascending, float64) of ``(M + Mᵀ)/2``: one solve for λ_min and λ_max."""
    S = M.to(torch.float64)
    return torch.linalg.eigvalsh(0.5 * (S + S.T))


def _sym_opnorm(M: torch.Tensor) -> float:
    ev = _sym_eigvals(M)
    return float(torch.maximum(ev[-1].abs(), ev[0].abs()))


def _move_bounds(fro: float, shape: tuple[int, ...]) -> tuple[float, float]:
    """Certified ``(upper, lower)`` on ``‖ΔM‖₂`` from ``‖ΔM‖_F`` (``‖·‖_F/√rank ≤ ‖·‖₂ ≤ ‖·‖_F``),
    widened for the rounding of the difference and the sum of squares (:func:`rounding_factor`)."""
    r = rounding_factor(int(shape[0]) * int(shape[1]) + 2)
    return fro * (1.0 + r), fro / math.sqrt(min(shape)) * (1.0 - r)


def observe(net, state, P0, D0, E0, G0, Xtest, ytest, zt_warm, k, alpha, expensive,
             params_finite, solver_log, contraction_lower: float = math.nan,
             exact_contraction: float | None = None, H0=None) -> dict[str, Any]:
    """Observables at step k (see :data:`OBSERVABLES`).

    ``contraction_lower``: the certified lower bound on ``γ̃‖A‖₂`` that came with the state's
    contraction (:attr:`ContractionTracker.lower`); ignored where the contraction is exact.
    ``exact_contraction``: the exact ``γ̃‖A‖₂`` at this step when the caller computed it (the
    GD loop does at the last step), recorded instead of the state's bound. ``H0``: the NTK at
    step 0 (for ``H_dev``)."""
    row: dict[str, Any] = {"step": float(k), "time": float(k) * alpha}
    if not params_finite:
        return row
    m = net.m
    sq = math.sqrt(m)
    with torch.no_grad():
        A, W, u, v = (getattr(net, p).detach() for p in ("A", "W", "u", "v"))
        contraction = float(state.fwd.contraction)
        exact_c = state.fwd.contraction_kind == "exact"
        if exact_contraction is not None and math.isfinite(exact_contraction):
            contraction, exact_c = float(exact_contraction), True
        row["contraction"] = contraction
        row["contraction_exact"] = 1.0 if exact_c else 0.0
        row["contraction_lower"] = contraction if exact_c else float(contraction_lower)
        # γ = 0 (the explicit control): the contraction is 0 and says nothing about ‖A‖₂
        row["A_norm"] = (contraction / net.gamma_tilde if net.gamma_tilde > 0
                         else float("nan"))
        row["A_norm_scaled"] = row["A_norm"] / sq
        row["u_norm"] = float(torch.linalg.vector_norm(u))
        row["v_norm"] = float(torch.linalg.vector_norm(v))
        row["u_move"] = float(torch.linalg.vector_norm(u - P0["u"]))
        row["v_move"] = float(torch.linalg.vector_norm(v - P0["v"]))
        dA, dW = A - P0["A"], W - P0["W"]
        row["A_move_fro"] = float(torch.linalg.vector_norm(dA))
        row["W_move_fro"] = float(torch.linalg.vector_norm(dW))
        row["A_move_upper"], row["A_move_lower"] = _move_bounds(row["A_move_fro"], tuple(dA.shape))
        row["W_move_upper"], row["W_move_lower"] = _move_bounds(row["W_move_fro"], tuple(dW.shape))
        row["phi_max"] = float(torch.linalg.vector_norm(state.Phi, dim=1).max())
        row["fwd_iters"] = float(state.fwd.iterations)
        row["fwd_residual"] = float(state.fwd.residual)
        row["adj_iters"] = float(state.adj.iterations)
        row["adj_residual"] = float(state.adj.residual)
        if E0 is not None:
            row["flip_E"] = int(torch.count_nonzero(state.E != E0)) / E0.numel()
        if expensive:
            row["W_norm"] = _opnorm(W)
            row["W_norm_scaled"] = row["W_norm"] / sq
            row["A_move"] = row["A_move_upper"] = row["A_move_lower"] = _opnorm(dA)
            row["W_move"] = row["W_move_upper"] = row["W_move_lower"] = _opnorm(dW)
        if not state.fwd.converged:
            return row
        row["loss"] = state.loss
        row["residual_sq"] = 2.0 * state.loss
        row["z_max"] = float(torch.linalg.vector_norm(state.Z, dim=1).max())
        if D0 is not None:
            row["flip_D"] = int(torch.count_nonzero(state.D != D0)) / D0.numel()
        elif k == 0:
            row["flip_D"] = 0.0
            row["flip_E"] = 0.0
        if Xtest is not None:
            Phi_t = net.features(Xtest).detach()
            opts = dict(net.solver_opts["forward"])
            opts["throw"] = False
            rho = CertifiedValue(contraction, BoundKind.EXACT if exact_c else BoundKind.UPPER, "state")
            res = solve_forward(A, Phi_t, net.gamma_tilde, z0=zt_warm, contraction=rho, **opts)
            if res.status is SolveStatus.CONVERGED:
                et = res.value @ u + Phi_t @ v - ytest
                row["test_loss"] = 0.5 * float(torch.sum(et * et))
                row["_Zt"] = res.value
            else:
                solver_log["test_failures"] += 1
        if expensive and state.ok:
            gb = gram_blocks(net, state, check=False)  # the state was just computed at θ(k)
            ev_H = _sym_eigvals(gb.H)
            row["lambda_min_G"] = float(_sym_eigvals(gb.G)[0])
            row["lambda_min_H"] = float(ev_H[0])
            row["lambda_min_K"] = float(_sym_eigvals(gb.K)[0])
            if G0 is not None:
                row["G_dev"] = _sym_opnorm(gb.G - G0)
            if H0 is not None:
                row["H_dev"] = _sym_opnorm(gb.H - H0)
            if G0 is None and k == 0:
                row["_G"] = gb.G.clone()
                row["_H"] = gb.H.clone()
                row["_lambda_max_H"] = float(ev_H[-1])
    return row
