"""Files the toolkit writes get the user's umask (issue 20 item 7), not ``mkstemp``'s 0600."""

from __future__ import annotations

import os
import stat

import pandas as pd
import pytest

from verify.experiment.record import atomic_save_npz, atomic_write_bytes, atomic_write_json


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(p) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def test_atomic_writers_follow_the_umask(tmp_path, umask_022):
    import numpy as np

    for p in (atomic_write_bytes(tmp_path / "a.bin", b"x"),
              atomic_write_json(tmp_path / "a.json", {"a": 1}),
              atomic_save_npz(tmp_path / "a.npz", a=np.zeros(2))):
        assert _mode(p) == 0o644, p
    os.umask(0o077)
    assert _mode(atomic_write_bytes(tmp_path / "b.bin", b"x")) == 0o600


def test_sweep_store_files_follow_the_umask(tmp_path, umask_022):
    import pyarrow as pa

    from verify.sweep import store

    store.write_json(tmp_path / "s.json", {"a": 1})
    store._atomic_parquet(pa.Table.from_pandas(pd.DataFrame({"a": [1]})), tmp_path / "r.parquet")
    assert _mode(tmp_path / "s.json") == 0o644 and _mode(tmp_path / "r.parquet") == 0o644
