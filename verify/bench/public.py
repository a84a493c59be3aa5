r"""``bench step --public``: the public :func:`verify.run_gd` timed per step, beside its peers.

For each problem of :data:`~verify.bench.options.PUBLIC_SIZES` (``digits``: 128 training + 180
test images of G22's classes 0/1, m = 512; ``mnist``: MNIST's size, 1000 + 1000 unit-norm
synthetic inputs with d = 784, m = 500) it measures:

* **public** — ``run_gd`` with its defaults (test loss every step, recording every step, the
  trace, checkpoints, the default expensive-observable schedule, a run directory written to a
  temporary folder), per step *at the margin*: two runs of ``L1`` and ``L2`` steps from the same
  initialisation, ``(t(L2) − t(L1)) / (L2 − L1)`` with ``L1 = 2`` and ``L2 − L1`` a whole number
  of expensive-observable periods (each the best of ``repeat`` runs), so the fixed set-up (data checks, λ0, c, the run directory,
  the verdicts and the record) cancels; the **set-up** is ``t(L1) − L1·t_step``;
* **where the time goes** — timers on the loop's parts in the long run (the training solves,
  the gradient and update, the test-set solve, the cheap observables, the extra of the expensive
  steps, checkpoints), per step over its steps ``L1 … L2 − 1`` (the margin's steps, whole
  expensive periods); ``other`` is the margin's time per step less these (loop, stop rule, and
  the noise of a load change between the two runs: it can come out negative on a busy machine);
* **bare** — the lean step (:class:`verify.bench.step._BareStep`; no test set, no recording);
* **floor** — the dense products the public step performs: ``K_fwd + K_adj + 2`` products
  ``(n×m)·(m×m)`` and ``K_test`` products ``(n_test×m)·(m×m)``;
* **torchdeq** (optional ``bench`` extra) — torchdeq 0.1.0's DEQ of this map with the same
  outputs: ``fixed_point_iter`` forward warm-started from the previous step, exact implicit
  (``ift=True``; torchdeq's default ``ift=False`` is a one-step phantom gradient) backward by
  fixed-point iteration, both at the same relative tolerance, the same update, and the test
  loss: a warm-started forward solve on the test set every step (no gradient).

Times are wall-clock; the public runs and the torchdeq loop are not interleaved (a load change
between them shows in their ratio), so read ratios on a loaded machine with care.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from verify.model.network import ImplicitNetwork

from .measure import _sync
from .options import PUBLIC_SIZES

__all__ = ["PublicRow", "bench_public", "PUBLIC_PARTS"]

#: the parts of a public step, in the order printed (seconds per step at the margin).
PUBLIC_PARTS = ("solves", "update", "test_solve", "recording", "expensive", "checkpoint_io", "other")


@dataclass(frozen=True)
class PublicRow:
    """One public-run problem. Times in seconds per GD step unless named otherwise."""

    problem: str
    data: str
    n: int
    n_test: int
    d: int
    m: int
    steps_short: int
    steps_long: int
    expensive_every: int
    t_run_short_s: float
    t_run_long_s: float
    t_public_s: float
    t_setup_s: float
    parts_s: dict[str, float]
    fwd_iterations: float
    adj_iterations: float
    test_iterations: float
    t_bare_s: float
    t_floor_s: float
    t_torchdeq_s: float | None
    torchdeq_fwd_iterations: float | None
    torchdeq_test_iterations: float | None
    ratio_public_torchdeq: float | None
    ratio_public_bare: float
    ratio_public_floor: float
    notes: tuple[str, ...] = field(default=())


def _dataset(problem: str, seed: int) -> Any:
    from verify.experiment.data import digits_dataset, synthetic_dataset

    n, n_test, d, _ = PUBLIC_SIZES[problem]
    if problem == "digits":  # the test set is the other half of classes 0/1 (180 images)
        return digits_dataset(n=n, seed=seed)
    return synthetic_dataset(n=n, d=d, seed=seed, n_test=n_test)


class _Timers:
    """Seconds spent in the GD loop's parts, by wrapping the names the loop calls (restored on
    exit; a measurement tool, not part of a run)."""

    def __init__(self) -> None:
        self._test_in_call = 0.0
        self.step = -1  # the GD step being timed (solve_state calls so far − 1)
        #: per step k: part → seconds, and "cheap"/"exp" observe calls (seconds, test solve excluded)
        self.per_step: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.obs_calls: list[tuple[int, bool, float]] = []

    @contextmanager
    def active(self) -> Iterator[_Timers]:
        import verify.experiment.loop as loop_mod
        import verify.experiment.observers as obs_mod

        saved: list[tuple[Any, str, Callable[..., Any]]] = [(loop_mod, "solve_state", loop_mod.solve_state), (loop_mod, "gd_update", loop_mod.gd_update),
                 (loop_mod, "observe", loop_mod.observe), (loop_mod, "save_checkpoint", loop_mod.save_checkpoint),
                 (obs_mod, "solve_forward", obs_mod.solve_forward)]
        solve_state, gd_update, observe, save_ckpt, solve_forward = (f for _, _, f in saved)

        def timed(key: str, fn: Callable[..., Any]) -> Callable[..., Any]:
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                t0 = time.perf_counter()
                out = fn(*args, **kwargs)
                dt = time.perf_counter() - t0
                self.per_step[self.step][key] += dt
                return out
            return wrapper

        def solves(*args: Any, **kwargs: Any) -> Any:
            self.step += 1
            out = timed("solves", solve_state)(*args, **kwargs)
            st = out[0]
            self.per_step[self.step]["fwd"] += st.fwd.iterations
            self.per_step[self.step]["adj"] += 0 if st.adj is None else st.adj.iterations
            return out

        def test_solve(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            res = solve_forward(*args, **kwargs)
            dt = time.perf_counter() - t0
            self.per_step[self.step]["test_solve"] += dt
            self.per_step[self.step]["test"] += res.iterations
            self._test_in_call += dt
            return res

        def observe_timed(*args: Any, **kwargs: Any) -> Any:
            expensive = bool(args[11]) if len(args) > 11 else bool(kwargs.get("expensive"))
            self._test_in_call = 0.0
            t0 = time.perf_counter()
            out = observe(*args, **kwargs)
            own = time.perf_counter() - t0 - self._test_in_call
            self.obs_calls.append((self.step, expensive, own))
            return out

        loop_mod.solve_state = solves  # type: ignore[assignment]
        loop_mod.gd_update = timed("update", gd_update)  # type: ignore[assignment]
        loop_mod.observe = observe_timed  # type: ignore[assignment]
        loop_mod.save_checkpoint = timed("checkpoint_io", save_ckpt)  # type: ignore[assignment]
        obs_mod.solve_forward = test_solve  # type: ignore[assignment]
        try:
            yield self
        finally:
            for mod, name, fn in saved:
                setattr(mod, name, fn)

    def margin(self, first: int, last: int) -> dict[str, float]:
        """Seconds (and iterations) per step over steps ``first … last − 1``: the parts of
        :data:`PUBLIC_PARTS` but ``other``, and ``fwd``/``adj``/``test`` iterations. The cheap
        observables count at their mean cost on every recorded step; ``expensive`` is the extra of
        the expensive steps over that."""
        steps = range(first, last)
        out = {key: sum(self.per_step[k][key] for k in steps) / len(steps)
               for key in ("solves", "update", "test_solve", "checkpoint_io", "fwd", "adj", "test")}
        calls = [(exp, t) for k, exp, t in self.obs_calls if first <= k < last]
        cheap_t = [t for exp, t in calls if not exp]
        cheap = float(np.mean(cheap_t)) if cheap_t else min((t for _, t in calls), default=0.0)
        out["recording"] = cheap * len(calls) / len(steps)
        out["expensive"] = sum(t - cheap for exp, t in calls if exp) / len(steps)
        return out


def _public_run(ds: Any, m: int, steps: int, gamma: float, alpha: float, seed: int, tol: float,
                max_iter: int, dtype: str, device: str, solver: str = "gauss-seidel") -> tuple[float, _Timers, Any]:
    from verify.experiment.gd import RunConfig, run_gd

    cfg = RunConfig(m=m, gamma=gamma, step=alpha, steps=steps, seed=seed, dtype=dtype, device=device,
                    tol=tol, max_iter=max_iter, solver=solver)
    timers = _Timers()
    with tempfile.TemporaryDirectory(prefix="bench-public-") as tmp, timers.active():
        t0 = time.perf_counter()
        res = run_gd(ds, config=cfg, out_dir=f"{tmp}/run", progress=False)
        wall = time.perf_counter() - t0
    if res.status != "max_steps":
        raise RuntimeError(f"bench step --public: the run stopped early ({res.status}: "
                           f"{res.record.get('status_message')})")
    return wall, timers, res


def _torchdeq_public_step(net: ImplicitNetwork, X: torch.Tensor, y: torch.Tensor, X_test: torch.Tensor,
                          y_test: torch.Tensor, alpha: float, tol: float, max_iter: int) -> tuple[Callable[[], None], dict[str, list[float]]]:
    """torchdeq's training loop computing the public run's outputs (see the module docstring)."""
    from torchdeq import get_deq

    from .step import torchdeq_forward, torchdeq_options

    kw = {**torchdeq_options(tol, max_iter), "eval_f_max_iter": max_iter}
    deq = get_deq(**kw)
    deq.train()
    deq_test = get_deq(**kw)
    deq_test.eval()
    params = [net.A, net.W, net.u, net.v]
    z_prev = [torch.zeros(X.shape[0], net.m, dtype=X.dtype, device=X.device)]
    zt_prev = [torch.zeros(X_test.shape[0], net.m, dtype=X.dtype, device=X.device)]
    log: dict[str, list[float]] = {"fwd": [], "test": [], "test_loss": []}

    def step() -> None:
        for p in params:
            p.grad = None
        Z, Phi, info = torchdeq_forward(deq, net, X, z_prev[0])
        loss = 0.5 * torch.sum((Z @ net.u + Phi @ net.v - y) ** 2)
        loss.backward()
        with torch.no_grad():
            # the test loss at θ(k), as the public run records it
            Zt, Phi_t, info_t = torchdeq_forward(deq_test, net, X_test, zt_prev[0])
            log["test_loss"].append(0.5 * float(torch.sum((Zt @ net.u + Phi_t @ net.v - y_test) ** 2)))
            for p in params:
                p.sub_(alpha * p.grad)  # type: ignore[operator]
        z_prev[0], zt_prev[0] = Z.detach(), Zt.detach()
        log["fwd"].append(float(torch.as_tensor(info["nstep"]).float().mean()))
        log["test"].append(float(torch.as_tensor(info_t["nstep"]).float().mean()))

    return step, log


def _mean_call(fn: Callable[[], Any], warmup: int, calls: int, device: torch.device) -> float:
    """Mean wall seconds of ``fn()`` over ``calls`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    _sync(device)
    return (time.perf_counter() - t0) / calls


def bench_public(problem: str, *, margin_steps: int, gamma: float, alpha: float, seed: int, tol: float,
                 max_iter: int, dtype: torch.dtype, device: torch.device, have_deq: bool,
                 bare_factory: Callable[..., Callable[[], None]], warmup: int = 2, repeat: int = 1,
                 solver: str = "gauss-seidel") -> PublicRow:
    """Measure one public-run problem (see the module docstring)."""
    from verify.experiment.config import auto_expensive_every

    m = PUBLIC_SIZES[problem][3]
    ds = _dataset(problem, seed)
    n, n_test, d = ds.n, ds.n_test, ds.d
    E = auto_expensive_every(n, m, d)
    L1 = 2
    L2 = L1 + E * math.ceil(margin_steps / E)
    dts, devs = str(dtype).replace("torch.", ""), str(device)
    # best of ``repeat`` for each length (a shared machine's load only ever adds time)
    t1 = min(_public_run(ds, m, L1, gamma, alpha, seed, tol, max_iter, dts, devs, solver)[0] for _ in range(repeat))
    t2, tm2 = math.inf, _Timers()
    for _ in range(repeat):
        t, tm, _ = _public_run(ds, m, L2, gamma, alpha, seed, tol, max_iter, dts, devs, solver)
        if t < t2:
            t2, tm2 = t, tm
    dL = L2 - L1
    t_step = (t2 - t1) / dL
    got = tm2.margin(L1, L2)  # the long run's steps L1 … L2 − 1: the margin's steps
    k_f, k_a, k_t = got.pop("fwd"), got.pop("adj"), got.pop("test")
    parts = {k: got[k] for k in PUBLIC_PARTS if k != "other"}
    parts["other"] = t_step - sum(parts.values())
    X = torch.tensor(np.asarray(ds.X), dtype=dtype, device=device)
    y = torch.tensor(np.asarray(ds.y), dtype=dtype, device=device)
    Xt = torch.tensor(np.asarray(ds.X_test), dtype=dtype, device=device)
    yt = torch.tensor(np.asarray(ds.y_test), dtype=dtype, device=device)
    kw = dict(dtype=dtype, device=device, tol=tol, max_iter=max_iter, method=solver)
    bare = bare_factory(ImplicitNetwork.init(m, d, gamma, seed, **kw), X, y, alpha)
    t_bare = _mean_call(bare, warmup, dL, device)
    Zn, Zt = torch.rand(n, m, dtype=dtype, device=device), torch.rand(n_test, m, dtype=dtype, device=device)
    At = torch.randn(m, m, dtype=dtype, device=device).T
    cn, ct = int(round(k_f + k_a)) + 2, int(round(k_t))
    t0 = time.perf_counter()
    reps = 3
    for _ in range(reps):
        for _ in range(cn):
            torch.mm(Zn, At)
        for _ in range(ct):
            torch.mm(Zt, At)
    _sync(device)
    t_floor = (time.perf_counter() - t0) / reps
    t_deq = kd_f = kd_t = None
    notes: list[str] = []
    if problem == "mnist":
        notes.append("mnist: unit-norm synthetic inputs of MNIST's shape (d = 784, ±1 labels)")
    if have_deq:
        net = ImplicitNetwork.init(m, d, gamma, seed, **kw)
        step, log = _torchdeq_public_step(net, X, y, Xt, yt, alpha, tol, max_iter)
        t_deq = _mean_call(step, warmup, dL, device)
        kd_f = float(np.mean(log["fwd"][warmup:]))
        kd_t = float(np.mean(log["test"][warmup:]))
    return PublicRow(
        problem=problem, data=ds.name, n=n, n_test=n_test, d=d, m=m, steps_short=L1, steps_long=L2,
        expensive_every=E, t_run_short_s=t1, t_run_long_s=t2, t_public_s=t_step,
        t_setup_s=t1 - L1 * t_step, parts_s=parts, fwd_iterations=k_f, adj_iterations=k_a,
        test_iterations=k_t, t_bare_s=t_bare, t_floor_s=t_floor, t_torchdeq_s=t_deq,
        torchdeq_fwd_iterations=kd_f, torchdeq_test_iterations=kd_t,
        ratio_public_torchdeq=None if t_deq is None else t_step / t_deq,
        ratio_public_bare=t_step / t_bare, ratio_public_floor=t_step / t_floor, notes=tuple(notes))
