"""G22-specific report parts: the paper's known issues 3 and 4 computed from the verdicts, the
summary sentences about them, and the *Known issues in the paper* section."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from verify.report.blocks import _H, _P, _UL, Section, _Code, _Strong, _Table
from verify.report.model import (
    ReportMeta,
    ReportRun,
    _factor,
    _mset,
    _num,
    _same,
    _short_label,
    fmt,
)


def _init_issue(runs: Sequence[ReportRun]) -> list[dict[str, Any]]:
    """Known issue 3: norm claims of u, v at k = 0 force √m ≤ bound, i.e. m ≤ bound²."""
    out = []
    for obs in ("u_norm", "v_norm"):
        for r in runs:
            vs = [v for v in r.verdicts("claim") if v.get("observable") == obs]
            if not vs:
                continue
            v = vs[0]
            B = _num(v.get("bound"))
            x, y = r.series(obs)
            at0 = float(y[0]) if y.size and x[0] == 0 else None
            out.append({
                "observable": obs, "name": v.get("name"), "label": v.get("label"), "m": r.m,
                "bound": B, "observed_at_init": at0, "sqrt_m": math.sqrt(r.m) if r.m else None,
                "m_limit": None if B is None else B * B,
                "fails_at_init": None if B is None or at0 is None else bool(at0 > B),
            })
    return out


def _width_issue(runs: Sequence[ReportRun]) -> list[dict[str, Any]]:
    """Known issue 4: all width conditions per run, the binding one, and the binding one among
    the paper's own conditions (provenance ``paper``/``hidden``, i.e. not ``derived``)."""
    out = []
    prov: dict[str, Any] = {}
    for r in runs:
        for b in r.record.get("bounds") or []:
            prov.setdefault(str(b.get("name")), b.get("provenance"))
    for r in runs:
        conds = [v for v in r.verdicts("condition") if v.get("observable") == "m"]
        rows: list[dict[str, Any]] = []
        for v in conds:
            p = v.get("provenance") or prov.get(str(v.get("name")))
            rows.append({"name": v.get("name"), "label": v.get("label"), "provenance": p,
                         "required": _num(v.get("bound")), "status": v.get("status"),
                         "ratio": _num(v.get("ratio"))})
        fin = [c for c in rows if c["required"] is not None and math.isfinite(c["required"])]
        own = [c for c in fin if c["provenance"] != "derived"] or fin
        binding = max(fin, key=lambda c: float(c["required"])) if fin else None
        binding_p = max(own, key=lambda c: float(c["required"])) if own else None
        out.append({
            "m": r.m,
            "conditions": rows,
            "binding": None if binding is None else binding["name"],
            "binding_label": None if binding is None else binding["label"],
            "binding_printed": None if binding_p is None else binding_p["name"],
            "binding_printed_label": None if binding_p is None else binding_p["label"],
            "binding_printed_width": None if binding_p is None else binding_p["required"],
        })
    return out


def _expr_text(e: Any) -> str:
    """A sympy expression in the report's notation (λ0, ‖X‖²)."""
    t = str(e).replace("X_norm**2", "‖X‖²").replace("lambda0", "λ0").replace("*", "")
    return t


def issue3_general(runs: Sequence[ReportRun]) -> dict[str, Any] | None:
    """Known issue 3 for all data: the range of the hidden width constant for which (ii)/(iii)
    at k = 0 and the width hypothesis can both hold, and the ratio under the proof's explicit
    constant (:func:`bounds.g22_issue3_limits`, derived in sympy from the spec)."""
    if not runs:
        return None
    import sympy as sp

    from bounds import g22_issue3_limits, symbol

    mode = runs[0].mode if runs[0].mode in ("gd", "gf") else "gd"
    lim = g22_issue3_limits(mode)
    worst: dict[str, float] = {}
    for r in runs:
        X, lam = _num(r.symbols.get("X_norm")), _num(r.symbols.get("lambda0"))
        if X is None or lam is None:
            return None
        subs = {symbol("X_norm"): X, symbol("lambda0"): lam}
        for k_, e in lim.items():
            val = float(e.subs(subs))
            worst[k_] = max(worst.get(k_, -math.inf), val) if k_.startswith("C_max") else \
                min(worst.get(k_, math.inf), val)
    # any data: unit rows give ‖X‖ ≥ 1 and G∞_ii = ½ gives λ0 ≤ ½; both expressions are
    # monotone (C·λ0/‖X‖²), so the extreme is at ‖X‖ = 1, λ0 = ½
    anyd = {k_: float(e.subs({symbol("X_norm"): 1, symbol("lambda0"): sp.Rational(1, 2)}))
            for k_, e in lim.items()}
    return {"mode": mode, "expr": {k_: _expr_text(e) for k_, e in lim.items()},
            "this_data": worst, "any_data": anyd}


def _issue_lines(init: Sequence[Mapping[str, Any]], width: Sequence[Mapping[str, Any]],
                 widths: Sequence[int], general: Mapping[str, Any] | None = None,
                 findings: Sequence[Mapping[str, Any]] = ()) -> list[str]:
    lines = []
    i1 = [(f.get("m"), (f.get("value") or {}).get("rel_diff_printed_vs_corrected"))
          for f in findings if int(f.get("item", 0)) == 1 and f.get("value")]
    i1 = [(m, x) for m, x in i1 if x is not None]
    if i1:
        lines.append("Known issue 1 (eq. 14 prints I_n where the derivation gives 𝟙𝟙ᵀ): "
                     "‖H_printed − H‖₂/‖H‖₂ = " + ", ".join(f"{fmt(x)} (m = {m})" for m, x in i1)
                     + " at the final parameters; immaterial to the proofs, which use only "
                     "G = ΦΦᵀ (and ZZᵀ + ΦΦᵀ), since both forms are ⪰ ΦΦᵀ.")
    fails_any: list[str] = []
    for obs in ("u_norm", "v_norm"):
        rows = [r for r in init if r["observable"] == obs]
        fails = [x["m"] for x in rows if x["fails_at_init"]]
        if fails:
            fails_any.append(f"{_short_label(rows[-1])} fails at initialisation at m ∈ "
                             f"{_mset(fails)}")
    if general is not None:
        e, td, ad = general["expr"], general["this_data"], general["any_data"]
        lem = "3.6" if general["mode"] == "gd" else "3.5"
        txt = (f"Known issue 3: at k = 0, ‖u(0)‖ = ‖v(0)‖ = √m, so Lemma {lem}(ii)/(iii) put an "
               f"upper limit on m, and some width meets both it and the width hypothesis only if "
               f"C_width_lemma ≤ {e['C_max_ii']} ((ii)) and ≤ {e['C_max_iii']} ((iii)) — here "
               f"≤ {fmt(td['C_max_ii'])} and ≤ {fmt(td['C_max_iii'])}, and for any data at "
               f"most {fmt(ad['C_max_ii'])} and {fmt(ad['C_max_iii'])} (‖X‖ ≥ 1, λ0 ≤ ½). "
               f"With the proof's explicit constant the required width exceeds the limit by "
               f"{e['explicit_ratio_ii']} = {fmt(td['explicit_ratio_ii'])} ((ii)) and "
               f"{e['explicit_ratio_iii']} = {fmt(td['explicit_ratio_iii'])} ((iii)), at least "
               f"{fmt(ad['explicit_ratio_ii'])} and {fmt(ad['explicit_ratio_iii'])} for any "
               "data: no width satisfies both")
        txt += ("; " + "; ".join(fails_any)) if fails_any else ""
        lines.append(txt + ".")
    if width:
        w = width[-1]
        if w["conditions"] and w.get("binding_label"):
            bl = _short_label({"label": w["binding_label"]})
            bp = _short_label({"label": w.get("binding_printed_label")})
            req = {str(c["name"]): c.get("required") for c in w["conditions"]}
            b_w = next((c["required"] for c in w["conditions"] if c["name"] == w["binding"]), None)
            txt = (f"Known issue 4 (m = {w['m']}): of the {len(w['conditions'])} width conditions "
                   f"{bl} binds (m ≥ {fmt(b_w)})")
            if bp != bl:
                txt += f", among the paper's own {bp} (m ≥ {fmt(w.get('binding_printed_width'))})"
            if req.get("width_thm32") and req.get("width_lemma33"):
                txt += (f"; Theorem 3.2 as printed (λ0, not λ0²) asks only m ≥ "
                        f"{fmt(req['width_thm32'])}")
            lines.append(txt + ".")
    return lines


def _paper_issues(runs: Sequence[ReportRun]) -> Iterable[str]:
    try:
        from bounds.gao2022_iclr import G22_KNOWN_ISSUES  # type: ignore[import-not-found]
    except Exception:  # pragma: no cover - bounds not installed
        return ()
    return G22_KNOWN_ISSUES


_ISSUE_TITLES = {
    1: "Eq. 14: I_n versus the all-ones matrix 𝟙𝟙ᵀ",
    2: "Eq. 16: inverse versus transpose-inverse",
    3: "Lemma 3.5/3.6 (ii)/(iii) at initialisation: an upper bound on m",
    4: "Two width conditions; which one binds (and λ0 versus λ0²)",
    5: "σ'(0) is not specified",
}


def _issue3_blocks(rows: Sequence[Mapping[str, Any]],
                   width: Sequence[Mapping[str, Any]] = ()) -> list[Any]:
    if not rows:
        return [_P("The records contain no claims on ‖u‖ or ‖v‖.")]
    need = {w["m"]: w.get("binding_printed_width") for w in width}
    table = []
    conflicts = 0
    for r in rows:
        W = need.get(r["m"])
        L = r.get("m_limit")
        conflict = None if W is None or L is None else bool(L < W)
        conflicts += bool(conflict)
        table.append((str(r.get("label")), str(r["m"]), fmt(r.get("sqrt_m")), fmt(r.get("bound")),
                      fmt(L), _Strong("fails") if r.get("fails_at_init") else
                      ("holds" if r.get("fails_at_init") is False else "—"), fmt(W),
                      "—" if conflict is None else (_Strong("yes") if conflict else "no")))
    out = [
        _P("At k = 0, ‖u(0)‖ = ‖v(0)‖ = √m (Rademacher entries), so the claims hold at "
           "initialisation only if √m ≤ bound, i.e. m ≤ bound² (the bound depends on m only "
           "through c and ‖e0‖). The last columns compare this upper limit with the largest "
           "lower limit among the paper's own width conditions (issue 4; our derived explicit "
           "width left out):"),
        _Table(("claim", "m", "√m", "bound", "requires m ≤", "at k = 0", "width conditions need m ≥",
                "no width satisfies both"), tuple(table)),
    ]
    if conflicts:
        out.append(_P(f"In {conflicts} of {len(rows)} cases the claim's upper limit on m lies below "
                      "the binding lower limit: no width satisfies both."))
    return out


def _issue4_blocks(rows: Sequence[Mapping[str, Any]], widths: Sequence[int]) -> list[Any]:
    if not rows or not any(r["conditions"] for r in rows):
        return [_P("The records contain no width conditions.")]
    names: list[tuple[str, str]] = []
    for r in rows:
        for c in r["conditions"]:
            key = (str(c["name"]), str(c.get("label")))
            if key not in names:
                names.append(key)
    table = []
    for name, label in names:
        vals = []
        for r in rows:
            c = next((c for c in r["conditions"] if str(c["name"]) == name), None)
            vals.append("—" if c is None else fmt(c.get("required")))
        table.append((label, _Code(name), *vals))
    binding = [(r["m"], r.get("binding_label")) for r in rows]
    bl = _same(b for _, b in binding)
    txt = (f"The binding (largest) requirement is {bl} at every width." if bl else
           "Binding requirement per width: " + "; ".join(f"m = {m}: {b}" for m, b in binding) + ".")
    bp = _same(r.get("binding_printed_label") for r in rows)
    if bp and bp != bl:
        txt += f" Among the paper's own conditions (not our derived ones) {bp} binds."
    out = [
        _P("Required width m ≥ … for each condition (hidden constants as stated above):"),
        _Table(("condition", "name", *(f"m = {m}" for m in widths)), tuple(table)),
        _P(txt),
    ]
    r0 = rows[-1]
    req = {str(c["name"]): c.get("required") for c in r0["conditions"]}
    printed, squared = req.get("width_thm32"), req.get("width_lemma33")
    if printed and squared:
        out.append(_P(
            f"λ0 versus λ0²: Theorem 3.2 as printed, (n²/λ0)·log(n/δ), asks for m ≥ {fmt(printed)};"
            f" Lemma 3.3, on which it rests, needs (n²/λ0²)·log(n/δ), i.e. m ≥ {fmt(squared)} — "
            f"{_factor(squared / printed)} more (with the hidden constants equal), the factor "
            "1/λ0. Theorem 3.1 (gradient flow) prints λ0²."))
    return out


def known_issues_section(s: Mapping[str, Any]) -> list[Any]:
    """The paper's known issues with this report's numbers (G22)."""
    B: list[Any] = []
    widths = s["widths"]
    B.append(_H(2, "Known issues in the paper", "known-issues"))
    B.append(_P("The toolkit reports these points instead of silently choosing a reading "
                 "(theory digest A §9). Numbers are from this report's runs."))
    ki = s.get("known_issues") or {}
    paper = ki.get("paper") or []
    findings = ki.get("findings") or []
    record_ki = ki.get("record") or []
    for idx in range(1, 6):
        text = next((p for p in paper if p.startswith(f"{idx}.")), None)
        title = _ISSUE_TITLES.get(idx, f"Issue {idx}")
        B.append(_H(3, f"{idx}. {title}", f"issue-{idx}"))
        if text:
            B.append(_P(text.split(" ", 1)[1] if text[:2] == f"{idx}." else text, "quote"))
        for f in findings:
            if int(f.get("item", 0)) == idx:
                B.append(_P(str(f.get("text"))))
        if idx == 1:
            B.append(_P("Immaterial to the proofs: (γ²M + I_n)∘ZZᵀ and (γ²M + 𝟙𝟙ᵀ)∘ZZᵀ are both "
                        "positive semidefinite (Schur products of PSD matrices), so both forms of "
                        "H are ⪰ ΦΦᵀ = G, and the proofs use only G (and ZZᵀ + ΦΦᵀ for GD). It "
                        "matters for anyone who computes H from eq. 14 (the relative errors "
                        "above, per width)."))
        if idx == 3:
            gen = [ln for ln in _issue_lines([], [], widths, ki.get("issue3_general"))
                   if ln.startswith("Known issue 3")]
            B.extend(_P(ln.replace("Known issue 3: ", "For all data: ", 1)) for ln in gen)
            B.extend(_issue3_blocks(ki.get("init_norm") or [], ki.get("width_conditions") or []))
        if idx == 4:
            B.extend(_issue4_blocks(ki.get("width_conditions") or [], widths))
        if idx == 5:
            B.append(_P("This report's runs use σ'(0) = 0 for the activation patterns D and E "
                        "(PyTorch's convention)."))
    # unnumbered record items
    other = [x for x in record_ki if str(x.get("item")).rstrip(".") not in {"1", "2", "3", "4", "5"}]
    if other:
        B.append(_H(3, "Other", "issue-other"))
        B.append(_UL(tuple(f"m = {x['m']}: {x.get('item')}: {x.get('text', '')}" for x in other)))
    return B


def summarise_known_issues(runs: Sequence[ReportRun], meta: ReportMeta) -> dict[str, Any]:
    """``summary["known_issues"]``: the paper's list, the records' items, issues 3 and 4 computed
    from the verdicts, and the caller's findings (issues 1, 2, 5)."""
    known_record = []
    for r in runs:
        for ki in r.record.get("known_issues") or []:
            known_record.append({"m": r.m, **dict(ki)})
    return {"known_issues": {
        "paper": list(_paper_issues(runs)),
        "record": known_record,
        "init_norm": _init_issue(runs),
        "width_conditions": _width_issue(runs),
        "issue3_general": issue3_general(runs),
        "findings": [dict(f) for f in meta.findings],
    }}


def known_issue_lines(part: Mapping[str, Any], widths: Sequence[int]) -> list[str]:
    ki = part["known_issues"]
    return _issue_lines(ki["init_norm"], ki["width_conditions"], widths, ki.get("issue3_general"),
                        ki.get("findings") or ())


KNOWN_ISSUES = Section("known_issues", known_issues_section, summarise_known_issues, known_issue_lines)

