"""Run-directory IO: atomic writes, JSON records, traces, parameters, checkpoints, environment.

Every file is written to a temporary file in the same directory, flushed and fsynced, then
moved over the target with :func:`os.replace` (atomic on POSIX and Windows), so a reader never
sees a half-written ``record.json`` and an interrupted run leaves the previous checkpoint
intact.

JSON: ``record.json`` is strict JSON (``allow_nan=False``).  Non-finite floats (NaN, ±Inf) are
written as ``null`` — e.g. a bound that evaluates to ``inf`` or an observed value that was
never measured.  NumPy scalars/arrays and tuples are converted to plain numbers/lists.
"""

from __future__ import annotations

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

from bounds._errors import invalid

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
]

RECORD_SCHEMA = "implicit-verify/run/1"
#: files of a run directory (docs/CONTRACTS.md).
RUN_FILES = ("record.json", "trace.npz", "params_init.npz", "params_final.npz", "checkpoint.npz")


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file in the same directory + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
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
    text = json.dumps(jsonable(obj), indent=2, ensure_ascii=False, allow_nan=False)
    return atomic_write_bytes(path, (text + "\n").encode("utf-8"))


def atomic_save_npz(path: str | os.PathLike[str], **arrays: Any) -> Path:
    """``np.savez`` (uncompressed, no pickles) written atomically."""
    buf = io.BytesIO()
    np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})  # type: ignore[arg-type]
    return atomic_write_bytes(path, buf.getvalue())


def to_numpy(t: Any) -> np.ndarray:
    """A torch tensor as a NumPy array on the CPU (detached)."""
    return t.detach().cpu().numpy()


def read_json(path: str | os.PathLike[str]) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def read_npz(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def check_writable_dir(path: str | os.PathLike[str], name: str = "out_dir") -> Path:
    """Create ``path`` if needed and check a file can be written there (before any work)."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise invalid(name, str(path), "exists and is not a directory", "pass a directory path")
    try:
        p.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".write-test.", dir=p)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise invalid(name, str(path), f"is not writable ({exc.strerror or exc})",
                      "choose a directory you can write to") from None
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
