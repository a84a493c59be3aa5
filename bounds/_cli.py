"""``implicit-verify bounds``: what G22 requires and promises for a data set.

Registered by :mod:`verify.cli` through :func:`add_parser`.  All work is done by
:func:`bounds._report.bounds_report`; this module parses arguments and prints.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import numpy as np

from bounds._data import load_data
from bounds._errors import invalid
from bounds._report import bounds_report, format_latex, format_table

__all__ = ["add_parser", "run", "synthetic_data"]


def synthetic_data(n: int, d: int, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Unit-norm Gaussian rows (n×d) and Rademacher labels, from ``numpy.random.default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    y = rng.choice(np.array([-1.0, 1.0]), size=n)
    return X, y


def _parse_synthetic(text: str) -> tuple[int, int]:
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        n, d = (int(p) for p in parts)
    except ValueError as exc:
        raise invalid("--synthetic", text, "must be two integers N,D", "e.g. --synthetic 50,10") from exc
    if n < 1 or d < 1:
        raise invalid("--synthetic", text, "N and D must be ≥ 1", "e.g. --synthetic 50,10")
    return n, d


def _parse_hidden(items: list[str] | None) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError as exc:
            raise invalid("--hidden", item, "must look like NAME=VALUE",
                          "e.g. --hidden C_width_lemma=8192") from exc
    return out


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
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", metavar="FILE",
                     help=".npz (arrays X, y), .npy (X) or .csv (header ending in 'y' → labels)")
    src.add_argument("--synthetic", metavar="N,D",
                     help="N unit-norm Gaussian samples in D dimensions, Rademacher labels")
    p.add_argument("--delta", type=float, default=0.01, help="failure probability δ (0.01)")
    p.add_argument("--format", choices=("table", "json", "latex"), default="table")
    p.add_argument("--mode", choices=("gd", "gf"), default="gd",
                   help="gd: Thm 3.2 / Lemma 3.6; gf: Thm 3.1 / Lemma 3.5")
    p.add_argument("--m", type=int, default=None, help="width to check")
    p.add_argument("--gamma", type=float, default=None, help="γ to check")
    p.add_argument("--step", type=float, default=None, help="GD step α to check")
    p.add_argument("--c", type=float, default=None,
                   help="operator-norm constant c (default: explicit Gaussian tail bound)")
    p.add_argument("--e0-norm", type=float, default=None, dest="e0_norm",
                   help="‖ŷ(0) − y‖ (default: expectation estimate at initialisation)")
    p.add_argument("--hidden", action="append", metavar="NAME=VALUE",
                   help="value of a hidden constant (repeatable), e.g. C_width=2")
    p.add_argument("--seed", type=int, default=0, help="seed for --synthetic (0)")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Execute ``implicit-verify bounds``; returns the exit status."""
    if args.data is not None:
        X, y = load_data(args.data)
    else:
        n, d = _parse_synthetic(args.synthetic)
        X, y = synthetic_data(n, d, args.seed)
    report = bounds_report(X, y, delta=args.delta, mode=args.mode, m=args.m, gamma=args.gamma,
                           alpha=args.step, c=args.c, e0_norm=args.e0_norm,
                           hidden=_parse_hidden(args.hidden))
    if args.format == "json":
        text = json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False)
    elif args.format == "latex":
        text = format_latex(report)
    else:
        text = format_table(report)
    sys.stdout.write(text + "\n")
    return 0
