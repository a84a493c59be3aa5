"""Run directories for resumable runs: opening one, the data fingerprint, checkpoints.

``checkpoint.npz`` holds θ(k), the warm starts, the initial parameters, patterns and Gram
matrix, the trace *before* step k and a JSON ``meta`` (configuration, next step, initial loss,
fingerprint, schedule, solver log, wall time); :meth:`verify.experiment.loop.GDLoop.start`
restores from it so that step k is recomputed bit for bit. Every write is atomic
(:func:`~verify.experiment.record.atomic_save_npz`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from bounds._errors import invalid
from verify.experiment.config import RESUMABLE_CHANGES, RunConfig
from verify.experiment.inputs import RunInputs
from verify.experiment.record import (
    RUN_FILES,
    atomic_save_npz,
    check_writable_dir,
    jsonable,
    read_npz,
)

__all__ = ["fingerprint", "open_run_dir", "save_checkpoint"]


def fingerprint(*arrays: np.ndarray | None) -> str:
    """SHA-256 of the arrays' shapes and float64 bytes (``None`` counts as an array)."""
    h = hashlib.sha256()
    for a in arrays:
        if a is None:
            h.update(b"none")
        else:
            a = np.ascontiguousarray(a, dtype=np.float64)
            h.update(str(a.shape).encode())
            h.update(a.tobytes())
    return h.hexdigest()


def open_run_dir(out_dir: str | Path | None, resume: bool, force: bool, config: RunConfig,
                 inputs: RunInputs) -> tuple[Path | None, dict[str, np.ndarray] | None, dict[str, Any], str]:
    """Check ``out_dir`` and the resume request: ``(out, checkpoint arrays or None, meta, fingerprint)``.

    A checkpoint is accepted only for the same data and a configuration that differs at most in
    :data:`~verify.experiment.config.RESUMABLE_CHANGES`; ``force`` without a checkpoint clears
    the run files."""
    out = None if out_dir is None else Path(out_dir)
    ckpt: dict[str, np.ndarray] | None = None
    if out is None and resume:
        raise invalid("resume", True, "resuming needs the run directory", "pass out_dir")
    if out is not None:
        existing = [f for f in RUN_FILES if (out / f).exists()]
        if existing and resume:
            if not (out / "checkpoint.npz").is_file():
                raise invalid("out_dir", str(out), "has a run but no checkpoint.npz to resume from",
                              "use force=True (--force) to start over")
            ckpt = read_npz(out / "checkpoint.npz")
        elif existing and not force:
            raise invalid("out_dir", str(out), f"already holds a run ({', '.join(existing)})",
                          "pass force=True (--force) to overwrite or resume=True (--resume) to continue")
        check_writable_dir(out, "out_dir")
    fp = fingerprint(inputs.X, inputs.y, inputs.X_test, inputs.y_test)
    meta: dict[str, Any] = {}
    if ckpt is not None:
        meta = json.loads(str(ckpt["meta"]))
        old = RunConfig.from_dict(meta["config"])
        diffs = [f.name for f in fields(RunConfig)
                 if f.name not in RESUMABLE_CHANGES and getattr(old, f.name) != getattr(config, f.name)]
        if diffs:
            raise invalid("config", {k: getattr(config, k) for k in diffs},
                          f"differs from the checkpoint's ({', '.join(f'{k}={getattr(old, k)!r}' for k in diffs)}); "
                          f"only {', '.join(RESUMABLE_CHANGES)} may change on resume",
                          "resume with the original settings or start a new run directory")
        if meta["fingerprint"] != fp:
            raise invalid("X", "data differing from the checkpoint's", "a run can only be resumed on the same data",
                          "pass the same X, y (and test set) as the original run")
        if meta["next_step"] > config.steps:
            raise invalid("steps", config.steps, f"the checkpoint is already at step {meta['next_step']}",
                          f"pass steps ≥ {meta['next_step']}")
    if out is not None and force and ckpt is None:
        for f in RUN_FILES:
            try:
                (out / f).unlink()
            except FileNotFoundError:
                pass
    return out, ckpt, meta, fp


def save_checkpoint(out: Path, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    """Write ``checkpoint.npz`` atomically: ``arrays`` plus ``meta`` as a JSON string."""
    arrays = dict(arrays)
    arrays["meta"] = np.array(json.dumps(jsonable(meta)))
    atomic_save_npz(out / "checkpoint.npz", **arrays)
