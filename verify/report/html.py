"""HTML renderer: document blocks → one self-contained ``report.html`` (figures and formulas
embedded as base64 PNG, inline CSS, no scripts, no external resources).

Layout (issue 17): a contents bar that stays at the top while scrolling (``position: sticky``,
CSS only), the headline card first, wide tables in their own horizontal scroller so the page
never scrolls sideways on a narrow screen, and the details folded under ``<details>`` (opened
by a click, no JavaScript; ``open_details=True`` renders them open, for printing)."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from verify.report.blocks import (
    _H,
    _P,
    _UL,
    _Card,
    _Code,
    _Details,
    _Fig,
    _Inline,
    _Lead,
    _Link,
    _Math,
    _Pre,
    _Strong,
    _Table,
)
from verify.report.figures import latex_to_png
from verify.report.sections import document

if TYPE_CHECKING:
    from verify.report.blocks import Section

_CSS = """
html{scroll-padding-top:3.2em}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1200px;
margin:0 auto;padding:0 1em 2em;line-height:1.45;color:#1b1b1b;background:#fff}
h1{font-size:1.5em;margin:.5em 0 .2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;
margin-top:1.6em;font-size:1.3em}
p,li,td,th,figcaption{overflow-wrap:anywhere}
nav.toc{position:sticky;top:0;z-index:2;background:#fff;border-bottom:1px solid #ccc;
padding:.35em 0;display:flex;gap:.9em;overflow-x:auto;white-space:nowrap;font-size:.88em}
@media (min-width:700px){nav.toc{flex-wrap:wrap;row-gap:.2em}}
nav.toc a{color:#0b4f8a;text-decoration:none}nav.toc a:hover{text-decoration:underline}
a{color:#0b4f8a}
.card{border:1px solid #b8c7d9;border-left:5px solid #0072B2;background:#f4f8fc;
padding:.5em 1em .6em;margin:.8em 0}
.card h2{border:0;margin:.1em 0 .3em;font-size:1.15em}
.card ul{margin:0;padding-left:1.1em}.card li{margin:.15em 0}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.6em 0;font-size:.86em}
th,td{border:1px solid #ccc;padding:.25em .5em;vertical-align:top;text-align:left}
th{background:#f3f3f3}tr:nth-child(even) td{background:#fafafa}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
pre{background:#f5f5f5;padding:.6em;overflow-x:auto;white-space:pre-wrap;overflow-wrap:anywhere}
.meta{color:#555}.quote{border-left:3px solid #ccc;padding-left:.8em;color:#444}
strong.bad{color:#b00020}strong.lead{color:#1b1b1b}
.math img{vertical-align:middle;max-width:100%}
.math code{display:block;color:#555;font-size:.75em}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.9em;color:#444}figcaption .hint{display:block;color:#1b1b1b;
font-weight:600;margin-bottom:.15em}
details{border:1px solid #ddd;border-radius:4px;margin:.8em 0;padding:0 .8em}
details>summary{cursor:pointer;padding:.4em 0}
details>summary h2{display:inline;border:0;margin:0;font-size:1.15em}
details[open]>summary{border-bottom:1px solid #eee;margin-bottom:.4em}
@media print{nav.toc{position:static}details{border:0;padding:0}}
"""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _anchor(text: str, anchor: str = "") -> str:
    return anchor or re.sub(r"\W+", "-", text.lower()).strip("-")


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
    if isinstance(x, _Lead):
        return f'<strong class="lead">{html.escape(x.text)}</strong>'
    if isinstance(x, _Link):
        return f'<a href="#{html.escape(x.anchor)}">{html.escape(x.text)}</a>'
    return html.escape(str(x))


def _blocks_html(blocks: Any, figures: Mapping[str, bytes], math_images: bool,
                 open_details: bool, toc: list[str]) -> list[str]:
    body: list[str] = []
    for b in blocks:
        if isinstance(b, _H):
            anchor = html.escape(_anchor(b.text, b.anchor))
            body.append(f'<h{b.level} id="{anchor}">{html.escape(b.text)}</h{b.level}>')
            if b.level == 2:
                toc.append(f'<a href="#{anchor}">{html.escape(b.text)}</a>')
        elif isinstance(b, _Card):
            anchor = html.escape(_anchor(b.title, b.anchor))
            items = "".join(f"<li>{_html_inline(i, math_images)}</li>" for i in b.items)
            body.append(f'<section class="card" id="{anchor}" aria-labelledby="{anchor}-h">'
                        f'<h2 id="{anchor}-h">{html.escape(b.title)}</h2><ul>{items}</ul>'
                        "</section>")
            toc.append(f'<a href="#{anchor}">{html.escape(b.title)}</a>')
        elif isinstance(b, _Details):
            anchor = html.escape(_anchor(b.title, b.anchor))
            toc.append(f'<a href="#{anchor}">{html.escape(b.title)}</a>')
            inner = _blocks_html(b.blocks, figures, math_images, open_details, [])
            body.append(f'<details id="{anchor}"{" open" if open_details else ""}>'
                        f"<summary><h2>{html.escape(b.title)}</h2></summary>\n"
                        + "\n".join(inner) + "\n</details>")
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
            body.append(f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
                        f"<tbody>{rows}</tbody></table></div>")
        elif isinstance(b, _Pre):
            body.append(f"<pre>{html.escape(b.text)}</pre>")
        elif isinstance(b, _Fig):
            body.append(_figure_html(b, figures))
    return body


def _figure_html(b: _Fig, figures: Mapping[str, bytes]) -> str:
    data = figures.get(b.name)
    anchor = html.escape(b.anchor or "fig-" + _anchor(b.name.rsplit(".", 1)[0]))
    alt = html.escape(b.alt or b.hint or b.caption)
    if data:
        img = f'<img alt="{alt}" src="data:image/png;base64,{_b64(data)}">'
    else:
        img = f"<p>(figure {html.escape(b.name)} not rendered)</p>"
    hint = f'<span class="hint">{html.escape(b.hint)}</span>' if b.hint else ""
    return (f'<figure id="{anchor}">{img}<figcaption>{hint}{html.escape(b.caption)}'
            "</figcaption></figure>")


def render_html(summary: Mapping[str, Any], figures: Mapping[str, bytes],
                math_images: bool = True, *, open_details: bool = False,
                sections: Sequence[Section] | None = None) -> str:
    """One self-contained HTML page: figures and formulas embedded as base64 PNG, inline CSS,
    no scripts and no external resources.  ``open_details``: render the folded parts open
    (for printing to PDF).  ``sections``: the document's sections (default
    :data:`~verify.report.sections.SECTIONS`)."""
    toc: list[str] = []
    doc = document(summary) if sections is None else document(summary, sections)
    body = _blocks_html(doc, figures, math_images, open_details, toc)
    title = html.escape(str(summary.get("title", "Verification report")))
    nav = (f'<nav class="toc" aria-label="Contents">{"".join(toc)}</nav>') if toc else ""
    # the title and its generation line stay above the contents bar
    head_n = 0
    while head_n < len(body) and (body[head_n].startswith("<h1") or
                                  body[head_n].startswith('<p class="meta"')):
        head_n += 1
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{title}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            + "\n".join(body[:head_n]) + "\n" + nav + "\n<main>\n" + "\n".join(body[head_n:])
            + "\n</main>\n</body>\n</html>\n")
