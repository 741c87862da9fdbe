"""Does a scorer apply to an item? Decided here and only here, from the scorer's description
(``scores/<scorer>/_scorer.json``), so the scoring stage skips exactly the items that results
show as n/a, with the same reason.
"""

from __future__ import annotations

from typing import Any

from ztts1_eval.pipeline.manifest import Item

# A ground-truth run whose prompt is the target recording itself (ZTTS1 Clean): similarity would
# compare a clip with itself, so it is not computed (tables show "–").
PROMPT_IS_TARGET = "the prompt is the target recording (similarity of a clip to itself)"
GROUND_TRUTH_TYPE = "ground_truth"


def output_is_target(system: dict[str, Any]) -> bool:
    """The system's outputs are the items' own recordings (the ground-truth reference row)."""
    return system.get("type", system.get("name")) == GROUND_TRUTH_TYPE


def not_applicable(meta: dict[str, Any], item: Item, target_output: bool = False) -> str | None:
    """Why the scorer described by ``meta`` gives this item no score, or None when it applies."""
    languages = meta.get("languages")
    if languages is not None and item.language not in languages:
        return meta.get("unsupported_reason") or "not supported by this scorer"
    if meta.get("needs_ground_truth") and not item.gt_wav:
        return "no ground-truth recording to compare with"
    if (target_output and item.gt_wav and item.prompt_wav == item.gt_wav
            and any(m["field"] == "sim" for m in meta.get("metrics", []))):  # speaker similarity to the prompt
        return PROMPT_IS_TARGET
    missing = [key for key in meta.get("needs_meta") or () if key not in item.meta]
    if missing:
        return f"the item's meta has no {', '.join(missing)} (CV3-Eval's emotion leaves carry an emotion label)"
    if meta.get("needs_all_samples") and (meta.get("generations") or 1) < 2:
        return "needs generations >= 2 (set generations=K in the run config)"
    return None
