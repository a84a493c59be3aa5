"""The steps of ``implicit-verify report`` below the command itself: loading and matching the
data of saved runs, the hidden staging directory and its atomic swap into place, the per-run
known-issue findings, the infinite-width kernels and the width-scaling sweep of the report, and
the thread setting.  :mod:`verify.cli.report` parses the options and composes these."""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bounds._defaults import default_for
from bounds._errors import InvalidArgument, invalid

#: Defaults of the command: the shared ones of :mod:`bounds._defaults`, with the report's own
#: width list, n and step (:data:`bounds._defaults.PER_COMMAND` says why they differ).  Chosen
#: so that the default report takes a few minutes on 2 CPU cores; see reports/README.md.
DEFAULTS: dict[str, Any] = {
    "theorem": "g22-gd",
    "data": default_for("report", "data"),
    "n": default_for("report", "n"),
    "widths": (64, 128, 256, 512),
    "gamma": default_for("report", "gamma"),
    "step": default_for("report", "step"),
    "steps": default_for("report", "steps"),
    "seed": default_for("report", "seed"),
    "device": default_for("report", "device"),
    "dtype": default_for("report", "dtype"),
    "format": "md,html,json",
    "dpi": 150,
    "n_boot": default_for("report", "n_boot"),
}

FINDINGS_FILE = "report_findings.json"

#: The default report's small width-scaling sweep (init kind: Lemma 3.3's event and the NTK's
#: rank at initialisation): half-octave widths that bracket the Lemma 3.3 threshold at each n
#: (measured on digits-all: m*½ ≈ 80, 160, 400 at n = 16, 32, 64), run serially in the report's
#: folder (``OUT/sweeps/init``) so that ``--sweep`` can re-render it.
SCALING_SWEEP: dict[str, Any] = {
    "kind": "init", "data": "digits-all", "n": (16, 32, 64),
    "m": (16, 23, 32, 45, 64, 91, 128, 181, 256, 362, 512, 724, 1024, 1448),
    "seeds": tuple(range(10)), "hk_max_m": 64,
}
SCALING_DIR = "sweeps/init"

_DATA_KEYS = ("name", "n", "d", "n_test", "seed", "unit_norm_normalised", "perturbed_pairs", "source")

class _Interrupted(Exception):
    """A run of the report was stopped by SIGINT/SIGTERM (it saved its checkpoint)."""

    def __init__(self, signum: int | None) -> None:
        super().__init__(signum)
        self.signum = signum


class _Log:
    def __init__(self, quiet: bool, command: str = "report") -> None:
        self.quiet = quiet
        self.command = command
        self.t0 = time.monotonic()

    def __call__(self, msg: str) -> None:
        if not self.quiet:
            dt = time.monotonic() - self.t0
            print(f"[implicit-verify {self.command} {dt:6.1f}s] {msg}", file=sys.stderr, flush=True)


def _step_text(step: Any) -> str:
    return "auto" if str(step).lower() == "auto" else repr(_step_value(step))


def _step_value(step: Any) -> float:
    try:
        a = float(step)
    except (TypeError, ValueError):
        raise invalid("--step", step, "expected a positive number or 'auto'",
                      "use e.g. --step 0.005 or --step auto") from None
    if not (math.isfinite(a) and a > 0):
        raise invalid("--step", step, "the step size must be positive and finite",
                      "use e.g. --step 0.005")
    return a


def _load_data(args: argparse.Namespace) -> Any:
    """The report's data from the shared data options (:mod:`bounds._datacli`): the bundled
    sets and synthetic data default to n = 128; synthetic data has a test set of n
    (:data:`bounds._defaults.PER_COMMAND`); ``--data-seed`` defaults to ``--seed``.  G22
    Assumption 2 failing is an error unless ``--allow-assumption-violation``."""
    from bounds._datacli import dataset_from_args, require_assumption2

    if str(args.data) == "synthetic":
        if args.n_test is None:
            args.n_test = str(DEFAULTS["n"] if args.n is None else args.n)
    ds = dataset_from_args(args, n_default=DEFAULTS["n"], seed_default=int(args.seed),
                           allow_large=bool(getattr(args, "allow_large", False)))
    require_assumption2(ds.X, args)
    return ds


def _data_for_record(record: Mapping[str, Any]) -> Any:
    """Rebuild a run's data from its record (bundled data sets only; files by path), with
    the recorded projection (``--project-d``) re-applied."""
    from bounds.datasets import project_dataset

    ds = _data_for_record_base(record)
    proj = (record.get("data") or {}).get("projection")
    if ds is None or not isinstance(proj, dict) or not proj.get("d"):
        return ds
    try:
        return project_dataset(ds, int(proj["d"]), int(proj.get("seed") or 0),
                               perturb_parallel=bool(ds.perturbed_pairs))
    except Exception:  # the report goes on without it, as for a moved source
        return None


def _data_for_record_base(record: Mapping[str, Any]) -> Any:
    from verify.experiment.data import load_dataset

    data = record.get("data") or {}
    name = data.get("name")
    loader = data.get("loader")
    if isinstance(loader, dict) and loader.get("name"):  # image sets: the loader's arguments
        args = dict(loader)
        args["classes"] = tuple(args.get("classes") or (0, 1))
        try:
            return load_dataset(args.pop("name"), **args)
        except Exception:  # the source moved or is gone: the report goes on without it
            return None
    seed = int(data.get("seed") or 0)
    perturb = bool(data.get("perturbed_pairs"))
    if name == "digits":
        n_all = int(data["n"]) + int(data.get("n_test") or 0)
        return load_dataset("digits", n=int(data["n"]), seed=seed, perturb_parallel=perturb,
                            test_fraction=(int(data.get("n_test") or 0) / 360
                                           if n_all <= 360 else 0.5))
    if name in ("digits-all", "breast-cancer"):
        total = 1797 if name == "digits-all" else 569
        return load_dataset(name, n=int(data["n"]), seed=seed, perturb_parallel=perturb,
                            test_fraction=int(data.get("n_test") or 0) / total)
    if name == "synthetic":
        return load_dataset("synthetic", n=int(data["n"]), d=int(data["d"]), seed=seed,
                            n_test=int(data.get("n_test") or 0), perturb_parallel=perturb)
    src = data.get("source")
    if src and Path(str(src)).is_file():
        return load_dataset(str(src), normalise=bool(data.get("unit_norm_normalised")),
                            perturb_parallel=perturb, seed=seed)
    return None


def _check_same_data(loaded: Sequence[tuple[str, Any]]) -> None:
    """The runs of one report table must share the theorem and the data (name, sizes, seed,
    source, preprocessing); otherwise the table would label every run with the first run's data."""
    if not loaded:
        return
    d0, r0 = loaded[0]
    key0 = (r0.record["theorem"].get("key"), tuple(str(r0.record["data"].get(k)) for k in _DATA_KEYS))
    for d, r in loaded[1:]:
        theorem = r.record["theorem"].get("key")
        if theorem != key0[0]:
            raise invalid("--from", d, f"checks theorem {theorem!r} but {d0} checks {key0[0]!r}",
                          "report runs of one theorem together (one report per theorem)")
        data = tuple(str(r.record["data"].get(k)) for k in _DATA_KEYS)
        if data != key0[1]:
            diff = [f"{k}: {a} vs {b}" for k, a, b in zip(_DATA_KEYS, data, key0[1], strict=True) if a != b]
            raise invalid("--from", d, f"was run on other data than {d0} ({'; '.join(diff)[:200]})",
                          "report runs on the same data together (one report per data set)")


#: Written into every report directory when it is created; ``--force`` replaces a directory
#: only when it holds this file (so it never deletes a run, a sweep or anything else).
REPORT_MARKER = ".implicit-verify-report"
_MARKER_TEXT = ('{"made_by": "implicit-verify report", "note": "marks a report directory; '
                'implicit-verify report --force replaces only directories holding this file"}\n')


def check_force_target(out: Path, force: bool, inputs: Sequence[tuple[str, str | Path]] = ()) -> None:
    """Refuse an ``--out`` that exists unless ``--force`` is given *and* it is a report directory
    of this toolkit (it holds :data:`REPORT_MARKER`) that is not, and does not contain, one of
    the command's ``inputs`` (``(option, path)`` pairs, e.g. the ``--from``/``--sweep`` dirs)."""
    if not (out.exists() or out.is_symlink()):
        return
    if not force:
        raise invalid("--out", str(out), "already exists",
                      "pass --force to replace it (only a report directory), or choose another --out")
    fix = "choose another --out (--force replaces only a report directory written by this command)"
    if not out.is_dir():
        raise invalid("--out", str(out), "is not a directory", fix)
    here = out.resolve()
    for option, path in inputs:
        p = Path(path).resolve()
        if p == here or here in p.parents:
            raise invalid("--out", str(out), f"{'is' if p == here else 'contains'} the {option} "
                          f"input {path}; --force would delete it", fix)
    if not (out / REPORT_MARKER).is_file():
        kind = ("a run" if (out / "record.json").exists() else
                "a sweep" if (out / "sweep.json").exists() else "not a report directory")
        raise invalid("--out", str(out), f"is {kind} (no {REPORT_MARKER} marker); --force "
                      "replaces only report directories", fix)


def _stage_dir(out: Path) -> Path:
    parent = out.parent if str(out.parent) else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    stage = parent / f".{out.name}.partial-{os.getpid()}"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir()
    (stage / REPORT_MARKER).write_text(_MARKER_TEXT, encoding="utf-8")
    return stage


def _commit(stage: Path, out: Path, force: bool,
            inputs: Sequence[tuple[str, str | Path]] = ()) -> None:
    """Move the staged report into place (replacing ``out`` only with ``force`` and only when
    :func:`check_force_target` allows it)."""
    old = None
    if out.exists() or out.is_symlink():
        check_force_target(out, force, inputs)  # checked before any work; again here (races)
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        os.replace(out, old)
    os.replace(stage, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _write_files(stage: Path, files: Mapping[str, bytes]) -> None:
    from verify.experiment.record import atomic_write_bytes

    for rel, data in files.items():
        atomic_write_bytes(stage / rel, data)


def _findings_for(result: Any, ds: Any, log: _Log, m_min: int, enabled: bool) -> dict[str, Any]:
    record = dict(result.record)
    loss = result.trace.get("loss")
    if loss is not None and len(loss):
        record["_final_loss"] = float(loss[-1])
    if not enabled:
        return {"m": int(record["config"]["m"]), "checked": False,
                "note": "known-issue computations skipped (--no-findings)"}
    m = int(record["config"]["m"])
    from verify.report.sections.g22_findings import compute_findings

    try:
        return compute_findings(record, result.params_final, ds, jacobian=(m == m_min),
                                eq16=(m == m_min))
    except Exception as exc:  # never lose a finished report to a diagnostic
        log(f"m = {m}: known-issue computations failed: {type(exc).__name__}: {exc}")
        return {"m": m, "checked": False, "note": f"computation failed ({type(exc).__name__})"}


def _kernels_for(ds: Any, runs: Sequence[Any], log: _Log) -> dict[str, Any] | None:
    """The infinite-width kernels of the runs' data (the report's kernels section); ``None``
    when the data cannot be rebuilt or the runs disagree on γ.  Never fails the report."""
    from verify.report.sections.kernels import compute_kernels

    gammas = {(r.record.get("config") or {}).get("gamma") for r in runs}
    gamma = gammas.pop() if len(gammas) == 1 else None
    if ds is None or gamma is None:
        return None
    t = time.monotonic()
    try:
        k = compute_kernels(ds.X, float(gamma), [r.m for r in runs])
    except Exception as exc:  # a diagnostic never loses a finished report
        log(f"infinite-width kernels failed: {type(exc).__name__}: {exc}")
        return None
    log(f"infinite-width kernels: λ_min(H∞) = {k['limit']['lambda_min_H']:.6g} "
        f"({time.monotonic() - t:.1f} s)")
    return k


def _check_sweep_args(args: argparse.Namespace) -> None:
    if args.n_boot < 0:
        raise invalid("n-boot", args.n_boot, "must be ≥ 0", "use e.g. --n-boot 200")
    if args.note and not args.sweep_only:
        raise invalid("note", args.note[0], "is used by --sweep-only reports only",
                      "drop --note or add --sweep DIR --sweep-only")
    if args.sweep_only and not args.sweep:
        raise invalid("sweep-only", True, "needs --sweep DIR", "pass --sweep SWEEP_DIR")
    if args.sweep_only and args.from_dirs:
        raise invalid("sweep-only", True, "renders sweeps alone; --from adds runs",
                      "drop --sweep-only or --from")
    for d in args.sweep or ():
        if not (Path(d) / "sweep.json").is_file():
            raise invalid("sweep", d, "has no sweep.json (not a sweep directory)",
                          "pass the --out directory of an 'implicit-verify sweep' run")


def _scaling(args: argparse.Namespace, stage: Path, out: Path, log: _Log) -> list[Any]:
    """Analysed sweeps for the width-scaling section: ``--sweep`` dirs, or the default small
    init sweep run into the report's folder (not with ``--from`` / ``--no-sweep``)."""
    from verify.sweep.analysis import analyse_sweep

    if args.sweep:
        res = []
        for d in args.sweep:
            log(f"width scaling: fitting thresholds of the sweep in {d} …")
            try:
                res.append(analyse_sweep(d, n_boot=int(args.n_boot), label=str(d)))
            except InvalidArgument as exc:  # read_sweep names its argument "from"
                text = str(exc)
                raise InvalidArgument("--sweep=" + text[5:] if text.startswith("from=")
                                      else text) from None
        return res
    if args.from_dirs or args.no_sweep:
        return []
    from verify.sweep.engine import run_sweep
    from verify.sweep.spec import SweepSpec

    sp = SCALING_SWEEP
    spec = SweepSpec(kind=sp["kind"], data=sp["data"], n=sp["n"], m=sp["m"], seeds=sp["seeds"],
                     hk_max_m=sp["hk_max_m"], gamma=float(args.gamma))
    dest = stage / SCALING_DIR
    cmd = (f"implicit-verify sweep --kind {spec.kind} --data {spec.data} --n "
           f"{','.join(map(str, spec.n))} --m {','.join(map(str, spec.m))} --seeds "
           f"{len(spec.seeds)} --gamma {spec.gamma!r} --hk-max-m {spec.hk_max_m} --serial "
           f"--out {out / SCALING_DIR}")
    log(f"width scaling: init sweep, n ∈ {list(spec.n)}, {len(spec.m)} widths "
        f"{spec.m[0]}…{spec.m[-1]}, {len(spec.seeds)} seeds (serial) …")
    t1 = time.monotonic()
    done = run_sweep(spec, dest, serial=True, progress=False, command=cmd)
    wall = time.monotonic() - t1
    log(f"width scaling: {len(done.table)} cells in {wall:.1f} s; fitting thresholds …")
    return [analyse_sweep(dest, n_boot=int(args.n_boot), wall_s=wall,
                          label=str(out / SCALING_DIR))]


def _set_threads(threads: int | None, log: _Log) -> None:
    """``--threads`` or, by default, 1 thread when the CPUs are already busy.

    OpenMP threads that wait for each other on cores kept busy by other processes make small
    matrix products 100× slower (measured: a 100×64 by 64×64 product took 47 ms with 2 threads
    on 2 busy cores, 0.2 ms with 1 thread).
    """
    import torch

    if threads is not None:
        torch.set_num_threads(int(threads))
        return
    n = torch.get_num_threads()
    try:
        load = os.getloadavg()[0]
    except (OSError, AttributeError):  # pragma: no cover - not on Windows
        return
    cpus = os.cpu_count() or 1
    if n > 1 and load >= cpus - 0.5:
        torch.set_num_threads(1)
        log(f"CPUs busy (load {load:.1f} on {cpus} cores): using 1 torch thread instead of {n} "
            "(--threads N overrides)")
