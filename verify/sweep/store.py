"""The sweep directory: ``sweep.json``, the result parts and the final table.

Layout::

    OUT/sweep.json            spec, command, library versions, data fingerprints, λ0 per n
    OUT/parts/part-*.parquet  rows written while the sweep runs (one file per batch of
                              finished cells, each written to a temporary name and renamed)
    OUT/results.parquet       the whole table in cell order (n, m, seed), written atomically
                              when the sweep ends; the parts are then removed

Reading: ``pandas.read_parquet(OUT / "results.parquet")`` after a sweep ended, or
:func:`read_table` (``results.parquet`` plus any parts, latest row per ``cell_key``) at any time,
also while the sweep runs or after a kill.  Every part has the same explicit Arrow schema
(:func:`schema`), so ``pandas.read_parquet(OUT / "parts")`` reads the parts directory as one
table too.  Only the client writes, one process at a time (:mod:`verify.sweep.lock`).  A sweep
directory is closed (:mod:`verify.sweep.integrity`): ``sweep.json`` carries its checksum and
every row read must be a cell of the directory's grid, else the file is refused by name.  Directories written before a column was
added (e.g. ``lam_min_Hinf``, ``H0_relerr_*``) still load: the missing columns read as null
(NaN).
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from bounds._errors import invalid
from verify.experiment.record import user_file_mode

from .integrity import check_rows, grid_of, seal, unseal
from .tasks import CONFIG_COLUMNS, GAMMA_COLUMNS, GD_COLUMNS, INIT_COLUMNS, claim_names

__all__ = ["schema", "columns", "write_part", "read_table", "write_final", "write_json",
           "read_json", "RESULTS", "PARTS", "SWEEP_JSON"]

RESULTS = "results.parquet"
PARTS = "parts"
SWEEP_JSON = "sweep.json"
_TYPES = {"f": pa.float64(), "b": pa.bool_(), "s": pa.string(), "i": pa.int64()}
_CONFIG_TYPES = {"n": "i", "m": "i", "seed": "i", "gamma": "f", "step": "s", "kind": "s",
                 "data": "s", "cell_key": "s"}
_TAIL = {"status": "s", "error": "s", "wall_s": "f"}


def columns(kind: str) -> dict[str, str]:
    """Column name → type code for a task kind, in table order."""
    outcomes = (dict(INIT_COLUMNS) if kind == "init" else dict(GAMMA_COLUMNS) if kind == "gamma"
                else {**GD_COLUMNS, **{f"claim_{c}": "s" for c in claim_names()}})
    assert tuple(_CONFIG_TYPES) == CONFIG_COLUMNS
    return {**_CONFIG_TYPES, **outcomes, **_TAIL}


def schema(kind: str) -> pa.Schema:
    return pa.schema([(k, _TYPES[t]) for k, t in columns(kind).items()])


def _frame(rows: Sequence[dict[str, Any]], kind: str) -> pa.Table:
    cols = columns(kind)
    data = {k: [r.get(k) for r in rows] for k in cols}
    return pa.Table.from_pydict(data, schema=schema(kind))


def _conform(table: pa.Table, kind: str) -> pa.Table:
    """``table`` in the current schema: columns added since it was written (e.g.
    ``lam_min_Hinf``) become nulls (NaN in pandas), then the types are cast."""
    sch = schema(kind)
    cols = []
    for f in sch:
        if f.name in table.column_names:
            cols.append(table.column(f.name).cast(f.type))
        else:
            cols.append(pa.nulls(table.num_rows, type=f.type))
    return pa.Table.from_arrays(cols, schema=sch)


def _atomic_parquet(table: pa.Table, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.fchmod(fd, user_file_mode())  # the user's umask, not mkstemp's 0600
    os.close(fd)
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename is None:  # pyarrow names no file
            import re

            code = exc.errno or int((re.search(r"errno (\d+)", str(exc)) or [0, 0])[1]) or None
            raise OSError(code, os.strerror(code) if code else str(exc), str(path)) from None
        raise


def write_part(out: Path, rows: Sequence[dict[str, Any]], kind: str) -> Path:
    """Write finished rows as a new part file (atomic)."""
    parts = out / PARTS
    parts.mkdir(parents=True, exist_ok=True)
    path = parts / f"part-{uuid.uuid4().hex}.parquet"
    _atomic_parquet(_frame(rows, kind), path)
    return path


def read_table(out: str | os.PathLike[str], kind: str | None = None) -> pd.DataFrame:
    """All rows written so far (results + parts), latest row per ``cell_key``, in cell order.

    When ``out`` holds a ``sweep.json`` (always, unless a caller wrote parts by hand) its
    checksum is checked and every file's rows must be cells of its grid
    (:func:`verify.sweep.integrity.check_rows`); a file that is not is refused by name."""
    out = Path(out)
    closed = None  # (spec, grid) of the directory's sweep.json: every row read is checked
    if kind is None or (out / SWEEP_JSON).is_file():
        closed = grid_of(read_json(out / SWEEP_JSON), out / SWEEP_JSON)
        kind = closed[0].kind if kind is None else kind
    paths = [out / RESULTS] if (out / RESULTS).is_file() else []
    pdir = out / PARTS
    if pdir.is_dir():
        paths += sorted(pdir.glob("part-*.parquet"), key=lambda p: p.stat().st_mtime_ns)
    frames = [_read_parquet(p, kind) for p in paths]
    if closed is not None:
        for p, f in zip(paths, frames, strict=True):
            check_rows(f.select(list(_CONFIG_TYPES)).to_pandas(), p, out, *closed)
    if not frames:
        return schema(kind).empty_table().to_pandas()
    df = pa.concat_tables(frames).to_pandas()
    df = df.drop_duplicates("cell_key", keep="last")
    return df.sort_values(["n", "m", "seed"], kind="stable").reset_index(drop=True)


def _read_parquet(path: Path, kind: str) -> pa.Table:
    """One result file in the current schema; a damaged file is a clear error naming it."""
    try:
        return _conform(pq.read_table(path), kind)
    except (OSError, ValueError, pa.ArrowException) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise invalid("out", str(path), f"the sweep's result file is damaged ({first})",
                      "move it out of the sweep directory and continue with --resume (its "
                      "cells are computed again), or restore it from a copy") from None


def write_final(out: Path, rows: Iterable[dict[str, Any]] | pd.DataFrame, kind: str) -> None:
    """Write ``results.parquet`` (atomic), then remove the parts it contains."""
    if isinstance(rows, pd.DataFrame):
        table = pa.Table.from_pandas(rows, schema=schema(kind), preserve_index=False)
    else:
        table = _frame(list(rows), kind)
    _atomic_parquet(table, out / RESULTS)
    pdir = out / PARTS
    if pdir.is_dir():
        for p in pdir.glob("part-*.parquet"):
            p.unlink(missing_ok=True)
        try:
            pdir.rmdir()
        except OSError:
            pass


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` with its checksum (:func:`verify.sweep.integrity.seal`) atomically."""
    text = json.dumps(seal(obj), indent=2) + "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, user_file_mode())  # the user's umask, not mkstemp's 0600
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException as exc:  # no temporary file left behind (a full disk, say)
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename is None:
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise


def read_json(path: Path) -> Any:
    """The record in ``path`` without its checksum, which must match when present
    (:func:`verify.sweep.integrity.unseal`)."""
    try:
        obj = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise invalid("out", str(path), f"cannot read the sweep record ({exc})",
                      "pass the directory of an existing sweep or a new one") from None
    return unseal(obj, Path(path))
