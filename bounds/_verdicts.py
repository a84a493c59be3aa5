"""The one verdict vocabulary: every surface (the library's ``Verdict``, ``run``'s table, the
report in markdown/HTML/JSON/LaTeX, the sweep tables) names an outcome with these words and
counts outcomes by these members.

A checked statement has a *status* (``holds``, ``violated``, ``vacuous``, ``inconclusive``, what
:mod:`verify.experiment.checks` computes) and, for a vacuous claim, an *observed status* (what the
trajectory showed although a hypothesis was not met).  :func:`classify` turns the two, plus the
event and construction notes a verdict carries, into one :class:`Outcome`:

=====================  ==========================================================================
member                 words (what the user reads)
=====================  ==========================================================================
``HOLDS``              ``holds (hypotheses met)``: the inequality held with every hypothesis met
``BY_CONSTRUCTION``    ``holds by construction``: it holds because of how a constant was chosen
                       (e.g. c measured from A(0), W(0)), so it says nothing about the theory
``VACUOUS_HOLDS``      ``vacuous — observed to hold``: a hypothesis is not met; it held anyway
``VACUOUS_FAILS``      ``vacuous — observed to fail``: a hypothesis is not met and it failed —
                       not a violation of the statement
``VIOLATED``           ``violated``: it failed with every hypothesis met
``EVENT_NOT_OCCURRED`` ``event did not occur``: a probabilistic event (e.g. G22 Lemma 3.3's
                       λ_min(H(0)) ≥ ¾λ0) was not realised by this draw
``EVENT_IMPOSSIBLE``   ``event impossible``: the event cannot occur here (structural reason)
``MET``                ``met``: a condition or assumption (a hypothesis) is satisfied
``NOT_MET``            ``not met``: a condition or assumption is not satisfied
``INCONCLUSIVE``       ``inconclusive (<reason>)``: not decidable (rounding level, hidden
                       constant, not measured, …)
=====================  ==========================================================================

Kept free of numpy/sympy/torch: it reads plain mappings (``record.json`` verdicts or
``Verdict.to_dict()``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any, NamedTuple

__all__ = ["Outcome", "Word", "classify", "words", "count", "HYPOTHESES_MET", "CLAIM_ORDER",
           "classify_verdict", "verdict_words"]


class Outcome(str, Enum):
    """One outcome of a checked statement; ``.value`` is its user-facing words."""

    HOLDS = "holds (hypotheses met)"
    BY_CONSTRUCTION = "holds by construction"
    VACUOUS_HOLDS = "vacuous — observed to hold"
    VACUOUS_FAILS = "vacuous — observed to fail"
    VIOLATED = "violated"
    EVENT_NOT_OCCURRED = "event did not occur"
    EVENT_IMPOSSIBLE = "event impossible"
    MET = "met"
    NOT_MET = "not met"
    INCONCLUSIVE = "inconclusive"

    def __str__(self) -> str:
        return self.value

    @property
    def observed_ok(self) -> bool | None:
        """Did the observation satisfy the inequality (whatever the hypotheses)?"""
        if self in (Outcome.HOLDS, Outcome.BY_CONSTRUCTION, Outcome.VACUOUS_HOLDS, Outcome.MET):
            return True
        if self in (Outcome.VIOLATED, Outcome.VACUOUS_FAILS, Outcome.NOT_MET,
                    Outcome.EVENT_NOT_OCCURRED, Outcome.EVENT_IMPOSSIBLE):
            return False
        return None


#: outcomes of a claim checked with every hypothesis met (the theorem speaks about the run).
HYPOTHESES_MET = (Outcome.HOLDS, Outcome.VIOLATED)

#: claim outcomes, worst first (the order of counts on every surface).
CLAIM_ORDER = (Outcome.VIOLATED, Outcome.VACUOUS_FAILS, Outcome.INCONCLUSIVE,
               Outcome.EVENT_NOT_OCCURRED, Outcome.EVENT_IMPOSSIBLE, Outcome.HOLDS,
               Outcome.BY_CONSTRUCTION, Outcome.VACUOUS_HOLDS)


class Word(NamedTuple):
    """An outcome with its reason: ``INCONCLUSIVE``'s (part of the words, e.g. ``inconclusive
    (hidden constant)``) or ``EVENT_IMPOSSIBLE``'s structural note (kept out of the words: it is a
    sentence, shown beside the verdict by the surfaces that have room)."""

    outcome: Outcome
    reason: str | None = None

    @property
    def text(self) -> str:
        if self.reason and self.outcome is Outcome.INCONCLUSIVE:
            return f"{self.outcome.value} ({self.reason})"
        return self.outcome.value

    def __str__(self) -> str:
        return self.text


def _num(x: Any) -> float | None:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f


def _observed(v: Mapping[str, Any], details: Mapping[str, Any]) -> bool | None:
    """Did the observed values satisfy the inequality (regardless of vacuity)?"""
    st = v.get("status")
    if st == "holds":
        return True
    if st == "violated":
        return False
    obs = details.get("observed_status")
    if obs in ("holds", "violated"):
        return obs == "holds"
    if st == "inconclusive" or obs == "inconclusive":
        return None
    r = _num(v.get("ratio"))
    if r is not None and not math.isnan(r):
        return r <= 1.0
    return None


def classify(v: Mapping[str, Any], *, by_construction: str | None = None) -> Word:
    """The :class:`Word` of one verdict (a ``record.json`` entry or ``Verdict.to_dict()``).

    ``by_construction``: why the statement holds by construction, when the caller knows it and
    the verdict's ``details["by_construction"]`` does not say."""
    if not isinstance(v, Mapping):
        from bounds._errors import invalid

        raise invalid("v", v, "expected one verdict as a mapping", "pass a record.json verdict or "
                      "Verdict.to_dict()")
    if by_construction is not None and not isinstance(by_construction, str):
        from bounds._errors import invalid

        raise invalid("by_construction", by_construction, "expected a reason (str) or None",
                      "pass by_construction='…' or leave it out")
    st = str(v.get("status") or "")
    d = v.get("details") or {}
    d = d if isinstance(d, Mapping) else {}
    kind = v.get("kind")
    ok = _observed(v, d)
    event = bool(d.get("event"))
    structural = d.get("structural")
    reason = d.get("inconclusive_reason")
    why = d.get("by_construction") or by_construction
    if event and ok is False and (st != "inconclusive" or reason == "event did not occur"):
        return Word(Outcome.EVENT_IMPOSSIBLE, str(structural)) if structural else \
            Word(Outcome.EVENT_NOT_OCCURRED)
    if kind in ("condition", "assumption"):
        if st == "holds":
            return Word(Outcome.MET)
        if st in ("violated", "vacuous"):
            return Word(Outcome.NOT_MET)
        return Word(Outcome.INCONCLUSIVE, str(reason) if reason else None)
    if st == "inconclusive":
        return Word(Outcome.INCONCLUSIVE, str(reason) if reason else _why_inconclusive(v, d))
    if ok is True and why:
        return Word(Outcome.BY_CONSTRUCTION)
    if st == "holds":
        return Word(Outcome.HOLDS)
    if st == "violated":
        return Word(Outcome.VIOLATED)
    if st == "vacuous":
        if ok is True:
            return Word(Outcome.VACUOUS_HOLDS)
        if ok is False:
            return Word(Outcome.VACUOUS_FAILS)
        return Word(Outcome.INCONCLUSIVE, "not measured; hypotheses not met")
    return Word(Outcome.INCONCLUSIVE, st or "no verdict")


def _why_inconclusive(v: Mapping[str, Any], d: Mapping[str, Any]) -> str:
    if v.get("observed") is None and not d.get("steps_checked"):
        return "not measured"
    return "within rounding error"


def words(v: Mapping[str, Any] | None, *, by_construction: str | None = None) -> str:
    """The user-facing words of one verdict (``—`` for a missing one)."""
    if v is None:
        return "—"
    return classify(v, by_construction=by_construction).text


def count(verdicts: Iterable[Mapping[str, Any]]) -> dict[Outcome, int]:
    """Number of verdicts per :class:`Outcome` (members with no verdict left out)."""
    out: dict[Outcome, int] = {}
    for v in verdicts:
        o = classify(v).outcome
        out[o] = out.get(o, 0) + 1
    return out


#: public names (``bounds.classify_verdict``, ``bounds.verdict_words``).
classify_verdict = classify
verdict_words = words
