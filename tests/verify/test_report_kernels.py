"""The report's *Infinite-width kernels* section (issue 16 item 4) on tiny real runs: rendered
in md/html/json, its numbers equal their sources (λ_min(H∞) recomputed here with
``bounds.deq_kernels``; observed λ_min(H(0)) and rates read from the saved runs), PNG figure."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import bounds
import verify.report as R
from verify.report.make import make_report
from verify.report.model import ReportMeta
from verify.report.sections.kernels import FIGURE, compute_kernels

PNG_SIG = b"\x89PNG\r\n\x1a\n"
GAMMA, ALPHA = 0.1, 0.005


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    from verify.experiment.data import load_dataset
    from verify.experiment.gd import RunConfig, load_run, run_gd

    ds = load_dataset("digits", n=14, seed=0)
    root = tmp_path_factory.mktemp("kruns")
    runs = []
    for m in (8, 16):
        run_gd(ds, config=RunConfig(m=m, gamma=GAMMA, step=ALPHA, steps=6, seed=1),
               out_dir=root / f"m{m}", progress=False)
        res = load_run(root / f"m{m}")
        runs.append(R.ReportRun(record=res.record, trace=res.trace, run_dir=str(root / f"m{m}")))
    kern = compute_kernels(ds.X, GAMMA, [8, 16], seeds=(0, 1))
    files, summary = make_report(runs, command="test", kernels=kern, dpi=40)
    return ds, runs, files, summary


def test_numbers_equal_their_sources(setup):
    ds, runs, _, summary = setup
    ref = bounds.deq_kernels(np.array(ds.X), GAMMA)
    k = summary["kernels"]
    assert k["limit"]["lambda_min_H"] == ref.lambda_min_H
    assert k["limit"]["provenance"] == "derived"
    rows = {r["m"]: r for r in k["per_width"]}
    for run in runs:
        r = rows[run.m]
        h = np.asarray(run.trace["lambda_min_H"], dtype=float)
        assert run.trace["step"][0] == 0 and r["lambda_min_H0"] == h[0]
        assert r["lambda_min_Hinf"] == ref.lambda_min_H
        assert r["lambda0"] == run.record["symbols"]["lambda0"]
        assert r["lambda0"] == pytest.approx(ref.lambda0, rel=1e-9)
        assert r["rate_paper"] == pytest.approx(1 - ALPHA * ref.lambda0 / 2, rel=1e-12)
        assert r["rate_toolkit"] == pytest.approx(1 - ALPHA * ref.lambda_min_H / 2, rel=1e-12)
        assert r["rate_observed_tail"] == run.record["rates"]["observed_rate_tail"]
        assert r["half_limit_holds"] == (h[0] >= 0.5 * ref.lambda_min_H)
    conv = k["convergence"]
    assert conv["widths"] == [8, 16] and conv["lambda_min_Hinf"] == ref.lambda_min_H
    assert all(math.isfinite(conv["slopes"][b]) for b in ("A", "W", "u", "v", "H"))


def test_rendered_in_all_formats(setup):
    _, runs, files, summary = setup
    md = files["report.md"].decode()
    assert "## Infinite-width kernels" in md and f"figures/{FIGURE}" in md
    lh = summary["kernels"]["limit"]["lambda_min_H"]
    assert R.fmt(lh) in md.split("## Infinite-width kernels")[1]
    assert "toolkit (derived)" in md and "not the paper's" in md
    page = files["report.html"].decode()
    assert 'id="kernels"' in page and f'alt="{FIGURE}"' in page
    js = json.loads(files["summary.json"])
    assert js["kernels"]["limit"]["lambda_min_H"] == lh
    png = files[f"figures/{FIGURE}"]
    assert png.startswith(PNG_SIG)
    import io

    import matplotlib.image as mpimg

    img = mpimg.imread(io.BytesIO(png), format="png")
    assert img.ndim == 3 and img.shape[0] > 50


def test_absent_without_kernels(setup):
    _, runs, _, _ = setup
    s = R.build_summary(runs, ReportMeta())
    assert "kernels" not in s
    md = R.render_report(runs, ReportMeta(), formats=("md",), dpi=30)
    assert b"Infinite-width kernels" not in md["report.md"] and f"figures/{FIGURE}" not in md


def test_convergence_skipped_is_stated():
    X = np.random.default_rng(0).standard_normal((4, 3))
    k = compute_kernels(X, GAMMA, [8], budget_s=0.0)
    assert k["convergence"] is None and "budget" in k["convergence_skipped"]
