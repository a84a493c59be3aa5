"""A one-line progress bar on stderr: cells done / total, errors, rate, ETA."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]


def _fmt_s(s: float) -> str:
    if s != s or s == float("inf"):
        return "--:--"
    s = int(round(s))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}"


class Progress:
    """``update(done, errors)`` redraws at most every ``every_s`` seconds; ``close()`` ends the
    line.  ``skipped`` cells (already finished when resuming) count as done but not in the rate."""

    def __init__(self, total: int, *, skipped: int = 0, enabled: bool = True,
                 stream: TextIO | None = None, every_s: float = 0.5, width: int = 30) -> None:
        self.total, self.skipped, self.enabled = total, skipped, enabled
        self.stream = stream if stream is not None else sys.stderr
        self.every_s, self.width = every_s, width
        self.t0 = time.monotonic()
        self._last = -1e9
        self.done = skipped
        self.errors = 0

    def line(self) -> str:
        el = time.monotonic() - self.t0
        new = self.done - self.skipped
        rate = new / el if el > 0 else 0.0
        left = self.total - self.done
        eta = left / rate if rate > 0 else float("nan")
        frac = self.done / self.total if self.total else 1.0
        bar = "#" * int(frac * self.width)
        return (f"[sweep] |{bar:<{self.width}}| {self.done}/{self.total} cells, "
                f"{self.errors} errors, {rate:.2f} cells/s, elapsed {_fmt_s(el)}, "
                f"ETA {_fmt_s(eta) if left else '00:00'}")

    def update(self, done: int, errors: int, *, force: bool = False) -> None:
        self.done, self.errors = done, errors
        if not self.enabled:
            return
        now = time.monotonic()
        if force or now - self._last >= self.every_s:
            self._last = now
            self.stream.write("\r" + self.line())
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + self.line() + "\n")
            self.stream.flush()
