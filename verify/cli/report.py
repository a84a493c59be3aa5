"""``implicit-verify report``: run the default verification (or re-use saved runs) and write a
report directory — Markdown with PNG figures, one self-contained HTML file, a JSON summary.

Rendering lives in :mod:`verify.report` (library: :func:`~verify.report.make.make_report`,
the known-issue numbers in :mod:`verify.report.sections.g22_findings`); this module parses
arguments, orchestrates the runs and writes files atomically: the whole report is assembled in a hidden staging directory next to the
target and renamed into place at the end, so an interrupted command never leaves a
half-written report under the requested name.

Report directory::

    report.md  report.html  summary.json  figures/*.png  (report.pdf with --format …,pdf)
    runs/m<width>/   record.json, trace.npz, report_findings.json (+ params_*.npz,
                     checkpoint.npz when the runs were made by this command)
"""

from __future__ import annotations

import argparse
import datetime as _dt
import math
import os
import shlex
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bounds._args import MAX_DIM, MAX_SEED, check_memory, parse_float, parse_int, parse_int_list
from bounds._errors import invalid
from verify.cli._args import add_verdict_options, verdict_argv, verdict_options
from verify.experiment.stopping import signal_name
from verify.report.make import make_report
from verify.report.sections.g22_findings import compute_findings

__all__ = ["add_parser", "main", "DEFAULTS"]

#: Defaults of the command (chosen so that the default report takes a few minutes on 2 CPU
#: cores; see reports/README.md).  Widths/n keep the paper's ratios m/n ∈ {½, 1, 2, 4}.
DEFAULTS: dict[str, Any] = {
    "theorem": "g22-gd",
    "data": "digits",
    "n": 128,
    "widths": (64, 128, 256, 512),
    "gamma": 0.1,
    "step": 0.005,
    "steps": 300,
    "seed": 0,
    "device": "cpu",
    "dtype": "float64",
    "format": "md,html,json",
    "dpi": 80,
}

FINDINGS_FILE = "report_findings.json"

#: The default report's small width-scaling sweep (init kind: Lemma 3.3's event and the NTK's
#: rank at initialisation): half-octave widths that bracket the Lemma 3.3 threshold at each n
#: (measured on digits-all: m*½ ≈ 80, 160, 400 at n = 16, 32, 64), run serially in the report's
#: folder (``OUT/sweeps/init``) so that ``--sweep`` can re-render it.
SCALING_SWEEP: dict[str, Any] = {
    "kind": "init", "data": "digits-all", "n": (16, 32, 64),
    "m": (16, 23, 32, 45, 64, 91, 128, 181, 256, 362, 512, 724, 1024, 1448),
    "seeds": tuple(range(10)), "hk_max_m": 64,
}
SCALING_DIR = "sweeps/init"


# ============================================================================ argument parsing
def _widths(text: str) -> tuple[int, ...]:
    ws = tuple(parse_int_list("--widths", str(text).replace(" ", ""), 1, MAX_DIM,
                              "use e.g. --widths 64,128,256"))
    if len(set(ws)) != len(ws):
        raise invalid("--widths", text, "duplicate width", "list each width once")
    return tuple(sorted(ws))


def _check_memory(widths: Sequence[int], n: int, d: int, allow_large: bool) -> None:
    """The largest width's run must fit in the available memory (one run at a time)."""
    from verify.model.validate import run_bytes

    m = max(widths)
    check_memory(run_bytes(n, m, d, n), "--widths", ",".join(map(str, widths)),
                 f"the run at m = {m} (n = {n})", allow_large=allow_large,
                 smaller="use smaller --widths or --n")


def _formats(text: str) -> tuple[str, ...]:
    fs = tuple(f.strip().lower() for f in str(text).split(",") if f.strip())
    bad = [f for f in fs if f not in ("md", "html", "json", "pdf")]
    if not fs or bad:
        raise invalid("--format", text, f"unknown format(s) {bad}" if bad else "no format given",
                      "use a comma-separated subset of md,html,json,pdf")
    if "pdf" in fs:  # before any work: the PDF needs a system Chromium
        from verify.report.pdf import require_browser

        require_browser()
    return fs


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``report`` on the dispatcher's subparsers (see :mod:`verify.cli`)."""
    d = DEFAULTS
    p = subparsers.add_parser(
        "report",
        help="verify a theorem on data at several widths and write a report (md/html/json)",
        description=(
            "Verify G22 (GD: Lemma 3.6 / Theorem 3.2, or GF: Lemma 3.5 / Theorem 3.1) at several "
            "widths in the spirit of the paper's Figure 1 and write a report directory: "
            "report.md with figures/*.png, a self-contained report.html and summary.json. With "
            "no options: scikit-learn digits (classes 0/1, unit norm), n = 128, widths "
            "64,128,256,512, 300 GD steps. With --from RUN_DIR …: re-render saved runs."),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--from", dest="from_dirs", nargs="+", metavar="RUN_DIR", default=None,
                   help="re-render from saved run directories (record.json + trace.npz); "
                        "nothing is re-run")
    p.add_argument("--theorem", choices=("g22-gd", "g22-gf"), default=d["theorem"],
                   help="g22-gd: Theorem 3.2 / Lemma 3.6 (default); g22-gf: Theorem 3.1 / "
                        "Lemma 3.5 (small-step GD read as gradient flow)")
    p.add_argument("--data", default=d["data"],
                   help="digits (default; bundled with scikit-learn), digits-all, breast-cancer, "
                        "synthetic, or a "
                        ".npz/.npy/.csv path")
    p.add_argument("--n", type=int, default=None,
                   help=f"training samples for digits/synthetic (default {d['n']})")
    p.add_argument("--widths", default=",".join(str(w) for w in d["widths"]),
                   help="comma-separated widths m (default: %(default)s)")
    p.add_argument("--gamma", type=float, default=d["gamma"], help="fixed scale γ (default: %(default)s)")
    p.add_argument("--step", default=str(d["step"]),
                   help="GD step size α, the same at every width (default: %(default)s), or "
                        "'auto' = 1/λ_max(H(0)) per width")
    p.add_argument("--steps", type=int, default=d["steps"], help="GD steps per width (default: %(default)s)")
    p.add_argument("--seed", type=int, default=d["seed"], help="initialisation and data seed (default: %(default)s)")
    p.add_argument("--device", default=d["device"], help="cpu (default), cuda, cuda:N or auto")
    p.add_argument("--dtype", default=d["dtype"], choices=("float64", "float32"),
                   help="default: %(default)s")
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (default: torch's choice, or 1 when the CPUs are "
                        "already busy — several threads on busy cores can be 100× slower)")
    p.add_argument("--out", default=None,
                   help="report directory (default: reports/<theorem>-<data>-<timestamp>)")
    p.add_argument("--force", action="store_true", help="replace an existing report directory")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--format", default=d["format"],
                   help="comma-separated subset of md,html,json,pdf (default: md,html,json; pdf "
                        "prints the HTML page through a system Chromium)")
    p.add_argument("--dpi", type=int, default=d["dpi"], help="resolution of the PNG figures (default: %(default)s)")
    p.add_argument("--allow-large", action="store_true",
                   help="run even when the memory estimate exceeds the available memory")
    p.add_argument("--sweep", nargs="+", metavar="SWEEP_DIR", default=None,
                   help="add a width-scaling section from these sweep directories "
                        "('implicit-verify sweep --out'): thresholds m*(n), exponents, theory")
    p.add_argument("--sweep-only", action="store_true",
                   help="with --sweep: a report of the sweeps alone (no GD runs at widths)")
    p.add_argument("--note", action="append", default=None, metavar="TEXT",
                   help="with --sweep-only: a paragraph placed under the title, e.g. the "
                        "machine the sweeps ran on (repeatable; printed as given)")
    p.add_argument("--no-sweep", action="store_true",
                   help="skip the default report's small init-kind width-scaling sweep")
    p.add_argument("--n-boot", type=int, default=200,
                   help="bootstrap replicates of the width thresholds (default: %(default)s)")
    add_verdict_options(p.add_argument_group(
        "verdicts (as in 'implicit-verify run'; passed to every run of the report)"))
    p.add_argument("--no-findings", action="store_true",
                   help="skip the known-issue computations on the final parameters "
                        "(eq. 14/16 Gram variants, exact zeros of pre-activations)")
    p.set_defaults(func=main)
    return p


# ============================================================================ helpers
class _Interrupted(Exception):
    """A run of the report was stopped by SIGINT/SIGTERM (it saved its checkpoint)."""

    def __init__(self, signum: int | None) -> None:
        super().__init__(signum)
        self.signum = signum


class _Log:
    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.t0 = time.monotonic()

    def __call__(self, msg: str) -> None:
        if not self.quiet:
            dt = time.monotonic() - self.t0
            print(f"[implicit-verify report {dt:6.1f}s] {msg}", file=sys.stderr, flush=True)


def _default_out(theorem: str, data: str) -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    tag = Path(data).stem if data not in ("digits", "synthetic", "digits-all", "breast-cancer") else data
    return Path("reports") / f"{theorem}-{tag}-{stamp}"


def _reproduce_command(args: argparse.Namespace, out: Path) -> str:
    parts = ["implicit-verify", "report"]
    if args.from_dirs:
        parts += ["--from", *args.from_dirs]
    elif getattr(args, "sweep_only", False):
        pass
    else:
        parts += ["--theorem", args.theorem, "--data", str(args.data)]
        if args.n is not None or args.data in ("digits", "synthetic", "digits-all", "breast-cancer"):
            parts += ["--n", str(args.n if args.n is not None else DEFAULTS["n"])]
        parts += ["--widths", ",".join(str(w) for w in _widths(args.widths)),
                  "--gamma", repr(float(args.gamma)), "--step", _step_text(args.step),
                  "--steps", str(args.steps), "--seed", str(args.seed), "--device", args.device]
        if args.dtype != DEFAULTS["dtype"]:
            parts += ["--dtype", args.dtype]
        parts += verdict_argv(args)
    if getattr(args, "sweep", None):
        parts += ["--sweep", *args.sweep] + (["--sweep-only"] if args.sweep_only else [])
        for t in getattr(args, "note", None) or []:
            parts += ["--note", t]
    elif getattr(args, "no_sweep", False):
        parts += ["--no-sweep"]
    if getattr(args, "n_boot", 200) != 200:
        parts += ["--n-boot", str(args.n_boot)]
    if args.format != DEFAULTS["format"]:
        parts += ["--format", args.format]
    if args.dpi != DEFAULTS["dpi"]:
        parts += ["--dpi", str(args.dpi)]
    parts += ["--out", str(out)]
    return " ".join(shlex.quote(p) for p in parts)


def _step_text(step: Any) -> str:
    return "auto" if str(step).lower() == "auto" else repr(_step_value(step))


def _step_value(step: Any) -> float:
    try:
        a = float(step)
    except (TypeError, ValueError):
        raise invalid("--step", step, "expected a positive number or 'auto'",
                      "use e.g. --step 0.005 or --step auto") from None
    if not (math.isfinite(a) and a > 0):
        raise invalid("--step", step, "the step size must be positive and finite",
                      "use e.g. --step 0.005")
    return a


def _load_data(spec: str, n: int | None, seed: int, *, test: bool = True) -> Any:
    from verify.experiment.data import load_dataset

    if spec in ("digits", "digits-all", "breast-cancer"):
        return load_dataset(spec, n=DEFAULTS["n"] if n is None else n, seed=seed)
    if spec == "synthetic":
        nn = DEFAULTS["n"] if n is None else n
        return load_dataset("synthetic", n=nn, d=16, seed=seed, n_test=nn if test else 0)
    return load_dataset(spec, seed=seed)


def _data_for_record(record: Mapping[str, Any]) -> Any:
    """Rebuild a run's data from its record (bundled data sets only; files by path)."""
    from verify.experiment.data import load_dataset

    data = record.get("data") or {}
    name = data.get("name")
    seed = int(data.get("seed") or 0)
    perturb = bool(data.get("perturbed_pairs"))
    if name == "digits":
        n_all = int(data["n"]) + int(data.get("n_test") or 0)
        return load_dataset("digits", n=int(data["n"]), seed=seed, perturb_parallel=perturb,
                            test_fraction=(int(data.get("n_test") or 0) / 360
                                           if n_all <= 360 else 0.5))
    if name in ("digits-all", "breast-cancer"):
        total = 1797 if name == "digits-all" else 569
        return load_dataset(name, n=int(data["n"]), seed=seed, perturb_parallel=perturb,
                            test_fraction=int(data.get("n_test") or 0) / total)
    if name == "synthetic":
        return load_dataset("synthetic", n=int(data["n"]), d=int(data["d"]), seed=seed,
                            n_test=int(data.get("n_test") or 0), perturb_parallel=perturb)
    src = data.get("source")
    if src and Path(str(src)).is_file():
        return load_dataset(str(src), normalise=bool(data.get("unit_norm_normalised")),
                            perturb_parallel=perturb, seed=seed)
    return None


#: record["data"] keys that identify the data of a run (notes and paths may differ in text).
_DATA_KEYS = ("name", "n", "d", "n_test", "seed", "unit_norm_normalised", "perturbed_pairs", "source")


def _check_same_data(loaded: Sequence[tuple[str, Any]]) -> None:
    """The runs of one report table must share the theorem and the data (name, sizes, seed,
    source, preprocessing); otherwise the table would label every run with the first run's data."""
    if not loaded:
        return
    d0, r0 = loaded[0]
    key0 = (r0.record["theorem"].get("key"), tuple(str(r0.record["data"].get(k)) for k in _DATA_KEYS))
    for d, r in loaded[1:]:
        theorem = r.record["theorem"].get("key")
        if theorem != key0[0]:
            raise invalid("--from", d, f"checks theorem {theorem!r} but {d0} checks {key0[0]!r}",
                          "report runs of one theorem together (one report per theorem)")
        data = tuple(str(r.record["data"].get(k)) for k in _DATA_KEYS)
        if data != key0[1]:
            diff = [f"{k}: {a} vs {b}" for k, a, b in zip(_DATA_KEYS, data, key0[1], strict=True) if a != b]
            raise invalid("--from", d, f"was run on other data than {d0} ({'; '.join(diff)[:200]})",
                          "report runs on the same data together (one report per data set)")


# ============================================================================ the report
def _stage_dir(out: Path) -> Path:
    parent = out.parent if str(out.parent) else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    stage = parent / f".{out.name}.partial-{os.getpid()}"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir()
    return stage


def _commit(stage: Path, out: Path, force: bool) -> None:
    """Move the staged report into place (replacing ``out`` only with ``force``)."""
    old = None
    if out.exists():
        if not force:  # checked before any work; re-checked here against races
            raise invalid("--out", str(out), "already exists", "pass --force to replace it")
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        os.replace(out, old)
    os.replace(stage, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _write_files(stage: Path, files: Mapping[str, bytes]) -> None:
    from verify.experiment.record import atomic_write_bytes

    for rel, data in files.items():
        atomic_write_bytes(stage / rel, data)


def _run_one(ds: Any, args: argparse.Namespace, m: int, run_dir: Path, command: str,
             log: _Log) -> Any:
    from verify.experiment.gd import RunConfig, run_gd

    mode = "gf" if args.theorem == "g22-gf" else "gd"
    auto = str(args.step).lower() == "auto"
    cfg = RunConfig(m=m, gamma=float(args.gamma), step=1.0 if auto else _step_value(args.step),
                    steps=int(args.steps), seed=int(args.seed), mode=mode, device=args.device,
                    dtype=args.dtype, **verdict_options(args))  # type: ignore[arg-type]
    if auto:
        from verify.cli.run import auto_step

        cfg = cfg.replace(step=auto_step(ds, cfg))
        log(f"m = {m}: --step auto: α = 1/λ_max(H(0)) = {cfg.step:.6g}")
    return run_gd(ds, config=cfg, out_dir=run_dir, progress=not args.quiet, command=command)


def _findings_for(result: Any, ds: Any, log: _Log, m_min: int, enabled: bool) -> dict[str, Any]:
    record = dict(result.record)
    loss = result.trace.get("loss")
    if loss is not None and len(loss):
        record["_final_loss"] = float(loss[-1])
    if not enabled:
        return {"m": int(record["config"]["m"]), "checked": False,
                "note": "known-issue computations skipped (--no-findings)"}
    m = int(record["config"]["m"])
    try:
        return compute_findings(record, result.params_final, ds, jacobian=(m == m_min),
                                eq16=(m == m_min))
    except Exception as exc:  # never lose a finished report to a diagnostic
        log(f"m = {m}: known-issue computations failed: {type(exc).__name__}: {exc}")
        return {"m": m, "checked": False, "note": f"computation failed ({type(exc).__name__})"}


def _kernels_for(ds: Any, runs: Sequence[Any], log: _Log) -> dict[str, Any] | None:
    """The infinite-width kernels of the runs' data (the report's kernels section); ``None``
    when the data cannot be rebuilt or the runs disagree on γ.  Never fails the report."""
    from verify.report.sections.kernels import compute_kernels

    gammas = {(r.record.get("config") or {}).get("gamma") for r in runs}
    gamma = gammas.pop() if len(gammas) == 1 else None
    if ds is None or gamma is None:
        return None
    t = time.monotonic()
    try:
        k = compute_kernels(ds.X, float(gamma), [r.m for r in runs])
    except Exception as exc:  # a diagnostic never loses a finished report
        log(f"infinite-width kernels failed: {type(exc).__name__}: {exc}")
        return None
    log(f"infinite-width kernels: λ_min(H∞) = {k['limit']['lambda_min_H']:.6g} "
        f"({time.monotonic() - t:.1f} s)")
    return k


def main(args: argparse.Namespace) -> int:
    """Entry point of ``implicit-verify report`` (returns the exit status)."""
    log = _Log(bool(args.quiet))
    formats = _formats(args.format)
    parse_int("--dpi", args.dpi, 20, 600, "use e.g. --dpi 80")
    if args.threads is not None:
        parse_int("--threads", args.threads, 1, 4 * (os.cpu_count() or 1), "use e.g. --threads 1")
    given = verdict_argv(args)
    if given and (args.from_dirs or getattr(args, "sweep_only", False)):
        raise invalid(given[0], given[1], "applies to the runs a report makes, not to "
                      + ("--from" if args.from_dirs else "--sweep-only"),
                      "drop it, or re-run the runs with 'implicit-verify run' and these options")
    if not args.from_dirs:  # validate everything before any work
        verdict_options(args)
        from verify.model.validate import resolve_device

        resolve_device(args.device, "--device")
        widths = _widths(args.widths)
        _step_text(args.step)
        parse_int("--steps", args.steps, 1, 10**9, "use e.g. --steps 300")
        parse_int("--seed", args.seed, 0, MAX_SEED, "use e.g. --seed 0")
        parse_float("--gamma", args.gamma, low=0.0, high=1.0, low_open=True, high_open=True,
                    fix="use e.g. --gamma 0.1")
        if args.n is not None:
            parse_int("--n", args.n, 1, MAX_DIM, "use e.g. --n 128")
        if args.data not in ("digits", "synthetic") and not Path(str(args.data)).is_file():
            raise invalid("--data", args.data, "neither digits, synthetic nor an existing file",
                          "use digits, synthetic or a .npz/.npy/.csv path")
        if args.data in ("digits", "synthetic"):
            n0 = DEFAULTS["n"] if args.n is None else int(args.n)
            _check_memory(widths, n0, 64 if args.data == "digits" else 16, args.allow_large)
    else:
        for d in args.from_dirs:
            if not (Path(d) / "record.json").is_file():
                raise invalid("--from", d, "has no record.json",
                              "pass run directories written by 'implicit-verify run' or a report")
    _check_sweep_args(args)
    out = Path(args.out) if args.out else _default_out(args.theorem, str(args.data))
    if out.exists() and not args.force:
        raise invalid("--out", str(out), "already exists",
                      "pass --force to replace it, or choose another --out")
    from verify.experiment.record import check_writable_dir

    check_writable_dir(out, "--out")
    command = _reproduce_command(args, out)
    import torch

    threads0 = torch.get_num_threads()
    try:
        _set_threads(args.threads, log)
        return _main(args, out, command, formats, log)
    except _Interrupted as stop:
        print(f"implicit-verify report: interrupted by {signal_name(stop.signum)}; nothing was "
              f"replaced at {out}", file=sys.stderr)
        return 128 + int(stop.signum or 2)
    finally:
        torch.set_num_threads(threads0)


def _check_sweep_args(args: argparse.Namespace) -> None:
    if args.n_boot < 0:
        raise invalid("n-boot", args.n_boot, "must be ≥ 0", "use e.g. --n-boot 200")
    if args.note and not args.sweep_only:
        raise invalid("note", args.note[0], "is used by --sweep-only reports only",
                      "drop --note or add --sweep DIR --sweep-only")
    if args.sweep_only and not args.sweep:
        raise invalid("sweep-only", True, "needs --sweep DIR", "pass --sweep SWEEP_DIR")
    if args.sweep_only and args.from_dirs:
        raise invalid("sweep-only", True, "renders sweeps alone; --from adds runs",
                      "drop --sweep-only or --from")
    for d in args.sweep or ():
        if not (Path(d) / "sweep.json").is_file():
            raise invalid("sweep", d, "has no sweep.json (not a sweep directory)",
                          "pass the --out directory of an 'implicit-verify sweep' run")


def _scaling(args: argparse.Namespace, stage: Path, out: Path, log: _Log) -> list[Any]:
    """Analysed sweeps for the width-scaling section: ``--sweep`` dirs, or the default small
    init sweep run into the report's folder (not with ``--from`` / ``--no-sweep``)."""
    from verify.sweep.analysis import analyse_sweep

    if args.sweep:
        res = []
        for d in args.sweep:
            log(f"width scaling: fitting thresholds of the sweep in {d} …")
            res.append(analyse_sweep(d, n_boot=int(args.n_boot), label=str(d)))
        return res
    if args.from_dirs or args.no_sweep:
        return []
    from verify.sweep.engine import run_sweep
    from verify.sweep.spec import SweepSpec

    sp = SCALING_SWEEP
    spec = SweepSpec(kind=sp["kind"], data=sp["data"], n=sp["n"], m=sp["m"], seeds=sp["seeds"],
                     hk_max_m=sp["hk_max_m"], gamma=float(args.gamma))
    dest = stage / SCALING_DIR
    cmd = (f"implicit-verify sweep --kind {spec.kind} --data {spec.data} --n "
           f"{','.join(map(str, spec.n))} --m {','.join(map(str, spec.m))} --seeds "
           f"{len(spec.seeds)} --gamma {spec.gamma!r} --hk-max-m {spec.hk_max_m} --serial "
           f"--out {out / SCALING_DIR}")
    log(f"width scaling: init sweep, n ∈ {list(spec.n)}, {len(spec.m)} widths "
        f"{spec.m[0]}…{spec.m[-1]}, {len(spec.seeds)} seeds (serial) …")
    t1 = time.monotonic()
    done = run_sweep(spec, dest, serial=True, progress=False, command=cmd)
    wall = time.monotonic() - t1
    log(f"width scaling: {len(done.table)} cells in {wall:.1f} s; fitting thresholds …")
    return [analyse_sweep(dest, n_boot=int(args.n_boot), wall_s=wall,
                          label=str(out / SCALING_DIR))]


def _set_threads(threads: int | None, log: _Log) -> None:
    """``--threads`` or, by default, 1 thread when the CPUs are already busy.

    OpenMP threads that wait for each other on cores kept busy by other processes make small
    matrix products 100× slower (measured: a 100×64 by 64×64 product took 47 ms with 2 threads
    on 2 busy cores, 0.2 ms with 1 thread).
    """
    import torch

    if threads is not None:
        torch.set_num_threads(int(threads))
        return
    n = torch.get_num_threads()
    try:
        load = os.getloadavg()[0]
    except (OSError, AttributeError):  # pragma: no cover - not on Windows
        return
    cpus = os.cpu_count() or 1
    if n > 1 and load >= cpus - 0.5:
        torch.set_num_threads(1)
        log(f"CPUs busy (load {load:.1f} on {cpus} cores): using 1 torch thread instead of {n} "
            "(--threads N overrides)")


def _main(args: argparse.Namespace, out: Path, command: str, formats: Sequence[str],
          log: _Log) -> int:
    import json

    from verify.experiment.gd import load_run
    from verify.experiment.record import atomic_write_json
    from verify.report.render import ReportRun

    t0 = time.monotonic()
    runs: list[ReportRun] = []
    findings: list[dict[str, Any]] = []
    stage = _stage_dir(out)
    if args.sweep_only:
        return _sweep_only(args, out, stage, command, formats, log, t0)
    try:
        if args.from_dirs:
            loaded = [(d, load_run(d)) for d in args.from_dirs]
            _check_same_data(loaded)
            m_min = min(int((r.record.get("config") or {}).get("m", 0)) for _, r in loaded)
            for i, (d, res) in enumerate(loaded, 1):
                m = int((res.record.get("config") or {}).get("m", 0))
                log(f"[{i}/{len(loaded)}] read {d} (m = {m}, status {res.status})")
                dest = stage / "runs" / f"m{m}"
                if dest.exists():
                    raise invalid("--from", d, f"two run directories with width m = {m}",
                                  "pass one run per width")
                dest.mkdir(parents=True)
                for f in ("record.json", "trace.npz", FINDINGS_FILE):
                    if (Path(d) / f).is_file():
                        shutil.copy2(Path(d) / f, dest / f)
                fpath = Path(d) / FINDINGS_FILE
                if fpath.is_file():
                    try:
                        fnd = json.loads(fpath.read_text(encoding="utf-8"))
                        if not isinstance(fnd, dict):
                            raise ValueError("not a JSON object")
                    except (OSError, ValueError):
                        raise invalid("--from", d, f"{FINDINGS_FILE} is damaged",
                                      f"delete {fpath} (it is recomputed from the run)") from None
                elif res.params_final and not args.no_findings:
                    ds = _data_for_record(res.record)
                    if ds is None:
                        fnd = {"m": m, "checked": False,
                               "note": "the run's data could not be reloaded"}
                    else:
                        fnd = _findings_for(res, ds, log, m_min, True)
                    atomic_write_json(dest / FINDINGS_FILE, fnd)
                else:
                    fnd = {"m": m, "checked": False,
                           "note": "no saved final parameters or findings"}
                findings.append(fnd)
                runs.append(ReportRun(record=res.record, trace=res.trace, run_dir=str(d)))
            made_here = False
        else:
            widths = _widths(args.widths)
            ds = _load_data(str(args.data), args.n, int(args.seed))
            _check_memory(widths, ds.n, ds.d, args.allow_large)
            log(f"data: {ds.name}, n = {ds.n}, d = {ds.d}, n_test = {ds.n_test}; "
                f"widths {', '.join(map(str, widths))}; {args.steps} steps each "
                f"({args.theorem})")
            for i, m in enumerate(widths, 1):
                t1 = time.monotonic()
                log(f"[{i}/{len(widths)}] m = {m}: running {args.steps} GD steps …")
                run_dir = stage / "runs" / f"m{m}"
                res = _run_one(ds, args, m, run_dir, command, log)
                if res.status == "interrupted":  # SIGINT/SIGTERM: stop the report too
                    raise _Interrupted(res.signum)
                loss = res.trace.get("loss")
                lf = float(loss[-1]) if loss is not None and len(loss) else float("nan")
                log(f"[{i}/{len(widths)}] m = {m}: {res.status} after {res.record.get('steps_done')} "
                    f"steps, loss {lf:.4g} ({time.monotonic() - t1:.1f} s)")
                fnd = _findings_for(res, ds, log, widths[0], not args.no_findings)
                atomic_write_json(run_dir / FINDINGS_FILE, fnd)
                findings.append(fnd)
                runs.append(ReportRun(record=res.record, trace=res.trace,
                                      run_dir=f"runs/m{m}"))
            made_here = True
        kern = _kernels_for(ds if made_here else _data_for_record(runs[0].record), runs, log)
        sweeps = _scaling(args, stage, out, log)
        log("rendering report …")
        wall = time.monotonic() - t0
        files, summary = make_report(runs, command=command, findings=findings, wall=wall,
                                     made_here=made_here, formats=formats, dpi=int(args.dpi),
                                     kernels=kern, sweeps=sweeps)
        _write_files(stage, files)
        _commit(stage, out, bool(args.force))
    except BaseException:
        if not runs:  # nothing finished: leave nothing behind
            shutil.rmtree(stage, ignore_errors=True)
        elif not args.quiet:
            print(f"[implicit-verify report] stopped; the finished runs are in {stage}/runs",
                  file=sys.stderr)
        raise
    if not args.quiet:
        print("\n".join("  • " + line for line in summary["summary"]), file=sys.stderr)
    for rel in ("report.md", "report.html", "summary.json", "report.pdf"):
        if rel in files:
            print(out / rel)
    log(f"done in {time.monotonic() - t0:.1f} s")
    return 0


def _sweep_only(args: argparse.Namespace, out: Path, stage: Path, command: str,
                formats: Sequence[str], log: _Log, t0: float) -> int:
    """``--sweep DIR … --sweep-only``: the width-scaling report of the sweeps alone."""
    import platform

    from verify.report.scaling_report import render_scaling_report, scaling_summary

    try:
        sweeps = _scaling(args, stage, out, log)
        log("rendering report …")
        machine = (f"{platform.machine()}, {os.cpu_count()} CPU core(s) visible to this process "
                   f"({platform.platform()})")
        notes = [f"Note (given on the command line): {t}" for t in (args.note or [])]
        notes.append(f"Rendered on: {machine}. The sweeps' own environment and timing are "
                     "stated per sweep below.")
        generated = _dt.datetime.now().astimezone().isoformat(timespec="seconds")
        files = render_scaling_report(sweeps, command=command, generated=generated, notes=notes,
                                      formats=formats, dpi=int(args.dpi))
        _write_files(stage, files)
        _commit(stage, out, bool(args.force))
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    if not args.quiet:
        lines = scaling_summary(sweeps)["summary"]
        print("\n".join("  • " + line for line in lines), file=sys.stderr)
    for rel in ("report.md", "report.html", "summary.json"):
        if rel in files:
            print(out / rel)
    log(f"done in {time.monotonic() - t0:.1f} s")
    return 0
