r"""Quadrature core of the infinite-width kernels of the G22 network (digest C).

For one pair of inputs with norms ``r1, r2`` and cosine ``ρ`` the injections are
``(a, a') ~ N(0, [[r1², ρ r1 r2], [ρ r1 r2, r2²]])`` and, given the current kernel values
``K11, K12, K22``, the equilibrium field ``(U, U') = γ(g, g')`` is an independent centred
Gaussian with standard deviations ``σ1 = γ√K11``, ``σ2 = γ√K22`` and correlation
``c = K12/√(K11 K22)``.  With ``s = σ(a)``, ``s' = σ(a')``:

Inner moments (closed form, derived here by Stein's lemma for correlated Gaussians).  With
``α = s/σ1``, ``β = s'/σ2`` (both ≥ 0), ``q = √(1 − c²)``, ``A = (α − cβ)/q``, ``B = (β − cα)/q``
and ``(x, y)`` standard with correlation c:

    P(α, β) = Pr[x > −α, y > −β] = Φ₂(α, β; c)
    E[(x+α)₊(y+β)₊] = (c + αβ) Φ₂(α, β; c) + q φ(α) φ(B) + α φ(β) Φ(A) + β φ(α) Φ(B),

so ``E[σ(U+s)σ(U'+s')] = σ1 σ2 · E[(x+α)₊(y+β)₊]`` and ``E[σ'(U+s)σ'(U'+s')] = P(α, β)``.
At ``α = β = 0`` this is the order-1 arc-cosine kernel ``(√(1−c²) + (π − arccos c) c)/(2π)``.
On the diagonal (``c = 1``, ``s = s'``): ``E[(σx + s)₊²] = σ²[(1+α²)Φ(α) + αφ(α)]``,
``Pr[σx + s > 0] = Φ(α)``.

Φ₂ for ``α, β ≥ 0`` uses Owen's T (``scipy.special.owens_t``, vectorised):
``Φ₂(h, k; c) = ½Φ(h) + ½Φ(k) − T(h, (k − ch)/(hq)) − T(k, (h − ck)/(kq))`` with the limits
``T(0, ±∞) = ±¼`` at ``h = 0`` or ``k = 0`` and ``¼ + arcsin(c)/(2π)`` at ``h = k = 0``;
checked against ``scipy.stats.multivariate_normal.cdf`` in the tests.

Outer expectation over ``(a, a')``: split at the ReLU kink into the four sign quadrants.
* ``a ≤ 0, a' ≤ 0``: ``s = s' = 0``; weight ``¼ + arcsin(ρ)/(2π)`` (exact, no nodes).
* ``a > 0 ≥ a'`` (and the mirror): ``a = r1 u``, the inner moment depends on u only, and
  ``Pr[a' ≤ 0 | u] = Φ(−ρu/√(1−ρ²))``: a 1-D integral over ``u ∈ (0, U]``, ``U = 9``, Gauss–
  Legendre in ``v`` with ``u = U v³`` (nodes cluster at the kink, where the inner moment
  varies on the scale ``σ1/r1`` ∝ γ).
* ``a, a' > 0``: in whitened polar coordinates the quadrant is the wedge
  ``t ∈ (0, π − θ)``, ``θ = arccos ρ``, with ``a = r1 R sin t``, ``a' = r2 R sin(t + θ)`` and
  density ``R e^{−R²/2}/(2π)``; Gauss–Legendre in ``R ∈ [0, 9]`` times Gauss–Legendre in
  ``v`` with ``t = (π − θ)(v − sin(2πv)/(2π))`` (nodes cluster at both kinks).
The truncations at 9 drop less than ``(9² + 2) e^{−81/2} < 3e−16`` (relative).  Within each
piece the integrand is analytic, so Gauss–Legendre converges geometrically; the accuracy is
*checked*, not assumed: :mod:`bounds.deq_kernels` repeats the computation with twice the order
and reports the change.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy.special import ndtr, owens_t

__all__ = ["phi2_nonneg", "pair_inner", "diag_map", "pair_map", "TRUNC"]

TRUNC = 9.0
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _npdf(x: np.ndarray) -> np.ndarray:
    return np.asarray(_INV_SQRT_2PI * np.exp(-0.5 * x * x))


@functools.lru_cache(maxsize=16)
def _gl01(n: int) -> tuple[np.ndarray, np.ndarray]:
    x, w = np.polynomial.legendre.leggauss(n)
    return (x + 1.0) / 2.0, w / 2.0


@functools.lru_cache(maxsize=16)
def _rule_1d(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes u and weights for ∫_0^U f(u) du, graded u = U v³ toward 0."""
    v, w = _gl01(n)
    return TRUNC * v**3, w * 3.0 * TRUNC * v**2


@functools.lru_cache(maxsize=16)
def _rule_radial(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes R and weights for ∫_0^∞ f(R) R e^{−R²/2}/(2π) dR (truncated at 9)."""
    v, w = _gl01(n)
    R = TRUNC * v
    return R, w * TRUNC * R * np.exp(-0.5 * R * R) / (2.0 * math.pi)


@functools.lru_cache(maxsize=16)
def _rule_angle(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Fractions ψ(v) ∈ (0, 1) and weights ψ'(v)·w for an interval clustered at both ends."""
    v, w = _gl01(n)
    return v - np.sin(2 * np.pi * v) / (2 * np.pi), w * (1.0 - np.cos(2 * np.pi * v))


def phi2_nonneg(h: np.ndarray, k: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Bivariate standard normal CDF ``Φ₂(h, k; c)`` for ``h, k ≥ 0`` and ``|c| < 1`` (vectorised)."""
    h, k, c = np.broadcast_arrays(np.asarray(h, float), np.asarray(k, float), np.asarray(c, float))
    q = np.sqrt(np.maximum(1.0 - c * c, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        ah = (k - c * h) / (h * q)
        ak = (h - c * k) / (k * q)
    th = np.where(h > 0, owens_t(h, np.where(h > 0, ah, 0.0)), 0.25)
    tk = np.where(k > 0, owens_t(k, np.where(k > 0, ak, 0.0)), 0.25)
    out = 0.5 * ndtr(h) + 0.5 * ndtr(k) - th - tk
    both0 = (h == 0) & (k == 0)
    if np.any(both0):
        out = np.where(both0, 0.25 + np.arcsin(np.clip(c, -1, 1)) / (2 * np.pi), out)
    return np.asarray(np.clip(out, 0.0, 1.0))


def pair_inner(alpha: np.ndarray, beta: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(E[(x+α)₊(y+β)₊], Φ₂(α, β; c))`` for standard (x, y) with correlation c (|c| < 1)."""
    q = np.sqrt(np.maximum(1.0 - c * c, 0.0))
    P = phi2_nonneg(alpha, beta, c)
    A = (alpha - c * beta) / q
    B = (beta - c * alpha) / q
    I = ((c + alpha * beta) * P + q * _npdf(alpha) * _npdf(B) + alpha * _npdf(beta) * ndtr(A)
         + beta * _npdf(alpha) * ndtr(B))
    return I, P


def diag_map(gamma: float, kappa: float, order: int) -> tuple[float, float, float]:
    """For a unit-norm input and ``K(x, x) = kappa``: ``(F(kappa), Ė(x,x), Ė_ah(x,x))``.

    ``F(κ) = E[σ(γ√κ g + σ(a))²]`` with ``a ~ N(0, 1)``.  (Other norms: everything scales by
    ``r²``; Ė and Ė_ah are scale-free.)
    """
    s1 = gamma * math.sqrt(kappa)
    u, wu = _rule_1d(order)
    wd = wu * _npdf(u)
    al = u / s1
    Phi = ndtr(al)
    inner = (1 + al * al) * Phi + al * _npdf(al)
    F = s1 * s1 * (0.25 + float(np.dot(wd, inner)))  # a ≤ 0: E[(σx)₊²]·½ = σ²/4
    Eah = float(np.dot(wd, Phi))
    return F, 0.25 + Eah, Eah


def pair_map(r1: np.ndarray, r2: np.ndarray, rho: np.ndarray, K11: np.ndarray, K12: np.ndarray,
             K22: np.ndarray, gamma: float, order: int,
             chunk_nodes: int = 2_000_000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(F(K)_12, Ė_12, Ė_ah,12)`` for arrays of pairs (all 1-D, same length, |ρ| < 1).

    ``F(K)_12 = E[σ(γg + σ(a)) σ(γg' + σ(a'))]`` at the given ``K11, K12, K22``.
    """
    P = r1.shape[0]
    F = np.empty(P)
    Ed = np.empty(P)
    Eah = np.empty(P)
    u, wu = _rule_1d(order)
    R, wR = _rule_radial(order)
    fr, wt = _rule_angle(order)
    n2 = R.size * fr.size
    step = max(1, chunk_nodes // max(n2, 1))
    for lo in range(0, P, step):
        sl = slice(lo, min(P, lo + step))
        a1, a2, rh = r1[sl], r2[sl], rho[sl]
        s1 = gamma * np.sqrt(K11[sl])
        s2 = gamma * np.sqrt(K22[sl])
        c = np.clip(K12[sl] / np.sqrt(K11[sl] * K22[sl]), -1 + 1e-15, 1 - 1e-15)
        qr = np.sqrt(np.maximum(1 - rh * rh, 0.0))
        th = np.arccos(rh)
        # quadrant a ≤ 0, a' ≤ 0
        w1 = 0.25 + np.arcsin(rh) / (2 * np.pi)
        I0, P0 = pair_inner(np.zeros_like(c), np.zeros_like(c), c)
        f = w1 * s1 * s2 * I0
        e = w1 * P0
        # a > 0 ≥ a' and a' > 0 ≥ a: weight φ(u) Φ(−ρu/q)
        cc = c[:, None]
        wq = wu[None, :] * _npdf(u)[None, :] * ndtr(-rh[:, None] * u[None, :] / qr[:, None])
        zero = np.zeros((1, u.size))
        Ia, Pa = pair_inner((a1 / s1)[:, None] * u[None, :], zero, cc)
        Ib, Pb = pair_inner(zero, (a2 / s2)[:, None] * u[None, :], cc)
        f = f + s1 * s2 * np.einsum("pk,pk->p", wq, Ia + Ib)
        e = e + np.einsum("pk,pk->p", wq, Pa + Pb)
        # a, a' > 0: wedge t ∈ (0, π − θ)
        om = (np.pi - th)[:, None, None]
        t = om * fr[None, None, :]
        Rn = R[None, :, None]
        al = (a1 / s1)[:, None, None] * Rn * np.sin(t)
        be = (a2 / s2)[:, None, None] * Rn * np.sin(t + th[:, None, None])
        I4, P4 = pair_inner(al, be, c[:, None, None])
        W4 = om * wR[None, :, None] * wt[None, None, :]
        f = f + s1 * s2 * np.einsum("pij,pij->p", W4, I4)
        e4 = np.einsum("pij,pij->p", W4, P4)
        F[sl] = f
        Ed[sl] = e + e4
        Eah[sl] = e4
    return F, Ed, Eah
