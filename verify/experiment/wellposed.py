r"""γ* — the largest scaling constant that keeps the equilibrium well-posed along a GD run.

GD22's claim (a) (digest B): a small enough *fixed* γ keeps the implicit layer well-posed
*throughout training*.  The layer map ``z ↦ σ(γ̃ A z + φ)``, ``γ̃ = γ/√m``, is a contraction
— so the equilibrium exists and is unique — when ``γ̃‖A(k)‖₂ < 1``.  For one cell (data, m,
seed, step rule, number of steps) :func:`wellposed_gamma` bisects over γ ∈ (0, 1) for the
largest γ at which a GD run (:func:`verify.run_gd`, the same network and step rule as
``implicit-verify run``) keeps the **certified** contraction factor below 1 at every step.

Each bisection point is classified from the run's certified interval
[``contraction_lower``, ``contraction``] (exact where the tracker took an SVD; the tracker takes
one whenever the interval straddles 1):

``wellposed``
    the run finished all steps and the upper bound is < 1 at every step;
``not_wellposed``
    at some step the lower bound is ≥ 1 (at γ ≥ γ_init this is already so at k = 0, from the
    exact ‖A(0)‖₂, and no run is needed);
``undecided``
    an interval straddles 1 within rounding, or an equilibrium solve failed (``solver_failed``)
    while every certified factor so far was < 1 — the map is a contraction there, the solver did
    not reach its tolerance in ``max_iter`` iterations.  That is a finding about the solver, not
    evidence against well-posedness; the bisection stops at it and says so instead of lowering γ.

The bisection assumes one crossing in γ (well-posed below, not above); every point is kept in
:attr:`GammaStar.points` so a second crossing would show.  ``gamma_star`` is the largest γ
certified well-posed, ``gamma_star_hi`` the smallest γ certified not (``γ_init`` at the start);
the bracket closes to ``rtol`` relative width unless a point is undecided.

Reference values: ``gamma_init = √m/‖A(0)‖₂`` (necessary: above it the map is not a
contraction at initialisation) and ``gamma_g22 = min(½, 1/(4c))`` with ``c`` measured as
``max(‖A(0)‖₂, ‖W(0)‖₂)/√m`` (G22's sufficient value, Theorem 3.1/3.2).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from bounds._errors import invalid

__all__ = ["GammaPoint", "GammaStar", "wellposed_gamma", "classify_trace"]

WELLPOSED, NOT_WELLPOSED, UNDECIDED = "wellposed", "not_wellposed", "undecided"


@dataclass(frozen=True)
class GammaPoint:
    """One bisection point: γ, its classification and what decided it."""

    gamma: float
    verdict: str
    reason: str
    status: str | None = None          # run_gd's stop status (None: no run was needed)
    steps_done: int | None = None
    max_upper: float | None = None     # max_k certified upper bound on γ̃‖A(k)‖₂
    max_lower: float | None = None     # max_k certified lower bound
    alpha: float | None = None
    solver_ok: bool | None = None      # forward and adjoint solves converged at every step


@dataclass(frozen=True)
class GammaStar:
    """Result of :func:`wellposed_gamma` (module docstring)."""

    gamma_star: float
    gamma_star_hi: float
    gamma_init: float
    gamma_g22: float
    c_measured: float
    undecided: bool
    rtol: float
    steps: int
    points: tuple[GammaPoint, ...] = field(default=())

    @property
    def solver_failures_wellposed(self) -> int:
        """Points where a solve failed although the map was certified a contraction so far."""
        return sum(p.reason == "solver_failed_while_contraction" for p in self.points)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["points"] = [asdict(p) for p in self.points]
        d["solver_failures_wellposed"] = self.solver_failures_wellposed
        return d


def classify_trace(trace: dict[str, np.ndarray], status: str, steps: int,
                   margin: float = 0.0) -> tuple[str, str, float, float]:
    """``(verdict, reason, max upper, max lower)`` of one run's certified contraction trace.

    ``margin``: relative rounding slack around 1 (a bound within it of 1 is undecided)."""
    up = np.asarray(trace.get("contraction", []), dtype=np.float64).ravel()
    lo = np.asarray(trace.get("contraction_lower", up), dtype=np.float64).ravel()[:up.size]
    ex = np.asarray(trace.get("contraction_exact", np.zeros(up.size)), dtype=np.float64).ravel()
    lo = np.where((ex[:up.size] == 1.0) | ~np.isfinite(lo), up, lo)
    max_up = float(np.nanmax(up)) if up.size and np.isfinite(up).any() else math.nan
    max_lo = float(np.nanmax(lo)) if lo.size and np.isfinite(lo).any() else math.nan
    if math.isfinite(max_lo) and max_lo >= 1.0 + margin:
        return NOT_WELLPOSED, "certified_lower_bound_at_least_1", max_up, max_lo
    if up.size and np.any(~np.isfinite(up)):
        return UNDECIDED, "contraction_not_finite", max_up, max_lo
    straddle = math.isfinite(max_up) and max_up >= 1.0 - margin
    if status == "solver_failed":
        if straddle:
            return UNDECIDED, "interval_straddles_1", max_up, max_lo
        return UNDECIDED, "solver_failed_while_contraction", max_up, max_lo
    if status in ("diverged", "interrupted"):
        return UNDECIDED, f"run_{status}", max_up, max_lo
    if straddle:
        return UNDECIDED, "interval_straddles_1", max_up, max_lo
    if not up.size:
        return UNDECIDED, "not_recorded", max_up, max_lo
    return WELLPOSED, "certified_upper_bound_below_1_at_every_step", max_up, max_lo


def _auto_step(net: Any, X: Any, y: Any) -> float:
    import torch

    from verify.model.gram import gram_blocks

    st = net.state(X, y)
    if not st.ok:
        return math.nan
    H = gram_blocks(net, st).H.detach().to(torch.float64)
    return 1.0 / float(torch.linalg.eigvalsh(0.5 * (H + H.T))[-1])


def wellposed_gamma(X: Any, y: Any, *, m: int, seed: int = 0, steps: int = 100,
                    step: float | str = "auto", rtol: float = 1e-3, max_points: int = 30,
                    tol: float = 1e-12, max_iter: int = 500, solver: str = "picard",
                    device: str = "cpu") -> GammaStar:
    """Bisect for γ* of one cell (module docstring); float64 throughout.

    ``step``: a number, or ``"auto"`` = 1/λ_max(H(0)) at each γ (H(0) depends on γ).
    ``rtol``: stop when ``(gamma_star_hi − gamma_star) ≤ rtol·gamma_star_hi``.
    """
    import torch

    from verify.experiment.config import RunConfig
    from verify.experiment.gd import run_gd
    from verify.model.certified import rounding_factor, spectral_norm
    from verify.model.network import ImplicitNetwork

    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
        raise invalid("m", m, "must be an integer ≥ 1", "pass e.g. m=64")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise invalid("steps", steps, "must be an integer ≥ 0", "pass e.g. steps=100")
    if not (isinstance(rtol, (int, float)) and 0.0 < float(rtol) < 1.0):
        raise invalid("rtol", rtol, "must be in (0, 1)", "pass e.g. rtol=1e-3")
    if isinstance(max_points, bool) or not isinstance(max_points, int) or max_points < 1:
        raise invalid("max_points", max_points, "must be an integer ≥ 1", "pass e.g. 30")
    if step != "auto":
        a = float(step)
        if not (math.isfinite(a) and a > 0):
            raise invalid("step", step, "must be a positive number or 'auto'", "pass step='auto'")
    Xt = torch.tensor(np.array(X, dtype=np.float64), device=device)
    yt = torch.tensor(np.array(y, dtype=np.float64), device=device)
    if Xt.ndim != 2 or yt.shape != (Xt.shape[0],):
        raise invalid("X", f"<shape {tuple(Xt.shape)}>", "expected X (n×d) and y (n,)",
                      "pass matching arrays")
    d = int(Xt.shape[1])
    net0 = ImplicitNetwork.init(m=int(m), d=d, gamma=0.5, seed=int(seed), device=device,
                                dtype=torch.float64, tol=tol, max_iter=max_iter, throw=False)
    a0 = spectral_norm(net0.A).value
    w0 = spectral_norm(net0.W).value
    sq = math.sqrt(m)
    gamma_init = sq / a0
    c = max(a0, w0) / sq
    gamma_g22 = min(0.5, 1.0 / (4.0 * c))
    margin = 4.0 * rounding_factor(m)  # an SVD's relative error, with room for the products
    points: list[GammaPoint] = []

    def evaluate(g: float) -> GammaPoint:
        if g * a0 / sq >= 1.0 + margin:  # exact ‖A(0)‖₂: not a contraction at k = 0
            return GammaPoint(g, NOT_WELLPOSED, "not_a_contraction_at_initialisation",
                              max_upper=g * a0 / sq, max_lower=g * a0 / sq)
        net = ImplicitNetwork.init(m=int(m), d=d, gamma=g, seed=int(seed), device=device,
                                   dtype=torch.float64, tol=tol, max_iter=max_iter, throw=False)
        alpha = _auto_step(net, Xt, yt) if step == "auto" else float(step)
        if not math.isfinite(alpha):
            verdict, reason = ((UNDECIDED, "solver_failed_while_contraction")
                               if g * a0 / sq < 1.0 - margin else (UNDECIDED, "interval_straddles_1"))
            return GammaPoint(g, verdict, reason, status="solver_failed", steps_done=0,
                              max_upper=g * a0 / sq, max_lower=g * a0 / sq, solver_ok=False)
        cfg = RunConfig(m=int(m), gamma=g, step=alpha, steps=int(steps), seed=int(seed),
                        device=device, dtype="float64", tol=tol, max_iter=max_iter,
                        solver=solver)  # type: ignore[arg-type]
        res = run_gd(Xt.cpu().numpy(), yt.cpu().numpy(), cfg, progress=False)
        verdict, reason, up, lo = classify_trace(res.trace, res.status, int(steps), margin)
        return GammaPoint(g, verdict, reason, status=res.status,
                          steps_done=int(res.record.get("steps_done") or 0), max_upper=up,
                          max_lower=lo, alpha=alpha, solver_ok=res.status != "solver_failed")

    lo_g, hi_g = 0.0, min(gamma_init, 1.0)
    if gamma_init >= 1.0:  # γ must stay in (0, 1): test just below 1 first
        hi_g = 1.0
    undecided = False
    guess = min(gamma_g22, 0.5 * hi_g) if gamma_g22 < hi_g else 0.5 * hi_g
    for _ in range(max_points):
        g = guess if not points else 0.5 * (lo_g + hi_g)
        if lo_g > 0 and hi_g - lo_g <= rtol * hi_g:
            break
        p = evaluate(g)
        points.append(p)
        if p.verdict == WELLPOSED:
            lo_g = g
        elif p.verdict == NOT_WELLPOSED:
            hi_g = g
        else:
            undecided = True
            break
    else:
        undecided = not (lo_g > 0 and hi_g - lo_g <= rtol * hi_g)
    return GammaStar(gamma_star=lo_g if lo_g > 0 else math.nan, gamma_star_hi=hi_g,
                     gamma_init=gamma_init, gamma_g22=gamma_g22, c_measured=c,
                     undecided=undecided, rtol=float(rtol), steps=int(steps),
                     points=tuple(points))
