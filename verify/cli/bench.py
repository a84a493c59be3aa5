"""``implicit-verify bench {gram, solver, step}``: parse, call :mod:`verify.bench`, print."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

import torch

from bounds._args import (
    MAX_DIM,
    MAX_SEED,
    check_memory,
    parse_float,
    parse_float_list,
    parse_int,
)
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
from verify.model.validate import resolve_device, run_bytes

__all__ = ["add_parser"]


def _header(args: argparse.Namespace, dev: torch.device) -> str:
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    return (f"# implicit-verify bench {args.target}: device={dev} ({name}), dtype={args.dtype}, "
            f"threads={torch.get_num_threads()}, seed={args.seed}, torch {torch.__version__}")


#: ``--threads`` above this many per CPU core only oversubscribes (and libgomp runs out of
#: memory for absurd counts).
_THREADS_PER_CORE = 4


def _check(args: argparse.Namespace) -> tuple[torch.device, list[tuple[int, int]], list[float] | None]:
    """Every option checked before anything is measured (one-line errors naming the option)."""
    dev = resolve_device(args.device, "--device")
    sizes = parse_sizes(args.sizes)
    parse_int("--repeat", args.repeat, 1, 1000)
    parse_int("--reference-repeat", args.reference_repeat, 1, 1000)
    parse_int("--seed", args.seed, 0, MAX_SEED)
    d = parse_int("--d", args.d, 1, MAX_DIM)
    parse_float("--gamma", args.gamma, low=0.0, high=1.0, low_open=True, high_open=True)
    parse_float("--tol", args.tol, low=0.0, high=1.0, low_open=True, high_open=True)
    gammas = None
    if args.gammas:
        gammas = parse_float_list("--gammas", args.gammas, low=0.0, high=1.0, low_open=True,
                                  high_open=True, fix="use e.g. --gammas 0.1,0.5,0.9")
    if args.threads is not None:
        parse_int("--threads", args.threads, 1, _THREADS_PER_CORE * (os.cpu_count() or 1),
                  f"use e.g. --threads 1 (at most {_THREADS_PER_CORE} per CPU core)")
    for n, m in sizes:
        # network, states, Grams and (gram) the n×(m² + md) Jacobian of the reference
        jac = n * (m * m + m * d) if args.target == "gram" else 0
        check_memory(run_bytes(n, m, d) + 8 * jac, "--sizes", args.sizes,
                     f"size {n}x{m}", allow_large=args.allow_large, smaller="use smaller sizes")
    return dev, sizes, gammas


def _run(args: argparse.Namespace) -> int:
    """Measure; torch's thread count is restored afterwards (the CLI may be called as a library)."""
    dev, sizes, gammas = _check(args)
    threads0 = torch.get_num_threads()
    try:
        if args.threads is not None:
            torch.set_num_threads(args.threads)
        return _measure(args, dev, sizes, gammas)
    finally:
        torch.set_num_threads(threads0)


def _measure(args: argparse.Namespace, dev: torch.device, sizes: list[tuple[int, int]],
             gammas: list[float] | None) -> int:
    common = dict(device=dev, dtype=args.dtype, d=args.d, seed=args.seed)
    if args.target == "gram":
        rows: Sequence[Any] = bench_gram(sizes, repeat=args.repeat, reference_repeat=args.reference_repeat,
                                         gamma=args.gamma, quiet=args.json, **common)
        fmt: Callable[[Sequence[Any]], str] = format_gram
        tail = ("speedup = t_reference/t_structured (Gram only); with_state adds the state's "
                "solves to the structured side. Reference: per-sample autograd through the "
                "implicit backward, then JJᵀ.")
    elif args.target == "solver":
        rows = bench_solver(sizes, gammas=gammas or DEFAULT_SOLVER_GAMMAS, tol=args.tol, **common)
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
    p.add_argument("target", choices=("gram", "solver", "step"), help="what to measure")
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
    p.add_argument("--allow-large", action="store_true",
                   help="measure even when the memory estimate exceeds the available memory")
    p.set_defaults(func=_run)
    return p
