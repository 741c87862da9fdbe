"""ZONOS2 decode speed: the released config with random bf16 weights (no download), decoding a
fixed number of frames with ignore_eos, against a memory-bandwidth roofline measured in the
same run.

    .venv/bin/python benchmarks/zonos2_decode.py                  # CPU: batch 1 and 8
    .venv/bin/python benchmarks/zonos2_decode.py --device cuda    # GPU: batch 1, 8, 64
    .venv/bin/python benchmarks/zonos2_decode.py --tiny           # smoke run on the tiny config

Roofline: a decode step must read every non-embedding weight of the dense spine, the experts
the router actually used in that step, and the KV cache of every sequence. Dividing those bytes
by the measured copy bandwidth (bytes read per second while copying a 1 GiB tensor) gives the
fastest possible step; the ratio measured / roofline says how close plain PyTorch gets."""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from zonos2.config import release_config  # noqa: E402
from zonos2.generation import BatchDecoder, GenerationRequest  # noqa: E402
from zonos2.model import Experts  # noqa: E402
from zonos2.prompt import PromptOptions, build_prompt  # noqa: E402
from zonos2.random_checkpoint import random_model, tiny_config  # noqa: E402
from zonos2.sampler import SamplingParams  # noqa: E402

FRAME_RATE = 44100 / 512  # 86.13 frames per second of audio


def copy_bandwidth(device: str, gib: float = 1.0) -> float:
    """Bytes read per second while copying a large tensor (best of 5)."""
    n = int(gib * (1 << 30)) // 2
    src = torch.empty(n, dtype=torch.bfloat16, device=device).fill_(1.0)
    dst = torch.empty_like(src)
    best = float("inf")
    for _ in range(5):
        _sync(device)
        start = time.perf_counter()
        dst.copy_(src)
        _sync(device)
        best = min(best, time.perf_counter() - start)
    del src, dst
    return n * 2 / best


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def step_bytes(model, lengths: list[int]) -> int:
    """Weights and KV read by the step just run (experts: those the router used)."""
    config = model.config
    total = 0
    for name, param in model.named_parameters():
        if "embedders" in name or ".experts." in name or "speaker_" in name:
            continue
        total += param.numel() * param.element_size()
    for module in model.modules():
        if isinstance(module, Experts):
            per_expert = (module.gate_up_proj[0].numel() + module.down_proj[0].numel()) * module.gate_up_proj.element_size()
            total += module.last_experts_used * per_expert
    kv_per_frame = config.n_layers * 2 * config.n_kv_heads * config.head_dim * next(model.parameters()).element_size()
    return total + kv_per_frame * sum(lengths)


def run_batch(model, batch: int, frames: int, device: str) -> dict:
    config = model.config
    texts = [f"Benchmark sentence number {i}, with some words." for i in range(batch)]
    requests = [GenerationRequest(build_prompt(config, PromptOptions(text=t)),
                                  SamplingParams(seed=i, max_frames=frames + 1, ignore_eos=True))
                for i, t in enumerate(texts)]
    decoder = BatchDecoder(model, requests)
    decoder.step()  # warm-up step (first allocations)
    _sync(device)
    start = time.perf_counter()
    roofline_bytes = 0
    for _ in range(frames - 1):
        decoder.step()
        roofline_bytes += step_bytes(model, decoder.position)
    _sync(device)
    seconds = time.perf_counter() - start
    steps = frames - 1
    return {"batch": batch, "steps": steps, "seconds": seconds, "frames_per_s": batch * steps / seconds,
            "per_stream_frames_per_s": steps / seconds, "rtf_per_stream": FRAME_RATE / (steps / seconds),
            "bytes_per_step": roofline_bytes / steps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--frames", type=int, default=None, help="decode steps per batch (default 32 CPU, 128 GPU)")
    parser.add_argument("--batches", type=int, nargs="+", default=None)
    parser.add_argument("--tiny", action="store_true", help="tiny config (smoke test of the script)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "zonos2_decode.json")
    args = parser.parse_args()
    gpu = args.device.startswith("cuda")
    frames = args.frames or (128 if gpu else 32)
    batches = args.batches or ([1, 8, 64] if gpu else [1, 8])
    config = tiny_config() if args.tiny else release_config()
    torch.set_grad_enabled(False)

    bandwidth = copy_bandwidth(args.device)
    start = time.perf_counter()
    model = random_model(config, torch.bfloat16, args.device)
    build_s = time.perf_counter() - start
    params = sum(p.numel() for p in model.parameters())
    rows = []
    for batch in batches:
        row = run_batch(model, batch, frames, args.device)
        row["roofline_frames_per_s"] = batch / (row["bytes_per_step"] / bandwidth)
        row["fraction_of_roofline"] = row["frames_per_s"] / row["roofline_frames_per_s"]
        rows.append(row)
        print(json.dumps(row), flush=True)
    peak = (torch.cuda.max_memory_allocated() if gpu else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    report = {
        "device": torch.cuda.get_device_name() if gpu else platform.processor() or platform.machine(),
        "torch": torch.__version__, "threads": torch.get_num_threads(), "config": "tiny" if args.tiny else "release 8B",
        "parameters": params, "weights_gb": params * 2 / 1e9, "build_s": build_s,
        "copy_bandwidth_gb_s": bandwidth / 1e9, "peak_memory_gb": peak / 1e9, "runs": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\n{report['config']} on {report['device']} ({report['threads']} threads), {params / 1e9:.3f} B params, "
          f"copy bandwidth {bandwidth / 1e9:.1f} GB/s, peak memory {peak / 1e9:.1f} GB")
    print("| batch | frames/s (all streams) | per stream | RTF per stream | roofline frames/s | of roofline |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['batch']} | {r['frames_per_s']:.2f} | {r['per_stream_frames_per_s']:.2f} | {r['rtf_per_stream']:.2f} "
              f"| {r['roofline_frames_per_s']:.2f} | {100 * r['fraction_of_roofline']:.0f} % |")


if __name__ == "__main__":
    main()
