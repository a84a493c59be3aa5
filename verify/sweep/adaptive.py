r"""Adaptive width designs (``sweep --adaptive``): per n, bisection in log m to bracket m*_q, then
the psi-marginal method, in rounds of cells on the sweep engine, resumable.

Model.  At sample size n a cell of width m succeeds with probability Φ((log m − μ)/s), the
probit law that :func:`~.thresholds.fit_width_threshold` fits jointly over n (there with
μ = a + p·log n); the quantity of interest is ``θ_q = log m*_q = μ + Φ⁻¹(q)·s``.

Design, per n, as a function of the rows stored so far at that n (nothing else):

1. **Bisection** (bracketing).  Widths are classified by their observed success frequency:
   *above* (frequency ≥ q) or *below*.  U = the smallest width above, L = the largest width
   below that is smaller than U (the search range ``[m_lo, m_hi]`` stands in for a missing
   side).  While there is no such pair with U/L ≤ ``bracket_ratio`` (×2), the round's cells go
   to the candidate width nearest the geometric midpoint √(L·U) (first round: √(m_lo·m_hi));
   when the midpoint is a width tried already, the end of the range on a side that has no
   bracket width yet is tried (if untried), else the bracket phase ends (m* then lies beyond the
   range or the frequencies are not monotone; the posterior below says which).
2. **Psi-marginal** (Prins 2013, "The psi-marginal adaptive method: how to give nuisance
   parameters the attention they deserve (no more, no less)", Journal of Vision 13(7):3; the
   psi method of Kontsevich & Tyler 1999, "Bayesian adaptive estimation of psychometric slope
   and threshold", Vision Research 39, with the spread as a nuisance parameter).  The posterior
   of (μ, log s) on a grid — μ in steps of 0.01 over [log m_lo − ½, log m_hi + ½], log s at 40
   points over [log 0.01, log 2]; prior uniform on that grid (uniform in μ and in log s) — is
   computed from every stored row at n.  The round's ``seeds_per_round`` cells all go to the
   candidate width x minimising the expected entropy of the posterior *marginal of θ_q* after
   observing their Binomial(seeds_per_round, Φ((x − μ)/s)) count (exact expectation over the
   count; θ_q binned on the μ grid; candidates restricted to the widths inside the posterior's
   0.1 %–99.9 % range of θ_q widened by twice the posterior mean spread).  Ties go to the
   smaller width.

Stopping: an n stops when the equal-tailed ``ci`` (95 %) credible interval of θ_q from that
posterior has **half-width** ≤ ``target_ci`` (in log m: 0.1 ≈ ±10 % in m*_q) — the per-n
interval of log m*_q, not the exponent's; or when the interval lies wholly beyond the search
range (``above_range``/``below_range``).  The sweep stops when every n has stopped or when
``max_cells`` cells were run (a last round is cut to the budget one seed per n at a time, n in
increasing order).  The final exponent and its profile / seed-block CIs come from
:func:`~.thresholds.fit_width_threshold` on the table, which treats these rows like any others.

Candidate widths: the integers nearest ``m_lo·2^(j/16)`` up to ``m_hi`` (plus ``m_hi``); they
are the sweep spec's ``m`` axis, and seeds 0 … 255 its seed pool: the cells at one (n, m) take
the smallest seeds not used there yet (a width whose pool is spent is no longer a candidate).
For init sweeps the cells of one (m, seed) at several n share their network, as in any sweep.

Rounds run on the sweep engine (:func:`~.engine.run_sweep` with ``only=`` the round's cells, one
dask client for all rounds).  Each round's plan — per n the phase, the width, the seeds and the
posterior summary the decision was made from — is written to ``OUT/adaptive.json`` (atomically)
*before* its cells run; the final summary and the cell savings are added at the end.  Resuming
(``resume=True``) first finishes the last logged round's cells, then plans from the stored
rows: the cells are deterministic given their seeds and the plan is a function of the rows, so
a killed and resumed sweep makes the same decisions and ends with the same table as one that
ran through.  ``target_ci`` and ``max_cells`` may be changed on resume (each invocation's
values are logged); the other settings may not.

Cell savings (:func:`grid_equivalent`): at the law found (the joint probit fit's m*½(n) and s(n); per-n posterior medians when it
fails),
the number of seeds per cell S_n that a full geometric ×√2 grid over ``[m_lo, m_hi]`` needs for
the same credible half-width at that n (the target, or the half-width reached where the budget
stopped the design first) (the median over simulated grids of the smallest such S),
and the grid's cells Σ_n S_n·|grid| — each n with its own S_n, the most favourable full grid —
against the cells the design used.

Layout: this module is the design itself — the model, the posterior, the plan of a round and
the full-grid comparison, all functions of stored rows, with no I/O; :mod:`.adaptive_run`
runs the rounds on the engine, keeps ``adaptive.json`` and resumes.  The two halves read apart:
the statistics can be checked on planted laws without a sweep directory.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse, special

from bounds._errors import invalid

from .spec import SweepSpec

__all__ = ["AdaptiveDesign", "plan_round", "Posterior", "grid_equivalent", "LOG", "SCHEMA",
           "SEED_POOL", "ADAPTIVE_KINDS", "RESUME_FIXED"]

SCHEMA = "implicit-verify/adaptive/1"
LOG = "adaptive.json"
#: seeds available at one (n, m)
SEED_POOL = 256
#: candidate widths per doubling of m
STEPS_PER_OCTAVE = 16
#: task kinds with an adaptive design
ADAPTIVE_KINDS = ("init", "gd")
_MU_STEP = 0.01
_S_MIN, _S_MAX, _S_POINTS = 0.01, 2.0, 40
#: full-grid comparison: ×√2 grid, seeds per cell tried up to this many, simulated grids
_GRID_FACTOR = math.sqrt(2.0)
_GRID_S_MAX = 400
_GRID_REPS = 20


@dataclass(frozen=True)
class AdaptiveDesign:
    """Settings of an adaptive sweep (module docstring).

    ``outcome``: the registered outcome whose threshold is designed for; ``q``: its quantile;
    ``m_lo``, ``m_hi``: the search range of widths; ``target_ci``: the half-width of the
    ``ci`` credible interval of log m*_q at which an n stops; ``max_cells``: the budget of
    cells of the whole sweep; ``seeds_per_round``: cells per n per round (all at one width).
    """

    outcome: str
    m_lo: int
    m_hi: int
    q: float = 0.5
    target_ci: float = 0.1
    max_cells: int = 2000
    seeds_per_round: int = 4
    ci: float = 0.95
    bracket_ratio: float = 2.0

    def __post_init__(self) -> None:
        for name, v, lo in (("m_lo", self.m_lo, 1), ("m_hi", self.m_hi, 1),
                            ("max_cells", self.max_cells, 1),
                            ("seeds_per_round", self.seeds_per_round, 1)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
                raise invalid(name, v, f"must be an integer ≥ {lo}",
                              {"max_cells": "pass e.g. --max-cells 500",
                               "seeds_per_round": "pass e.g. --seeds 4"}.get(
                                  name, "pass e.g. --m 16,8192"))
        if self.seeds_per_round > SEED_POOL:
            raise invalid("seeds_per_round", self.seeds_per_round,
                          f"more than the {SEED_POOL} seeds of one width",
                          "pass e.g. --seeds 4 (cells per n per round)")
        if self.m_hi < 2 * self.m_lo:
            raise invalid("m", f"{self.m_lo}…{self.m_hi}", "the adaptive search range must span "
                          "at least a factor 2", "pass the range's ends, e.g. --m 16,8192")
        if not (isinstance(self.q, (int, float)) and 0.0 < float(self.q) < 1.0):
            raise invalid("q", self.q, "the quantile must lie in (0, 1)", "pass e.g. --quantile 0.5")
        t = self.target_ci
        if not (isinstance(t, (int, float)) and math.isfinite(t) and t > 0):
            raise invalid("target_ci", t, "must be a positive number (the half-width of the CI "
                          "of log m*_q)", "pass e.g. --target-ci 0.1")
        if t < 2 * _MU_STEP:
            raise invalid("target_ci", t, f"is below the design's resolution ({2 * _MU_STEP} in "
                          "log m: the posterior grid's step is 0.01)", "pass --target-ci ≥ 0.02")
        if not (isinstance(self.ci, float) and 0.5 <= self.ci < 1.0):
            raise invalid("ci", self.ci, "must be a float in [0.5, 1)", "pass ci=0.95")
        if not (isinstance(self.bracket_ratio, (int, float)) and self.bracket_ratio > 1.0):
            raise invalid("bracket_ratio", self.bracket_ratio, "must be > 1", "pass 2.0")
        from .outcomes import OUTCOMES

        if self.outcome not in OUTCOMES:
            raise invalid("outcome", self.outcome, "is not a registered outcome",
                          f"use one of {sorted(o for o in OUTCOMES if OUTCOMES[o].kind in ADAPTIVE_KINDS)}")

    # -------------------------------------------------------------------------- helpers
    def candidates(self) -> tuple[int, ...]:
        """The candidate widths (module docstring); the sweep spec's ``m``."""
        out = set()
        j = 0
        while True:
            v = int(round(self.m_lo * 2.0 ** (j / STEPS_PER_OCTAVE)))
            if v > self.m_hi:
                break
            out.add(v)
            j += 1
        out.add(int(self.m_hi))
        return tuple(sorted(out))

    def sweep_spec(self, base: SweepSpec) -> SweepSpec:
        """``base`` with the candidate widths as ``m`` and the seed pool as ``seeds``."""
        from .outcomes import OUTCOMES

        if base.kind not in ADAPTIVE_KINDS:
            raise invalid("kind", base.kind, "has no adaptive design",
                          f"use --kind {' or --kind '.join(ADAPTIVE_KINDS)} with --adaptive "
                          "(or drop --adaptive)")
        if OUTCOMES[self.outcome].kind != base.kind:
            raise invalid("outcome", self.outcome, f"is an outcome of {OUTCOMES[self.outcome].kind}"
                          f" sweeps, not of --kind {base.kind}",
                          f"use one of {sorted(o for o in OUTCOMES if OUTCOMES[o].kind == base.kind)}")
        return replace(base, m=self.candidates(), seeds=tuple(range(SEED_POOL)))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AdaptiveDesign:
        return cls(**d)


#: design fields that must not change on resume (target_ci and max_cells may)
#: design settings that a resumed adaptive sweep must keep (target_ci and max_cells may change)
RESUME_FIXED = ("outcome", "m_lo", "m_hi", "q", "seeds_per_round", "ci", "bracket_ratio")


class Posterior:
    """The (μ, log s) grid posterior of one n (module docstring) and θ_q's marginal on it."""

    def __init__(self, design: AdaptiveDesign):
        lo = math.log(design.m_lo) - 0.5
        hi = math.log(design.m_hi) + 0.5
        self.mu = lo + _MU_STEP * np.arange(int(math.ceil((hi - lo) / _MU_STEP)) + 1)
        self.logs = np.linspace(math.log(_S_MIN), math.log(_S_MAX), _S_POINTS)
        MU, LS = np.meshgrid(self.mu, self.logs, indexing="ij")
        self.mu_f, self.s_f = MU.ravel(), np.exp(LS.ravel())
        self.z = float(special.ndtri(design.q))
        self.theta_f = self.mu_f + self.z * self.s_f
        self.lo = lo
        B = self.mu.size
        self.bins = np.clip(np.rint((self.theta_f - lo) / _MU_STEP), 0, B - 1).astype(int)
        self.agg = sparse.csr_matrix((np.ones(self.bins.size), (np.arange(self.bins.size), self.bins)),
                                     shape=(self.bins.size, B))
        self.ci = design.ci

    def weights(self, x: np.ndarray, k: np.ndarray, N: np.ndarray) -> np.ndarray:
        """Normalised posterior over the flattened grid from cells (log m, successes, trials)."""
        ll = np.zeros(self.mu_f.size)
        for xi, ki, Ni in zip(x, k, N, strict=True):
            e = (xi - self.mu_f) / self.s_f
            ll += ki * special.log_ndtr(e) + (Ni - ki) * special.log_ndtr(-e)
        w = np.exp(ll - ll.max())
        return w / w.sum()

    def marginal(self, w: np.ndarray) -> np.ndarray:
        return np.bincount(self.bins, weights=w, minlength=self.mu.size)

    def quantile(self, marg: np.ndarray, a: float) -> float:
        cdf = np.cumsum(marg)
        j = int(np.searchsorted(cdf, a * cdf[-1]))
        j = min(j, marg.size - 1)
        prev = cdf[j - 1] if j > 0 else 0.0
        frac = (a * cdf[-1] - prev) / marg[j] if marg[j] > 0 else 0.5
        return float(self.mu[j] - _MU_STEP / 2 + min(max(frac, 0.0), 1.0) * _MU_STEP)

    def summary(self, w: np.ndarray) -> dict[str, float]:
        """Median, equal-tailed interval, half-width of θ_q; posterior medians of μ and s."""
        marg = self.marginal(w)
        a = (1.0 - self.ci) / 2.0
        lo, med, hi = (self.quantile(marg, v) for v in (a, 0.5, 1.0 - a))
        order = np.argsort(self.s_f, kind="stable")
        cs = np.cumsum(w[order])
        s_med = float(self.s_f[order][min(int(np.searchsorted(cs, 0.5)), cs.size - 1)])
        mu_marg = np.bincount(np.clip(np.rint((self.mu_f - self.lo) / _MU_STEP), 0,
                                      self.mu.size - 1).astype(int), weights=w,
                              minlength=self.mu.size)
        return {"log_mstar": med, "lo": lo, "hi": hi, "halfwidth": (hi - lo) / 2.0,
                "m_star": math.exp(med), "m_lo": math.exp(lo), "m_hi": math.exp(hi),
                "mu": self.quantile(mu_marg, 0.5), "s": s_med,
                "s_mean": float(np.dot(w, self.s_f))}

    def best_width(self, w: np.ndarray, cand: np.ndarray, r: int) -> int:
        """Index into ``cand`` (log widths) of the psi-marginal choice for r trials."""
        keep = w > w.max() * 1e-12
        wk, mu, s = w[keep], self.mu_f[keep], self.s_f[keep]
        wk = wk / wk.sum()
        e = (cand[:, None] - mu[None, :]) / s[None, :]
        lp, l1p = special.log_ndtr(e), special.log_ndtr(-e)
        agg = self.agg[np.nonzero(keep)[0]]
        eh = np.zeros(cand.size)
        for kk in range(r + 1):
            lk = math.log(special.comb(r, kk)) + kk * lp + (r - kk) * l1p
            joint = wk[None, :] * np.exp(lk)               # P(k, grid point | x)
            pk = joint.sum(axis=1)
            marg = np.asarray((agg.T @ joint.T).T)         # P(k, θ bin | x)
            with np.errstate(divide="ignore", invalid="ignore"):
                cond = marg / pk[:, None]
                h = -np.where(cond > 0, cond * np.log(cond), 0.0).sum(axis=1)
            eh += np.where(pk > 0, pk * h, 0.0)
        return int(np.argmin(eh))


def _cells_at(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(widths, successes, decided trials) of the rows of one n (indicator column ``y``)."""
    d = rows[np.isfinite(rows["y"].to_numpy(float))]
    if d.empty:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    g = d.groupby("m")["y"].agg(["sum", "count"]).sort_index()
    return g.index.to_numpy(float), g["sum"].to_numpy(float), g["count"].to_numpy(float)


def _nearest(cands: np.ndarray, target: float) -> int:
    return int(cands[int(np.argmin(np.abs(np.log(cands) - math.log(target))))])


def _bracket_width(design: AdaptiveDesign, cands: np.ndarray, widths: np.ndarray,
                   k: np.ndarray, N: np.ndarray, tried: set[int]) -> tuple[int | None, list[Any]]:
    """The bisection phase's next width (None: bracketed or the range is spent) and [L, U]."""
    freq = k / np.maximum(N, 1)
    above = widths[freq >= design.q]
    U = float(above.min()) if above.size else None
    below = widths[(freq < design.q) & (widths < (U if U is not None else math.inf))]
    L = float(below.max()) if below.size else None
    if L is not None and U is not None and U / L <= design.bracket_ratio:
        return None, [L, U]
    lo = L if L is not None else float(design.m_lo)
    hi = U if U is not None else float(design.m_hi)
    mid = _nearest(cands, math.sqrt(lo * hi))
    if mid not in tried:
        return mid, [L, U]
    for end, missing in ((int(cands[-1]), U is None), (int(cands[0]), L is None)):
        if missing and end not in tried:
            return end, [L, U]
    return None, [L, U]


def plan_round(table: pd.DataFrame, design: AdaptiveDesign, ns: tuple[int, ...],
               cells_used: int | None = None) -> dict[str, Any]:
    """The next round from the stored rows (module docstring): ``{"cells": [[n, m, seed], …],
    "per_n": {n: {...}}, "stopped": {n: reason}}``; no cells when the design has ended."""
    from .outcomes import outcome_indicator

    cands = np.array(design.candidates(), dtype=float)
    post = Posterior(design)
    t = table.copy()
    t["y"] = outcome_indicator(t, design.outcome).to_numpy(float) if len(t) else np.zeros(0)
    used = len(t) if cells_used is None else cells_used
    per_n: dict[str, Any] = {}
    stopped: dict[str, str] = {}
    wants: dict[int, tuple[int, list[int]]] = {}
    for n in ns:
        rows = t[t["n"] == n]
        widths, k, N = _cells_at(rows)
        seen = rows.groupby("m")["seed"].apply(lambda s: set(int(v) for v in s)).to_dict() \
            if len(rows) else {}
        full = {int(m) for m, ss in seen.items() if len(ss) > SEED_POOL - design.seeds_per_round}
        tried = {int(m) for m in seen}
        info: dict[str, Any] = {"cells_before": int(len(rows)), "decided": int(N.sum())}
        w = post.weights(np.log(widths), k, N)
        est = post.summary(w)
        info["estimate"] = est
        if widths.size and est["halfwidth"] <= design.target_ci:
            stopped[str(n)] = "target"
        elif widths.size and est["lo"] > math.log(design.m_hi):
            stopped[str(n)] = "above_range"
        elif widths.size and est["hi"] < math.log(design.m_lo):
            stopped[str(n)] = "below_range"
        if str(n) in stopped:
            info["phase"] = "stopped"
            per_n[str(n)] = info
            continue
        m_next, brk = _bracket_width(design, cands, widths, k, N, tried)
        info["bracket"] = brk
        if m_next is not None and m_next not in full:
            info["phase"] = "bisection"
        else:
            info["phase"] = "psi"
            span = 2.0 * est["s_mean"]
            marg = post.marginal(w)
            a, b = post.quantile(marg, 0.001) - span, post.quantile(marg, 0.999) + span
            ok = np.array([(a <= math.log(c) <= b) and int(c) not in full for c in cands])
            if not ok.any():
                ok = np.array([int(c) not in full for c in cands])
            if not ok.any():
                stopped[str(n)] = "seed_pool"
                info["phase"] = "stopped"
                per_n[str(n)] = info
                continue
            sub = cands[ok]
            m_next = int(sub[post.best_width(w, np.log(sub), design.seeds_per_round)])
        free = [s for s in range(SEED_POOL) if s not in seen.get(m_next, set())]
        info["m"] = int(m_next)
        wants[n] = (int(m_next), free[:design.seeds_per_round])
        per_n[str(n)] = info
    cells: list[list[int]] = []
    budget = max(design.max_cells - used, 0)
    for j in range(design.seeds_per_round):  # cut to the budget one seed per n at a time
        for n in ns:
            if n in wants and j < len(wants[n][1]) and len(cells) < budget:
                cells.append([int(n), wants[n][0], int(wants[n][1][j])])
    if wants and not budget:
        for n in wants:
            stopped[str(n)] = "max_cells"
    for n in wants:
        per_n[str(n)]["seeds"] = [c[2] for c in cells if c[0] == n]
    return {"cells": cells, "per_n": per_n, "stopped": stopped, "cells_used_before": int(used)}


def grid_equivalent(laws: dict[int, tuple[float, float]], design: AdaptiveDesign, *,
                    targets: dict[int, float] | None = None, reps: int = _GRID_REPS,
                    seed: int = 0) -> dict[str, Any]:
    """Seeds per cell a full ×√2 grid over [m_lo, m_hi] needs at each n for the credible
    half-width ``targets[n]`` (default the design's ``target_ci``), at the probit law
    ``laws[n] = (μ, s)`` (module docstring)."""
    grid = []
    v = float(design.m_lo)
    while v <= design.m_hi * (1 + 1e-9):
        grid.append(int(round(v)))
        v *= _GRID_FACTOR
    widths = np.array(sorted(set(grid)), dtype=float)
    x = np.log(widths)
    post = Posterior(design)
    e = (x[:, None] - post.mu_f[None, :]) / post.s_f[None, :]
    lp, l1p = special.log_ndtr(e), special.log_ndtr(-e)
    rng = np.random.default_rng(seed)
    a = (1.0 - design.ci) / 2.0
    per_n: dict[str, Any] = {}
    total = 0
    for n in sorted(laws):
        mu, s = laws[n]
        tgt = float((targets or {}).get(n, design.target_ci))
        p = special.ndtr((x - mu) / s)
        need = []
        for _ in range(reps):
            y = rng.random((_GRID_S_MAX, x.size)) < p[None, :]
            K = np.cumsum(y, axis=0).astype(float)                      # successes after S seeds
            S = np.arange(1, _GRID_S_MAX + 1, dtype=float)[:, None]
            ll = K @ lp + (S - K) @ l1p                                 # (S, grid points)
            found = _GRID_S_MAX + 1
            lo_s, hi_s = 0, _GRID_S_MAX - 1
            # the half-width falls with S up to noise: the first S in a doubling/bisection search
            def hw(i: int, ll: np.ndarray = ll) -> float:
                w = np.exp(ll[i] - ll[i].max())
                marg = post.marginal(w / w.sum())
                return (post.quantile(marg, 1 - a) - post.quantile(marg, a)) / 2.0

            i = 0
            while i < _GRID_S_MAX and hw(i) > tgt:
                lo_s = i
                i = 2 * i + 1
            if i < _GRID_S_MAX:
                hi_s = i
                while hi_s - lo_s > 1:
                    mid = (lo_s + hi_s) // 2
                    if hw(mid) <= tgt:
                        hi_s = mid
                    else:
                        lo_s = mid
                found = hi_s + 1 if hw(hi_s) <= tgt else _GRID_S_MAX + 1
                if hi_s == 0 and hw(0) <= tgt:
                    found = 1
            need.append(found)
        S_n = int(np.median(need))
        per_n[str(n)] = {"seeds_per_cell": S_n, "capped": S_n > _GRID_S_MAX,
                         "cells": S_n * int(widths.size), "mu": mu, "s": s, "target": tgt}
        total += S_n * int(widths.size)
    s_max = max((v["seeds_per_cell"] for v in per_n.values()), default=0)
    return {"grid": [int(w) for w in widths], "factor": _GRID_FACTOR, "reps": reps, "seed": seed,
            "per_n": per_n, "cells_per_n_seeds": total,
            "cells_uniform_seeds": s_max * int(widths.size) * len(per_n),
            "note": "median over simulated grids of the smallest seeds per cell reaching the "
                    "design's credible half-width, at the per-n law (law_from)"}
