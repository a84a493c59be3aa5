"""The GD loop's per-step certified values bracket the exact ones (SVD oracle at every step)."""

from __future__ import annotations

import math

import torch

from verify.bench.step import InstrumentedStep, _problem
from verify.experiment.stopping import stop_rule
from verify.model.network import ImplicitNetwork


def _svd_norm(M: torch.Tensor) -> float:
    return float(torch.linalg.matrix_norm(M.to(torch.float64), ord=2))


def test_per_step_bounds_bracket_exact_values():
    X, y, _ = _problem(16, 0, torch.device("cpu"), torch.float64)
    net = ImplicitNetwork.init(24, X.shape[1], 0.3, 1)
    # a large step so that A moves enough for the tracker to work between SVD refreshes
    loop = InstrumentedStep(net, X, y, 0.05).loop
    loop.expensive_every = 10**6  # only step 0 is expensive: every later value is a bound
    A0, W0 = loop.P0["A"], loop.P0["W"]
    exact: list[tuple[float, float, float]] = []

    def capture(state, k, *args):
        A, W = loop.net.A.detach(), loop.net.W.detach()
        exact.append((loop.net.gamma_tilde * _svd_norm(A), _svd_norm(A - A0), _svd_norm(W - W0)))
        return stop_rule(state, k, *args)

    for k in range(25):
        assert loop.advance(k, capture)[0] is None
    r = loop.rows
    n_upper = 0
    for k, (rho, dA, dW) in enumerate(exact):
        if r["contraction_exact"][k] == 1.0:  # exact to rounding (Gram eigenvalue vs SVD)
            assert r["contraction_lower"][k] == r["contraction"][k]
            assert math.isclose(r["contraction"][k], rho, rel_tol=1e-13), k
        else:  # certified bounds: strictly on their side
            n_upper += 1
            assert r["contraction_lower"][k] <= rho <= r["contraction"][k], k
        assert r["A_move_lower"][k] <= dA <= r["A_move_upper"][k], k
        assert r["W_move_lower"][k] <= dW <= r["W_move_upper"][k], k
        if k > 0:
            assert math.isnan(r["A_move"][k])
    # the last step's contraction is exact (a stop rule that stops at k = 25)
    def stop_now(state, k, *args):
        return ("max_steps", "test stop") if k == 25 else stop_rule(state, k, *args)

    assert loop.advance(25, stop_now)[0] == "max_steps"
    assert r["contraction_exact"][25] == 1.0 and r["contraction_lower"][25] == r["contraction"][25]
    assert n_upper > 0  # the tracker did replace SVDs by bounds
    assert loop.solver_log["contraction_svds"] < len(exact)


def test_opnorm_matches_svd_on_both_paths():
    """‖M‖₂ from the Gram's largest eigenvalue (syrk + dsyevr above 64, torch below) vs SVD."""
    from verify.experiment.observers import _opnorm

    g = torch.Generator().manual_seed(5)
    for shape in ((200, 200), (200, 70), (70, 200), (40, 10), (10, 40)):
        M = torch.randn(*shape, generator=g, dtype=torch.float64)
        M[:, 0] *= 50.0  # a dominant direction
        assert math.isclose(_opnorm(M), _svd_norm(M), rel_tol=1e-13), shape
        assert math.isclose(_opnorm(M.T.contiguous()), _svd_norm(M), rel_tol=1e-13), shape
    assert _opnorm(torch.zeros(100, 80, dtype=torch.float64)) == 0.0


def test_spectral_norm_gram_kind_and_nonfinite():
    from verify.model.certified import BoundKind, spectral_norm_gram

    M = torch.randn(90, 70, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    cv = spectral_norm_gram(M)
    assert cv.kind is BoundKind.EXACT and cv.method == "gram_eigvalsh"
    M[3, 4] = float("nan")
    bad = spectral_norm_gram(M)
    assert math.isnan(bad.value) and bad.method == "nonfinite"
