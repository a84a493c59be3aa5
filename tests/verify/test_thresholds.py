"""Width thresholds, scaling exponent, outcome registry, theory comparison (issue 14)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import sympy as sp
from scipy import optimize, stats

from bounds import InvalidArgument, g22_spec, gg22_spec, required_width, symbol
from verify.sweep.outcomes import OUTCOMES, claim_status_indicator, outcome_indicator
from verify.sweep.thresholds import clopper_pearson, fit_width_threshold, probit_mle
from verify.sweep.width_theory import implied_constant_expr, theory_vs_measured


def probit_table(rng, ns, a, p, s, seeds, ms):
    """Bernoulli outcomes with P(success) = Φ((log m − log(a n^p)) / s): m*_½(n) = a n^p."""
    n_ = np.repeat(ns, len(ms) * seeds)
    m_ = np.tile(np.repeat(ms, seeds), len(ns))
    pr = stats.norm.cdf((np.log(m_) - np.log(a * n_.astype(float) ** p)) / s)
    return pd.DataFrame({"n": n_, "m": m_, "seed": np.tile(np.arange(seeds), len(ns) * len(ms)),
                         "ok": rng.random(pr.size) < pr})


def table_from_counts(n, counts):
    """Rows for one n from {m: (successes, trials)}."""
    rows = []
    for m, (k, N) in counts.items():
        rows += [{"n": n, "m": m, "seed": s, "ok": s < k} for s in range(N)]
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- Clopper–Pearson, probit MLE

def _tail_ge(k, N, p):
    return sum(math.comb(N, j) * p**j * (1 - p) ** (N - j) for j in range(k, N + 1))


@pytest.mark.parametrize("k,N", [(0, 10), (3, 10), (10, 10), (1, 1), (17, 40), (39, 40)])
def test_clopper_pearson_matches_exact_binomial_tails(k, N):
    lo, hi = (float(v) for v in clopper_pearson(k, N, 0.95))
    # lo solves P(X ≥ k | lo) = 2.5 %, hi solves P(X ≤ k | hi) = 2.5 %  (exact sums, math.comb)
    if k == 0:
        assert lo == 0.0
    else:
        assert _tail_ge(k, N, lo) == pytest.approx(0.025, rel=1e-8)
    if k == N:
        assert hi == 1.0
    else:
        assert 1.0 - _tail_ge(k + 1, N, hi) == pytest.approx(0.025, rel=1e-8)
    assert float(stats.binom.sf(k - 1, N, lo)) == pytest.approx(0.025 if k else 1.0, rel=1e-8)


def test_probit_mle_agrees_with_scipy_optimize():
    x = np.linspace(-2, 2, 7)
    k = np.array([0, 1, 3, 4, 8, 9, 10.0])
    N = np.full(7, 10.0)
    theta, conv = probit_mle(x, k[None], N[None])
    assert conv[0]

    def nll(t):
        eta = t[0] + t[1] * x
        return -np.sum(k * stats.norm.logcdf(eta) + (N - k) * stats.norm.logcdf(-eta))

    ref = optimize.minimize(nll, np.zeros(2), method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000})
    assert np.allclose(theta[0], ref.x, atol=1e-6)


# ---------------------------------------------------------------- recovery of p and m*

@pytest.mark.parametrize("p,ns,ms", [
    (1.0, [16, 32, 64, 128, 256], 2.0 ** np.arange(1, 16)),
    (2.0, [8, 16, 32, 64], 2.0 ** np.arange(1, 17)),
])
def test_synthetic_probit_law_recovers_exponent(p, ns, ms):
    rng = np.random.default_rng(7)
    df = probit_table(rng, np.array(ns), 2.0, p, 0.6, 20, ms)
    res = fit_width_threshold(df, "ok", q=(0.5, 0.9), n_boot=100, seed=11,
                              predictions={"linear width": 1.0, "quadratic width": 2.0})
    law = res.law(0.5)
    print(f"p true {p}: {law.words}; bootstrap seed 11")
    assert law.p_lo <= p <= law.p_hi
    assert law.p_hi - law.p_lo < 0.5            # informative, not a vacuous interval
    other = 2.0 if p == 1.0 else 1.0
    assert not (law.p_lo <= other <= law.p_hi)
    assert ("on these data of linear width" in law.words) == (p == 1.0)
    assert ("on these data of quadratic width" in law.words) == (p == 2.0)
    assert law.n_used == tuple(ns)
    th = res.thresholds
    assert (th["kind"] == "fit").all()
    # m*_0.9 = a n^p · exp(s Φ⁻¹(0.9)) > m*_0.5
    piv = th.pivot(index="n", columns="q", values="m_star")
    assert (piv[0.9] > piv[0.5]).all()
    assert res.law(0.9).p is not None
    assert th["C"].to_numpy() == pytest.approx(th["m_star"] / th["n"])


def test_monotone_data_give_monotone_fit():
    df = table_from_counts(32, {4: (0, 10), 8: (1, 10), 16: (2, 10), 32: (6, 10),
                                64: (7, 10), 128: (10, 10)})
    res = fit_width_threshold(df, "ok", q=(0.2, 0.5, 0.8), n_boot=50, seed=0)
    assert res.fits["kind"].iloc[0] == "fit" and res.fits["slope"].iloc[0] > 0
    fitted = res.cells.sort_values("m")["fitted"].to_numpy()
    assert np.all(np.diff(fitted) > 0)
    ms = res.thresholds.sort_values("q")["m_star"].to_numpy()
    assert np.all(np.diff(ms) > 0)
    cells = res.cells.set_index("m")
    assert cells.loc[16, "freq"] == 0.2 and cells.loc[16, "trials"] == 10


# ---------------------------------------------------------------- bounds instead of numbers

def test_bound_kinds():
    rows = pd.concat([
        table_from_counts(8, {4: (10, 10), 8: (10, 10)}),                   # never fails
        table_from_counts(16, {4: (0, 10), 8: (0, 10)}),                    # never succeeds
        table_from_counts(32, {4: (0, 10), 8: (0, 10), 16: (10, 10), 32: (10, 10)}),  # separated
        table_from_counts(64, {4: (0, 10), 8: (4, 10), 16: (10, 10)}),      # quasi-separated
        table_from_counts(128, {4: (10, 10), 8: (3, 10), 16: (0, 10)}),     # falls with m
    ])
    res = fit_width_threshold(rows, "ok", q=(0.5,), n_boot=30, seed=1)
    th = res.thresholds.set_index("n")
    assert th.loc[8, "kind"] == "below_grid" and th.loc[8, "m_star_hi"] == 4.0
    assert th.loc[16, "kind"] == "above_grid" and th.loc[16, "m_star_lo"] == 8.0
    assert math.isinf(th.loc[16, "m_star_hi"])
    assert th.loc[32, "kind"] == "bracket"
    assert (th.loc[32, "m_star_lo"], th.loc[32, "m_star_hi"]) == (8.0, 16.0)
    assert th.loc[64, "kind"] == "bracket"
    assert (th.loc[64, "m_star_lo"], th.loc[64, "m_star_hi"]) == (4.0, 16.0)
    assert th.loc[128, "kind"] == "decreasing"
    assert th["m_star"].isna().all()                      # no invented numbers
    law = res.law(0.5)
    assert law.n_used == (8, 16, 32, 64, 128)          # every n is in the joint likelihood
    assert set(law.n_bounds_only) == {8, 16, 32, 64, 128}
    recs = res.to_records()
    json.dumps(recs, allow_nan=False)
    assert {"outcome", "n", "m_star", "m_star_lo", "m_star_hi", "p", "p_lo", "p_hi"} <= set(recs[0])
    by_n = {r["n"]: r for r in recs}
    assert by_n[16]["m_star_hi"] is None and by_n[16]["m_star"] is None
    text = res.summary()
    assert "m* < 4 (smallest m tried" in text and "m* > 8 (largest m tried" in text
    assert "seed = 1" in text and "between 8 and 16" in text


def test_no_bootstrap_gives_point_exponent_without_ci():
    df = probit_table(np.random.default_rng(0), np.array([16, 64]), 2.0, 1.0, 0.6, 20,
                      2.0 ** np.arange(1, 13))
    law = fit_width_threshold(df, "ok", q=(0.5,), n_boot=0).law(0.5)
    # without bootstrap the interval is the profile likelihood's
    assert law.p is not None and law.method == "profile likelihood"
    assert law.p_lo < law.p < law.p_hi and law.intervals["seed_block"] is None


def test_undecidable_cells_are_excluded_and_counted():
    df = table_from_counts(16, {4: (0, 10), 8: (3, 10), 16: (7, 10), 32: (10, 10)})
    df["ok"] = df["ok"].astype(object)
    df.loc[[0, 15], "ok"] = None
    res = fit_width_threshold(df, "ok", n_boot=10)
    assert res.excluded == 2
    assert res.cells["excluded"].sum() == 2 and res.cells["trials"].sum() == 38


@pytest.mark.parametrize("kw,match", [
    ({"outcome": "nope"}, "outcome"), ({"q": (0.5, 1.0)}, "q"), ({"n_boot": -1}, "n_boot"),
    ({"ci": 95}, "ci"),
])
def test_bad_arguments(kw, match):
    df = table_from_counts(8, {4: (1, 3)})
    with pytest.raises(InvalidArgument, match=match):
        fit_width_threshold(df, **{"outcome": "ok", **kw})
    with pytest.raises(InvalidArgument, match="table"):
        fit_width_threshold(df.drop(columns="seed"), "ok")
    with pytest.raises(InvalidArgument, match="outcome"):
        fit_width_threshold(df.assign(ok="yes"), "ok")


# ---------------------------------------------------------------- outcome registry

def test_outcome_indicators_on_hand_built_rows():
    eps = np.finfo(float).eps
    t = pd.DataFrame({
        "n": [10, 10, 10, 10, 10],
        "m": [8] * 5, "seed": range(5),
        "status": ["done", "done", "done", "error", "done"],
        "lambda0": [0.4, 0.4, np.nan, 0.4, 0.4],
        "lam_min_G0": [0.31, 0.29, 0.5, 0.35, 0.32],
        "G0_dev_op": [0.09, 0.11, 0.05, 0.01, 0.099],
        "lam_min_H0": [1e-3, 1e-15, 2.0, 1.0, np.nan],
        "lam_max_H0": [10.0, 10.0, 4.0, 4.0, 4.0],
        "reached": [True, False, None, True, "True"],
        "max_H_dev_rel": [0.2, 0.5, 0.51, 0.1, np.nan],
        "claim_lemma36_iv": ["holds", "violated", "vacuous (holds)", "holds", "inconclusive"],
    })
    ind = {name: outcome_indicator(t, name).tolist() for name in
           ("lemma33_init", "G0_dev", "ntk_full_rank", "gd_reached", "kernel_stays",
            "claim_lemma36_iv")}
    nan = float("nan")

    def same(a, b):
        return all((x == y) or (math.isnan(x) and math.isnan(y)) for x, y in zip(a, b, strict=True))

    assert same(ind["lemma33_init"], [1, 0, nan, nan, 1])   # 0.75·0.4 = 0.3
    assert same(ind["G0_dev"], [1, 0, nan, nan, 1])          # 0.4/4 = 0.1
    # 1e-15 < 4·10·eps·10 ≈ 8.9e-14: not certified full rank
    assert 1e-15 < 4 * 10 * eps * 10.0
    assert same(ind["ntk_full_rank"], [1, 0, 1, nan, nan])
    assert same(ind["gd_reached"], [1, 0, nan, nan, 1])
    assert same(ind["kernel_stays"], [1, 1, 0, nan, nan])
    assert same(ind["claim_lemma36_iv"], [1, 0, 1, nan, nan])
    with pytest.raises(InvalidArgument, match="lam_min_G0"):
        outcome_indicator(t.drop(columns="lam_min_G0"), "lemma33_init")


def test_claim_outcomes_generated_from_spec():
    names = {f"claim_{c.name}" for c in g22_spec("gd").claims if "Lemma 3.6" in c.label}
    assert {"claim_lemma36_i", "claim_lemma36_vi"} <= names <= set(OUTCOMES)
    assert [claim_status_indicator(s) for s in ("vacuous (violated)", "vacuous", None, "x")][0] == 0
    assert all(math.isnan(claim_status_indicator(s)) for s in ("vacuous", None, "x"))


def test_registered_outcome_feeds_the_fit():
    rng = np.random.default_rng(3)
    df = probit_table(rng, np.array([16]), 1.0, 1.0, 0.6, 10, 2.0 ** np.arange(1, 9))
    df["lambda0"] = 0.4
    df["lam_min_G0"] = np.where(df["ok"], 0.35, 0.2)
    a = fit_width_threshold(df, "lemma33_init", n_boot=20, seed=5)
    b = fit_width_threshold(df, "ok", n_boot=20, seed=5)
    assert a.thresholds["m_star"].equals(b.thresholds["m_star"])
    assert "Lemma 3.3" in a.source


# ---------------------------------------------------------------- theory vs measured

def _sphere(n, d, seed):
    X = np.random.default_rng(seed).standard_normal((n, d))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def test_implied_constant_reproduces_measured_width():
    rng = np.random.default_rng(4)
    ns = np.array([16, 32, 64])
    df = probit_table(rng, ns, 2.0, 1.0, 0.6, 20, 2.0 ** np.arange(1, 13))
    res = fit_width_threshold(df, "ok", n_boot=60, seed=2)
    data = {int(n): _sphere(int(n), 12, int(n)) for n in ns}
    for spec in (g22_spec("gd"), gg22_spec()):
        tc = theory_vs_measured(res, data, spec=spec)
        assert len(tc.rows) == len(ns) * len(spec.width_conditions())
        for r in tc.rows[tc.rows["constant"] != ""].itertuples():
            # oracle: the bounds solver, with the constant set to the implied value, puts the
            # smallest admissible width at the measured m* (integer ceiling, c(m) at integer m)
            w = required_width(data[r.n], spec=spec, hidden={r.constant: r.implied}).entry(r.condition)
            assert r.m_star <= w.width <= r.m_star + 2, (r.condition, r.n)
            assert r.ratio == pytest.approx(r.theory_width / r.m_star)
    lin = theory_vs_measured(res, data, spec=gg22_spec())
    sub = lin.rows[lin.rows["condition"] == "width_linear"]
    assert sub["implied"].to_numpy() == pytest.approx(sub["m_star"] / sub["n"])   # C_lin = m*/n
    assert lin.trends[0].word == "flat"           # synthetic m* = 2n: C_lin has no trend
    g22 = theory_vs_measured(res, data, spec=g22_spec("gd"))
    assert {t.word for t in g22.trends} == {"falling"}   # n² formulas against a linear m*


def test_implied_constant_requires_linearity():
    C, n = symbol("C_width"), symbol("n")
    M = sp.Symbol("m_measured", positive=True)
    assert sp.simplify(implied_constant_expr(C * n**2, "C_width") - M / n**2) == 0
    with pytest.raises(InvalidArgument, match="C_width"):
        implied_constant_expr(C**2 * n, "C_width")
    with pytest.raises(InvalidArgument, match="C_width"):
        implied_constant_expr(C * n + 1, "C_width")


# ---------------------------------------------------------------- coverage (slow)

@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="measured: the seed-block percentile CI of p covers 0.890 "
                   "(R = 200, rng 2024; per-n m* diagnostic 0.932) — below 0.95 − 3σ = 0.904 "
                   "with 20 seeds; the reported interval is the envelope with the profile CI "
                   "(profile alone: 0.920 in test_joint_profile_ci_coverage_near_nominal)")
def test_exponent_ci_coverage_near_nominal():
    """Coverage over R independent synthetic sweeps (bootstrap seed r) of the 95 % seed-block
    bootstrap CI of the joint fit's p (``profile=False``: the law's interval is then the
    seed-block one) and of the per-n diagnostic bootstrap CIs of m*½(n).

    Tolerance: the number of covering replicates is Binomial(R, 0.95) if the CI is exact, so
    we accept the empirical coverage within 3 binomial standard deviations of 0.95
    (σ = √(0.95·0.05/R) ≈ 0.0154 at R = 200: band [0.904, 0.996]).
    """
    R, p = 200, 1.0
    rng = np.random.default_rng(2024)
    ns, ms = np.array([16, 32, 64, 128]), 2.0 ** np.arange(1, 18)
    hits_p = hits_m = total_m = 0
    for r in range(R):
        df = probit_table(rng, ns, 2.0, p, 0.6, 20, ms)
        res = fit_width_threshold(df, "ok", q=(0.5,), n_boot=100, seed=r, profile=False,
                                  compare_links=False)
        law = res.law(0.5)
        assert law.method == "seed-block bootstrap"
        hits_p += law.p_lo <= p <= law.p_hi
        th = res.thresholds
        truth = 2.0 * th["n"] ** p
        hits_m += int(((th["m_star_lo"] <= truth) & (truth <= th["m_star_hi"])).sum())
        total_m += len(th)
    sigma = math.sqrt(0.95 * 0.05 / R)
    cov_p, cov_m = hits_p / R, hits_m / total_m
    print(f"coverage p {cov_p:.3f}, m* {cov_m:.3f} (R = {R}, band ±{3 * sigma:.3f})")
    assert abs(cov_p - 0.95) <= 3 * sigma
    assert abs(cov_m - 0.95) <= 3 * math.sqrt(0.95 * 0.05 / total_m)
