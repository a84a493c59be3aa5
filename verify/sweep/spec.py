"""Sweep specification: the grid over (n, m, seed), the fixed settings, and the cell keys.

A :class:`SweepSpec` is pure data (JSON round trip via :meth:`SweepSpec.to_dict` /
:meth:`SweepSpec.from_dict`); :func:`parse_int_list` reads the command-line grid grammar.

Grid grammar (``--n``, ``--m``): comma-separated items, each an integer, ``START:STOP:xFACTOR``
(geometric: START, START·F, … up to STOP inclusive, integer factor ≥ 2) or
``START:STOP:+STEP`` (arithmetic).  Duplicates are dropped and the values sorted.
``--seeds N`` means seeds 0 … N−1; ``--seeds 3,7`` or ``--seeds 0:9:+1`` lists them.

Cells are ordered by (n, m, seed); that order is the row order of the result table.
The key of a cell is the first 16 hex digits of the SHA-256 of its configuration (JSON with
sorted keys: every field that changes the outcome) and the data fingerprint of its n.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from bounds._args import MAX_SEED
from bounds._defaults import default_for
from bounds._errors import check_real, invalid

__all__ = ["SweepSpec", "Cell", "parse_int_list", "KINDS", "cell_key", "MAX_CELLS", "MAX_VALUE"]

#: the task kinds of a sweep (:attr:`SweepSpec.kind`)
KINDS = ("init", "gd", "gamma")
# ASCII digits only: str.isdigit() and \d also accept '²', '٣', … which int() refuses
_GEOM = re.compile(r"^([0-9]+):([0-9]+):x([0-9]+)$")
_ARITH = re.compile(r"^([0-9]+):([0-9]+):\+([0-9]+)$")
_INT = re.compile(r"^-?[0-9]+$")
_MAX_CELLS = 10_000_000
#: most cells of one sweep, and most values one grid axis may list
MAX_CELLS = _MAX_CELLS
#: largest value of a grid axis (torch's sizes and the seeds are int64; the memory estimate
#: refuses far smaller widths first)
MAX_VALUE = 2**62


def parse_int_list(text: str, name: str) -> tuple[int, ...]:
    """Parse the grid grammar (module docstring) into sorted distinct ints; raise
    :class:`~bounds.InvalidArgument` naming ``name`` for anything malformed."""
    if not isinstance(text, str) or not text.strip():
        raise invalid(name, text, "the grid is empty", f"pass e.g. {name} 16,32 or {name} 8:2048:x2")
    out: set[int] = set()
    for item in text.split(","):
        item = item.strip()
        if not item:
            raise invalid(name, text, "has an empty item", "separate values by single commas")
        g, a = _GEOM.match(item), _ARITH.match(item)
        nums = item.replace("x", "").replace("+", "").split(":")
        if any(len(t.lstrip("-")) > 19 or (_INT.match(t) and int(t) > MAX_VALUE) for t in nums):
            raise invalid(name, item, f"a value exceeds {MAX_VALUE}",
                          f"use values ≤ {MAX_VALUE} (e.g. {name} 8:2048:x2)")
        if _INT.match(item):
            out.add(int(item))
        elif g or a:
            start, stop, inc = (int(x) for x in (g or a).groups())  # type: ignore[union-attr]
            if stop < start:
                raise invalid(name, item, "STOP is smaller than START", f"write e.g. {name} 8:2048:x2")
            if g and inc < 2:
                raise invalid(name, item, "a geometric factor must be an integer ≥ 2", "use e.g. x2")
            if a and inc < 1:
                raise invalid(name, item, "an arithmetic step must be an integer ≥ 1", "use e.g. +8")
            if g and start < 1:
                raise invalid(name, item, "a geometric range must start at ≥ 1", "use e.g. 8:2048:x2")
            if a and (stop - start) // inc + 1 > MAX_CELLS:
                raise invalid(name, item, f"lists more than {MAX_CELLS} values",
                              "use a larger +STEP or a geometric range (xFACTOR)")
            v = start
            while v <= stop:
                out.add(v)
                v = v * inc if g else v + inc
        else:
            raise invalid(name, item, "is neither an integer, START:STOP:xFACTOR nor "
                          "START:STOP:+STEP", f"write e.g. {name} 8,16 or {name} 8:2048:x2")
        if len(out) > MAX_CELLS:
            raise invalid(name, text, f"lists more than {MAX_CELLS} values", "split the sweep")
    return tuple(sorted(out))


def _ints(name: str, values: Any, minimum: int, maximum: int = MAX_VALUE) -> tuple[int, ...]:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise invalid(name, values, "expected a tuple of integers",
                      f"pass e.g. {name}=(8, 16) (the CLI's grid text goes through parse_int_list)")
    vals = tuple(values)
    if not vals:
        raise invalid(name, list(vals), "the grid is empty", f"give at least one value ≥ {minimum}")
    if len(vals) > MAX_CELLS:
        raise invalid(name, f"<{len(vals)} values>", f"more than {MAX_CELLS} values", "split the sweep")
    for v in vals:
        if isinstance(v, bool) or not isinstance(v, int) or not minimum <= v <= maximum:
            raise invalid(name, v, f"every value must be an integer in [{minimum}, {maximum}]",
                          f"remove it or use values in [{minimum}, {maximum}]")
    return tuple(sorted(set(vals)))


@dataclass(frozen=True)
class Cell:
    """One grid point; ``key`` identifies it across runs (module docstring)."""

    n: int
    m: int
    seed: int
    key: str


@dataclass(frozen=True)
class SweepSpec:
    """What to sweep.

    Attributes:
        kind: ``"init"`` (initialisation events) or ``"gd"`` (an instrumented GD run per cell).
        data: ``"digits"``, ``"digits-all"``, ``"breast-cancer"``, ``"synthetic"``, an image
            set (``"mnist"``, ``"idx:DIR"``, … of :func:`bounds.load_dataset`) or a file.
        n, m, seeds: the grid (sorted, distinct).
        gamma: the fixed scale γ.
        step: GD step, ``"auto"`` (α = 1/λ_max(H(0)) per cell) or a number as text.
        target: GD stops when ``loss ≤ target · loss(0)``.
        steps: GD step budget.
        expensive_every: GD interval of the expensive observables (W_move, H_dev, λ_min(H)); 1
            (default) makes the maxima/minima exact over all steps.
        hk_max_m: init: H(0) and K(0) (which need the equilibrium, O(n m²) per iteration and an
            O(m³) SVD) are computed only for ``m ≤ hk_max_m`` (NaN above); ``None``: always.
        data_seed: seed of the bundled data split / synthetic draw.
        d: input dimension (synthetic data only).
        device: torch device of the tasks.
        tol, max_iter: equilibrium solver settings.
        torch_threads: torch threads inside each task (1: one core per worker).
        batched: gd only: run the seeds of one (n, m) as one batched *bare* GD run
            (:func:`verify.experiment.batched_gd.run_members_to_target`, one dask task per
            (n, m)); outcomes ``reached``, ``steps_to_target``, ``rate_late``, ``loss0``,
            ``loss_final``, ``alpha``, ``gd_status`` equal those of separate runs, while the
            instrumented outcomes (movement, kernel drift, claims) are NaN/empty: use it for
            the GD-convergence threshold over many seeds (on a GPU; on a CPU it is about as
            fast as one-at-a-time for m ≥ 128, see ``implicit-verify bench step``).
    """

    kind: str
    data: str
    n: tuple[int, ...]
    m: tuple[int, ...]
    seeds: tuple[int, ...]
    gamma: float = default_for("sweep", "gamma")
    step: str = default_for("sweep", "step")
    target: float = 1e-3
    steps: int = default_for("sweep", "steps")
    expensive_every: int = 1
    hk_max_m: int | None = 512
    data_seed: int = default_for("sweep", "data_seed")
    d: int | None = None
    device: str = default_for("sweep", "device")
    tol: float = default_for("sweep", "tol")
    max_iter: int = default_for("sweep", "max_iter")
    torch_threads: int = 1
    batched: bool = False
    #: image sets: the two classes (labels −1, +1)
    classes: tuple[int, int] = default_for("sweep", "classes")
    #: files: scale rows to unit norm
    normalise: bool = False
    #: perturb one row of each parallel pair (None: the loader's default, on for image sets)
    perturb_parallel: bool | None = None
    #: project the inputs to this many dimensions (:func:`bounds.datasets.project_dataset`,
    #: a fixed Gaussian matrix of seed ``project_seed``, then unit rows): d changes at fixed n
    project_d: int | None = None
    project_seed: int = 0
    #: gd kind: "fixed" (``steps`` steps, the budget-dependent outcome ``reached``) or "rate"
    #: (budget ⌈κ·log(1/target)/(α·λ_min(H(0)))⌉ capped by ``steps``: outcome ``gd_linear``)
    budget: str = "fixed"
    #: gd kind with budget "rate": slack κ of the budget over the linearised step count
    kappa: float = 3.0
    #: gamma kind: relative width at which the bisection for γ* stops
    gamma_rtol: float = 1e-3
    #: gamma kind: levels γ0 of the outcomes ``wellposed_at_<γ0>``
    gamma_levels: tuple[float, ...] = ()
    schema: str = field(default="implicit-verify/sweep/1")

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise invalid("kind", self.kind, f"unknown task kind; choose one of {KINDS}", "use --kind init")
        object.__setattr__(self, "n", _ints("n", self.n, 1))
        object.__setattr__(self, "m", _ints("m", self.m, 1))
        object.__setattr__(self, "seeds", _ints("seeds", self.seeds, 0, MAX_SEED))
        if not isinstance(self.data, str) or not self.data.strip():
            raise invalid("data", self.data, "expected a data set name or a file path (str)",
                          "pass e.g. data='digits', 'synthetic' or a path to a .npz file")
        if not isinstance(self.device, str):
            raise invalid("device", self.device, "expected a device name (str)", "pass e.g. device='cpu'")
        for name in ("gamma", "target", "tol", "kappa", "gamma_rtol"):
            check_real(name, getattr(self, name), fix=f"pass a finite number for {name}")
        g = float(self.gamma)
        # γ = 0 (the explicit two-layer control, z = σ(Wx)/√m) for the gd kind only
        if not (0.0 < g < 1.0 or (g == 0.0 and self.kind == "gd")):
            raise invalid("gamma", self.gamma, "γ must lie in (0, 1) (γ = 0, the explicit "
                          "control, for --kind gd only)", "pass e.g. --gamma 0.1")
        object.__setattr__(self, "gamma", g)
        st = str(self.step).strip().lower()
        if st != "auto":
            try:
                a = float(st)
            except ValueError:
                raise invalid("step", self.step, "expected a positive number or 'auto'",
                              "pass e.g. --step 0.01 or --step auto") from None
            if not (math.isfinite(a) and a > 0):
                raise invalid("step", self.step, "the step size must be positive and finite",
                              "pass e.g. --step 0.01")
            st = repr(a)
        object.__setattr__(self, "step", st)
        t = float(self.target)
        if not (math.isfinite(t) and 0.0 < t < 1.0):
            raise invalid("target", self.target, "the relative loss target must lie in (0, 1)",
                          "pass e.g. --target 1e-3")
        object.__setattr__(self, "target", t)
        for name, val, lo in (("steps", self.steps, 1), ("expensive_every", self.expensive_every, 1),
                              ("data_seed", self.data_seed, 0), ("max_iter", self.max_iter, 1),
                              ("torch_threads", self.torch_threads, 1)):
            if isinstance(val, bool) or not isinstance(val, int) or not lo <= val <= MAX_VALUE:
                raise invalid(name, val, f"must be an integer in [{lo}, {MAX_VALUE}]",
                              f"pass {name} ≥ {lo}")
        if self.hk_max_m is not None and (isinstance(self.hk_max_m, bool)
                                          or not isinstance(self.hk_max_m, int)
                                          or not 0 <= self.hk_max_m <= MAX_VALUE):
            raise invalid("hk_max_m", self.hk_max_m, "must be an integer ≥ 0 or None",
                          "pass e.g. --hk-max-m 1024 (or 'all')")
        if not isinstance(self.batched, bool):
            raise invalid("batched", self.batched, "expected True or False", "pass batched=True")
        if self.batched and self.kind != "gd":
            raise invalid("batched", self.batched, "batched seeds apply to the gd kind only",
                          "drop --batched-seeds or use --kind gd")
        if self.d is not None and (isinstance(self.d, bool) or not isinstance(self.d, int)
                                   or not 1 <= self.d <= MAX_VALUE):
            raise invalid("d", self.d, "must be an integer ≥ 1", "pass e.g. --d 16")
        if self.project_d is not None and (isinstance(self.project_d, bool)
                                           or not isinstance(self.project_d, int)
                                           or self.project_d < 1):
            raise invalid("project_d", self.project_d, "must be an integer ≥ 1 or None",
                          "pass e.g. --project-d 16")
        if (isinstance(self.project_seed, bool) or not isinstance(self.project_seed, int)
                or self.project_seed < 0):
            raise invalid("project_seed", self.project_seed, "must be an integer ≥ 0",
                          "pass e.g. --project-seed 0")
        if not (0.0 < float(self.tol) < 1.0):
            raise invalid("tol", self.tol, "must be in (0, 1)", "use e.g. 1e-12")
        try:
            cls = tuple(int(c) for c in self.classes)
        except (TypeError, ValueError):
            cls = ()
        if len(cls) != 2 or cls[0] == cls[1] or not all(0 <= c <= 9 for c in cls):
            raise invalid("classes", self.classes, "expected two different classes in 0…9",
                          "pass e.g. --classes 0,1")
        object.__setattr__(self, "classes", (cls[0], cls[1]))
        for flag_name, flag in (("normalise", self.normalise),
                                ("perturb_parallel", self.perturb_parallel)):
            if not isinstance(flag, bool) and not (flag_name == "perturb_parallel" and flag is None):
                raise invalid(flag_name, flag, "expected True or False", f"pass {flag_name}=True")
        if self.budget not in ("fixed", "rate"):
            raise invalid("budget", self.budget, "expected 'fixed' or 'rate'", "pass --budget rate")
        if self.budget == "rate" and self.kind != "gd":
            raise invalid("budget", self.budget, "applies to the gd kind only", "use --kind gd")
        if not (isinstance(self.kappa, (int, float)) and math.isfinite(self.kappa)
                and self.kappa >= 1.0):
            raise invalid("kappa", self.kappa, "must be a number ≥ 1", "pass e.g. --kappa 3")
        if not (isinstance(self.gamma_rtol, (int, float)) and 0.0 < float(self.gamma_rtol) < 1.0):
            raise invalid("gamma_rtol", self.gamma_rtol, "must be in (0, 1)",
                          "pass e.g. --gamma-rtol 1e-3")
        try:
            levels = tuple(sorted(float(g) for g in self.gamma_levels))
        except (TypeError, ValueError):
            raise invalid("gamma_levels", self.gamma_levels, "expected numbers in (0, 1)",
                          "pass e.g. --gamma-levels 0.25,0.4,0.45") from None
        if any(not (0.0 < g < 1.0) for g in levels):
            raise invalid("gamma_levels", self.gamma_levels, "every level must lie in (0, 1)",
                          "pass e.g. --gamma-levels 0.25,0.4,0.45")
        object.__setattr__(self, "gamma_levels", levels)
        ncell = len(self.n) * len(self.m) * len(self.seeds)
        if ncell > _MAX_CELLS:
            raise invalid("grid", ncell, f"more than {_MAX_CELLS} cells", "split the sweep")

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("n", "m", "seeds", "classes", "gamma_levels"):
            d[k] = list(d[k])
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SweepSpec:
        kw = dict(d)
        for k in ("n", "m", "seeds"):
            kw[k] = tuple(int(x) for x in kw[k])
        if "classes" in kw:
            kw["classes"] = tuple(int(x) for x in kw["classes"])
        if "gamma_levels" in kw:
            kw["gamma_levels"] = tuple(float(x) for x in kw["gamma_levels"])
        return cls(**kw)

    def task_fields(self) -> dict[str, Any]:
        """The fields that change a cell's outcome (besides n, m, seed and the data)."""
        common = {"kind": self.kind, "data": self.data, "data_seed": self.data_seed, "d": self.d,
                  "gamma": self.gamma, "tol": self.tol, "max_iter": self.max_iter,
                  "schema": self.schema}
        # data options only when not at their defaults, so that the keys of sweeps written
        # before these fields existed still hold
        if self.classes != (0, 1):
            common["classes"] = list(self.classes)
        if self.normalise:
            common["normalise"] = True
        if self.perturb_parallel is not None:
            common["perturb_parallel"] = self.perturb_parallel
        if self.project_d is not None:
            common["project_d"] = self.project_d
            common["project_seed"] = self.project_seed
        if self.kind == "init":
            return {**common, "hk_max_m": self.hk_max_m}
        if self.kind == "gamma":  # γ is the bisection variable, not a setting of the cell
            common.pop("gamma")
            return {**common, "step": self.step, "steps": self.steps,
                    "gamma_rtol": self.gamma_rtol, "gamma_levels": list(self.gamma_levels)}
        gd = {**common, "step": self.step, "target": self.target, "steps": self.steps,
              "expensive_every": self.expensive_every}
        if self.budget == "rate":
            gd = {**gd, "budget": "rate", "kappa": float(self.kappa)}
        # only when set, so that the keys of sweeps written before this field existed still hold
        return {**gd, "batched": True} if self.batched else gd

    def cells(self, fingerprints: dict[int, str]) -> list[Cell]:
        """All cells in table order, keyed with the per-n data ``fingerprints``."""
        base = self.task_fields()
        return [Cell(n, m, s, cell_key(base, n, m, s, fingerprints[n]))
                for n in self.n for m in self.m for s in self.seeds]


def cell_key(task_fields: dict[str, Any], n: int, m: int, seed: int, fingerprint: str) -> str:
    blob = json.dumps({**task_fields, "n": n, "m": m, "seed": seed, "data_fingerprint": fingerprint},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
