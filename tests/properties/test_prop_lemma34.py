"""G22 Lemma 3.4 as a search for counterexamples (digest A §7).

Lemma 3.4: if ``‖W(0)‖ ≤ c√m`` and ``λ_min(G(0)) ≥ ¾λ0``, then every W with ``‖W‖ ≤ 2c√m`` and
``‖W − W(0)‖ ≤ R := λ0√m/(16c‖X‖²)`` has ``‖G − G(0)‖ ≤ λ0/4`` and ``λ_min(G) ≥ λ0/2``; the
proof step is ``‖G − G(0)‖ ≤ (4c/√m)‖X‖²‖W − W(0)‖`` (all operator norms). ``G = ΦΦᵀ`` with
``Φ = σ(XWᵀ)/√m`` depends on W only, so the lemma is deterministic in W: any W(0) meeting the
hypotheses will do, and hypothesis plus a projected-gradient adversary hunt inside the ball.

``c`` is taken as small as the hypothesis allows, ``c = ‖W(0)‖/√m`` (the largest radius R and
the tightest proof-step bound), or larger when hypothesis draws a factor ≥ 1.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _helpers import EPS, lam_min, op_norm
from hypothesis import assume, example, given, settings, target
from hypothesis import strategies as st
from strategies import seeds, unit_data

import bounds


def _project(Delta: np.ndarray, radius: float) -> np.ndarray:
    """Nearest point (Frobenius) of the spectral-norm ball ``‖Δ‖₂ ≤ radius``: clip singular values."""
    U, s, Vh = np.linalg.svd(Delta, full_matrices=False)
    return (U * np.minimum(s, radius)) @ Vh


def _features(X: np.ndarray, W: np.ndarray) -> np.ndarray:
    return np.maximum(X @ W.T, 0.0) / math.sqrt(W.shape[0])


def _gram(X: np.ndarray, W: np.ndarray) -> np.ndarray:
    Phi = _features(X, W)
    return Phi @ Phi.T


def _quad_form_grad(X: np.ndarray, W: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``∂(vᵀGv)/∂W`` for ``G = ΦΦᵀ``: row r is ``(2/√m) a_r Σ_i v_i 1[w_r·x_i > 0] x_i`` with
    ``a = Φᵀv`` (σ'(0) = 0)."""
    m = W.shape[0]
    a = _features(X, W).T @ v
    E = (W @ X.T > 0).astype(np.float64)
    return (2.0 / math.sqrt(m)) * a[:, None] * ((E * v[None, :]) @ X)


def _direction(X, W, G0, goal):
    """Gradient of the quantity the adversary minimises: ``λ_min(G)`` or ``−‖G − G(0)‖₂``."""
    G = _gram(X, W)
    if goal == "lambda_min":
        _, V = np.linalg.eigh(G)
        return _quad_form_grad(X, W, V[:, 0])
    w, V = np.linalg.eigh(G - G0)
    j = -1 if w[-1] >= -w[0] else 0  # eigenvalue of largest modulus, sign s
    sgn = 1.0 if j == -1 else -1.0
    return -sgn * _quad_form_grad(X, W, V[:, j])


def _adversary(X, W0, G0, Delta, radius, goal, steps=15):
    """Projected gradient descent inside ``‖Δ‖₂ ≤ radius``, steps of half the radius."""
    D = Delta.copy()
    for _ in range(steps):
        g = _direction(X, W0 + D, G0, goal)
        gn = float(np.linalg.norm(g))
        if not math.isfinite(gn) or gn == 0.0:
            break
        D = _project(D - (0.5 * radius / gn) * g, radius)
    return D


@settings(max_examples=80)
@given(
    X=unit_data(min_n=2),
    m=st.integers(16, 256),
    w_seed=seeds(),
    dir_seed=seeds(),
    c_factor=st.one_of(st.just(1.0), st.floats(1.0, 3.0)),
    scale=st.floats(0.0, 1.0),
    adversary=st.sampled_from(["lambda_min", "deviation", "none"]),
)
def test_lemma34_lambda_min_stays_above_half_lambda0(X, m, w_seed, dir_seed, c_factor, scale, adversary):
    """G22 Lemma 3.4: under ``‖W(0)‖ ≤ c√m`` and ``λ_min(G(0)) ≥ ¾λ0``, every W with
    ``‖W‖ ≤ 2c√m``, ``‖W − W(0)‖ ≤ R = λ0√m/(16c‖X‖²)`` has ``‖G − G(0)‖ ≤ λ0/4`` and
    ``λ_min(G) ≥ λ0/2``. Hypothesis draws W(0), the data, a start point in the ball, and
    ``target``s the ratio ``(λ0/2)/λ_min(G)`` (> 1 would be a counterexample); a projected-
    gradient adversary then pushes λ_min(G) down (or ‖G − G(0)‖ up) inside the ball."""
    n, d = X.shape
    lam0 = bounds.lambda0(X)
    rng = np.random.default_rng(w_seed)
    W0n = rng.standard_normal((m, d))
    c = c_factor * op_norm(W0n) / math.sqrt(m)
    X_norm = op_norm(X)
    R = float(bounds.g22_spec("gd").bound("R").evaluate(lambda0=lam0, m=m, c=c, X_norm=X_norm))
    assert math.isclose(R, lam0 * math.sqrt(m) / (16 * c * X_norm**2), rel_tol=1e-12)
    W0 = W0n
    G0 = _gram(X, W0)
    assume(lam_min(G0) >= 0.75 * lam0)  # the lemma's hypothesis (Lemma 3.3's event)
    U, _, Vh = np.linalg.svd(np.random.default_rng(dir_seed).standard_normal((m, d)), full_matrices=False)
    Delta = scale * R * (U @ Vh)  # all singular values = scale·R: the most "mass" in the ball
    if adversary != "none":
        Delta = _adversary(X, W0, G0, Delta, R, adversary)
    W = W0 + Delta
    assert op_norm(Delta) <= R * (1 + 1e-12)
    assume(op_norm(W) <= 2 * c * math.sqrt(m))  # the lemma's other hypothesis
    G = _gram(X, W)
    lmin = lam_min(G)
    dev = op_norm(G - G0)
    target((lam0 / 2) / max(lmin, 1e-300), label="(λ0/2)/λ_min(G)")
    target(dev / (lam0 / 4), label="‖G − G(0)‖/(λ0/4)")
    tol = 1e3 * EPS
    assert dev <= lam0 / 4 + tol, (dev, lam0 / 4)
    assert lmin >= lam0 / 2 - tol, (lmin, lam0 / 2)


@settings(max_examples=80)
@given(
    X=unit_data(min_n=1),
    m=st.integers(4, 256),
    w_seed=seeds(),
    dir_seed=seeds(),
    scale=st.floats(1e-6, 1.0),
    adversary=st.booleans(),
)
def test_lemma34_proof_step_within_radius(X, m, w_seed, dir_seed, scale, adversary):
    """G22 Lemma 3.4, proof step, under the lemma's hypotheses: ``‖G − G(0)‖ ≤
    (4c/√m)‖X‖²‖W − W(0)‖`` for ``‖W − W(0)‖ ≤ R``, ``‖W(0)‖ ≤ c√m`` (c = ‖W(0)‖/√m, the
    tightest admissible value), ``λ_min(G(0)) ≥ ¾λ0``. Hypothesis ``target``s observed/bound;
    a projected-gradient adversary maximises ``‖G − G(0)‖`` at the drawn radius."""
    n, d = X.shape
    lam0 = bounds.lambda0(X)
    W0 = np.random.default_rng(w_seed).standard_normal((m, d))
    c = op_norm(W0) / math.sqrt(m)
    G0 = _gram(X, W0)
    assume(lam_min(G0) >= 0.75 * lam0)
    R = lam0 * math.sqrt(m) / (16 * c * op_norm(X) ** 2)
    ratio = _proof_step_ratio(X, W0, G0, c, scale * R, dir_seed, adversary)
    target(ratio, label="‖G − G(0)‖ / ((4c/√m)‖X‖²‖ΔW‖)")
    assert ratio <= 1 + 1e-9, ratio


def _proof_step_ratio(X, W0, G0, c, radius, dir_seed, adversary):
    m, d = W0.shape
    U, _, Vh = np.linalg.svd(np.random.default_rng(dir_seed).standard_normal((m, d)), full_matrices=False)
    Delta = radius * (U @ Vh)
    if adversary:
        Delta = _adversary(X, W0, G0, Delta, radius, "deviation")
    dW = op_norm(Delta)
    assume(dW > 0)
    assert op_norm(W0 + Delta) <= 2 * c * math.sqrt(m) * (1 + 1e-12)
    dev = op_norm(_gram(X, W0 + Delta) - G0)
    return (dev - 1e3 * EPS) / (4 * c / math.sqrt(m) * op_norm(X) ** 2 * dW)


# COUNTEREXAMPLE (kept on purpose, reported): outside the radius R the proof step is FALSE as a
# general operator-norm inequality, although ‖W(0)‖ ≤ c√m and ‖W‖ ≤ 2c√m hold. Orthonormal
# data X = I₆ (‖X‖² = 1, n = d = 6), m = 32, W(0) = N(0,1) from seed 0 (c = ‖W(0)‖/√m ≈ 1.27),
# ‖ΔW‖ = c√m ≈ 7.2 (≈ 75·R): ‖G − G(0)‖ ≈ 1.39 · (4c/√m)‖X‖²‖ΔW‖. The usual derivation would need
# ‖σ(A) − σ(B)‖₂ ≤ ‖A − B‖₂ and ‖σ(A)‖₂ ≤ ‖A‖₂, which fail for the entrywise ReLU in operator
# norm (they hold in Frobenius norm, which brings in ‖X‖_F² = n instead of ‖X‖²). Within R (the
# lemma's own hypothesis, test above) no violation has been found: largest ratio ≈ 0.95.
@pytest.mark.xfail(
    strict=True,
    reason="a gap in the operator-norm step of G22 Lemma 3.4's proof: ‖G − G(0)‖ ≤ "
    "(4c/√m)‖X‖²‖W − W(0)‖ fails as a global operator-norm bound (it holds with Frobenius norms); "
    "the kept example lies outside R, so it violates the lemma's hypothesis and is no "
    "counterexample to Lemma 3.4 itself (explicit @example); finding reported, not a bug",
)
@settings(max_examples=25)
@example(X=np.eye(6), m=32, w_seed=0, dir_seed=0, radius=10.0, adversary=True)
@given(
    X=unit_data(min_n=1),
    m=st.integers(4, 256),
    w_seed=seeds(),
    dir_seed=seeds(),
    radius=st.floats(1e-6, 10.0),
    adversary=st.booleans(),
)
def test_lemma34_proof_step_global(X, m, w_seed, dir_seed, radius, adversary):
    """G22 Lemma 3.4, proof step read as a global statement: ``‖G − G(0)‖ ≤
    (4c/√m)‖X‖²‖W − W(0)‖`` for every W with ``‖W‖ ≤ 2c√m`` (radius up to ``c√m``, beyond R).
    Hypothesis ``target``s the ratio observed/bound; the adversary maximises ``‖G − G(0)‖``.
    Fails on the kept counterexample (see the comment above)."""
    n, d = X.shape
    W0 = np.random.default_rng(w_seed).standard_normal((m, d))
    c = op_norm(W0) / math.sqrt(m)
    radius = min(radius, c * math.sqrt(m))  # keeps ‖W‖ ≤ ‖W(0)‖ + ‖ΔW‖ ≤ 2c√m
    ratio = _proof_step_ratio(X, W0, _gram(X, W0), c, radius, dir_seed, adversary)
    target(ratio, label="‖G − G(0)‖ / ((4c/√m)‖X‖²‖ΔW‖)")
    assert ratio <= 1 + 1e-9, ratio
