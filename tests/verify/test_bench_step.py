"""bench step suite: runs end to end on a tiny problem; rows are consistent (no timed assertions)."""

from __future__ import annotations

import argparse
import importlib.util
import json

import pytest

from bounds._errors import InvalidArgument
from verify.bench.step import (
    InstrumentedStep,
    _problem,
    add_arguments,
    bench_step_suite,
    format_suite,
    run,
)
from verify.experiment.observers import OBSERVABLES
from verify.model.network import ImplicitNetwork

HAVE_DEQ = importlib.util.find_spec("torchdeq") is not None


def test_suite_small_problem_has_all_rows():
    calls = []

    def instrumented(net, X, y, alpha):
        def step():
            calls.append(1)
            net.state(X, y)
        return step

    s = bench_step_suite("12x16", batch_sizes="12x8", seeds=3, steps=2, warmup=1,
                         torchdeq=True, instrumented=instrumented)
    (r,) = s.steps_rows
    assert (r.n, r.m, r.data) == (12, 16, "digits") and s.dtype == "float64"
    assert r.t_bare_s > 0 and r.t_matmul_s > 0 and r.matmul_count >= 4
    assert r.svd_refreshes >= 1
    assert len(calls) == 3 and r.ratio_instrumented_bare is not None
    if HAVE_DEQ:
        assert r.ratio_bare_torchdeq is not None
        # torchdeq's IFT gradient and the closed form agree at the same parameters
        assert r.max_rel_diff_torchdeq_grad_A is not None and r.max_rel_diff_torchdeq_grad_A < 1e-8
    else:
        assert r.t_torchdeq_s is None and any("torchdeq" in n for n in s.notes)
    (b,) = s.batch_rows
    assert b.S == 3 and b.all_converged and b.throughput_ratio > 0
    assert "bare/deq" in format_suite(s)
    json.dumps(s.to_dict())


def test_missing_torchdeq_is_a_note_not_an_error(monkeypatch):
    """Without the optional ``bench`` extra the torchdeq rows are skipped with a note (CI has no
    torchdeq; ``sys.modules[name] = None`` makes the import fail as if it were not installed)."""
    import sys

    monkeypatch.setitem(sys.modules, "torchdeq", None)
    s = bench_step_suite("8x8", batch_sizes="8x8", seeds=2, steps=1, warmup=0, torchdeq=True)
    (r,) = s.steps_rows
    assert r.t_torchdeq_s is None and r.ratio_bare_torchdeq is None
    assert any("torchdeq not installed" in n for n in s.notes)


def test_cli_json_and_errors(capsys):
    p = argparse.ArgumentParser()
    add_arguments(p)
    args = p.parse_args(["--sizes", "8x8", "--batch-sizes", "", "--steps", "1", "--warmup", "0",
                         "--no-torchdeq", "--json", "--dtype", "float32"])
    assert run(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["dtype"] == "float32" and out["tol"] == 1e-6 and out["steps_rows"][0]["m"] == 8 and out["batch_rows"] == []
    with pytest.raises(InvalidArgument, match="^alpha="):
        bench_step_suite("8x8", alpha=-1.0)
    with pytest.raises(InvalidArgument, match="^seeds="):
        bench_step_suite("8x8", seeds=0)


def test_instrumented_step_is_the_gd_loop():
    """InstrumentedStep drives GDLoop.advance: one trace row per call, expensive observables
    exactly on the default schedule, certified bounds around the exact values."""
    import math

    import torch

    X, y, _ = _problem(10, 0, torch.device("cpu"), torch.float64)
    net = ImplicitNetwork.init(12, X.shape[1], 0.1, 3)
    step = InstrumentedStep(net, X, y, 0.01)
    E = step.period
    for _ in range(2 * E + 1):
        step()
    rows = step.loop.rows
    assert rows["step"] == [float(k) for k in range(2 * E + 1)]
    expensive = [o.name for o in OBSERVABLES if o.cost == "expensive"]
    for k in range(2 * E + 1):
        on = k % E == 0
        assert all(math.isfinite(rows[name][k]) == on for name in ("A_move", "W_move", "lambda_min_H")), k
        assert math.isfinite(rows["A_move_upper"][k]) and math.isfinite(rows["W_move_lower"][k])
        if on and k > 0:
            for name in ("A_move", "W_move"):
                assert rows[f"{name}_lower"][k] == rows[name][k] == rows[f"{name}_upper"][k]
    assert len(expensive) > 3
    # the network's own parameters are the starting point (not the loop's seed)
    assert torch.equal(step.loop.P0["A"], net.A.detach())


def test_public_run_bench_small(monkeypatch):
    """bench step --public on a tiny problem of the ``mnist`` kind: the margin covers whole
    expensive periods, the iteration counts come from the run, the timers are removed after."""
    import math

    import verify.bench.options as options
    import verify.experiment.loop as loop_mod
    from verify.bench.public import PUBLIC_PARTS

    monkeypatch.setitem(options.PUBLIC_SIZES, "mnist", (16, 12, 8, 24))
    solve_state = loop_mod.solve_state
    s = bench_step_suite("8x8", batch_sizes="", steps=1, warmup=1, public="mnist", public_steps=3,
                         torchdeq=True)
    (p,) = s.public_rows
    assert (p.n, p.n_test, p.d, p.m) == (16, 12, 8, 24)
    assert (p.steps_long - p.steps_short) % p.expensive_every == 0
    assert p.steps_long - p.steps_short >= 3
    assert loop_mod.solve_state is solve_state
    for k in (p.fwd_iterations, p.adj_iterations, p.test_iterations):
        assert 1 <= k < 500
    # the margin itself may come out negative on a tiny problem on a busy machine (the set-up
    # dominates both runs); the runs and the floor are real times
    assert set(p.parts_s) == set(PUBLIC_PARTS) and p.t_floor_s > 0
    assert p.t_run_long_s > 0 and p.t_run_short_s > 0 and math.isfinite(p.t_public_s)
    assert (p.ratio_public_torchdeq is not None) == HAVE_DEQ
    targets = {t["target"]: t for t in s.targets()}
    assert targets["public/torchdeq at digits"]["status"].startswith("not measured")
    assert targets["two threads / one thread at (1000, 1000)"]["measured"] is None
    assert "where the public step's time goes" in format_suite(s)
    json.dumps(s.to_dict())


@pytest.mark.skipif(not HAVE_DEQ, reason="torchdeq (the bench extra) not installed")
def test_torchdeq_public_loop_computes_our_test_loss():
    """The torchdeq loop's test loss at θ(0) is ours: both solve Z_t = σ(γ̃ Z_t Aᵀ + Φ_t) to a
    relative residual 1e-12, so with ρ < 1 the equilibria differ by ≤ 2·1e-12·‖σ(Φ_t)‖/(1 − ρ)
    and the losses by a relative ~1e-10; 1e-8 leaves room for rounding."""
    import torch

    from verify.bench.public import _torchdeq_public_step
    from verify.experiment.data import synthetic_dataset

    ds = synthetic_dataset(n=10, d=6, seed=1, n_test=7)
    X, y, Xt, yt = (torch.tensor(a) for a in (ds.X, ds.y, ds.X_test, ds.y_test))
    net = ImplicitNetwork.init(16, 6, 0.3, 2)
    st = net.state(Xt, yt)
    step, log = _torchdeq_public_step(ImplicitNetwork.init(16, 6, 0.3, 2), X, y, Xt, yt, 0.01, 1e-12, 500)
    step()
    assert log["test_loss"][0] == pytest.approx(st.loss, rel=1e-8)
    assert log["test"][0] >= 1


def test_bench_warm_variants_meet_the_same_certified_error(capsys):
    """Every variant stops at the same relative residual tol; with ρ ≤ ½ (γ = 0.1 at
    initialisation) the certified error ρ·r/(1 − ρ) is ≤ tol for all of them."""
    from verify.bench.warm import VARIANTS, bench_warm, format_warm
    from verify.cli import main

    rows = bench_warm([(10, 16)], steps=3, warmup=1, tol=1e-10)
    assert [r.variant for r in rows] == [v[0] for v in VARIANTS]
    assert rows[0].ratio_to_baseline == 1.0
    for r in rows:
        assert r.fwd_iterations >= 1 and r.adj_iterations >= 1
        assert 0.0 <= r.max_certified_error <= 1e-10
    assert "fewer" in format_warm(rows, 1e-10)
    assert main(["bench", "warm", "--sizes", "8x8", "--steps", "1", "--warmup", "0", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == len(VARIANTS)
