"""``implicit-verify report``: run the default verification (or re-use saved runs) and write a
report directory — Markdown with PNG figures, one self-contained HTML file, a JSON summary.

Rendering lives in :mod:`verify.report` (library: :func:`~verify.report.make.make_report`,
the known-issue numbers in :mod:`verify.report.sections.g22_findings`); this module parses
arguments and orchestrates the runs; the steps below it (data of saved runs, staging, findings,
kernels, the width-scaling sweep) are in :mod:`verify.cli._report_steps`. Files are written
atomically: the whole report is assembled in a hidden staging directory next to the
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
import os
import shlex
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bounds._args import MAX_DIM, MAX_SEED, check_memory, parse_float, parse_int, parse_int_list
from bounds._datacli import add_data_options, check_data_value, data_argv
from bounds._defaults import DEFAULTS as DEFAULTS_ALL
from bounds._defaults import PER_COMMAND
from bounds._errors import invalid
from verify.cli._args import add_verdict_options, verdict_argv, verdict_options
from verify.cli._report_steps import (  # the command's steps and defaults
    DEFAULTS,
    FINDINGS_FILE,
    _check_same_data,
    _check_sweep_args,
    _commit,
    _data_for_record,
    _findings_for,
    _Interrupted,
    _kernels_for,
    _load_data,
    _Log,
    _scaling,
    _set_threads,
    _stage_dir,
    _step_text,
    _step_value,
    _write_files,
    check_force_target,
)
from verify.experiment.stopping import signal_name

__all__ = ["add_parser", "main", "DEFAULTS"]


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
                        "nothing is re-run (default: run the widths now)")
    p.add_argument("--theorem", choices=("g22-gd", "g22-gf"), default=d["theorem"],
                   help="g22-gd: Theorem 3.2 / Lemma 3.6 (default); g22-gf: Theorem 3.1 / "
                        "Lemma 3.5 (small-step GD read as gradient flow)")
    add_data_options(p.add_argument_group(
        "data (the same values and options as run, sweep, bounds; --data-seed defaults to "
        "--seed)"), default=d["data"])
    p.add_argument("--widths", default=",".join(str(w) for w in d["widths"]),
                   help="comma-separated widths m (default: %(default)s)")
    p.add_argument("--gamma", type=float, default=d["gamma"], help="fixed scale γ (default: %(default)s)")
    p.add_argument("--step", default=str(d["step"]),
                   help="GD step size α, the same at every width (default: %(default)s: "
                        f"{PER_COMMAND[('report', 'step')][1]}; run's default is 'auto'), or "
                        "'auto' = 1/λ_max(H(0)) per width")
    p.add_argument("--steps", type=int, default=d["steps"], help="GD steps per width (default: %(default)s)")
    p.add_argument("--seed", type=int, default=d["seed"], help="initialisation and data seed (default: %(default)s)")
    p.add_argument("--device", default=d["device"], help="cpu, cuda, cuda:N or auto (default: %(default)s)")
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
                        "('implicit-verify sweep --out'): thresholds m*(n), exponents, theory (default: "
                        "a small init sweep, unless --no-sweep)")
    p.add_argument("--sweep-only", action="store_true",
                   help="with --sweep: a report of the sweeps alone (no GD runs at widths)")
    p.add_argument("--note", action="append", default=None, metavar="TEXT",
                   help="with --sweep-only: a paragraph placed under the title, e.g. the "
                        "machine the sweeps ran on (repeatable; printed as given) (default: none)")
    p.add_argument("--no-sweep", action="store_true",
                   help="skip the default report's small init-kind width-scaling sweep")
    p.add_argument("--n-boot", type=int, default=d["n_boot"],
                   help="bootstrap replicates of the width thresholds (default: %(default)s)")
    add_verdict_options(p.add_argument_group(
        "verdicts (as in 'implicit-verify run'; passed to every run of the report)"))
    p.add_argument("--no-findings", action="store_true",
                   help="skip the known-issue computations on the final parameters "
                        "(eq. 14/16 Gram variants, exact zeros of pre-activations)")
    p.set_defaults(func=main)
    return p


# ============================================================================ helpers




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
        parts += data_argv(args)
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
    if getattr(args, "n_boot", DEFAULTS["n_boot"]) != DEFAULTS["n_boot"]:
        parts += ["--n-boot", str(args.n_boot)]
    if args.format != DEFAULTS["format"]:
        parts += ["--format", args.format]
    if args.dpi != DEFAULTS["dpi"]:
        parts += ["--dpi", str(args.dpi)]
    parts += ["--out", str(out)]
    return " ".join(shlex.quote(p) for p in parts)










#: record["data"] keys that identify the data of a run (notes and paths may differ in text).




# ============================================================================ the report






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
        check_data_value(args.data)
        if args.data in ("digits", "synthetic"):
            n0 = DEFAULTS["n"] if args.n is None else int(args.n)
            d0 = 64 if args.data == "digits" else int(args.d or DEFAULTS_ALL["synthetic_d"])
            _check_memory(widths, n0, d0, args.allow_large)
    else:
        for d in args.from_dirs:
            if not (Path(d) / "record.json").is_file():
                raise invalid("--from", d, "has no record.json",
                              "pass run directories written by 'implicit-verify run' or a report")
    _check_sweep_args(args)
    out = Path(args.out) if args.out else _default_out(args.theorem, str(args.data))
    check_force_target(out, bool(args.force), _inputs(args))
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








def _inputs(args: argparse.Namespace) -> list[tuple[str, str]]:
    """The paths this command reads (``--out`` may never be, or contain, one of them)."""
    found = [("--from", str(d)) for d in args.from_dirs or ()]
    found += [("--sweep", str(d)) for d in getattr(args, "sweep", None) or ()]
    data = getattr(args, "data", None)
    if isinstance(data, str) and data not in ("digits", "synthetic") and Path(data).exists():
        found.append(("--data", data))
    return found


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
            ds = _load_data(args)
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
        from verify.report.make import make_report  # numpy, matplotlib: after parsing

        files, summary = make_report(runs, command=command, findings=findings, wall=wall,
                                     made_here=made_here, formats=formats, dpi=int(args.dpi),
                                     kernels=kern, sweeps=sweeps)
        _write_files(stage, files)
        _commit(stage, out, bool(args.force), _inputs(args))
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
        _commit(stage, out, bool(args.force), _inputs(args))
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
