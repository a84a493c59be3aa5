"""The theory's required widths next to the measured thresholds m*(n), and implied constants.

For each n with a fitted threshold, :func:`theory_vs_measured` evaluates every width condition of
the spec with :func:`bounds.required_width` (hidden constants at the values passed, default 1)
and reports ``ratio = theory width / measured m*``.  For a condition carrying one hidden
constant ``C_*`` it also reports the **implied constant**: the value of ``C_*`` at which the
condition's bound, evaluated at ``m = m*`` (with ``c = c(m*)`` when the bound depends on c),
equals ``m*`` — i.e. the constant that would make the theory's smallest admissible width the
measured one.  It is obtained by solving the sympy equation ``bound = m*`` for ``C_*``; the code
first checks from the expression that the bound is homogeneous of degree one in ``C_*``
(``bound − C·∂bound/∂C ≡ 0``), so the solution is unique, rather than assuming it.

The trend of the implied constant in n is the least-squares slope of ``log C_implied`` on
``log n`` with a percentile CI over the threshold bootstrap: ``flat`` when the CI holds 0 (the
theory has the measured shape in n), ``falling`` when it lies below 0 (the formula grows faster
in n than the measured threshold: loose in n), ``rising`` when above 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sympy as sp

from bounds import g22_spec, norm_constant_tail, required_width, symbol
from bounds._errors import invalid
from bounds._norms import NormConstant
from bounds._symbolic import TheoremSpec

from .thresholds import WidthThresholds

__all__ = ["ConstantTrend", "TheoryComparison", "implied_constant_expr", "theory_vs_measured",
           "init_theory_widths", "local_exponents", "THEORY_DELTA"]

#: δ of the initial-Gram theory widths compared with m*½ (the width at which the event holds
#: w.p. ≥ ½), used by :func:`verify.sweep.controls.fit_control`
THEORY_DELTA = 0.5


@dataclass(frozen=True)
class ConstantTrend:
    condition: str
    constant: str
    slope: float | None
    slope_lo: float | None
    slope_hi: float | None
    word: str


@dataclass(frozen=True, eq=False)
class TheoryComparison:
    """``rows``: per (n, condition): ``label, provenance, hidden, theory_width, m_star, ratio,
    constant, implied``; ``trends``: implied-constant slope in n per condition."""

    outcome: str
    q: float
    spec_key: str
    rows: pd.DataFrame
    trends: tuple[ConstantTrend, ...]
    notes: tuple[str, ...]


def implied_constant_expr(expr: sp.Expr, constant: str) -> sp.Expr:
    """Solve ``expr = M`` for the hidden constant (M = the symbol ``m_measured``).

    Raises unless ``expr`` is homogeneous of degree one in the constant, checked symbolically.
    """
    C = symbol(constant)
    M = sp.Symbol("m_measured", positive=True)
    if sp.simplify(expr - C * sp.diff(expr, C)) != 0:
        raise invalid("constant", constant, f"bound {expr} is not linear homogeneous in it",
                      "implied constants need a bound of the form C·g")
    sol = sp.solve(sp.Eq(expr, M), C)
    if len(sol) != 1:
        raise invalid("constant", constant, f"solving {expr} = m for it gave {sol}",
                      "report the ratio only")
    return sp.simplify(sol[0])


def _data_for(data: Any, n: int) -> tuple[Any, Any]:
    item = data(n) if callable(data) else data.get(n) if isinstance(data, Mapping) else None
    if item is None:
        raise invalid("data", n, "has no data for this n", "pass a mapping n → X or (X, y)")
    if isinstance(item, tuple):
        return item[0], item[1]
    return item, None


def _c_at(c: Any, m: float, d: int, delta: float) -> float:
    if c is None:
        return norm_constant_tail(max(int(round(m)), 1), d, delta)
    if isinstance(c, NormConstant):
        return float(c.value)
    return float(c)


def _implied(fn: Callable[..., Any], args: tuple[str, ...], base: dict[str, float],
             m: np.ndarray, c: Any, d: int, delta: float) -> np.ndarray:
    m = np.atleast_1d(np.asarray(m, dtype=float))
    vals = {**base, "m": m, "m_measured": m, "c": np.array([_c_at(c, mm, d, delta) for mm in m])}
    return np.asarray(fn(*[vals[a] for a in args]), dtype=float) * np.ones_like(m)


def _trend_word(lo: float | None, hi: float | None, slope: float | None) -> str:
    if slope is None:
        return "unknown (fewer than two n)"
    if lo is None or hi is None:
        return ("falling" if slope < 0 else "rising") + " (point slope, no CI)"
    if lo <= 0.0 <= hi:
        return "flat"
    return "falling" if hi < 0 else "rising"


def theory_vs_measured(result: WidthThresholds,
                       data: Mapping[int, Any] | Callable[[int], Any], *, q: float = 0.5,
                       delta: float = 0.01, spec: TheoremSpec | None = None, mode: str = "gd",
                       c: float | NormConstant | None = None, hidden: Mapping[str, float] | None = None,
                       ci: float | None = None) -> TheoryComparison:
    """Theory width / measured m*_q(n) per width condition and n, and implied hidden constants.

    ``data``: mapping (or function) n → ``X`` or ``(X, y)``: the data set of that sample size,
    as the sweep used it.  ``spec`` defaults to ``g22_spec(mode)``; ``delta``, ``c``,
    ``hidden`` are passed to :func:`bounds.required_width`.
    """
    if not isinstance(result, WidthThresholds):
        raise invalid("result", type(result).__name__, "is not a WidthThresholds",
                      "pass the result of fit_width_threshold")
    law = result.law(q)
    ci = result.ci if ci is None else ci
    spec_ = g22_spec(mode) if spec is None else spec
    thr = result.thresholds[np.isclose(result.thresholds["q"], q)]
    pts = thr[(thr["kind"] == "fit") & np.isfinite(thr["m_star"])]
    notes = []
    others = [int(v) for v in thr["n"] if int(v) not in set(pts["n"].astype(int))]
    if others:
        notes.append(f"n = {others} have bounds only (no point m*): left out of the comparison")
    hid_vals = {h: 1.0 for h in spec_.hidden} | dict(hidden or {})
    solved: dict[str, tuple[str, Callable[..., Any], tuple[str, ...]] | None] = {}
    for cond in spec_.width_conditions():
        b = cond.bound
        if len(b.hidden) == 1:
            e = implied_constant_expr(b.expr, b.hidden[0])
            args = tuple(sorted({str(s) for s in e.free_symbols}))
            solved[cond.name] = (b.hidden[0], sp.lambdify([sp.Symbol(a) if a == "m_measured"
                                                             else symbol(a) for a in args], e,
                                                            modules=["numpy", "scipy"]), args)
        else:
            solved[cond.name] = None
            if len(b.hidden) > 1:
                notes.append(f"{cond.name}: {len(b.hidden)} hidden constants, no implied value")
    rows = []
    boot_c: dict[str, dict[int, np.ndarray]] = {k: {} for k, v in solved.items() if v}
    for r in pts.itertuples(index=False):
        n, mstar = int(r.n), float(r.m_star)
        X, y = _data_for(data, n)
        req = required_width(X, y, delta=delta, c=c, hidden=hidden, spec=spec_, mode=mode)
        base = {"n": float(req.n), "d": float(req.d), "delta": float(delta),
                "lambda0": req.lambda0, "X_norm": req.X_norm, "e0_norm": req.e0_norm, **hid_vals}

        bt = result.boot[(n, q)] if (n, q) in result.boot else np.empty((0, 2))
        okb = (bt[:, 0] == bt[:, 1]) & np.isfinite(bt[:, 0]) if bt.size else np.zeros(0, bool)
        for e in req.entries:
            sv = solved.get(e.name)
            imp = math.nan
            if sv is not None:
                imp = float(_implied(sv[1], sv[2], base, np.array([mstar]), c, req.d, delta)[0])
                full = np.full(bt.shape[0], np.nan)
                if okb.any():
                    full[okb] = _implied(sv[1], sv[2], base, bt[okb, 0], c, req.d, delta)
                boot_c[e.name][n] = full
            rows.append({"n": n, "condition": e.name, "label": e.label, "provenance": e.provenance,
                         "hidden": ",".join(e.hidden), "theory_width": e.width, "m_star": mstar,
                         "ratio": e.width / mstar, "constant": sv[0] if sv else "",
                         "implied": imp})
    df = pd.DataFrame(rows)
    trends = []
    a = (1.0 - ci) / 2.0
    for name, sv in solved.items():
        if sv is None or df.empty:
            continue
        sub = df[df["condition"] == name]
        ok = np.isfinite(sub["implied"]) & (sub["implied"] > 0)
        if ok.sum() < 2:
            trends.append(ConstantTrend(name, sv[0], None, None, None, _trend_word(None, None, None)))
            continue
        ns = sub["n"][ok].to_numpy(float)
        slope = float(np.polyfit(np.log(ns), np.log(sub["implied"][ok].to_numpy(float)), 1)[0])
        mat = np.stack([boot_c[name][int(v)] for v in ns], axis=1)
        slopes = [float(np.polyfit(np.log(ns[g]), np.log(row[g]), 1)[0])
                  for row in mat for g in [np.isfinite(row) & (row > 0)] if g.sum() >= 2]
        lo = float(np.quantile(slopes, a)) if slopes else None
        hi = float(np.quantile(slopes, 1 - a)) if slopes else None
        trends.append(ConstantTrend(name, sv[0], slope, lo, hi, _trend_word(lo, hi, slope)))
    if law.p is None:
        notes.append(law.reason)
    return TheoryComparison(result.outcome, float(q), spec_.key, df, tuple(trends), tuple(notes))


def init_theory_widths(n: Any, lambda0: Any, *, delta: float = THEORY_DELTA) -> dict[str, np.ndarray]:
    """The theory widths for the initial-Gram event λ_min(G(0)) ≥ ¾λ0 at (n, λ0), from the specs'
    own sympy expressions: ``g22_lemma33`` (G22 Lemma 3.3, hidden C_prob = 1) and ``chernoff``
    (the derived matrix-Chernoff width of :func:`bounds.gg22_spec`, explicit constants; it
    depends on m through log(nm/δ), so the width is the fixed point m = W(n, λ0, m), reached by
    iteration from m = n: W grows like log m, so the map is a contraction for W ≥ 1)."""
    from bounds import gg22_spec

    n = np.asarray(n, dtype=np.float64)
    lam = np.asarray(lambda0, dtype=np.float64)
    out: dict[str, np.ndarray] = {}
    conds = {c.name: c.bound.expr for c in g22_spec("gd").width_conditions()}
    e = conds["width_lemma33"].subs(symbol("C_prob"), 1)
    f = sp.lambdify([symbol("n"), symbol("lambda0"), symbol("delta")], e, "numpy")
    out["g22_lemma33"] = np.asarray(f(n, lam, delta), dtype=np.float64) * np.ones_like(n)
    ch = {c.name: c.bound.expr for c in gg22_spec("gd").width_conditions()}["width_chernoff"]
    g = sp.lambdify([symbol("n"), symbol("m"), symbol("lambda0"), symbol("delta")], ch, "numpy")
    m = n.copy()
    for _ in range(200):
        new = np.asarray(g(n, m, lam, delta), dtype=np.float64) * np.ones_like(n)
        done = np.allclose(new, m, rtol=1e-12, atol=0.0)
        m = new
        if done:
            break
    out["chernoff"] = m
    return out


def local_exponents(logw: np.ndarray, logn: np.ndarray, loglam_inv: np.ndarray) -> tuple[float, float]:
    """Least-squares slopes (p, b) of log width on (log n, log 1/λ0) over the groups."""
    D = np.column_stack([np.ones_like(logn), logn, loglam_inv])
    coef = np.linalg.lstsq(D, logw, rcond=None)[0]
    return float(coef[1]), float(coef[2])
