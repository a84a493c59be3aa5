"""``implicit-verify bench {gram, solver, step}``: parse, call :mod:`verify.bench`, print."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

import torch

from bounds._errors import invalid
from verify.bench.measure import (
    DEFAULT_D,
    DEFAULT_SIZES,
    DEFAULT_SOLVER_GAMMAS,
    bench_gram,
    bench_solver,
    bench_step,
    format_gram,
    format_solver,
    format_step,
    parse_sizes,
)
from verify.model.validate import resolve_device

__all__ = ["add_parser"]


def _header(args: argparse.Namespace, dev: torch.device) -> str:
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    return (f"# implicit-verify bench {args.target}: device={dev} ({name}), dtype={args.dtype}, "
            f"threads={torch.get_num_threads()}, seed={args.seed}, torch {torch.__version__}")


def _run(args: argparse.Namespace) -> int:
    if args.target == "sweep":
        from verify.sweep.bench import run_bench

        return run_bench(args)
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
    elif args.target == "solver":
        gammas = [float(g) for g in args.gammas.split(",")] if args.gammas else DEFAULT_SOLVER_GAMMAS
        rows = bench_solver(sizes, gammas=gammas, tol=args.tol, **common)
        fmt = format_solver
        tail = "predicted = 1 + ⌈log(tol)/log ρ⌉ (verify.predicted_iterations), ρ = γ̃‖A‖₂ measured."
    else:
        rows = bench_step(sizes, repeat=args.repeat, gamma=args.gamma, **common)
        fmt = format_step
        tail = ("ratio = (state + gradients) / (matmuls × (n×m)·(m×m) products); ratio_no_svd "
                "subtracts the O(m³) SVD for γ̃‖A‖₂ inside the state (one per state).")
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
    else:
        print(_header(args, dev))
        print(fmt(rows))
        print(tail)
    return 0


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``bench`` on the dispatcher's subparsers (see :mod:`verify.cli`)."""
    p = subparsers.add_parser(
        "bench",
        help="measure costs: structured vs Jacobian Gram, solver iterations, GD step vs matmuls",
        description=(
            "gram: structured empirical NTK (O(n²m) from the state) vs the per-sample autograd "
            "Jacobian Gram — times, speed-up, max relative difference, memory (the reference "
            "takes about a minute at 256x1024 on a CPU). solver: Picard iterations vs the "
            "contraction prediction for several γ. step: one GD step vs the time of the same "
            "number of (n×m)·(m×m) products."),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("target", choices=("gram", "solver", "step", "sweep"),
                   help="what to measure (sweep: init cells serial vs a local dask cluster)")
    p.add_argument("--workers", type=int, default=None,
                   help="bench sweep: local cluster workers (default: the CPUs available)")
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto")
    p.add_argument("--dtype", default="float64", choices=("float64", "float32"))
    p.add_argument("--sizes", default=DEFAULT_SIZES, help="comma-separated n×m sizes")
    p.add_argument("--repeat", type=int, default=3, help="repeats (best time is reported)")
    p.add_argument("--reference-repeat", type=int, default=1,
                   help="repeats of the (slow) Jacobian reference in bench gram")
    p.add_argument("--gamma", type=float, default=0.1, help="fixed scale γ (gram, step)")
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
    p.set_defaults(func=_run)
    return p
