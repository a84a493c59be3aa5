"""Solvers on top of the theorem specs: required width, γ and step limits, and the numbers
behind G22's known issues 3 and 4.

Width conditions may depend on ``m`` themselves (through the operator-norm constant ``c(m)``
of :func:`~bounds.norm_constant_tail`, or through ``log m``).  :func:`required_width` therefore
solves, for each condition, for the smallest integer ``m`` with ``m ≥ bound(m, c(m))``.  Since
``c(m)`` decreases in ``m`` and the bounds grow at most logarithmically in ``m``,
``m − bound(m)`` is increasing and the set of admissible widths is ``[m*, ∞)``; ``m*`` is found
by doubling and integer bisection (the fixed point of ``m ↦ bound(c(m))``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from bounds._data import validate_X, validate_y
from bounds._errors import check_real, invalid
from bounds._kernels import lambda0 as _lambda0
from bounds._norms import NormConstant, _check_delta, norm_constant_tail
from bounds._symbolic import HIDDEN_CONSTANTS, Bound, Provenance, TheoremSpec, symbol
from bounds.gao2022_iclr import g22_spec

__all__ = [
    "E0_EXPECTED",
    "WidthEntry",
    "WidthRequirement",
    "TensionEntry",
    "InitNormTension",
    "initial_residual_estimate",
    "required_width",
    "gamma_max",
    "step_max",
    "init_norm_tension",
    "smallest_width",
    "largest_width",
]

_M_CAP = 1e300

#: Upper estimate of ``E‖e0‖²`` at initialisation (provenance ``derived``), as ‖e0‖.
#:
#: ``ŷ_i(0) = uᵀz_i + vᵀφ_i`` with Rademacher u, v independent of each other and of (A, W):
#: ``E[ŷ_i(0)] = 0`` and ``E[ŷ_i(0)²] = E‖z_i‖² + E‖φ_i‖²``; ``E‖φ_i‖² = ‖x_i‖²/2`` exactly.
#: Under the theorem's hypotheses ``‖A(0)‖ ≤ c√m`` and ``γ ≤ 1/(4c)`` the layer map is a
#: ¼-contraction at initialisation, so ``‖z_i‖ ≤ ‖φ_i‖/(1 − ¼)`` and
#: ``E‖e0‖² ≤ ‖y‖² + (1 + 16/9) ‖X‖_F²/2 = ‖y‖² + (25/18)‖X‖_F²``.  It is an *expectation*,
#: not a high-probability bound; pass the measured ‖e0‖ when you have one.
E0_EXPECTED = Bound(
    "e0_expected", "derived (expectation at initialisation)",
    sp.sqrt(symbol("y_norm", "‖y‖, norm of the label vector") ** 2
            + sp.Rational(25, 18) * symbol("X_fro", "Frobenius norm ‖X‖_F") ** 2),
    Provenance.DERIVED,
    description="√(‖y‖² + (25/18)‖X‖_F²) ≥ √E‖e0‖² under the theorem's γ and init-norm event",
)


def initial_residual_estimate(X: Any, y: Any = None) -> tuple[float, str]:
    """``(‖e0‖ estimate, source)`` from :data:`E0_EXPECTED`.

    Without labels ``|y_i| = 1`` is assumed (``‖y‖² = n``, as for the paper's ±1 binary
    experiments); the source string says so.
    """
    X = validate_X(X)
    n = X.shape[0]
    if y is None:
        y_norm = math.sqrt(n)
        src = "estimate √(‖y‖² + (25/18)‖X‖_F²) (E‖e0‖² upper bound at init), labels assumed |y_i| = 1"
    else:
        y_norm = float(np.linalg.norm(validate_y(y, n)))
        src = "estimate √(‖y‖² + (25/18)‖X‖_F²) (E‖e0‖² upper bound at init)"
    value = float(E0_EXPECTED.evaluate(y_norm=y_norm, X_fro=float(np.linalg.norm(X))))
    return value, src


def _positive(name: str, value: Any) -> float:
    return float(check_real(name, value, 0.0, low_open=True, fix=f"pass {name}=<float > 0>"))


def _hidden_values(hidden: Mapping[str, float] | None) -> dict[str, float]:
    out = {h: 1.0 for h in HIDDEN_CONSTANTS}
    for k, v in (hidden or {}).items():
        if k not in HIDDEN_CONSTANTS:
            raise invalid("hidden", k, f"unknown hidden constant (known: {sorted(HIDDEN_CONSTANTS)})",
                          "check the spelling")
        out[k] = _positive(f"hidden[{k!r}]", v)
    return out


def gamma_max(c: float) -> float:
    """Largest γ allowed by G22 Thm 3.1/3.2: ``min(½, 1/(4c))``."""
    return float(g22_spec("gd").bound("gamma_max").evaluate(c=_positive("c", c)))


def step_max(lambda0: float, n: int, C_step: float = 1.0) -> float:
    """Step-size limit of G22 Thm 3.2, ``C_step · λ0/n²`` (``C_step`` hidden, default 1)."""
    return float(g22_spec("gd").bound("step_max").evaluate(
        lambda0=_positive("lambda0", lambda0), n=_positive("n", n), C_step=_positive("C_step", C_step)))


def smallest_width(required: Callable[[float], float]) -> float:
    """Smallest integer ``m ≥ 1`` with ``m ≥ required(m)`` (``inf`` if none below 1e300).

    Assumes ``m − required(m)`` is non-decreasing (see the module docstring).
    """

    def ok(m: float) -> bool:
        r = required(m)
        return bool(np.isfinite(r)) and m >= r

    if ok(1.0):
        return 1.0
    hi = 2.0
    while not ok(hi):
        hi *= 2.0
        if hi > _M_CAP:
            return math.inf
    lo = hi / 2.0
    if hi <= 2.0**52:
        lo_i, hi_i = int(lo), int(hi)
        while hi_i - lo_i > 1:
            mid = (lo_i + hi_i) // 2
            if ok(float(mid)):
                hi_i = mid
            else:
                lo_i = mid
        return float(hi_i)
    while hi / lo - 1.0 > 1e-15:
        mid_f = math.sqrt(lo) * math.sqrt(hi)  # lo·hi overflows near 1e300
        if mid_f in (lo, hi):
            break
        if ok(mid_f):
            hi = mid_f
        else:
            lo = mid_f
    return float(math.ceil(hi))


def largest_width(allowed: Callable[[float], float]) -> float:
    """Largest integer ``m ≥ 1`` with ``√m ≤ allowed(m)`` (0 if none; ``inf`` past 1e300).

    Assumes ``allowed(m)² − m`` is non-increasing.
    """

    def ok(m: float) -> bool:
        a = allowed(m)
        return bool(np.isfinite(a)) and math.sqrt(m) <= a

    if not ok(1.0):
        return 0.0
    lo = 1.0
    while ok(2.0 * lo):
        lo *= 2.0
        if lo > _M_CAP:
            return math.inf
    hi = 2.0 * lo
    if hi <= 2.0**52:
        lo_i, hi_i = int(lo), int(hi)
        while hi_i - lo_i > 1:
            mid = (lo_i + hi_i) // 2
            if ok(float(mid)):
                lo_i = mid
            else:
                hi_i = mid
        return float(lo_i)
    while hi / lo - 1.0 > 1e-15:
        mid_f = math.sqrt(lo) * math.sqrt(hi)  # lo·hi overflows near 1e300
        if mid_f in (lo, hi):
            break
        if ok(mid_f):
            lo = mid_f
        else:
            hi = mid_f
    return float(math.floor(lo))


@dataclass(frozen=True)
class WidthEntry:
    """Required width of one width condition (``width`` = smallest admissible integer m)."""

    name: str
    label: str
    provenance: str
    hidden: tuple[str, ...]
    width: float
    c: float
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "provenance": self.provenance,
                "hidden": list(self.hidden), "width": _json_num(self.width), "c": self.c,
                "description": self.description}


def _json_num(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


@dataclass(frozen=True)
class WidthRequirement:
    """Result of :func:`required_width`.

    ``binding`` names the largest requirement over all width conditions;
    ``binding_printed`` the largest among the paper's own (provenance ``paper``/``hidden``)
    conditions, leaving out our ``derived`` ones.  Widths are ``inf`` when λ0 ≤ 0.
    """

    spec_key: str
    n: int
    d: int
    delta: float
    lambda0: float
    X_norm: float
    e0_norm: float
    e0_source: str
    c_source: str
    hidden: dict[str, float]
    entries: tuple[WidthEntry, ...]
    binding: str
    binding_printed: str
    notes: tuple[str, ...] = field(default=())

    def entry(self, name: str) -> WidthEntry:
        for e in self.entries:
            if e.name == name:
                return e
        raise invalid("name", name, "not a width condition of this result",
                      f"use one of {[e.name for e in self.entries]}")

    @property
    def m(self) -> float:
        """The binding required width."""
        return self.entry(self.binding).width

    @property
    def value(self) -> float:
        """The binding required width (= :attr:`m`; the ``"value"`` of :meth:`to_dict`)."""
        return self.m

    @property
    def c(self) -> float:
        """``c`` at the binding width."""
        return self.entry(self.binding).c

    def to_dict(self) -> dict[str, Any]:
        return {
            "spec": self.spec_key, "n": self.n, "d": self.d, "delta": self.delta,
            "lambda0": self.lambda0, "X_norm": self.X_norm, "e0_norm": self.e0_norm,
            "e0_source": self.e0_source, "c_source": self.c_source, "hidden": dict(self.hidden),
            "conditions": [{**e.to_dict(), "binding": e.name == self.binding,
                            "binding_printed": e.name == self.binding_printed}
                           for e in self.entries],
            "binding": self.binding, "binding_printed": self.binding_printed,
            "value": _json_num(self.m), "notes": list(self.notes),
        }


def _c_function(c: Any, d: int, delta: float) -> tuple[Callable[[float], float], str]:
    if c is None:
        return (lambda m: norm_constant_tail(int(m) if m <= 2**62 else 2**62, d, delta)), "tail"
    if isinstance(c, NormConstant):
        val = c.value
        return (lambda m: val), c.source
    val = _positive("c", c)
    return (lambda m: val), "given"


def _lambda0_zero_level(X: np.ndarray) -> float:
    """λ0 below this is rounding noise: ``eigvalsh`` is backward stable with eigenvalue error
    ≲ n·eps·‖G∞‖ and ‖G∞‖ ≤ trace G∞ = ‖X‖_F²/2; a factor 4 covers the constant."""
    n = X.shape[0]
    return 4.0 * n * float(np.finfo(np.float64).eps) * float(np.sum(X * X)) / 2.0


def _problem(X: Any, y: Any, delta: float, e0_norm: Any, lam: float | None
             ) -> tuple[np.ndarray, float, float, str, float]:
    Xv = validate_X(X)
    _check_delta(delta)
    lam0 = _lambda0(Xv) if lam is None else check_real(
        "lambda0", lam, 0.0, fix="pass λ0 = λ_min(G∞) ≥ 0 (bounds.lambda0(X)) or leave lambda0=None")
    if lam is None and lam0 <= _lambda0_zero_level(Xv):
        lam0 = 0.0  # numerically zero: parallel pairs / zero rows (see _lambda0_zero_level)
    if e0_norm is None:
        e0, src = initial_residual_estimate(Xv, y)
    else:
        e0, src = _positive("e0_norm", e0_norm), "given"
        if y is not None:
            validate_y(y, Xv.shape[0])
    X_norm = float(np.linalg.svd(Xv, compute_uv=False)[0])
    return Xv, lam0, X_norm, src, e0


def required_width(
    X: Any,
    y: Any = None,
    delta: float = 0.01,
    c: float | NormConstant | None = None,
    e0_norm: float | None = None,
    hidden: Mapping[str, float] | None = None,
    *,
    mode: str = "gd",
    spec: TheoremSpec | None = None,
    lambda0: float | None = None,
) -> WidthRequirement:
    """Required width for every width condition of G22 (``g22_spec(mode)``) or of ``spec``.

    Parameters
    ----------
    X, y:
        data (n×d) and optional labels (used only for the ‖e0‖ estimate).
    delta:
        failure probability δ (used by the log(n/δ) terms and by the tail-bound ``c``; the
        probabilities are not split further, as in the paper).
    c:
        operator-norm constant; default: :func:`~bounds.norm_constant_tail` at ``(m, d, δ)``,
        solved jointly with ``m`` (fixed point).  A number or :class:`~bounds.NormConstant`
        is used as is.
    e0_norm:
        ‖e0‖; default :func:`initial_residual_estimate` (an expectation, labelled as such).
    hidden:
        values of hidden constants (default 1 each).
    lambda0:
        λ0 if already computed (default: :func:`~bounds.lambda0` of X).
    """
    sp_ = g22_spec(mode) if spec is None else spec
    Xv, lam0, X_norm, e0_src, e0 = _problem(X, y, delta, e0_norm, lambda0)
    n, d = Xv.shape
    hid = _hidden_values(hidden)
    c_of, c_src = _c_function(c, d, float(delta))
    base = {"n": float(n), "d": float(d), "delta": float(delta), "lambda0": lam0,
            "X_norm": X_norm, "e0_norm": e0, **hid}
    notes = []
    entries = []
    for cond in sp_.width_conditions():
        if lam0 <= 0:
            width = math.inf
        else:
            def req(m: float, b: Bound = cond.bound) -> float:
                extra = {"c": c_of(m)} if "c" in b.free_symbols else {}
                return float(b.evaluate(**base, m=m, **extra))
            width = smallest_width(req)
        c_at = c_of(width) if np.isfinite(width) else c_of(_M_CAP)
        entries.append(WidthEntry(cond.name, cond.label, cond.bound.provenance.value,
                                  cond.bound.hidden, width, float(c_at), cond.description))
    if lam0 <= 0:
        notes.append(f"λ0 = {lam0:.3g}: numerically zero (parallel pairs or zero rows, see the "
                     "audit); no width suffices")
    if not entries:
        raise invalid("spec", sp_.key, "has no width condition", "pass a spec with conditions on m")
    binding = max(entries, key=lambda e: e.width).name
    printed = [e for e in entries if e.provenance in ("paper", "hidden")] or entries
    binding_printed = max(printed, key=lambda e: e.width).name
    return WidthRequirement(
        spec_key=sp_.key, n=n, d=d, delta=float(delta), lambda0=lam0, X_norm=X_norm,
        e0_norm=e0, e0_source=e0_src, c_source=c_src,
        hidden={h: hid[h] for h in sp_.hidden}, entries=tuple(entries), binding=binding,
        binding_printed=binding_printed, notes=tuple(notes),
    )


@dataclass(frozen=True)
class TensionEntry:
    """Known issue 3 for one claim: the claim holds at initialisation only for ``m ≤ m_max``."""

    claim: str
    label: str
    observable: str
    constant: float
    m_max: float
    required_width: float
    required_width_printed: float

    @property
    def conflict(self) -> bool:
        """No width satisfies both the binding width condition and the claim at init."""
        return bool(self.m_max < self.required_width)

    @property
    def conflict_printed(self) -> bool:
        """Same against the paper's own (non-derived) binding width condition."""
        return bool(self.m_max < self.required_width_printed)

    def to_dict(self) -> dict[str, Any]:
        return {"claim": self.claim, "label": self.label, "observable": self.observable,
                "constant": self.constant, "m_max": _json_num(self.m_max),
                "required_width": _json_num(self.required_width),
                "required_width_printed": _json_num(self.required_width_printed),
                "conflict": self.conflict, "conflict_printed": self.conflict_printed}


@dataclass(frozen=True)
class InitNormTension:
    """Numbers for G22 known issues 3 and 4 (see :func:`init_norm_tension`)."""

    lambda0: float
    e0_norm: float
    entries: tuple[TensionEntry, ...]
    width_thm31: float
    width_thm32: float
    width_lemma35: float
    width_lemma36: float
    gd: WidthRequirement
    gf: WidthRequirement

    @property
    def lambda_ratio(self) -> float:
        """``width_thm31 / width_thm32`` = 1/λ0 (λ0² as needed vs λ0 as printed)."""
        return self.width_thm31 / self.width_thm32

    def to_dict(self) -> dict[str, Any]:
        return {
            "lambda0": self.lambda0, "e0_norm": self.e0_norm,
            "issue3": [e.to_dict() for e in self.entries],
            "issue4": {
                "width_thm31_lambda0_sq": _json_num(self.width_thm31),
                "width_thm32_as_printed": _json_num(self.width_thm32),
                "ratio_thm31_over_thm32": _json_num(self.lambda_ratio),
                "width_lemma35": _json_num(self.width_lemma35),
                "width_lemma36": _json_num(self.width_lemma36),
                "binding_gd": self.gd.binding, "binding_printed_gd": self.gd.binding_printed,
                "binding_gf": self.gf.binding, "binding_printed_gf": self.gf.binding_printed,
            },
        }


def init_norm_tension(
    X: Any,
    y: Any = None,
    delta: float = 0.01,
    c: float | NormConstant | None = None,
    e0_norm: float | None = None,
    hidden: Mapping[str, float] | None = None,
    *,
    lambda0: float | None = None,
) -> InitNormTension:
    """Known issue 3: widths above which Lemma 3.5/3.6 (ii)/(iii) fail at t = 0, next to the
    required widths; known issue 4: theorem vs lemma widths, λ0² vs λ0 as printed.

    At initialisation ``‖u(0)‖ = ‖v(0)‖ = √m`` (Assumption 1), so claim (ii) with bound
    ``K c√n‖e0‖/λ0`` holds at t = 0 only if ``m ≤ m_max = (K c(m)√n‖e0‖/λ0)²`` (solved jointly
    with ``c(m)`` when ``c`` is the tail bound).  Arguments as in :func:`required_width`.
    """
    Xv, lam0, X_norm, e0_src, e0 = _problem(X, y, delta, e0_norm, lambda0)
    reqs = {mode: required_width(Xv, None, delta=delta, c=c, e0_norm=e0, hidden=hidden,
                                 mode=mode, lambda0=lam0) for mode in ("gd", "gf")}
    n, d = Xv.shape
    c_of, _ = _c_function(c, d, float(delta))
    hid = _hidden_values(hidden)
    base = {"n": float(n), "lambda0": lam0, "e0_norm": e0}
    entries = []
    for mode in ("gd", "gf"):
        spec = g22_spec(mode)
        pre = "lemma36" if mode == "gd" else "lemma35"
        for suffix in ("ii", "iii"):
            cl = spec.claim(f"{pre}_{suffix}")
            if lam0 <= 0:
                m_max = math.inf
            else:
                def allowed(m: float, b: Bound = cl.bound) -> float:
                    return float(b.evaluate(**base, c=c_of(m)))
                m_max = largest_width(allowed)
            K = float(cl.bound.evaluate(n=1.0, lambda0=1.0, e0_norm=1.0, c=1.0))
            r = reqs[mode]
            entries.append(TensionEntry(cl.name, cl.label, cl.observable, K, m_max, r.m,
                                        r.entry(r.binding_printed).width))
    w31 = g22_spec("gf").bound("width_thm31")
    w32 = g22_spec("gd").bound("width_thm32")
    vals = {"n": float(n), "delta": float(delta), "lambda0": lam0, **hid}
    return InitNormTension(
        lambda0=lam0, e0_norm=e0, entries=tuple(entries),
        width_thm31=float(w31.evaluate(**vals)) if lam0 > 0 else math.inf,
        width_thm32=float(w32.evaluate(**vals)) if lam0 > 0 else math.inf,
        width_lemma35=reqs["gf"].entry("width_lemma35").width,
        width_lemma36=reqs["gd"].entry("width_lemma36").width,
        gd=reqs["gd"], gf=reqs["gf"],
    )
