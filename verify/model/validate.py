"""Input validation for the torch side: devices, dtypes, data tensors.

Every public entry point of :mod:`verify` validates its inputs here first, so a bad input
raises :class:`~bounds.InvalidArgument` naming the argument, the value and the fix, never a
stack trace from inside torch.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from bounds._args import check_memory
from bounds._data import _refuse_complex as refuse_complex
from bounds._errors import invalid

__all__ = [
    "resolve_device",
    "resolve_dtype",
    "as_data_tensor",
    "as_label_tensor",
    "check_gamma",
    "check_positive_int",
    "network_bytes",
    "run_bytes",
    "check_network_memory",
]

_DTYPES = {
    "float64": torch.float64,
    "double": torch.float64,
    "float32": torch.float32,
    "float": torch.float32,
}


def resolve_device(device: Any, name: str = "device") -> torch.device:
    """``"auto"`` → CUDA when available else CPU; ``"cpu"``, ``"cuda"``, ``"cuda:N"``."""
    if isinstance(device, torch.device):
        dev = device
    elif isinstance(device, str):
        if device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        try:
            dev = torch.device(device)
        except (RuntimeError, ValueError):
            raise invalid(name, device, "not a device name", "use 'auto', 'cpu', 'cuda' or 'cuda:N'") from None
    else:
        raise invalid(name, device, "expected a device name", "use 'auto', 'cpu', 'cuda' or 'cuda:N'")
    if dev.type not in ("cpu", "cuda"):
        raise invalid(name, device, f"device type {dev.type!r} is not supported", "use 'cpu' or 'cuda'")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise invalid(
                name, device, "CUDA is not available on this machine",
                "use device='cpu' (or 'auto', which falls back to the CPU)",
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise invalid(
                name, device, f"only {torch.cuda.device_count()} CUDA device(s) present",
                "pick an existing index or 'cuda'",
            )
    return dev


def resolve_dtype(dtype: Any, name: str = "dtype") -> torch.dtype:
    """float64 (default for anything compared with a bound) or float32."""
    if isinstance(dtype, torch.dtype):
        if dtype in (torch.float64, torch.float32):
            return dtype
        raise invalid(name, dtype, "only float64 and float32 are supported", "use torch.float64")
    if isinstance(dtype, str) and dtype in _DTYPES:
        return _DTYPES[dtype]
    raise invalid(name, dtype, "unknown dtype", "use 'float64' (recommended) or 'float32'")


def check_gamma(gamma: Any, name: str = "gamma", *, allow_zero: bool = False) -> float:
    """γ must be a finite number in (0, 1) as in the paper (γ is fixed, not trained).

    ``allow_zero=True`` also admits γ = 0, the explicit two-layer control of the GG22 sweeps
    (the equilibrium is z = σ(Wx)/√m and A receives no gradient): outside the papers' range,
    so the callers that accept it say so in their records."""
    if isinstance(gamma, (str, bytes, bool)):
        raise invalid(name, gamma, "expected a number", "pass a float in (0, 1), e.g. 0.1")
    try:
        g = float(gamma)
    except (TypeError, ValueError):
        raise invalid(name, gamma, "expected a number", "pass a float in (0, 1), e.g. 0.1") from None
    if allow_zero and g == 0.0:
        return 0.0
    if not math.isfinite(g) or g <= 0.0:
        raise invalid(name, gamma, "γ must be positive and finite", "pass a float in (0, 1), e.g. 0.1")
    if g >= 1.0:
        raise invalid(
            name, gamma, "the papers take γ in (0, 1); γ ≥ 1 makes the implicit layer expansive at init",
            "pass a float in (0, 1), e.g. 0.1",
        )
    return g


def check_positive_int(value: Any, name: str, fix: str | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise invalid(name, value, "expected a positive integer", fix or f"pass an int ≥ 1 for {name}")
    if value < 1:
        raise invalid(name, value, "must be at least 1", fix or f"pass an int ≥ 1 for {name}")
    return int(value)


def _to_tensor(value: Any, name: str, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        if value.dtype != dtype:
            raise invalid(
                name, f"tensor(dtype={value.dtype})", f"dtype does not match the network's {dtype}",
                f"convert with {name}.to({dtype}) or build the network with dtype={value.dtype}",
            )
        if value.device != device:
            raise invalid(
                name, f"tensor(device={value.device})", f"device does not match the network's {device}",
                f"move it with {name}.to('{device}')",
            )
        return value
    refuse_complex(value, name)  # a float conversion would drop the imaginary part silently
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise invalid(name, type(value).__name__, "cannot be read as a float array", "pass a numpy array or tensor") from None
    return torch.tensor(arr, dtype=dtype, device=device)  # copies: read-only arrays are fine


def as_data_tensor(X: Any, d: int, dtype: torch.dtype, device: torch.device, name: str = "X") -> torch.Tensor:
    """Validate an (n, d) data matrix; numpy input is converted to (dtype, device)."""
    t = _to_tensor(X, name, dtype, device)
    if t.ndim != 2:
        raise invalid(name, f"array of shape {tuple(t.shape)}", "expected a 2-D array (n samples × d features)",
                      f"reshape to (n, {d})")
    if t.shape[0] < 1:
        raise invalid(name, f"array of shape {tuple(t.shape)}", "no samples", "pass at least one row")
    if t.shape[1] != d:
        raise invalid(name, f"array of shape {tuple(t.shape)}", f"the network expects d={d} features",
                      f"pass data with {d} columns or build the network with d={t.shape[1]}")
    if not bool(torch.isfinite(t).all()):
        bad = int((~torch.isfinite(t)).sum())
        raise invalid(name, f"array with {bad} non-finite entries", "NaN or Inf in the data",
                      "remove or impute the non-finite entries")
    return t


def as_label_tensor(y: Any, n: int, dtype: torch.dtype, device: torch.device, name: str = "y") -> torch.Tensor:
    """Validate labels: shape (n,) (an (n, 1) column is accepted), finite."""
    t = _to_tensor(y, name, dtype, device)
    if t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.ndim != 1 or t.shape[0] != n:
        raise invalid(name, f"array of shape {tuple(t.shape)}", f"expected one scalar label per sample, shape ({n},)",
                      "pass a 1-D array with the same length as X")
    if not bool(torch.isfinite(t).all()):
        raise invalid(name, f"array with {int((~torch.isfinite(t)).sum())} non-finite entries", "NaN or Inf labels",
                      "remove the samples with non-finite labels")
    return t


def network_bytes(m: int, d: int, itemsize: int = 8) -> int:
    """Bytes of one network's parameters (A: m², W: m·d, u, v) plus the float64 draws made on
    the CPU before the cast (:meth:`~verify.ImplicitNetwork.init`). Python integers: no overflow."""
    params = m * m + m * d + 2 * m
    return int(itemsize * params + 8 * params)


def run_bytes(n: int, m: int, d: int, n_test: int = 0, itemsize: int = 8) -> int:
    """Rough upper count of the bytes a GD run holds at once (:func:`verify.run_gd`).

    Parameters θ, θ(0), the gradients and the SVD of A (its copy and factors): about 8 m×m and
    4 m×d arrays; the forward/adjoint states and patterns (Z, D, E, their warm starts, the
    adjoint, the test state): about 10 (n + n_test)×m arrays; the Gram matrices G, H, K, G(0)
    and the eigenvalue workspaces: about 8 n×n arrays.
    """
    nt = n + n_test
    return int(itemsize * (8 * m * m + 4 * m * d + 10 * nt * m + 8 * n * n + 4 * m))


def check_network_memory(nbytes: int, name: str, value: Any, what: str, allow_large: bool,
                         override: str = "allow_large=True") -> None:
    """:func:`bounds._args.check_memory` with the wording for widths."""
    check_memory(nbytes, name, value, what, allow_large=allow_large, override=override,
                 smaller="use a smaller width m (or fewer samples)")
