"""HTML renderer: document blocks → one self-contained ``report.html`` (figures and formulas
embedded as base64 PNG)."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from verify.report.blocks import _H, _P, _UL, _Code, _Fig, _Inline, _Math, _Pre, _Strong, _Table
from verify.report.figures import latex_to_png
from verify.report.sections import document

if TYPE_CHECKING:
    from verify.report.blocks import Section

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
                math_images: bool = True, sections: Sequence[Section] | None = None) -> str:
    """One self-contained HTML page: figures and formulas embedded as base64 PNG, inline CSS,
    no scripts and no external resources."""
    body: list[str] = []
    toc: list[str] = []
    for b in (document(summary) if sections is None else document(summary, sections)):
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
