"""Speaker-embedding cost: ReDimNet (paper stack) vs Resemblyzer (lite stack), side by side in one
process on the same real clips, as seconds per second of audio and their ratio.

ReDimNet runs with random weights in the released "M" architecture (the constructor defaults,
4.2 M parameters): the cost does not depend on the weight values, and the real file cannot be
downloaded here.

    .venv/bin/python benchmarks/bench_speaker_sim.py [--device cuda] [--out file.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from ztts1_eval.core import audio
from ztts1_eval.pipeline.benchmark import data_root  # noqa: E402
from ztts1_eval.models.redimnet import ReDimNetEncoder, n_parameters  # noqa: E402

CLIPS = ["en/librispeech_2412-153948-0000.flac", "en/ljspeech_LJ001-0001.flac", "de/fleurs_de_000.ogg",
         "zh/fleurs_cmn_1883.wav", "fr/fleurs_fr_001.ogg", "en/fleurs_en_004.ogg"]


def _time(fn, clips, repeats: int) -> float:
    fn(clips[0])  # warm-up (allocations, lazy kernels)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for clip in clips:
            fn(clip)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/results/speaker_sim.json")
    args = parser.parse_args()
    root = data_root({})
    clips = [audio.resample(audio.read_checked(root / name), 16000).samples for name in CLIPS]
    seconds_of_audio = sum(c.size for c in clips) / 16000

    torch.manual_seed(0)
    redimnet = ReDimNetEncoder().eval().to(args.device)

    def redimnet_embed(samples: np.ndarray) -> None:
        with torch.inference_mode():
            redimnet(torch.from_numpy(samples)[None].to(args.device)).cpu()

    import resemblyzer

    encoder = resemblyzer.VoiceEncoder(device=args.device, verbose=False)

    def resemblyzer_embed(samples: np.ndarray) -> None:
        encoder.embed_utterance(resemblyzer.preprocess_wav(samples, source_sr=16000))

    t_redimnet = _time(redimnet_embed, clips, args.repeats)
    t_resemblyzer = _time(resemblyzer_embed, clips, args.repeats)
    result = {
        "date": time.strftime("%Y-%m-%d"), "device": args.device, "torch": torch.__version__,
        "cpu": platform.processor() or platform.machine(), "threads": torch.get_num_threads(),
        "clips": CLIPS, "audio_seconds": round(seconds_of_audio, 2),
        "redimnet_M_params": n_parameters(redimnet),
        "redimnet_seconds_per_audio_second": t_redimnet / seconds_of_audio,
        "resemblyzer_seconds_per_audio_second": t_resemblyzer / seconds_of_audio,
        "redimnet_over_resemblyzer": t_redimnet / t_resemblyzer,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
