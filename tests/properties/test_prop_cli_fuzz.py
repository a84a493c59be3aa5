"""Fuzz of the command-line options (issue 12): whatever the options, the dispatcher exits 0 or 2
and never prints a traceback; an error is exactly one line.

The computations behind the validation (``run_gd``, the report, the benchmarks, the bounds
report) are replaced by a stub that records that they were reached: the fuzz exercises every
check *before* the work, in seconds (``sweep``: :func:`verify.sweep.engine.run_sweep`, so no
data are loaded; ``sweep --from`` reads the given directory for real). The default run is small
(``max_examples`` below); the ``slow`` run tries many more.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bounds._cli
import verify.bench.step
import verify.cli.bench
import verify.cli.report
import verify.experiment.gd
import verify.sweep.bench
import verify.sweep.engine
from verify.cli import main


class _Reached(BaseException):
    """The options passed every check and the computation would start now (a BaseException:
    the CLI turns every Exception that escapes a command into one 'internal error' line)."""


def _stub(*args, **kwargs):
    raise _Reached


_DIR = Path(tempfile.mkdtemp(prefix="iv-fuzz-"))
(_DIR / "empty.npz").write_bytes(b"")
(_DIR / "garbled.npy").write_bytes(b"\x93NUMPY garbage")
np.savez(_DIR / "ok.npz", X=np.eye(4, 3) + 0.1, y=np.ones(4))
np.savez(_DIR / "complex.npz", X=np.ones((4, 3)) + 1j, y=np.ones(4))
(_DIR / "a_file").write_text("x")

VALUES = st.sampled_from([
    "", "-1", "0", "1", "2", "7", "0.5", "1e-3", "abc", "nan", "inf", "-inf", "1e400", "10**30",
    "4e20", "1" + "0" * 30, "123456789012345678901234567890123456789", "1,2", "0.1,abc", "8x",
    "4x8", "8x1000000000", "x", "auto", "cpu", "cuda", "cuda:7", "tpu", "float16", "md,pdf",
    "C_width=2", "C-width=3", "C_width=-1", "λ", "synthetic", "digits",
    "8:2:x2", "8:64:x1", "8:64:x2", "1:100000000000:+1", "5,1", "0.5,2", "1e-3,1e3", "explicit",
    "paper", "init", "gd", "json", "table", "xml", "all", str(_DIR),
    str(_DIR / "empty.npz"), str(_DIR / "garbled.npy"), str(_DIR / "ok.npz"),
    str(_DIR / "complex.npz"), str(_DIR / "missing.csv"), str(_DIR / "a_file" / "x"),
])
OPTIONS = {
    "run": ["--data", "--n", "--d", "--data-seed", "--labels", "--n-test", "--test-fraction", "--m",
            "--gamma", "--step", "--steps", "--seed", "--mode", "--target-loss", "--device", "--dtype",
            "--solver", "--tol", "--max-iter", "--delta", "--c-source", "--hidden", "--record-every",
            "--expensive-every", "--checkpoint-every", "--checkpoint-seconds", "--out",
            "--resume", "--force", "--allow-large", "--normalise"],
    "bounds": ["--data", "--synthetic", "--delta", "--format", "--mode", "--m", "--gamma", "--step",
               "--c", "--e0-norm", "--hidden", "--seed", "--allow-large"],
    "bench": ["--device", "--dtype", "--sizes", "--repeat", "--reference-repeat", "--gamma", "--gammas",
              "--tol", "--d", "--seed", "--threads", "--allow-large", "--batch-sizes", "--seeds", "--steps",
              "--warmup", "--alpha", "--workers"],
    "report": ["--from", "--theorem", "--data", "--n", "--widths", "--gamma", "--step", "--steps",
               "--seed", "--device", "--dtype", "--threads", "--out", "--force", "--format", "--dpi",
               "--allow-large", "--no-findings", "--hidden-range", "--hypotheses", "--gf-threshold"],
    "sweep": ["--kind", "--data", "--n", "--m", "--seeds", "--gamma", "--step", "--target", "--steps",
              "--expensive-every", "--hk-max-m", "--data-seed", "--d", "--device", "--batched-seeds",
              "--out", "--resume", "--workers", "--serial", "--retries", "--quiet", "--allow-large",
              "--from", "--format", "--n-boot", "--boot-seed"],
}
FLAGS = {"--resume", "--force", "--allow-large", "--normalise", "--no-findings", "--batched-seeds",
         "--serial", "--quiet"}


@st.composite
def argv(draw):
    cmd = draw(st.sampled_from(sorted(OPTIONS)))
    out = [cmd]
    if cmd == "bench":
        out.append(draw(st.sampled_from(["gram", "solver", "step", "sweep", "nope"])))
    if cmd == "bounds" and draw(st.booleans()):
        out += ["--synthetic", draw(VALUES)]
    for opt in draw(st.lists(st.sampled_from(OPTIONS[cmd]), max_size=5)):
        out.append(opt)
        if opt not in FLAGS:
            out.append(draw(VALUES))
    return out


def _check(args, monkeypatch, capsys):
    monkeypatch.setattr(verify.experiment.gd, "run_gd", _stub)
    monkeypatch.setattr(verify.cli.report, "_main", _stub)
    monkeypatch.setattr(verify.cli.bench, "_measure", _stub)
    monkeypatch.setattr(verify.bench.step, "run", _stub)
    monkeypatch.setattr(verify.sweep.bench, "run_bench", _stub)
    monkeypatch.setattr(bounds._cli, "bounds_report", _stub)
    monkeypatch.setattr(verify.sweep.engine, "run_sweep", _stub)
    cwd = os.getcwd()
    os.chdir(_DIR)  # default output directories land here
    try:
        rc = main(args)
    except _Reached:
        rc = 0
    finally:
        os.chdir(cwd)
    err = capsys.readouterr().err
    assert rc in (0, 2), (args, rc, err)
    assert "Traceback" not in err, (args, err)
    if rc == 2:
        errors = [line for line in err.splitlines() if "error:" in line]
        assert len(errors) == 1, (args, err)


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(args=argv())
def test_fuzzed_options_exit_0_or_2_without_traceback(args, monkeypatch, capsys):
    _check(args, monkeypatch, capsys)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(args=argv())
def test_fuzzed_options_many(args, monkeypatch, capsys):
    _check(args, monkeypatch, capsys)
