"""The theorem-independent report sections.  Reading order (issue 17; the order itself is
:data:`verify.report.sections.SECTIONS`): title → headline card → the summary sentences
(folded) → Figure 1 → verdict tables → the other figures → constants, audit (→ known issues) →
configuration, environment and per-width details (folded)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bounds._verdicts import Outcome
from verify.report.blocks import (
    _H,
    _P,
    _UL,
    Section,
    _Code,
    _Details,
    _Fig,
    _Inline,
    _Link,
    _Math,
    _Pre,
    _Strong,
    _Table,
)
from verify.report.figures import _MOVEMENT, FIGURE_ALT, FIGURE_HINTS, FIGURES
from verify.report.model import _num, _ratio_of, _slack, fmt, verdict_outcome, verdict_word


def frame(s: Mapping[str, Any]) -> tuple[list[Any], list[int], tuple[str, ...]]:
    """The runs, widths and per-width column headers ``m = …`` of a summary."""
    widths = s["widths"]
    return s["runs"], widths, tuple(f"m = {m}" for m in widths)

def _status_cell(v: Mapping[str, Any] | None) -> _Inline:
    if v is None:
        return "—"
    word = verdict_word(v)
    return _Strong(word) if verdict_outcome(v) is Outcome.VIOLATED else word


def _checked_cell(v: Mapping[str, Any]) -> str:
    d = v.get("details") or {}
    if not isinstance(d, Mapping) or d.get("steps_total") is None:
        return "—"
    return f"{d.get('steps_checked')}/{d.get('steps_total')}"


def _ratio_cell(v: Mapping[str, Any] | None) -> str:
    if v is None:
        return "—"
    return fmt(_ratio_of(v), 3)


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
    path = {"1 - alpha*lambda_min(K)": "path 1 − α·min λ_min(ZZᵀ + ΦΦᵀ) (eq. 43)",
            "exp(-2*alpha*lambda_min(H))": "path exp(−2α·min λ_min(H))"}.get(
        str(rates.get("path_formula")), "path 1 − α·min λ_min(H)")
    for k, lab in (("observed_rate", "observed (whole range)"),
                   ("observed_rate_tail", "observed (late-time)"),
                   ("theory_rate", "theorem 1 − αλ0/2"), ("path_rate", path)):
        if k in rates:
            parts.append(f"{lab} = {fmt(_num(rates.get(k)), 8)}; ")
    if rates.get("fit_range") is not None:
        parts.append(f"fit over steps {rates.get('fit_range')}; ")
    if rates.get("tighter"):
        parts.append(f"tighter prediction: {rates.get('tighter')}.")
    return tuple(parts)


def title_section(s: Mapping[str, Any]) -> list[Any]:
    """Title and generation line."""
    B: list[Any] = []
    B.append(_H(1, s["title"], "top"))
    gen = []
    if s.get("generated"):
        gen.append(f"Generated {s['generated']}")
    if s.get("wall_time_s") is not None:
        gen.append(f"command wall time {fmt(s['wall_time_s'], 3)} s")
    if gen:
        B.append(_P(" · ".join(gen), "meta"))
    return B


def summary_section(s: Mapping[str, Any]) -> list[Any]:
    """The summary sentences (folded under the headline card)."""
    return [_Details("Summary in full sentences", "summary", (_UL(tuple(s["summary"])),))]


def what_section(s: Mapping[str, Any]) -> list[Any]:
    """What was verified: theorem, data, configuration (folded); environment and runs follow
    in their own folded part."""
    B: list[Any] = []
    th = s["theorem"]
    runs = s["runs"]
    widths = s["widths"]
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
    E: list[Any] = []
    run_cmds = [(r["m"], (r.get("config") or {}), r) for r in runs]
    env = s.get("environment") or {}
    if env:
        E.append(_P("Environment:"))
        E.append(_Table(("component", "version / value"),
                        tuple((k, str(v)) for k, v in env.items())))
    E.append(_P("Runs:"))
    E.append(_Table(("m", "status", "steps", "wall time (s)", "seed", "run directory"),
                    tuple((str(m), str(r.get("status")), fmt(r.get("steps_done")),
                           fmt(r.get("wall_time_s"), 3), fmt(cfg.get("seed")),
                           _Code(r.get("run_dir") or "—")) for m, cfg, r in run_cmds)))
    cmds = [(r["m"], r.get("command")) for r in runs if r.get("command")]
    if cmds and any(c != s.get("command") for _, c in cmds):
        E.append(_P("The runs were made by:"))
        E.append(_Pre("\n".join(f"# m = {m}\n{c}" for m, c in cmds)))
    return [_Details("What was verified", "what", tuple(B)),
            _Details("Environment and runs", "environment", tuple(E))]


def constants_section(s: Mapping[str, Any]) -> list[Any]:
    """Hidden constants, symbols per width and the named bounds."""
    B: list[Any] = []
    runs, widths, mcols = frame(s)
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
    return B


def audit_section(s: Mapping[str, Any]) -> list[Any]:
    """The data audit and the assumption verdicts."""
    B: list[Any] = []
    data = s["data"]
    runs, widths, mcols = frame(s)
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
    return B


#: the figure that shows an observable (its anchor and link text); a condition on the
#: configuration (m, γ, α) links to the constants and bounds instead.
_FIGURE_OF: dict[str, tuple[str, str]] = {
    **{k: ("fig-movement", "movement") for k in _MOVEMENT},
    "contraction": ("fig-figure1", "Figure 1"),
    "loss": ("fig-figure1", "Figure 1"),
    "test_loss": ("fig-figure1", "Figure 1"),
    "lambda_min_G": ("fig-gram", "Gram eigenvalues"),
    "lambda_min_H": ("fig-gram", "Gram eigenvalues"),
    "lambda_min_K": ("fig-gram", "Gram eigenvalues"),
    "residual_sq": ("fig-rate", "rate"),
}


def _figure_link(per: Sequence[Mapping[str, Any] | None]) -> _Inline:
    obs = next((str(v.get("observable")) for v in per if v and v.get("observable")), "")
    if obs in _FIGURE_OF:
        anchor, text = _FIGURE_OF[obs]
        return _Link(text, anchor)
    if obs in ("m", "gamma", "alpha", "step"):
        return _Link("bounds", "constants")
    return "—"


def verdicts_section(s: Mapping[str, Any]) -> list[Any]:
    """Condition and claim verdicts per width; each row names its statement and links to the
    figure that shows it."""
    B: list[Any] = []
    runs, widths, mcols = frame(s)
    B.append(_H(2, "Verdicts", "verdicts"))
    B.append(_P("ratio = observed/bound for ≤ and bound/observed for ≥ (worst over the run; "
                 "> 1 means the inequality fails, on every surface); slack = 1/ratio. Words: "
                 "holds (hypotheses met); holds by construction (true by how a constant was "
                 "chosen, e.g. c measured from A(0), W(0)); vacuous — observed to hold / to fail "
                 "(a hypothesis of its lemma is not met — the table still shows what was "
                 "observed); met / not met (conditions and assumptions); event did not occur / "
                 "event impossible; inconclusive (reason). A claim is "
                 "violated only when the observation fails with every hypothesis met over the "
                 "whole stated range of the hidden constants; a failed observation whose "
                 "hypotheses depend on a hidden constant is inconclusive (hidden constant); a "
                 "probabilistic event that did not occur in one run is not a violation of its "
                 "lemma. \"first violation\" is the first among the checked steps (exactly "
                 "computed, or decided by a certificate such as ‖M‖_F/√rank ≤ ‖M‖₂ ≤ ‖M‖_F). Per-width "
                 "details (observed, bound, first violation, rates) are at the end."))
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
                cells.append((_status_cell(v), f" ({_ratio_cell(v)})"))
            rows.append((str(g["label"]), _Code(str(g["name"])), *cells, _figure_link(g["per"])))
        B.append(_Table(("statement", "name", *tuple(f"{c} (ratio)" for c in mcols), "shown in"),
                        tuple(rows)))
    return B


def details_section(s: Mapping[str, Any]) -> list[Any]:
    """Per-width verdict details and rates, one folded part per width."""
    out: list[Any] = []
    for r in s["runs"]:
        B: list[Any] = []
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
                _checked_cell(v), fmt(v.get("first_violation_step")), fmt(v.get("worst_step")),
                ", ".join(v.get("hypotheses_failed") or []) or "—",
            ))
        if rows:
            B.append(_Table(("statement", "name", "inequality", "status", "observed", "bound",
                             "ratio", "slack", "steps checked", "first violation (checked steps)",
                             "worst step",
                             "hypotheses failed"), tuple(rows)))
        rates = r.get("rates") or {}
        if rates:
            B.append(_P(("Rates: ", *_rate_inline(rates))))
        out.append(_Details(f"Details, m = {r['m']}", f"details-m{r['m']}", tuple(B)))
    return out


def _fig(name: str, caption: str) -> _Fig:
    stem = name.rsplit(".", 1)[0]
    return _Fig(name, caption, FIGURE_HINTS.get(name, ""), FIGURE_ALT.get(name, ""),
                f"fig-{stem}")


def figure1_section(s: Mapping[str, Any]) -> list[Any]:
    """The panels of the paper's Figure 1, right after the headline."""
    figs = s.get("figures") or FIGURES
    if "figure1.png" not in figs:
        return []
    return [_H(2, "Figure 1: loss and contraction", "figure1"),
            _fig("figure1.png", figs["figure1.png"])]


def figures_section(s: Mapping[str, Any]) -> list[Any]:
    """The other figures with their captions."""
    B: list[Any] = []
    B.append(_H(2, "Figures", "figures"))
    for name, cap in (s.get("figures") or FIGURES).items():
        if name != "figure1.png":
            B.append(_fig(name, cap))
    return B


TITLE = Section("title", title_section)
SUMMARY = Section("summary", summary_section)
FIGURE1 = Section("figure1", figure1_section)
VERDICTS = Section("verdicts", verdicts_section)
FIGURES_SECTION = Section("figures", figures_section)
CONSTANTS = Section("constants", constants_section)
AUDIT = Section("audit", audit_section)
WHAT = Section("what", what_section)
DETAILS = Section("details", details_section)

#: the theorem-independent sections in reading order (see :data:`verify.report.sections.SECTIONS`
#: for where the theorem's and the optional sections go).
SECTIONS: tuple[Section, ...] = (TITLE, SUMMARY, FIGURE1, VERDICTS, FIGURES_SECTION, CONSTANTS,
                                 AUDIT, WHAT, DETAILS)
