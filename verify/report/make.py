"""Assemble a report from runs: the generic summary and renderers plus the theorem's parts."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from typing import Any

from verify.report.model import ReportMeta, check_render_options, check_runs
from verify.report.render import render_report
from verify.report.sections.g22_findings import findings_meta, notes, paper_setup
from verify.report.summary import build_summary

__all__ = ["make_report"]


def make_report(runs: Sequence[Any], *, command: str, findings: Sequence[Mapping[str, Any]] = (),
                wall: float | None = None, made_here: bool = True, formats: Sequence[str] = (
                    "md", "html", "json"), dpi: int = 150,
                kernels: Mapping[str, Any] | None = None, sweeps: Sequence[Any] = (),
                extra_notes: Sequence[str] = ()) -> tuple[dict[str, bytes], dict[str, Any]]:
    """Render ``runs`` (:class:`~verify.report.render.ReportRun`): ``({relative path: bytes}, summary)``.
    ``kernels``: :func:`verify.report.sections.kernels.compute_kernels` of the runs' data;
    ``sweeps``: analysed sweeps (``verify.sweep.analysis.SweepAnalysis``) → width-scaling section;
    ``extra_notes``: paragraphs added after the generated notes (e.g. settings the paper does
    not state and how the command chose them)."""
    runs = check_runs(runs)
    check_render_options(formats, dpi)
    meta = ReportMeta(
        command=command,
        generated=_dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        notes=(*notes(runs, made_here, wall), *extra_notes),
        wall_time_s=wall,
        findings=findings_meta(findings),
        paper_setup=paper_setup(runs),
        kernels=kernels,
        sweeps=tuple(sweeps),
    )
    return render_report(runs, meta, formats=formats, dpi=dpi), build_summary(runs, meta)
