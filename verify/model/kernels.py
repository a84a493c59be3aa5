r"""Finite-width NTK at initialisation vs its infinite-width limit (issue 16 item 3).

The limit ``H∞`` and its blocks come from :func:`bounds.deq_kernels` (digest C, provenance
``derived``); the empirical blocks at initialisation from the structured Gram
:func:`verify.gram_blocks` of a network drawn by :meth:`verify.ImplicitNetwork.init`.  For each
block ``b ∈ {A, W, u, v}`` the error is the relative Frobenius distance
``‖H_b(0) − H_b∞‖_F / ‖H_b∞‖_F``; its root mean square over seeds is fitted against the width on
log–log axes (least squares), and the slope should be about ``−½`` (fluctuations of averages of
m i.i.d.-like coordinates).

The equilibrium state is computed with :func:`verify.solve_forward` / :func:`verify.solve_adjoint`
directly (same solver as :meth:`ImplicitNetwork.state`) but with the reported contraction
``γ̃‖A‖₂`` estimated by 30 power iterations instead of a dense SVD (O(m³), minutes at m = 8192);
that number is only reported by the solver, never used to decide convergence.

Public functions: :func:`init_blocks`, :func:`kernel_init_outcomes` (one sweep cell),
:func:`kernel_convergence` (the width × seed table, JSON-ready via ``to_dict``) and
:func:`fit_loglog_slope`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from bounds import DIGEST_C, DEQKernels, SolverError, deq_kernels, invalid, validate_X
from bounds._args import MAX_SEED
from bounds._errors import check_int, check_real

from .equilibrium import solve_adjoint, solve_forward
from .gram import gram_blocks
from .network import ImplicitNetwork, NetState
from .validate import check_gamma, check_network_memory, network_bytes

__all__ = ["init_blocks", "kernel_init_outcomes", "kernel_convergence", "KernelConvergence",
           "fit_loglog_slope", "BLOCKS"]

BLOCKS = ("A", "W", "u", "v")


def _power_norm(A: torch.Tensor, iters: int = 30) -> float:
    g = torch.Generator(device="cpu").manual_seed(0)
    x = torch.randn(A.shape[1], generator=g, dtype=torch.float64).to(A.device, A.dtype)
    s = 0.0
    for _ in range(iters):
        y = A.T @ (A @ x)
        s = float(torch.linalg.vector_norm(y))
        if s == 0.0:
            return 0.0
        x = y / s
    return math.sqrt(s)


def _state(net: ImplicitNetwork, X: torch.Tensor) -> NetState:
    with torch.no_grad():
        A, W, u, v = (t.detach() for t in (net.A, net.W, net.u, net.v))
        pre = X @ W.T
        Phi = torch.relu(pre) / math.sqrt(net.m)
        E = (pre > 0).to(net.dtype)
        rho = net.gamma_tilde * _power_norm(A)
        fwd = solve_forward(A, Phi, net.gamma_tilde, contraction=rho)
        Z = fwd.value
        D = ((net.gamma_tilde * (Z @ A.T) + Phi) > 0).to(net.dtype)
        adj = solve_adjoint(A, u, D, net.gamma_tilde, contraction=rho)
        yhat = Z @ u + Phi @ v
        y = torch.zeros_like(yhat)
        return NetState(X, y, Phi, Z, yhat, yhat - y, adj.value, D, E,
                        0.5 * float(torch.sum(yhat * yhat)), fwd, adj)


def init_blocks(net: ImplicitNetwork, X: Any) -> dict[str, np.ndarray]:
    """Structured empirical NTK blocks of ``net`` on ``X`` (float64 numpy, keys A, W, u, v, H).

    Raises :class:`~bounds.SolverError` when the forward or adjoint solve does not converge.
    """
    if not isinstance(net, ImplicitNetwork):
        raise invalid("net", type(net).__name__, "expected an ImplicitNetwork",
                      "build one with ImplicitNetwork.init(m, d, gamma, seed)")
    Xt = torch.as_tensor(validate_X(X), dtype=net.dtype, device=net.device)
    if Xt.shape[1] != net.d:
        raise invalid("X", f"<array shape {tuple(Xt.shape)}>", f"has d={Xt.shape[1]} but the "
                      f"network has d={net.d}", "pass data of the network's input dimension")
    gb = gram_blocks(net, _state(net, Xt), check=True)
    out = {k: v.detach().to("cpu", torch.float64).numpy() for k, v in gb.blocks().items()}
    out["H"] = gb.H.detach().to("cpu", torch.float64).numpy()
    return out


def _rel_errors(emp: dict[str, np.ndarray], lim: DEQKernels) -> dict[str, float]:
    L = lim.blocks()
    L["H"] = lim.H
    return {k: float(np.linalg.norm(emp[k] - L[k]) / np.linalg.norm(L[k])) for k in (*BLOCKS, "H")}


def _lmin(M: np.ndarray) -> float:
    return float(np.linalg.eigvalsh((M + M.T) / 2)[0])


def _int_tuple(name: str, values: Any, minimum: int, fix: str) -> tuple[int, ...]:
    """A non-empty sequence of integers ≥ ``minimum`` (seeds also ≤ the largest seed)."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise invalid(name, values, "expected a sequence of integers", fix)
    vals = tuple(values)
    if not vals:
        raise invalid(name, list(vals), "is empty", fix)
    hi = MAX_SEED if name == "seeds" else None
    return tuple(int(check_int(name, v, minimum, hi, fix)) for v in vals)


def kernel_init_outcomes(net: ImplicitNetwork, X: Any, gamma: float | None = None, *,
                         limit: DEQKernels | None = None) -> dict[str, Any]:
    """One sweep cell: the kernel of ``net`` at initialisation against the infinite-width limit.

    Args:
        net: a freshly initialised network (``ImplicitNetwork.init``).
        X: data (n×d), as the network sees it.
        gamma: γ of the limit (default ``net.gamma``; must match it).
        limit: a precomputed ``bounds.deq_kernels(X, gamma)`` (reuse it across seeds/widths).

    Returns a JSON-ready dict: ``m, gamma, lambda0, lambda_min_Hinf, lambda_min_H0,
    half_lambda_min_Hinf_holds`` (``λ_min(H(0)) ≥ ½λ_min(H∞)``, the lazy-regime analogue of
    G22's ``λ_min(G(0)) ≥ ¾λ0``), ``ratio_H0_over_Hinf``, ``rel_error`` (per block and ``H``:
    relative Frobenius distance), ``limit_status`` and ``source`` (digest C).
    """
    if not isinstance(net, ImplicitNetwork):
        raise invalid("net", type(net).__name__, "expected a verify.ImplicitNetwork",
                      "pass ImplicitNetwork.init(m, d, gamma, seed)")
    g = float(net.gamma) if gamma is None else check_real("gamma", gamma, 0.0, 1.0, high_open=True)
    if abs(g - float(net.gamma)) > 1e-15:
        raise invalid("gamma", gamma, f"differs from the network's γ = {net.gamma}", "omit gamma")
    return _cell(net, validate_X(X), g, limit)[0]


def _cell(net: ImplicitNetwork, Xv: np.ndarray, g: float,
          limit: DEQKernels | None) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    lim = deq_kernels(Xv, g) if limit is None else limit
    if not lim.status.ok:
        raise SolverError("kernel_init_outcomes: " + lim.message())
    emp = init_blocks(net, Xv)
    lh, l0 = lim.lambda_min_H, lim.lambda0
    lh0 = _lmin(emp["H"])
    return {"m": net.m, "gamma": g, "lambda0": l0, "lambda_min_Hinf": lh,
            "lambda_min_H0": lh0, "ratio_H0_over_Hinf": lh0 / lh if lh > 0 else math.nan,
            "half_lambda_min_Hinf_holds": bool(lh0 >= 0.5 * lh),
            "rel_error": _rel_errors(emp, lim), "limit_status": lim.status.name,
            "source": DIGEST_C}, emp


def fit_loglog_slope(widths: Any, errors: Any) -> float:
    """Least-squares slope of ``log(error)`` against ``log(width)`` (needs ≥ 2 positive points)."""
    w = np.asarray(widths, dtype=np.float64)
    e = np.asarray(errors, dtype=np.float64)
    ok = (w > 0) & (e > 0) & np.isfinite(e)
    if ok.sum() < 2:
        return math.nan
    return float(np.polyfit(np.log(w[ok]), np.log(e[ok]), 1)[0])


@dataclass(frozen=True)
class KernelConvergence:
    """Finite width vs limit over widths × seeds (what a report's kernel section needs).

    Attributes:
        widths, seeds: as run.  gamma: γ.  n: samples.
        lambda0, lambda_min_Hinf, lambda_min_Kinf: limits (derived; ``limit`` summary).
        lambda_min_H0: (len(widths), len(seeds)) array of ``λ_min(H(0))``.
        errors: block → (len(widths), len(seeds)) relative Frobenius errors (blocks A, W, u, v, H).
        rms: block → per-width RMS over seeds.  slopes: block → fitted log–log slope of ``rms``.
        median, median_slopes: per-width median over seeds and its fitted slope (robust: at
            γ = 0.7 a few seeds show errors several times the typical one — heavy tails that
            dominate an RMS over few seeds).
        mean_error: block → per-width relative error of the *seed-averaged* block; with a correct
            limit it is about ``rms/√len(seeds)`` (fluctuations average out), while a wrong limit
            leaves a floor (the bias) — the diagnostic digest C asks for.
        rates: ``{"alpha", "paper": 1 − αλ0/2, "toolkit": 1 − α·λ_min(H∞)/2}`` when ``alpha``
            is given (the toolkit's lazy-regime rate is this project's, not the paper's).
        limit: ``DEQKernels.summary()``.  seconds: wall time.
    """

    widths: tuple[int, ...]
    seeds: tuple[int, ...]
    gamma: float
    n: int
    lambda0: float
    lambda_min_Hinf: float
    lambda_min_Kinf: float
    lambda_min_H0: np.ndarray
    errors: dict[str, np.ndarray]
    rms: dict[str, np.ndarray]
    slopes: dict[str, float]
    mean_error: dict[str, np.ndarray]
    median: dict[str, np.ndarray]
    median_slopes: dict[str, float]
    rates: dict[str, float] | None
    limit: dict[str, Any]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"widths": list(self.widths), "seeds": list(self.seeds), "gamma": self.gamma,
                "n": self.n, "lambda0": self.lambda0, "lambda_min_Hinf": self.lambda_min_Hinf,
                "lambda_min_Kinf": self.lambda_min_Kinf,
                "lambda_min_H0": self.lambda_min_H0.tolist(),
                "errors": {k: v.tolist() for k, v in self.errors.items()},
                "rms": {k: v.tolist() for k, v in self.rms.items()},
                "slopes": dict(self.slopes),
                "mean_error": {k: v.tolist() for k, v in self.mean_error.items()},
                "median": {k: v.tolist() for k, v in self.median.items()},
                "median_slopes": dict(self.median_slopes), "rates": self.rates, "limit": self.limit,
                "seconds": self.seconds}

    def table(self) -> str:
        """Plain-text table: width, RMS error per block, mean λ_min(H(0)); slopes last."""
        head = f"{'m':>7} " + " ".join(f"{'err_' + b:>10}" for b in (*BLOCKS, "H")) + \
            f" {'λmin(H0)':>11}"
        rows = [head]
        for i, m in enumerate(self.widths):
            rows.append(f"{m:>7} " + " ".join(f"{self.rms[b][i]:>10.3e}" for b in (*BLOCKS, "H"))
                        + f" {float(np.mean(self.lambda_min_H0[i])):>11.4e}")
        rows.append(f"{'slope':>7} " + " ".join(f"{self.slopes[b]:>10.3f}" for b in (*BLOCKS, "H")))
        rows.append(f"{'slope50':>7} " + " ".join(f"{self.median_slopes[b]:>10.3f}"
                                                  for b in (*BLOCKS, "H")) + "  (of the median)")
        rows.append(f"relative error of the mean over {len(self.seeds)} seeds:")
        for i, m in enumerate(self.widths):
            rows.append(f"{m:>7} " + " ".join(f"{self.mean_error[b][i]:>10.3e}"
                                              for b in (*BLOCKS, "H")))
        rows.append(f"λ0 = {self.lambda0:.6g}   λ_min(K∞) = {self.lambda_min_Kinf:.6g}   "
                    f"λ_min(H∞) = {self.lambda_min_Hinf:.6g}   (γ = {self.gamma}, n = {self.n})")
        return "\n".join(rows)


def kernel_convergence(X: Any, gamma: float, widths: Any, seeds: Any, *,
                       alpha: float | None = None, dtype: Any = torch.float64,
                       device: Any = "cpu", limit: DEQKernels | None = None) -> KernelConvergence:
    """Empirical NTK blocks at initialisation vs ``H∞`` for each width and seed.

    Seeds are passed to :meth:`ImplicitNetwork.init` (printed in the result).  See the module
    docstring for the error measure and the fit.
    """
    t0 = time.perf_counter()
    Xv = validate_X(X)
    gamma = check_gamma(gamma)  # the networks' range (0, 1)
    ws = _int_tuple("widths", widths, 1, "e.g. widths=(256, 1024)")
    ss = _int_tuple("seeds", seeds, 0, "e.g. seeds=(0, 1)")
    check_network_memory(network_bytes(max(ws), Xv.shape[1]), "widths", max(ws),
                         f"a network of width m = {max(ws)}", False)
    lim = deq_kernels(Xv, gamma) if limit is None else limit
    if not lim.status.ok:
        raise SolverError("kernel_convergence: " + lim.message())
    errs = {b: np.zeros((len(ws), len(ss))) for b in (*BLOCKS, "H")}
    merr = {b: np.zeros(len(ws)) for b in errs}
    lh0 = np.zeros((len(ws), len(ss)))
    L = {**lim.blocks(), "H": lim.H}
    for i, m in enumerate(ws):
        acc = {b: np.zeros_like(L[b]) for b in errs}
        for j, s in enumerate(ss):
            net = ImplicitNetwork.init(m, Xv.shape[1], gamma, s, dtype=dtype, device=device)
            out, emp = _cell(net, Xv, float(gamma), lim)
            lh0[i, j] = out["lambda_min_H0"]
            for b in errs:
                errs[b][i, j] = out["rel_error"][b]
                acc[b] += emp[b] / len(ss)
            del net
        for b in errs:
            merr[b][i] = float(np.linalg.norm(acc[b] - L[b]) / np.linalg.norm(L[b]))
    rms = {b: np.sqrt(np.mean(e * e, axis=1)) for b, e in errs.items()}
    slopes = {b: fit_loglog_slope(ws, r) for b, r in rms.items()}
    med = {b: np.median(e, axis=1) for b, e in errs.items()}
    med_slopes = {b: fit_loglog_slope(ws, r) for b, r in med.items()}
    rates = None
    if alpha is not None:
        rates = {"alpha": float(alpha), "paper": 1 - float(alpha) * lim.lambda0 / 2,
                 "toolkit": 1 - float(alpha) * lim.lambda_min_H / 2}
    return KernelConvergence(widths=ws, seeds=ss, gamma=float(gamma), n=Xv.shape[0],
                             lambda0=lim.lambda0, lambda_min_Hinf=lim.lambda_min_H,
                             lambda_min_Kinf=lim.lambda_min_K, lambda_min_H0=lh0, errors=errs,
                             rms=rms, slopes=slopes, mean_error=merr, median=med, median_slopes=med_slopes, rates=rates, limit=lim.summary(),
                             seconds=time.perf_counter() - t0)
