"""``implicit-verify sweep``: a grid of init / GD cells over (n, m, seed) on dask.distributed.

Examples::

    implicit-verify sweep --data digits-all --kind init --n 16,32,64,128,256 \\
        --m 8:2048:x2 --seeds 50 --out sweeps/init
    implicit-verify sweep --out sweeps/init --resume            # continue after a kill
    implicit-verify sweep --data synthetic --d 16 --kind gd --n 32,64 --m 16:512:x2 \\
        --seeds 10 --steps 3000 --target 1e-3 --out sweeps/gd --scheduler tcp://head:8786

Grid grammar: ``--n``/``--m`` take comma lists and ranges ``START:STOP:xFACTOR`` (geometric)
or ``START:STOP:+STEP`` (arithmetic); ``--seeds N`` is seeds 0…N−1 (a list or range with a
comma or colon lists the seeds themselves).  With ``--resume`` the options not given again
come from the sweep's ``sweep.json``.

Every option is checked before any work (ranges before any arithmetic that could overflow:
grid values ≤ 2**62, at most 10**7 values per axis; ``--workers`` ≤ 4 × the CPUs); the largest
cell (max n, max m), times the cells a local cluster runs at once, must fit in the available
memory (estimate in the message; ``--allow-large`` overrides; not checked for a remote
``--scheduler``).  A remote scheduler's address (``--scheduler``, else
``$DASK_SCHEDULER_ADDRESS``) is checked first and connected to within ``--connect-timeout``
seconds (default 10) before any file is written; a refused, silent or non-dask peer is one
line naming the option or the variable, and the directory is left as it was.  A bad option, a
damaged ``sweep.json`` or result file, or a sweep that cannot be resumed with the options
given is one line naming the option (exit 2); nothing in the sweep directory is changed.

Length (~520 lines): about half is the parser (every option with its help and default); the
rest turns options into a spec and dispatches to running, ``--from`` and ``--compare``.  The
adaptive design's options are checked in :mod:`verify.cli._adaptive`; splitting the parser
from the checks that name its options would put each option's two halves in two files.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path
from typing import Any

from bounds._args import MAX_DIM, MAX_SEED, check_memory, parse_float, parse_float_list, parse_int
from bounds._defaults import PER_COMMAND, default_for
from bounds._errors import InvalidArgument, invalid
from verify.cli._args import check_writable_dir, cli_message, run_bytes
from verify.sweep.spec import MAX_CELLS

__all__ = ["add_parser", "run"]

#: the sweep's defaults: the shared ones of :mod:`bounds._defaults` (data and steps are the
#: sweep's own, :data:`bounds._defaults.PER_COMMAND`) and the sweep-only settings
_DEFAULTS: dict[str, Any] = {"kind": "init", "data": default_for("sweep", "data"),
                             "gamma": default_for("sweep", "gamma"),
                             "step": default_for("sweep", "step"), "target": 1e-3,
                             "steps": default_for("sweep", "steps"), "expensive_every": 1,
                             "hk_max_m": 512, "data_seed": default_for("sweep", "data_seed"),
                             "d": None, "device": default_for("sweep", "device"),
                             "gamma_rtol": 1e-3, "gamma_levels": None, "budget": "fixed",
                             "kappa": 3.0, "project_d": None, "project_seed": 0}


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "sweep", help="grid of init/GD cells over (n, m, seed) on dask.distributed, resumable",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_argument_group("grid and task")
    g.add_argument("--kind", choices=("init", "gd", "gamma"), default=None,
                   help="init: initialisation events (λ_min(G(0)), ‖G(0)−G∞‖, λ_min(H(0)), "
                        "λ_min(K(0)), c); gd: a GD run to the target per cell; gamma: γ*, the "
                        "largest γ keeping the certified contraction γ/√m·‖A(k)‖₂ < 1 at every "
                        "step of a --steps GD run, by bisection (default init)")
    g.add_argument("--budget", default=None, choices=("fixed", "rate"),
                   help="gd: 'fixed' = --steps steps (outcome gd_reached, budget-dependent); "
                        "'rate' = ⌈κ·log(1/target)/(α·λ_min(H(0)))⌉ steps capped by --steps "
                        "(outcome gd_linear, GG22's linear rate; use e.g. --target 1e-6) "
                        "(default fixed)")
    g.add_argument("--kappa", default=None,
                   help="gd with --budget rate: slack κ ≥ 1 of the budget over the linearised "
                        "step count (default 3)")
    g.add_argument("--gamma-rtol", default=None,
                   help="gamma: relative width at which the bisection stops (default 1e-3)")
    g.add_argument("--gamma-levels", default=None,
                   help="gamma: levels γ0 of the outcomes wellposed_at_<γ0>, e.g. 0.25,0.4,0.45 "
                        "(default none)")
    g.add_argument("--data", default=None,
                   help="digits-all, digits, breast-cancer, synthetic, mnist, idx:DIR, "
                        "fashion-mnist:DIR, cifar10:DIR, svhn:DIR|FILE (classes 0/1), or a file "
                        f"(default {default_for('sweep', 'data')}: "
                        f"{PER_COMMAND[('sweep', 'data')][1]})")
    g.add_argument("--n", default=None, help="sample sizes, e.g. 16,32,64 or 16:256:x2 (default: required, or the resumed "
                        "sweep's)")
    g.add_argument("--m", default=None, help="widths, e.g. 8:2048:x2 or 64,128 or 64:512:+64 (default: required, or the "
                        "resumed sweep's)")
    g.add_argument("--seeds", default=None, help="N (seeds 0…N−1) or a list/range of seeds (default: required, or the "
                        "resumed sweep's)")
    g.add_argument("--gamma", default=None,
                   help="fixed scale γ in (0, 1); gd also takes 0, the explicit two-layer "
                        f"control z = σ(Wx)/√m (default {default_for('sweep', 'gamma')})")
    g.add_argument("--step", default=None, help="gd: α, or 'auto' = 1/λ_max(H(0)) per cell "
                   f"(default {default_for('sweep', 'step')})")
    g.add_argument("--target", default=None,
                   help="gd: stop at loss ≤ TARGET·loss(0) (default 1e-3)")
    g.add_argument("--steps", default=None,
                   help=f"gd: step budget (default {default_for('sweep', 'steps')}: "
                        f"{PER_COMMAND[('sweep', 'steps')][1]})")
    g.add_argument("--expensive-every", default=None,
                   help="gd: record ‖W−W(0)‖₂, ‖H−H(0)‖₂, λ_min(H) every this many steps "
                        "(default 1: maxima/minima over every step)")
    g.add_argument("--hk-max-m", default=None,
                   help="init: compute H(0), K(0) (equilibrium + O(m³) SVD) only for m ≤ this; "
                        "NaN above (default 512; 'all' = every width)")
    g.add_argument("--data-seed", default=None, help="seed of the data split / synthetic draw "
                   f"(default {default_for('sweep', 'data_seed')})")
    g.add_argument("--d", default=None, help="synthetic data: input dimension "
                   f"(default {default_for('sweep', 'synthetic_d')})")
    g.add_argument("--classes", default=None,
                   help="image sets: the two classes, labels −1 and +1 (default 0,1)")
    g.add_argument("--normalise", action="store_true", default=None,
                   help="files: scale every row to unit norm (G22 Assumption 2)")
    g.add_argument("--perturb-parallel", action="store_true", default=None,
                   help="add N(0, 1e-3²) noise to one row of every parallel pair (the paper's "
                        "remedy; on by default for the image sets)")
    g.add_argument("--allow-assumption-violation", action="store_true",
                   help="run even when G22 Assumption 2 fails on the data of some n (non-unit, "
                        "parallel or zero rows); sweep.json keeps the audit and --from and the "
                        "report say so (default: refused, naming the option that fixes it)")
    g.add_argument("--project-d", default=None, metavar="D",
                   help="project the inputs to D dimensions by a fixed Gaussian matrix, then unit "
                        "rows: d changes at fixed n (the parameter-counting control; one D per "
                        "sweep, compare sweeps with --compare) (default: no projection)")
    g.add_argument("--project-seed", default=None, metavar="S",
                   help="seed of the --project-d matrix (default 0)")
    g.add_argument("--device", default=None, help="torch device of the tasks "
                   f"(default {default_for('sweep', 'device')})")
    g.add_argument("--batched-seeds", action="store_true", default=None,
                   help="gd: run the seeds of one (n, m) as one batched bare GD run (reached, "
                        "steps to target, late rate; no instrumented outcomes) — for GPUs")
    e = p.add_argument_group("engine and output")
    e.add_argument("--out", default=None, help="sweep directory (sweep.json, results.parquet) (default: required)")
    e.add_argument("--resume", action="store_true", help="continue the sweep in --out")
    e.add_argument("--scheduler", default=None,
                   help="address of a running dask scheduler (default: $DASK_SCHEDULER_ADDRESS, "
                        "else a local cluster)")
    e.add_argument("--connect-timeout", default=None, metavar="SECONDS",
                   help="seconds allowed for connecting to --scheduler (a refused, silent or "
                        "non-dask address is an error within this time) (default 10)")
    e.add_argument("--workers", default=None, help="local cluster worker processes (default: CPUs)")
    e.add_argument("--serial", action="store_true", help="run in this process, without dask")
    e.add_argument("--retries", default="3", help="retries per task / worker losses tolerated (default 3)")
    e.add_argument("--quiet", action="store_true", help="no progress bar")
    e.add_argument("--allow-large", action="store_true",
                   help="run even when the memory estimate of the largest cell (times the local "
                        "workers running at once) exceeds the available memory")
    a = p.add_argument_group("adaptive design (verify.sweep.adaptive)")
    a.add_argument("--adaptive", action="store_true",
                   help="init/gd: per n, bisection in log m to bracket m*_q, then the "
                        "psi-marginal method (Bayesian, probit law) in rounds of cells; --m gives "
                        "the search range (its smallest and largest value), --seeds R the cells "
                        "per n per round (default 4); log of the design in OUT/adaptive.json")
    a.add_argument("--target-ci", default=None,
                   help="with --adaptive: an n stops when the half-width of the 95%% credible "
                        "interval of log m*_q is ≤ this (default 0.1, i.e. about ±10%% in m*)")
    a.add_argument("--max-cells", default=None,
                   help="with --adaptive: the most cells the whole sweep runs (default 2000)")
    a.add_argument("--quantile", default=None,
                   help="with --adaptive: the q of the threshold m*_q designed for (default 0.5)")
    f = p.add_argument_group("fitted thresholds of a finished (or running) sweep")
    f.add_argument("--from", dest="from_dir", default=None, metavar="DIR",
                   help="print the fitted width thresholds m*(n) and exponents p of every "
                        "outcome of the sweep in DIR (nothing is run) (default: run a sweep)")
    f.add_argument("--compare", nargs="+", default=None, metavar="DIR",
                   help="pool finished sweeps of one kind into one threshold fit (nothing is "
                        "run): gd sweeps (e.g. one per --project-d D and one at --gamma 0) test "
                        "whether the outcome's threshold follows m ∝ n (GG22) or P ∝ n "
                        "(parameter counting) and whether γ = 0 changes it; init sweeps on data "
                        "sets with different λ0(n) fit log m* on log n and log(1/λ0) and test "
                        "G22 Lemma 3.3's and the matrix-Chernoff width (default: run a sweep)")
    f.add_argument("--terms", default=None,
                   help="with --compare: the free law's terms, comma-separated from n, d, "
                        "lambda0, gamma0 (default: n, plus d and gamma0 when the gd sweeps vary "
                        "them; n,lambda0 for init sweeps)")
    f.add_argument("--plot", default=None, metavar="PNG",
                   help="with --compare: also write the figure (m*½ against n per data set, d "
                        "and γ; success against P/n for gd outcomes, against m·λ0/n for init "
                        "outcomes) to this PNG file (default: none)")
    f.add_argument("--outcome", default=None,
                   help="with --compare: the outcome whose threshold is compared (default "
                        "gd_linear; e.g. gd_reached, or lemma33_init for init sweeps); with "
                        "--adaptive: the outcome designed for (default lemma33_init for init, "
                        "gd_reached for gd, gd_linear for gd with --budget rate)")
    f.add_argument("--format", default="table", choices=("table", "json"),
                   help="with --from/--compare: a text table (default) or JSON rows")
    f.add_argument("--n-boot", default=str(default_for("sweep", "n_boot")), help="with --from: bootstrap replicates")
    f.add_argument("--boot-seed", default="0", help="with --from: bootstrap seed (default 0)")
    p.set_defaults(func=run)
    return p


#: library argument / SweepSpec field → the option that sets it (error messages name options).
_OPTIONS = {"n": "--n", "m": "--m", "seeds": "--seeds", "gamma": "--gamma", "step": "--step",
            "target": "--target", "steps": "--steps", "expensive_every": "--expensive-every",
            "hk_max_m": "--hk-max-m", "data_seed": "--data-seed", "d": "--d", "kind": "--kind",
            "batched": "--batched-seeds", "grid": "--n/--m/--seeds", "out": "--out",
            "out_dir": "--out", "resume": "--resume", "workers": "--workers",
            "retries": "--retries", "data": "--data", "path": "--data", "X": "--data",
            "from": "--from", "device": "--device", "n_boot": "--n-boot", "seed": "--boot-seed",
            "classes": "--classes", "normalise": "--normalise",
            "perturb_parallel": "--perturb-parallel", "project_d": "--project-d",
            "project_seed": "--project-seed", "DASK_SCHEDULER_ADDRESS": "DASK_SCHEDULER_ADDRESS",
            "target_ci": "--target-ci",
            "max_cells": "--max-cells", "q": "--quantile", "seeds_per_round": "--seeds",
            "outcome": "--outcome", "m_lo": "--m", "m_hi": "--m", "adaptive": "--adaptive"}
_MAX_STEPS = 10**12
_MAX_RETRIES = 1000
#: sizes of the bundled data sets' rows (for the memory estimate before any data is loaded)
_D = {"digits": 64, "digits-all": 64, "breast-cancer": 30, "mnist": 784}


def _int(name: str, text: Any, lo: int, hi: int | None = None) -> int:
    return parse_int(name, text, lo, hi)


def _float(name: str, text: Any) -> float:
    return parse_float(name, text)


def _seeds(text: str) -> tuple[int, ...]:
    from verify.sweep.spec import parse_int_list

    t = text.strip()
    if t.isdigit():
        k = parse_int("--seeds", t, 1, MAX_CELLS, f"pass --seeds N with 1 ≤ N ≤ {MAX_CELLS}")
        return tuple(range(k))
    seeds = parse_int_list(t, "--seeds")
    if seeds and not (0 <= seeds[0] and seeds[-1] <= MAX_SEED):
        raise invalid("--seeds", text, f"seeds must lie in [0, {MAX_SEED}]", "pass e.g. --seeds 0,1,2")
    return seeds


def build_spec(args: argparse.Namespace) -> Any:
    """The :class:`SweepSpec` from the options (and ``sweep.json`` when resuming)."""
    from verify.sweep import store
    from verify.sweep.spec import SweepSpec, parse_int_list

    saved: dict[str, Any] = {}
    sj = Path(args.out) / store.SWEEP_JSON
    if args.resume and sj.is_file():
        meta = store.read_json(sj)
        try:
            saved = SweepSpec.from_dict(meta["spec"]).to_dict()
        except Exception as exc:  # a damaged or edited sweep.json
            raise invalid("--out", str(sj), f"the sweep record is damaged ({type(exc).__name__}: "
                          f"{' '.join(str(exc).split())[:120]})",
                          "restore sweep.json from a copy, or start the sweep in a new --out") from None

    def pick(name: str) -> Any:
        v = getattr(args, name)
        return v if v is not None else saved.get(name, _DEFAULTS.get(name))

    grid: dict[str, tuple[int, ...]] = {}
    for opt, key in (("n", "n"), ("m", "m"), ("seeds", "seeds")):
        v = getattr(args, opt)
        if v is not None:
            grid[key] = _seeds(v) if opt == "seeds" else parse_int_list(v, f"--{opt}")
        elif key in saved:
            grid[key] = tuple(saved[key])
        else:
            raise invalid(f"--{opt}", None, "is required (no sweep to resume in --out)",
                          f"pass e.g. --{opt} {'20' if opt == 'seeds' else '16,32'}")
    hk = pick("hk_max_m")
    if isinstance(hk, str):
        hk = None if hk.strip().lower() == "all" else _int("--hk-max-m", hk, 0, MAX_DIM)
    d = pick("d")
    return SweepSpec(
        kind=pick("kind"), data=str(pick("data")), n=grid["n"], m=grid["m"], seeds=grid["seeds"],
        gamma=_float("--gamma", pick("gamma")), step=str(pick("step")),
        target=_float("--target", pick("target")), steps=_int("--steps", pick("steps"), 1, _MAX_STEPS),
        expensive_every=_int("--expensive-every", pick("expensive_every"), 1, _MAX_STEPS),
        hk_max_m=hk, data_seed=_int("--data-seed", pick("data_seed"), 0, MAX_SEED),
        d=None if d is None else _int("--d", d, 1, MAX_DIM), device=str(pick("device")),
        batched=bool(args.batched_seeds if args.batched_seeds is not None
                     else saved.get("batched", False)),
        classes=_classes(pick("classes")),
        gamma_rtol=_float("--gamma-rtol", pick("gamma_rtol")),
        budget=str(pick("budget")), kappa=_float("--kappa", pick("kappa")),
        gamma_levels=_levels(pick("gamma_levels")),
        normalise=bool(pick("normalise") or False), perturb_parallel=pick("perturb_parallel"),
        project_d=(None if pick("project_d") is None
                   else _int("--project-d", pick("project_d"), 1, MAX_DIM)),
        project_seed=_int("--project-seed", pick("project_seed"), 0, MAX_SEED))


def _levels(value: Any) -> tuple[float, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(float(v) for v in value)
    return tuple(parse_float_list("--gamma-levels", str(value), low=0.0, high=1.0,
                                  low_open=True, high_open=True,
                                  fix="use e.g. --gamma-levels 0.25,0.4,0.45"))


def _classes(value: Any) -> tuple[int, int]:
    if value is None:
        return (0, 1)
    if isinstance(value, (list, tuple)):
        parts = [str(v) for v in value]
    else:
        parts = str(value).split(",")
    try:
        cls = tuple(int(p) for p in parts)
    except ValueError:
        cls = ()
    if len(cls) != 2:
        raise invalid("--classes", value, "expected two classes", "use e.g. --classes 0,1")
    return (cls[0], cls[1])


def show_controls(args: argparse.Namespace) -> int:
    """``--compare DIR …``: the parameter-counting and γ = 0 controls (verify.sweep.controls)."""
    import json

    from verify.sweep.controls import compare_sweeps, control_rows
    from verify.sweep.controls_figure import plot_controls
    from verify.sweep.outcomes import OUTCOMES

    args.outcome = args.outcome or "gd_linear"
    if args.outcome not in OUTCOMES or OUTCOMES[args.outcome].kind not in ("gd", "init"):
        raise invalid("--outcome", args.outcome, "unknown outcome for --compare",
                      f"use one of {sorted(o for o in OUTCOMES if OUTCOMES[o].kind in ('gd', 'init'))}")
    for src in args.compare:
        if not Path(src).is_dir():
            raise invalid("--compare", src, "is not a directory",
                          "pass the --out directories of finished 'sweep --kind gd' runs")
    try:
        an = compare_sweeps(args.compare, outcome=args.outcome, terms=args.terms)
    except InvalidArgument as exc:  # read_sweep names its argument "from"
        text = str(exc)
        text = "--terms=" + text[6:] if text.startswith("terms=") else text
        raise InvalidArgument("--compare=" + text[5:] if text.startswith("from=") else text) from None
    if args.format == "json":
        print(json.dumps(an.to_dict(), indent=2, allow_nan=False))
    else:
        print(an.summary())
    if args.plot:
        check_writable_dir(str(Path(args.plot).resolve().parent), "--plot")
        out = plot_controls(an, control_rows(args.compare, args.outcome), args.plot)
        print(f"figure: {out}", file=sys.stderr)
    return 0


def show_fits(args: argparse.Namespace) -> int:
    """``--from DIR``: fitted thresholds and exponents of every applicable outcome."""
    import json

    from verify.sweep.analysis import analyse_sweep

    n_boot = _int("--n-boot", args.n_boot, 0, 10**6)
    seed = _int("--boot-seed", args.boot_seed, 0, MAX_SEED)
    an = analyse_sweep(args.from_dir, n_boot=n_boot, seed=seed)
    if args.format == "json":
        print(json.dumps(an.records(), indent=1, ensure_ascii=False, allow_nan=False))
        return 0
    print(f"sweep {args.from_dir}: kind {an.spec.kind}, data {an.spec.data}, "
          f"{len(an.table)} cells; λ0 per n: "
          + ", ".join(f"{n}: {v:.3g}" for n, v in an.lambda0.items()))
    for note in an.notes:  # e.g. Assumption 2 failed and was overridden
        print(f"note: {note}")
    if an.spec.kind == "gamma" and len(an.table):
        from verify.sweep.gamma import format_gamma_table, gamma_words, summarise_gamma

        summ = summarise_gamma(an.table)
        print(f"γ* per (n, m) over seeds ({an.spec.steps} GD steps, step {an.spec.step}):")
        print(format_gamma_table(summ))
        for line in gamma_words(summ):
            print("  " + line)
    for res in an.fits.values():
        print(res.summary())
    for name, why in an.skipped.items():
        print(f"outcome {name}: not fitted ({why})")
    return 0


def _scheduler(args: argparse.Namespace) -> tuple[Any, float]:
    """The remote scheduler (``--scheduler``, else ``$DASK_SCHEDULER_ADDRESS``; ``None`` for a
    local cluster or ``--serial``), its form checked, and ``--connect-timeout``."""
    from verify.sweep.scheduler import CONNECT_TIMEOUT, check_connect_timeout, resolve_scheduler

    if args.serial and args.scheduler is not None:
        raise invalid("--serial", True, "runs without dask", "drop --scheduler or --serial")
    remote = None if args.serial else resolve_scheduler(args.scheduler, name="--scheduler")
    if args.connect_timeout is None:
        return remote, CONNECT_TIMEOUT
    if remote is None:
        raise invalid("--connect-timeout", args.connect_timeout, "is used only with a remote "
                      "scheduler (--scheduler or DASK_SCHEDULER_ADDRESS)",
                      "drop --connect-timeout or add --scheduler ADDRESS")
    return remote, check_connect_timeout(args.connect_timeout, "--connect-timeout")


def check_cell_memory(spec: Any, concurrent: int, allow_large: bool) -> None:
    """Refuse a grid whose largest cell (max n, max m), times the cells a local cluster runs at
    once, would not fit in the available memory (:func:`verify.model.validate.run_bytes`: a
    rough upper count of one instrumented run's float64 arrays, which also bounds an init cell:
    the network, the equilibrium states and the n×n Gram matrices)."""
    n, m = max(spec.n), max(spec.m)
    from bounds.datasets import is_image_source

    d = 784 if is_image_source(spec.data) else _D.get(spec.data, 8 if spec.d is None else spec.d)
    by_projection = (spec.project_d or 0) > max(d, m, n)
    d = max(d, spec.project_d or 0)
    nbytes = run_bytes(n, m, d) * max(1, concurrent)
    what = (f"the largest cell (n = {n}, m = {m}, d = {d})"
            + (f" on {concurrent} workers at once" if concurrent > 1 else ""))
    if by_projection:  # the projected dimension dominates: blame the option that set it
        check_memory(nbytes, "--project-d", spec.project_d, what, allow_large=allow_large,
                     smaller="use a smaller --project-d")
    check_memory(nbytes, "--m" if m * m >= n * n else "--n", m if m * m >= n * n else n, what,
                 allow_large=allow_large, smaller="use smaller --m/--n (or fewer --workers)")


def require_data_assumption(spec: Any, args: argparse.Namespace) -> None:
    """G22 Assumption 2 on the rows of every n of the grid: a failure is the error of ``run``
    and ``report`` (:func:`bounds._datacli.require_assumption2`, same words) unless
    ``--allow-assumption-violation``.  A resumed sweep keeps the choice it was started with
    (its data are compared with the recorded fingerprints)."""
    from bounds._datacli import require_assumption2
    from verify.sweep import store
    from verify.sweep.engine import grid_inputs

    if args.resume and (Path(args.out) / store.SWEEP_JSON).is_file():
        return
    for n in sorted(spec.n, reverse=True):  # files: the largest n's rows hold every smaller n's
        require_assumption2(grid_inputs(spec, n), args, data=spec.data)


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except InvalidArgument as exc:  # name the option, not the SweepSpec field
        raise cli_message(exc, _OPTIONS, getattr(args, "data", None)) from None


def _run(args: argparse.Namespace) -> int:
    if args.compare is not None:
        return show_controls(args)
    for opt, val in (("--plot", args.plot), ("--terms", args.terms)):
        if val is not None:  # these shape the --compare fit only; never ignore them silently
            raise invalid(opt, val, "is used only with --compare", "add --compare DIR … or drop it")
    if args.from_dir is not None:
        return show_fits(args)
    if not args.adaptive:
        for opt, val in (("--target-ci", args.target_ci), ("--max-cells", args.max_cells),
                         ("--quantile", args.quantile), ("--outcome", args.outcome)):
            if val is not None:  # never ignore them silently
                raise invalid(opt, val, "is used only with --adaptive (or --compare)",
                              "add --adaptive or drop it")
    if args.out is None:
        raise invalid("--out", None, "is required to run a sweep",
                      "pass --out DIR (or --from DIR to print a finished sweep's thresholds)")
    remote, timeout = _scheduler(args)  # the address's form, before anything else
    check_writable_dir(args.out, "--out")
    if args.adaptive:
        from verify.cli._adaptive import run_adaptive_cli

        return run_adaptive_cli(args)
    if args.resume and (Path(args.out) / "adaptive.json").is_file():  # not as a product grid
        raise invalid("--resume", True, f"the sweep in {args.out} is adaptive",
                      "continue it with --adaptive --resume")
    spec = build_spec(args)
    from verify.model.validate import resolve_device
    from verify.sweep.engine import (  # pandas, dask
        SweepInterrupted,
        available_cpus,
        command_line,
        run_sweep,
    )

    resolve_device(spec.device, "--device")
    cpus = available_cpus()
    workers = None if args.workers is None else _int(
        "--workers", args.workers, 1, 4 * cpus)
    retries = _int("--retries", args.retries, 0, _MAX_RETRIES)
    if args.serial and workers:
        raise invalid("--serial", True, "runs without dask", "drop --workers or --serial")
    if remote is not None and workers:
        raise invalid("--workers", args.workers, f"sizes a local cluster, but the sweep runs on "
                      f"the scheduler {remote.address} (from {remote.name})",
                      f"drop --workers{', or unset ' + remote.name if remote.name != '--scheduler' else ''}")
    if remote is None:  # a remote cluster's memory is not this machine's
        ntasks = len(spec.n) * len(spec.m) * len(spec.seeds)
        concurrent = 1 if args.serial else min(workers or cpus, ntasks)
        check_cell_memory(spec, concurrent, args.allow_large)
    require_data_assumption(spec, args)
    if spec.kind == "init" and spec.hk_max_m is not None and max(spec.m) > spec.hk_max_m:
        print(f"note: H(0) and K(0) are computed for m ≤ {spec.hk_max_m} only (NaN above: the "
              "equilibrium's O(m³) SVD and O(n·m²) iterations dominate); λ_min(G(0)), ‖G(0)−G∞‖₂ "
              "and c are computed at every width. --hk-max-m all computes them everywhere.",
              file=sys.stderr)
    argv = sys.argv[2:] if len(sys.argv) > 2 and sys.argv[1] == "sweep" else None
    cmd = command_line(argv) if argv is not None else None
    try:
        res = run_sweep(spec, args.out, scheduler=args.scheduler, workers=workers,
                        serial=args.serial, resume=args.resume, progress=not args.quiet,
                        retries=retries, command=cmd, connect_timeout=timeout)
    except SweepInterrupted as stop:
        import signal

        print(f"implicit-verify sweep: interrupted by {signal.Signals(stop.signum).name}; "
              f"{stop.saved} of {stop.cells} cells saved in {args.out} (cells in progress were "
              f"dropped); continue with: implicit-verify sweep --out {shlex.quote(str(args.out))} "
              "--resume", file=sys.stderr)
        return 128 + int(stop.signum)
    except KeyboardInterrupt:
        print(f"implicit-verify sweep: interrupted; finished cells are in {args.out}; "
              f"continue with: implicit-verify sweep --out {shlex.quote(str(args.out))} --resume",
              file=sys.stderr)
        return 130
    print(f"sweep: {len(res.table)} cells ({res.computed} computed, {res.skipped} already done, "
          f"{res.errors} errors) in {res.wall_s:.1f} s [{res.engine}] → "
          f"{os.path.join(str(res.out_dir), 'results.parquet')}")
    if res.errors:
        first = res.table.loc[res.table["status"] != "done", "error"].iloc[0]
        print(f"first error: {first}", file=sys.stderr)
    return 0
