"""Running an adaptive sweep (``sweep --adaptive``): the rounds of :mod:`.adaptive`'s design on
the sweep engine, the design log ``OUT/adaptive.json`` (each round's plan written before its
cells run), resuming, and the final record with the cell savings.  The design — what a round
asks for, from the rows stored so far — is :mod:`.adaptive`; see its docstring for the method,
the stopping rule and the resume guarantee."""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bounds._errors import invalid

from . import store
from .adaptive import LOG, RESUME_FIXED, SCHEMA, AdaptiveDesign, grid_equivalent, plan_round
from .spec import SweepSpec

__all__ = ["AdaptiveResult", "run_adaptive", "read_log", "finish_record"]


def _laws(table: pd.DataFrame, design: AdaptiveDesign, final: dict[str, Any]
          ) -> tuple[dict[int, tuple[float, float]], str]:
    """Per n (μ, s) for :func:`grid_equivalent`: the joint fit's point estimates (log m*½(n)
    and s(n) of :func:`~.joint_threshold.fit_joint`, pooled over n) when it converges on ≥ 2 n,
    else the per-n posterior medians."""
    from .joint_threshold import fit_joint
    from .outcomes import outcome_indicator

    y = outcome_indicator(table, design.outcome).to_numpy(float)
    ok = np.isfinite(y)
    if len(set(table["n"][ok])) >= 2:
        jf = fit_joint(table["n"].to_numpy()[ok], table["m"].to_numpy(float)[ok],
                       table["seed"].astype(str).to_numpy()[ok], y[ok], q=(0.5,), n_boot=0,
                       profile=False, compare_links=False)
        if jf.converged:
            return ({int(r["n"]): (math.log(r["m_star"]), jf.spreads[int(r["n"])])
                     for r in jf.thresholds}, "joint probit fit over n (point estimates)")
    return ({int(n): (v["estimate"]["mu"], v["estimate"]["s"]) for n, v in final["per_n"].items()},
            "per-n posterior medians of μ and s")


def finish_record(out_dir: str | os.PathLike[str], cells: int, rounds: int) -> None:
    """``sweep.json`` of an adaptive sweep after its last round: ``cells`` = the cells of the
    whole sweep (the engine wrote the last round's count) and ``adaptive`` = where the design's
    log is and how many rounds it has (one ``invocations`` entry per round)."""
    p = Path(out_dir) / store.SWEEP_JSON
    meta = store.read_json(p)
    meta["cells"] = int(cells)
    meta["adaptive"] = {"log": LOG, "rounds": int(rounds),
                        "note": "one engine invocation per round; the spec's m are the design's "
                                "candidate widths and its seeds the seed pool, not a grid"}
    store.write_json(p, meta)


def read_log(out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The adaptive log of a sweep directory (``adaptive.json``)."""
    p = Path(out_dir) / LOG
    if not p.is_file():
        raise invalid("out", str(out_dir), f"has no {LOG} (not an adaptive sweep)",
                      "resume it without --adaptive, or start the adaptive sweep in a new --out")
    return dict(store.read_json(p))


@dataclass(frozen=True, eq=False)
class AdaptiveResult:
    """``table``: every row of the sweep; ``log``: the content of ``adaptive.json``."""

    table: pd.DataFrame
    out_dir: Path
    spec: SweepSpec
    design: AdaptiveDesign
    log: dict[str, Any]
    computed: int
    wall_s: float
    engine: str
    rounds: list[dict[str, Any]] = field(default_factory=list)


def _complete(round_: dict[str, Any], table: pd.DataFrame) -> bool:
    have = set(zip(table["n"].astype(int), table["m"].astype(int), table["seed"].astype(int),
                   strict=True)) if len(table) else set()
    return all(tuple(c) in have for c in round_["cells"])


def run_adaptive(base: SweepSpec, design: AdaptiveDesign, out_dir: str | os.PathLike[str], *,
                 scheduler: str | None = None, workers: int | None = None, serial: bool = False,
                 resume: bool = False, progress: bool = True, retries: int = 3,
                 command: str | None = None, client: Any = None, task: Any = None,
                 savings: bool = True, connect_timeout: float | None = None) -> AdaptiveResult:
    """Run (or resume) an adaptive sweep into ``out_dir`` (module docstring).  ``base``: the
    sweep's settings (its ``m`` and ``seeds`` are replaced by the candidates and the seed
    pool); the other arguments are those of :func:`~.engine.run_sweep`.  ``savings``: compute
    the full-grid comparison at the end; ``connect_timeout``: that of a remote scheduler
    (:func:`~.scheduler.connect`, default its ``CONNECT_TIMEOUT``), connected before any file
    is written."""
    from .engine import _client, prepare_data, run_sweep
    from .scheduler import CONNECT_TIMEOUT, connect, resolve_scheduler

    t0 = time.monotonic()
    spec = design.sweep_spec(base)
    out = Path(out_dir)
    log_path = out / LOG
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    if resume and log_path.is_file():
        log = read_log(out)
        old = AdaptiveDesign.from_dict(log["design"])
        diff = [k for k in RESUME_FIXED if getattr(old, k) != getattr(design, k)]
        if diff:
            shown = ", ".join(f"{k}={getattr(old, k)!r}" for k in diff)
            raise invalid(diff[0], getattr(design, diff[0]), f"differs from the adaptive sweep in "
                          f"{out} ({shown})", "resume with the same options (or none)")
        log["design"] = design.to_dict()
    else:
        if (out / store.SWEEP_JSON).is_file():
            raise invalid("adaptive", True, f"the sweep in {out} is not an adaptive sweep (no "
                          f"{LOG})" if resume else f"{out} already holds a sweep",
                          "resume it without --adaptive" if resume else
                          "pass --resume to continue it, or choose a new --out")
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise invalid("out", str(out), "is not a new or empty directory",
                          "choose a new or empty --out (or --resume an adaptive sweep there)")
        log = {"schema": SCHEMA, "design": design.to_dict(), "rounds": [], "invocations": []}
    log.setdefault("invocations", []).append({"started": now, "command": command,
                                              "target_ci": design.target_ci,
                                              "max_cells": design.max_cells})
    data = prepare_data(spec)  # once for every round (raises on a bad n before any work)
    own = client is None and not serial
    cluster = None
    engine = "serial (in-process)"
    remote = resolve_scheduler(scheduler, serial=serial, client=client) if own else None
    if remote is not None:  # fails fast (a silent or non-dask peer), before any file is written
        client = connect(remote, CONNECT_TIMEOUT if connect_timeout is None else connect_timeout)
        engine = f"dask scheduler {remote.address}"
    elif own:
        client, cluster, engine = _client(workers, retries)
    elif client is not None:
        engine = "dask client (given)"
    computed = 0
    try:
        while True:
            exists = (out / store.SWEEP_JSON).is_file()
            table = store.read_table(out, spec.kind) if exists else store.schema(spec.kind).empty_table().to_pandas()
            rounds = log["rounds"]
            if rounds and not _complete(rounds[-1], table):
                plan = rounds[-1]
            else:
                plan = plan_round(table, design, spec.n)
                if not plan["cells"]:
                    log["final"] = {k: v for k, v in plan.items() if k != "cells"}
                    break
                plan = {"round": len(rounds), "planned": datetime.now(timezone.utc).isoformat(
                    timespec="seconds"), **plan}
                rounds.append(plan)
                out.mkdir(parents=True, exist_ok=True)
                store.write_json(log_path, log)
            res = run_sweep(spec, out, serial=serial, resume=True, progress=False,
                            retries=retries, command=command, client=client, task=task,
                            only=[tuple(c) for c in plan["cells"]], data=data)
            computed += res.computed
            if progress:
                est = "; ".join(f"n={n}: {v['phase']}" + (f" m={v['m']}" if "m" in v else "")
                                + f" ±{v['estimate']['halfwidth']:.3f}"
                                for n, v in plan["per_n"].items())
                print(f"adaptive round {plan['round']}: {len(plan['cells'])} cells "
                      f"({len(res.table)} in all) — {est}", file=sys.stderr, flush=True)
    finally:
        if own and client is not None:
            client.close()
            if cluster is not None:
                cluster.close()
    table = store.read_table(out, spec.kind)
    final = log["final"]
    final["cells"] = int(len(table))
    final["rounds"] = len(log["rounds"])
    final["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    if savings:
        laws, source = _laws(table, design, final)
        # the half-width the design reached at n where it stopped short of the target
        targets = {int(n): max(design.target_ci, float(v["estimate"]["halfwidth"]))
                   for n, v in final["per_n"].items()}
        eq = grid_equivalent(laws, design, targets=targets)
        eq["law_from"] = source
        used = {str(n): int((table["n"] == n).sum()) for n in spec.n}
        eq["adaptive_cells_per_n"] = used
        eq["adaptive_cells"] = int(len(table))
        eq["ratio_per_n_seeds"] = eq["cells_per_n_seeds"] / max(len(table), 1)
        eq["ratio_uniform_seeds"] = eq["cells_uniform_seeds"] / max(len(table), 1)
        final["savings"] = eq
    store.write_json(log_path, log)
    finish_record(out, len(table), len(log["rounds"]))
    return AdaptiveResult(table, out, spec, design, log, computed, time.monotonic() - t0, engine,
                          list(log["rounds"]))
