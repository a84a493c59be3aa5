r"""The two task kinds of a sweep, run on a worker (or in-process with ``serial=True``).

Both build the network with :meth:`ImplicitNetwork.init` (so a seed is the same network
as ``implicit-verify run --seed``) and reuse :func:`gram_blocks`, :func:`lambda_min`
and :func:`run_gd`; nothing here re-implements the network, its Gram matrices or GD.

``init`` (per cell, all float64):

* ``lam_min_G0`` = λ_min(G(0)), ``G(0) = σ(XWᵀ)σ(WXᵀ)/m`` accumulated over blocks of 1024
  hidden units (O(n²m) time, O(n²) memory; only W is needed), ``G0_dev_op`` = ‖G(0) − G∞‖₂
  (G∞ = :func:`bounds.gram_infinity` of the cell's data, computed once per n on the client);
  Lemma 3.3's event is ``lam_min_G0 ≥ ¾·lambda0`` and its proof's ``G0_dev_op ≤ lambda0/4``.
* ``c_init`` = max(‖A(0)‖₂, ‖W(0)‖₂)/√m and ``contraction0`` = γ/√m·‖A(0)‖₂.  ‖W‖₂ is a
  dense SVD of the m×d matrix; ‖A‖₂ is the largest singular value from ARPACK
  (``scipy.sparse.linalg.svds``, ``tol=0`` = machine precision, fixed start vector, so the
  result is deterministic; a failure to converge raises and becomes an ``error`` row).  A dense
  SVD of A costs O(m³) — seconds at m = 2048 — which is what limited init sweeps.
* ``lam_min_H0``, ``lam_max_H0``, ``lam_min_K0``: from the equilibrium at initialisation
  (:meth:`ImplicitNetwork.state` + :func:`gram_blocks`), only when
  ``spec.hk_max_m is None or m ≤ spec.hk_max_m`` (``hk_computed``); NaN otherwise, and NaN with
  ``solver_ok = False`` when the equilibrium solve failed.
* ``lam_min_Hinf`` = λ_min(H∞), the infinite-width NTK of :func:`bounds.deq_kernels` (digest C,
  provenance ``derived``) for the cell's data and γ, computed once per n on the client (NaN
  when its fixed point failed); ``H0_relerr_<b>`` for ``b`` in A, W, u, v, H = the relative
  Frobenius distance ‖H_b(0) − H_b∞‖_F / ‖H_b∞‖_F of the blocks of :func:`gram_blocks` to the
  limit blocks (NaN where H(0) was not computed).

``gd``: :func:`run_gd` to ``loss ≤ target·loss(0)`` or ``steps`` steps (no run
directory), with ``step = "auto"`` meaning α = 1/λ_max(H(0)) of the cell.  Outcomes: ``reached``,
``steps_to_target`` (NaN when not reached), ``rate_late`` (``rates["observed_rate_tail"]``),
``max_W_move`` = max_k ‖W(k) − W(0)‖₂, ``max_H_dev_rel`` = max_k ‖H(k) − H(0)‖₂ / λ_min(H(0)),
``min_lam_H`` = min_k λ_min(H(k)) (maxima and minima over the steps where the expensive
observables were recorded: every step with ``expensive_every = 1``), ``loss0``, ``loss_final``,
``alpha``, ``gd_status`` and ``claim_<name>`` = each claim's verdict status.

``gd`` with ``spec.budget == "rate"`` (GG22 claim (b), linear convergence without a fixed step
budget): the target ``spec.target`` (relative to loss(0); ``--target``, 1e-6 suggested) and a
budget ``K = ⌈κ·log(1/target)/(α·λ_min(H(0)))⌉`` (``spec.kappa``) capped by ``spec.steps``.
In the linearised (NTK) dynamics ‖ŷ − y‖² contracts by at least (1 − α·λ_min(H(0)))² per step,
so a run that converges at a rate within a factor κ (in log) of that prediction reaches the
target within K steps; a sublinear decay does not.  ``gd_linear`` = 1 when the target is
reached within K, the certified contraction is < 1 at every step (``wellposed_all``) and the
loss stays under a geometric envelope with C = 1 (``rho`` = max_k (L(k)/L(0))^(1/k) < 1); 0 when
one fails within K; NaN when the cap cut K short before the target (``capped``: undecided,
counted, never a failure) — unless the trained parameters P (``n_params_trained``: m² + m·d +
2m, without A's m² at γ = 0) are fewer than n: then λ_min(H(k)) = 0 at every step by rank,
no linear rate to zero loss exists and a capped miss is 0 (``gd_linear_basis``: ``run``,
``rank`` or ``undecided``).  ``params_per_sample`` = P/n.  Beside it ``rho_lin`` = (1 − α·λ_min(H(0)))² (note the square:
the loss is ½‖ŷ − y‖²) and G22's guarantee ``rho_g22`` = 1 − αλ0/2, both per step.

``gd`` with ``spec.batched``: the seeds of one (n, m) run as one batched bare GD
(:func:`verify.experiment.batched_gd.run_members_to_target`, each member to its own stop by the
GD loop's stop rule); per seed the same ``reached``, ``steps_to_target``, ``loss0``,
``loss_final``, ``alpha`` and ``gd_status`` as a separate run (``rate_late`` from the same
:func:`verify.experiment.rates.fit_rates` on the loss history); the instrumented outcomes are
NaN and the claims empty.

:func:`run_cell` turns any exception of a task into an ``error`` row (``status="error"``, the
message in ``error``); it never raises an ``Exception``.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["run_cell", "run_cells", "group_key", "init_outcomes", "gd_outcomes", "gd_batched_outcomes", "INIT_COLUMNS", "GD_COLUMNS",
           "gamma_outcomes", "GAMMA_COLUMNS",
           "CONFIG_COLUMNS", "claim_names"]

#: configuration columns, in this order, first in every row.
CONFIG_COLUMNS = ("n", "m", "seed", "gamma", "step", "kind", "data", "cell_key")
#: init outcomes: name → type ("f" float, "b" bool).
INIT_COLUMNS = {"lambda0": "f", "lam_min_G0": "f", "G0_dev_op": "f", "lam_min_H0": "f",
                "lam_max_H0": "f", "lam_min_K0": "f", "c_init": "f", "contraction0": "f",
                "hk_computed": "b", "solver_ok": "b", "lam_min_Hinf": "f",
                **{f"H0_relerr_{b}": "f" for b in ("A", "W", "u", "v", "H")}}
#: gd outcomes (claims added by :func:`claim_names`): name → type ("s" string).
GD_COLUMNS = {"lambda0": "f", "reached": "b", "steps_to_target": "f", "rate_late": "f",
              "max_W_move": "f", "max_H_dev_rel": "f", "min_lam_H": "f", "loss0": "f",
              "loss_final": "f", "alpha": "f", "gd_status": "s",
              # --budget rate only (NaN otherwise): GG22 claim (b), linear convergence
              "gd_linear": "f", "rho": "f", "budget_K": "f", "capped": "b", "wellposed_all": "b",
              "rho_lin": "f", "rho_g22": "f", "lam_min_H0_run": "f", "gd_linear_basis": "s",
              "n_params": "f", "n_params_trained": "f", "params_per_sample": "f"}
#: gamma outcomes (:func:`gamma_outcomes`; ``wellposed_at_<γ0>`` via the outcome registry).
GAMMA_COLUMNS = {"gamma_star": "f", "gamma_star_hi": "f", "gamma_init": "f", "gamma_g22": "f",
                 "c_init": "f", "gamma_undecided": "b", "gamma_undecided_reason": "s",
                 "margin_used": "f", "solver_failures_wellposed": "f", "gamma_points": "s",
                 "lambda0": "f"}
_G_BLOCK = 1024


def claim_names() -> tuple[str, ...]:
    """Names of the GD theorem's claims (``bounds.g22_spec("gd")``): columns ``claim_<name>``."""
    import bounds

    return tuple(c.name for c in bounds.g22_spec("gd").claims)


def _finite_max(a: np.ndarray) -> float:
    a = np.asarray(a, dtype=np.float64)
    a = a[np.isfinite(a)]
    return float(a.max()) if a.size else math.nan


def _finite_min(a: np.ndarray) -> float:
    a = np.asarray(a, dtype=np.float64)
    a = a[np.isfinite(a)]
    return float(a.min()) if a.size else math.nan


def _tensor(a: np.ndarray, device: Any) -> Any:
    import torch

    return torch.from_numpy(np.array(a, dtype=np.float64, copy=True)).to(device)


def _spectral_norm_lanczos(A: np.ndarray) -> float:
    from scipy.sparse.linalg import svds

    m = min(A.shape)
    if m <= 2:
        return float(np.linalg.norm(A, 2))
    v0 = np.full(m, 1.0 / math.sqrt(m))  # svds wants a start vector of length min(A.shape)
    return float(svds(A, k=1, tol=0, v0=v0, return_singular_vectors=False)[0])


def _network(spec: Any, m: int, d: int, seed: int) -> Any:
    import torch

    from verify.model.network import ImplicitNetwork

    return ImplicitNetwork.init(m=m, d=d, gamma=spec.gamma, seed=seed, device=spec.device,
                                       dtype=torch.float64, tol=spec.tol, max_iter=spec.max_iter,
                                       throw=False)


def init_outcomes(spec: Any, m: int, seed: int, data: dict[str, Any],
                  shared: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``init`` outcomes of one cell (module docstring).  ``shared``: a dict kept across
    the cells of one (m, seed) group, holding the network and ‖A(0)‖₂, which do not depend
    on n (built by the first cell of the group)."""
    import torch

    from verify.model.gram import gram_blocks, lambda_min

    X = _tensor(data["X"], spec.device)
    n, d = X.shape
    shared = {} if shared is None else shared
    if shared.get("mseed") != (m, seed, d):
        shared.clear()
        shared["net"] = _network(spec, m, d, seed)
        shared["a_norm"] = _spectral_norm_lanczos(shared["net"].A.detach().cpu().numpy())
        # ‖W(0)‖₂ does not depend on n either; the same Lanczos method as ‖A(0)‖₂ (a dense SVD
        # of the m×d matrix cost ~30 s per cell at m = 8192, d = 4096)
        shared["w_norm"] = _spectral_norm_lanczos(shared["net"].W.detach().cpu().numpy())
        shared["mseed"] = (m, seed, d)
    net = shared["net"]
    out: dict[str, Any] = {"lambda0": float(data["lambda0"]),
                           "lam_min_Hinf": float(data.get("lam_min_Hinf", math.nan))}
    with torch.no_grad():
        W = net.W.detach()
        G = torch.zeros(n, n, dtype=torch.float64, device=X.device)
        for lo in range(0, m, _G_BLOCK):
            P = torch.relu(X @ W[lo:lo + _G_BLOCK].T)
            G += P @ P.T
        G /= m
        out["lam_min_G0"] = lambda_min(G)
        D = G - _tensor(data["Ginf"], spec.device)
        out["G0_dev_op"] = float(torch.linalg.eigvalsh(0.5 * (D + D.T)).abs().max())
        a_norm = shared["a_norm"]
        w_norm = shared["w_norm"]
        out["c_init"] = max(a_norm, w_norm) / math.sqrt(m)
        out["contraction0"] = spec.gamma / math.sqrt(m) * a_norm
    hk = spec.hk_max_m is None or m <= spec.hk_max_m
    out.update(hk_computed=hk, solver_ok=None, lam_min_H0=math.nan, lam_max_H0=math.nan,
               lam_min_K0=math.nan, **{f"H0_relerr_{b}": math.nan for b in ("A", "W", "u", "v", "H")})
    if hk:
        st = net.state(X, _tensor(data["y"], spec.device))
        out["solver_ok"] = bool(st.ok)
        if st.ok:
            gb = gram_blocks(net, st)
            H = gb.H.detach().to(torch.float64)
            ev = torch.linalg.eigvalsh(0.5 * (H + H.T))
            out["lam_min_H0"] = lambda_min(H)
            out["lam_max_H0"] = float(ev[-1])
            out["lam_min_K0"] = lambda_min(gb.K)
            lim = data.get("Hinf_blocks")
            if lim is not None:
                emp = {k: v.detach().to("cpu", torch.float64).numpy() for k, v in gb.blocks().items()}
                emp["H"] = H.cpu().numpy()
                for b, L in lim.items():
                    out[f"H0_relerr_{b}"] = float(np.linalg.norm(emp[b] - L) / np.linalg.norm(L))
    return out


def gd_outcomes(spec: Any, m: int, seed: int, data: dict[str, Any],
                shared: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``gd`` outcomes of one cell (module docstring)."""
    import torch

    from verify.experiment.config import RunConfig
    from verify.experiment.gd import run_gd
    from verify.model.gram import gram_blocks

    X = _tensor(data["X"], spec.device)
    y = _tensor(data["y"], spec.device)
    net = _network(spec, m, X.shape[1], seed)
    out: dict[str, Any] = {"lambda0": float(data["lambda0"])}
    st = net.state(X, y)
    if not st.ok:
        return {**out, "reached": False, "gd_status": "solver_failed",
                "loss0": math.nan, "alpha": math.nan}
    rate_budget = getattr(spec, "budget", "fixed") == "rate"
    lam_min_H0 = math.nan
    if spec.step == "auto" or rate_budget:
        H = gram_blocks(net, st).H.detach().to(torch.float64)
        ev = torch.linalg.eigvalsh(0.5 * (H + H.T))
        lam_min_H0 = float(ev[0])
    alpha = 1.0 / float(ev[-1]) if spec.step == "auto" else float(spec.step)
    steps, budget_K, capped = spec.steps, math.nan, False
    if rate_budget:  # the budget scales with the cell's linearised rate (module docstring)
        if lam_min_H0 > 0:
            budget_K = math.ceil(spec.kappa * math.log(1.0 / spec.target) / (alpha * lam_min_H0))
            steps, capped = min(budget_K, spec.steps), budget_K > spec.steps
        else:  # no linearised rate: the cap is the budget, and a miss is undecided
            budget_K, capped = math.inf, True
    cfg = RunConfig(m=m, gamma=spec.gamma, step=alpha, steps=steps, seed=seed,
                           device=spec.device, dtype="float64",
                           expensive_every=spec.expensive_every, target_loss=spec.target * st.loss,
                           tol=spec.tol, max_iter=spec.max_iter,
                           solver="picard")  # the batched engine's solver: both give the same cells
    res = run_gd(np.array(data["X"]), np.array(data["y"]), cfg, data_name=spec.data,
                        progress=False)
    tr = res.trace
    reached = res.status == "target_reached"
    # parameters: A (m²), W (m·d), u, v (m each); at γ = 0, A receives no gradient
    from verify.sweep.controls import parameter_count

    n, d_in = int(X.shape[0]), int(X.shape[1])
    p_all = float(parameter_count(m, d_in, False))
    p_eff = float(parameter_count(m, d_in, spec.gamma == 0))
    out.update(n_params=float(p_all), n_params_trained=float(p_eff),
               params_per_sample=p_eff / n)
    if rate_budget:
        out.update(_linear_outcomes(tr, res.status, reached, capped, alpha, lam_min_H0,
                                    float(data["lambda0"]), budget_K,
                                    rank_deficient=p_eff < n))
    lam_H0 = float(tr["lambda_min_H"][0]) if tr["lambda_min_H"].size else math.nan
    rate = res.record.get("rates", {}).get("observed_rate_tail")
    out.update(
        reached=reached,
        steps_to_target=float(res.record["steps_done"]) if reached else math.nan,
        rate_late=math.nan if rate is None else float(rate),
        max_W_move=_finite_max(tr["W_move"]),
        max_H_dev_rel=_finite_max(tr["H_dev"]) / lam_H0 if lam_H0 > 0 else math.nan,
        min_lam_H=_finite_min(tr["lambda_min_H"]),
        loss0=float(tr["loss"][0]),
        loss_final=float(tr["loss"][np.isfinite(tr["loss"])][-1]),
        alpha=alpha,
        gd_status=res.status,
    )
    for v in res.verdicts:
        if v.kind == "claim":
            # the claim's words in the one vocabulary (bounds.Outcome), e.g. "vacuous — observed
            # to hold": what the tables show and what claim_status_indicator reads
            out[f"claim_{v.name}"] = v.words
    return out


def envelope_rate(loss: np.ndarray) -> float:
    """ρ_env = max_{k ≥ 1} (L(k)/L(0))^(1/k): the smallest ρ with L(k) ≤ ρ^k·L(0) at every
    recorded step (the geometric envelope with C = 1); NaN for fewer than two values."""
    L = np.asarray(loss, dtype=np.float64).ravel()
    L = L[np.isfinite(L)]
    if L.size < 2 or not L[0] > 0:
        return math.nan
    k = np.arange(1, L.size, dtype=np.float64)
    ratio = np.maximum(L[1:] / L[0], 0.0)
    with np.errstate(divide="ignore"):
        return float(np.max(np.exp(np.log(ratio) / k)))


def _linear_outcomes(tr: dict[str, np.ndarray], status: str, reached: bool, capped: bool,
                     alpha: float, lam_min_H0: float, lambda0: float,
                     budget_K: float, rank_deficient: bool = False) -> dict[str, Any]:
    """``gd_linear`` (module docstring): 1 when the target was reached within the rate-scaled
    budget, the certified γ̃‖A(k)‖₂ < 1 at every step and the loss stayed under a geometric
    envelope ρ_env < 1; 0 when a condition fails within the budget; NaN when the cap
    (``--steps``) cut the budget short before the target (undecided, never 0) — except when
    the trained parameters are fewer than the samples (``rank_deficient``): then
    H(k) = J(k)J(k)ᵀ has rank < n at every step, λ_min(H(k)) = 0 and no linear rate to zero
    loss exists, so a miss is 0 (``gd_linear_basis`` = "rank") rather than undecided."""
    up = np.asarray(tr.get("contraction", []), dtype=np.float64)
    wellposed = bool(up.size) and bool(np.all(np.isfinite(up) & (up < 1.0)))
    loss = np.asarray(tr.get("loss", []), dtype=np.float64)
    rho = envelope_rate(loss)
    basis = "run"
    if capped and not reached and rank_deficient:
        lin, basis = 0.0, "rank"
    elif capped and not reached:
        lin, basis = math.nan, "undecided"
    else:
        lin = 1.0 if (reached and wellposed and rho < 1.0 and status == "target_reached") else 0.0
    return {"gd_linear": lin, "gd_linear_basis": basis, "rho": rho, "budget_K": float(budget_K), "capped": bool(capped),
            "wellposed_all": wellposed,
            "rho_lin": (1.0 - alpha * lam_min_H0) ** 2 if math.isfinite(lam_min_H0) else math.nan,
            "rho_g22": 1.0 - alpha * lambda0 / 2.0, "lam_min_H0_run": lam_min_H0}


def _auto_alpha(net: Any, st: Any) -> float:
    import torch

    from verify.model.gram import gram_blocks

    H = gram_blocks(net, st).H.detach().to(torch.float64)
    return 1.0 / float(torch.linalg.eigvalsh(0.5 * (H + H.T))[-1])


def gd_batched_outcomes(spec: Any, m: int, seed: int, data: dict[str, Any],
                        shared: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``gd`` outcomes of one seed of a batched group (module docstring).  The whole group
    (``shared["group_seeds"]``, set by :func:`run_cells`) runs on the group's first call; the
    rows are read from ``shared`` after that."""
    from verify.experiment.batched_gd import run_members_to_target
    from verify.experiment.rates import fit_rates

    shared = {} if shared is None else shared
    cache = shared.setdefault("batched", {})
    if seed not in cache:
        seeds = list(shared.get("group_seeds", [seed]))
        X = _tensor(data["X"], spec.device)
        y = _tensor(data["y"], spec.device)
        lam0 = float(data["lambda0"])
        runnable, alphas, targets = [], [], []
        for s in seeds:
            net = _network(spec, m, X.shape[1], s)
            st = net.state(X, y)
            if not st.ok:
                cache[s] = {"lambda0": lam0, "reached": False, "gd_status": "solver_failed",
                            "loss0": math.nan, "alpha": math.nan}
                continue
            runnable.append((s, net))
            alphas.append(_auto_alpha(net, st) if spec.step == "auto" else float(spec.step))
            targets.append(spec.target * st.loss)
        if runnable:
            runs = run_members_to_target([n for _, n in runnable], X, y, alphas, steps=spec.steps,
                                         target_loss=targets)
            for (s, _), a, r in zip(runnable, alphas, runs, strict=True):
                loss = np.asarray(r.loss, dtype=np.float64)
                rates = fit_rates({"step": np.arange(loss.size, dtype=np.float64),
                                   "residual_sq": 2.0 * loss}, a, lam0)
                tail = rates.get("observed_rate_tail")
                finite = loss[np.isfinite(loss)]
                cache[s] = {"lambda0": lam0, "reached": r.status == "target_reached",
                            "steps_to_target": (float(r.steps_to_target)
                                                if r.steps_to_target is not None else math.nan),
                            "rate_late": math.nan if tail is None else float(tail),
                            "loss0": float(loss[0]) if loss.size else math.nan,
                            "loss_final": float(finite[-1]) if finite.size else math.nan,
                            "alpha": a, "gd_status": r.status}
    return dict(cache[seed])


def gamma_outcomes(spec: Any, m: int, seed: int, data: dict[str, Any],
                   shared: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``gamma`` outcomes of one cell: γ* by bisection
    (:func:`verify.experiment.wellposed.wellposed_gamma`; module docstring there), with the
    cell's step rule (``spec.step``) and ``spec.steps`` GD steps at every bisection point."""
    import json

    from verify.experiment.wellposed import wellposed_gamma

    r = wellposed_gamma(data["X"], data["y"], m=m, seed=seed, steps=spec.steps,
                        step="auto" if spec.step == "auto" else float(spec.step),
                        rtol=spec.gamma_rtol, tol=spec.tol, max_iter=spec.max_iter,
                        device=spec.device)
    last = r.points[-1] if r.points else None
    gs = r.gamma_star
    return {"lambda0": float(data["lambda0"]), "gamma_star": gs, "gamma_star_hi": r.gamma_star_hi,
            "gamma_init": r.gamma_init, "gamma_g22": r.gamma_g22, "c_init": r.c_measured,
            "gamma_undecided": bool(r.undecided),
            "gamma_undecided_reason": last.reason if r.undecided and last is not None else None,
            "margin_used": 1.0 - gs / r.gamma_init if math.isfinite(gs) else math.nan,
            "solver_failures_wellposed": float(r.solver_failures_wellposed),
            "gamma_points": json.dumps([{k: v for k, v in p.__dict__.items()} for p in r.points],
                                       allow_nan=True)}


def _gd(spec: Any, m: int, seed: int, data: dict[str, Any],
        shared: dict[str, Any] | None = None) -> dict[str, Any]:
    fn = gd_batched_outcomes if getattr(spec, "batched", False) else gd_outcomes
    return fn(spec, m, seed, data, shared)


_TASKS: dict[str, Callable[..., dict[str, Any]]] = {"init": init_outcomes, "gd": _gd,
                                                    "gamma": gamma_outcomes}


def run_cell(spec: Any, cell: Any, data: dict[str, Any],
             shared: dict[str, Any] | None = None) -> dict[str, Any]:
    """One row of the table: the cell's configuration, its outcomes, ``status``, ``error``,
    ``wall_s``.  Exceptions become ``status="error"`` rows.  ``shared``: see
    :func:`init_outcomes` (the first cell of a group carries the shared cost in ``wall_s``)."""
    import torch

    t0 = time.perf_counter()
    row: dict[str, Any] = {"n": cell.n, "m": cell.m, "seed": cell.seed,
                           "gamma": math.nan if spec.kind == "gamma" else spec.gamma,
                           "step": spec.step if spec.kind in ("gd", "gamma") else None,
                           "kind": spec.kind,
                           "data": spec.data, "cell_key": cell.key}
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(spec.torch_threads)
        row.update(_TASKS[spec.kind](spec, cell.m, cell.seed, data, shared))
        row["status"], row["error"] = "done", None
    except Exception as exc:  # noqa: BLE001 - a failing cell is a row, never an aborted sweep
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" (at {tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno})" if tb else ""
        row["status"], row["error"] = "error", f"{type(exc).__name__}: {exc}{where}"
    finally:
        torch.set_num_threads(threads)
    row["wall_s"] = time.perf_counter() - t0
    return row


def group_key(spec: Any, cell: Any) -> tuple[int, ...]:
    """Cells with the same group key run in one task: (m, seed) for ``init`` (the network and
    ‖A(0)‖₂ are built once for all n), (n, m) for batched ``gd`` (the seeds as one batched
    run), the cell itself for ``gd``."""
    if spec.kind == "init":
        return (cell.m, cell.seed)
    if getattr(spec, "batched", False):
        return (cell.n, cell.m)
    return (cell.n, cell.m, cell.seed)


def run_cells(spec: Any, cells: list[Any], data_by_n: dict[int, dict[str, Any]],
              cell_fn: Callable[..., dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Run a group of cells (:func:`group_key`) in order, sharing what does not depend on n."""
    fn = run_cell if cell_fn is None else cell_fn
    shared: dict[str, Any] = {"group_seeds": [c.seed for c in cells]}
    try:
        return [fn(spec, c, data_by_n[c.n], shared) for c in cells]
    finally:
        shared.clear()
