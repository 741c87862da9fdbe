"""ZONOS2 decode speed: the released config with random bf16 weights (no download), decoding a
fixed number of frames with ignore_eos, against a memory-bandwidth roofline measured in the
same run.

    .venv/bin/python benchmarks/zonos2_decode.py                  # CPU: batch 1 and 8, both kernels
    .venv/bin/python benchmarks/zonos2_decode.py --device cuda    # GPU: batch 1, 8, 64
    .venv/bin/python benchmarks/zonos2_decode.py --tiny           # smoke run on the tiny config

Roofline: a decode step must read every non-embedding weight of the dense spine, the experts
the router actually used in that step, and the KV cache of every sequence. Those bytes divided
by the read bandwidth (a plain ``sum()`` over a 1 GiB tensor) give the fastest possible step.
This machine's bandwidth drifts by up to 2x within minutes (other tenants), so the read is
measured right before and after every timed repetition (median of 3 reads each), and each
repetition is compared with its own bandwidth; the median of ``--repeats`` repetitions is
reported, with the copy bandwidth beside it. On a CPU the rate of the kernel alone is measured
the same way (``kernel GB/s``: the decode matrix products over 1 GiB of weights with the
batch's row count), so the gap splits into the kernel's share and the rest of the step. On a CPU the same model runs first with
PyTorch's kernels, then packed for oneDNN (``zonos2.cpu_kernels``), so their ratio is measured
side by side."""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from zonos2.config import release_config  # noqa: E402
from zonos2.cpu_kernels import onednn_supported, pack, pack_for_decode, packed_linear  # noqa: E402
from zonos2.generation import BatchDecoder, GenerationRequest  # noqa: E402
from zonos2.model import Experts  # noqa: E402
from zonos2.prompt import PromptOptions, build_prompt  # noqa: E402
from zonos2.random_checkpoint import random_model, tiny_config  # noqa: E402
from zonos2.sampler import SamplingParams  # noqa: E402

FRAME_RATE = 44100 / 512  # 86.13 frames per second of audio
GIB = 1 << 30
DTYPE, ELEMENT = torch.bfloat16, 2  # the released serving dtype


def _median_of(fn, repeats: int, device: str) -> float:
    times = []
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class ReadBandwidth:
    """Bytes per second of a plain read: ``sum()`` over 1 GiB of bf16 (median of 3)."""

    def __init__(self, device: str):
        self.device = device
        self.src = torch.ones(GIB // 2, dtype=torch.bfloat16, device=device)

    def __call__(self) -> float:
        return GIB / _median_of(self.src.sum, 3, self.device)


class KernelBandwidth:
    """Bytes per second the decode's matrix kernel streams: ``rows`` inputs times 1 GiB of
    [6144, 2048] bf16 matrices (the MoE gate|up shape), with the kernels the model uses."""

    def __init__(self, kernels: str):
        weights = [torch.randn(6144, 2048).to(DTYPE) for _ in range(GIB // (6144 * 2048 * ELEMENT))]
        self.matrices = [pack(w) for w in weights] if kernels == "onednn" else weights
        self.apply = packed_linear if kernels == "onednn" else torch.nn.functional.linear
        self.nbytes = len(weights) * weights[0].numel() * ELEMENT

    def __call__(self, rows: int) -> float:
        x = torch.randn(rows, 2048).to(DTYPE)
        return self.nbytes / _median_of(lambda: [self.apply(x, m) for m in self.matrices], 3, "cpu")


def copy_bandwidth(device: str) -> float:
    """Bytes read per second while copying 1 GiB of bf16 (median of 5)."""
    src = torch.ones(GIB // 2, dtype=torch.bfloat16, device=device)
    dst = torch.empty_like(src)
    return GIB / _median_of(lambda: dst.copy_(src), 5, device)


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def spine_bytes(model) -> int:
    """Weights every step reads: all but the embeddings, the speaker projection and the experts."""
    return sum(p.numel() * p.element_size() for name, p in model.named_parameters()
               if not ("embedders" in name or ".experts." in name or "speaker_" in name))


def step_bytes(model, spine: int, lengths: list[int]) -> int:
    """Weights and KV read by the step just run (experts: those the router used)."""
    config = model.config
    per_expert = 3 * config.dim * config.ffn_dim * ELEMENT
    experts = sum(m.last_experts_used for m in model.modules() if isinstance(m, Experts)) * per_expert
    kv_per_frame = config.n_layers * 2 * config.n_kv_heads * config.head_dim * ELEMENT
    return spine + experts + kv_per_frame * sum(lengths)


def time_batch(model, spine: int, batch: int, frames: int, device: str) -> tuple[float, float]:
    """Seconds and roofline bytes of ``frames - 1`` decode steps after one warm-up step."""
    config = model.config
    texts = [f"Benchmark sentence number {i}, with some words." for i in range(batch)]
    requests = [GenerationRequest(build_prompt(config, PromptOptions(text=t)),
                                  SamplingParams(seed=i, max_frames=frames + 1, ignore_eos=True))
                for i, t in enumerate(texts)]
    decoder = BatchDecoder(model, requests)
    decoder.step()  # warm-up step (first allocations)
    _sync(device)
    seconds, roofline_bytes = 0.0, 0
    for _ in range(frames - 1):
        start = time.perf_counter()
        decoder.step()
        _sync(device)
        seconds += time.perf_counter() - start
        roofline_bytes += step_bytes(model, spine, decoder.position)
    return seconds, roofline_bytes


def run_batch(model, spine: int, batch: int, frames: int, repeats: int, device: str, read: ReadBandwidth,
              kernel: KernelBandwidth | None) -> dict:
    steps, reps = frames - 1, []
    for _ in range(repeats):
        before, kernel_before = read(), kernel(batch) if kernel else None
        seconds, total_bytes = time_batch(model, spine, batch, frames, device)
        bandwidth = (before + read()) / 2
        frames_per_s = batch * steps / seconds
        roofline = batch / (total_bytes / steps / bandwidth)
        rep = {"seconds": seconds, "bytes_per_step": total_bytes / steps, "read_gb_s": bandwidth / 1e9,
               "frames_per_s": frames_per_s, "roofline_frames_per_s": roofline,
               "fraction_of_roofline": frames_per_s / roofline}
        if kernel:
            kernel_rate = (kernel_before + kernel(batch)) / 2
            rep.update(kernel_gb_s=kernel_rate / 1e9, kernel_of_read=kernel_rate / bandwidth,
                       step_gb_s=total_bytes / seconds / 1e9)
        reps.append(rep)
    median = {key: statistics.median(r[key] for r in reps) for key in reps[0]}
    return {"batch": batch, "steps": steps, "repeats": repeats, **median,
            "per_stream_frames_per_s": median["frames_per_s"] / batch,
            "rtf_per_stream": FRAME_RATE / (median["frames_per_s"] / batch), "repetitions": reps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--frames", type=int, default=None, help="decode steps per batch (default 32 CPU, 128 GPU)")
    parser.add_argument("--batches", type=int, nargs="+", default=None)
    parser.add_argument("--repeats", type=int, default=3, help="timed repetitions per batch (median reported)")
    parser.add_argument("--kernels", nargs="+", default=None, choices=["torch", "onednn"],
                        help="CPU kernels to compare, in this order (default: both where oneDNN bf16 exists)")
    parser.add_argument("--tiny", action="store_true", help="tiny config (smoke test of the script)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "zonos2_decode.json")
    args = parser.parse_args()
    gpu = args.device.startswith("cuda")
    frames = args.frames or (128 if gpu else 32)
    batches = args.batches or ([1, 8, 64] if gpu else [1, 8])
    config = tiny_config() if args.tiny else release_config()
    torch.set_grad_enabled(False)

    copy_bw, read = copy_bandwidth(args.device), ReadBandwidth(args.device)
    start = time.perf_counter()
    model = random_model(config, DTYPE, args.device)
    build_s = time.perf_counter() - start
    params = sum(p.numel() for p in model.parameters())
    spine = spine_bytes(model)
    kernels = args.kernels or (["torch", "onednn"] if onednn_supported(DTYPE, args.device) else ["torch"])
    rows = []
    for kernel in kernels:  # torch first: packing for oneDNN replaces the weights in place
        if kernel == "onednn":
            pack_for_decode(model, "onednn")
        kernel_rate = None if gpu else KernelBandwidth(kernel)
        for batch in batches:
            row = {"kernels": kernel,
                   **run_batch(model, spine, batch, frames, args.repeats, args.device, read, kernel_rate)}
            rows.append(row)
            print(json.dumps(row), flush=True)
        del kernel_rate
    peak = (torch.cuda.max_memory_allocated() if gpu else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    report = {
        "device": torch.cuda.get_device_name() if gpu else platform.processor() or platform.machine(),
        "torch": torch.__version__, "threads": torch.get_num_threads(), "config": "tiny" if args.tiny else "release 8B",
        "parameters": params, "weights_gb": params * ELEMENT / 1e9, "build_s": build_s,
        "copy_bandwidth_gb_s": copy_bw / 1e9,
        "peak_memory_gb": peak / 1e9, "runs": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\n{report['config']} on {report['device']} ({report['threads']} threads), {params / 1e9:.3f} B params, "
          f"copy bandwidth {copy_bw / 1e9:.1f} GB/s, peak memory {peak / 1e9:.1f} GB, median of {args.repeats}")
    print("| kernels | batch | frames/s (all streams) | per stream | RTF per stream | read GB/s | kernel GB/s "
          "| step GB/s | roofline frames/s | of roofline |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        kernel_cells = f"{r['kernel_gb_s']:.1f} | {r['step_gb_s']:.1f}" if "kernel_gb_s" in r else "- | -"
        print(f"| {r['kernels']} | {r['batch']} | {r['frames_per_s']:.2f} | {r['per_stream_frames_per_s']:.2f} "
              f"| {r['rtf_per_stream']:.2f} | {r['read_gb_s']:.1f} | {kernel_cells} "
              f"| {r['roofline_frames_per_s']:.2f} | {100 * r['fraction_of_roofline']:.0f} % |")


if __name__ == "__main__":
    main()
