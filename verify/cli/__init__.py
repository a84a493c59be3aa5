"""The ``implicit-verify`` command line: one thin module per sub-command.

This package owns argument parsing and printing only; each sub-command module parses, calls the
library (:mod:`verify.experiment`, :mod:`verify.report`, :mod:`verify.bench`, :mod:`bounds`) and
prints. It may import every other part of :mod:`verify` and :mod:`bounds`; nothing in
:mod:`verify` imports it (``tests/test_architecture.py``).

Sub-commands are listed in ``_SUBCOMMANDS`` (name → module), so adding one is one line here
plus the module:

* ``bounds``  → :mod:`bounds._cli`
* ``run``     → :mod:`verify.cli.run`
* ``report``  → :mod:`verify.cli.report`
* ``bench``   → :mod:`verify.cli.bench`
* ``sweep``   → :mod:`verify.cli.sweep`

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
    ("run", "verify.cli.run"),
    ("report", "verify.cli.report"),
    ("bench", "verify.cli.bench"),
    ("sweep", "verify.cli.sweep"),
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
