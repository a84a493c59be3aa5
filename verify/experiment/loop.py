"""The GD loop as a composition: step pieces, observers, a stop rule, checkpoints.

:class:`GDLoop` holds everything that changes while a run proceeds (θ, the warm starts, the
initial parameters/patterns/Gram, the trace rows, the solver log) and is built either fresh or
from a checkpoint (:meth:`GDLoop.start`). :meth:`GDLoop.run` repeats, for k = start, start+1, …:
SIGINT/SIGTERM? → checkpoint on schedule (every ``checkpoint_every`` steps or
``checkpoint_seconds`` of wall time) → :func:`~verify.experiment.step.solve_state` →
:func:`~verify.experiment.stopping.stop_rule` → :func:`~verify.experiment.observers.observe`
(expensive on the schedule) → :func:`~verify.experiment.step.gd_update`.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from verify.experiment.checkpoint import save_checkpoint
from verify.experiment.config import RunConfig, auto_expensive_every
from verify.experiment.inputs import RunInputs
from verify.experiment.observers import OBSERVABLE_NAMES, observe
from verify.experiment.record import atomic_save_npz, jsonable, to_numpy
from verify.experiment.step import PARAMS, gd_update, new_solver_log, params_finite, solve_state
from verify.experiment.stopping import Sigint, StopRule, signal_name, stop_rule
from verify.model.certified import ContractionTracker
from verify.model.network import ImplicitNetwork

__all__ = ["GDLoop", "Progress"]


class Progress:
    """At most one progress line on stderr per ``every_s`` seconds."""

    def __init__(self, enabled: bool, total: int, every_s: float = 5.0) -> None:
        self.enabled = enabled
        self.total = total
        self.every = every_s
        self.t0 = time.monotonic()
        self.last = self.t0
        self.k0: int | None = None

    def update(self, k: int, loss: float, contraction: float) -> None:
        if not self.enabled:
            return
        if self.k0 is None:
            self.k0 = k
        now = time.monotonic()
        if now - self.last < self.every:
            return
        self.last = now
        rate = (k - self.k0) / max(now - self.t0, 1e-9)
        eta = (self.total - k) / rate if rate > 0 else math.inf
        print(f"[implicit-verify run] step {k}/{self.total}  loss {loss:.4e}  "
              f"γ̃‖A‖ {contraction:.4f}  {rate:.1f} steps/s  ETA {eta:.0f} s",
              file=sys.stderr, flush=True)


@dataclass
class GDLoop:
    """The mutable state of one run and the loop over its steps."""

    config: RunConfig
    inputs: RunInputs
    net: ImplicitNetwork
    out: Path | None
    fingerprint: str
    t_start: float
    tol_eff: float
    X: torch.Tensor
    y: torch.Tensor
    X_test: torch.Tensor | None
    y_test: torch.Tensor | None
    expensive_every: int
    checkpoint_every: int
    P0: dict[str, torch.Tensor]
    start: int = 0
    z_warm: torch.Tensor | None = None
    zt_warm: torch.Tensor | None = None
    D0: torch.Tensor | None = None
    E0: torch.Tensor | None = None
    G0: torch.Tensor | None = None
    H0: torch.Tensor | None = None
    L0: float = math.nan
    rows: dict[str, list[float]] = field(default_factory=lambda: {n: [] for n in OBSERVABLE_NAMES})
    solver_log: dict[str, Any] = field(default_factory=new_solver_log)
    extra: dict[str, Any] = field(default_factory=dict)
    wall_before: float = 0.0
    last_states: dict[str, str] = field(default_factory=dict)
    status: str = "max_steps"
    status_msg: str = ""
    k: int = 0
    #: checkpoint also when this many seconds passed since the last one (config.checkpoint_seconds)
    checkpoint_seconds: float = 60.0
    last_checkpoint: float = field(default_factory=time.monotonic)
    #: the signal that interrupted the run (SIGINT/SIGTERM), else None
    signum: int | None = None
    b_warm: torch.Tensor | None = None
    tracker: ContractionTracker | None = None

    def _tracker_snapshot(self) -> dict[str, Any] | None:
        """The tracker's reference (A at the last SVD, its norm, step, SVD count) or None."""
        t = self.tracker
        if t is None or t._ref is None:
            return None
        return {"A_ref": t._ref, "norm": t._ref_norm, "step": t._ref_step, "refreshes": t.refreshes}

    def _restore_tracker(self, A_ref: np.ndarray, info: dict[str, Any]) -> None:
        t = self.tracker
        assert t is not None
        t._ref = torch.as_tensor(A_ref, dtype=torch.float64).to(self.net.device)
        t._ref_norm = float(info["norm"])
        t._ref_step = int(info["step"])
        t.refreshes = int(info["refreshes"])

    @classmethod
    def start_from(cls, config: RunConfig, inputs: RunInputs, out: Path | None,
                   ckpt: dict[str, np.ndarray] | None, meta: dict[str, Any], fingerprint: str,
                   t_start: float) -> GDLoop:
        """A fresh run (``ckpt is None``: writes ``params_init.npz``) or one resumed at step k."""
        dev, dt = inputs.device, inputs.dtype
        n, d = inputs.X.shape
        tol_eff = max(float(config.tol), 10.0 * float(torch.finfo(dt).eps))
        net = ImplicitNetwork.init(config.m, d, config.gamma, config.seed, device=dev, dtype=dt,
                                   method=config.solver, tol=tol_eff, max_iter=config.max_iter, throw=False)

        def tensor(a: Any) -> torch.Tensor:
            return torch.as_tensor(a).to(device=dev, dtype=dt)

        E_every = config.expensive_every
        if E_every is None:
            E_every = int(meta.get("expensive_every", 0)) or auto_expensive_every(n, config.m, d, config.record_every)
        loop = cls(config, inputs, net, out, fingerprint, t_start, tol_eff,
                   torch.as_tensor(inputs.X, dtype=dt, device=dev), torch.as_tensor(inputs.y, dtype=dt, device=dev),
                   None if inputs.X_test is None else torch.as_tensor(inputs.X_test, dtype=dt, device=dev),
                   None if inputs.y_test is None else torch.as_tensor(inputs.y_test, dtype=dt, device=dev),
                   E_every, config.checkpoint_every or 1000, P0={}, extra=dict(meta.get("extra", {})),
                   checkpoint_seconds=float(config.checkpoint_seconds or 60.0))
        loop.tracker = ContractionTracker(net.gamma_tilde)
        if ckpt is None:
            loop.P0 = net.parameters_dict()
            if out is not None:
                atomic_save_npz(out / "params_init.npz", **{k: to_numpy(v).astype(np.float64) for k, v in loop.P0.items()})
        else:
            loop.P0 = {k: tensor(ckpt[f"{k}0"]) for k in PARAMS}
            net.load_parameters({k: ckpt[k] for k in PARAMS})
            loop.start = int(meta["next_step"])
            loop.z_warm = tensor(ckpt["z0"]) if "z0" in ckpt else None
            loop.zt_warm = tensor(ckpt["zt0"]) if "zt0" in ckpt else None
            loop.b_warm = tensor(ckpt["b0"]) if "b0" in ckpt else None
            if "A_ref" in ckpt and "contraction_ref" in meta:
                loop._restore_tracker(ckpt["A_ref"], meta["contraction_ref"])
            loop.D0, loop.E0 = tensor(ckpt["D0"]), tensor(ckpt["E0"])
            loop.G0 = tensor(ckpt["G0"]) if "G0" in ckpt else None
            loop.H0 = tensor(ckpt["H0"]) if "H0" in ckpt else None
            loop.L0 = float(meta["L0"])
            n_rows = len(ckpt["trace__step"])  # a checkpoint older than an observable: NaN rows
            loop.rows = {name: [float(x) for x in ckpt.get(f"trace__{name}", np.full(n_rows, np.nan))]
                         for name in OBSERVABLE_NAMES}
            loop.solver_log.update(meta.get("solver_log", {}))
            loop.wall_before = float(meta.get("wall_time_s", 0.0))
        return loop

    def checkpoint(self, next_step: int, zw: torch.Tensor | None, ztw: torch.Tensor | None,
                   upto: int, status: str, *, bw: torch.Tensor | None = None,
                   cref: dict[str, Any] | None = None) -> None:
        """θ(next_step), the warm starts and the first ``upto`` trace rows (no-op without a directory).

        ``bw``: the adjoint warm start; ``cref``: the contraction tracker's reference before step
        ``next_step`` (:meth:`_tracker_snapshot`), so that a resume recomputes it bit for bit."""
        if self.out is None:
            return
        arrays: dict[str, np.ndarray] = {k: to_numpy(getattr(self.net, k)) for k in PARAMS}
        arrays.update({f"{k}0": to_numpy(v) for k, v in self.P0.items()})
        if zw is not None:
            arrays["z0"] = to_numpy(zw)
        if ztw is not None:
            arrays["zt0"] = to_numpy(ztw)
        if bw is not None:
            arrays["b0"] = to_numpy(bw)
        if cref is not None:
            arrays["A_ref"] = to_numpy(cref["A_ref"])
        if self.D0 is not None and self.E0 is not None:
            arrays["D0"] = to_numpy(self.D0).astype(np.uint8)
            arrays["E0"] = to_numpy(self.E0).astype(np.uint8)
        if self.G0 is not None:
            arrays["G0"] = to_numpy(self.G0)
        if self.H0 is not None:
            arrays["H0"] = to_numpy(self.H0)
        for name in OBSERVABLE_NAMES:
            arrays[f"trace__{name}"] = np.asarray(self.rows[name][:upto], dtype=np.float64)
        self.last_checkpoint = time.monotonic()
        meta = {"config": self.config.to_dict(), "next_step": next_step, "L0": self.L0,
                "fingerprint": self.fingerprint, "expensive_every": self.expensive_every,
                "solver_log": self.solver_log, "status": status,
                "wall_time_s": self.wall_before + time.monotonic() - self.t_start,
                "extra": jsonable(self.extra)}
        if cref is not None:
            meta["contraction_ref"] = {k: v for k, v in cref.items() if k != "A_ref"}
        save_checkpoint(self.out, arrays, meta)

    def _record(self, k: int, state: Any, stop: str | None, finite: bool) -> None:
        expensive = (k % self.expensive_every == 0) or stop in ("target_reached", "max_steps") or k == 0
        exact = None
        if (stop is not None and finite and self.tracker is not None and state is not None
                and state.fwd.contraction_kind != "exact"):
            # the last step's γ̃‖A‖₂ exact (the run's final value); on every expensive step it
            # would cost about as much as A_move again, for a bound that is already within 2 %
            exact = self.tracker.refresh(self.net.A, k).value
            self.solver_log["contraction_svds"] = self.solver_log.get("contraction_svds", 0) + 1
        lower = self.tracker.lower if self.tracker is not None else None
        row = observe(self.net, state, self.P0, self.D0, self.E0, self.G0, self.X_test, self.y_test,
                      self.zt_warm, k, self.config.step, expensive, finite, self.solver_log,
                      contraction_lower=math.nan if lower is None else lower.value, exact_contraction=exact, H0=self.H0)
        if k == 0 and state is not None and state.ok and self.G0 is None:
            self.G0 = row.pop("_G")
            self.H0 = row.pop("_H")
            row["H_dev"] = 0.0
            self.extra["lambda_max_H0"] = row.pop("_lambda_max_H", math.nan)
            row["G_dev"] = 0.0
        zt_new = row.pop("_Zt", None)
        row.pop("_G", None)
        row.pop("_H", None)
        row.pop("_lambda_max_H", None)
        if zt_new is not None:
            self.zt_warm = zt_new
        for name in OBSERVABLE_NAMES:
            self.rows[name].append(float(row.get(name, math.nan)))

    def advance(self, k: int, stop_rule: StopRule = stop_rule) -> tuple[str | None, Any]:
        """Step k: solves → stop rule → observers (on the schedule) → update unless stopping.

        Returns ``(stop status or None, state)``; on a stop, ``status``/``status_msg`` are set.
        The caller handles SIGINT and checkpoints (:meth:`run`); a benchmark may call this
        directly to time one instrumented step."""
        cfg, rows = self.config, self.rows
        finite = params_finite(self.net)
        state = None
        if finite:
            state, self.last_states = solve_state(self.net, self.X, self.y, self.z_warm, self.solver_log,
                                                  b_warm=self.b_warm, tracker=self.tracker, k=k)
            if rows["step"] and rows["step"][-1] == k - 1 and self.z_warm is not None and state.fwd.converged:
                rows["Z_step"][-1] = float(torch.linalg.vector_norm(state.Z - self.z_warm))
        if k == 0 and state is not None and state.ok:
            self.D0, self.E0 = state.D.clone(), state.E.clone()
            self.L0 = state.loss
        stop, msg = stop_rule(state, k, finite, self.L0, cfg.steps, cfg.target_loss, self.solver_log)
        if stop is not None or k % cfg.record_every == 0:
            self._record(k, state, stop, finite)
        if stop is not None:
            self.status, self.status_msg = stop, msg
            return stop, state
        assert state is not None
        gd_update(self.net, self.X, self.y, state, cfg.step)
        self.z_warm, self.b_warm = state.Z, state.B
        return None, state

    def run(self, progress: bool, stop_rule: StopRule = stop_rule) -> float:
        """Step until ``stop_rule`` or SIGINT/SIGTERM says so; returns the run's wall time (s).

        ``stop_rule`` has the signature of :func:`~verify.experiment.stopping.stop_rule` (a
        sweep may pass its own, e.g. stop at a threshold)."""
        cfg, rows = self.config, self.rows
        prog = Progress(progress, cfg.steps)
        k = self.start
        with Sigint() as sig:
            while True:
                # warm starts and contraction reference before step k (what a checkpoint holds)
                z_top, zt_top, b_top, c_top = self.z_warm, self.zt_warm, self.b_warm, self._tracker_snapshot()
                n_rows_before_k = len(rows["step"])
                if sig.flag:
                    self.signum = sig.signum
                    self.status, self.status_msg = "interrupted", f"{signal_name(sig.signum)} before step {k}"
                    break
                if self.out is not None and k > self.start and (
                        k % self.checkpoint_every == 0
                        or time.monotonic() - self.last_checkpoint >= self.checkpoint_seconds):
                    self.checkpoint(k, z_top, zt_top, n_rows_before_k, "running", bw=b_top, cref=c_top)
                stop, state = self.advance(k, stop_rule)
                if stop is not None:
                    break
                prog.update(k, state.loss, state.fwd.contraction)
                k += 1
        self.k = k
        wall = self.wall_before + time.monotonic() - self.t_start
        # final checkpoint: θ(k), warm start and the rows before step k (step k is recomputed on resume)
        upto = len(rows["step"]) if self.status == "interrupted" else n_rows_before_k
        self.checkpoint(k, z_top, zt_top, upto, self.status, bw=b_top, cref=c_top)
        return wall
