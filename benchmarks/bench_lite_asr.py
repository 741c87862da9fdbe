"""The lite stack's ASR (PocketSphinx) in this process against its worker processes, side by side
in one run on the English demo clips: seconds per batch and their ratio, with the hypotheses
checked equal.

    .venv/bin/python benchmarks/bench_lite_asr.py [--workers N] [--out file.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ztts1_eval.core import audio  # noqa: E402
from ztts1_eval.pipeline.benchmark import data_root  # noqa: E402
from ztts1_eval.scorers import registry  # noqa: E402
from ztts1_eval.scorers.base import ScoreInput  # noqa: E402


def _seconds(scorer, batch: list[ScoreInput]) -> tuple[float, list[str]]:
    start = time.perf_counter()
    outputs = scorer.score(batch)
    return time.perf_counter() - start, [out.values["asr_hypothesis"] for out in outputs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/results/lite_asr.json")
    args = parser.parse_args()
    clips = sorted((data_root({}) / "en").glob("*.*"))
    batch = [ScoreInput(path.stem, "en", audio.resample(audio.read_checked(path), 16000), text="x")
             for path in clips if path.suffix in {".wav", ".flac", ".ogg"}]
    speech_s = sum(item.audio.duration_s for item in batch)
    scorers = {1: registry.create("pocketsphinx_wer", {"workers": 1}),
               args.workers: registry.create("pocketsphinx_wer", {"workers": args.workers})}
    rows, hypotheses = [], {}
    for workers, scorer in scorers.items():
        scorer.load()  # workers start once per run, before the timed calls
        start = time.perf_counter()
        scorer.score(batch[:1])
        warm = time.perf_counter() - start
        seconds, hypotheses[workers] = _seconds(scorer, batch)
        scorer.close()
        rows.append({"workers": workers, "seconds": seconds, "first_call_s": warm,
                     "seconds_per_speech_second": seconds / speech_s})
    assert hypotheses[1] == hypotheses[args.workers], "hypotheses depend on the worker count"
    report = {"cpu": platform.processor() or platform.machine(), "cpus": len(os.sched_getaffinity(0)),
              "clips": len(batch), "speech_s": speech_s, "runs": rows,
              "speedup": rows[0]["seconds"] / rows[-1]["seconds"], "same_hypotheses": True}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
