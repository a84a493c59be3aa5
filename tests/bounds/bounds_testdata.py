"""Data generators shared by the bounds tests (imported as a sibling module)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

EPS = float(np.finfo(np.float64).eps)


def unit_rows(n: int, d: int, seed: int) -> np.ndarray:
    """n unit-norm Gaussian rows in d dimensions (pairwise non-parallel with probability 1)."""
    X = np.random.default_rng(seed).standard_normal((n, d))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


@st.composite
def unit_data(draw, n_min: int = 2, n_max: int = 8, d_min: int = 2, d_max: int = 6,
              max_abs_cos: float = 0.99) -> np.ndarray:
    """Unit-norm data whose pairwise |cos| is at most ``max_abs_cos`` (G22 Assumption 2)."""
    n = draw(st.integers(n_min, n_max))
    d = draw(st.integers(d_min, d_max))
    X = draw(hnp.arrays(np.float64, (n, d),
                        elements=st.floats(-1.0, 1.0, allow_nan=False, width=64)))
    norms = np.linalg.norm(X, axis=1)
    from hypothesis import assume

    assume(bool(np.all(norms > 1e-3)))
    U = X / norms[:, None]
    C = np.abs(U @ U.T)
    np.fill_diagonal(C, 0.0)
    assume(bool(C.max() <= max_abs_cos))
    return U
