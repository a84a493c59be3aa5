"""The end of a run: trace → verdicts, rates, bounds and the ``record.json`` dict (schema
``implicit-verify/run/1``, docs/CONTRACTS.md), then the run directory's final files.

A different kind of run (a sweep task, say) that has a trace and a spec reuses
:func:`finish_run`; the stop rule and observers upstream do not matter here.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import bounds
from bounds._errors import VerifyError
from verify.experiment.checks import check_spec, fit_rates, slack_tol
from verify.experiment.known_issues import known_issues
from verify.experiment.loop import GDLoop
from verify.experiment.observers import OBSERVABLE_NAMES
from verify.experiment.record import (
    RECORD_SCHEMA,
    atomic_save_npz,
    atomic_write_json,
    environment,
    jsonable,
    to_numpy,
)
from verify.experiment.result import RunResult
from verify.experiment.step import PARAMS
from verify.experiment.stopping import STATUS_TEXT
from verify.model.equilibrium import predicted_iterations
from verify.model.network import SIGMA_PRIME_AT_ZERO

__all__ = ["finish_run", "finish_failed", "RunFailed", "round_up_sq", "round_up_prod"]


def _certified_error(trace: dict[str, Any], tol: float) -> dict[str, Any]:
    """The error every converged solve of the run is certified to: each stops on a Picard
    residual ``‖F(x) − x‖ ≤ tol·s`` and returns ``F(x)``, so ``‖F(x) − z*‖ ≤ ρ/(1 − ρ)·tol·s``
    with ``ρ`` the recorded (bound on) ``γ̃‖A‖₂``; the largest over the run."""
    c = np.asarray(trace.get("contraction", ()), dtype=np.float64)
    c = c[np.isfinite(c)]
    rho = float(c.max()) if c.size else math.nan
    value = rho / (1.0 - rho) * tol if math.isfinite(rho) and rho < 1.0 else None
    return {"relative": value, "contraction_max": rho if c.size else None,
            "statement": "‖returned − z*‖_F ≤ ρ/(1 − ρ)·tol·s for every converged solve (s = ‖σ(Φ)‖_F "
                         "forward, ‖D∘u‖_F adjoint; ρ the largest recorded bound on γ̃‖A‖₂)"}


def round_up_sq(value: float, target_sq: float) -> float:
    """Smallest float ≥ value with value² ≥ target_sq (so a bound e0² is never below ‖e0‖²
    by rounding)."""
    while value * value < target_sq:
        value = float(np.nextafter(value, math.inf))
    return value


def round_up_prod(value: float, factor: float, target: float) -> float:
    while value * factor < target:
        value = float(np.nextafter(value, math.inf))
    return value




def fmt_num(x: float | None) -> str:
    return "unknown" if x is None or not math.isfinite(x) else f"{x:.3g}"


def finish_run(loop: GDLoop, wall: float, command: str | None, data_name: str | None,
               resumed: bool) -> RunResult:
    """Verdicts and record of a finished :class:`~verify.experiment.loop.GDLoop`; writes
    ``trace.npz``, ``params_final.npz`` and ``record.json`` when the run has a directory."""
    config, spec, out, rows = loop.config, loop.inputs.spec, loop.out, loop.rows
    Xn = loop.inputs.X
    n, d = Xn.shape
    alpha, tol_eff, tol_cmp = config.step, loop.tol_eff, slack_tol(config.dtype)
    P0, net, extra, solver_log = loop.P0, loop.net, loop.extra, loop.solver_log
    status, status_msg, steps_done, last_states = loop.status, loop.status_msg, loop.k, loop.last_states
    E_every, ck_every, start, L0 = loop.expensive_every, loop.checkpoint_every, loop.start, loop.L0
    data_record, device = loop.inputs.data_record(data_name), loop.inputs.device
    trace = {name: np.asarray(rows[name], dtype=np.float64) for name in OBSERVABLE_NAMES}
    P0n = {k_: to_numpy(v).astype(np.float64) for k_, v in P0.items()}
    Pf = {k_: to_numpy(getattr(net, k_)).astype(np.float64) for k_ in PARAMS}
    audit = bounds.audit_data(Xn)
    lam0 = float(bounds.lambda0(Xn))
    X_norm = float(np.linalg.norm(Xn, 2))
    r0 = trace["residual_sq"][0] if trace["residual_sq"].size and trace["step"][0] == 0 else math.nan
    e0_norm = round_up_sq(math.sqrt(r0), r0) if math.isfinite(r0) else math.nan
    sq = math.sqrt(config.m)
    c_measured = float(bounds.norm_constant_measured(P0n["A"], P0n["W"]))
    c_tail = float(bounds.norm_constant_tail(config.m, d, config.delta))
    # c is the smallest constant with ‖A(0)‖, ‖W(0)‖ ≤ c√m; round up so that this holds in
    # floating point for the norms in the trace too.
    norms0 = [x for x in (trace["A_norm"][:1].tolist() + trace["W_norm"][:1].tolist()) if math.isfinite(x)]
    c_meas_fp = c_measured
    for x in norms0:
        c_meas_fp = round_up_prod(c_meas_fp, sq, x)
    c = c_meas_fp if config.c_source == "measured" else c_tail
    symbols = {"n": n, "d": d, "m": config.m, "gamma": config.gamma, "alpha": alpha,
               "delta": config.delta, "lambda0": lam0, "c": c, "c_source": config.c_source,
               "c_tail": c_tail, "c_measured": c_measured, "X_norm": X_norm, "e0_norm": e0_norm}
    hidden = {**dict(spec.hidden), **dict(config.hidden or {})}
    lam_max_H0 = extra.get("lambda_max_H0", math.nan)
    verdicts = check_spec(spec, trace, symbols, mode=config.mode, audit=audit, params_init=P0n,
                          hidden=hidden, tol=tol_cmp, hidden_range=config.hidden_range,
                          hypotheses=config.hypotheses,
                          lambda_max_H0=None if lam_max_H0 is None else float(lam_max_H0),
                          gf_threshold=config.gf_threshold)
    rates = fit_rates(trace, alpha, lam0, mode=config.mode)
    symvals = {k_: v for k_, v in symbols.items() if k_ != "c_source" and k_ not in ("c_tail", "c_measured")}
    bounds_rec = []
    for b in spec.bounds:
        try:
            val = b.evaluate(**{**symvals, **hidden}, k=float(steps_done), t=float(steps_done) * alpha)
        except bounds.InvalidArgument:
            val = None
        bounds_rec.append({"name": b.name, "label": b.label, "latex": b.latex(), "expr": str(b.expr),
                           "value": val, "provenance": b.provenance.value, "hidden": list(b.hidden),
                           "description": b.description,
                           "value_at": ("final step" if {"k", "t"} & set(b.free_symbols) else None)})
    disc = alpha * lam_max_H0 if lam_max_H0 is not None else None
    step_check = {"alpha_lambda_max_H0": alpha * lam_max_H0 if lam_max_H0 is not None else None,
                  "lambda_max_H0": lam_max_H0,
                  "gd_stable_quadratic": (alpha * lam_max_H0 < 2.0) if lam_max_H0 is not None and math.isfinite(lam_max_H0) else None,
                  "note": ("GD on the linearised dynamics e ← (I − αH)e is stable iff αλ_max(H) < 2; "
                           "the GF reading of the same updates is faithful when αλ_max(H) ≪ 1"),
                  "gf_threshold": config.gf_threshold,
                  "gf_checked": (None if config.mode != "gf" else
                                 bool(disc is not None and math.isfinite(disc)
                                      and disc <= config.gf_threshold))}
    if config.mode == "gf" and not step_check["gf_checked"]:
        step_check["warning"] = (f"mode='gf' with α·λ_max(H(0)) = {fmt_num(disc)}"
                                 + (f" > {config.gf_threshold:g}" if disc is not None
                                    and math.isfinite(disc) else "")
                                 + ": the steps are not small, "
                                 "so the run is GD rather than a discretised gradient flow; its "
                                 "gradient-flow claims are inconclusive (discretisation)")
    solver_rec = {**solver_log, "last": last_states, "method": config.solver, "tol": tol_eff,
                  "max_iter": config.max_iter, "sigma_prime_at_zero": SIGMA_PRIME_AT_ZERO,
                  "contraction_init": float(trace["contraction"][0]) if trace["contraction"].size else None,
                  "predicted_iterations_init": (predicted_iterations(float(trace["contraction"][0]), tol_eff)
                                                if trace["contraction"].size and math.isfinite(trace["contraction"][0]) else None),
                  "certified_error": _certified_error(trace, tol_eff)}
    record = {
        "schema": RECORD_SCHEMA,
        "config": config.to_dict(),
        "data": data_record,
        "environment": environment(device),
        "command": command,
        "status": status,
        "status_message": f"{STATUS_TEXT[status]}: {status_msg}" if status_msg else STATUS_TEXT[status],
        "steps_done": steps_done,
        "wall_time_s": wall,
        "theorem": {"key": spec.key, "title": spec.title, "paper": spec.paper,
                    "label": spec.title.split(":")[0]},
        "symbols": symbols,
        "hidden_constants": hidden,
        "verdict_options": {"hidden_range": list(config.hidden_range),
                            "hypotheses": config.hypotheses,
                            "gf_threshold": config.gf_threshold},
        "audit": audit.to_dict(),
        "bounds": bounds_rec,
        "verdicts": [v.to_dict() for v in verdicts],
        "rates": rates,
        "known_issues": known_issues(spec, verdicts, symbols, trace),
        "schedule": {"record_every": config.record_every, "expensive_every": E_every,
                     "expensive_every_auto": config.expensive_every is None,
                     "checkpoint_every": ck_every, "recorded_steps": int(trace["step"].size),
                     "resumed_from": start if resumed else None,
                     "slack_tol": tol_cmp, "initial_loss": L0},
        "solver": solver_rec,
        "step_check": step_check,
    }
    record = jsonable(record)
    if out is not None:
        atomic_save_npz(out / "trace.npz", **trace)
        atomic_save_npz(out / "params_final.npz", **Pf)
        atomic_write_json(out / "record.json", record)
    return RunResult(record, trace, status, verdicts, out, P0n, Pf)


class RunFailed(VerifyError, RuntimeError):
    """Training finished but :func:`finish_run` raised; the run directory holds a record with
    status ``"failed"``, the trace and the final parameters (nothing computed is lost)."""


def finish_failed(loop: GDLoop, wall: float, command: str | None, data_name: str | None,
                  exc: BaseException) -> RunFailed:
    """Write what a failed :func:`finish_run` leaves (``trace.npz``, ``params_final.npz`` and a
    ``record.json`` with status ``"failed"``, the training status and the error) and return the
    error to raise. Only the parts that need no verdict maths are recorded."""
    config, out, rows = loop.config, loop.out, loop.rows
    n, d = loop.inputs.X.shape
    trace = {name: np.asarray(rows[name], dtype=np.float64) for name in OBSERVABLE_NAMES}
    Pf = {k_: to_numpy(getattr(loop.net, k_)).astype(np.float64) for k_ in PARAMS}
    spec = loop.inputs.spec
    why = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
    record = jsonable({
        "schema": RECORD_SCHEMA, "config": config.to_dict(),
        "data": loop.inputs.data_record(data_name), "environment": environment(loop.inputs.device),
        "command": command, "status": "failed",
        "status_message": f"{STATUS_TEXT['failed']}: {why}",
        "training_status": loop.status, "error": why, "steps_done": loop.k, "wall_time_s": wall,
        "theorem": {"key": spec.key, "title": spec.title, "paper": spec.paper,
                    "label": spec.title.split(":")[0]},
        "symbols": {"n": n, "d": d, "m": config.m, "gamma": config.gamma, "alpha": config.step},
        "verdicts": [],
        "schedule": {"recorded_steps": int(trace["step"].size), "record_every": config.record_every,
                     "checkpoint_every": loop.checkpoint_every},
    })
    where = "no run directory"
    if out is not None:
        atomic_save_npz(out / "trace.npz", **trace)
        atomic_save_npz(out / "params_final.npz", **Pf)
        atomic_write_json(out / "record.json", record)
        where = "the run directory holds record.json (status 'failed'), trace.npz and params_final.npz"
    return RunFailed(f"training finished ({loop.status}, {loop.k} steps) but the verdicts could not "
                     f"be computed ({why}); {where}; please report this with the record")
