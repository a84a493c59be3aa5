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


def _arr(run: ReportRun, name: str, size: int) -> np.ndarray:
    v = run.trace.get(name)
    if v is None:
        return np.full(size, np.nan)
    a = np.asarray(v, dtype=np.float64).ravel()[:size]
    return np.concatenate([a, np.full(size - a.size, np.nan)]) if a.size < size else a


def _norm_row(r: ReportRun) -> dict[str, Any] | None:
    """Certified bounds on the relative change |c(k) − c(0)|/c(0) of c(k) = γ̃‖A(k)‖₂.

    At every step: the recorded certified interval [lower, upper] (exact where
    ``contraction_exact`` = 1).  Where ‖A(k) − A(0)‖₂ was computed (``A_move``, an expensive
    observable): Weyl's |‖A(k)‖₂ − ‖A(0)‖₂| ≤ ‖A(k) − A(0)‖₂.  Each step takes the tighter."""
    raw = np.asarray(r.trace.get("contraction", []), dtype=np.float64).ravel()
    if raw.size == 0 or not np.isfinite(raw[0]):
        return None
    k = _arr(r, "step", raw.size)
    if k[0] != 0:
        return None
    c0 = float(raw[0])
    lo = _arr(r, "contraction_lower", raw.size)
    ex = _arr(r, "contraction_exact", raw.size) == 1.0
    lo = np.where(ex | ~np.isfinite(lo), raw, lo)
    band = np.maximum(raw - c0, c0 - lo) / c0
    gt = float(r.config.get("gamma", np.nan)) / np.sqrt(r.m) if r.m else np.nan
    weyl = gt * _arr(r, "A_move", raw.size) / c0
    per_step = np.where(np.isfinite(weyl), np.minimum(band, weyl), band)
    ok = np.isfinite(per_step)
    exact_dev = np.abs(raw[ex & np.isfinite(raw)] - c0) / c0
    return {"m": r.m, "initial": c0, "max": float(np.nanmax(raw)), "min": float(np.nanmin(lo)),
            "certified_change": float(np.max(per_step[ok])) if ok.any() else None,
            "steps": int(ok.sum()), "weyl_steps": int(np.isfinite(weyl).sum()),
            "band_change": float(np.nanmax(band)),
            "weyl_change": float(np.nanmax(weyl)) if np.isfinite(weyl).any() else None,
            "exact_change": float(exact_dev.max()) if exact_dev.size else None,
            "exact_evaluations": int(exact_dev.size),
            "final": float(raw[ok][-1]) if ok.any() else None}


def _norm_obs(runs: Sequence[ReportRun]) -> dict[str, Any]:
    claim = "The scaled operator norm (γ/√m)‖A(k)‖₂ stays almost at its initial value, below 1"
    rows = [row for row in (_norm_row(r) for r in runs) if row is not None]
    if not rows:
        return {"claim": claim, "status": "not evaluated", "rows": [],
                "sentence": f"{claim} (paper): not evaluated — not recorded."}
    paper_rel = (PAPER_NORM_RANGE[1] - PAPER_NORM_RANGE[0]) / PAPER_NORM_RANGE[0]
    below = all(row["max"] < 1.0 for row in rows)  # certified upper bounds at every step
    certified = all(row["certified_change"] is not None and row["certified_change"] <= paper_rel
                    for row in rows)
    exceeded = any(row["exact_change"] is not None and row["exact_change"] > paper_rel
                   for row in rows)
    if not below or exceeded:
        status = "does not hold on this run"
    elif certified:
        status = "holds on this run"
    else:
        status = "inconclusive (the certified bounds are wider than the paper's spread)"
    parts = "; ".join(
        f"m = {row['m']}: from {fmt(row['initial'], 5)} to {fmt(row['final'], 5)}, certified "
        f"within [{fmt(row['min'], 5)}, {fmt(row['max'], 5)}] at every step; relative change "
        f"certified ≤ {fmt(100 * row['certified_change'] if row['certified_change'] is not None else None, 3)} % "
        f"at every step (the tighter of that interval and Weyl's |‖A(k)‖₂ − ‖A(0)‖₂| ≤ "
        f"‖A(k) − A(0)‖₂ at the {row['weyl_steps']} steps where it was computed"
        + (f", where it gives ≤ {fmt(100 * row['weyl_change'], 3)} %"
           if row["weyl_change"] is not None else "") + ")"
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
        def pct(x: Any) -> str:
            return "—" if x is None else f"{100 * x:.3g} %"

        B.append(_Table(("m", "(γ/√m)‖A(0)‖₂", "final", "min (certified)", "max (certified)",
                         "change ≤ (certified, every step)", "change at exact evaluations"),
                        tuple((str(r["m"]), fmt(r["initial"], 6), fmt(r["final"], 6),
                               fmt(r["min"], 6), fmt(r["max"], 6), pct(r["certified_change"]),
                               f"{pct(r['exact_change'])} ({r['exact_evaluations']})")
                              for r in norm["rows"])))
    return B


OBSERVATIONS = Section("paper_observations", blocks, summarise, lines)
