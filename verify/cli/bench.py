"""``implicit-verify bench {gram, solver, step, warm, sweep}``: parse, call :mod:`verify.bench`, print.

``gram`` and ``solver`` share one set of options (:mod:`verify.bench.measure`); ``step`` has
its own (:func:`verify.bench.options.add_step_arguments`); ``warm`` compares solver start points and methods
(:mod:`verify.bench.warm`); ``sweep`` times the sweep engine
(:mod:`verify.sweep.bench`)."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from bounds._args import (
    MAX_DIM,
    MAX_SEED,
    check_memory,
    parse_float,
    parse_float_list,
    parse_int,
)
from verify.bench.options import (
    DEFAULT_D,
    DEFAULT_SIZES,
    DEFAULT_SOLVER_GAMMAS,
    STEP_DESCRIPTION,
    add_step_arguments,
    parse_public,
    parse_sizes,
)
from verify.cli._args import run_bytes

if TYPE_CHECKING:
    import torch

# torch and the measurements (verify.bench.measure, .step) are imported after the options are
# parsed and checked: a usage error answers without waiting for torch.

__all__ = ["add_parser"]


def _header(args: argparse.Namespace, dev: torch.device) -> str:
    import torch

    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    return (f"# implicit-verify bench {args.target}: device={dev} ({name}), dtype={args.dtype}, "
            f"threads={torch.get_num_threads()}, seed={args.seed}, torch {torch.__version__}")


#: ``--threads`` above this many per CPU core only oversubscribes (and libgomp runs out of
#: memory for absurd counts).
_THREADS_PER_CORE = 4


def _threads(args: argparse.Namespace) -> None:
    if args.threads is not None:
        parse_int("--threads", args.threads, 1, _THREADS_PER_CORE * (os.cpu_count() or 1),
                  f"use e.g. --threads 1 (at most {_THREADS_PER_CORE} per CPU core)")


def _sizes_fit(name: str, text: str, sizes: Sequence[tuple[int, int]], d: int, allow_large: bool,
               jacobian: bool = False, copies: int = 1) -> None:
    for n, m in sizes:
        # network, states, Grams and (gram) the n×(m² + md) Jacobian of the reference
        jac = n * (m * m + m * d) if jacobian else 0
        check_memory(copies * run_bytes(n, m, d) + 8 * jac, name, text, f"size {n}x{m}",
                     allow_large=allow_large, smaller="use smaller sizes")


def _check(args: argparse.Namespace) -> tuple[torch.device, list[tuple[int, int]], list[float] | None]:
    """Every option of ``gram``/``solver`` checked before anything is measured."""
    from verify.model.validate import resolve_device

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
    _threads(args)
    _sizes_fit("--sizes", args.sizes, sizes, d, args.allow_large, jacobian=args.target == "gram")
    return dev, sizes, gammas


def _restoring_threads(fn: Callable[[], int]) -> int:
    """Run ``fn``; torch's thread count is restored afterwards (the CLI may be called as a library)."""
    import torch

    threads0 = torch.get_num_threads()
    try:
        return fn()
    finally:
        torch.set_num_threads(threads0)


def _run(args: argparse.Namespace) -> int:
    dev, sizes, gammas = _check(args)

    def go() -> int:
        import torch

        if args.threads is not None:
            torch.set_num_threads(args.threads)
        return _measure(args, dev, sizes, gammas)

    return _restoring_threads(go)


def _measure(args: argparse.Namespace, dev: torch.device, sizes: list[tuple[int, int]],
             gammas: list[float] | None) -> int:
    from verify.bench.measure import bench_gram, bench_solver, format_gram, format_solver

    common = dict(device=dev, dtype=args.dtype, d=args.d, seed=args.seed)
    if args.target == "gram":
        rows: Sequence[Any] = bench_gram(sizes, repeat=args.repeat, reference_repeat=args.reference_repeat,
                                         gamma=args.gamma, quiet=args.json, **common)
        fmt: Callable[[Sequence[Any]], str] = format_gram
        tail = ("speedup = t_reference/t_structured (Gram only); with_state adds the state's "
                "solves to the structured side. Reference: per-sample autograd through the "
                "implicit backward, then JJᵀ.")
    else:
        rows = bench_solver(sizes, gammas=gammas or DEFAULT_SOLVER_GAMMAS, tol=args.tol, **common)
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
    """``bench step``: its options checked first (ranges, memory of the largest size × seeds)."""
    parse_public(args.public)
    parse_int("--public-steps", args.public_steps, 1, 10**6)
    parse_int("--public-repeat", args.public_repeat, 1, 100)
    sizes = parse_sizes(args.sizes)
    batch = parse_sizes(args.batch_sizes, "--batch-sizes") if str(args.batch_sizes).strip() else []
    seeds = parse_int("--seeds", args.seeds, 1, 10_000)
    parse_int("--steps", args.steps, 1, 10**6)
    parse_int("--warmup", args.warmup, 0, 10**6)
    parse_int("--seed", args.seed, 0, MAX_SEED)
    parse_float("--gamma", args.gamma, low=0.0, high=1.0, low_open=True, high_open=True)
    parse_float("--alpha", args.alpha, low=0.0, low_open=True)
    if args.tol is not None:
        parse_float("--tol", args.tol, low=0.0, high=1.0, low_open=True, high_open=True)
    _threads(args)
    from verify.model.validate import resolve_device

    resolve_device(args.device, "--device")
    _sizes_fit("--sizes", args.sizes, sizes, 64, args.allow_large)
    _sizes_fit("--batch-sizes", args.batch_sizes, batch, 64, args.allow_large, copies=seeds)
    from verify.bench import step as step_bench

    return _restoring_threads(lambda: step_bench.run(args))


def _run_warm(args: argparse.Namespace) -> int:
    """``bench warm``: options checked, then :func:`verify.bench.warm.bench_warm`."""
    sizes = parse_sizes(args.sizes)
    steps = parse_int("--steps", args.steps, 1, 10**6)
    warmup = parse_int("--warmup", args.warmup, 0, 10**6)
    seed = parse_int("--seed", args.seed, 0, MAX_SEED)
    gamma = parse_float("--gamma", args.gamma, low=0.0, high=1.0, low_open=True, high_open=True)
    alpha = parse_float("--alpha", args.alpha, low=0.0, low_open=True)
    tol = parse_float("--tol", args.tol, low=0.0, high=1.0, low_open=True, high_open=True)
    _threads(args)
    _sizes_fit("--sizes", args.sizes, sizes, 64, args.allow_large)

    def go() -> int:
        import torch

        from verify.bench.warm import bench_warm, format_warm, to_json

        torch.set_num_threads(args.threads)
        rows = bench_warm(sizes, steps=steps, warmup=warmup, gamma=gamma, alpha=alpha, tol=tol, seed=seed)
        print(json.dumps(to_json(rows), indent=2) if args.json else format_warm(rows, tol))
        return 0

    return _restoring_threads(go)


def _run_sweep(args: argparse.Namespace) -> int:
    from verify.sweep.bench import run_bench

    if args.workers is not None:
        parse_int("--workers", args.workers, 1, 4 * (os.cpu_count() or 1), "use e.g. --workers 2")
    return run_bench(args)


def _allow_large(p: argparse.ArgumentParser) -> None:
    p.add_argument("--allow-large", action="store_true",
                   help="measure even when the memory estimate exceeds the available memory")


def _common(p: argparse.ArgumentParser, target: str) -> None:
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto")
    p.add_argument("--dtype", default="float64", choices=("float64", "float32"),
                   help="floating-point precision of the measured computation")
    p.add_argument("--sizes", default=DEFAULT_SIZES, help="comma-separated n×m sizes")
    p.add_argument("--repeat", type=int, default=3, help="repeats (best time is reported)")
    if target == "gram":
        p.add_argument("--reference-repeat", type=int, default=1,
                       help="repeats of the (slow) Jacobian reference")
        p.add_argument("--gamma", type=float, default=0.1, help="fixed scale γ")
        p.set_defaults(gammas=None, tol=1e-12)
    else:
        p.add_argument("--gammas", default=None,
                       help="comma-separated γ values "
                            f"(default {','.join(str(g) for g in DEFAULT_SOLVER_GAMMAS)})")
        p.add_argument("--tol", type=float, default=1e-12, help="solver tolerance")
        p.set_defaults(reference_repeat=1, gamma=0.1)
    p.add_argument("--d", type=int, default=DEFAULT_D, help="input dimension of the synthetic data")
    p.add_argument("--seed", type=int, default=0, help="initialisation and data seed")
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (torch.set_num_threads); default: torch's choice. On a "
                        "shared, oversubscribed CPU, 1 thread can be several times faster")
    p.add_argument("--json", action="store_true", help="print a JSON list of rows instead of a table")
    _allow_large(p)
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
            "contraction prediction for several γ. step: the public run_gd per step (--public) and "
            "the bare GD step vs the instrumented step of the GD loop (default observation "
            "schedule), the same number of (n×m)·(m×m) products, torchdeq (when installed) and "
            "batched seeds vs one at a time. warm: solver start points and methods at equal "
            "certified error. "
            "sweep: init cells serial vs a local dask cluster, and dask's per-task overhead."),
    )
    targets = p.add_subparsers(dest="target", metavar="{gram,solver,step,warm,sweep}", required=True)
    fmt = argparse.ArgumentDefaultsHelpFormatter
    _common(targets.add_parser("gram", help="structured vs Jacobian empirical NTK", formatter_class=fmt), "gram")
    _common(targets.add_parser("solver", help="Picard iterations vs the contraction prediction",
                               formatter_class=fmt), "solver")
    sp = targets.add_parser(
        "step", formatter_class=fmt,
        help="GD step: public run_gd, bare, instrumented, matmuls, torchdeq; batched seeds",
        description=STEP_DESCRIPTION)
    add_step_arguments(sp)
    _allow_large(sp)
    sp.set_defaults(func=_run_step, target="step")
    wp = targets.add_parser(
        "warm", formatter_class=fmt,
        help="solver iterations per GD step: warm-start extrapolation, Anderson and Gauss–Seidel vs Picard",
        description="K_fwd + K_adj and time per GD step at equal certified error (every solve "
        "stopped at the same relative residual; the contraction bound certifies ρ·tol/(1 − ρ)) for "
        "Picard from the previous step (the baseline), Picard from the extrapolation 2Z(k−1) − Z(k−2), "
        "Anderson and block Gauss–Seidel (the run's default), each with and without it.")
    wp.add_argument("--sizes", default="128x512", help="comma-separated n×m sizes (digits when n ≤ 180)")
    wp.add_argument("--steps", type=int, default=20, help="timed GD steps per variant")
    wp.add_argument("--warmup", type=int, default=3, help="untimed GD steps first")
    wp.add_argument("--gamma", type=float, default=0.1, help="fixed scale γ of the network")
    wp.add_argument("--alpha", type=float, default=0.01, help="GD step size")
    wp.add_argument("--tol", type=float, default=1e-12, help="relative residual tolerance of every solve")
    wp.add_argument("--seed", type=int, default=0, help="initialisation and data seed")
    wp.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    wp.add_argument("--json", action="store_true", help="print the rows as JSON")
    _allow_large(wp)
    wp.set_defaults(func=_run_warm, target="warm")
    sw = targets.add_parser("sweep", formatter_class=fmt,
                            help="sweep engine: init cells serial vs a local dask cluster")
    sw.add_argument("--workers", type=int, default=None,
                    help="local cluster workers (default: the CPUs available)")
    sw.add_argument("--json", action="store_true", help="print the figures as JSON")
    sw.set_defaults(func=_run_sweep, target="sweep")
    return p
