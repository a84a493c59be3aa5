"""Forward/adjoint equilibrium solves of the G22 implicit layer (digest A §1, §4, §5).

Notation: ``F(Z) = σ(γ̃ Z Aᵀ + Φ)``, ``ρ = γ̃‖A‖₂`` (the Frobenius-norm Lipschitz constant of F
and of the adjoint map, ReLU and 0/1 masks being 1-Lipschitz). The solver stops when the relative
residual ``r = ‖F(X) − X‖_F/s ≤ tol`` (``s = ‖Φ‖_F`` forward, ``‖D∘u‖_F`` adjoint) and returns
``F(X)``. Two facts fix every tolerance below:

* (T1) the returned value ``Y = F(X)`` has residual ``‖F(Y) − Y‖ ≤ ρ‖Y − X‖ ≤ ρ·tol·s``;
* (T2) its distance to the unique fixed point is ``‖Y − Z*‖ ≤ ρ‖X − Z*‖ ≤ ρ/(1−ρ)·tol·s``
  (a-posteriori contraction bound), from any start point.

Rounding adds ``O(eps·‖Z‖/s) ≤ O(eps/(1−ρ))`` per evaluation, ~1e-15 here, far below the bounds.
All tests run in float64 on the CPU and, when present, on CUDA (``device`` fixture).
"""

from __future__ import annotations

import math

import pytest
import torch

import verify
from verify import (
    ImplicitNetwork,
    SolverError,
    SolveStatus,
    predicted_iterations,
    solve_adjoint,
    solve_forward,
    solve_forward_direct,
)
from verify.model.equilibrium import DEFAULT_TOL, DEFAULT_TOL_FLOAT32, default_tol

EPS64 = torch.finfo(torch.float64).eps
EPS32 = torch.finfo(torch.float32).eps
TOL = 1e-12  # float64 default tolerance (verify.DEFAULT_TOL)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """These problems are tiny (m ≤ 64): intra-op threading only adds synchronisation, and on a
    loaded 2-core machine the OpenMP waits made single tests take ~30 s instead of ~0.2 s."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def make_problem(m, d, n, gamma, seed, device, dtype=torch.float64, **kw):
    """Paper init from ``seed``; unit-norm rows X (Assumption 2) and Gaussian labels."""
    net = ImplicitNetwork.init(m, d, gamma, seed, device=device, dtype=dtype, **kw)
    g = torch.Generator().manual_seed(1000 + seed)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    X = X / X.norm(dim=1, keepdim=True)
    y = torch.randn(n, generator=g, dtype=torch.float64)
    return net, X.to(device=device, dtype=dtype), y.to(device=device, dtype=dtype)


def rel(a, b, scale):
    return float(torch.linalg.vector_norm(a - b)) / float(scale)


# --------------------------------------------------------------------------- 1. the equations
@pytest.mark.parametrize("gamma", [0.1, 0.4])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fixed_point_and_adjoint_satisfy_their_equations(device, seed, gamma):
    net, X, y = make_problem(64, 5, 12, gamma, seed, device)
    st = net.state(X, y)
    assert st.fwd.status is SolveStatus.CONVERGED, st.fwd.message()
    assert st.adj.status is SolveStatus.CONVERGED, st.adj.message()
    rho = st.fwd.contraction
    assert 0 < rho < 1, f"seed={seed}: expected a contraction, got ρ={rho}"
    A, u, gt = net.A.detach(), net.u.detach(), net.gamma_tilde

    # Forward: by (T1) the relative residual of the returned Z is ≤ ρ·tol < 1e-12.
    pre = gt * (st.Z @ A.T) + st.Phi
    r_fwd = rel(st.Z, torch.relu(pre), torch.linalg.vector_norm(st.Phi))
    assert r_fwd <= 1e-12, f"seed={seed} γ={gamma}: forward residual {r_fwd:.2e}"
    # The solution is not trivial: Z ≥ 0, Z ≠ 0 and D is the activation pattern at Z.
    assert bool((st.Z >= 0).all()) and float(st.Z.abs().max()) > 0
    assert torch.equal(st.D, (pre > 0).to(st.D.dtype))

    # Adjoint: B = D ∘ (1uᵀ + γ̃ B A), same bound (T1) relative to ‖D∘u‖.
    Du = st.D * u
    r_adj = rel(st.B, st.D * (u + gt * (st.B @ A)), torch.linalg.vector_norm(Du))
    assert r_adj <= 1e-12, f"seed={seed} γ={gamma}: adjoint residual {r_adj:.2e}"
    # b_i = D_i (I − γ̃ Aᵀ D_i)^{-1} u: check one row against a dense solve (eps·cond accuracy,
    # cond ≤ (1+ρ)/(1−ρ) ≤ 9; (T2) gives ρ/(1−ρ)·tol ≤ 4e-12 relative).
    i = 0
    Di = torch.diag(st.D[i])
    b_dense = Di @ torch.linalg.solve(torch.eye(net.m, dtype=A.dtype, device=A.device) - gt * A.T @ Di, u)
    bound = rho / (1 - rho) * TOL * float(torch.linalg.vector_norm(Du)) + 1e3 * EPS64 * float(u.norm())
    assert float(torch.linalg.vector_norm(st.B[i] - b_dense)) <= bound


# --------------------------------------------------------------------------- 2. agreement, uniqueness
@pytest.mark.parametrize("m", [3, 6, 10])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_picard_anderson_direct_agree(device, m, seed):
    net, X, _ = make_problem(m, 3, 5, 0.3, seed, device)
    A, Phi, gt = net.A.detach(), net.features(X).detach(), net.gamma_tilde
    pic = solve_forward(A, Phi, gt, method="picard", tol=TOL, throw=True)
    anc = solve_forward(A, Phi, gt, method="anderson", tol=TOL, throw=True)
    dire = solve_forward_direct(A, Phi, gt)
    assert dire.status is SolveStatus.CONVERGED, dire.message()
    rho = pic.contraction
    assert rho < 0.9, f"m={m} seed={seed}: ρ={rho:.3f}, test assumes a clear contraction"
    # (T2) for each iterative solve + eps·cond(I − γ̃DA) ≤ eps(1+ρ)/(1−ρ) for the dense one.
    bound = 2 * rho / (1 - rho) * TOL + 100 * EPS64 / (1 - rho)
    assert bound <= 1e-10
    s = torch.linalg.vector_norm(Phi)
    assert rel(pic.value, dire.value, s) <= bound, (m, seed)
    assert rel(anc.value, dire.value, s) <= bound, (m, seed)
    assert rel(pic.value, anc.value, s) <= bound, (m, seed)
    assert dire.value.device == Phi.device and dire.value.dtype == Phi.dtype


@pytest.mark.parametrize("seed", [0, 1])
def test_solution_independent_of_start_point(device, seed):
    """Uniqueness under contraction (Banach): any z0 gives the same Z up to (T2)."""
    net, X, _ = make_problem(48, 4, 8, 0.4, seed, device)
    A, Phi, gt = net.A.detach(), net.features(X).detach(), net.gamma_tilde
    ref = solve_forward(A, Phi, gt, throw=True)
    rho = ref.contraction
    assert rho < 1
    g = torch.Generator().manual_seed(seed)
    starts = [
        10 * torch.randn(Phi.shape, generator=g, dtype=Phi.dtype).to(device),  # signs mixed
        1e3 * torch.ones_like(Phi),                                           # far away
        ref.value.clone(),                                                    # the solution
    ]
    for z0 in starts:
        res = solve_forward(A, Phi, gt, z0=z0, throw=True)
        bound = 2 * rho / (1 - rho) * TOL + 100 * EPS64 / (1 - rho)
        assert rel(res.value, ref.value, torch.linalg.vector_norm(Phi)) <= bound
    # Warm start at the solution: the first residual is already ≤ ρ·tol (T1).
    warm = solve_forward(A, Phi, gt, z0=ref.value)
    assert warm.iterations == 1


@pytest.mark.parametrize("seed", [0, 1])
def test_adjoint_picard_anderson_and_matrix_rhs_agree(device, seed):
    net, X, y = make_problem(32, 4, 6, 0.4, seed, device)
    st = net.state(X, y)
    A, gt, u = net.A.detach(), net.gamma_tilde, net.u.detach()
    rho = st.adj.contraction
    an = solve_adjoint(A, u, st.D, gt, method="anderson", throw=True)
    # The (n, m) right-hand side 1uᵀ must give the same B as the broadcast vector u.
    mat = solve_adjoint(A, u.expand_as(st.D).clone(), st.D, gt, throw=True)
    bound = 2 * rho / (1 - rho) * TOL + 100 * EPS64 / (1 - rho)
    s = torch.linalg.vector_norm(st.D * u)
    assert rel(an.value, st.B, s) <= bound
    assert rel(mat.value, st.B, s) <= bound
    # A bool pattern is accepted and means the same.
    bo = solve_adjoint(A, u, st.D > 0, gt, throw=True)
    assert rel(bo.value, st.B, s) <= bound


# --------------------------------------------------------------------------- 4. iteration counts
@pytest.mark.parametrize("tol", [1e-6, 1e-12])
@pytest.mark.parametrize("gamma", [0.05, 0.2, 0.45])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_picard_within_predicted_iterations(device, seed, gamma, tol):
    net, X, y = make_problem(64, 5, 8, gamma, seed, device, tol=tol)
    st = net.state(X, y)
    for res in (st.fwd, st.adj):
        rho = res.contraction
        assert 0 < rho < 1, f"seed={seed} γ={gamma}: ρ={rho}"
        assert res.status is SolveStatus.CONVERGED, res.message()
        predicted = predicted_iterations(rho, tol)
        assert 1 <= res.iterations <= predicted, (res.kind, seed, gamma, tol, res.iterations, predicted)
        h = res.history
        assert len(h) == res.iterations and res.residual == h[-1] <= tol
        # Picard from 0: the first relative residual is exactly 1 and each later one shrinks by ≤ ρ
        # (slack: rounding of one evaluation, ≲ √m·eps/(1−ρ), times a safety factor 8).
        assert h[0] == pytest.approx(1.0, abs=1e-14)
        slack = 8 * math.sqrt(net.m) * EPS64 / (1 - rho)
        for p in range(len(h) - 1):
            assert h[p + 1] <= rho * h[p] + slack, (res.kind, p, h[p], h[p + 1], rho)


@pytest.mark.parametrize("rho", [0.3, 0.5, 0.8])
def test_predicted_iterations_is_attained_by_a_positive_diagonal_layer(device, rho):
    """A = (ρ/γ̃)·I with Φ > 0 gives z_p = φ(1−ρ^p)/(1−ρ): the p-th residual is exactly ρ^{p−1},
    so Picard needs exactly ``predicted_iterations(ρ, tol)`` evaluations — the bound is sharp."""
    m, gt, tol = 8, 0.05, 1e-6
    A = (rho / gt) * torch.eye(m, dtype=torch.float64, device=device)
    Phi = torch.rand(3, m, dtype=torch.float64, generator=torch.Generator().manual_seed(0)).to(device) + 0.1
    res = solve_forward(A, Phi, gt, tol=tol, throw=True)
    assert res.contraction == pytest.approx(rho, rel=1e-12)
    # log(tol)/log(ρ) is 11.5, 19.9, 61.9 here: not near an integer, so rounding cannot shift it.
    assert res.iterations == predicted_iterations(rho, tol)
    assert res.history == pytest.approx([rho**p for p in range(res.iterations)], rel=1e-9)
    # The adjoint map with D = 1 is the same linear iteration.
    adj = solve_adjoint(A, torch.ones(m, dtype=torch.float64, device=device), torch.ones_like(Phi), gt, tol=tol)
    assert adj.iterations == predicted_iterations(rho, tol)


def test_predicted_iterations_values():
    # 1 + ⌈log tol / log ρ⌉: ρ = ½, tol = 2^-10 → exactly 11; ρ = 0 (A = 0) → 2; ρ ≥ 1 → -1.
    assert predicted_iterations(0.5, 2.0**-10) == 11
    assert predicted_iterations(0.5, 1e-3) == 1 + math.ceil(math.log(1e-3) / math.log(0.5)) == 11
    assert predicted_iterations(0.0, 1e-12) == 2
    assert predicted_iterations(1.0, 1e-12) == -1
    assert predicted_iterations(3.0, 1e-12) == -1
    assert predicted_iterations(float("nan"), 1e-12) == -1


def test_zero_layer_converges_in_two_evaluations(device):
    """A = 0: F is constant (Z = Φ), evaluation 1 has residual 1 and evaluation 2 residual 0."""
    Phi = torch.rand(4, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1)).to(device)
    res = solve_forward(torch.zeros(5, 5, dtype=torch.float64, device=device), Phi, 0.1, throw=True)
    assert res.iterations == 2 == predicted_iterations(res.contraction, TOL)
    assert torch.equal(res.value, Phi)


def test_max_iter_counts_map_evaluations(device):
    net, X, _ = make_problem(32, 4, 5, 0.45, 0, device)
    A, Phi, gt = net.A.detach(), net.features(X).detach(), net.gamma_tilde
    for k in (1, 2, 5):
        res = solve_forward(A, Phi, gt, max_iter=k)
        assert res.status is SolveStatus.MAX_ITER
        assert res.iterations == k == len(res.history)
        assert res.residual == res.history[-1] > TOL
        # The value is the k-th Picard iterate F^k(0).
        Z = torch.zeros_like(Phi)
        for _ in range(k):
            Z = torch.relu(gt * (Z @ A.T) + Phi)
        assert torch.equal(res.value, Z)
        assert "raise max_iter" in res.message()


# --------------------------------------------------------------------------- 5. expansive maps
def _expansive(device, sign, factor, m=6, n=4):
    gt = 0.5 / math.sqrt(m)
    A = sign * (factor / gt) * torch.eye(m, dtype=torch.float64, device=device)
    Phi = torch.rand(n, m, dtype=torch.float64, generator=torch.Generator().manual_seed(2)).to(device) + 0.1
    return A, Phi, gt


@pytest.mark.parametrize(
    "sign,factor,expected",
    [
        # A = kI, γ̃k = 2: z_p = (2^p − 1)φ, the residual doubles each step → DIVERGED (> 1e8).
        (+1.0, 2.0, SolveStatus.DIVERGED),
        # A = −kI, γ̃k = 2: z alternates between φ and σ(−φ) = 0, a 2-cycle → MAX_ITER.
        (-1.0, 2.0, SolveStatus.MAX_ITER),
        # γ̃k = 1.5 > 1, positive: geometric growth → DIVERGED.
        (+1.0, 1.5, SolveStatus.DIVERGED),
    ],
)
def test_expansive_map_fails_with_a_helpful_message(device, sign, factor, expected):
    A, Phi, gt = _expansive(device, sign, factor)
    methods = ["picard"]
    if sign > 0:
        # z = σ(γ̃k z + φ) with γ̃k > 1, φ > 0 has no fixed point at all (z ≥ 0 would need
        # z = −φ/(γ̃k − 1) < 0), so no method may report convergence.
        methods.append("anderson")
    else:
        # A = −kI does have a (unique) fixed point z = φ/(1 + γ̃k) although ρ = 2: the contraction
        # condition is sufficient, not necessary. Anderson finds it; Picard 2-cycles.
        res = solve_forward(A, Phi, gt, method="anderson", max_iter=60)
        if res.converged:
            assert rel(res.value, Phi / (1 + factor), torch.linalg.vector_norm(Phi)) <= 1e-10
    for method in methods:
        res = solve_forward(A, Phi, gt, method=method, max_iter=60)
        assert res.contraction == pytest.approx(factor, rel=1e-12)
        assert res.status is not SolveStatus.CONVERGED
        if method == "picard":
            assert res.status is expected, res.message()
        msg = res.message()
        assert f"γ̃‖A‖₂={factor:.4f}" in msg
        assert "not a contraction" in msg and "reduce γ" in msg
        with pytest.raises(SolverError, match="not a contraction") as info:
            solve_forward(A, Phi, gt, method=method, max_iter=60, throw=True)
        assert "reduce γ" in str(info.value)


def test_network_forward_raises_on_expansive_layer(device):
    m, d = 6, 3
    gamma = 0.5
    gt = gamma / math.sqrt(m)
    A = (2.0 / gt) * torch.eye(m, dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    W = torch.randn(m, d, generator=g, dtype=torch.float64).abs()  # Φ > 0 for X > 0
    net = ImplicitNetwork(A.to(device), W.to(device), torch.ones(m, device=device, dtype=torch.float64),
                          torch.ones(m, device=device, dtype=torch.float64), gamma)
    X = torch.rand(3, d, generator=g, dtype=torch.float64).to(device) + 0.1
    assert net.contraction() == pytest.approx(2.0)
    with pytest.raises(SolverError, match="contraction"):
        net.forward(X)
    with pytest.raises(SolverError, match="reduce γ"):
        net.loss(X, torch.zeros(3, dtype=torch.float64, device=device))
    with pytest.raises(SolverError):
        verify.implicit_gradients(net, X, torch.zeros(3, dtype=torch.float64, device=device))
    # state() never throws; it reports.
    st = net.state(X, torch.zeros(3, dtype=torch.float64, device=device))
    assert st.fwd.status is SolveStatus.DIVERGED and not st.ok


# --------------------------------------------------------------------------- 6. non-finite values
@pytest.mark.parametrize("bad", [float("inf"), float("-inf"), float("nan")])
def test_nonfinite_phi_gives_nonfinite_status(device, bad):
    net, X, _ = make_problem(16, 3, 4, 0.2, 0, device)
    A, gt = net.A.detach(), net.gamma_tilde
    Phi = net.features(X).detach().clone()
    Phi[1, 3] = bad
    for method in ("picard", "anderson"):
        res = solve_forward(A, Phi, gt, method=method)
        assert res.status is SolveStatus.NONFINITE, (bad, method, res.status)
        assert not res.converged and math.isnan(res.residual)
        assert "NaN/Inf" in res.message()
        with pytest.raises(SolverError, match="non-finite"):
            solve_forward(A, Phi, gt, method=method, throw=True)


def test_nonfinite_start_point_and_adjoint_rhs(device):
    net, X, y = make_problem(16, 3, 4, 0.2, 0, device)
    st = net.state(X, y)
    A, gt = net.A.detach(), net.gamma_tilde
    z0 = torch.zeros_like(st.Phi)
    z0[0, 0] = float("nan")
    assert solve_forward(A, st.Phi, gt, z0=z0).status is SolveStatus.NONFINITE
    rhs = torch.ones_like(st.Phi)
    rhs[2, 1] = float("inf")
    assert solve_adjoint(A, rhs, st.D, gt).status is SolveStatus.NONFINITE
    A_bad = A.clone()
    A_bad[0, 0] = float("nan")
    res = solve_forward(A_bad, st.Phi, gt)
    assert res.status is SolveStatus.NONFINITE and math.isnan(res.contraction)


def test_overflow_during_iteration_is_nonfinite(device):
    """Finite operands whose second iterate overflows: γ̃k = 1e200 times φ = 1e150 → inf
    before the 1e8-growth divergence test can see a finite residual."""
    m = 4
    gt = 0.1
    A = (1e200 / gt) * torch.eye(m, dtype=torch.float64, device=device)
    Phi = torch.ones(2, m, dtype=torch.float64, device=device)
    Phi[0, 0] = 1e150
    res = solve_forward(A, Phi, gt)
    assert res.status is SolveStatus.NONFINITE and res.iterations == 2


# --------------------------------------------------------------------------- 7. float32
@pytest.mark.parametrize("seed", [0, 1])
def test_float32_network_converges_and_matches_float64(device, seed):
    m, gamma = 64, 0.3
    net64, X64, y64 = make_problem(m, 5, 10, gamma, seed, device)
    net32 = ImplicitNetwork.init(m, 5, gamma, seed, device=device, dtype=torch.float32)
    X32, y32 = X64.float(), y64.float()
    st32 = net32.state(X32, y32)  # default tol for float32 is 1e-6 (DEFAULT_TOL_FLOAT32)
    st64 = net64.state(X64, y64)
    assert st32.fwd.converged and st32.adj.converged, st32.fwd.message()
    assert st32.fwd.tol == DEFAULT_TOL_FLOAT32 == 1e-6
    assert st32.Z.dtype == torch.float32
    rho = st64.fwd.contraction
    # Perturbation bound: rounding A, Φ to float32 (relative eps32) and one evaluation's rounding
    # (at most m·eps32 for a length-m dot product, deterministic worst case) propagate through
    # (I − γ̃DA)^{-1}, norm ≤ 1/(1−ρ); plus (T2) with tol32. Relative to ‖Φ‖:
    bound = (DEFAULT_TOL_FLOAT32 * rho + (m + 3) * EPS32) / (1 - rho) ** 2
    assert bound < 1e-4
    u64, v64 = net64.u.detach(), net64.v.detach()
    s = torch.linalg.vector_norm(st64.Phi)
    assert rel(st32.Z.double(), st64.Z, s) <= bound
    assert rel(st32.B.double(), st64.B, torch.linalg.vector_norm(st64.D * u64)) <= bound
    # ŷ and the loss: same relative accuracy on the scale ‖u‖‖Z‖ + ‖v‖‖Φ‖.
    scale = float(u64.norm() * st64.Z.norm() + v64.norm() * st64.Phi.norm())
    assert float((st32.yhat.double() - st64.yhat).norm()) <= bound * scale
    # Autograd path in float32.
    net32.loss(X32, y32).backward()
    assert net32.A.grad is not None and net32.A.grad.dtype == torch.float32
    assert bool(torch.isfinite(net32.A.grad).all())


def test_default_tol_depends_on_dtype(device):
    assert default_tol(torch.float64) == DEFAULT_TOL == TOL
    assert default_tol(torch.float32) == DEFAULT_TOL_FLOAT32
    # The float32 default is reachable: it sits a factor 8 above eps32, and the measured float32
    # stagnation level of the relative residual is ≲ 4e-7 for ρ ≤ 1.8, m ≤ 2000.
    assert DEFAULT_TOL_FLOAT32 >= 8 * EPS32
    net, X, _ = make_problem(8, 3, 4, 0.2, 0, device, dtype=torch.float32)
    assert net.equilibrium(X).tol == DEFAULT_TOL_FLOAT32
    net64, X64, _ = make_problem(8, 3, 4, 0.2, 0, device)
    assert net64.equilibrium(X64).tol == DEFAULT_TOL
