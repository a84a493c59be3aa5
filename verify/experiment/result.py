"""The result of a run (:class:`RunResult`), in memory or read back from its directory."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bounds._errors import invalid
from verify.experiment.checks import Verdict
from verify.experiment.record import read_json, read_npz

__all__ = ["RunResult", "load_run"]

@dataclass(frozen=True)
class RunResult:
    """Result of :func:`run_gd` / :func:`load_run`.

    Attributes:
        record: the ``record.json`` dict (schema ``implicit-verify/run/1``).
        trace: observable name → 1-D float64 array over the recorded steps (``step`` holds the
            step indices).
        status: one of :data:`STOP_STATUSES`.
        verdicts: the :class:`~verify.Verdict` objects of ``record["verdicts"]``.
        out_dir: run directory or ``None``.
        params_init, params_final: ``A, W, u, v`` as float64 NumPy arrays.
    """

    record: dict[str, Any]
    trace: dict[str, np.ndarray]
    status: str
    verdicts: tuple[Verdict, ...]
    out_dir: Path | None = None
    params_init: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    params_final: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def rates(self) -> dict[str, Any]:
        return dict(self.record.get("rates") or {})

    def verdict(self, name: str) -> Verdict:
        for v in self.verdicts:
            if v.name == name:
                return v
        raise invalid("name", name, "no verdict of that name",
                      f"use one of {[v.name for v in self.verdicts]}")


def load_run(run_dir: str | Path) -> RunResult:
    """Read a finished run directory (no re-run)."""
    p = Path(run_dir)
    if not (p / "record.json").is_file():
        raise invalid("run_dir", str(run_dir), "has no record.json", "pass a directory written by run_gd")
    record = read_json(p / "record.json")
    trace = {k: np.asarray(v, dtype=np.float64) for k, v in read_npz(p / "trace.npz").items()} \
        if (p / "trace.npz").is_file() else {}
    pinit = read_npz(p / "params_init.npz") if (p / "params_init.npz").is_file() else {}
    pfin = read_npz(p / "params_final.npz") if (p / "params_final.npz").is_file() else {}
    verdicts = tuple(Verdict.from_dict(v) for v in record.get("verdicts") or [])
    return RunResult(record, trace, record.get("status", ""), verdicts, p, pinit, pfin)
