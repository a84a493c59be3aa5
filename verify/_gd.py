r"""Instrumented full-batch gradient descent (and small-step gradient flow) on the G22 network.

One GD step on all of ``θ = (A, W, u, v)`` with a fixed step ``α``:

.. math::  θ(k+1) = θ(k) − α ∇L(θ(k)),\qquad L = ½‖ŷ − y‖²,

with the closed-form gradients of G22 Lemma 2.3 (:func:`verify.implicit_gradients`: one forward
and one adjoint equilibrium solve per step).  The forward solve is warm-started from the
previous step's equilibrium ``Z(k−1)`` (the adjoint starts from 0).  ``mode="gf"`` runs the
same updates and reads them as an Euler discretisation of gradient flow at time ``t = kα``:
the gradient-flow theorem (``bounds.g22_spec("gf")``) is checked instead of the GD one, and the
record says how small the step is (``α·λ_max(H(0))``; the discretisation is faithful when this
is ≪ 1).

Everything is float64 by default (float32 is allowed for speed; the solver tolerance is then
raised to ``10·eps``).  Observables (table :data:`OBSERVABLES`, the names of
docs/CONTRACTS.md) are recorded every ``record_every`` steps; the *expensive* ones (smallest
eigenvalues of G, H, K, ``‖G − G(0)‖₂`` and the operator norms ``‖W‖₂``, ``‖A − A(0)‖₂``,
``‖W − W(0)‖₂``) only every ``expensive_every`` steps, NaN in between, always at step 0 and at
the last step.  ``‖A‖₂`` and the contraction factor ``γ̃‖A‖₂`` are recorded at every recorded
step because the forward solve computes them anyway.

Stop statuses (checked in this order at every step k, before the update):

``diverged``       parameters non-finite;
``solver_failed``  the forward or adjoint solve did not converge (``SolveStatus`` other than
                   ``CONVERGED``; the statuses and messages are in ``record["solver"]``);
``diverged``       loss non-finite or ``> 1e6 ·`` initial loss;
``target_reached`` loss ``≤ target_loss``;
``max_steps``      k = ``steps``;
``interrupted``    SIGINT (Ctrl-C) between two steps (a second Ctrl-C aborts at once).

The trace is kept up to the stopping step in every case.  On ``solver_failed`` the observables
that depend on the (unconverged) equilibrium are NaN at that step.

Checkpoints (``checkpoint.npz``, written atomically every ``checkpoint_every`` steps and at the
end) hold the parameters θ(k), the warm start ``Z(k−1)``, the initial parameters, patterns and
Gram matrix, and the trace *before* step k; ``resume=True`` recomputes step k from them, so a
resumed run performs exactly the same floating-point operations as an uninterrupted one and,
on the CPU, gives bit-identical parameters and traces (GD is deterministic: no RNG after the
initialisation).  A resumed run may change ``steps``, ``target_loss`` and ``checkpoint_every``;
every other configuration field and the data must match.  An auto ``expensive_every`` depends
only on (n, m, d) and ``record_every``, never on ``steps``, so the schedule is the same.

Run directory (docs/CONTRACTS.md): ``record.json``, ``trace.npz`` (one array per observable and
``step``), ``params_init.npz``, ``params_final.npz`` (``A, W, u, v``) and ``checkpoint.npz``
(kept after the run so that it can be continued).
"""

from __future__ import annotations

import hashlib
import json
import math
import signal
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

import bounds
from bounds._errors import invalid

from ._checks import Verdict, check_spec, fit_rates, slack_tol
from ._data import Dataset
from ._equilibrium import SolveStatus, predicted_iterations, solve_forward
from ._gram import gram_blocks, lambda_min
from ._network import SIGMA_PRIME_AT_ZERO, ImplicitNetwork, implicit_gradients
from ._record import (
    RECORD_SCHEMA,
    RUN_FILES,
    atomic_save_npz,
    atomic_write_json,
    check_writable_dir,
    environment,
    jsonable,
    read_json,
    read_npz,
)
from ._validate import check_gamma, resolve_device, resolve_dtype

__all__ = [
    "Observable",
    "OBSERVABLES",
    "OBSERVABLE_NAMES",
    "RunConfig",
    "RunResult",
    "run_gd",
    "load_run",
    "auto_expensive_every",
    "observables_table",
    "STOP_STATUSES",
    "DIVERGENCE_FACTOR",
]

DIVERGENCE_FACTOR = 1e6
STOP_STATUSES = ("target_reached", "max_steps", "diverged", "solver_failed", "interrupted")
_STATUS_TEXT = {
    "target_reached": "the loss reached target_loss",
    "max_steps": "ran all steps",
    "diverged": "diverged",
    "solver_failed": "an equilibrium (forward or adjoint) solve did not converge",
    "interrupted": "interrupted by the user (SIGINT); continue with resume=True / --resume",
}


@dataclass(frozen=True)
class Observable:
    """One trace observable: name (docs/CONTRACTS.md), meaning, and cost class.

    ``cost``: ``"index"`` (step/time), ``"cheap"`` (every recorded step) or ``"expensive"``
    (every ``expensive_every`` steps, NaN in between).
    """

    name: str
    meaning: str
    cost: str


#: The single source of the observable names and their documentation (``--list-observables``).
OBSERVABLES: tuple[Observable, ...] = (
    Observable("step", "GD step k", "index"),
    Observable("time", "t = kα (gradient-flow time)", "index"),
    Observable("loss", "½‖ŷ − y‖² on the training set", "cheap"),
    Observable("residual_sq", "‖ŷ − y‖²", "cheap"),
    Observable("test_loss", "½‖ŷ_test − y_test‖² (NaN without a test set)", "cheap"),
    Observable("A_norm", "‖A‖₂ (operator norm; from the forward solve's contraction factor)", "cheap"),
    Observable("W_norm", "‖W‖₂ (operator norm)", "expensive"),
    Observable("A_norm_scaled", "‖A‖₂/√m", "cheap"),
    Observable("W_norm_scaled", "‖W‖₂/√m", "expensive"),
    Observable("contraction", "γ̃‖A‖₂ = (γ/√m)‖A‖₂, Lipschitz constant of the layer map", "cheap"),
    Observable("u_norm", "‖u‖", "cheap"),
    Observable("v_norm", "‖v‖", "cheap"),
    Observable("u_move", "‖u − u(0)‖", "cheap"),
    Observable("v_move", "‖v − v(0)‖", "cheap"),
    Observable("A_move", "‖A − A(0)‖₂ (operator norm)", "expensive"),
    Observable("W_move", "‖W − W(0)‖₂ (operator norm)", "expensive"),
    Observable("A_move_fro", "‖A − A(0)‖_F", "cheap"),
    Observable("W_move_fro", "‖W − W(0)‖_F", "cheap"),
    Observable("phi_max", "max_i ‖φ_i‖", "cheap"),
    Observable("z_max", "max_i ‖z_i‖", "cheap"),
    Observable("Z_step", "‖Z(k+1) − Z(k)‖_F (NaN at the last recorded step)", "cheap"),
    Observable("lambda_min_G", "λ_min(G), G = ΦΦᵀ", "expensive"),
    Observable("lambda_min_H", "λ_min(H), H the empirical NTK (corrected G22 eq. 14)", "expensive"),
    Observable("lambda_min_K", "λ_min(K), K = ZZᵀ + ΦΦᵀ", "expensive"),
    Observable("G_dev", "‖G − G(0)‖₂", "expensive"),
    Observable("H_dev", "‖H − H(0)‖₂ (does the empirical NTK stay put?)", "expensive"),
    Observable("flip_D", "fraction of entries of D = σ'(γ̃ZAᵀ + Φ) that differ from step 0", "cheap"),
    Observable("flip_E", "fraction of entries of E = σ'(XWᵀ) that differ from step 0", "cheap"),
    Observable("fwd_iters", "forward-solve iterations", "cheap"),
    Observable("fwd_residual", "forward-solve final relative residual", "cheap"),
    Observable("adj_iters", "adjoint-solve iterations", "cheap"),
    Observable("adj_residual", "adjoint-solve final relative residual", "cheap"),
)
OBSERVABLE_NAMES: tuple[str, ...] = tuple(o.name for o in OBSERVABLES)
_EXPENSIVE = tuple(o.name for o in OBSERVABLES if o.cost == "expensive")
# depend on the equilibrium Z (NaN at a step whose solve failed)
_Z_DEPENDENT = ("loss", "residual_sq", "test_loss", "z_max", "Z_step", "flip_D", "lambda_min_H",
                "lambda_min_K", "lambda_min_G", "G_dev", "H_dev")


def observables_table(markdown: bool = False) -> str:
    """The observable table as text (``markdown=True``: a Markdown table)."""
    if markdown:
        lines = ["| name | meaning | recorded |", "|---|---|---|"]
        lines += [f"| `{o.name}` | {o.meaning} | {o.cost} |" for o in OBSERVABLES]
        return "\n".join(lines)
    w = max(len(o.name) for o in OBSERVABLES)
    return "\n".join(f"{o.name:<{w}}  {o.cost:<9}  {o.meaning}" for o in OBSERVABLES)


# ====================================================================== configuration
_SOLVERS = ("picard", "anderson")
_RESUMABLE_CHANGES = ("steps", "target_loss", "checkpoint_every")


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


@dataclass(frozen=True)
class RunConfig:
    """Configuration of one instrumented run (docs/CONTRACTS.md).

    Attributes:
        m: width.
        gamma: fixed scale γ ∈ (0, 1).
        step: step size α > 0.
        steps: number of GD steps (≥ 0; 0 only evaluates the initialisation).
        seed: initialisation seed (:meth:`ImplicitNetwork.init`).
        mode: ``"gd"`` (G22 Thm 3.2 / Lemma 3.6) or ``"gf"`` (Thm 3.1 / Lemma 3.5 at t = kα).
        device: ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"``.
        dtype: ``"float64"`` (default) or ``"float32"``.
        record_every: record observables every this many steps (and at the last step).
        expensive_every: interval of the expensive observables, a multiple of
            ``record_every`` (``None``: :func:`auto_expensive_every`).
        target_loss: stop when the loss is at most this (``None``: never).
        solver, tol, max_iter: equilibrium solver settings.
        delta: failure probability δ of the theorems (symbol ``delta``; tail-bound ``c``).
        c_source: ``"measured"`` (c = max(‖A(0)‖, ‖W(0)‖)/√m) or ``"tail"`` (explicit Gaussian
            tail bound at δ) for the symbol ``c`` in the bounds.
        checkpoint_every: checkpoint interval in steps (``None``: every 1000 steps, and always
            at the end). Only with an output directory.
        hidden: overrides of the theorem's hidden constants (default 1 each).
    """

    m: int
    gamma: float
    step: float
    steps: int
    seed: int = 0
    mode: str = "gd"
    device: str = "cpu"
    dtype: str = "float64"
    record_every: int = 1
    expensive_every: int | None = None
    target_loss: float | None = None
    solver: str = "picard"
    tol: float = 1e-12
    max_iter: int = 500
    delta: float = 0.01
    c_source: str = "measured"
    checkpoint_every: int | None = None
    hidden: Mapping[str, float] | None = None

    def __post_init__(self) -> None:
        if not _is_int(self.m) or self.m < 1:
            raise invalid("m", self.m, "the width must be an integer ≥ 1", "pass e.g. m=256")
        check_gamma(self.gamma)
        try:
            a = float(self.step)
        except (TypeError, ValueError):
            raise invalid("step", self.step, "the step size must be a number", "pass e.g. step=0.01") from None
        if not (math.isfinite(a) and a > 0):
            raise invalid("step", self.step, "the step size α must be positive and finite",
                          "pass e.g. step=0.01")
        if not _is_int(self.steps) or self.steps < 0:
            raise invalid("steps", self.steps, "must be an integer ≥ 0", "pass e.g. steps=500")
        if not _is_int(self.seed) or self.seed < 0:
            raise invalid("seed", self.seed, "must be an integer ≥ 0", "pass e.g. seed=0")
        if self.mode not in ("gd", "gf"):
            raise invalid("mode", self.mode, "unknown mode", "use 'gd' or 'gf'")
        if not isinstance(self.device, (str, torch.device)):
            raise invalid("device", self.device, "expected a device name", "use 'cpu', 'cuda' or 'auto'")
        if self.dtype not in ("float64", "float32"):
            raise invalid("dtype", self.dtype, "unsupported dtype", "use 'float64' or 'float32'")
        if not _is_int(self.record_every) or self.record_every < 1:
            raise invalid("record_every", self.record_every, "must be an integer ≥ 1", "pass e.g. 1")
        if self.expensive_every is not None:
            if not _is_int(self.expensive_every) or self.expensive_every < 1:
                raise invalid("expensive_every", self.expensive_every, "must be an integer ≥ 1 or None",
                              "pass e.g. 10, or None for the automatic choice")
            if self.expensive_every % self.record_every:
                raise invalid("expensive_every", self.expensive_every,
                              f"must be a multiple of record_every={self.record_every}",
                              f"use e.g. {self.record_every * max(1, self.expensive_every // self.record_every)}")
        if self.target_loss is not None:
            tl = self.target_loss
            if isinstance(tl, bool) or not isinstance(tl, (int, float)) or not math.isfinite(tl) or tl < 0:
                raise invalid("target_loss", tl, "must be a finite number ≥ 0 or None", "pass e.g. 1e-6")
        if self.solver not in _SOLVERS:
            raise invalid("solver", self.solver, f"unknown solver; choose one of {_SOLVERS}", "use 'picard'")
        if not (isinstance(self.tol, (int, float)) and math.isfinite(self.tol) and 0 < self.tol < 1):
            raise invalid("tol", self.tol, "must be in (0, 1)", "use e.g. 1e-12")
        if not _is_int(self.max_iter) or self.max_iter < 1:
            raise invalid("max_iter", self.max_iter, "must be an integer ≥ 1", "use e.g. 500")
        if not (isinstance(self.delta, (int, float)) and 0 < self.delta < 1):
            raise invalid("delta", self.delta, "must be a probability in (0, 1)", "use e.g. 0.01")
        if self.c_source not in ("measured", "tail"):
            raise invalid("c_source", self.c_source, "unknown source of c", "use 'measured' or 'tail'")
        if self.checkpoint_every is not None and (not _is_int(self.checkpoint_every) or self.checkpoint_every < 1):
            raise invalid("checkpoint_every", self.checkpoint_every, "must be an integer ≥ 1 or None",
                          "pass e.g. 1000")
        if self.hidden is not None:
            if not isinstance(self.hidden, Mapping):
                raise invalid("hidden", self.hidden, "must be a mapping name → value",
                              "pass e.g. {'C_width': 10.0}")
            known = set(bounds.HIDDEN_CONSTANTS)
            for k, v in self.hidden.items():
                if k not in known:
                    raise invalid("hidden", k, f"unknown hidden constant (known: {sorted(known)})",
                                  "check the spelling")
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not (math.isfinite(v) and v > 0):
                    raise invalid(f"hidden[{k!r}]", v, "must be a positive number", "pass e.g. 1.0")
            object.__setattr__(self, "hidden", {str(k): float(v) for k, v in self.hidden.items()})
        object.__setattr__(self, "gamma", float(self.gamma))
        object.__setattr__(self, "step", float(self.step))
        object.__setattr__(self, "device", str(self.device))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hidden"] = dict(self.hidden) if self.hidden else {}
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RunConfig:
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        if not kw.get("hidden"):
            kw["hidden"] = None
        return cls(**kw)

    def replace(self, **changes: Any) -> RunConfig:
        return RunConfig.from_dict({**self.to_dict(), **changes})


def auto_expensive_every(n: int, m: int, d: int, record_every: int = 1) -> int:
    """Interval of the expensive observables so that they cost about 10 % of the GD steps.

    Flop model (independent of ``steps``, so a resumed run keeps the schedule):
    expensive ≈ 20m³ (two m×m SVDs) + 8n²m (Gram factors) + 40n³ (four n×n eigensolves) + 10md²;
    step ≈ 2·(2 solves)·(≈20 iterations)·n·m² + 20m³ (the solver's contraction SVDs).  The result is
    rounded up to a multiple of ``record_every``.
    """
    exp_cost = 20.0 * m**3 + 8.0 * n * n * m + 40.0 * n**3 + 10.0 * m * d * d
    step_cost = 80.0 * n * m * m + 20.0 * m**3
    e = max(1, math.ceil(10.0 * exp_cost / step_cost))
    return int(record_every * math.ceil(e / record_every))


# ====================================================================== results
@dataclass(frozen=True)
class RunResult:
    """Result of :func:`run_gd` / :func:`load_run`.

    Attributes:
        record: the ``record.json`` dict (schema ``implicit-verify/run/1``).
        trace: observable name → 1-D float64 array over the recorded steps (``step`` holds the
            step indices).
        status: one of :data:`STOP_STATUSES`.
        verdicts: the :class:`~verify.Verdict` objects of ``record["verdicts"]``.
        out_dir: run directory or ``None``.
        params_init, params_final: ``A, W, u, v`` as float64 NumPy arrays.
    """

    record: dict[str, Any]
    trace: dict[str, np.ndarray]
    status: str
    verdicts: tuple[Verdict, ...]
    out_dir: Path | None = None
    params_init: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    params_final: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def rates(self) -> dict[str, Any]:
        return dict(self.record.get("rates") or {})

    def verdict(self, name: str) -> Verdict:
        for v in self.verdicts:
            if v.name == name:
                return v
        raise invalid("name", name, "no verdict of that name",
                      f"use one of {[v.name for v in self.verdicts]}")


def load_run(run_dir: str | Path) -> RunResult:
    """Read a finished run directory (no re-run)."""
    p = Path(run_dir)
    if not (p / "record.json").is_file():
        raise invalid("run_dir", str(run_dir), "has no record.json", "pass a directory written by run_gd")
    record = read_json(p / "record.json")
    trace = {k: np.asarray(v, dtype=np.float64) for k, v in read_npz(p / "trace.npz").items()} \
        if (p / "trace.npz").is_file() else {}
    pinit = read_npz(p / "params_init.npz") if (p / "params_init.npz").is_file() else {}
    pfin = read_npz(p / "params_final.npz") if (p / "params_final.npz").is_file() else {}
    verdicts = tuple(Verdict.from_dict(v) for v in record.get("verdicts") or [])
    return RunResult(record, trace, record.get("status", ""), verdicts, p, pinit, pfin)


# ====================================================================== helpers
def _fingerprint(*arrays: np.ndarray | None) -> str:
    h = hashlib.sha256()
    for a in arrays:
        if a is None:
            h.update(b"none")
        else:
            a = np.ascontiguousarray(a, dtype=np.float64)
            h.update(str(a.shape).encode())
            h.update(a.tobytes())
    return h.hexdigest()


def _round_up_sq(value: float, target_sq: float) -> float:
    """Smallest float ≥ value with value² ≥ target_sq (so a bound e0² is never below ‖e0‖²
    by rounding)."""
    while value * value < target_sq:
        value = float(np.nextafter(value, math.inf))
    return value


def _round_up_prod(value: float, factor: float, target: float) -> float:
    while value * factor < target:
        value = float(np.nextafter(value, math.inf))
    return value


def _opnorm(M: torch.Tensor) -> float:
    return float(torch.linalg.matrix_norm(M.to(torch.float64), ord=2))


def _sym_opnorm(M: torch.Tensor) -> float:
    S = M.to(torch.float64)
    S = 0.5 * (S + S.T)
    return float(torch.linalg.eigvalsh(S).abs().max())


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


class _Sigint:
    """Turns the first SIGINT into a flag checked between steps (main thread only)."""

    def __init__(self) -> None:
        self.flag = False
        self._old: Any = None
        self._active = False

    def __enter__(self) -> _Sigint:
        if threading.current_thread() is threading.main_thread():
            try:
                self._old = signal.signal(signal.SIGINT, self._handle)
                self._active = True
            except ValueError:  # pragma: no cover
                self._active = False
        return self

    def _handle(self, signum: int, frame: Any) -> None:  # pragma: no cover - interactive
        self.flag = True
        signal.signal(signal.SIGINT, self._old if self._old is not None else signal.default_int_handler)

    def __exit__(self, *exc: Any) -> None:
        if self._active:
            signal.signal(signal.SIGINT, self._old if self._old is not None else signal.default_int_handler)


class _Progress:
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


# ====================================================================== main entry
def run_gd(
    X: Any,
    y: Any = None,
    config: RunConfig | None = None,
    *,
    X_test: Any = None,
    y_test: Any = None,
    data_name: str | None = None,
    out_dir: str | Path | None = None,
    resume: bool = False,
    force: bool = False,
    progress: bool = True,
    spec: Any = None,
    command: str | None = None,
) -> RunResult:
    """Run instrumented GD (or small-step GF), check the theorem, write the run directory.

    Args:
        X: (n, d) training inputs, or a :class:`~verify.Dataset` (then ``y`` and the test set
            come from it and must not be passed).
        y: (n,) labels.
        config: :class:`RunConfig`.
        X_test, y_test: optional test set (``test_loss``).
        data_name: name of the data in the record (default ``"data"``).
        out_dir: run directory (``None``: nothing is written).
        resume: continue from ``out_dir/checkpoint.npz`` (a fresh run when the directory has
            neither checkpoint nor record).
        force: overwrite an existing run in ``out_dir``.
        progress: progress lines on stderr (at most one per 5 s).
        spec: theorem spec (default ``bounds.g22_spec(config.mode)``).
        command: the command line to record (the CLI passes it).

    All input errors raise :class:`~bounds.InvalidArgument` before any computation.
    """
    t_start = time.monotonic()
    # ------------------------------------------------------------------ validation
    dataset: Dataset | None = None
    if isinstance(X, Dataset):
        if y is not None or X_test is not None or y_test is not None:
            raise invalid("y", "given with a Dataset", "a Dataset carries its own labels and test set",
                          "pass run_gd(dataset, config=...)")
        dataset = X
        X, y, X_test, y_test = dataset.X, dataset.y, dataset.X_test, dataset.y_test
    if config is None or not isinstance(config, RunConfig):
        raise invalid("config", config, "expected a RunConfig", "pass config=RunConfig(m=..., gamma=..., step=..., steps=...)")
    if y is None:
        raise invalid("y", None, "labels are required", "pass one label per row of X")
    Xn = bounds.validate_X(X, "X")
    yn = bounds.validate_y(y, Xn.shape[0], "y")
    if (X_test is None) != (y_test is None):
        raise invalid("X_test", "given without y_test" if y_test is None else None,
                      "a test set needs both inputs and labels", "pass both X_test and y_test")
    Xt_n = yt_n = None
    if X_test is not None:
        Xt_n = bounds.validate_X(X_test, "X_test")
        if Xt_n.shape[1] != Xn.shape[1]:
            raise invalid("X_test", f"<array shape {Xt_n.shape}>", f"has {Xt_n.shape[1]} features, "
                          f"X has {Xn.shape[1]}", "use the same features")
        yt_n = bounds.validate_y(y_test, Xt_n.shape[0], "y_test")
    device = resolve_device(config.device)
    dtype = resolve_dtype(config.dtype)
    spec = bounds.g22_spec(config.mode) if spec is None else spec
    if not isinstance(spec, bounds.TheoremSpec):
        raise invalid("spec", type(spec).__name__, "expected a bounds.TheoremSpec", "pass bounds.g22_spec(mode)")
    out = None if out_dir is None else Path(out_dir)
    ckpt: dict[str, np.ndarray] | None = None
    if out is None and resume:
        raise invalid("resume", True, "resuming needs the run directory", "pass out_dir")
    if out is not None:
        existing = [f for f in RUN_FILES if (out / f).exists()]
        if existing and resume:
            if not (out / "checkpoint.npz").is_file():
                raise invalid("out_dir", str(out), "has a run but no checkpoint.npz to resume from",
                              "use force=True (--force) to start over")
            ckpt = read_npz(out / "checkpoint.npz")
        elif existing and not force:
            raise invalid("out_dir", str(out), f"already holds a run ({', '.join(existing)})",
                          "pass force=True (--force) to overwrite or resume=True (--resume) to continue")
        check_writable_dir(out, "out_dir")
    n, d = Xn.shape
    fingerprint = _fingerprint(Xn, yn, Xt_n, yt_n)
    meta: dict[str, Any] = {}
    if ckpt is not None:
        meta = json.loads(str(ckpt["meta"]))
        old = RunConfig.from_dict(meta["config"])
        diffs = [f.name for f in fields(RunConfig)
                 if f.name not in _RESUMABLE_CHANGES and getattr(old, f.name) != getattr(config, f.name)]
        if diffs:
            raise invalid("config", {k: getattr(config, k) for k in diffs},
                          f"differs from the checkpoint's ({', '.join(f'{k}={getattr(old, k)!r}' for k in diffs)}); "
                          f"only {', '.join(_RESUMABLE_CHANGES)} may change on resume",
                          "resume with the original settings or start a new run directory")
        if meta["fingerprint"] != fingerprint:
            raise invalid("X", "data differing from the checkpoint's", "a run can only be resumed on the same data",
                          "pass the same X, y (and test set) as the original run")
        if meta["next_step"] > config.steps:
            raise invalid("steps", config.steps, f"the checkpoint is already at step {meta['next_step']}",
                          f"pass steps ≥ {meta['next_step']}")
    if out is not None and force and ckpt is None:
        for f in RUN_FILES:
            try:
                (out / f).unlink()
            except FileNotFoundError:
                pass

    # ------------------------------------------------------------------ setup
    alpha = config.step
    eps = float(torch.finfo(dtype).eps)
    tol_eff = max(float(config.tol), 10.0 * eps)
    tol_cmp = slack_tol(config.dtype)
    net = ImplicitNetwork.init(config.m, d, config.gamma, config.seed, device=device, dtype=dtype,
                               method=config.solver, tol=tol_eff, max_iter=config.max_iter, throw=False)
    Xt = torch.as_tensor(Xn, dtype=dtype, device=device)
    yt = torch.as_tensor(yn, dtype=dtype, device=device)
    Xtest = None if Xt_n is None else torch.as_tensor(Xt_n, dtype=dtype, device=device)
    ytest = None if yt_n is None else torch.as_tensor(yt_n, dtype=dtype, device=device)
    E_every = config.expensive_every
    if E_every is None:
        E_every = int(meta.get("expensive_every", 0)) or auto_expensive_every(n, config.m, d, config.record_every)
    ck_every = config.checkpoint_every or 1000
    rows: dict[str, list[float]] = {name: [] for name in OBSERVABLE_NAMES}
    solver_log: dict[str, Any] = {"forward_failures": 0, "adjoint_failures": 0, "test_failures": 0,
                                  "fwd_iters_total": 0, "adj_iters_total": 0, "max_fwd_iters": 0,
                                  "max_adj_iters": 0}
    wall_before = 0.0
    if ckpt is None:
        P0 = net.parameters_dict()
        start = 0
        z_warm: torch.Tensor | None = None
        zt_warm: torch.Tensor | None = None
        D0 = E0 = G0 = H0 = None
        L0 = math.nan
    else:
        P0 = {k: torch.as_tensor(ckpt[f"{k}0"]).to(device=device, dtype=dtype) for k in ("A", "W", "u", "v")}
        net.load_parameters({k: ckpt[k] for k in ("A", "W", "u", "v")})
        start = int(meta["next_step"])
        z_warm = torch.as_tensor(ckpt["z0"]).to(device=device, dtype=dtype) if "z0" in ckpt else None
        zt_warm = torch.as_tensor(ckpt["zt0"]).to(device=device, dtype=dtype) if "zt0" in ckpt else None
        D0 = torch.as_tensor(ckpt["D0"]).to(device=device, dtype=dtype)
        E0 = torch.as_tensor(ckpt["E0"]).to(device=device, dtype=dtype)
        G0 = torch.as_tensor(ckpt["G0"]).to(device=device, dtype=dtype) if "G0" in ckpt else None
        H0 = torch.as_tensor(ckpt["H0"]).to(device=device, dtype=dtype) if "H0" in ckpt else None
        L0 = float(meta["L0"])
        for name in OBSERVABLE_NAMES:  # (a checkpoint older than an observable: NaN)
            old_rows = ckpt.get(f"trace__{name}", np.full(len(ckpt["trace__step"]), np.nan))
            rows[name] = [float(x) for x in old_rows]
        solver_log.update(meta.get("solver_log", {}))
        wall_before = float(meta.get("wall_time_s", 0.0))
    if out is not None and ckpt is None:
        atomic_save_npz(out / "params_init.npz", **{k: _np(v).astype(np.float64) for k, v in P0.items()})

    data_record = dataset.record() if dataset is not None else {
        "name": data_name or "data", "source": "array passed to run_gd", "n": n, "d": d,
        "n_test": 0 if Xt_n is None else int(Xt_n.shape[0]), "seed": None,
        "unit_norm_normalised": False, "perturbed_pairs": [], "notes": []}
    if data_name is not None:
        data_record["name"] = data_name
    extra: dict[str, Any] = dict(meta.get("extra", {}))

    def checkpoint(next_step: int, zw: torch.Tensor | None, ztw: torch.Tensor | None,
                   upto: int, status: str) -> None:
        if out is None:
            return
        arrays: dict[str, np.ndarray] = {k: _np(getattr(net, k)) for k in ("A", "W", "u", "v")}
        arrays.update({f"{k}0": _np(v) for k, v in P0.items()})
        if zw is not None:
            arrays["z0"] = _np(zw)
        if ztw is not None:
            arrays["zt0"] = _np(ztw)
        if D0 is not None and E0 is not None:
            arrays["D0"] = _np(D0).astype(np.uint8)
            arrays["E0"] = _np(E0).astype(np.uint8)
        if G0 is not None:
            arrays["G0"] = _np(G0)
        if H0 is not None:
            arrays["H0"] = _np(H0)
        for name in OBSERVABLE_NAMES:
            arrays[f"trace__{name}"] = np.asarray(rows[name][:upto], dtype=np.float64)
        m_ = {"config": config.to_dict(), "next_step": next_step, "L0": L0, "fingerprint": fingerprint,
              "expensive_every": E_every, "solver_log": solver_log, "status": status,
              "wall_time_s": wall_before + time.monotonic() - t_start, "extra": jsonable(extra)}
        arrays["meta"] = np.array(json.dumps(jsonable(m_)))
        atomic_save_npz(out / "checkpoint.npz", **arrays)

    # ------------------------------------------------------------------ loop
    status = "max_steps"
    status_msg = ""
    last_states: dict[str, str] = {}
    prog = _Progress(progress, config.steps)
    k = start
    n_rows_before_k = len(rows["step"])
    with _Sigint() as sig:
        while True:
            z_top, zt_top = z_warm, zt_warm
            n_rows_before_k = len(rows["step"])
            if sig.flag:
                status, status_msg = "interrupted", f"interrupted before step {k}"
                break
            if out is not None and k > start and k % ck_every == 0:
                checkpoint(k, z_top, zt_top, n_rows_before_k, "running")
            params_finite = all(bool(torch.isfinite(getattr(net, p)).all()) for p in ("A", "W", "u", "v"))
            state = net.state(Xt, yt, z0=z_warm) if params_finite else None
            if state is not None:
                solver_log["fwd_iters_total"] += state.fwd.iterations
                solver_log["adj_iters_total"] += state.adj.iterations
                solver_log["max_fwd_iters"] = max(solver_log["max_fwd_iters"], state.fwd.iterations)
                solver_log["max_adj_iters"] = max(solver_log["max_adj_iters"], state.adj.iterations)
                last_states = {"forward": state.fwd.status.name, "adjoint": state.adj.status.name,
                               "forward_message": state.fwd.message(), "adjoint_message": state.adj.message()}
                if rows["step"] and rows["step"][-1] == k - 1 and z_warm is not None and state.fwd.converged:
                    rows["Z_step"][-1] = float(torch.linalg.vector_norm(state.Z - z_warm))
            if k == 0 and state is not None and state.ok:
                D0, E0 = state.D.clone(), state.E.clone()
                L0 = state.loss
            # ---- stop checks
            stop = None
            if not params_finite:
                stop, status_msg = "diverged", f"non-finite parameters at step {k}"
            else:
                assert state is not None
                if not state.ok:
                    stop = "solver_failed"
                    bad = state.fwd if not state.fwd.converged else state.adj
                    status_msg = f"step {k}: {bad.message()}"
                    if not state.fwd.converged:
                        solver_log["forward_failures"] += 1
                    else:
                        solver_log["adjoint_failures"] += 1
                elif not math.isfinite(state.loss) or (k > 0 and state.loss > DIVERGENCE_FACTOR * max(L0, 1e-300)):
                    stop = "diverged"
                    status_msg = (f"loss {state.loss:.4e} at step {k} exceeds {DIVERGENCE_FACTOR:g} × the "
                                  f"initial loss {L0:.4e}") if math.isfinite(state.loss) else f"non-finite loss at step {k}"
                elif config.target_loss is not None and state.loss <= config.target_loss:
                    stop, status_msg = "target_reached", f"loss {state.loss:.4e} ≤ target {config.target_loss:g} at step {k}"
                elif k >= config.steps:
                    stop, status_msg = "max_steps", f"ran all {config.steps} steps"
            # ---- record
            if stop is not None or k % config.record_every == 0:
                expensive = (k % E_every == 0) or stop in ("target_reached", "max_steps") or k == 0
                row = _observe(net, state, P0, D0, E0, G0, Xtest, ytest, zt_warm, k, alpha,
                               expensive, params_finite, solver_log, H0=H0)
                if k == 0 and state is not None and state.ok and G0 is None:
                    G0 = row.pop("_G")
                    H0 = row.pop("_H")
                    row["H_dev"] = 0.0
                    extra["lambda_max_H0"] = row.pop("_lambda_max_H", math.nan)
                    row["G_dev"] = 0.0
                zt_new = row.pop("_Zt", None)
                row.pop("_G", None)
                row.pop("_H", None)
                row.pop("_lambda_max_H", None)
                if zt_new is not None:
                    zt_warm = zt_new
                for name in OBSERVABLE_NAMES:
                    rows[name].append(float(row.get(name, math.nan)))
            if stop is not None:
                status = stop
                break
            assert state is not None
            prog.update(k, state.loss, state.fwd.contraction)
            # ---- GD step
            grads = implicit_gradients(net, Xt, yt, state)
            with torch.no_grad():
                for p in ("A", "W", "u", "v"):
                    getattr(net, p).add_(grads[p], alpha=-alpha)
            z_warm = state.Z
            k += 1
    steps_done = k
    wall = wall_before + time.monotonic() - t_start
    # final checkpoint: θ(k), warm start and the rows before step k (step k is recomputed on resume)
    if status == "interrupted":
        checkpoint(k, z_top, zt_top, len(rows["step"]), status)
    else:
        checkpoint(k, z_top, zt_top, n_rows_before_k, status)

    # ------------------------------------------------------------------ verdicts & record
    trace = {name: np.asarray(rows[name], dtype=np.float64) for name in OBSERVABLE_NAMES}
    P0n = {k_: _np(v).astype(np.float64) for k_, v in P0.items()}
    Pf = {k_: _np(getattr(net, k_)).astype(np.float64) for k_ in ("A", "W", "u", "v")}
    audit = bounds.audit_data(Xn)
    lam0 = float(bounds.lambda0(Xn))
    X_norm = float(np.linalg.norm(Xn, 2))
    r0 = trace["residual_sq"][0] if trace["residual_sq"].size and trace["step"][0] == 0 else math.nan
    e0_norm = _round_up_sq(math.sqrt(r0), r0) if math.isfinite(r0) else math.nan
    sq = math.sqrt(config.m)
    c_measured = float(bounds.norm_constant_measured(P0n["A"], P0n["W"]))
    c_tail = float(bounds.norm_constant_tail(config.m, d, config.delta))
    # c is the smallest constant with ‖A(0)‖, ‖W(0)‖ ≤ c√m; round up so that this holds in
    # floating point for the norms in the trace too.
    norms0 = [x for x in (trace["A_norm"][:1].tolist() + trace["W_norm"][:1].tolist()) if math.isfinite(x)]
    c_meas_fp = c_measured
    for x in norms0:
        c_meas_fp = _round_up_prod(c_meas_fp, sq, x)
    c = c_meas_fp if config.c_source == "measured" else c_tail
    symbols = {"n": n, "d": d, "m": config.m, "gamma": config.gamma, "alpha": alpha,
               "delta": config.delta, "lambda0": lam0, "c": c, "c_source": config.c_source,
               "c_tail": c_tail, "c_measured": c_measured, "X_norm": X_norm, "e0_norm": e0_norm}
    hidden = {**dict(spec.hidden), **dict(config.hidden or {})}
    verdicts = check_spec(spec, trace, symbols, mode=config.mode, audit=audit, params_init=P0n,
                          hidden=hidden, tol=tol_cmp)
    rates = fit_rates(trace, alpha, lam0, mode=config.mode)
    symvals = {k_: v for k_, v in symbols.items() if k_ != "c_source" and k_ not in ("c_tail", "c_measured")}
    bounds_rec = []
    for b in spec.bounds:
        try:
            val = b.evaluate(**{**symvals, **hidden}, k=float(steps_done), t=float(steps_done) * alpha)
        except bounds.InvalidArgument:
            val = None
        bounds_rec.append({"name": b.name, "label": b.label, "latex": b.latex(), "expr": str(b.expr),
                           "value": val, "provenance": b.provenance.value, "hidden": list(b.hidden),
                           "description": b.description,
                           "value_at": ("final step" if {"k", "t"} & set(b.free_symbols) else None)})
    lam_max_H0 = extra.get("lambda_max_H0", math.nan)
    step_check = {"alpha_lambda_max_H0": alpha * lam_max_H0 if lam_max_H0 is not None else None,
                  "lambda_max_H0": lam_max_H0,
                  "gd_stable_quadratic": (alpha * lam_max_H0 < 2.0) if lam_max_H0 is not None and math.isfinite(lam_max_H0) else None,
                  "note": ("GD on the linearised dynamics e ← (I − αH)e is stable iff αλ_max(H) < 2; "
                           "the GF reading of the same updates is faithful when αλ_max(H) ≪ 1")}
    if config.mode == "gf" and lam_max_H0 is not None and math.isfinite(lam_max_H0) and alpha * lam_max_H0 > 0.1:
        step_check["warning"] = (f"mode='gf' with α·λ_max(H(0)) = {alpha * lam_max_H0:.3g} > 0.1: the steps "
                                 "are not small, so the run is GD rather than a discretised gradient flow")
    solver_rec = {**solver_log, "last": last_states, "method": config.solver, "tol": tol_eff,
                  "max_iter": config.max_iter, "sigma_prime_at_zero": SIGMA_PRIME_AT_ZERO,
                  "contraction_init": float(trace["contraction"][0]) if trace["contraction"].size else None,
                  "predicted_iterations_init": (predicted_iterations(float(trace["contraction"][0]), tol_eff)
                                                if trace["contraction"].size and math.isfinite(trace["contraction"][0]) else None)}
    record = {
        "schema": RECORD_SCHEMA,
        "config": config.to_dict(),
        "data": data_record,
        "environment": environment(device),
        "command": command,
        "status": status,
        "status_message": f"{_STATUS_TEXT[status]}: {status_msg}" if status_msg else _STATUS_TEXT[status],
        "steps_done": steps_done,
        "wall_time_s": wall,
        "theorem": {"key": spec.key, "title": spec.title, "paper": spec.paper,
                    "label": spec.title.split(":")[0]},
        "symbols": symbols,
        "hidden_constants": hidden,
        "audit": audit.to_dict(),
        "bounds": bounds_rec,
        "verdicts": [v.to_dict() for v in verdicts],
        "rates": rates,
        "known_issues": _known_issues(spec, verdicts, symbols, trace),
        "schedule": {"record_every": config.record_every, "expensive_every": E_every,
                     "expensive_every_auto": config.expensive_every is None,
                     "checkpoint_every": ck_every, "recorded_steps": int(trace["step"].size),
                     "resumed_from": start if ckpt is not None else None,
                     "slack_tol": tol_cmp, "initial_loss": L0},
        "solver": solver_rec,
        "step_check": step_check,
    }
    record = jsonable(record)
    if out is not None:
        atomic_save_npz(out / "trace.npz", **trace)
        atomic_save_npz(out / "params_final.npz", **Pf)
        atomic_write_json(out / "record.json", record)
    return RunResult(record, trace, status, verdicts, out, P0n, Pf)


def _observe(net, state, P0, D0, E0, G0, Xtest, ytest, zt_warm, k, alpha, expensive,
             params_finite, solver_log, H0=None) -> dict[str, Any]:
    """Observables at step k (see :data:`OBSERVABLES`)."""
    row: dict[str, Any] = {"step": float(k), "time": float(k) * alpha}
    if not params_finite:
        return row
    m = net.m
    sq = math.sqrt(m)
    with torch.no_grad():
        A, W, u, v = (getattr(net, p).detach() for p in ("A", "W", "u", "v"))
        contraction = float(state.fwd.contraction)
        row["contraction"] = contraction
        row["A_norm"] = contraction / net.gamma_tilde
        row["A_norm_scaled"] = row["A_norm"] / sq
        row["u_norm"] = float(torch.linalg.vector_norm(u))
        row["v_norm"] = float(torch.linalg.vector_norm(v))
        row["u_move"] = float(torch.linalg.vector_norm(u - P0["u"]))
        row["v_move"] = float(torch.linalg.vector_norm(v - P0["v"]))
        row["A_move_fro"] = float(torch.linalg.vector_norm(A - P0["A"]))
        row["W_move_fro"] = float(torch.linalg.vector_norm(W - P0["W"]))
        row["phi_max"] = float(torch.linalg.vector_norm(state.Phi, dim=1).max())
        row["fwd_iters"] = float(state.fwd.iterations)
        row["fwd_residual"] = float(state.fwd.residual)
        row["adj_iters"] = float(state.adj.iterations)
        row["adj_residual"] = float(state.adj.residual)
        if E0 is not None:
            row["flip_E"] = float((state.E != E0).to(torch.float64).mean())
        if expensive:
            row["W_norm"] = _opnorm(W)
            row["W_norm_scaled"] = row["W_norm"] / sq
            row["A_move"] = _opnorm(A - P0["A"])
            row["W_move"] = _opnorm(W - P0["W"])
        if not state.fwd.converged:
            return row
        row["loss"] = state.loss
        row["residual_sq"] = 2.0 * state.loss
        row["z_max"] = float(torch.linalg.vector_norm(state.Z, dim=1).max())
        if D0 is not None:
            row["flip_D"] = float((state.D != D0).to(torch.float64).mean())
        elif k == 0:
            row["flip_D"] = 0.0
            row["flip_E"] = 0.0
        if Xtest is not None:
            Phi_t = net.features(Xtest).detach()
            opts = dict(net.solver_opts["forward"])
            opts["throw"] = False
            res = solve_forward(A, Phi_t, net.gamma_tilde, z0=zt_warm, **opts)
            if res.status is SolveStatus.CONVERGED:
                et = res.value @ u + Phi_t @ v - ytest
                row["test_loss"] = 0.5 * float(torch.sum(et * et))
                row["_Zt"] = res.value
            else:
                solver_log["test_failures"] += 1
        if expensive and state.ok:
            gb = gram_blocks(net, state)
            row["lambda_min_G"] = lambda_min(gb.G)
            row["lambda_min_H"] = lambda_min(gb.H)
            row["lambda_min_K"] = lambda_min(gb.K)
            if G0 is not None:
                row["G_dev"] = _sym_opnorm(gb.G - G0)
            if H0 is not None:
                row["H_dev"] = _sym_opnorm(gb.H - H0)
            elif k == 0:
                row["_G"] = gb.G.clone()
                row["_H"] = gb.H.clone()
                Hs = gb.H.to(torch.float64)
                row["_lambda_max_H"] = float(torch.linalg.eigvalsh(0.5 * (Hs + Hs.T))[-1])
    return row


def _known_issues(spec: Any, verdicts: tuple[Verdict, ...], symbols: Mapping[str, Any],
                  trace: Mapping[str, np.ndarray]) -> list[dict[str, Any]]:
    """``record["known_issues"]``: the spec's known issues with the numbers of this run."""
    by_name = {v.name: v for v in verdicts}
    out = []
    m = symbols["m"]
    for i, text in enumerate(spec.known_issues, start=1):
        head = text.split(".", 1)[0].strip()
        item = int(head) if head.isdigit() else i
        value: Any = None
        if item == 3:
            value = {"m": m}
            for obs in ("u_norm", "v_norm"):
                cl = [c for c in spec.claims if c.observable == obs and c.mode in ("both", spec.mode)]
                if not cl or cl[0].name not in by_name:
                    continue
                v = by_name[cl[0].name]
                b = v.bound
                steps = trace["step"]
                at0 = float(trace[obs][0]) if trace[obs].size and steps[0] == 0 else None
                value[obs] = {"claim": cl[0].name, "label": cl[0].label, "bound": b,
                              "m_max": None if b is None else b * b,
                              "observed_at_init": at0,
                              "fails_at_init": None if b is None or at0 is None else bool(at0 > b)}
        elif item == 4:
            widths = {v.name: v.bound for v in verdicts if v.kind == "condition" and v.observable == "m"}
            fin = {k: w for k, w in widths.items() if w is not None and math.isfinite(w)}
            printed = {k: w for k, w in fin.items()
                       if by_name[k].provenance in ("paper", "hidden") and "explicit" not in k}
            value = {"m": m, "required": widths,
                     "binding": max(fin, key=lambda q: fin[q]) if fin else None,
                     "binding_printed": max(printed, key=lambda q: printed[q]) if printed else None}
        elif item == 5:
            value = {"sigma_prime_at_zero": SIGMA_PRIME_AT_ZERO}
        out.append({"item": item, "text": text, "value": value})
    return out
