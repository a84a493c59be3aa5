"""The import direction of docs/ARCHITECTURE.md, checked by parsing every module with ``ast``.

``bounds`` ← ``verify.model`` ← ``verify.experiment`` ← ``verify.report`` ← ``verify.cli``
(``verify.bench`` beside ``verify.report``: it times the model and the experiment pipeline). Imports inside
functions count too. A new subpackage of ``verify`` must be given a row in ``ALLOWED``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: verify subpackage → the verify subpackages it may import (besides itself); all may import bounds.
ALLOWED: dict[str, set[str]] = {
    "verify.model": set(),
    "verify.bench": {"verify.model", "verify.experiment"},
    "verify.experiment": {"verify.model"},
    "verify.report": {"verify.model", "verify.experiment"},
    "verify.sweep": {"verify.model", "verify.experiment"},
    "verify.cli": {"verify.model", "verify.experiment", "verify.report", "verify.bench",
                   "verify.sweep"},
    # the package root re-exports the public API; it must not pull in the command line
    "verify": {"verify.model", "verify.experiment", "verify.report", "verify.sweep"},
}

#: top-level names bounds/ must never import.
BOUNDS_FORBIDDEN = ("torch", "verify")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(source: str, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) for every import in ``source`` (relative ones resolved)."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield node.lineno, target
            for alias in node.names:  # ``from verify import report`` imports verify.report
                yield node.lineno, f"{target}.{alias.name}"


def layer_of(name: str) -> str | None:
    """The row of ALLOWED a verify module belongs to (None outside verify)."""
    parts = name.split(".")
    if parts[0] != "verify":
        return None
    return "verify" if len(parts) == 1 else ".".join(parts[:2])


def violations(source: str, module: str, is_package: bool) -> list[str]:
    out = []
    top = module.split(".")[0]
    own = layer_of(module)
    for line, target in imports_of(source, module, is_package):
        if top == "bounds":
            if target.split(".")[0] in BOUNDS_FORBIDDEN:
                out.append(f"{module}:{line} imports {target} (bounds never imports torch/verify)")
            continue
        if own is None:
            continue
        dest = layer_of(target)
        if dest is None or dest == own:
            continue
        if dest == "verify":
            out.append(f"{module}:{line} imports the package root verify (a cycle)")
        elif own not in ALLOWED:
            out.append(f"{module}: subpackage {own} has no row in ALLOWED")
        elif dest not in ALLOWED[own]:
            out.append(f"{module}:{line} imports {target} ({own} may not import {dest})")
    return out


def python_files(*tops: str) -> list[Path]:
    return sorted(p for top in tops for p in (ROOT / top).rglob("*.py"))


def test_every_verify_subpackage_has_a_row():
    subs = {f"verify.{p.parent.name}" for p in (ROOT / "verify").glob("*/__init__.py")}
    assert subs <= set(ALLOWED), f"add a row to ALLOWED for {sorted(subs - set(ALLOWED))}"


@pytest.mark.parametrize("path", python_files("bounds", "verify"),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_import_direction(path: Path):
    found = violations(path.read_text(encoding="utf-8"), module_name(path),
                       path.name == "__init__.py")
    assert not found, "\n".join(found)


def test_subpackage_docstrings_state_what_they_own():
    for init in (ROOT / "verify").glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and "import" in doc, f"{init}: docstring must say what it owns and may import"


def test_project_imports_resolve_inside_this_checkout():
    """Every ``verify.*``/``bounds.*`` import names a module or a name in this tree.

    An editable install elsewhere would otherwise satisfy a stale private path (``verify._gd``)
    from another checkout and hide a broken move."""
    modules = {module_name(p) for p in python_files("bounds", "verify")}
    packages = {module_name(p) for p in python_files("bounds", "verify") if p.name == "__init__.py"}
    bad = []
    for path in python_files("bounds", "verify", "tests"):
        src = path.read_text(encoding="utf-8")
        tree = ast.parse(src)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
                if node.module in packages:  # ``from verify import _gd`` names a module
                    names += [f"{node.module}.{a.name}" for a in node.names
                              if a.name.startswith("_") and not a.name.startswith("__")]
            else:
                continue
            for name in names:
                if name.split(".")[0] in ("verify", "bounds") and name not in modules:
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("module, source, expected", [
    ("verify.model.network", "from verify.experiment.gd import run_gd", "may not import"),
    ("verify.model.gram", "def f():\n    from verify.report import fmt", "may not import"),
    ("verify.model.gram", "from ..experiment import gd", "may not import"),
    ("verify.experiment.gd", "import verify.cli.run", "may not import"),
    ("verify.experiment.gd", "from verify import report", "a cycle"),
    ("verify.report.render", "from verify.cli.report import main", "may not import"),
    ("verify.bench.measure", "from verify.report import render", "may not import"),
    ("verify", "from verify.cli import main", "may not import"),
    ("bounds._norms", "import torch", "never imports"),
    ("bounds._norms", "from verify.model import gram", "never imports"),
])
def test_checker_catches_wrong_imports(module, source, expected):
    found = violations(source, module, False)
    assert found and expected in found[0]


@pytest.mark.parametrize("module, source", [
    ("verify.report.render", "from verify.experiment.record import read_json"),
    ("verify.cli.run", "from verify.experiment.gd import run_gd\nfrom bounds import g22_spec"),
    ("verify.model.gram", "from .network import ImplicitNetwork"),
    ("verify", "from verify.model import gram"),
])
def test_checker_accepts_right_imports(module, source):
    assert violations(source, module, False) == []
