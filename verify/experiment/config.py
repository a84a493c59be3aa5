"""The configuration of one instrumented run (:class:`RunConfig`) and the expensive-observable
schedule (:func:`auto_expensive_every`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import torch

import bounds
from bounds._defaults import DEFAULTS
from bounds._errors import invalid
from verify.model.validate import check_gamma

__all__ = ["RunConfig", "auto_expensive_every", "RESUMABLE_CHANGES"]

_SOLVERS = ("gauss-seidel", "picard", "anderson")
RESUMABLE_CHANGES = ("steps", "target_loss", "checkpoint_every", "hidden_range", "hypotheses",
                     "gf_threshold", "checkpoint_seconds")


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
        solver, tol, max_iter: equilibrium solver settings (``solver``: ``"gauss-seidel"``,
            the default, ``"picard"`` or ``"anderson"``; every one stops on a Picard residual
            ``≤ tol``, so the certified error ``ρ/(1 − ρ)·tol`` is the same,
            :mod:`verify.model.equilibrium`).
        delta: failure probability δ of the theorems (symbol ``delta``; tail-bound ``c``).
        c_source: ``"measured"`` (c = max(‖A(0)‖, ‖W(0)‖)/√m) or ``"tail"`` (explicit Gaussian
            tail bound at δ) for the symbol ``c`` in the bounds.
        checkpoint_every: checkpoint interval in steps (``None``: every 1000 steps, and always
            at the end). Only with an output directory.
        hidden: overrides of the theorem's hidden constants (default 1 each).
        hidden_range: ``(lo, hi)``: a verdict that depends on a hidden constant is decided only
            if it is the same over this range (``verify.experiment.checks.check_spec``).
        hypotheses: ``"paper"`` or ``"explicit"`` (claims' hypotheses with the proof's explicit
            width in place of the hidden-constant one).
        gf_threshold: ``mode="gf"`` claims are checked only when ``α·λ_max(H(0))`` is at most
            this.
        checkpoint_seconds: also checkpoint when this much wall time has passed since the last
            checkpoint (``None``: 60 s), so a kill loses at most about this much work.
    """

    m: int
    gamma: float
    step: float
    steps: int
    seed: int = DEFAULTS["seed"]
    mode: str = DEFAULTS["mode"]
    device: str = DEFAULTS["device"]
    dtype: str = DEFAULTS["dtype"]
    record_every: int = 1
    expensive_every: int | None = None
    target_loss: float | None = None
    solver: str = DEFAULTS["solver"]
    tol: float = DEFAULTS["tol"]
    max_iter: int = DEFAULTS["max_iter"]
    delta: float = DEFAULTS["delta"]
    c_source: str = DEFAULTS["c_source"]
    checkpoint_every: int | None = None
    hidden: Mapping[str, float] | None = None
    hidden_range: tuple[float, float] = DEFAULTS["hidden_range"]
    hypotheses: str = "paper"
    gf_threshold: float = DEFAULTS["gf_threshold"]
    checkpoint_seconds: float | None = None

    def __post_init__(self) -> None:
        if not _is_int(self.m) or self.m < 1:
            raise invalid("m", self.m, "the width must be an integer ≥ 1", "pass e.g. m=256")
        check_gamma(self.gamma, allow_zero=True)
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
            raise invalid("solver", self.solver, f"unknown solver; choose one of {_SOLVERS}", "use 'gauss-seidel'")
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
        if self.checkpoint_seconds is not None:
            cs = self.checkpoint_seconds
            if isinstance(cs, bool) or not isinstance(cs, (int, float)) or not (math.isfinite(cs) and cs > 0):
                raise invalid("checkpoint_seconds", cs, "must be a positive number of seconds or None",
                              "pass e.g. 60")
        if self.seed > 2**63 - 1:
            raise invalid("seed", self.seed, f"must be ≤ {2**63 - 1}", "pass e.g. seed=0")
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
        hr = self.hidden_range
        if (not isinstance(hr, (tuple, list)) or len(hr) != 2
                or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in hr)
                or not (0 < hr[0] <= hr[1] < math.inf)):
            raise invalid("hidden_range", hr, "must be (lo, hi) with 0 < lo ≤ hi < ∞",
                          "pass e.g. (1e-3, 1e3)")
        object.__setattr__(self, "hidden_range", (float(hr[0]), float(hr[1])))
        if self.hypotheses not in ("paper", "explicit"):
            raise invalid("hypotheses", self.hypotheses, "unknown hypothesis set",
                          "use 'paper' or 'explicit'")
        gt = self.gf_threshold
        if isinstance(gt, bool) or not isinstance(gt, (int, float)) or not (0 < gt < math.inf):
            raise invalid("gf_threshold", gt, "must be a positive number", "pass e.g. 0.1")
        object.__setattr__(self, "gf_threshold", float(gt))
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
