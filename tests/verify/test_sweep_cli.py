"""verify.sweep without a cluster: grid grammar, CLI errors, data sets, init outcomes vs oracles."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

import bounds
import verify
from verify.cli import main
from verify.sweep import SweepSpec, parse_int_list, prepare_data, run_sweep
from verify.sweep.spec import Cell
from verify.sweep.tasks import init_outcomes


@pytest.mark.parametrize("text, expected", [
    ("8:64:x2", (8, 16, 32, 64)),
    ("8:100:x2", (8, 16, 32, 64)),
    ("1:10:+3", (1, 4, 7, 10)),
    ("5,3,3", (3, 5)),
    ("4,8:32:x4", (4, 8, 32)),
])
def test_grid_grammar(text, expected):
    assert parse_int_list(text, "--m") == expected


@pytest.mark.parametrize("argv, needle", [
    (["--m", "8:2048:x2x", "--n", "16", "--seeds", "2"], "--m='8:2048:x2x'"),
    (["--m", "8:2048:x", "--n", "16", "--seeds", "2"], "--m='8:2048:x'"),
    (["--m", "8:2048:x1", "--n", "16", "--seeds", "2"], "factor"),
    (["--m", "0,8", "--n", "16", "--seeds", "2"], "m=0"),
    (["--m", "8", "--n", "2000", "--seeds", "2"], "n=2000"),
    (["--m", "8", "--n", "", "--seeds", "2"], "empty"),
    (["--m", "8", "--n", "16,,32", "--seeds", "2"], "empty item"),
    (["--m", "8", "--seeds", "2"], "--n"),
    (["--m", "8", "--n", "16", "--seeds", "0"], "--seeds"),
    (["--m", "8", "--n", "16", "--seeds", "2", "--gamma", "1.5"], "gamma"),
    (["--m", "8", "--n", "16", "--seeds", "2", "--kind", "gd", "--step", "-1"], "step"),
    (["--m", "8", "--n", "16", "--seeds", "2", "--data", "nope.npz"], "data"),
    (["--m", "8", "--n", "16", "--seeds", "2", "--serial", "--workers", "2"], "--serial"),
])
def test_cli_bad_grid_one_line_exit_2_nothing_started(tmp_path, capsys, argv, needle):
    out = tmp_path / "sw"
    assert main(["sweep", *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("implicit-verify sweep: error:") and "\n" not in err, err
    assert needle in err
    assert not out.exists()


def test_cli_runs_refuses_overwrite_and_resumes_from_sweep_json(tmp_path, capsys):
    out = tmp_path / "sw"
    base = ["sweep", "--data", "digits", "--n", "8", "--m", "8,16", "--seeds", "2", "--out",
            str(out), "--serial", "--quiet"]
    assert main(base) == 0
    first = pd.read_parquet(out / "results.parquet")
    assert len(first) == 4 and (first["status"] == "done").all()
    assert main(base) == 2
    assert "already holds a sweep" in capsys.readouterr().err
    assert main(["sweep", "--out", str(out), "--resume", "--serial", "--quiet"]) == 0
    assert "0 computed, 4 already done" in capsys.readouterr().out
    assert main([*base, "--resume", "--gamma", "0.2"]) == 2
    assert "other settings (gamma=0.1)" in capsys.readouterr().err


def test_new_datasets_offline_unit_norm_and_labels():
    from sklearn.datasets import load_breast_cancer, load_digits

    da = verify.load_dataset("digits-all", test_fraction=0.0)
    assert (da.n, da.d) == (1797, 64)
    np.testing.assert_allclose(np.linalg.norm(da.X, axis=1), 1.0, rtol=0, atol=1e-15)
    # labels: +1 exactly for even digits (match each image back to sklearn's by content)
    dig = load_digits()
    raw = dig.data / np.linalg.norm(dig.data, axis=1, keepdims=True)
    idx = np.array([np.flatnonzero((raw == x).all(axis=1))[0] for x in da.X[:50]])
    np.testing.assert_array_equal(da.y[:50], np.where(dig.target[idx] % 2 == 0, 1.0, -1.0))
    bc = verify.load_dataset("breast-cancer", test_fraction=0.0)
    assert (bc.n, bc.d) == (569, 30)
    np.testing.assert_allclose(np.linalg.norm(bc.X, axis=1), 1.0, rtol=0, atol=1e-15)
    assert sorted(np.unique(bc.y)) == [-1.0, 1.0]
    assert int((bc.y == 1).sum()) == int(load_breast_cancer().target.sum())  # benign count
    for ds in (da, bc):
        assert bounds.audit_data(ds.X).ok
    with pytest.raises(verify.InvalidArgument, match="n=1798"):
        verify.load_dataset("digits-all", n=1798, test_fraction=0.0)
    with pytest.raises(verify.InvalidArgument, match="d=5"):
        verify.load_dataset("breast-cancer", d=5)


def test_init_outcomes_match_independent_computations():
    """Chunked G(0) (m > one 1024 block) vs Φ(0)Φ(0)ᵀ of the network; ARPACK ‖A‖₂ vs the dense
    SVD in bounds.norm_constant_measured; H/K vs gram_blocks at the same seed."""
    spec = SweepSpec(kind="init", data="digits-all", n=(6,), m=(1100,), seeds=(3,), hk_max_m=None)
    data = prepare_data(spec)[6]
    out = init_outcomes(spec, 1100, 3, data)
    net = verify.ImplicitNetwork.init(m=1100, d=64, gamma=0.1, seed=3)
    X = torch.from_numpy(data["X"].copy())
    Phi = net.features(X).detach()
    G = Phi @ Phi.T
    eps = np.finfo(np.float64).eps
    scale = float(torch.linalg.matrix_norm(G, 2))
    # two summation orders of the same n×n sum: entries agree to a few eps·‖G‖ (m terms)
    assert abs(out["lam_min_G0"] - verify.lambda_min(G)) <= 64 * eps * scale * math.sqrt(1100)
    Ginf = bounds.gram_infinity(data["X"])
    dev = np.abs(np.linalg.eigvalsh(G.numpy() - Ginf)).max()
    assert abs(out["G0_dev_op"] - dev) <= 64 * eps * scale * math.sqrt(1100)
    P = {k: v.detach().numpy() for k, v in net.parameters_dict().items()}
    c_dense = bounds.norm_constant_measured(P["A"], P["W"])
    assert abs(out["c_init"] - c_dense) <= 1e3 * eps * c_dense
    st = net.state(X, torch.from_numpy(data["y"].copy()))
    gb = verify.gram_blocks(net, st)
    assert out["lam_min_H0"] == verify.lambda_min(gb.H)
    assert out["lam_min_K0"] == verify.lambda_min(gb.K)
    assert out["lambda0"] == bounds.lambda0(data["X"])


def test_gd_cell_reports_consistent_outcomes(tmp_path):
    spec = SweepSpec(kind="gd", data="digits", n=(6,), m=(64,), seeds=(0,), steps=400,
                     target=1e-3)
    row = run_sweep(spec, tmp_path / "gd", serial=True, progress=False).table.iloc[0]
    assert row["status"] == "done", row["error"]
    assert bool(row["reached"]) and row["gd_status"] == "target_reached"
    assert row["loss_final"] <= 1e-3 * row["loss0"]
    assert 0 < row["steps_to_target"] <= 400
    assert 0 < row["rate_late"] < 1
    assert row["max_W_move"] > 0 and row["max_H_dev_rel"] > 0 and row["min_lam_H"] > 0
    # c is measured from A(0), W(0) (the default), so ‖W(0)‖ ≤ c√m holds by construction
    assert row["claim_lemma21_W_init"] == "holds by construction"


def test_error_row_for_a_failing_task_in_serial_mode(tmp_path):
    """A natural failure: the cell key is ours, the task gets a payload without G∞."""
    from verify.sweep.tasks import run_cell

    spec = SweepSpec(kind="init", data="digits", n=(4,), m=(8,), seeds=(0,))
    data = dict(prepare_data(spec)[4])
    del data["Ginf"]
    row = run_cell(spec, Cell(4, 8, 0, "k"), data)
    assert row["status"] == "error" and row["error"].startswith("KeyError: 'Ginf'")
    assert row["wall_s"] >= 0


@pytest.mark.slow
def test_bench_sweep_reports_both_engines_and_overhead():
    from verify.sweep.bench import bench_sweep, format_bench

    r = bench_sweep(workers=2, noop_tasks=50,
                    grid={"data": "digits", "n": (8,), "m": (8, 16), "seeds": (0, 1)})
    assert r["rows_identical"] and r["cells"] == 4
    assert r["serial_cells_per_s"] > 0 and r["dask_cells_per_s"] > 0 and r["overhead_per_task_s"] > 0
    assert "speed-up dask/serial" in format_bench(r)
