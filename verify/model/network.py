r"""The implicit ReLU network of G22 (digest A §1–§4), exactly.

.. math::
    φ(x) = σ(Wx)/\sqrt m,\qquad z^* = σ(γ̃ A z^* + φ(x)),\qquad ŷ(x) = uᵀz^* + vᵀφ(x),
    \qquad L = \tfrac12 \|ŷ − y\|^2,\qquad γ̃ = γ/\sqrt m.

Trainable: ``A`` (m×m), ``W`` (m×d), ``u``, ``v`` (m). ``γ`` is fixed [G22 §2].
Initialisation [G22 Assumption 1]: ``A_ij, W_ij ~ N(0, 1)``, ``u_i, v_i`` Rademacher.
Convention: ``σ'(0) = 0`` (PyTorch's; the paper leaves it open, digest A §9 item 5).

Gradients [G22 Lemma 2.3] with ``e = ŷ − y`` and ``b_i = D_i(u + γ̃Aᵀb_i)``:
``∇_u = Zᵀe``, ``∇_v = Φᵀe``, ``∇_A = γ̃ Σ e_i b_i z_iᵀ``, ``∇_W = m^{-1/2} Σ e_i E_i(b_i + v) x_iᵀ``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from bounds._args import check_seed
from bounds._defaults import default_for
from bounds._errors import invalid
from verify.model.equilibrium import (
    DEFAULT_MAX_ITER,
    SolveResult,
    _check_common,
    contraction_factor,
    solve_adjoint,
    solve_forward,
)
from verify.model.validate import (
    as_data_tensor,
    as_label_tensor,
    check_gamma,
    check_network_memory,
    check_positive_int,
    network_bytes,
    resolve_device,
    resolve_dtype,
)

__all__ = ["ImplicitNetwork", "NetState", "implicit_gradients", "SIGMA_PRIME_AT_ZERO"]

SIGMA_PRIME_AT_ZERO = 0.0
"""``σ'(0)`` used for the activation patterns D and E (digest A §9 item 5)."""


@dataclass(frozen=True)
class NetState:
    """Everything the lemmas talk about at one parameter value, for one data set.

    Shapes: ``X`` (n, d); ``y``, ``yhat``, ``e`` (n,); ``Phi``, ``Z``, ``B``, ``D``, ``E`` (n, m).
    ``D = σ'(γ̃ZAᵀ + Φ)`` and ``E = σ'(XWᵀ)`` are 0/1 tensors in the network's dtype;
    ``B`` holds the adjoint vectors ``b_i`` (rows). ``loss = ½‖e‖²``.
    """

    X: torch.Tensor
    y: torch.Tensor
    Phi: torch.Tensor
    Z: torch.Tensor
    yhat: torch.Tensor
    e: torch.Tensor
    B: torch.Tensor
    D: torch.Tensor
    E: torch.Tensor
    loss: float
    fwd: SolveResult
    adj: SolveResult

    @property
    def ok(self) -> bool:
        return self.fwd.converged and self.adj.converged


class _Equilibrium(torch.autograd.Function):
    """``Z*(A, Φ)`` with the implicit-function backward (one adjoint solve)."""

    @staticmethod
    def forward(ctx, A, Phi, gamma_tilde, solver_opts):  # type: ignore[override]
        res = solve_forward(A, Phi, gamma_tilde, **solver_opts["forward"])
        Z = res.value
        pre = gamma_tilde * (Z @ A.T) + Phi
        D = (pre > 0).to(Z.dtype)
        ctx.save_for_backward(A, Z, D)
        ctx.gamma_tilde = gamma_tilde
        ctx.solver_opts = solver_opts
        return Z

    @staticmethod
    def backward(ctx, grad_Z):  # type: ignore[override]
        A, Z, D = ctx.saved_tensors
        res = solve_adjoint(A, grad_Z, D, ctx.gamma_tilde, **ctx.solver_opts["adjoint"])
        Bv = res.value  # rows w_i = D_i (g_i + γ̃ Aᵀ w_i)
        grad_A = ctx.gamma_tilde * (Bv.T @ Z)
        grad_Phi = Bv
        return grad_A, grad_Phi, None, None


class ImplicitNetwork(torch.nn.Module):
    """G22's implicit ReLU network with trainable ``A, W, u, v`` and fixed ``γ``.

    Build with :meth:`init` (paper initialisation from a seed) or from explicit tensors.
    ``forward(X)`` returns ``ŷ`` and is differentiable by torch autograd through the implicit
    function theorem (custom backward with one adjoint solve), so torch optimisers work.

    Args:
        A, W, u, v: parameters, shapes (m, m), (m, d), (m,), (m,); same dtype and device.
        gamma: fixed scale γ ∈ (0, 1).
        method, tol, max_iter: forward/adjoint solver settings (see :func:`solve_forward`);
            ``tol=None`` (default) picks the dtype's default (1e-12 float64, 1e-6 float32).
        throw: raise :class:`~bounds.SolverError` when a solve inside ``forward`` fails
            (default True there: a silently wrong ŷ is worse than an error). :meth:`state`
            never throws; it returns the statuses.
    """

    def __init__(
        self,
        A: Any,
        W: Any,
        u: Any,
        v: Any,
        gamma: float,
        *,
        method: str = default_for("ImplicitNetwork", "solver"),
        tol: float | None = None,
        max_iter: int = DEFAULT_MAX_ITER,
        throw: bool = True,
    ) -> None:
        super().__init__()
        _check_common(tol, max_iter, method)
        tensors = {}
        for name, val in (("A", A), ("W", W), ("u", u), ("v", v)):
            if not isinstance(val, torch.Tensor):
                try:
                    val = torch.tensor(np.asarray(val, dtype=np.float64))
                except (TypeError, ValueError):
                    raise invalid(name, type(val).__name__, "cannot be read as a float array",
                                  "pass a numpy array or torch tensor of numbers") from None
            tensors[name] = val.detach().clone()
        A_, W_, u_, v_ = tensors["A"], tensors["W"], tensors["u"], tensors["v"]
        if A_.ndim != 2 or A_.shape[0] != A_.shape[1]:
            raise invalid("A", f"tensor of shape {tuple(A_.shape)}", "must be square (m, m)", "pass an m×m matrix")
        m = A_.shape[0]
        if m < 1:
            raise invalid("A", f"tensor of shape {tuple(A_.shape)}", "width m must be ≥ 1", "use m ≥ 1")
        if W_.ndim != 2 or W_.shape[0] != m or W_.shape[1] < 1:
            raise invalid("W", f"tensor of shape {tuple(W_.shape)}", f"must have shape (m, d) = ({m}, d ≥ 1)",
                          "pass W with one row per hidden unit")
        for name, t in (("u", u_), ("v", v_)):
            if t.shape != (m,):
                raise invalid(name, f"tensor of shape {tuple(t.shape)}", f"must have shape ({m},)",
                              "pass a vector with one entry per hidden unit")
        dtype, device = A_.dtype, A_.device
        for name, t in tensors.items():
            if t.dtype not in (torch.float64, torch.float32):
                raise invalid(name, f"tensor(dtype={t.dtype})", "only float64/float32 are supported",
                              "convert with .double()")
            if t.dtype != dtype:
                raise invalid(name, f"tensor(dtype={t.dtype})", f"dtype differs from A's {dtype}",
                              "give all parameters the same dtype")
            if t.device != device:
                raise invalid(name, f"tensor(device={t.device})", f"device differs from A's {device}",
                              "put all parameters on the same device")
            if not bool(torch.isfinite(t).all()):
                raise invalid(name, "tensor with non-finite entries", "NaN/Inf in a parameter",
                              "pass finite parameters")
        self.A = torch.nn.Parameter(A_)
        self.W = torch.nn.Parameter(W_)
        self.u = torch.nn.Parameter(u_)
        self.v = torch.nn.Parameter(v_)
        self.gamma = check_gamma(gamma, allow_zero=True)
        self.solver_opts: dict[str, Any] = {
            "forward": {"method": method, "tol": tol, "max_iter": max_iter, "throw": throw},
            "adjoint": {"method": method, "tol": tol, "max_iter": max_iter, "throw": throw},
        }

    # ---------------------------------------------------------------- construction
    @classmethod
    def init(
        cls,
        m: int,
        d: int,
        gamma: float,
        seed: int = 0,
        *,
        device: Any = "cpu",
        dtype: Any = torch.float64,
        **kwargs: Any,
    ) -> ImplicitNetwork:
        """Paper initialisation [G22 Assumption 1] from ``seed``.

        Draws happen on the CPU in float64 with ``torch.Generator().manual_seed(seed)`` and are
        then moved, so a seed gives the same network on every device and dtype. A width whose
        parameters would exceed the available memory is refused before allocating
        (:func:`~verify.model.validate.network_bytes`) unless ``allow_large=True``.
        """
        m = check_positive_int(m, "m", "pass the width as an int ≥ 1, e.g. m=256")
        d = check_positive_int(d, "d", "pass the input dimension as an int ≥ 1")
        check_gamma(gamma, allow_zero=True)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise invalid("seed", seed, "expected a non-negative int", "pass e.g. seed=0")
        check_seed(seed, "seed")
        dev = resolve_device(device)
        dt = resolve_dtype(dtype)
        allow_large = bool(kwargs.pop("allow_large", False))
        big, big_value = ("d", d) if d > m else ("m", m)  # name the size that dominates m² + m·d
        check_network_memory(network_bytes(m, d, torch.finfo(dt).bits // 8), big, big_value,
                             f"a network of width m = {m} (d = {d})", allow_large)
        g = torch.Generator().manual_seed(int(seed))
        A = torch.randn(m, m, generator=g, dtype=torch.float64)
        W = torch.randn(m, d, generator=g, dtype=torch.float64)
        u = torch.randint(0, 2, (m,), generator=g).to(torch.float64) * 2 - 1
        v = torch.randint(0, 2, (m,), generator=g).to(torch.float64) * 2 - 1
        A, W, u, v = (t.to(device=dev, dtype=dt) for t in (A, W, u, v))
        return cls(A, W, u, v, gamma, **kwargs)

    # ---------------------------------------------------------------- properties
    @property
    def m(self) -> int:
        return int(self.A.shape[0])

    @property
    def d(self) -> int:
        return int(self.W.shape[1])

    @property
    def gamma_tilde(self) -> float:
        """``γ̃ = γ/√m``."""
        return self.gamma / math.sqrt(self.m)

    @property
    def dtype(self) -> torch.dtype:
        return self.A.dtype

    @property
    def device(self) -> torch.device:
        return self.A.device

    def contraction(self) -> float:
        """``γ̃‖A‖₂``, the Lipschitz constant of the layer map (Lemma 2.2 needs < 1)."""
        return contraction_factor(self.A, self.gamma_tilde)

    def parameters_dict(self) -> dict[str, torch.Tensor]:
        """Detached copies of ``A, W, u, v``."""
        return {k: getattr(self, k).detach().clone() for k in ("A", "W", "u", "v")}

    def load_parameters(self, params: dict[str, Any]) -> None:
        """Set ``A, W, u, v`` in place from tensors/arrays of the right shapes."""
        for k in ("A", "W", "u", "v"):
            if k not in params:
                raise invalid("params", sorted(params), f"missing {k!r}", "pass a dict with keys A, W, u, v")
            cur = getattr(self, k)
            val = params[k]
            val = torch.tensor(np.asarray(val.detach().cpu() if isinstance(val, torch.Tensor) else val,
                                             dtype=np.float64)).to(dtype=cur.dtype, device=cur.device)
            if val.shape != cur.shape:
                raise invalid(f"params[{k!r}]", f"shape {tuple(val.shape)}", f"expected {tuple(cur.shape)}",
                              "load parameters of a network with the same m and d")
            with torch.no_grad():
                cur.copy_(val)

    # ---------------------------------------------------------------- computations
    def _X(self, X: Any) -> torch.Tensor:
        return as_data_tensor(X, self.d, self.dtype, self.device, "X")

    def features(self, X: Any) -> torch.Tensor:
        """``Φ = σ(X Wᵀ)/√m``, shape (n, m) (differentiable in W)."""
        X = self._X(X)
        return torch.relu(X @ self.W.T) / math.sqrt(self.m)

    def equilibrium(self, X: Any, **opts: Any) -> SolveResult:
        """Forward fixed point for every sample; ``opts`` override the solver settings."""
        Phi = self.features(X).detach()
        kw = {**self.solver_opts["forward"], **opts}
        return solve_forward(self.A.detach(), Phi, self.gamma_tilde, **kw)

    def forward(self, X: Any) -> torch.Tensor:  # type: ignore[override]
        """``ŷ`` (n,), differentiable in ``A, W, u, v`` through the implicit backward."""
        Phi = self.features(X)
        Z = _Equilibrium.apply(self.A, Phi, self.gamma_tilde, self.solver_opts)
        return Z @ self.u + Phi @ self.v

    def loss(self, X: Any, y: Any) -> torch.Tensor:
        """``L = ½‖ŷ − y‖²`` (differentiable)."""
        yhat = self.forward(X)
        y = as_label_tensor(y, yhat.shape[0], self.dtype, self.device)
        return 0.5 * torch.sum((yhat - y) ** 2)

    def state(self, X: Any, y: Any, *, z0: torch.Tensor | None = None, b0: torch.Tensor | None = None,
              contraction: Any = None) -> NetState:
        """Forward and adjoint solves, patterns and residuals at the current parameters.

        Never raises on solver failure: check ``state.fwd.status`` / ``state.adj.status``.
        ``z0`` warm-starts the forward solve (e.g. the previous GD step's Z), ``b0`` the
        adjoint solve (the previous step's B). ``contraction``: ``γ̃‖A‖₂`` or a certified upper
        bound on it (a :class:`verify.model.certified.CertifiedValue`, e.g. from
        :meth:`verify.model.certified.ContractionTracker.update`); ``None`` computes it by SVD. It
        is only reported in the results (``fwd.contraction``, ``fwd.contraction_kind``), never
        used to stop the solves, so an upper bound is always safe.
        """
        with torch.no_grad():
            X = self._X(X)
            y = as_label_tensor(y, X.shape[0], self.dtype, self.device)
            A, W, u, v = self.A.detach(), self.W.detach(), self.u.detach(), self.v.detach()
            pre_W = X @ W.T
            Phi = torch.relu(pre_W) / math.sqrt(self.m)
            E = (pre_W > 0).to(self.dtype)
            # one SVD (or the caller's certified value), shared by both solves
            rho = contraction_factor(A, self.gamma_tilde) if contraction is None else contraction
            fopts = {**self.solver_opts["forward"], "throw": False}
            fwd = solve_forward(A, Phi, self.gamma_tilde, z0=z0, contraction=rho, **fopts)
            Z = fwd.value
            D = ((self.gamma_tilde * (Z @ A.T) + Phi) > 0).to(self.dtype)
            aopts = {**self.solver_opts["adjoint"], "throw": False}
            adj = solve_adjoint(A, u, D, self.gamma_tilde, contraction=rho, b0=b0, **aopts)
            yhat = Z @ u + Phi @ v
            e = yhat - y
            loss = 0.5 * float(torch.sum(e * e))
        return NetState(X, y, Phi, Z, yhat, e, adj.value, D, E, loss, fwd, adj)


def state_matches(net: ImplicitNetwork, state: NetState, X: torch.Tensor | None = None,
                  y: torch.Tensor | None = None, *, check_fresh: bool = True) -> None:
    """Refuse a ``state`` that does not belong to ``net`` (shapes, dtype, device), to the data
    ``X``/``y`` when given (a state computed on other data), or — with ``check_fresh`` — to the
    network's current ``u, v`` (a stale state): each would give a wrong result silently."""
    if state.Z.shape[1] != net.m or state.X.shape[1] != net.d:
        raise invalid("state", f"NetState with Z of shape {tuple(state.Z.shape)}",
                      f"does not belong to this network (m={net.m}, d={net.d})",
                      "compute the state with the same network: net.state(X, y)")
    if state.Z.dtype != net.dtype or state.Z.device != net.device:
        raise invalid("state", f"NetState(dtype={state.Z.dtype}, device={state.Z.device})",
                      f"network has dtype={net.dtype}, device={net.device}",
                      "compute the state with the same network: net.state(X, y)")
    for name, given, held in (("X", X, state.X), ("y", y, state.y)):
        if given is not None and (given.shape != held.shape or not torch.equal(given, held)):
            raise invalid("state", f"NetState of {tuple(held.shape)} {name}",
                          f"was computed on other data than the {name} passed "
                          f"({tuple(given.shape)})", "pass state=net.state(X, y) for this X, y "
                          "(or leave state=None)")
    if check_fresh:
        # A stale state (u or v changed since it was computed) gives a wrong result silently;
        # ŷ = Zu + Φv is an O(nm) consistency check. Same operations and inputs give the same
        # rounding, so any difference beyond a few ulps of the terms means stale parameters.
        with torch.no_grad():
            u, v = net.u.detach(), net.v.detach()
            yhat = state.Z @ u + state.Phi @ v
            eps = torch.finfo(net.dtype).eps
            scale = float(torch.linalg.vector_norm(state.Z) * torch.linalg.vector_norm(u)
                          + torch.linalg.vector_norm(state.Phi) * torch.linalg.vector_norm(v))
            dev = float(torch.linalg.vector_norm(yhat - state.yhat))
        if dev > 64 * eps * max(scale, 1.0):
            raise invalid("state", f"NetState with ‖Zu + Φv − ŷ‖ = {dev:.3e}",
                          "does not match the network's current u, v (stale state)",
                          "recompute it after changing parameters: net.state(X, y)")


def implicit_gradients(net: ImplicitNetwork, X: Any, y: Any, state: NetState | None = None) -> dict[str, torch.Tensor]:
    """∇L for ``A, W, u, v`` from G22 Lemma 2.3's closed forms (no autograd).

    Uses ``state`` when given (it must belong to the current parameters), else computes it.
    Raises :class:`~bounds.SolverError` if a solve failed (a gradient from an unconverged
    equilibrium would be meaningless).
    """
    if not isinstance(net, ImplicitNetwork):
        raise invalid("net", type(net).__name__, "expected a verify.ImplicitNetwork",
                      "build one with verify.ImplicitNetwork.init(m, d, gamma, seed)")
    if state is not None and not isinstance(state, NetState):
        raise invalid("state", type(state).__name__, "expected a verify.NetState or None",
                      "pass net.state(X, y) or leave state=None")
    if state is not None:
        Xt = net._X(X)
        yt = as_label_tensor(y, Xt.shape[0], net.dtype, net.device)
        state_matches(net, state, Xt, yt)
    st = state if state is not None else net.state(X, y)
    st.fwd.raise_if_failed()
    st.adj.raise_if_failed()
    m = net.m
    e = st.e
    eB = e[:, None] * st.B
    grad_A = net.gamma_tilde * (eB.T @ st.Z)
    grad_W = ((st.E * (st.B + net.v.detach()[None, :])) * e[:, None]).T @ st.X / math.sqrt(m)
    grad_u = st.Z.T @ e
    grad_v = st.Phi.T @ e
    return {"A": grad_A, "W": grad_W, "u": grad_u, "v": grad_v}
