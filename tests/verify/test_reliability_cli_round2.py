"""Issue 21 item 5: no traceback, ever, from the CLI.

Grids with non-ASCII digits, non-UTF-8 CSV files, entries near the float64 limits, extreme γ,
d = 1 data, an ASCII-only output encoding and OS errors (a name too long, a full disk, a lock
path that is a directory, a closed pipe) either work or give one line on stderr that names the
option and its value (exit status 2). A run that fails after training keeps what it computed:
its record says ``failed``, and ``--resume`` answers with one line too.

In-process cases go through :func:`verify.cli.main`; the output-encoding and broken-pipe cases
need a real process (they are about the interpreter's streams).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from verify.cli import main

RUN = ["--m", "8", "--steps", "2", "--quiet"]
SWEEP = ["--n", "8", "--seeds", "1", "--serial", "--quiet"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return make_files(tmp_path_factory.mktemp("cli2"))


def make_files(d: Path) -> Path:
    """The inputs of the catalogue, written into ``d``."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, 4))
    y = rng.standard_normal(8)
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    body = "".join(",".join(f"{v:.6f}" for v in row) + f",{t:.6f}\n" for row, t in zip(unit, y, strict=True))
    (d / "latin1.csv").write_bytes("x1,x2,x3,café,y\n".encode("latin-1") + body.encode())
    (d / "utf16.csv").write_bytes(("x1,x2,x3,x4,y\n" + body).encode("utf-16"))
    (d / "bom.csv").write_bytes(("x1,x2,x3,x4,y\n" + body).encode("utf-8-sig"))
    (d / "nul.csv").write_bytes(b"1,2,3\n4,\x005,6\n")
    (d / "garbage.csv").write_bytes(bytes(rng.integers(128, 256, 200, dtype=np.uint8)))
    np.savez(d / "unit.npz", X=unit, y=y)
    np.savez(d / "big.npz", X=unit * 1e200, y=y)
    np.savez(d / "tiny.npz", X=unit * 1e-310, y=y)
    np.savez(d / "mixed.npz", X=np.vstack([unit[:4], unit[4:] * 1e200]), y=y)
    np.savez(d / "d1.npz", X=np.abs(X[:, :1]) + 0.1, y=y)
    (d / "a_file").write_text("x")
    (d / "sub.npz").mkdir()
    return d


def _one_line(capsys, rc, option, value):
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert rc == 2, captured.err
    assert "Traceback" not in captured.err
    assert len(lines) == 1, captured.err
    line = lines[0]
    assert line.startswith("implicit-verify") and ": error: " in line, line
    assert option in line and value in line, line
    assert "; " in line, line
    return line


LONG = "x" * 300
# (id, argv with {d} for the files directory, option that must be named, value shown)
REFUSED = [
    # grids: digits outside ASCII and doubled signs (int() refused them with a traceback)
    ("sweep-m-superscript-2", ["sweep", "--m", "²", *SWEEP, "--out", "{d}/o"], "--m", "²"),
    ("sweep-m-double-minus", ["sweep", "--m=--8", *SWEEP, "--out", "{d}/o"], "--m", "--8"),
    ("sweep-m-arabic-indic-3", ["sweep", "--m", "٣", *SWEEP, "--out", "{d}/o"], "--m", "٣"),
    ("sweep-m-fullwidth-8", ["sweep", "--m", "８", *SWEEP, "--out", "{d}/o"], "--m", "８"),
    ("sweep-m-range-superscript", ["sweep", "--m", "8:²:x2", *SWEEP, "--out", "{d}/o"], "--m", "8:²:x2"),
    ("sweep-m-range-double-minus", ["sweep", "--m=--8:16:x2", *SWEEP, "--out", "{d}/o"], "--m", "--8"),
    ("sweep-m-negative", ["sweep", "--m=-8", *SWEEP, "--out", "{d}/o"], "--m", "-8"),
    ("sweep-m-float", ["sweep", "--m", "8.5", *SWEEP, "--out", "{d}/o"], "--m", "8.5"),
    ("sweep-m-hex", ["sweep", "--m", "0x10", *SWEEP, "--out", "{d}/o"], "--m", "0x10"),
    ("sweep-m-blank-item", ["sweep", "--m", "8, ,16", *SWEEP, "--out", "{d}/o"], "--m", "8, ,16"),
    ("sweep-n-superscript-2", ["sweep", "--m", "8", "--n", "²", "--seeds", "1", "--serial", "--out", "{d}/o"],
     "--n", "²"),
    ("sweep-seeds-superscript-2", ["sweep", "--m", "8", "--n", "8", "--seeds", "²", "--serial", "--out",
                                   "{d}/o"], "--seeds", "²"),
    ("sweep-seeds-double-minus", ["sweep", "--m", "8", "--n", "8", "--seeds=--1", "--serial", "--out", "{d}/o"],
     "--seeds", "--1"),
    ("run-m-superscript-2", ["run", "--m", "²", "--out", "{d}/o"], "--m", "²"),
    ("run-steps-superscript", ["run", "--steps", "²", "--out", "{d}/o"], "--steps", "²"),
    ("bench-sizes-superscript", ["bench", "gram", "--sizes", "8x²"], "--sizes", "²"),
    # encodings
    ("run-latin1-csv", ["run", "--data", "{d}/latin1.csv", *RUN, "--out", "{d}/o"], "--data", "latin1.csv"),
    ("sweep-latin1-csv", ["sweep", "--data", "{d}/latin1.csv", "--m", "8", *SWEEP, "--out", "{d}/o"], "--data",
     "latin1.csv"),
    ("bounds-latin1-csv", ["bounds", "--data", "{d}/latin1.csv"], "--data", "latin1.csv"),
    ("report-latin1-csv", ["report", "--data", "{d}/latin1.csv", "--widths", "8", "--steps", "1", "--quiet",
                           "--out", "{d}/o"], "--data", "latin1.csv"),
    ("bounds-utf16-csv", ["bounds", "--data", "{d}/utf16.csv"], "--data", "utf16.csv"),
    ("bounds-nul-csv", ["bounds", "--data", "{d}/nul.csv"], "--data", "nul.csv"),
    ("bounds-garbage-csv", ["bounds", "--data", "{d}/garbage.csv"], "--data", "garbage.csv"),
    ("run-garbage-csv", ["run", "--data", "{d}/garbage.csv", *RUN, "--out", "{d}/o"], "--data", "garbage.csv"),
    # entries near the float64 limits: the squared norms over/underflow
    ("bounds-entries-1e200", ["bounds", "--data", "{d}/big.npz"], "--data", "big.npz"),
    ("bounds-entries-1e-310", ["bounds", "--data", "{d}/tiny.npz"], "--data", "tiny.npz"),
    ("bounds-some-rows-1e200", ["bounds", "--data", "{d}/mixed.npz"], "--data", "mixed.npz"),
    ("run-entries-1e200", ["run", "--data", "{d}/big.npz", *RUN, "--out", "{d}/o"], "--data", "big.npz"),
    ("run-entries-1e-310", ["run", "--data", "{d}/tiny.npz", *RUN, "--out", "{d}/o"], "--data", "tiny.npz"),
    ("sweep-entries-1e200", ["sweep", "--data", "{d}/big.npz", "--m", "8", *SWEEP, "--out", "{d}/o"], "--data",
     "big.npz"),
    ("sweep-entries-1e-310", ["sweep", "--data", "{d}/tiny.npz", "--m", "8", *SWEEP, "--out", "{d}/o"],
     "--data", "tiny.npz"),
    ("sweep-d1-file", ["sweep", "--data", "{d}/d1.npz", "--m", "8", *SWEEP, "--out", "{d}/o"], "--data",
     "d1.npz"),
    # extreme γ
    ("bounds-gamma-inf", ["bounds", "--synthetic", "10,3", "--gamma", "inf"], "--gamma", "inf"),
    ("bounds-gamma-nan", ["bounds", "--synthetic", "10,3", "--gamma", "nan"], "--gamma", "nan"),
    ("sweep-gamma-1e-320", ["sweep", "--m", "8", *SWEEP, "--gamma", "1e-320", "--out", "{d}/o"], "--gamma",
     "1e-320"),
    ("sweep-gamma-1e-300", ["sweep", "--m", "8", *SWEEP, "--gamma", "1e-300", "--out", "{d}/o"], "--gamma",
     "1e-300"),
    ("sweep-gamma-5e-324", ["sweep", "--m", "8", *SWEEP, "--gamma", "5e-324", "--out", "{d}/o"], "--gamma",
     "5e-324"),
    ("run-gamma-1", ["run", "--gamma", "1", *RUN, "--out", "{d}/o"], "--gamma", "1"),
    ("run-gamma-1e400", ["run", "--gamma", "1e400", *RUN, "--out", "{d}/o"], "--gamma", "1e400"),
    # internal names instead of options
    ("run-hidden-C_width-0", ["run", "--hidden", "C_width=0", *RUN, "--out", "{d}/o"], "--hidden", "C_width"),
    ("run-hidden-C_width-nan", ["run", "--hidden", "C_width=nan", *RUN, "--out", "{d}/o"], "--hidden",
     "C_width"),
    ("bounds-hidden-C_width-0", ["bounds", "--synthetic", "10,3", "--hidden", "C_width=0"], "--hidden",
     "C_width"),
    # OS errors name the option whose path failed
    ("run-out-name-too-long", ["run", *RUN, "--out", "{d}/" + LONG], "--out", LONG[:40]),
    ("sweep-out-name-too-long", ["sweep", "--m", "8", *SWEEP, "--out", "{d}/" + LONG], "--out", LONG[:40]),
    ("report-out-name-too-long", ["report", "--widths", "8", "--steps", "1", "--quiet", "--out", "{d}/" + LONG],
     "--out", LONG[:40]),
    ("run-data-name-too-long", ["run", "--data", "{d}/" + LONG + ".npz", *RUN, "--out", "{d}/o"], "--data",
     LONG[:40]),
    ("bounds-data-name-too-long", ["bounds", "--data", "{d}/" + LONG + ".npz"], "--data", LONG[:40]),
    ("run-data-a-directory", ["run", "--data", "{d}/sub.npz", *RUN, "--out", "{d}/o"], "--data", "sub.npz"),
    ("figure1-out-name-too-long", ["figure1", "--n", "4", "--n-test", "4", "--widths", "8", "--epochs", "1",
                                   "--quiet", "--out", "{d}/" + LONG], "--out", LONG[:40]),
    ("figure1-widths-superscript", ["figure1", "--widths", "8,²", "--out", "{d}/o"], "--widths", "²"),
    ("report-widths-superscript", ["report", "--widths", "8,²", "--out", "{d}/o"], "--widths", "²"),
    ("report-hidden-C_width-0", ["report", "--hidden", "C_width=0", "--widths", "8", "--out", "{d}/o"],
     "--hidden", "C_width"),
    ("bench-seeds-superscript", ["bench", "step", "--seeds", "²"], "--seeds", "²"),
    ("bounds-synthetic-superscript", ["bounds", "--synthetic", "8,²"], "--synthetic", "²"),
    ("sweep-from-name-too-long", ["sweep", "--from", "{d}/" + LONG], "--from", LONG[:40]),
    ("report-from-name-too-long", ["report", "--from", "{d}/" + LONG, "--out", "{d}/o"], "--from", LONG[:40]),
]


@pytest.mark.parametrize(("argv", "option", "value"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_refused_with_one_line_naming_the_option(files, capsys, argv, option, value):
    rc = main([a.format(d=files) for a in argv])
    line = _one_line(capsys, rc, option, value)
    assert "ContractionTracker" not in line and "<array shape" not in line
    assert not (files / "o").exists()


def test_ids_are_distinct():
    ids = [c[0] for c in REFUSED] + [c[0] for c in WORKS]
    assert len(ids) == len(set(ids))


# (id, argv): inputs the toolkit can work with — they must run (exit 0), not raise
WORKS = [
    ("bounds-utf8-bom-csv", ["bounds", "--data", "{d}/bom.csv"]),
    ("bounds-gamma-50", ["bounds", "--synthetic", "10,3", "--gamma", "50"]),
    ("bounds-gamma-1e-300", ["bounds", "--synthetic", "10,3", "--gamma", "1e-300"]),
    ("bounds-gamma-5e-324", ["bounds", "--synthetic", "10,3", "--gamma", "5e-324"]),
    ("bounds-gamma-1e308", ["bounds", "--synthetic", "10,3", "--gamma", "1e308"]),
    ("bounds-d-1", ["bounds", "--synthetic", "8,1"]),
    ("bounds-entries-1e-310-normalised", ["bounds", "--data", "{d}/tiny.npz", "--normalise"]),
    ("bounds-entries-1e200-normalised", ["bounds", "--data", "{d}/big.npz", "--normalise"]),
    ("run-entries-1e-310-normalised", ["run", "--data", "{d}/tiny.npz", "--normalise", *RUN, "--out", "{d}/w1"]),
    ("run-entries-1e200-normalised", ["run", "--data", "{d}/big.npz", "--normalise", *RUN, "--out", "{d}/w2"]),
    ("run-gamma-5e-324", ["run", "--gamma", "5e-324", *RUN, "--out", "{d}/w3"]),
    ("run-gamma-1e-320-wide", ["run", "--gamma", "1e-320", "--m", "64", "--steps", "2", "--quiet", "--out",
                               "{d}/w4"]),
    ("run-d-1-synthetic", ["run", "--data", "synthetic", "--d", "1", "--n", "6", *RUN,
                           "--allow-assumption-violation", "--out", "{d}/w5"]),
    ("run-d-1-file", ["run", "--data", "{d}/d1.npz", *RUN, "--allow-assumption-violation", "--out", "{d}/w6"]),
    ("sweep-gd-gamma-5e-324", ["sweep", "--kind", "gd", "--gamma", "5e-324", "--m", "8", "--steps", "5",
                               *SWEEP, "--out", "{d}/w7"]),
]


@pytest.mark.parametrize("argv", [c[1] for c in WORKS], ids=[c[0] for c in WORKS])
def test_works(files, capsys, argv):
    rc = main([a.format(d=files) for a in argv])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "Traceback" not in captured.err and "error" not in captured.err
    if argv[0] == "run":
        out = Path(argv[argv.index("--out") + 1].format(d=files))
        assert (out / "record.json").is_file()


def test_bounds_gamma_without_a_kernel_fixed_point_says_so(capsys):
    """γ = 50: the bound calculations are reported; the infinite-width kernels (no fixed point
    for γ ≥ √2) are 'not computed' or have the status NO_FIXED_POINT, never a LinAlgError."""
    assert main(["bounds", "--synthetic", "10,3", "--gamma", "50", "--format", "json"]) == 0
    import json

    rep = json.loads(capsys.readouterr().out)
    k = rep["kernels"]
    assert k["status"] in ("not computed", "NO_FIXED_POINT"), k
    assert k.get("lambda_min_Hinf") is None


@pytest.mark.parametrize("name", ["big", "tiny"])
def test_normalise_is_scale_free(files, capsys, name):
    """--normalise of rows scaled by 1e200 or 1e-310 gives the λ0 of the unit rows (it gave
    λ0 = 0: the squared norms overflowed to inf / underflowed to 0). Tolerance: the scaled
    norm is within a few ulps of the plain one, so λ0 agrees to ~1e-15 relative; 1e-12 leaves
    room for the eigensolver's rounding."""
    import json

    lam = {}
    for f in ("unit", name):
        assert main(["bounds", "--data", str(files / f"{f}.npz"), "--normalise", "--format", "json"]) == 0
        lam[f] = json.loads(capsys.readouterr().out)["lambda0"]
    assert lam["unit"] > 0 and lam[name] == pytest.approx(lam["unit"], rel=1e-12)


def test_tiny_rows_are_not_called_zero(files, capsys):
    """Rows of 1e-310 are not zero: the message says they are not unit norm (and how to fix)."""
    rc = main(["run", "--data", str(files / "tiny.npz"), *RUN, "--out", str(files / "o")])
    line = _one_line(capsys, rc, "--data", "tiny.npz")
    assert "zero row" not in line and "not unit norm" in line and "--normalise" in line


def test_sweep_data_error_names_the_file(files, capsys):
    rc = main(["sweep", "--data", str(files / "d1.npz"), "--m", "8", *SWEEP, "--out", str(files / "o")])
    line = _one_line(capsys, rc, "--data", str(files / "d1.npz"))
    assert "<array shape" not in line


# ---------------------------------------------------------------- a run that fails after training
def test_run_failing_after_training_keeps_its_record(tmp_path, capsys, monkeypatch):
    """The verdict step raises (a bug, say): the trace, the final parameters and a record with
    status 'failed' are written, the CLI prints one line, and --resume answers with one line."""
    import verify.experiment.finish as fin
    from verify import load_run

    def broken(*a, **k):
        raise ZeroDivisionError("planted failure in the verdicts")

    monkeypatch.setattr(fin, "check_spec", broken)
    out = tmp_path / "r"
    argv = ["run", "--data", "synthetic", "--n", "6", "--d", "3", "--m", "8", "--steps", "3", "--quiet",
            "--out", str(out)]
    rc = main(argv)
    line = _one_line(capsys, rc, "training finished", "planted failure")
    assert "status 'failed'" in line
    res = load_run(out)
    assert res.record["status"] == "failed" and res.record["training_status"] == "max_steps"
    assert "planted failure" in res.record["error"] and res.record["steps_done"] == 3
    assert res.trace["step"].size == 4 and set(res.params_final) == {"A", "W", "u", "v"}
    assert (out / "checkpoint.npz").is_file() and (out / "cli_args.json").is_file()
    rc = main([*argv, "--resume"])
    _one_line(capsys, rc, "training finished", "planted failure")
    monkeypatch.undo()  # the bug fixed: the same directory resumes to a complete record
    assert main([*argv, "--resume"]) == 0
    assert load_run(out).record["status"] == "max_steps"


def test_run_failing_before_its_first_checkpoint_leaves_no_directory(tmp_path, capsys, monkeypatch):
    import verify.experiment.loop as loop_mod

    def broken(*a, **k):
        raise OSError(28, "No space left on device", str(tmp_path / "r" / "checkpoint.npz"))

    monkeypatch.setattr(loop_mod.GDLoop, "run", broken)
    rc = main(["run", "--data", "synthetic", "--n", "6", "--d", "3", "--m", "8", "--steps", "3", "--quiet",
               "--out", str(tmp_path / "r")])
    line = _one_line(capsys, rc, "--out", str(tmp_path / "r"))
    assert "No space left on device" in line and "free disk space" in line
    assert not (tmp_path / "r").exists()


# ---------------------------------------------------------------- OS errors
def test_lock_path_that_is_a_directory_names_out(tmp_path, capsys):
    (tmp_path / ".r.lock").mkdir()
    rc = main(["run", *RUN, "--out", str(tmp_path / "r")])
    line = _one_line(capsys, rc, "--out", str(tmp_path / "r"))
    assert ".r.lock" in line
    assert not (tmp_path / "r").exists()


@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 KiB tmpfs (needs mount rights: skipped elsewhere)."""
    import shutil

    d = tmp_path / "disk"
    d.mkdir()
    if shutil.which("mount") is None or shutil.which("umount") is None:
        pytest.skip("no mount command (a full disk is simulated with a tiny tmpfs)")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(d)], capture_output=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (a full disk is simulated with one)")
    yield d
    subprocess.run(["umount", str(d)], check=False)


def test_full_disk_run_names_out_and_leaves_nothing(tiny_disk, capsys):
    out = tiny_disk / "r"
    rc = main(["run", "--data", "synthetic", "--m", "128", "--n", "8", "--d", "4", "--steps", "2", "--quiet", "--out", str(out)])
    line = _one_line(capsys, rc, "--out", str(out))
    assert "No space left on device" in line
    assert not out.exists()
    assert not [p.name for p in tiny_disk.iterdir() if p.name.endswith(".tmp") or "staging" in p.name]


def test_full_disk_sweep_names_out_and_leaves_no_temporary_file(tiny_disk, capsys):
    (tiny_disk / "filler").write_bytes(b"\0" * (60 * 1024))
    out = tiny_disk / "s"
    rc = main(["sweep", "--m", "8", *SWEEP, "--out", str(out)])
    _one_line(capsys, rc, "--out", str(out))
    assert not [p for p in tiny_disk.rglob("*") if p.name.endswith(".tmp")]


# ---------------------------------------------------------------- the interpreter's streams
def _cli(args, env=None, **kw):
    code = "import sys; from verify.cli import main; sys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "PYTHONPATH": os.getcwd(), **(env or {})}
    return subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, timeout=120, **kw)


@pytest.mark.parametrize("argv", [
    ["bounds", "--synthetic", "10,3"],
    ["run", "--data", "synthetic", "--n", "6", "--d", "3", "--m", "8", "--steps", "2", "--out", "{t}/r"],
], ids=["bounds", "run"])
def test_ascii_only_output_encoding_works(tmp_path, argv):
    r = _cli([a.format(t=tmp_path) for a in argv], env={"PYTHONIOENCODING": "ascii"})
    assert r.returncode == 0, r.stderr.decode()
    assert b"Traceback" not in r.stderr
    assert b"\\u03b3" in r.stdout + r.stderr or b"\\u2014" in r.stdout + r.stderr  # γ / — escaped


def test_closed_pipe_stops_quietly(tmp_path):
    """The reader of stdout went away (`implicit-verify … | head -1`): no traceback, no
    'Exception ignored' at exit, the SIGPIPE status."""
    code = "import sys; from verify.cli import main; sys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    r_fd, w_fd = os.pipe()
    os.close(r_fd)  # nobody reads: the first write fails with EPIPE
    p = subprocess.run([sys.executable, "-c", code, "bounds", "--synthetic", "10,3"], stdout=w_fd,
                       stderr=subprocess.PIPE, env=env, timeout=120)
    os.close(w_fd)
    assert p.returncode == 141, p.stderr.decode()
    assert p.stderr == b""
