"""Lazy ``"module:attr"`` imports for the explicit registries (systems, scorers, builders):
heavy dependencies load only when the named entry is used."""

from __future__ import annotations

import importlib
from typing import Any


class RegistryError(KeyError):
    def __str__(self) -> str:  # KeyError quotes its message; we want it readable
        return str(self.args[0])


def resolve(registry: dict[str, str], name: str, kind: str) -> Any:
    if name not in registry:
        raise RegistryError(f"unknown {kind} {name!r}; known {kind}s: {', '.join(sorted(registry))}")
    module_name, _, attr = registry[name].partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr)
