r"""``implicit-verify bench step``: the GD step's cost as ratios measured in one run.

On one problem (digits classes 0/1 when ``n`` ≤ 180 images, else unit-norm synthetic data with
``d = 64``; paper initialisation from ``seed``; fixed ``γ``, step ``α``) it times, per GD step
(the *mean* over ``steps`` consecutive steps after ``warmup`` steps, ``steps`` rounded up to a
whole number of expensive-observable periods so that the instrumented time includes its
share of expensive steps; each path on its own trajectory from the same initialisation; the
bare and instrumented steps are timed interleaved, so a load change on a shared machine
affects both):

* **bare** — ``net.state`` (forward + adjoint solves with ``solver``, the run's default
  ``gauss-seidel`` unless told otherwise, both warm-started from the previous step,
  contraction from a :class:`~verify._certified.ContractionTracker`: no SVD per step) +
  :func:`verify.implicit_gradients` + the parameter update;
* **matmul** — the same number of dense products ``(n×m)·(m×m)`` as the bare step performed
  (``K_fwd + K_adj + 2``; a Gauss–Seidel sweep performs the same products in blocks), the floor of the step;
* **torchdeq** (optional ``bench`` extra, ``torchdeq==0.1.0``) — a torchdeq DEQ of exactly this
  model's map ``z ↦ σ(γ̃Az + φ)``: ``fixed_point_iter`` forward at relative tolerance ``tol``
  (torchdeq's stop: every row's ``‖f(z) − z‖/‖f(z)‖ < tol``), warm-started like ours, implicit
  (IFT) backward by fixed-point iteration at the same tolerance, autograd for the
  gradients of ``½‖ŷ − y‖²``, the same update. Skipped with a note when torchdeq is missing;
* **instrumented** — ``instrumented=`` takes a factory ``(net, X, y, alpha) → step()``;
  :class:`InstrumentedStep` (what ``implicit-verify bench step`` passes) is one iteration of
  the real GD loop, :meth:`verify.experiment.loop.GDLoop.advance` (solves with the tracker and
  both warm starts, stop rule, every observable on the default schedule
  :func:`~verify.experiment.config.auto_expensive_every`, update; no run directory, no test
  set). The row reports ``instrumented / bare``;
* **batched** — for each ``batch_sizes`` entry (m ≤ 256 by default), ``S`` seeds advanced by
  :class:`verify.model.batched.BatchedNetworks` vs the same S networks stepped one at a time
  (bare path), the two timed interleaved; throughput ratio = (time of the S one-at-a-time
  steps) / (time of one batched step).

* **public** (``public=``, ``--public digits,mnist``) — the public :func:`verify.run_gd` per step
  at the margin between two run lengths, its set-up, where its time goes, the iteration counts,
  beside the bare step, the dense-product floor and torchdeq's loop with the same outputs
  (:mod:`verify.bench.public`).

Targets (issue 22, printed as measured vs target): public / torchdeq ≤ 0.6 at both public sizes;
K_fwd + K_adj ≥ 1.5× fewer than the warm-started Picard baseline at equal certified error (each
``--sizes`` row times a Picard bare step interleaved with the ``solver`` one and reports
``k_reduction``; ``bench warm`` compares every variant); two threads ≥ 1.7× one thread at (1000, 1000) (``thread_scaling=True``).
Batched seeds have no CPU target (the products are already matrix–matrix; kept for GPUs).
Times are wall-clock on a possibly shared machine; ratios come from one run. ``dtype`` is
recorded in every row; float32 is allowed here (a speed measurement) but its rows must not be
used for bound comparisons (the toolkit compares with bounds in float64 only).

Length (~600 lines): the step paths timed side by side (instrumented, bare — Picard interleaved
with the chosen solver — torchdeq's peer, batched), the suite record with its targets, and its printed table, kept together so a reader
sees every path timed on the same inputs; the public-run measurement
(:mod:`verify.bench.public`), the solver-start comparison (:mod:`verify.bench.warm`) and the
options (:mod:`verify.bench.options`) are already their own modules.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from bounds._errors import invalid
from verify.model.batched import BatchedNetworks
from verify.model.certified import ContractionTracker
from verify.model.equilibrium import default_tol
from verify.model.network import ImplicitNetwork, implicit_gradients
from verify.model.validate import check_gamma, resolve_device, resolve_dtype

from .measure import _sync
from .options import (
    DEFAULT_BATCH_SIZES,
    DEFAULT_STEP_SIZES,
    PUBLIC_SIZES,
    parse_public,
    parse_sizes,
)
from .options import add_step_arguments as add_arguments
from .public import PUBLIC_PARTS, PublicRow, bench_public

__all__ = ["StepRow", "BatchRow", "StepSuite", "InstrumentedStep", "bench_step_suite", "format_suite",
           "add_arguments", "run"]

InstrumentedFactory = Callable[[ImplicitNetwork, torch.Tensor, torch.Tensor, float], Callable[[], Any]]
_DIGITS_D = 64


@dataclass(frozen=True)
class StepRow:
    """One size. Times are median seconds per GD step."""

    n: int
    m: int
    d: int
    data: str
    t_bare_s: float
    fwd_iterations: float
    adj_iterations: float
    matmul_count: int
    t_matmul_s: float
    ratio_bare_matmul: float
    svd_refreshes: int
    t_torchdeq_s: float | None
    ratio_bare_torchdeq: float | None
    torchdeq_note: str
    t_instrumented_s: float | None
    ratio_instrumented_bare: float | None
    max_rel_diff_torchdeq_grad_A: float | None = None
    timed_steps: int = 0
    expensive_every: int | None = None
    #: the warm-started Picard bare step beside the ``solver`` one, timed interleaved on the
    #: same trajectory length (None when ``solver`` is Picard): K_fwd, K_adj, seconds per step
    picard_fwd_iterations: float | None = None
    picard_adj_iterations: float | None = None
    t_bare_picard_s: float | None = None
    t_bare_paired_s: float | None = None
    #: (K_fwd + K_adj of Picard) / (K_fwd + K_adj of ``solver``), at the same stopping residual
    k_reduction: float | None = None


@dataclass(frozen=True)
class BatchRow:
    """Batched seeds vs one at a time at one size."""

    n: int
    m: int
    S: int
    t_batched_step_s: float
    t_separate_step_s: float
    throughput_ratio: float
    all_converged: bool


@dataclass(frozen=True)
class StepSuite:
    """Everything one ``bench step`` run measured, with the settings."""

    gamma: float
    alpha: float
    tol: float
    dtype: str
    device: str
    threads: int
    seed: int
    steps: int
    warmup: int
    torch_version: str
    steps_rows: tuple[StepRow, ...]
    batch_rows: tuple[BatchRow, ...]
    notes: tuple[str, ...] = field(default=())
    public_rows: tuple[PublicRow, ...] = field(default=())
    #: (t one thread, t two threads) per bare step at (1000, 1000), or None when not measured
    thread_scaling: tuple[float, float] | None = None
    #: the equilibrium solver of every path but torchdeq's
    solver: str = "picard"

    def targets(self) -> list[dict[str, Any]]:
        """Issue 22's targets, each as measured vs target with ``status`` met / not met / not
        measured (with the reason)."""
        out: list[dict[str, Any]] = []
        rows = {r.problem: r for r in self.public_rows}
        for prob in PUBLIC_SIZES:
            r = rows.get(prob)
            val = None if r is None else r.ratio_public_torchdeq
            why = ("" if val is not None else
                   f"--public {prob} not run" if r is None else "torchdeq not installed")
            out.append({"target": f"public/torchdeq at {prob}", "want": "≤ 0.6", "measured": val,
                        "status": "not measured: " + why if val is None else
                        ("met" if val <= 0.6 else "not met")})
        reds = [r.k_reduction for r in self.steps_rows if r.k_reduction is not None]
        red = min(reds) if reds else None
        out.append({"target": "K_fwd + K_adj reduction at equal certified error", "want": "≥ 1.5×",
                    "measured": red,
                    "status": (f"not measured: solver={self.solver} is the Picard baseline itself"
                               if red is None else "met" if red >= 1.5 else
                               f"not met ({self.solver} against warm-started Picard, bare step, the "
                               "smallest over --sizes; bench warm compares every variant)")})
        ts = self.thread_scaling
        val = None if ts is None else ts[0] / ts[1]
        out.append({"target": "two threads / one thread at (1000, 1000)", "want": "≥ 1.7×", "measured": val,
                    "status": "not measured: pass --thread-scaling" if val is None else
                    ("met" if val >= 1.7 else "not met")})
        return out

    def ratios(self) -> dict[str, Any]:
        """The three ratios of issue 15: instrumented/bare and bare/torchdeq per size, batched
        speed-up (S × one-at-a-time / batched) per batch size."""
        return {
            "steps": [{"n": r.n, "m": r.m, "instrumented_over_bare": r.ratio_instrumented_bare,
                       "bare_over_torchdeq": r.ratio_bare_torchdeq} for r in self.steps_rows],
            "batched": [{"n": b.n, "m": b.m, "S": b.S, "speedup": b.throughput_ratio} for b in self.batch_rows],
            "public": [{"problem": r.problem, "public_over_torchdeq": r.ratio_public_torchdeq,
                        "public_over_bare": r.ratio_public_bare, "public_over_floor": r.ratio_public_floor}
                       for r in self.public_rows],
            "targets": self.targets(),
        }

    def to_dict(self) -> dict[str, Any]:
        return {"ratios": self.ratios(), **asdict(self)}


def _problem(n: int, seed: int, dev: torch.device, dt: torch.dtype) -> tuple[torch.Tensor, torch.Tensor, str]:
    from verify.experiment.data import digits_dataset, synthetic_dataset

    try:
        ds = digits_dataset(n=n, seed=seed)
    except Exception:  # not enough digits images for this n: synthetic data of the same d
        ds = synthetic_dataset(n=n, d=_DIGITS_D, seed=seed)
    X = torch.tensor(np.asarray(ds.X), dtype=dt, device=dev)
    y = torch.tensor(np.asarray(ds.y), dtype=dt, device=dev)
    return X, y, ds.name


def _median_step(step: Callable[[], Any], steps: int, warmup: int, dev: torch.device) -> float:
    """Mean seconds per call over ``steps`` consecutive calls after ``warmup`` calls (a mean,
    not a median: periodic costs such as expensive observables or SVD refreshes count)."""
    for _ in range(warmup):
        step()
    _sync(dev)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(dev)
    return (time.perf_counter() - t0) / steps


def _paired_steps(a: Callable[[], Any], b: Callable[[], Any], steps: int, warmup: int,
                  dev: torch.device) -> tuple[float, float]:
    """Mean seconds per call of ``a`` and ``b``, their calls interleaved (a, b, a, b, …) so that
    a load change on a shared machine hits both alike and their ratio stays meaningful."""
    for _ in range(warmup):
        a()
        b()
    ta = tb = 0.0
    for _ in range(steps):
        for f, is_a in ((a, True), (b, False)):
            _sync(dev)
            t0 = time.perf_counter()
            f()
            _sync(dev)
            if is_a:
                ta += time.perf_counter() - t0
            else:
                tb += time.perf_counter() - t0
    return ta / steps, tb / steps


class InstrumentedStep:
    """One instrumented GD step: :meth:`GDLoop.advance` of a run with the default schedule.

    Built like :func:`verify.run_gd` builds its loop (``validate_inputs`` → ``GDLoop.start_from``
    without a run directory), with ``net``'s parameters; ``period`` is the schedule's
    ``expensive_every``. Raises ``RuntimeError`` if the run stops (solver failure, divergence)."""

    def __init__(self, net: ImplicitNetwork, X: torch.Tensor, y: torch.Tensor, alpha: float) -> None:
        from verify.experiment.config import RunConfig
        from verify.experiment.inputs import validate_inputs
        from verify.experiment.loop import GDLoop

        fo = net.solver_opts["forward"]
        cfg = RunConfig(m=net.m, gamma=net.gamma, step=float(alpha), steps=10**9, device=str(net.device),
                        dtype=str(net.dtype).replace("torch.", ""),
                        tol=default_tol(net.dtype) if fo["tol"] is None else float(fo["tol"]),
                        max_iter=int(fo["max_iter"]), solver=str(fo["method"]))
        X64 = X.detach().to("cpu", torch.float64).numpy()
        y64 = y.detach().to("cpu", torch.float64).numpy()
        inputs = validate_inputs(X64, y64, cfg, None, None, None)
        self.loop = GDLoop.start_from(cfg, inputs, None, None, {}, "bench", time.monotonic())
        self.loop.net.load_parameters(net.parameters_dict())
        self.loop.P0 = self.loop.net.parameters_dict()
        self.period = int(self.loop.expensive_every)
        self.k = 0

    def __call__(self) -> None:
        stop, _ = self.loop.advance(self.k)
        if stop is not None:
            raise RuntimeError(f"instrumented bench step: the GD loop stopped ({stop}: {self.loop.status_msg})")
        self.k += 1


class _BareStep:
    """The lean GD step: warm starts, certified contraction, closed-form gradients, update."""

    def __init__(self, net: ImplicitNetwork, X: torch.Tensor, y: torch.Tensor, alpha: float) -> None:
        self.net, self.X, self.y, self.alpha = net, X, y, alpha
        self.tracker = ContractionTracker(net.gamma_tilde)
        self.prev: Any = None
        self.fwd_its: list[int] = []
        self.adj_its: list[int] = []

    def __call__(self) -> None:
        net, prev = self.net, self.prev
        st = net.state(self.X, self.y, z0=None if prev is None else prev.Z,
                       b0=None if prev is None else prev.B, contraction=self.tracker.update(net.A))
        g = implicit_gradients(net, self.X, self.y, state=st)
        with torch.no_grad():
            for k, v in g.items():
                getattr(net, k).sub_(self.alpha * v)
        self.prev = st
        self.fwd_its.append(st.fwd.iterations)
        self.adj_its.append(st.adj.iterations)


def torchdeq_options(tol: float, max_iter: int) -> dict[str, Any]:
    """torchdeq's settings for the peer loop: fixed-point forward and backward to ``tol``
    (relative), exact implicit (IFT) gradient — not its default one-step phantom gradient."""
    return dict(f_solver="fixed_point_iter", b_solver="fixed_point_iter", f_max_iter=max_iter,
                b_max_iter=max_iter, f_tol=tol, b_tol=tol, f_stop_mode="rel",
                b_stop_mode="rel", ift=True)


def torchdeq_forward(deq: Any, net: ImplicitNetwork, X: torch.Tensor,
                     z0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, dict[str, Any]]:
    """The equilibrium Z of ``net`` on ``X`` by torchdeq from ``z0``, with Φ = σ(WX)/√m and
    torchdeq's solver info."""
    Phi = torch.relu(X @ net.W.T) / math.sqrt(net.m)
    gt = net.gamma_tilde

    def f(z: torch.Tensor) -> torch.Tensor:
        return torch.relu(gt * (z @ net.A.T) + Phi)

    z_out, info = deq(f, z0)
    return z_out[-1], Phi, info


def _torchdeq_step(net: ImplicitNetwork, X: torch.Tensor, y: torch.Tensor, alpha: float, tol: float,
                   max_iter: int) -> Callable[[], torch.Tensor]:
    from torchdeq import get_deq

    deq = get_deq(**torchdeq_options(tol, max_iter))
    deq.train()
    params = [net.A, net.W, net.u, net.v]
    z_prev = [torch.zeros(X.shape[0], net.m, dtype=X.dtype, device=X.device)]

    def step() -> torch.Tensor:
        for p in params:
            p.grad = None
        Z, Phi, _ = torchdeq_forward(deq, net, X, z_prev[0])
        loss = 0.5 * torch.sum((Z @ net.u + Phi @ net.v - y) ** 2)
        loss.backward()
        grad_A = net.A.grad.detach().clone()  # type: ignore[union-attr]
        with torch.no_grad():
            for p in params:
                p.sub_(alpha * p.grad)  # type: ignore[operator]
        z_prev[0] = Z.detach()
        return grad_A

    return step


def bench_step_suite(
    sizes: Sequence[tuple[int, int]] | str = DEFAULT_STEP_SIZES,
    *,
    batch_sizes: Sequence[tuple[int, int]] | str = DEFAULT_BATCH_SIZES,
    seeds: int = 8,
    steps: int = 10,
    warmup: int = 2,
    gamma: float = 0.1,
    alpha: float = 0.01,
    tol: float | None = None,
    max_iter: int = 500,
    dtype: Any = "float64",
    device: Any = "cpu",
    seed: int = 0,
    torchdeq: bool = True,
    instrumented: InstrumentedFactory | None = None,
    public: Sequence[str] | str = (),
    public_steps: int = 10,
    public_repeat: int = 1,
    thread_scaling: bool = False,
    solver: str = "gauss-seidel",
) -> StepSuite:
    """Run the whole ``bench step`` measurement (see the module docstring)."""
    if isinstance(sizes, str):
        sizes = parse_sizes(sizes)
    if isinstance(public, str):
        public = parse_public(public, "public")
    if isinstance(batch_sizes, str):
        batch_sizes = parse_sizes(batch_sizes, "--batch-sizes") if batch_sizes.strip() else []
    for name, val, lo in (("seeds", seeds, 1), ("steps", steps, 1), ("warmup", warmup, 0), ("seed", seed, 0)):
        if isinstance(val, bool) or not isinstance(val, int) or val < lo:
            raise invalid(name, val, f"expected an int ≥ {lo}", f"pass e.g. {name}={max(lo, 2)}")
    if not (isinstance(alpha, (int, float)) and math.isfinite(alpha) and alpha > 0):
        raise invalid("alpha", alpha, "the step size must be positive and finite", "pass e.g. alpha=0.01")
    gamma = check_gamma(gamma)
    if solver not in ("gauss-seidel", "picard", "anderson"):
        raise invalid("solver", solver, "unknown solver", "pass 'gauss-seidel', 'picard' or 'anderson'")
    dev, dt = resolve_device(device), resolve_dtype(dtype)
    tol = default_tol(dt) if tol is None else tol
    if not (isinstance(tol, float) and 0.0 < tol < 1.0):
        raise invalid("tol", tol, "must be a float in (0, 1)", "use e.g. tol=1e-12 (float64) or 1e-6 (float32)")
    notes: list[str] = []
    have_deq = False
    if torchdeq:
        try:
            import torchdeq as _td  # noqa: F401

            have_deq = True
        except ImportError:
            notes.append("torchdeq not installed (pip install 'implicit-verify[bench]'): its rows are skipped")
    step_rows = []
    for n, m in sizes:
        X, y, data = _problem(n, seed, dev, dt)
        d = X.shape[1]
        kw = dict(dtype=dt, device=dev, tol=tol, max_iter=max_iter, method=solver)
        ins_step = None
        n_timed = steps
        if instrumented is not None:
            ins_step = instrumented(ImplicitNetwork.init(m, d, gamma, seed, **kw), X, y, alpha)
            period = int(getattr(ins_step, "period", 1))
            n_timed = period * math.ceil(steps / period)
        bare = _BareStep(ImplicitNetwork.init(m, d, gamma, seed, **kw), X, y, alpha)
        t_ins = ratio_ins = None
        if ins_step is not None:
            t_bare, t_ins = _paired_steps(bare, ins_step, n_timed, warmup, dev)
            ratio_ins = t_ins / t_bare
        else:
            t_bare = _median_step(bare, n_timed, warmup, dev)
        kf = statistics.mean(bare.fwd_its[warmup:])
        ka = statistics.mean(bare.adj_its[warmup:])
        pic: dict[str, float | None] = dict.fromkeys(("kf", "ka", "t", "t_s", "red"))
        if solver != "picard":
            # the same two steps interleaved: the chosen solver against warm-started Picard
            b_s = _BareStep(ImplicitNetwork.init(m, d, gamma, seed, **kw), X, y, alpha)
            b_p = _BareStep(ImplicitNetwork.init(m, d, gamma, seed, **{**kw, "method": "picard"}), X, y, alpha)
            pic["t_s"], pic["t"] = _paired_steps(b_s, b_p, n_timed, warmup, dev)
            kpf, kpa = statistics.mean(b_p.fwd_its[warmup:]), statistics.mean(b_p.adj_its[warmup:])
            k_s = statistics.mean(b_s.fwd_its[warmup:]) + statistics.mean(b_s.adj_its[warmup:])
            pic.update(kf=kpf, ka=kpa, red=(kpf + kpa) / k_s)
        count = int(round(kf + ka)) + 2
        Zm = torch.rand(n, m, dtype=dt, device=dev)
        At = torch.randn(m, m, dtype=dt, device=dev).T

        def products(Zm=Zm, At=At, count=count) -> None:
            for _ in range(count):
                torch.mm(Zm, At)

        t_mm = _median_step(products, steps, 1, dev)
        t_deq = ratio_deq = diff = None
        note = "" if have_deq else "not installed"
        if have_deq:
            deq_net = ImplicitNetwork.init(m, d, gamma, seed, **kw)
            deq_step = _torchdeq_step(deq_net, X, y, alpha, tol, max_iter)
            t_deq = _median_step(deq_step, n_timed, warmup, dev)
            ratio_deq = t_bare / t_deq
            # same gradient at the same parameters (a correctness check of the comparison)
            chk = ImplicitNetwork.init(m, d, gamma, seed, **kw)
            g_ours = implicit_gradients(chk, X, y)["A"]
            g_deq = _torchdeq_step(chk, X, y, alpha, tol, max_iter)()
            diff = float((g_ours - g_deq).abs().max() / g_ours.abs().max())
            note = "fixed_point_iter fwd+IFT bwd, stop_mode rel (per row), warm-started forward"
        step_rows.append(StepRow(
            n=n, m=m, d=d, data=data, t_bare_s=t_bare, fwd_iterations=kf, adj_iterations=ka,
            matmul_count=count, t_matmul_s=t_mm, ratio_bare_matmul=t_bare / t_mm,
            svd_refreshes=bare.tracker.refreshes, t_torchdeq_s=t_deq, ratio_bare_torchdeq=ratio_deq,
            torchdeq_note=note, t_instrumented_s=t_ins, ratio_instrumented_bare=ratio_ins,
            max_rel_diff_torchdeq_grad_A=diff, timed_steps=n_timed,
            expensive_every=None if ins_step is None else getattr(ins_step, "period", None),
            picard_fwd_iterations=pic["kf"], picard_adj_iterations=pic["ka"], t_bare_picard_s=pic["t"],
            t_bare_paired_s=pic["t_s"], k_reduction=pic["red"]))
    batch_rows = []
    for n, m in batch_sizes:
        X, y, _ = _problem(n, seed, dev, dt)
        d = X.shape[1]
        kw = dict(dtype=dt, device=dev, tol=tol, max_iter=max_iter)
        seed_list = list(range(seed, seed + seeds))
        bn = BatchedNetworks([ImplicitNetwork.init(m, d, gamma, s, **kw) for s in seed_list])
        last: list[Any] = [None]

        def batched(bn=bn, X=X, y=y, last=last) -> None:
            last[0] = bn.step(X, y, alpha)

        singles = [_BareStep(ImplicitNetwork.init(m, d, gamma, s, **kw), X, y, alpha) for s in seed_list]

        def separate(singles=singles) -> None:
            for s in singles:
                s()

        t_b, t_s = _paired_steps(batched, separate, steps, warmup, dev)
        batch_rows.append(BatchRow(n=n, m=m, S=seeds, t_batched_step_s=t_b, t_separate_step_s=t_s,
                                   throughput_ratio=t_s / t_b, all_converged=all(last[0].ok)))
    public_rows = tuple(
        bench_public(p, margin_steps=public_steps, gamma=gamma, alpha=float(alpha), seed=seed, tol=tol,
                     max_iter=max_iter, dtype=dt, device=dev, have_deq=have_deq, bare_factory=_BareStep,
                     warmup=warmup, repeat=public_repeat, solver=solver)
        for p in public)
    scaling = _thread_scaling(gamma, alpha, seed, tol, max_iter, dt, dev, steps, solver) if thread_scaling else None
    return StepSuite(public_rows=public_rows, thread_scaling=scaling, gamma=gamma, alpha=float(alpha), tol=tol, dtype=str(dt).replace("torch.", ""),
                     device=str(dev), threads=torch.get_num_threads(), seed=seed, steps=steps, warmup=warmup,
                     torch_version=torch.__version__, steps_rows=tuple(step_rows), batch_rows=tuple(batch_rows),
                     notes=tuple(notes), solver=solver)


def _thread_scaling(gamma: float, alpha: float, seed: int, tol: float, max_iter: int, dt: torch.dtype,
                    dev: torch.device, steps: int, solver: str = "gauss-seidel") -> tuple[float, float]:
    """Mean bare-step seconds at (n, m) = (1000, 1000) (synthetic d = 64) on one, then two threads."""
    from verify.experiment.data import synthetic_dataset

    ds = synthetic_dataset(n=1000, d=_DIGITS_D, seed=seed)
    X = torch.tensor(np.asarray(ds.X), dtype=dt, device=dev)
    y = torch.tensor(np.asarray(ds.y), dtype=dt, device=dev)
    before = torch.get_num_threads()
    out = []
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            net = ImplicitNetwork.init(1000, X.shape[1], gamma, seed, dtype=dt, device=dev, tol=tol,
                                       max_iter=max_iter, method=solver)
            out.append(_median_step(_BareStep(net, X, y, alpha), max(2, min(steps, 4)), 1, dev))
    finally:
        torch.set_num_threads(before)
    return out[0], out[1]


def _f(x: float | None, spec: str) -> str:
    return "—" if x is None else format(x, spec)


def format_suite(s: StepSuite) -> str:
    """Plain-text table of a :class:`StepSuite`."""
    lines = [f"# bench step: dtype={s.dtype} device={s.device} threads={s.threads} γ={s.gamma} α={s.alpha} "
             f"tol={s.tol:g} solver={s.solver} seed={s.seed} steps≥{s.steps} (mean per step after {s.warmup} warm-up) "
             f"torch {s.torch_version}"]
    lines.append(f"{'n':>5} {'m':>5} {'data':>9} {'bare_ms':>8} {'K_f':>5} {'K_a':>5} {'matmul_ms':>9} "
                 f"{'bare/mm':>7} {'deq_ms':>7} {'bare/deq':>8} {'instr/bare':>10} {'E':>3} {'svds':>4}")
    for r in s.steps_rows:
        lines.append(f"{r.n:>5} {r.m:>5} {r.data:>9} {r.t_bare_s * 1e3:>8.2f} {r.fwd_iterations:>5.1f} "
                     f"{r.adj_iterations:>5.1f} {r.t_matmul_s * 1e3:>9.2f} {r.ratio_bare_matmul:>7.2f} "
                     f"{_f(None if r.t_torchdeq_s is None else r.t_torchdeq_s * 1e3, '7.2f'):>7} "
                     f"{_f(r.ratio_bare_torchdeq, '8.2f'):>8} {_f(r.ratio_instrumented_bare, '10.2f'):>10} "
                     f"{'—' if r.expensive_every is None else r.expensive_every:>3} {r.svd_refreshes:>4}")
    if s.batch_rows:
        lines.append(f"{'n':>5} {'m':>5} {'S':>3} {'batched_ms':>10} {'separate_ms':>11} {'throughput':>10}")
        for b in s.batch_rows:
            lines.append(f"{b.n:>5} {b.m:>5} {b.S:>3} {b.t_batched_step_s * 1e3:>10.2f} "
                         f"{b.t_separate_step_s * 1e3:>11.2f} {b.throughput_ratio:>9.2f}x")
    for r in s.steps_rows:
        if r.k_reduction is not None:
            lines.append(f"{r.n:>5} {r.m:>5} {s.solver} vs picard (bare, interleaved): K_f+K_a "
                         f"{r.fwd_iterations + r.adj_iterations:.1f} vs "
                         f"{(r.picard_fwd_iterations or 0.0) + (r.picard_adj_iterations or 0.0):.1f} "
                         f"({r.k_reduction:.2f}x fewer), "
                         f"{_f(None if r.t_bare_paired_s is None else r.t_bare_paired_s * 1e3, '.2f')} vs "
                         f"{_f(None if r.t_bare_picard_s is None else r.t_bare_picard_s * 1e3, '.2f')} ms/step")
    lines.append("E: expensive_every of the default schedule; svds: contraction SVDs of the bare path")
    if s.public_rows:
        lines.append("public run_gd per step at the margin (t(L2) − t(L1))/(L2 − L1); set-up = t(L1) − L1·step; "
                     "floor: its dense products; deq: torchdeq loop with the same outputs (IFT backward, test solve)")
        lines.append(f"{'problem':>8} {'n+test':>10} {'d':>4} {'m':>5} {'L1,L2':>7} {'public_ms':>9} {'setup_s':>7} "
                     f"{'bare_ms':>8} {'floor_ms':>8} {'deq_ms':>8} {'pub/deq':>7} {'K_f':>5} {'K_a':>5} "
                     f"{'K_test':>6} {'deq_K_f':>7} {'deq_K_t':>7}")
        for p in s.public_rows:
            lines.append(
                f"{p.problem:>8} {f'{p.n}+{p.n_test}':>10} {p.d:>4} {p.m:>5} {f'{p.steps_short},{p.steps_long}':>7} "
                f"{p.t_public_s * 1e3:>9.1f} {p.t_setup_s:>7.2f} {p.t_bare_s * 1e3:>8.1f} {p.t_floor_s * 1e3:>8.1f} "
                f"{_f(None if p.t_torchdeq_s is None else p.t_torchdeq_s * 1e3, '8.1f'):>8} "
                f"{_f(p.ratio_public_torchdeq, '7.2f'):>7} {p.fwd_iterations:>5.1f} {p.adj_iterations:>5.1f} "
                f"{p.test_iterations:>6.1f} {_f(p.torchdeq_fwd_iterations, '7.1f'):>7} "
                f"{_f(p.torchdeq_test_iterations, '7.1f'):>7}")
        lines.append("where the public step's time goes (ms per step at the margin):")
        lines.append(f"{'problem':>8} " + " ".join(f"{k:>13}" for k in PUBLIC_PARTS))
        for p in s.public_rows:
            lines.append(f"{p.problem:>8} " + " ".join(f"{p.parts_s[k] * 1e3:>13.2f}" for k in PUBLIC_PARTS))
        lines += [f"note: {n}" for p in s.public_rows for n in p.notes]
    if s.thread_scaling is not None:
        t1, t2 = s.thread_scaling
        lines.append(f"threads at (1000, 1000), bare step: 1 thread {t1 * 1e3:.0f} ms, 2 threads {t2 * 1e3:.0f} ms "
                     f"({t1 / t2:.2f}x)")
    lines.append("targets (issue 22), measured vs target:")
    for t in s.targets():
        val = "—" if t["measured"] is None else f"{t['measured']:.2f}"
        lines.append(f"  {t['target']}: {val} (target {t['want']}): {t['status']}")
    lines += [f"note: {n}" for n in s.notes]
    return "\n".join(lines)


def run(args: argparse.Namespace, instrumented: InstrumentedFactory | None = InstrumentedStep) -> int:
    """Run ``bench step`` from parsed :func:`add_arguments` options; prints a table or JSON
    (the JSON starts with ``ratios``, the three ratios of issue 15)."""
    if args.threads < 1:
        raise invalid("--threads", args.threads, "expected an int ≥ 1", "use e.g. --threads 1")
    torch.set_num_threads(args.threads)
    suite = bench_step_suite(args.sizes, batch_sizes=args.batch_sizes, seeds=args.seeds, steps=args.steps,
                             warmup=args.warmup, gamma=args.gamma, alpha=args.alpha, tol=args.tol,
                             dtype=args.dtype, device=args.device, seed=args.seed,
                             torchdeq=not args.no_torchdeq, instrumented=instrumented,
                             public=getattr(args, "public", ""), public_steps=getattr(args, "public_steps", 10),
                             public_repeat=getattr(args, "public_repeat", 1),
                             thread_scaling=getattr(args, "thread_scaling", False),
                             solver=getattr(args, "solver", "gauss-seidel"))
    print(json.dumps(suite.to_dict(), indent=2, ensure_ascii=False) if args.json else format_suite(suite))
    return 0
