"""``implicit-verify bench {gram, solver, step, sweep}``: parse, call :mod:`verify.bench`, print.

``gram`` and ``solver`` share one set of options (:mod:`verify.bench.measure`); ``step`` has
its own (:func:`verify.bench.step.add_arguments`); ``sweep`` times the sweep engine
(:mod:`verify.sweep.bench`)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

import torch

from bounds._errors import invalid
from verify.bench import step as step_bench
from verify.bench.measure import (
    DEFAULT_D,
    DEFAULT_SIZES,
    DEFAULT_SOLVER_GAMMAS,
    bench_gram,
    bench_solver,
    format_gram,
    format_solver,
    parse_sizes,
)
from verify.model.validate import resolve_device

__all__ = ["add_parser"]


def _header(args: argparse.Namespace, dev: torch.device) -> str:
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    return (f"# implicit-verify bench {args.target}: device={dev} ({name}), dtype={args.dtype}, "
            f"threads={torch.get_num_threads()}, seed={args.seed}, torch {torch.__version__}")


def _run(args: argparse.Namespace) -> int:
    dev = resolve_device(args.device, "--device")
    sizes = parse_sizes(args.sizes)
    if args.repeat < 1:
        raise invalid("--repeat", args.repeat, "expected an int ≥ 1", "use e.g. --repeat 3")
    if args.threads is not None:
        if args.threads < 1:
            raise invalid("--threads", args.threads, "expected an int ≥ 1", "use e.g. --threads 1")
        torch.set_num_threads(args.threads)
    common = dict(device=dev, dtype=args.dtype, d=args.d, seed=args.seed)
    if args.target == "gram":
        rows: Sequence[Any] = bench_gram(sizes, repeat=args.repeat, reference_repeat=args.reference_repeat,
                                         gamma=args.gamma, quiet=args.json, **common)
        fmt: Callable[[Sequence[Any]], str] = format_gram
        tail = ("speedup = t_reference/t_structured (Gram only); with_state adds the state's "
                "solves to the structured side. Reference: per-sample autograd through the "
                "implicit backward, then JJᵀ.")
    else:
        gammas = [float(g) for g in args.gammas.split(",")] if args.gammas else DEFAULT_SOLVER_GAMMAS
        rows = bench_solver(sizes, gammas=gammas, tol=args.tol, **common)
        fmt = format_solver
        tail = "predicted = 1 + ⌈log(tol)/log ρ⌉ (verify.predicted_iterations), ρ = γ̃‖A‖₂ measured."
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
    else:
        print(_header(args, dev))
        print(fmt(rows))
        print(tail)
    return 0


def _run_step(args: argparse.Namespace) -> int:
    resolve_device(args.device, "--device")
    return step_bench.run(args)


def _run_sweep(args: argparse.Namespace) -> int:
    from verify.sweep.bench import run_bench

    return run_bench(args)


def _common(p: argparse.ArgumentParser, target: str) -> None:
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto")
    p.add_argument("--dtype", default="float64", choices=("float64", "float32"))
    p.add_argument("--sizes", default=DEFAULT_SIZES, help="comma-separated n×m sizes")
    p.add_argument("--repeat", type=int, default=3, help="repeats (best time is reported)")
    p.add_argument("--reference-repeat", type=int, default=1,
                   help="repeats of the (slow) Jacobian reference in bench gram")
    p.add_argument("--gamma", type=float, default=0.1, help="fixed scale γ (gram)")
    p.add_argument("--gammas", default=None,
                   help="comma-separated γ values for bench solver "
                        f"(default {','.join(str(g) for g in DEFAULT_SOLVER_GAMMAS)})")
    p.add_argument("--tol", type=float, default=1e-12, help="solver tolerance (bench solver)")
    p.add_argument("--d", type=int, default=DEFAULT_D, help="input dimension of the synthetic data")
    p.add_argument("--seed", type=int, default=0, help="initialisation and data seed")
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (torch.set_num_threads); default: torch's choice. On a "
                        "shared, oversubscribed CPU, 1 thread can be several times faster")
    p.add_argument("--json", action="store_true", help="print a JSON list of rows instead of a table")
    p.set_defaults(func=_run, target=target)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``bench`` on the dispatcher's subparsers (see :mod:`verify.cli`)."""
    p = subparsers.add_parser(
        "bench",
        help="measure costs: structured vs Jacobian Gram, solver iterations, the GD step",
        description=(
            "gram: structured empirical NTK (O(n²m) from the state) vs the per-sample autograd "
            "Jacobian Gram — times, speed-up, max relative difference, memory (the reference "
            "takes about a minute at 256x1024 on a CPU). solver: Picard iterations vs the "
            "contraction prediction for several γ. step: the bare GD step vs the instrumented "
            "step of the GD loop (default observation schedule), the same number of "
            "(n×m)·(m×m) products, torchdeq (when installed) and batched seeds vs one at a time. "
            "sweep: init cells serial vs a local dask cluster, and dask's per-task overhead."),
    )
    targets = p.add_subparsers(dest="target", metavar="{gram,solver,step,sweep}", required=True)
    fmt = argparse.ArgumentDefaultsHelpFormatter
    _common(targets.add_parser("gram", help="structured vs Jacobian empirical NTK", formatter_class=fmt), "gram")
    _common(targets.add_parser("solver", help="Picard iterations vs the contraction prediction",
                               formatter_class=fmt), "solver")
    sp = targets.add_parser(
        "step", formatter_class=fmt,
        help="GD step: bare vs instrumented vs matmuls vs torchdeq; batched seeds",
        description=(step_bench.__doc__ or "").split("\n\n")[0].replace("``", ""))
    step_bench.add_arguments(sp)
    sp.set_defaults(func=_run_step, target="step")
    sw = targets.add_parser("sweep", formatter_class=fmt,
                            help="sweep engine: init cells serial vs a local dask cluster")
    sw.add_argument("--workers", type=int, default=None,
                    help="local cluster workers (default: the CPUs available)")
    sw.add_argument("--json", action="store_true", help="print the figures as JSON")
    sw.set_defaults(func=_run_sweep, target="sweep")
    return p
