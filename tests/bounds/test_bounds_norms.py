"""Operator-norm constant c: explicit tail bound vs its probability statement and samples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from bounds_testdata import EPS
from scipy import optimize

from bounds import InvalidArgument, NormConstant, norm_constant_measured, norm_constant_tail


@pytest.mark.parametrize(("m", "d", "delta"), [(10, 3, 0.1), (500, 784, 0.01), (4000, 10, 1e-6)])
def test_tail_constant_solves_its_probability_statement(m, d, delta):
    """Independent inversion: t solves 2·exp(−t²/2) = δ/2 (two-sided Davidson–Szarek form, δ/2 per
    matrix); c√m is the larger of √m + √m + t (A, m×m) and √m + √d + t (W, m×d)."""
    t = optimize.brentq(lambda t: 2 * math.exp(-t * t / 2) - delta / 2, 0.0, 100.0, xtol=1e-15)
    expected = max(2 * math.sqrt(m) + t, math.sqrt(m) + math.sqrt(d) + t) / math.sqrt(m)
    # brentq to 1e-15 in t, divided by √m ≥ 3: a few eps
    assert norm_constant_tail(m, d, delta) == pytest.approx(expected, rel=16 * EPS)
    rec = NormConstant.tail(m, d, delta)
    assert rec.value == norm_constant_tail(m, d, delta) and rec.source == "tail"
    assert rec.details["t"] == pytest.approx(t, rel=16 * EPS)


def test_tail_constant_monotonicity_and_limit():
    cs = [norm_constant_tail(m, 10, 0.01) for m in (16, 64, 256, 4096, 10**8)]
    assert all(a > b for a, b in zip(cs, cs[1:], strict=False))
    assert cs[-1] == pytest.approx(2.0, abs=1e-3)  # ‖A(0)‖/√m → 2
    ds = [norm_constant_tail(100, 10, dl) for dl in (0.5, 0.1, 0.01, 1e-4)]
    assert all(a < b for a, b in zip(ds, ds[1:], strict=False))  # smaller δ → larger c
    assert norm_constant_tail(100, 10_000, 0.01) > norm_constant_tail(100, 100, 0.01)  # d > m: W binds


def test_tail_constant_holds_on_sampled_gaussian_matrices():
    """Empirical P(‖A‖ > c√m or ‖W‖ > c√m) ≤ δ + 3 binomial standard deviations.

    A c below the typical ‖A‖/√m ≈ 1.85 (m = 40) — e.g. one built from √m instead of 2√m —
    would give a frequency near 1; the Gaussian bound is loose, so only such gross errors are
    detectable by sampling (the exact inversion test above pins the formula).
    """
    m, d, delta, trials = 40, 8, 0.5, 300
    c = norm_constant_tail(m, d, delta)
    rng = np.random.default_rng(1234)
    fails = 0
    for _ in range(trials):
        A = rng.standard_normal((m, m))
        W = rng.standard_normal((m, d))
        if norm_constant_measured(A, W) > c:
            fails += 1
    tol = 3 * math.sqrt(delta * (1 - delta) / trials)
    assert fails / trials <= delta + tol


def test_measured_constant_equals_largest_singular_value_over_sqrt_m():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((30, 30))
    W = rng.standard_normal((30, 7))
    # independent route: ‖M‖₂² = λ_max(MᵀM)
    lam = max(np.linalg.eigvalsh(A.T @ A)[-1], np.linalg.eigvalsh(W.T @ W)[-1])
    assert norm_constant_measured(A, W) == pytest.approx(math.sqrt(lam) / math.sqrt(30), rel=64 * EPS)
    rec = NormConstant.measured(A, W)
    assert rec.source == "measured" and rec.details["m"] == 30 and rec.details["d"] == 7


def test_tail_probability_of_a_single_matrix_is_conservative():
    """The statement used, P(‖G‖ > √m + √m' + t) ≤ 2exp(−t²/2), at t chosen for 0.3."""
    m, mp, trials = 30, 30, 400
    t = math.sqrt(2 * math.log(2 / 0.3))
    rng = np.random.default_rng(5)
    norms = [np.linalg.norm(rng.standard_normal((m, mp)), 2) for _ in range(trials)]
    freq = np.mean(np.array(norms) > math.sqrt(m) + math.sqrt(mp) + t)
    # binomial upper tolerance at 3 standard deviations around 0.3
    assert freq <= 0.3 + 3 * math.sqrt(0.3 * 0.7 / trials)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: norm_constant_tail(0, 3, 0.1), "m"),
        (lambda: norm_constant_tail(10.5, 3, 0.1), "m"),
        (lambda: norm_constant_tail(10, True, 0.1), "d"),
        (lambda: norm_constant_tail(10, 3, 1.0), "delta"),
        (lambda: norm_constant_tail(10, 3, "x"), "delta"),
        (lambda: norm_constant_measured(np.ones((3, 2)), np.ones((3, 2))), "A"),
        (lambda: norm_constant_measured(np.eye(3), np.ones((2, 2))), "W"),
        (lambda: norm_constant_measured(np.eye(3) * np.nan, np.ones((3, 2))), "A"),
        (lambda: NormConstant(-1.0, "tail"), "c"),
        (lambda: NormConstant(1.0, "guess"), "source"),
    ],
)
def test_bad_inputs(call, name):
    with pytest.raises(InvalidArgument, match=rf"^{name}="):
        call()
