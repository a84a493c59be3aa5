"""The summary's sentences about claims, conditions and rates, generated from the verdicts."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from verify.report.figures import _MOVEMENT
from verify.report.model import (
    ReportRun,
    _factor,
    _mset,
    _num,
    _observed_ok,
    _ratio_of,
    _same,
    _short_label,
    _slack,
    _verdict_groups,
    fmt,
)

_QUANTITY = {"m": ("width", "m"), "gamma": ("γ", "γ"), "alpha": ("step-size", "α")}


def _conditions_lines(runs: Sequence[ReportRun]) -> list[str]:
    """Summary lines for the conditions on the configuration, grouped by quantity."""
    groups = _verdict_groups(runs, "condition")
    lines: list[str] = []
    by_q: dict[str, list[dict[str, Any]]] = {}
    for g in groups:
        q = str(g["per_m"][0][1].get("observable") or "")
        by_q.setdefault(q, []).append(g)
    for q, gs in by_q.items():
        what, sym = _QUANTITY.get(q, ("", q))
        all_bad = [g for g in gs if all(v.get("status") == "violated" for _, v in g["per_m"])]
        all_good = [g for g in gs if all(v.get("status") == "holds" for _, v in g["per_m"])]
        mixed = [g for g in gs if g not in all_bad and g not in all_good]
        if all_bad:
            # numbers at the run closest to meeting them (the largest ratio improvement)
            parts = []
            for g in all_bad:
                m_b, v_b = min(g["per_m"], key=lambda mv: _ratio_of(mv[1]) or math.inf)
                sense = "≥" if v_b.get("sense") == "ge" else "≤"
                parts.append((_ratio_of(v_b) or math.inf,
                              f"{_short_label(v_b)} needs {sym} {sense} {fmt(_num(v_b.get('bound')))}"
                              f" ({_factor(_ratio_of(v_b))} off at m = {m_b})"))
            parts.sort(key=lambda t: t[0])
            n_bad = len(all_bad)
            head = (f"The {what} condition" if n_bad == 1 else
                    f"None of the {n_bad} {what} conditions")
            verb = "is not met at any width" if n_bad == 1 else "is met at any width"
            lines.append(f"{head} {verb}: " + "; ".join(p for _, p in parts) + ".")
        for g in all_good:
            v0 = g["per_m"][0][1]
            slacks = [s for s in (_slack(v) for _, v in g["per_m"]) if s is not None]
            sl = f" (slack ≥ {_factor(min(slacks))})" if slacks else ""
            lines.append(f"The {what} condition of {_short_label(v0)} holds at every width{sl}.")
        for g in mixed:
            v0 = g["per_m"][0][1]
            good = [m for m, v in g["per_m"] if v.get("status") == "holds"]
            bad = [m for m, v in g["per_m"] if v.get("status") == "violated"]
            lines.append(f"The {what} condition of {_short_label(v0)} holds at m ∈ {_mset(good)}"
                         f" and fails at m ∈ {_mset(bad)}.")
    return lines


def _claims_lines(runs: Sequence[ReportRun], theorem: Mapping[str, Any]) -> list[str]:
    groups = _verdict_groups(runs, "claim")
    if not groups:
        return ["The records contain no claim verdicts."]
    labels: dict[str, str] = {}
    for r in runs:
        for v in r.verdicts():
            labels.setdefault(str(v.get("name")), _short_label(v))
    lines: list[str] = []
    held_all: list[tuple[str, int, float | None]] = []  # label, m of min slack, slack
    violated: list[tuple[str, list[tuple[int, Mapping[str, Any]]]]] = []
    unknown: list[str] = []
    vacuous_names: set[str] = set()
    failed_hyps: list[str] = []
    for g in groups:
        per = g["per_m"]
        oks = [_observed_ok(v) for _, v in per]
        lab = _short_label(per[0][1]) + _claim_suffix(per[0][1])
        for _, v in per:
            if v.get("status") == "vacuous":
                vacuous_names.add(str(g["name"]))
                for h in v.get("hypotheses_failed") or []:
                    if str(h) not in failed_hyps:
                        failed_hyps.append(str(h))
        if all(o is True for o in oks):
            # equality at k = 0 by construction (e.g. ‖e(0)‖² ≤ ‖e0‖², or ‖A(0)‖ ≤ c√m with the
            # measured c) says nothing about the theory's slack: leave it out of the range
            sl_f = [(m, s) for m, s in ((m, _slack(v)) for m, v in per
                                        if not _trivially_tight(v)) if s is not None]
            m_min, s_min = min(sl_f, key=lambda t: t[1]) if sl_f else (per[0][0], None)
            if not sl_f and not all(_trivially_tight(v) for _, v in per):
                s_min = math.nan  # held, but no slack recorded
            held_all.append((lab, m_min, s_min))
        elif any(o is False for o in oks):
            violated.append((lab, [(m, v) for (m, v), o in zip(per, oks, strict=True) if o is False]))
        else:
            unknown.append(lab)
    n = len(groups)
    where = "at every width" if len(runs) > 1 else "in the run"
    if vacuous_names:
        hyp = ", ".join(f"{h} [{labels[h]}]" if h in labels else h for h in failed_hyps)
        lines.append(
            f"Hypotheses of the lemma are not met ({hyp or 'see the verdict table'}), so "
            f"{len(vacuous_names)} of the {n} claims are formally vacuous here; the statements "
            "below describe what the trajectories showed.")
    verb = "nevertheless held" if vacuous_names else "held"
    if held_all:
        finite = [(lab, m, s) for lab, m, s in held_all if s is not None and math.isfinite(s)]
        tight = ""
        if finite:
            lab_min, m_min, s_min = min(finite, key=lambda t: t[2])
            lab_max, m_max, s_max = max(finite, key=lambda t: t[2])
            tight = (f"; slack ranges from {_factor(s_min)} ({lab_min}, m = {m_min}) to "
                     f"{_factor(s_max)} ({lab_max}, m = {m_max})")
            eq0 = [lab for lab, _, s_ in held_all if s_ is None]
            if eq0:
                tight += (f" (left out: {', '.join(eq0)}, which hold with equality at k = 0 by "
                          "construction)")
        if len(held_all) == n:
            lines.append(f"All {n} claims of {theorem['label']} and its proof {verb} {where}{tight}.")
        else:
            lines.append(f"{len(held_all)} of the {n} claims {verb} {where}{tight}.")
    if violated:
        parts = []
        for lab, bad in violated:
            m_w, v_w = max(bad, key=lambda mv: _ratio_of(mv[1]) or 0.0)
            k = v_w.get("first_violation_step")
            first = f", first at step {k}" if k is not None else ""
            parts.append(f"{lab} at m ∈ {_mset(m for m, _ in bad)} (worst ratio "
                         f"{_factor(_ratio_of(v_w))} at m = {m_w}{first})")
        lines.append(f"{len(violated)} of the {n} claims were violated: " + "; ".join(parts) + ".")
    if unknown:
        lines.append("Inconclusive (not measured, or within the numerical tolerance): "
                     + ", ".join(unknown) + ".")
    return lines


def _trivially_tight(v: Mapping[str, Any]) -> bool:
    s = _slack(v)
    return v.get("worst_step") == 0 and s is not None and abs(s - 1.0) < 1e-9


def _claim_suffix(v: Mapping[str, Any]) -> str:
    """Distinguish claims that share a label (``… proof``) by their observable."""
    label = str(v.get("label") or "")
    if re.search(r"\([ivx]+\)$", label):
        return ""
    obs = v.get("observable")
    return f" [{_MOVEMENT.get(str(obs), obs)}]" if obs else ""


def _rate_line(runs: Sequence[ReportRun]) -> str | None:
    rows = []
    for r in runs:
        rates = r.record.get("rates") or {}
        obs, th, path = (_num(rates.get(k)) for k in ("observed_rate", "theory_rate", "path_rate"))
        if obs is None or th is None:
            continue
        rows.append((r.m, obs, th, path))
    if not rows:
        return None
    th_all = _same(round(t, 15) for _, _, t, _ in rows)
    dec_obs = [(m, 1 - o) for m, o, _, _ in rows]
    lo = min(dec_obs, key=lambda t: t[1])
    hi = max(dec_obs, key=lambda t: t[1])
    formula = _formula_text((runs[0].record.get("rates") or {}).get("theory_formula"))
    th_txt = (f"the theorem guarantees {formula} = {fmt(rows[0][2], 8)} per step (a decrease of "
              f"{fmt(1 - rows[0][2])})" if th_all is not None else
              f"the theorem's factors {formula} differ between runs")
    faster = min(1 - o for _, o, _, _ in rows) / max(1 - rows[0][2], 1e-300)
    obs_txt = (f"‖ŷ − y‖² decreased per step by a fitted factor 1 − r between {fmt(lo[1])} "
               f"(m = {lo[0]}) and {fmt(hi[1])} (m = {hi[0]})" if len(rows) > 1 else
               f"‖ŷ − y‖² decreased per step by a fitted factor 1 − r = {fmt(lo[1])}")
    comp = ""
    if th_all is not None and math.isfinite(faster) and faster > 0:
        comp = (f" — at least {_factor(faster)} faster than guaranteed" if faster >= 1 else
                f" — slower than the guarantee (by {_factor(1 / faster)}) at some width")
    below = []
    for r in runs:
        x, y = r.series("residual_sq")
        th = _num((r.record.get("rates") or {}).get("theory_rate"))
        e0 = _num(r.symbols.get("e0_norm"))
        if y.size and th and e0 and y[-1] > 0:
            below.append((r.m, int(x[-1]), e0 * e0 * th ** x[-1] / y[-1]))
    fin = ""
    if below:
        lo_b = min(below, key=lambda t: t[2])
        hi_b = max(below, key=lambda t: t[2])
        fin = (f" After {lo_b[1]} steps ‖ŷ − y‖² is {_factor(lo_b[2])} (m = {lo_b[0]})"
               + (f" to {_factor(hi_b[2])} (m = {hi_b[0]})" if len(below) > 1 else "")
               + " below the guaranteed value.")
    return f"Rate: {obs_txt}; {th_txt}{comp}.{fin}"


def _formula_text(f: Any) -> str:
    table = {"1 - alpha*lambda0/2": "1 − αλ0/2", "exp(-alpha*lambda0)": "exp(−αλ0)"}
    return table.get(str(f), "1 − αλ0/2" if f is None else str(f))
