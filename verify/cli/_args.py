"""Argument checks shared by the sub-commands (``run``, ``report``, ``bench``, a future
``sweep``): one import for option parsing with range checks, seeds, memory estimates and the
library-to-option renaming of error messages.

``run`` and ``report`` share the verdict options (:func:`add_verdict_options`,
:func:`verdict_options`, :func:`verdict_argv`) and :func:`cli_message`.

The pure-Python parts live in :mod:`bounds._args` (so ``implicit-verify bounds`` uses them
without torch); the estimates of the torch side in :mod:`verify.model.validate`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bounds._args import (
    MAX_DIM,
    MAX_SEED,
    available_memory,
    check_memory,
    check_seed,
    format_bytes,
    format_seconds,
    notice,
    parse_float,
    parse_float_list,
    parse_int,
    parse_int_list,
)
from bounds._defaults import DEFAULTS
from bounds._errors import InvalidArgument, invalid

if TYPE_CHECKING:
    from verify.experiment.record import RunLock

__all__ = [
    "add_verdict_options",
    "verdict_argv",
    "verdict_options",
    "MAX_DIM",
    "MAX_SEED",
    "available_memory",
    "check_memory",
    "check_network_memory",
    "check_seed",
    "check_writable_dir",
    "cli_message",
    "format_bytes",
    "format_seconds",
    "network_bytes",
    "notice",
    "parse_float",
    "parse_float_list",
    "parse_int",
    "parse_int_list",
    "run_bytes",
    "RunLock",
]


# The torch side (verify.model.validate, verify.experiment.record) is imported on first call, so
# that parsing and checking the options (and a usage error) does not wait for torch.
def run_bytes(n: int, m: int, d: int, n_test: int = 0, itemsize: int = 8) -> int:
    """:func:`verify.model.validate.run_bytes`."""
    from verify.model.validate import run_bytes as f

    return f(n, m, d, n_test, itemsize)


def network_bytes(m: int, d: int, itemsize: int = 8) -> int:
    """:func:`verify.model.validate.network_bytes`."""
    from verify.model.validate import network_bytes as f

    return f(m, d, itemsize)


def check_network_memory(*args: Any, **kwargs: Any) -> None:
    """:func:`verify.model.validate.check_network_memory`."""
    from verify.model.validate import check_network_memory as f

    f(*args, **kwargs)


def check_writable_dir(path: Any, name: str = "out_dir") -> Path:
    """:func:`verify.experiment.record.check_writable_dir`."""
    from verify.experiment.record import check_writable_dir as f

    return f(path, name)


def __getattr__(name: str) -> Any:
    if name == "RunLock":
        from verify.experiment.record import RunLock

        return RunLock
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: library argument / RunConfig field → the option that sets it.
_OPTION = {"n": "--n", "d": "--d", "seed": "--seed", "n_test": "--n-test", "labels": "--labels",
           "test_fraction": "--test-fraction", "data": "--data", "path": "--data", "X": "--data",
           "y": "--data", "X_test": "--data", "y_test": "--data", "out_dir": "--out",
           "force": "--force", "resume": "--resume", "config": "--out", "m": "--m",
           "step": "--step", "steps": "--steps", "hidden": "--hidden"}


def cli_message(exc: InvalidArgument, options: dict[str, str] | None = None,
                data: Any = None) -> InvalidArgument:
    """The library's ``name=value: …`` message with ``name`` replaced by the CLI option.

    ``data``: the ``--data`` value; a problem inside the data (``X=<array …>: …``) then names the
    file instead of the array's shape."""
    msg = str(exc)
    head, sep, rest = msg.partition("=")
    if not sep or " " in head or head.startswith("--"):
        return exc
    if head in ("X", "y", "X_test", "y_test") and data is not None and ": " in rest:
        return type(exc)(f"--data={str(data)!r}: {head}: {rest.split(': ', 1)[1]}")
    opts = {**_OPTION, **(options or {})}
    if head.startswith("hidden["):
        head = "hidden"
    option = opts.get(head, "--" + head.replace("_", "-"))
    return type(exc)(option + sep + rest)


# ---------------------------------------------------------------- verdict options (run, report)
def add_verdict_options(group: Any) -> None:
    """``--hidden-range``, ``--hypotheses``, ``--gf-threshold`` (see :class:`verify.RunConfig`)."""
    group.add_argument("--hidden-range", default=None, metavar="LO,HI",
                       help="a verdict that depends on a hidden constant is decided only if it is "
                       "the same for every value in [LO, HI] "
                       f"(default {','.join(f'{v:g}' for v in DEFAULTS['hidden_range'])})")
    group.add_argument("--hypotheses", default="paper", choices=("paper", "explicit"),
                       help="claims' hypotheses as stated (paper) or with the proof's explicit "
                       "width constant (explicit)")
    group.add_argument("--gf-threshold", default=None,
                       help="mode gf: check claims only when α·λ_max(H(0)) ≤ this "
                       f"(default {DEFAULTS['gf_threshold']})")


def verdict_options(args: argparse.Namespace) -> dict[str, object]:
    """The :class:`~verify.RunConfig` keywords of the verdict options, checked (option named)."""
    out: dict[str, object] = {"hypotheses": getattr(args, "hypotheses", "paper")}
    if getattr(args, "hidden_range", None) is not None:
        fix = "pass e.g. --hidden-range 1e-3,1e3 (0 < LO ≤ HI)"
        lo_hi = str(args.hidden_range).split(",")
        if len(lo_hi) != 2:
            raise invalid("--hidden-range", args.hidden_range, "expected LO,HI", fix)
        lo, hi = (parse_float("--hidden-range", x, low=0.0, low_open=True, fix=fix) for x in lo_hi)
        if lo > hi:
            raise invalid("--hidden-range", args.hidden_range, "LO is larger than HI", fix)
        out["hidden_range"] = (lo, hi)
    if getattr(args, "gf_threshold", None) is not None:
        out["gf_threshold"] = parse_float("--gf-threshold", args.gf_threshold, low=0.0, low_open=True,
                                          fix="pass e.g. --gf-threshold 0.1")
    return out


def verdict_argv(args: argparse.Namespace) -> list[str]:
    """The verdict options as given, for a reproduce command (defaults left out)."""
    parts: list[str] = []
    for opt in ("hidden_range", "gf_threshold"):
        if getattr(args, opt, None) is not None:
            parts += ["--" + opt.replace("_", "-"), str(getattr(args, opt))]
    if getattr(args, "hypotheses", "paper") != "paper":
        parts += ["--hypotheses", args.hypotheses]
    return parts
