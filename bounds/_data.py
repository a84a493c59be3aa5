"""Data validation, loading and the audit of G22 Assumption 2.

Assumption 2 [G22]: every ``‖x_i‖ = 1`` and no two samples are parallel
(``|⟨x_i,x_j⟩| < 1``).  A violation is a *finding* (:class:`DataAudit`), never an exception;
exceptions are for data the toolkit cannot use (NaN/Inf, wrong shape, empty, unreadable).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bounds._errors import InvalidArgument, check_int, check_path, check_real, invalid

__all__ = ["DataAudit", "audit_data", "load_data", "validate_X", "validate_y"]

#: |‖x_i‖ − 1| above this counts as "not unit norm".  Unit rows normalised in float32 (the
#: usual storage type) are off by a few float32 ulps · √d ≈ 1e-7·√d; 1e-6 accepts those.
DEFAULT_NORM_TOL = 1e-6
#: |cos| ≥ 1 − this counts as a parallel pair (docs/CONTRACTS.md).
DEFAULT_PARALLEL_TOL = 1e-12


def _refuse_complex(a: Any, name: str) -> None:
    """Complex input would lose its imaginary part silently in a float64 conversion."""
    kind = getattr(getattr(a, "dtype", None), "kind", None)
    if kind is None and isinstance(a, (list, tuple)):
        try:
            kind = np.asarray(a).dtype.kind
        except (TypeError, ValueError):
            kind = None
    if kind == "c":
        raise invalid(name, f"<complex array {getattr(a, 'shape', '')}>",
                      "complex values: the networks are real, the imaginary part would be dropped",
                      f"pass the real part ({name}.real) or stack real and imaginary parts as features")


def validate_X(X: Any, name: str = "X") -> np.ndarray:
    """Return ``X`` as a C-contiguous float64 array of shape (n, d), n, d ≥ 1, all finite.

    Raises :class:`~bounds.InvalidArgument` naming ``name`` otherwise.
    """
    _refuse_complex(X, name)
    try:
        arr = np.array(X, dtype=np.float64, copy=True)
    except (TypeError, ValueError, OverflowError) as exc:
        raise invalid(name, X, "cannot be converted to a float64 array",
                      "pass a numeric n×d array") from exc
    if arr.ndim != 2:
        raise invalid(name, f"<array shape {arr.shape}>", f"must be 2-D (n×d), got ndim={arr.ndim}",
                      "reshape to (n_samples, n_features)")
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise invalid(name, f"<array shape {arr.shape}>", "is empty",
                      "pass at least one sample with at least one feature")
    bad = ~np.isfinite(arr)
    if bad.any():
        i, j = (int(v) for v in np.argwhere(bad)[0])
        raise invalid(name, f"<array shape {arr.shape}>",
                      f"contains {int(bad.sum())} NaN/Inf value(s), first at [{i}, {j}]",
                      "remove or impute non-finite values")
    return np.ascontiguousarray(arr)


def row_norms(X: np.ndarray, norms: np.ndarray | None = None) -> np.ndarray:
    """Euclidean norms of the rows of a finite float array without overflow or underflow: a
    row of 1e-310 has norm ~1e-310, not 0, and a row of 1e200 a finite norm. ``norms``: the
    plain ``√Σx²`` already computed (default: by ``einsum``); only its rows that over- or
    underflowed are recomputed, scaled by their largest entry, so ordinary data gets exactly
    the plain values."""
    if norms is None:
        with np.errstate(over="ignore", under="ignore"):  # those rows are recomputed below
            norms = np.sqrt(np.einsum("ij,ij->i", X, X))
    plain = np.asarray(norms, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(plain) | (plain < 1e-150))
    if bad.size and X.shape[1]:
        sub = X[bad]
        scale = np.max(np.abs(sub), axis=1)
        U = sub / np.where(scale > 0, scale, 1.0)[:, None]
        plain = plain.copy()
        plain[bad] = scale * np.sqrt(np.einsum("ij,ij->i", U, U))
    return plain


#: the kernels are built from ‖x_i‖² and x_i·x_j: norms outside this range over/underflow them
NORM_RANGE = (1e-150, 1e150)


def check_kernel_scale(norms: np.ndarray, name: str = "X") -> None:
    """Refuse rows whose squared norm would over/underflow float64 (zero rows are left to the
    caller, which knows whether they are allowed)."""
    lo, hi = NORM_RANGE
    bad = np.flatnonzero((norms > hi) | ((norms > 0) & (norms < lo)))
    if bad.size:
        i = int(bad[0])
        raise invalid(name, f"<{norms.size}-row array>", f"row {i} has norm {norms[i]:.3g}: the kernels "
                      f"use ‖x_i‖², which over/underflows float64 outside [{lo:g}, {hi:g}] "
                      f"({bad.size} such row(s))", "rescale the data (e.g. normalise the rows to unit norm)")


def validate_y(y: Any, n: int, name: str = "y") -> np.ndarray:
    """Return ``y`` as a finite float64 vector of length ``n`` (an (n, 1) column is accepted)."""
    n = check_int("n", n, 0, fix="pass the number of rows of X")
    _refuse_complex(y, name)
    try:
        arr = np.array(y, dtype=np.float64, copy=True)
    except (TypeError, ValueError, OverflowError) as exc:
        raise invalid(name, y, "cannot be converted to a float64 array",
                      "pass a numeric vector of labels") from exc
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise invalid(name, f"<array shape {arr.shape}>", "must be a vector (n,)",
                      "pass one real label per sample")
    if arr.shape[0] != n:
        raise invalid(name, f"<array shape {arr.shape}>",
                      f"has {arr.shape[0]} labels but X has {n} samples",
                      "pass one label per row of X")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise invalid(name, f"<array shape {arr.shape}>",
                      f"contains {int(bad.sum())} NaN/Inf value(s), first at [{int(np.argmax(bad))}]",
                      "remove or impute non-finite labels")
    return arr


@dataclass(frozen=True)
class DataAudit:
    """Audit of G22 Assumption 2 for a data matrix.

    Attributes
    ----------
    n, d:
        shape of X.
    unit_norm:
        every ``|‖x_i‖ − 1| ≤ norm_tol``.
    max_norm_dev:
        ``max_i |‖x_i‖ − 1|``.
    max_abs_cos:
        ``max_{i≠j} |cos(x_i, x_j)|`` over non-zero rows (0 when n < 2).
    worst_pair:
        ``(i, j)``, i < j, attaining ``max_abs_cos``; ``None`` when n < 2.
    parallel_pairs:
        all ``(i, j)``, i < j, with ``|cos| ≥ 1 − parallel_tol`` (parallel or anti-parallel).
    zero_rows:
        indices of all-zero rows (addition to the contract: a zero row has no direction; it
        makes G∞ singular, so λ0 = 0).
    """

    n: int
    d: int
    unit_norm: bool
    max_norm_dev: float
    max_abs_cos: float
    worst_pair: tuple[int, int] | None
    parallel_pairs: tuple[tuple[int, int], ...]
    zero_rows: tuple[int, ...] = ()
    norm_tol: float = DEFAULT_NORM_TOL
    parallel_tol: float = DEFAULT_PARALLEL_TOL
    worst_norm_row: int = 0

    @property
    def ok(self) -> bool:
        """Assumption 2 holds: unit norms, no parallel pair, no zero row."""
        return self.unit_norm and not self.parallel_pairs and not self.zero_rows

    def messages(self) -> list[str]:
        """Human-readable findings (empty when :attr:`ok`)."""
        out = []
        if not self.unit_norm:
            out.append(
                f"not unit norm: max |‖x_i‖ − 1| = {self.max_norm_dev:.3g} (row "
                f"{self.worst_norm_row}) > {self.norm_tol:g}; G22 Assumption 2 requires ‖x_i‖ = 1 "
                "(normalise the rows)"
            )
        if self.zero_rows:
            shown = ", ".join(map(str, self.zero_rows[:10]))
            more = "" if len(self.zero_rows) <= 10 else f" (+{len(self.zero_rows) - 10} more)"
            out.append(f"{len(self.zero_rows)} zero row(s): {shown}{more}; λ0 = 0")
        if self.parallel_pairs:
            shown = ", ".join(f"({i},{j})" for i, j in self.parallel_pairs[:10])
            more = "" if len(self.parallel_pairs) <= 10 else f" (+{len(self.parallel_pairs) - 10} more)"
            out.append(
                f"{len(self.parallel_pairs)} parallel pair(s) (|cos| ≥ 1 − {self.parallel_tol:g}): "
                f"{shown}{more}; G22 Assumption 2 forbids them (the paper adds small noise to one "
                "of each pair)"
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "d": self.d,
            "ok": self.ok,
            "unit_norm": self.unit_norm,
            "max_norm_dev": self.max_norm_dev,
            "worst_norm_row": self.worst_norm_row,
            "max_abs_cos": self.max_abs_cos,
            "worst_pair": list(self.worst_pair) if self.worst_pair is not None else None,
            "parallel_pairs": [list(p) for p in self.parallel_pairs],
            "zero_rows": list(self.zero_rows),
            "norm_tol": self.norm_tol,
            "parallel_tol": self.parallel_tol,
            "messages": self.messages(),
        }


def audit_data(
    X: Any,
    norm_tol: float = DEFAULT_NORM_TOL,
    parallel_tol: float = DEFAULT_PARALLEL_TOL,
    *,
    block: int = 1024,
) -> DataAudit:
    """Audit G22 Assumption 2 (unit norm, no parallel pair) for ``X`` (n×d).

    Works in row blocks of ``block`` so memory stays O(block·n).
    """
    X = validate_X(X)
    check_real("norm_tol", norm_tol, 0.0, fix="e.g. norm_tol=1e-6")
    check_real("parallel_tol", parallel_tol, 0.0, 1.0, high_open=True, fix="e.g. parallel_tol=1e-12")
    block = check_int("block", block, 1, fix="pass a row block ≥ 1, e.g. block=1024")
    n, d = X.shape
    norms = row_norms(X)
    dev = np.abs(norms - 1.0)
    worst_row = int(np.argmax(dev))
    zero = np.flatnonzero(norms == 0.0)
    U = X / np.where(norms > 0, norms, 1.0)[:, None]
    best = -1.0
    worst: tuple[int, int] | None = None
    parallel: list[tuple[int, int]] = []
    for start in range(0, n, block):
        stop = min(start + block, n)
        C = np.abs(U[start:stop] @ U.T)
        rows = np.arange(start, stop)
        # keep only j > i (upper triangle) so each pair is seen once
        mask = np.arange(n)[None, :] > rows[:, None]
        C = np.where(mask, C, -1.0)
        if C.size and C.max() > best:
            r, j = np.unravel_index(int(np.argmax(C)), C.shape)
            best = float(C[r, j])
            worst = (int(rows[r]), int(j))
        hits = np.argwhere(C >= 1.0 - parallel_tol)
        parallel.extend((int(rows[r]), int(j)) for r, j in hits)
    if n < 2:
        best, worst = 0.0, None
    return DataAudit(
        n=n,
        d=d,
        unit_norm=bool(dev.max() <= norm_tol),
        max_norm_dev=float(dev.max()),
        max_abs_cos=float(min(best, 1.0)),
        worst_pair=worst,
        parallel_pairs=tuple(parallel),
        zero_rows=tuple(int(i) for i in zero),
        norm_tol=float(norm_tol),
        parallel_tol=float(parallel_tol),
        worst_norm_row=worst_row,
    )


def _load_csv(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:  # a UTF-8 BOM is dropped
            rows = [r for r in csv.reader(fh) if r and any(cell.strip() for cell in r)]
    except UnicodeDecodeError as exc:
        raise invalid("path", str(path), f"is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at "
                      f"offset {exc.start})", "save the CSV as UTF-8 (e.g. iconv -f latin1 -t utf-8 "
                      "in.csv > out.csv)") from None
    except csv.Error as exc:
        raise invalid("path", str(path), f"is not a CSV file ({exc})",
                      "write comma-separated numbers, one sample per row") from None
    if not rows:
        raise invalid("path", str(path), "CSV file has no rows", "write one sample per row")

    def is_number(s: str) -> bool:
        try:
            float(s)
        except ValueError:
            return False
        return True

    header = None
    if not all(is_number(cell.strip()) for cell in rows[0]):
        header = [cell.strip() for cell in rows[0]]
        rows = rows[1:]
    if not rows:
        raise invalid("path", str(path), "CSV file has a header but no data rows",
                      "write one sample per row")
    width = len(rows[0])
    values = []
    for r_i, row in enumerate(rows):
        if len(row) != width:
            raise invalid("path", str(path), f"CSV data row {r_i} has {len(row)} columns, "
                          f"row 0 has {width}", "make every row the same length")
        try:
            values.append([float(cell) for cell in row])
        except ValueError as exc:
            raise invalid("path", str(path), f"CSV data row {r_i} has a non-numeric cell "
                          f"({exc})", "keep only numbers below the optional header") from exc
    arr = np.asarray(values, dtype=np.float64)
    if header is not None:
        if len(header) != width:
            raise invalid("path", str(path), f"CSV header has {len(header)} names but rows "
                          f"have {width} columns", "fix the header")
        if header[-1].lower() == "y":
            if width < 2:
                raise invalid("path", str(path), "CSV has only a 'y' column, no features",
                              "add feature columns")
            return arr[:, :-1], arr[:, -1]
    return arr, None


def _why(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    if isinstance(exc, EOFError) or "No data left" in text:
        return "empty or truncated file"
    return f"{type(exc).__name__}: {text}"[:160]


def load_data(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray | None]:
    """Load ``(X, y)`` from a file; ``y`` is ``None`` when the file has no labels.

    Formats (by extension):

    * ``.npz`` — arrays named ``X`` (required) and ``y`` (optional);
    * ``.npy`` — a single n×d array, X only;
    * ``.csv`` — comma-separated numbers, one sample per row.  If the first row is not all
      numeric it is a header; when the header's **last** name is ``y`` (case-insensitive) the
      last column is the label vector.  Without such a header every column belongs to X.

    X is validated with :func:`validate_X` (finite, 2-D, non-empty) and y with
    :func:`validate_y` (finite, one label per row); errors raise
    :class:`~bounds.InvalidArgument`.
    """
    p = check_path(path, "path")
    if not p.exists():
        raise invalid("path", str(path), "file does not exist", "check the path")
    if not p.is_file():
        raise invalid("path", str(path), "is not a regular file", "pass a .npz, .npy or .csv file")
    ext = p.suffix.lower()
    y: Any = None
    if ext == ".npz":
        try:
            with open(p, "rb") as fh, np.load(fh, allow_pickle=False) as z:  # fh closed even when numpy fails
                if "X" not in z.files:
                    raise invalid("path", str(path), f".npz has no array 'X' (has {z.files})",
                                  "save with np.savez(path, X=X, y=y)")
                X = z["X"]
                y = z["y"] if "y" in z.files else None
        except InvalidArgument:
            raise
        except Exception as exc:  # EOFError (empty), BadZipFile, OSError, ValueError, ...
            raise invalid("path", str(path), f"cannot read .npz ({_why(exc)})",
                          "write it with numpy.savez(path, X=X, y=y)") from None
    elif ext == ".npy":
        try:
            with open(p, "rb") as fh:  # closed even when numpy fails
                X = np.load(fh, allow_pickle=False)
        except Exception as exc:  # EOFError (empty file), OSError, ValueError, ...
            raise invalid("path", str(path), f"cannot read .npy ({_why(exc)})",
                          "write it with numpy.save") from None
    elif ext == ".csv":
        X, y = _load_csv(p)
    else:
        raise invalid("path", str(path), f"unknown extension {ext!r}", "use .npz, .npy or .csv")
    Xv = validate_X(X, name="X")
    yv = None if y is None else validate_y(y, Xv.shape[0], name="y")
    return Xv, yv
