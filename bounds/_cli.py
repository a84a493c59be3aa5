"""``implicit-verify bounds``: what G22 requires and promises for a data set.

Registered by :mod:`verify.cli` through :func:`add_parser`.  All work is done by
:func:`bounds._report.bounds_report`; this module parses arguments and prints.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

from bounds._args import (
    check_memory,
    format_bytes,
    format_seconds,
    notice,
    parse_float,
    parse_hidden,
    parse_int,
)
from bounds._datacli import add_data_options, check_data_value, dataset_from_args
from bounds._defaults import DEFAULTS
from bounds._errors import InvalidArgument, invalid
from bounds._hidden import HIDDEN_CONSTANTS

__all__ = ["add_parser", "run", "synthetic_data"]


def bounds_report(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """:func:`bounds._report.bounds_report`, imported on the first call (scipy and sympy take
    seconds to import: a usage error answers before)."""
    from bounds._report import bounds_report as report

    return report(*args, **kwargs)


def synthetic_data(n: int, d: int, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Unit-norm Gaussian rows (n×d) and Rademacher labels, from ``numpy.random.default_rng(seed)``."""
    import numpy as np

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    y = rng.choice(np.array([-1.0, 1.0]), size=n)
    return X, y


def _parse_synthetic(text: str) -> tuple[int, int]:
    parts = text.split(",")
    if len(parts) != 2:
        raise invalid("--synthetic", text, "must be two integers N,D", "e.g. --synthetic 50,10")
    try:
        n, d = (parse_int("--synthetic", p, 1) for p in parts)
    except ValueError as exc:
        raise invalid("--synthetic", text, "N and D must be integers ≥ 1", "e.g. --synthetic 50,10") from exc
    return n, d


#: n×n float64 arrays held at once by :func:`bounds_report` (cosines, arccos, G∞, the
#: eigenvalue solver's copy and workspace): the memory estimate is this × 8n² bytes.
_NN_ARRAYS = 5
#: rough flop rate of a symmetric eigenvalue solve on one core (flop/s), for the time estimate.
_FLOPS = 5e9


def estimate(n: int, d: int) -> tuple[float, float]:
    """Rough ``(bytes, seconds)`` of ``bounds`` on n samples in d dimensions: the n×n arrays
    and the O(n³) eigenvalue solve (≈ 4n³ flops) plus the O(n²d) Gram."""
    return 8.0 * (_NN_ARRAYS * n * n + n * d), (4.0 * n**3 + 2.0 * n * n * d) / _FLOPS


def check_size(n: int, d: int, allow_large: bool, name: str, value: Any) -> None:
    """Refuse above the available memory; warn (stderr) when the work takes more than ~10 s."""
    nbytes, secs = estimate(n, d)
    check_memory(nbytes, name, value, f"n = {n} (n×n Gram matrices and their eigenvalues)",
                 allow_large=allow_large, smaller="use fewer samples")
    if secs > 10:
        notice("implicit-verify bounds", f"n = {n}: expect about {format_seconds(secs)} and "
               f"{format_bytes(nbytes)} (O(n³) eigenvalues, O(n²) memory); Ctrl-C stops")


def _parse_hidden(items: list[str] | None) -> dict[str, float]:
    return parse_hidden(items)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``bounds`` sub-command to ``subparsers`` (sets ``func=run``)."""
    p = subparsers.add_parser(
        "bounds",
        help="width, γ and step conditions of G22 for a data set, with every bound's value",
        description=(
            "Evaluate the conditions and bounds of Gao et al. (ICLR 2022) for a data set: "
            "λ0, the operator-norm constant c, required widths (binding one marked), γ_max, "
            "step limit, all claim bounds with provenance, the data audit and the paper's "
            "known issues with numbers. Hidden Ω/O constants default to 1 and are listed. "
            "Also this toolkit's infinite-width kernels (provenance 'derived', digest C): "
            "λ_min(H∞) of the exact limiting NTK and λ_min(K∞) of the NNGP fixed point at γ "
            "(--gamma, default γ_max), with the lazy-regime rate 1 − α·λ_min(H∞)/2 beside the "
            "paper's 1 − αλ0/2."
        ),
    )
    src = p.add_argument_group("data (one of --data or --synthetic; the same --data values and "
                               "options as run, report, sweep)")
    add_data_options(src, default=None)
    src.add_argument("--synthetic", metavar="N,D",
                     help="N unit-norm Gaussian samples in D dimensions, Rademacher labels "
                          "(with --seed; the same draw as --data synthetic --n N --d D "
                          "--data-seed SEED) (default: none)")
    p.add_argument("--delta", default=str(DEFAULTS["delta"]), help="failure probability δ")
    p.add_argument("--format", choices=("table", "json", "latex"), default="table",
                   help="table: aligned text; json: one object; latex: a tabular of the "
                        "conditions with their formulas")
    p.add_argument("--mode", choices=("gd", "gf"), default=DEFAULTS["mode"],
                   help="gd: Thm 3.2 / Lemma 3.6; gf: Thm 3.1 / Lemma 3.5")
    p.add_argument("--m", default=None, help="width to check (default: none, only the required width is printed)")
    p.add_argument("--gamma", default=None, help="γ to check (default: none)")
    p.add_argument("--step", default=None, help="GD step α to check (default: none)")
    p.add_argument("--c", default=None,
                   help="operator-norm constant c (default: explicit Gaussian tail bound)")
    p.add_argument("--e0-norm", default=None, dest="e0_norm",
                   help="‖ŷ(0) − y‖ (default: expectation estimate at initialisation)")
    p.add_argument("--hidden", action="append", metavar="NAME=VALUE",
                   help="value of a hidden constant (repeatable), e.g. C_width=2; names: "
                        + "; ".join(f"{k} ({v})" for k, v in HIDDEN_CONSTANTS.items())
                        + " (default: each 1)")
    p.add_argument("--seed", default="0", help="seed for --synthetic")
    p.add_argument("--allow-large", action="store_true",
                   help="run even when the memory estimate exceeds the available memory")
    p.set_defaults(func=run)
    return p


def _opt_float(name: str, text: Any, **kw: Any) -> float | None:
    return None if text is None else parse_float(name, text, **kw)


def run(args: argparse.Namespace) -> int:
    """Execute ``implicit-verify bounds``; returns the exit status."""
    delta = parse_float("--delta", args.delta, low=0.0, high=1.0, low_open=True, high_open=True)
    m = None if args.m is None else parse_int("--m", args.m, 1)
    gamma = _opt_float("--gamma", args.gamma, low=0.0, low_open=True)
    alpha = _opt_float("--step", args.step, low=0.0, low_open=True)
    c = _opt_float("--c", args.c, low=0.0, low_open=True)
    e0 = _opt_float("--e0-norm", args.e0_norm, low=0.0)
    seed = parse_int("--seed", args.seed, 0, 2**63 - 1, "pass --seed <int ≥ 0>, e.g. --seed 0")
    if args.data is None and args.synthetic is None:
        args.data = DEFAULTS["data"]
    if (args.data is None) == (args.synthetic is None):
        raise invalid("--data" if args.data is not None else "--synthetic",
                      args.data if args.data is not None else None,
                      "give exactly one of --data and --synthetic",
                      "pass e.g. --data digits, --data my.npz or --synthetic 32,8")
    if args.data is not None:
        check_data_value(args.data)
    hidden = _parse_hidden(args.hidden)
    try:
        return _run(args, delta, m, gamma, alpha, c, e0, seed, hidden)
    except InvalidArgument as exc:  # name the option, not the library argument
        head, sep, rest = str(exc).partition("=")
        if head in ("X", "y") and args.data is not None:  # inside the data file
            raise InvalidArgument(f"--data {args.data}: {exc}") from None
        if sep and " " not in head and not head.startswith("--"):
            option = _OPTIONS.get(head.split("[")[0], "--" + head.replace("_", "-"))
            raise InvalidArgument(option + sep + rest) from None
        raise


#: library argument → option of ``implicit-verify bounds``.
_OPTIONS = {"path": "--data", "alpha": "--step", "hidden": "--hidden",
            "e0_norm": "--e0-norm"}


def _run(args: argparse.Namespace, delta: float, m: int | None, gamma: float | None,
         alpha: float | None, c: float | None, e0: float | None, seed: int,
         hidden: dict[str, float]) -> int:
    if args.data is not None:
        ds = dataset_from_args(args, allow_large=bool(args.allow_large), require_labels=False)
        X, y = ds.X, ds.y
        blame = ("--n", args.n) if getattr(args, "n", None) is not None else ("--data", args.data)
        check_size(X.shape[0], X.shape[1], args.allow_large, *blame)
    else:
        n, d = _parse_synthetic(args.synthetic)
        check_memory(8.0 * n * d * 2, "--synthetic", args.synthetic, f"{n}×{d} synthetic data",
                     allow_large=args.allow_large, smaller="use fewer samples or dimensions")
        check_size(n, d, args.allow_large, "--synthetic", args.synthetic)
        X, y = synthetic_data(n, d, seed)
    from bounds._report import format_latex, format_table


    report = bounds_report(X, y, delta=delta, mode=args.mode, m=m, gamma=gamma,
                           alpha=alpha, c=c, e0_norm=e0, hidden=hidden)
    if args.format == "json":
        text = json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False)
    elif args.format == "latex":
        text = format_latex(report)
    else:
        text = format_table(report)
    sys.stdout.write(text + "\n")
    return 0
