"""The report's input model (:class:`ReportRun`, :class:`ReportMeta`), number formatting
(:func:`fmt`) and the small helpers that read verdicts and records."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bounds._verdicts import Outcome, classify, words

#: the ``schema`` field of a report's JSON (``report.json``)
REPORT_SCHEMA = "implicit-verify/report/1"




_THEOREMS = {
    "gd": ("G22 Lemma 3.6 / Theorem 3.2", "gradient descent"),
    "gf": ("G22 Lemma 3.5 / Theorem 3.1", "gradient flow"),
}


_C_MEASURED = "c is measured from A(0), W(0)"


def _by_construction_note(v: Mapping[str, Any], symbols: Mapping[str, Any]) -> Mapping[str, Any]:
    """Records written before ``details["by_construction"]`` existed: G22 Lemma 2.1's
    ‖A(0)‖, ‖W(0)‖ ≤ c√m holds by construction when c was measured from A(0), W(0)."""
    d = v.get("details") or {}
    if (v.get("kind") == "claim" and symbols.get("c_source") == "measured"
            and v.get("observable") in ("A_norm", "W_norm") and "Lemma 2.1" in str(v.get("label"))
            and isinstance(d, Mapping) and "by_construction" not in d):
        return {**v, "details": {**d, "by_construction": _C_MEASURED}}
    return v


@dataclass(frozen=True)
class ReportRun:
    """One run: the ``record.json`` dict and the ``trace.npz`` arrays (name → 1-D array).

    ``extras`` holds numbers the caller computed from the run's saved parameters (e.g. the
    eq. 14 mismatch at the final parameters); ``run_dir`` is shown in the report.
    """

    record: Mapping[str, Any]
    trace: Mapping[str, np.ndarray]
    run_dir: str | None = None
    extras: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_result(cls, result: Any, extras: Mapping[str, Any] | None = None) -> ReportRun:
        """From a :class:`verify.RunResult` (``.record``, ``.trace``, ``.out_dir``)."""
        out_dir = getattr(result, "out_dir", None)
        return cls(record=result.record, trace=dict(result.trace),
                   run_dir=None if out_dir is None else str(out_dir), extras=dict(extras or {}))

    # -- convenience accessors (tolerant of missing keys) --
    @property
    def config(self) -> Mapping[str, Any]:
        return self.record.get("config") or {}

    @property
    def symbols(self) -> Mapping[str, Any]:
        return self.record.get("symbols") or {}

    @property
    def m(self) -> int:
        m = self.config.get("m", self.symbols.get("m"))
        return int(m) if m is not None else 0

    @property
    def mode(self) -> str:
        return str(self.config.get("mode", "gd"))

    def series(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(steps, values)`` of a trace observable with non-finite values dropped."""
        if name not in self.trace:
            return np.zeros(0), np.zeros(0)
        y = np.asarray(self.trace[name], dtype=np.float64).ravel()
        x = np.asarray(self.trace.get("step", np.arange(y.size)), dtype=np.float64).ravel()
        n = min(x.size, y.size)
        x, y = x[:n], y[:n]
        ok = np.isfinite(y)
        return x[ok], y[ok]

    def verdicts(self, kind: str | None = None) -> list[Mapping[str, Any]]:
        out = [_by_construction_note(v, self.symbols) for v in self.record.get("verdicts") or []]
        return [v for v in out if kind is None or v.get("kind") == kind]

    def verdict(self, name: str) -> Mapping[str, Any] | None:
        for v in self.verdicts():
            if v.get("name") == name:
                return v
        return None

    def bound_value(self, name: str) -> float | None:
        for b in self.record.get("bounds") or []:
            if b.get("name") == name:
                return _num(b.get("value"))
        return None


@dataclass(frozen=True)
class ReportMeta:
    """What the report says about how it was made.

    Attributes:
        command: the exact command that reproduces the report.
        title: overrides the generated title.
        generated: timestamp string (ISO 8601) of the rendering.
        notes: paragraphs placed under "What was verified" (e.g. how the run was scaled down
            from the paper's experiment).
        wall_time_s: total wall time of the command, if it ran the experiments.
        findings: extra known-issue findings computed by the caller, each a dict with
            ``item`` (digest §9 number), ``text`` and optional ``value`` / ``m``.
        paper_setup: rows ``(quantity, paper, this report)`` comparing with the paper's
            experiment.
        kernels: the infinite-width kernels of the report's data
            (:func:`verify.report.sections.kernels.compute_kernels`), or ``None``.
    """

    command: str | None = None
    title: str | None = None
    generated: str | None = None
    notes: tuple[str, ...] = ()
    wall_time_s: float | None = None
    findings: tuple[Mapping[str, Any], ...] = ()
    paper_setup: tuple[tuple[str, str, str], ...] = ()
    kernels: Mapping[str, Any] | None = None
    #: analysed sweeps (``verify.sweep.analysis.SweepAnalysis``) for the width-scaling section.
    sweeps: tuple[Any, ...] = ()


def _num(x: Any) -> float | None:
    if x is None or isinstance(x, bool):
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f


def fmt(x: Any, digits: int = 4) -> str:
    """Human formatting: ``—`` for missing, 4 significant digits, compact exponent."""
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    f = _num(x)
    if f is None:
        return str(x)
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "∞" if f > 0 else "−∞"
    if f == 0:
        return "0"
    a = abs(f)
    if a >= 1e5 or a < 1e-3:
        mant, exp = f"{f:.{digits - 1}e}".split("e")
        mant = mant.rstrip("0").rstrip(".")
        return f"{mant}e{int(exp)}"
    s = f"{f:.{digits}g}"
    if "e" in s:  # e.g. 1e+04 for 10000 with 4 digits
        s = f"{f:.0f}"
    return s


def _factor(x: float | None) -> str:
    """A ratio as a factor: ``3.2×``, ``1.2e4×``."""
    if x is None or not math.isfinite(x):
        return fmt(x)
    return f"{fmt(x, 4 if abs(x - 1) < 0.05 else 3)}×"


def _widths(runs: Sequence[ReportRun]) -> list[int]:
    return [r.m for r in runs]


def _same(values: Iterable[Any]) -> Any:
    vals = list(values)
    if not vals:
        return None
    first = vals[0]
    return first if all(v == first for v in vals) else None


def _mset(ms: Iterable[int]) -> str:
    ms = list(ms)
    return "{" + ", ".join(str(m) for m in ms) + "}"


def _observed_ok(v: Mapping[str, Any]) -> bool | None:
    """Did the observed values satisfy the inequality (regardless of vacuity)?"""
    status = v.get("status")
    if status == "holds":
        return True
    if status == "violated":
        return False
    details = v.get("details") or {}
    obs_status = details.get("observed_status") if isinstance(details, Mapping) else None
    if obs_status in ("holds", "violated"):
        return obs_status == "holds"
    if status == "inconclusive" or obs_status == "inconclusive":
        return None
    ratio = _num(v.get("ratio"))
    if ratio is not None and not math.isnan(ratio):
        return ratio <= 1.0
    o, b = _num(v.get("observed")), _num(v.get("bound"))
    if o is None or b is None or math.isnan(o) or math.isnan(b):
        return None
    return o <= b if v.get("sense") == "le" else o >= b


def verdict_word(v: Mapping[str, Any] | None) -> str:
    """The one wording of a verdict used by the tables *and* the summary sentences: the words of
    its :class:`bounds.Outcome` (``holds (hypotheses met)``, ``holds by construction``,
    ``vacuous — observed to hold|fail``, ``violated``, ``event did not occur``, ``event
    impossible (…)``, ``met``, ``not met``, ``inconclusive (<reason>)``)."""
    return words(v)


def verdict_outcome(v: Mapping[str, Any]) -> Outcome:
    """The :class:`bounds.Outcome` of one verdict (what every count on the report uses)."""
    return classify(v).outcome


def _ratio_of(v: Mapping[str, Any]) -> float | None:
    """The record's ratio; ∞ when the record has none but the observation violates."""
    r = _num(v.get("ratio"))
    if r is not None:
        return r
    if _observed_ok(v) is False:
        return math.inf
    return None


def _slack(v: Mapping[str, Any]) -> float | None:
    s = _num(v.get("slack"))
    if s is not None and math.isfinite(s):
        return s
    r = _num(v.get("ratio"))
    if r is not None and r > 0 and math.isfinite(r) and r <= 1:
        return 1.0 / r
    return None


def _short_label(v: Mapping[str, Any]) -> str:
    label = str(v.get("label") or v.get("name") or "?")
    return label.replace("G22 ", "")


def _theorem_info(runs: Sequence[ReportRun]) -> dict[str, Any]:
    rec = runs[0].record if runs else {}
    mode = runs[0].mode if runs else "gd"
    label, kind = _THEOREMS.get(mode, (f"theorem ({mode})", mode))
    theorem = rec.get("theorem")
    if isinstance(theorem, Mapping):
        return {"key": theorem.get("key", f"g22-{mode}"), "label": theorem.get("label", label),
                "title": theorem.get("title", label), "method": kind, "mode": mode,
                "paper": theorem.get("paper")}
    return {"key": theorem if isinstance(theorem, str) else f"g22-{mode}", "label": label,
            "title": f"{label} ({kind})", "method": kind, "mode": mode, "paper": rec.get("paper")}


def _run_summary(run: ReportRun) -> dict[str, Any]:
    rec = run.record
    tr = run.trace

    def first_last(name: str) -> tuple[float | None, float | None]:
        _, y = run.series(name)
        if y.size == 0:
            return None, None
        return float(y[0]), float(y[-1])

    loss0, loss1 = first_last("loss")
    tl0, tl1 = first_last("test_loss")
    c0, c1 = first_last("contraction")
    counts: dict[str, int] = {}
    for v in run.verdicts():
        o = verdict_outcome(v).value
        counts[o] = counts.get(o, 0) + 1
    return {
        "m": run.m,
        "run_dir": run.run_dir,
        "status": rec.get("status"),
        "status_message": rec.get("status_message"),
        "steps_done": rec.get("steps_done"),
        "wall_time_s": rec.get("wall_time_s"),
        "config": dict(run.config),
        "symbols": dict(run.symbols),
        "loss": {"initial": loss0, "final": loss1},
        "test_loss": {"initial": tl0, "final": tl1},
        "contraction": {"initial": c0, "final": c1},
        "rates": dict(rec.get("rates") or {}),
        "verdict_counts": counts,
        "verdicts": [dict(v) for v in run.verdicts()],
        "extras": dict(run.extras),
        "recorded_steps": int(np.asarray(tr.get("step", [])).size),
        "command": rec.get("command"),
    }


def _bounds_table(runs: Sequence[ReportRun]) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for run in runs:
        for b in run.record.get("bounds") or []:
            name = str(b.get("name"))
            row = rows.setdefault(name, {
                "name": name, "label": b.get("label"), "latex": b.get("latex"),
                "provenance": b.get("provenance"), "hidden": list(b.get("hidden") or []),
                "description": b.get("description"), "values": {},
                "value_at": b.get("value_at"),
            })
            row["values"][str(run.m)] = _num(b.get("value"))
    return list(rows.values())


def _verdict_groups(runs: Sequence[ReportRun], kind: str) -> list[dict[str, Any]]:
    """One entry per verdict name: label, per-width verdicts (in run order)."""
    groups: dict[str, dict[str, Any]] = {}
    for run in runs:
        for v in run.verdicts(kind):
            g = groups.setdefault(str(v.get("name")), {"name": v.get("name"), "label": v.get("label"),
                                                       "kind": kind, "per_m": []})
            g["per_m"].append((run.m, v))
    return list(groups.values())


def check_runs(runs: Any, name: str = "runs") -> list[ReportRun]:
    """``runs`` as a list of :class:`ReportRun` (a list or tuple; refused by name otherwise)."""
    from bounds._errors import invalid

    if isinstance(runs, (str, bytes, Mapping)) or not isinstance(runs, (list, tuple)):
        raise invalid(name, runs, "expected a list of ReportRun", "pass e.g. [ReportRun(record, trace)]")
    for i, r in enumerate(runs):
        if not isinstance(r, ReportRun):
            raise invalid(f"{name}[{i}]", type(r).__name__, "expected a ReportRun",
                          "wrap each run: ReportRun(result.record, result.trace)")
    return list(runs)


def check_render_options(formats: Any, dpi: Any) -> set[str]:
    """``formats`` (an iterable of md/html/json/pdf) and ``dpi`` (an int in [1, 2400])."""
    from bounds._errors import check_int, invalid

    check_int("dpi", dpi, 1, 2400, "use e.g. dpi=150")
    if isinstance(formats, (str, bytes)) or not hasattr(formats, "__iter__"):
        raise invalid("formats", formats, "expected a list of formats", "pass e.g. formats=('md', 'html')")
    if not all(isinstance(f, str) for f in formats):
        raise invalid("formats", formats, "expected format names (str)", "pass e.g. formats=('md', 'html')")
    fs = {f.strip().lower() for f in formats}
    unknown = fs - {"md", "html", "json", "pdf"}
    if unknown:
        raise invalid("formats", sorted(fs), f"unknown format(s) {sorted(unknown)}",
                      "use a subset of md, html, json, pdf")
    return fs
