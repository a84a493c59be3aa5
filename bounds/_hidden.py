"""The hidden Ω/O constants of the theorems, by name (no sympy: the CLI's help lists them)."""

from __future__ import annotations

__all__ = ["HIDDEN_CONSTANTS"]

#: name of a constant hidden in the paper's Ω(·)/O(·) → what it scales (each defaults to 1)
HIDDEN_CONSTANTS: dict[str, str] = {
    "C_width": "constant hidden in the Ω(·) of the theorems' width condition",
    "C_width_lemma": "constant hidden in the Ω(·) of Lemma 3.5/3.6's width condition",
    "C_step": "constant hidden in the O(·) of the step-size condition",
    "C_prob": "absolute constant of the Bernstein/union bound in Lemma 3.3",
    "C_lin": "constant hidden in GG22's linear-width condition m = Ω(N)",
}
