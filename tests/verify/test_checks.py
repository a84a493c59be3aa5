"""Verdict logic (verify.experiment.checks) on hand-made traces and specs: statuses, tolerance, ratios,
vacuity, assumptions, rate fits.  Pure NumPy/sympy: fast."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

import bounds
from bounds import Assumption, Bound, Claim, Condition, Provenance, TheoremSpec, symbol
from verify.experiment.checks import (
    Verdict,
    _compare,
    check_data,
    check_init,
    check_spec,
    fit_rates,
    slack_tol,
)

EPS = np.finfo(np.float64).eps


def test_slack_tol_is_1e3_eps():
    assert slack_tol("float64") == pytest.approx(1e3 * EPS)
    assert slack_tol("float32") == pytest.approx(1e3 * np.finfo(np.float32).eps)
    assert slack_tol("torch.float32") == slack_tol("float32")


@pytest.mark.parametrize(
    "obs, bnd, sense, status, first",
    [
        ([1.0, 2.0, 3.0], [3.0, 3.0, 3.0], "le", "holds", None),  # tie at the last step holds
        ([1.0, 2.0, 3.0 * (1 + 10 * EPS)], [3.0, 3.0, 3.0], "le", "inconclusive", None),
        ([1.0, 4.0, 5.0], [3.0, 3.0, 3.0], "le", "violated", 1),
        ([5.0, 4.0, 3.0], [3.0, 3.0, 3.0], "ge", "holds", None),
        ([5.0, 2.0, 1.0], [3.0, 3.0, 3.0], "ge", "violated", 1),
        ([np.nan, 2.0, np.nan], [1.0, 3.0, 1.0], "le", "holds", None),  # NaN steps skipped
    ],
)
def test_compare_statuses(obs, bnd, sense, status, first):
    cmp = _compare(np.array(obs), np.array(bnd), sense, slack_tol())
    assert cmp["status"] == status
    assert cmp["first"] == first


def test_compare_all_nan_is_none():
    assert _compare(np.array([np.nan]), np.array([1.0]), "le", 1e-12)["status"] is None


# ------------------------------------------------------------------ a tiny spec
def _spec() -> TheoremSpec:
    k, e0 = symbol("k"), symbol("e0_norm")
    res = Bound("res", "T(i)", e0**2 * sp.Rational(1, 2) ** k, Provenance.PAPER)
    cap = Bound("cap", "T(ii)", sp.Integer(10), Provenance.PAPER)
    width = Bound("width", "T(w)", sp.Integer(100), Provenance.PAPER)
    floor = Bound("floor", "T(iii)", sp.Integer(2), Provenance.PAPER)
    return TheoremSpec(
        key="toy", title="Toy: a test theorem", paper="none", symbols={}, hidden={},
        assumptions=(Assumption("mystery", "T Assumption 9", "no checker exists"),),
        conditions=(Condition("width", "T(w)", "m", "ge", width),),
        claims=(
            Claim("decay", "T(i)", "residual_sq", "le", res, "both", ()),
            Claim("cap", "T(ii)", "u_norm", "le", cap, "both", ("width",)),
            Claim("floor", "T(iii)", "lambda_min_G", "ge", floor, "both", ()),
            Claim("init_only", "T(iv)", "u_norm", "le", floor, "both", (), at_init_only=True),
            Claim("missing", "T(v)", "not_recorded", "le", cap, "both", ()),
            Claim("gf_only", "T(vi)", "u_norm", "le", cap, "gf", ()),
        ),
        bounds=(res, cap, width, floor),
    )


def _trace():
    k = np.arange(5, dtype=np.float64)
    return {
        "step": k,
        "time": 0.1 * k,
        "residual_sq": 4.0 * 0.25**k,  # decays faster than the bound 4·(½)^k; tie at k = 0
        "u_norm": np.array([1.0, 2.0, 12.0, 3.0, 11.0]),  # above cap 10 from step 2
        "lambda_min_G": np.array([3.0, np.nan, np.nan, np.nan, 2.5]),
    }


def test_check_spec_statuses_and_vacuity():
    sym = {"n": 3, "m": 50, "d": 2, "gamma": 0.1, "alpha": 0.1, "delta": 0.01, "lambda0": 0.2,
           "c": 2.0, "X_norm": 1.0, "e0_norm": 2.0}
    vs = {v.name: v for v in check_spec(_spec(), _trace(), sym, mode="gd")}
    assert "gf_only" not in vs  # GF-only claims are skipped in GD mode
    assert vs["mystery"].status == "inconclusive" and "no numerical check" in vs["mystery"].message
    w = vs["width"]
    assert (w.kind, w.status, w.observed, w.bound) == ("condition", "violated", 50.0, 100.0)
    assert w.ratio == pytest.approx(2.0)  # bound/observed for a ≥ condition
    d = vs["decay"]
    assert d.status == "holds" and d.slack == pytest.approx(1.0) and d.worst_step == 0
    cap = vs["cap"]
    assert cap.status == "vacuous" and cap.hypotheses_failed == ("width",)
    # observed values are still reported for a vacuous claim
    assert cap.details["observed_status"] == "violated"
    assert cap.first_violation_step == 2 and cap.worst_step == 2
    assert cap.observed == 12.0 and cap.bound == 10.0 and cap.ratio == pytest.approx(1.2)
    fl = vs["floor"]
    assert fl.status == "holds" and fl.ratio == pytest.approx(2.0 / 2.5) and fl.worst_step == 4
    assert vs["init_only"].status == "holds" and vs["init_only"].details["steps_checked"] == 1
    assert vs["missing"].status == "inconclusive"


def test_check_spec_needs_step():
    with pytest.raises(bounds.InvalidArgument, match="trace"):
        check_spec(_spec(), {"loss": np.zeros(2)}, {})


def test_verdict_roundtrip_and_status_validation():
    v = Verdict("a", "L", "claim", "holds", observable="x", sense="le", observed=1.0, bound=2.0,
                ratio=0.5, slack=2.0, hypotheses_failed=("h",), details={"q": 1})
    assert Verdict.from_dict(v.to_dict()) == v
    with pytest.raises(bounds.InvalidArgument, match="status"):
        Verdict("a", "L", "claim", "fine")


# ------------------------------------------------------------------ assumptions
def test_check_data_names_parallel_pair():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 3))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    X[4] = X[1]
    v = check_data(bounds.audit_data(X))
    assert v.status == "violated"
    assert v.details["parallel_pairs"] == [[1, 4]]
    assert "(1,4)" in v.message
    ok = check_data(bounds.audit_data(X[:4]))
    assert ok.status == "holds" and ok.details["worst_pair"] is not None


def test_check_init_moments_and_rademacher():
    rng = np.random.default_rng(1)
    m, d = 64, 5
    P = {"A": rng.standard_normal((m, m)), "W": rng.standard_normal((m, d)),
         "u": rng.choice([-1.0, 1.0], m), "v": rng.choice([-1.0, 1.0], m)}
    assert check_init(P).status == "holds"
    bad_scale = {**P, "A": 2.0 * P["A"]}
    v = check_init(bad_scale)
    assert v.status == "violated" and "A entries" in v.message
    bad_u = {**P, "u": 0.5 * P["u"]}
    assert check_init(bad_u).status == "violated"


# ------------------------------------------------------------------ rates
def test_fit_rates_exact_geometric():
    q = 0.9
    k = np.arange(0, 50, 2, dtype=np.float64)
    tr = {"step": k, "residual_sq": 3.0 * q**k, "lambda_min_H": np.full(k.shape, 0.5)}
    r = fit_rates(tr, alpha=0.1, lambda0=0.4)
    assert r["observed_rate"] == pytest.approx(q, rel=1e-12)
    assert r["theory_rate"] == pytest.approx(1 - 0.1 * 0.4 / 2)
    assert r["path_rate"] == pytest.approx(1 - 0.1 * 0.5)
    assert r["path_rate_geomean"] == pytest.approx(r["path_rate"])
    assert r["fit_range"] == [0, 48]
    assert r["observed_rate_tail"] == pytest.approx(q, rel=1e-12) and r["fit_range_tail"] == [24, 48]
    # both predictions are ≥ the observed 0.9: valid; the path one (0.95) is closer
    assert r["theory_valid"] and r["path_valid"] and r["tighter"] == "path"
    assert 0 < r["theory_efficiency"] < r["path_efficiency"] <= 1


def test_fit_rates_floor_nan_and_invalid_prediction():
    k = np.arange(10, dtype=np.float64)
    res = 1.0 * 0.5**k
    res[3] = np.nan
    res[8:] = 0.0  # exact fit reached: excluded by the floor
    tr = {"step": k, "residual_sq": res, "lambda_min_H": np.full(10, 20.0)}
    r = fit_rates(tr, alpha=0.1, lambda0=0.2)
    assert r["fit_range"] == [0, 7] and r["fit_points"] == 7
    assert r["observed_rate"] == pytest.approx(0.5, rel=1e-12)
    # path rate 1 − 0.1·20 = −1 < 0.5: promises faster decay than observed → invalid
    assert r["path_valid"] is False and r["theory_valid"] is True
    assert r["tighter"] == "theory"


def test_fit_rates_gf_formulas():
    k = np.arange(5, dtype=np.float64)
    tr = {"step": k, "residual_sq": np.exp(-0.3 * k), "lambda_min_H": np.full(5, 1.0)}
    r = fit_rates(tr, alpha=0.1, lambda0=0.5, mode="gf")
    assert r["theory_rate"] == pytest.approx(math.exp(-0.05))
    assert r["path_rate"] == pytest.approx(math.exp(-0.2))
    assert r["observed_rate"] == pytest.approx(math.exp(-0.3))
    assert r["tighter"] == "path"
