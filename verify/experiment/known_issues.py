"""``record["known_issues"]``: the theorem spec's known issues with the numbers of one run."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from verify.experiment.checks import Verdict
from verify.model.network import SIGMA_PRIME_AT_ZERO

__all__ = ["known_issues"]

def known_issues(spec: Any, verdicts: tuple[Verdict, ...], symbols: Mapping[str, Any],
                  trace: Mapping[str, np.ndarray]) -> list[dict[str, Any]]:
    """``record["known_issues"]``: the spec's known issues with the numbers of this run."""
    by_name = {v.name: v for v in verdicts}
    out = []
    m = symbols["m"]
    for i, text in enumerate(spec.known_issues, start=1):
        head = text.split(".", 1)[0].strip()
        item = int(head) if head.isdigit() else i
        value: Any = None
        if item == 3:
            value = {"m": m}
            if spec.key.startswith("g22-") and all(
                    symbols.get(k) is not None for k in ("X_norm", "lambda0")):
                from bounds import g22_issue3_limits, symbol

                sub = {symbol("X_norm"): float(symbols["X_norm"]),
                       symbol("lambda0"): float(symbols["lambda0"])}
                # for all data: the largest C_width_lemma compatible with (ii)/(iii) at k = 0,
                # and the ratio of the proof's explicit width to the k = 0 limit (> 1: conflict)
                value["all_data"] = {k: {"expr": str(e), "value": float(e.subs(sub))}
                                     for k, e in g22_issue3_limits(spec.mode).items()}
            for obs in ("u_norm", "v_norm"):
                cl = [c for c in spec.claims if c.observable == obs and c.mode in ("both", spec.mode)]
                if not cl or cl[0].name not in by_name:
                    continue
                v = by_name[cl[0].name]
                b = v.bound
                steps = trace["step"]
                at0 = float(trace[obs][0]) if trace[obs].size and steps[0] == 0 else None
                value[obs] = {"claim": cl[0].name, "label": cl[0].label, "bound": b,
                              "m_max": None if b is None else b * b,
                              "observed_at_init": at0,
                              "fails_at_init": None if b is None or at0 is None else bool(at0 > b)}
        elif item == 4:
            widths = {v.name: v.bound for v in verdicts if v.kind == "condition" and v.observable == "m"}
            fin = {k: w for k, w in widths.items() if w is not None and math.isfinite(w)}
            printed = {k: w for k, w in fin.items()
                       if by_name[k].provenance in ("paper", "hidden") and "explicit" not in k}
            value = {"m": m, "required": widths,
                     "binding": max(fin, key=lambda q: fin[q]) if fin else None,
                     "binding_printed": max(printed, key=lambda q: printed[q]) if printed else None}
        elif item == 5:
            value = {"sigma_prime_at_zero": SIGMA_PRIME_AT_ZERO}
        out.append({"item": item, "text": text, "value": value})
    return out
