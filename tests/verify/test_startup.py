"""Start-up (issue 22 item 4): a usage error answers before torch, pandas, dask or matplotlib
are imported, and the lazily imported package namespaces still resolve every public name."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("torch", "pandas", "dask", "matplotlib", "sympy", "scipy", "pyarrow")

_PROBE = f"""
import contextlib, io, json, sys
from verify.cli import main
err = io.StringIO()
with contextlib.redirect_stderr(err):
    rc = main(json.loads(sys.argv[1]))
print(json.dumps({{"rc": rc, "err": err.getvalue(),
                  "heavy": sorted(m for m in {HEAVY!r} if m in sys.modules)}}))
"""


def _probe(argv: list[str]) -> dict:
    out = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(argv)], capture_output=True,
                         text=True, check=True, timeout=120)
    return json.loads(out.stdout)


@pytest.mark.parametrize("argv", [
    ["--bogus"],
    ["run", "--bogus"],
    ["run", "--m", "x"],
    ["report", "--bogus"],
    ["bounds", "--bogus"],
    ["bench", "step", "--bogus"],
    ["bench", "step", "--public", "cifar"],
    ["bench", "gram", "--bogus"],
    ["bench", "warm", "--tol", "2"],
    ["sweep", "--m", "²"],
    ["figure1", "--bogus"],
])
def test_bad_option_answers_before_heavy_imports(argv):
    res = _probe(argv)
    assert res["rc"] == 2
    # one line naming the problem (never a traceback)
    assert res["err"].count("\n") == 1 and "error:" in res["err"], res["err"]
    assert res["heavy"] == [], f"{argv}: imported {res['heavy']} before answering"


def test_package_imports_are_light():
    code = ("import sys, bounds, verify, verify.cli, verify.sweep; "
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         timeout=120).stdout.strip()
    assert out == ""


@pytest.mark.parametrize("package", ["bounds", "verify", "verify.sweep"])
def test_every_public_name_resolves(package):
    """The lazy namespaces (PEP 562 ``__getattr__``) map every name of ``__all__``."""
    import importlib

    mod = importlib.import_module(package)
    for name in mod.__all__:
        assert getattr(mod, name) is not None, name
    with pytest.raises(AttributeError):
        mod.no_such_name  # noqa: B018
