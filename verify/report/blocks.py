"""The format-agnostic document model: inline pieces (:class:`_Code`, :class:`_Math`,
:class:`_Strong`), blocks (:class:`_H`, :class:`_P`, :class:`_UL`, :class:`_Table`, :class:`_Pre`,
:class:`_Fig`, :class:`_Card`, :class:`_Details`) and :class:`Section`. Renderers (:mod:`~verify.report.markdown`,
:mod:`~verify.report.html`) turn a list of blocks into one format."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class _Code:
    text: str


@dataclass(frozen=True)
class _Math:
    latex: str


@dataclass(frozen=True)
class _Strong:
    text: str


@dataclass(frozen=True)
class _Lead:
    """A line's lead-in word (bold, neutral colour; :class:`_Strong` marks bad news)."""

    text: str


@dataclass(frozen=True)
class _Link:
    """An internal link: ``text`` pointing at the element with id ``anchor``."""

    text: str
    anchor: str


_Inline = Any  # str | _Code | _Math | _Strong | _Lead | _Link | tuple of those


@dataclass(frozen=True)
class _H:
    level: int
    text: str
    anchor: str = ""


@dataclass(frozen=True)
class _P:
    content: _Inline
    cls: str = ""


@dataclass(frozen=True)
class _UL:
    items: tuple[_Inline, ...]


@dataclass(frozen=True)
class _Table:
    header: tuple[_Inline, ...]
    rows: tuple[tuple[_Inline, ...], ...]


@dataclass(frozen=True)
class _Pre:
    text: str


@dataclass(frozen=True)
class _Fig:
    """A figure: ``hint`` is the one-line caption saying what to look for, ``caption`` the full
    description, ``alt`` the text alternative (defaults to the hint), ``anchor`` its id."""

    name: str
    caption: str
    hint: str = ""
    alt: str = ""
    anchor: str = ""


@dataclass(frozen=True)
class _Card:
    """The headline card: a titled list of short lines (each with its links)."""

    title: str
    anchor: str
    items: tuple[_Inline, ...]


@dataclass(frozen=True)
class _Details:
    """A folded part of the document: ``<details>`` in HTML, a plain heading plus its blocks
    (same order) in Markdown."""

    title: str
    anchor: str
    blocks: tuple[Any, ...]


@dataclass(frozen=True)
class Section:
    """One report section: ``blocks(summary)`` renders it (format-agnostic blocks); a theorem
    section may also contribute to the summary (``summarise(runs, meta)`` → a dict merged into
    it) and to the summary sentences (``lines(part, widths)``); ``figures(summary, dpi)`` →
    ``{file name: PNG bytes}`` adds the section's own figures (shown by its ``_Fig`` blocks)."""

    key: str
    blocks: Callable[[Mapping[str, Any]], list[Any]]
    summarise: Callable[[Sequence[Any], Any], dict[str, Any]] | None = None
    lines: Callable[[Mapping[str, Any], Sequence[int]], list[str]] | None = None
    figures: Callable[[Mapping[str, Any], int], dict[str, bytes]] | None = None
