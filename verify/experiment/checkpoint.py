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
import os
import shutil
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from bounds._errors import check_path, invalid
from verify.experiment.config import RESUMABLE_CHANGES, RunConfig
from verify.experiment.inputs import RunInputs
from verify.experiment.observers import OBSERVABLE_NAMES
from verify.experiment.record import (
    RUN_FILES,
    DamagedRunFile,
    RunLock,
    atomic_save_npz,
    atomic_write_json,
    check_writable_dir,
    damaged,
    jsonable,
    read_run_npz,
)

PARAM_NAMES = ("A", "W", "u", "v")

__all__ = ["fingerprint", "open_run_dir", "save_checkpoint", "RunDirectory", "check_checkpoint",
           "FIX_RESUME", "FIX_CHECKPOINT"]


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


#: what to do when a run file is damaged (the messages of :class:`DamagedRunFile`).
FIX_RESUME = ("resume with --resume (resume=True) to rebuild record.json, trace.npz and the "
              "parameter files from checkpoint.npz")
FIX_CHECKPOINT = ("this run cannot be continued; start it again with --force (force=True); "
                  "record.json and trace.npz, if intact, can still be read")


def check_checkpoint(path: Path, ckpt: dict[str, np.ndarray], config: RunConfig) -> dict[str, Any]:
    """Schema of a checkpoint: meta, parameters of the configured shapes, all finite, trace rows
    of one length consistent with ``next_step``. Returns the parsed ``meta``."""
    def bad(problem: str) -> DamagedRunFile:
        return damaged(path, problem, FIX_CHECKPOINT)

    try:
        meta = json.loads(str(ckpt["meta"]))
        next_step = int(meta["next_step"])
        float(meta["L0"])
        RunConfig.from_dict(meta["config"])
        str(meta["fingerprint"])
    except Exception:
        raise bad("has no valid 'meta' (configuration, next step, initial loss, data fingerprint)") from None
    m = int(meta["config"].get("m", -1))
    shapes = {"A": (m, m), "u": (m,), "v": (m,)}
    for k in PARAM_NAMES:
        for key in (k, f"{k}0"):
            if key not in ckpt:
                raise bad(f"has no array {key!r}")
            if k in shapes and ckpt[key].shape != shapes[k]:
                raise bad(f"array {key!r} has shape {ckpt[key].shape}, expected {shapes[k]}")
            if not np.isfinite(ckpt[key]).all():
                raise bad(f"array {key!r} holds NaN/Inf: it cannot continue the run")
    for key in ("D0", "E0"):
        if key not in ckpt:
            raise bad(f"has no array {key!r}")
    rows = [ckpt.get(f"trace__{name}") for name in OBSERVABLE_NAMES]
    if any(r is None or r.ndim != 1 for r in rows) or len({r.shape[0] for r in rows if r is not None}) != 1:
        raise bad("has trace rows missing or of different lengths")
    steps = ckpt["trace__step"]
    if steps.size and (steps[-1] >= next_step or np.any(np.diff(steps) <= 0)):
        raise bad(f"trace steps {steps[:3].tolist()}…{steps[-1:].tolist()} do not end before next_step "
                  f"{next_step}")
    if next_step < 0:
        raise bad(f"next_step {next_step} is negative")
    return meta


class RunDirectory:
    """The run directory of one :func:`~verify.run_gd` call, held under a :class:`RunLock`.

    ``work`` is where the run writes: the target itself, or with ``force`` over an existing run
    a staging directory ``.<name>.staging-<pid>`` beside it; :meth:`commit` swaps the staged run
    into place with renames at the end, so the old run is untouched until the new one has
    finished (or saved its checkpoint after SIGINT/SIGTERM). ``ckpt``/``meta`` are the checkpoint
    resumed from (``None``/``{}`` for a fresh run)."""

    def __init__(self, target: Path | None, work: Path | None, ckpt: dict[str, np.ndarray] | None,
                 meta: dict[str, Any], fp: str, lock: RunLock | None) -> None:
        self.target, self.work, self.ckpt, self.meta, self.fingerprint = target, work, ckpt, meta, fp
        self._lock = lock
        self.staged = target is not None and work is not None and work != target
        #: the target did not exist before this call: a run that fails before its first
        #: checkpoint removes it again (no partial directory, e.g. on a full disk)
        self.created = False

    def __enter__(self) -> RunDirectory:
        return self

    def commit(self) -> None:
        """Swap a staged run into place (no-op when the run wrote to its target directly)."""
        if not self.staged or self.target is None or self.work is None:
            return
        old = self.target.parent / f".{self.target.name}.old-{os.getpid()}"
        os.replace(self.target, old)
        os.replace(self.work, self.target)
        self.staged = False
        shutil.rmtree(old, ignore_errors=True)

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        try:
            if (exc_type is not None and self.created and self.work is not None
                    and not (self.work / "checkpoint.npz").exists()
                    and not (self.work / "record.json").exists()):
                shutil.rmtree(self.work, ignore_errors=True)
            if self.staged and self.work is not None:  # the new run failed: the old one stays
                shutil.rmtree(self.work, ignore_errors=True)
        finally:
            if self._lock is not None:
                self._lock.__exit__(None, None, None)


def _existing(out: Path) -> list[str]:
    return [f for f in RUN_FILES if (out / f).exists()]


def open_run_dir(out_dir: str | Path | None, resume: bool, force: bool, config: RunConfig,
                 inputs: RunInputs, files: dict[str, Any] | None = None) -> RunDirectory:
    """Check ``out_dir`` and the resume request, lock it and return the :class:`RunDirectory`.

    A checkpoint is accepted only when its checksum and schema hold, for the same data and a
    configuration that differs at most in :data:`~verify.experiment.config.RESUMABLE_CHANGES`.
    Every check happens before anything is written; ``files`` (name → JSON object, e.g. the
    CLI's ``cli_args.json``) are written into the run's working directory after them."""
    out = None if out_dir is None else check_path(out_dir, "out_dir")
    if files is not None and not isinstance(files, dict):
        raise invalid("files", files, "expected a dict of file name → JSON object",
                      "pass e.g. files={'notes.json': {...}}")
    fp = fingerprint(inputs.X, inputs.y, inputs.X_test, inputs.y_test)
    if out is None:
        if resume:
            raise invalid("resume", True, "resuming needs the run directory", "pass out_dir")
        return RunDirectory(None, None, None, {}, fp, None)
    if force and resume:
        raise invalid("force", True, "cannot be combined with resume", "pass only one of them")
    for name in files or {}:
        if (not isinstance(name, str) or not name or name in (".", "..") or "/" in name
                or "\\" in name or "\0" in name or name in RUN_FILES):
            raise invalid("files", name, "must be a plain file name inside out_dir (no path "
                          "separators, '..' or run file names)", "pass e.g. files={'notes.json': {...}}")
    check_writable_dir(out, "out_dir")
    _check_request(out, resume, force, files)
    lock = RunLock(out, "out_dir")
    lock.__enter__()
    try:
        existing = _check_request(out, resume, force, files)  # again under the lock (races)
        ckpt: dict[str, np.ndarray] | None = None
        meta: dict[str, Any] = {}
        if existing and resume:
            path = out / "checkpoint.npz"
            ckpt = read_run_npz(path, FIX_CHECKPOINT)
            meta = check_checkpoint(path, ckpt, config)
            _check_resume(meta, config, fp)
        work = out
        if existing and force:
            work = out.parent / f".{out.name}.staging-{os.getpid()}"
            shutil.rmtree(work, ignore_errors=True)
        created = not work.exists()
        work.mkdir(parents=True, exist_ok=True)
        rd = RunDirectory(out, work, ckpt, meta, fp, lock)
        rd.created = created and not rd.staged
        try:
            for name, obj in (files or {}).items():
                atomic_write_json(work / name, obj)
            if ckpt is not None:
                _rebuild_params_init(work, ckpt)
        except BaseException as exc:
            rd.__exit__(type(exc))
            raise
        return rd
    except BaseException:
        lock.__exit__(None, None, None)
        raise


def _rebuild_params_init(out: Path, ckpt: dict[str, np.ndarray]) -> None:
    """``params_init.npz`` missing or damaged: write it again from the (verified) checkpoint."""
    path = out / "params_init.npz"
    try:
        read_run_npz(path, "")
    except DamagedRunFile:
        atomic_save_npz(path, **{k: np.asarray(ckpt[f"{k}0"], dtype=np.float64) for k in PARAM_NAMES})


#: What a run directory may hold besides :data:`RUN_FILES` for ``force`` to replace it.
_RUN_EXTRAS = ("cli_args.json",)


def _check_force(out: Path, files: dict[str, Any] | None) -> None:
    """``force`` replaces a run directory only: refuse one that holds anything a run does not
    write (a sweep, a report, sub-directories, someone's files), naming the first such entry."""
    known = set(RUN_FILES) | set(_RUN_EXTRAS) | set(files or {})
    try:
        entries = sorted(os.listdir(out))
    except OSError:
        return
    for e in entries:
        if e in known or (e.startswith(".") and e.endswith(".tmp")):
            continue
        what = "a sub-directory" if (out / e).is_dir() else "a file"
        raise invalid("out_dir", str(out), f"holds {what} {e!r} that a run does not write; force "
                      "would delete it", "choose another out_dir (--out), or move that entry away")


def _check_request(out: Path, resume: bool, force: bool,
                   files: dict[str, Any] | None = None) -> list[str]:
    existing = _existing(out)
    for other, what in (("sweep.json", "a sweep"), (".implicit-verify-report", "a report")):
        if (out / other).exists():
            raise invalid("out_dir", str(out), f"holds {what} ({other}), not a run",
                          "choose another out_dir (--out) for the run")
    if existing and force:
        _check_force(out, files)
    if existing and resume and not (out / "checkpoint.npz").is_file():
        raise invalid("out_dir", str(out), "has a run but no checkpoint.npz to resume from",
                      "start over with --force (library: force=True)")
    if existing and not (force or resume):
        raise invalid("out_dir", str(out), f"already holds a run ({', '.join(existing)})",
                      "pass --force to overwrite or --resume to continue (library: force=True / resume=True)")
    return existing


def _check_resume(meta: dict[str, Any], config: RunConfig, fp: str) -> None:
    old = RunConfig.from_dict(meta["config"])
    diffs = [f.name for f in fields(RunConfig)
             if f.name not in RESUMABLE_CHANGES and getattr(old, f.name) != getattr(config, f.name)]
    if diffs:
        k = diffs[0]
        raise invalid(k, getattr(config, k),
                      f"differs from the checkpoint's ({', '.join(f'{j}={getattr(old, j)!r}' for j in diffs)}); "
                      f"only {', '.join(RESUMABLE_CHANGES)} may change on resume",
                      "resume with the original settings or start a new run directory")
    if meta["fingerprint"] != fp:
        raise invalid("X", "data differing from the checkpoint's", "a run can only be resumed on the same data",
                      "pass the same X, y (and test set) as the original run")
    if meta["next_step"] > config.steps:
        raise invalid("steps", config.steps, f"the checkpoint is already at step {meta['next_step']}",
                      f"pass steps ≥ {meta['next_step']}")


def save_checkpoint(out: Path, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    """Write ``checkpoint.npz`` atomically: ``arrays`` plus ``meta`` as a JSON string."""
    arrays = dict(arrays)
    arrays["meta"] = np.array(json.dumps(jsonable(meta)))
    atomic_save_npz(out / "checkpoint.npz", **arrays)
