"""The width-scaling section: measured width thresholds m*(n) from sweeps, their exponent p with
its CIs (one joint fit over n) beside the exponent each theory's width predicts on the sweep's
own data, fit quality, the design of an adaptive sweep, the theory's widths and the implied
hidden constants.

Input: ``meta.sweeps``, a tuple of :class:`verify.sweep.analysis.SweepAnalysis` (computed once
by the caller: the bootstrap is not re-run by the renderers).  :func:`scaling_part` turns them
into the JSON-ready ``summary["width_scaling"]``; :data:`WIDTH_SCALING` renders it (and adds
one summary sentence per headline outcome).  Every sentence is generated from the numbers.
:data:`SCALING_ONLY` is the document of a report made of sweeps alone
(:mod:`verify.report.scaling_report`).

Length (~520 lines), kept as one module: :func:`scaling_part` and the blocks that render it
share one JSON layout, and each sentence sits beside the numbers it is generated from; split,
a change to one field would have to be made in two files.  The statistics are not here
(:mod:`verify.sweep.thresholds`, :mod:`verify.sweep.analysis`), only what the section says.
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
                 "n_used": list(w.n_used), "method": getattr(w, "method", ""),
                 "threshold": bool(getattr(w, "threshold", True)),
                 "fits": bool(getattr(w, "fits", True)),
                 "intervals": {k: (None if v is None else [_js(v[0]), _js(v[1])])
                               for k, v in (getattr(w, "intervals", None) or {}).items()},
                 "predictions": dict(getattr(w, "predictions", None) or {})}
                for w in res.scaling]
        joint = _joint_part(res, an)
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
                     "ci": res.ci, "joint": joint})
    adaptive = _adaptive_part(an)
    lam = {int(k): float(v) for k, v in an.lambda0.items()}
    lam_slope = None
    if len(lam) >= 2:
        lam_slope = float(np.polyfit(np.log(list(lam)), np.log(list(lam.values())), 1)[0])
    return {"source": getattr(an, "label", None) or an.source, "kind": spec.kind, "data": spec.data,
            "command": an.meta.get("command"), "grid": {"n": list(spec.n), "m": list(spec.m),
                                                        "seeds": len(spec.seeds)},
            "spec": spec.to_dict(), "cells": len(an.table),
            "cells_planned": (None if adaptive else len(spec.n) * len(spec.m) * len(spec.seeds)),
            "adaptive": adaptive,
            "errors": int((an.table.get("status", "done") != "done").sum())
            if "status" in an.table.columns else 0,
            "wall": _wall(an), "lambda0": {str(k): v for k, v in lam.items()},
            "lambda0_slope": lam_slope, "outcomes": outs, "skipped": dict(an.skipped),
            "theory": {str(k): v for k, v in an.theory.items()}, "notes": list(an.notes),
            "environment": an.meta.get("environment") or {}}


def _adaptive_part(an: Any) -> dict[str, Any] | None:
    """The design of an adaptive sweep (``adaptive.json`` of :mod:`verify.sweep.adaptive`):
    settings, rounds, per n the cells, the stop and the last posterior, and the cell savings."""
    import json
    from pathlib import Path

    p = Path(str(an.source)) / "adaptive.json"  # docs/CONTRACTS.md (no verify.sweep import)
    if not p.is_file():
        return None
    log = json.loads(p.read_text(encoding="utf-8"))
    fin = log.get("final") or {}
    cells = {str(n): int((an.table["n"] == n).sum()) for n in an.spec.n}
    per_n = {}
    for n, v in (fin.get("per_n") or {}).items():
        e = v.get("estimate") or {}
        per_n[n] = {"cells": cells.get(n, 0), "stopped": (fin.get("stopped") or {}).get(n),
                    "m_star": _js(e.get("m_star")), "m_lo": _js(e.get("m_lo")),
                    "m_hi": _js(e.get("m_hi")), "halfwidth": _js(e.get("halfwidth")),
                    "rounds": sum(1 for r in log.get("rounds", [])
                                  if any(c[0] == int(n) for c in r.get("cells", [])))}
    sv = fin.get("savings") or {}
    return {"design": log.get("design"), "rounds": len(log.get("rounds", [])),
            "finished": "final" in log, "per_n": per_n,
            "savings": {k: sv.get(k) for k in ("grid", "factor", "cells_per_n_seeds",
                                               "cells_uniform_seeds", "ratio_per_n_seeds",
                                               "ratio_uniform_seeds", "adaptive_cells", "law_from",
                                               "reps")} | {
                "seeds_per_cell": {n: v.get("seeds_per_cell")
                                   for n, v in (sv.get("per_n") or {}).items()}} if sv else None}


def _joint_part(res: Any, an: Any) -> dict[str, Any] | None:
    """The joint fit of one outcome: thresholds per (n, q) with their three intervals, fit
    quality, and per theory the predicted exponent and the ratio theory width / m*½(n)."""
    j = getattr(res, "joint", None)
    if j is None:
        return None
    jt = res.joint_thresholds
    thr = [{"n": int(r.n), "q": float(r.q), "m_star": _js(r.m_star),
            "m_star_lo": _js(r.m_star_lo), "m_star_hi": _js(r.m_star_hi),
            "extrapolated": bool(r.extrapolated),
            **{f"{k}_{e}": _js(getattr(r, f"{k}_{e}")) for k in ("profile", "seed_block",
                                                                 "parametric")
               for e in ("lo", "hi")}} for r in jt.itertuples(index=False)]
    q = j.quality
    quality = {"deviance": _js(q["deviance"]), "df": q["df"], "p": _js(q["p_used"]),
               "p_from": q["p_used_from"], "fits": bool(q["fits"]), "text": res.quality_text(),
               "per_n": {str(n): {"deviance": _js(v["deviance"]), "cells": v["cells"],
                                  "p_boot": _js(v["p_boot"])} for n, v in q["per_n"].items()},
               "links": {k: _js(v) for k, v in q["links"].items()},
               "spread_test": q["spread_test"], "trend_z": _js(q.get("trend_z"))}
    preds = [{**r, "exponent": _js(r["exponent"]),
              "per_n": [{**x, "width": _js(x["width"]), "ratio": _js(x["ratio"])}
                        for x in r["per_n"]]}
             for r in (an.prediction_rows(res.outcome) if hasattr(an, "prediction_rows") else [])]
    return {"link": j.link, "spread": j.spread, "spreads": {str(k): v for k, v in j.spreads.items()},
            "thresholds": thr, "quality": quality, "predictions": preds}


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
                out.append(f"Width scaling of {o['name']} ({where}): no exponent — "
                           f"{law['reason']}.")
            else:
                out.append(f"Width scaling of {o['name']} ({where}): median threshold "
                           f"m*½(n) ∝ n^p, joint fit over n = {law['n_used']}: "
                           f"{law['words']}.")
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
    ad = sw.get("adaptive")
    if ad:
        dz = ad["design"]
        b: list[Any] = [_H(3, f"{sw['kind']} sweep on {sw['data']}, adaptive design: n ∈ "
                           f"{_range(g['n'])}, m searched in [{dz['m_lo']}, {dz['m_hi']}], "
                           f"{sw['cells']} cells")]
    else:
        b = [_H(3, f"{sw['kind']} sweep on {sw['data']}: n ∈ {_range(g['n'])}, "
                   f"m ∈ {_range(g['m'])}, {g['seeds']} seeds per cell")]
    w = sw["wall"]
    made = [f"{sw['cells']} cells ({sw['errors']} errors)"]
    if sw.get("cells_planned") and sw["cells"] < sw["cells_planned"]:
        made[0] = (f"PARTIAL: {sw['cells']} of {sw['cells_planned']} planned cells finished "
                   f"({sw['errors']} errors; thresholds use the finished cells only)")
    if w.get("measured_s") is not None:
        made.append(f"wall time {fmt(w['measured_s'], 3)} s")
    if w.get("elapsed_s") is not None:
        over = (f"{ad['rounds']} rounds (one engine call each)" if ad
                else f"{w.get('invocations', 1)} invocation(s)")
        made.append(f"elapsed {fmt(w['elapsed_s'], 3)} s from the sweep's start to its final "
                    f"table over {over}")
    if w.get("cells_wall_sum_s") is not None:
        made.append(f"Σ cell wall time {fmt(w['cells_wall_sum_s'], 3)} s")
    b.append(_P(("Command: ", _Code(str(sw.get("command") or "(not recorded)")), ". "
                 + "; ".join(made) + f". Directory: {sw['source']}.")))
    env = sw.get("environment") or {}
    if env:
        b.append(_P("Sweep environment (sweep.json): " + ", ".join(
            f"{k} {v}" for k, v in env.items() if k in ("platform", "python", "torch", "numpy",
                                                        "dask", "implicit-verify")) + ".", "meta"))
    if ad:
        b.extend(_adaptive_blocks(sw, ad))
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
    b.extend(_joint_blocks(sw))
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
                 "for each of the joint fit's two bootstraps (seeds resampled as blocks across "
                 "every n and m; binomial counts drawn from the fitted law), and for the per-n "
                 "diagnostic fits (seeds resampled within each cell).")
    b.append(_UL(tuple(notes)))
    return b


def _adaptive_blocks(sw: Mapping[str, Any], ad: Mapping[str, Any]) -> list[Any]:
    dz = ad["design"]
    q = fmt(dz["q"])
    b: list[Any] = [_P(
        f"Adaptive design (verify.sweep.adaptive) for {dz['outcome']}: per n, bisection in log m "
        f"to bracket m*_{q}, then the psi-marginal method (Prins 2013) on a probit (μ, log s) grid "
        f"posterior, {dz['seeds_per_round']} cells per n per round at the chosen width; an n "
        f"stops when the {fmt(100 * dz['ci'])}% credible interval of log m*_{q} has half-width "
        f"≤ {fmt(dz['target_ci'])}, the sweep at {dz['max_cells']} cells. "
        f"{sw['cells']} cells in {ad['rounds']} rounds"
        + ("" if ad["finished"] else " (NOT FINISHED: the design was interrupted)") + ". "
        "The exponent and thresholds below come from the same joint fit as for any sweep; the "
        "design's own per-n posterior (the stopping rule) is in this table:")]
    sv = ad.get("savings") or {}
    seeds = sv.get("seeds_per_cell") or {}
    rows = []
    for n, v in ad["per_n"].items():
        rows.append((n, str(v["cells"]), str(v["rounds"]), str(v["stopped"] or "—"),
                     f"{fmt(v['m_star'], 4)} [{fmt(v['m_lo'], 4)}, {fmt(v['m_hi'], 4)}]",
                     fmt(v["halfwidth"], 3), str(seeds.get(n, "—"))))
    b.append(_Table(("n", "cells", "rounds with cells", "stopped", f"posterior m*_{q} [95%]",
                     "half-width (log m)", "full-grid seeds per cell"), tuple(rows)))
    if sv:
        b.append(_P(
            f"Cell savings: a full ×√2 grid {sv['grid'][0]}, {sv['grid'][1]}, …, {sv['grid'][-1]} "
            f"({len(sv['grid'])} widths in the search range) reaches the same credible half-width at every n with "
            f"{sv['cells_per_n_seeds']} cells when each n has its own seeds per cell (last "
            f"column), {sv['cells_uniform_seeds']} with the same seeds at every n: "
            f"{fmt(sv['ratio_per_n_seeds'], 3)}× and {fmt(sv['ratio_uniform_seeds'], 3)}× the "
            f"design's {sv['adaptive_cells']} cells (median over {sv['reps']} simulated grids "
            f"of the smallest seeds per cell, at the law from the {sv['law_from']})."))
    return b


def _iv(v: Any) -> str:
    if not v or v[0] is None and v[1] is None:
        return "—"
    lo = "0" if v[0] is None else fmt(v[0], 3)
    hi = "∞" if v[1] is None else fmt(v[1], 3)
    return f"[{lo}, {hi}]"


def _is_threshold(o: Mapping[str, Any]) -> bool:
    return any(w.get("threshold", True) and w["p"] is not None for w in o["laws"])


def _joint_blocks(sw: Mapping[str, Any]) -> list[Any]:
    """Exponents, thresholds per n, predictions on the data and fit quality of the joint fit;
    the outcomes that are no width threshold on the grid collapse into one line."""
    b: list[Any] = [_H(4, "Exponents (one likelihood over every n)")]
    outs = [o for o in sw["outcomes"] if _is_threshold(o)]
    none = [o for o in sw["outcomes"] if not _is_threshold(o)]
    erows = []
    for o in outs:
        for law in o["laws"]:
            ivs = law.get("intervals") or {}
            p = "—" if law["p"] is None else (
                f"{fmt(law['p'], 3)} [{fmt(law['p_lo'], 3)}, {fmt(law['p_hi'], 3)}]")
            jq = (o.get("joint") or {}).get("quality") or {}
            fq = "—" if not jq else (
                f"D = {fmt(jq['deviance'], 3)} on {jq['df']} df, p = {fmt(jq['p'], 2)} "
                f"({jq['p_from']}): " + ("fits" if jq["fits"] else "DOES NOT FIT"))
            erows.append((_Code(o["name"]), o["source"], fmt(law["q"]), p,
                          _iv(ivs.get("profile")), _iv(ivs.get("parametric")), fq, law["words"]))
    if erows:
        b.append(_P("p is the exponent of m*_q(n) in one penalised probit likelihood over every "
                    "n (separated n in the likelihood); its CI is the envelope of the profile-"
                    "likelihood interval and of a bootstrap that resamples seeds as blocks "
                    "across all n and m (the profile alone without bootstrap replicates); the "
                    "profile and parametric-bootstrap intervals are beside it. The comparison "
                    "is with each theory's width evaluated on this sweep's own data (table "
                    "below), never with bare exponents."))
        b.append(_Table(("outcome", "statement", "q", "p [95% CI]", "profile CI",
                         "parametric-bootstrap CI", "fit quality", "comparison"), tuple(erows)))
    if none:
        b.append(_P("Not a width threshold on this grid (no exponent): " + "; ".join(
            f"{o['name']} ({_why(o)})" for o in none) + "."))
    if not outs:
        return b
    b.append(_H(4, "Thresholds per n"))
    trows = []
    for o in outs:
        j = o.get("joint") or {}
        jt = {(int(r["n"]), float(r["q"])): r for r in j.get("thresholds", [])}
        diag = {(int(r["n"]), float(r["q"])): r for r in o["thresholds"]}
        per = (j.get("quality") or {}).get("per_n") or {}
        qs = sorted({k[1] for k in jt})
        q2 = next((q for q in qs if not math.isclose(q, 0.5)), None)
        for n in sorted({k[0] for k in jt}):
            r5 = jt.get((n, 0.5))
            if r5 is None:
                continue
            txt5 = (f"{fmt(r5['m_star'], 3)} [{fmt(r5['m_star_lo'], 3)}, {fmt(r5['m_star_hi'], 3)}]"
                    + (" (extrapolated)" if r5["extrapolated"] else ""))
            rq = jt.get((n, q2)) if q2 is not None else None
            txtq = "—" if rq is None else (
                f"{fmt(rq['m_star'], 3)} [{fmt(rq['m_star_lo'], 3)}, {fmt(rq['m_star_hi'], 3)}]")
            pn = per.get(str(n)) or {}
            dev = "—" if not pn else (f"{fmt(pn['deviance'], 3)} / {pn['cells']} cells"
                                      + (f", p = {fmt(pn['p_boot'], 2)}"
                                         if pn.get("p_boot") is not None else ""))
            d5 = diag.get((n, 0.5))
            trows.append((_Code(o["name"]), str(n), txt5,
                          _iv([r5["profile_lo"], r5["profile_hi"]]),
                          _iv([r5["parametric_lo"], r5["parametric_hi"]]), txtq,
                          "—" if d5 is None else _mtext(d5), dev))
    qn = [q for q in sorted({float(r["q"]) for o in outs for r in o["thresholds"]})
          if not math.isclose(q, 0.5)][:1]
    b.append(_P("Joint fit: m*½(n) with the CI of the exponent's method, its profile and "
                "parametric-bootstrap intervals; the per-n probit fit is a diagnostic only "
                "(bounds where that n alone is separated), with the deviance of the joint law "
                "at that n."))
    b.append(_Table(("outcome", "n", "m*½ [95% CI]", "profile", "parametric",
                     *[f"m*_{fmt(q)} [95% CI]" for q in qn], "per-n fit m*½ (diagnostic)",
                     "deviance at n"), tuple(trows)))
    prow = []
    for o in outs:
        law = next((w for w in o["laws"] if math.isclose(w["q"], 0.5)), None)
        meas = "—" if law is None or law["p"] is None else (
            f"{fmt(law['p'], 3)} [{fmt(law['p_lo'], 3)}, {fmt(law['p_hi'], 3)}]")
        for pr in (o.get("joint") or {}).get("predictions", []):
            ratios = ", ".join(f"{r['n']}: {fmt(r['ratio'], 3)}" for r in pr["per_n"])
            prow.append((_Code(o["name"]), pr["label"], fmt(pr["exponent"], 3), meas, ratios))
    if prow:
        b.append(_H(4, "Predictions on these data"))
        b.append(_P("Each theory's width for the outcome's event, evaluated on this sweep's own "
                    "data at every n (λ0(n), ‖X‖, c; hidden constants = 1): its exponent along "
                    "the data (least-squares slope of log width on log n over the grid) beside "
                    "the measured one, and the ratio theory width / measured m*½(n)."))
        b.append(_Table(("outcome", "theory", "predicted exponent on these data",
                         "measured p [95% CI]", "theory / m*½ per n"), tuple(prow)))
    b.append(_H(4, "Fit quality"))
    b.append(_UL(tuple(f"{o['name']}: {(o.get('joint') or {}).get('quality', {}).get('text', '—')}"
                       for o in outs)))
    return b


def _why(o: Mapping[str, Any]) -> str:
    law = next((w for w in o["laws"] if math.isclose(w["q"], 0.5)), o["laws"][0])
    return str(law["reason"]).replace("not a width threshold on this grid: ", "")


def _blocks(summary: Mapping[str, Any]) -> list[Any]:
    ws = summary.get("width_scaling")
    if not ws or not ws.get("sweeps"):
        return []
    b: list[Any] = [_H(2, "Width scaling: measured thresholds m*(n) against the theory",
                       "width-scaling")]
    b.append(_P("Both papers are about how wide the network must be: G22 asks m = Ω̃(n²), "
                "GG22 m = Ω(n) (constants not published in the available text). A sweep runs "
                "every (n, m) cell over several seeds; for each outcome the success frequency "
                "is fitted by one penalised probit likelihood over every n, "
                "P(success) = Φ((log m − a − p·log n)/s(n)), giving m*_q(n), the width with "
                "success probability q, and the exponent p of m*½(n) ∝ n^p, with profile and "
                "bootstrap CIs and its goodness of fit. The exponent is compared with each "
                "theory's width evaluated on the sweep's own data, not with bare numbers."))
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
