"""The ``implicit-verify`` command line.

Sub-commands are registered by the modules that implement them, so this file stays small:

* ``bounds``  → :mod:`bounds._cli`
* ``run``     → :mod:`verify._run_cli`
* ``report``  → :mod:`verify._report_cli`
* ``bench``   → :mod:`verify._bench`
* ``sweep``   → :mod:`verify.sweep.cli`

Each module exposes ``add_parser(subparsers)`` which adds its parser and sets
``func=callable(args) -> int`` as the default.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from bounds._errors import VerifyError

_SUBCOMMANDS = (
    ("bounds", "bounds._cli"),
    ("run", "verify._run_cli"),
    ("report", "verify._report_cli"),
    ("bench", "verify._bench"),
    ("sweep", "verify.sweep.cli"),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="implicit-verify",
        description=(
            "Check convergence theorems for implicit (deep-equilibrium) ReLU networks "
            "numerically: bound calculations, instrumented gradient descent, reports."
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for _name, module in _SUBCOMMANDS:
        importlib.import_module(module).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except VerifyError as exc:
        print(f"implicit-verify {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
