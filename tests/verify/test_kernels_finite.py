"""Finite-width empirical NTK at initialisation vs the infinite-width limit (digest C).

The oracle is independent of the quadrature: Monte Carlo over network initialisations with
the structured Gram ``verify.gram_blocks``.  Each test that accepts the limit also shows it
would reject a wrong formula (the adjoint resummation Ψ replaced by Ė, or the factor
``1 + γ²Ψ`` in the W-block dropped), so the check can fail.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import verify
from bounds import InvalidArgument, deq_kernels
from verify.model.kernels import (
    BLOCKS,
    fit_loglog_slope,
    init_blocks,
    kernel_convergence,
    kernel_init_outcomes,
)

GAMMA = 0.7  # large enough that the equilibrium terms (γ²Ψ) matter; the solves still converge


@pytest.fixture(scope="module")
def digits4() -> np.ndarray:
    return verify.load_dataset("digits", n=4).X


def _seed_stats(X: np.ndarray, m: int, seeds: range) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    samples: dict[str, list[np.ndarray]] = {b: [] for b in BLOCKS}
    for s in seeds:
        e = init_blocks(verify.ImplicitNetwork.init(m, X.shape[1], GAMMA, s), X)
        for b in BLOCKS:
            samples[b].append(e[b])
    out = {}
    for b, v in samples.items():
        a = np.array(v)
        out[b] = (a.mean(0), a.std(0, ddof=1) / np.sqrt(a.shape[0]))
    return out


@pytest.mark.parametrize("m", [512, pytest.param(2048, marks=pytest.mark.slow)])
def test_blocks_agree_with_limit_and_reject_wrong_formulas(digits4, m) -> None:
    """Seed mean of each block within a simultaneous t-interval of the limit (seeds 0..15)."""
    X = digits4
    n, S = X.shape[0], 16
    lim = deq_kernels(X, GAMMA)
    assert lim.status.ok, lim.message()
    st = _seed_stats(X, m, range(S))
    # Bonferroni over the 4 blocks × n(n+1)/2 entries, two-sided, family level 0.999; the
    # finite-width bias (O(1/m) ≈ 0.2 % at m = 512) is far below the standard error (≈ 1 %).
    k = len(BLOCKS) * n * (n + 1) // 2
    tq = float(stats.t.isf(0.001 / (2 * k), df=S - 1))
    iu = np.triu_indices(n)
    for b, L in lim.blocks().items():
        mu, se = st[b]
        z = (np.abs(mu - L) / se)[iu]
        assert z.max() <= tq, (b, float(z.max()), tq)
    wrong = {"A": GAMMA**2 * lim.Edot * lim.K,  # Ψ replaced by Ė (no adjoint resummation)
             "W": (X @ X.T) * (lim.Edot_a + lim.Edot_ah)}  # factor 1 + γ²Ψ dropped
    for b, Lw in wrong.items():
        mu, se = st[b]
        assert (np.abs(mu - Lw) / se)[iu].max() > tq, f"test cannot tell block {b} from a wrong formula"


def test_kernel_init_outcomes_cell(digits4) -> None:
    X = digits4
    net = verify.ImplicitNetwork.init(256, X.shape[1], GAMMA, 3)
    lim = deq_kernels(X, GAMMA)
    out = kernel_init_outcomes(net, X, limit=lim)
    emp = init_blocks(net, X)
    assert out["m"] == 256 and out["gamma"] == GAMMA
    assert out["lambda_min_H0"] == pytest.approx(float(np.linalg.eigvalsh(emp["H"])[0]), rel=1e-12)
    assert out["lambda_min_Hinf"] == lim.lambda_min_H and out["lambda0"] == lim.lambda0
    assert out["half_lambda_min_Hinf_holds"] == (out["lambda_min_H0"] >= 0.5 * lim.lambda_min_H)
    assert set(out["rel_error"]) == {*BLOCKS, "H"}
    err_v = np.linalg.norm(emp["v"] - lim.G) / np.linalg.norm(lim.G)
    assert out["rel_error"]["v"] == pytest.approx(err_v, rel=1e-12)
    with pytest.raises(InvalidArgument, match="gamma"):
        kernel_init_outcomes(net, X, gamma=0.3, limit=lim)


def test_structured_blocks_sum_to_H(digits4) -> None:
    e = init_blocks(verify.ImplicitNetwork.init(64, digits4.shape[1], GAMMA, 0), digits4)
    np.testing.assert_allclose(e["H"], e["A"] + e["W"] + e["u"] + e["v"], rtol=1e-14, atol=1e-14)


def test_fit_loglog_slope_recovers_power() -> None:
    w = np.array([256, 512, 1024, 4096])
    assert fit_loglog_slope(w, 3.0 * w**-0.5) == pytest.approx(-0.5, abs=1e-12)
    assert np.isnan(fit_loglog_slope([256], [0.1]))


def test_kernel_convergence_record(digits4) -> None:
    r = kernel_convergence(digits4, GAMMA, (64, 128), (0, 1), alpha=0.01)
    assert r.lambda_min_H0.shape == (2, 2) and r.errors["W"].shape == (2, 2)
    assert r.rates is not None
    assert r.rates["paper"] == pytest.approx(1 - 0.01 * r.lambda0 / 2, rel=1e-15)
    assert r.rates["toolkit"] == pytest.approx(1 - 0.01 * r.lambda_min_Hinf / 2, rel=1e-15)
    assert r.rates["toolkit"] <= r.rates["paper"]  # λ_min(H∞) ≥ λ0
    d = r.to_dict()
    assert d["limit"]["provenance"] == "derived" and "digest C" in d["limit"]["source"]
    assert "slope50" in r.table() and r.mean_error["A"].shape == (2,) == r.median["u"].shape
    assert np.all(r.mean_error["H"] <= np.max(r.errors["H"], axis=1) + 1e-15)  # triangle ineq.


@pytest.mark.slow
def test_error_slope_is_about_minus_half(digits4) -> None:
    """Fitted log–log slope of the RMS relative error over widths 256..4096, 6 seeds.

    The CLT predicts −½; with 6 seeds the RMS over seeds has ≈ 30 % relative noise per width,
    which over a 16× range of m moves a fitted slope by about ±0.15; accept [−0.8, −0.25].
    """
    r = kernel_convergence(digits4, GAMMA, (256, 512, 1024, 2048, 4096), range(6))
    for b in (*BLOCKS, "H"):
        assert -0.8 <= r.slopes[b] <= -0.25, (b, r.slopes[b], r.table())
