"""Command line: ``ztts1-eval eval [hydra overrides]``, ``ztts1-eval report``, ``ztts1-eval finalize``,
``ztts1-eval data list|build|verify`` (benchmark manifests from their public sources).

``eval`` is a Hydra app (``conf/``), so ``--multirun`` sweeps and Hydra launchers (submitit,
Ray) spread systems or shards over machines; ``report`` and ``finalize`` read stored files only.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from ztts1_eval.errors import ConfigError
from ztts1_eval.provenance import REPO_ROOT

CONFIG_DIR = str(REPO_ROOT / "conf")


def _eval(argv: list[str]) -> None:
    import hydra
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import DictConfig, OmegaConf

    from systems.base import SystemUnavailable
    from ztts1_eval import runner
    from ztts1_eval.registry import RegistryError
    from ztts1_eval.scorers.base import ScorerUnavailable

    user_errors = (SystemUnavailable, ScorerUnavailable, ConfigError, RegistryError, FileNotFoundError)

    @hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
    def main(cfg: DictConfig) -> None:
        config = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
        overrides = list(HydraConfig.get().overrides.task)
        try:
            summary = runner.run(config, overrides)
        except user_errors as exc:
            print(f"error: {exc}", file=sys.stderr)
            sys.exit(2)
        if summary.results is not None:
            print((summary.run_dir / "table.md").read_text(encoding="utf-8"))
        print(f"run {summary.run_id}: {summary.run_dir}")

    sys.argv = [sys.argv[0], *argv]
    main()


def _report(argv: list[str]) -> None:
    from ztts1_eval import report

    parser = argparse.ArgumentParser(prog="ztts1-eval report", description="Regenerate tables from stored runs.")
    parser.add_argument("--benchmark", default="demo")
    parser.add_argument("--results-dir", type=Path, default=Path(os.environ.get("ZTTS1_RESULTS_DIR", "results")))
    args = parser.parse_args(argv)
    try:
        markdown, runs = report.report(args.results_dir, args.benchmark)
    except (FileNotFoundError, ConfigError) as exc:
        sys.exit(f"error: {exc}")
    print(markdown)
    print(f"{len(runs)} run(s) -> {args.results_dir / args.benchmark / 'table.md'}")


def _finalize(argv: list[str]) -> None:
    from ztts1_eval import results

    parser = argparse.ArgumentParser(prog="ztts1-eval finalize",
                                     description="Merge a (sharded) run directory into items.parquet and results.json.")
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--force", action="store_true", help="write results even if items are pending")
    args = parser.parse_args(argv)
    try:
        final = results.finalize(args.run_dir, force=args.force)
    except (FileNotFoundError, ConfigError) as exc:
        sys.exit(f"error: {exc}")
    if final is None:
        sys.exit("error: items are still pending (shards running?); pass --force to write partial results")
    print((args.run_dir / "table.md").read_text(encoding="utf-8"))


def _data(argv: list[str]) -> None:
    from ztts1_eval.data.cli import main as data_main

    data_main(argv)


COMMANDS = {"eval": _eval, "report": _report, "finalize": _finalize, "data": _data}


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: ztts1-eval {{{','.join(COMMANDS)}}} [args]  (eval takes Hydra overrides)")
    COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
