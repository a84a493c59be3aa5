"""γ* of a ``gamma`` sweep summarised per (n, m) over seeds, and the words for GG22's claim (a).

GG22 (digest B) claims that a small enough **fixed** γ keeps the equilibrium well-posed
throughout training.  On a grid of (n, m, seed) cells, :func:`summarise_gamma` gives per (n, m)
the seeds' γ* (the largest γ certified well-posed along the cell's GD run, see
:mod:`verify.experiment.wellposed`) with a t-interval for its mean over seeds, its minimum, the
necessary value at initialisation ``γ_init = √m/‖A(0)‖₂``, G22's sufficient ``min(½, 1/(4c))``
and the fraction of the initial margin that training used up, ``1 − γ*/γ_init``.
:func:`gamma_words` says whether one γ serves every cell of the grid: the smallest γ* over all
cells (every cell certified, none undecided) is such a γ **on this grid**; the words never
extrapolate beyond it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["summarise_gamma", "gamma_words", "format_gamma_table"]


def _tci(x: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """t-interval for the mean of ``x`` (NaN for fewer than two values)."""
    from scipy import stats

    x = x[np.isfinite(x)]
    if x.size < 2:
        return math.nan, math.nan
    h = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return float(x.mean()) - h, float(x.mean()) + h


def summarise_gamma(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (n, m): ``seeds``, ``gamma_star_mean``, ``gamma_star_lo``/``_hi`` (95 %
    t-interval over seeds), ``gamma_star_min``, ``gamma_init_mean``, ``gamma_init_min``,
    ``gamma_g22_mean``, ``margin_used_median``, ``margin_resolved`` (cells where a run certified
    "not well-posed" below γ_init, so the margin used is resolved), ``undecided`` (cells whose bisection stopped at
    an undecided point), ``errors`` (rows not done)."""
    rows = []
    done = table["status"].astype(str) == "done" if "status" in table.columns else \
        pd.Series(True, index=table.index)
    for (n, m), g in table.groupby(["n", "m"], sort=True):
        ok = g[done.loc[g.index]]
        gs = pd.to_numeric(ok["gamma_star"], errors="coerce").to_numpy(dtype=float)
        lo, hi = _tci(gs)
        und = ok["gamma_undecided"].astype(bool).to_numpy() if len(ok) else np.zeros(0, bool)
        # training moved the boundary below γ_init only where a run certified "not well-posed"
        # below γ_init; otherwise the margin used is below the bisection's resolution
        hi_g = pd.to_numeric(ok["gamma_star_hi"], errors="coerce").to_numpy(dtype=float)
        gi = pd.to_numeric(ok["gamma_init"], errors="coerce").to_numpy(dtype=float)
        resolved = int(np.sum(hi_g < gi * (1 - 1e-12)))
        rows.append({
            "n": int(n), "m": int(m), "seeds": int(len(ok)),
            "gamma_star_mean": float(np.nanmean(gs)) if np.isfinite(gs).any() else math.nan,
            "gamma_star_lo": lo, "gamma_star_hi": hi,
            "gamma_star_min": float(np.nanmin(gs)) if np.isfinite(gs).any() else math.nan,
            "gamma_init_mean": float(pd.to_numeric(ok["gamma_init"]).mean()),
            "gamma_init_min": float(pd.to_numeric(ok["gamma_init"]).min()),
            "gamma_g22_mean": float(pd.to_numeric(ok["gamma_g22"]).mean()),
            "margin_used_median": float(pd.to_numeric(ok["margin_used"]).median()),
            "margin_resolved": resolved,
            "undecided": int(und.sum()), "errors": int(len(g) - len(ok))})
    return pd.DataFrame(rows)


def gamma_words(summary: pd.DataFrame) -> list[str]:
    """Sentences on GG22's claim (a) from :func:`summarise_gamma` (numbers included)."""
    if summary.empty:
        return ["No γ* was computed."]
    und = int(summary["undecided"].sum())
    err = int(summary["errors"].sum())
    gmin = float(summary["gamma_star_min"].min())
    worst = summary.loc[summary["gamma_star_min"].idxmin()]
    g22 = float(summary["gamma_g22_mean"].max())
    out = []
    if und or err or not math.isfinite(gmin):
        out.append(f"{und} cell(s) stopped at an undecided bisection point and {err} failed, so "
                   "no γ is certified for every cell of the grid; the certified cells give "
                   f"γ* ≥ {gmin:.4g}." if math.isfinite(gmin) else
                   "No cell has a certified γ*.")
    else:
        out.append(f"One fixed γ serves every cell of this grid (GG22's claim (a), on this grid): "
                   f"γ* ≥ {gmin:.4g} in every cell, i.e. at that γ the certified "
                   f"γ/√m·‖A(k)‖₂ stayed < 1 at every step of every run (smallest γ* at "
                   f"n = {int(worst['n'])}, m = {int(worst['m'])}; reading every γ below γ* as "
                   "well-posed assumes one crossing in γ, as the bisection does). G22's "
                   f"sufficient min(½, 1/(4c)) is at most {g22:.4g} here (γ* is "
                   f"{gmin / g22:.3g}× larger)." if g22 > 0 else "")
    used = summary["margin_used_median"].to_numpy(dtype=float)
    resolved = int(summary["margin_resolved"].sum())
    cells = int(summary["seeds"].sum())
    if np.isfinite(used).any() and resolved == 0:
        out.append("Training used up less of the margin at initialisation than the bisection "
                   f"resolves in every cell: γ_init = √m/‖A(0)‖₂ itself was never certified "
                   f"not well-posed by a run, so 1 − γ*/γ_init ≤ rtol (the median "
                   f"{100 * float(np.nanmin(used)):.3g}–{100 * float(np.nanmax(used)):.3g} % is the "
                   "bisection's last step, not a measured change). This tests the grid's sizes "
                   "and step budget only; it says nothing about longer runs or larger widths.")
    elif np.isfinite(used).any():
        out.append(f"In {resolved} of {cells} cells training moved the boundary below "
                   "γ_init = √m/‖A(0)‖₂ (a run certified not well-posed there); the margin used, "
                   "1 − γ*/γ_init, has medians "
                   f"{100 * float(np.nanmin(used)):.3g}–{100 * float(np.nanmax(used)):.3g} % per "
                   "(n, m) (resolution: the bisection's rtol). This tests the grid's sizes and "
                   "step budget only; it says nothing about longer runs or larger widths.")
    return [s for s in out if s]


def format_gamma_table(summary: pd.DataFrame) -> str:
    head = (f"{'n':>6} {'m':>6} {'seeds':>5}  {'γ* mean [95% CI]':>28} {'γ* min':>8} "
            f"{'γ_init':>8} {'γ_G22':>8} {'margin used':>11} {'undec.':>6}")
    lines = [head]
    for r in summary.itertuples():
        ci = (f"{r.gamma_star_mean:.4f} [{r.gamma_star_lo:.4f}, {r.gamma_star_hi:.4f}]"
              if math.isfinite(r.gamma_star_lo) else f"{r.gamma_star_mean:.4f}")
        lines.append(f"{r.n:>6} {r.m:>6} {r.seeds:>5}  {ci:>28} {r.gamma_star_min:>8.4f} "
                     f"{r.gamma_init_mean:>8.4f} {r.gamma_g22_mean:>8.4f} "
                     f"{100 * r.margin_used_median:>10.3g}% {r.undecided:>6}")
    return "\n".join(lines)
