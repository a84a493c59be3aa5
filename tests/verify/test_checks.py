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


# ------------------------------------------------------------------ issue 11: referee-proof verdicts
def _hidden_spec(event: bool = False) -> TheoremSpec:
    """A width condition m ≥ C_width·n² and a claim u_norm ≤ 10 that depends on it."""
    n, Cw = symbol("n"), symbol("C_width")
    width = Bound("width", "T(w)", Cw * n**2, Provenance.HIDDEN)
    cap = Bound("cap", "T(ii)", sp.Integer(10), Provenance.PAPER)
    return TheoremSpec(
        key="toy-h", title="Toy: hidden", paper="none", symbols={}, hidden={"C_width": 1.0},
        assumptions=(), conditions=(Condition("width", "T(w)", "m", "ge", width),),
        claims=(Claim("cap", "T(ii)", "u_norm", "le", cap, "both", ("width",), event=event),),
        bounds=(width, cap),
    )


_SYM = {"n": 10, "m": 400, "d": 2, "gamma": 0.1, "alpha": 0.1, "delta": 0.01, "lambda0": 0.2,
        "c": 2.0, "X_norm": 1.0, "e0_norm": 2.0}


def test_break_even_constant_is_where_the_condition_is_exactly_met():
    cond = _hidden_spec().condition("width")
    be = cond.break_even("C_width", 400.0, n=10)
    assert be["break_even"] == pytest.approx(4.0, rel=1e-12)  # 400 = C·10²
    assert be["satisfied_for"] == "C <= C*"
    assert cond.check(400.0, n=10, C_width=4.0 * (1 - 1e-9)).satisfied
    assert not cond.check(400.0, n=10, C_width=4.0 * (1 + 1e-9)).satisfied
    # an upper-bound condition (α ≤ C·λ0/n², G22's step) is met for C ≥ C*
    step = bounds.g22_spec("gd").condition("step")
    bs = step.break_even("C_step", 0.01, lambda0=0.2, n=10)
    assert bs["satisfied_for"] == "C >= C*" and bs["break_even"] == pytest.approx(5.0)
    with pytest.raises(bounds.InvalidArgument, match="hidden"):
        cond.break_even("C_step", 400.0, n=10)


def test_claim_verdict_flips_between_two_values_of_a_hidden_constant():
    trace = {"step": np.arange(3.0), "u_norm": np.array([1.0, 11.0, 12.0])}
    # C = 1 only: the width m = 400 ≥ 100 holds, the observation fails → violated
    v1 = {v.name: v for v in check_spec(_hidden_spec(), trace, _SYM, hidden_range=(1.0, 1.0))}
    assert v1["width"].status == "holds" and v1["cap"].status == "violated"
    # C = 10 only: the width condition fails → the same observation is vacuous
    v10 = {v.name: v for v in check_spec(_hidden_spec(), trace, _SYM, hidden={"C_width": 10.0},
                                         hidden_range=(10.0, 10.0))}
    assert v10["width"].status == "violated" and v10["cap"].status == "vacuous"
    # over the default range [1e-3, 1e3], which contains the break-even C* = 4: inconclusive
    vr = {v.name: v for v in check_spec(_hidden_spec(), trace, _SYM)}
    assert vr["width"].status == "inconclusive"
    assert vr["width"].details["break_even"]["C_width"]["break_even"] == pytest.approx(4.0)
    assert vr["cap"].status == "inconclusive"
    assert vr["cap"].details["inconclusive_reason"] == "hidden constant"
    assert vr["cap"].details["observed_status"] == "violated"
    # a range that excludes C* decides it: [1e-3, 3.9] keeps the hypothesis met
    v39 = {v.name: v for v in check_spec(_hidden_spec(), trace, _SYM, hidden_range=(1e-3, 3.9))}
    assert v39["cap"].status == "violated"
    with pytest.raises(bounds.InvalidArgument, match="hidden_range"):
        check_spec(_hidden_spec(), trace, _SYM, hidden_range=(2.0, 1.0))


def test_explicit_hypothesis_set_replaces_the_hidden_width():
    spec = bounds.g22_spec("gd")
    from verify.experiment.checks import explicit_hypotheses

    hy = explicit_hypotheses(spec, spec.claim("W_move_R").hypotheses)
    assert "width_lemma36_explicit" in hy and "width_lemma36" not in hy
    with pytest.raises(bounds.InvalidArgument, match="hypotheses"):
        check_spec(_hidden_spec(), {"step": np.zeros(1)}, _SYM, hypotheses="mine")


def test_inconclusive_hypothesis_is_not_met():
    """An assumption without a numerical check is inconclusive; a claim resting on it that
    fails is inconclusive, not violated; one that holds still holds."""
    cap = Bound("cap", "T", sp.Integer(10), Provenance.PAPER)
    spec = TheoremSpec(
        key="t", title="T: t", paper="none", symbols={}, hidden={},
        assumptions=(Assumption("mystery", "T A", "no checker"),), conditions=(),
        claims=(Claim("bad", "T(i)", "u_norm", "le", cap, "both", ("mystery",)),
                Claim("good", "T(ii)", "v_norm", "le", cap, "both", ("mystery",))),
        bounds=(cap,))
    tr = {"step": np.arange(2.0), "u_norm": np.array([1.0, 20.0]), "v_norm": np.ones(2)}
    vs = {v.name: v for v in check_spec(spec, tr, _SYM)}
    assert vs["bad"].status == "inconclusive"
    assert vs["bad"].details["inconclusive_reason"] == "hypothesis inconclusive"
    assert vs["good"].status == "holds"


def test_sparse_checks_and_frobenius_certificate():
    """W_move computed exactly at steps 0 and 4 only; ‖ΔW‖_F at every step decides the others
    where ‖ΔW‖_F ≤ bound (holds) or ‖ΔW‖_F/√rank > bound (violated)."""
    b = Bound("r", "T", sp.Integer(1), Provenance.PAPER)
    spec = TheoremSpec(key="t", title="T: t", paper="none", symbols={}, hidden={},
                       assumptions=(), conditions=(),
                       claims=(Claim("W_move_R", "T", "W_move", "le", b, "both", ()),), bounds=(b,))
    sym = {**_SYM, "m": 9, "d": 4}  # rank(ΔW) ≤ min(m, d) = 4: ‖ΔW‖₂ ≥ ‖ΔW‖_F/2
    nan = np.nan
    tr = {"step": np.arange(5.0),
          "W_move": np.array([0.0, nan, nan, nan, 3.0]),
          "W_move_fro": np.array([0.0, 0.5, 1.5, 2.5, 4.0])}
    v = check_spec(spec, tr, sym)[0]
    d = v.details
    # step 1: F = 0.5 ≤ 1 holds; step 2: 0.75 ≤ ‖·‖₂ ≤ 1.5 undecided; step 3: ≥ 1.25 > 1 violated
    assert (d["steps_total"], d["steps_exact"], d["steps_certified"], d["steps_undecided"]) == \
        (5, 2, 2, 1)
    assert v.status == "violated" and v.first_violation_step == 3
    assert d["first_violation_source"] == "certificate"
    assert d["first_violation_exact"] is False  # step 2 before it is undecided
    assert "first among the checked steps" in v.message and "3 of 5" not in v.message
    assert "4 of 5 recorded steps" in v.message
    # without the Frobenius norms the same claim is decided at the exact steps only
    v2 = check_spec(spec, {k: tr[k] for k in ("step", "W_move")}, sym)[0]
    assert v2.first_violation_step == 4 and v2.details["steps_undecided"] == 3


def test_eigenvalue_ties_use_the_eigensolver_error_bound():
    """λ_min(G) = bound − 1e-13: beyond 1e3·eps·|bound| (the old rule: violated) but within
    (n + m)·eps·n·φ_max² → inconclusive; a clear gap is still violated."""
    b = Bound("half", "T", sp.Rational(1, 1000), Provenance.PAPER)
    spec = TheoremSpec(key="t", title="T: t", paper="none", symbols={}, hidden={},
                       assumptions=(), conditions=(),
                       claims=(Claim("lam", "T", "lambda_min_G", "ge", b, "both", ()),), bounds=(b,))
    sym = {**_SYM, "n": 100, "m": 400}
    tr = {"step": np.zeros(1), "lambda_min_G": np.array([1e-3 - 1e-13]), "phi_max": np.ones(1)}
    assert 1e-13 > 1e3 * EPS * 1e-3  # the old tolerance would have called this violated
    assert 1e-13 < (100 + 400) * EPS * 100  # inside the eigensolver bound
    v = check_spec(spec, tr, sym)[0]
    assert v.status == "inconclusive" and "(n + m)·eps" in v.details["eig_error_bound"]
    tr["lambda_min_G"] = np.array([1e-3 - 1e-9])
    assert check_spec(spec, tr, sym)[0].status == "violated"


def test_probabilistic_event_and_structural_impossibility():
    b = Bound("tq", "T", sp.Rational(3, 4) * symbol("lambda0"), Provenance.PAPER)
    spec = TheoremSpec(
        key="t", title="T: t", paper="none", symbols={}, hidden={},
        assumptions=(Assumption("init_gram", "T (event)", "", checked_by=("ev",)),),
        conditions=(), claims=(Claim("ev", "T", "lambda_min_G", "ge", b, "both", (),
                                     at_init_only=True, event=True),), bounds=(b,))
    tr = {"step": np.arange(2.0), "lambda_min_G": np.array([0.01, 0.5]), "phi_max": np.ones(2)}
    # m ≥ n: one draw where the event did not occur → not a violation of the lemma
    v = {x.name: x for x in check_spec(spec, tr, {**_SYM, "n": 10, "m": 400})}
    assert v["ev"].status == "inconclusive"
    assert v["ev"].details["inconclusive_reason"] == "event did not occur"
    assert "event did not occur" in v["ev"].message and "Clopper–Pearson" in v["ev"].message
    assert v["init_gram"].details["event_occurred"] is False
    # m < n: rank G ≤ m < n makes λ_min(G) = 0 whatever the draw: the lemma itself fails
    v = {x.name: x for x in check_spec(spec, tr, {**_SYM, "n": 10, "m": 5})}
    assert v["ev"].status == "violated" and "rank G ≤ m = 5 < n = 10" in v["ev"].message
    assert "structural" in v["init_gram"].details


def test_gradient_flow_claims_need_a_fine_discretisation():
    cap = Bound("cap", "T", sp.Integer(10), Provenance.PAPER)
    spec = TheoremSpec(key="t", title="T: t", paper="none", symbols={}, hidden={},
                       assumptions=(), conditions=(),
                       claims=(Claim("c", "T", "u_norm", "le", cap, "gf", ()),
                               Claim("c0", "T", "u_norm", "le", cap, "both", (),
                                     at_init_only=True)), bounds=(cap,))
    tr = {"step": np.arange(2.0), "u_norm": np.array([1.0, 2.0])}
    sym = {**_SYM, "alpha": 0.1}
    fine = {v.name: v for v in check_spec(spec, tr, sym, mode="gf", lambda_max_H0=0.5)}
    assert fine["c"].status == "holds"  # α·λ_max = 0.05 ≤ 0.1
    coarse = {v.name: v for v in check_spec(spec, tr, sym, mode="gf", lambda_max_H0=5.0)}
    assert coarse["c"].status == "inconclusive"
    assert coarse["c"].details["inconclusive_reason"] == "discretisation"
    assert coarse["c0"].status == "holds"  # initialisation does not depend on the dynamics
    unknown = check_spec(spec, tr, sym, mode="gf")[0]
    assert unknown.status == "inconclusive"
    looser = check_spec(spec, tr, sym, mode="gf", lambda_max_H0=5.0, gf_threshold=1.0)[0]
    assert looser.status == "holds"
