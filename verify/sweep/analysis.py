"""A sweep directory → fitted width thresholds for every applicable outcome, with the theory.

:func:`analyse_sweep` reads a sweep (``sweep.json`` + its table, :func:`~.engine.load_sweep`),
fits :func:`~.thresholds.fit_width_threshold` for every registered outcome of the sweep's task
kind (:data:`~.outcomes.OUTCOMES` entries whose ``kind`` matches) that has at least one
decidable cell, and evaluates the theory at each n of the grid: the G22 required widths
(:func:`bounds.required_width`, hidden constants at their defaults, δ = 0.01) and, for the n
with a point estimate of m*, :func:`~.width_theory.theory_vs_measured` (ratios and implied
hidden constants).  The result (:class:`SweepAnalysis`) is what ``implicit-verify sweep --from``
prints and what the report's width-scaling section renders; computing it once and passing it
around keeps the bootstrap out of the renderers.

Errors: a directory that is missing, has no ``sweep.json``, or whose record or table cannot be
read raises :class:`~bounds.InvalidArgument` naming the directory (the CLI turns it into one line).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bounds._defaults import DEFAULTS
from bounds._errors import InvalidArgument, check_path, invalid

from .outcomes import OUTCOMES
from .spec import SweepSpec
from .thresholds import WidthThresholds, fit_width_threshold
from .width_theory import TheoryComparison, theory_vs_measured

__all__ = ["THEORY_FOR", "SweepAnalysis", "analyse_sweep", "applicable_outcomes",
           "assumption_notes", "predicted_exponents", "prediction_rows", "read_sweep"]

#: quantiles fitted by default: the median threshold and the 90 % one (1 − δ with δ = 0.1).
DEFAULT_Q = DEFAULTS["quantiles"]


def applicable_outcomes(kind: str) -> list[str]:
    """Names of the registered outcomes of a task kind, in registration order."""
    return [name for name, o in OUTCOMES.items() if o.kind == kind]


@dataclass(frozen=True, eq=False)
class SweepAnalysis:
    """Fitted thresholds and the theory's widths for one sweep.

    ``fits``: outcome → :class:`WidthThresholds`; ``skipped``: outcome → why it was not fitted;
    ``lambda0``: n → λ0 of the data of that n; ``theory``: n → rows ``{name, label, provenance,
    hidden, width}`` of :func:`bounds.required_width`; ``comparisons``: outcome →
    :class:`TheoryComparison` at q = ½ (absent when no n has a point estimate).
    """

    source: str
    spec: SweepSpec
    table: pd.DataFrame
    meta: dict[str, Any]
    q: tuple[float, ...]
    n_boot: int
    seed: int
    lambda0: dict[int, float]
    fits: dict[str, WidthThresholds]
    skipped: dict[str, str]
    theory: dict[int, list[dict[str, Any]]]
    comparisons: dict[str, TheoryComparison] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    #: measured wall time of the sweep when the caller ran it (else None), and a display label.
    wall_s: float | None = None
    label: str | None = None
    #: outcome → theory label → exponent of that theory's width along this sweep's data
    #: (:func:`predicted_exponents`; :data:`THEORY_FOR` says which theory speaks to which event)
    predictions: dict[str, dict[str, float]] = field(default_factory=dict)

    def prediction_rows(self, outcome: str) -> list[dict[str, Any]]:
        """:func:`prediction_rows` of one fitted outcome (empty without theory widths)."""
        res = self.fits.get(outcome)
        if res is None or res.joint_thresholds.empty:
            return []
        jt = res.joint_thresholds
        mh = {int(r.n): float(r.m_star) for r in jt.itertuples(index=False)
              if math.isclose(float(r.q), 0.5)}
        return prediction_rows(self.theory, outcome, self.predictions.get(outcome, {}), mh)

    def records(self) -> list[dict[str, Any]]:
        """One JSON-ready row per (outcome, q, n): :meth:`WidthThresholds.to_records` plus
        ``source``, ``lambda0``, ``C`` (= m*/n), the exponent's generated ``words``."""
        out = []
        for res in self.fits.values():
            for r in res.to_records():
                law = res.law(r["q"])
                thr = res.thresholds
                row = thr[(thr["n"] == r["n"]) & np.isclose(thr["q"], r["q"])].iloc[0]
                out.append({**r, "source": res.source, "lambda0": self.lambda0.get(r["n"]),
                            "C": _js(row["C"]), "words": law.words, "n_boot": res.n_boot,
                            "boot_seed": res.seed, "excluded": res.excluded})
        return out


def _js(x: Any) -> float | None:
    f = float(x)
    return f if math.isfinite(f) else None


def read_sweep(path: str | Path) -> tuple[SweepSpec, pd.DataFrame, dict[str, Any]]:
    """``(spec, table, sweep.json)`` of a sweep directory; one clear error if it is unusable."""
    from . import store
    from .engine import load_sweep
    from .integrity import SweepDirError

    p = Path(path)
    if not p.is_dir():
        raise invalid("from", str(path), "is not a directory",
                      "pass the --out directory of an 'implicit-verify sweep' run")
    if not (p / store.SWEEP_JSON).is_file():
        raise invalid("from", str(path), f"has no {store.SWEEP_JSON} (not a sweep directory)",
                      "pass the --out directory of an 'implicit-verify sweep' run")
    try:
        meta = store.read_json(p / store.SWEEP_JSON)
        spec, table = load_sweep(p)
    except SweepDirError as exc:  # an edited record or a foreign row: its own words and fix
        raise invalid("from", str(path), exc.problem, exc.fix) from None
    except InvalidArgument as exc:
        raise invalid("from", str(path), f"cannot be read ({str(exc).split(': ', 1)[-1].split('; ')[0]})",
                      "re-run or --resume the sweep into a fresh directory") from None
    except Exception as exc:  # damaged JSON fields or Parquet files
        raise invalid("from", str(path), f"cannot be read ({type(exc).__name__}: "
                      f"{str(exc).splitlines()[0] if str(exc) else ''})",
                      "re-run or --resume the sweep into a fresh directory") from None
    if not isinstance(meta, dict):
        raise invalid("from", str(path), f"{store.SWEEP_JSON} is not a JSON object",
                      "re-run the sweep into a fresh directory")
    if table.empty:
        raise invalid("from", str(path), "holds no finished cells yet",
                      "wait for the sweep or continue it with --resume")
    return spec, table, meta


def _theory_rows(X: np.ndarray, y: np.ndarray, delta: float) -> list[dict[str, Any]]:
    from bounds import gg22_spec, required_width

    out = []
    for spec in (None, gg22_spec("gd")):
        req = required_width(X, y, delta=delta, mode="gd", spec=spec)
        out += [{"name": e.name, "label": e.label, "provenance": e.provenance,
                 "hidden": list(e.hidden), "width": _js(e.width)} for e in req.entries]
    return out


def prediction_rows(theory: dict[int, list[dict[str, Any]]], outcome: str,
                    exponents: dict[str, float], m_half: dict[int, float]
                    ) -> list[dict[str, Any]]:
    """Per theory of the outcome: label, predicted exponent on the data, and per n the theory
    width and the ratio theory width / measured m*½(n) (joint fit)."""
    out = []
    for name in THEORY_FOR.get(outcome, ()):
        per, label = [], None
        for n, rows in sorted(theory.items()):
            for r in rows:
                if r["name"] == name:
                    label = r["label"]
                    mm = m_half.get(int(n))
                    per.append({"n": int(n), "width": r["width"],
                                "ratio": _js(r["width"] / mm) if r["width"] and mm else None})
        if label is not None:
            out.append({"condition": name, "label": label, "exponent": exponents.get(label),
                        "per_n": per})
    return out


#: outcome → the width conditions that are a theory of its event (G22, GG22, derived).
THEORY_FOR: dict[str, tuple[str, ...]] = {
    "lemma33_init": ("width_lemma33", "width_chernoff"),
    "G0_dev": ("width_lemma33", "width_chernoff"),
    "ntk_full_rank": ("width_lemma33", "width_chernoff"),
    "gd_reached": ("width_thm32", "width_linear"),
    "gd_linear": ("width_thm32", "width_linear"),
    "kernel_stays": ("width_lemma36",),
}


def predicted_exponents(theory: dict[int, list[dict[str, Any]]], outcome: str
                        ) -> dict[str, float]:
    """Label → least-squares slope of log(theory width) on log n over the sweep's own n.

    The widths are evaluated on the sweep's data at each n (λ0(n), ‖X‖, c), so the slope is
    the exponent that theory predicts along this data set — not a bare n^a.
    """
    out: dict[str, float] = {}
    for name in THEORY_FOR.get(outcome, ()):
        pts = [(n, r["width"], r["label"]) for n, rows in theory.items() for r in rows
               if r["name"] == name and r["width"] is not None and r["width"] > 0]
        if len(pts) >= 2:
            ln = np.log([float(p[0]) for p in pts])
            lw = np.log([float(p[1]) for p in pts])
            out[pts[0][2]] = float(np.polyfit(ln, lw, 1)[0])
    return out


def assumption_notes(meta: Mapping[str, Any]) -> list[str]:
    """One line per n whose recorded data audit (``sweep.json``) fails G22 Assumption 2: the
    sweep ran with ``--allow-assumption-violation`` (or from the library), so the theorem's
    hypotheses are not met at that n whatever the fitted thresholds say."""
    out = []
    for k, v in sorted((meta.get("data") or {}).items(), key=lambda kv: int(kv[0])):
        audit = v.get("audit") if isinstance(v, Mapping) else None
        if isinstance(audit, Mapping) and audit.get("ok") is False:
            out.append(f"n = {k}: G22 Assumption 2 fails on the data ("
                       + "; ".join(str(m) for m in audit.get("messages") or ["see the audit"])
                       + "); the sweep ran on them anyway (sweep --allow-assumption-violation, or "
                       "run_sweep from Python), so the theorem's hypotheses are not met at this n")
    return out


def analyse_sweep(sweep: str | Path | tuple[SweepSpec, pd.DataFrame, dict[str, Any]], *,
                  outcomes: Sequence[str] | None = None, q: Sequence[float] = DEFAULT_Q,
                  n_boot: int = 200, seed: int = 0, theory: bool = True,
                  delta: float = 0.01, wall_s: float | None = None,
                  label: str | None = None) -> SweepAnalysis:
    """Fit every applicable outcome of a sweep (module docstring).

    ``sweep``: a sweep directory or ``(spec, table, sweep.json dict)``; ``outcomes`` defaults to
    :func:`applicable_outcomes` of the sweep's kind; ``seed`` seeds the bootstrap; ``theory``:
    also evaluate the G22 widths (needs the sweep's data; bundled data sets are re-loaded, and
    the data fingerprints are compared with the sweep's record).
    """
    from .engine import prepare_data

    if isinstance(sweep, tuple):
        spec, table, meta = sweep
        source = "(table)"
    else:
        check_path(sweep, "sweep")
        spec, table, meta = read_sweep(sweep)
        source = str(sweep)
    names = list(outcomes) if outcomes is not None else applicable_outcomes(spec.kind)
    if outcomes is None and spec.kind == "gamma":
        names += [f"wellposed_at_{g:g}" for g in spec.gamma_levels]
    lam: dict[int, float] = {}
    for k, v in (meta.get("data") or {}).items():
        if isinstance(v, dict) and v.get("lambda0") is not None:
            lam[int(k)] = float(v["lambda0"])
    if "lambda0" in table.columns:
        for n, g in table.groupby("n"):
            vals = pd.to_numeric(g["lambda0"], errors="coerce").dropna()
            if len(vals) and int(n) not in lam:
                lam[int(n)] = float(vals.iloc[0])
    notes: list[str] = assumption_notes(meta)
    theory_rows: dict[int, list[dict[str, Any]]] = {}
    comps: dict[str, TheoryComparison] = {}
    if theory:
        try:
            data = prepare_data(spec)
        except Exception as exc:  # a user file that moved: thresholds still stand
            notes.append(f"theory widths not computed: the sweep's data could not be re-loaded "
                         f"({type(exc).__name__}: {exc})")
            data = {}
        rec_fp = {int(k): v.get("fingerprint") for k, v in (meta.get("data") or {}).items()
                  if isinstance(v, dict)}
        for n, d in data.items():
            if rec_fp.get(n) not in (None, d["fingerprint"]):
                notes.append(f"n = {n}: the re-loaded data differ from the sweep's (fingerprint); "
                             "theory widths not computed for it")
                continue
            lam.setdefault(n, float(d["lambda0"]))
            theory_rows[n] = _theory_rows(d["X"], d["y"], delta)
    preds: dict[str, dict[str, float]] = {}

    def predictions_for(name: str) -> dict[str, float]:
        preds[name] = predicted_exponents(theory_rows, name) if theory_rows else {}
        return preds[name]

    fits: dict[str, WidthThresholds] = {}
    skipped: dict[str, str] = {}
    for name in names:
        o = OUTCOMES.get(name)
        if o is not None:
            missing = [c for c in o.columns if c not in table.columns]
            if missing:
                skipped[name] = f"the table lacks {missing}"
                continue
        res = fit_width_threshold(table, outcome=name, q=tuple(q), n_boot=n_boot, seed=seed,
                                  predictions=predictions_for(name))
        if res.cells.empty or int(res.cells["trials"].sum()) == 0:
            skipped[name] = ("no decidable cell (every cell NaN: not computed at these widths, an "
                             "error row, or a claim that was vacuous without an observed status)")
            continue
        fits[name] = res
    if theory:
        ok = {n: (d["X"], d["y"]) for n, d in data.items() if n in theory_rows}
        for name, res in fits.items():
            thr = res.thresholds[np.isclose(res.thresholds["q"], 0.5)]
            fit_n = set(thr.loc[thr["kind"] == "fit", "n"].astype(int))
            if fit_n and fit_n <= set(ok):
                comps[name] = theory_vs_measured(res, ok, q=0.5, delta=delta, mode="gd")
    return SweepAnalysis(source=source, spec=spec, table=table, meta=dict(meta),
                         q=tuple(float(v) for v in q), n_boot=int(n_boot), seed=int(seed),
                         lambda0=dict(sorted(lam.items())), fits=fits, skipped=skipped,
                         theory=theory_rows, comparisons=comps, notes=tuple(notes),
                         wall_s=wall_s, label=label,
                         predictions={k: v for k, v in preds.items() if k in fits})
