"""JSON renderer: the summary dict → ``summary.json`` (NaN/inf as null, NumPy as Python)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (set, tuple)):
        return list(o)
    return str(o)


def _clean(o: Any) -> Any:
    """NaN/inf → None (strict JSON)."""
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if isinstance(o, np.floating):
        f = float(o)
        return f if math.isfinite(f) else None
    if isinstance(o, Mapping):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    if isinstance(o, np.ndarray):
        return _clean(o.tolist())
    return o


def render_json(summary: Mapping[str, Any]) -> str:
    """The summary as strict JSON (NaN and ∞ become ``null``)."""
    return json.dumps(_clean(summary), indent=1, ensure_ascii=False, default=_json_default,
                      allow_nan=False) + "\n"
