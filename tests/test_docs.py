"""The documentation site (docs/, Sphinx + MyST, issue 20 item 8).

Cheap checks, no build: every public name (``__all__`` of ``bounds``, ``bounds.datasets``,
``verify`` and of every subpackage that exports names) is in the API reference sources, each
autodoc directive there names an object that exists, and each "documented elsewhere" line links
a re-export to the very object it is.  Slow checks, when Sphinx and myst-nb are installed (the
``docs`` extra): the site builds with warnings as errors (executing the tutorial), and a
tutorial step that fails makes the build fail.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
API = DOCS / "api"

#: modules whose ``__all__`` the reference documents, besides the discovered subpackages
MODULES = ("bounds", "bounds.datasets", "verify")

_DIRECTIVE = re.compile(r"^\.\. (auto\w+|py:\w+):: ([\w.]+)", re.M)
_ELSEWHERE = re.compile(r"^- `([\w.]+)`: \{py:\w+\}`([\w.]+)`$", re.M)


def _sources() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(API.glob("*.md")))


def _public_modules() -> list[str]:
    """``MODULES`` plus every subpackage of ``bounds``/``verify`` that defines ``__all__``."""
    out = list(MODULES)
    for top in ("bounds", "verify"):
        pkg = importlib.import_module(top)
        for info in pkgutil.iter_modules(pkg.__path__, top + "."):
            if info.ispkg and hasattr(importlib.import_module(info.name), "__all__"):
                out.append(info.name)
    return out


def _resolve(dotted: str) -> object:
    """The object a dotted name denotes: the longest importable module prefix, then
    attributes."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


def test_the_reference_has_a_page_per_public_module():
    pages = {p.stem for p in API.glob("*.md")}
    missing = [m for m in _public_modules() if m not in pages]
    assert not missing, f"add docs/api/<module>.md for {missing}"
    assert {"verify.report", "verify.sweep"} <= set(_public_modules())


def test_every_public_name_is_in_the_api_reference():
    text = _sources()
    missing = []
    for modname in _public_modules():
        for name in importlib.import_module(modname).__all__:
            if not re.search(rf"(?<![\w.]){re.escape(modname)}\.{re.escape(name)}(?!\w)", text):
                missing.append(f"{modname}.{name}")
    assert not missing, ("public names missing from docs/api/*.md (add an autodoc directive, "
                         f"or a 'documented elsewhere' line for a re-export): {missing}")


def test_every_directive_names_an_existing_object():
    found = _DIRECTIVE.findall(_sources())
    assert len(found) > 100  # the reference is the curated list, not one automodule
    for _kind, dotted in found:
        _resolve(dotted)  # AttributeError / ImportError name the stale entry


def test_reexports_link_to_the_same_object_documented_once():
    text = _sources()
    documented = {d for k, d in _DIRECTIVE.findall(text) if k.startswith("auto")}
    links = _ELSEWHERE.findall(text)
    assert len(links) > 20
    for name, target in links:
        assert _resolve(name) is _resolve(target), f"{name} is not {target}"
        assert target in documented, f"{name} links to {target}, which no page documents"


def test_the_tutorial_is_an_executed_notebook_of_the_whole_route():
    text = (DOCS / "tutorial.md").read_text(encoding="utf-8")
    assert text.startswith("---\nfile_format: mystnb\n")
    cells = re.findall(r"```\{code-cell\} python\n(.*?)```", text, flags=re.S)
    commands = " ".join(cells)
    for step in ("bounds --data", "run --data", "report --data", "sweep --data", "sweep --from"):
        assert step in commands, step
    conf = (DOCS / "conf.py").read_text(encoding="utf-8")
    assert 'nb_execution_mode = "force"' in conf and "nb_execution_raise_on_error = True" in conf


def test_the_guides_sweep_script_is_the_readmes_tested_one():
    """The guide's Python sweep block is the README's, which tests/test_readme.py runs as a
    script (so the guide's copy cannot drift into one that crashes)."""
    def sweep_block(text: str) -> str:
        blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
        return next(b for b in blocks if "run_sweep(" in b)

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    guide = (DOCS / "guide.md").read_text(encoding="utf-8")
    assert sweep_block(guide) == sweep_block(readme.split("\n## Library\n", 1)[1])


def _have_sphinx() -> str | None:
    for mod in ("sphinx", "myst_parser", "myst_nb", "ipykernel"):
        if importlib.util.find_spec(mod) is None:
            return f"{mod} is not installed (pip install -e '.[docs]')"
    return None


def _sphinx(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]), "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "sphinx", "-T", "-W", "--keep-going", "-q", "-E",
                           "-b", "html", *args], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=timeout)


@pytest.mark.slow  # ~1.5 min on 2 cores: the tutorial runs bounds, run, report and a sweep
def test_the_site_builds_with_warnings_as_errors(tmp_path):
    why = _have_sphinx()
    if why:
        pytest.skip(why)
    out = tmp_path / "html"
    p = _sphinx([str(DOCS), str(out)], timeout=900)
    assert p.returncode == 0, (p.stdout + p.stderr)[-4000:]
    for page in ("index", "guide", "tutorial", "ARCHITECTURE", "CONTRACTS", "api/bounds",
                 "api/bounds.datasets", "api/verify", "api/verify.report", "api/verify.sweep"):
        assert (out / f"{page}.html").is_file(), page
    tut = (out / "tutorial.html").read_text(encoding="utf-8")
    # the outputs of each step are in the page: the tutorial ran
    assert "Assumption 2: VIOLATED" in tut and "Assumption 2: OK" in tut  # bounds, raw / --normalise
    assert "implicit-verify run: error: --data=" in tut  # the refusal it demonstrates
    assert re.search(r"loss [\d.e+-]+ -&gt; [\d.e+-]+", tut)  # the run, read back by load_run
    assert re.search(r"<li><p><strong>[\w ]+:</strong> ", tut)  # the report's card, rendered
    assert "sweep: 108 cells (108 computed" in tut and "outcome lemma33_init" in tut  # sweep
    assert 'src="_images/' in tut or "data:image/png" in tut  # the report's figure
    api = (out / "api" / "bounds.html").read_text(encoding="utf-8")
    assert 'id="bounds.lambda0"' in api and 'id="bounds.required_width"' in api


@pytest.mark.slow  # ~15 s: one kernel start
def test_a_failing_tutorial_step_fails_the_build(tmp_path):
    why = _have_sphinx()
    if why:
        pytest.skip(why)
    src = tmp_path / "src"
    src.mkdir()
    (src / "index.md").write_text(
        "---\nfile_format: mystnb\nkernelspec:\n  name: python3\n  display_name: Python 3\n"
        "  language: python\n---\n\n# A page whose second step fails\n\n"
        "```{code-cell} python\nx = 1\n```\n\n"
        "```{code-cell} python\nassert x == 2, 'the step failed'\n```\n", encoding="utf-8")
    p = _sphinx(["-c", str(DOCS), str(src), str(tmp_path / "html")], timeout=300)
    assert p.returncode != 0
    assert "the step failed" in p.stdout + p.stderr
