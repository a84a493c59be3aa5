"""The headline card: the report's answer in at most seven short lines, each generated from the
summary's data and linking to the section that backs it (issue 17 item 1).

Lines, in order (a line is left out when its data is absent):

0. the verdict in one sentence of plain words: whether any claim had its hypotheses met, the
   unmet conditions with how far off they are, and what GD did anyway;
1. theorem and data → the configuration details;
2. hypotheses: how many conditions on the configuration are met, and the closest unmet one
   (its ratio at the width where it is closest) → the condition verdicts;
3. the trajectory: per claim, its worst outcome over the widths, counted by
   :class:`bounds.Outcome` (the words every surface uses) → the claim verdicts;
4. the rate: observed (late-time fit) against the theorem's per-step decrease, and whether the
   step-size condition holds (no guarantee applies where it does not) → the rate figure;
5. the kernel: λ_min(H∞) against λ0 and the rate with λ_min(H∞) (only with the kernels
   section's data) → the kernels section;
6. the width: the binding width condition against the measured threshold and exponent (only
   with the width-scaling section's data) → the width-scaling section.

Ratios follow the one convention (docs/CONTRACTS.md): observed/bound oriented so that > 1 means
the inequality fails; an unmet ``≥`` condition is "ratio× too small", an unmet ``≤`` one "ratio×
too large".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from bounds._verdicts import CLAIM_ORDER, HYPOTHESES_MET, Outcome
from verify.report.blocks import Section, _Card, _Inline, _Lead, _Link
from verify.report.model import _num, _ratio_of, fmt, verdict_outcome

__all__ = ["HEADLINE", "headline_lines", "status_class", "verdict_line"]

_QUANTITY = {"m": "width", "gamma": "γ", "alpha": "step", "step": "step"}


def status_class(v: Mapping[str, Any] | None) -> Outcome | None:
    """The :class:`bounds.Outcome` of one verdict; ``None`` for a missing verdict."""
    return None if v is None else verdict_outcome(v)


def _by_name(runs: Sequence[Mapping[str, Any]], kind: str) -> dict[str, list[tuple[int, Any]]]:
    out: dict[str, list[tuple[int, Any]]] = {}
    for r in runs:
        for v in r.get("verdicts") or []:
            if v.get("kind") == kind:
                out.setdefault(str(v.get("name")), []).append((int(r["m"]), v))
    return out


def _label(v: Mapping[str, Any]) -> str:
    return str(v.get("label") or v.get("name") or "?").replace("G22 ", "")


def _theorem_line(s: Mapping[str, Any]) -> _Inline:
    th = s.get("theorem") or {}
    data = s.get("data") or {}
    widths = s.get("widths") or []
    ws = ", ".join(str(m) for m in widths)
    txt = (f"{th.get('label', 'Theorem')} ({th.get('method', '')}) on "
           f"{data.get('name', 'the data')}, n = {fmt(data.get('n'))}, m ∈ {{{ws}}}. ")
    return (_Lead("Checked:"), " " + txt, _Link("configuration", "what"))


def _hypotheses_line(s: Mapping[str, Any]) -> _Inline | None:
    conds = _by_name(s.get("runs") or [], "condition")
    if not conds:
        return None
    met = [n for n, per in conds.items() if all(status_class(v) is Outcome.MET for _, v in per)]
    unmet = {n: per for n, per in conds.items()
             if any(status_class(v) is Outcome.NOT_MET for _, v in per)}
    other = len(conds) - len(met) - len(unmet)
    txt = f"{len(met)} of {len(conds)} conditions on the configuration met at every width"
    if other:
        txt += f", {other} undecided or mixed"
    if unmet:
        best: tuple[float, str, int] | None = None
        for per in unmet.values():
            for m, v in per:
                r = _ratio_of(v)
                if status_class(v) is Outcome.NOT_MET and r is not None and (best is None or r < best[0]):
                    q = _QUANTITY.get(str(v.get("observable")), "")
                    best = (r, f"{_label(v)}{f' ({q})' if q else ''}", m)
        if best is not None:
            txt += f"; closest unmet: {best[1]}, {_times(best[0])} off (m = {best[2]})"
    elif met:
        slack = []
        for n in met:
            for m, v in conds[n]:
                r = _ratio_of(v)
                if r is not None and r > 0:
                    slack.append((1 / r, _label(v), m))
        if slack:
            sl = min(slack)
            txt += f"; tightest: {sl[1]}, slack {_times(sl[0])} (m = {sl[2]})"
    return (_Lead("Hypotheses:"), " " + txt + ". ", _Link("condition verdicts",
                                                              "verdicts-condition"))


def _times(x: float) -> str:
    if not math.isfinite(x):
        return "∞×"
    return f"{fmt(x, 3)}×"


def _claim_counts(claims: Mapping[str, list[tuple[int, Any]]]) -> dict[Outcome, int]:
    """Per claim, its worst :class:`bounds.Outcome` over the widths (order
    :data:`bounds._verdicts.CLAIM_ORDER`), counted."""
    counts: dict[Outcome, int] = {}
    for per in claims.values():
        cls = [c for c in (status_class(v) for _, v in per) if c in CLAIM_ORDER]
        if not cls:
            continue
        worst = min(cls, key=CLAIM_ORDER.index)
        counts[worst] = counts.get(worst, 0) + 1
    return counts


def _unmet_text(s: Mapping[str, Any]) -> str:
    """"width 3e8–8e16× too small, step 1.7e5× too large": each unmet condition's ratio range
    over the widths, the paper's hypotheses (not the ``*_explicit`` variants) first."""
    conds = _by_name(s.get("runs") or [], "condition")
    by_q: dict[str, list[float]] = {}
    sense: dict[str, str] = {}
    for name, per in conds.items():
        if name.endswith("_explicit"):
            continue
        for _, v in per:
            r = _ratio_of(v)
            if status_class(v) is not Outcome.NOT_MET or r is None:
                continue
            obs = str(v.get("observable") or "")
            q = _QUANTITY.get(obs, obs or _label(v))
            by_q.setdefault(q, []).append(r)
            sense[q] = str(v.get("sense") or "")
    parts = []
    for q, rs in by_q.items():
        lo, hi = min(rs), max(rs)
        span = _times(lo) if math.isclose(lo, hi, rel_tol=0.05) else \
            f"{fmt(lo, 2)}–{_times(hi)}"
        parts.append(f"{q} {span} too {'small' if sense[q] == 'ge' else 'large'}")
    return ", ".join(parts)


def verdict_line(s: Mapping[str, Any]) -> str | None:
    """The card's first line: the verdict in one sentence of plain words."""
    runs = s.get("runs") or []
    claims = _by_name(runs, "claim")
    if not claims:
        return None
    counts = _claim_counts(claims)
    th = s.get("theorem") or {}
    method = "GF" if th.get("mode") == "gf" else "GD"
    widths = [int(r["m"]) for r in runs if r.get("m") is not None]
    met_w = sorted({m for per in claims.values() for m, v in per
                    if status_class(v) in HYPOTHESES_MET})
    if counts.get(Outcome.VIOLATED):
        k = counts[Outcome.VIOLATED]
        head = (f"The theorem is contradicted here: {k} claim{'s' if k != 1 else ''} failed with "
                f"every hypothesis met")
    elif not met_w:
        unmet = _unmet_text(s)
        head = ("The theorem's hypotheses are not met at any width here"
                + (f" ({unmet})" if unmet else "") + ", so it guarantees nothing")
    else:
        head = (f"The theorem's hypotheses are met at m ∈ {{{', '.join(map(str, met_w))}}} and "
                "no claim failed there")
    tail = ""
    big = max((r for r in runs if r.get("m") is not None), key=lambda r: int(r["m"]), default=None)
    if big is not None:
        lo = big.get("loss") or {}
        l0, l1 = _num(lo.get("initial")), _num(lo.get("final"))
        if l0 is not None and l1 is not None:
            verb = "reduced" if l1 < l0 else "did not reduce"
            tail = (f"; {method} {'still ' if not met_w and l1 < l0 else ''}{verb} the training "
                    f"loss from {fmt(l0, 3)} to {fmt(l1, 3)} in {big.get('steps_done')} steps "
                    f"(m = {big['m']}{'' if len(widths) < 2 else ', the largest width'})")
    return head + tail + "."


def _trajectory_line(s: Mapping[str, Any]) -> _Inline | None:
    claims = _by_name(s.get("runs") or [], "claim")
    if not claims:
        return None
    counts = _claim_counts(claims)
    n = len(claims)
    parts = [f"{counts[c]} {c.value}" for c in CLAIM_ORDER if counts.get(c)]
    txt = f"of {n} claims, worst outcome over the widths: " + "; ".join(parts)
    if not any(counts.get(c) for c in HYPOTHESES_MET):
        txt += "; no claim had its hypotheses met at any width"
    return (_Lead("Trajectory:"), " " + txt + ". ", _Link("claim verdicts", "verdicts-claim"))


def _step_condition_ok(s: Mapping[str, Any]) -> bool | None:
    conds = _by_name(s.get("runs") or [], "condition")
    per = [v for vs in conds.values() for _, v in vs if v.get("observable") in ("alpha", "step")]
    if not per:
        return None
    cl = [status_class(v) for v in per]
    if all(c is Outcome.MET for c in cl):
        return True
    if any(c is Outcome.NOT_MET for c in cl):
        return False
    return None


def _rate_line(s: Mapping[str, Any]) -> _Inline | None:
    rows = []
    for r in s.get("runs") or []:
        rates = r.get("rates") or {}
        obs = _num(rates.get("observed_rate_tail"))
        if obs is None:
            obs = _num(rates.get("observed_rate"))
        th = _num(rates.get("theory_rate"))
        if obs is not None:
            rows.append((int(r["m"]), obs, th))
    if not rows:
        return None
    m, obs, th = rows[-1]  # the largest width
    txt = f"observed per-step factor {fmt(obs, 6)} of ‖ŷ − y‖² (late-time fit, m = {m})"
    if th is not None:
        txt += f"; the theorem's 1 − αλ0/2 = {fmt(th, 6)}"
        if th < 1 and obs < 1:
            txt += f" (observed decrease {_times((1 - obs) / (1 - th))} the theorem's)"
    ok = _step_condition_ok(s)
    if ok is False:
        txt += "; the step-size condition is not met, so no guarantee applies"
    return (_Lead("Rate:"), " " + txt + ". ", _Link("rate figure", "fig-rate"))


def _kernel_line(s: Mapping[str, Any]) -> _Inline | None:
    k = s.get("kernels")
    if not isinstance(k, Mapping):
        return None
    lim = k.get("limit") or {}
    lh, l0 = _num(lim.get("lambda_min_H")), _num(lim.get("lambda0"))
    if lh is None:
        return None
    txt = f"λ_min(H∞) = {fmt(lh)}"
    if l0:
        txt += f", {_times(lh / l0)} the paper's λ0 = {fmt(l0)}"
    rows = [r for r in k.get("per_width") or [] if _num(r.get("rate_toolkit")) is not None]
    if rows:
        r = rows[-1]
        txt += (f"; rate with λ_min(H∞): {fmt(_num(r['rate_toolkit']), 6)} per step "
                f"(derived, m = {r['m']})")
    return (_Lead("Kernel:"), " " + txt + ". ", _Link("kernels", "kernels"))


def _width_line(s: Mapping[str, Any]) -> _Inline | None:
    ws = s.get("width_scaling")
    if not isinstance(ws, Mapping):
        return None
    try:
        theory = ""
        cw = ((s.get("known_issues") or {}).get("width_conditions") or [])
        if cw and cw[-1].get("binding_printed_width") is not None:
            w = cw[-1]
            theory = (f"the theory asks m ≥ {fmt(w['binding_printed_width'], 3)} "
                      f"({str(w.get('binding_printed_label') or '').replace('G22 ', '')}, "
                      f"m = {w['m']} run)")
        measured = ""
        for sw in ws.get("sweeps") or []:
            for o in sw.get("outcomes") or []:
                if not o.get("phase"):
                    continue
                law = next((x for x in o.get("laws") or [] if math.isclose(float(x["q"]), 0.5)),
                           None)
                thr = [t for t in o.get("thresholds") or [] if math.isclose(float(t["q"]), 0.5)
                       and t.get("kind") == "fit" and t.get("m_star") is not None]
                if law is None or not thr:
                    continue
                t = thr[-1]
                measured = (f"measured threshold m*½ = {fmt(t['m_star'], 3)} for {o['name']} at "
                            f"n = {t['n']}")
                if law.get("p") is not None:
                    measured += (f", m*½ ∝ n^p with p = {fmt(law['p'], 3)} "
                                 f"[{fmt(law.get('p_lo'), 3)}, {fmt(law.get('p_hi'), 3)}]")
                break
            if measured:
                break
    except (KeyError, TypeError, ValueError):
        return None
    if not theory and not measured:
        return None
    txt = "; ".join(p for p in (theory, measured) if p)
    return (_Lead("Width:"), " " + txt + ". ", _Link("width scaling", "width-scaling"))


def headline_lines(s: Mapping[str, Any]) -> list[_Inline]:
    """The headline card's lines (at most seven), generated from the summary ``s``."""
    out: list[_Inline] = []
    vl = verdict_line(s)
    if vl is not None:
        out.append((_Lead("Verdict:"), " " + vl))
    out.append(_theorem_line(s))
    for f in (_hypotheses_line, _trajectory_line, _rate_line, _kernel_line, _width_line):
        line = f(s)
        if line is not None:
            out.append(line)
    return out


def headline_text(s: Mapping[str, Any]) -> list[str]:
    """The headline's lines as plain text (for ``summary.json``)."""

    def flat(x: Any) -> str:
        if isinstance(x, tuple):
            return "".join(flat(y) for y in x)
        if isinstance(x, _Link):
            return f"[{x.text}](#{x.anchor})"
        return str(getattr(x, "text", x))

    return [flat(line) for line in headline_lines(s)]


def blocks(s: Mapping[str, Any]) -> list[Any]:
    return [_Card("At a glance", "headline", tuple(headline_lines(s)))]


HEADLINE = Section("headline", blocks)
