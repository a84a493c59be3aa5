"""The summary: everything a report says, as one JSON-serialisable dict (:func:`build_summary`).

Generic parts come from :mod:`~verify.report.model` and :mod:`~verify.report.findings`;
theorem-specific parts from the sections that define ``summarise`` (:mod:`verify.report.sections`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from verify.report.blocks import Section
from verify.report.figures import FIGURES
from verify.report.findings import _claims_lines, _conditions_lines, _rate_line
from verify.report.model import (
    REPORT_SCHEMA,
    ReportMeta,
    ReportRun,
    _bounds_table,
    _mset,
    _num,
    _run_summary,
    _same,
    _short_label,
    _theorem_info,
    _widths,
    check_runs,
    fmt,
)
from verify.report.sections import SECTIONS


def build_summary(runs: Sequence[ReportRun], meta: ReportMeta | None = None, *,
                  sections: Sequence[Section] = SECTIONS) -> dict[str, Any]:
    """Everything the report says, as a JSON-serialisable dict (schema ``REPORT_SCHEMA``).

    The Markdown and HTML renderers work from this dict only, so the three formats agree.
    ``sections`` (default :data:`~verify.report.sections.SECTIONS`) contribute their parts.
    """
    meta = meta or ReportMeta()
    runs = sorted(check_runs(runs), key=lambda r: r.m)
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
    fragments: dict[str, Any] = {}
    for sec in sections:  # theorem-specific parts (e.g. G22's known issues)
        if sec.summarise is not None:
            part = sec.summarise(runs, meta)
            fragments.update(part)
            if sec.lines is not None:
                lines.extend(sec.lines(part, widths))
    viol_assump = [(r.m, v) for r in runs for v in r.verdicts("assumption")
                   if v.get("status") == "violated"]
    if viol_assump:
        by_a: dict[str, list[int]] = {}
        ev_a: dict[str, dict[str, list[int]]] = {}
        for m, v in viol_assump:
            det = v.get("details") or {}
            if det.get("event"):
                key = ("is impossible (" + str(det["structural"]).split(",")[0] + ")"
                       if det.get("structural") else "did not occur")
                ev_a.setdefault(_short_label(v), {}).setdefault(key, []).append(m)
            else:
                by_a.setdefault(_short_label(v), []).append(m)
        if by_a:
            lines.append("Assumptions not met: " + "; ".join(
                f"{a} at m ∈ {_mset(ms)}" for a, ms in by_a.items()) + ".")
        for a, ks in ev_a.items():
            lines.append(f"Hypothesis {a} not met: the event " + " and ".join(
                f"{k} at m ∈ {_mset(ms)}" for k, ms in ks.items()) + " (one draw per width; "
                "the lemma's probability is a statement about the frequency over seeds).")

    env = dict(first.get("environment") or {})
    hidden: dict[str, Any] = {}
    for r in runs:
        for k, v in (r.record.get("hidden_constants") or {}).items():
            hidden.setdefault(k, v)
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
        **fragments,
        "figures": {k: v for k, v in FIGURES.items()},
    }
