"""The figure of the *Infinite-width kernels* section (:mod:`verify.report.sections.kernels`):
eigenvalues per width (λ0, λ_min(H∞), ½λ_min(H∞), observed λ_min(H(0))) and per-step rate
decreases (paper, toolkit, observed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from verify.report.figures import _new_figure, _no_data, _png, _set_log, decrease_panel, legend
from verify.report.model import _num


def _col(rows: Sequence[Mapping[str, Any]], key: str, dec: bool = False) -> np.ndarray:
    v = [_num(r.get(key)) for r in rows]
    a = np.array([np.nan if x is None else x for x in v], dtype=float)
    return 1 - a if dec else a


def kernels_figure(rows: Sequence[Mapping[str, Any]], dpi: int) -> bytes:
    """PNG bytes of the two panels (rows: the section's ``per_width`` dicts)."""
    ms = np.array([r["m"] for r in rows], dtype=float)
    fig = _new_figure(10.0, 3.3)
    ax1, ax2 = fig.subplots(1, 2)
    plotted = False
    for key, lab, kw in (("lambda0", "λ0 = λ_min(G∞) (paper)", {"color": "k", "ls": "--"}),
                         ("lambda_min_Hinf", "λ_min(H∞) (toolkit, derived)",
                          {"color": "#D55E00", "ls": "-"}),
                         ("lambda_min_H0", "λ_min(H(0)) observed",
                          {"color": "#0072B2", "marker": "o"})):
        y = _col(rows, key)
        ok = np.isfinite(y) & (y > 0)
        if ok.any():
            ax1.plot(ms[ok], y[ok], label=lab, lw=1.2, **kw)
            plotted = True
    half = 0.5 * _col(rows, "lambda_min_Hinf")
    if np.isfinite(half).any():
        ax1.plot(ms, half, color="#D55E00", ls=":", lw=1.0, label="½λ_min(H∞)")
    if plotted:
        _set_log(ax1)
        _set_log(ax1, "x")
        legend(ax1)
    else:
        _no_data(ax1)
    ax1.set_xlabel("width m")
    ax1.set_title("smallest eigenvalues", fontsize=10)
    ax1.grid(alpha=0.3, which="both")
    decrease_panel(ax2, ms, [(_col(rows, key, dec=True), lab, mk, col) for key, lab, mk, col in (
        ("rate_observed_tail", "observed (late fit)", "o", "#0072B2"),
        ("rate_toolkit", "toolkit (λ_min(H∞), derived)", "s", "#D55E00"),
        ("rate_paper", "paper (λ0)", "^", "k"))])
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.15, top=0.9, wspace=0.25)
    return _png(fig, dpi)
