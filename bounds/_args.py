"""Shared argument checks for the command line and the library: numbers read from text with
range checks, seeds, and a memory estimate before anything large is allocated.

Every check raises :class:`~bounds.InvalidArgument` whose message names the option (or library
argument) the caller passes as ``name``, the value and a fix, so the dispatcher can print one
line and exit 2. Ranges are checked on Python integers *before* any arithmetic in NumPy or torch
that could overflow.

Memory: :func:`check_memory` refuses work whose estimated size exceeds the memory the machine
has available now (``MemAvailable`` of ``/proc/meminfo``, else ``psutil``, else
``os.sysconf``), unless the caller allows it (``--allow-large`` / ``allow_large=True``). The
estimates are rough upper counts of the float64 arrays held at once (documented where they are
made), not measurements.

This module is pure Python (no NumPy arrays are allocated) so that :mod:`bounds` and
:mod:`verify` can share it (``verify.cli._args`` re-exports it).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from typing import Any

from bounds._errors import invalid

__all__ = [
    "MAX_SEED",
    "MAX_DIM",
    "parse_int",
    "parse_float",
    "parse_int_list",
    "parse_float_list",
    "check_seed",
    "parse_hidden",
    "available_memory",
    "format_bytes",
    "format_seconds",
    "check_memory",
    "notice",
    "HelpFormatter",
]

#: numpy's ``default_rng`` and torch's ``manual_seed`` accept seeds in [0, 2**63 − 1].
MAX_SEED = 2**63 - 1
#: no dimension (n, m, d) above this can be indexed by torch's int64 sizes anyway; the memory
#: estimate refuses far smaller ones first.
MAX_DIM = 2**62


def parse_int(name: str, text: Any, minimum: int, maximum: int | None = None, fix: str | None = None) -> int:
    """An integer in ``[minimum, maximum]`` from text or an int (``bool`` is refused)."""
    hint = fix or (f"pass {name} <int in [{minimum}, {maximum}]>" if maximum is not None
                   else f"pass {name} <int ≥ {minimum}>")
    if isinstance(text, bool):
        raise invalid(name, text, "expected an integer", hint)
    if isinstance(text, int):
        v = text
    else:
        s = str(text).strip()
        if len(s) > 40:
            raise invalid(name, text, "is not an integer of a sensible size", hint)
        try:
            v = int(s)
        except ValueError:
            raise invalid(name, text, "expected an integer", hint) from None
    if v < minimum or (maximum is not None and v > maximum):
        raise invalid(name, text, f"must be ≥ {minimum}" + (f" and ≤ {maximum}" if maximum is not None else ""),
                      hint)
    return v


def parse_float(name: str, text: Any, *, low: float | None = None, high: float | None = None,
                low_open: bool = False, high_open: bool = False, fix: str | None = None) -> float:
    """A finite float in the given (closed or open) range, from text or a number."""
    lo = "(" if low_open else "["
    hi = ")" if high_open else "]"
    rng = f"{lo}{'-∞' if low is None else f'{low:g}'}, {'∞' if high is None else f'{high:g}'}{hi}"
    hint = fix or (f"pass {name} <number in {rng}>" if low is not None or high is not None
                   else f"pass {name} <finite number>")
    if isinstance(text, bool):
        raise invalid(name, text, "expected a number", hint)
    try:
        v = float(text) if isinstance(text, (int, float)) else float(str(text).strip())
    except (TypeError, ValueError, OverflowError):
        raise invalid(name, text, "expected a number", hint) from None
    if not math.isfinite(v):
        raise invalid(name, text, "must be finite", hint)
    if low is not None and (v < low or (low_open and v == low)):
        raise invalid(name, text, f"must lie in {rng}", hint)
    if high is not None and (v > high or (high_open and v == high)):
        raise invalid(name, text, f"must lie in {rng}", hint)
    return v


def _problem(exc: BaseException) -> str:
    """The ``problem`` part of a ``name=value: problem; fix`` message."""
    return str(exc).split(": ", 1)[-1].rsplit("; ", 1)[0]


def parse_int_list(name: str, text: Any, minimum: int, maximum: int | None = None,
                   fix: str | None = None) -> list[int]:
    """Comma-separated integers, each checked with :func:`parse_int` (the whole text is named)."""
    parts = [t.strip() for t in str(text).split(",")]
    if not parts or any(not t for t in parts):
        raise invalid(name, text, "expected comma-separated integers", fix or f"pass e.g. {name} 64,128")
    out = []
    for t in parts:
        try:
            out.append(parse_int(name, t, minimum, maximum, fix))
        except Exception as exc:  # re-raise naming the whole list and the bad item
            raise invalid(name, text, f"item {t!r}: {_problem(exc)}",
                          fix or f"pass e.g. {name} 64,128") from None
    return out


def parse_float_list(name: str, text: Any, *, low: float | None = None, high: float | None = None,
                     low_open: bool = False, high_open: bool = False, fix: str | None = None) -> list[float]:
    """Comma-separated numbers, each checked with :func:`parse_float`."""
    parts = [t.strip() for t in str(text).split(",")]
    if not parts or any(not t for t in parts):
        raise invalid(name, text, "expected comma-separated numbers", fix or f"pass e.g. {name} 0.1,0.5")
    out = []
    for t in parts:
        try:
            out.append(parse_float(name, t, low=low, high=high, low_open=low_open,
                                   high_open=high_open, fix=fix))
        except Exception as exc:
            raise invalid(name, text, f"item {t!r}: {_problem(exc)}",
                          fix or f"pass e.g. {name} 0.1,0.5") from None
    return out


def parse_hidden(items: Any, option: str = "--hidden") -> dict[str, float]:
    """``NAME=VALUE`` overrides of hidden constants (repeatable option): a known name and a
    positive finite value; every error shows the whole item (``--hidden='C_width=0'``)."""
    from bounds._hidden import HIDDEN_CONSTANTS

    out: dict[str, float] = {}
    for item in items or []:
        name, sep, text = str(item).partition("=")
        name = name.strip()
        if not sep or not name:
            raise invalid(option, item, "expected NAME=VALUE", f"pass e.g. {option} C_width_lemma=8192")
        if name not in HIDDEN_CONSTANTS:
            raise invalid(option, item, f"unknown hidden constant {name!r} (known: "
                          f"{', '.join(sorted(HIDDEN_CONSTANTS))})", "check the spelling")
        try:
            v = float(text.strip())
        except ValueError:
            raise invalid(option, item, f"{text.strip()!r} is not a number",
                          f"pass e.g. {option} {name}=8192") from None
        if not (math.isfinite(v) and v > 0):
            raise invalid(option, item, "a hidden constant must be a positive finite number",
                          f"pass e.g. {option} {name}=1.0")
        out[name] = v
    return out


def check_seed(seed: Any, name: str = "seed", *, allow_none: bool = False) -> int | None:
    """A seed for ``numpy.random.default_rng`` / ``torch.manual_seed``: an int in [0, 2**63 − 1]."""
    if seed is None and allow_none:
        return None
    import numbers

    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise invalid(name, seed, "expected a non-negative integer seed", f"pass e.g. {name}=0")
    s = int(seed)
    if s < 0 or s > MAX_SEED:
        raise invalid(name, seed, f"must lie in [0, {MAX_SEED}]", f"pass e.g. {name}=0")
    return s


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation now, or ``None`` if it cannot be read."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil  # type: ignore[import-untyped]

        return int(psutil.virtual_memory().available)
    except Exception:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, AttributeError):
        return None


def format_bytes(nbytes: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if nbytes >= size:
            return f"{nbytes / size:.3g} {unit}"
    return f"{int(nbytes)} B"


def format_seconds(seconds: float) -> str:
    if seconds >= 3600 * 48:
        return f"{seconds / 86400:.3g} days"
    if seconds >= 3600:
        return f"{seconds / 3600:.2g} h"
    if seconds >= 60:
        return f"{seconds / 60:.2g} min"
    return f"{seconds:.2g} s"


def check_memory(nbytes: int | float, name: str, value: Any, what: str, *, allow_large: bool = False,
                 override: str = "--allow-large", smaller: str = "") -> None:
    """Refuse ``what`` when its estimated ``nbytes`` exceed the available memory.

    ``name``/``value`` are the option and value to blame; ``override`` names how to proceed
    anyway (``--allow-large`` on the command line, ``allow_large=True`` in the library).
    """
    if allow_large:
        return
    avail = available_memory()
    if avail is None or nbytes <= avail:
        return
    raise invalid(name, value,
                  f"{what} needs about {format_bytes(nbytes)} of memory, more than the "
                  f"{format_bytes(avail)} available",
                  (smaller or "use smaller sizes") + f" (or pass {override} to try anyway)")


def notice(prefix: str, message: str) -> None:
    """One line on stderr (estimates of long or large work; progress before slow stages)."""
    print(f"[{prefix}] {message}", file=sys.stderr, flush=True)


_SAYS_DEFAULT = re.compile(r"\bdefault", re.IGNORECASE)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """``--help`` of every sub-command: descriptions kept as written, and each option's help
    ending with its default exactly once — ``(default: X)`` appended only when the help text does
    not already state a default in words (``(default 1e-3,1e3)``, ``default: the CPUs available``);
    flags read ``(default: off)``."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default is argparse.SUPPRESS or _SAYS_DEFAULT.search(text) or \
                isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
            return text
        if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
            return f"{text} (default: {'on' if action.default else 'off'})"
        if action.option_strings and action.default is not None:
            return f"{text} (default: %(default)s)"
        return text
