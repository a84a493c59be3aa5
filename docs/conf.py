"""Sphinx configuration of the implicit-verify documentation.

Build (the command CI runs, warnings are errors)::

    python -m sphinx -T -W --keep-going -b html docs docs/_build/html

Sources: MyST markdown (myst-parser); the API reference from the docstrings (autodoc, with
napoleon for their Google-style ``Args:``/``Returns:`` sections); the tutorial is a MyST
notebook (myst-nb) executed at every build, and a cell that raises fails the build.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# the checkout's packages first (an editable install of another checkout must not win), and
# the same for the tutorial's kernel, which inherits the environment
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
os.environ.setdefault("MPLBACKEND", "Agg")

project = "implicit-verify"
author = "implicit-verify developers"
copyright = "implicit-verify developers"


def _version() -> str:
    import tomllib

    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"])


release = version = _version()

extensions = [
    "myst_nb",  # also registers myst-parser for the .md pages
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
]

source_suffix = {".md": "myst-nb"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
html_theme = "alabaster"
html_theme_options = {"page_width": "95%", "sidebar_width": "230px", "body_max_width": "none"}
html_static_path = ["_static"]  # custom.css (alabaster loads it): the tutorial's wide outputs
html_title = f"implicit-verify {release}"

# ---------------------------------------------------------------- MyST
myst_enable_extensions = ["colon_fence", "dollarmath", "deflist"]
myst_heading_anchors = 3

# ---------------------------------------------------------------- tutorial execution
nb_execution_mode = "force"  # run the tutorial at every build: its outputs are never stale
nb_execution_raise_on_error = True  # a failing step fails the build
nb_execution_timeout = 300  # seconds per cell (the slowest, run and report, take ~10 s here)
nb_execution_in_temp = True  # the tutorial's files go to a temporary directory, not docs/
nb_merge_streams = True

# ---------------------------------------------------------------- API reference
autodoc_member_order = "bysource"
autodoc_typehints = "signature"  # types in the signature; napoleon renders the Args: prose
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = True
napoleon_use_rtype = False


# ---------------------------------------------------------------- constants' doc comments
def _doc_comment(name: str, obj: object) -> list[str] | None:
    """The ``#:`` comment of a public constant in the module that defines it: ``bounds``
    re-exports (lazily) names defined in private modules, so autodoc, which reads comments
    of the module it documents, would otherwise show the docstring of the value's type."""
    from sphinx.pycode import ModuleAnalyzer

    short = name.rpartition(".")[2]
    top = name.partition(".")[0]
    for modname, mod in sorted(sys.modules.items()):
        if not (modname == top or modname.startswith(top + ".")) or mod is None:
            continue
        if getattr(mod, short, None) is not obj:
            continue
        try:
            docs = ModuleAnalyzer.for_module(modname).find_attr_docs()
        except Exception:  # a module without source (e.g. compiled): look further
            continue
        if ("", short) in docs:
            return list(docs[("", short)])
    return None


def _constant_docs(app, what, name, obj, options, lines):
    if what != "data":
        return
    doc = _doc_comment(name, obj)
    if doc is None:
        from sphinx.util import logging

        logging.getLogger(__name__).warning(
            "public constant %s has no '#:' doc comment where it is defined", name,
            type="implicit_verify", subtype="constant_doc")
        doc = []
    lines[:] = doc


# ---------------------------------------------------------------- theory notes
THEORY = Path(__file__).resolve().parent / "theory"


def _theory_toctree(app, docname, source):
    """The index lists the theory notes of ``docs/theory/`` when there are any (a toctree
    glob that matches nothing is a warning, and this build treats warnings as errors)."""
    if docname == "index" and any(THEORY.glob("*.md")):
        source[0] += ("\n```{toctree}\n:maxdepth: 1\n:caption: Theory notes\n:glob:\n\n"
                      "theory/*\n```\n")


def setup(app):
    app.connect("autodoc-process-docstring", _constant_docs)
    app.connect("source-read", _theory_toctree)
    return {"parallel_read_safe": True}
