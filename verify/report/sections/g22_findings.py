"""The G22-specific parts of a report: numbers for the paper's known issues 1, 2 and 5 at a
run's final parameters, their sentences, the paper's experimental setup next to this report's,
and the notes on scale and step size.

Library code (no argument parsing, no file IO); :func:`verify.report.make.make_report` puts it
together with the generic summary.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from verify.report.model import fmt

__all__ = ["compute_findings", "findings_meta", "paper_setup", "notes"]

_PAPER_WIDTHS = (500, 1000, 2000, 4000)
_PAPER_N = 1000


def compute_findings(record: Mapping[str, Any], params: Mapping[str, Any], dataset: Any, *,
                     jacobian: bool = True, eq16: bool = True) -> dict[str, Any]:
    """Numbers for G22 known issues 1, 2 and 5 at a run's final parameters.

    * issue 1 — eq. 14 as printed (``I_n``) against the corrected Gram (``𝟙𝟙ᵀ``):
      ``‖H_printed − H‖₂/‖H‖₂`` and both λ_min; with ``jacobian=True`` also the relative
      distance of each to the Jacobian Gram ``JJᵀ`` (``verify.gram.jacobian_gram``, unrolled).
    * issue 2 — eq. 16 as printed (inverse instead of transpose-inverse in the first factor of
      Q only, as the paper prints it) for the W block.
    * issue 5 — count of pre-activations exactly 0 (where σ'(0) matters).

    Returns ``{"m", "checked": bool, "loss_check", "issue1", "issue2", "issue5", "note"}``.
    """
    from bounds._errors import check_bool, invalid

    for name, val in (("record", record), ("params", params)):
        if not isinstance(val, Mapping):
            raise invalid(name, val, "expected a mapping", "pass RunResult.record and "
                          "RunResult.params_final")
    check_bool("jacobian", jacobian)
    check_bool("eq16", eq16)
    import numpy as np
    import torch

    from verify.model.gram import (
        gram_blocks,
        jacobian_gram,
        lambda_min,
        paper_eq14_as_printed,
        paper_eq16_as_printed,
    )
    from verify.model.network import ImplicitNetwork

    cfg = record.get("config") or {}
    m = int(cfg["m"])
    gamma = float(cfg["gamma"])
    out: dict[str, Any] = {"m": m, "checked": False}
    need = ("A", "W", "u", "v")
    if any(k not in params for k in need):
        out["note"] = "final parameters not saved; known issues 1, 2, 5 not evaluated"
        return out
    T = {k: torch.tensor(np.array(params[k], dtype=np.float64)) for k in need}
    net = ImplicitNetwork(T["A"], T["W"], T["u"], T["v"], gamma)
    X = torch.tensor(np.array(dataset.X, dtype=np.float64))
    y = torch.tensor(np.array(dataset.y, dtype=np.float64))
    state = net.state(X, y)
    if not state.ok:
        out["note"] = "equilibrium solve did not converge at the final parameters"
        return out
    # the data must be the run's: its final loss is reproduced
    loss_rec = None
    trace_loss = record.get("_final_loss")
    if trace_loss is not None:
        loss_rec = float(trace_loss)
    out["loss_check"] = {"recomputed": float(state.loss), "recorded": loss_rec}
    if loss_rec is not None and not math.isclose(float(state.loss), loss_rec, rel_tol=1e-6,
                                                 abs_tol=1e-12):
        out["note"] = ("the reloaded data do not reproduce the run's final loss "
                       f"({state.loss:.6g} vs {loss_rec:.6g}); known issues not evaluated")
        return out
    out["checked"] = True
    gb = gram_blocks(net, state)
    pv = paper_eq14_as_printed(net, state)

    def opn(M: torch.Tensor) -> float:
        Ms = 0.5 * (M + M.T)
        ev = torch.linalg.eigvalsh(Ms)
        return float(ev.abs().max())

    Hn = opn(gb.H)
    i1: dict[str, Any] = {
        "rel_diff_printed_vs_corrected": opn(pv.H - gb.H) / Hn,
        "lambda_min_H": lambda_min(gb.H),
        "lambda_min_H_printed": lambda_min(pv.H),
        "offdiag_ZZ_norm": opn(gb.H_u - torch.diag(torch.diagonal(gb.H_u))),
    }
    if jacobian:
        try:
            HJ, _ = jacobian_gram(net, X, method="unrolled")
            HJn = opn(HJ)
            i1["jacobian_method"] = "unrolled autograd (torch.func.jacrev)"
            i1["rel_err_corrected_vs_jacobian"] = opn(gb.H - HJ) / HJn
            i1["rel_err_printed_vs_jacobian"] = opn(pv.H - HJ) / HJn
        except Exception as exc:  # report, don't fail the report
            i1["jacobian_error"] = f"{type(exc).__name__}: {exc}"
    out["issue1"] = i1
    if eq16:
        try:
            # as printed: the inverse stands in the FIRST factor of Q only (digest A §9 item 2);
            # the result is not symmetric, so its distance is measured in the spectral norm of
            # the full matrix and λ_min is that of its symmetric part
            p16 = paper_eq16_as_printed(net, state, inverse="printed", factors="first")

            def spec2(M: torch.Tensor) -> float:
                return float(torch.linalg.matrix_norm(M, ord=2))

            Wn = spec2(gb.H_W)
            out["issue2"] = {
                "factors": "first",
                "rel_diff_W_block": spec2(p16.block - gb.H_W) / max(Wn, 1e-300),
                "rel_diff_H": spec2(p16.H - gb.H) / spec2(gb.H),
                "lambda_min_H_printed": lambda_min(0.5 * (p16.H + p16.H.T)),
                "asymmetry": spec2(p16.H - p16.H.T) / spec2(gb.H),
            }
        except Exception as exc:
            out["issue2"] = {"error": f"{type(exc).__name__}: {exc}"}
    with torch.no_grad():
        pre_D = net.gamma_tilde * state.Z @ net.A.detach().T + state.Phi
        pre_E = X @ net.W.detach().T
    out["issue5"] = {"zeros_D": int((pre_D == 0).sum()), "entries_D": int(pre_D.numel()),
                     "zeros_E": int((pre_E == 0).sum()), "entries_E": int(pre_E.numel()),
                     "min_abs_D": float(pre_D.abs().min()), "min_abs_E": float(pre_E.abs().min())}
    return out


def findings_meta(per_run: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Any], ...]:
    """Turn :func:`compute_findings` outputs into report findings (item, text)."""
    out: list[dict[str, Any]] = []
    checked = [f for f in per_run if f.get("checked")]
    for f in per_run:
        if not f.get("checked") and f.get("note"):
            out.append({"item": 1, "m": f["m"], "text": f"m = {f['m']}: {f['note']}."})
    for f in checked:
        i1 = f.get("issue1") or {}
        txt = (f"m = {f['m']} (final parameters): eq. 14 as printed differs from the corrected "
               f"Gram by ‖H_printed − H‖₂/‖H‖₂ = {fmt(i1.get('rel_diff_printed_vs_corrected'))}; "
               f"λ_min(H) = {fmt(i1.get('lambda_min_H'))}, λ_min(H_printed) = "
               f"{fmt(i1.get('lambda_min_H_printed'))}.")
        if "rel_err_corrected_vs_jacobian" in i1:
            txt += (f" Against the Jacobian Gram JJᵀ ({i1['jacobian_method']}): corrected "
                    f"{fmt(i1['rel_err_corrected_vs_jacobian'])}, printed "
                    f"{fmt(i1['rel_err_printed_vs_jacobian'])} (relative, spectral norm) — only "
                    "the all-ones version is the empirical NTK.")
        out.append({"item": 1, "m": f["m"], "text": txt, "value": i1})
        i2 = f.get("issue2")
        if i2:
            if "error" in i2:
                out.append({"item": 2, "m": f["m"], "text": f"m = {f['m']}: not evaluated "
                            f"({i2['error']})."})
            else:
                out.append({"item": 2, "m": f["m"], "value": i2, "text": (
                    f"m = {f['m']} (final parameters): eq. 16 as printed (inverse instead of "
                    f"transpose-inverse in the first factor of Q, as in the paper's text) "
                    f"changes the W block by {fmt(i2['rel_diff_W_block'])} and H by "
                    f"{fmt(i2['rel_diff_H'])} (relative, spectral norm) and makes H "
                    f"non-symmetric (‖H − Hᵀ‖₂/‖H‖₂ = {fmt(i2.get('asymmetry'))}); λ_min of "
                    f"its symmetric part = {fmt(i2['lambda_min_H_printed'])}.")})
        i5 = f.get("issue5") or {}
        if i5:
            out.append({"item": 5, "m": f["m"], "value": i5, "text": (
                f"m = {f['m']} (final parameters): {i5['zeros_D']} of {i5['entries_D']} "
                f"implicit-layer pre-activations and {i5['zeros_E']} of {i5['entries_E']} "
                f"feature pre-activations are exactly 0 (smallest |·|: {fmt(i5['min_abs_D'])}, "
                f"{fmt(i5['min_abs_E'])}), so the choice of σ'(0) did not affect this run."
                if i5["zeros_D"] == 0 and i5["zeros_E"] == 0 else
                f"m = {f['m']} (final parameters): {i5['zeros_D']} implicit-layer and "
                f"{i5['zeros_E']} feature pre-activations are exactly 0; there σ'(0) = 0 was "
                "used.")})
    return tuple(out)


def paper_setup(runs: Sequence[Any]) -> tuple[tuple[str, str, str], ...]:
    rec = runs[0].record
    data = rec.get("data") or {}
    n = data.get("n")
    ms = [r.m for r in runs]
    ratios = ", ".join(f"{m / n:g}" for m in ms) if n else "—"
    cfg = rec.get("config") or {}
    steps = rec.get("steps_done")
    return (
        ("data", "MNIST, FashionMNIST, CIFAR10, SVHN; classes 0 and 1; unit norm",
         f"{data.get('name')} ({data.get('source', '')}); unit norm"),
        ("input dimension d", "784 (28×28 grayscale)", str(data.get("d"))),
        ("training / test samples", "1000 / 1000", f"{n} / {data.get('n_test')}"),
        ("widths m", "500, 1000, 2000, 4000", ", ".join(str(m) for m in ms)),
        ("width / samples m/n", "0.5, 1, 2, 4", ratios),
        ("training", "full-batch GD, 1000 epochs", f"full-batch GD, {steps} steps"),
        ("γ, step α", "not stated (Figure 1's axis suggests γ ≈ 0.1)",
         f"γ = {cfg.get('gamma')}, α = {cfg.get('step')}"),
        ("initialisation", "A, W ~ N(0,1); u, v Rademacher", "same (G22 Assumption 1)"),
    )


def notes(runs: Sequence[Any], made_here: bool, wall: float | None) -> tuple[str, ...]:
    notes = []
    rec = runs[0].record
    data = rec.get("data") or {}
    if data.get("notes"):
        notes.append("Data: " + "; ".join(str(x) for x in data["notes"]) + ".")
    n = data.get("n")
    ms = [r.m for r in runs]
    if n:
        ratios = [m / n for m in ms]
        same = sorted(ratios) == [m / _PAPER_N for m in _PAPER_WIDTHS]
        env = rec.get("environment") or {}
        thr = env.get("torch_threads")
        paper_scale = n == _PAPER_N and data.get("d") == 784
        notes.append(
            ("Scale: the paper's experiment (n = 1000, d = 784, widths 500–4000, 1000 epochs, "
             "four data sets); this report runs it at the paper's n and d with widths "
             f"{', '.join(map(str, ms))}, {rec.get('steps_done')} full-batch GD steps per width"
             + (f"; the whole command took {fmt(wall, 3)} s on "
                f"{(rec.get('environment') or {}).get('device_name', 'this CPU')}"
                if made_here and wall is not None else "") + ".")
            if paper_scale else
            "Scale: the paper's experiment (n = 1000, d = 784, widths 500–4000, 1000 epochs, "
            "four data sets) is far too large for a quick CPU check. "
            + (f"This report keeps the paper's width-to-sample ratios m/n ∈ {{½, 1, 2, 4}} with "
               f"n = {n} instead of 1000" if same else
               f"This report uses m/n ∈ {{{', '.join(f'{x:g}' for x in ratios)}}} with n = {n}")
            + f", and runs {rec.get('steps_done')} full-batch GD steps per width"
            + (f"; the whole command took {fmt(wall, 3)} s on {env.get('device_name', 'this CPU')}"
               + (f" with {thr} torch thread{'s' if thr != 1 else ''}" if thr else "")
               if made_here and wall is not None else "") + ".")
    sc = [(r.m, (r.record.get("step_check") or {})) for r in runs]
    sc = [(m, s) for m, s in sc if s.get("alpha_lambda_max_H0") is not None]
    if sc:
        vals = ", ".join(f"m = {m}: {fmt(s['alpha_lambda_max_H0'], 3)}" for m, s in sc)
        notes.append(
            "Step size: the theorem's step α = O(λ0/n²) (with C_step = 1) would barely move the "
            "loss in this many steps, so the runs use a larger fixed α and report the step "
            "condition as not met. GD on the linearised dynamics is stable iff "
            f"α·λ_max(H(0)) < 2; here α·λ_max(H(0)) = {vals}.")
    warns = sorted({str((r.record.get("step_check") or {}).get("warning")) for r in runs
                    if (r.record.get("step_check") or {}).get("warning")})
    notes.extend(f"Warning: {w}." for w in warns)
    return tuple(notes)
