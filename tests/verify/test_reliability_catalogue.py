"""Catalogue of bad inputs (issue 12, "Seen"): every one ends in a clean error, never a traceback.

CLI cases go through the real dispatcher :func:`verify.cli.main`: exit status 2 and exactly one
line on stderr that names the *CLI option* (not the library argument), shows the value and
gives a fix. Library cases raise :class:`~bounds.InvalidArgument` naming the argument. Nothing
here allocates a large array: the memory estimate refuses first.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import bounds
from bounds._errors import InvalidArgument
from verify.cli import main

BIG = "1" + "0" * 30                                   # 10**30
DIGITS39 = "123456789012345678901234567890123456789"  # a 39-digit width


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("catalogue")
    (d / "empty.npz").write_bytes(b"")
    (d / "empty.npy").write_bytes(b"")
    (d / "garbled.npz").write_bytes(b"PK\x03\x04 not a zip at all")
    rng = np.random.default_rng(0)
    np.savez(d / "complex.npz", X=rng.standard_normal((6, 3)) + 1j, y=np.ones(6))
    np.save(d / "complex.npy", rng.standard_normal((6, 3)) + 1j)
    (d / "a_file").write_text("x")
    return d


# (id, argv with {d} for the files directory, option that must be named, value shown)
CLI_CASES = [
    ("bounds-empty-npz", ["bounds", "--data", "{d}/empty.npz"], "--data", "empty.npz"),
    ("bounds-empty-npy", ["bounds", "--data", "{d}/empty.npy"], "--data", "empty.npy"),
    ("bounds-garbled-npz", ["bounds", "--data", "{d}/garbled.npz"], "--data", "garbled.npz"),
    ("run-empty-npz", ["run", "--data", "{d}/empty.npz", "--out", "{d}/o1"], "--data", "empty.npz"),
    ("run-empty-npy", ["run", "--data", "{d}/empty.npy", "--out", "{d}/o1"], "--data", "empty.npy"),
    ("bounds-seed-negative", ["bounds", "--synthetic", "10,3", "--seed", "-1"], "--seed", "-1"),
    ("run-m-too-large-to-allocate", ["run", "--m", "1000000000", "--out", "{d}/o2"], "--m", "1000000000"),
    ("report-widths-too-large", ["report", "--widths", "64,1000000000", "--out", "{d}/o3"], "--widths",
     "1000000000"),
    ("bench-sizes-too-large", ["bench", "step", "--sizes", "8x1000000000"], "--sizes", "8x1000000000"),
    ("run-m-1e30", ["run", "--m", BIG, "--out", "{d}/o4"], "--m", BIG),
    ("run-m-10**30-text", ["run", "--m", "10**30", "--out", "{d}/o4"], "--m", "10**30"),
    ("run-n-4e20", ["run", "--n", "4e20", "--out", "{d}/o5"], "--n", "4e20"),
    ("run-n-huge-int", ["run", "--n", "400000000000000000000", "--out", "{d}/o5"], "--n",
     "400000000000000000000"),
    ("run-m-39-digits", ["run", "--m", DIGITS39, "--out", "{d}/o6"], "--m", DIGITS39),
    ("report-widths-39-digits", ["report", "--widths", f"64,{DIGITS39}", "--out", "{d}/o7"], "--widths",
     DIGITS39),
    ("bench-sizes-39-digits", ["bench", "gram", "--sizes", f"8x{DIGITS39}"], "--sizes", DIGITS39),
    ("bounds-synthetic-huge", ["bounds", "--synthetic", "1000000,3"], "--synthetic", "1000000,3"),
    ("report-out-unwritable", ["report", "--out", "{d}/a_file/report"], "--out", "a_file"),
    ("run-out-unwritable", ["run", "--m", "4", "--out", "{d}/a_file/run"], "--out", "a_file"),
    ("bench-gammas-abc", ["bench", "solver", "--gammas", "0.1,abc"], "--gammas", "abc"),
    ("bench-gammas-out-of-range", ["bench", "solver", "--gammas", "0.1,1.5"], "--gammas", "1.5"),
    ("bench-threads-absurd", ["bench", "step", "--threads", "475005"], "--threads", "475005"),
    ("report-threads-absurd", ["report", "--threads", "475005", "--out", "{d}/o8"], "--threads", "475005"),
    ("bench-repeat-not-int", ["bench", "gram", "--repeat", "x"], "--repeat", "x"),
    ("bench-step-batch-sizes-too-large", ["bench", "step", "--batch-sizes", "8x100000000", "--seeds", "8"],
     "--batch-sizes", "8x100000000"),
    ("bench-sweep-workers-absurd", ["bench", "sweep", "--workers", "475005"], "--workers", "475005"),
    ("run-complex-X", ["run", "--data", "{d}/complex.npz", "--out", "{d}/o9"], "--data", "complex"),
    ("bounds-complex-X", ["bounds", "--data", "{d}/complex.npy"], "--data", "complex"),
    ("run-hidden-name", ["run", "--hidden", "C-width=3", "--out", "{d}/o10"], "--hidden", "C-width"),
    ("run-hidden-value", ["run", "--hidden", "C_width=-3", "--out", "{d}/o10"], "--hidden", "-3"),
    ("run-force-and-resume", ["run", "--force", "--resume", "--out", "{d}/o11"], "--force", "True"),
    ("run-gamma-text", ["run", "--gamma", "abc", "--out", "{d}/o12"], "--gamma", "abc"),
    ("run-seed-too-large", ["run", "--seed", str(2**64), "--out", "{d}/o13"], "--seed", str(2**64)),
    ("run-checkpoint-seconds-0", ["run", "--checkpoint-seconds", "0", "--out", "{d}/o14"],
     "--checkpoint-seconds", "0"),
    ("report-from-not-a-run", ["report", "--from", "{d}", "--out", "{d}/o15"], "--from", "catalogue"),
    ("report-steps-0", ["report", "--steps", "0", "--out", "{d}/o16"], "--steps", "0"),
    ("bounds-delta-text", ["bounds", "--synthetic", "10,3", "--delta", "x"], "--delta", "x"),
    ("bench-seed-negative", ["bench", "step", "--seed", "-1"], "--seed", "-1"),
    ("bench-gram-seed-negative", ["bench", "gram", "--seed", "-1"], "--seed", "-1"),
]


@pytest.mark.parametrize(("argv", "option", "value"), [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES])
def test_cli_bad_input_is_one_clean_line(files, capsys, argv, option, value):
    threads = torch.get_num_threads()
    rc = main([a.format(d=files) for a in argv])
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert rc == 2, captured.err
    assert len(lines) == 1, captured.err
    line = lines[0]
    assert line.startswith("implicit-verify") and ": error: " in line
    assert "Traceback" not in captured.err
    assert option in line and value in line, line
    assert "; " in line  # the fix follows the problem
    assert torch.get_num_threads() == threads  # a refused bench never leaves torch changed
    # a refused command writes nothing
    assert not any(p.name.startswith("o") for p in files.iterdir())


LIB_CASES = [
    ("gram_infinity_mc-seed-negative", lambda: bounds.gram_infinity_mc(np.eye(3), 10, seed=-1), "seed"),
    ("gram_infinity_mc-seed-huge", lambda: bounds.gram_infinity_mc(np.eye(3), 10, seed=2**70), "seed"),
    ("network-init-m-1e9", lambda: _net(10**9), "m"),
    ("network-init-m-1e30", lambda: _net(10**30), "m"),
    ("network-init-seed-huge", lambda: _net(4, seed=2**64), "seed"),
    ("validate-X-complex", lambda: bounds.validate_X(np.ones((3, 2)) + 1j), "X"),
    ("network-state-complex-X", lambda: _net(4).state(np.ones((2, 3)) + 1j, np.ones(2)), "X"),
    ("validate-y-complex", lambda: bounds.validate_y(np.ones(3) + 1j, 3), "y"),
    ("load-data-empty", lambda: bounds.load_data(_empty("x.npz")), "path"),
    ("synthetic-n-huge", lambda: _synthetic(10**13), "n"),
    ("run_gd-m-huge", lambda: _run_gd(m=10**7), "m"),
    ("run_gd-force-and-resume", lambda: _run_gd(force=True, resume=True, out_dir="x"), "force"),
    ("run_gd-checkpoint-seconds", lambda: _run_gd(checkpoint_seconds=-1.0), "checkpoint_seconds"),
]


def _net(m, seed=0):
    from verify.model.network import ImplicitNetwork

    return ImplicitNetwork.init(m, 3, 0.1, seed)


_TMP: list = []


def _empty(name):
    import tempfile
    from pathlib import Path

    d = Path(tempfile.mkdtemp())
    _TMP.append(d)
    (d / name).write_bytes(b"")
    return d / name


def _synthetic(n):
    from verify.experiment.data import synthetic_dataset

    return synthetic_dataset(n, 1000)


def _run_gd(force=False, resume=False, out_dir=None, m=4, **cfg):
    from verify import RunConfig, run_gd
    from verify.experiment.data import synthetic_dataset

    return run_gd(synthetic_dataset(4, 3), config=RunConfig(m=m, gamma=0.1, step=0.1, steps=1, **cfg),
                  out_dir=out_dir, force=force, resume=resume, progress=False)


@pytest.mark.parametrize(("call", "name"), [c[1:] for c in LIB_CASES], ids=[c[0] for c in LIB_CASES])
def test_library_bad_input_raises_invalid_argument(call, name):
    with pytest.raises(InvalidArgument) as info:
        call()
    assert str(info.value).startswith(f"{name}="), str(info.value)
    assert "; " in str(info.value)


def test_network_memory_override_is_honoured():
    """``allow_large=True`` skips the estimate (a small width: nothing large is allocated)."""
    from verify.model.network import ImplicitNetwork

    assert ImplicitNetwork.init(4, 3, 0.1, 0, allow_large=True).m == 4


def test_memory_estimate_counts_the_run_arrays():
    from verify.model.validate import network_bytes, run_bytes

    # A (m²), W (md), u, v in the dtype plus the float64 draws
    assert network_bytes(10, 3, 8) == 16 * (100 + 30 + 20)
    assert run_bytes(5, 10, 3) == 8 * (8 * 100 + 4 * 30 + 10 * 5 * 10 + 8 * 25 + 40)


def test_bounds_warns_with_an_estimate_before_long_work(capsys):
    """n = 20000 needs O(n²) memory and O(n³) time: a warning with both before any work."""
    from bounds._cli import check_size, estimate

    nbytes, secs = estimate(20000, 3)
    assert nbytes >= 5 * 8 * 20000**2 and secs > 60
    check_size(20000, 3, True, "--synthetic", "20000,3")
    err = capsys.readouterr().err
    assert "n = 20000" in err and "GB" in err and ("min" in err or " h" in err)


def test_long_run_announces_itself_within_seconds(tmp_path, capsys, monkeypatch):
    """``run --n 9599 --m 4 --steps 1`` used to print nothing for minutes: now a warning with
    the time and memory estimate comes before any computation (the run itself is stubbed)."""
    import verify.experiment.gd as gd

    def stop(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(gd, "run_gd", stop)
    rc = main(["run", "--data", "synthetic", "--n", "9599", "--m", "4", "--steps", "1", "--step", "0.01",
               "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert rc == 130
    assert "warning: long run" in err and "n=9599" in err and "estimated" in err


def test_bench_as_library_restores_threads(capsys):
    threads = torch.get_num_threads()
    other = 1 if threads != 1 else 2
    assert main(["bench", "solver", "--sizes", "4x8", "--gammas", "0.5", "--threads", str(other), "--d", "3",
                 "--device", "cpu"]) == 0
    assert torch.get_num_threads() == threads


def test_report_stops_when_a_run_is_interrupted(tmp_path, capsys, monkeypatch):
    """SIGTERM during a report's run: the report stops with 143, nothing replaced at --out."""
    import types

    import verify.cli.report as rep

    def interrupted(*a, **k):
        return types.SimpleNamespace(status="interrupted", signum=15, trace={}, record={})

    monkeypatch.setattr(rep, "_run_one", interrupted)
    out = tmp_path / "rep"
    rc = main(["report", "--data", "synthetic", "--n", "4", "--widths", "4", "--steps", "1", "--out", str(out),
               "--quiet"])
    err = capsys.readouterr().err
    assert rc == 143 and "SIGTERM" in err and "Traceback" not in err
    assert not out.exists()


# ---------------------------------------------------------------- sweep (issue 12 for ``sweep``)
SWEEP_BASE = ["--n", "8", "--m", "8", "--seeds", "2", "--serial", "--quiet"]


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory):
    """A finished tiny sweep, and copies with a truncated results.parquet / garbled sweep.json."""
    import shutil

    d = tmp_path_factory.mktemp("sweep-catalogue")
    (d / "a_file").write_text("x")
    assert main(["sweep", *SWEEP_BASE, "--out", str(d / "sweep")]) == 0
    shutil.copytree(d / "sweep", d / "trunc")
    res = d / "trunc" / "results.parquet"
    res.write_bytes(res.read_bytes()[: res.stat().st_size // 2])
    shutil.copytree(d / "sweep", d / "garbled")
    (d / "garbled" / "sweep.json").write_text('{"spec": [1,')
    shutil.copytree(d / "sweep", d / "edited")
    (d / "edited" / "sweep.json").write_text('{"spec": {"kind": "init"}}')
    return d


def _tree(d):
    """Every file under ``d`` with its bytes' hash (to show that a refused command lost nothing)."""
    import hashlib

    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(d.rglob("*")) if p.is_file()}


G = ["--n", "8", "--seeds", "1", "--serial"]
# (id, argv with {d} for the sweeps directory, option that must be named, value shown)
SWEEP_CASES = [
    ("empty-grid", ["--m", "", *G, "--out", "{d}/o"], "--m", "''"),
    ("m-0", ["--m", "0", *G, "--out", "{d}/o"], "--m", "0"),
    ("m-stop-below-start", ["--m", "8:2:x2", *G, "--out", "{d}/o"], "--m", "8:2:x2"),
    ("m-factor-1", ["--m", "8:64:x1", *G, "--out", "{d}/o"], "--m", "8:64:x1"),
    ("m-10**30-text", ["--m", "10**30", *G, "--out", "{d}/o"], "--m", "10**30"),
    ("m-1e30", ["--m", BIG, *G, "--out", "{d}/o"], "--m", BIG),
    ("m-39-digits", ["--m", DIGITS39, *G, "--out", "{d}/o"], "--m", DIGITS39),
    ("m-range-to-1e30", ["--m", f"8:{BIG}:x2", *G, "--out", "{d}/o"], "--m", BIG),
    ("m-arith-range-to-1e30", ["--m", f"8:{BIG}:+1", *G, "--out", "{d}/o"], "--m", BIG),
    ("m-arith-range-too-many", ["--m", "1:100000000000:+1", *G, "--out", "{d}/o"], "--m", "+1"),
    ("m-too-large-to-allocate", ["--m", "1000000000", *G, "--out", "{d}/o"], "--m", "1000000000"),
    ("n-larger-than-data", ["--n", "5000", "--m", "8", "--seeds", "1", "--serial", "--out", "{d}/o"],
     "--n", "5000"),
    ("n-too-large-to-allocate", ["--n", "10000000", "--m", "8", "--seeds", "1", "--serial", "--out",
                                 "{d}/o"], "--n", "10000000"),
    ("seeds-0", ["--m", "8", "--n", "8", "--seeds", "0", "--out", "{d}/o"], "--seeds", "0"),
    ("seeds-1e30", ["--m", "8", "--n", "8", "--seeds", BIG, "--out", "{d}/o"], "--seeds", BIG),
    ("seeds-negative", ["--m", "8", "--n", "8", "--seeds=-1,2", "--out", "{d}/o"], "--seeds", "-1,2"),
    ("gamma-1.5", ["--m", "8", *G, "--gamma", "1.5", "--out", "{d}/o"], "--gamma", "1.5"),
    ("gamma-text", ["--m", "8", *G, "--gamma", "abc", "--out", "{d}/o"], "--gamma", "abc"),
    ("step-negative", ["--m", "8", *G, "--kind", "gd", "--step", "-1", "--out", "{d}/o"], "--step", "-1"),
    ("target-2", ["--m", "8", *G, "--kind", "gd", "--target", "2", "--out", "{d}/o"], "--target", "2"),
    ("steps-1e30", ["--m", "8", *G, "--kind", "gd", "--steps", BIG, "--out", "{d}/o"], "--steps", BIG),
    ("workers-0", ["--m", "8", "--n", "8", "--seeds", "1", "--workers", "0", "--out", "{d}/o"],
     "--workers", "0"),
    ("workers-100000", ["--m", "8", "--n", "8", "--seeds", "1", "--workers", "100000", "--out",
                        "{d}/o"], "--workers", "100000"),
    ("retries-negative", ["--m", "8", *G, "--retries", "-1", "--out", "{d}/o"], "--retries", "-1"),
    ("data-seed-negative", ["--m", "8", *G, "--data-seed", "-1", "--out", "{d}/o"], "--data-seed", "-1"),
    ("d-1e30", ["--m", "8", *G, "--data", "synthetic", "--d", BIG, "--out", "{d}/o"], "--d", BIG),
    ("hk-max-m-text", ["--m", "8", *G, "--hk-max-m", "abc", "--out", "{d}/o"], "--hk-max-m", "abc"),
    ("device-tpu", ["--m", "8", *G, "--device", "tpu", "--out", "{d}/o"], "--device", "tpu"),
    ("data-missing-file", ["--m", "8", *G, "--data", "{d}/missing.npz", "--out", "{d}/o"], "--data",
     "missing.npz"),
    ("batched-seeds-with-init", ["--m", "8", *G, "--batched-seeds", "--kind", "init", "--out", "{d}/o"],
     "--batched-seeds", "True"),
    ("out-unwritable", ["--m", "8", *G, "--out", "{d}/a_file/x"], "--out", "a_file"),
    ("out-missing", ["--m", "8", *G], "--out", "None"),
    ("serial-and-workers", ["--m", "8", *G, "--workers", "2", "--out", "{d}/o"], "--serial", "True"),
    ("out-existing-sweep-no-resume", [*SWEEP_BASE, "--out", "{d}/sweep"], "--out", "sweep"),
    ("resume-changed-grid", ["--n", "8", "--m", "16", "--seeds", "2", "--serial", "--quiet", "--out",
                             "{d}/sweep", "--resume"], "--resume", "m=[8]"),
    ("resume-truncated-results", [*SWEEP_BASE, "--out", "{d}/trunc", "--resume"], "--out",
     "results.parquet"),
    ("resume-garbled-sweep-json", [*SWEEP_BASE, "--out", "{d}/garbled", "--resume"], "--out", "sweep.json"),
    ("resume-edited-sweep-json", ["--out", "{d}/edited", "--resume"], "--out", "sweep.json"),
    ("from-missing-dir", ["--from", "{d}/missing"], "--from", "missing"),
    ("from-not-a-sweep", ["--from", "{d}"], "--from", "sweep-catalogue"),
    ("from-a-file", ["--from", "{d}/a_file"], "--from", "a_file"),
    ("from-truncated-results", ["--from", "{d}/trunc", "--format", "json"], "--from", "trunc"),
    ("from-garbled-sweep-json", ["--from", "{d}/garbled", "--format", "table"], "--from", "garbled"),
    ("from-edited-sweep-json", ["--from", "{d}/edited"], "--from", "edited"),
    ("from-format-xml", ["--from", "{d}/sweep", "--format", "xml"], "--format", "xml"),
    ("from-n-boot-negative", ["--from", "{d}/sweep", "--n-boot", "-1"], "--n-boot", "-1"),
    ("from-boot-seed-huge", ["--from", "{d}/sweep", "--boot-seed", BIG], "--boot-seed", BIG),
]


@pytest.mark.parametrize(("argv", "option", "value"), [c[1:] for c in SWEEP_CASES],
                         ids=[c[0] for c in SWEEP_CASES])
def test_sweep_bad_input_is_one_clean_line(sweeps, capsys, argv, option, value):
    before = _tree(sweeps)
    rc = main(["sweep", *[a.format(d=sweeps) for a in argv]])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert rc == 2, err
    assert "Traceback" not in err
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("implicit-verify") and ": error: " in line
    assert option in line and value in line, line
    assert "; " in line
    assert _tree(sweeps) == before  # nothing lost, changed or written
