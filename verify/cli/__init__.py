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
import errno
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
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
    not fit in memory; 130/143 a run stopped by SIGINT/SIGTERM after saving its checkpoint;
    141 when the reader of the output went away (a closed pipe); 1 an internal error (one line;
    ``IMPLICIT_VERIFY_TRACEBACK=1`` shows the traceback).
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
    _tolerant_streams()
    try:
        rc = int(args.func(args) or 0)
        sys.stdout.flush()  # here, not at exit: a closed pipe is handled below
        return rc
    except BrokenPipeError:  # the reader went away (`… | head -1`): stop quietly, like cat
        _silence_stdout()
        return 128 + 13  # SIGPIPE's conventional status
    except VerifyError as exc:
        print(f"{prog}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except MemoryError:
        print(f"{prog}: error: out of memory; use smaller sizes (n, --m, --widths, --sizes)",
              file=sys.stderr)
        return 2
    except OSError as exc:  # a file that cannot be read or written
        print(f"{prog}: error: {_os_error(exc, args, parser)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: still one line, never a traceback (unless asked for)
        if os.environ.get("IMPLICIT_VERIFY_TRACEBACK"):
            raise
        print(f"{prog}: internal error: {_one_line(f'{type(exc).__name__}: {exc}')[:300]}; please "
              "report it (set IMPLICIT_VERIFY_TRACEBACK=1 to see the traceback)", file=sys.stderr)
        return 1


def _tolerant_streams() -> None:
    """Output in any locale: characters the terminal's encoding lacks (γ, λ, → under
    ``PYTHONIOENCODING=ascii`` or a C locale) are written as backslash escapes, never a
    ``UnicodeEncodeError``."""
    for stream in (sys.stdout, sys.stderr):
        if getattr(stream, "errors", None) == "strict" and hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # pragma: no cover - a detached or closed stream
                pass


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush raises nothing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # pragma: no cover - stdout without a descriptor
        pass


def _option_strings(parser: argparse.ArgumentParser, command: str) -> dict[str, str]:
    """dest → the sub-command's long option (``from_dir`` → ``--from``)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            return {a.dest: max(a.option_strings, key=len) for a in action.choices[command]._actions
                    if a.option_strings}
    return {}


def _os_error(exc: OSError, args: argparse.Namespace, parser: argparse.ArgumentParser) -> str:
    """``--option='value': <what failed> (<strerror>); <fix>`` naming the option whose path
    failed: the path itself, a file inside it, or a sibling made for it (its lock, its
    staging or temporary files)."""
    why = _one_line(exc.strerror or exc)
    fname = getattr(exc, "filename", None)
    fix = {errno.ENOSPC: "free disk space or choose another place",
           errno.ENAMETOOLONG: "use a shorter path",
           errno.EISDIR: "remove or rename that directory",
           errno.EACCES: "choose a path you can write to", errno.EROFS: "choose a writable place",
           }.get(exc.errno or 0, "check the path, its permissions and the free disk space")
    if not isinstance(fname, str):
        return f"{why}; {fix}"
    opts = _option_strings(parser, str(args.command))
    try:
        f = Path(os.path.abspath(fname))
    except (ValueError, OSError):  # pragma: no cover - an unprintable path
        return f"{fname}: {why}; {fix}"
    for dest, given in sorted(vars(args).items()):
        if dest not in opts:
            continue
        for value in given if isinstance(given, list) else [given]:  # nargs='+' options too
            if not isinstance(value, str) or not value:
                continue
            try:
                v = Path(os.path.abspath(value))
            except (ValueError, OSError):  # pragma: no cover
                continue
            if f == v or v in f.parents or (f.parent == v.parent and v.name and v.name in f.name):
                what = "" if f == v else f" ({f.name})"
                return f"{opts[dest]}={value!r}{what}: {why}; {fix}"
    return f"{fname}: {why}; {fix}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
