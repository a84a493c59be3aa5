"""A report made of sweeps alone: the width-scaling section with a short header.

:func:`render_scaling_report` takes analysed sweeps (:class:`verify.sweep.analysis.SweepAnalysis`,
computed by the caller) and returns ``{relative path: bytes}`` — ``report.md`` with
``figures/*.png``, a self-contained ``report.html``, ``summary.json`` — like
:func:`~verify.report.render.render_report`; it writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from verify.report.figures_scaling import render_scaling_figures
from verify.report.html import render_html
from verify.report.jsonout import render_json
from verify.report.markdown import render_markdown
from verify.report.model import REPORT_SCHEMA
from verify.report.sections.width_scaling import SCALING_ONLY, scaling_part, summary_lines

__all__ = ["render_scaling_report", "scaling_summary"]


def scaling_summary(analyses: Sequence[Any], *, command: str | None = None,
                    generated: str | None = None, notes: Sequence[str] = (),
                    wall: float | None = None, title: str | None = None) -> dict[str, Any]:
    """The JSON-ready summary of a sweeps-only report."""
    part = scaling_part(analyses)
    return {"schema": REPORT_SCHEMA,
            "title": title or "Width scaling: measured width thresholds against G22 and GG22",
            "generated": generated, "command": command, "wall_time_s": wall,
            "notes": list(notes), "summary": summary_lines(part), "width_scaling": part}


def render_scaling_report(analyses: Sequence[Any], *, command: str | None = None,
                          generated: str | None = None, notes: Sequence[str] = (),
                          wall: float | None = None, title: str | None = None,
                          formats: Iterable[str] = ("md", "html", "json"), dpi: int = 150,
                          figure_dir: str = "figures") -> dict[str, bytes]:
    summary = scaling_summary(analyses, command=command, generated=generated, notes=notes,
                              wall=wall, title=title)
    fm = set(formats)
    out: dict[str, bytes] = {}
    figs = render_scaling_figures(summary["width_scaling"], dpi=dpi) if fm & {"md", "html"} else {}
    if "md" in fm:
        out["report.md"] = render_markdown(summary, figure_dir, sections=SCALING_ONLY).encode()
        out.update({f"{figure_dir}/{k}": v for k, v in figs.items()})
    if "html" in fm:
        out["report.html"] = render_html(summary, figs, sections=SCALING_ONLY).encode()
    if "json" in fm:
        out["summary.json"] = render_json(summary).encode()
    return out
