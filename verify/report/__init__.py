"""Reports: run records and traces → a summary, findings, figures and Markdown/HTML/JSON.

Owns everything presentational: the input model (:mod:`~verify.report.model`), the summary
(:mod:`~verify.report.summary`, sentences in :mod:`~verify.report.findings`), figures
(:mod:`~verify.report.figures`), the format-agnostic document model
(:mod:`~verify.report.blocks`), the report as an ordered list of sections
(:mod:`~verify.report.sections`, G22's in :mod:`~verify.report.sections.g22`), one renderer
per format (:mod:`~verify.report.markdown`, :mod:`~verify.report.html`,
:mod:`~verify.report.jsonout`), :func:`~verify.report.render.render_report` composing them and
:func:`~verify.report.make.make_report` adding the G22 findings
(:mod:`~verify.report.sections.g22_findings`). It may import :mod:`verify.experiment`,
:mod:`verify.model` and :mod:`bounds`, never :mod:`verify.cli` or :mod:`verify.bench` (``tests/test_architecture.py``).
"""

from verify.report.figures import FIGURES, latex_to_png, render_figures
from verify.report.html import render_html
from verify.report.jsonout import render_json
from verify.report.make import make_report
from verify.report.markdown import render_markdown
from verify.report.model import REPORT_SCHEMA, ReportMeta, ReportRun, fmt
from verify.report.render import render_report
from verify.report.sections import SECTIONS, document
from verify.report.sections.g22_findings import compute_findings
from verify.report.summary import build_summary

__all__ = [
    "REPORT_SCHEMA",
    "FIGURES",
    "ReportRun",
    "ReportMeta",
    "build_summary",
    "fmt",
    "render_figures",
    "render_markdown",
    "render_html",
    "render_json",
    "render_report",
    "latex_to_png",
    "make_report",
    "compute_findings",
    "SECTIONS",
    "document",
]
