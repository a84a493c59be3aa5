"""The infinite-width feature Gram matrix G∞ and λ0 [G22 eq. 17, Lemma 3.2].

``G∞_ij = E_{w~N(0,I_d)}[σ(x_iᵀw) σ(x_jᵀw)]`` with ``σ = ReLU``.  With
``ρ = ⟨x_i,x_j⟩/(‖x_i‖‖x_j‖)`` (clipped to [−1, 1]) the pair ``(x_iᵀw, x_jᵀw)`` is a centred
Gaussian vector, and the order-1 arc-cosine kernel gives the closed form (not printed in G22)

    G∞_ij = ‖x_i‖‖x_j‖ · (√(1−ρ²) + (π − arccos ρ) ρ) / (2π),

so ``G∞_ii = ‖x_i‖²/2`` and a zero row gives a zero row and column.

Hermite form [G22 App. A.4].  With the normalised probabilists' Hermite polynomials
``h_k = He_k/√(k!)`` and ``a_k = E[σ(g) h_k(g)]``, ``g ~ N(0,1)``, Mehler's formula gives
``E[σ(g₁)σ(g₂)] = Σ_k a_k² ρ^k`` for unit-variance Gaussians of correlation ρ, hence

    G∞ = D (Σ_k a_k² C^{∘k}) D,   C = cosine matrix, D = diag(‖x_i‖).

ReLU coefficients (derived here; integrate by parts twice using ``He_k φ = (−1)^k φ^{(k)}``):

    E[σ(g) He_k(g)] = ∫_0^∞ x (−1)^k φ^{(k)}(x) dx = φ(0) He_{k−2}(0)   (k ≥ 2),

and ``He_j(0) = (−1)^{j/2} (j−1)!!`` for even j, 0 for odd j.  Therefore
``a_0 = 1/√(2π)``, ``a_1 = 1/2``, ``a_k = 0`` for odd ``k ≥ 3`` and, for even ``k ≥ 2``,

    a_k = (−1)^{k/2−1} (k−3)!! / √(2π k!),     a_k² = 2^{k−2} Γ((k−1)/2)² / (2π² Γ(k+1))

(using ``(2p−3)!! = 2^{p−1} Γ(p−½)/√π``).  Parseval: ``Σ_k a_k² = E[σ(g)²] = ½``.

Truncation after ``K`` terms: since ``|ρ| ≤ 1``, the remainder of every entry satisfies
``|Σ_{k>K} a_k² ρ^k| ≤ ‖x_i‖‖x_j‖ · T_K`` with ``T_K = ½ − Σ_{k≤K} a_k²``
(:func:`hermite_tail_bound`).  The remainder matrix is PSD (a non-negative combination of
Hadamard powers of a PSD matrix), so ``λ_min(G_K) ≤ λ0 ≤ λ_min(G_K) + T_K Σ_i ‖x_i‖²``.
``T_K`` decays like ``K^{−3/2}`` (``a_k² ~ k^{−5/2}``): about 1e-3 at K = 100.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp
from scipy import stats

from bounds._args import check_seed
from bounds._data import check_kernel_scale, row_norms, validate_X
from bounds._errors import check_int, check_real_array, invalid

__all__ = [
    "ARCCOS_KERNEL_EXPR",
    "HERMITE_COEFF_SQ_EXPR",
    "arccos_kernel",
    "relu_hermite_coefficients",
    "hermite_tail_bound",
    "gram_infinity",
    "gram_infinity_mc",
    "lambda0",
    "DEFAULT_HERMITE_TERMS",
]

#: Default number of Hermite terms (K = 100: tail bound ≈ 1e-3 per unit entry).
DEFAULT_HERMITE_TERMS = 100

_rho = sp.Symbol("rho", real=True)
_ni = sp.Symbol("norm_i", nonnegative=True)
_nj = sp.Symbol("norm_j", nonnegative=True)
_k = sp.Symbol("k", positive=True)

#: G∞_ij as a function of the cosine ρ and the two norms (arc-cosine kernel of order 1).
ARCCOS_KERNEL_EXPR = _ni * _nj * (sp.sqrt(1 - _rho**2) + (sp.pi - sp.acos(_rho)) * _rho) / (2 * sp.pi)

#: a_k² for even k ≥ 2 (see the module docstring for the derivation).
HERMITE_COEFF_SQ_EXPR = 2 ** (_k - 2) * sp.gamma((_k - 1) / 2) ** 2 / (2 * sp.pi**2 * sp.gamma(_k + 1))

_arccos_fn = sp.lambdify([_rho, _ni, _nj], ARCCOS_KERNEL_EXPR, modules="numpy")


def _log_form(expr: sp.Expr) -> sp.Expr:
    """``expr`` rewritten as exp(Σ log-terms) with log Γ → loggamma, for large k."""
    logged = sp.expand_log(sp.log(expr), force=True)
    logged = logged.replace(
        lambda e: isinstance(e, sp.log) and isinstance(e.args[0], sp.gamma),
        lambda e: sp.loggamma(e.args[0].args[0]),
    )
    return sp.exp(logged)


_coeff_sq_fn = sp.lambdify([_k], _log_form(HERMITE_COEFF_SQ_EXPR), modules=["scipy", "numpy"])
_a0_sq = float(1 / (2 * sp.pi))  # a_0 = E[σ(g)] = 1/√(2π)
_a1_sq = 0.25  # a_1 = E[g σ(g)] = E[g² 1{g>0}] = 1/2


def arccos_kernel(rho: np.ndarray | float) -> np.ndarray | float:
    """``E[σ(g₁)σ(g₂)]`` for standard Gaussians with correlation ``rho`` (clipped to [−1,1])."""
    r = check_real_array("rho", rho, "pass a correlation in [-1, 1] (a number or an array), e.g. rho=0.5")
    bad = ~(np.abs(r) <= 1.0 + _RHO_SLACK)  # NaN too
    if bad.any():
        first = r.flat[int(np.argmax(bad.ravel()))]
        raise invalid("rho", rho if r.ndim == 0 else f"<array with {int(bad.sum())} value(s) outside "
                      f"[-1, 1], e.g. {first!r}>", "a correlation lies in [-1, 1]",
                      "pass cosines of angles (x_i·x_j / ‖x_i‖‖x_j‖)")
    r = np.clip(r, -1.0, 1.0)  # rounding just outside ±1 only
    out = np.asarray(_arccos_fn(r, 1.0, 1.0), dtype=np.float64)
    return float(out) if out.ndim == 0 else out


#: correlations computed in floating point may exceed ±1 by rounding; beyond this they are errors
_RHO_SLACK = 1e-12
#: most Hermite terms: the rounding allowance (K + 2)·eps of :func:`hermite_tail_bound` grows
#: with K while the truncation error falls like K^(-3/2), so beyond ~10^6 terms more terms only
#: loosen the bound (and K = 10^12 would need 7 TiB of coefficients)
MAX_HERMITE_TERMS = 10**7


def _check_terms(terms: object) -> int:
    return int(check_int("terms", terms, 0, MAX_HERMITE_TERMS,
                         f"pass 0 ≤ terms ≤ {MAX_HERMITE_TERMS} (more terms loosen the tail bound)"))


def relu_hermite_coefficients(terms: int) -> np.ndarray:
    """Signed ReLU coefficients ``a_0 … a_terms`` in the normalised Hermite basis (float64)."""
    K = _check_terms(terms)
    a = np.zeros(K + 1, dtype=np.float64)
    a[0] = math.sqrt(_a0_sq)
    if K >= 1:
        a[1] = 0.5
    if K >= 2:
        ks = np.arange(2, K + 1, 2, dtype=np.float64)
        signs = np.where((ks / 2 - 1) % 2 == 0, 1.0, -1.0)
        a[2::2] = signs * np.sqrt(np.asarray(_coeff_sq_fn(ks), dtype=np.float64))
    return a


def hermite_tail_bound(terms: int) -> float:
    """``T_K = ½ − Σ_{k≤K} a_k²`` plus a rounding allowance of ``(K+2)·eps``.

    Bounds the truncation error of every unit-norm entry of the Hermite series of G∞ (see
    the module docstring); for general norms multiply by ``‖x_i‖‖x_j‖``.
    """
    a = relu_hermite_coefficients(terms)
    tail = 0.5 - math.fsum((a * a).tolist())
    # each a_k² carries a few ulps of relative error from gammaln/exp; (K+2)·eps covers their sum
    return max(tail, 0.0) + (len(a) + 1) * float(np.finfo(np.float64).eps)


def _cosines(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    norms = row_norms(X)
    check_kernel_scale(norms)
    safe = np.where(norms > 0, norms, 1.0)
    U = X / safe[:, None]
    C = U @ U.T
    C = np.clip((C + C.T) / 2, -1.0, 1.0)
    nz = norms > 0
    idx = np.flatnonzero(nz)
    C[idx, idx] = 1.0
    return C, norms


def gram_infinity(X: np.ndarray, method: str = "closed", terms: int | None = None) -> np.ndarray:
    """Infinite-width feature Gram ``G∞`` (n×n, float64, symmetric) [G22 eq. 17].

    Parameters
    ----------
    X:
        data, n×d (any norms; G22 assumes unit rows).
    method:
        ``"closed"`` (arc-cosine closed form) or ``"hermite"`` (series truncated after
        ``terms`` terms, error per entry ≤ ``‖x_i‖‖x_j‖ · hermite_tail_bound(terms)``).
    terms:
        number of Hermite terms K (default :data:`DEFAULT_HERMITE_TERMS`); only for
        ``method="hermite"``.
    """
    X = validate_X(X)
    if method not in ("closed", "hermite"):
        raise invalid("method", method, "unknown G∞ method", "use 'closed' or 'hermite'")
    C, norms = _cosines(X)
    if method == "closed":
        if terms is not None:
            raise invalid("terms", terms, "only used with method='hermite'", "drop terms=")
        G = np.asarray(_arccos_fn(C, norms[:, None], norms[None, :]), dtype=np.float64)
    else:
        K = DEFAULT_HERMITE_TERMS if terms is None else _check_terms(terms)
        a2 = relu_hermite_coefficients(K) ** 2
        S = np.full_like(C, a2[0])
        P = np.ones_like(C)
        for k in range(1, K + 1):
            P = P * C
            if a2[k] != 0.0:
                S += a2[k] * P
        G = norms[:, None] * S * norms[None, :]
    return (G + G.T) / 2


#: most multiply-adds one :func:`gram_infinity_mc` call may do (about an hour of one core)
_MC_MAX_WORK = 1e13


def gram_infinity_mc(
    X: np.ndarray,
    samples: int,
    seed: int | None = None,
    *,
    level: float = 0.99,
    simultaneous: bool = True,
    batch: int = 4096,
) -> tuple[np.ndarray, np.ndarray]:
    """Monte-Carlo estimate of ``G∞`` with a CLT confidence half-width.

    Draws ``samples`` i.i.d. ``w ~ N(0, I_d)`` and averages ``σ(Xw)σ(Xw)ᵀ``.  Returns
    ``(mean, halfwidth)`` (both n×n): ``|mean_ij − G∞_ij| ≤ halfwidth_ij`` holds with
    asymptotic (CLT) probability ``level`` — for all ``n(n+1)/2`` distinct entries at once
    (Bonferroni) when ``simultaneous`` is true, else for each entry separately.
    ``halfwidth = z · s / √samples`` with the sample standard deviation ``s``.
    """
    X = validate_X(X)
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 2:
        raise invalid("samples", samples, "must be an integer ≥ 2", "e.g. samples=100_000")
    try:
        level_f = float(level)
    except (TypeError, ValueError):
        raise invalid("level", level, "expected a number in (0, 1)", "e.g. level=0.99") from None
    if isinstance(level, bool) or not (0.0 < level_f < 1.0):
        raise invalid("level", level, "must lie in (0, 1)", "e.g. level=0.99")
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1:
        raise invalid("batch", batch, "must be a positive integer", "e.g. batch=4096")
    n, d = X.shape
    work = float(samples) * n * (d + n)  # multiply-adds of the draws and the outer products
    if work > _MC_MAX_WORK:
        raise invalid("samples", samples, f"needs about {work:.2g} multiply-adds at n = {n}, d = {d} "
                      f"(more than {_MC_MAX_WORK:.0e}: hours)",
                      "use fewer samples (the half-width falls like 1/√samples) or gram_infinity()")
    seed = check_seed(seed, "seed", allow_none=True)
    rng = np.random.default_rng(seed)
    n, d = X.shape
    s1 = np.zeros((n, n))
    s2 = np.zeros((n, n))
    done = 0
    while done < samples:
        b = min(batch, samples - done)
        Wt = rng.standard_normal((d, b))
        S = np.maximum(X @ Wt, 0.0)
        s1 += S @ S.T
        S2 = S * S
        s2 += S2 @ S2.T
        done += b
    mean = s1 / samples
    var = np.maximum(s2 - samples * mean * mean, 0.0) / (samples - 1)
    n_ci = n * (n + 1) // 2 if simultaneous else 1
    z = float(stats.norm.isf((1.0 - float(level)) / (2.0 * n_ci)))
    half = z * np.sqrt(var / samples)
    return (mean + mean.T) / 2, (half + half.T) / 2


def lambda0(X: np.ndarray, method: str = "closed", terms: int | None = None) -> float:
    """``λ0 = λ_min(G∞)`` (float64, ``eigvalsh`` of the symmetrised G∞) [G22 eq. 17]."""
    G = gram_infinity(X, method=method, terms=terms)
    return float(np.linalg.eigvalsh((G + G.T) / 2)[0])
