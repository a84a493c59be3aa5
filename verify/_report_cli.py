"""``implicit-verify report``: run the default verification (or re-use saved runs) and write a
report directory — Markdown with PNG figures, one self-contained HTML file, a JSON summary.

Rendering lives in :mod:`verify._report` (pure); this module orchestrates runs, computes the
numbers for the paper's known issues 1, 2 and 5 from each run's final parameters, and writes
files atomically: the whole report is assembled in a hidden staging directory next to the
target and renamed into place at the end, so an interrupted command never leaves a
half-written report under the requested name.

Report directory::

    report.md  report.html  summary.json  figures/*.png
    runs/m<width>/   record.json, trace.npz, report_findings.json (+ params_*.npz,
                     checkpoint.npz when the runs were made by this command)
"""

from __future__ import annotations

import argparse
import datetime as _dt
import math
import os
import shlex
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bounds._errors import invalid

__all__ = ["add_parser", "main", "make_report", "compute_findings", "DEFAULTS"]

#: Defaults of the command (chosen so that the default report takes a few minutes on 2 CPU
#: cores; see reports/README.md).  Widths/n keep the paper's ratios m/n ∈ {½, 1, 2, 4}.
DEFAULTS: dict[str, Any] = {
    "theorem": "g22-gd",
    "data": "digits",
    "n": 128,
    "widths": (64, 128, 256, 512),
    "gamma": 0.1,
    "step": 0.005,
    "steps": 300,
    "seed": 0,
    "device": "cpu",
    "dtype": "float64",
    "format": "md,html,json",
    "dpi": 80,
}

FINDINGS_FILE = "report_findings.json"
_PAPER_WIDTHS = (500, 1000, 2000, 4000)
_PAPER_N = 1000


# ============================================================================ argument parsing
def _widths(text: str) -> tuple[int, ...]:
    try:
        ws = tuple(int(t) for t in str(text).replace(" ", "").split(",") if t)
    except ValueError:
        raise invalid("widths", text, "expected comma-separated integers",
                      "use e.g. --widths 64,128,256") from None
    if not ws or any(w < 1 for w in ws):
        raise invalid("widths", text, "widths must be integers ≥ 1", "use e.g. --widths 64,128")
    if len(set(ws)) != len(ws):
        raise invalid("widths", text, "duplicate width", "list each width once")
    return tuple(sorted(ws))


def _formats(text: str) -> tuple[str, ...]:
    fs = tuple(f.strip().lower() for f in str(text).split(",") if f.strip())
    bad = [f for f in fs if f not in ("md", "html", "json")]
    if not fs or bad:
        raise invalid("format", text, f"unknown format(s) {bad}" if bad else "no format given",
                      "use a comma-separated subset of md,html,json")
    return fs


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``report`` on the dispatcher's subparsers (see :mod:`verify.cli`)."""
    d = DEFAULTS
    p = subparsers.add_parser(
        "report",
        help="verify a theorem on data at several widths and write a report (md/html/json)",
        description=(
            "Verify G22 (GD: Lemma 3.6 / Theorem 3.2, or GF: Lemma 3.5 / Theorem 3.1) at several "
            "widths in the spirit of the paper's Figure 1 and write a report directory: "
            "report.md with figures/*.png, a self-contained report.html and summary.json. With "
            "no options: scikit-learn digits (classes 0/1, unit norm), n = 128, widths "
            "64,128,256,512, 300 GD steps. With --from RUN_DIR …: re-render saved runs."),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--from", dest="from_dirs", nargs="+", metavar="RUN_DIR", default=None,
                   help="re-render from saved run directories (record.json + trace.npz); "
                        "nothing is re-run")
    p.add_argument("--theorem", choices=("g22-gd", "g22-gf"), default=d["theorem"],
                   help="g22-gd: Theorem 3.2 / Lemma 3.6 (default); g22-gf: Theorem 3.1 / "
                        "Lemma 3.5 (small-step GD read as gradient flow)")
    p.add_argument("--data", default=d["data"],
                   help="digits (default; bundled with scikit-learn), digits-all, breast-cancer, "
                        "synthetic, or a "
                        ".npz/.npy/.csv path")
    p.add_argument("--n", type=int, default=None,
                   help=f"training samples for digits/synthetic (default {d['n']})")
    p.add_argument("--widths", default=",".join(str(w) for w in d["widths"]),
                   help="comma-separated widths m (default: %(default)s)")
    p.add_argument("--gamma", type=float, default=d["gamma"], help="fixed scale γ (default: %(default)s)")
    p.add_argument("--step", default=str(d["step"]),
                   help="GD step size α, the same at every width (default: %(default)s), or "
                        "'auto' = 1/λ_max(H(0)) per width")
    p.add_argument("--steps", type=int, default=d["steps"], help="GD steps per width (default: %(default)s)")
    p.add_argument("--seed", type=int, default=d["seed"], help="initialisation and data seed (default: %(default)s)")
    p.add_argument("--device", default=d["device"], help="cpu (default), cuda, cuda:N or auto")
    p.add_argument("--dtype", default=d["dtype"], choices=("float64", "float32"),
                   help="default: %(default)s")
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (default: torch's choice, or 1 when the CPUs are "
                        "already busy — several threads on busy cores can be 100× slower)")
    p.add_argument("--out", default=None,
                   help="report directory (default: reports/<theorem>-<data>-<timestamp>)")
    p.add_argument("--force", action="store_true", help="replace an existing report directory")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--format", default=d["format"], help="comma-separated subset of md,html,json (default: all)")
    p.add_argument("--dpi", type=int, default=d["dpi"], help="resolution of the PNG figures (default: %(default)s)")
    p.add_argument("--no-findings", action="store_true",
                   help="skip the known-issue computations on the final parameters "
                        "(eq. 14/16 Gram variants, exact zeros of pre-activations)")
    p.set_defaults(func=main)
    return p


# ============================================================================ helpers
class _Log:
    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.t0 = time.monotonic()

    def __call__(self, msg: str) -> None:
        if not self.quiet:
            dt = time.monotonic() - self.t0
            print(f"[implicit-verify report {dt:6.1f}s] {msg}", file=sys.stderr, flush=True)


def _default_out(theorem: str, data: str) -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    tag = Path(data).stem if data not in ("digits", "synthetic", "digits-all", "breast-cancer") else data
    return Path("reports") / f"{theorem}-{tag}-{stamp}"


def _reproduce_command(args: argparse.Namespace, out: Path) -> str:
    parts = ["implicit-verify", "report"]
    if args.from_dirs:
        parts += ["--from", *args.from_dirs]
    else:
        parts += ["--theorem", args.theorem, "--data", str(args.data)]
        if args.n is not None or args.data in ("digits", "synthetic", "digits-all", "breast-cancer"):
            parts += ["--n", str(args.n if args.n is not None else DEFAULTS["n"])]
        parts += ["--widths", ",".join(str(w) for w in _widths(args.widths)),
                  "--gamma", repr(float(args.gamma)), "--step", _step_text(args.step),
                  "--steps", str(args.steps), "--seed", str(args.seed), "--device", args.device]
        if args.dtype != DEFAULTS["dtype"]:
            parts += ["--dtype", args.dtype]
    if args.format != DEFAULTS["format"]:
        parts += ["--format", args.format]
    if args.dpi != DEFAULTS["dpi"]:
        parts += ["--dpi", str(args.dpi)]
    parts += ["--out", str(out)]
    return " ".join(shlex.quote(p) for p in parts)


def _step_text(step: Any) -> str:
    return "auto" if str(step).lower() == "auto" else repr(_step_value(step))


def _step_value(step: Any) -> float:
    try:
        a = float(step)
    except (TypeError, ValueError):
        raise invalid("step", step, "expected a positive number or 'auto'",
                      "use e.g. --step 0.005 or --step auto") from None
    if not (math.isfinite(a) and a > 0):
        raise invalid("step", step, "the step size must be positive and finite",
                      "use e.g. --step 0.005")
    return a


def _load_data(spec: str, n: int | None, seed: int, *, test: bool = True) -> Any:
    from ._data import load_dataset

    if spec in ("digits", "digits-all", "breast-cancer"):
        return load_dataset(spec, n=DEFAULTS["n"] if n is None else n, seed=seed)
    if spec == "synthetic":
        nn = DEFAULTS["n"] if n is None else n
        return load_dataset("synthetic", n=nn, d=16, seed=seed, n_test=nn if test else 0)
    return load_dataset(spec, seed=seed)


def _data_for_record(record: Mapping[str, Any]) -> Any:
    """Rebuild a run's data from its record (bundled data sets only; files by path)."""
    from ._data import load_dataset

    data = record.get("data") or {}
    name = data.get("name")
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


# ============================================================================ known-issue numbers
def compute_findings(record: Mapping[str, Any], params: Mapping[str, Any], dataset: Any, *,
                     jacobian: bool = True, eq16: bool = True) -> dict[str, Any]:
    """Numbers for G22 known issues 1, 2 and 5 at a run's final parameters.

    * issue 1 — eq. 14 as printed (``I_n``) against the corrected Gram (``𝟙𝟙ᵀ``):
      ``‖H_printed − H‖₂/‖H‖₂`` and both λ_min; with ``jacobian=True`` also the relative
      distance of each to the Jacobian Gram ``JJᵀ`` (``verify.gram.jacobian_gram``, unrolled).
    * issue 2 — eq. 16 as printed (inverse instead of transpose-inverse) for the W block.
    * issue 5 — count of pre-activations exactly 0 (where σ'(0) matters).

    Returns ``{"m", "checked": bool, "loss_check", "issue1", "issue2", "issue5", "note"}``.
    """
    import numpy as np
    import torch

    from ._gram import (
        gram_blocks,
        jacobian_gram,
        lambda_min,
        paper_eq14_as_printed,
        paper_eq16_as_printed,
    )
    from ._network import ImplicitNetwork

    cfg = record.get("config") or {}
    m = int(cfg["m"])
    gamma = float(cfg["gamma"])
    out: dict[str, Any] = {"m": m, "checked": False}
    need = ("A", "W", "u", "v")
    if any(k not in params for k in need):
        out["note"] = "final parameters not saved; known issues 1, 2, 5 not evaluated"
        return out
    T = {k: torch.tensor(np.array(params[k], dtype=np.float64)) for k in need}
    net = ImplicitNetwork(T["A"], T["W"], T["u"], T["v"], gamma)
    X = torch.tensor(np.array(dataset.X, dtype=np.float64))
    y = torch.tensor(np.array(dataset.y, dtype=np.float64))
    state = net.state(X, y)
    if not state.ok:
        out["note"] = "equilibrium solve did not converge at the final parameters"
        return out
    # the data must be the run's: its final loss is reproduced
    loss_rec = None
    trace_loss = record.get("_final_loss")
    if trace_loss is not None:
        loss_rec = float(trace_loss)
    out["loss_check"] = {"recomputed": float(state.loss), "recorded": loss_rec}
    if loss_rec is not None and not math.isclose(float(state.loss), loss_rec, rel_tol=1e-6,
                                                 abs_tol=1e-12):
        out["note"] = ("the reloaded data do not reproduce the run's final loss "
                       f"({state.loss:.6g} vs {loss_rec:.6g}); known issues not evaluated")
        return out
    out["checked"] = True
    gb = gram_blocks(net, state)
    pv = paper_eq14_as_printed(net, state)

    def opn(M: torch.Tensor) -> float:
        Ms = 0.5 * (M + M.T)
        ev = torch.linalg.eigvalsh(Ms)
        return float(ev.abs().max())

    Hn = opn(gb.H)
    i1: dict[str, Any] = {
        "rel_diff_printed_vs_corrected": opn(pv.H - gb.H) / Hn,
        "lambda_min_H": lambda_min(gb.H),
        "lambda_min_H_printed": lambda_min(pv.H),
        "offdiag_ZZ_norm": opn(gb.H_u - torch.diag(torch.diagonal(gb.H_u))),
    }
    if jacobian:
        try:
            HJ, _ = jacobian_gram(net, X, method="unrolled")
            HJn = opn(HJ)
            i1["jacobian_method"] = "unrolled autograd (torch.func.jacrev)"
            i1["rel_err_corrected_vs_jacobian"] = opn(gb.H - HJ) / HJn
            i1["rel_err_printed_vs_jacobian"] = opn(pv.H - HJ) / HJn
        except Exception as exc:  # report, don't fail the report
            i1["jacobian_error"] = f"{type(exc).__name__}: {exc}"
    out["issue1"] = i1
    if eq16:
        try:
            p16 = paper_eq16_as_printed(net, state, inverse="printed", factors="both")
            Wn = opn(gb.H_W)
            out["issue2"] = {
                "rel_diff_W_block": opn(p16.block - gb.H_W) / max(Wn, 1e-300),
                "rel_diff_H": opn(p16.H - gb.H) / Hn,
                "lambda_min_H_printed": lambda_min(p16.H),
            }
        except Exception as exc:
            out["issue2"] = {"error": f"{type(exc).__name__}: {exc}"}
    with torch.no_grad():
        pre_D = net.gamma_tilde * state.Z @ net.A.detach().T + state.Phi
        pre_E = X @ net.W.detach().T
    out["issue5"] = {"zeros_D": int((pre_D == 0).sum()), "entries_D": int(pre_D.numel()),
                     "zeros_E": int((pre_E == 0).sum()), "entries_E": int(pre_E.numel()),
                     "min_abs_D": float(pre_D.abs().min()), "min_abs_E": float(pre_E.abs().min())}
    return out


def _findings_meta(per_run: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Any], ...]:
    """Turn :func:`compute_findings` outputs into report findings (item, text)."""
    from ._report import fmt

    out: list[dict[str, Any]] = []
    checked = [f for f in per_run if f.get("checked")]
    for f in per_run:
        if not f.get("checked") and f.get("note"):
            out.append({"item": 1, "m": f["m"], "text": f"m = {f['m']}: {f['note']}."})
    for f in checked:
        i1 = f.get("issue1") or {}
        txt = (f"m = {f['m']} (final parameters): eq. 14 as printed differs from the corrected "
               f"Gram by ‖H_printed − H‖₂/‖H‖₂ = {fmt(i1.get('rel_diff_printed_vs_corrected'))}; "
               f"λ_min(H) = {fmt(i1.get('lambda_min_H'))}, λ_min(H_printed) = "
               f"{fmt(i1.get('lambda_min_H_printed'))}.")
        if "rel_err_corrected_vs_jacobian" in i1:
            txt += (f" Against the Jacobian Gram JJᵀ ({i1['jacobian_method']}): corrected "
                    f"{fmt(i1['rel_err_corrected_vs_jacobian'])}, printed "
                    f"{fmt(i1['rel_err_printed_vs_jacobian'])} (relative, spectral norm) — only "
                    "the all-ones version is the empirical NTK.")
        out.append({"item": 1, "m": f["m"], "text": txt, "value": i1})
        i2 = f.get("issue2")
        if i2:
            if "error" in i2:
                out.append({"item": 2, "m": f["m"], "text": f"m = {f['m']}: not evaluated "
                            f"({i2['error']})."})
            else:
                out.append({"item": 2, "m": f["m"], "value": i2, "text": (
                    f"m = {f['m']} (final parameters): eq. 16 as printed (inverse instead of "
                    f"transpose-inverse, both factors) changes the W block by "
                    f"{fmt(i2['rel_diff_W_block'])} and H by {fmt(i2['rel_diff_H'])} (relative, "
                    f"spectral norm); λ_min of the printed H = "
                    f"{fmt(i2['lambda_min_H_printed'])}.")})
        i5 = f.get("issue5") or {}
        if i5:
            out.append({"item": 5, "m": f["m"], "value": i5, "text": (
                f"m = {f['m']} (final parameters): {i5['zeros_D']} of {i5['entries_D']} "
                f"implicit-layer pre-activations and {i5['zeros_E']} of {i5['entries_E']} "
                f"feature pre-activations are exactly 0 (smallest |·|: {fmt(i5['min_abs_D'])}, "
                f"{fmt(i5['min_abs_E'])}), so the choice of σ'(0) did not affect this run."
                if i5["zeros_D"] == 0 and i5["zeros_E"] == 0 else
                f"m = {f['m']} (final parameters): {i5['zeros_D']} implicit-layer and "
                f"{i5['zeros_E']} feature pre-activations are exactly 0; there σ'(0) = 0 was "
                "used.")})
    return tuple(out)


# ============================================================================ the report
def _paper_setup(runs: Sequence[Any]) -> tuple[tuple[str, str, str], ...]:
    rec = runs[0].record
    data = rec.get("data") or {}
    n = data.get("n")
    ms = [r.m for r in runs]
    ratios = ", ".join(f"{m / n:g}" for m in ms) if n else "—"
    cfg = rec.get("config") or {}
    steps = rec.get("steps_done")
    return (
        ("data", "MNIST, FashionMNIST, CIFAR10, SVHN; classes 0 and 1; unit norm",
         f"{data.get('name')} ({data.get('source', '')}); unit norm"),
        ("input dimension d", "784 (28×28 grayscale)", str(data.get("d"))),
        ("training / test samples", "1000 / 1000", f"{n} / {data.get('n_test')}"),
        ("widths m", "500, 1000, 2000, 4000", ", ".join(str(m) for m in ms)),
        ("width / samples m/n", "0.5, 1, 2, 4", ratios),
        ("training", "full-batch GD, 1000 epochs", f"full-batch GD, {steps} steps"),
        ("γ, step α", "not stated (Figure 1's axis suggests γ ≈ 0.1)",
         f"γ = {cfg.get('gamma')}, α = {cfg.get('step')}"),
        ("initialisation", "A, W ~ N(0,1); u, v Rademacher", "same (G22 Assumption 1)"),
    )


def _notes(runs: Sequence[Any], made_here: bool, wall: float | None) -> tuple[str, ...]:
    from ._report import fmt

    notes = []
    rec = runs[0].record
    data = rec.get("data") or {}
    if data.get("notes"):
        notes.append("Data: " + "; ".join(str(x) for x in data["notes"]) + ".")
    n = data.get("n")
    ms = [r.m for r in runs]
    if n:
        ratios = [m / n for m in ms]
        same = sorted(ratios) == [m / _PAPER_N for m in _PAPER_WIDTHS]
        env = rec.get("environment") or {}
        thr = env.get("torch_threads")
        notes.append(
            "Scale: the paper's experiment (n = 1000, d = 784, widths 500–4000, 1000 epochs, "
            "four data sets) is far too large for a quick CPU check. "
            + (f"This report keeps the paper's width-to-sample ratios m/n ∈ {{½, 1, 2, 4}} with "
               f"n = {n} instead of 1000" if same else
               f"This report uses m/n ∈ {{{', '.join(f'{x:g}' for x in ratios)}}} with n = {n}")
            + f", and runs {rec.get('steps_done')} full-batch GD steps per width"
            + (f"; the whole command took {fmt(wall, 3)} s on {env.get('device_name', 'this CPU')}"
               + (f" with {thr} torch thread{'s' if thr != 1 else ''}" if thr else "")
               if made_here and wall is not None else "") + ".")
    sc = [(r.m, (r.record.get("step_check") or {})) for r in runs]
    sc = [(m, s) for m, s in sc if s.get("alpha_lambda_max_H0") is not None]
    if sc:
        vals = ", ".join(f"m = {m}: {fmt(s['alpha_lambda_max_H0'], 3)}" for m, s in sc)
        notes.append(
            "Step size: the theorem's step α = O(λ0/n²) (with C_step = 1) would barely move the "
            "loss in this many steps, so the runs use a larger fixed α and report the step "
            "condition as not met. GD on the linearised dynamics is stable iff "
            f"α·λ_max(H(0)) < 2; here α·λ_max(H(0)) = {vals}.")
    warns = sorted({str((r.record.get("step_check") or {}).get("warning")) for r in runs
                    if (r.record.get("step_check") or {}).get("warning")})
    notes.extend(f"Warning: {w}." for w in warns)
    return tuple(notes)


def make_report(runs: Sequence[Any], *, command: str, findings: Sequence[Mapping[str, Any]] = (),
                wall: float | None = None, made_here: bool = True, formats: Sequence[str] = (
                    "md", "html", "json"), dpi: int = 80) -> tuple[dict[str, bytes], dict[str, Any]]:
    """Render ``runs`` (:class:`~verify._report.ReportRun`): ``({relative path: bytes}, summary)``."""
    from ._report import ReportMeta, build_summary, render_report

    meta = ReportMeta(
        command=command,
        generated=_dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        notes=_notes(runs, made_here, wall),
        wall_time_s=wall,
        findings=_findings_meta(findings),
        paper_setup=_paper_setup(runs),
    )
    return render_report(runs, meta, formats=formats, dpi=dpi), build_summary(runs, meta)


def _stage_dir(out: Path) -> Path:
    parent = out.parent if str(out.parent) else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    stage = parent / f".{out.name}.partial-{os.getpid()}"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir()
    return stage


def _commit(stage: Path, out: Path, force: bool) -> None:
    """Move the staged report into place (replacing ``out`` only with ``force``)."""
    old = None
    if out.exists():
        if not force:  # checked before any work; re-checked here against races
            raise invalid("out", str(out), "already exists", "pass --force to replace it")
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        os.replace(out, old)
    os.replace(stage, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _write_files(stage: Path, files: Mapping[str, bytes]) -> None:
    from ._record import atomic_write_bytes

    for rel, data in files.items():
        atomic_write_bytes(stage / rel, data)


def _run_one(ds: Any, args: argparse.Namespace, m: int, run_dir: Path, command: str,
             log: _Log) -> Any:
    from ._gd import RunConfig, run_gd

    mode = "gf" if args.theorem == "g22-gf" else "gd"
    auto = str(args.step).lower() == "auto"
    cfg = RunConfig(m=m, gamma=float(args.gamma), step=1.0 if auto else _step_value(args.step),
                    steps=int(args.steps), seed=int(args.seed), mode=mode, device=args.device,
                    dtype=args.dtype)
    if auto:
        from ._run_cli import auto_step

        cfg = cfg.replace(step=auto_step(ds, cfg))
        log(f"m = {m}: --step auto: α = 1/λ_max(H(0)) = {cfg.step:.6g}")
    return run_gd(ds, config=cfg, out_dir=run_dir, progress=not args.quiet, command=command)


def _findings_for(result: Any, ds: Any, log: _Log, m_min: int, enabled: bool) -> dict[str, Any]:
    record = dict(result.record)
    loss = result.trace.get("loss")
    if loss is not None and len(loss):
        record["_final_loss"] = float(loss[-1])
    if not enabled:
        return {"m": int(record["config"]["m"]), "checked": False,
                "note": "known-issue computations skipped (--no-findings)"}
    m = int(record["config"]["m"])
    try:
        return compute_findings(record, result.params_final, ds, jacobian=(m == m_min),
                                eq16=(m == m_min))
    except Exception as exc:  # never lose a finished report to a diagnostic
        log(f"m = {m}: known-issue computations failed: {type(exc).__name__}: {exc}")
        return {"m": m, "checked": False, "note": f"computation failed ({type(exc).__name__})"}


def main(args: argparse.Namespace) -> int:
    """Entry point of ``implicit-verify report`` (returns the exit status)."""
    log = _Log(bool(args.quiet))
    formats = _formats(args.format)
    if args.dpi < 20 or args.dpi > 600:
        raise invalid("dpi", args.dpi, "out of range", "use e.g. --dpi 80")
    if args.threads is not None and args.threads < 1:
        raise invalid("threads", args.threads, "must be ≥ 1", "use e.g. --threads 1")
    if not args.from_dirs:  # validate everything before any work
        _widths(args.widths)
        _step_text(args.step)
        if args.steps < 1:
            raise invalid("steps", args.steps, "must be ≥ 1", "use e.g. --steps 300")
    else:
        for d in args.from_dirs:
            if not (Path(d) / "record.json").is_file():
                raise invalid("from", d, "has no record.json",
                              "pass run directories written by 'implicit-verify run' or a report")
    out = Path(args.out) if args.out else _default_out(args.theorem, str(args.data))
    if out.exists() and not args.force:
        raise invalid("out", str(out), "already exists",
                      "pass --force to replace it, or choose another --out")
    command = _reproduce_command(args, out)
    import torch

    threads0 = torch.get_num_threads()
    try:
        _set_threads(args.threads, log)
        return _main(args, out, command, formats, log)
    finally:
        torch.set_num_threads(threads0)


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


def _main(args: argparse.Namespace, out: Path, command: str, formats: Sequence[str],
          log: _Log) -> int:
    import json

    from ._gd import load_run
    from ._record import atomic_write_json
    from ._report import ReportRun

    t0 = time.monotonic()
    runs: list[ReportRun] = []
    findings: list[dict[str, Any]] = []
    stage = _stage_dir(out)
    try:
        if args.from_dirs:
            loaded = [(d, load_run(d)) for d in args.from_dirs]
            m_min = min(int((r.record.get("config") or {}).get("m", 0)) for _, r in loaded)
            for i, (d, res) in enumerate(loaded, 1):
                m = int((res.record.get("config") or {}).get("m", 0))
                log(f"[{i}/{len(loaded)}] read {d} (m = {m}, status {res.status})")
                dest = stage / "runs" / f"m{m}"
                if dest.exists():
                    raise invalid("from", d, f"two run directories with width m = {m}",
                                  "pass one run per width")
                dest.mkdir(parents=True)
                for f in ("record.json", "trace.npz", FINDINGS_FILE):
                    if (Path(d) / f).is_file():
                        shutil.copy2(Path(d) / f, dest / f)
                fpath = Path(d) / FINDINGS_FILE
                if fpath.is_file():
                    fnd = json.loads(fpath.read_text(encoding="utf-8"))
                elif res.params_final and not args.no_findings:
                    ds = _data_for_record(res.record)
                    if ds is None:
                        fnd = {"m": m, "checked": False,
                               "note": "the run's data could not be reloaded"}
                    else:
                        fnd = _findings_for(res, ds, log, m_min, True)
                    atomic_write_json(dest / FINDINGS_FILE, fnd)
                else:
                    fnd = {"m": m, "checked": False,
                           "note": "no saved final parameters or findings"}
                findings.append(fnd)
                runs.append(ReportRun(record=res.record, trace=res.trace, run_dir=str(d)))
            made_here = False
        else:
            widths = _widths(args.widths)
            ds = _load_data(str(args.data), args.n, int(args.seed))
            log(f"data: {ds.name}, n = {ds.n}, d = {ds.d}, n_test = {ds.n_test}; "
                f"widths {', '.join(map(str, widths))}; {args.steps} steps each "
                f"({args.theorem})")
            for i, m in enumerate(widths, 1):
                t1 = time.monotonic()
                log(f"[{i}/{len(widths)}] m = {m}: running {args.steps} GD steps …")
                run_dir = stage / "runs" / f"m{m}"
                res = _run_one(ds, args, m, run_dir, command, log)
                loss = res.trace.get("loss")
                lf = float(loss[-1]) if loss is not None and len(loss) else float("nan")
                log(f"[{i}/{len(widths)}] m = {m}: {res.status} after {res.record.get('steps_done')} "
                    f"steps, loss {lf:.4g} ({time.monotonic() - t1:.1f} s)")
                fnd = _findings_for(res, ds, log, widths[0], not args.no_findings)
                atomic_write_json(run_dir / FINDINGS_FILE, fnd)
                findings.append(fnd)
                runs.append(ReportRun(record=res.record, trace=res.trace,
                                      run_dir=f"runs/m{m}"))
            made_here = True
        log("rendering report …")
        wall = time.monotonic() - t0
        files, summary = make_report(runs, command=command, findings=findings, wall=wall,
                            made_here=made_here, formats=formats, dpi=int(args.dpi))
        _write_files(stage, files)
        _commit(stage, out, bool(args.force))
    except BaseException:
        if not runs:  # nothing finished: leave nothing behind
            shutil.rmtree(stage, ignore_errors=True)
        elif not args.quiet:
            print(f"[implicit-verify report] stopped; the finished runs are in {stage}/runs",
                  file=sys.stderr)
        raise
    if not args.quiet:
        print("\n".join("  • " + line for line in summary["summary"]), file=sys.stderr)
    for rel in ("report.md", "report.html", "summary.json"):
        if rel in files:
            print(out / rel)
    log(f"done in {time.monotonic() - t0:.1f} s")
    return 0
