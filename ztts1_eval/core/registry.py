"""One registry mechanism for systems, scorers and data builders: an explicit dict of
``"name" -> "module:attr"`` (imported lazily, so heavy dependencies load only when the named
entry is used), extended by installed packages through entry points.

A third-party package adds a system without editing this repository by declaring, in its own
``pyproject.toml``::

    [project.entry-points."ztts1_eval.systems"]
    my_tts = "my_package.tts:MyTTS"

Groups: ``ztts1_eval.systems``, ``ztts1_eval.scorers``, ``ztts1_eval.data_builders``,
``ztts1_eval.benchmark_builders``. A name in the explicit dict wins over an entry point. A name
written as ``"module:attr"`` (e.g. ``type: my_package.tts:MyTTS`` in a config) is imported as it
is, so a class of one's own needs only its file and its config.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

GROUP_PREFIX = "ztts1_eval."


class RegistryError(KeyError):
    def __str__(self) -> str:  # KeyError quotes its message; we want it readable
        return str(self.args[0])


def plugins(group: str) -> dict[str, str]:
    """Installed entry points of ``ztts1_eval.<group>``: ``name -> "module:attr"``."""
    return {ep.name: ep.value for ep in entry_points(group=GROUP_PREFIX + group)}


def known(registry: dict[str, str], group: str | None) -> dict[str, str]:
    return {**(plugins(group) if group else {}), **registry}


def resolve(registry: dict[str, str], name: str, kind: str, group: str | None = None) -> Any:
    """The object registered as ``name``; ``group`` also searches installed entry points."""
    entries = registry if name in registry or not group else known(registry, group)
    if name not in entries and ":" in name:  # an explicit "module:attr"
        entries = {name: name}
    if name not in entries:
        raise RegistryError(f"unknown {kind} {name!r}; known {kind}s: {', '.join(sorted(known(registry, group)))}")
    module_name, _, attr = entries[name].partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr)
