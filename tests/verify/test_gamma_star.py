"""γ* (GG22 claim (a)): the bisection against independent checks — the closed form at
initialisation (numpy SVD of A(0)) and independent re-runs of run_gd at γ*(1 − tol) and
γ*_hi — the classification of certified traces, the outcome wellposed_at(γ0), and the
``gamma`` sweep kind end to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

import bounds
from verify.cli import main
from verify.experiment.config import RunConfig
from verify.experiment.gd import run_gd
from verify.experiment.wellposed import classify_trace, wellposed_gamma
from verify.model.network import ImplicitNetwork
from verify.sweep.gamma import gamma_words, summarise_gamma
from verify.sweep.outcomes import outcome_indicator

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def data():
    return bounds.load_dataset("synthetic", n=12, d=6, seed=1)


def test_steps0_gives_sqrt_m_over_norm_A0(data):
    m, rtol = 24, 1e-3
    r = wellposed_gamma(data.X, data.y, m=m, seed=2, steps=0, rtol=rtol)
    A0 = ImplicitNetwork.init(m=m, d=data.d, gamma=0.3, seed=2).A.detach().numpy()
    g_init = np.sqrt(m) / np.linalg.norm(A0, 2)  # independent: numpy's SVD
    assert r.gamma_init == pytest.approx(g_init, rel=1e-12)
    assert not r.undecided
    assert r.gamma_star <= g_init <= r.gamma_star_hi * (1 + 1e-12)
    assert r.gamma_star_hi - r.gamma_star <= rtol * r.gamma_star_hi


def _certified_max(res):
    up = np.asarray(res.trace["contraction"])
    lo = np.asarray(res.trace["contraction_lower"])
    ex = np.asarray(res.trace["contraction_exact"]) == 1.0
    return float(up.max()), float(np.where(ex, up, lo).max())


def test_gamma_star_agrees_with_independent_runs(data):
    m, steps, rtol = 16, 30, 1e-3
    r = wellposed_gamma(data.X, data.y, m=m, seed=0, steps=steps, rtol=rtol)
    assert not r.undecided and np.isfinite(r.gamma_star)
    assert r.gamma_star <= r.gamma_init  # necessary at initialisation
    alphas = {p.gamma: p.alpha for p in r.points}

    def rerun(g):
        net = ImplicitNetwork.init(m=m, d=data.d, gamma=g, seed=0)
        st = net.state(torch.tensor(data.X), torch.tensor(data.y))
        from verify.model.gram import gram_blocks

        H = gram_blocks(net, st).H.detach()
        alpha = 1.0 / float(torch.linalg.eigvalsh(0.5 * (H + H.T))[-1])
        res = run_gd(data.X, data.y, RunConfig(m=m, gamma=g, step=alpha, steps=steps, seed=0),
                     progress=False)
        return res, alpha

    below, a_below = rerun(r.gamma_star * (1 - rtol))
    up, _ = _certified_max(below)
    assert below.status != "solver_failed" and up < 1.0
    at_hi, a_hi = rerun(r.gamma_star_hi)
    # on this cell training pushes ‖A(k)‖₂ up: γ*_hi is below γ_init, certified by a run
    assert r.gamma_star_hi < r.gamma_init
    _, lo = _certified_max(at_hi)
    assert lo >= 1.0
    assert a_hi == pytest.approx(alphas[r.gamma_star_hi], rel=1e-12)  # the same step rule


def test_classify_trace_rules():
    ones = np.ones(3)
    tr = {"contraction": np.array([0.5, 0.9, 0.95]), "contraction_lower": np.array([0.5, 0.8, 0.9]),
          "contraction_exact": np.array([1.0, 0, 0])}
    assert classify_trace(tr, "max_steps", 2)[0] == "wellposed"
    assert classify_trace(tr, "solver_failed", 2)[:2] == ("undecided",
                                                          "solver_failed_while_contraction")
    straddle = {**tr, "contraction": np.array([0.5, 1.01, 0.9])}
    assert classify_trace(straddle, "max_steps", 2)[:2] == ("undecided", "interval_straddles_1")
    above = {"contraction": np.array([0.5, 1.2, 1.3]), "contraction_lower": np.array([0.5, 1.1, 1.2]),
             "contraction_exact": 0 * ones}
    assert classify_trace(above, "max_steps", 2)[0] == "not_wellposed"


def test_wellposed_at_level_indicator():
    t = pd.DataFrame({"n": [8, 8, 8], "m": [16, 16, 16], "seed": [0, 1, 2],
                      "gamma_star": [0.45, 0.30, np.nan], "gamma_star_hi": [0.46, 0.31, 0.2],
                      "status": ["done"] * 3})
    ind = outcome_indicator(t, "wellposed_at_0.4").tolist()
    assert ind[0] == 1.0 and ind[1] == 0.0 and ind[2] == 0.0
    mid = outcome_indicator(t, "wellposed_at_0.455").tolist()
    assert np.isnan(mid[0])  # between γ* and γ*_hi: undecided, never 0 or 1


def test_gamma_sweep_end_to_end(tmp_path, capsys):
    out = tmp_path / "g"
    assert main(["sweep", "--kind", "gamma", "--data", "synthetic", "--n", "8", "--m", "8,16",
                 "--seeds", "2", "--steps", "5", "--gamma-levels", "0.3", "--serial", "--quiet",
                 "--out", str(out)]) == 0
    t = pd.read_parquet(out / "results.parquet")
    assert (t["status"] == "done").all() and t["gamma"].isna().all()
    assert (t["gamma_star"] <= t["gamma_init"]).all()
    pts = json.loads(t["gamma_points"].iloc[0])
    assert pts and {"gamma", "verdict", "reason"} <= set(pts[0])
    capsys.readouterr()
    assert main(["sweep", "--from", str(out)]) == 0
    text = capsys.readouterr().out
    assert "γ* per (n, m)" in text and "wellposed_at_0.3" in text
    words = " ".join(gamma_words(summarise_gamma(t)))
    assert "γ* ≥" in words and "margin" in words
