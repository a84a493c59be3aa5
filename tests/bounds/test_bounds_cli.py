"""``implicit-verify bounds`` through the real dispatcher (verify.cli.main)."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from bounds_testdata import unit_rows

import verify.cli as vcli
from bounds import lambda0, norm_constant_tail


@pytest.fixture
def main(monkeypatch):
    """verify.cli.main with only the bounds sub-command registered (the other sub-command
    modules are written in parallel and need not exist yet)."""
    monkeypatch.setattr(vcli, "_SUBCOMMANDS", (("bounds", "bounds._cli"),))
    return vcli.main


def _run_json(main, capsys, *args):
    rc = main(["bounds", *args, "--format", "json"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    return json.loads(out.out)


def _write(tmp_path, kind, X, y=None):
    if kind == "npz":
        p = tmp_path / "d.npz"
        np.savez(p, X=X, **({} if y is None else {"y": y}))
    elif kind == "npy":
        p = tmp_path / "d.npy"
        np.save(p, X)
    else:
        p = tmp_path / "d.csv"
        head = [f"x{j}" for j in range(X.shape[1])] + ([] if y is None else ["y"])
        rows = [",".join(repr(float(v)) for v in (*X[i], *([] if y is None else [y[i]])))
                for i in range(X.shape[0])]
        p.write_text("\n".join([",".join(head), *rows]) + "\n")
    return p


@pytest.mark.parametrize("kind", ["npz", "npy", "csv"])
def test_json_round_trip(main, capsys, tmp_path, kind):
    X = unit_rows(8, 3, seed=4)
    y = None if kind == "npy" else np.linspace(-1, 1, 8)
    r = _run_json(main, capsys, "--data", str(_write(tmp_path, kind, X, y)), "--delta", "0.05")
    for key in ("n", "d", "lambda0", "c", "gamma_max", "width_required", "step_max", "bounds",
                "audit", "known_issues", "hidden_constants"):
        assert key in r
    assert (r["n"], r["d"]) == (8, 3)
    assert r["lambda0"] == pytest.approx(lambda0(X), rel=1e-12)
    assert ("|y_i| = 1" in r["e0_source"]) == (y is None)
    w = r["width_required"]
    assert sum(e["binding"] for e in w["conditions"]) == 1
    binding = next(e for e in w["conditions"] if e["binding"])
    assert binding["name"] == w["binding"] and binding["width"] == w["value"]
    # c is the tail bound at the binding width; γ_max = min(½, 1/(4c))
    assert r["c"]["value"] == pytest.approx(norm_constant_tail(int(w["value"]), 3, 0.05), rel=1e-15)
    assert r["gamma_max"] == pytest.approx(min(0.5, 1 / (4 * r["c"]["value"])), rel=1e-15)
    names = {b["name"] for b in r["bounds"]}
    assert {"R", "u_norm_max", "W_move_max", "Z_step_max"} <= names
    for b in r["bounds"]:
        assert set(b) >= {"label", "name", "latex", "value", "provenance", "hidden"}
    assert [it["id"] for it in r["known_issues"]] == [1, 2, 3, 4, 5]
    assert len(r["known_issues"][2]["numbers"]) == 4
    assert r["hidden_constants"] == {"C_prob": 1.0, "C_step": 1.0, "C_width": 1.0, "C_width_lemma": 1.0}
    assert "configuration" not in r


def test_configuration_verdicts(main, capsys):
    r = _run_json(main, capsys, "--synthetic", "12,4", "--seed", "3", "--m", "5000",
                  "--gamma", "0.1", "--step", "1e-9", "--hidden", "C_width=2")
    conf = {c["name"]: c for c in r["configuration"]["conditions"]}
    c = norm_constant_tail(5000, 4, 0.01)
    g = conf["gamma"]
    assert g["required"] == pytest.approx(min(0.5, 1 / (4 * c)), rel=1e-15)
    assert g["verdict"] == ("met" if 0.1 <= g["required"] else "not met")
    assert g["ratio"] == pytest.approx(0.1 / g["required"], rel=1e-15)
    w = conf["width_thm32"]
    lam = r["lambda0"]
    assert w["required"] == pytest.approx(2 * 144 / lam * math.log(12 / 0.01), rel=1e-12)
    assert w["verdict"] == ("met" if 5000 >= w["required"] else "not met")
    # one ratio convention: > 1 fails, so a ≥ condition's ratio is required/value
    assert w["ratio"] == pytest.approx(w["required"] / 5000, rel=1e-15)
    assert conf["step"]["verdict"] == "met"  # 1e-9 ≪ λ0/n²
    assert r["hidden_constants"]["C_width"] == 2.0
    assert r["evaluated_at"]["m"] == 5000.0


def test_non_unit_and_parallel_data_are_reported_not_rejected(main, capsys, tmp_path):
    X = unit_rows(5, 3, seed=2)
    X[4] = 2.0 * X[1]
    p = _write(tmp_path, "npz", X)
    r = _run_json(main, capsys, "--data", str(p))
    assert r["audit"]["ok"] is False
    assert r["audit"]["parallel_pairs"] == [[1, 4]]
    assert r["audit"]["worst_pair"] == [1, 4]
    assert any("parallel" in w for w in r["warnings"]) and any("unit norm" in w for w in r["warnings"])
    assert r["lambda0_numerically_zero"] is True
    assert r["width_required"]["value"] is None  # infinite
    rc = main(["bounds", "--data", str(p)])
    out = capsys.readouterr().out
    assert rc == 0 and "VIOLATED" in out and "(1,4)" in out


@pytest.mark.parametrize("fmt", ["table", "latex"])
def test_text_formats(main, capsys, fmt):
    rc = main(["bounds", "--synthetic", "10,3", "--format", fmt, "--mode", "gf"])
    out = capsys.readouterr().out
    assert rc == 0
    if fmt == "latex":
        assert r"\begin{tabular}" in out and r"\lambda_0" in out and "width\\_thm31" in out
    else:
        assert "width_thm31" in out and "Lemma 3.5(ii)" in out and "C_width_lemma=1" in out


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["--synthetic", "10"], "--synthetic"),
        (["--synthetic", "0,3"], "--synthetic"),
        (["--synthetic", "10,3", "--delta", "1.5"], "--delta"),
        (["--synthetic", "10,3", "--gamma", "-0.1"], "--gamma"),
        (["--synthetic", "10,3", "--m", "0"], "--m"),
        (["--synthetic", "10,3", "--hidden", "C_width"], "--hidden"),
        (["--synthetic", "10,3", "--hidden", "C_nope=2"], "--hidden"),
        (["--data", "/nonexistent/file.npz"], "--data"),
    ],
)
def test_errors_exit_2_with_one_line(main, capsys, args, name):
    rc = main(["bounds", *args])
    err = capsys.readouterr().err
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"implicit-verify bounds: error: {name}=")


def test_nan_data_file_exits_2(main, capsys, tmp_path):
    p = tmp_path / "bad.npy"
    np.save(p, np.array([[1.0, np.nan], [0.0, 1.0]]))
    assert main(["bounds", "--data", str(p)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "X=" in err and "NaN" in err


def test_bounds_package_does_not_import_torch():
    code = "import sys, bounds, bounds._cli; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_report_has_infinite_width_kernels_derived() -> None:
    """λ_min(H∞) (digest C, derived) next to λ0, with the toolkit's rate; ≥ λ0 since H∞ ⪰ G∞."""
    from bounds import bounds_report, deq_kernels
    from bounds._report import format_latex, format_table

    X = np.random.default_rng(4).standard_normal((12, 5))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    r = bounds_report(X, gamma=0.3, alpha=0.01)
    k = r["kernels"]
    assert k["provenance"] == "derived" and "digest C" in k["source"]
    assert k["status"] == "CONVERGED" and k["gamma"] == 0.3
    ref = deq_kernels(X, 0.3)
    assert k["lambda_min_Hinf"] == pytest.approx(ref.lambda_min_H, rel=1e-12)
    assert k["lambda_min_Hinf"] >= r["lambda0"]
    assert k["rate"]["toolkit"] == pytest.approx(1 - 0.01 * ref.lambda_min_H / 2, rel=1e-15)
    assert k["rate"]["paper"] == pytest.approx(1 - 0.01 * r["lambda0"] / 2, rel=1e-15)
    text = format_table(r)
    assert "λ_min(H∞) =" in text and "not the paper's" in text
    assert r"\lambda_{\min}(H^\infty)" in format_latex(r)


def test_report_kernels_not_computed_for_parallel_rows() -> None:
    from bounds import bounds_report

    X = np.random.default_rng(4).standard_normal((5, 3))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    r = bounds_report(np.vstack([X, X[:1]]), gamma=0.3)
    assert r["kernels"]["status"] == "not computed" and "parallel" in r["kernels"]["reason"]
