"""Width thresholds m*_q(n) from sweep outcomes, their scaling exponent, and the theory's widths.

Statistical model
-----------------
For each sample size n, the outcome of a cell (n, m, seed) is a Bernoulli variable whose success
probability depends on the width only through a probit law in log m,

    P(success | n, m) = Φ(a_n + b_n · log m),

and different seeds are independent draws (the seeds of one cell are exchangeable; nothing is
assumed about the same seed at two widths).  ``m*_q(n)`` is the width at which the fitted
success probability is q: ``log m*_q = (Φ⁻¹(q) − a_n) / b_n``.  ``(a_n, b_n)`` is the maximum
likelihood estimate (Newton's method with step halving on the concave probit log-likelihood,
computed for all bootstrap replicates at once; ``tests`` check it against
``scipy.optimize.minimize``).

When no finite MLE exists the result is a bound, never a number: all cells succeed
(``below_grid``: m* < smallest m tried), none succeeds (``above_grid``: m* > largest m tried),
or the widths with failures all lie at or below the widths with successes (complete or
quasi-complete separation, ``bracket``: m* between the largest all-fail and the smallest
all-success width).  Success falling with m (fitted ``b_n ≤ 0`` or reversed separation) gives
``decreasing``: no threshold.

Uncertainty: per-cell frequencies carry Clopper–Pearson intervals.  The bootstrap resamples
seeds with replacement within each (n, m) cell (equivalently ``k* ~ Binomial(N, k/N)``) with a
fixed, printed seed, refits every n, and reads percentile intervals.  A replicate that gives
only a bound contributes its whole interval (lower ends to the lower percentile, upper ends to
the upper one), so censoring widens the CI instead of being dropped.  The scaling law
``log m*(n) = log a + p log n`` is fitted by least squares on the n whose point estimate exists
(≥ 2 needed); its CI refits p on every bootstrap replicate of the whole pipeline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from bounds._errors import invalid

from .outcomes import OUTCOMES, get_outcome, outcome_indicator

__all__ = [
    "KINDS",
    "ScalingLaw",
    "WidthThresholds",
    "clopper_pearson",
    "probit_mle",
    "fit_width_threshold",
    "scaling_words",
]

KINDS = ("fit", "bracket", "below_grid", "above_grid", "decreasing")


def clopper_pearson(k: Any, N: Any, ci: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Clopper–Pearson) interval for a binomial proportion, from beta quantiles."""
    k = np.asarray(k, dtype=float)
    N = np.asarray(N, dtype=float)
    a = (1.0 - ci) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(k > 0, stats.beta.ppf(a, k, N - k + 1), 0.0)
        hi = np.where(k < N, stats.beta.ppf(1.0 - a, k + 1, N - k), 1.0)
    return lo, hi


def probit_mle(x: np.ndarray, k: np.ndarray, N: np.ndarray, *, tol: float = 1e-10,
               max_iter: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """MLE of ``P = Φ(θ0 + θ1 x)`` for B replicates at once.

    ``x`` (M,), ``k``/``N`` (B, M) successes/trials.  Returns ``(θ (B, 2), converged (B,))``.
    Only call on non-separated data (the MLE is then finite and unique).
    """
    k = np.atleast_2d(np.asarray(k, dtype=float))
    N = np.atleast_2d(np.asarray(N, dtype=float))
    B = k.shape[0]
    theta = np.zeros((B, 2))
    f = N - k

    def loglik(th: np.ndarray) -> np.ndarray:
        eta = th[:, :1] + th[:, 1:] * x
        return np.sum(k * stats.norm.logcdf(eta) + f * stats.norm.logcdf(-eta), axis=1)

    conv = np.zeros(B, dtype=bool)
    cur = loglik(theta)
    scale = np.maximum(N.sum(axis=1), 1.0)
    for _ in range(max_iter):
        eta = theta[:, :1] + theta[:, 1:] * x
        lp = stats.norm.logpdf(eta)
        r1 = np.exp(lp - stats.norm.logcdf(eta))
        r2 = np.exp(lp - stats.norm.logcdf(-eta))
        g = k * r1 - f * r2
        h = -k * r1 * (eta + r1) - f * r2 * (r2 - eta)
        g0, g1 = g.sum(1), (g * x).sum(1)
        h00, h01, h11 = h.sum(1), (h * x).sum(1), (h * x * x).sum(1)
        conv = np.hypot(g0, g1) <= tol * scale
        if conv.all():
            break
        det = h00 * h11 - h01 * h01
        det = np.where(det == 0, -1e-300, det)
        step = np.stack([-(h11 * g0 - h01 * g1) / det, -(-h01 * g0 + h00 * g1) / det], axis=1)
        step[conv] = 0.0
        t = np.ones(B)
        new = theta.copy()
        todo = ~conv
        for _ in range(60):
            cand = theta + t[:, None] * step
            ll = loglik(cand)
            ok = todo & (ll >= cur - 1e-12 * np.abs(cur))
            new[ok] = cand[ok]
            cur = np.where(ok, ll, cur)
            todo &= ~ok
            if not todo.any():
                break
            t[todo] /= 2.0
        theta = new
    return theta, conv


def _classify(k: np.ndarray, N: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per replicate (rows): kind code, bracket lower index, bracket upper index.

    Codes: 0 fit, 1 bracket, 2 below_grid, 3 above_grid, 4 decreasing.  Columns are widths in
    ascending order with ``N > 0``.
    """
    B, M = k.shape
    idx = np.arange(M)
    fail, succ = k < N, k > 0
    allf, alls = k == 0, k == N
    max_fail = np.where(fail, idx, -1).max(1)
    min_fail = np.where(fail, idx, M).min(1)
    min_succ = np.where(succ, idx, M).min(1)
    max_succ = np.where(succ, idx, -1).max(1)
    code = np.zeros(B, dtype=int)
    code[max_fail <= min_succ] = 1
    code[(max_succ <= min_fail) & (code == 0)] = 4
    code[~fail.any(1)] = 2
    code[~succ.any(1)] = 3
    lo = np.where(allf, idx, -1).max(1)        # largest all-fail width (−1: none)
    hi = np.where(alls, idx, M).min(1)          # smallest all-success width (M: none)
    return code, lo, hi


_LOG_MAX = 0.9 * float(np.log(np.finfo(np.float64).max))


def _thresholds_from(code: np.ndarray, lo_i: np.ndarray, hi_i: np.ndarray, theta: np.ndarray,
                     widths: np.ndarray, mu: float, sd: float, q: float
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(point, lower, upper) of m*_q per replicate; point NaN unless kind is fit."""
    B = code.shape[0]
    M = widths.size
    point = np.full(B, np.nan)
    lower = np.zeros(B)
    upper = np.full(B, np.inf)
    fit = code == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        logm = mu + sd * (stats.norm.ppf(q) - theta[:, 0]) / theta[:, 1]
    # a (nearly) flat fitted curve puts m* beyond any float: that replicate locates nothing and
    # keeps the uninformative bounds [0, ∞) (it widens the CI instead of producing inf)
    good = fit & (theta[:, 1] > 0) & (np.abs(logm) < _LOG_MAX)
    point[good] = np.exp(logm[good])
    lower[good] = upper[good] = point[good]
    br = code == 1
    lower[br] = np.where(lo_i[br] >= 0, widths[np.clip(lo_i[br], 0, M - 1)], 0.0)
    upper[br] = np.where(hi_i[br] < M, widths[np.clip(hi_i[br], 0, M - 1)], np.inf)
    upper[code == 2] = widths[0]
    lower[code == 3] = widths[-1]
    return point, lower, upper


@dataclass(frozen=True)
class ScalingLaw:
    """``log m*_q(n) = log a + p log n`` fitted on the n with point estimates."""

    q: float
    p: float | None
    p_lo: float | None
    p_hi: float | None
    a: float | None
    n_used: tuple[int, ...]
    n_bounds_only: tuple[int, ...]
    n_boot_used: int
    reason: str
    words: str


@dataclass(frozen=True, eq=False)
class WidthThresholds:
    """Result of :func:`fit_width_threshold` for one outcome.

    ``cells``: per (n, m): ``trials, successes, excluded, freq, cp_lo, cp_hi, fitted``.
    ``fits``: per n: ``kind, intercept, slope`` (probit in log m: P = Φ(intercept + slope·log m);
    NaN unless kind is ``fit``), ``converged``.
    ``thresholds``: per (n, q): ``kind, m_star, m_star_lo, m_star_hi, extrapolated, C, C_lo,
    C_hi`` (C = m*/n).  For ``fit`` lo/hi are the bootstrap CI; for bounds they are the bounds
    (0 and inf where a side is open).  ``boot``: (n, q) → array (n_boot, 2) of replicate
    (lower, upper) m* (equal for fitted replicates).
    """

    outcome: str
    source: str
    q: tuple[float, ...]
    ci: float
    n_boot: int
    seed: int
    excluded: int
    cells: pd.DataFrame
    fits: pd.DataFrame
    thresholds: pd.DataFrame
    scaling: tuple[ScalingLaw, ...]
    boot: dict[tuple[int, float], np.ndarray] = field(repr=False)

    def law(self, q: float) -> ScalingLaw:
        for s in self.scaling:
            if math.isclose(s.q, q):
                return s
        raise invalid("q", q, "was not fitted", f"use one of {list(self.q)}")

    def summary(self) -> str:
        """Plain-text lines: thresholds per (n, q), exponents, bootstrap seed, exclusions."""
        lines = [f"outcome {self.outcome} ({self.source}); bootstrap n_boot = {self.n_boot}, "
                 f"seed = {self.seed}, {100 * self.ci:.0f}% intervals; {self.excluded} "
                 "undecidable row(s) excluded"]
        for r in self.thresholds.itertuples(index=False):
            if r.kind == "fit":
                txt = f"m* = {r.m_star:.4g} [{r.m_star_lo:.4g}, {r.m_star_hi:.4g}]"
                txt += " (extrapolated beyond the grid)" if r.extrapolated else ""
            elif r.kind == "below_grid":
                txt = f"m* < {r.m_star_hi:.4g} (smallest m tried; never failed)"
            elif r.kind == "above_grid":
                txt = f"m* > {r.m_star_lo:.4g} (largest m tried; never succeeded)"
            elif r.kind == "bracket":
                txt = (f"m* between {r.m_star_lo:.4g} and {r.m_star_hi:.4g} (separated data: "
                       "no finite probit fit)")
            else:
                txt = "no threshold: success does not rise with m"
            lines.append(f"  n = {r.n}, q = {r.q:g}: {txt}")
        for law in self.scaling:
            lines.append(f"  q = {law.q:g}: {law.words}; {law.reason}")
        return "\n".join(lines)

    def to_records(self) -> list[dict[str, Any]]:
        """JSON-ready rows (non-finite numbers → None), one per (n, q)."""
        out = []
        for r in self.thresholds.itertuples(index=False):
            law = self.law(float(r.q))
            out.append({"outcome": self.outcome, "q": float(r.q), "n": int(r.n), "kind": r.kind,
                        "m_star": _js(r.m_star), "m_star_lo": _js(r.m_star_lo),
                        "m_star_hi": _js(r.m_star_hi), "p": _js(law.p), "p_lo": _js(law.p_lo),
                        "p_hi": _js(law.p_hi)})
        return out


def _js(x: Any) -> float | None:
    if x is None:
        return None
    f = float(x)
    return f if math.isfinite(f) else None


def scaling_words(p: float | None, lo: float | None, hi: float | None, ci: float) -> str:
    """Sentence comparing p with 1 (GG22) and 2 (G22) from its CI."""
    if p is None:
        return "no exponent: fewer than two sample sizes have a point estimate of m*"
    if lo is None or hi is None:
        return f"p = {p:.3g} without a CI (no usable bootstrap replicate): not compared with 1 or 2"
    c1, c2 = lo <= 1.0 <= hi, lo <= 2.0 <= hi
    verdict = {(True, True): "consistent with both 1 (GG22, linear width) and 2 (G22, n²); "
                             "the data cannot tell them apart",
               (True, False): "consistent with 1 (GG22, linear width), not with 2 (G22, n²)",
               (False, True): "consistent with 2 (G22, n²), not with 1 (GG22, linear width)",
               (False, False): "consistent with neither 1 (GG22) nor 2 (G22)"}[(c1, c2)]
    return f"p = {p:.3g} [{lo:.3g}, {hi:.3g}] ({100 * ci:.0f}% CI): {verdict}"


def _indicator(table: pd.DataFrame, outcome: str) -> tuple[pd.Series, str]:
    # A registered outcome whose columns are present wins over a same-named column: the
    # claim outcomes ``claim_<name>`` read the string column of the same name.
    if outcome in OUTCOMES and all(c in table.columns for c in get_outcome(outcome).columns):
        return outcome_indicator(table, outcome), get_outcome(outcome).source
    if outcome in table.columns:
        col = table[outcome]
        vals = np.full(len(col), np.nan)
        for i, v in enumerate(col.tolist()):
            if v is None or (isinstance(v, float) and math.isnan(v)):
                continue
            if isinstance(v, (bool, np.bool_)) or (isinstance(v, (int, float, np.integer, np.floating))
                                                    and v in (0, 1)):
                vals[i] = float(v)
            else:
                raise invalid("outcome", outcome, f"column holds {v!r}, not a boolean",
                              "pass a column of True/False/None (or 1/0/NaN)")
        return pd.Series(vals, index=table.index), f"column {outcome!r}"
    if outcome in OUTCOMES or str(outcome).startswith("wellposed_at_"):  # γ0 levels: any γ0
        return outcome_indicator(table, outcome), get_outcome(outcome).source
    raise invalid("outcome", outcome, "is neither a column of the table nor a registered outcome",
                  f"use a boolean column or one of {sorted(OUTCOMES)}")


def _check_args(table: Any, q: Any, n_boot: Any, ci: Any) -> tuple[float, ...]:
    if not isinstance(table, pd.DataFrame):
        raise invalid("table", type(table).__name__, "is not a pandas DataFrame",
                      "pass a DataFrame with columns n, m, seed and the outcome")
    miss = [c for c in ("n", "m", "seed") if c not in table.columns]
    if miss:
        raise invalid("table", sorted(table.columns), f"lacks column(s) {miss}",
                      "the table needs one row per (n, m, seed)")
    qs = tuple(float(v) for v in np.atleast_1d(q))
    if not qs or not all(0.0 < v < 1.0 for v in qs):
        raise invalid("q", q, "quantiles must lie in (0, 1)", "pass e.g. q=(0.5, 0.99)")
    if not (isinstance(n_boot, (int, np.integer)) and n_boot >= 0):
        raise invalid("n_boot", n_boot, "must be an integer ≥ 0", "pass e.g. n_boot=200")
    if not (isinstance(ci, float) and 0.0 < ci < 1.0):
        raise invalid("ci", ci, "must be a float in (0, 1)", "pass e.g. ci=0.95")
    return qs


def _ols_slope(logn: np.ndarray, logm: np.ndarray) -> tuple[float, float]:
    p, loga = np.polyfit(logn, logm, 1)
    return float(p), float(loga)


def fit_width_threshold(table: pd.DataFrame, outcome: str = "lemma33_init",
                        q: Any = (0.5, 0.99), n_boot: int = 200, seed: int = 0,
                        ci: float = 0.95) -> WidthThresholds:
    """Per-n width thresholds ``m*_q(n)`` with CIs and the scaling exponent p (module docstring).

    ``table``: any DataFrame with columns ``n, m, seed`` and either a boolean column named
    ``outcome`` (None/NaN = undecidable) or the columns of a registered outcome
    (:data:`~verify._outcomes.OUTCOMES`).  Use ``q=(0.5, 1 − δ)`` for the median and the
    high-probability threshold.  ``seed`` seeds the bootstrap (``numpy.random.default_rng``).
    """
    qs = _check_args(table, q, n_boot, ci)
    ind, source = _indicator(table, outcome)
    df = pd.DataFrame({"n": pd.to_numeric(table["n"]).astype(int),
                       "m": pd.to_numeric(table["m"]).astype(float), "y": ind.to_numpy()})
    if (df["m"] <= 0).any() or (df["n"] <= 0).any():
        raise invalid("table", "n/m", "n and m must be positive", "drop rows with m ≤ 0")
    excluded = int(df["y"].isna().sum())
    cells = (df.groupby(["n", "m"]).agg(trials=("y", "count"), successes=("y", "sum"),
                                        rows=("y", "size")).reset_index())
    cells["excluded"] = cells["rows"] - cells["trials"]
    cells = cells.drop(columns="rows")
    cells["freq"] = cells["successes"] / cells["trials"].where(cells["trials"] > 0)
    cells["cp_lo"], cells["cp_hi"] = clopper_pearson(cells["successes"], cells["trials"], ci)
    cells.loc[cells["trials"] == 0, ["cp_lo", "cp_hi"]] = np.nan
    cells["fitted"] = np.nan
    rng = np.random.default_rng(seed)
    a = (1.0 - ci) / 2.0
    fit_rows, thr_rows, boot = [], [], {}
    boot_point: dict[float, dict[int, np.ndarray]] = {qq: {} for qq in qs}
    for n, grp in cells.groupby("n"):
        g = grp[grp["trials"] > 0].sort_values("m")
        widths = g["m"].to_numpy()
        k0, N0 = g["successes"].to_numpy(float), g["trials"].to_numpy(float)
        if widths.size == 0:
            continue
        x_raw = np.log(widths)
        mu, sd = float(x_raw.mean()), float(x_raw.std()) or 1.0
        x = (x_raw - mu) / sd
        kb = np.vstack([k0[None, :], rng.binomial(N0.astype(int), k0 / N0, size=(n_boot, N0.size))])
        Nb = np.broadcast_to(N0, kb.shape)
        code, lo_i, hi_i = _classify(kb, Nb)
        theta = np.full((kb.shape[0], 2), np.nan)
        conv = np.zeros(kb.shape[0], dtype=bool)
        sel = code == 0
        if sel.any():
            theta[sel], conv[sel] = probit_mle(x, kb[sel], Nb[sel])
        code[(code == 0) & ~(theta[:, 1] > 0)] = 4
        kind = KINDS[code[0]]
        a_n = theta[0, 0] - theta[0, 1] * mu / sd
        b_n = theta[0, 1] / sd
        fit_rows.append({"n": int(n), "kind": kind, "intercept": a_n if kind == "fit" else np.nan,
                         "slope": b_n if kind == "fit" else np.nan, "converged": bool(conv[0]),
                         "m_min": widths[0], "m_max": widths[-1]})
        if kind == "fit":
            cells.loc[g.index, "fitted"] = stats.norm.cdf(a_n + b_n * x_raw)
        for qq in qs:
            pt, lw, up = _thresholds_from(code, lo_i, hi_i, theta, widths, mu, sd, qq)
            boot[(int(n), qq)] = np.stack([lw[1:], up[1:]], axis=1)
            boot_point[qq][int(n)] = pt[1:]
            if kind == "fit" and n_boot > 0:
                m_lo = float(np.quantile(lw[1:], a, method="lower"))
                m_hi = float(np.quantile(up[1:], 1.0 - a, method="higher"))
            elif kind == "fit":
                m_lo, m_hi = math.nan, math.nan
            else:
                m_lo, m_hi = float(lw[0]), float(up[0])
            ext = kind == "fit" and not (widths[0] <= pt[0] <= widths[-1])
            thr_rows.append({"n": int(n), "q": qq, "kind": kind, "m_star": pt[0], "m_star_lo": m_lo,
                             "m_star_hi": m_hi, "extrapolated": bool(ext), "C": pt[0] / n,
                             "C_lo": m_lo / n, "C_hi": m_hi / n})
    fits = pd.DataFrame(fit_rows)
    thresholds = pd.DataFrame(thr_rows)
    laws = tuple(_scaling(thresholds, boot_point, qq, n_boot, ci) for qq in qs)
    return WidthThresholds(outcome=outcome, source=source, q=qs, ci=ci, n_boot=int(n_boot),
                           seed=int(seed), excluded=excluded, cells=cells, fits=fits,
                           thresholds=thresholds, scaling=laws, boot=boot)


def _scaling(thr: pd.DataFrame, boot_point: dict[float, dict[int, np.ndarray]], q: float,
             n_boot: int, ci: float) -> ScalingLaw:
    t = thr[np.isclose(thr["q"], q)] if len(thr) else thr
    pts = t[(t["kind"] == "fit") & np.isfinite(t["m_star"])] if len(t) else t
    n_used = tuple(int(v) for v in pts["n"]) if len(pts) else ()
    n_b = tuple(int(v) for v in t["n"] if int(v) not in n_used) if len(t) else ()
    if len(n_used) < 2:
        reason = (f"only {len(n_used)} sample size(s) with a point estimate; the others "
                  f"{list(n_b)} give bounds only")
        return ScalingLaw(q, None, None, None, None, n_used, n_b, 0, reason,
                          scaling_words(None, None, None, ci))
    logn = np.log(np.array(n_used, dtype=float))
    p, loga = _ols_slope(logn, np.log(pts["m_star"].to_numpy(float)))
    ps = []
    for b in range(n_boot):
        mb = np.array([boot_point[q][nn][b] for nn in n_used])
        ok = np.isfinite(mb)
        if ok.sum() >= 2:
            ps.append(_ols_slope(logn[ok], np.log(mb[ok]))[0])
    a_ = (1.0 - ci) / 2.0
    lo = float(np.quantile(ps, a_)) if ps else None
    hi = float(np.quantile(ps, 1.0 - a_)) if ps else None
    reason = f"least squares on log m*_q over n = {list(n_used)}"
    if n_b:
        reason += f"; n = {list(n_b)} give bounds only and are not in the fit"
    if len(ps) < n_boot:
        reason += (f"; {n_boot - len(ps)} of {n_boot} bootstrap replicates had < 2 point "
                   "estimates and were dropped")
    return ScalingLaw(q, p, lo, hi, math.exp(loga), n_used, n_b, len(ps), reason,
                      scaling_words(p, lo, hi, ci))
