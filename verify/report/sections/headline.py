"""The headline card: the report's answer in at most six short lines, each generated from the
summary's data and linking to the section that backs it (issue 17 item 1).

Lines, in order (a line is left out when its data is absent):

1. theorem and data → the configuration details;
2. hypotheses: how many conditions on the configuration are met, and the closest unmet one
   (its ratio at the width where it is closest) → the condition verdicts;
3. the trajectory: per claim, its worst outcome over the widths, counted by class — held,
   violated, observed values failed where the claim is vacuous, inconclusive, event did not
   occur → the claim verdicts;
4. the rate: observed (late-time fit) against the theorem's per-step decrease, and whether the
   step-size condition holds (no guarantee applies where it does not) → the rate figure;
5. the kernel: λ_min(H∞) against λ0 and the rate with λ_min(H∞) (only with the kernels
   section's data) → the kernels section;
6. the width: the binding width condition against the measured threshold and exponent (only
   with the width-scaling section's data) → the width-scaling section.

Statuses are matched by their first word (``holds``, ``violated``, ``vacuous …``,
``inconclusive (…)``, ``event did not occur``), so qualified statuses such as
``inconclusive (hidden constant)`` are classified without a list of every variant.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from verify.report.blocks import Section, _Card, _Inline, _Lead, _Link
from verify.report.model import _num, _observed_ok, _ratio_of, fmt, verdict_word

__all__ = ["HEADLINE", "headline_lines", "status_class"]

#: class of a verdict, worst first (the worst over the widths decides a claim's class).
_CLASSES = ("violated", "failed_vacuous", "inconclusive", "event_not_occurred", "held",
            "vacuous")
_CLASS_WORDS = {
    "held": "held",
    "violated": "violated",
    "failed_vacuous": "had observed values that failed (claim vacuous: hypotheses not met)",
    "inconclusive": "inconclusive",
    "event_not_occurred": "event did not occur (or impossible)",
    "vacuous": "vacuous, nothing observed",
}


_QUANTITY = {"m": "width", "gamma": "γ", "alpha": "step size", "step": "step size"}


def status_class(v: Mapping[str, Any] | None) -> str | None:
    """The class of one verdict (see :data:`_CLASSES`); ``None`` for a missing verdict.
    Classified on the verdict's wording (:func:`~verify.report.model.verdict_word`, the one the
    tables use) by prefix, so qualified statuses need no list of their own."""
    if v is None:
        return None
    word = verdict_word(v).strip().lower()
    st = str(v.get("status") or "").strip().lower()
    for w in (word, st):
        if w.startswith("holds"):
            return "held"
        if w.startswith("violated"):
            return "violated"
        if w.startswith("inconclusive"):
            return "inconclusive"
        if w.startswith("event did not occur") or w.startswith("event impossible"):
            return "event_not_occurred"
        if w.startswith("vacuous"):
            if "did not occur" in w or "event impossible" in w:
                return "event_not_occurred"
            if "observed: fails" in w or "observed: violated" in w:
                return "failed_vacuous"
            if "observed: holds" in w or "event occurred" in w:
                return "held"
    ok = _observed_ok(v) if st.startswith("vacuous") else None
    return "held" if ok is True else ("failed_vacuous" if ok is False else
                                      ("vacuous" if st.startswith("vacuous") else "inconclusive"))


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
    met = [n for n, per in conds.items() if all(status_class(v) == "held" for _, v in per)]
    unmet = {n: per for n, per in conds.items() if any(status_class(v) == "violated" for _, v in per)}
    other = len(conds) - len(met) - len(unmet)
    txt = f"{len(met)} of {len(conds)} conditions on the configuration met at every width"
    if other:
        txt += f", {other} undecided or mixed"
    if unmet:
        best: tuple[float, str, int] | None = None
        for per in unmet.values():
            for m, v in per:
                r = _ratio_of(v)
                if status_class(v) == "violated" and r is not None and (best is None or r < best[0]):
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


def _trajectory_line(s: Mapping[str, Any]) -> _Inline | None:
    claims = _by_name(s.get("runs") or [], "claim")
    if not claims:
        return None
    counts: dict[str, int] = {}
    for per in claims.values():
        cls = [c for c in (status_class(v) for _, v in per) if c is not None]
        worst = min(cls, key=_CLASSES.index) if cls else "vacuous"
        counts[worst] = counts.get(worst, 0) + 1
    n = len(claims)
    parts = [f"{counts[c]} {_CLASS_WORDS[c]}" for c in _CLASSES if counts.get(c)]
    txt = f"of {n} claims, worst outcome over the widths: " + "; ".join(parts)
    return (_Lead("Trajectory:"), " " + txt + ". ", _Link("claim verdicts", "verdicts-claim"))


def _step_condition_ok(s: Mapping[str, Any]) -> bool | None:
    conds = _by_name(s.get("runs") or [], "condition")
    per = [v for vs in conds.values() for _, v in vs if v.get("observable") in ("alpha", "step")]
    if not per:
        return None
    cl = [status_class(v) for v in per]
    if all(c == "held" for c in cl):
        return True
    if any(c == "violated" for c in cl):
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
    """The headline card's lines (at most six), generated from the summary ``s``."""
    out = [_theorem_line(s)]
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
