"""Write the ReDimNet parity fixtures in tests/data/redimnet_official/ with the OFFICIAL code.

Run it outside the project's venv, in an environment that has torch + torchaudio and a checkout
of https://github.com/IDRnD/ReDimNet (the project itself never imports that code):

    python scripts/redimnet_reference.py --official /path/to/ReDimNet --samples ../shared/samples

For a handful of tiny configurations covering every branch the release format can select
(front ends pt/tf/tf_spec, 1D blocks att/conv+att/conv/fc, 2D blocks convnext/resnet+fwSE,
poolings, conv_exp, out_channels, emb_bn, classifier head), it builds ``ReDimNetWrap`` with random
weights (seeded; BatchNorm statistics and mixing weights perturbed so that they matter), saves
``{"model_config", "state_dict"}`` exactly as the release files are laid out, and records the
official embeddings of two real 16 kHz clips. tests/test_redimnet.py loads these files through
the scorer's own code path and must reproduce the embeddings.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

STAGES_A = [(1, 1, 1, [(3, 3)], None), (2, 1, 1, [(3, 3)], 4), (3, 1, 2, [(3, 3)], 4)]
STAGES_B = [(1, 1, 1, [(3, 3)], 4), (2, 2, 1, [(3, 3)], 4)]
CONFIGS = {
    "pt_att_astp": dict(F=12, C=4, block_1d_type="att", block_2d_type="convnext_like", stages_setup=STAGES_A,
                        group_divisor=4, out_channels=None, embed_dim=16, pooling_func="ASTP", feat_type="pt",
                        spec_params=dict(do_spec_aug=False, norm_signal=True, freq_mask_width=(0, 6),
                                         time_mask_width=(0, 8))),
    "tf_convatt_resnet_tstp": dict(F=12, C=4, block_1d_type="conv+att", block_2d_type="basic_resnet_fwse",
                                   stages_setup=STAGES_A, group_divisor=4, out_channels=32, embed_dim=16,
                                   pooling_func="TSTP", feat_type="tf", emb_bn=True, num_classes=7, hop_length=80,
                                   spec_params=dict(norm_signal=True, n_fft=256, win_length=200)),
    "pt_conv_relu_gcastp": dict(F=16, C=4, block_1d_type="conv", block_2d_type="convnext_like_relu",
                                stages_setup=STAGES_B, group_divisor=2, embed_dim=12, pooling_func="ASTP",
                                global_context_att=True, feat_type="pt", spec_params=dict(spec_norm="mvn")),
    "pt_fc_resnet_tap": dict(F=16, C=4, block_1d_type="fc", block_2d_type="basic_resnet", stages_setup=STAGES_B,
                             group_divisor=None, embed_dim=12, pooling_func="TAP", feat_type="pt",
                             spec_params=dict(do_preemph=False)),
    "tfspec_att": dict(F=64, C=2, block_1d_type="att", block_2d_type="convnext_like",
                       stages_setup=[(2, 1, 1, [(3, 3)], 8), (2, 1, 1, [(3, 3)], 8)], group_divisor=1,
                       embed_dim=8, pooling_func="ASTP", feat_type="tf_spec",
                       spec_params=dict(n_fft=256, win_length=200, hop_length=80)),
}
CLIPS = {"librispeech_2412_0000_3s": ("en/librispeech_2412-153948-0000.flac", 48000),
         "aishell_S0724_0121": ("zh/aishell_BAC009S0724W0121.wav", None)}
FRONT_END_BUFFERS = ("flipped_filter", "window", "fb", "real_kernel_pt", "image_kernel_pt", "melbanks_pt")


def perturb(model: torch.nn.Module, seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in list(model.named_parameters()) + list(model.named_buffers()):
            if not tensor.is_floating_point() or name.split(".")[-1] in FRONT_END_BUFFERS:
                continue
            noise = torch.randn(tensor.shape, generator=generator)
            if name.endswith("running_var"):
                tensor.copy_(0.5 + noise.abs())
            else:
                tensor.add_(0.1 * noise)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--official", required=True, type=Path)
    parser.add_argument("--samples", required=True, type=Path)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "tests/data/redimnet_official")
    args = parser.parse_args()
    sys.path.insert(0, str(args.official))
    import torchaudio
    from redimnet.model import ReDimNetWrap  # the official implementation

    args.out.mkdir(parents=True, exist_ok=True)
    clips = {}
    for key, (rel, n) in CLIPS.items():
        samples, rate = sf.read(args.samples / rel, dtype="float32")
        assert rate == 16000 and samples.ndim == 1, (rel, rate, samples.shape)
        clips[key] = samples[:n] if n else samples
    reference = {
        "official_repo": "IDRnD/ReDimNet",
        "official_commit": subprocess.run(["git", "-C", str(args.official), "rev-parse", "HEAD"],
                                          capture_output=True, text=True).stdout.strip() or "see README",
        "torch": torch.__version__, "torchaudio": torchaudio.__version__, "python": platform.python_version(),
        "clips": {k: {"file": v[0], "samples": v[1]} for k, v in CLIPS.items()},
        "embeddings": {},
    }
    for index, (name, config) in enumerate(CONFIGS.items()):
        torch.manual_seed(index)
        model = ReDimNetWrap(**config)
        perturb(model, 1000 + index)
        model.eval()
        torch.save({"model_config": config, "state_dict": model.state_dict()}, args.out / f"{name}.pt")
        with torch.no_grad():
            reference["embeddings"][name] = {
                key: _embedding_before_head(model, torch.from_numpy(wav)[None]).tolist() for key, wav in clips.items()}
    (args.out / "reference.json").write_text(json.dumps(reference, indent=1) + "\n")
    print(f"wrote {len(CONFIGS)} checkpoints and reference.json to {args.out}")


def _embedding_before_head(model, wav):
    """The official forward returns classifier logits when a head exists; take the embedding."""
    head, model.cls_head = model.cls_head, None
    try:
        return model(wav).squeeze(0)
    finally:
        model.cls_head = head


if __name__ == "__main__":
    main()
