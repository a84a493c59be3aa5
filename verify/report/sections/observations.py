"""The paper's own reported observations (G22 Section 4, digest A §8), each evaluated on the
report's runs as a sentence with its numbers.

G22 reports, for Figure 1: (1) larger m converges faster, (2) larger m tests better, (3) the
scaled operator norm (γ/√m)‖A(k)‖₂ stays almost at its initial value (its axis spans
≈ 0.198–0.1992 on every data set), well below 1.  These are observations about one training
run per width, not theorems; the report evaluates them on its own runs (one initialisation
seed per width, so an ordering across widths is a statement about this draw) and says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from verify.report.blocks import _H, _P, _UL, Section, _Table
from verify.report.model import ReportRun, fmt

__all__ = ["OBSERVATIONS", "evaluate_observations"]

#: the paper's axis range of the scaled operator norm in Figure 1 (digest A §8): its relative
#: spread (0.1992 − 0.198)/0.198 ≈ 0.6 % is what "almost at its initial value" means there.
PAPER_NORM_RANGE = (0.198, 0.1992)


def _last_common(runs: Sequence[ReportRun], name: str) -> tuple[float | None, list[float]]:
    """The last step recorded by every run for ``name`` and each run's value there."""
    series = [r.series(name) for r in runs]
    if any(y.size == 0 for _, y in series):
        return None, []
    common = set(series[0][0].tolist())
    for x, _ in series[1:]:
        common &= set(x.tolist())
    if not common:
        return None, []
    k = max(common)
    return k, [float(y[np.flatnonzero(x == k)[0]]) for x, y in series]


def _ordered_fraction(runs: Sequence[ReportRun], name: str) -> float | None:
    """Fraction of the steps recorded by every run at which ``name`` strictly decreases with m."""
    series = [r.series(name) for r in runs]
    if any(y.size == 0 for _, y in series):
        return None
    common = set(series[0][0].tolist())
    for x, _ in series[1:]:
        common &= set(x.tolist())
    ks = sorted(k for k in common if k > 0)
    if not ks:
        return None
    good = 0
    for k in ks:
        vals = [float(y[np.flatnonzero(x == k)[0]]) for x, y in series]
        good += all(a > b for a, b in zip(vals, vals[1:], strict=False))
    return good / len(ks)


def _loss_obs(runs: Sequence[ReportRun], name: str, what: str, claim: str) -> dict[str, Any]:
    widths = [r.m for r in runs]
    k, vals = _last_common(runs, name)
    if k is None:
        why = ("the runs have no test set" if name == "test_loss" else
               f"{what} was not recorded at a common step")
        return {"claim": claim, "status": "not evaluated", "widths": widths, "values": [],
                "step": None, "ordered_fraction": None,
                "sentence": f"{claim} (paper): not evaluated — {why}."}
    holds = all(a > b for a, b in zip(vals, vals[1:], strict=False))
    frac = _ordered_fraction(runs, name)
    listed = ", ".join(f"{fmt(v, 4)} (m = {m})" for v, m in zip(vals, widths, strict=True))
    status = "holds on this run" if holds else "does not hold on this run"
    frac_txt = ("" if frac is None else
                f"; {what} decreases with m at {100 * frac:.0f} % of the recorded steps")
    return {"claim": claim, "status": status, "widths": widths, "values": vals, "step": k,
            "ordered_fraction": frac,
            "sentence": f"{claim} (paper): {status} — at step {int(k)} the {what} is {listed}"
                        f"{frac_txt} (one initialisation seed per width)."}


def _norm_obs(runs: Sequence[ReportRun]) -> dict[str, Any]:
    claim = "The scaled operator norm (γ/√m)‖A(k)‖₂ stays almost at its initial value, below 1"
    rows: list[dict[str, Any]] = []
    for r in runs:
        x, up = r.series("contraction")
        if up.size == 0:
            continue
        c0 = float(up[0]) if x[0] == 0 else None
        ex_raw = r.trace.get("contraction_exact")
        raw = np.asarray(r.trace["contraction"], dtype=np.float64).ravel()
        if ex_raw is not None:  # exact evaluations (SVD); between them a certified interval
            ex = np.asarray(ex_raw, dtype=np.float64).ravel()[:raw.size] == 1.0
            exact = raw[:ex.size][ex & np.isfinite(raw[:ex.size])]
        else:
            exact = up
        lo = r.trace.get("contraction_lower")
        lo_arr = np.asarray(lo, dtype=np.float64).ravel() if lo is not None else up
        lo_arr = lo_arr[np.isfinite(lo_arr)]
        cmax = float(np.max(up))
        cmin = float(np.min(lo_arr)) if lo_arr.size else float(np.min(up))
        spread = (float(np.max(np.abs(exact - c0))) / c0) if c0 and exact.size else None
        rows.append({"m": r.m, "initial": c0, "max": cmax, "min": cmin, "rel_change": spread,
                     "exact_evaluations": int(exact.size)})
    if not rows:
        return {"claim": claim, "status": "not evaluated", "rows": [],
                "sentence": f"{claim} (paper): not evaluated — not recorded."}
    below = all(row["max"] < 1.0 for row in rows)
    paper_rel = (PAPER_NORM_RANGE[1] - PAPER_NORM_RANGE[0]) / PAPER_NORM_RANGE[0]
    small = all(row["rel_change"] is not None and row["rel_change"] <= paper_rel for row in rows)
    status = "holds on this run" if below and small else "does not hold on this run"
    parts = "; ".join(
        f"m = {row['m']}: from {fmt(row['initial'], 5)}, within [{fmt(row['min'], 5)}, "
        f"{fmt(row['max'], 5)}] (certified bounds at every step), largest relative change "
        f"{fmt(100 * row['rel_change'] if row['rel_change'] is not None else None, 3)} % over "
        f"its {row['exact_evaluations']} exact evaluations"
        for row in rows)
    tail = (f"; the paper's axis spans {PAPER_NORM_RANGE[0]}–{PAPER_NORM_RANGE[1]}, a relative "
            f"spread of {100 * paper_rel:.2g} %, taken here as the meaning of 'almost'")
    return {"claim": claim, "status": status, "rows": rows, "paper_rel_change": paper_rel,
            "below_one": below, "sentence": f"{claim} (paper): {status} — {parts}{tail}."}


def evaluate_observations(runs: Sequence[ReportRun]) -> dict[str, Any] | None:
    """The paper's three Figure 1 observations on ``runs`` (sorted by width); ``None`` for
    fewer than two widths (the observations compare widths)."""
    runs = sorted(runs, key=lambda r: r.m)
    if len({r.m for r in runs}) < 2:
        return None
    obs = [_loss_obs(runs, "loss", "training loss", "Larger m converges faster"),
           _loss_obs(runs, "test_loss", "test loss", "Larger m tests better"),
           _norm_obs(runs)]
    return {"source": "G22 Section 4, Figure 1 (digest A §8)", "items": obs}


def summarise(runs: Sequence[ReportRun], meta: Any) -> dict[str, Any]:
    ev = evaluate_observations(runs)
    return {} if ev is None else {"paper_observations": ev}


def lines(part: Mapping[str, Any], widths: Sequence[int]) -> list[str]:
    ev = part.get("paper_observations")
    return [] if not ev else [str(o["sentence"]) for o in ev["items"]]


def blocks(s: Mapping[str, Any]) -> list[Any]:
    ev = s.get("paper_observations")
    if not ev:
        return []
    B: list[Any] = [_H(2, "The paper's observations on this run", "paper_observations")]
    B.append(_P(f"{ev['source']} reports three observations about its Figure 1. Each is "
                "evaluated here on this report's runs — one initialisation seed per width, so an "
                "ordering across widths describes this draw, not a probability."))
    B.append(_UL(tuple(str(o["sentence"]) for o in ev["items"])))
    norm = ev["items"][2]
    if norm.get("rows"):
        B.append(_Table(("m", "(γ/√m)‖A(0)‖₂", "min (certified lower)",
                         "max (certified upper)", "relative change (exact evaluations)"),
                        tuple((str(r["m"]), fmt(r["initial"], 6), fmt(r["min"], 6),
                               fmt(r["max"], 6), "—" if r["rel_change"] is None
                               else f"{100 * r['rel_change']:.3g} %") for r in norm["rows"])))
    return B


OBSERVATIONS = Section("paper_observations", blocks, summarise, lines)
