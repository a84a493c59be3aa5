r"""``implicit-verify bench {gram, solver, step}``: measured costs, as ratios, on one device.

* ``gram`` — the structured empirical NTK (:func:`verify.gram_blocks`, O(n²m) from a state)
  against the Jacobian path (:func:`verify.jacobian_gram` with ``method="autograd"``: one forward
  and one adjoint solve per sample through the network's implicit backward, then ``JJᵀ`` with
  the n×P Jacobian, ``P = m² + md + 2m``), on the same inputs: times, speed-up, agreement
  (``max_rel_diff = max|H − H_ref| / max|H_ref|``) and memory.
* ``solver`` — Picard iterations measured for the forward and adjoint solves against
  :func:`verify.predicted_iterations` of the measured contraction ``ρ = γ̃‖A‖₂``, for several γ.
* ``step`` — the GD step suite of :mod:`verify.bench.step` (bare vs instrumented vs matmuls vs
  torchdeq, batched seeds).

Memory: on CUDA the peak of ``torch.cuda.max_memory_allocated`` above the level before the
call (``mem_method="cuda_max_memory_allocated"``). On the CPU torch allocations are invisible to
``tracemalloc`` and ``ru_maxrss`` only grows, so the fields hold the bytes of the largest
intermediates (``mem_method="theoretical"``): structured — the n×m rows ``E∘(B + v)`` and ten
n×n matrices; reference — the per-sample gradient rows and the stacked n×P Jacobian (both alive
while stacking, so ``2·n·P``) and five n×n matrices. Theoretical values are always reported as
``mem_*_theory_bytes`` too.

Every function here is a library call; :mod:`verify.cli.bench` only parses arguments and prints.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from bounds._errors import invalid
from verify.model.equilibrium import predicted_iterations
from verify.model.gram import gram_blocks, jacobian_gram
from verify.model.network import ImplicitNetwork
from verify.model.validate import check_gamma, resolve_device, resolve_dtype

from .options import DEFAULT_D, DEFAULT_SIZES, DEFAULT_SOLVER_GAMMAS, parse_sizes

__all__ = [
    "GramBench",
    "SolverBench",
    "bench_gram",
    "bench_solver",
    "parse_sizes",
    "format_gram",
    "format_solver",
    "DEFAULT_SIZES",
]



# ------------------------------------------------------------------ result records
@dataclass(frozen=True)
class GramBench:
    """One size of ``bench gram``. Times in seconds (best of the repeats)."""

    n: int
    m: int
    d: int
    P: int
    seed: int
    gamma: float
    device: str
    dtype: str
    threads: int
    t_state_s: float
    t_structured_s: float
    t_reference_s: float
    speedup: float
    speedup_with_state: float
    max_rel_diff: float
    mem_structured_bytes: int
    mem_reference_bytes: int
    mem_method: str
    mem_structured_theory_bytes: int
    mem_reference_theory_bytes: int
    repeat: int
    reference_repeat: int
    fwd_iterations: int
    adj_iterations: int


@dataclass(frozen=True)
class SolverBench:
    """One (size, γ) of ``bench solver``."""

    n: int
    m: int
    seed: int
    gamma: float
    device: str
    dtype: str
    rho: float
    tol: float
    predicted_iterations: int
    fwd_iterations: int
    adj_iterations: int
    fwd_status: str
    adj_status: str
    fwd_ratio: float
    adj_ratio: float


# ------------------------------------------------------------------ helpers
def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _best_time(fn: Callable[[], Any], repeat: int, device: torch.device) -> tuple[float, Any]:
    best, out = math.inf, None
    for _ in range(repeat):
        _sync(device)
        t0 = time.perf_counter()
        out = fn()
        _sync(device)
        best = min(best, time.perf_counter() - t0)
    return best, out


def _peak_bytes(fn: Callable[[], Any], device: torch.device) -> tuple[int | None, Any]:
    """Peak CUDA allocation above the current level while ``fn`` runs (None on the CPU)."""
    if device.type != "cuda":
        return None, fn()
    _sync(device)
    base = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    out = fn()
    _sync(device)
    return int(torch.cuda.max_memory_allocated(device) - base), out


def _data(n: int, d: int, seed: int, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """Unit-norm Gaussian rows and N(0,1) labels, drawn on the CPU from ``seed`` (device-independent)."""
    g = torch.Generator().manual_seed(10_000 + seed)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    X = X / torch.linalg.vector_norm(X, dim=1, keepdim=True)
    y = torch.randn(n, generator=g, dtype=torch.float64)
    return X.to(device=device, dtype=dtype), y.to(device=device, dtype=dtype)


def _check_common(repeat: int, seed: int, d: int) -> None:
    for name, val, lo in (("repeat", repeat, 1), ("d", d, 1), ("seed", seed, 0)):
        if isinstance(val, bool) or not isinstance(val, int) or val < lo:
            raise invalid(name, val, f"expected an int ≥ {lo}", f"pass e.g. {name}={max(lo, 1)}")


def _dtype_name(dt: torch.dtype) -> str:
    return str(dt).replace("torch.", "")


def _log(msg: str, quiet: bool) -> None:
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ bench gram
def bench_gram(
    sizes: Sequence[tuple[int, int]] | str = DEFAULT_SIZES,
    *,
    device: Any = "cpu",
    dtype: Any = "float64",
    repeat: int = 3,
    reference_repeat: int = 1,
    gamma: float = 0.1,
    d: int = DEFAULT_D,
    seed: int = 0,
    quiet: bool = True,
) -> list[GramBench]:
    """Structured Gram vs the per-sample autograd Jacobian Gram; one :class:`GramBench` per size.

    The state (forward + adjoint solves) is computed once and timed separately
    (``t_state_s``); ``speedup = t_reference / t_structured`` compares the Gram computations,
    ``speedup_with_state = t_reference / (t_state + t_structured)`` counts the solves too (the
    reference does its own per-sample solves).
    """
    if isinstance(sizes, str):
        sizes = parse_sizes(sizes)
    _check_common(repeat, seed, d)
    _check_common(reference_repeat, seed, d)
    dev = resolve_device(device)
    dt = resolve_dtype(dtype)
    gamma = check_gamma(gamma)
    itemsize = torch.empty((), dtype=dt).element_size()
    rows = []
    for n, m in sizes:
        net = ImplicitNetwork.init(m, d, gamma, seed, device=dev, dtype=dt)
        X, y = _data(n, d, seed, dev, dt)
        t_state, st = _best_time(lambda net=net, X=X, y=y: net.state(X, y), 1, dev)  # type: ignore[misc]
        st.fwd.raise_if_failed()
        st.adj.raise_if_failed()

        def structured(net=net, st=st):
            return gram_blocks(net, st)

        def reference(net=net, X=X):
            return jacobian_gram(net, X, method="autograd")

        t_struct, gb = _best_time(structured, repeat, dev)
        mem_s, _ = _peak_bytes(structured, dev)
        P = m * m + m * d + 2 * m
        _log(f"bench gram n={n} m={m}: reference path ({n} per-sample solves, Jacobian "
             f"{n}×{P} = {n * P * itemsize / 2**20:.0f} MiB)…", quiet)
        t_ref, (H_ref, _) = _best_time(reference, reference_repeat, dev)
        mem_r = None
        if dev.type == "cuda":
            H_ref = None
            mem_r, (H_ref, _) = _peak_bytes(reference, dev)
        with torch.no_grad():
            diff = float((gb.H - H_ref).abs().max() / H_ref.abs().max())
        theory_s = (n * m + 10 * n * n) * itemsize
        theory_r = (2 * n * P + 5 * n * n) * itemsize
        rows.append(GramBench(
            n=n, m=m, d=d, P=P, seed=seed, gamma=gamma, device=str(dev), dtype=_dtype_name(dt),
            threads=torch.get_num_threads(), t_state_s=t_state, t_structured_s=t_struct,
            t_reference_s=t_ref, speedup=t_ref / t_struct,
            speedup_with_state=t_ref / (t_state + t_struct), max_rel_diff=diff,
            mem_structured_bytes=int(mem_s if mem_s is not None else theory_s),
            mem_reference_bytes=int(mem_r if mem_r is not None else theory_r),
            mem_method="cuda_max_memory_allocated" if dev.type == "cuda" else "theoretical",
            mem_structured_theory_bytes=theory_s, mem_reference_theory_bytes=theory_r,
            repeat=repeat, reference_repeat=reference_repeat,
            fwd_iterations=st.fwd.iterations, adj_iterations=st.adj.iterations,
        ))
    return rows


# ------------------------------------------------------------------ bench solver
def bench_solver(
    sizes: Sequence[tuple[int, int]] | str = DEFAULT_SIZES,
    *,
    gammas: Sequence[float] = DEFAULT_SOLVER_GAMMAS,
    device: Any = "cpu",
    dtype: Any = "float64",
    tol: float = 1e-12,
    d: int = DEFAULT_D,
    seed: int = 0,
) -> list[SolverBench]:
    """Measured Picard iterations (forward, adjoint) vs ``predicted_iterations(ρ, tol)``.

    ``fwd_ratio = fwd_iterations / predicted`` ≤ 1 when the contraction bound holds (the
    prediction is a worst case: the ReLU masks make the effective rate smaller than ρ).
    """
    if isinstance(sizes, str):
        sizes = parse_sizes(sizes)
    _check_common(1, seed, d)
    dev = resolve_device(device)
    dt = resolve_dtype(dtype)
    rows = []
    for n, m in sizes:
        X, y = _data(n, d, seed, dev, dt)
        for gamma in gammas:
            gamma = check_gamma(gamma, "gammas")
            net = ImplicitNetwork.init(m, d, gamma, seed, device=dev, dtype=dt, tol=tol,
                                       max_iter=10_000)
            st = net.state(X, y)
            rho = st.fwd.contraction
            pred = predicted_iterations(rho, tol)
            rows.append(SolverBench(
                n=n, m=m, seed=seed, gamma=gamma, device=str(dev), dtype=_dtype_name(dt), rho=rho,
                tol=tol, predicted_iterations=pred, fwd_iterations=st.fwd.iterations,
                adj_iterations=st.adj.iterations, fwd_status=st.fwd.status.name,
                adj_status=st.adj.status.name,
                fwd_ratio=st.fwd.iterations / pred if pred > 0 else math.nan,
                adj_ratio=st.adj.iterations / pred if pred > 0 else math.nan,
            ))
    return rows


# ------------------------------------------------------------------ printing
def _fmt_bytes(b: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if b < 1024 or unit == "GiB":
            return f"{b:.0f} {unit}" if unit == "B" else f"{b:.1f} {unit}"
        b /= 1024
    return str(b)  # pragma: no cover


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


def format_gram(rows: Sequence[GramBench]) -> str:
    body = [[str(r.n), str(r.m), f"{r.t_state_s:.4f}", f"{r.t_structured_s:.2e}",
             f"{r.t_reference_s:.3f}", f"{r.speedup:.0f}x", f"{r.speedup_with_state:.1f}x",
             f"{r.max_rel_diff:.1e}", _fmt_bytes(r.mem_structured_bytes),
             _fmt_bytes(r.mem_reference_bytes)] for r in rows]
    head = ["n", "m", "t_state_s", "t_structured_s", "t_reference_s", "speedup",
            "with_state", "max_rel_diff", "mem_structured", "mem_reference"]
    note = f"memory: {rows[0].mem_method}" if rows else ""
    return _table(head, body) + ("\n" + note if note else "")


def format_solver(rows: Sequence[SolverBench]) -> str:
    body = [[str(r.n), str(r.m), f"{r.gamma:g}", f"{r.rho:.4f}", str(r.predicted_iterations),
             str(r.fwd_iterations), str(r.adj_iterations), f"{r.fwd_ratio:.2f}",
             f"{r.adj_ratio:.2f}", r.fwd_status, r.adj_status] for r in rows]
    head = ["n", "m", "gamma", "rho", "predicted", "fwd_iters", "adj_iters", "fwd/pred",
            "adj/pred", "fwd_status", "adj_status"]
    return _table(head, body)
