"""Data validation, loading (.npz/.npy/.csv) and the Assumption-2 audit."""

from __future__ import annotations

import numpy as np
import pytest
from bounds_testdata import unit_data, unit_rows
from hypothesis import given

from bounds import InvalidArgument, audit_data, load_data, validate_X, validate_y


def test_audit_clean_unit_data():
    X = unit_rows(20, 5, seed=1)
    a = audit_data(X)
    assert a.ok and a.unit_norm and not a.parallel_pairs and not a.zero_rows
    assert (a.n, a.d) == (20, 5)
    C = np.abs(X @ X.T)
    np.fill_diagonal(C, -1)
    i, j = np.unravel_index(np.argmax(C), C.shape)
    assert set(a.worst_pair) == {int(i), int(j)} and a.worst_pair[0] < a.worst_pair[1]
    assert a.max_abs_cos == pytest.approx(C.max(), abs=4e-16)
    assert a.messages() == []


def test_audit_finds_parallel_and_antiparallel_pairs_and_norm_deviation():
    X = unit_rows(6, 3, seed=2)
    X[4] = -X[1]  # anti-parallel
    X[5] = 3.0 * X[2]  # parallel and not unit norm
    a = audit_data(X)
    assert not a.ok and not a.unit_norm
    assert set(a.parallel_pairs) == {(1, 4), (2, 5)}
    assert a.max_norm_dev == pytest.approx(2.0)
    assert a.worst_norm_row == 5
    assert a.max_abs_cos == pytest.approx(1.0)
    text = " ".join(a.messages())
    assert "(1,4)" in text and "(2,5)" in text and "not unit norm" in text
    d = a.to_dict()
    assert d["parallel_pairs"] == [[1, 4], [2, 5]] and d["ok"] is False


def test_audit_near_parallel_is_not_parallel_but_is_the_worst_pair():
    X = unit_rows(5, 4, seed=3)
    v = X[0] + 1e-4 * X[3]
    X[2] = v / np.linalg.norm(v)
    a = audit_data(X)
    assert a.ok and a.worst_pair == (0, 2) and 1 - a.max_abs_cos < 1e-6


def test_audit_blocks_agree_with_one_block():
    X = unit_rows(37, 4, seed=4)
    X[30] = X[3]
    a1, a2 = audit_data(X), audit_data(X, block=5)
    assert a1 == a2 and a1.parallel_pairs == ((3, 30),)


def test_audit_zero_row_and_single_sample():
    X = np.array([[1.0, 0.0], [0.0, 0.0]])
    a = audit_data(X)
    assert a.zero_rows == (1,) and not a.ok
    one = audit_data(np.array([[0.6, 0.8]]))
    assert one.ok and one.worst_pair is None and one.max_abs_cos == 0.0


@given(unit_data())
def test_audit_accepts_generated_assumption2_data(X):
    assert audit_data(X).ok


def test_validate_X_errors_name_the_argument():
    with pytest.raises(InvalidArgument, match=r"^data=.*ndim=1"):
        validate_X(np.ones(3), name="data")
    with pytest.raises(InvalidArgument, match=r"^X=.*NaN/Inf.*\[1, 0\]"):
        validate_X(np.array([[1.0, 2.0], [np.inf, 0.0]]))
    with pytest.raises(InvalidArgument, match=r"^X=.*empty"):
        validate_X(np.zeros((0, 2)))
    with pytest.raises(InvalidArgument, match=r"^X=.*float64"):
        validate_X([["a", "b"]])
    out = validate_X([[1, 2]])
    assert out.dtype == np.float64 and out.flags.c_contiguous


def test_validate_y_errors():
    assert validate_y(np.ones((3, 1)), 3).shape == (3,)
    with pytest.raises(InvalidArgument, match=r"^y=.*2 labels but X has 3"):
        validate_y(np.ones(2), 3)
    with pytest.raises(InvalidArgument, match=r"^y=.*NaN"):
        validate_y(np.array([1.0, np.nan]), 2)


def test_load_npz_npy_csv_roundtrip(tmp_path):
    X = unit_rows(4, 3, seed=5)
    y = np.array([1.0, -1.0, 0.5, 2.0])
    np.savez(tmp_path / "d.npz", X=X, y=y)
    X1, y1 = load_data(tmp_path / "d.npz")
    assert np.array_equal(X1, X) and np.array_equal(y1, y)
    np.savez(tmp_path / "nolabels.npz", X=X)
    assert load_data(tmp_path / "nolabels.npz")[1] is None
    np.save(tmp_path / "d.npy", X)
    X2, y2 = load_data(str(tmp_path / "d.npy"))
    assert np.array_equal(X2, X) and y2 is None
    # CSV with a header whose last name is y → labels; repr round-trips float64 exactly
    lines = ["a,b,c,Y"] + [",".join(repr(float(v)) for v in (*row, lab)) for row, lab in zip(X, y, strict=True)]
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    X3, y3 = load_data(tmp_path / "d.csv")
    assert np.array_equal(X3, X) and np.array_equal(y3, y)
    # no header: all columns are X
    (tmp_path / "plain.csv").write_text("\n".join(lines[1:]))
    X4, y4 = load_data(tmp_path / "plain.csv")
    assert X4.shape == (4, 4) and y4 is None
    # header not ending in y: all columns are X
    (tmp_path / "h.csv").write_text("\n".join(["a,b,c,d"] + lines[1:]))
    X5, y5 = load_data(tmp_path / "h.csv")
    assert X5.shape == (4, 4) and y5 is None


@pytest.mark.parametrize(
    ("setup", "pattern"),
    [
        (lambda p: None, r"^path=.*does not exist"),
        (lambda p: (p / "f.txt").write_text("1,2"), r"^path=.*unknown extension '.txt'"),
        (lambda p: np.save(p / "f.npy", np.array([[1.0, np.nan]])), r"^X=.*NaN"),
        (lambda p: np.save(p / "f.npy", np.ones(3)), r"^X=.*2-D"),
        (lambda p: np.savez(p / "f.npz", X=np.ones((3, 2)), y=np.ones(2)), r"^y=.*2 labels but X has 3"),
        (lambda p: np.savez(p / "f.npz", Z=np.ones((3, 2))), r"^path=.*no array 'X'"),
        (lambda p: (p / "f.csv").write_text(""), r"^path=.*no rows"),
        (lambda p: (p / "f.csv").write_text("a,y\n"), r"^path=.*no data rows"),
        (lambda p: (p / "f.csv").write_text("1,2\n3\n"), r"^path=.*row 1 has 1 columns"),
        (lambda p: (p / "f.csv").write_text("x,y\n1,2\n3,oops\n"), r"^path=.*non-numeric"),
        (lambda p: (p / "f.csv").write_text("1,2\nnan,3\n"), r"^X=.*NaN"),
        (lambda p: (p / "f.npy").write_bytes(b"not a numpy file"), r"^path=.*cannot read"),
    ],
)
def test_load_errors(tmp_path, setup, pattern):
    setup(tmp_path)
    files = [f for f in tmp_path.iterdir() if f.is_file()]
    path = files[0] if files else tmp_path / "missing.npz"
    with pytest.raises(InvalidArgument, match=pattern):
        load_data(path)
