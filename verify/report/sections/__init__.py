"""Report sections as data: :data:`SECTIONS` is the ordered list a report is made of.

Each :class:`~verify.report.blocks.Section` builds its part of the document from the summary
(format-agnostic blocks); a theorem's section may also add to the summary. Theorem-independent
sections are in :mod:`~verify.report.sections.core`, G22's in :mod:`~verify.report.sections.g22`;
a new section (width scaling, kernels, …) is one module plus one entry in :data:`SECTIONS`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from verify.report.blocks import Section
from verify.report.sections import core, g22, width_scaling

SECTIONS: tuple[Section, ...] = (*core.SECTIONS, width_scaling.WIDTH_SCALING, g22.KNOWN_ISSUES)


def document(summary: Mapping[str, Any], sections: Sequence[Section] = SECTIONS) -> list[Any]:
    """The report as one list of blocks: the sections' blocks in order."""
    return [b for sec in sections for b in sec.blocks(summary)]
