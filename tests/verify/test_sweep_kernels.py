"""The sweep's infinite-width NTK outcome (issue 16 item 3): ``lam_min_Hinf``, ``H0_relerr_*``
and the ``ntk_half_limit`` outcome, against independently computed references."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import bounds
from verify.experiment.data import load_dataset
from verify.model.kernels import init_blocks
from verify.model.network import ImplicitNetwork
from verify.sweep import SweepSpec, read_table, run_sweep
from verify.sweep.outcomes import outcome_indicator
from verify.sweep.thresholds import fit_width_threshold

SPEC = SweepSpec(kind="init", data="synthetic", d=4, n=(5, 7), m=(16, 64, 256), seeds=(0, 1, 2),
                 gamma=0.3, hk_max_m=64)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("ksweep") / "s"
    return out, run_sweep(SPEC, out, serial=True, progress=False).table


def test_lam_min_Hinf_is_the_limit_of_the_cells_data(sweep):
    _, t = sweep
    assert (t["status"] == "done").all(), t["error"].dropna().tolist()
    for n in SPEC.n:
        X = np.array(load_dataset("synthetic", n=n, d=4, seed=SPEC.data_seed).X[:n])
        ref = bounds.deq_kernels(X, SPEC.gamma)
        assert ref.status.ok
        col = t.loc[t["n"] == n, "lam_min_Hinf"].to_numpy()
        assert np.all(col == ref.lambda_min_H), (col, ref.lambda_min_H)
        # λ_min(H∞) ≥ λ0 (H∞ ⪰ G∞), up to eigvalsh rounding
        assert ref.lambda_min_H >= t.loc[t["n"] == n, "lambda0"].iloc[0] - 1e-12


def test_block_errors_match_init_blocks(sweep):
    _, t = sweep
    row = t[(t["n"] == 5) & (t["m"] == 64) & (t["seed"] == 1)].iloc[0]
    X = np.array(load_dataset("synthetic", n=5, d=4, seed=SPEC.data_seed).X[:5])
    emp = init_blocks(ImplicitNetwork.init(64, 4, SPEC.gamma, 1), X)
    lim = bounds.deq_kernels(X, SPEC.gamma)
    L = {**lim.blocks(), "H": lim.H}
    for b in ("A", "W", "u", "v", "H"):
        ref = np.linalg.norm(emp[b] - L[b]) / np.linalg.norm(L[b])
        # two equilibrium solves to tol 1e-10-ish: the errors agree far below their size
        assert row[f"H0_relerr_{b}"] == pytest.approx(ref, rel=1e-6), b
    big = t["m"] > SPEC.hk_max_m
    assert t.loc[big, "H0_relerr_H"].isna().all() and t.loc[~big, "H0_relerr_H"].notna().all()


def test_outcome_indicator_agrees_with_rows(sweep):
    _, t = sweep
    ind = outcome_indicator(t, "ntk_half_limit")
    big = t["m"] > SPEC.hk_max_m
    assert ind[big].isna().all()
    small = t[~big]
    expect = (small["lam_min_H0"] >= 0.5 * small["lam_min_Hinf"]).astype(float)
    assert ind[~big].tolist() == expect.tolist()
    fit = fit_width_threshold(t, outcome="ntk_half_limit", n_boot=10, seed=0)
    assert "digest C" in fit.source


def test_band_and_nan_on_hand_built_rows():
    eps = np.finfo(float).eps
    t = pd.DataFrame({"n": [10] * 4, "status": ["done"] * 4,
                      "lam_min_H0": [0.51, 0.49, 0.5 + 10 * eps, np.nan],
                      "lam_min_Hinf": [1.0, 1.0, 1.0, 1.0],
                      "lam_max_H0": [1.0, 1.0, 1.0, 1.0]})
    out = outcome_indicator(t, "ntk_half_limit").tolist()
    assert out[:2] == [1.0, 0.0]
    assert math.isnan(out[2]) and math.isnan(out[3])  # within 4·n·eps·λ_max; missing


def test_old_sweep_without_the_columns_still_loads(sweep, tmp_path):
    out, t = sweep
    import shutil

    old = tmp_path / "old"
    shutil.copytree(out, old)
    tab = pq.read_table(old / "results.parquet")
    keep = [c for c in tab.column_names if c != "lam_min_Hinf" and not c.startswith("H0_relerr")]
    pq.write_table(tab.select(keep), old / "results.parquet")
    df = read_table(old)
    assert len(df) == len(t) and df["lam_min_Hinf"].isna().all()
    assert df["H0_relerr_A"].isna().all()
    assert outcome_indicator(df, "ntk_half_limit").isna().all()
