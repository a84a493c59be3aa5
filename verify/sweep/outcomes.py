"""Outcomes of a sweep cell as data: the success indicators that width thresholds are fitted to.

An :class:`Outcome` is one entry: a name, the statement it comes from (paper + lemma), the
sweep-table columns it reads, and an indicator mapping a table to a float Series with values
``1.0`` (success), ``0.0`` (failure) or ``NaN`` (undecidable: an ``error`` row, a missing value,
an ``inconclusive`` claim).  NaN cells are excluded from the fits and counted.  Adding an
outcome is one call to :func:`register_outcome` (or one entry in ``_BUILTIN``).

Columns the sweep table must carry (issue 13), by task kind:

``init``
    ``lam_min_G0`` (λ_min(G(0))), ``lambda0`` (λ0 = λ_min(G∞)), ``G0_dev_op`` (‖G(0) − G∞‖₂),
    ``lam_min_H0`` and ``lam_max_H0`` (extreme eigenvalues of H(0), both from ``eigvalsh`` on the
    symmetrised float64 matrix), ``lam_min_K0``, ``c_init``, ``lam_min_Hinf`` (λ_min(H∞) of
    :func:`bounds.deq_kernels`, derived in digest C; NaN in sweeps made before it existed).
``gd``
    ``reached`` (bool: target loss reached within the step budget), ``steps_to_target``,
    ``rate_late``, ``max_W_move``, ``max_H_dev_rel`` (= max_k ‖H(k) − H(0)‖₂ / λ_min(H(0))),
    ``min_lam_H``, and one ``claim_<name>`` string column per claim of ``g22_spec("gd")`` with
    the verdict's words in the one vocabulary (:class:`bounds.Outcome`: ``holds (hypotheses
    met)``, ``vacuous — observed to hold``, ``vacuous — observed to fail``, ``violated``, ``event
    did not occur``, ``inconclusive (…)``, …; sweeps written before it hold ``holds``,
    ``vacuous (holds)``, … and are read the same way).
both
    ``n``, ``m``, ``seed``, and optionally ``status`` (``done``/``error``): rows whose status is
    not ``done`` are undecidable for every outcome.

Rounding.  ``lam_min_H0 > 0`` is decided with the backward-error bound of ``eigvalsh``:
computed eigenvalues are within ``≲ n·eps·‖H‖₂`` of those of the stored matrix, so the NTK is
counted full-rank only when ``lam_min_H0 > NTK_RANK_FACTOR · n · eps · lam_max_H0``.  The bound
covers the eigensolver, not the rounding made while forming H (that is of the same order for
the inner products of a well-scaled Jacobian, but not bounded here).  The Lemma 3.3 and
``‖G(0) − G∞‖₂`` events compare numbers of size λ0; when the table carries ``lam_max_G0`` a cell
within ``n·eps·lam_max_G0`` of the boundary is undecidable, otherwise the comparison is bare.
``ntk_half_limit`` (``lam_min_H0 ≥ ½·lam_min_Hinf``) leaves cells within
``NTK_RANK_FACTOR·n·eps·lam_max_H0`` of the boundary undecided (the eigensolver); the limit's
own quadrature error (``bounds.deq_kernels``: ≤ its ``accuracy``, 1e-8 per entry by default,
recorded per n in ``sweep.json``) is not added to that band.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bounds import g22_spec
from bounds._errors import invalid
from bounds._verdicts import Outcome as VerdictOutcome

__all__ = [
    "Outcome",
    "OUTCOMES",
    "NTK_RANK_FACTOR",
    "register_outcome",
    "get_outcome",
    "outcome_indicator",
    "claim_status_indicator",
    "wellposed_outcome",
]

#: Safety factor on ``n·eps·‖H‖₂`` (LAPACK's eigenvalue error bound carries a modest constant).
NTK_RANK_FACTOR = 4.0
_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class Outcome:
    """One success indicator of a sweep cell.

    ``indicator(table)`` returns a float Series aligned with ``table`` (1 / 0 / NaN).  It is
    called only after the columns in ``columns`` were checked to exist; ``optional`` columns are
    used when present.
    """

    name: str
    source: str
    columns: tuple[str, ...]
    indicator: Callable[[pd.DataFrame], pd.Series] = field(repr=False)
    kind: str = "init"
    description: str = ""
    optional: tuple[str, ...] = ()


#: the registry of outcomes: name → :class:`Outcome` (:func:`register_outcome` adds to it)
OUTCOMES: dict[str, Outcome] = {}


def register_outcome(outcome: Outcome, *, replace: bool = False) -> Outcome:
    """Add ``outcome`` to :data:`OUTCOMES` (``replace=True`` to overwrite a name)."""
    if not isinstance(outcome, Outcome):
        raise invalid("outcome", outcome, "is not an Outcome", "build one with Outcome(...)")
    if outcome.name in OUTCOMES and not replace:
        raise invalid("outcome", outcome.name, "is already registered", "pass replace=True")
    OUTCOMES[outcome.name] = outcome
    return outcome


_WELLPOSED_RE = re.compile(r"^wellposed_at_([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)$")


def wellposed_outcome(level: float) -> Outcome:
    """``wellposed_at_<γ0>`` (``gamma`` sweeps): 1 when γ0 ≤ ``gamma_star`` (certified
    well-posed along the run at a γ ≥ γ0), 0 when γ0 ≥ ``gamma_star_hi`` (certified not at a
    γ ≤ γ0), NaN in between or when the bisection was undecided below γ0.  Reading γ* as the
    boundary assumes one crossing in γ (well-posed below, not above), as the bisection does;
    every bisection point is in the ``gamma_points`` column."""
    g = float(level)
    if not (0.0 < g < 1.0):
        raise invalid("level", level, "must lie in (0, 1)", "use e.g. wellposed_at_0.4")

    def ind(t: pd.DataFrame) -> pd.Series:
        lo, hi = _num(t, "gamma_star"), _num(t, "gamma_star_hi")
        out = np.where(g <= lo, 1.0, np.where(g >= hi, 0.0, np.nan))
        return pd.Series(out, index=t.index)

    return Outcome(f"wellposed_at_{g:g}", "GG22 claim (a): a fixed γ keeps the equilibrium "
                   "well-posed throughout training (digest B)", ("gamma_star", "gamma_star_hi"),
                   ind, kind="gamma",
                   description=f"certified γ/√m·‖A(k)‖₂ < 1 at every step at γ = {g:g}")


def get_outcome(name: str) -> Outcome:
    match = _WELLPOSED_RE.match(str(name))
    if name not in OUTCOMES and match:
        return wellposed_outcome(float(match.group(1)))
    if name not in OUTCOMES:
        raise invalid("outcome", name, "is not a registered outcome",
                      f"use one of {sorted(OUTCOMES)} or a boolean column of the table")
    return OUTCOMES[name]


def _num(table: pd.DataFrame, col: str) -> np.ndarray:
    return pd.to_numeric(table[col], errors="coerce").to_numpy(dtype=float)


def _decide(ok: np.ndarray, *inputs: np.ndarray, undecided: np.ndarray | None = None) -> np.ndarray:
    """1/0 from a boolean array; NaN where any input is NaN or ``undecided`` is set."""
    out = np.where(ok, 1.0, 0.0)
    bad = np.zeros(out.shape, dtype=bool)
    for a in inputs:
        bad |= ~np.isfinite(a)
    if undecided is not None:
        bad |= undecided
    out[bad] = np.nan
    return out


def _ge_event(table: pd.DataFrame, lhs: np.ndarray, rhs: np.ndarray, sense: str) -> pd.Series:
    n = _num(table, "n")
    band = np.zeros_like(lhs)
    if "lam_max_G0" in table.columns:
        band = n * _EPS * np.abs(_num(table, "lam_max_G0"))
        band[~np.isfinite(band)] = 0.0
    ok = lhs >= rhs if sense == "ge" else lhs <= rhs
    return pd.Series(_decide(ok, lhs, rhs, undecided=np.abs(lhs - rhs) <= band), index=table.index)


def _lemma33(t: pd.DataFrame) -> pd.Series:
    return _ge_event(t, _num(t, "lam_min_G0"), 0.75 * _num(t, "lambda0"), "ge")


def _g0_dev(t: pd.DataFrame) -> pd.Series:
    return _ge_event(t, _num(t, "G0_dev_op"), _num(t, "lambda0") / 4.0, "le")


def _ntk_full_rank(t: pd.DataFrame) -> pd.Series:
    lo, hi, n = _num(t, "lam_min_H0"), _num(t, "lam_max_H0"), _num(t, "n")
    err = NTK_RANK_FACTOR * n * _EPS * np.abs(hi)
    return pd.Series(_decide(lo > err, lo, hi), index=t.index)


def _ntk_half_limit(t: pd.DataFrame) -> pd.Series:
    # both sides come from eigvalsh of float64 matrices of size ~λ_max: a cell within
    # n·eps·λ_max(H(0)) of the boundary is undecidable (same band as ntk_full_rank).
    lo, lim, n = _num(t, "lam_min_H0"), 0.5 * _num(t, "lam_min_Hinf"), _num(t, "n")
    band = np.zeros_like(lo)
    if "lam_max_H0" in t.columns:
        band = NTK_RANK_FACTOR * n * _EPS * np.abs(_num(t, "lam_max_H0"))
        band[~np.isfinite(band)] = 0.0
    return pd.Series(_decide(lo >= lim, lo, lim, undecided=np.abs(lo - lim) <= band),
                     index=t.index)


def _bool_column(t: pd.DataFrame, col: str) -> np.ndarray:
    out = np.full(len(t), np.nan)
    for i, v in enumerate(t[col].tolist()):
        if isinstance(v, (bool, np.bool_)):
            out[i] = float(v)
        elif isinstance(v, str) and v.strip().lower() in ("true", "false"):
            out[i] = float(v.strip().lower() == "true")
        elif isinstance(v, (int, float, np.integer, np.floating)) and v in (0, 1):
            out[i] = float(v)
    return out


def _gd_reached(t: pd.DataFrame) -> pd.Series:
    return pd.Series(_bool_column(t, "reached"), index=t.index)


def _gd_linear(t: pd.DataFrame) -> pd.Series:
    v = _num(t, "gd_linear")
    return pd.Series(np.where(np.isin(v, (0.0, 1.0)), v, np.nan), index=t.index)


def _kernel_stays(t: pd.DataFrame) -> pd.Series:
    r = _num(t, "max_H_dev_rel")
    return pd.Series(_decide(r <= 0.5, r), index=t.index)


_STATUS_RE = re.compile(r"^\s*(holds|violated|inconclusive|vacuous)\s*(?:\(\s*(holds|violated|inconclusive)\s*\))?\s*$")
_STATUS_VALUE = {"holds": 1.0, "violated": 0.0, "inconclusive": np.nan}


def claim_status_indicator(status: object) -> float:
    """Was the inequality observed to hold?  1 for the :class:`bounds.Outcome` words that say so
    (``holds (hypotheses met)``, ``holds by construction``, ``vacuous — observed to hold``), 0 for
    those that say it failed (``violated``, ``vacuous — observed to fail``, ``event did not
    occur``, ``event impossible``), NaN for ``inconclusive (…)`` and missing values.  The older
    forms ``holds``, ``violated``, ``vacuous (X)`` (→ as X), bare ``vacuous`` (→ NaN) still read."""
    if not isinstance(status, str):
        return np.nan
    try:
        ok = VerdictOutcome(status.strip()).observed_ok
    except ValueError:
        ok = None
    else:
        return np.nan if ok is None else float(ok)
    if status.strip().startswith(VerdictOutcome.INCONCLUSIVE.value):
        return np.nan
    mt = _STATUS_RE.match(status.lower())
    if mt is None:
        return np.nan
    head, inner = mt.group(1), mt.group(2)
    if head == "vacuous":
        return np.nan if inner is None else _STATUS_VALUE[inner]
    return _STATUS_VALUE[head]


def _claim_outcome(name: str, label: str, description: str) -> Outcome:
    col = f"claim_{name}"

    def ind(t: pd.DataFrame) -> pd.Series:
        return pd.Series([claim_status_indicator(v) for v in t[col].tolist()], index=t.index,
                         dtype=float)

    return Outcome(col, f"{label} (observed along the GD run)", (col,), ind, kind="gd",
                   description=description)


_BUILTIN = [
    Outcome("lemma33_init", "G22 Lemma 3.3: λ_min(G(0)) ≥ ¾λ0 w.h.p.", ("lam_min_G0", "lambda0"),
            _lemma33, "init", "initial Gram matrix keeps ¾ of λ0", optional=("lam_max_G0",)),
    Outcome("G0_dev", "G22 Lemma 3.3 (proof): ‖G(0) − G∞‖₂ ≤ λ0/4", ("G0_dev_op", "lambda0"),
            _g0_dev, "init", "initial Gram matrix within λ0/4 of G∞ in operator norm",
            optional=("lam_max_G0",)),
    Outcome("ntk_full_rank", "G22 Lemma 3.1 + 3.3: λ_min(H(0)) > 0",
            ("lam_min_H0", "lam_max_H0", "n"), _ntk_full_rank, "init",
            "NTK at initialisation certified full rank: λ_min > 4·n·eps·λ_max"),
    Outcome("ntk_half_limit",
            "derived (digest C, this toolkit): λ_min(H(0)) ≥ ½λ_min(H∞), H∞ the infinite-width "
            "NTK of bounds.deq_kernels", ("lam_min_H0", "lam_min_Hinf", "n"), _ntk_half_limit,
            "init", "NTK at init ≥ ½ of its infinite-width limit (lazy-regime analogue of "
            "Lemma 3.3; provenance derived, not the paper's)", optional=("lam_max_H0",)),
    Outcome("gd_reached", "G22 Thm 3.2 / GG22: GD reaches the target loss within a fixed step "
            "budget (budget-dependent: not a rate test)",
            ("reached",), _gd_reached, "gd", "GD reached loss ≤ ε·loss(0) within the budget"),
    Outcome("gd_linear", "GG22 claim (b): GD converges at a linear rate (target within the "
            "rate-scaled budget, well-posed at every step, geometric envelope ρ < 1)",
            ("gd_linear",), _gd_linear, "gd",
            "sweeps with --budget rate; NaN (undecided) where the cap cut the budget short"),
    Outcome("kernel_stays", "G22 Lemma 3.4/3.6: max_k ‖H(k) − H(0)‖₂ ≤ ½λ_min(H(0))",
            ("max_H_dev_rel",), _kernel_stays, "gd", "NTK stays within half its λ_min of H(0)"),
]


def _register_builtins() -> None:
    for o in _BUILTIN:
        register_outcome(o)
    for cl in g22_spec("gd").claims:
        if "Lemma 3.6" in cl.label:
            register_outcome(_claim_outcome(cl.name, cl.label, cl.description))


_register_builtins()


def outcome_indicator(table: pd.DataFrame, outcome: str | Outcome,
                      registry: Mapping[str, Outcome] | None = None) -> pd.Series:
    """Float Series (1 success / 0 failure / NaN undecidable) of ``outcome`` over ``table``."""
    if not isinstance(table, pd.DataFrame):
        raise invalid("table", type(table).__name__, "is not a pandas DataFrame",
                      "pass the sweep table (e.g. SweepResult.table)")
    o = outcome if isinstance(outcome, Outcome) else (
        (registry or OUTCOMES)[outcome] if outcome in (registry or OUTCOMES) else get_outcome(outcome))
    missing = [c for c in o.columns if c not in table.columns]
    if missing:
        raise invalid("table", sorted(table.columns), f"lacks column(s) {missing} needed by outcome "
                      f"{o.name!r}", f"run a sweep of kind {o.kind!r} or add the columns")
    out = o.indicator(table).astype(float)
    if "status" in table.columns:
        out[table["status"].astype(str) != "done"] = np.nan
    return out.rename(o.name)
