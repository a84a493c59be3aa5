r"""The report's *Infinite-width kernels* section (issue 16 item 4).

Three numbers per width, side by side: the paper's λ0 = λ_min(G∞) (the v-block of the NTK
alone), this toolkit's λ_min(H∞) (the whole limiting NTK of :func:`bounds.deq_kernels`, digest
C, provenance ``derived``; H∞ ⪰ G∞ so λ_min(H∞) ≥ λ0) and the observed λ_min(H(0)) of each run
(the first recorded value of the run's ``lambda_min_H`` observable, step 0).  Then the per-step
rate of ‖ŷ − y‖²: the paper's ``1 − αλ0/2`` (GD; ``exp(−αλ0)`` for GF, as in the run's
``rates["theory_rate"]``), the toolkit's ``1 − α·λ_min(H∞)/2`` (GF: ``exp(−α·λ_min(H∞))``) —
λ0 replaced by λ_min(H∞), *not a published rate* — and the observed late-time rate
(``rates["observed_rate_tail"]`` of the run's fit).  When it was computed, a small convergence
table: per block, the relative Frobenius error of H(0) at the report's widths
(:func:`verify.model.kernels.kernel_convergence`, a few seeds) and its fitted log–log slope.

The limit needs the data matrix, which the records do not hold: the caller computes it with
:func:`compute_kernels` and passes it as ``ReportMeta.kernels``; without it the section is
empty.  :data:`KERNELS` is the :class:`~verify.report.blocks.Section`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

from verify.report.blocks import _H, _P, Section, _Fig, _Table
from verify.report.model import ReportRun, _num, fmt

__all__ = ["compute_kernels", "KERNELS", "FIGURE", "CAPTION"]

FIGURE = "kernels.png"
CAPTION = ("Left: λ0 = λ_min(G∞) (the paper's constant), λ_min(H∞) (this toolkit's infinite-width "
           "NTK, derived) and ½λ_min(H∞) against the observed λ_min(H(0)) per width. Right: per-step "
           "decrease 1 − r of ‖ŷ − y‖²: the paper's αλ0/2, the toolkit's α·λ_min(H∞)/2 and the "
           "observed late-time rate.")
HINT = ("Look for: the observed λ_min(H(0)) near the toolkit's λ_min(H∞) rather than the paper's "
        "λ0, and the observed rate against both predictions.")
ALT = ("Left: smallest NTK eigenvalues against width, the paper's lambda0, the toolkit's limit and "
       "the observed values. Right: per-step decrease of the squared residual against width.")
_SOURCE = "bounds.deq_kernels (digest C: derived in this toolkit, formulas in its docstring), provenance derived"


def compute_kernels(X: Any, gamma: float, widths: Sequence[int] = (), *,
                    seeds: Sequence[int] = (0, 1, 2, 3), convergence: bool = True,
                    budget_s: float = 15.0) -> dict[str, Any]:
    """The section's input from the data (JSON-ready): the limit's summary and, when
    ``convergence`` and the limit took less than ``budget_s``, the convergence study at
    ``widths`` × ``seeds`` (its ``to_dict()``; ``convergence_skipped`` says why not)."""
    import bounds
    from verify.model.kernels import kernel_convergence

    t0 = time.perf_counter()
    lim = bounds.deq_kernels(X, float(gamma))
    out: dict[str, Any] = {"limit": lim.summary(), "source": _SOURCE, "convergence": None,
                           "convergence_skipped": None}
    if not lim.status.ok:
        out["convergence_skipped"] = "the infinite-width fixed point failed"
    elif not convergence or not widths:
        out["convergence_skipped"] = "not requested"
    elif lim.seconds > budget_s:
        out["convergence_skipped"] = (f"the limit alone took {lim.seconds:.1f} s "
                                      f"(> {budget_s:g} s budget)")
    else:
        kc = kernel_convergence(X, float(gamma), sorted(set(int(w) for w in widths)),
                                tuple(seeds), limit=lim)
        out["convergence"] = kc.to_dict()
    out["seconds"] = time.perf_counter() - t0
    return out


def _h0(run: ReportRun) -> float | None:
    x, y = run.series("lambda_min_H")
    return float(y[0]) if y.size and x[0] == 0 else None


def summarise(runs: Sequence[ReportRun], meta: Any) -> dict[str, Any]:
    k = getattr(meta, "kernels", None)
    if not k:
        return {}
    lim = k.get("limit") or {}
    lh = _num(lim.get("lambda_min_H"))
    ok = lim.get("status") in ("CONVERGED", "INACCURATE") and lh is not None
    rows = []
    for r in sorted(runs, key=lambda r: r.m):
        rates = r.record.get("rates") or {}
        alpha = _num(r.config.get("step"))
        lam0 = _num(r.symbols.get("lambda0"))
        h0 = _h0(r)
        gf = r.mode == "gf"
        tk = None
        if ok and alpha is not None and lh is not None:
            tk = math.exp(-alpha * lh) if gf else 1 - alpha * lh / 2
        rows.append({"m": r.m, "lambda0": lam0, "lambda_min_Hinf": lh if ok else None,
                     "lambda_min_H0": h0,
                     "ratio_H0_over_Hinf": h0 / lh if ok and h0 is not None and lh else None,
                     "half_limit_holds": (h0 >= 0.5 * lh) if ok and h0 is not None and lh
                     is not None else None,
                     "alpha": alpha, "rate_paper": _num(rates.get("theory_rate")),
                     "rate_toolkit": tk, "rate_observed_tail": _num(rates.get("observed_rate_tail")),
                     "mode": r.mode})
    return {"kernels": {**dict(k), "per_width": rows}}


def lines(part: Mapping[str, Any], widths: Sequence[int]) -> list[str]:
    k = part.get("kernels")
    if not k or not k.get("per_width"):
        return []
    lim = k["limit"]
    lh, l0 = _num(lim.get("lambda_min_H")), _num(lim.get("lambda0"))
    if lim.get("status") not in ("CONVERGED", "INACCURATE") or lh is None:
        return [f"The infinite-width NTK H∞ was not obtained ({lim.get('message')})."]
    return [f"The infinite-width NTK (this toolkit's derivation, digest C) has λ_min(H∞) = "
            f"{fmt(lh)}, {fmt(lh / l0 if l0 else None, 3)}× the paper's λ0 = {fmt(l0)}."]


def _fmt_rate(x: Any) -> str:
    return fmt(x, 6)


def blocks(s: Mapping[str, Any]) -> list[Any]:
    k = s.get("kernels")
    if not k:
        return []
    lim = k["limit"]
    B: list[Any] = [_H(2, "Infinite-width kernels", "kernels")]
    B.append(_P(
        "G22 measures everything against λ0 = λ_min(G∞), the infinite-width limit of the v-block "
        "of the NTK alone. The whole limiting NTK H∞ of the network (all four blocks, "
        f"{_SOURCE}; not a published result) satisfies H∞ ⪰ G∞, so λ_min(H∞) ≥ λ0. Limit: "
        f"{lim.get('message')} (γ = {fmt(lim.get('gamma'))}, {lim.get('iterations')} Newton "
        f"iterations, residual {fmt(lim.get('residual'))}, contraction γ²Ė ≤ "
        f"{fmt(lim.get('contraction'))}, λ_min(K∞) = {fmt(lim.get('lambda_min_K'))}; "
        f"computed in {fmt(k.get('seconds'), 3)} s)."))
    rows = k.get("per_width") or []
    if rows:
        B.append(_Table(
            ("m", "λ0 (paper)", "λ_min(H∞) (toolkit)", "λ_min(H(0)) observed",
             "λ_min(H(0))/λ_min(H∞)", "≥ ½λ_min(H∞)"),
            tuple((str(r["m"]), fmt(r["lambda0"]), fmt(r["lambda_min_Hinf"]),
                   fmt(r["lambda_min_H0"]), fmt(r["ratio_H0_over_Hinf"], 3),
                   fmt(r["half_limit_holds"])) for r in rows)))
        gf = any(r.get("mode") == "gf" for r in rows)
        B.append(_P(
            "Per-step rate of ‖ŷ − y‖²: the paper's "
            + ("exp(−αλ0)" if gf else "1 − αλ0/2")
            + " beside this toolkit's "
            + ("exp(−α·λ_min(H∞))" if gf else "1 − α·λ_min(H∞)/2")
            + " (λ0 replaced by λ_min(H∞): the lazy-regime form with the whole limiting NTK; "
              "derived here, not the paper's) and the observed late-time rate (least-squares fit "
              "over the second half of the run's fit range)."))
        B.append(_Table(
            ("m", "α", "paper", "toolkit (derived)", "observed (late)"),
            tuple((str(r["m"]), fmt(r["alpha"]), _fmt_rate(r["rate_paper"]),
                   _fmt_rate(r["rate_toolkit"]), _fmt_rate(r["rate_observed_tail"]))
                  for r in rows)))
        B.append(_Fig(FIGURE, CAPTION, HINT, ALT, "fig-kernels"))
    conv = k.get("convergence")
    if conv:
        bl = ("A", "W", "u", "v", "H")
        B.append(_P(
            f"Finite width against the limit: relative Frobenius error ‖H_b(0) − H_b∞‖_F/‖H_b∞‖_F "
            f"per block, root mean square over seeds {conv['seeds']} at the report's widths, and "
            f"its fitted log–log slope (about −½ expected); {fmt(conv['seconds'], 3)} s."))
        body = [(str(m), *(fmt(conv["rms"][b][i], 3) for b in bl))
                for i, m in enumerate(conv["widths"])]
        body.append(("slope", *(fmt(conv["slopes"][b], 3) for b in bl)))
        B.append(_Table(("m", *(f"err {b}" for b in bl)), tuple(body)))
    elif k.get("convergence_skipped"):
        B.append(_P(f"Convergence study of the blocks skipped: {k['convergence_skipped']}."))
    return B


def figures(s: Mapping[str, Any], dpi: int) -> dict[str, bytes]:
    k = s.get("kernels")
    if not k or not k.get("per_width"):
        return {}
    from verify.report.figures_kernels import kernels_figure

    return {FIGURE: kernels_figure(k["per_width"], dpi)}


KERNELS = Section("kernels", blocks, summarise, lines, figures)

