r"""Verdicts: evaluate a :class:`~bounds.TheoremSpec` on a recorded trajectory, and fit rates.

A theorem spec (``bounds.g22_spec(mode)``) lists *assumptions* (on data and initialisation),
*conditions* (on the configuration: γ, m, α) and *claims* (``observable(k) ≤ / ≥ bound(k)``
along the trajectory).  Each gets a :class:`Verdict` with one of four statuses:

``holds``
    the inequality is satisfied at every evaluated step (ties count as satisfied).
``violated``
    at some step the observed value is beyond the bound by more than the tolerance; the
    first such step, and the observed value and bound at the *worst* step, are reported.
``vacuous``
    a hypothesis of the claim (a condition or assumption named in ``claim.hypotheses``) is
    violated, so the claim promises nothing for this run.  The observed values, bound, ratio
    and first violating step are still computed and reported.
``inconclusive``
    the worst step is beyond the bound by no more than the tolerance (the difference is at
    rounding level), or the observable was never measured (all NaN), or an assumption has no
    numerical check.

Tolerance: ``|observed − bound| ≤ slack_tol · max(|bound|, tiny)`` with
``slack_tol = 1e3 · eps`` of the run's dtype (``≈ 2.2e-13`` for float64, ``≈ 1.2e-4`` for
float32), :func:`slack_tol`.  Observables are computed with a relative error of a few hundred
ulps at most (norms, eigenvalues of small Gram matrices), so a gap below this tolerance cannot
be decided in floating point.

Ratio (docs/CONTRACTS.md): ``observed/bound`` for ``≤`` claims, ``bound/observed`` for ``≥``
claims, at the worst step; ``> 1`` means violated.  (When the denominator is not positive the
ratio is ``inf`` if the inequality fails there and ``0`` otherwise.)  ``slack = 1/ratio`` when
the claim holds: how loose the theory is.  The worst step maximises the normalised excess
``(observed − bound)/max(|bound|, tiny)`` (``≤``) or ``(bound − observed)/max(|bound|, tiny)``
(``≥``), which for positive bounds is the step of the largest ratio.

Symbols passed to the bounds: ``n, m, d, gamma, alpha, delta, lambda0, c, X_norm, e0_norm``
(run constants), ``k`` = trace ``step``, ``t`` = trace ``time`` (= kα), and the spec's hidden
constants (default 1, overridable).

Assumptions are checked by built-in checkers keyed by name (:data:`ASSUMPTION_CHECKS`):

* ``"data"`` (G22 Assumption 2): unit rows and no parallel pair, via :func:`bounds.audit_data`;
  the verdict names the worst pair and all parallel pairs.
* ``"init"`` (G22 Assumption 1): on the initial parameters, ``u, v ∈ {±1}`` exactly, and the
  sample mean and variance of the entries of ``A`` and ``W`` within
  :data:`INIT_SIGMAS` = 5 standard errors of N(0, 1)'s (``|mean| ≤ 5/√N``,
  ``|var − 1| ≤ 5√(2/N)``, N entries).  Observed = the largest of these z-scores, bound = 5.
* an assumption with ``checked_by`` claims (e.g. ``init_norms``, ``init_gram``): the worst
  status of those (at-initialisation) claims.

A condition or assumption that is not met is a *verdict*, never an exception.

Length (~530 lines): one idea — turning a spec and a trace into verdicts; every verdict kind
shares ``_ratio``/``_compare`` and the tolerance rules, and ``fit_rates`` reads the same claims.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from bounds._errors import invalid

__all__ = [
    "Verdict",
    "STATUSES",
    "INIT_SIGMAS",
    "ASSUMPTION_CHECKS",
    "slack_tol",
    "check_spec",
    "check_init",
    "check_data",
    "fit_rates",
]

STATUSES = ("holds", "violated", "vacuous", "inconclusive")
INIT_SIGMAS = 5.0
_TINY = np.finfo(np.float64).tiny
_RANK = {"holds": 0, "inconclusive": 1, "violated": 2}


def slack_tol(dtype: Any = "float64") -> float:
    """``1e3 · eps`` of ``dtype`` (``"float64"``/``"float32"`` or a numpy/torch dtype)."""
    name = str(dtype).replace("torch.", "")
    eps = np.finfo(np.float32 if name in ("float32", "float") else np.float64).eps
    return float(1e3 * eps)


@dataclass(frozen=True)
class Verdict:
    """One entry of ``record.json`` ``"verdicts"`` (docs/CONTRACTS.md; extra keys added:
    ``provenance``, ``hidden``, ``details``)."""

    name: str
    label: str
    kind: str  # "assumption" | "condition" | "claim"
    status: str
    observable: str | None = None
    sense: str | None = None
    observed: float | None = None
    bound: float | None = None
    ratio: float | None = None
    slack: float | None = None
    first_violation_step: int | None = None
    worst_step: int | None = None
    hypotheses_failed: tuple[str, ...] = ()
    message: str = ""
    provenance: str | None = None
    hidden: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise invalid("status", self.status, "unknown verdict status", f"use one of {STATUSES}")
        object.__setattr__(self, "hypotheses_failed", tuple(self.hypotheses_failed))
        object.__setattr__(self, "hidden", tuple(self.hidden))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hypotheses_failed"] = list(self.hypotheses_failed)
        d["hidden"] = list(self.hidden)
        d["details"] = dict(self.details)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Verdict:
        keys = cls.__dataclass_fields__
        kw = {k: d[k] for k in keys if k in d}
        kw["hypotheses_failed"] = tuple(kw.get("hypotheses_failed") or ())
        kw["hidden"] = tuple(kw.get("hidden") or ())
        kw["details"] = dict(kw.get("details") or {})
        return cls(**kw)


# ---------------------------------------------------------------- comparisons
def _ratio(obs: float, bnd: float, sense: str) -> float:
    num, den = (obs, bnd) if sense == "le" else (bnd, obs)
    if den > 0 and num >= 0:
        return float(num / den)
    return math.inf if num > den else 0.0


def _compare(obs: np.ndarray, bnd: np.ndarray, sense: str, tol: float) -> dict[str, Any]:
    """Per-step comparison; returns status ('holds'/'violated'/'inconclusive'/None when no
    finite step), worst index, first violating index."""
    obs = np.asarray(obs, dtype=np.float64)
    bnd = np.broadcast_to(np.asarray(bnd, dtype=np.float64), obs.shape)
    valid = np.isfinite(obs) & ~np.isnan(bnd)
    if not valid.any():
        return {"status": None}
    with np.errstate(invalid="ignore", over="ignore"):
        excess = np.where(sense == "le", obs - bnd, bnd - obs)
        scale = np.maximum(np.where(np.isfinite(bnd), np.abs(bnd), np.inf), _TINY)
        norm_excess = np.where(np.isfinite(bnd), excess / scale,
                               np.where(excess > 0, np.inf, -np.inf))
    norm_excess = np.where(valid, norm_excess, -np.inf)
    idx_valid = np.flatnonzero(valid)
    worst = int(idx_valid[np.argmax(norm_excess[idx_valid])])
    violated = valid & (norm_excess > tol)
    inconcl = valid & (norm_excess > 0) & ~violated
    first = int(np.flatnonzero(violated)[0]) if violated.any() else None
    status = "violated" if violated.any() else ("inconclusive" if inconcl.any() else "holds")
    if status == "inconclusive" and not inconcl[worst]:  # pragma: no cover - defensive
        worst = int(np.flatnonzero(inconcl)[0])
    return {"status": status, "worst": worst, "first": first, "n_valid": int(valid.sum())}


# ---------------------------------------------------------------- assumptions
def check_data(audit: Any) -> Verdict:
    """G22 Assumption 2 from a :class:`bounds.DataAudit`."""
    msgs = list(audit.messages())
    ok = bool(audit.ok)
    pair = list(audit.worst_pair) if audit.worst_pair is not None else None
    if ok:
        msg = (f"unit rows (max |‖x_i‖ − 1| = {audit.max_norm_dev:.2e}) and no parallel pair "
               f"(max |cos| = {audit.max_abs_cos:.6f} at pair {tuple(pair) if pair else None})")
    else:
        msg = "; ".join(msgs)
    bound = 1.0 - audit.parallel_tol
    return Verdict(
        name="data", label="G22 Assumption 2", kind="assumption",
        status="holds" if ok else "violated", observable="max_abs_cos", sense="le",
        observed=float(audit.max_abs_cos), bound=bound,
        ratio=_ratio(float(audit.max_abs_cos), bound, "le"),
        slack=None, message=msg,
        details={"unit_norm": bool(audit.unit_norm), "max_norm_dev": float(audit.max_norm_dev),
                 "worst_pair": pair,
                 "parallel_pairs": [list(p) for p in audit.parallel_pairs],
                 "zero_rows": list(getattr(audit, "zero_rows", ()))},
    )


def check_init(params: Mapping[str, Any], sigmas: float = INIT_SIGMAS) -> Verdict:
    """G22 Assumption 1 on initial parameters (module docstring for the test and tolerance)."""
    arr = {k: np.asarray(params[k], dtype=np.float64) for k in ("A", "W", "u", "v")}
    problems = []
    details: dict[str, Any] = {"tolerance_sigmas": sigmas}
    for k in ("u", "v"):
        bad = int(np.sum(np.abs(arr[k]) != 1.0))
        details[f"{k}_not_pm1"] = bad
        if bad:
            problems.append(f"{k} has {bad} entries outside {{±1}} (Rademacher expected)")
    zmax = 0.0
    for k in ("A", "W"):
        x = arr[k].ravel()
        N = x.size
        mean, var = float(x.mean()), float(x.var())
        z_mean = abs(mean) * math.sqrt(N)
        z_var = abs(var - 1.0) / math.sqrt(2.0 / N) if N > 1 else 0.0
        details[f"{k}_mean"], details[f"{k}_var"] = mean, var
        details[f"{k}_z_mean"], details[f"{k}_z_var"] = z_mean, z_var
        zmax = max(zmax, z_mean, z_var)
        if z_mean > sigmas or z_var > sigmas:
            problems.append(f"{k} entries: mean {mean:.4f}, variance {var:.4f} (N = {N}) are "
                            f"more than {sigmas:g} standard errors from N(0, 1)'s 0 and 1")
    ok = not problems
    msg = ("u, v ∈ {±1}; A, W entry mean/variance within "
           f"{sigmas:g} standard errors of N(0, 1) (largest z-score {zmax:.2f})") if ok else "; ".join(problems)
    return Verdict(name="init", label="G22 Assumption 1", kind="assumption",
                   status="holds" if ok else "violated", observable="init_z_score", sense="le",
                   observed=zmax, bound=sigmas, ratio=zmax / sigmas,
                   slack=(sigmas / zmax if ok and zmax > 0 else None), message=msg,
                   details=details)


#: name → checker(context) for assumptions without ``checked_by`` claims.
ASSUMPTION_CHECKS: dict[str, Callable[[Mapping[str, Any]], Verdict | None]] = {
    "data": lambda ctx: check_data(ctx["audit"]) if ctx.get("audit") is not None else None,
    "init": lambda ctx: (check_init(ctx["params_init"])
                         if ctx.get("params_init") is not None else None),
}


# ---------------------------------------------------------------- spec evaluation
def _symbol_values(symbols: Mapping[str, Any], hidden: Mapping[str, float]) -> dict[str, Any]:
    names = ("n", "m", "d", "gamma", "alpha", "delta", "lambda0", "c", "X_norm", "e0_norm")
    vals = {k: float(symbols[k]) for k in names if k in symbols and symbols[k] is not None}
    vals.update({k: float(v) for k, v in hidden.items()})
    return vals


def _condition_verdict(cond: Any, symvals: Mapping[str, Any], tol: float) -> Verdict:
    q = cond.quantity
    if q not in symvals:
        return Verdict(cond.name, cond.label, "condition", "inconclusive", observable=q,
                       sense=cond.sense, message=f"configuration value of {q!r} unknown",
                       provenance=cond.bound.provenance.value, hidden=cond.bound.hidden)
    value = float(symvals[q])
    required = float(cond.bound.evaluate(**symvals))
    cmp = _compare(np.array([value]), np.array([required]), cond.sense, tol)
    status = cmp["status"] or "inconclusive"
    ratio = _ratio(value, required, cond.sense)
    rel = "≤" if cond.sense == "le" else "≥"
    hid = f" (hidden constants {', '.join(cond.bound.hidden)} = " + ", ".join(
        f"{symvals.get(h, 1.0):g}" for h in cond.bound.hidden) + ")" if cond.bound.hidden else ""
    if status == "holds":
        msg = f"{q} = {value:.6g} {rel} {required:.6g} required{hid}"
    elif status == "violated":
        msg = (f"{q} = {value:.6g} does not satisfy {q} {rel} {required:.6g}{hid}: off by a "
               f"factor {ratio:.3g} (a theory condition not met is a finding, not an error)")
    else:
        msg = f"{q} = {value:.6g} equals the requirement {required:.6g} within rounding{hid}"
    return Verdict(cond.name, cond.label, "condition", status, observable=q, sense=cond.sense,
                   observed=value, bound=required, ratio=ratio,
                   slack=(1.0 / ratio if status == "holds" and ratio > 0 else None),
                   first_violation_step=None, worst_step=None, message=msg,
                   provenance=cond.bound.provenance.value, hidden=cond.bound.hidden,
                   details={"required": required, "value": value,
                            "description": getattr(cond, "description", "")})


def _claim_verdict(claim: Any, trace: Mapping[str, np.ndarray], symvals: Mapping[str, Any],
                   tol: float, failed: Sequence[str]) -> Verdict:
    steps = np.asarray(trace["step"], dtype=np.float64)
    times = np.asarray(trace.get("time", steps * symvals.get("alpha", 1.0)), dtype=np.float64)
    base = dict(observable=claim.observable, sense=claim.sense,
                provenance=claim.bound.provenance.value, hidden=claim.bound.hidden,
                hypotheses_failed=tuple(failed))
    if claim.observable not in trace:
        return Verdict(claim.name, claim.label, "claim", "vacuous" if failed else "inconclusive",
                       message=f"observable {claim.observable!r} is not in the trace", **base)
    obs = np.asarray(trace[claim.observable], dtype=np.float64)
    sel = np.ones(obs.shape, dtype=bool)
    if claim.at_init_only:
        sel = steps == 0
    k, t, o = steps[sel], times[sel], obs[sel]
    bnd = claim.bound.evaluate(**symvals, k=k, t=t)
    bnd = np.broadcast_to(np.asarray(bnd, dtype=np.float64), o.shape)
    cmp = _compare(o, bnd, claim.sense, tol)
    rel = "≤" if claim.sense == "le" else "≥"
    where = "at initialisation" if claim.at_init_only else "along the trajectory"
    if cmp["status"] is None:
        status = "vacuous" if failed else "inconclusive"
        return Verdict(claim.name, claim.label, "claim", status,
                       message=f"{claim.observable} was never measured {where} (all NaN)", **base)
    w = cmp["worst"]
    ov, bv = float(o[w]), float(bnd[w])
    ratio = _ratio(ov, bv, claim.sense)
    first = None if cmp["first"] is None else int(k[cmp["first"]])
    obs_status = cmp["status"]
    status = "vacuous" if failed else obs_status
    detail = (f"worst at step {int(k[w])}: {claim.observable} = {ov:.6g} {rel} bound {bv:.6g}"
              f" (ratio {ratio:.4g})")
    if obs_status == "holds":
        text = f"holds {where} ({cmp['n_valid']} steps checked; slack {1 / ratio if ratio > 0 else math.inf:.4g}); {detail}"
    elif obs_status == "violated":
        text = f"violated {where}, first at step {first}; {detail}"
    else:
        text = f"within rounding of the bound (tolerance {tol:.1e}); {detail}"
    if failed:
        text = (f"vacuous: hypotheses not met ({', '.join(failed)}); observed values: " + text)
    return Verdict(claim.name, claim.label, "claim", status, observed=ov, bound=bv, ratio=ratio,
                   slack=(1.0 / ratio if obs_status == "holds" and ratio > 0 else
                          (math.inf if obs_status == "holds" else None)),
                   first_violation_step=first, worst_step=int(k[w]), message=text,
                   details={"observed_status": obs_status, "steps_checked": cmp["n_valid"]},
                   **base)


def check_spec(
    spec: Any,
    trace: Mapping[str, np.ndarray],
    symbols: Mapping[str, Any],
    *,
    mode: str = "gd",
    audit: Any = None,
    params_init: Mapping[str, Any] | None = None,
    hidden: Mapping[str, float] | None = None,
    tol: float | None = None,
) -> tuple[Verdict, ...]:
    """All verdicts of ``spec`` on ``trace``: assumptions, conditions, claims (in that order).

    Args:
        spec: a :class:`bounds.TheoremSpec`.
        trace: observable name → 1-D array over recorded steps (``step`` required).
        symbols: run constants (``n, m, d, gamma, alpha, delta, lambda0, c, X_norm, e0_norm``).
        mode: ``"gd"`` or ``"gf"``; claims of the other mode are skipped.
        audit: :class:`bounds.DataAudit` of the training inputs (Assumption 2).
        params_init: initial ``A, W, u, v`` (Assumption 1).
        hidden: hidden-constant overrides (default ``spec.hidden``, i.e. 1).
        tol: comparison tolerance (default :func:`slack_tol` of float64).
    """
    if "step" not in trace:
        raise invalid("trace", sorted(trace), "has no 'step' array", "record the step indices")
    tol = slack_tol("float64") if tol is None else float(tol)
    hid = {**dict(spec.hidden), **dict(hidden or {})}
    symvals = _symbol_values(symbols, hid)
    ctx = {"audit": audit, "params_init": params_init}
    claims = [c for c in spec.claims if c.mode in ("both", mode)]
    claim_by_name = {c.name: c for c in spec.claims}
    cond_by_name = {c.name: c for c in spec.conditions}
    assum_by_name = {a.name: a for a in spec.assumptions}
    done: dict[str, Verdict] = {}
    active: set[str] = set()

    def status_of(name: str) -> str:
        if name not in done:
            evaluate(name)
        return done[name].status

    def failed_of(hyps: Sequence[str]) -> tuple[str, ...]:
        return tuple(h for h in hyps if h not in active and status_of(h) in ("violated", "vacuous"))

    def evaluate(name: str) -> None:
        if name in done or name in active:
            return
        active.add(name)
        try:
            if name in cond_by_name:
                done[name] = _condition_verdict(cond_by_name[name], symvals, tol)
            elif name in assum_by_name:
                done[name] = _assumption_verdict(assum_by_name[name])
            else:
                cl = claim_by_name[name]
                done[name] = _claim_verdict(cl, trace, symvals, tol, failed_of(cl.hypotheses))
        finally:
            active.discard(name)

    def _assumption_verdict(a: Any) -> Verdict:
        checker = ASSUMPTION_CHECKS.get(a.name)
        if checker is not None:
            v = checker(ctx)
            if v is not None:
                return Verdict(**{**v.__dict__, "name": a.name, "label": a.label})
        if a.checked_by:
            subs = []
            for cb in a.checked_by:
                evaluate(cb)
                subs.append(done[cb])
            obs_status = [s.details.get("observed_status", s.status) for s in subs]
            # the event itself is observed whether or not the checking claim is vacuous
            worst = max(obs_status, key=lambda s: _RANK.get(s, 1))
            status = "inconclusive" if worst not in _RANK else worst
            msg = "; ".join(f"{s.label} [{s.name}]: {st}" for s, st in zip(subs, obs_status, strict=False))
            wv = max(subs, key=lambda s: -math.inf if s.ratio is None else s.ratio)
            return Verdict(a.name, a.label, "assumption", status, observable=wv.observable,
                           sense=wv.sense, observed=wv.observed, bound=wv.bound, ratio=wv.ratio,
                           slack=wv.slack if status == "holds" else None,
                           first_violation_step=wv.first_violation_step,
                           worst_step=wv.worst_step,
                           message=f"checked by {', '.join(a.checked_by)} — {msg}",
                           details={"checked_by": list(a.checked_by)})
        return Verdict(a.name, a.label, "assumption", "inconclusive",
                       message=f"no numerical check for this assumption: {a.description}")

    out: list[Verdict] = []
    for a in spec.assumptions:
        evaluate(a.name)
        out.append(done[a.name])
    for c in spec.conditions:
        evaluate(c.name)
        out.append(done[c.name])
    for cl in claims:
        evaluate(cl.name)
        out.append(done[cl.name])
    return tuple(out)


# ---------------------------------------------------------------- rates
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
    bound λ0/2): GD ``1 − α·λ_min(H(k))``; GF ``exp(−2α·λ_min(H(k)))`` (from
    ``d‖e‖²/dt = −2eᵀHe``).  ``path_rate`` uses ``min_k λ_min(H(k))`` over the fit range (a
    rate valid at every step, docs/CONTRACTS.md); ``path_rate_geomean`` is the geometric mean of
    the per-step factors, ``λ_min(H)`` held constant from one measurement to the next.

    **Tighter.** A predicted rate ρ is *valid* when ``ρ ≥ observed_rate`` (it promises no
    faster decay than was seen: it is an upper bound on the per-step factor).  ``tighter`` is
    the valid prediction closest to the observed rate, i.e. the smaller valid ρ
    (``"theory"`` or ``"path"``, comparing ``theory_rate`` with ``path_rate``); ``"neither"``
    when neither is valid; ``None`` when a rate is missing.  ``*_efficiency = log ρ / log r``
    is the fraction of the observed decay speed that a prediction guarantees (≤ 1 when valid).
    """
    steps = np.asarray(trace["step"], dtype=np.float64)
    r = np.asarray(trace["residual_sq"], dtype=np.float64)
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
        out["path_formula"] = "1 - alpha*lambda_min(H)"
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
    lam = np.asarray(trace.get("lambda_min_H", np.full(r.shape, np.nan)), dtype=np.float64)
    if out["fit_range"] is not None:
        k0, k1 = out["fit_range"]
        m = (steps >= k0) & (steps <= k1) & np.isfinite(lam)
        if m.any():
            lam_min = float(lam[m].min())
            out["lambda_min_H_min"] = lam_min
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
