"""The figure of :func:`verify.sweep.controls.compare_sweeps` (``sweep --compare … --plot``):
thresholds against n with the restricted laws, and success against the quantity each theory
says should collapse the curves (P/n for gd outcomes, m·λ0/n for init outcomes)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from .controls import ControlAnalysis, _outcome_kind, counting_width, parameter_count

__all__ = ["plot_controls"]


def plot_controls(an: ControlAnalysis, rows: pd.DataFrame, path: str | Path, *,
                  dpi: int = 150) -> Path:
    """Two panels, written as PNG to ``path``.  Left: the free law's m*½ against n per data set,
    input dimension d and γ; for ``gd`` outcomes with the GG22 (m ∝ n) and counting (P ∝ n)
    fits as dashed and dotted lines, for ``init`` outcomes with the fitted G22 Lemma 3.3 and
    matrix-Chernoff shapes.  Right: the decided success frequency against P/n (``gd``), or
    against m·λ0/n (``init``: the curves fall on one another when the threshold is ∝ n/λ0)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.2))
    FigureCanvasAgg(fig)
    ax1, ax2 = fig.subplots(1, 2)
    colours = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d"]
    init = _outcome_kind(an.outcome) == "init"
    rows = rows if "data" in rows.columns else rows.assign(data="data")
    keys = sorted({(str(r.data), int(r.d), float(r.gamma)) for r in rows.itertuples()})
    g = an.groups if "data" in an.groups.columns else an.groups.assign(data="data")
    multi = len({k[0] for k in keys}) > 1
    for i, (dn, d, gm) in enumerate(keys):
        col = colours[i % len(colours)]
        lab = (f"{dn}, " if multi else "") + f"d = {d}" + (", γ = 0" if gm == 0.0 else "")
        sub = g[(g["data"] == dn) & (g["d"] == d) & (g["gamma"] == gm)]
        if an.threshold and len(sub):
            ax1.plot(sub["n"], sub["m_star_half"], "o-", color=col, label=f"{lab}: free law")
            nn = sub["n"].to_numpy(dtype=float)
            if not init:
                gg = an.models["gg22"].params
                shift = gg.get("delta", 0.0) if gm == 0.0 else 0.0
                lam_t = (gg.get("b", 0.0) * np.log(1.0 / sub["lambda0"].to_numpy(dtype=float))
                         if "b" in gg else 0.0)
                ax1.plot(nn, np.exp(gg["a"] + np.log(nn) + shift + lam_t), "--", color=col,
                         alpha=0.7)
                c = math.exp(an.models["counting"].params["log_c"])
                ax1.plot(nn, counting_width(nn, np.full_like(nn, d), np.full(nn.shape, gm == 0.0),
                                            c), ":", color=col, alpha=0.9)
            else:
                for nm, ls in (("g22_lemma33", "--"), ("chernoff", ":")):
                    col_r = f"{nm}_over_m_star"
                    if nm in an.models and col_r in sub.columns:
                        # the theory width's shape, scaled through this series' fitted m*½
                        # (its hidden constant is not published: only the shape is compared)
                        ms_ = sub["m_star_half"].to_numpy(dtype=float)
                        w = sub[col_r].to_numpy(dtype=float) * ms_
                        scale = float(np.exp(np.mean(np.log(ms_) - np.log(w))))
                        ax1.plot(nn, w * scale, ls, color=col, alpha=0.8)
        r = rows[(rows["data"] == dn) & (rows["d"] == d) & (rows["gamma"] == gm)
                 & np.isfinite(rows["success"])]
        if len(r):
            mm = r["m"].to_numpy(dtype=float)
            if init:
                xv = mm * r["lambda0"].to_numpy(dtype=float) / r["n"].to_numpy(dtype=float)
            else:
                xv = parameter_count(mm, d, gm == 0.0) / r["n"].to_numpy(dtype=float)
            freq = r.assign(x=xv).groupby("x")["success"].mean()
            # markers only for init (points of several n interleave in m·λ0/n)
            ax2.plot(freq.index, freq.to_numpy(), "o" if init else "o-", color=col, label=lab,
                     ms=4, alpha=0.8 if init else 1.0)
    t1 = ("m*½: free law (solid); shapes of G22 Lemma 3.3 (dashed), Chernoff (dotted), scaled"
          if init else "threshold width: free law (solid), GG22 m ∝ n (dashed), counting (dotted)")
    ax1.set(xscale="log", yscale="log", xlabel="n (samples)", ylabel="m*½ (width)", title=t1)
    ns_ = sorted({int(v) for v in g["n"]})
    ax1.set_xticks(ns_, [str(v) for v in ns_])  # the sample sizes swept, labelled
    ax1.title.set_fontsize(9)
    if init:
        ax2.set(xscale="log", xlabel="m·λ0/n", ylim=(-0.05, 1.05),
                ylabel=f"{an.outcome}: success frequency", title="success against m·λ0/n")
    else:
        ax2.set(xscale="log", xlabel="P/n (trained parameters per sample)",
                ylabel=f"{an.outcome}: success frequency (decided cells)", ylim=(-0.05, 1.05),
                title="success against parameters per sample")
        ax2.axvline(1.0, color="0.4", lw=0.8, ls="--")
    ax2.title.set_fontsize(9)
    from matplotlib.ticker import NullFormatter

    for ax in (ax1, ax2):
        ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels collide on short log axes
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, format="png", dpi=dpi, metadata={"Software": None})
    return out
