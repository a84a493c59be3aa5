"""GG22 claim (c) controls (verify.sweep.controls): planted threshold laws are recognised, the
projection keeps rows unit and is reproducible, and γ = 0 is the explicit two-layer network."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from bounds.datasets import load_dataset, project_dataset, projection_matrix
from verify.sweep.controls import counting_width, fit_control, parameter_count
from verify.sweep.width_theory import init_theory_widths


def _planted(mu_fn, *, s=0.25, seeds=12, seed=0, ns=(16, 32, 64, 128), ds=(8, 16, 32, 64),
             ms=(1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256), g0=False):
    rng = np.random.default_rng(seed)
    rows = []
    for n in ns:
        for d in ds:
            for mm in ms:
                mu = mu_fn(n, d)
                p = norm.cdf((math.log(mm) - mu) / s)
                for sd in range(seeds):
                    rows.append({"n": n, "m": mm, "seed": sd, "d": d, "gamma": 0.0 if g0 else 0.1,
                                 "success": float(rng.random() < p)})
    return pd.DataFrame(rows)


def test_counting_width_solves_the_parameter_count():
    # the network's own parameter tensors: A (m×m), W (m×d), u, v
    import torch

    from verify.model.network import ImplicitNetwork

    net = ImplicitNetwork.init(m=7, d=5, gamma=0.1, seed=0, dtype=torch.float64)
    assert parameter_count(7, 5, False) == sum(p.numel() for p in (net.A, net.W, net.u, net.v))
    assert parameter_count(7, 5, True) == sum(p.numel() for p in (net.W, net.u, net.v))
    n, d = np.array([32.0, 100.0]), np.array([8.0, 30.0])
    w = counting_width(n, d, np.array([False, False]), 3.0)
    assert np.allclose(w * w + w * (d + 2), 3.0 * n, rtol=1e-12)
    w0 = counting_width(n, d, np.array([True, True]), 3.0)
    assert np.allclose(w0 * (d + 2), 3.0 * n, rtol=1e-12)


def test_planted_counting_law_is_recognised():
    rows = _planted(lambda n, d: math.log(counting_width(np.array([n]), np.array([d]),
                                                         np.array([False]), 2.0)[0]))
    an = fit_control(rows)
    assert an.threshold
    assert an.models["gg22"].rejected
    assert not an.models["counting"].rejected
    assert any("follows P ∝ n (parameter counting)" in w for w in an.words)
    # the fitted c of the counting law is near the planted 2 (log c to ±0.3 at 12 seeds)
    assert abs(an.models["counting"].params["log_c"] - math.log(2.0)) < 0.3


def test_planted_gg22_law_is_recognised():
    rows = _planted(lambda n, d: math.log(0.5) + math.log(n))
    an = fit_control(rows)
    assert an.models["counting"].rejected
    assert not an.models["gg22"].rejected
    assert any("follows m ∝ n (GG22)" in w for w in an.words)
    lo, hi = an.models["free"].intervals["p"]
    assert lo <= 1.0 <= hi
    qlo, qhi = an.models["free"].intervals["q"]
    assert qlo <= 0.0 <= qhi


def test_free_law_intervals_cover_planted_exponents():
    rows = _planted(lambda n, d: -0.5 + 0.8 * math.log(n) - 0.4 * math.log(d), seeds=8, seed=3)
    an = fit_control(rows)
    f = an.models["free"]
    assert f.intervals["p"][0] <= 0.8 <= f.intervals["p"][1]
    assert f.intervals["q"][0] <= -0.4 <= f.intervals["q"][1]


def test_gamma_zero_shift_is_estimated():
    a = _planted(lambda n, d: math.log(n), ds=(16, 64), seed=1)
    b = _planted(lambda n, d: math.log(n) + math.log(2.0), ds=(64,), seed=2, g0=True)
    an = fit_control(pd.concat([a, b], ignore_index=True))
    lo, hi = an.models["free"].intervals["delta"]
    assert lo <= math.log(2.0) <= hi and lo > 0
    assert any("GD needs a different width" in w for w in an.words)


def test_no_threshold_on_the_grid_gets_no_law():
    rows = _planted(lambda n, d: -5.0)  # every width succeeds
    an = fit_control(rows)
    assert not an.threshold and not an.models
    assert "not a width threshold on this grid" in an.words[0]
    rows = _planted(lambda n, d: math.log(n))
    rows["success"] = np.nan
    assert not fit_control(rows).threshold


def test_projection_keeps_unit_rows_and_is_reproducible():
    ds = load_dataset("digits-all", n=40, test_fraction=0.2)
    p1 = project_dataset(ds, 8, seed=5)
    p2 = load_dataset("digits-all", n=40, test_fraction=0.2, project_d=8, project_seed=5)
    assert p1.X.shape == (40, 8) and p1.X_test is not None and p1.X_test.shape[1] == 8
    assert np.allclose(np.linalg.norm(p1.X, axis=1), 1.0, atol=1e-14)
    assert np.array_equal(p1.X, p2.X)
    assert not np.array_equal(p1.X, project_dataset(ds, 8, seed=6).X)
    assert p1.record()["projection"] == {"d_in": 64, "d": 8, "seed": 5}
    # the matrix is the recorded draw: X·R with unit rows
    R = projection_matrix(64, 8, 5)
    Z = np.asarray(ds.X) @ R
    assert np.allclose(p1.X, Z / np.linalg.norm(Z, axis=1, keepdims=True), atol=1e-14)


def test_gamma_zero_is_the_explicit_two_layer_network():
    import torch

    from verify.model.network import ImplicitNetwork

    torch.manual_seed(0)
    X = torch.randn(6, 5, dtype=torch.float64)
    X = X / X.norm(dim=1, keepdim=True)
    y = torch.randn(6, dtype=torch.float64)
    net = ImplicitNetwork.init(m=16, d=5, gamma=0.0, seed=0, dtype=torch.float64)
    st = net.state(X, y)
    assert st.ok
    phi = torch.relu(X @ net.W.detach().T) / math.sqrt(16)
    yhat = phi @ (net.u.detach() + net.v.detach())
    assert torch.allclose(st.yhat.reshape(-1), yhat, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("bad", [-0.1, 1.0])
def test_gamma_outside_zero_one_still_refused(bad):
    from bounds._errors import InvalidArgument
    from verify.model.network import ImplicitNetwork

    with pytest.raises(InvalidArgument, match="gamma"):
        ImplicitNetwork.init(m=16, d=5, gamma=bad, seed=0)


@pytest.mark.slow
def test_compare_command_on_real_sweeps(tmp_path, capsys):
    """Two tiny gd sweeps (projected to d = 4, and γ = 0) pooled by ``sweep --compare``: the
    rows carry the parameter count, the projection is recorded, the figure is written, and a
    non-gd sweep is refused naming --compare."""
    from verify.cli import main

    common = ["sweep", "--kind", "gd", "--budget", "rate", "--target", "1e-3", "--steps", "400",
              "--data", "synthetic", "--d", "8", "--n", "6,8", "--m", "1,16", "--seeds", "2",
              "--serial", "--quiet"]
    a, b = tmp_path / "d4", tmp_path / "g0"
    assert main(common + ["--project-d", "4", "--out", str(a)]) == 0
    assert main(common + ["--gamma", "0", "--out", str(b)]) == 0
    ta = pd.read_parquet(a / "results.parquet")
    tb = pd.read_parquet(b / "results.parquet")
    # P = m² + m·d + 2m with d = 4 after the projection; at γ = 0 without A's m²
    assert sorted(set(ta["n_params_trained"])) == [1 + 4 + 2, 16 * 16 + 16 * 4 + 32]
    assert sorted(set(tb["n_params_trained"])) == [8 + 2, 16 * 8 + 32]
    # m = 1 has P < n = 8 at γ = 0 (P = 10 ≥ 8 is not, so check the projected sweep): a capped
    # miss with P < n is a failure by rank, never undecided
    small = ta[(ta["m"] == 1) & (ta["n"] == 8)]
    assert (small["n_params_trained"] < 8).all()
    missed = small.loc[~small["reached"].astype(bool), "gd_linear_basis"]
    assert len(missed) and set(missed) == {"rank"}
    assert (small.loc[missed.index, "gd_linear"] == 0.0).all()
    capsys.readouterr()
    png = tmp_path / "ctl.png"
    assert main(["sweep", "--compare", str(a), str(b), "--outcome", "gd_linear",
                 "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "outcome gd_linear" in out and "decided row" in out
    assert png.is_file() and png.stat().st_size > 10_000
    init = tmp_path / "init"
    assert main(["sweep", "--kind", "init", "--data", "synthetic", "--n", "8", "--m", "4",
                 "--seeds", "1", "--serial", "--quiet", "--out", str(init)]) == 0
    assert main(["sweep", "--compare", str(a), str(init)]) == 2
    assert "--compare=" in capsys.readouterr().err


# ------------------------------------------------------------------ λ0 held apart from n
#: three planted "data sets": λ0(n) = c·n^(−s), so log(1/λ0) moves apart from log n
_LAM_SETS = {"flat": (0.3, 0.1), "mid": (0.2, 0.5), "steep": (0.05, 1.0)}


def _planted_init(mu_fn, *, s=0.3, seeds=6, seed=0, ns=(16, 32, 64, 128, 256)):
    """Init-kind rows: success w.p. Φ((log m − μ(n, λ0))/s) on a log grid of m around μ."""
    rng = np.random.default_rng(seed)
    rows = []
    for name, (c, e) in _LAM_SETS.items():
        for n in ns:
            lam = c * n ** (-e)
            mu = mu_fn(n, lam)
            for t in np.linspace(-2.5, 2.5, 9):
                mm = math.exp(mu + t * s)
                p = norm.cdf((math.log(mm) - mu) / s)
                for sd in range(seeds):
                    rows.append({"data": name, "n": n, "m": mm, "seed": sd, "d": 64,
                                 "gamma": 0.1, "lambda0": lam,
                                 "success": float(rng.random() < p)})
    return pd.DataFrame(rows)


def _theory_mu(name, const):
    def mu(n, lam):
        return math.log(const) + math.log(float(init_theory_widths(np.array([n]),
                                                                   np.array([lam]))[name][0]))
    return mu


def test_chernoff_width_is_its_own_fixed_point_and_matches_the_spec():
    import sympy as sp

    from bounds import gg22_spec, symbol

    n, lam = np.array([16.0, 256.0]), np.array([0.3, 0.002])
    w = init_theory_widths(n, lam)
    ch = {c.name: c.bound.expr for c in gg22_spec("gd").width_conditions()}["width_chernoff"]
    for i in range(2):
        val = float(ch.subs({symbol("n"): n[i], symbol("m"): w["chernoff"][i],
                             symbol("lambda0"): lam[i], symbol("delta"): sp.Rational(1, 2)}))
        assert abs(val - w["chernoff"][i]) <= 1e-10 * val
    # G22 Lemma 3.3 at C_prob = 1, δ = ½: n²·log(2n)/λ0², written out independently
    assert np.allclose(w["g22_lemma33"], n ** 2 * np.log(2 * n) / lam ** 2, rtol=1e-14)


@pytest.mark.parametrize("truth,other", [("g22_lemma33", "chernoff"), ("chernoff", "g22_lemma33")])
def test_planted_theory_shape_is_recognised_across_data_sets(truth, other):
    rows = _planted_init(_theory_mu(truth, 1e-3), seed=4)
    an = fit_control(rows, outcome="lemma33_init")
    assert an.threshold
    assert not an.models[truth].rejected
    assert an.models[other].rejected
    # the free law's intervals cover the planted shape's local exponents
    f = an.models["free"]
    line = next(w for w in an.words if w.startswith({"g22_lemma33": "G22", "chernoff": "the"}[truth]))
    assert "not rejected" in line
    assert set(f.intervals) == {"p", "b"}


def test_planted_free_exponents_are_covered():
    rows = _planted_init(lambda n, lam: 1.0 + 1.0 * math.log(n) + 0.0 * math.log(1 / lam), seed=5)
    an = fit_control(rows, outcome="lemma33_init")
    f = an.models["free"]
    assert f.intervals["p"][0] <= 1.0 <= f.intervals["p"][1]
    assert f.intervals["b"][0] <= 0.0 <= f.intervals["b"][1]
    # a threshold that ignores λ0 is far from both theories' λ0⁻¹…λ0⁻² shapes
    assert an.models["g22_lemma33"].rejected and an.models["chernoff"].rejected


def test_lambda0_term_on_one_power_law_path_is_refused():
    rows = _planted_init(lambda n, lam: math.log(n), seed=6)
    one = rows[rows["data"] == "mid"]  # λ0 = 0.2·n^(−½): log(1/λ0) is affine in log n
    from bounds._errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="terms=.*collinear"):
        fit_control(one, outcome="lemma33_init", terms="n,lambda0")
    # without the term the fit runs and says the exponent mixes n with λ0(n)
    an = fit_control(one, outcome="lemma33_init", terms="n")
    assert any("mixes n with λ0(n)" in w for w in an.words)


@pytest.mark.parametrize("terms,match", [("lambda0", "including n"), ("n,n", "distinct"),
                                         ("n,zeta", "expected distinct"), ("n,d", "'d' needs")])
def test_bad_terms_are_refused_by_name(terms, match):
    from bounds._errors import InvalidArgument

    rows = _planted_init(lambda n, lam: math.log(n), seed=7, seeds=2)
    with pytest.raises(InvalidArgument, match=match):
        fit_control(rows, outcome="lemma33_init", terms=terms)


@pytest.mark.slow
def test_compare_init_sweeps_on_two_data_sets(tmp_path, capsys):
    """Two tiny init sweeps on data sets with different λ0 pooled by ``sweep --compare``: the λ0
    term is fitted, both theories are reported, and the figure is written."""
    from verify.cli import main

    dirs = []
    for d in (4, 256):
        out = tmp_path / f"d{d}"
        assert main(["sweep", "--kind", "init", "--data", "synthetic", "--d", str(d), "--n", "8,16",
                     "--m", "2,8,32,128", "--seeds", "3", "--hk-max-m", "0", "--serial", "--quiet",
                     "--out", str(out)]) == 0
        dirs.append(str(out))
    capsys.readouterr()
    png = tmp_path / "lam.png"
    rc = main(["sweep", "--compare", *dirs, "--outcome", "lemma33_init", "--plot", str(png)])
    res = capsys.readouterr()
    assert rc == 0, res.err
    assert "b·log(1/λ0)" in res.out and "G22 Lemma 3.3" in res.out and "Chernoff" in res.out
    assert png.is_file()
    assert main(["sweep", "--compare", *dirs, "--outcome", "lemma33_init", "--terms", "n,q"]) == 2
    assert "--terms=" in capsys.readouterr().err


@pytest.mark.parametrize("opt", [["--plot", "x.png"], ["--terms", "n,lambda0"]])
def test_compare_only_options_are_refused_without_compare(opt, tmp_path, capsys):
    from verify.cli import main

    assert main(["sweep", "--from", str(tmp_path), *opt]) == 2
    err = capsys.readouterr().err
    assert f"{opt[0]}=" in err and "only with --compare" in err and "Traceback" not in err
