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

These per-n fits are kept as a **diagnostic** (``thresholds``, ``fits``).  The exponent and the
thresholds the library reports (``scaling``/``law(q)``, ``joint_thresholds``) come from one
penalised likelihood over every n (:mod:`.joint_threshold`): separated sample sizes enter it
instead of being dropped, and its intervals are by profile likelihood, by a bootstrap that
resamples seeds as blocks across all n, and by a parametric bootstrap.  ``law(q).p_lo/p_hi``
(and ``joint_thresholds.m_star_lo/hi``) are the envelope of the profile-likelihood and the
seed-block bootstrap intervals when ``n_boot > 0``: the seed-block bootstrap keeps the
dependence of one seed across n, the profile stays honest under separation, where resampling
seeds cannot make a 0/N or N/N cell vary (its replicates then all agree and its interval
collapses).  Without bootstrap they are the profile interval; all three are in
``law(q).intervals``.  Intervals and fit quality are computed only for an outcome that is a
width threshold on the grid.

An outcome is **not a width threshold on this grid** (no exponent, :attr:`ScalingLaw.threshold`
False) when fewer than two n are fitted, when no n has its success rising across the grid
(a stratified Cochran–Armitage–Mantel trend statistic of success in log m within each n must
exceed its one-sided 5 % point), when the data locate m* inside the grid (per-n kind ``fit`` or
``bracket``) at fewer than two n, or when the joint m*_½(n) is below (or above) the grid at
every n.

Length (~670 lines), kept as one module: it is the one place a threshold *result* is assembled
— the per-n probit diagnostic (``probit_mle``, the censoring classes, the within-cell bootstrap),
the :class:`WidthThresholds`/:class:`ScalingLaw` records and the words — and each part reads
the others' tables; the likelihood over all n, the part with its own mathematics, already
lives in :mod:`.joint_threshold`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from bounds._defaults import DEFAULTS
from bounds._errors import invalid

from .joint_threshold import JointFit, fit_joint
from .outcomes import OUTCOMES, get_outcome, outcome_indicator

__all__ = [
    "KINDS",
    "ScalingLaw",
    "WidthThresholds",
    "clopper_pearson",
    "probit_mle",
    "fit_width_threshold",
    "quality_text",
    "scaling_words",
]

KINDS = ("fit", "bracket", "below_grid", "above_grid", "decreasing")


def clopper_pearson(k: Any, N: Any, ci: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Clopper–Pearson) interval for a binomial proportion, from beta quantiles.

    ``k`` successes of ``N`` trials (integers, 0 ≤ k ≤ N, N ≥ 0; arrays of one shape or
    broadcastable), ``ci`` in (0, 1)."""
    from bounds._errors import check_real, check_real_array, invalid

    check_real("ci", ci, 0.0, 1.0, low_open=True, high_open=True, fix="use e.g. ci=0.95")
    arrs = {}
    for name, v in (("k", k), ("N", N)):
        arrs[name] = check_real_array(name, v, "pass counts as ints or int arrays")
        a_ = arrs[name]
        if not (np.isfinite(a_).all() and (a_ == np.round(a_)).all()):
            raise invalid(name, v, "expected whole, finite counts", "pass counts as ints or int arrays")
        if (np.abs(a_) >= 2.0**53).any():  # from 2**53 on, float64 (the beta quantiles' type) is not exact
            raise invalid(name, v, "counts ≥ 2**53 are not exact in float64", "pass smaller counts")
    k, N = arrs["k"], arrs["N"]
    try:
        np.broadcast_shapes(k.shape, N.shape)
    except ValueError:
        raise invalid("k", f"<array shape {k.shape}>", f"does not match N's shape {N.shape}",
                      "pass one count per group in k and N") from None
    if (N < 0).any():  # N = 0 (no trials) gives the uninformative [0, 1]
        raise invalid("N", N if N.ndim == 0 else f"<array with min {N.min():g}>",
                      "a number of trials must be ≥ 0", "pass the number of trials of each group")
    if (k < 0).any() or (k > N).any():
        raise invalid("k", k if k.ndim == 0 else "<array>", "successes must lie in [0, N]",
                      "pass 0 ≤ k ≤ N")
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
    #: interval method → (lo, hi) or None: ``profile``, ``seed_block``, ``parametric``
    intervals: dict[str, tuple[float, float] | None] = field(default_factory=dict)
    #: which interval p_lo/p_hi are
    method: str = ""
    #: False: not a width threshold on this grid (then p is None)
    threshold: bool = True
    #: False: the fitted law fails its goodness-of-fit test (the words say so)
    fits: bool = True
    #: theory name → exponent its width formula has along this sweep's data (n, λ0(n), …)
    predictions: dict[str, float] = field(default_factory=dict)


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
    #: the joint fit over every n (None when no cell is decidable)
    joint: JointFit | None = None
    #: per (n, q) from the joint fit: ``m_star`` and ``m_star_lo/m_star_hi`` (the interval of
    #: ``law(q).method``), ``profile_lo/hi``, ``seed_block_lo/hi``, ``parametric_lo/hi``,
    #: ``extrapolated``
    joint_thresholds: pd.DataFrame = field(default_factory=pd.DataFrame)

    def law(self, q: float) -> ScalingLaw:
        for s in self.scaling:
            if math.isclose(s.q, q):
                return s
        raise invalid("q", q, "was not fitted", f"use one of {list(self.q)}")

    def quality_text(self) -> str:
        """One line on the joint fit's quality (:func:`quality_text`; "—" without a joint fit)."""
        return "—" if self.joint is None else quality_text(self.joint)

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
        is_thr = any(law.threshold for law in self.scaling)
        if is_thr:
            lines.append("  per-n probit fits above are a diagnostic; joint fit over every n "
                         "(what the exponent uses):")
        if self.joint is not None and is_thr:
            lines.append("  fit quality: " + quality_text(self.joint))
        for r in (self.joint_thresholds.itertuples(index=False) if is_thr else ()):
            lines.append(f"  n = {r.n}, q = {r.q:g}: m* = {r.m_star:.4g} [{r.m_star_lo:.4g}, "
                         f"{r.m_star_hi:.4g}]" + (" (extrapolated)" if r.extrapolated else ""))
        for law in self.scaling:
            lines.append(f"  q = {law.q:g}: {law.words}"
                         + (f"; {law.reason}" if law.threshold else ""))
        return "\n".join(lines)

    def to_records(self) -> list[dict[str, Any]]:
        """JSON-ready rows (non-finite numbers → None), one per (n, q)."""
        out = []
        for r in self.thresholds.itertuples(index=False):
            law = self.law(float(r.q))
            out.append({"outcome": self.outcome, "q": float(r.q), "n": int(r.n), "kind": r.kind,
                        "m_star": _js(r.m_star), "m_star_lo": _js(r.m_star_lo),
                        "m_star_hi": _js(r.m_star_hi), "p": _js(law.p), "p_lo": _js(law.p_lo),
                        "p_hi": _js(law.p_hi), **self._joint_record(int(r.n), float(r.q))})
        return out

    def _joint_record(self, n: int, q: float) -> dict[str, Any]:
        jt = self.joint_thresholds
        if jt.empty:
            return {}
        sel = jt[(jt["n"] == n) & np.isclose(jt["q"].astype(float), q)]
        if sel.empty:
            return {}
        r = sel.iloc[0]
        return {"joint_m_star": _js(r["m_star"]), "joint_m_star_lo": _js(r["m_star_lo"]),
                "joint_m_star_hi": _js(r["m_star_hi"]),
                **{f"joint_{k}_{e}": _js(r[f"{k}_{e}"]) for k in ("profile", "seed_block",
                                                                 "parametric")
                   for e in ("lo", "hi")}}


def quality_text(joint: JointFit) -> str:
    """One line: deviance, goodness of fit, link comparison, spread test."""
    q = joint.quality
    gof = ("no p-value (df ≤ 0)" if q["p_used"] is None else
           f"goodness-of-fit p = {q['p_used']:.3g} from the {q['p_used_from']}")
    if q["p_boot"] is not None and q["p_used_from"] != "parametric bootstrap":
        gof += f"; parametric bootstrap {q['p_boot']:.3g}"
    txt = f"{joint.link}, deviance {q['deviance']:.3g} on {q['df']} df ({gof})"
    per = [f"{n}: {v['deviance']:.3g}/{v['cells']} cells"
           + (f" p {v['p_boot']:.2g}" if v["p_boot"] is not None else "")
           for n, v in q["per_n"].items()]
    txt += "; per n " + ", ".join(per)
    if q["links"]:
        txt += "; deviance by link " + ", ".join(f"{k} {v:.3g}" for k, v in q["links"].items())
    st = q["spread_test"]
    if st is not None:
        txt += (f"; spread {joint.spread} vs one per n: LR {st['lr']:.3g} on {st['df']} df, "
                f"p = {st['p']:.3g}")
    txt += "; the law fits" if q["fits"] else f"; THE LAW DOES NOT FIT (p < {q['alpha']:g})"
    return txt


def _js(x: Any) -> float | None:
    if x is None:
        return None
    f = float(x)
    return f if math.isfinite(f) else None


def scaling_words(p: float | None, lo: float | None, hi: float | None, ci: float, *,
                  predictions: Any = None, fits: bool = True, method: str = "",
                  reason: str = "") -> str:
    """Sentence on the exponent p from its CI and the theories' predictions on the same data.

    ``predictions``: theory name → the exponent its width formula has along the sweep's own
    data.  The words never compare with bare numbers: a CI that contains 0 shows no growth
    with n and confirms no theory; without predictions nothing is compared.
    """
    if p is None:
        return reason or "no exponent: not a width threshold on this grid"
    pre = "" if fits else "the fitted law does not fit these data (goodness of fit fails), so: "
    if lo is None and hi is None:
        return f"{pre}p = {p:.3g} without a CI: not compared with any theory"
    if lo is None or hi is None:
        side = f"(−∞, {hi:.3g}]" if lo is None else f"[{lo:.3g}, ∞)"
        return (f"{pre}p = {p:.3g} {side} ({100 * ci:.0f}% CI, open on one side: the data do "
                "not bound it): not compared with any theory")
    how = f", {method}" if method else ""
    txt = f"p = {p:.3g} [{lo:.3g}, {hi:.3g}] ({100 * ci:.0f}% CI{how})"
    if lo <= 0.0 <= hi:
        return (f"{pre}{txt}: the CI contains 0 — no growth of the threshold with n is shown, "
                "so no theory's exponent is confirmed")
    preds = dict(predictions or {})
    if not preds:
        return f"{pre}{txt}: no theory's width was evaluated on these data to compare with"
    inside = [f"{k} ({v:.3g})" for k, v in preds.items() if lo <= v <= hi]
    above = [f"{k} ({v:.3g})" for k, v in preds.items() if v > hi]
    below = [f"{k} ({v:.3g})" for k, v in preds.items() if v < lo]
    parts = []
    if inside:
        parts.append("consistent with the exponent on these data of " + ", ".join(inside))
    if above:
        parts.append("grows more slowly than " + ", ".join(above) + " predicts on these data")
    if below:
        parts.append("grows faster than " + ", ".join(below) + " predicts on these data")
    return f"{pre}{txt}: " + "; ".join(parts)


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


def fit_width_threshold(table: pd.DataFrame, outcome: str = "lemma33_init",
                        q: Any = DEFAULTS["quantiles"], n_boot: int = DEFAULTS["n_boot"], seed: int = 0,
                        ci: float = 0.95, *, link: str = "probit", spread: str = "loglinear",
                        predictions: Any = None, profile: bool = True,
                        compare_links: bool = True) -> WidthThresholds:
    """Per-n width thresholds ``m*_q(n)`` with CIs and the scaling exponent p (module docstring).

    ``table``: any DataFrame with columns ``n, m, seed`` and either a boolean column named
    ``outcome`` (None/NaN = undecidable) or the columns of a registered outcome
    (:data:`~verify._outcomes.OUTCOMES`).  Use ``q=(0.5, 1 − δ)`` for the median and the
    high-probability threshold.  ``seed`` seeds the bootstrap (``numpy.random.default_rng``).
    ``link``/``spread``: the joint model (:mod:`.joint_threshold`; probit with
    ``log s(n) = c0 + c1·u(n)`` by default); ``predictions``: theory name → exponent of its
    width on the sweep's data (the words compare with these); ``profile``: compute the
    profile-likelihood intervals; ``compare_links``: also fit the other links (fit quality).
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
    joint = None
    dec = df["y"].notna().to_numpy()
    if dec.any():
        cols = (df["n"].to_numpy()[dec], df["m"].to_numpy()[dec],
                pd.Series(table["seed"]).astype(str).to_numpy()[dec], df["y"].to_numpy(float)[dec])
        joint = fit_joint(*cols, q=qs, link=link, spread=spread, n_boot=0, ci=ci,
                          profile=False, compare_links=False)
        if _no_threshold(fits, _joint_table(joint, "point"), joint) is None and (
                n_boot > 0 or profile or compare_links):
            # intervals and fit quality only for an outcome that is a threshold on the grid
            joint = fit_joint(*cols, q=qs, link=link, spread=spread, n_boot=int(n_boot),
                              seed_boot=int(seed), ci=ci, profile=profile,
                              compare_links=compare_links)
    use = "envelope" if n_boot > 0 and profile else "seed_block" if n_boot > 0 else "profile"
    jt = _joint_table(joint, use)
    laws = tuple(_joint_law(joint, fits, jt, qq, use, ci, dict(predictions or {}))
                 for qq in qs)
    return WidthThresholds(outcome=outcome, source=source, q=qs, ci=ci, n_boot=int(n_boot),
                           seed=int(seed), excluded=excluded, cells=cells, fits=fits,
                           thresholds=thresholds, scaling=laws, boot=boot, joint=joint,
                           joint_thresholds=jt)


_METHOD_WORDS = {"seed_block": "seed-block bootstrap", "profile": "profile likelihood",
                 "parametric": "parametric bootstrap",
                 "envelope": "profile likelihood ∪ seed-block bootstrap"}


def _joint_table(joint: JointFit | None, use: str) -> pd.DataFrame:
    if joint is None:
        return pd.DataFrame(columns=["n", "q", "m_star", "m_star_lo", "m_star_hi"])
    rows = []
    for r in joint.thresholds:
        out = {"n": r["n"], "q": r["q"], "m_star": r["m_star"], "extrapolated": r["extrapolated"]}
        for k in ("profile", "seed_block", "parametric"):
            iv = r.get(k)
            out[f"{k}_lo"], out[f"{k}_hi"] = (iv if iv is not None else (math.nan, math.nan))
        if use == "envelope":
            out["m_star_lo"] = np.fmin(out["profile_lo"], out["seed_block_lo"])
            out["m_star_hi"] = np.fmax(out["profile_hi"], out["seed_block_hi"])
        elif use == "point":
            out["m_star_lo"] = out["m_star_hi"] = math.nan
        else:
            out["m_star_lo"], out["m_star_hi"] = out[f"{use}_lo"], out[f"{use}_hi"]
        rows.append(out)
    return pd.DataFrame(rows)


#: one-sided 5 % critical value of the stratified trend statistic (success rising with m)
_Z_RISE = float(stats.norm.ppf(0.95))


def _no_threshold(fits: pd.DataFrame, jt: pd.DataFrame, joint: JointFit | None) -> str | None:
    """Why the outcome is not a width threshold on this grid (None: it is one)."""
    if fits.empty or len(fits) < 2:
        return f"not a width threshold on this grid: only {len(fits)} sample size(s)"
    kinds = fits["kind"].tolist()
    z = joint.quality.get("trend_z", math.nan) if joint is not None else math.nan
    if not all(k in ("below_grid", "above_grid") for k in kinds) and not z > _Z_RISE:
        return ("not a width threshold on this grid: success does not rise with m (stratified "
                f"trend z = {z:.3g} ≤ {_Z_RISE:.3g}, one-sided 5 %)")
    rise = sum(k in ("fit", "bracket") for k in kinds)
    if rise < 2 and not all(k in ("below_grid", "above_grid") for k in kinds):
        return ("not a width threshold on this grid: the data locate m* inside the grid at "
                f"{rise} sample size(s) only (the others are below or above the grid); an "
                "exponent would be the prior's extrapolation")
    fall = kinds.count("decreasing")
    if rise == 0 and all(k == "below_grid" for k in kinds):
        return "not a width threshold on this grid: m* is below the grid at every n (never failed)"
    if rise == 0 and all(k == "above_grid" for k in kinds):
        return "not a width threshold on this grid: m* is above the grid at every n (never succeeded)"
    if rise == 0 or fall >= rise:
        return ("not a width threshold on this grid: success does not rise with m "
                f"({rise} n rise, {fall} fall)")
    t = jt[np.isclose(jt["q"].astype(float), 0.5)] if len(jt) else jt
    if len(t):
        m_min = fits.set_index("n")["m_min"]
        m_max = fits.set_index("n")["m_max"]
        below = all(r.m_star < m_min[r.n] for r in t.itertuples(index=False))
        above = all(r.m_star > m_max[r.n] for r in t.itertuples(index=False))
        if below:
            return "not a width threshold on this grid: the fitted m*½ is below the grid at every n"
        if above:
            return "not a width threshold on this grid: the fitted m*½ is above the grid at every n"
    return None


def _joint_law(joint: JointFit | None, fits: pd.DataFrame, jt: pd.DataFrame, q: float,
               use: str, ci: float, predictions: dict[str, float]) -> ScalingLaw:
    n_all = tuple(int(v) for v in fits["n"]) if len(fits) else ()
    bounds_only = tuple(int(r.n) for r in fits.itertuples(index=False) if r.kind != "fit") \
        if len(fits) else ()
    why = _no_threshold(fits, jt, joint)
    if joint is None or why is not None:
        why = why or "no decidable cell"
        return ScalingLaw(q, None, None, None, None, n_all, bounds_only, 0, why,
                          scaling_words(None, None, None, ci, reason=why), threshold=False,
                          predictions=predictions)
    jl = joint.laws[q]
    ivs = {"profile": jl.profile, "seed_block": jl.seed_block, "parametric": jl.parametric}
    if use == "envelope":
        got = [v for v in (jl.profile, jl.seed_block) if v is not None]
        iv = (min(v[0] for v in got), max(v[1] for v in got)) if got else None
    else:
        iv = ivs.get(use)
    lo: float | None = None
    hi: float | None = None
    if iv is not None:
        lo = iv[0] if math.isfinite(iv[0]) else None
        hi = iv[1] if math.isfinite(iv[1]) else None
    qual = joint.quality
    fits_ok = bool(qual["fits"])
    a = math.exp(float(joint.theta[0]) - (jl.p or 0.0) * joint.lbar)
    reason = (f"one penalised {joint.link} likelihood over n = {list(joint.n)} (spread "
              f"{joint.spread}; separated n in the likelihood"
              + (f": {list(bounds_only)} have no finite per-n fit" if bounds_only else "") + ")")
    gof = qual["p_used"]
    if gof is not None:
        reason += (f"; deviance {qual['deviance']:.3g} on {qual['df']} df, goodness-of-fit p = "
                   f"{gof:.3g} ({qual['p_used_from']})")
    if not fits_ok:
        reason += "; THE LAW DOES NOT FIT"
    words = scaling_words(jl.p, lo, hi, ci, predictions=predictions, fits=fits_ok,
                          method=_METHOD_WORDS[use])
    return ScalingLaw(q, jl.p, lo, hi, a, n_all, bounds_only,
                      joint.n_boot if use != "profile" else 0, reason, words, intervals=ivs,
                      method=_METHOD_WORDS[use], threshold=True, fits=fits_ok,
                      predictions=predictions)
