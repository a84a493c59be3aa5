"""The report's figures (matplotlib, Agg, offline): Figure 1 panels, Gram eigenvalues,
movement and rate; and LaTeX → PNG via mathtext for the HTML report."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from verify.report.model import ReportRun, _num, fmt

#: figure file name → caption (the order in which they appear in the report).
FIGURES: dict[str, str] = {
    "figure1.png": (
        "The panels of the paper's Figure 1 for this run: training loss, test loss and the scaled "
        "operator norm (γ/√m)‖A(k)‖ = γ̃‖A(k)‖ (the contraction factor of the implicit layer) "
        "against the GD step, one curve per width. Right panel: dots are exact values (SVD); "
        "between them the band is the certified interval the GD loop records instead of an SVD "
        "per step (upper bound within 2 %)."
    ),
    "gram.png": (
        "Smallest eigenvalues of the feature Gram G(k) = ΦΦᵀ, of the empirical NTK H(k) and of "
        "K(k) = ZZᵀ + ΦΦᵀ (the matrix the GD proof uses) against the thresholds λ0/2 "
        "(Lemma 3.6(i)) and ¾λ0 (Lemma 3.3)."
    ),
    "movement.png": (
        "Norms and parameter movement against the bounds of Lemma 3.6 and its proof "
        "(solid: observed, dashed: bound, same colour per width; log scale)."
    ),
    "rate.png": (
        "Left: ‖ŷ(k) − y‖²/‖e0‖² against the theorem's guarantee (1 − αλ0/2)^k (black dashed) "
        "and the path rate (1 − α·min λ_min(ZZᵀ + ΦΦᵀ))^k of the GD proof (eq. 43; dotted). Right: per-step decrease 1 − r of "
        "‖ŷ − y‖² — observed (fitted) against the theorem and the path rate, per width."
    ),
}


#: figure file name → the one-line caption saying what to look for (shown first, also the
#: figure's alt text together with :data:`FIGURE_ALT`).
FIGURE_HINTS: dict[str, str] = {
    "figure1.png": "Look for: losses falling with k, and the contraction factor staying below 1.",
    "gram.png": "Look for: curves staying above the dashed λ0/2 line (below it breaks Lemma 3.6(i)).",
    "movement.png": "Look for: each solid curve below its dashed bound of the same colour.",
    "rate.png": "Look for: observed curves below the black dashed guarantee; right, how far the "
                "observed decrease exceeds the theorem's.",
}

#: figure file name → alt text (what the image shows, for readers who cannot see it).
FIGURE_ALT: dict[str, str] = {
    "figure1.png": "Three line plots against the GD step, one curve per width: training loss, "
                   "test loss and the scaled operator norm of A.",
    "gram.png": "Line plots of the smallest eigenvalues of G, H and K against the GD step, with "
                "horizontal threshold lines at three quarters and one half of lambda0.",
    "movement.png": "Small multiples of norms and parameter movements against the GD step, each "
                    "with its bound as a dashed line of the same colour.",
    "rate.png": "Left: normalised squared residual against the GD step with the guaranteed "
                "geometric decay. Right: per-step decrease against width, observed, path rate "
                "and theorem.",
}

#: the Okabe–Ito colour-blind-safe palette (Okabe & Ito 2008), black first.
OKABE_ITO: tuple[str, ...] = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2",
                              "#D55E00", "#CC79A7")
#: colours for one curve per width (black and yellow left out: black marks the theory lines,
#: yellow is hard to see on white).
_WIDTH_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9")


#: observables drawn in the movement figure, in this order, with axis titles.
_MOVEMENT = {
    "u_norm": "‖u(k)‖",
    "v_norm": "‖v(k)‖",
    "W_norm": "‖W(k)‖₂",
    "A_norm": "‖A(k)‖₂",
    "u_move": "‖u(k) − u(0)‖",
    "v_move": "‖v(k) − v(0)‖",
    "W_move": "‖W(k) − W(0)‖₂",
    "A_move": "‖A(k) − A(0)‖₂",
    "phi_max": "max‖φ_i‖",
    "z_max": "max‖z_i‖",
    "G_dev": "‖G(k) − G(0)‖₂",
    "Z_step": "‖Z(k+1) − Z(k)‖_F",
    "contraction": "γ̃‖A(k)‖₂",
}


def _colors(n: int) -> list[Any]:
    """One colour per width from the Okabe–Ito palette (repeats after six widths)."""
    return [_WIDTH_COLOURS[i % len(_WIDTH_COLOURS)] for i in range(n)]


def _new_figure(w: float, h: float) -> Any:
    # No layout engine: constrained/tight layout draw the figure twice (slow on busy CPUs);
    # each figure sets its margins with subplots_adjust instead.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h))
    FigureCanvasAgg(fig)  # a renderer, so legends can be measured (see legend)
    return fig


def _set_log(ax: Any, axis: str = "y") -> None:
    """Log scale when the data span more than a factor 20, else linear; plain-text ticks
    (mathtext tick labels are slow to lay out)."""
    from matplotlib import ticker

    if axis == "x":
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda x, p=None: f"{x:g}"))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        return
    vals = [np.asarray(ln.get_ydata(), dtype=float) for ln in ax.get_lines()]
    allv = np.concatenate([v[np.isfinite(v) & (v > 0)] for v in vals]) if vals else np.zeros(0)
    if allv.size == 0:
        return
    if allv.max() / allv.min() < 20:
        ax.ticklabel_format(axis="y", useOffset=False)
        return
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0) if
                                                 allv.max() / allv.min() < 1e3 else (1.0,)))
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda x, p=None: fmt(x, 2)))
    ax.yaxis.set_minor_formatter(ticker.NullFormatter())


def _png(fig: Any, dpi: int) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


#: threshold lines (¾λ0, λ0/2, …): black with their own dash patterns, never a width's colour.
THRESHOLD_STYLES = ({"color": "#000000", "ls": ":", "lw": 1.4},
                    {"color": "#000000", "ls": "-.", "lw": 1.2})


def legend(ax: Any, fontsize: float = 7, **kw: Any) -> None:
    """A legend on every panel that has labelled series, never over the data: it goes in the
    upper right corner and the y-axis is extended upwards (in its own scale, linear or log) until
    everything drawn lies below the legend's frame."""
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return
    leg = ax.legend(fontsize=fontsize, loc=kw.pop("loc", "upper right"), framealpha=0.9, **kw)
    fig = ax.figure
    try:
        renderer = fig.canvas.get_renderer()
    except AttributeError:  # a canvas without a renderer: keep matplotlib's placement
        return
    h = leg.get_window_extent(renderer).height / max(ax.get_window_extent(renderer).height, 1.0)
    if not 0 < h < 0.7:
        return
    lo, hi = ax.get_ylim()
    log = ax.get_yscale() == "log"
    if log and lo > 0 and hi > 0:
        a, b = math.log10(lo), math.log10(hi)
        ax.set_ylim(lo, 10 ** (a + (b - a) / (1 - h - 0.04)))
    elif not log:
        ax.set_ylim(lo, lo + (hi - lo) / (1 - h - 0.04))


def _no_data(ax: Any, text: str = "not recorded") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4")


def _plot_series(ax: Any, run: ReportRun, name: str, color: Any, label: str | None,
                 log: bool = False, **kw: Any) -> bool:
    x, y = run.series(name)
    if log:
        ok = y > 0
        x, y = x[ok], y[ok]
    if y.size == 0:
        return False
    marker = "o" if y.size <= 3 else None
    ax.plot(x, y, color=color, label=label, marker=marker, markersize=3, **kw)
    return True


def _plot_contraction(ax: Any, run: ReportRun, color: Any, label: str) -> bool:
    """γ̃‖A(k)‖₂ as recorded: between exact evaluations the GD loop records a certified
    interval [``contraction_lower``, ``contraction``] (docs/CONTRACTS.md), drawn as a band with
    the exact values as dots; a trace without the interval is drawn as a line."""
    if "contraction_lower" not in run.trace or "contraction_exact" not in run.trace:
        return _plot_series(ax, run, "contraction", color, label)
    up = np.asarray(run.trace["contraction"], dtype=np.float64).ravel()
    lo = np.asarray(run.trace["contraction_lower"], dtype=np.float64).ravel()
    ex = np.asarray(run.trace["contraction_exact"], dtype=np.float64).ravel() == 1.0
    x = np.asarray(run.trace.get("step", np.arange(up.size)), dtype=np.float64).ravel()
    n = min(x.size, up.size, lo.size, ex.size)
    x, up, lo, ex = x[:n], up[:n], lo[:n], ex[:n]
    lo = np.where(ex, up, lo)
    ok = np.isfinite(up) & np.isfinite(lo)
    if not ok.any():
        return False
    ax.fill_between(x[ok], lo[ok], up[ok], color=color, alpha=0.35, linewidth=0, label=label)
    ax.plot(x[ok & ex], up[ok & ex], "o", color=color, markersize=3)
    return True


def decrease_panel(ax: Any, ms: np.ndarray,
                   lines: Sequence[tuple[np.ndarray, str, str, str]]) -> None:
    """Per-width panel of per-step decreases ``1 − r`` (log-log): one marked line per
    ``(values, label, marker, colour)``; non-positive and non-finite values are left out."""
    plotted = False
    for yv, lab, mk, col in lines:
        ok = np.isfinite(yv) & (yv > 0)
        if ok.any():
            ax.plot(ms[ok], yv[ok], marker=mk, color=col, label=lab, lw=1)
            plotted = True
    if plotted:
        _set_log(ax)
        _set_log(ax, "x")
        legend(ax)
    else:
        _no_data(ax)
    ax.set_xlabel("width m")
    ax.set_title("per-step decrease 1 − r of ‖ŷ − y‖²", fontsize=10)
    ax.grid(alpha=0.3, which="both")


def _figure1(runs: Sequence[ReportRun], dpi: int) -> bytes:
    cols = _colors(len(runs))
    fig = _new_figure(11.0, 3.2)
    axes = fig.subplots(1, 3)
    panels = (("loss", "training loss ½‖ŷ − y‖²", True),
              ("test_loss", "test loss", True),
              ("contraction", "(γ/√m)‖A(k)‖₂", False))
    for ax, (name, title, log) in zip(axes, panels, strict=False):
        any_ = False
        for run, c in zip(runs, cols, strict=False):
            if name == "contraction":
                any_ |= _plot_contraction(ax, run, c, f"m = {run.m}")
            else:
                any_ |= _plot_series(ax, run, name, c, f"m = {run.m}", log=log)
        if log and any_:
            _set_log(ax)
        if not any_:
            _no_data(ax, "no test set" if name == "test_loss" else "not recorded")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("GD step k")
        ax.grid(alpha=0.3)
    axes[2].ticklabel_format(axis="y", useOffset=False, style="plain")
    for ax in axes:
        legend(ax)
    fig.subplots_adjust(left=0.065, right=0.985, bottom=0.15, top=0.9, wspace=0.32)
    return _png(fig, dpi)


def _figure_gram(runs: Sequence[ReportRun], dpi: int) -> bytes:
    cols = _colors(len(runs))
    names = [("lambda_min_G", "λ_min(G(k)),  G = ΦΦᵀ"), ("lambda_min_H", "λ_min(H(k)) (empirical NTK)")]
    if any("lambda_min_K" in r.trace for r in runs):
        names.append(("lambda_min_K", "λ_min(ZZᵀ + ΦΦᵀ)"))
    fig = _new_figure(3.7 * len(names), 3.2)
    axes = fig.subplots(1, len(names))
    lams = [x for x in (_num(r.symbols.get("lambda0")) for r in runs) if x is not None]
    lam = lams[0] if lams else None
    for ax, (name, title) in zip(np.atleast_1d(axes), names, strict=False):
        any_ = False
        nonpos = []
        for run, c in zip(runs, cols, strict=False):
            ok = _plot_series(ax, run, name, c, f"m = {run.m}", log=True)
            any_ |= ok
            if not ok and run.series(name)[1].size:
                nonpos.append(run.m)
        if nonpos:
            ax.text(0.02, 0.02, f"λ_min ≤ 0 (not drawn) at m = {', '.join(map(str, nonpos))}",
                    transform=ax.transAxes, fontsize=7, color="0.3")
        if lam is not None and lam > 0:
            ax.axhline(0.75 * lam, label="¾λ0", **THRESHOLD_STYLES[0])
            ax.axhline(0.5 * lam, label="λ0/2", **THRESHOLD_STYLES[1])
        if any_ or lam:
            _set_log(ax)
        if not any_:
            _no_data(ax)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("GD step k")
        ax.grid(alpha=0.3, which="both")
    for ax in np.atleast_1d(axes):
        legend(ax)
    fig.subplots_adjust(left=0.08, right=0.985, bottom=0.15, top=0.9, wspace=0.32)
    return _png(fig, dpi)


def _movement_claims(runs: Sequence[ReportRun]) -> list[str]:
    seen: list[str] = []
    for obs in _MOVEMENT:
        for r in runs:
            if any(v.get("observable") == obs for v in r.verdicts("claim")) and r.series(obs)[1].size:
                seen.append(obs)
                break
    return seen


def _figure_movement(runs: Sequence[ReportRun], dpi: int) -> bytes:
    obs_list = _movement_claims(runs) or ["u_norm"]
    cols = _colors(len(runs))
    ncol = min(4, len(obs_list))
    nrow = int(math.ceil(len(obs_list) / ncol))
    fig = _new_figure(3.0 * ncol, 2.5 * nrow)
    axes = np.atleast_1d(fig.subplots(nrow, ncol)).ravel()
    for ax, obs in zip(axes, obs_list, strict=False):
        any_ = False
        bound_labelled = False
        for run, c in zip(runs, cols, strict=False):
            any_ |= _plot_series(ax, run, obs, c, f"m = {run.m}", log=True, lw=1.4)
            vs = [v for v in run.verdicts("claim") if v.get("observable") == obs]
            for v in vs:
                b = _num(v.get("bound"))
                if b is None or not math.isfinite(b) or b <= 0 or obs == "Z_step":
                    continue
                ax.axhline(b, color=c, ls="--", lw=1.0,
                           label=None if bound_labelled else "bound (dashed, per width)")
                bound_labelled = True
        if obs == "Z_step":
            for run, c in zip(runs, cols, strict=False):
                _plot_bound_curve(ax, run, "Z_step_max", c)
            ax.plot([], [], color="0.4", ls="--", lw=1.0, label="bound (dashed, per width)")
        if any_:
            _set_log(ax)
        else:
            _no_data(ax)
        ax.set_title(_MOVEMENT.get(obs, obs), fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3, which="both")
    for ax in axes[len(obs_list):]:
        ax.set_visible(False)
    for ax in axes[:len(obs_list)]:
        legend(ax, fontsize=6)
    fig.supxlabel("GD step k", fontsize=9)
    fig.subplots_adjust(left=0.07, right=0.99, bottom=0.2 / nrow + 0.02, top=1 - 0.12 / nrow,
                        wspace=0.38, hspace=0.45)
    return _png(fig, dpi)


def _plot_bound_curve(ax: Any, run: ReportRun, bound_name: str, color: Any) -> None:
    """Z_step bound 512αc n^{3/2}‖e0‖²β^k/(λ0 m): its value at k=0 times β^k."""
    b0 = run.bound_value(bound_name)
    rates = run.record.get("rates") or {}
    th = _num(rates.get("theory_rate"))
    x, _ = run.series("step")
    if b0 is None or th is None or x.size == 0 or th <= 0:
        return
    ax.plot(x, b0 * np.sqrt(th) ** x, color=color, ls="--", lw=1.0)


def _figure_rate(runs: Sequence[ReportRun], dpi: int) -> bytes:
    cols = _colors(len(runs))
    fig = _new_figure(10.0, 3.3)
    ax1, ax2 = fig.subplots(1, 2)
    any_ = False
    kmax = 0.0
    for run, c in zip(runs, cols, strict=False):
        x, y = run.series("residual_sq")
        e0 = _num(run.symbols.get("e0_norm"))
        if y.size == 0:
            continue
        ref = e0 * e0 if e0 else y[0]
        ok = y > 0
        ax1.plot(x[ok], y[ok] / ref, color=c, label=f"m = {run.m}")
        any_ = True
        kmax = max(kmax, float(x.max()))
        rates = run.record.get("rates") or {}
        path = _num(rates.get("path_rate"))
        if path is not None and 0 < path < 1:
            kk = np.linspace(0, x.max(), 200)
            ax1.plot(kk, path ** kk, color=c, ls=":", lw=1.0)
    ths = [t for t in (_num((r.record.get("rates") or {}).get("theory_rate")) for r in runs)
           if t is not None and t > 0]
    if ths and kmax > 0:
        kk = np.linspace(0, kmax, 200)
        ax1.plot(kk, ths[0] ** kk, color="k", ls="--", lw=1.2, label="(1 − αλ0/2)^k")
    if any_:
        ax1.plot([], [], color="0.4", ls=":", lw=1.0, label="path rate (dotted)")
        _set_log(ax1)
        legend(ax1)
    else:
        _no_data(ax1)
    ax1.set_xlabel("GD step k")
    ax1.set_title("‖ŷ(k) − y‖² / ‖e0‖²", fontsize=10)
    ax1.grid(alpha=0.3, which="both")
    ms: list[int] = []
    obs_l: list[float | None] = []
    th_l: list[float | None] = []
    path_l: list[float | None] = []
    for r in runs:
        rates = r.record.get("rates") or {}
        ms.append(r.m)
        obs_l.append(_num(rates.get("observed_rate")))
        th_l.append(_num(rates.get("theory_rate")))
        path_l.append(_num(rates.get("path_rate")))

    def dec(vals: list[float | None]) -> np.ndarray:
        return np.array([np.nan if v is None else 1 - v for v in vals], dtype=float)

    decrease_panel(ax2, np.array(ms, dtype=float),
                   ((dec(obs_l), "observed (fit)", "o", "#0072B2"),
                    (dec(path_l), "path: α·min λ_min(K)", "s", "#009E73"),
                    (dec(th_l), "theorem: αλ0/2", "^", "k")))
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.15, top=0.9, wspace=0.25)
    return _png(fig, dpi)


def render_figures(runs: Sequence[ReportRun], dpi: int = 150) -> dict[str, bytes]:
    """The report's figures as PNG bytes, keyed by the file names of :data:`FIGURES`."""
    runs = sorted(runs, key=lambda r: r.m)
    return {
        "figure1.png": _figure1(runs, dpi),
        "gram.png": _figure_gram(runs, dpi),
        "movement.png": _figure_movement(runs, dpi),
        "rate.png": _figure_rate(runs, dpi),
    }


_MATH_CACHE: dict[tuple[str, int], bytes | None] = {}


def latex_to_png(latex: str, dpi: int = 100) -> bytes | None:
    """Render a LaTeX formula with matplotlib's mathtext (offline); ``None`` if it can't."""
    key = (latex, dpi)
    if key in _MATH_CACHE:
        return _MATH_CACHE[key]
    from matplotlib import mathtext
    from matplotlib.font_manager import FontProperties

    src = latex.replace(r"\operatorname{log}", r"\log")
    buf = io.BytesIO()
    try:
        mathtext.math_to_image(f"${src}$", buf, prop=FontProperties(size=14), dpi=dpi,
                               format="png")
        out: bytes | None = buf.getvalue()
    except Exception:  # mathtext covers a subset of LaTeX; fall back to the source
        out = None
    _MATH_CACHE[key] = out
    return out
