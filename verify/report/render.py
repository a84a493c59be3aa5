r"""Verification reports: run records and traces → Markdown, HTML, a JSON summary and figures.

Pure rendering: nothing here reads or writes files.  The input is one :class:`ReportRun` per
width (the ``record.json`` dict and the ``trace.npz`` arrays of a run directory, see
``docs/CONTRACTS.md``) and a :class:`ReportMeta` (the command that made the report, notes,
numbers computed by the caller for the paper's known issues).  The output of
:func:`render_report` is a mapping *relative path → bytes* that the caller writes
(:mod:`verify.cli.report` does so atomically).

Everything the text says is generated from the records: the summary at the top is assembled
from the verdicts (which condition fails and by what factor, which claims held and with what
slack, how the observed rate compares with the theorem's), never canned.

Layout of a rendered report::

    report.md            Markdown, figures referenced as figures/*.png
    report.html          one self-contained file: figures and formulas embedded (base64 PNG),
                         no external resources (readable offline)
    summary.json         machine-readable summary (schema "implicit-verify/report/1")
    figures/*.png        the figures of report.md

Formulas: the LaTeX of each bound (``record["bounds"][i]["latex"]``) is shown as source in a
code span in Markdown, and in HTML as an image rendered offline with matplotlib's *mathtext*
(next to the source); a formula mathtext cannot parse is shown as source only.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "REPORT_SCHEMA",
    "FIGURES",
    "ReportRun",
    "ReportMeta",
    "build_summary",
    "render_figures",
    "render_markdown",
    "render_html",
    "render_json",
    "render_report",
    "latex_to_png",
]

REPORT_SCHEMA = "implicit-verify/report/1"

#: figure file name → caption (the order in which they appear in the report).
FIGURES: dict[str, str] = {
    "figure1.png": (
        "The panels of the paper's Figure 1 for this run: training loss, test loss and the scaled "
        "operator norm (γ/√m)‖A(k)‖ = γ̃‖A(k)‖ (the contraction factor of the implicit layer) "
        "against the GD step, one curve per width."
    ),
    "gram.png": (
        "Smallest eigenvalues of the feature Gram G(k) = ΦΦᵀ, of the empirical NTK H(k) and of "
        "K(k) = ZZᵀ + ΦΦᵀ (the matrix the GD proof uses) against the thresholds λ0/2 "
        "(Lemma 3.6(i)) and ¾λ0 (Lemma 3.3)."
    ),
    "movement.png": (
        "Norms and parameter movement against the bounds of Lemma 3.6 and its proof "
        "(solid: observed, dashed: bound, same colour per width; log scale)."
    ),
    "rate.png": (
        "Left: ‖ŷ(k) − y‖²/‖e0‖² against the theorem's guarantee (1 − αλ0/2)^k (black dashed) "
        "and the path rate (1 − α·min λ_min(H))^k (dotted). Right: per-step decrease 1 − r of "
        "‖ŷ − y‖² — observed (fitted) against the theorem and the path rate, per width."
    ),
}

_STATUS_WORD = {
    "holds": "holds",
    "violated": "VIOLATED",
    "vacuous": "vacuous",
    "inconclusive": "inconclusive",
}

_THEOREMS = {
    "gd": ("G22 Lemma 3.6 / Theorem 3.2", "gradient descent"),
    "gf": ("G22 Lemma 3.5 / Theorem 3.1", "gradient flow"),
}

#: observables drawn in the movement figure, in this order, with axis titles.
_MOVEMENT = {
    "u_norm": "‖u(k)‖",
    "v_norm": "‖v(k)‖",
    "W_norm": "‖W(k)‖₂",
    "A_norm": "‖A(k)‖₂",
    "u_move": "‖u(k) − u(0)‖",
    "v_move": "‖v(k) − v(0)‖",
    "W_move": "‖W(k) − W(0)‖₂",
    "A_move": "‖A(k) − A(0)‖₂",
    "phi_max": "max‖φ_i‖",
    "z_max": "max‖z_i‖",
    "G_dev": "‖G(k) − G(0)‖₂",
    "Z_step": "‖Z(k+1) − Z(k)‖_F",
    "contraction": "γ̃‖A(k)‖₂",
}


# ====================================================================== inputs
@dataclass(frozen=True)
class ReportRun:
    """One run: the ``record.json`` dict and the ``trace.npz`` arrays (name → 1-D array).

    ``extras`` holds numbers the caller computed from the run's saved parameters (e.g. the
    eq. 14 mismatch at the final parameters); ``run_dir`` is shown in the report.
    """

    record: Mapping[str, Any]
    trace: Mapping[str, np.ndarray]
    run_dir: str | None = None
    extras: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_result(cls, result: Any, extras: Mapping[str, Any] | None = None) -> ReportRun:
        """From a :class:`verify.RunResult` (``.record``, ``.trace``, ``.out_dir``)."""
        out_dir = getattr(result, "out_dir", None)
        return cls(record=result.record, trace=dict(result.trace),
                   run_dir=None if out_dir is None else str(out_dir), extras=dict(extras or {}))

    # -- convenience accessors (tolerant of missing keys) --
    @property
    def config(self) -> Mapping[str, Any]:
        return self.record.get("config") or {}

    @property
    def symbols(self) -> Mapping[str, Any]:
        return self.record.get("symbols") or {}

    @property
    def m(self) -> int:
        m = self.config.get("m", self.symbols.get("m"))
        return int(m) if m is not None else 0

    @property
    def mode(self) -> str:
        return str(self.config.get("mode", "gd"))

    def series(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(steps, values)`` of a trace observable with non-finite values dropped."""
        if name not in self.trace:
            return np.zeros(0), np.zeros(0)
        y = np.asarray(self.trace[name], dtype=np.float64).ravel()
        x = np.asarray(self.trace.get("step", np.arange(y.size)), dtype=np.float64).ravel()
        n = min(x.size, y.size)
        x, y = x[:n], y[:n]
        ok = np.isfinite(y)
        return x[ok], y[ok]

    def verdicts(self, kind: str | None = None) -> list[Mapping[str, Any]]:
        out = list(self.record.get("verdicts") or [])
        return [v for v in out if kind is None or v.get("kind") == kind]

    def verdict(self, name: str) -> Mapping[str, Any] | None:
        for v in self.verdicts():
            if v.get("name") == name:
                return v
        return None

    def bound_value(self, name: str) -> float | None:
        for b in self.record.get("bounds") or []:
            if b.get("name") == name:
                return _num(b.get("value"))
        return None


@dataclass(frozen=True)
class ReportMeta:
    """What the report says about how it was made.

    Attributes:
        command: the exact command that reproduces the report.
        title: overrides the generated title.
        generated: timestamp string (ISO 8601) of the rendering.
        notes: paragraphs placed under "What was verified" (e.g. how the run was scaled down
            from the paper's experiment).
        wall_time_s: total wall time of the command, if it ran the experiments.
        findings: extra known-issue findings computed by the caller, each a dict with
            ``item`` (digest §9 number), ``text`` and optional ``value`` / ``m``.
        paper_setup: rows ``(quantity, paper, this report)`` comparing with the paper's
            experiment.
    """

    command: str | None = None
    title: str | None = None
    generated: str | None = None
    notes: tuple[str, ...] = ()
    wall_time_s: float | None = None
    findings: tuple[Mapping[str, Any], ...] = ()
    paper_setup: tuple[tuple[str, str, str], ...] = ()


# ====================================================================== small helpers
def _num(x: Any) -> float | None:
    if x is None or isinstance(x, bool):
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f


def fmt(x: Any, digits: int = 4) -> str:
    """Human formatting: ``—`` for missing, 4 significant digits, compact exponent."""
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    f = _num(x)
    if f is None:
        return str(x)
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "∞" if f > 0 else "−∞"
    if f == 0:
        return "0"
    a = abs(f)
    if a >= 1e5 or a < 1e-3:
        mant, exp = f"{f:.{digits - 1}e}".split("e")
        mant = mant.rstrip("0").rstrip(".")
        return f"{mant}e{int(exp)}"
    s = f"{f:.{digits}g}"
    if "e" in s:  # e.g. 1e+04 for 10000 with 4 digits
        s = f"{f:.0f}"
    return s


def _factor(x: float | None) -> str:
    """A ratio as a factor: ``3.2×``, ``1.2e4×``."""
    if x is None or not math.isfinite(x):
        return fmt(x)
    return f"{fmt(x, 4 if abs(x - 1) < 0.05 else 3)}×"


def _widths(runs: Sequence[ReportRun]) -> list[int]:
    return [r.m for r in runs]


def _same(values: Iterable[Any]) -> Any:
    vals = list(values)
    if not vals:
        return None
    first = vals[0]
    return first if all(v == first for v in vals) else None


def _mset(ms: Iterable[int]) -> str:
    ms = list(ms)
    return "{" + ", ".join(str(m) for m in ms) + "}"


def _observed_ok(v: Mapping[str, Any]) -> bool | None:
    """Did the observed values satisfy the inequality (regardless of vacuity)?"""
    status = v.get("status")
    if status == "holds":
        return True
    if status == "violated":
        return False
    details = v.get("details") or {}
    obs_status = details.get("observed_status") if isinstance(details, Mapping) else None
    if obs_status in ("holds", "violated"):
        return obs_status == "holds"
    if status == "inconclusive" or obs_status == "inconclusive":
        return None
    ratio = _num(v.get("ratio"))
    if ratio is not None and not math.isnan(ratio):
        return ratio <= 1.0
    o, b = _num(v.get("observed")), _num(v.get("bound"))
    if o is None or b is None or math.isnan(o) or math.isnan(b):
        return None
    return o <= b if v.get("sense") == "le" else o >= b


def _ratio_of(v: Mapping[str, Any]) -> float | None:
    """The record's ratio; ∞ when the record has none but the observation violates."""
    r = _num(v.get("ratio"))
    if r is not None:
        return r
    if _observed_ok(v) is False:
        return math.inf
    return None


def _slack(v: Mapping[str, Any]) -> float | None:
    s = _num(v.get("slack"))
    if s is not None and math.isfinite(s):
        return s
    r = _num(v.get("ratio"))
    if r is not None and r > 0 and math.isfinite(r) and r <= 1:
        return 1.0 / r
    return None


def _short_label(v: Mapping[str, Any]) -> str:
    label = str(v.get("label") or v.get("name") or "?")
    return label.replace("G22 ", "")


# ====================================================================== summary (data model)
def _theorem_info(runs: Sequence[ReportRun]) -> dict[str, Any]:
    rec = runs[0].record if runs else {}
    mode = runs[0].mode if runs else "gd"
    label, kind = _THEOREMS.get(mode, (f"theorem ({mode})", mode))
    theorem = rec.get("theorem")
    if isinstance(theorem, Mapping):
        return {"key": theorem.get("key", f"g22-{mode}"), "label": theorem.get("label", label),
                "title": theorem.get("title", label), "method": kind, "mode": mode,
                "paper": theorem.get("paper")}
    return {"key": theorem if isinstance(theorem, str) else f"g22-{mode}", "label": label,
            "title": f"{label} ({kind})", "method": kind, "mode": mode, "paper": rec.get("paper")}


def _run_summary(run: ReportRun) -> dict[str, Any]:
    rec = run.record
    tr = run.trace

    def first_last(name: str) -> tuple[float | None, float | None]:
        _, y = run.series(name)
        if y.size == 0:
            return None, None
        return float(y[0]), float(y[-1])

    loss0, loss1 = first_last("loss")
    tl0, tl1 = first_last("test_loss")
    c0, c1 = first_last("contraction")
    counts: dict[str, int] = {}
    for v in run.verdicts():
        counts[str(v.get("status"))] = counts.get(str(v.get("status")), 0) + 1
    return {
        "m": run.m,
        "run_dir": run.run_dir,
        "status": rec.get("status"),
        "status_message": rec.get("status_message"),
        "steps_done": rec.get("steps_done"),
        "wall_time_s": rec.get("wall_time_s"),
        "config": dict(run.config),
        "symbols": dict(run.symbols),
        "loss": {"initial": loss0, "final": loss1},
        "test_loss": {"initial": tl0, "final": tl1},
        "contraction": {"initial": c0, "final": c1},
        "rates": dict(rec.get("rates") or {}),
        "verdict_counts": counts,
        "verdicts": [dict(v) for v in run.verdicts()],
        "extras": dict(run.extras),
        "recorded_steps": int(np.asarray(tr.get("step", [])).size),
        "command": rec.get("command"),
    }


def _bounds_table(runs: Sequence[ReportRun]) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for run in runs:
        for b in run.record.get("bounds") or []:
            name = str(b.get("name"))
            row = rows.setdefault(name, {
                "name": name, "label": b.get("label"), "latex": b.get("latex"),
                "provenance": b.get("provenance"), "hidden": list(b.get("hidden") or []),
                "description": b.get("description"), "values": {},
                "value_at": b.get("value_at"),
            })
            row["values"][str(run.m)] = _num(b.get("value"))
    return list(rows.values())


def _verdict_groups(runs: Sequence[ReportRun], kind: str) -> list[dict[str, Any]]:
    """One entry per verdict name: label, per-width verdicts (in run order)."""
    groups: dict[str, dict[str, Any]] = {}
    for run in runs:
        for v in run.verdicts(kind):
            g = groups.setdefault(str(v.get("name")), {"name": v.get("name"), "label": v.get("label"),
                                                       "kind": kind, "per_m": []})
            g["per_m"].append((run.m, v))
    return list(groups.values())


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


def _init_issue(runs: Sequence[ReportRun]) -> list[dict[str, Any]]:
    """Known issue 3: norm claims of u, v at k = 0 force √m ≤ bound, i.e. m ≤ bound²."""
    out = []
    for obs in ("u_norm", "v_norm"):
        for r in runs:
            vs = [v for v in r.verdicts("claim") if v.get("observable") == obs]
            if not vs:
                continue
            v = vs[0]
            B = _num(v.get("bound"))
            x, y = r.series(obs)
            at0 = float(y[0]) if y.size and x[0] == 0 else None
            out.append({
                "observable": obs, "name": v.get("name"), "label": v.get("label"), "m": r.m,
                "bound": B, "observed_at_init": at0, "sqrt_m": math.sqrt(r.m) if r.m else None,
                "m_limit": None if B is None else B * B,
                "fails_at_init": None if B is None or at0 is None else bool(at0 > B),
            })
    return out


def _width_issue(runs: Sequence[ReportRun]) -> list[dict[str, Any]]:
    """Known issue 4: all width conditions per run, the binding one, and the binding one among
    the paper's own conditions (provenance ``paper``/``hidden``, i.e. not ``derived``)."""
    out = []
    prov: dict[str, Any] = {}
    for r in runs:
        for b in r.record.get("bounds") or []:
            prov.setdefault(str(b.get("name")), b.get("provenance"))
    for r in runs:
        conds = [v for v in r.verdicts("condition") if v.get("observable") == "m"]
        rows: list[dict[str, Any]] = []
        for v in conds:
            p = v.get("provenance") or prov.get(str(v.get("name")))
            rows.append({"name": v.get("name"), "label": v.get("label"), "provenance": p,
                         "required": _num(v.get("bound")), "status": v.get("status"),
                         "ratio": _num(v.get("ratio"))})
        fin = [c for c in rows if c["required"] is not None and math.isfinite(c["required"])]
        own = [c for c in fin if c["provenance"] != "derived"] or fin
        binding = max(fin, key=lambda c: float(c["required"])) if fin else None
        binding_p = max(own, key=lambda c: float(c["required"])) if own else None
        out.append({
            "m": r.m,
            "conditions": rows,
            "binding": None if binding is None else binding["name"],
            "binding_label": None if binding is None else binding["label"],
            "binding_printed": None if binding_p is None else binding_p["name"],
            "binding_printed_label": None if binding_p is None else binding_p["label"],
            "binding_printed_width": None if binding_p is None else binding_p["required"],
        })
    return out


def _issue_lines(init: Sequence[Mapping[str, Any]], width: Sequence[Mapping[str, Any]],
                 widths: Sequence[int]) -> list[str]:
    lines = []
    need = {w["m"]: (w.get("binding_printed_width"), w.get("binding_printed_label")) for w in width}
    parts = []
    fails_any: list[str] = []
    conflict_all = True
    m_last = None
    for obs in ("u_norm", "v_norm"):
        rows = [r for r in init if r["observable"] == obs]
        if not rows:
            continue
        r = rows[-1]  # the largest width
        m_last = r["m"]
        parts.append(f"{_short_label(r)} needs m ≤ {fmt(r['m_limit'])}")
        fails = [x["m"] for x in rows if x["fails_at_init"]]
        if fails:
            fails_any.append(f"{_short_label(r)} fails at initialisation at m ∈ {_mset(fails)}")
        W = need.get(r["m"], (None, None))[0]
        if W is None or r["m_limit"] is None or not r["m_limit"] < W:
            conflict_all = False
    if parts:
        txt = ("Known issue 3: at k = 0, where ‖u(0)‖ = ‖v(0)‖ = √m, "
               + " and ".join(parts) + f" (values at m = {m_last})")
        txt += ("; " + "; ".join(fails_any)) if fails_any else \
            "; both hold at initialisation at the widths used"
        W, lab = need.get(m_last, (None, None))
        if conflict_all and W is not None:
            txt += (f", but {_short_label({'label': lab})} requires m ≥ {fmt(W)}: no width "
                    "satisfies both")
        lines.append(txt + ".")
    if width:
        w = width[-1]
        if w["conditions"] and w.get("binding_label"):
            bl = _short_label({"label": w["binding_label"]})
            bp = _short_label({"label": w.get("binding_printed_label")})
            req = {str(c["name"]): c.get("required") for c in w["conditions"]}
            b_w = next((c["required"] for c in w["conditions"] if c["name"] == w["binding"]), None)
            txt = (f"Known issue 4 (m = {w['m']}): of the {len(w['conditions'])} width conditions "
                   f"{bl} binds (m ≥ {fmt(b_w)})")
            if bp != bl:
                txt += f", among the paper's own {bp} (m ≥ {fmt(w.get('binding_printed_width'))})"
            if req.get("width_thm32") and req.get("width_lemma33"):
                txt += (f"; Theorem 3.2 as printed (λ0, not λ0²) asks only m ≥ "
                        f"{fmt(req['width_thm32'])}")
            lines.append(txt + ".")
    return lines


def build_summary(runs: Sequence[ReportRun], meta: ReportMeta | None = None) -> dict[str, Any]:
    """Everything the report says, as a JSON-serialisable dict (schema ``REPORT_SCHEMA``).

    The Markdown and HTML renderers work from this dict only, so the three formats agree.
    """
    meta = meta or ReportMeta()
    runs = sorted(runs, key=lambda r: r.m)
    if not runs:
        from bounds._errors import invalid

        raise invalid("runs", [], "a report needs at least one run", "pass the runs to render")
    theorem = _theorem_info(runs)
    first = runs[0].record
    data = dict(first.get("data") or {})
    widths = _widths(runs)
    cfg_keys = sorted({k for r in runs for k in r.config})
    common = {k: runs[0].config.get(k) for k in cfg_keys
              if _same(r.config.get(k) for r in runs) is not None or
              all(r.config.get(k) is None for r in runs)}
    common.pop("m", None)
    varying = [k for k in cfg_keys if k not in common and k != "m"]

    lines: list[str] = []
    n, d = data.get("n", runs[0].symbols.get("n")), data.get("d", runs[0].symbols.get("d"))
    gamma, alpha = common.get("gamma"), common.get("step")
    steps = _same(r.record.get("steps_done") for r in runs)
    lam = _same(_num(r.symbols.get("lambda0")) for r in runs)
    lines.append(
        f"{theorem['label']} ({theorem['method']}) was checked on {data.get('name', 'the data')} "
        f"(n = {fmt(n)}, d = {fmt(d)}"
        + (f", λ0 = {fmt(lam)}" if lam is not None else "")
        + f") at width{'s' if len(widths) > 1 else ''} m ∈ {_mset(widths)}"
        + (f", γ = {fmt(gamma)}" if gamma is not None else "")
        + (f", α = {fmt(alpha)}" if alpha is not None else "")
        + (f", {steps} steps each" if steps is not None else "") + ".")
    statuses = [(r.m, r.record.get("status")) for r in runs]
    bad_runs = [(m, s) for m, s in statuses if s not in ("target_reached", "max_steps", None)]
    if bad_runs:
        lines.append("Runs that did not finish normally: "
                     + "; ".join(f"m = {m}: {s}" for m, s in bad_runs) + ".")
    losses = [(r.m, *r.series("loss")) for r in runs]
    losses = [(m, y[0], y[-1]) for m, _, y in losses if y.size]
    if losses:
        best = min(losses, key=lambda t: t[2])
        worst = max(losses, key=lambda t: t[2])
        lines.append(
            f"Training loss fell from {fmt(best[1])} to {fmt(best[2])} at m = {best[0]}"
            + (f" (to {fmt(worst[2])} at m = {worst[0]})" if worst[0] != best[0] else "") + ".")
    lines.extend(_claims_lines(runs, theorem))
    lines.extend(_conditions_lines(runs))
    rl = _rate_line(runs)
    if rl:
        lines.append(rl)
    init = _init_issue(runs)
    width = _width_issue(runs)
    lines.extend(_issue_lines(init, width, widths))
    viol_assump = [(r.m, v) for r in runs for v in r.verdicts("assumption")
                   if v.get("status") == "violated"]
    if viol_assump:
        by_a: dict[str, list[int]] = {}
        for m, v in viol_assump:
            by_a.setdefault(_short_label(v), []).append(m)
        lines.append("Assumptions not met: " + "; ".join(
            f"{a} at m ∈ {_mset(ms)}" for a, ms in by_a.items()) + ".")

    env = dict(first.get("environment") or {})
    hidden: dict[str, Any] = {}
    for r in runs:
        for k, v in (r.record.get("hidden_constants") or {}).items():
            hidden.setdefault(k, v)
    known_record = []
    for r in runs:
        for ki in r.record.get("known_issues") or []:
            known_record.append({"m": r.m, **dict(ki)})
    return {
        "schema": REPORT_SCHEMA,
        "title": meta.title or f"Verification report: {theorem['title']}",
        "theorem": theorem,
        "generated": meta.generated,
        "command": meta.command,
        "wall_time_s": meta.wall_time_s,
        "notes": list(meta.notes),
        "paper_setup": [list(t) for t in meta.paper_setup],
        "summary": lines,
        "data": data,
        "audit": dict(first.get("audit") or {}),
        "environment": env,
        "widths": widths,
        "config_common": common,
        "config_varying": varying,
        "hidden_constants": hidden,
        "runs": [_run_summary(r) for r in runs],
        "bounds": _bounds_table(runs),
        "known_issues": {
            "paper": list(_paper_issues(runs)),
            "record": known_record,
            "init_norm": init,
            "width_conditions": width,
            "findings": [dict(f) for f in meta.findings],
        },
        "figures": {k: v for k, v in FIGURES.items()},
    }


def _paper_issues(runs: Sequence[ReportRun]) -> Iterable[str]:
    try:
        from bounds.gao2022_iclr import G22_KNOWN_ISSUES  # type: ignore[import-not-found]
    except Exception:  # pragma: no cover - bounds not installed
        return ()
    return G22_KNOWN_ISSUES


# ====================================================================== figures
def _colors(n: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    if n <= 1:
        return [cmap(0.35)]
    return [cmap(0.05 + 0.8 * i / (n - 1)) for i in range(n)]


def _new_figure(w: float, h: float) -> Any:
    # No layout engine: constrained/tight layout draw the figure twice (slow on busy CPUs);
    # each figure sets its margins with subplots_adjust instead.
    from matplotlib.figure import Figure

    return Figure(figsize=(w, h))


def _set_log(ax: Any, axis: str = "y") -> None:
    """Log scale when the data span more than a factor 20, else linear; plain-text ticks
    (mathtext tick labels are slow to lay out)."""
    from matplotlib import ticker

    if axis == "x":
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda x, p=None: f"{x:g}"))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        return
    vals = [np.asarray(ln.get_ydata(), dtype=float) for ln in ax.get_lines()]
    allv = np.concatenate([v[np.isfinite(v) & (v > 0)] for v in vals]) if vals else np.zeros(0)
    if allv.size == 0:
        return
    if allv.max() / allv.min() < 20:
        ax.ticklabel_format(axis="y", useOffset=False)
        return
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0) if
                                                 allv.max() / allv.min() < 1e3 else (1.0,)))
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda x, p=None: fmt(x, 2)))
    ax.yaxis.set_minor_formatter(ticker.NullFormatter())


def _png(fig: Any, dpi: int) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def _no_data(ax: Any, text: str = "not recorded") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4")


def _plot_series(ax: Any, run: ReportRun, name: str, color: Any, label: str | None,
                 log: bool = False, **kw: Any) -> bool:
    x, y = run.series(name)
    if log:
        ok = y > 0
        x, y = x[ok], y[ok]
    if y.size == 0:
        return False
    marker = "o" if y.size <= 3 else None
    ax.plot(x, y, color=color, label=label, marker=marker, markersize=3, **kw)
    return True


def _figure1(runs: Sequence[ReportRun], dpi: int) -> bytes:
    cols = _colors(len(runs))
    fig = _new_figure(11.0, 3.2)
    axes = fig.subplots(1, 3)
    panels = (("loss", "training loss ½‖ŷ − y‖²", True),
              ("test_loss", "test loss", True),
              ("contraction", "(γ/√m)‖A(k)‖₂", False))
    for ax, (name, title, log) in zip(axes, panels, strict=False):
        any_ = False
        for run, c in zip(runs, cols, strict=False):
            any_ |= _plot_series(ax, run, name, c, f"m = {run.m}", log=log)
        if log and any_:
            _set_log(ax)
        if not any_:
            _no_data(ax, "no test set" if name == "test_loss" else "not recorded")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("GD step k")
        ax.grid(alpha=0.3)
    axes[2].ticklabel_format(axis="y", useOffset=False, style="plain")
    if runs:
        axes[0].legend(fontsize=8)
    fig.subplots_adjust(left=0.065, right=0.985, bottom=0.15, top=0.9, wspace=0.32)
    return _png(fig, dpi)


def _figure_gram(runs: Sequence[ReportRun], dpi: int) -> bytes:
    cols = _colors(len(runs))
    names = [("lambda_min_G", "λ_min(G(k)),  G = ΦΦᵀ"), ("lambda_min_H", "λ_min(H(k)) (empirical NTK)")]
    if any("lambda_min_K" in r.trace for r in runs):
        names.append(("lambda_min_K", "λ_min(ZZᵀ + ΦΦᵀ)"))
    fig = _new_figure(3.7 * len(names), 3.2)
    axes = fig.subplots(1, len(names))
    lams = [x for x in (_num(r.symbols.get("lambda0")) for r in runs) if x is not None]
    lam = lams[0] if lams else None
    for ax, (name, title) in zip(np.atleast_1d(axes), names, strict=False):
        any_ = False
        nonpos = []
        for run, c in zip(runs, cols, strict=False):
            ok = _plot_series(ax, run, name, c, f"m = {run.m}", log=True)
            any_ |= ok
            if not ok and run.series(name)[1].size:
                nonpos.append(run.m)
        if nonpos:
            ax.text(0.02, 0.02, f"λ_min ≤ 0 (not drawn) at m = {', '.join(map(str, nonpos))}",
                    transform=ax.transAxes, fontsize=7, color="0.3")
        if lam is not None and lam > 0:
            ax.axhline(0.75 * lam, color="tab:orange", ls=":", lw=1.2, label="¾λ0")
            ax.axhline(0.5 * lam, color="tab:red", ls="--", lw=1.2, label="λ0/2")
        if any_ or lam:
            _set_log(ax)
        if not any_:
            _no_data(ax)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("GD step k")
        ax.grid(alpha=0.3, which="both")
    np.atleast_1d(axes)[0].legend(fontsize=7)
    fig.subplots_adjust(left=0.08, right=0.985, bottom=0.15, top=0.9, wspace=0.32)
    return _png(fig, dpi)


def _movement_claims(runs: Sequence[ReportRun]) -> list[str]:
    seen: list[str] = []
    for obs in _MOVEMENT:
        for r in runs:
            if any(v.get("observable") == obs for v in r.verdicts("claim")) and r.series(obs)[1].size:
                seen.append(obs)
                break
    return seen


def _figure_movement(runs: Sequence[ReportRun], dpi: int) -> bytes:
    obs_list = _movement_claims(runs) or ["u_norm"]
    cols = _colors(len(runs))
    ncol = min(4, len(obs_list))
    nrow = int(math.ceil(len(obs_list) / ncol))
    fig = _new_figure(3.0 * ncol, 2.5 * nrow)
    axes = np.atleast_1d(fig.subplots(nrow, ncol)).ravel()
    for ax, obs in zip(axes, obs_list, strict=False):
        any_ = False
        for run, c in zip(runs, cols, strict=False):
            any_ |= _plot_series(ax, run, obs, c, f"m = {run.m}", log=True, lw=1.4)
            vs = [v for v in run.verdicts("claim") if v.get("observable") == obs]
            for v in vs:
                b = _num(v.get("bound"))
                if b is None or not math.isfinite(b) or b <= 0 or obs == "Z_step":
                    continue
                ax.axhline(b, color=c, ls="--", lw=1.0)
        if obs == "Z_step":
            for run, c in zip(runs, cols, strict=False):
                _plot_bound_curve(ax, run, "Z_step_max", c)
        if any_:
            _set_log(ax)
        else:
            _no_data(ax)
        ax.set_title(_MOVEMENT.get(obs, obs), fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3, which="both")
    for ax in axes[len(obs_list):]:
        ax.set_visible(False)
    axes[0].legend(fontsize=6)
    fig.supxlabel("GD step k", fontsize=9)
    fig.subplots_adjust(left=0.07, right=0.99, bottom=0.2 / nrow + 0.02, top=1 - 0.12 / nrow,
                        wspace=0.38, hspace=0.45)
    return _png(fig, dpi)


def _plot_bound_curve(ax: Any, run: ReportRun, bound_name: str, color: Any) -> None:
    """Z_step bound 512αc n^{3/2}‖e0‖²β^k/(λ0 m): its value at k=0 times β^k."""
    b0 = run.bound_value(bound_name)
    rates = run.record.get("rates") or {}
    th = _num(rates.get("theory_rate"))
    x, _ = run.series("step")
    if b0 is None or th is None or x.size == 0 or th <= 0:
        return
    ax.plot(x, b0 * np.sqrt(th) ** x, color=color, ls="--", lw=1.0)


def _figure_rate(runs: Sequence[ReportRun], dpi: int) -> bytes:
    cols = _colors(len(runs))
    fig = _new_figure(10.0, 3.3)
    ax1, ax2 = fig.subplots(1, 2)
    any_ = False
    kmax = 0.0
    for run, c in zip(runs, cols, strict=False):
        x, y = run.series("residual_sq")
        e0 = _num(run.symbols.get("e0_norm"))
        if y.size == 0:
            continue
        ref = e0 * e0 if e0 else y[0]
        ok = y > 0
        ax1.plot(x[ok], y[ok] / ref, color=c, label=f"m = {run.m}")
        any_ = True
        kmax = max(kmax, float(x.max()))
        rates = run.record.get("rates") or {}
        path = _num(rates.get("path_rate"))
        if path is not None and 0 < path < 1:
            kk = np.linspace(0, x.max(), 200)
            ax1.plot(kk, path ** kk, color=c, ls=":", lw=1.0)
    ths = [t for t in (_num((r.record.get("rates") or {}).get("theory_rate")) for r in runs)
           if t is not None and t > 0]
    if ths and kmax > 0:
        kk = np.linspace(0, kmax, 200)
        ax1.plot(kk, ths[0] ** kk, color="k", ls="--", lw=1.2, label="(1 − αλ0/2)^k")
    if any_:
        _set_log(ax1)
        ax1.legend(fontsize=7)
    else:
        _no_data(ax1)
    ax1.set_xlabel("GD step k")
    ax1.set_title("‖ŷ(k) − y‖² / ‖e0‖²", fontsize=10)
    ax1.grid(alpha=0.3, which="both")
    ms: list[int] = []
    obs_l: list[float | None] = []
    th_l: list[float | None] = []
    path_l: list[float | None] = []
    for r in runs:
        rates = r.record.get("rates") or {}
        ms.append(r.m)
        obs_l.append(_num(rates.get("observed_rate")))
        th_l.append(_num(rates.get("theory_rate")))
        path_l.append(_num(rates.get("path_rate")))

    def dec(vals: list[float | None]) -> np.ndarray:
        return np.array([np.nan if v is None else 1 - v for v in vals], dtype=float)

    plotted = False
    for vals, lab, mk, col in ((obs_l, "observed (fit)", "o", "tab:blue"),
                               (path_l, "path: α·min λ_min(H)", "s", "tab:green"),
                               (th_l, "theorem: αλ0/2", "^", "k")):
        yv = dec(vals)
        ok = np.isfinite(yv) & (yv > 0)
        if ok.any():
            ax2.plot(np.array(ms)[ok], yv[ok], marker=mk, color=col, label=lab, lw=1)
            plotted = True
    if plotted:
        _set_log(ax2)
        _set_log(ax2, "x")
        ax2.legend(fontsize=7)
    else:
        _no_data(ax2)
    ax2.set_xlabel("width m")
    ax2.set_title("per-step decrease 1 − r of ‖ŷ − y‖²", fontsize=10)
    ax2.grid(alpha=0.3, which="both")
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.15, top=0.9, wspace=0.25)
    return _png(fig, dpi)


def render_figures(runs: Sequence[ReportRun], dpi: int = 90) -> dict[str, bytes]:
    """The report's figures as PNG bytes, keyed by the file names of :data:`FIGURES`."""
    runs = sorted(runs, key=lambda r: r.m)
    return {
        "figure1.png": _figure1(runs, dpi),
        "gram.png": _figure_gram(runs, dpi),
        "movement.png": _figure_movement(runs, dpi),
        "rate.png": _figure_rate(runs, dpi),
    }


_MATH_CACHE: dict[tuple[str, int], bytes | None] = {}


def latex_to_png(latex: str, dpi: int = 100) -> bytes | None:
    """Render a LaTeX formula with matplotlib's mathtext (offline); ``None`` if it can't."""
    key = (latex, dpi)
    if key in _MATH_CACHE:
        return _MATH_CACHE[key]
    from matplotlib import mathtext
    from matplotlib.font_manager import FontProperties

    src = latex.replace(r"\operatorname{log}", r"\log")
    buf = io.BytesIO()
    try:
        mathtext.math_to_image(f"${src}$", buf, prop=FontProperties(size=14), dpi=dpi,
                               format="png")
        out: bytes | None = buf.getvalue()
    except Exception:  # mathtext covers a subset of LaTeX; fall back to the source
        out = None
    _MATH_CACHE[key] = out
    return out


# ====================================================================== document model
@dataclass(frozen=True)
class _Code:
    text: str


@dataclass(frozen=True)
class _Math:
    latex: str


@dataclass(frozen=True)
class _Strong:
    text: str


_Inline = Any  # str | _Code | _Math | _Strong | tuple of those


@dataclass(frozen=True)
class _H:
    level: int
    text: str
    anchor: str = ""


@dataclass(frozen=True)
class _P:
    content: _Inline
    cls: str = ""


@dataclass(frozen=True)
class _UL:
    items: tuple[_Inline, ...]


@dataclass(frozen=True)
class _Table:
    header: tuple[_Inline, ...]
    rows: tuple[tuple[_Inline, ...], ...]


@dataclass(frozen=True)
class _Pre:
    text: str


@dataclass(frozen=True)
class _Fig:
    name: str
    caption: str


def _status_cell(v: Mapping[str, Any] | None) -> _Inline:
    if v is None:
        return "—"
    st = str(v.get("status"))
    word = _STATUS_WORD.get(st, st)
    if st == "vacuous":
        ok = _observed_ok(v)
        if ok is True:
            word += " (observed: holds)"
        elif ok is False:
            word += " (observed: fails)"
    return _Strong(word) if st == "violated" else word


def _ratio_cell(v: Mapping[str, Any] | None) -> str:
    if v is None:
        return "—"
    return fmt(_ratio_of(v), 3)


def _blocks(s: Mapping[str, Any]) -> list[Any]:
    B: list[Any] = []
    th = s["theorem"]
    runs = s["runs"]
    widths = s["widths"]
    mcols = tuple(f"m = {m}" for m in widths)
    B.append(_H(1, s["title"], "top"))
    gen = []
    if s.get("generated"):
        gen.append(f"Generated {s['generated']}")
    if s.get("wall_time_s") is not None:
        gen.append(f"command wall time {fmt(s['wall_time_s'], 3)} s")
    if gen:
        B.append(_P(" · ".join(gen), "meta"))

    # ---------------------------------------------------------------- summary
    B.append(_H(2, "Summary", "summary"))
    B.append(_UL(tuple(s["summary"])))

    # ---------------------------------------------------------------- what was verified
    B.append(_H(2, "What was verified", "what"))
    data = s["data"]
    common = s["config_common"]
    rows: list[tuple[_Inline, ...]] = [
        ("theorem", th.get("title", th["label"])),
        ("paper", th.get("paper") or "Gao, Liu, Liu, Rajan, Gao — ICLR 2022 (arXiv 2110.05645)"),
        ("data", f"{data.get('name', '—')}" + (f" — {data['source']}" if data.get("source") else "")),
        ("samples", f"n = {fmt(data.get('n'))} training, {fmt(data.get('n_test'))} test, "
                    f"d = {fmt(data.get('d'))}"),
        ("data seed", fmt(data.get("seed"))),
        ("unit-norm normalised", fmt(data.get("unit_norm_normalised"))),
        ("widths", ", ".join(str(m) for m in widths)),
    ]
    for k in sorted(common):
        v = common[k]
        rows.append((_Code(k), fmt(v) if not isinstance(v, str) else v))
    for k in s.get("config_varying", []):
        rows.append((_Code(k), "; ".join(f"m = {r['m']}: {fmt(r['config'].get(k))}" for r in runs)))
    B.append(_Table(("item", "value"), tuple(rows)))
    for note in s.get("notes") or []:
        B.append(_P(note))
    if s.get("paper_setup"):
        B.append(_P("Compared with the paper's experiment (Section 4, Figure 1):"))
        B.append(_Table(("", "paper", "this report"), tuple(tuple(r) for r in s["paper_setup"])))
    if s.get("command"):
        B.append(_P("Reproduce this report with:"))
        B.append(_Pre(s["command"]))
    run_cmds = [(r["m"], (r.get("config") or {}), r) for r in runs]
    env = s.get("environment") or {}
    if env:
        B.append(_P("Environment:"))
        B.append(_Table(("component", "version / value"),
                        tuple((k, str(v)) for k, v in env.items())))
    B.append(_P("Runs:"))
    B.append(_Table(("m", "status", "steps", "wall time (s)", "seed", "run directory"),
                    tuple((str(m), str(r.get("status")), fmt(r.get("steps_done")),
                           fmt(r.get("wall_time_s"), 3), fmt(cfg.get("seed")),
                           _Code(r.get("run_dir") or "—")) for m, cfg, r in run_cmds)))
    cmds = [(r["m"], r.get("command")) for r in runs if r.get("command")]
    if cmds and any(c != s.get("command") for _, c in cmds):
        B.append(_P("The runs were made by:"))
        B.append(_Pre("\n".join(f"# m = {m}\n{c}" for m, c in cmds)))

    # ---------------------------------------------------------------- constants
    B.append(_H(2, "Constants and bounds", "constants"))
    hidden = s.get("hidden_constants") or {}
    if hidden:
        B.append(_P("The paper hides these constants in Ω(·)/O(·) or in absolute constants of "
                     "its probability lemmas and does not give them. They are named parameters "
                     "of this toolkit; every number below that depends on one was computed with "
                     "the value stated here:"))
        B.append(_UL(tuple((_Code(k), f" = {fmt(v)}") for k, v in hidden.items())))
    syms = ("n", "d", "m", "gamma", "alpha", "delta", "lambda0", "c", "c_source", "c_tail",
            "c_measured", "X_norm", "e0_norm")
    sym_rows = []
    for k in syms:
        vals = [r["symbols"].get(k) for r in runs]
        if all(v is None for v in vals):
            continue
        sym_rows.append((_Code(k), *(fmt(v) if not isinstance(v, str) else v for v in vals)))
    if sym_rows:
        B.append(_P("Symbols (per width):"))
        B.append(_Table(("symbol", *mcols), tuple(sym_rows)))
    btab = s.get("bounds") or []
    if btab:
        B.append(_P("Named bounds of the theorem spec, evaluated per width. Provenance: "
                     "paper = explicit constant as printed; hidden = an Ω/O statement, value "
                     "with the hidden constant listed; derived = this toolkit's own derivation "
                     "(see the spec's docstring)."))
        rows = []
        for b in btab:
            hid = ", ".join(b.get("hidden") or []) or "—"
            bvals = tuple(fmt(b["values"].get(str(m))) for m in widths)
            lab = str(b.get("label") or "")
            if b.get("value_at"):
                lab += f" (value at the {b['value_at']})"
            rows.append((_Code(str(b["name"])), lab,
                         _Math(str(b.get("latex") or "")), *bvals, str(b.get("provenance")), hid))
        B.append(_Table(("name", "label", "formula", *mcols, "provenance", "hidden"), tuple(rows)))

    # ---------------------------------------------------------------- assumptions
    B.append(_H(2, "Assumption audit", "audit"))
    audit = s.get("audit") or {}
    if audit:
        B.append(_Table(("check", "value"), tuple(
            (_Code(k), _audit_value(v)) for k, v in audit.items())))
    pp = data.get("perturbed_pairs")
    if pp:
        B.append(_P(f"Pairs perturbed to break parallelism: {len(pp)}."))
    arows = []
    for g in _groups_from_summary(runs, "assumption"):
        arows.append((str(g["label"]), *(_status_cell(v) for v in g["per"]),
                      _first_message(g["per"])))
    if arows:
        B.append(_Table(("assumption", *mcols, "note"), tuple(arows)))

    # ---------------------------------------------------------------- verdicts
    B.append(_H(2, "Verdicts", "verdicts"))
    B.append(_P("ratio = observed/bound for ≤ and bound/observed for ≥ (worst over the run; "
                 "> 1 means violated); slack = 1/ratio. A claim is vacuous when a hypothesis of "
                 "its lemma is not met — the table still shows what was observed."))
    for kind, title in (("condition", "Conditions on the configuration"),
                        ("claim", "Claims along the trajectory")):
        groups = _groups_from_summary(runs, kind)
        if not groups:
            continue
        B.append(_H(3, title, f"verdicts-{kind}"))
        rows = []
        for g in groups:
            cells: list[_Inline] = []
            for v in g["per"]:
                if v is None:
                    cells.append("—")
                    continue
                st = _status_cell(v)
                cells.append((st, f" ({_ratio_cell(v)})") if isinstance(st, str) else
                             (st, f" ({_ratio_cell(v)})"))
            rows.append((str(g["label"]), _Code(str(g["name"])), *cells))
        B.append(_Table(("statement", "name", *tuple(f"{c} (ratio)" for c in mcols)),
                        tuple(rows)))
    for r in runs:
        B.append(_H(3, f"Details, m = {r['m']}", f"details-m{r['m']}"))
        rows = []
        for v in r["verdicts"]:
            if v.get("kind") not in ("condition", "claim"):
                continue
            sense = {"le": "≤", "ge": "≥"}.get(str(v.get("sense")), str(v.get("sense") or ""))
            rows.append((
                str(v.get("label") or ""), _Code(str(v.get("name"))),
                _Code(f"{v.get('observable') or ''} {sense} bound"),
                _status_cell(v), fmt(_num(v.get("observed"))), fmt(_num(v.get("bound"))),
                _ratio_cell(v), fmt(_slack(v), 3),
                fmt(v.get("first_violation_step")), fmt(v.get("worst_step")),
                ", ".join(v.get("hypotheses_failed") or []) or "—",
            ))
        if rows:
            B.append(_Table(("statement", "name", "inequality", "status", "observed", "bound",
                             "ratio", "slack", "first violation", "worst step",
                             "hypotheses failed"), tuple(rows)))
        rates = r.get("rates") or {}
        if rates:
            B.append(_P(("Rates: ", *_rate_inline(rates))))

    # ---------------------------------------------------------------- figures
    B.append(_H(2, "Figures", "figures"))
    for name, cap in (s.get("figures") or FIGURES).items():
        B.append(_Fig(name, cap))

    # ---------------------------------------------------------------- known issues
    B.append(_H(2, "Known issues in the paper", "known-issues"))
    B.append(_P("The toolkit reports these points instead of silently choosing a reading "
                 "(theory digest A §9). Numbers are from this report's runs."))
    ki = s.get("known_issues") or {}
    paper = ki.get("paper") or []
    findings = ki.get("findings") or []
    record_ki = ki.get("record") or []
    for idx in range(1, 6):
        text = next((p for p in paper if p.startswith(f"{idx}.")), None)
        title = _ISSUE_TITLES.get(idx, f"Issue {idx}")
        B.append(_H(3, f"{idx}. {title}", f"issue-{idx}"))
        if text:
            B.append(_P(text.split(" ", 1)[1] if text[:2] == f"{idx}." else text, "quote"))
        for f in findings:
            if int(f.get("item", 0)) == idx:
                B.append(_P(str(f.get("text"))))
        if idx == 3:
            B.extend(_issue3_blocks(ki.get("init_norm") or [], ki.get("width_conditions") or []))
        if idx == 4:
            B.extend(_issue4_blocks(ki.get("width_conditions") or [], widths))
        if idx == 5:
            B.append(_P("This report's runs use σ'(0) = 0 for the activation patterns D and E "
                        "(PyTorch's convention)."))
    # unnumbered record items
    other = [x for x in record_ki if str(x.get("item")).rstrip(".") not in {"1", "2", "3", "4", "5"}]
    if other:
        B.append(_H(3, "Other", "issue-other"))
        B.append(_UL(tuple(f"m = {x['m']}: {x.get('item')}: {x.get('text', '')}" for x in other)))
    return B


_ISSUE_TITLES = {
    1: "Eq. 14: I_n versus the all-ones matrix 𝟙𝟙ᵀ",
    2: "Eq. 16: inverse versus transpose-inverse",
    3: "Lemma 3.5/3.6 (ii)/(iii) at initialisation: an upper bound on m",
    4: "Two width conditions; which one binds (and λ0 versus λ0²)",
    5: "σ'(0) is not specified",
}


def _issue3_blocks(rows: Sequence[Mapping[str, Any]],
                   width: Sequence[Mapping[str, Any]] = ()) -> list[Any]:
    if not rows:
        return [_P("The records contain no claims on ‖u‖ or ‖v‖.")]
    need = {w["m"]: w.get("binding_printed_width") for w in width}
    table = []
    conflicts = 0
    for r in rows:
        W = need.get(r["m"])
        L = r.get("m_limit")
        conflict = None if W is None or L is None else bool(L < W)
        conflicts += bool(conflict)
        table.append((str(r.get("label")), str(r["m"]), fmt(r.get("sqrt_m")), fmt(r.get("bound")),
                      fmt(L), _Strong("fails") if r.get("fails_at_init") else
                      ("holds" if r.get("fails_at_init") is False else "—"), fmt(W),
                      "—" if conflict is None else (_Strong("yes") if conflict else "no")))
    out = [
        _P("At k = 0, ‖u(0)‖ = ‖v(0)‖ = √m (Rademacher entries), so the claims hold at "
           "initialisation only if √m ≤ bound, i.e. m ≤ bound² (the bound depends on m only "
           "through c and ‖e0‖). The last columns compare this upper limit with the largest "
           "lower limit among the paper's own width conditions (issue 4; our derived explicit "
           "width left out):"),
        _Table(("claim", "m", "√m", "bound", "requires m ≤", "at k = 0", "width conditions need m ≥",
                "no width satisfies both"), tuple(table)),
    ]
    if conflicts:
        out.append(_P(f"In {conflicts} of {len(rows)} cases the claim's upper limit on m lies below "
                      "the binding lower limit: no width satisfies both."))
    return out


def _issue4_blocks(rows: Sequence[Mapping[str, Any]], widths: Sequence[int]) -> list[Any]:
    if not rows or not any(r["conditions"] for r in rows):
        return [_P("The records contain no width conditions.")]
    names: list[tuple[str, str]] = []
    for r in rows:
        for c in r["conditions"]:
            key = (str(c["name"]), str(c.get("label")))
            if key not in names:
                names.append(key)
    table = []
    for name, label in names:
        vals = []
        for r in rows:
            c = next((c for c in r["conditions"] if str(c["name"]) == name), None)
            vals.append("—" if c is None else fmt(c.get("required")))
        table.append((label, _Code(name), *vals))
    binding = [(r["m"], r.get("binding_label")) for r in rows]
    bl = _same(b for _, b in binding)
    txt = (f"The binding (largest) requirement is {bl} at every width." if bl else
           "Binding requirement per width: " + "; ".join(f"m = {m}: {b}" for m, b in binding) + ".")
    bp = _same(r.get("binding_printed_label") for r in rows)
    if bp and bp != bl:
        txt += f" Among the paper's own conditions (not our derived ones) {bp} binds."
    out = [
        _P("Required width m ≥ … for each condition (hidden constants as stated above):"),
        _Table(("condition", "name", *(f"m = {m}" for m in widths)), tuple(table)),
        _P(txt),
    ]
    r0 = rows[-1]
    req = {str(c["name"]): c.get("required") for c in r0["conditions"]}
    printed, squared = req.get("width_thm32"), req.get("width_lemma33")
    if printed and squared:
        out.append(_P(
            f"λ0 versus λ0²: Theorem 3.2 as printed, (n²/λ0)·log(n/δ), asks for m ≥ {fmt(printed)};"
            f" Lemma 3.3, on which it rests, needs (n²/λ0²)·log(n/δ), i.e. m ≥ {fmt(squared)} — "
            f"{_factor(squared / printed)} more (with the hidden constants equal), the factor "
            "1/λ0. Theorem 3.1 (gradient flow) prints λ0²."))
    return out


def _audit_value(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        if len(v) > 8:
            return f"{len(v)} items: " + ", ".join(str(x) for x in v[:8]) + ", …"
        return ", ".join(str(x) for x in v) if v else "none"
    return fmt(v) if not isinstance(v, str) else v


def _groups_from_summary(runs: Sequence[Mapping[str, Any]], kind: str) -> list[dict[str, Any]]:
    names: list[str] = []
    labels: dict[str, str] = {}
    for r in runs:
        for v in r["verdicts"]:
            if v.get("kind") == kind and str(v.get("name")) not in names:
                names.append(str(v.get("name")))
                labels[str(v.get("name"))] = str(v.get("label") or v.get("name"))
    out = []
    for nm in names:
        per = []
        for r in runs:
            per.append(next((v for v in r["verdicts"] if str(v.get("name")) == nm
                             and v.get("kind") == kind), None))
        out.append({"name": nm, "label": labels[nm], "per": per})
    return out


def _first_message(per: Sequence[Mapping[str, Any] | None]) -> str:
    for v in per:
        if v and v.get("message"):
            return str(v["message"])
    return ""


def _rate_inline(rates: Mapping[str, Any]) -> tuple[_Inline, ...]:
    parts: list[_Inline] = []
    for k, lab in (("observed_rate", "observed"), ("theory_rate", "theorem 1 − αλ0/2"),
                   ("path_rate", "path 1 − α·min λ_min(H)")):
        if k in rates:
            parts.append(f"{lab} = {fmt(_num(rates.get(k)), 8)}; ")
    if rates.get("fit_range") is not None:
        parts.append(f"fit over steps {rates.get('fit_range')}; ")
    if rates.get("tighter"):
        parts.append(f"tighter prediction: {rates.get('tighter')}.")
    return tuple(parts)


# ====================================================================== Markdown
def _md_escape(text: str, in_table: bool) -> str:
    text = text.replace("\\", "\\\\")
    for ch in "*_`[]<>":
        text = text.replace(ch, "\\" + ch)
    if in_table:
        text = text.replace("|", "\\|").replace("\n", " ")
    return text


def _md_code(text: str, in_table: bool) -> str:
    if in_table:
        text = text.replace("|", "\\|").replace("\n", " ")
    fence = "``" if "`" in text else "`"
    pad = " " if "`" in text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _md_inline(x: _Inline, in_table: bool = False) -> str:
    if isinstance(x, tuple):
        return "".join(_md_inline(y, in_table) for y in x)
    if isinstance(x, _Code):
        return _md_code(x.text, in_table)
    if isinstance(x, _Math):
        # LaTeX source in a code span; pipes become \vert / \Vert so tables stay intact
        src = x.latex.replace(r"\|", r"\Vert ").replace("|", r"\vert ") if in_table else x.latex
        return _md_code(src, in_table) if src else "—"
    if isinstance(x, _Strong):
        return f"**{_md_escape(x.text, in_table)}**"
    return _md_escape(str(x), in_table)


def render_markdown(summary: Mapping[str, Any], figure_dir: str = "figures") -> str:
    """The report as GitHub-flavoured Markdown; figures are linked as ``figure_dir/<name>``."""
    out: list[str] = []
    for b in _blocks(summary):
        if isinstance(b, _H):
            out.append("#" * b.level + " " + b.text)
        elif isinstance(b, _P):
            text = _md_inline(b.content)
            out.append("> " + text if b.cls == "quote" else (f"*{text}*" if b.cls == "meta" else text))
        elif isinstance(b, _UL):
            out.append("\n".join("- " + _md_inline(i) for i in b.items))
        elif isinstance(b, _Table):
            head = "| " + " | ".join(_md_inline(h, True) for h in b.header) + " |"
            sep = "|" + "|".join("---" for _ in b.header) + "|"
            body = ["| " + " | ".join(_md_inline(c, True) for c in row) + " |" for row in b.rows]
            out.append("\n".join([head, sep, *body]))
        elif isinstance(b, _Pre):
            out.append("```\n" + b.text + "\n```")
        elif isinstance(b, _Fig):
            out.append(f"![{_md_escape(b.name, False)}]({figure_dir}/{b.name})\n\n"
                       f"*{_md_escape(b.caption, False)}*")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


# ====================================================================== HTML
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1200px;margin:2em auto;
padding:0 1em;line-height:1.45;color:#1b1b1b}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;margin:.6em 0;font-size:.86em}
th,td{border:1px solid #ccc;padding:.25em .5em;vertical-align:top;text-align:left}
th{background:#f3f3f3}tr:nth-child(even) td{background:#fafafa}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
pre{background:#f5f5f5;padding:.6em;overflow-x:auto;white-space:pre-wrap}
.meta{color:#666}.quote{border-left:3px solid #ccc;padding-left:.8em;color:#444}
strong.bad{color:#b00020}.math img{vertical-align:middle;max-width:100%}
.math code{display:block;color:#555;font-size:.75em}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.9em;color:#444}
"""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _html_inline(x: _Inline, math_images: bool) -> str:
    if isinstance(x, tuple):
        return "".join(_html_inline(y, math_images) for y in x)
    if isinstance(x, _Code):
        return f"<code>{html.escape(x.text)}</code>"
    if isinstance(x, _Math):
        if not x.latex:
            return "—"
        src = html.escape(x.latex)
        png = latex_to_png(x.latex) if math_images else None
        if png is None:
            return f'<span class="math"><code>{src}</code></span>'
        return (f'<span class="math"><img alt="{src}" title="{src}" '
                f'src="data:image/png;base64,{_b64(png)}"><code>{src}</code></span>')
    if isinstance(x, _Strong):
        return f'<strong class="bad">{html.escape(x.text)}</strong>'
    return html.escape(str(x))


def render_html(summary: Mapping[str, Any], figures: Mapping[str, bytes],
                math_images: bool = True) -> str:
    """One self-contained HTML page: figures and formulas embedded as base64 PNG, inline CSS,
    no scripts and no external resources."""
    body: list[str] = []
    toc: list[str] = []
    for b in _blocks(summary):
        if isinstance(b, _H):
            anchor = html.escape(b.anchor or re.sub(r"\W+", "-", b.text.lower()))
            body.append(f'<h{b.level} id="{anchor}">{html.escape(b.text)}</h{b.level}>')
            if b.level == 2:
                toc.append(f'<a href="#{anchor}">{html.escape(b.text)}</a>')
        elif isinstance(b, _P):
            cls = f' class="{b.cls}"' if b.cls else ""
            body.append(f"<p{cls}>{_html_inline(b.content, math_images)}</p>")
        elif isinstance(b, _UL):
            items = "".join(f"<li>{_html_inline(i, math_images)}</li>" for i in b.items)
            body.append(f"<ul>{items}</ul>")
        elif isinstance(b, _Table):
            head = "".join(f"<th>{_html_inline(h, math_images)}</th>" for h in b.header)
            rows = "".join("<tr>" + "".join(f"<td>{_html_inline(c, math_images)}</td>" for c in r)
                           + "</tr>" for r in b.rows)
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif isinstance(b, _Pre):
            body.append(f"<pre>{html.escape(b.text)}</pre>")
        elif isinstance(b, _Fig):
            data = figures.get(b.name)
            if data:
                img = (f'<img alt="{html.escape(b.name)}" '
                       f'src="data:image/png;base64,{_b64(data)}">')
            else:
                img = f"<p>(figure {html.escape(b.name)} not rendered)</p>"
            body.append(f"<figure>{img}<figcaption>{html.escape(b.caption)}</figcaption></figure>")
    title = html.escape(str(summary.get("title", "Verification report")))
    nav = f'<nav class="meta">Sections: {" · ".join(toc)}</nav>' if toc else ""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{title}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            + nav + "\n" + "\n".join(body) + "\n</body>\n</html>\n")


# ====================================================================== JSON + all
def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (set, tuple)):
        return list(o)
    return str(o)


def _clean(o: Any) -> Any:
    """NaN/inf → None (strict JSON)."""
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if isinstance(o, np.floating):
        f = float(o)
        return f if math.isfinite(f) else None
    if isinstance(o, Mapping):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    if isinstance(o, np.ndarray):
        return _clean(o.tolist())
    return o


def render_json(summary: Mapping[str, Any]) -> str:
    """The summary as strict JSON (NaN and ∞ become ``null``)."""
    return json.dumps(_clean(summary), indent=1, ensure_ascii=False, default=_json_default,
                      allow_nan=False) + "\n"


def render_report(runs: Sequence[ReportRun], meta: ReportMeta | None = None, *,
                  formats: Iterable[str] = ("md", "html", "json"), dpi: int = 90,
                  figure_dir: str = "figures") -> dict[str, bytes]:
    """All requested formats: ``{relative path: bytes}`` (``report.md`` + ``figures/*.png``,
    ``report.html``, ``summary.json``).  Writes nothing."""
    formats = {f.strip().lower() for f in formats}
    unknown = formats - {"md", "html", "json"}
    if unknown:
        from bounds._errors import invalid

        raise invalid("formats", sorted(formats), f"unknown format(s) {sorted(unknown)}",
                      "use a subset of md, html, json")
    summary = build_summary(runs, meta)
    out: dict[str, bytes] = {}
    figs: dict[str, bytes] = {}
    if formats & {"md", "html"}:
        figs = render_figures(runs, dpi=dpi)
    if "md" in formats:
        out["report.md"] = render_markdown(summary, figure_dir).encode("utf-8")
        for name, data in figs.items():
            out[f"{figure_dir}/{name}"] = data
    if "html" in formats:
        out["report.html"] = render_html(summary, figs).encode("utf-8")
    if "json" in formats:
        out["summary.json"] = render_json(summary).encode("utf-8")
    return out
