"""Seconds per item per stage on the demo benchmark, and the cached re-run as a ratio of the
first run, measured side by side in one process on a fresh results directory.

    make bench                     # all default systems
    .venv/bin/python benchmarks/bench_demo.py --systems flite piper --out bench.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from hydra import compose, initialize_config_dir  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402

from ztts1_eval.pipeline import runner


def _config(system: str, results_dir: Path, extra: list[str]) -> dict:
    with initialize_config_dir(version_base="1.3", config_dir=str(REPO / "conf")):
        cfg = compose(config_name="config", overrides=[f"system={system}", f"results_dir={results_dir}",
                                                       "progress=false", *extra])
    return OmegaConf.to_container(cfg, resolve=True)


def _per_item(seconds: float, n: int) -> float | None:
    return seconds / n if n else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--systems", nargs="+", default=["ground_truth", "flite", "espeak", "piper"])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "bench_demo.json")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. benchmark.languages=[en]")
    args = parser.parse_args()
    os.environ.setdefault("TQDM_DISABLE", "1")

    rows = []
    with tempfile.TemporaryDirectory(prefix="ztts1-bench-") as tmp:
        for system in args.systems:
            config = _config(system, Path(tmp), args.overrides)
            start = time.perf_counter()
            first = runner.run(config)
            first_s = time.perf_counter() - start
            start = time.perf_counter()
            again = runner.run(config)
            rerun_s = time.perf_counter() - start
            assert all(c.computed == 0 for c in again.scoring.values()), "re-run recomputed scores"
            row = {
                "system": system,
                "items": first.n_items,
                "synthesized": first.generation["generated"],
                "synthesis_s_per_item": _per_item(first.generation_seconds, first.generation["generated"]),
                "scorers": {name: {"computed": c.computed, "s_per_item": _per_item(c.seconds, c.computed)}
                            for name, c in first.scoring.items()},
                "first_run_s": first_s,
                "cached_rerun_s": rerun_s,
                "rerun_ratio": rerun_s / first_s,
            }
            rows.append(row)
            print(json.dumps(row), flush=True)

    report = {"host": {"cpu_count": os.cpu_count(), "platform": platform.platform()}, "runs": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    scorer_names = list(rows[0]["scorers"])
    fmt = lambda v: "–" if v is None else f"{v:.3f}"  # noqa: E731
    print("\n| system | items | synthesis s/item | " + " | ".join(f"{n} s/item" for n in scorer_names)
          + " | first run s | cached re-run s | re-run / first |")
    print("|---|---:|---:|" + "---:|" * len(scorer_names) + "---:|---:|---:|")
    for r in rows:
        print(f"| {r['system']} | {r['items']} | {fmt(r['synthesis_s_per_item'])} | "
              + " | ".join(fmt(r["scorers"][n]["s_per_item"]) for n in scorer_names)
              + f" | {r['first_run_s']:.1f} | {r['cached_rerun_s']:.2f} | {r['rerun_ratio']:.3f} |")


if __name__ == "__main__":
    main()
