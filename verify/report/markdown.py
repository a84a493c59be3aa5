"""Markdown renderer: document blocks → ``report.md`` (figures referenced as files).

Same reading order as the HTML page; the headline card is a list, the folded parts
(``<details>`` in HTML) are plain sections here, internal links are ``[text](#anchor)`` with
an HTML anchor before each target (GitHub keeps ``<a id>``)."""

from __future__ import annotations

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
from verify.report.sections import document

if TYPE_CHECKING:
    from verify.report.blocks import Section


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
    if isinstance(x, (_Strong, _Lead)):
        return f"**{_md_escape(x.text, in_table)}**"
    if isinstance(x, _Link):
        return f"[{_md_escape(x.text, in_table)}](#{x.anchor})"
    return _md_escape(str(x), in_table)


def _md_blocks(blocks: Any, figure_dir: str, out: list[str]) -> None:
    for b in blocks:
        if isinstance(b, _H):
            if b.anchor:
                out.append(f'<a id="{b.anchor}"></a>\n')
            out.append("#" * b.level + " " + b.text)
        elif isinstance(b, _Card):
            out.append(f'<a id="{b.anchor}"></a>\n')
            out.append("## " + b.title)
            out.append("")
            out.append("\n".join("- " + _md_inline(i) for i in b.items))
        elif isinstance(b, _Details):
            out.append(f'<a id="{b.anchor}"></a>\n')
            out.append("## " + b.title)
            out.append("")
            _md_blocks(b.blocks, figure_dir, out)
            continue
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
            anchor = b.anchor or "fig-" + b.name.rsplit(".", 1)[0]
            alt = _md_escape(b.alt or b.hint or b.name, False)
            hint = f"**{_md_escape(b.hint, False)}** " if b.hint else ""
            out.append(f'<a id="{anchor}"></a>\n\n![{alt}]({figure_dir}/{b.name})\n\n'
                       f"*{hint}{_md_escape(b.caption, False)}*")
        out.append("")


def render_markdown(summary: Mapping[str, Any], figure_dir: str = "figures",
                    sections: Sequence[Section] | None = None) -> str:
    """The report as GitHub-flavoured Markdown; figures are linked as ``figure_dir/<name>``.
    ``sections``: the document's sections (default :data:`~verify.report.sections.SECTIONS`)."""
    out: list[str] = []
    _md_blocks(document(summary) if sections is None else document(summary, sections),
               figure_dir, out)
    return "\n".join(out).rstrip() + "\n"
