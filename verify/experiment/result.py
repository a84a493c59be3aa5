"""The result of a run (:class:`RunResult`), in memory or read back from its directory."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bounds._errors import check_path, invalid
from verify.experiment.checks import Verdict
from verify.experiment.record import RECORD_SCHEMA, damaged, read_run_json, read_run_npz

__all__ = ["RunResult", "load_run", "check_record", "check_trace"]

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
    #: the signal (SIGINT = 2, SIGTERM = 15) that interrupted the run, else None
    signum: int | None = None

    @property
    def rates(self) -> dict[str, Any]:
        return dict(self.record.get("rates") or {})

    def verdict(self, name: str) -> Verdict:
        for v in self.verdicts:
            if v.name == name:
                return v
        raise invalid("name", name, "no verdict of that name",
                      f"use one of {[v.name for v in self.verdicts]}")


#: keys every ``record.json`` has (docs/CONTRACTS.md); a record without them is refused.
RECORD_KEYS = {"schema": str, "config": dict, "data": dict, "status": str, "steps_done": int,
               "theorem": dict, "symbols": dict, "verdicts": list}


def check_record(path: Path, record: dict[str, Any], fix: str) -> None:
    """Schema of ``record.json``: the schema string, the keys of :data:`RECORD_KEYS` with their
    types, a known status and a configuration ``RunConfig`` accepts."""
    from verify.experiment.config import RunConfig
    from verify.experiment.stopping import STOP_STATUSES

    if record.get("schema") != RECORD_SCHEMA:
        raise damaged(path, f"is not a run record (schema {record.get('schema')!r}, expected "
                      f"{RECORD_SCHEMA!r})", fix)
    for key, typ in RECORD_KEYS.items():
        if not isinstance(record.get(key), typ):
            raise damaged(path, f"has no valid {key!r} ({typ.__name__})", fix)
    if record["status"] not in STOP_STATUSES:
        raise damaged(path, f"has an unknown status {record['status']!r}", fix)
    try:
        RunConfig.from_dict(record["config"])
    except Exception:
        raise damaged(path, "has an invalid 'config'", fix) from None


def check_trace(path: Path, trace: dict[str, np.ndarray], record: dict[str, Any], fix: str) -> None:
    """Every observable present, 1-D, one length, equal to the record's ``recorded_steps``;
    steps strictly increasing."""
    from verify.experiment.observers import OBSERVABLE_NAMES

    missing = [n for n in OBSERVABLE_NAMES if n not in trace]
    if missing:
        raise damaged(path, f"has no array(s) {missing[:3]}", fix)
    lengths = {trace[n].shape for n in OBSERVABLE_NAMES}
    if len(lengths) != 1 or len(next(iter(lengths))) != 1:
        raise damaged(path, f"arrays of different shapes {sorted(lengths)}", fix)
    want = (record.get("schedule") or {}).get("recorded_steps")
    if want is not None and trace["step"].shape[0] != want:
        raise damaged(path, f"has {trace['step'].shape[0]} rows, record.json says {want}", fix)
    if np.any(np.diff(trace["step"]) <= 0):
        raise damaged(path, "steps are not increasing", fix)


def load_run(run_dir: str | Path) -> RunResult:
    """Read a finished run directory (no re-run), checking every file's checksum and schema.

    Raises :class:`~verify.experiment.record.DamagedRunFile` (an ``InvalidArgument``) naming a
    damaged file and what to do (``--resume`` rebuilds the record, trace and final parameters
    from ``checkpoint.npz``)."""
    from verify.experiment.checkpoint import FIX_RESUME

    p = check_path(run_dir, "run_dir")
    if not (p / "record.json").is_file():
        raise invalid("run_dir", str(run_dir), "has no record.json", "pass a directory written by run_gd")
    record = read_run_json(p / "record.json", FIX_RESUME)
    check_record(p / "record.json", record, FIX_RESUME)
    trace: dict[str, np.ndarray] = {}
    if (p / "trace.npz").is_file():
        trace = read_run_npz(p / "trace.npz", FIX_RESUME)
        check_trace(p / "trace.npz", trace, record, FIX_RESUME)
        trace = {k: np.asarray(v, dtype=np.float64) for k, v in trace.items()}
    params = []
    m = int(record["config"].get("m", 0))
    for name in ("params_init.npz", "params_final.npz"):
        arrays = read_run_npz(p / name, FIX_RESUME) if (p / name).is_file() else {}
        if arrays and (set(arrays) != {"A", "W", "u", "v"} or arrays["A"].shape != (m, m)):
            raise damaged(p / name, f"does not hold A ({m}×{m}), W, u, v", FIX_RESUME)
        params.append(arrays)
    try:
        verdicts = tuple(Verdict.from_dict(v) for v in record["verdicts"])
    except Exception:
        raise damaged(p / "record.json", "has invalid 'verdicts'", FIX_RESUME) from None
    return RunResult(record, trace, record["status"], verdicts, p, params[0], params[1])
