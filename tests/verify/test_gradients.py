"""Implicit gradients [G22 Lemma 2.3] against two independent references.

(a) Autograd through a long *unrolled* forward ``z ← σ(γ̃ A z + φ)`` from ``z = 0``, written here
    and differentiated by torch. After K steps the iterate and its derivatives are within
    ``O(K ρ^K)`` of the equilibrium's (``ρ = γ̃‖A‖₂``), so K is chosen with ``ρ^K < 1e-16``.
(b) Central finite differences of the loss along random directions.

Both ``verify.implicit_gradients`` (closed forms, no autograd) and ``net.loss(X, y).backward()``
(custom autograd Function with one adjoint solve) are checked, on CPU and CUDA when present.
"""

from __future__ import annotations

import math

import pytest
import torch

from verify import ImplicitNetwork, SolverError, implicit_gradients

KEYS = ("A", "W", "u", "v")
TOL = 1e-12  # solver tolerance used by the networks below (float64 default)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """These problems are tiny (m ≤ 64): intra-op threading only adds synchronisation, and on a
    loaded 2-core machine the OpenMP waits made single tests take ~30 s instead of ~0.2 s."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def make_problem(m, d, n, gamma, seed, device, **kw):
    net = ImplicitNetwork.init(m, d, gamma, seed, device=device, **kw)
    g = torch.Generator().manual_seed(2000 + seed)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    X = X / X.norm(dim=1, keepdim=True)
    y = torch.randn(n, generator=g, dtype=torch.float64)
    return net, X.to(device), y.to(device)


def unroll_steps(rho: float) -> int:
    """K with ρ^K < 1e-16 (plus one): the unrolled iterate is then exact to float64 precision."""
    assert 0 < rho < 1
    return math.ceil(math.log(1e-16) / math.log(rho)) + 1


def unrolled_yhat(params, X, gamma, K):
    A, W, u, v = params
    m = A.shape[0]
    gt = gamma / math.sqrt(m)
    Phi = torch.relu(X @ W.T) / math.sqrt(m)
    Z = torch.zeros(X.shape[0], m, dtype=X.dtype, device=X.device)
    for _ in range(K):
        Z = torch.relu(gt * (Z @ A.T) + Phi)
    return Z @ u + Phi @ v


def unrolled_grads(net, X, fn, K):
    params = [net.parameters_dict()[k].requires_grad_(True) for k in KEYS]
    out = fn(unrolled_yhat(params, X, net.gamma, K))
    grads = torch.autograd.grad(out, params)
    return dict(zip(KEYS, grads, strict=True))


def grad_tolerance(rho: float, tol: float = TOL) -> float:
    """Relative error allowed between implicit and exact gradients.

    The forward and adjoint solutions are within ``ρ/(1−ρ)·tol`` (relative) of the exact ones
    (a-posteriori contraction bound); the gradients are bilinear in (e, B, Z), and the ratios
    ‖Φ‖/‖Z‖, ‖D∘u‖/‖B‖ that convert these to relative errors are ≤ 1/(1−ρ). A factor 100 covers
    the sum over the terms and the unrolled reference's K·ρ^K ≲ 1e-14.
    """
    return 100 * tol / (1 - rho) ** 2


def assert_grads_close(got, ref, rtol, what):
    for k in KEYS:
        err = float(torch.linalg.vector_norm(got[k] - ref[k]))
        scale = float(torch.linalg.vector_norm(ref[k]))
        assert scale > 0, f"{what}: zero reference gradient for {k}"
        assert err <= rtol * scale, f"{what}: ∇{k} relative error {err / scale:.2e} > {rtol:.1e}"


# --------------------------------------------------------------------------- (a) unrolled autograd
@pytest.mark.parametrize("gamma", [0.1, 0.35])
@pytest.mark.parametrize("seed", [0, 1])
def test_implicit_gradients_match_unrolled_autograd(device, seed, gamma):
    net, X, y = make_problem(40, 6, 8, gamma, seed, device)
    rho = net.contraction()
    rtol = grad_tolerance(rho)
    assert rtol <= 1e-8, f"ρ={rho:.3f} too close to 1 for a sharp test"
    K = unroll_steps(rho)
    ref = unrolled_grads(net, X, lambda yh: 0.5 * torch.sum((yh - y) ** 2), K)

    closed = implicit_gradients(net, X, y)
    assert_grads_close(closed, ref, rtol, f"implicit_gradients seed={seed} γ={gamma}")

    net.zero_grad()
    loss = net.loss(X, y)
    loss.backward()
    auto = {k: getattr(net, k).grad for k in KEYS}
    assert_grads_close(auto, ref, rtol, f"loss.backward seed={seed} γ={gamma}")
    # The loss value itself agrees with the state's and the unrolled one.
    st = net.state(X, y)
    assert float(loss.detach()) == pytest.approx(st.loss, rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_backward_with_a_general_downstream_loss(device, seed):
    """∂ℓ/∂ŷ that is not e: the custom backward's adjoint solve with an (n, m) right-hand side."""
    net, X, _ = make_problem(32, 5, 7, 0.3, seed, device)
    rho = net.contraction()
    K = unroll_steps(rho)
    c = torch.linspace(-1.0, 2.0, X.shape[0], dtype=torch.float64, device=device)

    def fn(yh):
        return torch.sum(c * yh) + torch.sum(yh**3) / 3

    ref = unrolled_grads(net, X, fn, K)
    net.zero_grad()
    fn(net(X)).backward()
    assert_grads_close({k: getattr(net, k).grad for k in KEYS}, ref, grad_tolerance(rho), f"seed={seed}")


# --------------------------------------------------------------------------- (b) finite differences
FD_TOL = 1e-14  # forward/adjoint tolerance of the FD evaluations (loss noise δ ≈ 1e-14·|L|)
# Central differences: error ≈ h²/6·|L'''| + δ/h; with δ ~ 1e-14 and O(1) derivatives the optimum
# is h ≈ (3δ)^{1/3} ≈ 3e-5; both terms are then ~1e-9, three orders below the 1e-6 criterion.
FD_STEP = 3e-5
FD_RTOL = 1e-6


def _eval(net, params, X, y):
    """Loss and activation patterns (D, E) at ``params`` with a tight solve."""
    probe = ImplicitNetwork(*(params[k] for k in KEYS), net.gamma, tol=FD_TOL, max_iter=5000)
    st = probe.state(X, y)
    assert st.ok, st.fwd.message()
    return st.loss, st.D, st.E


@pytest.mark.parametrize("seed", [0, 1])
def test_gradients_match_central_finite_differences(device, seed):
    net, X, y = make_problem(24, 5, 6, 0.3, seed, device)
    base = net.parameters_dict()
    _, D0, E0 = _eval(net, base, X, y)
    closed = implicit_gradients(net, X, y)
    net.zero_grad()
    net.loss(X, y).backward()
    auto = {k: getattr(net, k).grad for k in KEYS}
    g = torch.Generator().manual_seed(seed)
    for k in KEYS:
        gk = closed[k]
        # Directions with O(1) entries like the parameters (‖Δ‖_F = √N): the analytic gradient's
        # direction (relative error w.r.t. |∇L·Δ| = ‖∇L‖‖Δ‖ exactly) and two random ones (error
        # measured on the Cauchy–Schwarz scale ‖∇L‖‖Δ‖).
        N = gk.numel()
        dirs = [gk / gk.norm()] + [torch.randn(gk.shape, generator=g, dtype=torch.float64).to(device)
                                  for _ in range(2)]
        for j, dvec in enumerate(dirs):
            dvec = dvec * math.sqrt(N) / dvec.norm()
            plus = {**base, k: base[k] + FD_STEP * dvec}
            minus = {**base, k: base[k] - FD_STEP * dvec}
            Lp, Dp, Ep = _eval(net, plus, X, y)
            Lm, Dm, Em = _eval(net, minus, X, y)
            # ReLU kinks: the loss is smooth (rational in θ) only while no activation flips.
            # Here the smallest |pre-activation| is ≳ 4e-4 (both Wx and γ̃Az + φ, seeds 0 and 1)
            # while a step changes them by ≲ FD_STEP·‖Δ_row‖·‖x‖ ≈ 3e-5·√d ≈ 7e-5 (W; less for
            # A, through γ̃), so the patterns at θ ± hΔ must equal those at θ — asserted, so a
            # flip makes the test fail loudly instead of comparing across a kink.
            for P0, Pp, Pm, name in ((D0, Dp, Dm, "D"), (E0, Ep, Em, "E")):
                assert torch.equal(P0, Pp) and torch.equal(P0, Pm), f"{name} flipped at ±h along ∇{k} dir {j}"
            fd = (Lp - Lm) / (2 * FD_STEP)
            scale = float(gk.norm() * dvec.norm())
            for label, grads in (("implicit_gradients", closed), ("backward", auto)):
                an = float(torch.sum(grads[k] * dvec))
                assert abs(fd - an) <= FD_RTOL * scale, (
                    f"{label} ∇{k} dir {j}: FD {fd:.12e} vs analytic {an:.12e}, "
                    f"rel {abs(fd - an) / scale:.2e}")


def test_finite_differences_detect_a_wrong_gradient(device):
    """The FD check is sharp: a 1e-4 relative error in ∇A along its own direction is caught."""
    net, X, y = make_problem(24, 5, 6, 0.3, 0, device)
    base = net.parameters_dict()
    gA = implicit_gradients(net, X, y)["A"]
    dvec = gA / gA.norm() * math.sqrt(gA.numel())
    Lp, _, _ = _eval(net, {**base, "A": base["A"] + FD_STEP * dvec}, X, y)
    Lm, _, _ = _eval(net, {**base, "A": base["A"] - FD_STEP * dvec}, X, y)
    fd = (Lp - Lm) / (2 * FD_STEP)
    scale = float(gA.norm() * dvec.norm())
    assert abs(fd - float(torch.sum(gA * dvec))) <= FD_RTOL * scale
    assert abs(fd - float(torch.sum((1 + 1e-4) * gA * dvec))) > FD_RTOL * scale


# --------------------------------------------------------------------------- failures, optimiser
def test_gradients_raise_when_a_solve_fails(device):
    net, X, y = make_problem(16, 3, 4, 0.3, 0, device)
    net.solver_opts["adjoint"]["max_iter"] = 1  # the adjoint cannot converge in one evaluation
    with pytest.raises(SolverError, match="adjoint"):
        implicit_gradients(net, X, y)
    loss = net.loss(X, y)  # the forward solve is still fine
    with pytest.raises(SolverError, match="adjoint"):
        loss.backward()


def test_sgd_on_the_loss_decreases_it(device):
    """γ = 0.1, m = 64, n = 10: plain SGD (full batch) through the implicit backward.

    Step 0.02: the loss's Hessian norm near θ(0) is about λ_max of the NTK Gram H (≲ n·(‖z‖² +
    ‖φ‖² + …) ≈ 10 here), so α = 0.02 < 2/λ_max keeps every step a descent step.
    """
    net, X, y = make_problem(64, 8, 10, 0.1, 0, device)
    opt = torch.optim.SGD(net.parameters(), lr=0.02)
    losses = []
    for _ in range(8):
        opt.zero_grad()
        loss = net.loss(X, y)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    losses.append(float(net.loss(X, y).detach()))
    assert all(b < a for a, b in zip(losses, losses[1:], strict=False)), losses
    assert losses[-1] < 0.5 * losses[0], losses
    # Parameters actually moved and stayed finite; the layer is still a contraction.
    assert net.contraction() < 1
    assert all(bool(torch.isfinite(p).all()) for p in net.parameters())
