"""G22 and GG22 specs: constants as printed in digest A, provenance, hypotheses, derivations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from bounds_testdata import EPS, unit_rows
from hypothesis import given
from hypothesis import strategies as st

from bounds import Provenance, g22_spec, gg22_spec, lambda0, required_width

# docs/CONTRACTS.md, "Trace observables"
OBSERVABLES = {
    "step", "time", "loss", "residual_sq", "test_loss", "A_norm", "W_norm", "A_norm_scaled",
    "W_norm_scaled", "contraction", "u_norm", "v_norm", "u_move", "v_move", "A_move", "W_move",
    "A_move_fro", "W_move_fro", "phi_max", "z_max", "Z_step", "lambda_min_G", "lambda_min_H",
    "lambda_min_K", "G_dev", "flip_D", "flip_E", "fwd_iters", "fwd_residual", "adj_iters",
    "adj_residual",
}

# constants typed from digest A §7 (claim name → (constant at c = n = ‖e0‖ = λ0 = m = 1, provenance))
PRINTED = {
    "gd": {"lemma36_ii": (32, "paper"), "lemma36_iii": (16, "paper"), "W_move": (512, "paper"),
           "A_move": (256, "paper"), "u_move": (16, "paper"), "v_move": (8, "paper"),
           "lemma36_iv": (2, "paper"), "lemma36_v": (2, "paper"), "phi_max": (2, "paper"),
           "z_max": (4, "paper"), "Z_step": (512, "paper"), "lemma36_i": (0.5, "paper"),
           "G_dev": (0.25, "paper"), "contraction": (0.5, "paper"), "lambda_min_K": (0.5, "paper"),
           "lemma33_init": (0.75, "paper")},
    "gf": {"lemma35_ii": (16, "paper"), "lemma35_iii": (8, "paper"), "W_move": (128, "paper"),
           "A_move": (64, "paper"), "u_move": (8, "paper"), "v_move": (4, "paper"),
           "lemma35_iv": (2, "paper"), "lemma35_v": (2, "paper"), "phi_max": (2, "paper"),
           "z_max": (4, "paper"), "lemma35_i": (0.5, "paper"), "G_dev": (0.25, "paper")},
}
ONES = dict(c=1.0, n=1.0, e0_norm=1.0, lambda0=1.0, m=1.0, alpha=1.0, k=0.0, t=0.0, X_norm=1.0)


@pytest.mark.parametrize("mode", ["gd", "gf"])
def test_claim_constants_equal_the_digest(mode):
    spec = g22_spec(mode)
    for name, (const, prov) in PRINTED[mode].items():
        cl = spec.claim(name)
        assert cl.bound.evaluate(**ONES) == pytest.approx(const, rel=2 * EPS), name
        assert cl.bound.provenance.value == prov, name
        assert cl.observable in OBSERVABLES, name


@pytest.mark.parametrize("mode", ["gd", "gf"])
def test_claim_structure(mode):
    spec = g22_spec(mode)
    lem = "lemma36" if mode == "gd" else "lemma35"
    for roman in ("i", "ii", "iii", "iv", "v", "vi"):
        assert spec.claim(f"{lem}_{roman}").label == f"G22 Lemma {lem[5]}.{lem[6]}({roman})"
    for cl in spec.claims:
        assert cl.observable in OBSERVABLES
        if not cl.at_init_only:
            assert {"gamma", f"width_{lem}", "init_norms", "init_gram"} <= set(cl.hypotheses)
            assert ("step" in cl.hypotheses) == (mode == "gd")
    vi = spec.claim(f"{lem}_vi").bound
    assert ("k" in vi.free_symbols) == (mode == "gd") and ("t" in vi.free_symbols) == (mode == "gf")
    # residual bound at k or t: (1 − αλ0/2)^k ‖e0‖² and exp(−λ0 t)‖e0‖²
    if mode == "gd":
        assert vi.evaluate(alpha=0.2, lambda0=0.5, e0_norm=3.0, k=7) == pytest.approx(9 * 0.95**7, rel=8 * EPS)
    else:
        assert vi.evaluate(lambda0=0.5, e0_norm=3.0, t=7) == pytest.approx(9 * math.exp(-3.5), rel=8 * EPS)
    assert len(spec.known_issues) == 5
    assert {a.name for a in spec.assumptions} >= {"init", "data"}


def test_condition_expressions_and_provenance():
    gd, gf = g22_spec("gd"), g22_spec("gf")
    v = dict(n=20.0, lambda0=0.1, delta=0.01, c=2.5, X_norm=3.0, e0_norm=4.0)
    ln = math.log(20 / 0.01)
    assert gd.condition("width_thm32").bound.evaluate(**v) == pytest.approx(400 / 0.1 * ln, rel=8 * EPS)
    assert gf.condition("width_thm31").bound.evaluate(**v) == pytest.approx(400 / 0.01 * ln, rel=8 * EPS)
    assert gd.condition("width_lemma33").bound.evaluate(**v) == pytest.approx(400 / 0.01 * ln, rel=8 * EPS)
    lemma = 2.5**2 * 20 * 9 * 16 / 0.1**3
    assert gd.condition("width_lemma36").bound.evaluate(**v) == pytest.approx(lemma, rel=8 * EPS)
    assert gd.condition("width_lemma36_explicit").bound.evaluate(**v) == pytest.approx(8192 * lemma, rel=8 * EPS)
    assert gf.condition("width_lemma35_explicit").bound.evaluate(**v) == pytest.approx(2048 * lemma, rel=8 * EPS)
    assert gd.condition("step").bound.evaluate(**v) == pytest.approx(0.1 / 400, rel=8 * EPS)
    for c, g in ((0.25, 0.5), (0.5, 0.5), (1.0, 0.25), (4.0, 1 / 16)):
        assert gd.condition("gamma").bound.evaluate(c=c) == pytest.approx(g, rel=EPS)
    prov = {c.name: c.bound.provenance for c in gd.conditions}
    assert prov == {"gamma": Provenance.PAPER, "width_thm32": Provenance.HIDDEN,
                    "width_lemma33": Provenance.HIDDEN, "width_lemma36": Provenance.HIDDEN,
                    "width_lemma36_explicit": Provenance.DERIVED, "step": Provenance.HIDDEN}
    assert gd.bound("R").evaluate(**v, m=10_000) == pytest.approx(0.1 * 100 / (16 * 2.5 * 9), rel=8 * EPS)


@pytest.mark.parametrize("mode", ["gd", "gf"])
@given(n=st.integers(1, 10_000), lam=st.floats(1e-4, 0.5), c=st.floats(1.0, 10.0),
       X=st.floats(1.0, 100.0), e0=st.floats(1e-2, 1e3))
def test_explicit_lemma_width_is_where_the_W_movement_reaches_R(mode, n, lam, c, X, e0):
    """At m = width_explicit the proof's ‖W − W(0)‖ bound equals Lemma 3.4's radius R, and the
    weaker needs (W_move, A_move ≤ c√m, so ‖W‖, ‖A‖ ≤ 2c√m) hold there as well."""
    spec = g22_spec(mode)
    lem = "lemma36" if mode == "gd" else "lemma35"
    v = dict(n=float(n), lambda0=lam, c=c, X_norm=X, e0_norm=e0)
    m = spec.bound(f"width_{lem}_explicit").evaluate(**v)
    W_move = spec.bound("W_move_max").evaluate(**v, m=m)
    assert W_move == pytest.approx(spec.bound("R").evaluate(**v, m=m), rel=32 * EPS)
    assert W_move <= c * math.sqrt(m) * (1 + 32 * EPS)
    assert spec.bound("A_move_max").evaluate(**v, m=m) <= c * math.sqrt(m) * (1 + 32 * EPS)


def test_gd_movement_derivation_matches_a_direct_geometric_sum():
    """‖u(k)−u(0)‖ ≤ α Σ_{s<k} 4c√n β^s‖e0‖ ≤ 16c√n‖e0‖/λ0 for every k, α ≤ 2/λ0 (β² = 1 − αλ0/2)."""
    b = g22_spec("gd").bound("u_move_max")
    c, n, e0 = 2.0, 50.0, 7.0
    for lam in (0.01, 0.3):
        for alpha in (1e-4, 0.5, 1.9 / lam):
            beta = math.sqrt(1 - alpha * lam / 2)
            total = alpha * 4 * c * math.sqrt(n) * e0 * sum(beta**s for s in range(200_000))
            assert total <= b.evaluate(c=c, n=n, e0_norm=e0, lambda0=lam) * (1 + 1e-12)


def test_gg22_spec_is_honest_about_missing_constants():
    spec = gg22_spec("gd")
    wl = spec.condition("width_linear").bound
    assert wl.provenance is Provenance.RECONSTRUCTED and wl.hidden == ("C_lin",)
    assert "not published" in wl.description
    assert wl.evaluate(n=100) == 100.0
    g = spec.condition("gamma_init_necessary").bound
    assert g.provenance is Provenance.DERIVED
    assert g.evaluate(m=400, A0_norm=40.0) == pytest.approx(0.5, rel=EPS)
    assert spec.condition("width_chernoff").bound.provenance is Provenance.DERIVED
    assert all(b.provenance is not Provenance.PAPER for b in spec.bounds)
    assert any("abstract" in s for s in spec.known_issues)


def test_gg22_chernoff_width_is_linear_in_n_up_to_logs():
    b = gg22_spec("gd").bound("width_chernoff")
    w = [b.evaluate(n=n, m=1e6, delta=0.01, lambda0=0.1) for n in (100, 1000, 10_000)]
    # log(nm/δ)·log(2n/δ) grows slowly: the ratio per decade of n is 10 × (log factor ≤ 1.6)
    for a, bb in zip(w, w[1:], strict=False):
        assert 10 < bb / a < 16


def test_gg22_chernoff_width_suffices_on_samples():
    """At the derived width, λ_min(G(0)) ≥ ¾λ0 in at least a 1 − δ − 3σ fraction of draws."""
    X = unit_rows(3, 3, seed=8)
    lam = lambda0(X)
    delta = 0.2
    req = required_width(X, delta=delta, spec=gg22_spec("gd"), e0_norm=1.0, lambda0=lam)
    m = int(req.entry("width_chernoff").width)
    rng = np.random.default_rng(17)
    trials, fails = 30, 0
    for _ in range(trials):
        F = np.maximum(X @ rng.standard_normal((3, m)), 0.0)
        G0 = F @ F.T / m
        fails += np.linalg.eigvalsh(G0)[0] < 0.75 * lam
    assert fails / trials <= delta + 3 * math.sqrt(delta * (1 - delta) / trials)
