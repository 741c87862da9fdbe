"""Write tests/data/emotion2vec_official/reference.json with the OFFICIAL FunASR package.

Run it outside the project's venv, in an environment with ``funasr`` (torch + torchaudio):

    python scripts/emotion2vec_reference.py --samples ../shared/samples

It instantiates FunASR's Emotion2vec from the tiny config of tests/tiny_emotion2vec.py (the
structure of emotion2vec_plus_large's), records its state-dict keys, writes a model directory in
FunASR's layout with the seeded values of tests/seeded_weights.py, and records for real clips
what CV3-Eval's scripts/eval_emotation.py gets: ``librosa.load(path, sr=16000)`` handed to the
model (here ``AutoModel(model=dir).generate(..., granularity="utterance", extract_embedding=False)``;
CV3-Eval calls it through modelscope's emotion_recognition pipeline, which runs the same FunASR
model), the label scores, plus the frame features.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
from pathlib import Path

import librosa
import torch

PROJECT = Path(__file__).resolve().parents[1]
CLIPS = {"aishell_16k": "zh/aishell_BAC009S0724W0121.wav", "ljspeech_22k": "en/ljspeech_LJ001-0004.flac",
         "librispeech_16k": "en/librispeech_2412-153948-0000.flac"}
SEED = 41


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=Path, default=PROJECT.parent / "shared/samples")
    parser.add_argument("--out", type=Path, default=PROJECT / "tests/data/emotion2vec_official/reference.json")
    args = parser.parse_args()
    sys.path.insert(0, str(PROJECT / "tests"))
    import funasr
    from funasr import AutoModel
    from funasr.register import tables

    import tiny_emotion2vec as tiny

    model_class = tables.model_classes.get("Emotion2vec")
    spec = [(k, list(t.shape), str(t.dtype).replace("torch.", ""))
            for k, t in model_class(model_conf=tiny.MODEL_CONF, vocab_size=len(tiny.LABELS)).state_dict().items()]
    result = {"labels": tiny.LABELS, "model_conf": tiny.MODEL_CONF, "seed": SEED, "spec": spec, "clips": {}}
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = tiny.write_model_dir(Path(tmp) / "emotion2vec", spec, SEED)
        auto = AutoModel(model=str(model_dir), device="cpu", disable_update=True, disable_pbar=True)
        for name, rel in CLIPS.items():
            y, _ = librosa.load(str(args.samples / rel), sr=16000)
            out = auto.generate(y, granularity="utterance", extract_embedding=False)[0]
            wav = torch.from_numpy(y)
            with torch.no_grad():
                feats = auto.model.extract_features(torch.nn.functional.layer_norm(wav, wav.shape).view(1, -1),
                                                    padding_mask=None)["x"][0]
            result["clips"][name] = {"file": rel, "samples_16k": int(len(y)), "labels": out["labels"],
                                     "scores": [float(s) for s in out["scores"]],
                                     "features_rows": feats[[0, 1, feats.shape[0] // 2, -1]].tolist(),
                                     "frames": int(feats.shape[0])}
    result["provenance"] = {"funasr": funasr.__version__, "torch": torch.__version__, "librosa": librosa.__version__,
                            "python": platform.python_version(), "script": "scripts/emotion2vec_reference.py"}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
