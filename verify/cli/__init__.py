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
* ``figure1`` → :mod:`verify.cli.figure1`

Each module exposes ``add_parser(subparsers)`` which adds its parser and sets
``func=callable(args) -> int`` as the default.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from bounds._errors import VerifyError

_SUBCOMMANDS = (
    ("bounds", "bounds._cli"),
    ("run", "verify.cli.run"),
    ("report", "verify.cli.report"),
    ("bench", "verify.cli.bench"),
    ("sweep", "verify.cli.sweep"),
    ("figure1", "verify.cli.figure1"),
)


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line (option, value, fix) and exit 2.

    ``add_subparsers`` builds the sub-command parsers with the same class, and every parser's
    help uses :class:`bounds._args.HelpFormatter` (each option's default stated once)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from bounds._args import HelpFormatter

        kwargs["formatter_class"] = HelpFormatter
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}; see {self.prog} --help\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="implicit-verify",
        description=(
            "Check convergence theorems for implicit (deep-equilibrium) ReLU networks "
            "numerically: bound calculations, instrumented gradient descent, reports."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for _name, module in _SUBCOMMANDS:
        importlib.import_module(module).add_parser(sub)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("implicit-verify")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run one sub-command; returns the exit status.

    0 success; 2 a usage or input error (one line on stderr: the option, the value, a fix;
    never a traceback), also for files that cannot be read or written and for work that does
    not fit in memory; 130/143 a run stopped by SIGINT/SIGTERM after saving its checkpoint.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2, one line already printed)
        return exc.code if isinstance(exc.code, int) else 2
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    prog = f"implicit-verify {args.command}"
    try:
        return int(args.func(args) or 0)
    except VerifyError as exc:
        print(f"{prog}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except MemoryError:
        print(f"{prog}: error: out of memory; use smaller sizes (n, --m, --widths, --sizes)",
              file=sys.stderr)
        return 2
    except OSError as exc:  # a file that cannot be read or written
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        print(f"{prog}: error:{where}: {_one_line(exc.strerror or exc)}; check the path, its "
              "permissions and the free disk space", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
