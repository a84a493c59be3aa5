"""Figures of the width-scaling section (matplotlib, Agg, offline), drawn from the section's
summary part (``summary["width_scaling"]``, built by :mod:`verify.report.sections.width_scaling`)
so that the figures show exactly the numbers the text states.

* ``scaling-<i>-phase.png``: per outcome, the success frequency of every (n, m) cell (colour;
  log axes), the fitted m*_½(n) with its bootstrap CI band, bounds as arrows, the lines m = n and
  m = n², and the theory's smallest width (G22, hidden constants at their defaults = 1) written
  above the panel when it lies above the grid.
* ``scaling-<i>-mstar.png``: m*_½(n) per outcome on log-log axes with CIs, the fitted power
  law, the theory's widths (same convention) and reference slopes 1 and 2.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from verify.report.figures import legend

__all__ = ["render_scaling_figures", "phase_name", "mstar_name"]

#: theory conditions drawn per task kind (the width conditions closest to each kind's outcomes).
THEORY_DRAWN = {"init": ("width_lemma33",), "gd": ("width_lemma33", "width_thm32")}


def phase_name(i: int) -> str:
    return f"scaling-{i}-phase.png"


def mstar_name(i: int) -> str:
    return f"scaling-{i}-mstar.png"


def _png(fig: Any, dpi: int) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _f(x: Any) -> float:
    return math.nan if x is None else float(x)


def _thr(outcome: Mapping[str, Any], q: float) -> list[Mapping[str, Any]]:
    return [r for r in outcome["thresholds"] if math.isclose(float(r["q"]), q)]


def _theory_widths(sweep: Mapping[str, Any]) -> dict[str, list[tuple[int, float]]]:
    want = THEORY_DRAWN.get(str(sweep.get("kind")), ())
    out: dict[str, list[tuple[int, float]]] = {}
    for n, rows in (sweep.get("theory") or {}).items():
        for r in rows:
            if r["name"] in want and r.get("width") is not None:
                out.setdefault(f"{r['label']} (C = 1)", []).append((int(n), float(r["width"])))
    return {k: sorted(v) for k, v in out.items()}


def _draw_thresholds(ax: Any, outcome: Mapping[str, Any], color: Any, label: str | None) -> None:
    rows = sorted(_thr(outcome, 0.5), key=lambda r: r["n"])
    fit = [r for r in rows if r["kind"] == "fit" and r["m_star"] is not None]
    labelled = False
    if fit:
        n = np.array([r["n"] for r in fit], float)
        m = np.array([r["m_star"] for r in fit], float)
        lo = np.array([_f(r["m_star_lo"]) for r in fit])
        hi = np.array([_f(r["m_star_hi"]) for r in fit])
        # connect the points (and shade the band) only when every n of the row has a fit
        joined = len(fit) == len(rows)
        ax.plot(n, m, "o-" if joined else "o", color=color, lw=1.6, ms=5, label=label, zorder=5)
        labelled = True
        okb = np.isfinite(lo) & np.isfinite(hi) & (lo > 0)
        if joined and okb.all() and okb.sum() >= 2:
            ax.fill_between(n[okb], lo[okb], hi[okb], color=color, alpha=0.25, lw=0, zorder=4)
        for i in np.where(okb)[0]:
            ax.plot([n[i], n[i]], [lo[i], hi[i]], color=color, lw=1, zorder=5)
    for r in rows:
        lab = None if labelled else label
        if r["kind"] == "below_grid" and r["m_star_hi"] is not None:
            ax.plot(r["n"], r["m_star_hi"], "v", color=color, ms=7, zorder=6, label=lab)
        elif r["kind"] == "above_grid" and r["m_star_lo"] is not None:
            ax.plot(r["n"], r["m_star_lo"], "^", color=color, ms=7, zorder=6, label=lab)
        elif r["kind"] == "bracket":
            lo_, hi_ = _f(r["m_star_lo"]), _f(r["m_star_hi"])
            if not (lo_ > 0 and math.isfinite(hi_)):
                continue
            ax.plot([r["n"], r["n"]], [lo_, hi_], "s-", color=color, ms=3, lw=2, zorder=6,
                    label=lab)
        else:
            continue
        labelled = True


def _outcome_title(o: Mapping[str, Any]) -> str:
    """The statement in words, with the outcome name a user can type in parentheses."""
    src = str(o.get("source") or "").strip()
    name = str(o["name"])
    if not src:
        return name
    src = src if len(src) <= 48 else src[:47] + "…"
    return f"{src} ({name})"


def _phase(sweep: Mapping[str, Any], dpi: int) -> bytes:
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    outs = [o for o in sweep["outcomes"] if o.get("phase")]
    k = max(len(outs), 1)
    cols = min(3, k)
    rows_ = int(math.ceil(k / cols))
    fig = Figure(figsize=(4.2 * cols, 3.6 * rows_ + 0.3))
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.1 / rows_, top=1 - 0.2 / rows_,
                        wspace=0.28, hspace=0.75)
    cmap = colormaps["RdYlGn"]
    ns = [int(v) for v in sweep["grid"]["n"]]
    ms = [int(v) for v in sweep["grid"]["m"]]
    theory = _theory_widths(sweep)
    for j, o in enumerate(outs):
        ax = fig.add_subplot(rows_, cols, j + 1)
        cells = o["cells"]
        n = np.array([c["n"] for c in cells], float)
        m = np.array([c["m"] for c in cells], float)
        fr = np.array([_f(c["freq"]) for c in cells])
        ok = np.isfinite(fr)
        sc = ax.scatter(n[ok], m[ok], c=fr[ok], cmap=cmap, vmin=0, vmax=1, marker="s", s=70,
                        edgecolors="0.4", linewidths=0.3, zorder=3)
        if (~ok).any():
            ax.scatter(n[~ok], m[~ok], marker="s", s=70, facecolors="none",
                       edgecolors="0.55", linewidths=0.6, zorder=3,
                       label="not computed / undecided")
        _draw_thresholds(ax, o, "k", "m*½(n), 95% CI")
        xs = np.array([min(ns) / 1.3, max(ns) * 1.3])
        ax.set_xscale("log", base=2)
        ax.set_yscale("log", base=2)
        ylo, yhi = min(ms) / 1.6, max(ms) * 1.6
        ax.plot(xs, xs, ":", color="tab:blue", lw=1.2, label="m = n")
        ax.plot(xs, xs ** 2, "--", color="tab:purple", lw=1.2, label="m = n²")
        ax.set_xlim(*xs)
        ax.set_ylim(ylo, yhi)
        above = [f"{lab}: {min(w for _, w in pts):.2g}…{max(w for _, w in pts):.2g}"
                 for lab, pts in theory.items() if pts and min(w for _, w in pts) > yhi]
        ax.set_title("\n".join([_outcome_title(o), *(["theory widths above the grid (n range):", *above]
                                             if above else [])]), fontsize=6.5)
        ax.set_xlabel("n", fontsize=8)
        ax.set_ylabel("m", fontsize=8)
        ax.tick_params(labelsize=7)
        legend(ax, fontsize=6)
        if j == len(outs) - 1:
            cb = fig.colorbar(sc, ax=ax, fraction=0.05, pad=0.02)
            cb.set_label("success frequency", fontsize=7)
            cb.ax.tick_params(labelsize=6)
    return _png(fig, dpi)


def _mstar(sweep: Mapping[str, Any], dpi: int) -> bytes:
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 4.6))
    fig.subplots_adjust(left=0.1, right=0.62, bottom=0.12, top=0.93)
    ax = fig.add_subplot(1, 1, 1)
    outs = [o for o in sweep["outcomes"] if o.get("phase")]
    cmap = colormaps["tab10"]
    ns = np.array([int(v) for v in sweep["grid"]["n"]], float)
    for j, o in enumerate(outs):
        col = cmap(j % 10)
        _draw_thresholds(ax, o, col, o["name"])
        law = next((w for w in o["laws"] if math.isclose(w["q"], 0.5)), None)
        if law and law.get("p") is not None and law.get("a") is not None:
            ax.plot(ns, law["a"] * ns ** law["p"], "-", color=col, lw=0.8, alpha=0.6)
    for i, (lab, pts) in enumerate(_theory_widths(sweep).items()):
        n_, w_ = zip(*pts, strict=True)
        ax.plot(n_, w_, "--", color="tab:red", alpha=1.0 - 0.4 * i, lw=1.2, label=lab)
    vals = [float(v) for o in outs for r in _thr(o, 0.5)
            for v in (r["m_star"], r["m_star_lo"], r["m_star_hi"])
            if v is not None and math.isfinite(float(v)) and float(v) > 0]
    vals += [w for pts in _theory_widths(sweep).values() for _, w in pts if w > 0]
    data = [float(v) for o in outs for r in _thr(o, 0.5)
            for v in (r["m_star"] if r["kind"] == "fit" else
                      (r["m_star_hi"] if r["kind"] == "below_grid" else r["m_star_lo"]),)
            if v is not None and math.isfinite(float(v)) and float(v) > 0]
    anchor = float(np.exp(np.median(np.log(data)))) if data else 1.0
    mid = float(np.exp(np.log(ns).mean()))
    ax.plot(ns, anchor * (ns / mid), ":", color="0.3", lw=1, label="slope 1 (GG22)")
    ax.plot(ns, anchor * (ns / mid) ** 2, "-.", color="0.3", lw=1, label="slope 2 (G22)")
    if vals:
        ax.set_ylim(min(vals + [anchor * (ns[0] / mid) ** 2]) / 2,
                    max(vals + [anchor * (ns[-1] / mid) ** 2]) * 2)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("n (samples)")
    ax.set_ylabel("width m")
    ax.set_title(f"m*½(n) per outcome ({sweep['kind']} sweep); ▽ = upper bound, △ = lower bound",
                 fontsize=8)
    ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return _png(fig, dpi)


def render_scaling_figures(part: Mapping[str, Any] | None, dpi: int = 150) -> dict[str, bytes]:
    """``{file name: PNG bytes}`` for every sweep of the width-scaling part (empty without one)."""
    if not part:
        return {}
    out: dict[str, bytes] = {}
    for i, sw in enumerate(part.get("sweeps") or []):
        if any(o.get("phase") for o in sw["outcomes"]):
            out[phase_name(i)] = _phase(sw, dpi)
            out[mstar_name(i)] = _mstar(sw, dpi)
    return out
