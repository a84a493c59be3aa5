"""Run-directory IO: atomic writes, JSON records, traces, parameters, checkpoints, environment.

Every file is written to a temporary file in the same directory, flushed and fsynced, then
moved over the target with :func:`os.replace` (atomic on POSIX and Windows), so a reader never
sees a half-written ``record.json`` and an interrupted run leaves the previous checkpoint
intact.

Integrity: every run file carries its own SHA-256 — ``.npz`` files as a member ``_sha256``
(over the other members' names, dtypes, shapes and bytes), the JSON files of a run directory
(:data:`CHECKSUMMED_JSON`) as a key ``"_sha256"`` (over the canonical JSON of the rest). The
readers :func:`read_run_json` / :func:`read_run_npz` recompute it and raise
:class:`DamagedRunFile` (an :class:`~bounds.InvalidArgument`) naming the file and what to do on
an unreadable, truncated, garbled or edited file; files written before checksums existed (no
``_sha256``) are read as they are.

Locks: :class:`RunLock` holds an advisory ``fcntl.flock`` on ``.<name>.lock`` beside a run
directory for as long as one process writes it; a second writer gets a clean error naming the
holder's pid.

JSON: ``record.json`` is strict JSON (``allow_nan=False``).  Non-finite floats (NaN, ±Inf) are
written as ``null`` — e.g. a bound that evaluates to ``inf`` or an observed value that was
never measured.  NumPy scalars/arrays and tuples are converted to plain numbers/lists.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import platform
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from bounds._errors import InvalidArgument, invalid

__all__ = [
    "to_numpy",
    "RECORD_SCHEMA",
    "RUN_FILES",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_save_npz",
    "jsonable",
    "read_json",
    "read_npz",
    "environment",
    "check_writable_dir",
    "CHECKSUMMED_JSON",
    "DamagedRunFile",
    "read_run_json",
    "read_run_npz",
    "npz_checksum",
    "json_checksum",
    "RunLock",
]

RECORD_SCHEMA = "implicit-verify/run/1"
#: files of a run directory (docs/CONTRACTS.md).
RUN_FILES = ("record.json", "trace.npz", "params_init.npz", "params_final.npz", "checkpoint.npz")
#: JSON files that carry a ``"_sha256"`` key (the run directory's and the CLI's saved options).
CHECKSUMMED_JSON = ("record.json", "cli_args.json")
_SUM = "_sha256"


class DamagedRunFile(InvalidArgument):
    """A run file is unreadable, truncated, garbled, edited (checksum mismatch) or of the wrong
    schema; the message names the file and what to do."""


def damaged(path: str | os.PathLike[str], problem: str, fix: str) -> DamagedRunFile:
    return DamagedRunFile(f"{path}: {problem}; {fix}")


def json_checksum(obj: Any) -> str:
    """SHA-256 of the canonical JSON of ``obj`` (sorted keys, no spaces)."""
    text = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def npz_checksum(arrays: Mapping[str, Any]) -> str:
    """SHA-256 over the members' names, dtypes, shapes and C-order bytes (``_sha256`` excluded)."""
    h = hashlib.sha256()
    for name in sorted(k for k in arrays if k != _SUM):
        a = np.ascontiguousarray(np.asarray(arrays[name]))
        h.update(name.encode("utf-8") + b"\0" + a.dtype.str.encode() + b"\0" + str(a.shape).encode() + b"\0")
        h.update(a.tobytes())
    return h.hexdigest()


def user_file_mode() -> int:
    """``0o666`` less the process's umask: the mode ``open()`` would give a new file
    (``tempfile.mkstemp`` makes its files ``0600``; the atomic writers reset them to this)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file in the same directory + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.fchmod(fd, user_file_mode())
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError) and exc.filename is None:  # a write error names no file
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise
    return path


def jsonable(obj: Any) -> Any:
    """Plain-JSON version of ``obj``: numpy → Python, tuples → lists, non-finite → ``None``."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "value") and isinstance(obj.value, str):  # enums
        return obj.value
    return str(obj)


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Strict JSON written atomically; the files of :data:`CHECKSUMMED_JSON` get ``"_sha256"``."""
    data = jsonable(obj)
    if Path(path).name in CHECKSUMMED_JSON and isinstance(data, dict):
        data = {k: v for k, v in data.items() if k != _SUM}
        data[_SUM] = json_checksum(data)
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)
    return atomic_write_bytes(path, (text + "\n").encode("utf-8"))


def atomic_save_npz(path: str | os.PathLike[str], **arrays: Any) -> Path:
    """``np.savez`` (uncompressed, no pickles) written atomically, with a ``_sha256`` member."""
    buf = io.BytesIO()
    arrs = {k: np.asarray(v) for k, v in arrays.items() if k != _SUM}
    arrs[_SUM] = np.array(npz_checksum(arrs))
    np.savez(buf, **arrs)  # type: ignore[arg-type]
    return atomic_write_bytes(path, buf.getvalue())


def to_numpy(t: Any) -> np.ndarray:
    """A torch tensor as a NumPy array on the CPU (detached)."""
    return t.detach().cpu().numpy()


def read_json(path: str | os.PathLike[str]) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def read_npz(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as z:  # fh closed even when numpy fails
        return {k: z[k] for k in z.files if k != _SUM}


def _why(exc: BaseException) -> str:
    if isinstance(exc, EOFError) or "No data left" in str(exc):
        return "empty or truncated"
    return f"unreadable ({type(exc).__name__}: {' '.join(str(exc).split())[:100]})"


def read_run_npz(path: str | os.PathLike[str], fix: str) -> dict[str, np.ndarray]:
    """A run directory's ``.npz`` with its checksum verified (:class:`DamagedRunFile` if not)."""
    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as z:  # fh closed even when numpy fails
            arrays = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise damaged(path, "is missing", fix) from None
    except Exception as exc:  # EOFError, BadZipFile, ValueError, OSError, zlib errors, ...
        raise damaged(path, f"is damaged: {_why(exc)}", fix) from None
    stored = arrays.pop(_SUM, None)
    if stored is not None:
        if stored.shape != () or str(stored) != npz_checksum(arrays):
            raise damaged(path, "fails its checksum (edited or corrupted); its contents are not used", fix)
    return arrays


def read_run_json(path: str | os.PathLike[str], fix: str) -> dict[str, Any]:
    """A run directory's JSON object with its checksum verified (:class:`DamagedRunFile` if not)."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise damaged(path, "is missing", fix) from None
    except (OSError, ValueError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise damaged(path, f"is damaged: {_why(exc)}", fix) from None
    if not isinstance(data, dict):
        raise damaged(path, f"is not a JSON object (found {type(data).__name__})", fix)
    stored = data.pop(_SUM, None)
    if stored is not None and stored != json_checksum(data):
        raise damaged(path, "fails its checksum (edited or corrupted); its contents are not used", fix)
    return data


class RunLock:
    """Advisory exclusive lock on ``<parent>/.<name>.lock`` for the writer of a run directory.

    The lock file lies *beside* the directory so that ``--force`` can swap a staged run into
    place under the same lock. Re-entrant within one process (a count per path). ``name`` is
    the argument blamed in the error (``out_dir`` / ``--out``)."""

    _held: dict[str, list[Any]] = {}

    def __init__(self, out: str | os.PathLike[str], name: str = "out_dir") -> None:
        self.out = Path(out)
        self.name = name
        parent = self.out.parent if str(self.out.parent) else Path(".")
        self.path = parent / f".{self.out.name}.lock"
        self.key = str(self.path.resolve()) if parent.exists() else str(self.path.absolute())

    def __enter__(self) -> RunLock:
        import fcntl

        held = RunLock._held.get(self.key)
        if held is not None:
            held[1] += 1
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:  # e.g. a directory where the lock file goes
            what = "is a directory" if self.path.is_dir() else f"cannot be opened ({exc.strerror or exc})"
            raise invalid(self.name, str(self.out), f"its lock file {self.path} {what}",
                          f"remove {self.path} if no run uses it, or choose another directory") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            try:
                holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
            finally:
                os.close(fd)
            raise invalid(self.name, str(self.out), f"is being written by another process (pid {holder})",
                          "wait for that run to finish (or stop it), or choose another directory") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        RunLock._held[self.key] = [fd, 1]
        return self

    def check_free(self) -> None:
        """Raise (naming the holder's pid) when another process holds the lock; writes nothing."""
        import fcntl

        if self.key in RunLock._held or not self.path.is_file():
            return
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
        except OSError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
            raise invalid(self.name, str(self.out), f"is being written by another process (pid {holder})",
                          "wait for that run to finish (or stop it), or choose another directory") from None
        finally:
            os.close(fd)

    def __exit__(self, *exc: Any) -> None:
        held = RunLock._held.get(self.key)
        if held is None:
            return
        held[1] -= 1
        if held[1] == 0:
            import fcntl

            del RunLock._held[self.key]
            try:
                os.ftruncate(held[0], 0)
                fcntl.flock(held[0], fcntl.LOCK_UN)
            finally:
                os.close(held[0])


def check_writable_dir(path: str | os.PathLike[str], name: str = "out_dir") -> Path:
    """Check that ``path`` can be created or written (before any work), writing nothing.

    ``path`` must be a directory or not exist; the nearest existing ancestor must be a
    writable directory."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise invalid(name, str(path), "exists and is not a directory", "pass a directory path")
    q = p.absolute()
    while not q.exists():
        q = q.parent
    if not q.is_dir():
        raise invalid(name, str(path), f"is not writable ({q} is a file, not a directory)",
                      "choose another path")
    if not os.access(q, os.W_OK | os.X_OK):
        raise invalid(name, str(path), f"{q} is not writable", "choose a directory you can write to")
    return p


def environment(device: Any = None) -> dict[str, Any]:
    """Library versions, platform and device name (``record.json`` ``"environment"``)."""
    import scipy
    import sympy
    import torch

    try:
        from importlib.metadata import version

        iv = version("implicit-verify")
    except Exception:  # pragma: no cover - not installed
        iv = "unknown"
    dev_name = "cpu"
    if device is not None and getattr(device, "type", str(device)) == "cuda":
        try:
            dev_name = torch.cuda.get_device_name(device)
        except Exception:  # pragma: no cover
            dev_name = "cuda"
    else:
        dev_name = platform.processor() or platform.machine() or "cpu"
    return {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "sympy": sympy.__version__,
        "implicit_verify": iv,
        "device": str(device) if device is not None else "cpu",
        "device_name": dev_name,
        "platform": platform.platform(),
        "torch_threads": torch.get_num_threads(),
    }
