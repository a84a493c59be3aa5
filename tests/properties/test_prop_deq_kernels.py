"""Infinite-width kernels of the equilibrium network (bounds.deq_kernels, digest C, derived).

Structural facts that follow from the definitions, whatever the data and γ:
* ``Ė_ah = Pr[a>0, a'>0, h>0, h'>0]`` is at most ``Ė_a = Pr[a>0, a'>0]`` and ``Ė = Pr[h>0, h'>0]``;
* ``Ψ = Ė/(1 − γ²Ė) ≥ Ė``;
* ``H∞ − G∞`` is a sum of Hadamard products of PSD kernels, so ``λ_min(H∞) ≥ λ0``;
* ``K(x, x) = κ`` is the same for every unit input.
Slack: the checked quadrature error per entry (``errors``), times n for eigenvalues, plus
rounding (n·eps·‖H‖).
"""

from __future__ import annotations

import numpy as np
from _helpers import EPS, lam_min
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import gammas, unit_data

import bounds


@settings(max_examples=5)
@given(X=unit_data(n=st.integers(2, 6), max_cos=0.98), gamma=gammas(0.05, 0.9))
def test_deq_kernel_orderings(X, gamma):
    r = bounds.deq_kernels(X, gamma, method="pairs", order=24, accuracy=1e-5)
    assert r.status.ok, r.message()
    q = max(r.errors.values()) + 8 * EPS
    n = X.shape[0]
    assert np.all(r.Edot_ah <= np.minimum(r.Edot, r.Edot_a) + q)
    assert np.all(r.Psi >= r.Edot - q) and np.all(r.Edot >= -q)
    np.testing.assert_allclose(np.diag(r.K), r.K[0, 0], rtol=0, atol=q)
    slack = n * (q + EPS * float(np.abs(r.H).sum()))
    assert r.lambda_min_H >= r.lambda0 - slack
    assert lam_min(r.H - r.G) >= -slack
    assert r.contraction < gamma**2 + q
