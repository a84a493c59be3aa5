"""Theorems as data: symbols, bounds, conditions, claims and theorem specs.

Every quantitative statement of a paper is stored **once**, as a sympy expression in a
:class:`Bound`.  Its numeric function is derived from that expression with
:func:`sympy.lambdify` (never retyped), its LaTeX with :func:`sympy.latex`.  A
:class:`Condition` says what the user's configuration must satisfy (``m ≥ width``), a
:class:`Claim` what must hold along a training trajectory (``observable(k) ≤ bound(k)``), and a
:class:`TheoremSpec` collects them with the paper's assumptions and known issues.

Length (~520 lines): the symbol table, :class:`Bound` and the three statement kinds built on it
(:class:`Condition` with its break-even solve for a hidden constant, :class:`Claim`,
:class:`Assumption`) and :class:`TheoremSpec` form one small type system that every spec module
and the verdict engine read together; splitting it would scatter one vocabulary over files.

Symbol names (sympy symbols with exactly these names, see ``docs/CONTRACTS.md``):

==============  ==========================================================================
``n``           number of samples
``m``           width
``d``           input dimension
``gamma``       fixed scale γ of the implicit layer (γ̃ = γ/√m)
``alpha``       GD step size α
``delta``       failure probability δ
``lambda0``     λ0 = λ_min(G∞)
``c``           operator-norm constant: ‖A(0)‖, ‖W(0)‖ ≤ c√m
``X_norm``      operator norm ‖X‖₂ of the data matrix
``e0_norm``     ‖e0‖ = ‖ŷ(0) − y‖
``k``, ``t``    GD step index, gradient-flow time
==============  ==========================================================================

Hidden constants (the Ω(·)/O(·) constants the papers do not give) are ordinary symbols whose
value defaults to 1 in :meth:`Bound.evaluate`; they are always listed in ``Bound.hidden`` so a
report can say that a number depends on them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from bounds._errors import check_bool, invalid

__all__ = [
    "SYMBOLS",
    "HIDDEN_CONSTANTS",
    "symbol",
    "Provenance",
    "Bound",
    "Condition",
    "ConditionCheck",
    "Claim",
    "Assumption",
    "TheoremSpec",
    "evaluate_spec",
]

#: Standard symbols and their meaning.
SYMBOLS: dict[str, str] = {
    "n": "number of samples",
    "m": "width of the implicit layer",
    "d": "input dimension",
    "gamma": "fixed scale γ of the implicit layer (γ̃ = γ/√m)",
    "alpha": "gradient-descent step size α",
    "delta": "failure probability δ",
    "lambda0": "λ0 = λ_min(G∞), smallest eigenvalue of the infinite-width feature Gram",
    "c": "operator-norm constant with ‖A(0)‖ ≤ c√m and ‖W(0)‖ ≤ c√m",
    "X_norm": "operator norm ‖X‖₂ of the data matrix (n×d)",
    "e0_norm": "‖e0‖ = ‖ŷ(0) − y‖, initial residual norm",
    "k": "gradient-descent step index",
    "t": "gradient-flow time (t = kα for a small-step discretisation)",
}

#: Hidden constants (value 1 unless the caller sets them) and what they stand for.
from bounds._hidden import HIDDEN_CONSTANTS  # noqa: E402  (sympy-free, for the CLI's help)

_NONNEGATIVE = {"k", "t"}
_SYMBOL_CACHE: dict[str, sp.Symbol] = {}
_EXTRA_SYMBOLS: dict[str, str] = {}

_LATEX_NAMES = {
    "gamma": r"\gamma",
    "alpha": r"\alpha",
    "delta": r"\delta",
    "lambda0": r"\lambda_0",
    "X_norm": r"\|X\|",
    "e0_norm": r"\|e_0\|",
    "A0_norm": r"\|A(0)\|",
    "C_width": r"C_{\mathrm{width}}",
    "C_width_lemma": r"C_{\mathrm{width,lemma}}",
    "C_step": r"C_{\mathrm{step}}",
    "C_prob": r"C_{\mathrm{prob}}",
    "C_lin": r"C_{\mathrm{lin}}",
}


def symbol(name: str, description: str | None = None) -> sp.Symbol:
    """The sympy symbol called ``name`` (positive; ``k`` and ``t`` non-negative).

    Names outside :data:`SYMBOLS` and :data:`HIDDEN_CONSTANTS` are registered on first use
    (a spec for another theorem may need e.g. ``A0_norm``); pass ``description`` then.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise invalid("name", name, "a symbol name must be a Python identifier", "use e.g. 'm'")
    if name not in _SYMBOL_CACHE:
        if name not in SYMBOLS and name not in HIDDEN_CONSTANTS:
            _EXTRA_SYMBOLS[name] = description or name
        if name in _NONNEGATIVE:
            _SYMBOL_CACHE[name] = sp.Symbol(name, nonnegative=True, real=True)
        else:
            _SYMBOL_CACHE[name] = sp.Symbol(name, positive=True)
    return _SYMBOL_CACHE[name]


def _known_names() -> set[str]:
    return set(SYMBOLS) | set(HIDDEN_CONSTANTS) | set(_EXTRA_SYMBOLS)


class Provenance(str, enum.Enum):
    """Where a bound comes from."""

    #: explicit constant as printed in the paper
    PAPER = "paper"
    #: an Ω(·)/O(·) statement: the constant is a named hidden constant (default 1)
    HIDDEN = "hidden"
    #: our own derivation (sharper, corrected or made explicit); derivation in the docstring
    DERIVED = "derived"
    #: the paper's text was not available; reconstructed from what is known of it
    RECONSTRUCTED = "reconstructed"


def _as_float_array(name: str, value: Any) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise invalid(name, value, "must be a real number or array of real numbers",
                      f"pass {name}=<float>") from exc
    return arr


@dataclass(frozen=True)
class Bound:
    """One named quantitative expression of a theorem.

    Attributes
    ----------
    name:
        identifier inside its spec, e.g. ``"width_lemma36"``.
    label:
        citation, e.g. ``"G22 Lemma 3.6(iv)"``.
    expr:
        the sympy expression (symbols from :func:`symbol`).
    provenance:
        :class:`Provenance` (a plain string such as ``"paper"`` is accepted).
    hidden:
        names of hidden constants appearing in ``expr``.  Names of :data:`HIDDEN_CONSTANTS`
        found in ``expr`` are added automatically; every listed name must occur in ``expr``.
    description:
        what the bound says and, for ``derived`` bounds, how it was derived.
    """

    name: str
    label: str
    expr: sp.Expr
    provenance: Provenance
    hidden: tuple[str, ...] = ()
    description: str = ""
    _args: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _fn: Callable[..., Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        expr = sp.sympify(self.expr)
        object.__setattr__(self, "expr", expr)
        try:
            prov = Provenance(self.provenance)
        except ValueError as exc:
            raise invalid("provenance", self.provenance, "unknown provenance",
                          f"use one of {[p.value for p in Provenance]}") from exc
        object.__setattr__(self, "provenance", prov)
        names = tuple(sorted(str(s) for s in expr.free_symbols))
        for s in expr.free_symbols:
            if str(s) not in _SYMBOL_CACHE or _SYMBOL_CACHE[str(s)] != s:
                raise invalid("expr", str(expr), f"symbol {s} was not created by bounds.symbol()",
                              "build expressions from bounds.symbol(name)")
        declared = set(self.hidden)
        missing = declared - set(names)
        if missing:
            raise invalid("hidden", self.hidden, f"{sorted(missing)} do not occur in {expr}",
                          "list only hidden constants that appear in the expression")
        hidden = tuple(sorted(declared | (set(names) & set(HIDDEN_CONSTANTS))))
        if prov is Provenance.HIDDEN and not hidden:
            raise invalid("provenance", prov.value, f"bound {self.name!r} has no hidden constant",
                          "use 'paper' or 'derived' for fully explicit bounds")
        object.__setattr__(self, "hidden", hidden)
        object.__setattr__(self, "_args", names)
        fn = sp.lambdify([symbol(a) for a in names], expr, modules=["numpy", "scipy"])
        object.__setattr__(self, "_fn", fn)

    @property
    def free_symbols(self) -> tuple[str, ...]:
        """Names of the symbols in ``expr`` (hidden constants included), sorted."""
        return self._args

    def latex(self) -> str:
        """LaTeX of ``expr`` with readable symbol names (``\\lambda_0``, ``\\|X\\|``, …)."""
        names = {symbol(a): _LATEX_NAMES.get(a, a) for a in self._args}
        return sp.latex(self.expr, symbol_names=names)

    def evaluate(self, **values: Any) -> float | np.ndarray:
        """Numeric value of ``expr`` (float64; numpy broadcasting over array arguments).

        Every free symbol that is not a hidden constant must be given; hidden constants
        default to 1.  Keyword names that are known symbols but do not occur in this bound are
        ignored (so a whole configuration can be passed) except that the result is broadcast
        against every array passed (``k=np.arange(K)`` gives K values even for a constant
        bound); unknown names raise :class:`~bounds.InvalidArgument`.
        """
        known = _known_names()
        for key in values:
            if key not in known:
                raise invalid(key, values[key], f"is not a symbol of any theorem spec "
                              f"(known: {sorted(known)})", "check the spelling")
        args: list[Any] = []
        for a in self._args:
            if a in values:
                args.append(_as_float_array(a, values[a]))
            elif a in self.hidden:
                args.append(np.float64(1.0))
            else:
                raise invalid(a, None, f"{self.label} ({self.name}) needs a value for symbol "
                              f"{a!r}", f"pass {a}=<number> to evaluate()")
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out = np.asarray(self._fn(*args), dtype=np.float64)
        shapes = [np.shape(v) for v in values.values() if np.ndim(v) > 0]
        shape = np.broadcast_shapes(*(np.shape(x) for x in args), *shapes)
        if out.shape != shape:
            out = np.broadcast_to(out, shape).copy()
        if out.ndim == 0:
            return float(out)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "expr": str(self.expr),
            "latex": self.latex(),
            "provenance": self.provenance.value,
            "hidden": list(self.hidden),
            "description": self.description,
        }


_SENSES = ("le", "ge")


def _check_sense(sense: str) -> None:
    if sense not in _SENSES:
        raise invalid("sense", sense, "must be 'le' or 'ge'", "use 'le' for ≤, 'ge' for ≥")


@dataclass(frozen=True)
class ConditionCheck:
    """Outcome of :meth:`Condition.check` for one configuration value.

    ``ratio``: the one convention of every surface (docs/CONTRACTS.md) — observed/bound
    oriented so that ``> 1`` means the condition fails: ``value / required`` for ``sense="le"``,
    ``required / value`` for ``sense="ge"`` (a width 1e6× too small has ratio 1e6).
    """

    name: str
    label: str
    quantity: str
    sense: str
    value: float
    required: float
    satisfied: bool
    ratio: float
    provenance: str
    hidden: tuple[str, ...]

    @property
    def verdict(self) -> str:
        """``met`` / ``not met``: the words of :class:`bounds.Outcome` (one vocabulary)."""
        from bounds._verdicts import Outcome

        return (Outcome.MET if self.satisfied else Outcome.NOT_MET).value

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "quantity": self.quantity,
            "sense": self.sense,
            "value": self.value,
            "required": self.required,
            "verdict": self.verdict,
            "satisfied": self.satisfied,
            "ratio": self.ratio,
            "provenance": self.provenance,
            "hidden": list(self.hidden),
        }


@dataclass(frozen=True)
class Condition:
    """``quantity <sense> bound``: an inequality the user's configuration must satisfy."""

    name: str
    label: str
    quantity: str
    sense: str
    bound: Bound
    description: str = ""

    def __post_init__(self) -> None:
        _check_sense(self.sense)

    def check(self, value: float, **values: Any) -> ConditionCheck:
        """Compare the configuration ``value`` of :attr:`quantity` with the bound.

        ``values`` are passed to :meth:`Bound.evaluate`; the quantity itself is passed too
        (a width bound may depend on ``m`` through ``c``).
        """
        val = float(_as_float_array(self.quantity, value))
        required = float(self.bound.evaluate(**{**values, self.quantity: val}))
        ok = val <= required if self.sense == "le" else val >= required
        with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
            ratio = float(np.float64(val) / np.float64(required) if self.sense == "le"
                          else np.float64(required) / np.float64(val))
        return ConditionCheck(
            name=self.name, label=self.label, quantity=self.quantity, sense=self.sense,
            value=val, required=required, satisfied=bool(ok), ratio=ratio,
            provenance=self.bound.provenance.value, hidden=self.bound.hidden,
        )

    def break_even(self, hidden: str, value: float, **values: Any) -> dict[str, Any]:
        """The value of the hidden constant ``hidden`` at which this condition is exactly met.

        Solves ``bound(hidden = C) = value`` for ``C`` with :func:`sympy.solve` on the bound's
        expression (the other symbols substituted from ``values``; the quantity itself from
        ``value``), never a retyped formula.  Returns ``{"constant", "break_even",
        "satisfied_for"}`` where ``satisfied_for`` is ``"C <= C*"`` or ``"C >= C*"`` (read off
        the sign of ``d bound/dC`` at ``C*`` and the sense), ``break_even`` is ``None`` (and
        ``satisfied_for`` ``"none"``/``"all"``) when no positive solution exists.
        """
        if hidden not in self.bound.hidden:
            raise invalid("hidden", hidden, f"is not a hidden constant of {self.bound.name!r} "
                          f"(its hidden constants: {list(self.bound.hidden)})",
                          "pick one of the bound's hidden constants")
        C = symbol(hidden)
        subs = {symbol(a): float(values[a]) for a in self.bound.free_symbols
                if a != hidden and a in values}
        subs[symbol(self.quantity)] = float(value)  # the quantity may occur in the bound
        missing = [a for a in self.bound.free_symbols if a != hidden and symbol(a) not in subs]
        if missing:
            raise invalid(missing[0], None, f"break-even of {self.name} needs {missing[0]!r}",
                          f"pass {missing[0]}=<number>")
        expr = self.bound.expr.subs(subs)
        sols = [complex(s_) for s_ in sp.solve(sp.Eq(expr, float(value)), C)]
        pos = sorted(s_.real for s_ in sols if abs(s_.imag) <= 1e-12 * max(1.0, abs(s_.real))
                     and s_.real > 0)
        out: dict[str, Any] = {"constant": hidden, "break_even": None}
        if len(pos) != 1:
            # no (unique) crossing: the condition's status does not depend on C
            at1 = self.check(value, **{**values, hidden: 1.0}).satisfied
            out["satisfied_for"] = "all" if at1 else "none"
            return out
        cstar = pos[0]
        slope = float(sp.diff(expr, C).subs(C, cstar))
        increasing = slope > 0
        # "ge": value ≥ bound(C) holds for C on the side where the bound is smaller
        small_side = "C <= C*" if increasing else "C >= C*"
        large_side = "C >= C*" if increasing else "C <= C*"
        out["break_even"] = float(cstar)
        out["satisfied_for"] = small_side if self.sense == "ge" else large_side
        return out


@dataclass(frozen=True)
class Claim:
    """``observable(k) <sense> bound(k)`` along a trajectory.

    ``hypotheses`` names the conditions / assumptions of the spec whose failure makes the claim
    vacuous.  ``at_init_only`` marks statements about the initialisation only.  ``event``
    marks a probabilistic event (the statement holds with probability ≥ 1 − δ): one run shows
    an outcome of the event, never a violation of the lemma.  ``mode`` is
    ``"gd"``, ``"gf"`` or ``"both"``.  GD bounds use the symbol ``k`` (= trace ``step``), GF
    bounds the symbol ``t`` (= trace ``time``).
    """

    name: str
    label: str
    observable: str
    sense: str
    bound: Bound
    mode: str = "both"
    hypotheses: tuple[str, ...] = ()
    at_init_only: bool = False
    description: str = ""
    event: bool = False

    def __post_init__(self) -> None:
        _check_sense(self.sense)
        if self.mode not in ("gd", "gf", "both"):
            raise invalid("mode", self.mode, "must be 'gd', 'gf' or 'both'", "pick one")
        object.__setattr__(self, "hypotheses", tuple(self.hypotheses))


@dataclass(frozen=True)
class Assumption:
    """A predicate on data or initialisation, with the paper's label.

    ``checked_by`` (an addition to the contract) lists the names of at-initialisation claims
    of the same spec that test this assumption numerically, if any.
    """

    name: str
    label: str
    description: str = ""
    checked_by: tuple[str, ...] = ()


def _unique(kind: str, names: Iterable[str]) -> None:
    seen: set[str] = set()
    for nm in names:
        if nm in seen:
            raise invalid(kind, nm, "duplicate name in theorem spec", "give each item its own name")
        seen.add(nm)


@dataclass(frozen=True)
class TheoremSpec:
    """One theorem (or a family: a paper's GD or GF statement) as data.

    ``bounds`` holds every named bound of the spec, including those used by conditions and
    claims; look one up with :meth:`bound`.
    """

    key: str
    title: str
    paper: str
    symbols: Mapping[str, str]
    hidden: Mapping[str, float]
    assumptions: tuple[Assumption, ...]
    conditions: tuple[Condition, ...]
    claims: tuple[Claim, ...]
    bounds: tuple[Bound, ...]
    known_issues: tuple[str, ...] = ()
    mode: str = "both"

    def __post_init__(self) -> None:
        for attr in ("assumptions", "conditions", "claims", "bounds", "known_issues"):
            object.__setattr__(self, attr, tuple(getattr(self, attr)))
        _unique("assumption", (a.name for a in self.assumptions))
        _unique("condition", (c.name for c in self.conditions))
        _unique("claim", (c.name for c in self.claims))
        _unique("bound", (b.name for b in self.bounds))
        hyp_names = {a.name for a in self.assumptions} | {c.name for c in self.conditions}
        for cl in self.claims:
            for h in cl.hypotheses:
                if h not in hyp_names:
                    raise invalid("hypotheses", h, f"claim {cl.name!r} names an unknown "
                                  "condition/assumption", f"use one of {sorted(hyp_names)}")
        bound_names = {b.name for b in self.bounds}
        items: tuple[Condition | Claim, ...] = (*self.conditions, *self.claims)
        for item in items:
            if item.bound.name not in bound_names:
                raise invalid("bounds", item.bound.name, f"{item.name!r} uses a bound missing "
                              "from spec.bounds", "add it to bounds")
        claim_names = {c.name for c in self.claims}
        for a in self.assumptions:
            for cb in a.checked_by:
                if cb not in claim_names:
                    raise invalid("checked_by", cb, f"assumption {a.name!r} names an unknown "
                                  "claim", f"use one of {sorted(claim_names)}")

    def _find(self, items: Iterable[Any], name: str, kind: str) -> Any:
        items = tuple(items)
        for it in items:
            if it.name == name:
                return it
        raise invalid(kind, name, f"not in spec {self.key!r}",
                      f"use one of {[it.name for it in items]}")

    def bound(self, name: str) -> Bound:
        return self._find(self.bounds, name, "bound")

    def condition(self, name: str) -> Condition:
        return self._find(self.conditions, name, "condition")

    def claim(self, name: str) -> Claim:
        return self._find(self.claims, name, "claim")

    def assumption(self, name: str) -> Assumption:
        return self._find(self.assumptions, name, "assumption")

    def width_conditions(self) -> tuple[Condition, ...]:
        """The conditions on the width ``m``."""
        return tuple(c for c in self.conditions if c.quantity == "m")


def evaluate_spec(spec: TheoremSpec, *, strict: bool = False,
                  **values: Any) -> dict[str, float | np.ndarray]:
    """Evaluate every bound of ``spec`` at ``values``: ``{bound name: value}``.

    Hidden constants default to ``spec.hidden``.  A bound whose non-hidden symbols are not all
    in ``values`` is left out of the result, unless ``strict=True``, which raises
    :class:`~bounds.InvalidArgument` naming the missing symbol.
    """
    if not isinstance(spec, TheoremSpec):
        raise invalid("spec", spec, "expected a TheoremSpec",
                      "pass bounds.g22_spec('gd') (or gg22_spec), not its name")
    strict = check_bool("strict", strict)
    merged = {**dict(spec.hidden), **values}
    out: dict[str, float | np.ndarray] = {}
    for b in spec.bounds:
        needed = [a for a in b.free_symbols if a not in merged]
        if needed and not strict:
            continue
        out[b.name] = b.evaluate(**merged)
    return out
