"""Batched bare GD of a cell group == separate run_gd runs, member by member (float64)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from bounds._errors import InvalidArgument
from verify import ImplicitNetwork, RunConfig, run_gd
from verify.experiment.batched_gd import run_members_to_target

N, M, D, GAMMA = 10, 16, 5, 0.3
SEEDS = (0, 1, 2, 3)


def _data(seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D))
    return X / np.linalg.norm(X, axis=1, keepdims=True), rng.standard_normal(N)


def test_members_stop_like_separate_runs(tmp_path):
    X, y = _data()
    nets = [ImplicitNetwork.init(M, D, GAMMA, s) for s in SEEDS]
    L0 = [n.state(X, y).loss for n in nets]
    # per-member step sizes and relative targets, as a sweep uses them; seed 3's target is out
    # of reach within the step budget (max_steps) while the others stop at different steps
    alphas = [0.05, 0.04, 0.05, 0.03]
    targets = [0.2 * L0[0], 0.3 * L0[1], 0.1 * L0[2], 1e-9 * L0[3]]
    steps = 40
    runs = run_members_to_target(nets, X, y, alphas, steps=steps, target_loss=targets)
    statuses = [r.status for r in runs]
    assert "target_reached" in statuses and "max_steps" in statuses
    assert len({r.steps_done for r in runs}) > 1  # members really stopped at different steps
    for s, r in zip(SEEDS, runs, strict=True):
        cfg = RunConfig(m=M, gamma=GAMMA, step=alphas[s], steps=steps, seed=s, target_loss=targets[s],
                        expensive_every=1000, solver="picard")  # the batched solves are Picard
        ref = run_gd(X, y, cfg, progress=False, out_dir=tmp_path / f"s{s}")
        assert r.index == s and r.status == ref.status, s
        assert r.steps_done == ref.record["steps_done"]
        assert (r.steps_to_target is not None) == (ref.status == "target_reached")
        np.testing.assert_allclose(r.loss, ref.trace["loss"], rtol=1e-11, atol=0)
        assert list(r.fwd_iters) == ref.trace["fwd_iters"].astype(int).tolist()
        assert list(r.adj_iters) == ref.trace["adj_iters"].astype(int).tolist()
        # θ at the stopping step: the separate run's final parameters
        final = np.load(tmp_path / f"s{s}" / "params_final.npz")
        for p in ("A", "W", "u", "v"):
            np.testing.assert_allclose(r.params[p].numpy(), final[p], rtol=1e-10, atol=1e-12)


def test_failed_member_does_not_stop_the_others():
    X, y = _data()
    nets = [ImplicitNetwork.init(M, D, GAMMA, s) for s in (0, 1)]
    with torch.no_grad():
        nets[1].A.mul_(1e3)  # γ̃‖A‖₂ ≫ 1: the forward solve diverges at step 0
    runs = run_members_to_target(nets, X, y, 0.05, steps=5)
    assert runs[1].status == "solver_failed" and runs[1].steps_done == 0 and math.isnan(runs[1].loss[0])
    assert runs[0].status == "max_steps" and runs[0].steps_done == 5 and len(runs[0].loss) == 6
    assert all(math.isfinite(v) for v in runs[0].loss)


def test_bad_arguments():
    X, y = _data()
    nets = [ImplicitNetwork.init(M, D, GAMMA, s) for s in (0, 1)]
    with pytest.raises(InvalidArgument, match="^target_loss="):
        run_members_to_target(nets, X, y, 0.05, steps=3, target_loss=[1.0, 2.0, 3.0])
    with pytest.raises(InvalidArgument, match="^alpha="):
        run_members_to_target(nets, X, y, [0.05, -1.0], steps=3)
    with pytest.raises(InvalidArgument, match="^steps="):
        run_members_to_target(nets, X, y, 0.05, steps=-1)


def test_runs_on_each_device(device):
    """The batched runner on ``device`` agrees with the CPU (CUDA skipped without a GPU)."""
    X, y = _data()
    cpu = run_members_to_target([ImplicitNetwork.init(M, D, GAMMA, s) for s in (0, 1)], X, y, 0.05, steps=4)
    dev = run_members_to_target([ImplicitNetwork.init(M, D, GAMMA, s, device=device) for s in (0, 1)],
                                X, y, 0.05, steps=4)
    for a, b in zip(cpu, dev, strict=True):
        assert (a.status, a.steps_done) == (b.status, b.steps_done) == ("max_steps", 4)
        np.testing.assert_allclose(b.loss, a.loss, rtol=1e-10)
        assert b.params["A"].device.type == torch.device(device).type
