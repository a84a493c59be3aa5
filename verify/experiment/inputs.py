"""The validated inputs of a run: arrays, test set, device, dtype, theorem spec.

All checks of :func:`verify.run_gd`'s arguments happen here, before any computation, in the
order the tests expect (the first bad argument is the one named).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

import bounds
from bounds._errors import invalid
from verify.experiment.config import RunConfig
from verify.experiment.data import Dataset
from verify.model.validate import resolve_device, resolve_dtype

__all__ = ["RunInputs", "validate_inputs"]


@dataclass(frozen=True)
class RunInputs:
    """Float64 NumPy training/test arrays, where the run computes, the theorem checked and the
    (checked) configuration."""

    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray | None
    y_test: np.ndarray | None
    dataset: Dataset | None
    device: torch.device
    dtype: torch.dtype
    spec: Any
    config: RunConfig

    def data_record(self, data_name: str | None) -> dict[str, Any]:
        """``record["data"]`` (docs/CONTRACTS.md)."""
        n, d = self.X.shape
        rec = self.dataset.record() if self.dataset is not None else {
            "name": data_name or "data", "source": "array passed to run_gd", "n": n, "d": d,
            "n_test": 0 if self.X_test is None else int(self.X_test.shape[0]), "seed": None,
            "unit_norm_normalised": False, "perturbed_pairs": [], "notes": []}
        if data_name is not None:
            rec["name"] = data_name
        return rec


def validate_inputs(X: Any, y: Any, config: Any, X_test: Any, y_test: Any, spec: Any) -> RunInputs:
    """Check :func:`verify.run_gd`'s data, configuration and spec (``X`` may be a Dataset)."""
    dataset: Dataset | None = None
    if isinstance(X, Dataset):
        if y is not None or X_test is not None or y_test is not None:
            raise invalid("y", "given with a Dataset", "a Dataset carries its own labels and test set",
                          "pass run_gd(dataset, config=...)")
        dataset = X
        X, y, X_test, y_test = dataset.X, dataset.y, dataset.X_test, dataset.y_test
    if config is None or not isinstance(config, RunConfig):
        raise invalid("config", config, "expected a RunConfig", "pass config=RunConfig(m=..., gamma=..., step=..., steps=...)")
    if y is None:
        raise invalid("y", None, "labels are required", "pass one label per row of X")
    Xn = bounds.validate_X(X, "X")
    yn = bounds.validate_y(y, Xn.shape[0], "y")
    if (X_test is None) != (y_test is None):
        raise invalid("X_test", "given without y_test" if y_test is None else None,
                      "a test set needs both inputs and labels", "pass both X_test and y_test")
    Xt_n = yt_n = None
    if X_test is not None:
        Xt_n = bounds.validate_X(X_test, "X_test")
        if Xt_n.shape[1] != Xn.shape[1]:
            raise invalid("X_test", f"<array shape {Xt_n.shape}>", f"has {Xt_n.shape[1]} features, "
                          f"X has {Xn.shape[1]}", "use the same features")
        yt_n = bounds.validate_y(y_test, Xt_n.shape[0], "y_test")
    device = resolve_device(config.device)
    dtype = resolve_dtype(config.dtype)
    spec = bounds.g22_spec(config.mode) if spec is None else spec
    if not isinstance(spec, bounds.TheoremSpec):
        raise invalid("spec", type(spec).__name__, "expected a bounds.TheoremSpec", "pass bounds.g22_spec(mode)")
    return RunInputs(Xn, yn, Xt_n, yt_n, dataset, device, dtype, spec, config)
