"""Report sections as data: :data:`SECTIONS` is the list a report is made of.

Each :class:`~verify.report.blocks.Section` builds its part of the document from the summary
(format-agnostic blocks); a theorem's section may also add to the summary. Theorem-independent
sections are in :mod:`~verify.report.sections.core`, G22's in :mod:`~verify.report.sections.g22`;
a new section (width scaling, kernels, …) is one module plus one entry in :data:`SECTIONS`.

Reading order (issue 17): :func:`document` places the sections by :data:`READING_ORDER`
whatever their order in :data:`SECTIONS`: title → headline card → summary sentences (folded) →
Figure 1 → verdict tables → the other figures and the figure-bearing sections (kernels, width
scaling, and any section not listed) → constants, audit, known issues → configuration,
environment and per-width details (folded).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from verify.report.blocks import Section
from verify.report.sections import core, g22, headline, kernels, observations, width_scaling

#: every section of a report, each placed by its key in :data:`READING_ORDER`
SECTIONS: tuple[Section, ...] = (*core.SECTIONS, headline.HEADLINE, g22.KNOWN_ISSUES,
                                 kernels.KERNELS, width_scaling.WIDTH_SCALING,
                                 observations.OBSERVATIONS)

#: section key → place in the document; a key not listed goes where ``None`` stands.
READING_ORDER: tuple[str | None, ...] = (
    "title", "headline", "summary", "figure1", "paper_observations", "verdicts", "figures", "kernels",
    "width_scaling", None, "constants", "audit", "known_issues", "what", "details")


def reading_order(sections: Sequence[Section]) -> list[Section]:
    """``sections`` sorted by :data:`READING_ORDER` (stable: unlisted ones keep their order)."""
    other = READING_ORDER.index(None)

    def rank(sec: Section) -> int:
        return READING_ORDER.index(sec.key) if sec.key in READING_ORDER else other

    return sorted(sections, key=rank)


def document(summary: Mapping[str, Any], sections: Sequence[Section] = SECTIONS) -> list[Any]:
    """The report as one list of blocks: the sections' blocks in reading order."""
    return [b for sec in reading_order(sections) for b in sec.blocks(summary)]
