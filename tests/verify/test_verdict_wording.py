"""Report sentences generated from the verdicts (issue 11, item 6): rate only where the step
condition holds, slack never from a claim that holds by construction, Lemma 3.4 worded as a gap
in the proof, known issue 3 for all data, events. Hand-made records: fast."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from test_report import fixture_runs

import bounds
import verify.report as R
from verify.experiment.rates import fit_rates


def _with(runs, extra_verdicts=(), rates=None, drop=()):
    out = []
    for r in runs:
        rec = copy.deepcopy(r.record)
        rec["verdicts"] = [v for v in rec["verdicts"] if v["name"] not in drop]
        rec["verdicts"] += [dict(v) for v in extra_verdicts]
        if rates:
            rec["rates"].update(rates)
        out.append(R.ReportRun(record=rec, trace=r.trace, run_dir=r.run_dir))
    return out


def _step(status):
    return {"name": "step", "label": "G22 Thm 3.2 / Lemma 3.6", "kind": "condition",
            "status": status, "observable": "alpha", "sense": "le", "observed": 0.5,
            "bound": 2.5e-5 if status != "holds" else 1.0, "ratio": 2e4, "slack": None,
            "hidden": ["C_step"], "hypotheses_failed": [], "message": "",
            "details": {"break_even": {"C_step": {"constant": "C_step", "break_even": 2e4,
                                                  "satisfied_for": "C >= C*"}}}}


def _summary(runs):
    return "\n".join(R.build_summary(runs)["summary"])


def test_rate_sentence_only_claims_faster_where_the_step_condition_holds():
    runs = fixture_runs()
    late = {"observed_rate_tail": 0.99, "fit_range_tail": [15, 30]}
    bad = _summary(_with(runs, [_step("violated")], late))
    assert "faster than guaranteed" not in bad and "below the guaranteed value" not in bad
    assert "no guarantee applies to this α: the step condition is not met" in bad
    assert f"met only for C_step ≥ {R.fmt(2e4)}" in bad
    # the guaranteed decrease at the largest admissible step, from the spec's claim (vi)
    lam = runs[0].symbols["lambda0"]
    assert f"decrease of {R.fmt(2.5e-5 * lam / 2)}" in bad
    assert "late-time fit" in bad and "0.01 (m = 16)" in bad  # 1 − r from observed_rate_tail
    good = _summary(_with(runs, [_step("holds")], {"observed_rate_tail": 0.9}))
    assert "faster than guaranteed" in good and "no guarantee applies" not in good


def test_tightest_slack_never_comes_from_a_claim_that_holds_by_construction():
    by_constr = {"name": "lemma21_W_init", "label": "G22 Lemma 2.1", "kind": "claim",
                 "status": "holds", "observable": "W_norm", "sense": "le", "observed": 1.0,
                 "bound": 1.003, "ratio": 1 / 1.003, "slack": 1.003, "worst_step": 0,
                 "hypotheses_failed": [], "message": "", "details": {"event": True}}
    text = _summary(_with(fixture_runs(vacuous=False), [by_constr]))
    assert "slack ranges from 1.003×" not in text
    assert "left out, holding by construction: Lemma 2.1 [‖W(k)‖₂]: c is measured from A(0), W(0)" in text


def test_lemma34_is_worded_as_a_gap_in_the_proof_not_a_failure_of_the_lemma():
    def v(name, label, obs, first, ratio):
        return {"name": name, "label": label, "kind": "claim", "status": "vacuous",
                "observable": obs, "sense": "le", "observed": 2.0, "bound": 1.0,
                "ratio": ratio, "slack": None, "first_violation_step": first, "worst_step": 30,
                "hypotheses_failed": ["width_lemma36"], "message": "",
                "details": {"observed_status": "violated", "steps_checked": 31,
                            "steps_total": 31}}
    text = _summary(_with(fixture_runs(), [
        v("W_move_R", "G22 Lemma 3.6 proof (Lemma 3.4 hypothesis)", "W_move", 1, 1e6),
        v("G_dev", "G22 Lemma 3.4", "G_dev", 22, 1e4)]))
    assert "were violated" not in text and "was violated" not in text
    assert "outside Lemma 3.4's radius" in text and "no failure of Lemma 3.4" in text
    assert "first among the checked steps at step 1" in text


def test_known_issue_3_for_all_data():
    runs = fixture_runs()
    text = _summary(runs)
    X, lam = runs[0].symbols["X_norm"], runs[0].symbols["lambda0"]
    # the two sides of issue 3 (GD): C ≤ 1024λ0/‖X‖² for (ii); 8‖X‖²/λ0 under the explicit 8192
    assert "C_width_lemma ≤ 1024λ0/‖X‖² ((ii))" in text
    assert f"8‖X‖²/λ0 = {R.fmt(8 * X**2 / lam)}" in text
    assert "at least 16 and 64 for any data" in text


def test_issue3_limits_make_both_sides_equal():
    """Independent of the sympy derivation: at C = C_max the width hypothesis equals the k = 0
    limit bound², numerically, for random positive values."""
    spec = bounds.g22_spec("gd")
    lim = bounds.g22_issue3_limits("gd")
    rng = np.random.default_rng(0)
    for _ in range(5):
        vals = dict(c=rng.uniform(1, 3), n=rng.uniform(2, 100), X_norm=rng.uniform(1, 10),
                    e0_norm=rng.uniform(0.1, 10), lambda0=rng.uniform(1e-4, 0.5), m=100.0)
        C = float(lim["C_max_ii"].subs({bounds.symbol(k): v for k, v in vals.items()}))
        w = spec.bound("width_lemma36").evaluate(**vals, C_width_lemma=C)
        u = spec.bound("u_norm_max").evaluate(**vals)
        assert w == pytest.approx(u * u, rel=1e-12)
        r = float(lim["explicit_ratio_ii"].subs({bounds.symbol(k): v for k, v in vals.items()}))
        assert r == pytest.approx(spec.bound("width_lemma36_explicit").evaluate(**vals) / u**2,
                                  rel=1e-12)


def test_events_are_worded_as_outcomes():
    ev = {"name": "lemma33_init", "label": "G22 Lemma 3.3", "kind": "claim", "status": "vacuous",
          "observable": "lambda_min_G", "sense": "ge", "observed": 0.0, "bound": 0.1,
          "ratio": math.inf, "slack": None, "first_violation_step": 0, "worst_step": 0,
          "hypotheses_failed": ["width_lemma33"], "message": "",
          "details": {"observed_status": "violated", "event": True,
                      "structural": "rank G ≤ m = 16 < n = 20, so λ_min(G) = 0 whatever the draw"}}
    runs = _with(fixture_runs(), [ev])
    text = _summary(runs)
    assert "probabilistic event" in text and "the event is impossible at m ∈ {16, 32, 64}" in text
    assert "Clopper–Pearson" in text
    md = R.render_markdown(R.build_summary(runs))
    assert "event impossible" in md and "vacuous (event" not in md


def test_gd_path_rate_uses_K_as_in_eq_43():
    k = np.arange(6.0)
    tr = {"step": k, "residual_sq": 4.0 * 0.9**k, "lambda_min_H": np.full(6, 0.5),
          "lambda_min_K": np.full(6, 0.2)}
    r = fit_rates(tr, 0.1, 0.1)
    assert r["path_rate"] == pytest.approx(1 - 0.1 * 0.2) and r["path_formula"].endswith("(K)")
    assert r["path_rate_H"] == pytest.approx(1 - 0.1 * 0.5)
    tr.pop("lambda_min_K")
    assert fit_rates(tr, 0.1, 0.1)["path_rate"] == pytest.approx(1 - 0.1 * 0.5)


def test_provenance_fixes():
    gd = bounds.g22_spec("gd")
    assert gd.bound("u_move_max").provenance.value == "paper"
    assert gd.bound("v_move_max").provenance.value == "paper"
    assert {c.name for c in gd.claims if c.event} == {"lemma33_init", "lemma21_A_init",
                                                      "lemma21_W_init"}
    gg = bounds.gg22_spec("gd")
    assert "necessary" in gg.condition("gamma_init_necessary").label
    assert any("Eq. 16" in t and "first factor" in t and "as printed" in t
               for t in gd.known_issues)


def test_vacuous_count_includes_events_and_mixed_observations():
    ev = {"name": "lemma33_init", "label": "G22 Lemma 3.3", "kind": "claim", "status": "vacuous",
          "observable": "lambda_min_G", "sense": "ge", "observed": 0.0, "bound": 0.1,
          "ratio": math.inf, "slack": None, "first_violation_step": 0, "worst_step": 0,
          "hypotheses_failed": ["width_lemma33"], "message": "",
          "details": {"observed_status": "violated", "event": True}}
    runs = _with(fixture_runs(), [ev])
    n_vac_table = sum(1 for g in {v["name"] for v in runs[0].verdicts("claim")}
                      if all(r.verdict(g)["status"] == "vacuous" for r in runs))
    assert f"{n_vac_table} of the 8 claims are vacuous at every width" in _summary(runs)
