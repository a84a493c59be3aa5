"""The block Gauss–Seidel equilibrium solver (``method="gauss-seidel"``, the run's default).

Its stop is a Picard check: it returns ``Y = F(X)`` only when ``r = ‖F(X) − X‖_F/s ≤ tol``, so
the facts of ``test_equilibrium.py`` hold unchanged:

* (T1) ``‖F(Y) − Y‖ ≤ ρ·r·s``;
* (T2) ``‖Y − Z*‖ ≤ ρ/(1 − ρ)·r·s ≤ ρ/(1 − ρ)·tol·s`` — the certified error.

Two solves each within (T2) of ``Z*`` differ by at most the sum of their certificates; every
bound below is that sum carried through the (bilinear) formulas for ŷ, the loss and the
gradients, plus a rounding allowance ``γ_k = k·eps`` times the norms involved (the standard
bound on the rounding of a k-term float64 sum or dot product, k the longest such sum).
"""

from __future__ import annotations

import math

import pytest
import torch

from bounds import InvalidArgument
from tests.verify.test_gradients import grad_tolerance, unroll_steps, unrolled_grads
from verify import (
    ImplicitNetwork,
    SolveStatus,
    implicit_gradients,
    solve_adjoint,
    solve_forward,
    solve_forward_direct,
)
from verify.model.equilibrium import _gauss_seidel

EPS64 = torch.finfo(torch.float64).eps
TOL = 1e-12


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def make_problem(m, d, n, gamma, seed, **kw):
    net = ImplicitNetwork.init(m, d, gamma, seed, **kw)
    g = torch.Generator().manual_seed(3000 + seed)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    X = X / X.norm(dim=1, keepdim=True)
    y = torch.randn(n, generator=g, dtype=torch.float64)
    return net, X, y


def norm(t) -> float:
    return float(torch.linalg.vector_norm(t))


def certificate(res) -> float:
    """(T2) relative to the solve's scale: ρ/(1 − ρ)·r."""
    rho = res.contraction
    assert 0 < rho < 1
    return rho / (1 - rho) * res.residual


# --------------------------------------------------------------------------- the certificate
@pytest.mark.parametrize("m,block", [(6, 2), (10, 3), (10, 64)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gauss_seidel_is_within_its_certificate_of_the_direct_solution(m, block, seed):
    net, X, _ = make_problem(m, 3, 5, 0.3, seed)
    A, Phi, gt = net.A.detach(), net.features(X).detach(), net.gamma_tilde
    gs = solve_forward(A, Phi, gt, method="gauss-seidel", tol=TOL, gs_block=block, throw=True)
    ref = solve_forward_direct(A, Phi, gt)
    assert ref.status is SolveStatus.CONVERGED, ref.message()
    assert gs.residual <= TOL
    rho = gs.contraction
    # the certified error bound is at most the one the tolerance states
    assert certificate(gs) <= rho / (1 - rho) * TOL
    # (T2) for the Gauss–Seidel value + eps·cond(I − γ̃DA) ≤ eps(1+ρ)/(1−ρ) (·m for the sums)
    # for the dense reference
    bound = certificate(gs) + m * EPS64 * (1 + rho) / (1 - rho)
    s = norm(torch.relu(Phi))
    assert norm(gs.value - ref.value) / s <= bound, (m, block, seed)


@pytest.mark.parametrize("seed", [0, 1])
def test_forward_and_adjoint_agree_with_picard_within_the_certificates(seed):
    net, X, _ = make_problem(200, 8, 24, 0.2, seed)
    A, Phi, gt, u = net.A.detach(), net.features(X).detach(), net.gamma_tilde, net.u.detach()
    pic = solve_forward(A, Phi, gt, method="picard", tol=TOL, throw=True)
    gs = solve_forward(A, Phi, gt, method="gauss-seidel", tol=TOL, gs_block=48, throw=True)
    s = norm(torch.relu(Phi))
    rnd = 2 * net.m * EPS64 / (1 - gs.contraction)  # the rounding of the two evaluations
    assert norm(gs.value - pic.value) / s <= certificate(gs) + certificate(pic) + rnd
    # (T1), computed here from the equation: the returned value's own residual ≤ ρ·r
    r_own = norm(torch.relu(gt * (gs.value @ A.T) + Phi) - gs.value) / s
    assert r_own <= gs.contraction * gs.residual + rnd
    D = ((gt * (pic.value @ A.T) + Phi) > 0).to(A.dtype)
    apic = solve_adjoint(A, u, D, gt, method="picard", tol=TOL, throw=True)
    ags = solve_adjoint(A, u, D, gt, method="gauss-seidel", tol=TOL, gs_block=48, throw=True)
    sa = norm(D * u)
    assert norm(ags.value - apic.value) / sa <= certificate(ags) + certificate(apic) + rnd
    # the matrix right-hand side (vector-Jacobian products) takes the same path
    R = torch.randn(D.shape, generator=torch.Generator().manual_seed(seed), dtype=A.dtype)
    mp = solve_adjoint(A, R, D, gt, method="picard", tol=TOL, throw=True)
    mg = solve_adjoint(A, R, D, gt, method="gauss-seidel", tol=TOL, gs_block=48, throw=True)
    assert norm(mg.value - mp.value) / norm(D * R) <= certificate(mg) + certificate(mp) + rnd


def test_fewer_evaluations_than_picard_from_zero():
    """From 0 on a (n, m) = (24, 256) layer with γ = 0.1: sweeps contract faster than Picard's
    evaluations (measured 0.044 against 0.086 per evaluation at (128, 512))."""
    net, X, _ = make_problem(256, 8, 24, 0.1, 0)
    A, Phi, gt = net.A.detach(), net.features(X).detach(), net.gamma_tilde
    pic = solve_forward(A, Phi, gt, method="picard", tol=TOL, throw=True)
    gs = solve_forward(A, Phi, gt, method="gauss-seidel", tol=TOL, throw=True)
    assert gs.iterations < pic.iterations, (gs.iterations, pic.iterations)


# --------------------------------------------------------------------------- losses and gradients
def _bounds(net, X, st_a, st_b):
    """Tolerance-derived bounds on |ΔL| and ‖Δ∇θ‖_F between two states at the same θ (module
    docstring): ε_Z, ε_B from (T2), pushed through ŷ = Zu + Φv, L = ½‖e‖² and Lemma 2.3."""
    n, m = st_a.Z.shape
    u, v = net.u.detach(), net.v.detach()
    eZ = (certificate(st_a.fwd) + certificate(st_b.fwd)) * norm(torch.relu(st_a.Phi))
    eB = (certificate(st_a.adj) + certificate(st_b.adj)) * norm(st_a.D * u)
    dy = norm(u) * eZ
    e_a, e_b = st_a.e, st_b.e
    big = max(norm(st_a.Z), norm(st_b.Z))
    bigB = max(norm(st_a.B), norm(st_b.B))
    k = n + m  # the longest sums: ŷ (m terms), the gradients' sums over samples (n terms)
    rnd = k * EPS64
    yscale = norm(u) * big + norm(st_a.Phi) * norm(v) + norm(st_a.y)
    dL = dy * norm(e_a) + 0.5 * dy**2 + rnd * yscale**2
    dy_r = dy + rnd * yscale
    einf = max(float(e_a.abs().max()), float(e_b.abs().max()))
    out = {
        "u": eZ * norm(e_a) + big * dy_r + rnd * big * norm(e_a),
        "v": norm(st_a.Phi) * dy_r + rnd * norm(st_a.Phi) * norm(e_a),
        "A": net.gamma_tilde * ((dy_r * bigB + einf * eB) * big + einf * bigB * eZ + rnd * einf * bigB * big),
        "W": ((dy_r * (bigB + norm(st_a.E * v)) + einf * eB) + rnd * einf * (bigB + norm(st_a.E * v)))
        * norm(X) / math.sqrt(m),
    }
    return dL, out


def test_loss_and_gradients_agree_with_picard_along_a_trajectory():
    """A GD trajectory driven by Gauss–Seidel; at every θ of it the Picard state is computed
    too (each solver warm-started from its own previous equilibrium, as a run does), and the
    loss and all four gradients agree within the bounds the two certificates give."""
    net, X, y = make_problem(160, 6, 20, 0.15, 0, method="gauss-seidel")
    net.solver_opts["forward"]["gs_block"] = net.solver_opts["adjoint"]["gs_block"] = 40
    pic = ImplicitNetwork(*(net.parameters_dict()[k] for k in ("A", "W", "u", "v")), net.gamma, method="picard")
    prev = {"gs": None, "pic": None}
    for _ in range(6):
        pic.load_parameters(net.parameters_dict())
        sg = net.state(X, y, z0=None if prev["gs"] is None else prev["gs"].Z,
                       b0=None if prev["gs"] is None else prev["gs"].B)
        sp = pic.state(X, y, z0=None if prev["pic"] is None else prev["pic"].Z,
                       b0=None if prev["pic"] is None else prev["pic"].B)
        assert sg.ok and sp.ok
        assert sg.fwd.method == "gauss-seidel" and sp.fwd.method == "picard"
        for res in (sg.fwd, sg.adj):
            assert res.residual <= TOL and certificate(res) <= res.contraction / (1 - res.contraction) * TOL
        # a pattern change would need a pre-activation within ε_Z of 0: not at these seeds
        assert torch.equal(sg.D, sp.D)
        dL, dG = _bounds(net, X, sg, sp)
        assert abs(sg.loss - sp.loss) <= dL
        gg, gp = implicit_gradients(net, X, y, sg), implicit_gradients(pic, X, y, sp)
        for k_ in ("A", "W", "u", "v"):
            assert norm(gg[k_] - gp[k_]) <= dG[k_], (k_, norm(gg[k_] - gp[k_]), dG[k_])
        with torch.no_grad():
            for k_, g in gg.items():
                getattr(net, k_).sub_(0.05 * g)
        prev = {"gs": sg, "pic": sp}


@pytest.mark.parametrize("seed", [0, 1])
def test_implicit_gradients_match_unrolled_autograd(seed):
    """Autograd through an unrolled Picard forward from 0 (K steps with ρ^K < 1e-16) against
    the Gauss–Seidel network's closed-form gradients and its custom backward (the adjoint by
    Gauss–Seidel with an (n, m) right-hand side). Tolerance as in test_gradients.py."""
    net, X, y = make_problem(40, 6, 8, 0.3, seed, method="gauss-seidel")
    for kind in ("forward", "adjoint"):
        net.solver_opts[kind]["gs_block"] = 8
    rho = net.contraction()
    # the unrolled reference and its tolerance are test_gradients.py's own (derived there)
    ref = unrolled_grads(net, X, lambda yhat: 0.5 * torch.sum((yhat - y) ** 2), unroll_steps(rho))
    rtol = grad_tolerance(rho, TOL)
    closed = implicit_gradients(net, X, y)
    net.zero_grad()
    net.loss(X, y).backward()
    auto = {k: getattr(net, k).grad for k in "AWuv"}
    for got in (closed, auto):
        for k in "AWuv":
            assert norm(got[k] - ref[k]) <= rtol * norm(ref[k]), k


# --------------------------------------------------------------------------- safeguard, errors
def test_growing_sweeps_fall_back_to_picard_with_the_same_certificate():
    """A sweep that expands (Gauss–Seidel is not guaranteed to contract where Picard does):
    after the first growing increment every evaluation is a Picard step, and the solve stops
    on the Picard residual with the map's certificate. Map: F(x) = ½x + c (ρ = ½, z* = 2c)."""
    c = torch.linspace(1.0, 2.0, 12, dtype=torch.float64).reshape(3, 4)

    def F(x, out):
        return torch.add(0.5 * x, c, out=out)

    sweeps = []

    def bad_sweep(x):
        old = x.clone()
        x.mul_(3.0).sub_(4.0 * c)  # 3x − 2·z*: the error triples
        sweeps.append(1)
        return norm(x - old)

    s = norm(c)
    x, status, it, res, hist = _gauss_seidel(F, bad_sweep, torch.zeros_like(c), s, torch.empty_like(c),
                                             tol=TOL, max_iter=200)
    assert status is SolveStatus.CONVERGED and res <= TOL
    assert len(sweeps) == 2  # the second increment grew: no sweep after it
    assert it == len(hist) and it > len(sweeps)
    assert norm(x - 2 * c) / s <= 0.5 / (1 - 0.5) * res + 8 * EPS64


def test_max_iter_counts_sweeps_and_checks():
    net, X, _ = make_problem(64, 4, 6, 0.3, 0)
    A, Phi, gt = net.A.detach(), net.features(X).detach(), net.gamma_tilde
    r = solve_forward(A, Phi, gt, method="gauss-seidel", tol=1e-15, max_iter=3, gs_block=16)
    assert r.status is SolveStatus.MAX_ITER and r.iterations == 3 and len(r.history) == 3
    assert math.isfinite(r.residual)  # the last evaluation is always a check


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "64"])
def test_bad_block_size_names_the_argument(bad):
    net, X, _ = make_problem(8, 3, 4, 0.3, 0)
    with pytest.raises(InvalidArgument, match="gs_block"):
        solve_forward(net.A.detach(), net.features(X).detach(), net.gamma_tilde, method="gauss-seidel", gs_block=bad)


def test_the_run_default_is_gauss_seidel_everywhere():
    """RunConfig, ``implicit-verify run`` and ``bench step`` share the default solver."""
    import argparse

    from verify.bench.options import add_step_arguments
    from verify.cli import build_parser
    from verify.experiment.config import RunConfig

    assert RunConfig(m=4, gamma=0.1, step=0.1, steps=1).solver == "gauss-seidel"
    run_args = build_parser().parse_args(["run", "--steps", "1", "--m", "4"])
    assert run_args.solver == "gauss-seidel"
    p = argparse.ArgumentParser()
    add_step_arguments(p)
    assert p.parse_args([]).solver == "gauss-seidel"


def test_the_run_record_states_the_solver_and_its_certified_error():
    """run_gd's default solve: every recorded residual is at most tol, so every solve meets
    the certificate ρ/(1 − ρ)·tol that record["solver"]["certified_error"] states."""
    import numpy as np

    from verify import RunConfig, run_gd

    g = torch.Generator().manual_seed(5)
    X = torch.randn(6, 4, generator=g, dtype=torch.float64)
    X = (X / X.norm(dim=1, keepdim=True)).numpy()
    y = torch.randn(6, generator=g, dtype=torch.float64).numpy()
    res = run_gd(X, y, RunConfig(m=96, gamma=0.2, step=0.05, steps=4), progress=False)
    rec = res.record["solver"]
    assert rec["method"] == "gauss-seidel" and rec["tol"] == TOL
    for name in ("fwd_residual", "adj_residual"):
        assert np.all(res.trace[name] <= TOL), name
    rho = float(np.max(res.trace["contraction"]))
    assert 0 < rho < 1
    assert rec["certified_error"]["relative"] == pytest.approx(rho / (1 - rho) * TOL, rel=1e-15)
    assert rec["certified_error"]["contraction_max"] == rho
