"""When a GD run stops: the stop rule checked before every update, and SIGINT/SIGTERM between
steps (the run saves its checkpoint and record, then the CLI exits 130/143).

Statuses in :data:`STOP_STATUSES`; :func:`stop_rule` checks them in the order the module
docstring of :mod:`verify.experiment.gd` lists. A different stop rule (a sweep's, say) is a
function with the same signature.
"""

from __future__ import annotations

import math
import signal
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["DIVERGENCE_FACTOR", "STOP_STATUSES", "STATUS_TEXT", "Sigint", "StopRule", "signal_name", "stop_rule"]

DIVERGENCE_FACTOR = 1e6
STOP_STATUSES = ("target_reached", "max_steps", "diverged", "solver_failed", "interrupted", "failed")
STATUS_TEXT = {
    "target_reached": "the loss reached target_loss",
    "max_steps": "ran all steps",
    "diverged": "diverged",
    "solver_failed": "an equilibrium (forward or adjoint) solve did not converge",
    "interrupted": "interrupted (SIGINT or SIGTERM); continue with resume=True / --resume",
    # a record status only (never a stop rule's): training ended but the verdicts failed
    "failed": "training finished but the verdicts and record could not be computed",
}


class Sigint:
    """Turns the first SIGINT or SIGTERM into a flag checked between steps (main thread only).

    ``signum`` is the signal received (``None`` before one arrives). A second SIGINT aborts at
    once (``KeyboardInterrupt``); a second SIGTERM terminates as the default handler does."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.flag = False
        self.signum: int | None = None
        self._old: dict[int, Any] = {}
        self._active = False

    def __enter__(self) -> Sigint:
        # inside a sweep (verify.sweep.engine) the sweep's own handler stops the whole sweep:
        # the cell in progress is dropped, never stored as an "interrupted" run
        outer = any(getattr(signal.getsignal(s), "stops_sweep", False) for s in self.SIGNALS)
        if not outer and threading.current_thread() is threading.main_thread():
            try:
                for s in self.SIGNALS:
                    self._old[s] = signal.signal(s, self._handle)
                self._active = True
            except ValueError:  # pragma: no cover
                self._active = False
        return self

    def _restore(self, s: int) -> None:
        old = self._old.get(s)
        if old is None:
            old = signal.default_int_handler if s == signal.SIGINT else signal.SIG_DFL
        signal.signal(s, old)

    def _handle(self, signum: int, frame: Any) -> None:
        self.flag = True
        if self.signum is None:
            self.signum = signum
        self._restore(signum)

    def __exit__(self, *exc: Any) -> None:
        if self._active:
            for s in self.SIGNALS:
                self._restore(s)


def signal_name(signum: int | None) -> str:
    return "a signal" if signum is None else signal.Signals(signum).name


#: (state, k, params_finite, L0, steps, target_loss, solver_log) → (status or None, message)
StopRule = Callable[[Any, int, bool, float, int, "float | None", dict], tuple["str | None", str]]


def stop_rule(state: Any, k: int, params_finite: bool, L0: float, steps: int,
              target_loss: float | None, solver_log: dict[str, Any]) -> tuple[str | None, str]:
    """``(status, message)`` at step k before its update, ``(None, "")`` to go on.

    Counts a failed solve in ``solver_log`` (``forward_failures`` / ``adjoint_failures``)."""
    if not params_finite:
        return "diverged", f"non-finite parameters at step {k}"
    assert state is not None
    if not state.ok:
        bad = state.fwd if not state.fwd.converged else state.adj
        if not state.fwd.converged:
            solver_log["forward_failures"] += 1
        else:
            solver_log["adjoint_failures"] += 1
        return "solver_failed", f"step {k}: {bad.message()}"
    if not math.isfinite(state.loss) or (k > 0 and state.loss > DIVERGENCE_FACTOR * max(L0, 1e-300)):
        return "diverged", ((f"loss {state.loss:.4e} at step {k} exceeds {DIVERGENCE_FACTOR:g} × the "
                             f"initial loss {L0:.4e}") if math.isfinite(state.loss)
                            else f"non-finite loss at step {k}")
    if target_loss is not None and state.loss <= target_loss:
        return "target_reached", f"loss {state.loss:.4e} ≤ target {target_loss:g} at step {k}"
    if k >= steps:
        return "max_steps", f"ran all {steps} steps"
    return None, ""
