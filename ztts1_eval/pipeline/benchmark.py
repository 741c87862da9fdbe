"""Turn a benchmark config into a validated manifest and the selected items."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ztts1_eval.core.checksums import json_sha256
from ztts1_eval.core import layout
from ztts1_eval.pipeline import manifest as manifest_mod
from ztts1_eval.data import BENCHMARK_BUILDERS
from ztts1_eval.core.errors import ConfigError
from ztts1_eval.core.provenance import REPO_ROOT
from ztts1_eval.core.registry import resolve

DATA_ROOT_ENV = "ZTTS1_DATA_ROOT"


def data_root(config: dict[str, Any]) -> Path:
    """Config value, else $ZTTS1_DATA_ROOT, else the shared samples beside the checkout."""
    root = config.get("data_root") or os.environ.get(DATA_ROOT_ENV) or REPO_ROOT.parent / "shared" / "samples"
    return Path(root).expanduser().resolve()


def load(config: dict[str, Any], results_dir: Path) -> tuple[manifest_mod.Manifest, list[manifest_mod.Item]]:
    """Return the whole manifest and the items selected by the config's filters."""
    root = data_root(config)
    if config.get("manifest"):
        path = Path(config["manifest"]).expanduser()
        if not path.is_file() and config.get("prepare"):
            raise manifest_mod.ManifestError(f"benchmark {config.get('name')}: manifest {path} not found; "
                                             f"build it with `{config['prepare']}` (or set benchmark.data_root)")
    else:
        builder_name = config.get("builder")
        if not builder_name:
            raise ConfigError(f"benchmark {config.get('name')!r}: set either 'manifest' (a JSONL path) or 'builder'")
        builder = resolve(BENCHMARK_BUILDERS, builder_name, "benchmark builder", group="benchmark_builders")
        if not root.is_dir():
            raise manifest_mod.ManifestError(
                f"data root {root} does not exist: set benchmark.data_root=... or {DATA_ROOT_ENV}")
        path = Path(results_dir) / config["name"] / layout.MANIFEST_FILE
        manifest_mod.write(path, builder(root, config))
    manifest = manifest_mod.load(path, root, max_text_chars=int(config.get("max_text_chars")
                                                                 or manifest_mod.DEFAULT_MAX_TEXT_CHARS),
                                 follow_symlinks=bool(config.get("follow_symlinks", False)))
    return manifest, select(manifest.items, config)


def select(items: list[manifest_mod.Item], config: dict[str, Any]) -> list[manifest_mod.Item]:
    chosen = sorted(items, key=lambda item: item.id)
    if config.get("languages"):
        wanted = set(config["languages"])
        chosen = [item for item in chosen if item.language in wanted]
    if config.get("subsets"):
        wanted = set(config["subsets"])
        chosen = [item for item in chosen if item.subset in wanted]
    if config.get("ids"):
        wanted = set(config["ids"])
        unknown = wanted - {item.id for item in items}
        if unknown:
            raise ConfigError(f"benchmark.ids names items not in the manifest: {sorted(unknown)}")
        chosen = [item for item in chosen if item.id in wanted]
    if config.get("max_items"):
        chosen = chosen[: int(config["max_items"])]
    if not chosen:
        raise ConfigError("the benchmark filters (languages/subsets/ids/max_items) select no items")
    return chosen


def items_digest(items: list[manifest_mod.Item]) -> str:
    return json_sha256([item.to_json() for item in items], ensure_ascii=False)
