"""The format-agnostic document model: inline pieces (:class:`_Code`, :class:`_Math`,
:class:`_Strong`), blocks (:class:`_H`, :class:`_P`, :class:`_UL`, :class:`_Table`, :class:`_Pre`,
:class:`_Fig`) and :class:`Section`. Renderers (:mod:`~verify.report.markdown`,
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


_Inline = Any  # str | _Code | _Math | _Strong | tuple of those


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
    name: str
    caption: str


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
