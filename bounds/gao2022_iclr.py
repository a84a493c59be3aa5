"""G22 — Gao, Liu, Liu, Rajan, Gao, ICLR 2022, as a :class:`~bounds.TheoremSpec`.

"A Global Convergence Theory for Deep ReLU Implicit Networks via Over-Parameterization"
(arXiv 2110.05645).  Labels cite the paper's numbering (lemma, theorem, equation).

``g22_spec("gd")`` is Theorem 3.2 / Lemma 3.6 (gradient descent, step ``α``, symbol ``k``);
``g22_spec("gf")`` is Theorem 3.1 / Lemma 3.5 (gradient flow, time ``t``).

Provenance: ``paper`` for explicit constants as printed (16, 32, 128, 512, …), ``hidden`` for
Ω(·)/O(·) statements (named constant, default 1), ``derived`` for our own additions:

* **GD parameter movement of u, v** — provenance ``paper``: G22 App. A.8 (proof of Lemma 3.6)
  prints ``‖u(k) − u(0)‖ ≤ 16 c√n‖e0‖/λ0`` and ``‖v(k) − v(0)‖ ≤ 8 c√n‖e0‖/λ0``.  (They also
  follow from the induction hypotheses ``‖z_i‖ ≤ 4c``, ``‖φ_i‖ ≤ 2c``, ``‖e(s)‖ ≤ β^s‖e0‖``,
  ``β = √(1 − αλ0/2)``: ``α Σ_s 4c√n β^s‖e0‖ ≤ 4αc√n‖e0‖/(1 − β) ≤ 16 c√n‖e0‖/λ0`` since
  ``1 − √(1−x) ≥ x/2``; a consistency check, not the source.)
* **Explicit lemma width.**  The proofs need the W-movement bound to stay inside Lemma 3.4's
  radius: ``512 c n‖e0‖²/(λ0²√m) ≤ R = λ0√m/(16 c‖X‖²)`` (GD), i.e.
  ``m ≥ 8192 c² n ‖X‖² ‖e0‖² / λ0³``; GF: ``128 … ≤ R`` gives ``2048``.  The other uses of
  the width (``W_move, A_move ≤ c√m`` so that claims (iv)/(v) hold) need only
  ``m ≥ 512 n‖e0‖²/λ0²``, which is implied because ``16 c²‖X‖²/λ0 ≥ 32`` whenever ``c ≥ 1``,
  ``‖X‖ ≥ 1`` (unit rows) and ``λ0 ≤ ½``.  Setting the hidden ``C_width_lemma`` to 8192 (GD) /
  2048 (GF) makes the paper's condition equal to this explicit one.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from bounds._errors import cache_checked, invalid
from bounds._symbolic import (
    HIDDEN_CONSTANTS,
    SYMBOLS,
    Assumption,
    Bound,
    Claim,
    Condition,
    Provenance,
    TheoremSpec,
    symbol,
)

__all__ = ["g22_spec", "g22_issue3_limits", "G22_KNOWN_ISSUES", "G22_PAPER"]

G22_PAPER = (
    "T. Gao, H. Liu, J. Liu, H. Rajan, H. Gao. A Global Convergence Theory for Deep ReLU "
    "Implicit Networks via Over-Parameterization. ICLR 2022 (arXiv 2110.05645)."
)

#: Digest A §9, items 1–5.
G22_KNOWN_ISSUES: tuple[str, ...] = (
    "1. Eq. 14 writes the Gram of the u/A blocks as (γ²M + I_n)∘ZZᵀ, but the derivation in "
    "App. A.3 gives the all-ones matrix 𝟙𝟙ᵀ in place of I_n (the u-block contributes the full "
    "ZZᵀ). Only the all-ones version is the empirical NTK; the autograd Jacobian Gram decides.",
    "2. Eq. 16 writes (I − γ̃D_iA)^{-1} in the first factor of Q (the second factor is as the "
    "gradient needs), while the gradient formula (eq. 12) needs the transpose-inverse "
    "(I − γ̃D_iA)^{-T} in both; the printed form is evaluated as printed (inverse in the first "
    "factor only) and the autograd check decides.",
    "3. Lemma 3.5(ii)/(iii) and 3.6(ii)/(iii) must hold at t = 0, where ‖u(0)‖ = ‖v(0)‖ = √m, so "
    "they silently require √m ≤ K c√n‖e0‖/λ0 (K = 16, 8 for GF; 32, 16 for GD) — an UPPER bound "
    "on the width, in tension with the lower bounds.",
    "4. The theorems print only the width condition n²/λ0²·log(n/δ) (Theorem 3.2 even prints "
    "λ0, not λ0²), but the lemmas they rest on also need m = Ω(c² n ‖X‖² ‖e0‖²/λ0³), of order "
    "n³/λ0³ when ‖X‖² ≈ ‖e0‖² ≈ n. Both are reported, with the binding one.",
    "5. σ'(0) is not specified; the toolkit uses σ'(0) = 0 (PyTorch's convention).",
)

_n, _m, _d = symbol("n"), symbol("m"), symbol("d")
_gamma, _alpha, _delta = symbol("gamma"), symbol("alpha"), symbol("delta")
_lam, _c, _X, _e0 = symbol("lambda0"), symbol("c"), symbol("X_norm"), symbol("e0_norm")
_k, _t = symbol("k"), symbol("t")
_Cw, _Cwl, _Cs, _Cp = (symbol(s) for s in ("C_width", "C_width_lemma", "C_step", "C_prob"))

_P, _H, _D = Provenance.PAPER, Provenance.HIDDEN, Provenance.DERIVED


def _mode_constants(mode: str) -> dict[str, Any]:
    if mode == "gd":
        return dict(lemma="3.6", thm="3.2", u_norm=32, v_norm=16, u_move=16, v_move=8,
                    W_move=512, A_move=256, width_explicit=8192, move_prov=_P)
    return dict(lemma="3.5", thm="3.1", u_norm=16, v_norm=8, u_move=8, v_move=4,
                W_move=128, A_move=64, width_explicit=2048, move_prov=_P)


@cache_checked("mode", ("gd", "gf"))
def g22_spec(mode: str = "gd") -> TheoremSpec:
    """The G22 theorem for gradient descent (``"gd"``) or gradient flow (``"gf"``).

    See the module docstring for provenance; ``spec.known_issues`` lists digest A §9.
    """
    if mode not in ("gd", "gf"):
        raise invalid("mode", mode, "unknown G22 mode", "use 'gd' (Thm 3.2) or 'gf' (Thm 3.1)")
    K = _mode_constants(mode)
    lem, thm = K["lemma"], K["thm"]
    L = f"G22 Lemma {lem}"
    sqn = sp.sqrt(_n)
    scale = _c * sqn * _e0 / _lam  # c√n‖e0‖/λ0
    move = _c * _n * _e0**2 / (_lam**2 * sp.sqrt(_m))  # c n‖e0‖²/(λ0²√m)
    log_term = sp.log(_n / _delta)

    # --- named bounds -----------------------------------------------------------------
    gamma_max = Bound(
        "gamma_max", f"G22 Thm {thm} (Lemma 2.2 with γ0 = ½)", sp.Min(sp.Rational(1, 2), 1 / (4 * _c)),
        _P, description="0 < γ ≤ min(½, 1/(4c)): keeps γ̃‖A(t)‖ ≤ ½ while ‖A(t)‖ ≤ 2c√m.",
    )
    if mode == "gd":
        width_thm = Bound(
            "width_thm32", "G22 Thm 3.2 (as printed)", _Cw * _n**2 / _lam * log_term, _H,
            description="m = Ω((n²/λ0) log(n/δ)) exactly as printed in Theorem 3.2 (λ0, not λ0²; "
            "known issue 4).",
        )
    else:
        width_thm = Bound(
            "width_thm31", "G22 Thm 3.1", _Cw * _n**2 / _lam**2 * log_term, _H,
            description="m = Ω((n²/λ0²) log(n/δ)) of Theorem 3.1.",
        )
    width_lemma33 = Bound(
        "width_lemma33", "G22 Lemma 3.3", _Cp * _n**2 / _lam**2 * log_term, _H,
        description="m = Ω((n²/λ0²) log(n/δ)) makes ‖G(0) − G∞‖ ≤ λ0/4 w.p. ≥ 1−δ "
        "(Bernstein + union bound over n² entries; absolute constant C_prob).",
    )
    width_lemma = Bound(
        f"width_lemma{lem.replace('.', '')}", f"{L} (hypothesis)",
        _Cwl * _c**2 * _n * _X**2 * _e0**2 / _lam**3, _H,
        description=f"m = Ω(c² n ‖X‖² ‖e0‖²/λ0³), hypothesis of Lemma {lem}.",
    )
    width_explicit = Bound(
        f"width_lemma{lem.replace('.', '')}_explicit", f"{L} proof (explicit, derived)",
        K["width_explicit"] * _c**2 * _n * _X**2 * _e0**2 / _lam**3, _D,
        description=f"{K['width_explicit']} c² n ‖X‖² ‖e0‖²/λ0³: the width at which the proof's "
        f"explicit W-movement bound {K['W_move']} c n‖e0‖²/(λ0²√m) stays within Lemma 3.4's "
        "radius R (see module docstring).",
    )
    R = Bound(
        "R", "G22 Lemma 3.4", _lam * sp.sqrt(_m) / (16 * _c * _X**2), _P,
        description="radius R = λ0√m/(16c‖X‖²): ‖W − W(0)‖ ≤ R (and ‖W‖ ≤ 2c√m) ⇒ "
        "‖G − G(0)‖ ≤ λ0/4.",
    )
    half = Bound("half_lambda0", f"{L}(i)", _lam / 2, _P, description="λ0/2")
    three_q = Bound("three_quarter_lambda0", "G22 Lemma 3.3", 3 * _lam / 4, _P,
                    description="¾λ0 = λ0 − λ0/4")
    quarter = Bound("quarter_lambda0", "G22 Lemma 3.4", _lam / 4, _P, description="λ0/4")
    u_norm = Bound("u_norm_max", f"{L}(ii)", K["u_norm"] * scale, _P,
                   description=f"‖u‖ ≤ {K['u_norm']} c√n‖e0‖/λ0")
    v_norm = Bound("v_norm_max", f"{L}(iii)", K["v_norm"] * scale, _P,
                   description=f"‖v‖ ≤ {K['v_norm']} c√n‖e0‖/λ0")
    two_c = Bound("norm_max", f"{L}(iv)/(v)", 2 * _c * sp.sqrt(_m), _P,
                  description="‖W‖, ‖A‖ ≤ 2c√m")
    c_init = Bound("norm_init", "G22 Lemma 2.1", _c * sp.sqrt(_m), _P,
                   description="‖A(0)‖, ‖W(0)‖ ≤ c√m (the event defining c)")
    if mode == "gd":
        residual = Bound("residual_sq_max", f"{L}(vi)",
                         (1 - _alpha * _lam / 2) ** _k * _e0**2, _P,
                         description="‖ŷ(k) − y‖² ≤ (1 − αλ0/2)^k ‖e0‖²")
    else:
        residual = Bound("residual_sq_max", f"{L}(vi)", sp.exp(-_lam * _t) * _e0**2, _P,
                         description="‖ŷ(t) − y‖² ≤ exp(−λ0 t) ‖e0‖²")
    phi = Bound("phi_max_bound", f"{L} proof", 2 * _c, _P,
                description="‖φ_i‖ ≤ ‖W‖‖x_i‖/√m ≤ 2c (unit rows)")
    z = Bound("z_max_bound", f"{L} proof (Lemma 2.2)", 4 * _c, _P,
              description="‖z_i‖ ≤ ‖φ_i‖/(1 − γ0) ≤ 4c with γ0 = ½")
    prov_note = ("as printed in App. A.8, proof of Lemma 3.6"
                 if mode == "gd" else "as printed in the proof of Lemma 3.5")
    u_move = Bound("u_move_max", f"{L} proof", K["u_move"] * scale, K["move_prov"],
                   description=f"‖u − u(0)‖ ≤ {K['u_move']} c√n‖e0‖/λ0 ({prov_note})")
    v_move = Bound("v_move_max", f"{L} proof", K["v_move"] * scale, K["move_prov"],
                   description=f"‖v − v(0)‖ ≤ {K['v_move']} c√n‖e0‖/λ0 ({prov_note})")
    W_move = Bound("W_move_max", f"{L} proof", K["W_move"] * move, _P,
                   description=f"‖W − W(0)‖ ≤ {K['W_move']} c n‖e0‖²/(λ0²√m)")
    A_move = Bound("A_move_max", f"{L} proof", K["A_move"] * move, _P,
                   description=f"‖A − A(0)‖ ≤ {K['A_move']} c n‖e0‖²/(λ0²√m)")
    contraction = Bound("contraction_max", "G22 Lemma 2.2 (γ0 = ½)", sp.Rational(1, 2), _P,
                        description="γ̃‖A‖ ≤ γ0 = ½ when ‖A‖ ≤ 2c√m and γ ≤ 1/(4c)")
    named: list[Bound] = [gamma_max, width_thm, width_lemma33, width_lemma, width_explicit, R,
                          half, three_q, quarter, u_norm, v_norm, two_c, c_init, residual, phi,
                          z, u_move, v_move, W_move, A_move, contraction]
    if mode == "gd":
        beta = sp.sqrt(1 - _alpha * _lam / 2)
        Z_step = Bound("Z_step_max", "G22 Lemma 3.6 proof",
                       512 * _alpha * _c * _n ** sp.Rational(3, 2) * _e0**2 * beta**_k / (_lam * _m),
                       _P, description="‖Z(k+1) − Z(k)‖ ≤ 512 α c n^{3/2}‖e0‖² β^k/(λ0 m), "
                       "β = √(1 − αλ0/2)")
        step = Bound("step_max", "G22 Thm 3.2 / Lemma 3.6", _Cs * _lam / _n**2, _H,
                     description="α = O(λ0/n²)")
        named += [Z_step, step]

    # --- assumptions ----------------------------------------------------------------
    assumptions = (
        Assumption("init", "G22 Assumption 1",
                   "A_ij, W_ij i.i.d. N(0,1); u_i, v_i i.i.d. Rademacher, so ‖u(0)‖ = ‖v(0)‖ = √m."),
        Assumption("data", "G22 Assumption 2",
                   "‖x_i‖ = 1 for all i and no two samples parallel (|⟨x_i,x_j⟩| < 1); "
                   "checked by bounds.audit_data."),
        Assumption("init_norms", "G22 Lemma 2.1 (event)",
                   "‖A(0)‖ ≤ c√m and ‖W(0)‖ ≤ c√m; holds w.p. ≥ 1−δ for the tail-bound c.",
                   checked_by=("lemma21_A_init", "lemma21_W_init")),
        Assumption("init_gram", "G22 Lemma 3.3 (event)",
                   "λ_min(G(0)) ≥ ¾λ0; holds w.p. ≥ 1−δ under Lemma 3.3's width.",
                   checked_by=("lemma33_init",)),
    )

    # --- conditions -----------------------------------------------------------------
    conds = [
        Condition("gamma", f"G22 Thm {thm}", "gamma", "le", gamma_max,
                  "0 < γ ≤ min(½, 1/(4c))"),
        Condition(width_thm.name, width_thm.label, "m", "ge", width_thm, width_thm.description),
        Condition("width_lemma33", "G22 Lemma 3.3", "m", "ge", width_lemma33,
                  width_lemma33.description),
        Condition(width_lemma.name, width_lemma.label, "m", "ge", width_lemma,
                  width_lemma.description),
        Condition(width_explicit.name, width_explicit.label, "m", "ge", width_explicit,
                  width_explicit.description),
    ]
    if mode == "gd":
        conds.append(Condition("step", "G22 Thm 3.2 / Lemma 3.6", "alpha", "le", step,
                               "α = O(λ0/n²)"))

    # --- claims ---------------------------------------------------------------------
    hyp = ["init", "data", "init_norms", "init_gram", "gamma", width_lemma.name]
    if mode == "gd":
        hyp.append("step")
    hyp_t = tuple(hyp)
    pre = f"lemma{lem.replace('.', '')}"
    claims = [
        Claim(f"{pre}_i", f"{L}(i)", "lambda_min_G", "ge", half, "both", hyp_t,
              description="λ_min(G) ≥ λ0/2 along the trajectory"),
        Claim(f"{pre}_ii", f"{L}(ii)", "u_norm", "le", u_norm, mode, hyp_t,
              description=u_norm.description + "; at k = 0 this needs √m ≤ the bound "
              "(known issue 3)"),
        Claim(f"{pre}_iii", f"{L}(iii)", "v_norm", "le", v_norm, mode, hyp_t,
              description=v_norm.description + "; at k = 0 this needs √m ≤ the bound "
              "(known issue 3)"),
        Claim(f"{pre}_iv", f"{L}(iv)", "W_norm", "le", two_c, "both", hyp_t,
              description="‖W‖ ≤ 2c√m"),
        Claim(f"{pre}_v", f"{L}(v)", "A_norm", "le", two_c, "both", hyp_t,
              description="‖A‖ ≤ 2c√m"),
        Claim(f"{pre}_vi", f"{L}(vi)", "residual_sq", "le", residual, mode, hyp_t,
              description=residual.description
              + ("; symbol k = trace 'step'" if mode == "gd" else "; symbol t = trace 'time'")),
        Claim("phi_max", f"{L} proof", "phi_max", "le", phi, "both", hyp_t,
              description=phi.description),
        Claim("z_max", f"{L} proof", "z_max", "le", z, "both", hyp_t, description=z.description),
        Claim("u_move", f"{L} proof", "u_move", "le", u_move, mode, hyp_t,
              description=u_move.description),
        Claim("v_move", f"{L} proof", "v_move", "le", v_move, mode, hyp_t,
              description=v_move.description),
        Claim("W_move", f"{L} proof", "W_move", "le", W_move, mode, hyp_t,
              description=W_move.description),
        Claim("A_move", f"{L} proof", "A_move", "le", A_move, mode, hyp_t,
              description=A_move.description),
        Claim("W_move_R", f"{L} proof (Lemma 3.4 hypothesis)", "W_move", "le", R, "both", hyp_t,
              description="‖W − W(0)‖ ≤ R, needed to apply Lemma 3.4"),
        Claim("G_dev", "G22 Lemma 3.4", "G_dev", "le", quarter, "both", hyp_t,
              description="‖G − G(0)‖ ≤ λ0/4 (Lemma 3.4; holds while ‖W‖ ≤ 2c√m and "
              "‖W − W(0)‖ ≤ R)"),
        Claim("contraction", "G22 Lemma 2.2 (γ0 = ½)", "contraction", "le", contraction, "both",
              hyp_t, description=contraction.description),
        Claim("lambda_min_H", f"G22 Lemma 3.1 + {L}(i)", "lambda_min_H", "ge", half, "both", hyp_t,
              description="λ_min(H) ≥ λ_min(G) ≥ λ0/2 (G ⪯ H); drives the linear rate"),
        Claim("lemma33_init", "G22 Lemma 3.3", "lambda_min_G", "ge", three_q, "both",
              ("init", "data", "width_lemma33"), at_init_only=True, event=True,
              description="λ_min(G(0)) ≥ ¾λ0 w.p. ≥ 1−δ"),
        Claim("lemma21_A_init", "G22 Lemma 2.1", "A_norm", "le", c_init, "both", ("init",),
              at_init_only=True, event=True,
              description="‖A(0)‖ ≤ c√m (w.p. ≥ 1−δ for the tail-bound c)"),
        Claim("lemma21_W_init", "G22 Lemma 2.1", "W_norm", "le", c_init, "both", ("init",),
              at_init_only=True, event=True,
              description="‖W(0)‖ ≤ c√m (w.p. ≥ 1−δ for the tail-bound c)"),
    ]
    if mode == "gd":
        claims += [
            Claim("Z_step", "G22 Lemma 3.6 proof", "Z_step", "le", Z_step, "gd", hyp_t,
                  description=Z_step.description),
            Claim("lambda_min_K", "G22 Lemma 3.6 proof (descent step)", "lambda_min_K", "ge",
                  half, "gd", hyp_t, description="λ_min(ZZᵀ + ΦΦᵀ) ≥ λ0/2"),
        ]

    symbols = dict(SYMBOLS)
    hidden_names = sorted({h for b in named for h in b.hidden})
    return TheoremSpec(
        key=f"g22-{mode}",
        title=(f"G22 Theorem {thm} / Lemma {lem}: "
               + ("gradient descent" if mode == "gd" else "gradient flow")
               + " on a deep ReLU implicit network converges linearly"),
        paper=G22_PAPER,
        symbols=symbols,
        hidden={h: 1.0 for h in hidden_names if h in HIDDEN_CONSTANTS},
        assumptions=assumptions,
        conditions=tuple(conds),
        claims=tuple(claims),
        bounds=tuple(named),
        known_issues=G22_KNOWN_ISSUES,
        mode=mode,
    )


@cache_checked("mode", ("gd", "gf"))
def g22_issue3_limits(mode: str = "gd") -> dict[str, sp.Expr]:
    """Known issue 3 as sympy expressions, derived from the spec's own bounds (never retyped).

    At ``k = 0``, ``‖u(0)‖ = ‖v(0)‖ = √m``, so claims (ii)/(iii) need ``m ≤ bound²``; the
    lemma's width hypothesis needs ``m ≥ C_width_lemma·c²n‖X‖²‖e0‖²/λ0³``.  Returns, for
    ``"ii"`` and ``"iii"``: ``C_max_<x>`` — the largest ``C_width_lemma`` for which some width
    satisfies both (``sympy.solve`` of ``bound² = width``), and ``explicit_ratio_<x>`` — the
    proof's explicit width divided by ``bound²`` (> 1 means no width satisfies both under the
    paper's own constants).
    """
    spec = g22_spec(mode)
    lem = "lemma36" if mode == "gd" else "lemma35"
    C = symbol("C_width_lemma")
    width = spec.bound(f"width_{lem}").expr
    explicit = spec.bound(f"width_{lem}_explicit").expr
    out: dict[str, sp.Expr] = {}
    for x, name in (("ii", "u_norm_max"), ("iii", "v_norm_max")):
        limit = spec.bound(name).expr ** 2
        sol = sp.solve(sp.Eq(width, limit), C)
        out[f"C_max_{x}"] = sp.simplify(sol[0])
        out[f"explicit_ratio_{x}"] = sp.simplify(explicit / limit)
    return out
