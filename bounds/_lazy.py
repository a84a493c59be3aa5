"""Attribute access on first use for the packages' public names (PEP 562), shared by
``bounds``, ``verify`` and ``verify.sweep``: importing a package stays cheap (no torch, scipy,
sympy, pandas or dask) until a name that needs them is used."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["lazy_attributes"]


def lazy_attributes(package: str, lazy: Mapping[str, str], namespace: dict[str, Any],
                    public: Sequence[str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: a name of ``lazy`` (public name → defining
    module) is imported from its module on first access and stored in ``namespace`` (the
    package's globals), so later look-ups skip the hook; any other name is tried as a
    subpackage (``verify.model``, as eager imports used to bind them)."""

    def __getattr__(name: str) -> Any:
        module = lazy.get(name)
        if module is None:
            try:
                return importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{package}.{name}":
                    raise
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        mod = importlib.import_module(module)
        value = (getattr(mod, name) if hasattr(mod, name)
                 else importlib.import_module(f"{module}.{name}"))
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(public))

    return __getattr__, __dir__
