"""The summary's sentences about claims, conditions and rates, generated from the verdicts."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from bounds._verdicts import Outcome
from verify.report.figures import _MOVEMENT
from verify.report.model import (
    ReportRun,
    _factor,
    _mset,
    _num,
    _ratio_of,
    _same,
    _short_label,
    _slack,
    _verdict_groups,
    fmt,
    verdict_word,
)

_QUANTITY = {"m": ("width", "m"), "gamma": ("γ", "γ"), "alpha": ("step-size", "α")}


def _break_even_text(per: Sequence[tuple[int, Mapping[str, Any]]]) -> str:
    """"met only for C ≤ C*" over the widths (the least favourable width), from the verdicts."""
    out = []
    consts: dict[str, list[tuple[float, str]]] = {}
    for _, v in per:
        for h, be in ((v.get("details") or {}).get("break_even") or {}).items():
            if be.get("break_even") is not None:
                consts.setdefault(h, []).append((float(be["break_even"]), str(be["satisfied_for"])))
    for h, vals in consts.items():
        sides = {sd for _, sd in vals}
        if sides == {"C <= C*"}:
            out.append(f"met only for {h} ≤ {fmt(min(c for c, _ in vals))}")
        elif sides == {"C >= C*"}:
            out.append(f"met only for {h} ≥ {fmt(max(c for c, _ in vals))}")
    return ", ".join(out)


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
                be = _break_even_text(g["per_m"])
                parts.append((_ratio_of(v_b) or math.inf,
                              f"{_short_label(v_b)} needs {sym} {sense} {fmt(_num(v_b.get('bound')))}"
                              f" ({_factor(_ratio_of(v_b))} off at m = {m_b}"
                              + (f"; {be}" if be else "") + ")"))
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
            be = _break_even_text(g["per_m"])
            lines.append(f"The {what} condition of {_short_label(v0)} holds at every width{sl}"
                         + (f" ({be})" if be else "") + ".")
        for g in mixed:
            v0 = g["per_m"][0][1]
            by_w: dict[str, list[int]] = {}
            for m, v in g["per_m"]:
                by_w.setdefault(verdict_word(v), []).append(m)
            be = _break_even_text(g["per_m"])
            lines.append(f"The {what} condition of {_short_label(v0)}: " + "; ".join(
                f"{w} at m ∈ {_mset(ms)}" for w, ms in by_w.items())
                + (f" ({be})" if be else "") + ".")
    return lines


_O = Outcome
_BUCKETS = (  # (outcome words, sentence after "k of the n claims")
    (_O.HOLDS.value, "held {where} with every hypothesis met"),
    (_O.BY_CONSTRUCTION.value, "hold by construction {where} (their slack says nothing about "
     "the theory)"),
    (_O.VACUOUS_HOLDS.value, "are vacuous (a hypothesis is not met) but were observed to "
     "hold {where}"),
    (_O.VACUOUS_FAILS.value, "are vacuous and were observed to fail — not a violation "
     "of the statement, whose hypotheses are not met"),
    (_O.VIOLATED.value, "were violated with every hypothesis met"),
    (_O.INCONCLUSIVE.value + " (hidden constant)", "are inconclusive (hidden constant): the "
     "observation fails, but a hypothesis is met only for some values of a hidden constant in "
     "the stated range"),
    (_O.INCONCLUSIVE.value + " (discretisation)", "are inconclusive (discretisation): "
     "gradient-flow claims are not checked on GD iterates with α·λ_max(H(0)) above the stated "
     "threshold"),
    (_O.INCONCLUSIVE.value + " (hypothesis inconclusive)", "are inconclusive (hypothesis "
     "inconclusive): the observation fails but a hypothesis could not be decided"),
    (_O.INCONCLUSIVE.value + " (within rounding error)", "are inconclusive (within the "
     "numerical error bound of the bound)"),
    (_O.INCONCLUSIVE.value + " (not measured)", "are inconclusive (not measured)"),
    (_O.INCONCLUSIVE.value + " (not measured; hypotheses not met)", "are inconclusive (not "
     "measured; hypotheses not met)"),
)


def _is_event(words: set[str], verdicts: Sequence[Mapping[str, Any]]) -> bool:
    """A probabilistic event: it did not occur (or cannot) at some width, or its claim is
    vacuous (so the sentence says what the draw showed)."""
    if any(w.startswith((_O.EVENT_NOT_OCCURRED.value, _O.EVENT_IMPOSSIBLE.value))
           for w in words):
        return True
    return any((v.get("details") or {}).get("event") and v.get("status") == "vacuous"
               for v in verdicts)


def _agree(phrase: str, k: int) -> str:
    """Subject–verb agreement for "k of the n claims …" (k = 1: singular)."""
    if k != 1:
        return phrase
    for pl, sg in (("are ", "is "), ("were ", "was "), ("have ", "has ")):
        if phrase.startswith(pl):
            return sg + phrase[len(pl):]
    return phrase


def claim_categories(runs: Sequence[ReportRun]) -> list[tuple[str, str, list[tuple[int, str]]]]:
    """``(name, label, [(m, verdict_word)])`` per claim: the classification that the summary
    sentences count and the verdict table shows (:func:`~verify.report.model.verdict_word`)."""
    out = []
    for g in _verdict_groups(runs, "claim"):
        per = g["per_m"]
        lab = _short_label(per[0][1]) + _claim_suffix(per[0][1])
        out.append((str(g["name"]), lab, [(m, verdict_word(v)) for m, v in per]))
    return out


def _by_construction(v: Mapping[str, Any], run: ReportRun) -> str | None:
    """Why a claim holds by construction (its slack says nothing about the theory), or None."""
    label = str(v.get("label") or "")
    if ("Lemma 2.1" in label and v.get("observable") in ("A_norm", "W_norm")
            and run.symbols.get("c_source") == "measured"):
        return "c is measured from A(0), W(0)"
    if _trivially_tight(v):
        return "equality at k = 0"
    return None


def _claims_lines(runs: Sequence[ReportRun], theorem: Mapping[str, Any]) -> list[str]:
    cats = claim_categories(runs)
    if not cats:
        return ["The records contain no claim verdicts."]
    n = len(cats)
    vmap = {(str(g["name"]), m): v for g in _verdict_groups(runs, "claim") for m, v in g["per_m"]}
    labels: dict[str, str] = {}
    for r in runs:
        for v in r.verdicts():
            labels.setdefault(str(v.get("name")), _short_label(v))
    where = "at every width" if len(runs) > 1 else "in the run"
    lines: list[str] = []
    failed_hyps: list[str] = []
    for r in runs:
        for v in r.verdicts("claim"):
            if v.get("status") == "vacuous":
                for h in v.get("hypotheses_failed") or []:
                    if str(h) not in failed_hyps:
                        failed_hyps.append(str(h))
    uniform: dict[str, list[tuple[str, str]]] = {}
    mixed: list[tuple[str, str, list[tuple[int, str]]]] = []
    events: list[tuple[str, str, list[tuple[int, str]]]] = []
    for name, lab, per in cats:
        words = {w for _, w in per}
        if _is_event(words, [vmap[(name, m)] for m, _ in per if (name, m) in vmap]):
            events.append((name, lab, per))
        elif len(words) == 1:
            uniform.setdefault(per[0][1], []).append((name, lab))
        else:
            mixed.append((name, lab, per))
    n_vac = sum(1 for name, _, per in cats
                if all((vmap.get((name, m)) or {}).get("status") == "vacuous" for m, _ in per))
    if failed_hyps:
        hyp = ", ".join(f"{h} [{labels[h]}]" if h in labels else h for h in failed_hyps)
        lines.append(f"Hypotheses not met: {hyp}; {n_vac} of the {n} claims are vacuous "
                     f"{where} (below: what the trajectories showed).")
    # slack among the claims observed to hold, leaving out those that hold by construction
    held = [(nm, lab) for w in (_O.HOLDS.value, _O.BY_CONSTRUCTION.value, _O.VACUOUS_HOLDS.value)
            for nm, lab in uniform.get(w, [])]
    sl: list[tuple[float, str, int]] = []
    left_out: dict[str, str] = {}
    for nm, lab in held:
        for r in runs:
            vh = vmap.get((nm, r.m))
            if vh is None:
                continue
            why = _by_construction(vh, r)
            if why:
                left_out.setdefault(lab, why)
                continue
            s_ = _slack(vh)
            if s_ is not None and math.isfinite(s_):
                sl.append((s_, lab, r.m))
    tight = ""
    if sl:
        lo, hi = min(sl), max(sl)
        tight = (f"Among the {len(held)} claims observed to hold, slack ranges from {_factor(lo[0])} "
                 f"({lo[1]}, m = {lo[2]}) to {_factor(hi[0])} ({hi[1]}, m = {hi[2]})")
        if left_out:
            tight += " (left out, holding by construction: " + "; ".join(
                f"{lab}: {why}" for lab, why in left_out.items()) + ")"
    known = {w for w, _ in _BUCKETS}
    buckets = [*_BUCKETS, *((w, f"are {w}") for w in uniform if w not in known)]
    for word, phrase in buckets:
        items = uniform.get(word, [])
        if not items:
            continue
        text = f"{len(items)} of the {n} claims {_agree(phrase.format(where=where), len(items))}"
        if word in (_O.HOLDS.value, _O.VACUOUS_HOLDS.value):
            text += ": " + ", ".join(lab for _, lab in items)
        elif word in (_O.VACUOUS_FAILS.value, _O.VIOLATED.value,
                      "inconclusive (hidden constant)", "inconclusive (hypothesis inconclusive)"):
            text += ": " + "; ".join(_fail_part(nm, lab, runs, vmap) for nm, lab in items)
        else:
            text += ": " + ", ".join(lab for _, lab in items)
        lines.append(text + ".")
    if tight:
        lines.append(tight + ".")
    if mixed:
        lines.append(f"{len(mixed)} of the {n} claims "
                     + _agree("have different verdicts at different ", len(mixed)) +
                     "widths: " + "; ".join(
                         f"{lab} (" + ", ".join(f"m = {m}: {w}" for m, w in per) + ")"
                         for _, lab, per in mixed) + ".")
    if events:
        parts = []
        for nm, lab, per in events:
            groups: dict[str, list[int]] = {}
            for m, w in per:
                groups.setdefault(w, []).append(m)
            txt = []
            for w, ms in groups.items():
                what = ("the event is impossible" if w.startswith(_O.EVENT_IMPOSSIBLE.value)
                        else "the event did not occur"
                        if w.startswith(_O.EVENT_NOT_OCCURRED.value) else "the event occurred"
                        if w in (_O.HOLDS.value, _O.VACUOUS_HOLDS.value) else w)
                extra = ""
                if w == _O.EVENT_IMPOSSIBLE.value:
                    ve = vmap.get((nm, ms[0]))
                    det = (ve or {}).get("details") or {}
                    extra = f" ({det.get('structural', 'structural')})"
                txt.append(f"{what} at m ∈ {_mset(ms)}{extra}")
            parts.append(f"{lab}: " + ", ".join(txt))
        lines.append(f"{len(events)} of the {n} claims "
                     + ("is a probabilistic event (probability " if len(events) == 1 else
                        "are probabilistic events (probability ") +
                     "≥ 1 − δ): " + "; ".join(parts) + ". One run is one draw of an event; the "
                     "lemma's probability statement is checked by the event's frequency over "
                     "seeds (a sweep) with its Clopper–Pearson interval, and a structural "
                     "impossibility holds for every draw.")
    return lines


def _fail_part(nm: str, lab: str, runs: Sequence[ReportRun],
               vmap: Mapping[tuple[str, int], Mapping[str, Any]]) -> str:
    bad = [(r.m, vmap[(nm, r.m)]) for r in runs if (nm, r.m) in vmap]
    m_w, v_w = max(bad, key=lambda mv: _ratio_of(mv[1]) or 0.0)
    d = v_w.get("details") or {}
    k = v_w.get("first_violation_step")
    first = ""
    if k is not None:
        first = f", first among the checked steps at step {k}"
        if d.get("first_violation_source") == "certificate":
            first += f" (certified by {d.get('certificate')})"
        if d.get("steps_total") is not None and d.get("steps_checked") != d.get("steps_total"):
            first += f"; {d.get('steps_checked')} of {d.get('steps_total')} steps checked"
    txt = (f"{lab} at m ∈ {_mset(m for m, _ in bad)} (worst ratio {_factor(_ratio_of(v_w))} at "
           f"m = {m_w}{first})")
    if d.get("structural") and not d.get("event"):
        txt += f" [at m = {m_w}: {d['structural']}]"
    if nm == "G_dev":
        outside = []
        for m, v in bad:
            wr = vmap.get(("W_move_R", m))
            k_g, k_r = v.get("first_violation_step"), (wr or {}).get("first_violation_step")
            outside.append(k_g is not None and k_r is not None and k_r <= k_g)
        if outside and all(outside):
            txt += (" — only at steps where ‖W(k) − W(0)‖₂ > R already, outside Lemma 3.4's "
                    "radius, where Lemma 3.4 does not apply: no failure of Lemma 3.4; what fails "
                    "is the proof's step keeping W within R")
    return txt


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


def _admissible(r: ReportRun) -> tuple[bool | None, Mapping[str, Any] | None]:
    """Does the theorem's rate guarantee apply to this run?  GD: the step condition holds;
    GF: the claims were checked (``step_check.gf_checked``)."""
    if r.mode == "gf":
        ck = (r.record.get("step_check") or {}).get("gf_checked")
        return (None if ck is None else bool(ck)), None
    v = r.verdict("step")
    if v is None:
        return None, None
    return v.get("status") == "holds", v


def _rate_line(runs: Sequence[ReportRun]) -> str | None:
    rows = []
    for r in runs:
        rates = r.record.get("rates") or {}
        obs = _num(rates.get("observed_rate_tail"))
        late = obs is not None
        if obs is None:
            obs = _num(rates.get("observed_rate"))
        th = _num(rates.get("theory_rate"))
        if obs is None or th is None:
            continue
        rows.append((r, obs, th, late, rates.get("fit_range_tail") if late else rates.get("fit_range")))
    if not rows:
        return None
    th_all = _same(round(t, 15) for _, _, t, _, _ in rows)
    dec_obs = [(r.m, 1 - o, rng) for r, o, _, _, rng in rows]
    lo = min(dec_obs, key=lambda t: t[1])
    hi = max(dec_obs, key=lambda t: t[1])
    late = all(x[3] for x in rows)
    fit = ("late-time fit over the second half of the run" if late else "fit over the run")
    obs_txt = (f"‖ŷ − y‖² decreased per step by a factor 1 − r ({fit}) between {fmt(lo[1])} "
               f"(m = {lo[0]}) and {fmt(hi[1])} (m = {hi[0]})" if len(rows) > 1 else
               f"‖ŷ − y‖² decreased per step by a factor 1 − r = {fmt(lo[1])} ({fit})")
    formula = _formula_text((runs[0].record.get("rates") or {}).get("theory_formula"))
    adm = [(_admissible(r)) for r, *_ in rows]
    if all(a is True for a, _ in adm) and th_all is not None:
        faster = min(1 - o for _, o, _, _, _ in rows) / max(1 - rows[0][2], 1e-300)
        comp = (f" — at least {_factor(faster)} faster than guaranteed" if faster >= 1 else
                f" — slower than the guarantee (by {_factor(1 / faster)}) at some width")
        th_txt = (f"the theorem guarantees {formula} = {fmt(rows[0][2], 8)} per step (a decrease "
                  f"of {fmt(1 - rows[0][2])})")
        below = []
        for r, *_ in rows:
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
    # no guarantee applies (inadmissible step, or GF claims not checked on these iterates)
    if runs[0].mode == "gf":
        return (f"Rate: {obs_txt}; the gradient-flow guarantee {formula} is not compared: the GD "
                "steps are too coarse for a gradient-flow reading (α·λ_max(H(0)) above the "
                "stated threshold) at some width.")
    step_vs = [v for _, v in adm if v is not None]
    if not step_vs:
        return f"Rate: {obs_txt}; the step condition was not evaluated, so no guarantee is compared."
    amax = min(float(_num(v.get("bound")) or math.inf) for v in step_vs)
    lam = _num(runs[0].symbols.get("lambda0"))
    word = ("is not met" if all(v.get("status") == "violated" for v in step_vs) else
            "is not known to be met (it depends on a hidden constant)"
            if all(v.get("status") in ("inconclusive", "holds") for v in step_vs) else
            "is not met at some width")
    hid = ", ".join(sorted({h for v in step_vs for h in (v.get("hidden") or [])}))
    txt = (f"Rate: {obs_txt}; no guarantee applies to this α: the step condition "
           f"{word}" + (f" ({_break_even_text([(0, v) for v in step_vs])})" if hid else ""))
    if lam is not None and math.isfinite(amax):
        from bounds import g22_spec  # the guaranteed factor from the spec's claim (vi), in sympy

        res = g22_spec("gd").bound("residual_sq_max")
        rho = float(res.evaluate(alpha=amax, lambda0=lam, e0_norm=1.0, k=1.0, t=amax))
        txt += (f". At the largest admissible step α = {fmt(amax)}"
                + (f" ({hid} = 1)" if hid else "")
                + f" the theorem would guarantee a per-step decrease of {fmt(1 - rho)} "
                f"({formula})")
    return txt + "."


def _formula_text(f: Any) -> str:
    table = {"1 - alpha*lambda0/2": "1 − αλ0/2", "exp(-alpha*lambda0)": "exp(−αλ0)"}
    return table.get(str(f), "1 − αλ0/2" if f is None else str(f))
