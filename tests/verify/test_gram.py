"""Structured Gram matrices vs the explicit Jacobian Gram, the paper's printed formulas, the
Loewner order H ⪰ K ⪰ G, the width limit G(0) → G∞, and the eigenvalue helpers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from bounds import gram_infinity
from verify import ImplicitNetwork, InvalidArgument, SolverError
from verify.model.gram import (
    adjoint_dense,
    gram_blocks,
    jacobian_gram,
    lambda_min,
    lambda_min_iterative,
    paper_eq14_as_printed,
    paper_eq16_as_printed,
    unrolled_depth,
)

F64 = torch.float64
EPS = torch.finfo(F64).eps
# Solver tolerance for the states below. The fixed point and the adjoint are then accurate to
# tol·ρ/(1−ρ) relative (module docstring of verify.model.equilibrium), so the structured blocks are
# accurate to a few times 1e-14; the unrolled reference adds O(ρ^depth) ≤ 1e-18 and rounding
# O(depth·eps). The contract asks for 1e-10, which leaves four orders of magnitude of margin.
SOLVER_TOL = 1e-14
MATCH = 1e-10
# A printed formula that is wrong must miss by far more than the matching tolerance; the
# measured misses are 1e-2 … 1e-1 (eq. 14) and 1e-3 … 1e-2 (eq. 16) at these sizes.
MISS = 1e-3


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.linalg.matrix_norm(a - b) / torch.linalg.matrix_norm(b))


def unit_rows(n: int, d: int, seed: int, device: str = "cpu") -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g, dtype=F64)
    return (X / torch.linalg.vector_norm(X, dim=1, keepdim=True)).to(device)


def make(m: int, d: int, n: int, gamma: float, seed: int, device: str = "cpu", perturb: bool = False):
    """Network at the paper's init (or with generic, perturbed parameters) and its state."""
    net = ImplicitNetwork.init(m, d, gamma, seed, device=device, tol=SOLVER_TOL)
    if perturb:
        g = torch.Generator().manual_seed(seed + 1000)
        p = net.parameters_dict()
        net.load_parameters({k: t + 0.3 * torch.randn(t.shape, generator=g, dtype=F64).to(device)
                             for k, t in p.items()})
    X = unit_rows(n, d, seed + 1, device)
    y = torch.zeros(n, dtype=F64, device=device)
    st = net.state(X, y)
    assert st.ok, (st.fwd.message(), st.adj.message())
    return net, X, st


# ------------------------------------------------------------------ structured == Jacobian
@pytest.mark.parametrize("perturb", [False, True], ids=["init", "perturbed"])
def test_structured_matches_unrolled_jacobian(device, perturb):
    net, X, st = make(m=16, d=5, n=10, gamma=0.2, seed=3, device=device, perturb=perturb)
    gb = gram_blocks(net, st)
    H_ref, blocks = jacobian_gram(net, X, method="unrolled")
    for k, Hk in gb.blocks().items():
        assert rel(Hk, blocks[k]) <= MATCH, k
    assert rel(gb.H, H_ref) <= MATCH
    assert torch.equal(gb.G, gb.H_v)
    assert rel(gb.K, blocks["u"] + blocks["v"]) <= MATCH
    assert gb.H.dtype == F64 and gb.H.device.type == device and gb.H.shape == (10, 10)


def test_structured_matches_autograd_jacobian(device):
    net, X, st = make(m=20, d=4, n=8, gamma=0.3, seed=5, device=device, perturb=True)
    gb = gram_blocks(net, st)
    H_ref, blocks = jacobian_gram(net, X, method="autograd")
    for k, Hk in gb.blocks().items():
        assert rel(Hk, blocks[k]) <= MATCH, k
    assert rel(gb.H, H_ref) <= MATCH


def test_jacobian_shapes_and_contract_order():
    net, X, st = make(m=6, d=3, n=4, gamma=0.2, seed=1)
    _, blocks = jacobian_gram(net, X, return_jacobian=True)
    assert blocks["J_A"].shape == (4, 36) and blocks["J_W"].shape == (4, 18)
    assert blocks["J_u"].shape == (4, 6) and blocks["J_v"].shape == (4, 6)
    # docs/CONTRACTS.md writes gram_blocks(state, net): both orders give the same object.
    assert torch.equal(gram_blocks(st, net).H, gram_blocks(net, st).H)


def test_unrolled_depth():
    assert unrolled_depth(0.5) == 2 * math.ceil(math.log(1e-18) / math.log(0.5)) + 20
    with pytest.raises(InvalidArgument, match="rho"):
        unrolled_depth(1.0)


# ------------------------------------------------------------------ the paper as printed
def test_eq14_as_printed_does_not_match(device):
    net, X, st = make(m=16, d=5, n=10, gamma=0.2, seed=4, device=device)
    H_ref, _ = jacobian_gram(net, X)
    printed = paper_eq14_as_printed(net, st)
    assert rel(gram_blocks(net, st).H, H_ref) <= MATCH
    assert rel(printed.H, H_ref) > MISS
    # The whole difference is the off-diagonal part of ZZᵀ (I_n keeps only its diagonal).
    ZZ = st.Z @ st.Z.T
    assert rel(H_ref - printed.H, ZZ - torch.diag(torch.diagonal(ZZ))) <= MATCH
    assert printed.block_name == "u"


@pytest.mark.parametrize("factors", ["both", "first"])
def test_eq16_as_printed_does_not_match_generic_A(device, factors):
    net, X, st = make(m=12, d=5, n=8, gamma=0.3, seed=6, device=device)
    H_ref, blocks = jacobian_gram(net, X)
    printed = paper_eq16_as_printed(net, st, factors=factors)
    fixed = paper_eq16_as_printed(net, st, inverse="transpose")
    assert rel(printed.H, H_ref) > MISS
    assert rel(printed.block, blocks["W"]) > MISS
    assert rel(fixed.H, H_ref) <= MATCH
    assert rel(fixed.block, blocks["W"]) <= MATCH


def test_adjoint_dense_equals_iterative_adjoint(device):
    net, _, st = make(m=12, d=5, n=8, gamma=0.3, seed=6, device=device)
    # Picard stops at relative residual 1e-14, error ≤ 1e-14·ρ/(1−ρ); the dense solve is
    # backward stable (condition number of I − γ̃D_iA ≤ (1+ρ)/(1−ρ) < 2 here).
    assert rel(adjoint_dense(net, st), st.B) <= 1e-12
    with pytest.raises(InvalidArgument, match="inverse"):
        adjoint_dense(net, st, inverse="T")


def _symmetric_net(all_active: bool, seed: int):
    """Symmetric A; with all_active every unit is on for every sample (D_i = E_i = I)."""
    g = torch.Generator().manual_seed(seed)
    m, d, n = 10, 4, 8
    G = torch.randn(m, m, generator=g, dtype=F64)
    if all_active:
        A = (G.abs() + G.abs().T) / 2
        W = torch.rand(m, d, generator=g, dtype=F64) + 0.1
        X = torch.rand(n, d, generator=g, dtype=F64) + 0.1
    else:
        A = (G + G.T) / 2
        W = torch.randn(m, d, generator=g, dtype=F64)
        X = torch.randn(n, d, generator=g, dtype=F64)
    X = X / torch.linalg.vector_norm(X, dim=1, keepdim=True)
    u = torch.randint(0, 2, (m,), generator=g).to(F64) * 2 - 1
    v = torch.randint(0, 2, (m,), generator=g).to(F64) * 2 - 1
    net = ImplicitNetwork(A, W, u, v, 0.3, tol=SOLVER_TOL)
    assert net.contraction() < 0.9
    st = net.state(X, torch.zeros(n, dtype=F64))
    assert st.ok
    return net, X, st


def test_eq16_coincides_for_symmetric_A_with_all_units_active():
    net, X, st = _symmetric_net(all_active=True, seed=3)
    assert bool((st.D == 1).all()) and bool((st.E == 1).all())
    H_ref, _ = jacobian_gram(net, X)
    # (I − γ̃A)^{-1} = (I − γ̃Aᵀ)^{-1} when A = Aᵀ and D_i = I: both are the same dense solve up
    # to rounding, amplified by the condition number (≤ (1+ρ)/(1−ρ) < 20).
    assert rel(adjoint_dense(net, st, inverse="printed"), adjoint_dense(net, st)) <= 1e-13
    assert rel(paper_eq16_as_printed(net, st).H, H_ref) <= MATCH


def test_eq16_differs_for_symmetric_A_with_mixed_patterns():
    net, X, st = _symmetric_net(all_active=False, seed=3)
    assert 0 < float(st.D.mean()) < 1
    H_ref, _ = jacobian_gram(net, X)
    # b̃_i − b_i = γ̃D_iA(I − γ̃D_iA)^{-1}(I − D_i)u for symmetric A: zero only if that vanishes.
    assert rel(adjoint_dense(net, st, inverse="printed"), st.B) > MISS
    assert rel(paper_eq16_as_printed(net, st).H, H_ref) > MISS


# ------------------------------------------------------------------ Loewner order
@pytest.mark.parametrize("seed", [0, 1])
def test_loewner_order_H_K_G(device, seed):
    net, _, st = make(m=64, d=6, n=24, gamma=0.25, seed=seed, device=device, perturb=bool(seed))
    gb = gram_blocks(net, st)
    # Backward error of a symmetric eigensolver is O(n·eps·‖M‖₂); the subtraction adds eps·‖H‖.
    tol = gb.n * EPS * float(torch.linalg.matrix_norm(gb.H, ord=2))
    assert lambda_min(gb.H - gb.K) >= -tol
    assert lambda_min(gb.K - gb.G) >= -tol
    assert lambda_min(gb.G) >= -tol
    assert lambda_min(gb.H) >= lambda_min(gb.K) - tol >= lambda_min(gb.G) - 2 * tol


# ------------------------------------------------------------------ width limit
def test_feature_gram_converges_to_G_infinity_like_inverse_sqrt_m():
    n, d, seeds = 16, 8, 8
    X = unit_rows(n, d, seed=7)
    G_inf = torch.as_tensor(gram_infinity(X.numpy()))
    widths = [64, 256, 1024, 4096]
    rms = []
    for m in widths:
        sq = []
        for s in range(seeds):
            g = torch.Generator().manual_seed(1000 * m + s)
            W = torch.randn(m, d, generator=g, dtype=F64)  # G(0) needs only W [Assumption 1]
            Phi = torch.relu(X @ W.T) / math.sqrt(m)  # Φ as in ImplicitNetwork.features
            sq.append(float(torch.linalg.matrix_norm(Phi @ Phi.T - G_inf)) ** 2)
        rms.append(math.sqrt(np.mean(sq)))
    # G(0) is a mean of m i.i.d. terms with mean G∞, so E‖G(0) − G∞‖_F² ∝ 1/m exactly: the
    # log-log slope of the RMS error is −½; 8 seeds × 4 widths keep the fit within ±0.2.
    slope = np.polyfit(np.log(widths), np.log(rms), 1)[0]
    assert -0.7 <= slope <= -0.3, (slope, rms)


# ------------------------------------------------------------------ eigenvalues
def test_lambda_min_symmetrises_and_accepts_numpy():
    M = np.array([[2.0, 1.0], [-1.0, 3.0]])  # symmetric part diag(2, 3)
    assert lambda_min(M) == pytest.approx(2.0, abs=4 * EPS * 3)
    assert lambda_min(torch.tensor([[5.0]], dtype=torch.float32)) == 5.0
    with pytest.raises(InvalidArgument, match="M="):
        lambda_min(np.ones((2, 3)))
    with pytest.raises(InvalidArgument, match="M="):
        lambda_min(np.array([[np.nan]]))


def _check_iterative(H: torch.Tensor, res) -> None:
    exact = lambda_min(H)
    # Residual bound for symmetric matrices: an eigenvalue lies within ‖Hx − λx‖ of λ; eigvalsh
    # itself is accurate to O(n·eps·‖H‖₂).
    slack = H.shape[0] * EPS * float(torch.linalg.matrix_norm(H, ord=2))
    assert abs(res.value - exact) <= res.residual + slack, (res.value, exact, res.residual)
    assert res.vector.shape == (H.shape[0],)


def test_lambda_min_iterative_lanczos_agrees_with_eigvalsh(device):
    net, _, st = make(m=96, d=10, n=200, gamma=0.1, seed=2, device=device)
    H = gram_blocks(net, st).H
    res = lambda_min_iterative(H, method="lanczos", tol=1e-10)
    assert res.accurate, (res.residual, res.norm_estimate)
    _check_iterative(H, res)


def test_lambda_min_iterative_lobpcg_agrees_with_eigvalsh(device):
    # torch.lobpcg is slow on these spectra (docstring); a small case keeps the test cheap.
    net, _, st = make(m=32, d=6, n=16, gamma=0.1, seed=2, device=device)
    H = gram_blocks(net, st).H
    res = lambda_min_iterative(H, method="lobpcg", tol=1e-8, max_iter=100)
    _check_iterative(H, res)


def test_lambda_min_iterative_arguments():
    with pytest.raises(InvalidArgument, match="method"):
        lambda_min_iterative(np.eye(4), method="power")
    with pytest.raises(InvalidArgument, match="tol"):
        lambda_min_iterative(np.eye(4), tol=0.0)
    with pytest.raises(InvalidArgument, match="M="):
        lambda_min_iterative(np.eye(2), method="lobpcg")
    assert lambda_min_iterative(np.array([[3.0]])).value == 3.0
    assert lambda_min_iterative(np.diag([4.0, 1.0])).value == pytest.approx(1.0, abs=1e-14)


# ------------------------------------------------------------------ argument checks
def test_gram_blocks_rejects_bad_input():
    net, X, st = make(m=8, d=3, n=5, gamma=0.2, seed=0)
    with pytest.raises(InvalidArgument, match="net="):
        gram_blocks("net", st)
    with pytest.raises(InvalidArgument, match="state="):
        gram_blocks(net, X)
    other = ImplicitNetwork.init(9, 3, 0.2, 0)
    with pytest.raises(InvalidArgument, match="state="):
        gram_blocks(other, st)
    with pytest.raises(InvalidArgument, match="method"):
        jacobian_gram(net, X, method="fd")


def test_gram_blocks_detects_stale_state_and_failed_solves():
    net, X, st = make(m=8, d=3, n=5, gamma=0.2, seed=0)
    p = net.parameters_dict()
    net.load_parameters({**p, "v": -p["v"]})
    with pytest.raises(InvalidArgument, match="stale"):
        gram_blocks(net, st)
    assert gram_blocks(net, st, check=False).H.shape == (5, 5)
    net.load_parameters(p)
    net.solver_opts["forward"]["max_iter"] = 1
    bad = net.state(X, torch.zeros(5, dtype=F64))
    assert not bad.fwd.converged
    with pytest.raises(SolverError, match="forward"):
        gram_blocks(net, bad)


def test_float32_network_gives_float32_blocks_close_to_float64():
    net64, X, st64 = make(m=32, d=5, n=12, gamma=0.2, seed=9)
    net32 = ImplicitNetwork(*(net64.parameters_dict()[k].float() for k in "AWuv"), 0.2, tol=1e-6)
    st32 = net32.state(X.float(), torch.zeros(12))
    H32 = gram_blocks(net32, st32).H
    assert H32.dtype == torch.float32
    # float32 rounding (eps ≈ 1.2e-7) and the 1e-6 solver tolerance, times small constants.
    assert rel(H32.double(), gram_blocks(net64, st64).H) <= 1e-5
