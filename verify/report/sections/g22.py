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


def _issue_lines(init: Sequence[Mapping[str, Any]], width: Sequence[Mapping[str, Any]],
                 widths: Sequence[int]) -> list[str]:
    lines = []
    need = {w["m"]: (w.get("binding_printed_width"), w.get("binding_printed_label")) for w in width}
    parts = []
    fails_any: list[str] = []
    conflict_all = True
    m_last = None
    for obs in ("u_norm", "v_norm"):
        rows = [r for r in init if r["observable"] == obs]
        if not rows:
            continue
        r = rows[-1]  # the largest width
        m_last = r["m"]
        parts.append(f"{_short_label(r)} needs m ≤ {fmt(r['m_limit'])}")
        fails = [x["m"] for x in rows if x["fails_at_init"]]
        if fails:
            fails_any.append(f"{_short_label(r)} fails at initialisation at m ∈ {_mset(fails)}")
        W = need.get(r["m"], (None, None))[0]
        if W is None or r["m_limit"] is None or not r["m_limit"] < W:
            conflict_all = False
    if parts:
        txt = ("Known issue 3: at k = 0, where ‖u(0)‖ = ‖v(0)‖ = √m, "
               + " and ".join(parts) + f" (values at m = {m_last})")
        txt += ("; " + "; ".join(fails_any)) if fails_any else \
            "; both hold at initialisation at the widths used"
        W, lab = need.get(m_last, (None, None))
        if conflict_all and W is not None:
            txt += (f", but {_short_label({'label': lab})} requires m ≥ {fmt(W)}: no width "
                    "satisfies both")
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
        if idx == 3:
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
        "findings": [dict(f) for f in meta.findings],
    }}


def known_issue_lines(part: Mapping[str, Any], widths: Sequence[int]) -> list[str]:
    ki = part["known_issues"]
    return _issue_lines(ki["init_norm"], ki["width_conditions"], widths)


KNOWN_ISSUES = Section("known_issues", known_issues_section, summarise_known_issues, known_issue_lines)

