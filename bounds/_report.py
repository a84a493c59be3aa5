"""One call that computes everything ``implicit-verify bounds`` prints.

:func:`bounds_report` returns a JSON-ready dict; :func:`format_table` and
:func:`format_latex` render it.  The CLI (:mod:`bounds._cli`) only parses arguments.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from bounds._data import audit_data, validate_X, validate_y
from bounds._errors import InvalidArgument, invalid
from bounds._kernels import lambda0 as _lambda0
from bounds._norms import NormConstant
from bounds._solve import (
    _hidden_values,
    _json_num,
    _lambda0_zero_level,
    _positive,
    gamma_max,
    init_norm_tension,
    required_width,
    step_max,
)
from bounds._symbolic import Bound
from bounds.deq_kernels import DIGEST_C, deq_kernels
from bounds.gao2022_iclr import g22_spec

__all__ = ["bounds_report", "format_table", "format_latex"]


def _num(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return [_num(v) for v in x.tolist()]
    if isinstance(x, float):
        return _json_num(x)
    return x


def _bound_entry(b: Bound, values: Mapping[str, Any]) -> dict[str, Any]:
    missing = [a for a in b.free_symbols if a not in values and a not in b.hidden]
    value = None if missing else _num(float(b.evaluate(**values)))
    return {"label": b.label, "name": b.name, "latex": b.latex(), "value": value,
            "provenance": b.provenance.value, "hidden": list(b.hidden),
            "description": b.description}


def bounds_report(
    X: Any,
    y: Any = None,
    *,
    delta: float = 0.01,
    mode: str = "gd",
    m: int | None = None,
    gamma: float | None = None,
    alpha: float | None = None,
    c: float | None = None,
    e0_norm: float | None = None,
    hidden: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Everything G22 says about data ``X`` (and labels ``y``), as a JSON-ready dict.

    Keys: ``n, d, mode, delta, lambda0, X_norm, e0_norm, e0_source, c, gamma_max, step_max,
    width_required, evaluated_at, bounds, audit, known_issues, hidden_constants`` and, when
    any of ``m``, ``gamma``, ``alpha`` is given, ``configuration`` (each checkable condition
    with its verdict, required value and ratio).  Bounds are evaluated at ``m`` (default: the
    binding required width), ``gamma`` (default γ_max), ``alpha`` (default α_max) and
    ``k = t = 0``.  Infinite values are written as ``null``.
    """
    Xv = validate_X(X)
    yv = None if y is None else validate_y(y, Xv.shape[0])
    n, d = Xv.shape
    spec = g22_spec(mode)
    hid = _hidden_values(hidden)
    if m is not None and (isinstance(m, bool) or int(m) != m or m < 1):
        raise invalid("m", m, "must be an integer ≥ 1", "e.g. --m 4000")
    if gamma is not None:
        _positive("gamma", gamma)
    if alpha is not None:
        _positive("alpha", alpha)
    c_given = None if c is None else NormConstant(_positive("c", c), "given")
    audit = audit_data(Xv)
    lam_raw = _lambda0(Xv)
    lam_zero = lam_raw <= _lambda0_zero_level(Xv)
    lam0 = 0.0 if lam_zero else lam_raw
    req = required_width(Xv, yv, delta=delta, c=c_given, e0_norm=e0_norm, hidden=hid,
                         mode=mode, lambda0=lam0)
    tension = init_norm_tension(Xv, yv, delta=delta, c=c_given, e0_norm=req.e0_norm,
                                hidden=hid, lambda0=lam0)
    m_eval = float(m) if m is not None else req.m
    if c_given is not None:
        c_rec = c_given
    elif np.isfinite(m_eval):
        c_rec = NormConstant.tail(int(min(m_eval, 2**62)), d, delta)
    else:
        c_rec = None
    c_val = c_rec.value if c_rec is not None else math.nan
    g_max = gamma_max(c_val) if c_rec is not None else math.nan
    a_max = step_max(lam0, n, hid["C_step"]) if lam0 > 0 else math.nan
    at = {"m": m_eval, "c": c_val, "gamma": gamma if gamma is not None else g_max,
          "alpha": alpha if alpha is not None else a_max, "k": 0.0, "t": 0.0}
    values = {"n": float(n), "d": float(d), "delta": float(delta), "lambda0": lam0,
              "X_norm": req.X_norm, "e0_norm": req.e0_norm, **hid, **at}
    out: dict[str, Any] = {
        "spec": spec.key,
        "title": spec.title,
        "n": n,
        "d": d,
        "mode": mode,
        "delta": float(delta),
        "lambda0": lam_raw,
        "lambda0_numerically_zero": bool(lam_zero),
        "X_norm": req.X_norm,
        "e0_norm": req.e0_norm,
        "e0_source": req.e0_source,
        "c": None if c_rec is None else {**c_rec.to_dict(), "at_m": _json_num(m_eval)},
        "gamma_max": _json_num(g_max),
        "step_max": _json_num(a_max),
        "width_required": req.to_dict(),
        "evaluated_at": {k: _json_num(float(v)) for k, v in at.items()},
        "bounds": [_bound_entry(b, values) for b in spec.bounds],
        "audit": audit.to_dict(),
        "hidden_constants": {h: hid[h] for h in spec.hidden},
        "hidden_note": "constants hidden in the paper's Ω(·)/O(·); values are assumptions "
                       "(default 1), set them with --hidden NAME=VALUE",
    }
    t = tension.to_dict()
    issues = []
    for i, text in enumerate(spec.known_issues, start=1):
        numbers: Any = None
        if i in (1, 2):
            numbers = {"checked_by": "verify: structured Gram vs autograd Jacobian Gram"}
        elif i == 3:
            numbers = t["issue3"]
        elif i == 4:
            numbers = t["issue4"]
        elif i == 5:
            numbers = {"sigma_prime_at_0": 0.0}
        issues.append({"id": i, "text": text, "numbers": numbers})
    out["known_issues"] = issues
    if m is not None or gamma is not None or alpha is not None:
        checks: list[dict[str, Any]] = []
        config: dict[str, Any] = {"m": m, "gamma": gamma, "alpha": alpha, "conditions": checks}
        given = {"m": m, "gamma": gamma, "alpha": alpha}
        for cond in spec.conditions:
            val = given.get(cond.quantity)
            if val is None or (cond.quantity != "m" and c_rec is None and
                               "c" in cond.bound.free_symbols):
                checks.append({"name": cond.name, "label": cond.label,
                                             "quantity": cond.quantity, "verdict": "not given"})
                continue
            chk = cond.check(float(val), **values)
            checks.append({k: _num(v) for k, v in chk.to_dict().items()})
        out["configuration"] = config
    out["kernels"] = kernel_constants(Xv, at["gamma"], at["alpha"], lam0)
    if not audit.ok:
        out["warnings"] = audit.messages()
    return out


#: Rows of unequal norm use the per-pair quadrature (cost ∝ n²); beyond this n it is skipped.
KERNEL_PAIRS_MAX_N = 64


def kernel_constants(X: np.ndarray, gamma: float, alpha: float, lam0: float) -> dict[str, Any]:
    """``λ_min(H∞)``, ``λ_min(K∞)`` and the toolkit's lazy-regime rate ``1 − α·λ_min(H∞)/2``.

    Provenance ``derived`` (digest C; this toolkit's, not the paper's): ``H∞`` is the exact
    infinite-width NTK of the network (all four parameter blocks), ``H∞ ⪰ G∞``, so
    ``λ_min(H∞) ≥ λ0``; the paper's rate ``1 − αλ0/2`` [G22 Thm 3.2] uses the v-block alone.
    Returns ``{"status": "not computed", "reason": …}`` when the kernels are not defined here
    (γ not finite, zero / parallel rows, or unequal norms with n > KERNEL_PAIRS_MAX_N).
    """
    base: dict[str, Any] = {"provenance": "derived", "source": DIGEST_C, "gamma": _json_num(gamma),
                            "note": "this toolkit's infinite-width NTK of the equilibrium model "
                                    "(all four blocks), not a quantity of the paper"}
    norms = np.sqrt(np.einsum("ij,ij->i", X, X))
    reason = None
    if not (np.isfinite(gamma) and gamma > 0):
        reason = "γ not available (give --gamma or a finite γ_max)"
    elif np.ptp(norms) > 1e-12 * float(np.max(norms)) and X.shape[0] > KERNEL_PAIRS_MAX_N:
        reason = (f"rows of unequal norm and n > {KERNEL_PAIRS_MAX_N}: use "
                  "bounds.deq_kernels(X, gamma, method='pairs') directly")
    if reason is None:
        try:
            kr = deq_kernels(X, gamma)
        except InvalidArgument as exc:
            reason = str(exc)
    if reason is not None:
        return {**base, "status": "not computed", "reason": reason}
    s = kr.summary()
    lh = s["lambda_min_H"] if kr.status.ok else math.nan
    rate = {"alpha": _json_num(alpha),
            "paper": _json_num(1 - alpha * lam0 / 2) if np.isfinite(alpha) else None,
            "toolkit": _json_num(1 - alpha * lh / 2) if np.isfinite(alpha * lh) else None,
            "paper_decrement": _json_num(alpha * lam0 / 2) if np.isfinite(alpha) else None,
            "toolkit_decrement": _json_num(alpha * lh / 2) if np.isfinite(alpha * lh) else None}
    return {**base, "status": s["status"], "message": s["message"],
            "lambda_min_Hinf": _json_num(lh),
            "lambda_min_Kinf": _json_num(s["lambda_min_K"]) if kr.status.ok else None,
            "ratio_Hinf_over_lambda0": _json_num(lh / lam0) if lam0 > 0 else None,
            "rate": rate, "iterations": s["iterations"], "residual": _json_num(s["residual"]),
            "contraction": _json_num(s["contraction"]), "method": s["method"],
            "errors": {k: _json_num(v) for k, v in s["errors"].items()},
            "seconds": s["seconds"]}


def _kernel_lines(k: Mapping[str, Any]) -> list[str]:
    head = (f"infinite-width kernels at γ = {_fmt(k['gamma'])} (derived, this toolkit's — not the "
            f"paper's; {k['source']}):")
    if k["status"] == "not computed":
        return [head, f"  not computed: {k['reason']}"]
    r = k["rate"]
    err = ", ".join(f"{a} {_fmt(b)}" for a, b in k["errors"].items())
    return [head,
            f"  λ_min(H∞) = {_fmt(k['lambda_min_Hinf'])}   (λ0 = λ_min(G∞) is the v-block alone; "
            f"λ_min(H∞)/λ0 = {_fmt(k['ratio_Hinf_over_lambda0'])})   λ_min(K∞) = "
            f"{_fmt(k['lambda_min_Kinf'])}",
            f"  rate per GD step at α = {_fmt(r['alpha'])}: paper 1 − αλ0/2 = 1 − "
            f"{_fmt(r['paper_decrement'])};  toolkit lazy-regime 1 − α·λ_min(H∞)/2 = 1 − "
            f"{_fmt(r['toolkit_decrement'])}",
            f"  NNGP fixed point: {k['status']} ({k['iterations']} Newton steps, residual "
            f"{_fmt(k['residual'])}, contraction γ²Ė ≤ {_fmt(k['contraction'])}; accuracy checks: "
            f"{err})"]


def _fmt(x: Any, none: str = "n.a.") -> str:
    if x is None:
        return none
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, (int, np.integer)):
        return str(x)
    if isinstance(x, float):
        return f"{x:.4g}"
    return str(x)


def format_table(r: Mapping[str, Any]) -> str:
    """Plain-text rendering of :func:`bounds_report`'s dict."""
    lines = [f"implicit-verify bounds — {r['title']}", ""]
    a = r["audit"]
    status = "OK" if a["ok"] else "VIOLATED"
    wp = a["worst_pair"]
    lines.append(f"data: n={r['n']} d={r['d']}  Assumption 2: {status}  "
                 f"(max |cos| = {a['max_abs_cos']:.4g} at pair {tuple(wp) if wp else '-'}, "
                 f"max |‖x‖−1| = {a['max_norm_dev']:.2g})")
    for msg in r.get("warnings", []):
        lines.append(f"  warning: {msg}")
    zero = " (numerically zero)" if r["lambda0_numerically_zero"] else ""
    lines.append(f"λ0 = {r['lambda0']:.6g}{zero}   ‖X‖ = {r['X_norm']:.4g}   ‖e0‖ = {r['e0_norm']:.4g} "
                 f"[{r['e0_source']}]")
    c = r["c"]
    if c is not None:
        lines.append(f"c = {c['value']:.6g} ({c['source']}, at m = {_fmt(c['at_m'])}, δ = "
                     f"{r['delta']:g})   γ_max = min(½, 1/(4c)) = {_fmt(r['gamma_max'])}   "
                     f"α_max = C_step·λ0/n² = {_fmt(r['step_max'])}")
    hc = "  ".join(f"{k}={v:g}" for k, v in r["hidden_constants"].items())
    lines.append(f"hidden constants (not given by the paper; assumed): {hc}")
    lines.append("")
    lines.append("width conditions (smallest admissible m; * = binding, + = binding among the "
                 "paper's own):")
    w = r["width_required"]
    for e in w["conditions"]:
        mark = ("*" if e["binding"] else " ") + ("+" if e["binding_printed"] else " ")
        hid = f" [{', '.join(e['hidden'])}]" if e["hidden"] else ""
        lines.append(f"  {mark} {e['name']:<24} {e['label']:<42} m ≥ {_fmt(e['width'], '∞'):>11}  "
                     f"{e['provenance']}{hid}")
    for note in w["notes"]:
        lines.append(f"    note: {note}")
    if "configuration" in r:
        lines.append("")
        lines.append("configuration:")
        for cc in r["configuration"]["conditions"]:
            if cc["verdict"] == "not given":
                lines.append(f"  {cc['name']:<24} ({cc['quantity']} not given)")
            else:
                lines.append(f"  {cc['name']:<24} {cc['quantity']} = {_fmt(cc['value'])} "
                             f"{'≤' if cc['sense'] == 'le' else '≥'} {_fmt(cc['required'])}: "
                             f"{cc['verdict']} (ratio {_fmt(cc['ratio'])}; > 1 fails)")
    ev = r["evaluated_at"]
    lines.append("")
    lines.append(f"bounds at m = {_fmt(ev['m'])}, γ = {_fmt(ev['gamma'])}, α = {_fmt(ev['alpha'])}, "
                 "k = t = 0:")
    for b in r["bounds"]:
        hid = f" [{', '.join(b['hidden'])}]" if b["hidden"] else ""
        lines.append(f"  {b['name']:<24} {b['label']:<42} {_fmt(b['value']):>11}  "
                     f"{b['provenance']}{hid}")
    lines.append("")
    lines.extend(_kernel_lines(r["kernels"]))
    lines.append("")
    lines.append("known issues of the paper:")
    for it in r["known_issues"]:
        lines.append(f"  {it['text']}")
        if it["id"] in (3, 4) and r["lambda0_numerically_zero"]:
            lines.append("     not evaluated: λ0 is numerically zero")
        elif it["id"] == 3:
            for e in it["numbers"]:
                lines.append(f"     {e['label']}: holds at t=0 only for m ≤ {_fmt(e['m_max'], '∞')}; "
                             f"required m ≥ {_fmt(e['required_width'], '∞')} (paper's own: "
                             f"{_fmt(e['required_width_printed'], '∞')}) → "
                             + ("CONFLICT" if e["conflict"] else "compatible")
                             + " (paper's own: "
                             + ("CONFLICT" if e["conflict_printed"] else "compatible") + ")")
        elif it["id"] == 4:
            nb = it["numbers"]
            lines.append(f"     n²/λ0²·log(n/δ) = {_fmt(nb['width_thm31_lambda0_sq'])} vs as printed "
                         f"n²/λ0·log(n/δ) = {_fmt(nb['width_thm32_as_printed'])} (ratio 1/λ0 = "
                         f"{_fmt(nb['ratio_thm31_over_thm32'])}); lemma width "
                         f"{_fmt(nb['width_lemma36' if r['mode'] == 'gd' else 'width_lemma35'])}; "
                         f"binding among the paper's own: {nb['binding_printed_' + r['mode']]}, "
                         f"overall: {nb['binding_' + r['mode']]}")
    return "\n".join(lines)


#: Unicode of labels → LaTeX (text mode), so the output compiles with plain pdflatex.
_TEX_TEXT = {"γ": r"$\gamma$", "½": r"$\frac{1}{2}$", "Ω": r"$\Omega$", "λ": r"$\lambda$",
             "α": r"$\alpha$", "δ": r"$\delta$", "≥": r"$\geq$", "≤": r"$\leq$", "–": "--",
             "—": "---", "·": r"$\cdot$", "∞": r"$\infty$", "‖": r"$\|$", "√": r"$\surd$",
             "×": r"$\times$", "→": r"$\to$", "′": "'"}


def _tex_escape(s: str) -> str:
    """Text-mode LaTeX: special characters escaped, Unicode written as LaTeX (anything else
    non-ASCII becomes ``?`` rather than breaking the document)."""
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"),
                 ("#", r"\#"), ("{", r"\{"), ("}", r"\}"), ("^", r"\^{}"), ("~", r"\~{}")):
        s = s.replace(a, b)
    return "".join(_TEX_TEXT.get(ch, ch if ord(ch) < 128 else "?") for ch in s)


def _tex_num(x: Any, math: bool = False) -> str:
    if x is None:
        return r"\infty" if math else "--"
    t = f"{float(x):.4g}"
    if "e" in t:
        mant, ex = t.split("e")
        t = f"{mant} \\times 10^{{{int(ex)}}}" if math else f"${mant} \\times 10^{{{int(ex)}}}$"
    return t


def format_latex(r: Mapping[str, Any]) -> str:
    """A LaTeX ``tabular`` of the bounds, the width conditions with their formulas and (when a
    configuration was given) its condition verdicts, ratio observed/bound (> 1 fails).  ASCII
    only, so it compiles with plain ``pdflatex``."""
    lines = [
        f"% implicit-verify bounds: {r['spec']}, n={r['n']}, d={r['d']}, "
        f"lambda0={r['lambda0']:.6g}, delta={r['delta']:g}",
        r"\begin{tabular}{llllr}",
        r"\hline",
        r"label & name & bound & provenance & value \\",
        r"\hline",
    ]
    tex_of = {b["name"]: b["latex"] for b in r["bounds"]}
    for b in r["bounds"]:
        val = "--" if b["value"] is None else f"{b['value']:.4g}"
        lines.append(f"{_tex_escape(b['label'])} & {_tex_escape(b['name'])} & ${b['latex']}$ & "
                     f"{b['provenance']} & {val} \\\\")
    lines.append(r"\hline")
    for e in r["width_required"]["conditions"]:
        val = "$\\infty$" if e["width"] is None else f"{e['width']:.4g}"
        star = r" (binding)" if e["binding"] else ""
        formula = tex_of.get(str(e["name"]))
        cell = f"$m \\geq {formula}$" if formula else "$m \\geq$ (see value)"
        lines.append(f"{_tex_escape(e['label'])} & {_tex_escape(e['name'])}{star} & {cell} & "
                     f"{e['provenance']} & {val} \\\\")
    conf = r.get("configuration")
    if conf:
        lines.append(r"\hline")
        lines.append(r"configuration & condition & verdict & ratio (observed/bound, $>1$ fails) & "
                     r"value \\")
        for cc in conf["conditions"]:
            if cc.get("verdict") == "not given":
                continue
            rel = r"\leq" if cc["sense"] == "le" else r"\geq"
            lines.append(f"{_tex_escape(cc['label'])} & {_tex_escape(cc['name'])} & "
                         f"{_tex_escape(str(cc['verdict']))} & {_tex_num(cc['ratio'])} & "
                         f"${_tex_num(cc['value'], math=True)} {rel} "
                         f"{_tex_num(cc['required'], math=True)}$ \\\\")
    k = r.get("kernels")
    if k is not None and k["status"] != "not computed":
        lines.append(r"\hline")
        for lab, tex, val in (
                ("digest C", r"\lambda_{\min}(H^\infty)", k["lambda_min_Hinf"]),
                ("digest C", r"\lambda_{\min}(K^\infty)", k["lambda_min_Kinf"]),
                ("digest C", r"\alpha\lambda_{\min}(H^\infty)/2 \ (\mathrm{rate}\ 1 - \cdot)",
                 k["rate"]["toolkit_decrement"])):
            v = "--" if val is None else f"{val:.4g}"
            lines.append(f"{lab} (toolkit, not the paper) & kernel & ${tex}$ & derived & {v} \\\\")
    lines += [r"\hline", r"\end{tabular}"]
    return "\n".join(lines)
