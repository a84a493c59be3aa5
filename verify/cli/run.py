"""``implicit-verify run``: one instrumented GD/GF run, its verdicts and its run directory.

Every argument is checked before any computation; a bad one raises
:class:`~bounds.InvalidArgument` naming the option (the dispatcher prints the one-line message
and exits with status 2).  Everything here is one call of :func:`verify.run_gd`.

Examples::

    implicit-verify run --data synthetic --n 8 --d 4 --m 256 --gamma 0.1 --step 0.01 --steps 200
    implicit-verify run --data digits --n 60 --m 512 --steps 300 --out runs/digits
    implicit-verify run --list-observables
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import signal
import sys
from pathlib import Path
from typing import Any

from bounds._args import MAX_DIM, MAX_SEED, parse_float, parse_hidden, parse_int
from bounds._datacli import add_data_options, dataset_from_args, require_assumption2
from bounds._defaults import DEFAULTS as D
from bounds._errors import InvalidArgument, invalid
from verify.cli._args import add_verdict_options, cli_message, verdict_argv, verdict_options

__all__ = ["add_parser", "main", "format_verdict_table", "auto_step", "cli_message"]

_RUN_FILES_CHECK = ("record.json", "checkpoint.npz")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "run",
        help="instrumented gradient descent with theorem verdicts",
        description=("Train the G22 implicit network by full-batch GD (or small-step GF), record "
                     "the observables of docs/CONTRACTS.md, check G22 Theorem 3.2/3.1 "
                     "(Lemma 3.6/3.5) on the trajectory and write a run directory."),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_data_options(p.add_argument_group("data"), default=D["data"])
    t = p.add_argument_group("training")
    t.add_argument("--m", default=str(D["m"]), help="width m")
    t.add_argument("--gamma", default=str(D["gamma"]), help="fixed scale γ in (0, 1)")
    t.add_argument("--step", default=str(D["step"]), help="step size α > 0, or 'auto' = 1/λ_max(H(0))")
    t.add_argument("--steps", default=str(D["steps"]), help="number of GD steps")
    t.add_argument("--seed", default=str(D["seed"]), help="initialisation seed")
    t.add_argument("--mode", default=D["mode"], choices=("gd", "gf"), help="theorem checked: GD or GF (t = kα)")
    t.add_argument("--target-loss", default=None, help="stop when the loss is at most this (default: run all --steps)")
    t.add_argument("--device", default=D["device"], help="auto | cpu | cuda | cuda:N")
    t.add_argument("--dtype", default=D["dtype"], choices=("float64", "float32"),
                   help="floating-point precision of the network and GD (bounds are compared in "
                        "float64 whatever this is)")
    t.add_argument("--solver", default=D["solver"], choices=("gauss-seidel", "picard", "anderson"),
                   help="equilibrium solver of z = σ(γAz + Wx)/… (block Gauss–Seidel sweeps, Picard "
                        "iteration or Anderson acceleration; all stop on the same Picard residual, "
                        "so their certified error is the same)")
    t.add_argument("--tol", default=str(D["tol"]), help="equilibrium solver tolerance")
    t.add_argument("--max-iter", default=str(D["max_iter"]), help="equilibrium solver iteration cap")
    c = p.add_argument_group("theory")
    c.add_argument("--delta", default=str(D["delta"]), help="failure probability δ")
    c.add_argument("--c-source", default=D["c_source"], choices=("measured", "tail"),
                   help="c from A(0), W(0) or from the Gaussian tail bound")
    c.add_argument("--hidden", action="append", default=[], metavar="NAME=VALUE",
                   help="hidden constant override, e.g. C_width_lemma=8192 (repeatable)")
    add_verdict_options(c)
    o = p.add_argument_group("output")
    o.add_argument("--out", default=None, help="run directory (default runs/<data>_<mode>_m<m>_s<seed>)")
    o.add_argument("--resume", action="store_true", help="continue from the run directory's checkpoint")
    o.add_argument("--force", action="store_true", help="overwrite an existing run directory")
    o.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    o.add_argument("--record-every", default="1", help="record observables every this many steps")
    o.add_argument("--expensive-every", default="auto", help="eigenvalues/operator norms every this many steps")
    o.add_argument("--checkpoint-every", default=None, help="checkpoint interval in steps (default 1000)")
    o.add_argument("--checkpoint-seconds", default=None,
                   help="also checkpoint after this much wall time (default 60 s), so a kill loses "
                        "at most about this much work")
    o.add_argument("--allow-large", action="store_true",
                   help="run even when the memory estimate exceeds the available memory")
    p.add_argument("--list-observables", action="store_true", help="list the trace observables and exit")
    p.set_defaults(func=main)
    _DEFAULTS.clear()
    _DEFAULTS.update({a.dest: a.default for a in p._actions if a.dest not in ("help", "func")})
    return p


# Parser defaults, to tell on --resume which options the user gave on the command line.
_DEFAULTS: dict[str, Any] = {}
# Options that may differ on resume (run_gd accepts a new budget / stopping rule / schedule);
# everything else is taken from the run directory's saved options when not given again.
_RESUME_FREE = ("steps", "target_loss", "checkpoint_every", "quiet", "resume", "force", "out",
                "list_observables", "checkpoint_seconds", "allow_large")
_CLI_FILE = "cli_args.json"


def _merge_saved_options(args: argparse.Namespace, out: Path) -> argparse.Namespace:
    """On ``--resume``, fill every option the user did not give from ``out/cli_args.json``.

    So ``implicit-verify run --out DIR --resume`` continues the run as it was started; an option
    given again with a different value still reaches :func:`run_gd`, which refuses a changed
    configuration with a message naming it. ``--steps`` not given means the saved budget.
    """
    saved = _saved_options(out)
    if saved is None:
        return args
    merged = vars(args).copy()
    for key, value in saved.items():
        if key in ("resume", "force", "out", "quiet", "list_observables", "allow_large") or key not in _DEFAULTS:
            continue
        if merged.get(key) == _DEFAULTS[key]:
            merged[key] = value
    return argparse.Namespace(**merged)


def _saved_options(out: Path) -> dict[str, Any] | None:
    """``out/cli_args.json`` checked (checksum, types), or ``None`` when there is none."""
    from verify.experiment.record import damaged, read_run_json

    path = out / _CLI_FILE
    if not path.exists():
        return None
    fix = (f"delete {path} and pass the run's options again with --resume (the checkpoint "
           "refuses options that differ from the run's)")
    saved = read_run_json(path, fix)
    for key, value in saved.items():
        default = _DEFAULTS.get(key)
        if key in _DEFAULTS and value is not None and default is not None and type(value) is not type(default):
            raise damaged(path, f"option {key!r} has a value of the wrong type ({value!r})", fix)
    return saved


# ---------------------------------------------------------------- parsing helpers
_MAX_STEPS = 10**12


def _int(name: str, s: Any, minimum: int, maximum: int | None = None) -> int:
    return parse_int(name, s, minimum, maximum)


def _float(name: str, s: Any) -> float:
    return parse_float(name, s)


def _config(args: argparse.Namespace) -> tuple[Any, bool]:
    m = _int("--m", args.m, 1, MAX_DIM)
    gamma = _float("--gamma", args.gamma)
    if not (0.0 <= gamma < 1.0):
        raise invalid("--gamma", args.gamma, "γ must lie in [0, 1) (0: the explicit two-layer "
                      "control)", "pass e.g. --gamma 0.1")
    auto = str(args.step).lower() == "auto"
    step = 1.0 if auto else _float("--step", args.step)
    if step <= 0:
        raise invalid("--step", args.step, "the step size α must be positive", "pass e.g. --step 0.01 or --step auto")
    steps = _int("--steps", args.steps, 0, _MAX_STEPS)
    seed = _int("--seed", args.seed, 0, MAX_SEED)
    rec = _int("--record-every", args.record_every, 1, _MAX_STEPS)
    exp = None if str(args.expensive_every).lower() == "auto" else _int("--expensive-every", args.expensive_every, 1, _MAX_STEPS)
    if exp is not None and exp % rec:
        raise invalid("--expensive-every", args.expensive_every, f"must be a multiple of --record-every {rec}",
                      f"pass e.g. --expensive-every {rec * max(1, exp // rec)}")
    target = None if args.target_loss is None else _float("--target-loss", args.target_loss)
    if target is not None and target < 0:
        raise invalid("--target-loss", args.target_loss, "must be ≥ 0", "pass e.g. --target-loss 1e-8")
    tol = _float("--tol", args.tol)
    if not (0 < tol < 1):
        raise invalid("--tol", args.tol, "must be in (0, 1)", "pass e.g. --tol 1e-12")
    max_iter = _int("--max-iter", args.max_iter, 1, 10**9)
    delta = _float("--delta", args.delta)
    if not (0 < delta < 1):
        raise invalid("--delta", args.delta, "must be in (0, 1)", "pass e.g. --delta 0.01")
    ck = None if args.checkpoint_every is None else _int("--checkpoint-every", args.checkpoint_every, 1)
    cks = None if args.checkpoint_seconds is None else parse_float(
        "--checkpoint-seconds", args.checkpoint_seconds, low=0.0, low_open=True, fix="pass e.g. --checkpoint-seconds 60")
    hidden = parse_hidden(args.hidden)
    verdict_opts = verdict_options(args)
    from verify.model.validate import resolve_device

    resolve_device(args.device, "--device")
    try:
        from verify.experiment.gd import RunConfig  # torch: after the options are checked

        cfg = RunConfig(m=m, gamma=gamma, step=step, steps=steps, seed=seed, mode=args.mode,
                        device=args.device, dtype=args.dtype, record_every=rec, expensive_every=exp,
                        target_loss=target, solver=args.solver, tol=tol, max_iter=max_iter, delta=delta,
                        c_source=args.c_source, checkpoint_every=ck, hidden=hidden or None,
                        checkpoint_seconds=cks, **verdict_opts)  # type: ignore[arg-type]
    except InvalidArgument as exc:  # name the option, not the field
        raise cli_message(exc) from None
    return cfg, auto


def _dataset(args: argparse.Namespace) -> Any:
    """The data of ``--data`` and its options (:mod:`bounds._datacli`, shared by every
    sub-command); G22 Assumption 2 failing is an error unless --allow-assumption-violation."""
    ds = dataset_from_args(args, allow_large=bool(args.allow_large))
    require_assumption2(ds.X, args)
    return ds


#: rough flop rate of one core for the time estimate (flop/s); the estimate is an order of
#: magnitude, printed so that long work never starts silently.
_FLOPS = 5e9


def estimate_seconds(n: int, m: int, d: int, steps: int, expensive_every: int, auto: bool) -> float:
    """Rough wall time of a run: per step a forward and an adjoint solve (≈ 30 Picard
    iterations of an n×m by m×m product each) and the gradients; the SVD of A for ‖A‖₂
    (≈ 10m³); every ``expensive_every`` steps and at step 0 the Gram matrices (n²m) and their
    eigenvalues (≈ 4n³ each for G, H, K); ``--step auto`` one more."""
    per_step = 2 * 30 * 2.0 * n * m * m + 6.0 * n * m * m + 10.0 * m**3 + 2.0 * n * m * d
    expensive = 3 * (2.0 * n * n * m + 4.0 * n**3) + 20.0 * m**3
    count = steps // max(expensive_every, 1) + 2 + (1 if auto else 0)
    return ((steps + 1) * per_step + count * expensive) / _FLOPS


def _announce(args: argparse.Namespace, ds: Any, cfg: Any, auto: bool, out: Path) -> None:
    """One line before any computation (size, memory and time estimates); a warning when the
    run will take long."""
    from bounds._args import format_bytes, format_seconds, notice
    from verify.experiment.config import auto_expensive_every
    from verify.model.validate import run_bytes

    E = cfg.expensive_every or auto_expensive_every(ds.n, cfg.m, ds.d, cfg.record_every)
    secs = estimate_seconds(ds.n, cfg.m, ds.d, cfg.steps, E, auto)
    nbytes = run_bytes(ds.n, cfg.m, ds.d, ds.n_test)
    line = (f"n={ds.n}, d={ds.d}, m={cfg.m}, {cfg.steps} steps → {out}: estimated "
            f"{format_seconds(secs)}, {format_bytes(nbytes)} (rough)")
    if secs > 120:
        notice("implicit-verify run", f"warning: long run: {line}; progress every 5 s, "
               "Ctrl-C saves and stops (--resume continues)")
    elif not args.quiet:
        notice("implicit-verify run", line)


def _default_out(args: argparse.Namespace, cfg: Any) -> Path:
    stem = Path(args.data).stem if args.data not in ("synthetic", "digits") else args.data
    return Path("runs") / f"{stem}_{cfg.mode}_m{cfg.m}_g{cfg.gamma:g}_s{cfg.seed}"


def auto_step(dataset: Any, cfg: Any) -> float:
    """``α = 1/λ_max(H(0))``: the largest step for which the linearised GD
    ``e ← (I − αH)e`` damps every mode monotonically (stability needs α < 2/λ_max)."""
    import torch

    from verify.model.gram import gram_blocks
    from verify.model.network import ImplicitNetwork
    from verify.model.validate import resolve_device, resolve_dtype

    net = ImplicitNetwork.init(cfg.m, dataset.d, cfg.gamma, cfg.seed, device=resolve_device(cfg.device),
                               dtype=resolve_dtype(cfg.dtype), method=cfg.solver, max_iter=cfg.max_iter,
                               throw=False)
    st = net.state(dataset.X.copy(), dataset.y.copy())
    if not st.ok:
        raise invalid("--step", "auto", "the equilibrium solve failed at initialisation, so λ_max(H(0)) is "
                      "undefined", "pass an explicit --step (and check --gamma)")
    H = gram_blocks(net, st).H.to(torch.float64)
    lam = float(torch.linalg.eigvalsh(0.5 * (H + H.T))[-1])
    return 1.0 / lam


def _command(args: argparse.Namespace, out: Path) -> str:
    parts = ["implicit-verify", "run", "--data", str(args.data)]
    for opt in ("n", "d", "data_seed", "n_test"):
        if getattr(args, opt) is not None:
            parts += [f"--{opt.replace('_', '-')}", str(getattr(args, opt))]
    if args.classes != "0,1":
        parts += ["--classes", str(args.classes)]
    pairs = [("--labels", args.labels),
             ("--test-fraction", args.test_fraction), ("--m", args.m), ("--gamma", args.gamma),
             ("--step", args.step), ("--steps", args.steps), ("--seed", args.seed), ("--mode", args.mode),
             ("--device", args.device), ("--dtype", args.dtype), ("--solver", args.solver),
             ("--tol", args.tol), ("--max-iter", args.max_iter), ("--delta", args.delta),
             ("--c-source", args.c_source), ("--record-every", args.record_every),
             ("--expensive-every", args.expensive_every)]
    for k, v in pairs:
        parts += [k, str(v)]
    if args.target_loss is not None:
        parts += ["--target-loss", str(args.target_loss)]
    if args.checkpoint_every is not None:
        parts += ["--checkpoint-every", str(args.checkpoint_every)]
    if args.checkpoint_seconds is not None:
        parts += ["--checkpoint-seconds", str(args.checkpoint_seconds)]
    for h in args.hidden:
        parts += ["--hidden", h]
    parts += verdict_argv(args)
    if args.normalise:
        parts.append("--normalise")
    if args.perturb_parallel:
        parts.append("--perturb-parallel")
    if args.allow_assumption_violation:
        parts.append("--allow-assumption-violation")
    parts += ["--out", str(out)]
    return shlex.join(parts)


# ---------------------------------------------------------------- output
def _fmt(x: Any) -> str:
    if x is None:
        return "—"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return str(x)
    try:
        f = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    if f != 0 and (abs(f) >= 1e5 or abs(f) < 1e-3):
        return f"{f:.3e}"
    return f"{f:.4g}"


def format_verdict_table(verdicts: Any) -> str:
    """Plain-text table of verdicts (dicts or :class:`Verdict` objects)."""
    from bounds._verdicts import words

    rows = [("kind", "name", "label", "verdict", "observed", "bound", "ratio", "first viol.")]
    for v in verdicts:
        d = v if isinstance(v, dict) else v.to_dict()
        rows.append((d["kind"], d["name"], d["label"], words(d), _fmt(d.get("observed")),
                     _fmt(d.get("bound")), _fmt(d.get("ratio")), _fmt(d.get("first_violation_step"))))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _force_notice(args: argparse.Namespace, out: Path) -> None:
    """``--force`` over a saved run starts a new one from the options given now (defaults for the
    rest); say which saved options are being replaced, so a restart never silently changes them."""
    from bounds._args import notice

    try:
        saved = _saved_options(out)
    except InvalidArgument:
        saved = None
    if not saved:
        return
    new = vars(args)
    diff = [f"--{k.replace('_', '-')} {saved[k]!r} → {new.get(k)!r}" for k in sorted(saved)
            if k in _DEFAULTS and k not in _RESUME_FREE[3:] and saved[k] != new.get(k)]
    if diff:
        notice("implicit-verify run", f"--force: replacing the run in {out} with different options: "
               f"{'; '.join(diff)} (options not given take their defaults; --resume continues the "
               "saved run instead)")


def _stale_staging_notice(out: Path) -> None:
    """A ``--force`` run killed before its swap left its work in ``.<out>.staging-<pid>`` beside
    the old run (which is intact); say so instead of deleting someone's data."""
    from bounds._args import notice

    parent = out.parent if str(out.parent) else Path(".")
    for stage in sorted(parent.glob(f".{out.name}.staging-*")):
        pid = stage.name.rsplit("-", 1)[-1]
        try:
            os.kill(int(pid), 0)
            continue  # its process is alive (it holds the lock)
        except (ValueError, ProcessLookupError):
            pass
        except PermissionError:
            continue
        notice("implicit-verify run", f"{stage} holds an unfinished --force run (process {pid} ended "
               f"before swapping it in; {out} was left as it was); delete it, or move it to a new "
               "--out and continue it there with --resume")


def main(args: argparse.Namespace) -> int:
    if args.list_observables:
        from verify.experiment.gd import observables_table

        print(observables_table())
        return 0
    if args.force and args.resume:
        raise invalid("--force", True, "cannot be combined with --resume", "pass only one of them")
    if args.resume and args.out is not None:
        args = _merge_saved_options(args, Path(args.out))
    cfg, auto = _config(args)
    from verify.experiment.gd import run_gd

    out = Path(args.out) if args.out is not None else _default_out(args, cfg)
    if out.exists() and any((out / f).exists() for f in _RUN_FILES_CHECK) and not (args.force or args.resume):
        raise invalid("--out", str(out), "already holds a run", "pass --force to overwrite or --resume to continue")
    from verify.experiment.record import RunLock, check_writable_dir

    check_writable_dir(out, "--out")
    RunLock(out, "--out").check_free()  # early, so nothing is said about a directory in use
    from bounds._args import check_memory
    from verify.model.validate import run_bytes

    # before the data exist: the sizes given (synthetic n, d; else the width alone)
    synth = args.data == "synthetic"
    n0 = _int("--n", args.n, 1, MAX_DIM) if synth and args.n is not None else 1
    d0 = _int("--d", args.d, 1, MAX_DIM) if synth and args.d is not None else 1
    if synth:  # other data are read first (cheaply), then checked with their real n below
        check_memory(run_bytes(n0, cfg.m, d0, 0), "--m" if cfg.m >= n0 else "--n",
                     args.m if cfg.m >= n0 else args.n, f"a run at n = {n0}, m = {cfg.m}",
                     allow_large=args.allow_large, smaller="use a smaller --m or --n")
    ds = _dataset(args)
    check_memory(run_bytes(ds.n, cfg.m, ds.d, ds.n_test), "--m", args.m,
                 f"a run at n = {ds.n}, m = {cfg.m}", allow_large=args.allow_large,
                 smaller="use a smaller --m or --n")
    if args.force:
        _force_notice(args, out)
    _stale_staging_notice(out)
    _announce(args, ds, cfg, auto, out)
    cli_args = {k: v for k, v in vars(args).items() if k in _DEFAULTS and k not in _RESUME_FREE[3:]}
    if auto:
        if not args.quiet:
            from bounds._args import notice

            notice("implicit-verify run", "--step auto: computing λ_max(H(0)) …")
        cfg = cfg.replace(step=auto_step(ds, cfg))
        if not args.quiet:
            print(f"--step auto: α = 1/λ_max(H(0)) = {cfg.step:.6g}", file=sys.stderr)
    try:
        res = run_gd(ds, config=cfg, out_dir=out, resume=args.resume, force=args.force,
                     progress=not args.quiet, command=_command(args, out), allow_large=args.allow_large,
                     files=None if args.resume else {_CLI_FILE: cli_args})
    except InvalidArgument as exc:
        raise cli_message(exc) from None
    rec = res.record
    print(f"{rec['theorem']['title']}")
    print(f"data: {ds.name} (n={ds.n}, d={ds.d}, n_test={ds.n_test}); m={cfg.m}, γ={cfg.gamma:g}, "
          f"α={cfg.step:.6g}, mode={cfg.mode}, device={rec['environment']['device']}, dtype={cfg.dtype}")
    print(f"status: {res.status} — {rec['status_message']} ({rec['steps_done']} steps, "
          f"{rec['wall_time_s']:.1f} s)")
    sym = rec["symbols"]
    print(f"λ0 = {_fmt(sym['lambda0'])}, c = {_fmt(sym['c'])} ({sym['c_source']}; tail bound "
          f"{_fmt(sym['c_tail'])}), ‖X‖ = {_fmt(sym['X_norm'])}, ‖e0‖ = {_fmt(sym['e0_norm'])}")
    print()
    print(format_verdict_table(rec["verdicts"]))
    r = rec["rates"]
    print()

    def rate(x: Any) -> str:
        return "—" if x is None else f"{x:.8g} (1 − {_fmt(1 - x)})"

    print(f"rates per step of ‖ŷ − y‖²: observed {rate(r.get('observed_rate'))} over steps "
          f"{r.get('fit_range')}, late {rate(r.get('observed_rate_tail'))}; theory "
          f"{r.get('theory_formula')} = {rate(r.get('theory_rate'))}; path {r.get('path_formula')} = "
          f"{rate(r.get('path_rate'))}; tighter valid prediction: {r.get('tighter')}")
    print(f"record: {out / 'record.json'}")
    if res.status == "interrupted":
        code = 128 + int(res.signum or signal.SIGINT)
        print(f"implicit-verify run: interrupted ({rec['status_message']}); saved {out / 'checkpoint.npz'}; "
              f"continue with: implicit-verify run --out {shlex.quote(str(out))} --resume", file=sys.stderr)
        return code
    return 0
