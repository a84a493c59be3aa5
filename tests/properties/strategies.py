"""Hypothesis strategies for the property tests of implicit-verify.

Everything here generates *inputs of the theory* (digest A, ``shared/theory/gao2022-global-
convergence.md``) at tiny sizes, so that a whole property run stays within the CI budget:

* sizes: ``n ≤ 8`` samples, ``d ≤ 6`` input dimensions, ``m ≤ 64`` hidden units;
* data sets satisfying G22 Assumption 2 (unit-norm rows, no two parallel), with a controllable
  minimum angle: every pair has ``|⟨x_i, x_j⟩| ≤ max_cos`` (``max_cos = 1 − margin``);
* labels, widths, seeds, scales ``γ`` in the well-posed range, activation patterns ``D``,
  orthogonal matrices and permutations (for invariance properties);
* INVALID inputs for the error-path properties (``bad_*``): each strategy yields values that
  the public API documents as rejected with :class:`~bounds.InvalidArgument`.

Data are built from hypothesis-drawn floats (not from a seed), so that a failing example
shrinks towards a small, readable data set.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = [
    "MAX_N",
    "MAX_D",
    "MAX_M",
    "DEFAULT_MAX_COS",
    "max_abs_cos",
    "unit_data",
    "labels",
    "data_and_labels",
    "widths",
    "seeds",
    "gammas",
    "gamma_fractions",
    "activation_patterns",
    "orthogonal_matrices",
    "permutations",
    "gaussian_matrices",
    "bad_gammas",
    "bad_nonnegative_floats",
    "bad_widths",
    "bad_seeds",
    "bad_positive_floats",
    "bad_probabilities",
    "bad_tols",
    "bad_max_iters",
    "bad_dtypes",
    "bad_devices",
    "bad_data",
    "bad_labels",
]

MAX_N = 8
MAX_D = 6
MAX_M = 64
DEFAULT_MAX_COS = 0.99
"""Default ``max_{i≠j} |⟨x_i, x_j⟩|`` of generated data: every pair at least ≈ 8.1° apart."""

_MIN_ROW_NORM = 0.05  # raw rows shorter than this are not normalised (direction ill-defined)

_unit_floats = st.floats(-1.0, 1.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def max_abs_cos(X: np.ndarray) -> float:
    """``max_{i≠j} |⟨x_i, x_j⟩|`` for unit rows (0.0 when n < 2)."""
    n = X.shape[0]
    if n < 2:
        return 0.0
    C = np.abs(X @ X.T)
    np.fill_diagonal(C, 0.0)
    return float(C.max())


def _n_cap(d: int) -> int:
    """Most samples we ask for in dimension d (d = 1 admits one direction only; d = 2 a few)."""
    if d == 1:
        return 1
    if d == 2:
        return 4
    return MAX_N


@st.composite
def unit_data(
    draw,
    n: int | st.SearchStrategy[int] | None = None,
    d: int | st.SearchStrategy[int] | None = None,
    *,
    min_n: int = 1,
    max_cos: float = DEFAULT_MAX_COS,
) -> np.ndarray:
    """An (n, d) float64 array with unit-norm rows and ``max_{i≠j}|⟨x_i,x_j⟩| ≤ max_cos``.

    G22 Assumption 2 (``‖x_i‖ = 1``, ``x_i ∦ x_j``) with a controllable minimum angle
    ``arccos(max_cos)`` between the lines through any two samples. Built greedily from a pool
    of ``4n`` drawn directions (so the constraint is met by construction, not by rejection of
    whole data sets); the draw is rejected only when the pool does not contain n compatible
    directions.

    Args:
        n, d: fixed sizes or strategies; default ``d ∈ [1, 6]``, ``n ∈ [min_n, cap(d)]`` with
            ``cap(1) = 1``, ``cap(2) = 4``, else 8.
        max_cos: ``1 − margin``; must be < 1.
    """
    if not max_cos < 1.0:
        raise ValueError("max_cos must be < 1 (parallel pairs violate G22 Assumption 2)")
    if d is None:
        d = st.integers(1 if min_n <= 1 else 2, MAX_D)
    d_val = draw(d) if isinstance(d, st.SearchStrategy) else int(d)
    if n is None:
        n = st.integers(min_n, max(min_n, _n_cap(d_val)))
    n_val = draw(n) if isinstance(n, st.SearchStrategy) else int(n)
    pool = draw(hnp.arrays(np.float64, (4 * n_val, d_val), elements=_unit_floats, fill=st.nothing()))
    chosen: list[np.ndarray] = []
    for row in pool:
        norm = float(np.linalg.norm(row))
        if norm < _MIN_ROW_NORM:
            continue
        x = row / norm
        if all(abs(float(x @ c)) <= max_cos for c in chosen):
            chosen.append(x)
            if len(chosen) == n_val:
                break
    assume(len(chosen) == n_val)
    X = np.stack(chosen)
    # re-normalise once more so that ‖x_i‖ = 1 holds to the last ulp we can get
    X = X / np.linalg.norm(X, axis=1, keepdims=True)
    return X


def labels(n: int, bound: float = 1.0) -> st.SearchStrategy[np.ndarray]:
    """Real labels ``y`` (n,), ``|y_i| ≤ bound`` (G22 §3 allows any real labels)."""
    return hnp.arrays(
        np.float64, (n,),
        elements=st.floats(-bound, bound, allow_nan=False, allow_infinity=False, allow_subnormal=False),
    )


@st.composite
def data_and_labels(draw, n=None, d=None, *, min_n: int = 1, max_cos: float = DEFAULT_MAX_COS):
    """``(X, y)``: :func:`unit_data` and matching :func:`labels`."""
    X = draw(unit_data(n, d, min_n=min_n, max_cos=max_cos))
    y = draw(labels(X.shape[0]))
    return X, y


def widths(min_m: int = 1, max_m: int = MAX_M) -> st.SearchStrategy[int]:
    """Widths ``m`` (kept tiny: the CI budget)."""
    return st.integers(min_m, max_m)


def seeds() -> st.SearchStrategy[int]:
    """Seeds for :meth:`verify.ImplicitNetwork.init` (non-negative 32-bit ints)."""
    return st.integers(0, 2**32 - 1)


def gammas(low: float = 1e-3, high: float = 0.5) -> st.SearchStrategy[float]:
    """``γ ∈ [low, high]``; the default ``(0, ½]`` is the theorems' range before the ``1/(4c)``
    cap [G22 §5: ``0 < γ ≤ min(½, 1/(4c))``]."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def gamma_fractions(low: float = 0.05, high: float = 0.95) -> st.SearchStrategy[float]:
    """A fraction ``f``: the test sets ``γ = f · min(1, √m/‖A‖₂)`` so that ``γ̃‖A‖₂ ≤ f < 1``
    (the well-posed range of G22 Lemma 2.2 for the drawn A)."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def activation_patterns(n: int, m: int) -> st.SearchStrategy[np.ndarray]:
    """0/1 float64 masks of shape (n, m): the rows are diagonals of patterns ``D_i``."""
    return hnp.arrays(np.float64, (n, m), elements=st.sampled_from([0.0, 1.0]))


def gaussian_matrices(rows: int, cols: int, scale: float = 3.0) -> st.SearchStrategy[np.ndarray]:
    """Arbitrary bounded float64 matrices (entries in ``[−scale, scale]``)."""
    return hnp.arrays(
        np.float64, (rows, cols),
        elements=st.floats(-scale, scale, allow_nan=False, allow_infinity=False, allow_subnormal=False),
    )


@st.composite
def orthogonal_matrices(draw, d: int) -> np.ndarray:
    """A d×d orthogonal matrix (QR of a drawn matrix, signs fixed by R's diagonal)."""
    M = draw(gaussian_matrices(d, d, 1.0))
    Q, R = np.linalg.qr(M)
    diag = np.diag(R)
    assume(bool(np.all(np.abs(diag) > 1e-3)))
    return Q * np.sign(diag)[None, :]


def permutations(n: int) -> st.SearchStrategy[np.ndarray]:
    """A permutation of ``range(n)`` as an int array."""
    return st.permutations(list(range(n))).map(lambda p: np.asarray(p, dtype=np.int64))


# ------------------------------------------------------------------------ invalid inputs
def _parses_as_float(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


# Not numbers. Numeric strings such as "1" are left out: the API may coerce with float(), and
# the contract does not forbid that.
_not_numbers = st.one_of(
    st.none(), st.text(max_size=3).filter(lambda s: not _parses_as_float(s)), st.lists(st.integers(), max_size=2)
)


def bad_gammas() -> st.SearchStrategy[object]:
    """Values the API rejects for ``γ``: < 0, ≥ 1, NaN, ±Inf, non-numbers (γ = 0 is the
    explicit two-layer control, accepted by the network and the run configuration)."""
    return st.one_of(
        st.floats(max_value=0.0, exclude_max=True, allow_nan=False),
        st.floats(min_value=1.0, allow_nan=False),
        st.just(math.nan),
        _not_numbers,
    )


def bad_widths() -> st.SearchStrategy[object]:
    """Values the API rejects for a width / count: ≤ 0 ints, bools, floats, non-numbers."""
    return st.one_of(
        st.integers(max_value=0),
        st.booleans(),
        st.floats(allow_nan=True).filter(lambda x: not (math.isfinite(x) and x == int(x) and x >= 1)),
        st.floats(1.0, 100.0).map(lambda x: float(math.floor(x)) + 0.5),
        _not_numbers,
    )


def bad_seeds() -> st.SearchStrategy[object]:
    """Values rejected as a seed: negative ints, bools, floats, non-numbers."""
    return st.one_of(st.integers(max_value=-1), st.booleans(), st.floats(), _not_numbers)


def bad_positive_floats() -> st.SearchStrategy[object]:
    """Values rejected where a positive finite number is required (λ0, c, α, ‖X‖, …)."""
    return st.one_of(
        st.floats(max_value=0.0, allow_nan=False),
        st.just(math.nan),
        st.just(math.inf),
        _not_numbers,
    )


def bad_nonnegative_floats() -> st.SearchStrategy[object]:
    """Values rejected where a finite number ≥ 0 is required (γ̃ = γ/√m, where γ = 0 is the
    explicit control)."""
    return st.one_of(
        st.floats(max_value=0.0, exclude_max=True, allow_nan=False),
        st.just(math.nan),
        st.just(math.inf),
        _not_numbers,
    )


def bad_probabilities() -> st.SearchStrategy[object]:
    """Values rejected for a failure probability ``δ ∈ (0, 1)``."""
    return st.one_of(
        st.floats(max_value=0.0, allow_nan=False),
        st.floats(min_value=1.0, allow_nan=False),
        st.just(math.nan),
        _not_numbers,
    )


def bad_tols() -> st.SearchStrategy[object]:
    """Values rejected for a solver tolerance (must be a float in (0, 1))."""
    return bad_probabilities()


def bad_max_iters() -> st.SearchStrategy[object]:
    """Values rejected for an iteration cap (must be an int ≥ 1)."""
    return bad_widths()


def bad_dtypes() -> st.SearchStrategy[object]:
    """dtype names/objects the toolkit does not support."""
    return st.sampled_from(["float16", "int32", "bfloat16", "complex128", "", "f64", None, 3])


def bad_devices() -> st.SearchStrategy[object]:
    """device values that are not a device (CUDA itself may legitimately be absent)."""
    return st.sampled_from(["tpu", "gpu0", "", "cpu:x", None, 3.5, ["cpu"]])


@st.composite
def bad_data(draw, d: int, n: int = 3) -> tuple[str, object]:
    """``(kind, X)``: a data matrix the API must reject for a network with input dimension d.

    Kinds: ``nan``/``inf`` entries, ``1d``/``3d`` arrays, ``columns`` (wrong d), ``empty`` (no rows),
    ``text`` (not numeric).
    """
    kind = draw(st.sampled_from(["nan", "inf", "1d", "3d", "columns", "empty", "text"]))
    base = draw(hnp.arrays(np.float64, (n, d), elements=_unit_floats))
    if kind == "nan":
        i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, d - 1))
        base[i, j] = np.nan
        return kind, base
    if kind == "inf":
        i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, d - 1))
        base[i, j] = draw(st.sampled_from([np.inf, -np.inf]))
        return kind, base
    if kind == "1d":
        return kind, base[0]
    if kind == "3d":
        return kind, base[None]
    if kind == "columns":
        extra = draw(st.integers(1, 3))
        cols = draw(st.sampled_from([c for c in (d - extra, d + extra) if c >= 1] or [d + extra]))
        return kind, np.ones((n, cols)) / math.sqrt(cols)
    if kind == "empty":
        return kind, np.zeros((0, d))
    return kind, draw(st.sampled_from(["abc", [["a"] * d] * n, {"x": 1}]))


@st.composite
def bad_labels(draw, n: int) -> tuple[str, object]:
    """``(kind, y)``: labels the API must reject for n samples (NaN/Inf, wrong length, 2-D)."""
    kind = draw(st.sampled_from(["nan", "inf", "length", "matrix", "text"]))
    y = np.zeros(n)
    if kind == "nan":
        y[draw(st.integers(0, n - 1))] = np.nan
        return kind, y
    if kind == "inf":
        y[draw(st.integers(0, n - 1))] = np.inf
        return kind, y
    if kind == "length":
        k = draw(st.sampled_from([k for k in (n - 1, n + 1, n + 3) if k >= 0]))
        return kind, np.zeros(k)
    if kind == "matrix":
        return kind, np.zeros((n, 2))
    return kind, "abc"
