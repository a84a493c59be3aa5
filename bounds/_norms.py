"""Operator-norm constants ``c`` with ``‖A(0)‖ ≤ c√m`` and ``‖W(0)‖ ≤ c√m`` [G22 Lemma 2.1].

G22 Lemma 2.1 quotes Vershynin's Thm 4.4.5 with unspecified absolute constants.  For the
paper's Gaussian initialisation (Assumption 1) a fully explicit bound is available:

    P(‖G‖₂ > √m + √m' + t) ≤ 2 e^{−t²/2}      (G an m×m' matrix of i.i.d. N(0,1))

— Davidson & Szarek (2001, Thm II.13); Vershynin, *High-Dimensional Probability*, Cor. 7.3.3,
which states the two-sided ``√m − √m' − t ≤ s_min ≤ s_max ≤ √m + √m' + t`` with probability
``≥ 1 − 2e^{−t²/2}``.  The upper side alone holds with ``1 − e^{−t²/2}`` (Gordon's
``E‖G‖ ≤ √m + √m'`` plus Gaussian concentration of the 1-Lipschitz map ``G ↦ ‖G‖``); we keep
the factor 2 of the two-sided statement, which is conservative.

Joint statement (union bound, δ/2 for each of A (m×m) and W (m×d)): with
``t = √(2 log(4/δ))``, both ``‖A(0)‖ ≤ c√m`` and ``‖W(0)‖ ≤ c√m`` hold with probability
``≥ 1 − δ`` for

    c(m, d, δ) = max(2√m + t, √m + √d + t) / √m.

For large m, ``c → 2`` (A dominates unless d > m).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from bounds._errors import check_real, invalid
from bounds._symbolic import Bound, Provenance, symbol

__all__ = [
    "NORM_CONSTANT_TAIL",
    "TAIL_T",
    "NormConstant",
    "norm_constant_tail",
    "norm_constant_measured",
]

_m, _d, _delta = symbol("m"), symbol("d"), symbol("delta")

#: deviation t of the Gaussian tail bound at joint failure probability δ (δ/2 per matrix).
TAIL_T = sp.sqrt(2 * sp.log(4 / _delta))

#: c(m, d, δ) as a :class:`Bound` (provenance ``derived``: explicit version of G22 Lemma 2.1).
NORM_CONSTANT_TAIL = Bound(
    name="norm_constant_tail",
    label="G22 Lemma 2.1 (explicit: Davidson–Szarek / Vershynin HDP Cor. 7.3.3)",
    expr=sp.Max(2 * sp.sqrt(_m) + TAIL_T, sp.sqrt(_m) + sp.sqrt(_d) + TAIL_T) / sp.sqrt(_m),
    provenance=Provenance.DERIVED,
    description=(
        "c such that ‖A(0)‖ ≤ c√m (A m×m) and ‖W(0)‖ ≤ c√m (W m×d) jointly with probability "
        "≥ 1−δ for i.i.d. N(0,1) entries: P(‖G‖ > √m+√m'+t) ≤ 2exp(−t²/2), δ/2 per matrix, "
        "t = √(2 log(4/δ))."
    ),
)

_tail_t_fn = sp.lambdify([_delta], TAIL_T, modules="numpy")


def _check_int(name: str, value: Any, minimum: int = 1) -> int:
    """A whole number ≥ ``minimum`` (an int, or a float such as 8.0; not text, not a bool)."""
    if isinstance(value, (bool, str, bytes)):
        raise invalid(name, value, "must be an integer", f"pass {name}=<int ≥ {minimum}>")
    try:
        f = float(value)
    except (TypeError, ValueError) as exc:
        raise invalid(name, value, "must be an integer", f"pass {name}=<int ≥ {minimum}>") from exc
    if not np.isfinite(f) or f != int(f) or f < minimum:
        raise invalid(name, value, f"must be an integer ≥ {minimum}", f"pass {name}=<int ≥ {minimum}>")
    return int(f)


def _check_delta(delta: Any) -> float:
    return float(check_real("delta", delta, 0.0, 1.0, low_open=True, high_open=True,
                            fix="pass a probability in (0, 1), e.g. delta=0.01"))


def norm_constant_tail(m: int, d: int, delta: float) -> float:
    """Explicit ``c`` with ``‖A(0)‖, ‖W(0)‖ ≤ c√m`` jointly w.p. ``≥ 1 − δ`` (module docstring)."""
    m_i = _check_int("m", m)
    d_i = _check_int("d", d)
    dl = _check_delta(delta)
    return float(NORM_CONSTANT_TAIL.evaluate(m=m_i, d=d_i, delta=dl))


def _spectral_norm(M: np.ndarray) -> float:
    return float(np.linalg.svd(M, compute_uv=False)[0]) if M.size else 0.0


def norm_constant_measured(A: Any, W: Any) -> float:
    """``max(‖A‖₂, ‖W‖₂)/√m`` for given matrices ``A`` (m×m) and ``W`` (m×d), float64."""
    A_, W_ = _check_pair(A, W)
    m = A_.shape[0]
    return max(_spectral_norm(A_), _spectral_norm(W_)) / float(np.sqrt(m))


def _check_pair(A: Any, W: Any) -> tuple[np.ndarray, np.ndarray]:
    from bounds._data import validate_X

    A_ = validate_X(A, name="A")
    W_ = validate_X(W, name="W")
    if A_.shape[0] != A_.shape[1]:
        raise invalid("A", f"<array shape {A_.shape}>", "must be square (m×m)",
                      "pass the implicit-layer weight matrix")
    if W_.shape[0] != A_.shape[0]:
        raise invalid("W", f"<array shape {W_.shape}>", f"must have m={A_.shape[0]} rows like A",
                      "pass the input weight matrix W (m×d)")
    return A_, W_


@dataclass(frozen=True)
class NormConstant:
    """A value of ``c`` and where it came from.

    ``source`` is ``"tail"`` (explicit Gaussian tail bound, holds w.p. ≥ 1−δ), ``"measured"``
    (from actual matrices) or ``"given"`` (set by the user).  ``details`` records the inputs
    (``m, d, delta, t`` or the two measured norms).
    """

    value: float
    source: str
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.source not in ("tail", "measured", "given"):
            raise invalid("source", self.source, "unknown source of c",
                          "use 'tail', 'measured' or 'given'")
        if not (np.isfinite(self.value) and self.value > 0):
            raise invalid("c", self.value, "must be a finite positive number", "e.g. c=2.1")

    @classmethod
    def tail(cls, m: int, d: int, delta: float) -> NormConstant:
        value = norm_constant_tail(m, d, delta)
        t = float(_tail_t_fn(_check_delta(delta)))
        return cls(value, "tail", {"m": int(m), "d": int(d), "delta": float(delta), "t": t,
                                   "bound": NORM_CONSTANT_TAIL.label})

    @classmethod
    def measured(cls, A: Any, W: Any) -> NormConstant:
        A_, W_ = _check_pair(A, W)
        m = A_.shape[0]
        a, w = _spectral_norm(A_), _spectral_norm(W_)
        return cls(max(a, w) / float(np.sqrt(m)), "measured",
                   {"m": m, "d": W_.shape[1], "A_norm": a, "W_norm": w})

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "source": self.source, "details": dict(self.details)}
