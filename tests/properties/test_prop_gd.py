"""Gradient descent on configurations that satisfy G22 Theorem 3.2's conditions
(digest A §7, Lemma 3.6 / Theorem 3.2).

The configuration is built from the bounds library, with the hidden constants at their
default 1 (every verdict names them): width ``m`` = the paper's binding printed width condition
(Lemma 3.6's ``m = Ω(c²n‖X‖²‖e0‖²/λ0³)``, doubled for margin because ``‖e0‖`` is only estimated
before the run), ``γ = γ_max(c) = min(½, 1/(4c))`` with the explicit tail-bound ``c``, and the
step ``α = step_max(λ0, n) = λ0/n²``. The run's own verdicts confirm that the theorem's
assumptions and conditions hold (otherwise the example is discarded with ``assume``) — except
the proof's explicit width (8192·…, millions of units), which is out of reach and reported.

Fast tier: one sample (n = 1, where the width is ~10²); slow tier: n = 2 (m ~ 10³).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import Phase, assume, given, settings
from hypothesis import strategies as st
from strategies import labels, seeds, unit_data

import bounds
import verify

# conditions whose default-constant versions we satisfy; the explicit proof width is out of reach
_EXPLICIT = ("width_lemma36_explicit",)
# Claims asserted. Left out on purpose, and reported instead: (ii)/(iii) fail at k = 0 whenever
# √m > 32c√n‖e0‖/λ0 (known issue 3), and the proof-internal W_move ≤ R is often violated at
# the default-constant width, which is ~10⁴ times below the explicit width that implies it.
_M_CAP_SLOW = 1000
# a shrink would re-run GD dozens of times (minutes each): report the first failing example
_NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)
_MAIN_CLAIMS = ("lemma36_i", "lemma36_iv", "lemma36_v", "lemma36_vi", "contraction")


def _configure(X, y, delta, seed, steps, margin=2.0):
    req = bounds.required_width(X, y, delta=delta)
    m = int(math.ceil(margin * req.entry(req.binding_printed).width))
    c = bounds.norm_constant_tail(m, X.shape[1], delta)
    gamma = min(bounds.gamma_max(c), 0.999)
    alpha = bounds.step_max(req.lambda0, X.shape[0])
    # hidden constants at 1 only (hidden_range=(1, 1)): the printed conditions with C = 1 are
    # what this test sets up; over a range of C they would be inconclusive (hidden constant)
    cfg = verify.RunConfig(m=m, gamma=gamma, step=alpha, steps=steps, seed=seed, delta=delta,
                           c_source="tail", hidden_range=(1.0, 1.0))
    return cfg, req


def _check_run(X, y, cfg):
    res = verify.run_gd(X, y, cfg, progress=False)
    v = {x.name: x for x in res.verdicts}
    # the theorem applies: assumptions (incl. Lemma 2.1/3.3 events) and conditions hold
    for x in res.verdicts:
        if x.kind in ("assumption", "condition") and x.name not in _EXPLICIT:
            assume(x.status == "holds")
    assert res.status in ("max_steps", "target_reached"), res.record.get("status_message")
    tr = res.trace
    lam0 = res.record["symbols"]["lambda0"]
    alpha = cfg.step
    r = tr["residual_sq"]
    loss = tr["loss"]
    k = tr["step"]
    eps = 64 * np.finfo(np.float64).eps
    # float64 floor of ‖ŷ − y‖²: ŷ carries rounding ≈ eps·(|uᵀz| + |vᵀφ| + |y|) per sample
    floor = (1e3 * np.finfo(np.float64).eps) ** 2 * (1.0 + r[0] + float(np.sum(np.asarray(y) ** 2)))
    # loss non-increasing (to rounding)
    assert np.all(np.diff(loss) <= eps * loss[:-1] + floor), loss
    # G22 Lemma 3.6(vi) at every step: ‖ŷ(k) − y‖² ≤ (1 − αλ0/2)^k ‖e0‖²
    theory = 1.0 - alpha * lam0 / 2
    assert np.all(r <= theory**k * r[0] * (1 + eps) + floor), (r, theory)
    # fitted rate at least as fast as the theorem's
    rates = res.record["rates"]
    if rates.get("observed_rate") is not None:
        assert rates["observed_rate"] <= theory * (1 + 1e-12), rates
        assert math.isclose(rates["theory_rate"], theory, rel_tol=1e-12)
    return res, v


@settings(max_examples=6)
@given(
    X=unit_data(n=1),
    y=labels(1),
    seed=seeds(),
    delta=st.sampled_from([0.1, 0.01]),
)
def test_gd_converges_at_theorem_rate_single_sample(X, y, seed, delta):
    """G22 Theorem 3.2 / Lemma 3.6(vi) (n = 1): when the assumptions and the printed conditions
    hold (hidden constants 1), GD's loss is non-increasing, ``‖ŷ(k) − y‖² ≤ (1 − αλ0/2)^k‖e0‖²``
    at every step, and the fitted per-step rate is at least as fast as ``1 − αλ0/2``."""
    cfg, _ = _configure(X, y, delta, seed, steps=15)
    res, v = _check_run(X, y, cfg)
    for name in _MAIN_CLAIMS:
        assert v[name].status != "violated", v[name].message


@pytest.mark.slow
@settings(max_examples=2, deadline=None, phases=_NO_SHRINK)
@given(
    X=unit_data(n=2, d=st.integers(2, 4), max_cos=0.2),
    data=st.data(),
    seed=seeds(),
)
def test_gd_converges_at_theorem_rate_slow(X, data, seed):
    """G22 Theorem 3.2 / Lemma 3.6 (n = 2, nearly orthogonal pairs, so that 1.25× the printed
    width is ≲ 10³ ≤ the cost cap 1000 — each GD step costs m×m SVDs; n = 3 already needs
    ~10⁴): as the fast test, and the lemma's
    claims (i), (iv), (v), (vi), the contraction ``γ̃‖A‖ ≤ ½`` and ``λ_min(H), λ_min(K) ≥ λ0/2``
    are not violated."""
    y = data.draw(labels(X.shape[0]), label="y")
    cfg, _ = _configure(X, y, 0.1, seed, steps=15, margin=1.25)
    assume(cfg.m <= _M_CAP_SLOW)  # cost cap (an m×m A per step), not a narrowing of the claim
    res, v = _check_run(X, y, cfg)
    for name in _MAIN_CLAIMS + ("lambda_min_H", "lambda_min_K"):
        assert v[name].status != "violated", v[name].message
