r"""Verification reports: run records and traces → Markdown, HTML, a JSON summary and figures.

Pure rendering: nothing here reads or writes files. :func:`render_report` composes the
package's pieces (summary, sections, figures, one renderer per format).  The input is one :class:`ReportRun` per
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
    summary.json         machine-readable summary (schema "implicit-verify/report/1"; its
                         "headline" key holds the headline card's lines as text)
    report.pdf           only when asked for: the HTML page (folded parts open) printed by a
                         headless Chromium (:mod:`verify.report.pdf`)
    figures/*.png        the figures of report.md

Formulas: the LaTeX of each bound (``record["bounds"][i]["latex"]``) is shown as source in a
code span in Markdown, and in HTML as an image rendered offline with matplotlib's *mathtext*
(next to the source); a formula mathtext cannot parse is shown as source only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from verify.report.figures import render_figures
from verify.report.figures_scaling import render_scaling_figures
from verify.report.html import render_html
from verify.report.jsonout import render_json
from verify.report.markdown import render_markdown
from verify.report.model import ReportMeta, ReportRun, check_render_options, check_runs
from verify.report.sections import SECTIONS
from verify.report.sections.headline import headline_text
from verify.report.summary import build_summary


def render_report(runs: Sequence[ReportRun], meta: ReportMeta | None = None, *,
                  formats: Iterable[str] = ("md", "html", "json"), dpi: int = 150,
                  figure_dir: str = "figures") -> dict[str, bytes]:
    """All requested formats: ``{relative path: bytes}`` (``report.md`` + ``figures/*.png``,
    ``report.html``, ``summary.json``, ``report.pdf``).  Writes nothing to the report's place
    (``pdf`` prints through a headless Chromium in a temporary directory)."""
    formats = check_render_options(formats, dpi)
    runs = check_runs(runs)
    summary = build_summary(runs, meta)
    summary["headline"] = headline_text(summary)
    out: dict[str, bytes] = {}
    figs: dict[str, bytes] = {}
    if formats & {"md", "html", "pdf"}:
        figs = render_figures(runs, dpi=dpi)
        for sec in SECTIONS:  # sections' own figures (e.g. the kernels section)
            if sec.figures is not None:
                figs.update(sec.figures(summary, dpi))
        figs.update(render_scaling_figures(summary.get("width_scaling"), dpi=dpi))
    if "md" in formats:
        out["report.md"] = render_markdown(summary, figure_dir).encode("utf-8")
        for name, data in figs.items():
            out[f"{figure_dir}/{name}"] = data
    if "html" in formats:
        out["report.html"] = render_html(summary, figs).encode("utf-8")
    if "pdf" in formats:
        from verify.report.pdf import print_pdf

        out["report.pdf"] = print_pdf(render_html(summary, figs, open_details=True).encode("utf-8"))
    if "json" in formats:
        out["summary.json"] = render_json(summary).encode("utf-8")
    return out
