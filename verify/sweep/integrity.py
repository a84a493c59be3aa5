"""A sweep directory is closed: its record is the one the sweep wrote, its rows are its own cells.

``sweep.json`` carries ``"_sha256"``: the SHA-256 of the canonical JSON (sorted keys, no spaces)
of the rest of the record, written by :func:`verify.sweep.store.write_json` and checked by
:func:`verify.sweep.store.read_json` (:func:`seal` / :func:`unseal`).  An edited record (say
``spec.kind`` changed by hand, which would let ``--resume`` mix kinds in one table) is refused
by name with the fix.  *Legacy records*: a ``sweep.json`` without ``_sha256`` — written before
this check existed, e.g. the sweeps committed under ``reports/`` — is read as it is; the row
checks below still apply to it (a changed kind or grid no longer matches the rows' cell keys),
and the next ``--resume`` writes the checksum.

Rows: every row of ``results.parquet`` and of every part must be a cell of the directory's own
grid — its ``cell_key`` one of :meth:`SweepSpec.cells` under the per-n data fingerprints
recorded in ``sweep.json`` — with that cell's ``n``, ``m``, ``seed`` and the sweep's ``kind``,
``data``, ``gamma`` and ``step``.  A file holding another row (a part copied from another sweep,
a row with an m outside the grid, an edited row) is refused by name
(:func:`check_rows`), by ``--resume`` and by the readers (``sweep --from``, ``report --sweep``,
:func:`verify.sweep.read_table`), instead of being counted and fitted.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd

from bounds._errors import InvalidArgument, invalid

from .spec import SweepSpec

__all__ = ["CHECKSUM", "SweepDirError", "seal", "unseal", "grid_of", "check_rows"]

CHECKSUM = "_sha256"


class SweepDirError(InvalidArgument):
    """A sweep directory holds something its sweep did not write (an edited ``sweep.json``, a
    foreign row).  ``problem`` and ``fix`` are the message's parts, for readers that name
    their own argument."""

    def __init__(self, message: str, problem: str = "", fix: str = "") -> None:
        super().__init__(message)
        self.problem, self.fix = problem, fix


def _refuse(name: str, value: object, problem: str, fix: str) -> SweepDirError:
    return SweepDirError(str(invalid(name, value, problem, fix)), problem, fix)


def _digest(obj: Any) -> str:
    """SHA-256 of the canonical JSON, as :func:`verify.experiment.record.json_checksum` but with
    NaN allowed, as :func:`.store.write_json` allows it: with the run records' checksum, a NaN
    in a sweep record would turn from a value written into an error at write time."""
    text = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def seal(obj: Any) -> Any:
    """``obj`` as it will read back from JSON, with ``_sha256`` added when it is a dict."""
    plain = json.loads(json.dumps(obj, default=str))  # what a reader gets (tuples → lists …)
    if isinstance(plain, dict):
        plain.pop(CHECKSUM, None)
        plain[CHECKSUM] = _digest(plain)
    return plain


def unseal(obj: Any, path: Path) -> Any:
    """The record without its checksum; :class:`SweepDirError` if the checksum does not match.
    A record without a checksum (legacy, module docstring) is returned as it is."""
    if not isinstance(obj, dict) or CHECKSUM not in obj:
        return obj
    rest = {k: v for k, v in obj.items() if k != CHECKSUM}
    if obj[CHECKSUM] != _digest(rest):
        raise _refuse(
            "out", str(Path(path).parent),
            f"{Path(path).name} was changed after the sweep wrote it (its {CHECKSUM} does not match "
            f"its content: {path})",
            f"undo the edit or restore {Path(path).name} from a copy; to change the settings run a "
            "new sweep into another --out")
    return rest


def grid_of(meta: Any, path: Path) -> tuple[SweepSpec, dict[str, tuple[int, int, int]]]:
    """The spec of a ``sweep.json`` record and its cells: ``cell_key → (n, m, seed)`` (cached
    per spec and fingerprints: a running sweep reads its table at every compaction)."""
    try:
        fps = tuple(sorted((int(k), str(v["fingerprint"])) for k, v in meta["data"].items()))
        return _grid(json.dumps(meta["spec"], sort_keys=True), fps)
    except Exception as exc:  # a damaged or hand-made record (legacy: no checksum)
        raise _refuse(
            "out", str(Path(path).parent),
            f"{Path(path).name} is damaged ({type(exc).__name__}: {' '.join(str(exc).split())[:100]})",
            f"restore {Path(path).name} from a copy, or run the sweep again in a new --out") from None


@functools.lru_cache(maxsize=8)
def _grid(spec_json: str, fps: tuple[tuple[int, str], ...]
          ) -> tuple[SweepSpec, dict[str, tuple[int, int, int]]]:
    spec = SweepSpec.from_dict(json.loads(spec_json))
    cells = spec.cells(dict(fps))
    return spec, {c.key: (c.n, c.m, c.seed) for c in cells}


def check_rows(df: pd.DataFrame, file: Path, out: Path, spec: SweepSpec,
               grid: dict[str, tuple[int, int, int]]) -> None:
    """Refuse ``file`` (one result file of the sweep in ``out``) when a row is not one of the
    grid's cells or disagrees with the sweep's settings (module docstring)."""
    if df.empty:
        return
    rel = file.relative_to(out) if file.is_relative_to(out) else file
    fix = (f"move {rel} out of the sweep directory (it belongs to another sweep or was edited), "
           "then --resume computes the cells of this sweep that are missing")
    keys = df["cell_key"].astype(object)
    foreign = ~keys.isin(list(grid))
    if foreign.any():
        r = df[foreign].iloc[0]
        raise _refuse("out", str(out),
                            f"{rel} holds {int(foreign.sum())} row(s) that are not cells of this "
                            f"sweep's grid (e.g. n={r['n']}, m={r['m']}, seed={r['seed']}, "
                            f"cell_key {r['cell_key']!r})", fix)
    want = {"kind": spec.kind, "data": spec.data,
            "gamma": None if spec.kind == "gamma" else float(spec.gamma),
            "step": spec.step if spec.kind in ("gd", "gamma") else None}
    cell = pd.DataFrame([grid[k] for k in keys], columns=["n", "m", "seed"], index=df.index)
    wrong = pd.Series(False, index=df.index)
    for col in ("n", "m", "seed"):
        wrong |= df[col].to_numpy() != cell[col].to_numpy()
    for col, val in want.items():  # None: the column is null (NaN) in the sweep's rows
        wrong |= df[col].notna() if val is None else (df[col] != val)
    if wrong.any():
        r = df[wrong].iloc[0]
        c = cell[wrong].iloc[0]
        bad = [f"{k}={r[k]!r} (sweep: {v!r})" for k, v in want.items()
               if not (pd.isna(r[k]) if v is None else r[k] == v)]
        bad += [f"n, m, seed = {r['n']}, {r['m']}, {r['seed']} (its cell: {c['n']}, {c['m']}, "
                f"{c['seed']})"] if (r["n"], r["m"], r["seed"]) != (c["n"], c["m"], c["seed"]) else []
        raise _refuse("out", str(out),
                            f"{rel} holds {int(wrong.sum())} row(s) whose settings differ from this "
                            f"sweep's (e.g. {', '.join(bad)[:160]}, cell_key {r['cell_key']!r})",
                            fix)
