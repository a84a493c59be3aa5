"""Error hierarchy shared by :mod:`bounds` and :mod:`verify`.

Violated *theory* assumptions are verdicts, never exceptions.  Exceptions are for
inputs the toolkit cannot work with (wrong shapes, NaN, γ ≤ 0, …) and for solver
failures when the caller asked for ``throw=True``.  Every message names the
argument, the value received and how to fix it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["VerifyError", "InvalidArgument", "SolverError", "invalid", "check_int", "check_real",
           "check_real_array", "check_choice", "check_bool", "check_path", "check_size"]


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


# ---------------------------------------------------------------- shared argument checks
# One place for the checks every public function of bounds/verify makes first (issue 21): each
# returns the normalised value or raises InvalidArgument naming the argument, value and fix.

def check_int(name: str, value: Any, minimum: int | None = None, maximum: int | None = None,
              fix: str | None = None, *, allow_none: bool = False) -> Any:
    """An integer (not a bool, not a float) in ``[minimum, maximum]``; ``None`` if allowed."""
    if value is None and allow_none:
        return None
    lo = "" if minimum is None else f" ≥ {minimum}"
    hi = "" if maximum is None else f" ≤ {maximum}"
    fix = fix or f"pass an integer{lo}{' and' if lo and hi else ''}{hi} for {name}"
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise invalid(name, value, f"expected an integer{lo}{hi}", fix)
    v = int(value.__index__())
    if minimum is not None and v < minimum:
        raise invalid(name, value, f"must be at least {minimum}", fix)
    if maximum is not None and v > maximum:
        raise invalid(name, value, f"must be at most {maximum}", fix)
    return v


def check_real(name: str, value: Any, low: float | None = None, high: float | None = None, *,
               low_open: bool = False, high_open: bool = False, fix: str | None = None,
               allow_none: bool = False, allow_inf: bool = False) -> Any:
    """A real number (not a bool, str or complex), finite unless ``allow_inf``, within the
    (open or closed) interval; returns a ``float`` (``None`` if ``allow_none``)."""
    if value is None and allow_none:
        return None
    lb = "" if low is None else ("(" if low_open else "[") + f"{low:g}"
    ub = "" if high is None else f"{high:g}" + (")" if high_open else "]")
    where = f" in {lb or '(-inf'}, {ub or 'inf)'}" if lb or ub else ""
    fix = fix or f"pass a finite number{where} for {name}"
    if isinstance(value, (bool, str, bytes, complex)) or not hasattr(value, "__float__"):
        raise invalid(name, value, f"expected a real number{where}", fix)
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        raise invalid(name, value, f"expected a real number{where}", fix) from None
    if math.isnan(v) or (math.isinf(v) and not allow_inf):
        raise invalid(name, value, "must be finite", fix)
    if low is not None and (v < low or (low_open and v == low)):
        raise invalid(name, value, f"must lie{where}", fix)
    if high is not None and (v > high or (high_open and v == high)):
        raise invalid(name, value, f"must lie{where}", fix)
    return v


def check_real_array(name: str, value: Any, fix: str) -> Any:
    """``value`` as a float64 numpy array: numbers or arrays of numbers only (no text, which
    numpy would parse, no complex values, whose imaginary part a cast would drop)."""
    import numpy as np

    if isinstance(value, (str, bytes, bool)):
        raise invalid(name, value, "expected a number or an array of numbers", fix)
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError):
        raise invalid(name, value, "expected a number or an array of numbers", fix) from None
    if raw.dtype.kind not in "iuf":
        raise invalid(name, value, f"expected real numbers (got dtype {raw.dtype})", fix)
    return raw.astype(np.float64)


def check_choice(name: str, value: Any, choices: Iterable[Any], fix: str | None = None) -> Any:
    """One of ``choices`` (compared by equality after a type check against the choices)."""
    opts = tuple(choices)
    if not any(type(value) is type(c) and value == c for c in opts):
        shown = ", ".join(repr(c) for c in opts)
        raise invalid(name, value, f"expected one of {shown}", fix or f"pass {name}={opts[0]!r}")
    return value


def check_bool(name: str, value: Any, *, allow_none: bool = False) -> Any:
    """``True`` or ``False`` (numpy booleans too; not 0/1, not strings)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    raise invalid(name, value, "expected True or False", f"pass {name}=True or {name}=False")


def check_path(value: Any, name: str = "path") -> Path:
    """A file-system path (``str`` or ``os.PathLike``, not empty, no NUL byte)."""
    if isinstance(value, (str, os.PathLike)) and not isinstance(value, bytes):
        text = os.fspath(value)
        if isinstance(text, str) and text and "\x00" not in text:
            return Path(text)
    raise invalid(name, value, "expected a file-system path (str or pathlib.Path)",
                  f"pass {name} as a path, e.g. 'runs/r1'")


def check_size(nbytes: float, name: str, value: Any, what: str, *, allow_large: bool = False,
               limit: float = 2.0**34) -> None:
    """Refuse, naming ``name``, a call that would allocate more than ``limit`` bytes (16 GiB)
    unless ``allow_large``; the machine's free memory is checked by ``bounds._args.check_memory``
    where the caller can pass ``allow_large``, this is the fixed cap of functions that cannot."""
    if allow_large or nbytes <= limit:
        return
    raise invalid(name, value, f"{what} needs about {nbytes / 2**30:.3g} GiB (more than "
                  f"{limit / 2**30:g} GiB)", "use a smaller value (or allow_large=True where offered)")


def cache_checked(name: str, choices: tuple[Any, ...]) -> Any:
    """``functools.cache`` for a function of one argument ``name`` taking one of ``choices``:
    the argument is checked first, so an unhashable value (a list, say) is an InvalidArgument,
    not the cache's ``TypeError``."""
    import functools

    def wrap(fn: Any) -> Any:
        cached = functools.cache(fn)

        @functools.wraps(fn)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if len(args) + len(kwargs) > 1 or set(kwargs) - {name}:
                raise TypeError(f"{fn.__name__}() takes one argument, {name}")
            value = kwargs[name] if kwargs else (args[0] if args else choices[0])
            check_choice(name, value, choices, f"use {name}={choices[0]!r}")
            return cached(value)

        checked.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
        return checked
    return wrap
