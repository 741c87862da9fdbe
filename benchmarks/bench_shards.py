"""Wall time of one demo run unsharded and split into 2 shards run in parallel by the Hydra
submitit_local launcher (separate processes), side by side, each on a fresh results directory
and a fresh score cache, through the same command a user types (`make eval ... SHARDS=n`).

    .venv/bin/python benchmarks/bench_shards.py [--system piper] [--shards 2] [--out bench_shards.json]

On a machine with fewer cores than shards the ratio shows the contention, not a speed-up; every
shard also loads its own models (once per shard).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def timed_eval(system: str, shards: int, root: Path) -> float:
    env = {**os.environ, "TQDM_DISABLE": "1"}
    command = ["make", "-s", "eval", f"SYSTEM={system}", f"SHARDS={shards}", f"RESULTS_DIR={root}",
               f"ARGS=cache_dir={root / 'cache'} progress=false"]
    start = time.perf_counter()
    subprocess.run(command, cwd=REPO, env=env, check=True, capture_output=True, text=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--system", default="piper")
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ztts1-bench-shards-") as tmp:
        one = timed_eval(args.system, 1, Path(tmp) / "one")
        many = timed_eval(args.system, args.shards, Path(tmp) / "many")
    report = {"system": args.system, "benchmark": "demo", "scorers": "lite", "cpus": os.cpu_count(),
              "machine": platform.processor() or platform.machine(), "seconds_1_shard": round(one, 1),
              f"seconds_{args.shards}_shards": round(many, 1), "ratio": round(many / one, 3)}
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
