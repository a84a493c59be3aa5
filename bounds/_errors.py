"""Error hierarchy shared by :mod:`bounds` and :mod:`verify`.

Violated *theory* assumptions are verdicts, never exceptions.  Exceptions are for
inputs the toolkit cannot work with (wrong shapes, NaN, γ ≤ 0, …) and for solver
failures when the caller asked for ``throw=True``.  Every message names the
argument, the value received and how to fix it.
"""

from __future__ import annotations

__all__ = ["VerifyError", "InvalidArgument", "SolverError", "invalid"]


class VerifyError(Exception):
    """Base class of every error raised on purpose by implicit-verify."""


class InvalidArgument(VerifyError, ValueError):
    """An argument is outside what the function accepts.

    The message has the form ``"<name>=<value!r>: <what is wrong>; <fix>"``.
    """


class SolverError(VerifyError, RuntimeError):
    """A fixed-point / adjoint solve did not converge and ``throw=True`` was set."""


def invalid(name: str, value: object, problem: str, fix: str) -> InvalidArgument:
    """Build an :class:`InvalidArgument` with the standard message layout."""
    shown = repr(value)
    if len(shown) > 120:
        shown = shown[:117] + "..."
    return InvalidArgument(f"{name}={shown}: {problem}; {fix}")
