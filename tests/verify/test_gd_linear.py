"""GG22 claim (b) as an outcome: gd_linear (rate-scaled budget, certified well-posedness,
geometric envelope).  The envelope rate against GD on a linear model, where the rate is known
in closed form; a capped cell is undecided (NaN), never a failure; the sweep end to end."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from verify.cli import main
from verify.sweep.outcomes import outcome_indicator
from verify.sweep.tasks import _linear_outcomes, envelope_rate


def _linear_gd_losses(H: np.ndarray, e0: np.ndarray, alpha: float, K: int) -> np.ndarray:
    """½‖e(k)‖² of GD on ½‖e‖² with e(k+1) = (I − αH) e(k) (the linearised dynamics)."""
    out, e = [], e0.copy()
    for _ in range(K + 1):
        out.append(0.5 * float(e @ e))
        e = e - alpha * (H @ e)
    return np.array(out)


def test_envelope_recovers_the_closed_form_rate():
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    lam = np.array([0.05, 0.2, 0.5, 1.0, 1.5, 2.0])
    H = Q @ np.diag(lam) @ Q.T
    alpha = 0.4
    # e0 along the slowest eigenvector: L(k) = (1 − αλ_min)^(2k) L(0) exactly
    L = _linear_gd_losses(H, Q[:, 0], alpha, 200)
    assert envelope_rate(L) == pytest.approx((1 - alpha * lam[0]) ** 2, rel=1e-10)
    # a general e0: L(k) ≤ (1 − αλ_min)^(2k) L(0), so ρ_env ≤ (1 − αλ_min)² (with rounding)
    L = _linear_gd_losses(H, rng.standard_normal(6), alpha, 200)
    assert envelope_rate(L) <= (1 - alpha * lam[0]) ** 2 * (1 + 1e-12)
    # sublinear decay 1/(k+1) has no envelope below 1 over a long run
    assert envelope_rate(1.0 / (np.arange(10_000) + 1.0)) > 0.999


def test_capped_cell_is_undecided_never_zero():
    tr = {"loss": np.array([1.0, 0.5, 0.3]), "contraction": np.array([0.2, 0.2, 0.2])}
    cap = _linear_outcomes(tr, "max_steps", False, True, 0.1, 0.5, 0.1, 1e9)
    assert math.isnan(cap["gd_linear"])
    miss = _linear_outcomes(tr, "max_steps", False, False, 0.1, 0.5, 0.1, 2)
    assert miss["gd_linear"] == 0.0
    ok = _linear_outcomes(tr, "target_reached", True, False, 0.1, 0.5, 0.1, 2)
    assert ok["gd_linear"] == 1.0 and ok["rho_lin"] == pytest.approx((1 - 0.05) ** 2)
    bad = _linear_outcomes({**tr, "contraction": np.array([0.2, 1.01, 0.2])}, "target_reached",
                           True, False, 0.1, 0.5, 0.1, 2)
    assert bad["gd_linear"] == 0.0 and bad["wellposed_all"] is False
    t = pd.DataFrame({"n": [4, 4], "m": [8, 8], "seed": [0, 1], "gd_linear": [np.nan, 1.0],
                      "status": ["done", "done"]})
    ind = outcome_indicator(t, "gd_linear").tolist()
    assert math.isnan(ind[0]) and ind[1] == 1.0


def test_rate_budget_sweep(tmp_path, capsys):
    out = tmp_path / "s"
    assert main(["sweep", "--kind", "gd", "--budget", "rate", "--target", "1e-6", "--steps",
                 "3000", "--data", "synthetic", "--n", "8", "--m", "16", "--seeds", "2",
                 "--serial", "--quiet", "--out", str(out)]) == 0
    t = pd.read_parquet(out / "results.parquet")
    assert set(t["gd_linear"].dropna()) <= {0.0, 1.0}
    done = t[t["reached"]]
    # reached within the rate-scaled budget: at most K steps
    assert (done["steps_to_target"] <= done["budget_K"]).all()
    assert ((t["rho"] > 0) & (t["rho"] < 1)).all()
