"""sweep --adaptive (verify.sweep.adaptive): on a planted probit law the design reaches the target
credible half-width with fewer cells than a full grid, its interval agrees with the profile
likelihood of the independent joint fit, a killed sweep resumes to the same decisions and
table, rounds on a LocalCluster equal the serial run, and bad options are refused by name."""

from __future__ import annotations

import functools
import json
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import special

from verify.cli import main
from verify.sweep import SweepSpec, fit_width_threshold, read_table, run_sweep
from verify.sweep._testing import interrupt_after, planted_cell, planted_success
from verify.sweep.adaptive import AdaptiveDesign, Posterior, grid_equivalent
from verify.sweep.adaptive_run import run_adaptive
from verify.sweep.joint_threshold import fit_joint

#: planted law: m*½(n) = 100·(n/16), s(n) = 0.25·(n/16)^−0.1 (log m units)
LAW = {"a": math.log(100.0), "p": 1.0, "s0": 0.25, "s1": -0.1}
NS = (16, 64, 256)
BASE = SweepSpec(kind="init", data="digits-all", n=NS, m=(8, 8192), seeds=(0,), hk_max_m=0)


def _mu_s(n: int) -> tuple[float, float]:
    return LAW["a"] + LAW["p"] * math.log(n / 16), LAW["s0"] * (n / 16) ** LAW["s1"]


def _design(**kw) -> AdaptiveDesign:
    args = {"outcome": "lemma33_init", "m_lo": 8, "m_hi": 8192, "target_ci": 0.1,
            "max_cells": 2000, "seeds_per_round": 4, **kw}
    return AdaptiveDesign(**args)


def _planted_rows(n: int, widths, seeds: int) -> pd.DataFrame:
    return pd.DataFrame([{"n": n, "m": int(m), "seed": s,
                          "y": float(planted_success(n, int(m), s, **LAW))}
                         for m in widths for s in range(seeds)])


@pytest.fixture(scope="module")
def adaptive_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("adaptive") / "sw"
    task = functools.partial(planted_cell, **LAW)
    return run_adaptive(BASE, _design(), out, serial=True, task=task, progress=False)


def test_one_n_reaches_the_target_with_fewer_cells_than_a_full_grid(tmp_path):
    base = SweepSpec(kind="init", data="digits-all", n=(64,), m=(8, 8192), seeds=(0,), hk_max_m=0)
    design = _design(target_ci=0.15)
    res = run_adaptive(base, design, tmp_path / "one", serial=True,
                       task=functools.partial(planted_cell, **LAW), progress=False)
    assert res.log["final"]["stopped"] == {"64": "target"}
    est = res.log["final"]["per_n"]["64"]["estimate"]
    assert est["halfwidth"] <= 0.15 and est["lo"] <= _mu_s(64)[0] <= est["hi"]
    eq = grid_equivalent({64: _mu_s(64)}, design, reps=20, seed=1)
    print(f"\nn = 64, target ±0.15: adaptive {len(res.table)} cells, full ×√2 grid "
          f"{eq['cells_per_n_seeds']} cells ({eq['per_n']['64']['seeds_per_cell']} seeds × "
          f"{len(eq['grid'])} widths): savings ×{eq['cells_per_n_seeds'] / len(res.table):.2f}")
    assert eq["cells_per_n_seeds"] > 2 * len(res.table)


@pytest.mark.slow
def test_planted_law_reaches_target_with_fewer_cells_than_a_full_grid(adaptive_run):
    res = adaptive_run
    fin = res.log["final"]
    assert fin["stopped"] == {str(n): "target" for n in NS}
    for n in NS:
        est = fin["per_n"][str(n)]["estimate"]
        assert est["halfwidth"] <= 0.1
        assert est["lo"] <= _mu_s(n)[0] <= est["hi"], (n, est)
    # the full ×√2 grid at the TRUE law: seeds per cell for the same credible half-width
    eq = grid_equivalent({n: _mu_s(n) for n in NS}, res.design, reps=20, seed=1)
    cells = len(res.table)
    ratio = eq["cells_per_n_seeds"] / cells
    print(f"\nadaptive design: {cells} cells ({dict(fin['savings']['adaptive_cells_per_n'])}); "
          f"full ×√2 grid of {len(eq['grid'])} widths at the planted law: "
          f"{eq['cells_per_n_seeds']} cells (seeds per cell per n "
          f"{ {n: v['seeds_per_cell'] for n, v in eq['per_n'].items()} }): savings ×{ratio:.2f}")
    assert ratio > 2.0
    for n in NS:  # each n alone, too (each n's grid with its own seed count)
        assert res.table["n"].eq(n).sum() < eq["per_n"][str(n)]["cells"]
    # the figure recorded in adaptive.json (at the fitted law) tells the same story
    assert fin["savings"]["ratio_per_n_seeds"] > 2.0
    assert fin["savings"]["law_from"].startswith("joint probit fit")
    on_disk = json.loads((res.out_dir / "adaptive.json").read_text())
    assert on_disk["final"]["savings"]["adaptive_cells"] == cells
    meta = json.loads((res.out_dir / "sweep.json").read_text())
    assert meta["cells"] == cells and meta["adaptive"]["rounds"] == len(res.log["rounds"])


@pytest.mark.slow
def test_equal_cells_the_adaptive_profile_intervals_are_narrower(adaptive_run):
    """Independent of the design's own posterior: the joint fit's profile CI of m*½(n) on the
    adaptive table against a full ×√2 grid given the same number of cells per n."""
    t = adaptive_run.table
    grid = grid_equivalent({16: _mu_s(16)}, adaptive_run.design, reps=1)["grid"]
    full = []
    for n in NS:
        seeds = max(1, round(t["n"].eq(n).sum() / len(grid)))
        full.append(_planted_rows(n, grid, seeds))
    full_t = pd.concat(full, ignore_index=True)
    ind = (t["lam_min_G0"] >= 0.75 * t["lambda0"]).astype(float)

    def widths(n, m, seed, y):
        jf = fit_joint(n, m, seed, y, q=(0.5,), n_boot=0, profile=True, compare_links=False)
        return {r["n"]: math.log(r["profile"][1] / r["profile"][0]) / 2 for r in jf.thresholds}, jf

    wa, ja = widths(t["n"].to_numpy(), t["m"].to_numpy(float), t["seed"].to_numpy(), ind.to_numpy())
    wf, _ = widths(full_t["n"].to_numpy(), full_t["m"].to_numpy(float), full_t["seed"].to_numpy(),
                   full_t["y"].to_numpy())
    print("\nprofile half-widths of log m*½, adaptive vs full grid at equal cells:",
          {n: (round(wa[n], 3), round(wf[n], 3)) for n in NS})
    assert all(wa[n] < wf[n] for n in NS)
    # and the library's fit reads the adaptive table unchanged: every n used, truth covered
    res = fit_width_threshold(t, "lemma33_init", q=(0.5,), n_boot=50, seed=0)
    law = res.law(0.5)
    assert law.n_used == NS
    assert law.p_lo <= LAW["p"] <= law.p_hi, (law.p, law.p_lo, law.p_hi)
    jt = res.joint_thresholds
    for n in NS:
        r = jt[jt["n"] == n].iloc[0]
        assert r["m_star_lo"] <= math.exp(_mu_s(n)[0]) <= r["m_star_hi"]


@pytest.mark.slow
def test_psi_phase_concentrates_near_the_threshold(adaptive_run):
    log = adaptive_run.log
    near = total = 0
    for rnd in log["rounds"]:
        for n, v in rnd["per_n"].items():
            if v.get("phase") == "psi":
                mu, s = _mu_s(int(n))
                total += len(v["seeds"])
                near += len(v["seeds"]) * (abs(math.log(v["m"]) - mu) <= 2.5 * s)
    assert total > 0 and near / total >= 0.8, (near, total)
    first = log["rounds"][0]["per_n"]
    assert all(v["phase"] == "bisection" for v in first.values())


def test_credible_interval_agrees_with_the_profile_likelihood():
    """The design's posterior interval vs the joint fit's profile interval (one n, common
    spread): with plenty of data both approximate the same normal interval (Bernstein–von
    Mises), so their half-widths agree to within 15 %."""
    d = _design()
    mu, s = _mu_s(64)
    widths = [int(round(math.exp(mu + s * z))) for z in np.linspace(-2.0, 2.0, 9)]
    rows = _planted_rows(64, widths, 40)
    g = rows.groupby("m")["y"].agg(["sum", "count"])
    post = Posterior(d)
    est = post.summary(post.weights(np.log(g.index.to_numpy(float)), g["sum"].to_numpy(float),
                                    g["count"].to_numpy(float)))
    jf = fit_joint(rows["n"].to_numpy(), rows["m"].to_numpy(float), rows["seed"].to_numpy(),
                   rows["y"].to_numpy(), q=(0.5,), n_boot=0, profile=True, compare_links=False)
    lo, hi = jf.thresholds[0]["profile"]
    prof_hw = math.log(hi / lo) / 2
    assert abs(est["halfwidth"] / prof_hw - 1) < 0.15, (est["halfwidth"], prof_hw)
    assert abs(est["log_mstar"] - math.log(jf.thresholds[0]["m_star"])) < 0.2 * prof_hw
    # q ≠ ½: θ_q = μ + Φ⁻¹(q)·s, the posterior's median close to the MLE's
    d9 = _design(q=0.9)
    p9 = Posterior(d9)
    e9 = p9.summary(p9.weights(np.log(g.index.to_numpy(float)), g["sum"].to_numpy(float),
                               g["count"].to_numpy(float)))
    assert abs(e9["log_mstar"] - (mu + special.ndtri(0.9) * s)) < 2 * e9["halfwidth"]


def _strip(log):
    return [{k: v for k, v in r.items() if k != "planned"} for r in log["rounds"]]


def test_killed_adaptive_sweep_resumes_to_the_same_decisions_and_table(tmp_path):
    design = _design(max_cells=48)
    base = replace(BASE, n=(16, 64))
    task = functools.partial(planted_cell, **LAW)
    whole = run_adaptive(base, design, tmp_path / "whole", serial=True, task=task, progress=False)
    # killed in the middle of round 2 (cells 17…24): 18 cells run, the 19th raises
    cut = functools.partial(interrupt_after, counter=str(tmp_path / "count"), limit=18, **LAW)
    with pytest.raises(KeyboardInterrupt):
        run_adaptive(base, design, tmp_path / "cut", serial=True, task=cut, progress=False)
    partial = read_table(tmp_path / "cut")
    assert 16 <= len(partial) < 24
    logged = json.loads((tmp_path / "cut" / "adaptive.json").read_text())
    assert "final" not in logged and logged["rounds"]
    assert len(logged["rounds"]) == 3  # the interrupted round was logged before it ran
    resumed = run_adaptive(base, design, tmp_path / "cut", serial=True, resume=True, task=task,
                           progress=False)
    assert resumed.computed == len(whole.table) - len(partial)
    assert _strip(resumed.log) == _strip(whole.log)
    drop = ["wall_s"]
    pd.testing.assert_frame_equal(resumed.table.drop(columns=drop), whole.table.drop(columns=drop))
    assert resumed.log["final"]["stopped"] == whole.log["final"]["stopped"]
    assert len(whole.table) == 48  # the budget stopped it
    assert set(whole.log["final"]["stopped"].values()) <= {"max_cells", "target"}
    # where the budget stopped an n short of the target, the full grid is asked for the
    # half-width the design reached there, not for the unreached target
    fin = whole.log["final"]
    for n, v in fin["per_n"].items():
        hw = v["estimate"]["halfwidth"]
        assert fin["savings"]["per_n"][n]["target"] == pytest.approx(max(0.1, hw))
    assert any(v["estimate"]["halfwidth"] > 0.1 for v in fin["per_n"].values())
    # resuming a finished sweep runs nothing
    again = run_adaptive(base, design, tmp_path / "cut", serial=True, resume=True, task=task,
                         progress=False)
    assert again.computed == 0 and len(again.log["invocations"]) == 3


def test_rounds_on_a_local_cluster_equal_the_serial_rounds(tmp_path):
    from distributed import Client, LocalCluster

    design = _design(max_cells=24)
    task = functools.partial(planted_cell, **LAW)
    serial = run_adaptive(BASE, design, tmp_path / "serial", serial=True, task=task,
                          progress=False)
    cluster = LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                           dashboard_address=":0", silence_logs=50,
                           env={"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    try:
        with Client(cluster, set_as_default=False) as client:
            dist = run_adaptive(BASE, design, tmp_path / "dist", client=client, task=task,
                                progress=False)
    finally:
        cluster.close()
    assert _strip(dist.log) == _strip(serial.log)
    pd.testing.assert_frame_equal(dist.table.drop(columns=["wall_s"]),
                                  serial.table.drop(columns=["wall_s"]))


def test_cli_runs_real_init_cells_and_resumes(tmp_path, capsys):
    out = tmp_path / "ad"
    argv = ["sweep", "--adaptive", "--data", "digits", "--kind", "init", "--n", "8,16",
            "--m", "8,512", "--seeds", "3", "--max-cells", "18", "--hk-max-m", "0",
            "--out", str(out), "--serial", "--quiet"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "sweep --adaptive: 18 cells" in text and "full ×√2 grid" in text
    t = pd.read_parquet(out / "results.parquet")
    assert len(t) == 18 and (t["status"] == "done").all()
    assert t["lam_min_G0"].notna().all()
    log = json.loads((out / "adaptive.json").read_text())
    assert log["design"]["seeds_per_round"] == 3 and log["design"]["m_hi"] == 512
    assert json.loads((out / "sweep.json").read_text())["cells"] == 18
    # more budget on resume: the options not given come from adaptive.json / sweep.json
    assert main(["sweep", "--adaptive", "--out", str(out), "--resume", "--max-cells", "24",
                 "--serial", "--quiet"]) == 0
    assert len(pd.read_parquet(out / "results.parquet")) == 24
    capsys.readouterr()
    # a plain resume would treat the candidate grid × seed pool as a product grid: refused
    assert main(["sweep", "--out", str(out), "--resume", "--serial", "--quiet"]) == 2
    assert "--resume=True: the sweep in" in capsys.readouterr().err
    assert main([*argv[:-2], "--resume", "--quantile", "0.9", "--serial", "--quiet"]) == 2
    assert "--quantile" in capsys.readouterr().err


@pytest.mark.parametrize("extra, needle", [
    (["--adaptive", "--target-ci", "0"], "--target-ci='0'"),
    (["--adaptive", "--target-ci", "-0.1"], "--target-ci='-0.1'"),
    (["--adaptive", "--target-ci", "nan"], "--target-ci='nan'"),
    (["--adaptive", "--target-ci", "0.01"], "--target-ci=0.01"),
    (["--adaptive", "--max-cells", "0"], "--max-cells='0'"),
    (["--adaptive", "--quantile", "1"], "--quantile='1'"),
    (["--adaptive", "--kind", "gamma"], "--adaptive"),
    (["--adaptive", "--outcome", "gd_reached"], "--outcome='gd_reached'"),
    (["--adaptive", "--outcome", "nope"], "--outcome='nope'"),
    (["--adaptive", "--seeds", "0,1"], "--seeds"),
    (["--adaptive", "--m", "64"], "--m"),
    (["--target-ci", "0.1"], "--target-ci='0.1': is used only with --adaptive"),
    (["--max-cells", "10"], "--max-cells"),
    (["--quantile", "0.5"], "--quantile"),
])
def test_cli_bad_adaptive_options_refused_by_name(tmp_path, capsys, extra, needle):
    out = tmp_path / "sw"
    argv = ["sweep", "--data", "digits", "--n", "8", "--m", "8,64", "--seeds", "2",
            "--out", str(out), "--serial", "--quiet"]
    if "--m" in extra:
        argv[argv.index("--m") + 1] = extra[extra.index("--m") + 1]
        extra = [e for i, e in enumerate(extra) if e != "--m" and (i == 0 or extra[i - 1] != "--m")]
    assert main([*argv, *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("implicit-verify sweep: error:") and "\n" not in err, err
    assert needle in err, err
    assert not out.exists()


def test_design_refuses_bad_settings_by_name():
    for kw, name in (({"target_ci": 0.0}, "target_ci"), ({"max_cells": 0}, "max_cells"),
                     ({"q": 1.5}, "q"), ({"seeds_per_round": 0}, "seeds_per_round"),
                     ({"m_hi": 10}, "m"), ({"target_ci": 0.01}, "target_ci")):
        with pytest.raises(Exception) as ei:
            _design(**kw)
        assert str(ei.value).startswith(f"{name}="), str(ei.value)
    with pytest.raises(Exception, match="^kind='gamma'"):
        _design().sweep_spec(SweepSpec(kind="gamma", data="digits", n=(8,), m=(8,), seeds=(0,)))


def test_run_sweep_only_runs_the_given_cells(tmp_path):
    spec = SweepSpec(kind="init", data="digits", n=(8, 16), m=(8, 16, 32), seeds=(0, 1), hk_max_m=0)
    only = [(8, 16, 1), (16, 32, 0)]
    res = run_sweep(spec, tmp_path / "o", serial=True, progress=False, only=only)
    assert sorted(zip(res.table["n"], res.table["m"], res.table["seed"], strict=True)) == only
    with pytest.raises(Exception, match=r"^only=\[32\]"):
        run_sweep(spec, tmp_path / "x", serial=True, progress=False, only=[(32, 8, 0)])
    assert not (tmp_path / "x").exists()
    full = run_sweep(spec, tmp_path / "f", serial=True, progress=False).table
    keyed = full.set_index("cell_key")
    for r in res.table.itertuples(index=False):  # same keys and rows as the product grid's
        assert keyed.loc[r.cell_key, "lam_min_G0"] == r.lam_min_G0


def test_report_section_shows_the_design_and_the_savings(tmp_path):
    from verify.report.scaling_report import render_scaling_report
    from verify.sweep.analysis import analyse_sweep

    base = SweepSpec(kind="init", data="digits-all", n=(16, 64), m=(8, 8192), seeds=(0,),
                     hk_max_m=0)
    res = run_adaptive(base, _design(target_ci=0.2), tmp_path / "ad", serial=True,
                       task=functools.partial(planted_cell, **LAW), progress=False)
    an = analyse_sweep(tmp_path / "ad", n_boot=0, seed=0)
    files = render_scaling_report([an], command="cmd", dpi=40, formats=("md", "json"))
    md = files["report.md"].decode()
    assert "adaptive design: n ∈ {16, 64}, m searched in [8, 8192]" in md
    sv = res.log["final"]["savings"]
    assert f"with {sv['cells_per_n_seeds']} cells when each n has its own seeds" in md
    assert "PARTIAL" not in md  # the candidate grid × seed pool is not a plan
    summ = json.loads(files["summary.json"])
    sw = summ["width_scaling"]["sweeps"][0]
    assert sw["cells_planned"] is None
    assert sw["adaptive"]["per_n"]["64"]["cells"] == int((res.table["n"] == 64).sum())
    assert sw["adaptive"]["per_n"]["64"]["stopped"] == "target"
    # the joint fit's exponent over the adaptive rows is in the same section
    law = next(w for w in sw["outcomes"][0]["laws"] if w["q"] == 0.5)
    assert law["n_used"] == [16, 64] and law["p"] is not None


@pytest.mark.slow
def test_committed_adaptive_sweep_replays_its_logged_decisions():
    """reports/width-scaling/sweeps/adaptive-n1024: every logged round is what plan_round makes
    of the rows of the rounds before it (the design is a function of the stored rows)."""
    from pathlib import Path

    from verify.sweep.adaptive import plan_round

    src = Path(__file__).resolve().parents[2] / "reports/width-scaling/sweeps/adaptive-n1024"
    log = json.loads((src / "adaptive.json").read_text())
    design = AdaptiveDesign.from_dict(log["design"])
    table = read_table(src)
    ns = tuple(int(n) for n in json.loads((src / "sweep.json").read_text())["spec"]["n"])
    key = list(zip(table["n"], table["m"], table["seed"], strict=True))
    done: set[tuple[int, int, int]] = set()
    for rnd in log["rounds"]:
        rows = table[[k in done for k in key]]
        plan = plan_round(rows, design, ns)
        assert plan["cells"] == rnd["cells"], rnd["round"]
        assert {n: v["phase"] for n, v in plan["per_n"].items()} == \
            {n: v["phase"] for n, v in rnd["per_n"].items()}
        done |= {tuple(c) for c in rnd["cells"]}
    assert done == set(key)
    final = plan_round(table, design, ns)
    assert final["cells"] == [] and final["stopped"] == log["final"]["stopped"]


def test_cli_gd_kind_designs_for_gd_reached(tmp_path, capsys):
    out = tmp_path / "gd"
    assert main(["sweep", "--adaptive", "--kind", "gd", "--data", "synthetic", "--d", "4",
                 "--n", "6", "--m", "2,64", "--steps", "100", "--target", "1e-2", "--seeds", "3",
                 "--max-cells", "6", "--out", str(out), "--serial", "--quiet"]) == 0
    log = json.loads((out / "adaptive.json").read_text())
    assert log["design"]["outcome"] == "gd_reached"
    t = pd.read_parquet(out / "results.parquet")
    assert len(t) == 6 and t["reached"].notna().all() and (t["status"] == "done").all()
    # two rounds of 3 cells; the second width follows the first round's outcomes
    assert [len(r["cells"]) for r in log["rounds"]] == [3, 3]
    assert "sweep --adaptive: 6 cells in 2 rounds" in capsys.readouterr().out


@pytest.mark.slow
def test_stopping_interval_covers_a_planted_threshold_at_its_nominal_rate():
    """40 designs (one n, steep law s = 0.15 as at n = 1024 on digits-all), the true m*½ drawn in
    [100, 6000]: the final 95 % credible interval covers it in ≥ 33 of 40 (at the nominal 95 %
    the chance of 8 or more misses is 0.07 %)."""
    from verify.sweep.adaptive import plan_round

    rng = np.random.default_rng(1)
    d = AdaptiveDesign(outcome="lemma33_init", m_lo=16, m_hi=11585, target_ci=0.1)
    cover = 0
    for _ in range(40):
        mu = math.log(rng.uniform(100, 6000))
        rows: list[list] = []
        while True:
            t = pd.DataFrame(rows, columns=["n", "m", "seed", "lam_min_G0", "lambda0", "status"])
            plan = plan_round(t, d, (64,))
            if not plan["cells"]:
                break
            for n, m, sd in plan["cells"]:
                ok = rng.random() < special.ndtr((math.log(m) - mu) / 0.15)
                rows.append([n, m, sd, 1.0 if ok else 0.5, 1.0, "done"])
        e = plan["per_n"]["64"]["estimate"]
        assert plan["stopped"] == {"64": "target"}
        cover += e["lo"] <= mu <= e["hi"]
    assert cover >= 33, cover
