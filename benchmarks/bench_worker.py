"""Cost of running an open model in a worker process: per-item time through
:class:`systems.worker_system.WorkerSystem` (JSON lines, a float32 WAV handed over on disk)
against calling the same engine in-process, side by side on the tiny VoxCPM2 checkpoint the
tests use (so the model's own compute is small and the overhead shows; on real weights it is a
far smaller share).

    .venv/bin/python benchmarks/bench_worker.py [--items 20] [--out benchmarks/results/bench_worker.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORKER_PYTHON = REPO / ".venv-workers" / "bin" / "python"
PROMPT = "en/ljspeech_LJ001-0001.flac"
PROMPT_TEXT = ("Printing, in the only sense with which we are at present concerned, differs from most if not "
               "from all the arts and crafts represented in the Exhibition")
TEXT = "Hello, this is a small benchmark sentence."
GENERATION = {"inference_timesteps": 4, "max_len": 8}

IN_PROCESS = r'''
import json, sys, time
sys.path.insert(0, sys.argv[1])
from systems.workers.voxcpm2 import VoxCPM2Engine
engine = VoxCPM2Engine({"model": sys.argv[2], "threads": 1, "generation": json.loads(sys.argv[3]), "checksums": False})
request = {"text": sys.argv[4], "language": "en", "prompt_wav": sys.argv[5], "prompt_text": sys.argv[6]}
times = []
for i in range(int(sys.argv[7]) + 1):
    start = time.perf_counter()
    engine.synthesize({**request, "item_id": str(i), "seed": i})
    times.append(time.perf_counter() - start)
print(json.dumps(times[1:]))
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "bench_worker.json")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from systems import registry
    from systems.base import SynthesisRequest
    from ztts1_eval.pipeline.benchmark import data_root

    prompt = data_root({}) / PROMPT
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "VoxCPM2"
        subprocess.run([str(WORKER_PYTHON), str(REPO / "tests" / "tiny_voxcpm2.py"), str(model)], check=True,
                       capture_output=True)
        # one warm-up item each, then --items timed items, same seeds
        in_process = json.loads(subprocess.run(
            [str(WORKER_PYTHON), "-c", IN_PROCESS, str(REPO), str(model), json.dumps(GENERATION), TEXT, str(prompt),
             PROMPT_TEXT, str(args.items)], check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
        system = registry.create("voxcpm2", {"model": str(model), "python": str(WORKER_PYTHON), "threads": 1,
                                             "generation": GENERATION, "checksums": False})
        worker = []
        try:
            for i in range(args.items + 1):
                start = time.perf_counter()
                result = system.synthesize_one(SynthesisRequest(str(i), TEXT, "en", prompt, PROMPT_TEXT, i))
                assert result.status == "ok", result.error
                worker.append(time.perf_counter() - start)
        finally:
            system.close()
    worker = worker[1:]
    report = {
        "benchmark": "bench_worker", "model": "tiny VoxCPM2 (tests/tiny_voxcpm2.py)", "items": args.items,
        "generation": GENERATION, "host": platform.node(), "cpu_count": __import__("os").cpu_count(),
        "in_process_median_s": statistics.median(in_process), "worker_median_s": statistics.median(worker),
        "overhead_median_ms": 1000 * (statistics.median(worker) - statistics.median(in_process)),
        "ratio_worker_over_in_process": statistics.median(worker) / statistics.median(in_process),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
