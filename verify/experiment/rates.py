"""Observed and predicted geometric rates of ``‖ŷ(k) − y‖²`` (:func:`fit_rates`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["fit_rates"]

#: λ0 = λ_min(G∞) ≥ 0 (G∞ is PSD); eigvalsh may return a tiny negative for (near-)parallel rows
_LAMBDA0_ROUNDING = 1e-10


def _check_args(trace: Any, alpha: Any, lambda0: Any, mode: Any, floor_rel: Any
                ) -> tuple[np.ndarray, np.ndarray]:
    """Validate :func:`fit_rates`' arguments; return the trace's steps and residuals."""
    from bounds._errors import check_choice, check_real, invalid

    check_real("alpha", alpha, 0.0, low_open=True, fix="pass the GD step size α > 0")
    check_real("lambda0", lambda0, -_LAMBDA0_ROUNDING,
               fix="pass λ0 = λ_min(G∞) ≥ 0, e.g. bounds.lambda0(X)")
    check_choice("mode", mode, ("gd", "gf"), "pass mode='gd' or mode='gf'")
    check_real("floor_rel", floor_rel, 0.0, 1.0, high_open=True, fix="use e.g. floor_rel=1e-24")
    if not isinstance(trace, Mapping):
        raise invalid("trace", trace, "expected a mapping of observable name → array",
                      "pass RunResult.trace (or a dict with 'step' and 'residual_sq')")
    missing = [k for k in ("step", "residual_sq") if k not in trace]
    if missing:
        raise invalid("trace", f"<mapping with keys {sorted(trace)[:6]}>", f"lacks {missing}",
                      "pass RunResult.trace (it has 'step' and 'residual_sq')")
    arrays = {}
    for k in ("step", "residual_sq", "lambda_min_K", "lambda_min_H"):
        if k in trace:
            try:
                arrays[k] = np.asarray(trace[k], dtype=np.float64)
            except (TypeError, ValueError):
                raise invalid("trace", f"<trace[{k!r}] of type {type(trace[k]).__name__}>",
                              "is not a numeric array", "pass float arrays") from None
            if arrays[k].ndim != 1:
                raise invalid("trace", f"<trace[{k!r}] of shape {arrays[k].shape}>",
                              "expected one value per recorded step", "pass 1-D arrays")
    lengths = {k: a.size for k, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise invalid("trace", f"<trace with lengths {lengths}>", "the arrays have different lengths",
                      "pass one value per recorded step in every array")
    return arrays["step"], arrays["residual_sq"]


def fit_rates(
    trace: Mapping[str, np.ndarray],
    alpha: float,
    lambda0: float,
    *,
    mode: str = "gd",
    floor_rel: float = 1e-24,
) -> dict[str, Any]:
    r"""Observed geometric rate of ``‖ŷ(k) − y‖²`` and the two predicted rates.

    **Observed.** Over the fit range, least squares of ``log residual_sq(k) = a + k log r`` on
    the recorded steps; ``observed_rate = r`` (per GD step).  Fit range ``[k0, k1]``: from the
    first recorded step up to the last one *before* the first recorded step whose residual is
    non-finite, non-positive or below ``floor_rel · residual_sq(0)`` (float64 round-off floor),
    NaN entries skipped.  Fewer than two points → ``None``.  The decay is usually not
    geometric (the fast eigen-directions of H die out first), so ``observed_rate_tail`` repeats
    the fit over the second half of the range (``fit_range_tail``): the late-time rate.

    **Theory** (per step): GD ``1 − αλ0/2`` [G22 Lemma 3.6(vi)]; GF ``exp(−αλ0)``, the per-step
    factor of ``exp(−λ0 t)`` at ``t = kα`` [Lemma 3.5(vi)].

    **Path** (the theory's argument with the measured smallest eigenvalue in place of its lower
    bound λ0/2): GD ``1 − α·λ_min(K(k))`` with ``K = ZZᵀ + ΦΦᵀ``, the matrix of the paper's GD
    descent step (eq. 43: it uses only ``K ⪰ (λ0/2)I``); GF ``exp(−2α·λ_min(H(k)))`` (the GF
    proof differentiates ``‖e‖²`` exactly: ``d‖e‖²/dt = −2eᵀHe``).  ``path_rate`` uses
    ``min_k λ_min`` over the fit range (a rate valid at every step, docs/CONTRACTS.md);
    ``path_rate_geomean`` is the geometric mean of the per-step factors, ``λ_min`` held constant
    from one measurement to the next.  GD also records ``path_rate_H = 1 − α·min λ_min(H)``
    (H ⪰ K, so it is the faster of the two); a GD trace without ``lambda_min_K`` falls back to H
    and says so in ``path_formula``.

    **Tighter.** A predicted rate ρ is *valid* when ``ρ ≥ observed_rate`` (it promises no
    faster decay than was seen: it is an upper bound on the per-step factor).  ``tighter`` is
    the valid prediction closest to the observed rate, i.e. the smaller valid ρ
    (``"theory"`` or ``"path"``, comparing ``theory_rate`` with ``path_rate``); ``"neither"``
    when neither is valid; ``None`` when a rate is missing.  ``*_efficiency = log ρ / log r``
    is the fraction of the observed decay speed that a prediction guarantees (≤ 1 when valid).
    """
    steps, r = _check_args(trace, alpha, lambda0, mode, floor_rel)
    out: dict[str, Any] = {"observed_rate": None, "theory_rate": None, "path_rate": None,
                           "path_rate_geomean": None, "fit_range": None, "fit_points": 0,
                           "tighter": None, "mode": mode}
    # The theorem's per-step factor is read off the spec's claim (vi) bound (written once, in
    # sympy): bound(one step) / bound(0) with ‖e0‖ = 1, i.e. 1 − αλ0/2 (GD) or e^{−αλ0} (GF).
    from bounds import g22_spec

    res_bound = g22_spec("gf" if mode == "gf" else "gd").bound("residual_sq_max")
    one_step = {"alpha": alpha, "lambda0": lambda0, "e0_norm": 1.0, "k": 1.0, "t": alpha}
    out["theory_rate"] = float(res_bound.evaluate(**one_step))
    if mode == "gf":
        out["theory_formula"] = "exp(-alpha*lambda0)"
        out["path_formula"] = "exp(-2*alpha*lambda_min(H))"
    else:
        out["theory_formula"] = "1 - alpha*lambda0/2"
        out["path_formula"] = ("1 - alpha*lambda_min(K)" if "lambda_min_K" in trace
                               else "1 - alpha*lambda_min(H)")
    if r.size == 0 or not np.isfinite(r[0]) or r[0] <= 0:
        return out
    floor = floor_rel * r[0]
    bad = ~np.isfinite(r) | (r <= floor)
    # NaN never appears in residual_sq for a recorded step, but skip it if it does.
    stop = int(np.flatnonzero(bad & ~np.isnan(r))[0]) if (bad & ~np.isnan(r)).any() else r.size
    idx = np.arange(stop)
    idx = idx[np.isfinite(r[idx]) & (r[idx] > 0)]
    if idx.size >= 2:
        k, lr = steps[idx], np.log(r[idx])
        slope = float(np.polyfit(k, lr, 1)[0])
        out["observed_rate"] = float(math.exp(slope))
        out["fit_range"] = [int(k[0]), int(k[-1])]
        out["fit_points"] = int(idx.size)
        out["observed_log_rate"] = slope
        half = idx[k >= 0.5 * (k[0] + k[-1])]
        if half.size >= 2:  # the late-time rate (fast modes have died out by then)
            out["observed_rate_tail"] = float(math.exp(float(np.polyfit(steps[half], np.log(r[half]), 1)[0])))
            out["fit_range_tail"] = [int(steps[half[0]]), int(steps[half[-1]])]
    lam_H = np.asarray(trace.get("lambda_min_H", np.full(r.shape, np.nan)), dtype=np.float64)
    lam = lam_H
    if mode != "gf" and "lambda_min_K" in trace:
        lam = np.asarray(trace["lambda_min_K"], dtype=np.float64)
    if out["fit_range"] is not None and mode != "gf":
        k0, k1 = out["fit_range"]
        mH = (steps >= k0) & (steps <= k1) & np.isfinite(lam_H)
        if mH.any():
            out["lambda_min_H_min"] = float(lam_H[mH].min())
            out["path_rate_H"] = float(1.0 - alpha * out["lambda_min_H_min"])
    if out["fit_range"] is not None:
        k0, k1 = out["fit_range"]
        m = (steps >= k0) & (steps <= k1) & np.isfinite(lam)
        if m.any():
            lam_min = float(lam[m].min())
            out["lambda_min_K_min" if lam is not lam_H else "lambda_min_H_min"] = lam_min
            if mode == "gf":
                out["path_rate"] = float(math.exp(-2 * alpha * lam_min))
            else:
                out["path_rate"] = float(1.0 - alpha * lam_min)
            ks, ls = steps[m], lam[m]
            if k1 > k0:
                nxt = np.append(ks[1:], k1)
                counts = np.maximum(nxt - ks, 0)
                if mode == "gf":
                    logs = -2 * alpha * ls
                else:
                    with np.errstate(invalid="ignore", divide="ignore"):
                        logs = np.log(1.0 - alpha * ls)
                if counts.sum() > 0 and np.all(np.isfinite(logs[counts > 0])):
                    out["path_rate_geomean"] = float(math.exp(float((logs * counts).sum() / counts.sum())))
    obs = out["observed_rate"]
    if obs is not None:
        def eff(rho: float | None) -> float | None:
            if rho is None or rho <= 0 or obs >= 1 or obs <= 0:
                return None
            return float(math.log(rho) / math.log(obs))

        out["theory_efficiency"] = eff(out["theory_rate"])
        out["path_efficiency"] = eff(out["path_rate"])
        valid = {k: out[f"{k}_rate"] for k in ("theory", "path")
                 if out[f"{k}_rate"] is not None}
        out["theory_valid"] = None if out["theory_rate"] is None else bool(out["theory_rate"] >= obs)
        out["path_valid"] = None if out["path_rate"] is None else bool(out["path_rate"] >= obs)
        if len(valid) == 2:
            ok = {k: v for k, v in valid.items() if v >= obs}
            out["tighter"] = min(ok, key=lambda q: ok[q]) if ok else "neither"
    return out
