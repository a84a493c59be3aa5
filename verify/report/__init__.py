"""Reports: run records and traces → a summary, findings, figures and Markdown/HTML/JSON.

Owns everything presentational. It may import :mod:`verify.experiment`, :mod:`verify.model` and
:mod:`bounds`, never :mod:`verify.cli` or :mod:`verify.bench` (``tests/test_architecture.py``).
"""

from verify.report.render import (
    FIGURES,
    REPORT_SCHEMA,
    ReportMeta,
    ReportRun,
    build_summary,
    fmt,
    latex_to_png,
    render_figures,
    render_html,
    render_json,
    render_markdown,
    render_report,
)

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
]
