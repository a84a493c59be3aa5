"""GG22 — Gao & Gao 2022 (arXiv 2205.07463), "Gradient Descent Optimizes Infinite-Depth ReLU
Implicit Networks with Linear Widths", as a :class:`~bounds.TheoremSpec`.

Only the abstract of GG22 was available to this project (theory digest B).  It states that a
small enough fixed scale γ keeps the implicit layer well-posed throughout training and that GF
and GD converge linearly once ``m = Ω(N)``.  **No constant of GG22 is published in the
available text**; this module invents none.  What it contains:

* ``width_linear``: ``m ≥ C_lin · n`` — provenance ``reconstructed``, hidden ``C_lin``.
* ``gamma_init_necessary``: ``γ ≤ √m/‖A(0)‖`` (symbol ``A0_norm``) — provenance ``derived``,
  labelled as the **necessary** condition it is (GG22's sufficient γ is not published).
  ``γ̃‖A(0)‖ < 1`` is necessary for the layer map ``z ↦ σ(γ̃Az + φ)`` to be a contraction in
  the operator-norm sense at initialisation (the device of G22 and, per its abstract, of GG22).
  It is *not* necessary for a unique fixed point in general.  For N(0,1) entries
  ``‖A(0)‖ ≈ 2√m``, so this is ``γ < ½`` for large m.
* ``width_chernoff``: an explicit, linear-in-n width for the initial Gram event
  ``λ_min(G(0)) ≥ ¾λ0`` (our derivation, provenance ``derived``), the background fact of
  digest B made explicit:

  Let ``g_r = σ(Xw_r)``, ``G(0) = (1/m) Σ_r g_r g_rᵀ`` with unit rows ``x_i``.  Truncate at
  ``s = √(2 log(nm/δ))``: the event ``E = {x_iᵀw_r ≤ s ∀ i, r}`` fails with probability
  ``≤ nm Q(s) ≤ nm e^{−s²/2}/2 = δ/2``, and on E, ``G(0) = (1/m) Σ_r g̃_r g̃_rᵀ`` with
  ``g̃ = min(g, s)``.  (1) Mean shift: for a unit vector a,
  ``|aᵀ(G∞ − E g̃g̃ᵀ)a| ≤ 2√(E‖g−g̃‖²)√(E‖g‖²)``, ``E‖g‖² = n/2``,
  ``E‖g−g̃‖² ≤ n E[ξ²1{ξ>s}] = n(sφ(s) + Q(s)) ≤ (δ/m)(s/√(2π) + ½)``, so the shift is
  ``η ≤ √(2nδ(s/√(2π) + ½)/m)``, and ``η ≤ λ0/8`` iff ``m ≥ 128 n δ (s/√(2π) + ½)/λ0²``.
  (2) Matrix Chernoff (Tropp 2015, Thm 5.1.1, with ``e^{−ε}/(1−ε)^{1−ε} ≤ e^{−ε²/2}``) for the
  PSD summands ``g̃g̃ᵀ`` of norm ``≤ L = n s²`` and ``μ_min ≥ 7mλ0/8``, ``ε = 1/7``:
  ``P(λ_min(Σ g̃g̃ᵀ) ≤ ¾ mλ0) ≤ n exp(−mλ0/(112 n s²))``, which is ``≤ δ/2`` iff
  ``m ≥ 112 n s² log(2n/δ)/λ0 = 224 n log(nm/δ) log(2n/δ)/λ0``.
  Hence ``λ_min(G(0)) ≥ ¾λ0`` w.p. ``≥ 1 − δ`` once ``m ≥ max(224 n log(nm/δ) log(2n/δ)/λ0,
  128 n δ (s/√(2π) + ½)/λ0²)`` — an implicit (log m) condition, linear in n up to logs,
  versus G22 Lemma 3.3's ``(n²/λ0²) log(n/δ)``.
"""

from __future__ import annotations

import sympy as sp

from bounds._errors import cache_checked, invalid
from bounds._symbolic import (
    SYMBOLS,
    Assumption,
    Bound,
    Claim,
    Condition,
    Provenance,
    TheoremSpec,
    symbol,
)

__all__ = ["gg22_spec", "GG22_PAPER", "GG22_KNOWN_ISSUES"]

GG22_PAPER = (
    "T. Gao, H. Gao. Gradient Descent Optimizes Infinite-Depth ReLU Implicit Networks with "
    "Linear Widths. arXiv 2205.07463 (2022). Only the abstract was available."
)

GG22_KNOWN_ISSUES: tuple[str, ...] = (
    "Only the abstract of GG22 was available: the width constant, the γ threshold, the step "
    "size and the convergence rate are not published in the available text. Every GG22 bound "
    "here is either reconstructed with a hidden constant or our own derivation.",
    "The abstract asserts that SOME small enough γ keeps the equilibrium well-posed throughout "
    "training; a violation at a given γ does not refute it.",
)

_n, _m = symbol("n"), symbol("m")
_gamma, _delta, _lam = symbol("gamma"), symbol("delta"), symbol("lambda0")
_A0 = symbol("A0_norm", "operator norm ‖A(0)‖ of the implicit-layer weight at initialisation")
_Clin = symbol("C_lin")


@cache_checked("mode", ("gd", "gf"))
def gg22_spec(mode: str = "gd") -> TheoremSpec:
    """What is known of GG22 for gradient descent (``"gd"``) or gradient flow (``"gf"``)."""
    if mode not in ("gd", "gf"):
        raise invalid("mode", mode, "unknown GG22 mode", "use 'gd' or 'gf'")
    s = sp.sqrt(2 * sp.log(_n * _m / _delta))
    width_linear = Bound(
        "width_linear", "GG22 abstract (m = Ω(N))", _Clin * _n, Provenance.RECONSTRUCTED,
        description="m = Ω(N): linear width; constant not published in the available text.",
    )
    gamma_init = Bound(
        "gamma_init_necessary", "necessary condition for contraction at k = 0 (derived; GG22's "
        "own γ is not published)", sp.sqrt(_m) / _A0,
        Provenance.DERIVED,
        description="γ̃‖A(0)‖ < 1, i.e. γ < √m/‖A(0)‖: a NECESSARY condition for the claimed "
        "operator-norm contraction at initialisation (not sufficient for it later in training, "
        "and not necessary for uniqueness in general); GG22's sufficient γ is not published.",
    )
    width_chernoff = Bound(
        "width_chernoff", "matrix Chernoff (derived; cf. digest B)",
        sp.Max(224 * _n * sp.log(_n * _m / _delta) * sp.log(2 * _n / _delta) / _lam,
               128 * _n * _delta * (s / sp.sqrt(2 * sp.pi) + sp.Rational(1, 2)) / _lam**2),
        Provenance.DERIVED,
        description="λ_min(G(0)) ≥ ¾λ0 w.p. ≥ 1−δ for unit rows once m exceeds this (implicit in "
        "m through log(nm/δ)); derivation in bounds.gao2022_linear.",
    )
    three_q = Bound("three_quarter_lambda0", "matrix Chernoff (derived)", 3 * _lam / 4,
                    Provenance.DERIVED, description="¾λ0")
    one = Bound("contraction_max", "GG22 abstract (well-posedness)", sp.Integer(1),
                Provenance.RECONSTRUCTED, description="γ̃‖A(t)‖ < 1 throughout training")
    assumptions = (
        Assumption("init", "G22 Assumption 1 (assumed for GG22)",
                   "same Gaussian / Rademacher initialisation as G22 (GG22's own is not known)"),
        Assumption("data", "G22 Assumption 2 (assumed for GG22)",
                   "unit-norm, pairwise non-parallel samples"),
    )
    conditions = (
        Condition("width_linear", width_linear.label, "m", "ge", width_linear,
                  width_linear.description),
        Condition("width_chernoff", width_chernoff.label, "m", "ge", width_chernoff,
                  width_chernoff.description),
        Condition("gamma_init_necessary", gamma_init.label, "gamma", "le", gamma_init,
                  gamma_init.description),
    )
    claims = (
        Claim("chernoff_init", "matrix Chernoff (derived)", "lambda_min_G", "ge", three_q, "both",
              ("init", "data", "width_chernoff"), at_init_only=True, event=True,
              description="λ_min(G(0)) ≥ ¾λ0 w.p. ≥ 1−δ"),
        Claim("well_posed", "GG22 abstract", "contraction", "le", one, "both",
              ("init", "data", "width_linear", "gamma_init_necessary"),
              description="the abstract's well-posedness throughout training, read as an "
              "operator-norm contraction; the γ that guarantees it is not published, so the "
              "hypothesis checked here is only the necessary condition γ < √m/‖A(0)‖"),
    )
    symbols = {k: SYMBOLS[k] for k in ("n", "m", "gamma", "delta", "lambda0")}
    symbols["A0_norm"] = "operator norm ‖A(0)‖ at initialisation"
    return TheoremSpec(
        key=f"gg22-{mode}",
        title="GG22: " + ("gradient descent" if mode == "gd" else "gradient flow")
        + " on infinite-depth ReLU implicit networks with linear width (constants unknown)",
        paper=GG22_PAPER,
        symbols=symbols,
        hidden={"C_lin": 1.0},
        assumptions=assumptions,
        conditions=conditions,
        claims=claims,
        bounds=(width_linear, width_chernoff, gamma_init, three_q, one),
        known_issues=GG22_KNOWN_ISSUES,
        mode=mode,
    )
