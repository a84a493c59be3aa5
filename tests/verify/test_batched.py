"""Batched seeds == separate runs (float64, 1e-12), per-member statuses, no poisoning."""

from __future__ import annotations

import math

import pytest
import torch

from bounds._errors import InvalidArgument
from verify import ImplicitNetwork, SolveStatus, implicit_gradients
from verify.model.batched import BatchedNetworks

N, M, D, GAMMA, ALPHA = 10, 24, 5, 0.3, 0.05
SEEDS = (0, 1, 2, 5)


def _data(seed: int = 11) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(N, D, generator=g, dtype=torch.float64)
    return X / X.norm(dim=1, keepdim=True), torch.randn(N, generator=g, dtype=torch.float64)


def _separate(net: ImplicitNetwork, X, y, steps: int):
    """The existing single-network path: state (warm starts) → closed-form gradients → update."""
    out, prev = [], None
    for _ in range(steps):
        st = net.state(X, y, z0=None if prev is None else prev.Z, b0=None if prev is None else prev.B)
        g = implicit_gradients(net, X, y, state=st)
        with torch.no_grad():
            for k, v in g.items():
                getattr(net, k).sub_(ALPHA * v)
        out.append((st, g))
        prev = st
    return out


def _close(a: torch.Tensor, b: torch.Tensor, tol: float = 1e-12) -> bool:
    return float((a - b).abs().max()) <= tol * max(1.0, float(b.abs().max()))


def test_batched_steps_equal_separate_runs():
    X, y = _data()
    bn = BatchedNetworks.init(M, D, GAMMA, SEEDS)
    refs = [_separate(ImplicitNetwork.init(M, D, GAMMA, s), X, y, 4) for s in SEEDS]
    for k in range(4):
        step = bn.step(X, y, ALPHA)
        assert step.ok == (True,) * len(SEEDS) == step.updated
        for s in range(len(SEEDS)):
            st, g = refs[s][k]
            assert step.fwd[s].iterations == st.fwd.iterations
            assert step.adj[s].iterations == st.adj.iterations
            assert _close(step.fwd[s].value, st.Z) and _close(step.adj[s].value, st.B)
            assert math.isclose(step.loss[s], st.loss, rel_tol=1e-12, abs_tol=1e-300)
            for name in ("A", "W", "u", "v"):
                assert _close(step.grads[name][s], g[name]), (k, s, name)
            assert step.fwd[s].contraction >= st.fwd.contraction * (1 - 1e-14)
    # parameters after the run
    for s, seed in enumerate(SEEDS):
        net = ImplicitNetwork.init(M, D, GAMMA, seed)
        _separate(net, X, y, 4)
        for name in ("A", "W", "u", "v"):
            assert _close(getattr(bn, name)[s], getattr(net, name).detach())
        assert torch.equal(bn.member(s).A.detach(), bn.A[s])


def test_per_member_data_and_a_failing_member_does_not_poison_the_others():
    X, y = _data()
    nets = [ImplicitNetwork.init(M, D, GAMMA, s) for s in SEEDS]
    with torch.no_grad():
        nets[1].A.mul_(50.0)  # γ̃‖A‖₂ ≫ 1: Picard diverges (or stalls) for this member only
    bn = BatchedNetworks(nets)
    Xs = X.unsqueeze(0).repeat(len(SEEDS), 1, 1)
    step = bn.step(Xs, y.unsqueeze(0).repeat(len(SEEDS), 1), ALPHA)
    assert step.ok[1] is False and step.updated[1] is False
    assert step.fwd[1].status in (SolveStatus.DIVERGED, SolveStatus.NONFINITE, SolveStatus.MAX_ITER)
    assert "γ̃‖A‖₂" in step.fwd[1].message()
    assert torch.equal(bn.A[1], nets[1].A.detach())  # not updated
    for s in (0, 2, 3):
        assert step.ok[s]
        ref = _separate(ImplicitNetwork.init(M, D, GAMMA, SEEDS[s]), X, y, 1)[0]
        assert _close(step.fwd[s].value, ref[0].Z)
        assert _close(step.grads["A"][s], ref[1]["A"])
    # NaN parameters in one member: NONFINITE for it, others fine
    with torch.no_grad():
        bn.W[2, 0, 0] = float("nan")
    step = bn.step(X, y, ALPHA)
    assert step.fwd[2].status is SolveStatus.NONFINITE and not step.updated[2]
    assert step.ok[0] and step.ok[3]


def test_batched_input_errors():
    with pytest.raises(InvalidArgument, match=r"^nets\[1\]="):
        BatchedNetworks([ImplicitNetwork.init(8, 3, 0.2, 0), ImplicitNetwork.init(9, 3, 0.2, 1)])
    with pytest.raises(InvalidArgument, match="^nets="):
        BatchedNetworks([])
    bn = BatchedNetworks.init(8, 3, 0.2, (0, 1))
    with pytest.raises(InvalidArgument, match="^X="):
        bn.step(torch.zeros(4, 5, dtype=torch.float64), torch.zeros(4, dtype=torch.float64), 0.1)
    with pytest.raises(InvalidArgument, match="^alpha="):
        bn.step(torch.zeros(4, 3, dtype=torch.float64), torch.zeros(4, dtype=torch.float64), -1.0)
