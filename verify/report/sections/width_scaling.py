"""The width-scaling section: measured width thresholds m*(n) from sweeps, their exponent p with
a CI next to GG22's 1 and G22's 2, the theory's widths and the implied hidden constants.

Input: ``meta.sweeps``, a tuple of :class:`verify.sweep.analysis.SweepAnalysis` (computed once
by the caller: the bootstrap is not re-run by the renderers).  :func:`scaling_part` turns them
into the JSON-ready ``summary["width_scaling"]``; :data:`WIDTH_SCALING` renders it (and adds
one summary sentence per headline outcome).  Every sentence is generated from the numbers.
:data:`SCALING_ONLY` is the document of a report made of sweeps alone
(:mod:`verify.report.scaling_report`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from verify.report.blocks import _H, _P, _UL, Section, _Code, _Fig, _Table
from verify.report.figures_scaling import mstar_name, phase_name
from verify.report.model import fmt

__all__ = ["WIDTH_SCALING", "SCALING_ONLY", "scaling_part", "HEADLINE"]

#: outcomes drawn in the figures and quoted in the summary sentences.
HEADLINE = ("lemma33_init", "G0_dev", "ntk_full_rank", "gd_reached", "kernel_stays")


def _js(x: Any) -> Any:
    if x is None:
        return None
    f = float(x)
    return f if math.isfinite(f) else None


def _wall(an: Any) -> dict[str, Any]:
    """Elapsed time of an uninterrupted sweep (first start → results file) and Σ cell time."""
    import datetime as dt
    from pathlib import Path

    out: dict[str, Any] = {"cells_wall_sum_s": _js(np.nansum(
        np.asarray(an.table.get("wall_s", np.zeros(0)), dtype=float)))}
    inv = an.meta.get("invocations") or []
    res = Path(an.source) / "results.parquet"
    if getattr(an, "wall_s", None) is not None:
        out["measured_s"] = _js(an.wall_s)
    elif inv and res.is_file():
        try:
            t0 = dt.datetime.fromisoformat(str(inv[0]["started"])).timestamp()
            out["elapsed_s"] = _js(res.stat().st_mtime - t0)
            out["invocations"] = len(inv)
        except (KeyError, ValueError, TypeError):
            pass
    return out


def _sweep_part(an: Any) -> dict[str, Any]:
    spec = an.spec
    outs = []
    for name, res in an.fits.items():
        cells = [{"n": int(r.n), "m": int(r.m), "trials": int(r.trials),
                  "successes": int(r.successes), "freq": _js(r.freq), "cp_lo": _js(r.cp_lo),
                  "cp_hi": _js(r.cp_hi)} for r in res.cells.itertuples(index=False)]
        ext = {(int(r.n), float(r.q)): bool(r.extrapolated)
               for r in res.thresholds.itertuples(index=False)}
        thr = [{**{k: v for k, v in r.items() if k in ("q", "n", "kind", "m_star", "m_star_lo",
                                                     "m_star_hi")},
                "extrapolated": ext.get((int(r["n"]), float(r["q"])), False)}
               for r in res.to_records()]
        laws = [{"q": w.q, "p": _js(w.p), "p_lo": _js(w.p_lo), "p_hi": _js(w.p_hi),
                 "a": _js(w.a), "words": w.words, "reason": w.reason,
                 "n_used": list(w.n_used)} for w in res.scaling]
        comp = an.comparisons.get(name)
        implied = []
        if comp is not None:
            for t in comp.trends:
                sub = comp.rows[comp.rows["condition"] == t.condition]
                implied.append({"condition": t.condition, "constant": t.constant,
                                "label": str(sub["label"].iloc[0]) if len(sub) else t.condition,
                                "per_n": [{"n": int(r.n), "implied": _js(r.implied),
                                           "ratio": _js(r.ratio),
                                           "theory_width": _js(r.theory_width)}
                                          for r in sub.itertuples(index=False)],
                                "slope": _js(t.slope), "slope_lo": _js(t.slope_lo),
                                "slope_hi": _js(t.slope_hi), "trend": t.word})
        outs.append({"name": name, "source": res.source, "phase": name in HEADLINE,
                     "excluded": res.excluded, "cells": cells, "thresholds": thr, "laws": laws,
                     "implied": implied, "n_boot": res.n_boot, "boot_seed": res.seed,
                     "ci": res.ci})
    lam = {int(k): float(v) for k, v in an.lambda0.items()}
    lam_slope = None
    if len(lam) >= 2:
        lam_slope = float(np.polyfit(np.log(list(lam)), np.log(list(lam.values())), 1)[0])
    return {"source": getattr(an, "label", None) or an.source, "kind": spec.kind, "data": spec.data,
            "command": an.meta.get("command"), "grid": {"n": list(spec.n), "m": list(spec.m),
                                                        "seeds": len(spec.seeds)},
            "spec": spec.to_dict(), "cells": len(an.table),
            "cells_planned": len(spec.n) * len(spec.m) * len(spec.seeds),
            "errors": int((an.table.get("status", "done") != "done").sum())
            if "status" in an.table.columns else 0,
            "wall": _wall(an), "lambda0": {str(k): v for k, v in lam.items()},
            "lambda0_slope": lam_slope, "outcomes": outs, "skipped": dict(an.skipped),
            "theory": {str(k): v for k, v in an.theory.items()}, "notes": list(an.notes),
            "environment": an.meta.get("environment") or {}}


def scaling_part(analyses: Sequence[Any]) -> dict[str, Any]:
    """``summary["width_scaling"]`` from :class:`~verify.sweep.analysis.SweepAnalysis` objects."""
    return {"sweeps": [_sweep_part(a) for a in analyses]}


def _summarise(runs: Sequence[Any], meta: Any) -> dict[str, Any]:
    sweeps = tuple(getattr(meta, "sweeps", ()) or ())
    return {"width_scaling": scaling_part(sweeps)} if sweeps else {}


def _lines(part: Mapping[str, Any], widths: Sequence[int]) -> list[str]:
    return summary_lines(part.get("width_scaling") or {})


def summary_lines(ws: Mapping[str, Any]) -> list[str]:
    out = []
    for sw in ws.get("sweeps") or []:
        for o in sw["outcomes"]:
            if o["name"] not in HEADLINE:
                continue
            law = next((w for w in o["laws"] if math.isclose(w["q"], 0.5)), None)
            if law is None:
                continue
            where = f"{sw['kind']} sweep {sw['source']}, {sw['data']}"
            if law["p"] is None:
                b = _bounds_text(o)
                out.append(f"Width scaling of {o['name']} ({where}): no exponent — {b}.")
            else:
                out.append(f"Width scaling of {o['name']} ({where}): median threshold "
                           f"m*½(n) ∝ n^p with {law['words']}; fitted on n = "
                           f"{law['n_used']}.")
    return out


def _bounds_text(o: Mapping[str, Any]) -> str:
    parts = []
    for r in o["thresholds"]:
        if not math.isclose(r["q"], 0.5):
            continue
        parts.append(f"n = {r['n']}: {_mtext(r)}")
    return "; ".join(parts)


def _mtext(r: Mapping[str, Any]) -> str:
    k = r["kind"]
    if k == "fit":
        return (f"{fmt(r['m_star'], 3)} [{fmt(r['m_star_lo'], 3)}, {fmt(r['m_star_hi'], 3)}]"
                + (" (extrapolated beyond the grid)" if r.get("extrapolated") else ""))
    if k == "below_grid":
        return f"< {fmt(r['m_star_hi'])} (never failed)"
    if k == "above_grid":
        return f"> {fmt(r['m_star_lo'])} (never succeeded)"
    if k == "bracket":
        if not r["m_star_lo"]:
            return f"≤ {fmt(r['m_star_hi'])} (separated: no finite fit)"
        if r["m_star_hi"] is None:
            return f"> {fmt(r['m_star_lo'])} (separated: no finite fit)"
        return f"in [{fmt(r['m_star_lo'])}, {fmt(r['m_star_hi'])}] (separated: no finite fit)"
    return "no threshold (success does not rise with m)"


def _range(vals: Sequence[int]) -> str:
    v = list(vals)
    return "{" + ", ".join(str(x) for x in v) + "}" if len(v) <= 8 else \
        f"{{{v[0]}, {v[1]}, …, {v[-1]}}} ({len(v)} values)"


def _sweep_blocks(i: int, sw: Mapping[str, Any]) -> list[Any]:
    spec = sw["spec"]
    g = sw["grid"]
    b: list[Any] = [_H(3, f"{sw['kind']} sweep on {sw['data']}: n ∈ {_range(g['n'])}, "
                       f"m ∈ {_range(g['m'])}, {g['seeds']} seeds per cell")]
    w = sw["wall"]
    made = [f"{sw['cells']} cells ({sw['errors']} errors)"]
    if sw.get("cells_planned") and sw["cells"] < sw["cells_planned"]:
        made[0] = (f"PARTIAL: {sw['cells']} of {sw['cells_planned']} planned cells finished "
                   f"({sw['errors']} errors; thresholds use the finished cells only)")
    if w.get("measured_s") is not None:
        made.append(f"wall time {fmt(w['measured_s'], 3)} s")
    if w.get("elapsed_s") is not None:
        made.append(f"elapsed {fmt(w['elapsed_s'], 3)} s from the sweep's start to its final "
                    f"table over {w.get('invocations', 1)} invocation(s)")
    if w.get("cells_wall_sum_s") is not None:
        made.append(f"Σ cell wall time {fmt(w['cells_wall_sum_s'], 3)} s")
    b.append(_P(("Command: ", _Code(str(sw.get("command") or "(not recorded)")), ". "
                 + "; ".join(made) + f". Directory: {sw['source']}.")))
    env = sw.get("environment") or {}
    if env:
        b.append(_P("Sweep environment (sweep.json): " + ", ".join(
            f"{k} {v}" for k, v in env.items() if k in ("platform", "python", "torch", "numpy",
                                                        "dask", "implicit-verify")) + ".", "meta"))
    if sw["kind"] == "gd":
        b.append(_P(f"GD outcome: loss ≤ {fmt(spec['target'])}·loss(0) within {spec['steps']} "
                    f"steps, step {spec['step']} ('auto' = 1/λ_max(H(0)) per cell), γ = "
                    f"{fmt(spec['gamma'])}; H(k), W(k) observables recorded every "
                    f"{spec['expensive_every']} step(s). The measured threshold of this outcome "
                    "depends on the target and the step budget, not on the width alone."))
    lam = sw["lambda0"]
    theory = sw["theory"]
    names = []
    for rows in theory.values():
        for r in rows:
            if r["label"] not in names:
                names.append(r["label"])
    header = ("n", "λ0", *[f"{nm} (C = 1)" for nm in names])
    rows_t = []
    for n in g["n"]:
        trow = {r["label"]: r["width"] for r in theory.get(str(n), [])}
        rows_t.append((str(n), fmt(lam.get(str(n))), *[fmt(trow.get(nm), 3) for nm in names]))
    b.append(_P("λ0 = λ_min(G∞) of the data at each n, and the theory's required widths "
                "(bounds.required_width, G22, δ = 0.01, every hidden constant at its default 1 "
                "— a convention, not the paper's value):"))
    b.append(_Table(header, tuple(rows_t)))
    s = sw.get("lambda0_slope")
    if s is not None:
        b.append(_P(f"Caveat (digest B): λ0 changes with n on real data — here λ0 ∝ n^s with "
                    f"s = {fmt(s, 3)} (least squares over the grid) — so a fitted exponent in n "
                    "mixes the dependence on n with that on λ0(n). Along this data's λ0(n), a "
                    "width formula n^a/λ0^b grows like n^(a − b·s): G22 Lemma 3.3's n²/λ0² like "
                    f"n^{fmt(2 - 2 * s, 3)}, a matrix-Chernoff n/λ0 like n^{fmt(1 - s, 3)}, a "
                    "λ0-free linear width (GG22's m = Ω(n) as stated in its abstract) like n^1."))
    if any(o.get("phase") for o in sw["outcomes"]):
        b.append(_Fig(phase_name(i), "Success frequency of every (n, m) cell (colour; log axes) "
                      "per outcome, with the fitted median threshold m*½(n) and its 95% "
                      "bootstrap band (▽: upper bound where no width failed, △: lower bound "
                      "where none succeeded), and the lines m = n and m = n². Theory widths "
                      "far above the grid are written in the panel (hidden constants = 1). Open grey "
                      "squares: cells with no decided seed (not computed, e.g. outcomes of H(0) "
                      "and K(0) above the sweep's --hk-max-m, or every seed undecided)."))
        b.append(_Fig(mstar_name(i), "m*½(n) per outcome on log-log axes with 95% CIs and "
                      "fitted power laws, the theory's widths (red dashed, hidden constants "
                      "= 1) and reference slopes 1 (GG22) and 2 (G22)."))
    b.append(_H(4, "Exponents"))
    erows = []
    for o in sw["outcomes"]:
        for law in o["laws"]:
            p = "—" if law["p"] is None else (
                f"{fmt(law['p'], 3)} [{fmt(law['p_lo'], 3)}, {fmt(law['p_hi'], 3)}]")
            erows.append((_Code(o["name"]), o["source"], fmt(law["q"]), p, law["words"],
                          law["reason"]))
    b.append(_Table(("outcome", "statement", "q", "p [95% CI]", "comparison", "fit"),
                    tuple(erows)))
    b.append(_H(4, "Thresholds per n"))
    trows = []
    for o in sw["outcomes"]:
        by_n: dict[int, dict[float, Mapping[str, Any]]] = {}
        for r in o["thresholds"]:
            by_n.setdefault(int(r["n"]), {})[float(r["q"])] = r
        for n, d in sorted(by_n.items()):
            qs = sorted(d)
            r5 = d.get(0.5)
            cval = "—" if r5 is None or r5["m_star"] is None else fmt(r5["m_star"] / n, 3)
            trows.append((_Code(o["name"]), str(n), *[_mtext(d[q]) for q in qs[:2]], cval))
    qn = sorted({float(r["q"]) for o in sw["outcomes"] for r in o["thresholds"]})[:2]
    b.append(_Table(("outcome", "n", *[f"m*_{fmt(q)} [95% CI]" for q in qn], "C = m*½/n"),
                    tuple(trows)))
    imp = [(o, t) for o in sw["outcomes"] for t in o["implied"]]
    if imp:
        b.append(_H(4, "Implied hidden constants"))
        b.append(_P("The value of each hidden constant at which the theory's width formula "
                    "equals the measured m*½(n), and its trend in n (slope of log C on log n "
                    "with a bootstrap 95% CI: flat = the formula has the measured shape in n; "
                    "falling = the formula grows faster in n than the measured threshold)."))
        irows = []
        for o, t in imp:
            vals = ", ".join(f"{p['n']}: {fmt(p['implied'], 3)}" for p in t["per_n"])
            sl = "—" if t["slope"] is None else (
                f"{fmt(t['slope'], 3)} [{fmt(t['slope_lo'], 3)}, {fmt(t['slope_hi'], 3)}]")
            irows.append((_Code(o["name"]), t["label"], _Code(t["constant"]), vals, sl,
                          t["trend"]))
        b.append(_Table(("outcome", "width condition", "constant", "implied value per n",
                         "slope in log n", "trend"), tuple(irows)))
    notes = [f"{k}: not fitted ({v})" for k, v in sw["skipped"].items()] + list(sw["notes"])
    notes.append(f"Bootstrap: {sw['outcomes'][0]['n_boot'] if sw['outcomes'] else 0} "
                 f"replicates, seed {sw['outcomes'][0]['boot_seed'] if sw['outcomes'] else 0} "
                 "(resampling seeds within each cell, refitting the whole pipeline).")
    b.append(_UL(tuple(notes)))
    return b


def _blocks(summary: Mapping[str, Any]) -> list[Any]:
    ws = summary.get("width_scaling")
    if not ws or not ws.get("sweeps"):
        return []
    b: list[Any] = [_H(2, "Width scaling: measured thresholds m*(n) against the theory",
                       "width-scaling")]
    b.append(_P("Both papers are about how wide the network must be: G22 asks m = Ω̃(n²), "
                "GG22 m = Ω(n) (constants not published in the available text). A sweep runs "
                "every (n, m) cell over several seeds; for each outcome the success frequency "
                "per width is fitted by a probit law in log m (maximum likelihood) giving "
                "m*_q(n), the width with success probability q, with bootstrap CIs; a row that "
                "never fails or never succeeds gives a bound, not a number. The exponent p of "
                "m*½(n) ∝ n^p is then compared with 1 (GG22) and 2 (G22)."))
    for i, sw in enumerate(ws["sweeps"]):
        b.extend(_sweep_blocks(i, sw))
    return b


WIDTH_SCALING = Section("width_scaling", _blocks, _summarise, _lines)


def _header(summary: Mapping[str, Any]) -> list[Any]:
    b: list[Any] = [_H(1, str(summary.get("title") or "Width scaling report"))]
    if summary.get("generated"):
        b.append(_P(f"Generated {summary['generated']}.", "meta"))
    if summary.get("command"):
        b.append(_P(("Reproduce with: ", _Code(str(summary["command"])))))
    lines = summary.get("summary") or []
    if lines:
        b.append(_H(2, "Summary"))
        b.append(_UL(tuple(lines)))
    if summary.get("notes"):
        b.extend(_P(str(n)) for n in summary["notes"])
    return b


SCALING_ONLY: tuple[Section, ...] = (Section("scaling_header", _header), WIDTH_SCALING)
