"""``implicit-verify sweep --adaptive``: the options of :mod:`verify.sweep.adaptive` checked
(each refusal names its option), then the design run like any sweep (same engine options, same
interrupt and resume messages as :mod:`verify.cli.sweep`)."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path
from typing import Any

from bounds._args import parse_float, parse_int
from bounds._errors import invalid

__all__ = ["run_adaptive_cli", "default_outcome"]

#: cells per n per round when --seeds is not given
DEFAULT_SEEDS_PER_ROUND = 4


def default_outcome(spec: Any) -> str:
    """The outcome designed for when --outcome is not given."""
    if spec.kind == "init":
        return "lemma33_init"
    return "gd_linear" if spec.budget == "rate" else "gd_reached"


def run_adaptive_cli(args: argparse.Namespace) -> int:
    from verify.cli.sweep import build_spec, check_cell_memory
    from verify.sweep.adaptive import LOG, SEED_POOL, AdaptiveDesign
    from verify.sweep.adaptive_run import read_log, run_adaptive
    from verify.sweep.engine import SweepInterrupted, available_cpus, command_line
    from verify.sweep.spec import MAX_CELLS

    out = Path(args.out)
    saved: dict[str, Any] = read_log(out)["design"] if args.resume and (out / LOG).is_file() else {}
    if args.seeds is not None:
        per_round = parse_int("--seeds", args.seeds, 1, SEED_POOL,
                              "with --adaptive pass --seeds R, the cells per n per round "
                              f"(1 ≤ R ≤ {SEED_POOL}), e.g. --seeds 4")
    else:
        per_round = int(saved.get("seeds_per_round", DEFAULT_SEEDS_PER_ROUND))
    args.seeds = "1"  # the spec's seeds are the design's seed pool (AdaptiveDesign.sweep_spec)
    spec = build_spec(args)
    if spec.kind not in ("init", "gd"):
        raise invalid("--adaptive", True, f"has no design for --kind {spec.kind}",
                      "use --kind init or --kind gd with --adaptive (or drop --adaptive)")
    design = AdaptiveDesign(
        outcome=args.outcome or saved.get("outcome") or default_outcome(spec),
        m_lo=min(spec.m), m_hi=max(spec.m),
        q=(parse_float("--quantile", args.quantile, low=0.0, high=1.0, low_open=True,
                       high_open=True, fix="pass e.g. --quantile 0.5")
           if args.quantile is not None else float(saved.get("q", 0.5))),
        target_ci=(parse_float("--target-ci", args.target_ci, low=0.0, low_open=True,
                               fix="pass e.g. --target-ci 0.1 (half-width in log m)")
                   if args.target_ci is not None else float(saved.get("target_ci", 0.1))),
        max_cells=(parse_int("--max-cells", args.max_cells, 1, MAX_CELLS,
                             "pass e.g. --max-cells 500")
                   if args.max_cells is not None else int(saved.get("max_cells", 2000))),
        seeds_per_round=per_round)
    spec = design.sweep_spec(spec)
    from verify.model.validate import resolve_device

    resolve_device(spec.device, "--device")
    cpus = available_cpus()
    workers = None if args.workers is None else parse_int("--workers", args.workers, 1, 4 * cpus)
    retries = parse_int("--retries", args.retries, 0, 1000)
    if args.serial and (args.scheduler or workers):
        raise invalid("--serial", True, "runs without dask", "drop --scheduler/--workers or --serial")
    scheduler = args.scheduler or (None if args.serial else os.environ.get("DASK_SCHEDULER_ADDRESS"))
    if not scheduler:
        check_cell_memory(spec, 1 if args.serial else (workers or cpus), args.allow_large)
    argv = sys.argv[2:] if len(sys.argv) > 2 and sys.argv[1] == "sweep" else None
    cmd = command_line(argv) if argv is not None else None
    again = f"implicit-verify sweep --out {shlex.quote(str(args.out))} --adaptive --resume"
    try:
        res = run_adaptive(spec, design, args.out, scheduler=args.scheduler, workers=workers,
                           serial=args.serial, resume=args.resume, progress=not args.quiet,
                           retries=retries, command=cmd,
                           connect_timeout=(None if args.connect_timeout is None
                                            else float(args.connect_timeout)))
    except SweepInterrupted as stop:
        import signal

        print(f"implicit-verify sweep --adaptive: interrupted by "
              f"{signal.Signals(stop.signum).name}; {stop.saved} cells saved in {args.out}; "
              f"continue with: {again}", file=sys.stderr)
        return 128 + int(stop.signum)
    except KeyboardInterrupt:
        print(f"implicit-verify sweep --adaptive: interrupted; finished cells are in "
              f"{args.out}; continue with: {again}", file=sys.stderr)
        return 130
    fin = res.log.get("final", {})
    stops = ", ".join(f"n={n}: {r}" for n, r in fin.get("stopped", {}).items())
    print(f"sweep --adaptive: {len(res.table)} cells in {fin.get('rounds')} rounds "
          f"({res.computed} computed by this call) in {res.wall_s:.1f} s [{res.engine}]; "
          f"stopped: {stops} → {os.path.join(str(res.out_dir), LOG)}")
    for n, v in fin.get("per_n", {}).items():
        e = v["estimate"]
        print(f"  n = {n}: m*_{design.q:g} ≈ {e['m_star']:.4g} [{e['m_lo']:.4g}, "
              f"{e['m_hi']:.4g}] (credible half-width {e['halfwidth']:.3f} in log m), "
              f"{v['cells_before']} cells")
    sv = fin.get("savings")
    if sv:
        print(f"  a full ×√2 grid {sv['grid'][0]} … {sv['grid'][-1]} ({len(sv['grid'])} widths) "
              f"needs {sv['cells_per_n_seeds']} cells for the same half-width (seeds per cell "
              "per n: " + ", ".join(f"{n}: {v['seeds_per_cell']}" for n, v in sv["per_n"].items())
              + f"): {sv['ratio_per_n_seeds']:.2f}× the adaptive design's cells")
    return 0
