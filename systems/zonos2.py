"""ZONOS2 adapter: drives the in-repo clean-room runner in ``zonos2/``.

The runner is the subject of its own issue; until it lands this adapter stops at construction
with a clear message instead of producing anything.
"""

from __future__ import annotations

from typing import Any

from systems.base import SystemUnavailable, TTSSystem


class Zonos2(TTSSystem):
    name = "zonos2"

    def __init__(self, checkpoint: str = "Zyphra/ZONOS2", revision: str | None = None,
                 device: str = "auto", dtype: str = "bfloat16", **options: Any):
        raise SystemUnavailable(
            "zonos2: the in-repo ZONOS2 runner (zonos2/) is not implemented yet, so this system "
            f"cannot synthesize (requested checkpoint={checkpoint!r}, revision={revision!r}). "
            "Track the 'ZONOS2 reference runner' issue; no output is produced in its place."
        )
