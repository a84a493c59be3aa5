r"""``implicit-verify bench warm``: solver iterations per GD step at equal certified error.

Each variant runs the lean GD step (:class:`verify.bench.step._BareStep`'s solves, closed-form
gradients, update) for ``steps`` steps from the same initialisation, every solve stopped at the
same relative residual ``tol``. The certified error of a returned equilibrium follows from the
contraction bound: with ``ρ = γ̃‖A‖₂ < 1`` (a certified upper bound from the tracker) and
``r = ‖F(x) − x‖`` at the last iterate ``x``, the returned ``F(x)`` satisfies
``‖F(x) − z*‖ ≤ ρ/(1 − ρ) · r`` (Picard and Anderson alike: both return a map value), so every
variant meets the same certified relative error ``ρ·tol/(1 − ρ)``; the row reports the largest
over the timed steps, forward and adjoint.

Variants (start point × method):

* ``picard`` — Picard from the previous step's equilibria (the baseline; the run's default is
  ``gauss-seidel`` below);
* ``picard+extrap`` — Picard from ``2·Z(k−1) − Z(k−2)`` (and ``B`` likewise), the linear
  extrapolation of the last two steps' equilibria;
* ``anderson(p)`` — Anderson (type II, memory ``p``) from the previous equilibria;
* ``anderson(p)+extrap`` — both;
* ``gauss-seidel`` (``+extrap``) — block Gauss–Seidel sweeps with Picard checks
  (:func:`verify.model.equilibrium.solve_forward`), whose stop is a Picard residual: the same
  certificate.

Reported per variant: mean ``K_fwd``, ``K_adj`` and their sum per step, the ratio of the sum to
the baseline's, mean seconds per step, the largest certified error. Times are wall-clock.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import torch

from verify.model.certified import ContractionTracker
from verify.model.network import ImplicitNetwork, implicit_gradients

from .measure import _sync

__all__ = ["WarmRow", "VARIANTS", "bench_warm", "format_warm"]

#: (name, method, anderson memory, extrapolate)
VARIANTS: tuple[tuple[str, str, int, bool], ...] = (
    ("picard", "picard", 0, False),
    ("picard+extrap", "picard", 0, True),
    ("anderson(3)", "anderson", 3, False),
    ("anderson(5)", "anderson", 5, False),
    ("anderson(5)+extrap", "anderson", 5, True),
    ("gauss-seidel", "gauss-seidel", 0, False),
    ("gauss-seidel+extrap", "gauss-seidel", 0, True),
)


@dataclass(frozen=True)
class WarmRow:
    n: int
    m: int
    variant: str
    fwd_iterations: float
    adj_iterations: float
    total_iterations: float
    ratio_to_baseline: float
    t_step_s: float
    max_certified_error: float
    steps: int


def _run_variant(net: ImplicitNetwork, X: torch.Tensor, y: torch.Tensor, alpha: float, steps: int,
                 warmup: int, method: str, memory: int, extrap: bool, dev: torch.device) -> dict[str, Any]:
    for kind in ("forward", "adjoint"):
        net.solver_opts[kind]["method"] = method
        if method == "anderson":
            net.solver_opts[kind]["anderson_memory"] = memory
    tracker = ContractionTracker(net.gamma_tilde)
    hist: list[Any] = []  # the last two states
    kf: list[int] = []
    ka: list[int] = []
    cert: list[float] = []
    t = 0.0
    for k in range(warmup + steps):
        _sync(dev)
        t0 = time.perf_counter()
        z0 = b0 = None
        if hist:
            z0, b0 = hist[-1].Z, hist[-1].B
            if extrap and len(hist) == 2:
                z0 = (2.0 * hist[-1].Z - hist[-2].Z).clamp_min_(0.0)  # Z ≥ 0 (a ReLU image)
                b0 = 2.0 * hist[-1].B - hist[-2].B
        st = net.state(X, y, z0=z0, b0=b0, contraction=tracker.update(net.A))
        g = implicit_gradients(net, X, y, state=st)
        with torch.no_grad():
            for name, v in g.items():
                getattr(net, name).sub_(alpha * v)
        _sync(dev)
        if k >= warmup:
            t += time.perf_counter() - t0
            kf.append(st.fwd.iterations)
            ka.append(st.adj.iterations)
            for res in (st.fwd, st.adj):
                if not res.converged:
                    raise RuntimeError(f"bench warm: {res.message()}")
                rho = res.contraction
                cert.append(rho / (1.0 - rho) * res.residual if rho < 1 else float("inf"))
        hist = (hist + [st])[-2:]
    return {"kf": sum(kf) / steps, "ka": sum(ka) / steps, "t": t / steps, "cert": max(cert)}


def bench_warm(sizes: list[tuple[int, int]], *, steps: int = 20, warmup: int = 3, gamma: float = 0.1,
               alpha: float = 0.01, tol: float = 1e-12, max_iter: int = 500, seed: int = 0,
               dtype: Any = torch.float64, device: Any = "cpu") -> list[WarmRow]:
    """Measure every :data:`VARIANTS` entry at each (n, m) (digits when n ≤ 180, else synthetic)."""
    from .step import _problem

    dev = torch.device(device)
    rows = []
    for n, m in sizes:
        X, y, _ = _problem(n, seed, dev, dtype)
        base = None
        for name, method, memory, extrap in VARIANTS:
            net = ImplicitNetwork.init(m, X.shape[1], gamma, seed, dtype=dtype, device=dev, tol=tol,
                                       max_iter=max_iter)
            r = _run_variant(net, X, y, alpha, steps, warmup, method, memory, extrap, dev)
            total = r["kf"] + r["ka"]
            base = total if base is None else base
            rows.append(WarmRow(n=n, m=m, variant=name, fwd_iterations=r["kf"], adj_iterations=r["ka"],
                                total_iterations=total, ratio_to_baseline=base / total, t_step_s=r["t"],
                                max_certified_error=r["cert"], steps=steps))
    return rows


def format_warm(rows: list[WarmRow], tol: float) -> str:
    lines = [f"# bench warm: K per GD step at relative residual tol={tol:g} (certified error ρ·r/(1 − ρ))",
             f"{'n':>5} {'m':>5} {'variant':>20} {'K_f':>6} {'K_a':>6} {'K_f+K_a':>8} {'fewer':>6} "
             f"{'ms/step':>8} {'cert_err':>9}"]
    for r in rows:
        lines.append(f"{r.n:>5} {r.m:>5} {r.variant:>20} {r.fwd_iterations:>6.1f} {r.adj_iterations:>6.1f} "
                     f"{r.total_iterations:>8.1f} {r.ratio_to_baseline:>5.2f}x {r.t_step_s * 1e3:>8.1f} "
                     f"{r.max_certified_error:>9.1e}")
    lines.append("fewer: baseline (picard from the previous step) K_f+K_a over the variant's; target ≥ 1.5x")
    return "\n".join(lines)


def to_json(rows: list[WarmRow]) -> list[dict[str, Any]]:
    return [asdict(r) for r in rows]
