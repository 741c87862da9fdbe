"""``ztts1-eval data list|build|verify``: build a benchmark's manifest from its public source
with the protocol in ``conf/data/<name>.yaml`` (any value overridable as ``key=value``), and
re-check built manifests against the audio on disk."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ztts1_eval.core.locations import conf_dir


def protocol_config(name: str, overrides: list[str]) -> dict[str, Any]:
    from omegaconf import OmegaConf

    from ztts1_eval.data.common import DataError

    path = conf_dir() / "data" / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in (conf_dir() / "data").glob("*.yaml"))
        raise DataError(f"unknown data set {name!r} (known: {', '.join(known)})")
    bad = [o for o in overrides if "=" not in o]
    if bad:
        raise DataError(f"overrides must be key=value, got {bad}")
    config = OmegaConf.load(path)
    for override in overrides:  # a value given here replaces the default (a dict is not merged into it)
        key = override.split("=", 1)[0]
        OmegaConf.update(config, key, OmegaConf.select(OmegaConf.from_dotlist([override]), key), merge=False)
    container = OmegaConf.to_container(config, resolve=True)
    missing = [key for key, value in container.items() if value == "???"]
    if missing:
        raise DataError(f"{name}: set {', '.join(f'{k}=...' for k in missing)} (see {path})")
    return container


def build(name: str, overrides: list[str], out: Path | None, progress: bool = True) -> tuple[Path, dict[str, Any]]:
    from ztts1_eval.data import BUILDERS, common
    from ztts1_eval.core.registry import resolve

    config = protocol_config(name, overrides)
    builder = resolve(BUILDERS, config["builder"], "data builder", group="data_builders")
    built = builder(config, progress=progress)
    target = out or built.data_root / f"{name}.jsonl"
    header = common.write(built, target, name, progress)
    return target, header


def main(argv: list[str]) -> None:
    from ztts1_eval.data.common import DataError

    parser = argparse.ArgumentParser(prog="ztts1-eval data", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the data sets this toolkit builds")
    b = sub.add_parser("build", help="build a manifest: ztts1-eval data build NAME key=value ...")
    b.add_argument("name")
    b.add_argument("overrides", nargs="*", help="protocol overrides, e.g. data_root=/data source=/mnt/fleurs-r")
    b.add_argument("--out", type=Path, help="manifest path (default <data_root>/<name>.jsonl)")
    v = sub.add_parser("verify", help="re-check a built manifest's audio files against its checksums")
    v.add_argument("manifest", type=Path)
    v.add_argument("--data-root", type=Path, help="default: the manifest's folder")
    v.add_argument("--speech", action="store_true",
                   help="also list files in which Silero VAD finds no speech (their items fail at evaluation)")
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            from omegaconf import OmegaConf

            for path in sorted((conf_dir() / "data").glob("*.yaml")):
                print(f"{path.stem:12s} {OmegaConf.load(path).get('description', '')}")
        elif args.command == "build":
            target, header = build(args.name, args.overrides, args.out)
            counts = ", ".join(f"{subset}: {sum(langs.values())}" for subset, langs in header["counts"].items())
            print(f"wrote {target}: {header['n_items']} items ({counts})")
            for note in header["notes"]:
                print(f"note: {note}")
        else:
            from ztts1_eval.data.verify import verify

            report = verify(args.manifest, args.data_root or args.manifest.parent, speech=args.speech)
            print(report.summary())
            if not report.ok:
                sys.exit(1)
    except DataError as exc:
        sys.exit(f"error: {exc}")
