"""One penalised likelihood for the width threshold over every sample size of an outcome.

Model
-----
A cell (n, m, seed) succeeds with probability

    P(success | n, m) = F((log m − a − p·(log n − l̄)) / s(n)),

F the inverse link (probit by default; logit and cloglog for comparison), l̄ the mean of
log n over the sample sizes of the sweep.  For the probit (and logit) link ``a + p·(log n − l̄)``
is ``log m*_½(n)``; in general ``log m*_q(n) = a + p·(log n − l̄) + F⁻¹(q)·s(n)``.

The spread s(n) is **structured** by default: ``log s(n) = c0 + c1·u(n)`` with u the
standardised log n (two parameters: spreads that shrink or grow as a power of n).
``spread="free"`` gives one log s per n; the structured model is tested against it by a
likelihood-ratio test (reported with the fit quality).  ``spread="common"``: one s.

Every sample size enters the likelihood, including separated ones (all failures at the
small widths, all successes at the large ones): such rows constrain m*(n) to their bracket
and the spread of that n towards 0.  Separation makes the plain maximum likelihood estimate
infinite, so the estimate maximises the likelihood penalised by Jeffreys' prior,
``ℓ(θ) + ½·log det I(θ)`` with I the expected (Fisher) information of the binomial cells
(Firth's penalty).  For binomial GLMs — this model is one when the spread is common —
Kosmidis & Firth (2021) prove the estimates finite; for the structured spread the tests check
it on grids where every n is completely separated (the penalty alone then keeps s(n) > 0 and
p finite: I(θ) → 0 as any s(n) → 0 on separated cells, so ½ log det I → −∞).

Intervals for the exponent of m*_q(n) (the least-squares slope of the fitted log m*_q over the
sweep's log n; for q = ½ with the probit link it is p itself) and for every m*_q(n):

* **profile** (penalised) likelihood: ``{v : 2(ℓ̃(θ̂) − max_{g(θ)=v} ℓ̃(θ)) ≤ χ²₁(ci)}``;
* **seed-block bootstrap**: seeds are resampled with replacement and each resampled seed brings
  all its cells, at every n and m, so the dependence of one seed across n (init sweeps share W
  per (m, seed) between nested data sets) is kept; percentile intervals;
* **parametric bootstrap**: binomial counts drawn from the fitted model (so 0/N and N/N cells
  vary), refitted; percentile intervals.

Fit quality: the deviance of the fitted law per n and overall, with goodness-of-fit p-values
from the parametric bootstrap (the share of simulated deviances at least as large; the χ²
approximation on cells − parameters degrees of freedom is printed beside it, and is the only
one without bootstrap).

Numpy/scipy only.  Length (~500 lines), one idea: the joint model, its penalised fit and the
three kinds of interval share the model object (:class:`_Model`), so splitting the intervals
off would only move that coupling across a module boundary.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize, special, stats

from bounds._errors import invalid

__all__ = ["LINKS", "SPREADS", "JointFit", "JointLaw", "fit_joint"]

LINKS = ("probit", "logit", "cloglog")
SPREADS = ("loglinear", "free", "common")

_TINY = 1e-300


def _exps(v: Any) -> Any:
    """exp of a log spread, clipped to [e^−40, e^40] (far outside any grid in log m)."""
    return np.exp(np.clip(v, -40.0, 40.0))


def _link_funcs(link: str) -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any],
                                    Callable[[float], float]]:
    """(log F, log(1 − F), log f, F⁻¹) of the inverse link F."""
    if link == "probit":
        return (special.log_ndtr, lambda e: special.log_ndtr(-e),
                lambda e: -0.5 * e * e - 0.5 * math.log(2 * math.pi), lambda q: float(special.ndtri(q)))
    if link == "logit":
        return (lambda e: -np.logaddexp(0.0, -e), lambda e: -np.logaddexp(0.0, e),
                lambda e: -e - 2.0 * np.logaddexp(0.0, -e), lambda q: float(special.logit(q)))
    if link == "cloglog":
        def logF(e: Any) -> Any:
            t = np.exp(np.minimum(e, 700.0))
            return np.log(-np.expm1(-t) + _TINY)

        return (logF, lambda e: -np.exp(np.minimum(e, 700.0)),
                lambda e: e - np.exp(np.minimum(e, 700.0)), lambda q: math.log(-math.log1p(-q)))
    raise invalid("link", link, "unknown link", f"use one of {list(LINKS)}")


class _Model:
    """Cells (x = log m, n index) of one outcome; parameters θ = (a, p, spread parameters)."""

    def __init__(self, x: np.ndarray, nidx: np.ndarray, ns: np.ndarray, link: str, spread: str):
        self.x, self.nidx, self.ns = x, nidx, ns
        self.K = ns.size
        ln = np.log(ns.astype(float))
        self.lbar = float(ln.mean())
        self.lc_n = ln - self.lbar
        sd = float(self.lc_n.std()) or 1.0
        self.u_n = self.lc_n / sd
        self.lc = self.lc_n[nidx]
        self.has_p = self.K >= 2
        if spread == "loglinear" and self.K < 2:
            spread = "common"
        self.spread = spread
        self.n_spread = {"loglinear": 2, "free": self.K, "common": 1}[spread]
        self.P = 1 + int(self.has_p) + self.n_spread
        self.link = link
        self.logF, self.log1mF, self.logf, self.ppf = _link_funcs(link)
        # d log s_i / d c_j
        if spread == "loglinear":
            self.D = np.stack([np.ones(self.K), self.u_n], axis=1)
        elif spread == "free":
            self.D = np.eye(self.K)
        else:
            self.D = np.ones((self.K, 1))

    # -- parameters
    def split(self, th: np.ndarray) -> tuple[float, float, np.ndarray]:
        a = th[0]
        p = th[1] if self.has_p else 0.0
        c = th[1 + int(self.has_p):]
        return a, p, self.D @ c          # log s per n

    def join(self, a: float, p: float, c: np.ndarray) -> np.ndarray:
        return np.concatenate([[a], [p] if self.has_p else [], c])

    def log_mstar(self, th: np.ndarray, q: float) -> np.ndarray:
        a, p, logs = self.split(th)
        return a + p * self.lc_n + self.ppf(q) * _exps(logs)

    def exponent(self, th: np.ndarray, q: float) -> float:
        """Least-squares slope of log m*_q(n) on log n over the sweep's n."""
        if not self.has_p:
            return math.nan
        lm = self.log_mstar(th, q)
        return float(np.dot(self.lc_n, lm - lm.mean()) / np.dot(self.lc_n, self.lc_n))

    # -- likelihood
    def eta(self, th: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, p, logs = self.split(th)
        s = _exps(logs)[self.nidx]
        return (self.x - a - p * self.lc) / s, s

    def loglik_cells(self, th: np.ndarray, k: np.ndarray, N: np.ndarray) -> np.ndarray:
        e, _ = self.eta(th)
        return k * self.logF(e) + (N - k) * self.log1mF(e)

    def objective(self, th: np.ndarray, k: np.ndarray, N: np.ndarray) -> float:
        """− (log-likelihood + ½ log det Fisher information)."""
        with np.errstate(all="ignore"):
            return self._objective(th, k, N)

    def _objective(self, th: np.ndarray, k: np.ndarray, N: np.ndarray) -> float:
        e, s = self.eta(th)
        lF, l1 = self.logF(e), self.log1mF(e)
        ll = float(np.sum(k * lF + (N - k) * l1))
        w = N * np.exp(2.0 * self.logf(e) - lF - l1)
        J = np.empty((e.size, self.P))
        J[:, 0] = -1.0 / s
        j = 1
        if self.has_p:
            J[:, 1] = -self.lc / s
            j = 2
        J[:, j:] = -e[:, None] * self.D[self.nidx]
        info = J.T @ (w[:, None] * J)
        sign, logdet = np.linalg.slogdet(info)
        if not (sign > 0 and np.isfinite(logdet)) or not np.isfinite(ll):
            return 1e100
        return -(ll + 0.5 * logdet)

    def deviance_cells(self, th: np.ndarray, k: np.ndarray, N: np.ndarray) -> np.ndarray:
        e, _ = self.eta(th)
        lF, l1 = self.logF(e), self.log1mF(e)
        with np.errstate(divide="ignore", invalid="ignore"):
            t1 = np.where(k > 0, k * (np.log(np.where(k > 0, k, 1) / np.where(N > 0, N, 1)) - lF), 0.0)
            f = N - k
            t2 = np.where(f > 0, f * (np.log(np.where(f > 0, f, 1) / np.where(N > 0, N, 1)) - l1), 0.0)
        return 2.0 * (t1 + t2)

    def fit(self, k: np.ndarray, N: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, float, bool]:
        r = optimize.minimize(self.objective, start, args=(k, N), method="BFGS",
                              options={"gtol": 1e-6, "maxiter": 400})
        return r.x, float(r.fun), bool(r.success) or r.fun < 1e99


def _start(model: _Model, k: np.ndarray, N: np.ndarray) -> np.ndarray:
    """Crude start: per n the log m where the pooled frequency crosses ½, spread of the grid."""
    mids = np.empty(model.K)
    for j in range(model.K):
        sel = model.nidx == j
        xs, fr = model.x[sel], k[sel] / np.maximum(N[sel], 1)
        o = np.argsort(xs)
        xs, fr = xs[o], fr[o]
        above = np.nonzero(fr >= 0.5)[0]
        mids[j] = xs[above[0]] if above.size else xs[-1] + 1.0
        if above.size and above[0] > 0:
            mids[j] = 0.5 * (xs[above[0]] + xs[above[0] - 1])
    if model.has_p:
        p, a = np.polyfit(model.lc_n, mids, 1)
    else:
        p, a = 0.0, float(mids[0])
    span = float(np.ptp(model.x)) or 1.0
    c = np.zeros(model.n_spread)
    c[:] = 0.0
    if model.spread == "loglinear":
        c[0] = math.log(span / 6.0)
    else:
        c[:] = math.log(span / 6.0)
    return model.join(float(a), float(p), c)


@dataclass(frozen=True)
class JointLaw:
    """Exponent of m*_q(n) from the joint fit, with its three intervals."""

    q: float
    p: float | None
    profile: tuple[float, float] | None
    seed_block: tuple[float, float] | None
    parametric: tuple[float, float] | None


@dataclass(frozen=True, eq=False)
class JointFit:
    """Result of :func:`fit_joint`.

    ``thresholds``: rows per (n, q): ``m_star`` and ``(lo, hi)`` per interval method
    (``profile``, ``seed_block``, ``parametric``; None where not computed), ``extrapolated``.
    ``quality``: ``deviance, df, p_chi2, p_boot`` overall, ``per_n`` (n → deviance, cells,
    p_boot), ``links`` (link → deviance of that link's fit), ``spread_test`` (LR statistic, df,
    p-value of the structured spread against one spread per n; None with < 3 n),
    ``fits`` (bool: no p-value below ``alpha_fit``).
    """

    link: str
    spread: str
    ci: float
    n: tuple[int, ...]
    theta: np.ndarray
    lbar: float
    spreads: dict[int, float]
    laws: dict[float, JointLaw]
    thresholds: list[dict[str, Any]]
    quality: dict[str, Any]
    n_boot: int
    seed: int
    converged: bool
    boot_p: dict[str, dict[float, np.ndarray]] = field(repr=False, default_factory=dict)


def _cells_from_rows(n: np.ndarray, m: np.ndarray, seed: np.ndarray, y: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cells (n, m) and per-seed success/trial counts: (ns, nidx, x, S (seeds × cells), T)."""
    ok = np.isfinite(y)
    n, m, seed, y = n[ok], m[ok], seed[ok], y[ok]
    keys = np.stack([n.astype(float), m], axis=1)
    cells, cidx = np.unique(keys, axis=0, return_inverse=True)
    cidx = cidx.ravel()
    useeds, sidx = np.unique(seed, return_inverse=True)
    S = np.zeros((useeds.size, cells.shape[0]))
    T = np.zeros_like(S)
    np.add.at(S, (sidx.ravel(), cidx), y)
    np.add.at(T, (sidx.ravel(), cidx), 1.0)
    ns, nidx = np.unique(cells[:, 0].astype(int), return_inverse=True)
    return ns, nidx.ravel(), np.log(cells[:, 1]), S, T


def _profile_end(model: _Model, k: np.ndarray, N: np.ndarray, fix: Callable[[float, np.ndarray], np.ndarray],
                 free0: np.ndarray, v_hat: float, obj_hat: float, crit: float, step0: float,
                 direction: float) -> float:
    def excess(v: float, start: np.ndarray) -> tuple[float, np.ndarray]:
        r = optimize.minimize(lambda ph: model.objective(fix(v, ph), k, N), start, method="BFGS",
                              options={"gtol": 1e-5, "maxiter": 200})
        return float(r.fun) - obj_hat - crit, r.x

    inner, start, step = v_hat, free0, max(step0, 1e-3)
    for _ in range(10):
        v = inner + direction * step
        d, ph = excess(v, start)
        if d > 0:
            cache = {"start": start}

            def f(t: float, cache: dict[str, np.ndarray] = cache) -> float:
                dd, pp = excess(t, cache["start"])
                if dd <= 0:
                    cache["start"] = pp
                return dd

            return float(optimize.brentq(f, inner, v, xtol=2e-3)) if inner != v else v
        inner, start, step = v, ph, step * 2.0
    return direction * math.inf


def _fix_exponent(model: _Model, q: float) -> tuple[Callable[[float, np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]:
    z = model.ppf(q)
    lc = model.lc_n
    den = float(np.dot(lc, lc))

    def fix(v: float, ph: np.ndarray) -> np.ndarray:
        c = ph[1:]
        s = _exps(model.D @ c)
        p = v - z * float(np.dot(lc, s - s.mean())) / den
        return model.join(float(ph[0]), p, c)

    def free(th: np.ndarray) -> np.ndarray:
        return np.concatenate([[th[0]], th[1 + int(model.has_p):]])

    return fix, free


def _fix_mstar(model: _Model, q: float, j: int) -> tuple[Callable[[float, np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]:
    z = model.ppf(q)
    hp = int(model.has_p)

    def fix(v: float, ph: np.ndarray) -> np.ndarray:
        p = ph[0] if hp else 0.0
        c = ph[hp:]
        s = float(_exps(model.D[j] @ c))
        return model.join(v - p * model.lc_n[j] - z * s, p, c)

    def free(th: np.ndarray) -> np.ndarray:
        return th[1:]

    return fix, free


def _delta_se(model: _Model, th: np.ndarray, g: Callable[[np.ndarray], float], k: np.ndarray,
              N: np.ndarray) -> float:
    """Delta-method standard error of g(θ̂) from a finite-difference Hessian (a step size only)."""
    P = th.size
    h = 1e-4
    H = np.empty((P, P))
    f0 = model.objective(th, k, N)
    for i in range(P):
        for j in range(i, P):
            ei, ej = np.zeros(P), np.zeros(P)
            ei[i], ej[j] = h, h
            H[i, j] = H[j, i] = (model.objective(th + ei + ej, k, N) - model.objective(th + ei, k, N)
                                 - model.objective(th + ej, k, N) + f0) / h**2
    grad = np.array([(g(th + np.eye(P)[i] * h) - g(th - np.eye(P)[i] * h)) / (2 * h) for i in range(P)])
    try:
        var = float(grad @ np.linalg.solve(H, grad))
    except np.linalg.LinAlgError:
        return 0.1
    return math.sqrt(var) if var > 0 and math.isfinite(var) else 0.1


def trend_z(x: np.ndarray, nidx: np.ndarray, k: np.ndarray, N: np.ndarray) -> float:
    """Stratified trend statistic of success in log m within each n (Mantel's extension of
    the Cochran–Armitage test): Σ_n Σ (x − x̄_n)(y − ȳ_n) over its permutation standard
    deviation; ≈ N(0, 1) when success does not depend on m.  NaN when nothing varies."""
    num = var = 0.0
    for j in np.unique(nidx):
        sel = nidx == j
        xs, ks, Ns = x[sel], k[sel], N[sel]
        tot = Ns.sum()
        if tot < 2:
            continue
        xb, yb = float((xs * Ns).sum() / tot), float(ks.sum() / tot)
        num += float((xs * ks).sum() - xb * ks.sum())
        sxx = float((Ns * (xs - xb) ** 2).sum())
        syy = tot * yb * (1 - yb)
        var += sxx * syy / (tot - 1)
    return num / math.sqrt(var) if var > 0 else math.nan


def fit_joint(n: np.ndarray, m: np.ndarray, seed: np.ndarray, y: np.ndarray, *,
              q: tuple[float, ...] = (0.5,), link: str = "probit", spread: str = "loglinear",
              n_boot: int = 200, seed_boot: int = 0, ci: float = 0.95, profile: bool = True,
              compare_links: bool = True, alpha_fit: float = 0.01) -> JointFit:
    """Fit the joint law on rows (n, m, seed, y ∈ {0, 1, NaN}) (module docstring)."""
    if link not in LINKS:
        raise invalid("link", link, "unknown link", f"use one of {list(LINKS)}")
    if spread not in SPREADS:
        raise invalid("spread", spread, "unknown spread model", f"use one of {list(SPREADS)}")
    n = np.asarray(n, dtype=int)
    m = np.asarray(m, dtype=float)
    y = np.asarray(y, dtype=float)
    ns, nidx, x, S, T = _cells_from_rows(n, m, np.asarray(seed), y)
    k0, N0 = S.sum(0), T.sum(0)
    model = _Model(x, nidx, ns, link, spread)
    th, obj, conv = model.fit(k0, N0, _start(model, k0, N0))
    crit = float(stats.chi2.ppf(ci, 1)) / 2.0
    a_ = (1.0 - ci) / 2.0
    rng = np.random.default_rng(seed_boot)

    # bootstrap replicates: exponents, log m*, deviances
    e_hat, _ = model.eta(th)
    prob = np.exp(model.logF(e_hat))
    reps: dict[str, list[np.ndarray]] = {"seed_block": [], "parametric": []}
    dev_rep: list[np.ndarray] = []
    nq = len(q)
    for kind in ("seed_block", "parametric"):
        for _ in range(n_boot):
            if kind == "seed_block":
                w = rng.multinomial(S.shape[0], np.full(S.shape[0], 1.0 / S.shape[0])).astype(float)
                kb, Nb = w @ S, w @ T
            else:
                kb, Nb = rng.binomial(N0.astype(int), prob).astype(float), N0
            tb, _, _ = model.fit(kb, Nb, th)
            rep = np.concatenate([[model.exponent(tb, qq) for qq in q],
                                  np.concatenate([model.log_mstar(tb, qq) for qq in q])])
            reps[kind].append(rep)
            if kind == "parametric":
                dc = model.deviance_cells(tb, kb, Nb)
                dev_rep.append(np.concatenate([[dc.sum()], np.bincount(nidx, dc, model.K)]))
    R = {k_: (np.array(v) if v else np.empty((0, nq * (1 + model.K)))) for k_, v in reps.items()}

    def pct(kind: str, col: int) -> tuple[float, float] | None:
        v = R[kind][:, col] if R[kind].size else np.empty(0)
        v = v[np.isfinite(v)]
        if v.size < 10:
            return None
        return float(np.quantile(v, a_)), float(np.quantile(v, 1 - a_))

    laws: dict[float, JointLaw] = {}
    rows: list[dict[str, Any]] = []
    for iq, qq in enumerate(q):
        if model.has_p:
            p_hat = model.exponent(th, qq)
            prof = None
            if profile:
                fix, free = _fix_exponent(model, qq)
                def g_exp(t: np.ndarray, qq: float = qq) -> float:
                    return model.exponent(t, qq)

                se = _delta_se(model, th, g_exp, k0, N0)
                prof = tuple(_profile_end(model, k0, N0, fix, free(th), p_hat, obj, crit, se, d)
                             for d in (-1.0, 1.0))
            laws[qq] = JointLaw(qq, p_hat, prof,  # type: ignore[arg-type]
                                pct("seed_block", iq), pct("parametric", iq))
        else:
            laws[qq] = JointLaw(qq, None, None, None, None)
        lm = model.log_mstar(th, qq)
        for j, nn in enumerate(ns):
            col = nq + iq * model.K + j
            row: dict[str, Any] = {"n": int(nn), "q": qq, "m_star": float(np.exp(min(lm[j], 700.0)))}
            if profile:
                fix, free = _fix_mstar(model, qq, j)
                def g_m(t: np.ndarray, qq: float = qq, j: int = j) -> float:
                    return float(model.log_mstar(t, qq)[j])

                se = _delta_se(model, th, g_m, k0, N0)
                lo, hi = (_profile_end(model, k0, N0, fix, free(th), float(lm[j]), obj, crit, se, d)
                          for d in (-1.0, 1.0))
                row["profile"] = (math.exp(lo) if math.isfinite(lo) else 0.0,
                                  math.exp(hi) if math.isfinite(hi) else math.inf)
            else:
                row["profile"] = None
            for kind in ("seed_block", "parametric"):
                pr = pct(kind, col)
                row[kind] = None if pr is None else (math.exp(pr[0]), math.exp(pr[1]))
            sel = nidx == j
            row["extrapolated"] = not (np.exp(x[sel].min()) <= row["m_star"] <= np.exp(x[sel].max()))
            rows.append(row)

    # fit quality
    dc = model.deviance_cells(th, k0, N0)
    dev = float(dc.sum())
    dev_n = np.bincount(nidx, dc, model.K)
    cells_n = np.bincount(nidx, minlength=model.K)
    df = int(x.size - model.P)
    p_chi2 = float(stats.chi2.sf(dev, df)) if df > 0 else None
    D = np.array(dev_rep) if dev_rep else None
    p_boot = float((1 + np.sum(D[:, 0] >= dev - 1e-9)) / (1 + D.shape[0])) if D is not None else None
    per_n = {}
    for j, nn in enumerate(ns):
        pb = (float((1 + np.sum(D[:, 1 + j] >= dev_n[j] - 1e-9)) / (1 + D.shape[0]))
              if D is not None else None)
        per_n[int(nn)] = {"deviance": float(dev_n[j]), "cells": int(cells_n[j]), "p_boot": pb}
    links: dict[str, float] = {}
    if compare_links:
        for lk in LINKS:
            if lk == link:
                links[lk] = dev
                continue
            mo = _Model(x, nidx, ns, lk, spread)
            t2, _, _ = mo.fit(k0, N0, _start(mo, k0, N0))
            links[lk] = float(mo.deviance_cells(t2, k0, N0).sum())
    spread_test = None
    if model.spread == "loglinear" and model.K >= 3:
        mf = _Model(x, nidx, ns, link, "free")
        tf, _, _ = mf.fit(k0, N0, _start(mf, k0, N0))
        lr = max(dev - float(mf.deviance_cells(tf, k0, N0).sum()), 0.0)
        dfs = model.K - 2
        spread_test = {"lr": lr, "df": dfs, "p": float(stats.chi2.sf(lr, dfs))}
    # The bootstrap p-value cannot fall below 1/(B + 1): it decides only when B + 1 ≥ 2/α
    # (B ≥ 199 at α = 0.01), else the χ² approximation does.  Per-n p-values are K tests:
    # Bonferroni over them, and only from a bootstrap that can resolve α/K.
    enough = D is not None and D.shape[0] + 1 >= 2.0 / alpha_fit
    overall = p_boot if enough else p_chi2
    per_ok = D is not None and D.shape[0] + 1 >= 2.0 * model.K / alpha_fit
    bad = (overall is not None and overall < alpha_fit) or (per_ok and any(
        v["p_boot"] is not None and v["p_boot"] < alpha_fit / model.K for v in per_n.values()))
    quality = {"deviance": dev, "df": df, "p_chi2": p_chi2, "p_boot": p_boot, "per_n": per_n,
               "p_used": overall, "p_used_from": "parametric bootstrap" if enough else "χ²",
               "trend_z": trend_z(x, nidx, S.sum(0), T.sum(0)),
               "links": links, "spread_test": spread_test, "fits": not bad, "alpha": alpha_fit}
    _, _, logs = model.split(th)
    return JointFit(link=link, spread=model.spread, ci=ci, n=tuple(int(v) for v in ns), theta=th,
                    lbar=model.lbar, spreads={int(nn): float(np.exp(logs[j])) for j, nn in enumerate(ns)},
                    laws=laws, thresholds=rows, quality=quality, n_boot=int(n_boot),
                    seed=int(seed_boot), converged=conv,
                    boot_p={k_: {qq: R[k_][:, i] for i, qq in enumerate(q)} for k_ in R})
