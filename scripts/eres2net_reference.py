"""Write tests/data/eres2net_official/reference.json with the OFFICIAL 3D-Speaker code.

Run it outside the project's venv, in an environment with torch + torchaudio and a checkout of
https://github.com/modelscope/3D-Speaker (the ``speakerlab`` code CV3-Eval's similarity script
imports):

    python scripts/eres2net_reference.py --speakerlab /path/3D-Speaker --samples ../shared/samples

It builds speakerlab's ERes2Net in tiny sizes (both block kinds, both embedding heads), records
its state-dict keys, loads the seeded values of tests/seeded_weights.py with strict keys (as
CV3-Eval's script loads ``pretrained_eres2net.ckpt``), and records the embeddings of real clips as
that script computes them: torchaudio.load, first channel, torchaudio resample to 16 kHz,
speakerlab's ``FBank(80, sample_rate=16000, mean_nor=True)``, the model. (torchaudio 2.9's load
needs torchcodec and ffmpeg; soundfile decodes the same float samples, so it reads the files here.)
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path

import soundfile as sf
import torch
import torchaudio

PROJECT = Path(__file__).resolve().parents[1]
CLIPS = {"aishell_16k": "zh/aishell_BAC009S0724W0121.wav", "ljspeech_22k": "en/ljspeech_LJ001-0004.flac",
         "jfk_44k_stereo": "en/jfk_inaugural_1961.flac"}
CONFIGS = {
    "one_emb_layer": {"num_blocks": [1, 2, 1, 1], "m_channels": 4, "feat_dim": 80, "embedding_size": 12},
    "two_emb_layers": {"num_blocks": [1, 1, 2, 1], "m_channels": 4, "feat_dim": 80, "embedding_size": 10,
                       "two_emb_layer": True},
}
SEED = {"one_emb_layer": 31, "two_emb_layers": 32}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--speakerlab", type=Path, required=True, help="a 3D-Speaker checkout (or exported tree)")
    parser.add_argument("--commit", help="the checkout's commit, when it is an exported tree")
    parser.add_argument("--samples", type=Path, default=PROJECT.parent / "shared/samples")
    parser.add_argument("--out", type=Path, default=PROJECT / "tests/data/eres2net_official/reference.json")
    args = parser.parse_args()
    sys.path[:0] = [str(args.speakerlab), str(PROJECT / "tests")]
    from seeded_weights import values
    from speakerlab.models.eres2net.ERes2Net import ERes2Net
    from speakerlab.process.processor import FBank

    feature = FBank(80, sample_rate=16000, mean_nor=True)
    result = {"clips": CLIPS, "models": {}}
    for name, config in CONFIGS.items():
        model = ERes2Net(**config)
        spec = [(k, list(t.shape), str(t.dtype).replace("torch.", "")) for k, t in model.state_dict().items()]
        model.load_state_dict({k: torch.from_numpy(v) for k, v in values(spec, SEED[name]).items()}, strict=True)
        model.eval()
        embeddings = {}
        for clip, rel in CLIPS.items():
            data, rate = sf.read(str(args.samples / rel), dtype="float32", always_2d=True)
            wav = torch.from_numpy(data[:, 0].copy())
            if rate != 16000:
                wav = torchaudio.functional.resample(wav, rate, 16000)
            with torch.no_grad():
                embeddings[clip] = model(feature(wav).unsqueeze(0))[0].tolist()
        result["models"][name] = {"config": config, "seed": SEED[name], "spec": spec, "embeddings": embeddings}
    commit = args.commit or subprocess.run(["git", "-C", str(args.speakerlab), "rev-parse", "HEAD"],
                                           capture_output=True, text=True).stdout.strip() or None
    result["provenance"] = {"speakerlab_commit": commit, "torch": torch.__version__,
                            "torchaudio": torchaudio.__version__, "python": platform.python_version(),
                            "script": "scripts/eres2net_reference.py"}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
