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

Length (~650 lines): one idea — turning a spec and a trace into verdicts; every verdict kind
shares ``_ratio``/``_compare`` and the tolerance rules, and ``fit_rates`` reads the same claims.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from bounds._defaults import DEFAULTS
from bounds._errors import check_choice, invalid
from bounds._verdicts import Outcome, classify
from verify.experiment import evidence as ev
from verify.experiment.rates import fit_rates  # re-exported (public API)

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
    "explicit_hypotheses",
    "HYPOTHESIS_SETS",
    "DEFAULT_HIDDEN_RANGE",
    "DEFAULT_GF_THRESHOLD",
]

STATUSES = ("holds", "violated", "vacuous", "inconclusive")
INIT_SIGMAS = 5.0
_TINY = np.finfo(np.float64).tiny
_RANK = {"holds": 0, "inconclusive": 1, "violated": 2}


def slack_tol(dtype: Any = "float64") -> float:
    """``1e3 · eps`` of ``dtype`` (``"float64"``/``"float32"`` or a numpy/torch dtype)."""
    name = str(getattr(dtype, "name", dtype)).replace("torch.", "")
    if name not in ("float64", "double", "float32", "float"):
        raise invalid("dtype", dtype, "expected float64 or float32", "pass dtype='float64'")
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

    @property
    def outcome(self) -> Outcome:
        """The verdict's :class:`bounds.Outcome` (the one vocabulary of every surface)."""
        return classify(self.to_dict()).outcome

    @property
    def words(self) -> str:
        """The user-facing words of the verdict, e.g. ``vacuous — observed to fail``."""
        return classify(self.to_dict()).text

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


def _hidden_status(cond: Any, value: float, symvals: Mapping[str, Any], tol: float,
                   hidden_range: tuple[float, float] | None) -> tuple[dict[str, Any], set[str]]:
    """Break-even constants of ``cond`` and the statuses it takes over ``hidden_range``."""
    info: dict[str, Any] = {}
    statuses: set[str] = set()
    for h in cond.bound.hidden:
        try:
            be = cond.break_even(h, value, **symvals)
        except Exception as exc:  # noqa: BLE001 - a bound sympy cannot solve: say so, decide nothing
            info[h] = {"constant": h, "break_even": None, "error": f"{type(exc).__name__}: {exc}"}
            statuses.add("inconclusive")
            continue
        info[h] = be
        if hidden_range is None:
            continue
        for C in (*hidden_range, float(symvals.get(h, 1.0))):
            req = float(cond.bound.evaluate(**{**symvals, h: C}))
            st = _compare(np.array([value]), np.array([req]), cond.sense, tol)["status"]
            statuses.add(st or "inconclusive")
    return info, statuses


def _condition_verdict(cond: Any, symvals: Mapping[str, Any], tol: float,
                       hidden_range: tuple[float, float] | None = None) -> Verdict:
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
    details: dict[str, Any] = {"required": required, "value": value,
                               "description": getattr(cond, "description", "")}
    be_txt = ""
    if cond.bound.hidden:
        info, statuses = _hidden_status(cond, value, symvals, tol, hidden_range)
        details["break_even"] = info
        if hidden_range is not None:
            details["hidden_range"] = list(hidden_range)
        be_txt = "; " + "; ".join(
            f"met exactly at {h} = {b['break_even']:.4g} (met for {b['satisfied_for']})"
            if b.get("break_even") is not None else
            f"{h}: {'met' if b.get('satisfied_for') == 'all' else 'not met'} for every value"
            for h, b in info.items())
        if len(statuses) > 1:
            status = "inconclusive"
            details["inconclusive_reason"] = "hidden constant"
    if details.get("inconclusive_reason") == "hidden constant":
        lo, hi = hidden_range or (math.nan, math.nan)
        msg = (f"inconclusive (hidden constant): {q} = {value:.6g} {rel} {required:.6g} "
               f"{'holds' if cmp['status'] == 'holds' else 'fails'}{hid}, but the verdict "
               f"changes within the stated range [{lo:g}, {hi:g}] of the constant{be_txt}")
    elif status == "holds":
        msg = f"{q} = {value:.6g} {rel} {required:.6g} required{hid}{be_txt}"
    elif status == "violated":
        msg = (f"{q} = {value:.6g} does not satisfy {q} {rel} {required:.6g}{hid}: off by a "
               f"factor {ratio:.3g} (a theory condition not met is a finding, not an error)"
               f"{be_txt}")
    else:
        msg = f"{q} = {value:.6g} equals the requirement {required:.6g} within rounding{hid}"
    return Verdict(cond.name, cond.label, "condition", status, observable=q, sense=cond.sense,
                   observed=value, bound=required, ratio=ratio,
                   slack=(1.0 / ratio if status == "holds" and ratio > 0 else None),
                   first_violation_step=None, worst_step=None, message=msg,
                   provenance=cond.bound.provenance.value, hidden=cond.bound.hidden,
                   details=details)


_PROB_TEXT = ("one run is one draw of the event; the lemma's statement P(event) ≥ 1 − δ is "
              "checked by the event's frequency over seeds (a sweep) with its Clopper–Pearson "
              "interval")


def _claim_verdict(claim: Any, trace: Mapping[str, np.ndarray], symvals: Mapping[str, Any],
                   tol: float, failed: Sequence[str], unsure: Mapping[str, str] | None = None,
                   *, gf_unchecked: str | None = None,
                   lambda_max_H0: float | None = None) -> Verdict:
    """One claim's verdict.  ``failed``: hypotheses not met; ``unsure``: hypotheses
    ``inconclusive`` (name → reason), which are not met either — an observed violation then
    stays ``inconclusive``; ``gf_unchecked``: why a gradient-flow claim is not checked on these
    GD iterates (``inconclusive (discretisation)``)."""
    unsure = dict(unsure or {})
    steps = np.asarray(trace["step"], dtype=np.float64)
    times = np.asarray(trace.get("time", steps * symvals.get("alpha", 1.0)), dtype=np.float64)
    base = dict(observable=claim.observable, sense=claim.sense,
                provenance=claim.bound.provenance.value, hidden=claim.bound.hidden,
                hypotheses_failed=tuple(failed))
    event = bool(getattr(claim, "event", False))
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
    eig = ev.eig_atol(claim.observable, trace, symvals, sel, lambda_max_H0)
    cert = ev.certificate(claim.observable, trace, symvals, sel)
    dec = ev.step_decisions(o, bnd, claim.sense, tol, None if eig is None else eig[0], cert)
    d_arr = dec["decision"]
    n_total = int(o.size)
    n_exact = int(dec["exact"].sum())
    n_cert = int((dec["source"] == "certificate").sum())
    n_undecided = int((d_arr == "undecided").sum())
    rel = "≤" if claim.sense == "le" else "≥"
    where = "at initialisation" if claim.at_init_only else "along the trajectory"
    details: dict[str, Any] = {"steps_total": n_total, "steps_exact": n_exact,
                               "steps_certified": n_cert, "steps_undecided": n_undecided,
                               "steps_checked": n_exact + n_cert}
    if eig is not None:
        details["eig_error_bound"] = eig[1]
    if cert is not None:
        details["certificate"] = cert[2]
    if event:
        details["event"] = True
    structural = ev.structural_note(claim.observable, symvals)
    if structural is not None:
        details["structural"] = structural
    if n_exact + n_cert == 0:
        status = "vacuous" if failed else "inconclusive"
        return Verdict(claim.name, claim.label, "claim", status,
                       message=f"{claim.observable} was never measured {where} (all NaN)",
                       details=details, **base)
    viol = d_arr == "violated"
    if viol.any():
        obs_status = "violated"
    elif (d_arr == "tie").any():
        obs_status = "inconclusive"
    else:
        obs_status = "holds"
    # worst step among the exactly computed ones (certificates give ranges, not values)
    ex = np.flatnonzero(dec["exact"])
    if ex.size:
        with np.errstate(invalid="ignore", divide="ignore"):
            ne = dec["excess"][ex] / dec["scale"][ex]
        w = int(ex[np.argmax(np.where(np.isfinite(ne), ne, np.where(ne > 0, np.inf, -np.inf)))])
        ov, bv = float(o[w]), float(bnd[w])
        ratio: float | None = _ratio(ov, bv, claim.sense)
        worst: int | None = int(k[w])
    else:
        ov = bv = math.nan
        ratio, worst = None, None
    first_i = int(np.flatnonzero(viol)[0]) if viol.any() else None
    first = None if first_i is None else int(k[first_i])
    if first_i is not None:
        details["first_violation_exact"] = bool(not (d_arr[:first_i] == "undecided").any())
        details["first_violation_source"] = str(dec["source"][first_i])
    details["observed_status"] = obs_status
    if event:
        details["event_occurred"] = obs_status == "holds" if obs_status != "inconclusive" else None
    reason = None
    if failed:
        status = "vacuous"
    elif gf_unchecked is not None and not claim.at_init_only:
        status, reason = "inconclusive", "discretisation"
    elif obs_status == "violated" and unsure:
        status = "inconclusive"
        reason = ("hidden constant" if "hidden constant" in unsure.values()
                  else "hypothesis inconclusive")
    elif obs_status == "violated" and event and structural is None:
        status, reason = "inconclusive", "event did not occur"
    else:
        status = obs_status
    if reason is not None:
        details["inconclusive_reason"] = reason
    checked = (f"checked at {n_exact + n_cert} of {n_total} recorded steps ({n_exact} computed "
               f"exactly" + (f", {n_cert} decided by the certificate {cert[2]}" if cert else "")
               + (f", {n_undecided} undecided" if n_undecided else "") + ")")
    detail = ("" if worst is None else
              f"; worst at step {worst}: {claim.observable} = {ov:.6g} {rel} bound {bv:.6g}"
              f" (ratio {ratio:.4g})")
    if obs_status == "holds":
        sl = (1 / ratio if ratio else math.inf) if ratio is not None else math.nan
        text = f"holds {where}, {checked}; slack {sl:.4g}{detail}"
    elif obs_status == "violated":
        text = (f"violated {where}, first among the checked steps at step {first}"
                + (" (certified)" if details.get("first_violation_source") == "certificate"
                   else "") + f"; {checked}{detail}")
    else:
        tol_txt = eig[1] if eig is not None else f"{tol:.1e}·|bound|"
        text = f"within the rounding error of the bound ({tol_txt}); {checked}{detail}"
    if event:
        occurred = "event occurred" if obs_status == "holds" else (
            "event did not occur" if obs_status == "violated" else "event undecided (rounding)")
        text = f"{occurred} in this run ({text}); " + (
            f"it is impossible for structural reasons: {structural}" if structural and
            obs_status == "violated" else _PROB_TEXT)
    elif structural is not None and obs_status == "violated":
        text += f"; structural: {structural}"
    if failed:
        text = f"vacuous: hypotheses not met ({', '.join(failed)}); observed values: " + text
    elif reason == "discretisation":
        text = f"inconclusive (discretisation): {gf_unchecked}; observed values: " + text
    elif reason in ("hidden constant", "hypothesis inconclusive"):
        text = (f"inconclusive ({reason}): the observation fails but hypotheses "
                f"{', '.join(f'{h} ({r})' for h, r in unsure.items())} are not known to be "
                "met, so no violation of the statement is shown; observed values: " + text)
    return Verdict(claim.name, claim.label, "claim", status, observed=None if worst is None else ov,
                   bound=None if worst is None else bv, ratio=ratio,
                   slack=(None if ratio is None else (1.0 / ratio if obs_status == "holds" and
                          ratio > 0 else (math.inf if obs_status == "holds" else None))),
                   first_violation_step=first, worst_step=worst, message=text,
                   details=details, **base)


def explicit_hypotheses(spec: Any, hyps: Sequence[str]) -> tuple[str, ...]:
    """``hyps`` with every condition ``X`` replaced by ``X_explicit`` where the spec has one
    (the hypothesis set "under the paper's own explicit constants")."""
    names = {c.name for c in spec.conditions}
    return tuple(f"{h}_explicit" if f"{h}_explicit" in names else h for h in hyps)


HYPOTHESIS_SETS = ("paper", "explicit")
DEFAULT_HIDDEN_RANGE = DEFAULTS["hidden_range"]
DEFAULT_GF_THRESHOLD = DEFAULTS["gf_threshold"]


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
    hidden_range: tuple[float, float] | None = DEFAULT_HIDDEN_RANGE,
    hypotheses: str = "paper",
    lambda_max_H0: float | None = None,
    gf_threshold: float = DEFAULT_GF_THRESHOLD,
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
        hidden_range: ``(lo, hi)``: a condition with a hidden constant is decided only if its
            verdict is the same for every value of the constant in ``[lo, hi]`` (and at the
            configured value); otherwise it is ``inconclusive (hidden constant)`` and a claim
            that depends on it cannot be ``violated``.  ``None``: the configured value only.
            Default ``(1e-3, 1e3)``: six orders of magnitude around the default 1.
        hypotheses: ``"paper"`` (the claims' hypotheses as stated, with hidden constants) or
            ``"explicit"`` (each condition replaced by its ``*_explicit`` version where the spec
            has one: "under the paper's own explicit constants").
        lambda_max_H0: λ_max(H(0)) of the run: the eigenvalue error scale of ``λ_min(H)`` and,
            in ``mode="gf"``, the discretisation criterion ``α·λ_max(H(0)) ≤ gf_threshold``;
            above it (or unknown) gradient-flow claims are ``inconclusive (discretisation)``.
    """
    from bounds._symbolic import TheoremSpec

    if not isinstance(spec, TheoremSpec):
        raise invalid("spec", spec, "expected a TheoremSpec", "pass bounds.g22_spec(mode)")
    check_choice("mode", mode, ("gd", "gf"), "pass mode='gd' or mode='gf'")
    if not isinstance(trace, Mapping):
        raise invalid("trace", trace, "expected a mapping of observable name → array",
                      "pass RunResult.trace")
    if not isinstance(symbols, Mapping):
        raise invalid("symbols", symbols, "expected a mapping of symbol name → value",
                      "pass RunResult.record['symbols']")
    if "step" not in trace:
        raise invalid("trace", sorted(trace), "has no 'step' array", "record the step indices")
    if hypotheses not in HYPOTHESIS_SETS:
        raise invalid("hypotheses", hypotheses, "unknown hypothesis set",
                      f"use one of {HYPOTHESIS_SETS}")
    if hidden_range is not None:
        lo, hi = (float(x) for x in hidden_range)
        if not (0 < lo <= hi < math.inf):
            raise invalid("hidden_range", hidden_range, "must be (lo, hi) with 0 < lo ≤ hi < ∞",
                          "pass e.g. (1e-3, 1e3)")
        hidden_range = (lo, hi)
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
    gf_unchecked = None
    if mode == "gf":
        alpha = symvals.get("alpha")
        disc = None if alpha is None or lambda_max_H0 is None else alpha * lambda_max_H0
        if disc is None or not math.isfinite(disc) or disc > gf_threshold:
            gf_unchecked = ("gradient-flow claims are checked on GD iterates only when "
                            f"α·λ_max(H(0)) ≤ {gf_threshold:g}; here it is "
                            + ("unknown" if disc is None or not math.isfinite(disc)
                               else f"{disc:.3g}"))

    def status_of(name: str) -> str:
        if name not in done:
            evaluate(name)
        return done[name].status

    def hyps_of(cl: Any) -> tuple[str, ...]:
        return explicit_hypotheses(spec, cl.hypotheses) if hypotheses == "explicit" \
            else tuple(cl.hypotheses)

    def failed_of(hyps: Sequence[str]) -> tuple[str, ...]:
        return tuple(h for h in hyps if h not in active and status_of(h) in ("violated", "vacuous"))

    def unsure_of(hyps: Sequence[str]) -> dict[str, str]:
        return {h: str(done[h].details.get("inconclusive_reason") or "inconclusive")
                for h in hyps if h not in active and status_of(h) == "inconclusive"}

    def evaluate(name: str) -> None:
        if name in done or name in active:
            return
        active.add(name)
        try:
            if name in cond_by_name:
                done[name] = _condition_verdict(cond_by_name[name], symvals, tol, hidden_range)
            elif name in assum_by_name:
                done[name] = _assumption_verdict(assum_by_name[name])
            else:
                cl = claim_by_name[name]
                hy = hyps_of(cl)
                done[name] = _claim_verdict(cl, trace, symvals, tol, failed_of(hy), unsure_of(hy),
                                            gf_unchecked=gf_unchecked,
                                            lambda_max_H0=lambda_max_H0)
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
            msg = "; ".join(f"{s.label} [{s.name}]: {_event_word(s, st)}"
                            for s, st in zip(subs, obs_status, strict=False))
            wv = max(subs, key=lambda s: -math.inf if s.ratio is None else s.ratio)
            det: dict[str, Any] = {"checked_by": list(a.checked_by)}
            if any(s.details.get("event") for s in subs):
                det["event"] = True
                det["event_occurred"] = status == "holds" if status != "inconclusive" else None
            st_notes = [s.details["structural"] for s in subs if s.details.get("structural")]
            if st_notes:
                det["structural"] = st_notes[0]
            return Verdict(a.name, a.label, "assumption", status, observable=wv.observable,
                           sense=wv.sense, observed=wv.observed, bound=wv.bound, ratio=wv.ratio,
                           slack=wv.slack if status == "holds" else None,
                           first_violation_step=wv.first_violation_step,
                           worst_step=wv.worst_step,
                           message=f"checked by {', '.join(a.checked_by)} — {msg}", details=det)
        return Verdict(a.name, a.label, "assumption", "inconclusive",
                       message=f"no numerical check for this assumption: {a.description}")

    out: list[Verdict] = []
    for a in spec.assumptions:
        evaluate(a.name)
        out.append(done[a.name])
    for c in spec.conditions:
        evaluate(c.name)
        out.append(done[c.name])
    measured_c = symbols.get("c_source") == "measured"
    for cl in claims:
        evaluate(cl.name)
        v = done[cl.name]
        if measured_c and cl.at_init_only and cl.observable in ("A_norm", "W_norm"):
            # ‖A(0)‖, ‖W(0)‖ ≤ c√m with c = max(‖A(0)‖, ‖W(0)‖)/√m: true by the choice of c
            v = Verdict(**{**v.__dict__, "details": {**dict(v.details),
                                                     "by_construction": _C_MEASURED_BY}})
        out.append(v)
    return tuple(out)


_C_MEASURED_BY = "c is measured from A(0), W(0)"


def _event_word(v: Verdict, observed_status: str) -> str:
    if not v.details.get("event"):
        return observed_status
    if observed_status == "holds":
        return "event occurred"
    if observed_status == "violated":
        return ("event impossible (" + str(v.details["structural"]) + ")"
                if v.details.get("structural") else "event did not occur")
    return "undecided"

