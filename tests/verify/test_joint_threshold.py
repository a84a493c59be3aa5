"""The joint width-threshold fit over every n (issue 24): separation, words, recovery, coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from verify.sweep.joint_threshold import fit_joint
from verify.sweep.thresholds import fit_width_threshold, scaling_words


def simulate(rng, ns, ms, seeds, a=2.8, p=1.0, s0=0.5, shrink=0.5, rho=0.6):
    """Rows of a sweep with P(success | n, m) = Φ((log m − log(a n^p)) / s(n)),
    s(n) = s0 (n/n0)^(−shrink), and a latent z shared by every n of one (seed, m) (init sweeps
    share W per (m, seed) between nested data sets): success iff
    log m − log m*(n) > s(n)(ρ z + √(1−ρ²) ε).  Marginally each cell is exactly the probit law.
    """
    ns = np.asarray(ns)
    rows_n, rows_m, rows_s, rows_y = [], [], [], []
    for sd in range(seeds):
        z = rng.standard_normal(len(ms))
        for j, m in enumerate(ms):
            eps = rng.standard_normal(ns.size)
            s = s0 * (ns / ns[0]) ** (-shrink)
            lat = rho * z[j] + np.sqrt(1 - rho**2) * eps
            y = np.log(m) - np.log(a * ns.astype(float) ** p) > s * lat
            rows_n += list(ns)
            rows_m += [m] * ns.size
            rows_s += [sd] * ns.size
            rows_y += list(y.astype(float))
    return pd.DataFrame({"n": rows_n, "m": rows_m, "seed": rows_s, "ok": rows_y})


X2 = 2.0 ** np.arange(1, 13)            # the ×2 grid 2 … 4096
NS = [16, 32, 64, 128, 256]


def test_every_n_separated_still_gives_a_finite_exponent_covering_the_truth():
    # spread 0.02 and m* = 2.8 n between the grid points 2n and 4n: every n is completely
    # separated (all fail at ≤ 2n, all succeed at ≥ 4n); the per-n fits give brackets only
    df = simulate(np.random.default_rng(0), NS, X2, 10, s0=0.02, shrink=0.0, rho=0.0)
    res = fit_width_threshold(df, "ok", q=(0.5,), n_boot=0, compare_links=False)
    assert set(res.fits["kind"]) == {"bracket"}
    law = res.law(0.5)
    assert law.n_used == tuple(NS) and law.threshold
    assert np.isfinite(law.p) and law.p_lo <= 1.0 <= law.p_hi
    assert np.isfinite(law.p_lo) and np.isfinite(law.p_hi)
    # each joint m*½(n) lies in its bracket [2n, 4n]
    jt = res.joint_thresholds
    assert ((jt["m_star"] >= 2 * jt["n"]) & (jt["m_star"] <= 4 * jt["n"])).all()


def test_planted_law_is_recovered_with_shrinking_spread():
    df = simulate(np.random.default_rng(1), NS, 2.0 ** np.arange(1, 14, 0.5), 30, a=2.0, p=1.5,
                  s0=0.6, shrink=0.3, rho=0.0)
    res = fit_width_threshold(df, "ok", q=(0.5, 0.9), n_boot=40, seed=3, compare_links=False)
    law = res.law(0.5)
    assert law.p_lo <= 1.5 <= law.p_hi and abs(law.p - 1.5) < 0.1
    for key in ("profile", "seed_block"):
        lo, hi = law.intervals[key]
        assert lo <= 1.5 <= hi, key
    jt = res.joint_thresholds[np.isclose(res.joint_thresholds["q"], 0.5)]
    truth = 2.0 * jt["n"].to_numpy(float) ** 1.5
    assert (np.abs(np.log(jt["m_star"] / truth)) < 0.15).all()
    spreads = np.array([res.joint.spreads[n] for n in NS])
    true_s = 0.6 * (np.array(NS) / 16.0) ** -0.3
    assert (np.abs(np.log(spreads / true_s)) < 0.3).all()       # structured spread recovered
    assert res.joint.quality["fits"]


def test_spread_structure_is_tested_against_one_spread_per_n():
    rng = np.random.default_rng(5)
    parts = [simulate(rng, [n], 2.0 ** np.arange(1, 14, 0.25), 30, a=2.0, s0=s, shrink=0.0,
                      rho=0.0) for n, s in zip(NS, [1.0, 0.1, 1.0, 0.1, 1.0], strict=True)]
    df = pd.concat(parts, ignore_index=True)
    st = fit_width_threshold(df, "ok", q=(0.5,), n_boot=0, profile=False,
                             compare_links=False).joint.quality["spread_test"]
    assert st is not None and st["df"] == 3 and st["p"] < 0.01


def test_a_law_that_does_not_fit_is_flagged_in_the_words():
    # a plateau at ½ over two decades of widths: no probit (or logit, cloglog) curve follows it
    rng = np.random.default_rng(2)
    ms = 2.0 ** np.arange(1, 14)
    rows = []
    for n in (16, 32, 64):
        for m in ms:
            pr = 0.0 if m < n / 4 else 1.0 if m > 16 * n else 0.5
            rows += [{"n": n, "m": m, "seed": s, "ok": float(rng.random() < pr)} for s in range(40)]
    res = fit_width_threshold(pd.DataFrame(rows), "ok", q=(0.5,), n_boot=0)
    q = res.joint.quality
    assert not q["fits"] and set(q["links"]) == {"probit", "logit", "cloglog"}
    assert "does not fit" in res.law(0.5).words and "DOES NOT FIT" in res.law(0.5).reason


@pytest.mark.parametrize("ci", [(-0.4, 1.3), (-2.2, 1.62), (0.0, 2.5)])
def test_words_for_a_ci_containing_zero_never_say_consistent(ci):
    preds = {"GG22 m = Ω(N)": 1.0, "G22 Lemma 3.3": 3.47, "matrix Chernoff": 1.73}
    w = scaling_words(0.5, ci[0], ci[1], 0.95, predictions=preds)
    assert "consistent" not in w and "contains 0" in w
    assert "consistent" not in scaling_words(0.5, 0.2, 1.3, 0.95)   # no predictions: no verdict


def test_flat_threshold_words_from_a_fit():
    # m* does not depend on n (true p = 0): the CI holds 0 and the words confirm no theory
    df = simulate(np.random.default_rng(4), NS, 2.0 ** np.arange(1, 10, 0.5), 10, a=20.0, p=0.0,
                  s0=0.8, shrink=0.0, rho=0.0)
    law = fit_width_threshold(df, "ok", q=(0.5,), n_boot=0, compare_links=False,
                              predictions={"GG22 m = Ω(N)": 1.0}).law(0.5)
    assert law.p_lo <= 0.0 <= law.p_hi
    assert "consistent" not in law.words


def test_outcomes_without_a_threshold_get_no_exponent():
    rng = np.random.default_rng(6)
    coin = simulate(rng, NS, X2, 10).assign(ok=lambda d: (rng.random(len(d)) < 0.5).astype(float))
    always = coin.assign(ok=1.0)
    for df, what in ((coin, "does not rise"), (always, "below the grid")):
        law = fit_width_threshold(df, "ok", q=(0.5,), n_boot=0, compare_links=False).law(0.5)
        assert law.p is None and not law.threshold
        assert "not a width threshold on this grid" in law.words and what in law.words


def test_undecidable_rows_are_left_out_of_the_joint_likelihood():
    df = simulate(np.random.default_rng(7), NS[:3], X2, 8)
    a = fit_joint(df["n"], df["m"], df["seed"], df["ok"], n_boot=0, profile=False)
    df2 = pd.concat([df, df.head(5).assign(ok=np.nan)], ignore_index=True)
    b = fit_joint(df2["n"], df2["m"], df2["seed"], df2["ok"], n_boot=0, profile=False)
    assert np.allclose(a.theta, b.theta)


def test_seed_block_bootstrap_keeps_the_dependence_of_one_seed():
    """Each seed has its own threshold offset z (the same at every n and m): cells are not
    independent.  The profile and parametric intervals assume they are; resampling seeds as
    blocks sees that m*½(n) rests on 20 seeds (wider) and that p, a difference between n of
    the same seeds, does not move with the offsets (narrower)."""
    rng = np.random.default_rng(11)
    rows = []
    for sd in range(20):
        z = rng.standard_normal()
        rows += [(n, m, sd, float(np.log(m) - np.log(2.0 * n) > 0.6 * z))
                 for m in 2.0 ** np.arange(1, 14, 0.5) for n in NS]
    df = pd.DataFrame(rows, columns=["n", "m", "seed", "ok"])
    f = fit_joint(df["n"], df["m"], df["seed"], df["ok"], n_boot=60, seed_boot=0,
                  compare_links=False)
    for r in f.thresholds:
        w_sb = np.log(r["seed_block"][1] / r["seed_block"][0])
        w_pr = np.log(r["profile"][1] / r["profile"][0])
        assert w_sb > 1.5 * w_pr, r["n"]
    law = f.laws[0.5]
    assert law.profile[0] <= law.seed_block[0] <= law.seed_block[1] <= law.profile[1]


# ---------------------------------------------------------------- coverage (slow)

@pytest.mark.slow
def test_joint_profile_ci_coverage_near_nominal():
    """Coverage of the 95 % profile-likelihood CIs of p and of m*½(n) over R = 200 simulated
    sweeps: ×2 grid (2 … 4096), n = 16 … 256, 20 seeds, spreads shrinking as n^(−½) (so the
    large n are completely separated in most sweeps) and a latent shared by every n of one
    (seed, m) with ρ = 0.6.  Accepted: within ±0.04 of 0.95 (the issue's tolerance; the
    binomial standard deviation of a coverage estimate over 200 sweeps is 0.015).  Measured
    (rng seed 2026, 388 s on a busy 2-core machine): p 0.920, m*½ 0.930, 2.2 separated n per
    sweep — both somewhat below nominal, inside the tolerance."""
    R = 200
    rng = np.random.default_rng(2026)
    hit_p = hit_m = tot_m = 0
    sep = 0
    for _ in range(R):
        df = simulate(rng, NS, X2, 20)
        res = fit_width_threshold(df, "ok", q=(0.5,), n_boot=0, compare_links=False)
        sep += int((res.fits["kind"] == "bracket").sum())
        law = res.law(0.5)
        hit_p += law.p_lo <= 1.0 <= law.p_hi
        jt = res.joint_thresholds
        truth = 2.8 * jt["n"].to_numpy(float)
        hit_m += int(((jt["m_star_lo"] <= truth) & (truth <= jt["m_star_hi"])).sum())
        tot_m += len(jt)
    cov_p, cov_m = hit_p / R, hit_m / tot_m
    print(f"coverage p {cov_p:.3f}, m*½ {cov_m:.3f}; separated n per sweep {sep / R:.2f}")
    assert abs(cov_p - 0.95) <= 0.04
    assert abs(cov_m - 0.95) <= 0.04


def test_simulator_marginal_is_the_probit_law():
    # the shared latent changes the dependence between n, not the law of one cell
    df = simulate(np.random.default_rng(8), [16, 64], [40.0, 60.0], 4000, s0=0.5, shrink=0.5)
    for (n, m), g in df.groupby(["n", "m"]):
        s = 0.5 * (n / 16) ** -0.5
        pr = stats.norm.cdf((np.log(m) - np.log(2.8 * n)) / s)
        assert abs(g["ok"].mean() - pr) < 4 * np.sqrt(pr * (1 - pr) / len(g)) + 1e-3
