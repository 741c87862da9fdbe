"""Write tests/data/paraformer_official/reference.json with the OFFICIAL FunASR package.

Run it outside the project's venv, in an environment with ``funasr`` (and so torch + torchaudio):

    pip install funasr torch==2.9.1 torchaudio==2.9.1
    python scripts/paraformer_reference.py --samples ../shared/samples

It instantiates FunASR's SeacoParaformer (the model behind ``AutoModel(model="paraformer-zh")``)
from the tiny config of tests/tiny_paraformer.py, records its state-dict keys, writes a model
directory in the real layout with the seeded values of tests/seeded_weights.py, and records, for
real clips: what ``AutoModel(model=dir).generate(input=path, batch_size_s=300)`` returns (the call
seed-tts-eval's run_wer.py makes), torchaudio's Kaldi fbank, the LFR+CMVN features, the encoder
output, the predictor's alphas and token count, and the decoder's log-probabilities, each taken
from the official modules on the official features.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
from pathlib import Path

import torch
import torchaudio

PROJECT = Path(__file__).resolve().parents[1]
CLIPS = {"aishell_16k": "zh/aishell_BAC009S0724W0121.wav", "ljspeech_22k": "en/ljspeech_LJ001-0004.flac",
         "librispeech_16k": "en/librispeech_2412-153948-0000.flac"}
SEED = 21
# Token sequences through FunASR's sentence_postprocess, with and without timestamps.
POSTPROCESS = [["我", "们", "好"], ["hel@@", "lo", "wor@@", "ld"], ["我", "hel@@", "lo", "你", "ok", "好"],
               ["a", "b", "c", "的"], ["<s>", "我", "<unk>", "</s>"], ["it's", "ok"], ["1", "2", "x", "y", "中"],
               ["你", "tts", "a", "b", "好", "c"], ["wor@@", "的@@", "中"], ["@@"], []]


def rounded(tensor: torch.Tensor) -> list:
    return [[float(v) for v in row] for row in tensor.reshape(tensor.shape[0], -1).tolist()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=Path, default=PROJECT.parent / "shared/samples")
    parser.add_argument("--out", type=Path, default=PROJECT / "tests/data/paraformer_official/reference.json")
    args = parser.parse_args()
    sys.path.insert(0, str(PROJECT / "tests"))
    import funasr
    import torchaudio.compliance.kaldi as kaldi
    from funasr import AutoModel
    from funasr.register import tables
    from funasr.utils.load_utils import extract_fbank, load_audio_text_image_video

    import tiny_paraformer as tiny

    # The model class exactly as AutoModel.build_model instantiates it, for its key list.
    front = tiny.CONFIG["frontend_conf"]
    model_class = tables.model_classes.get(tiny.CONFIG["model"])
    kwargs = {**tiny.CONFIG["model_conf"], **tiny.CONFIG, "vocab_size": len(tiny.TOKENS),
              "input_size": front["n_mels"] * front["lfr_m"]}
    spec = [(k, list(t.shape), str(t.dtype).replace("torch.", "")) for k, t in model_class(**kwargs).state_dict().items()]
    result = {"config": tiny.CONFIG, "tokens": tiny.TOKENS, "seed": SEED, "spec": spec, "clips": {}}
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = tiny.write_model_dir(Path(tmp) / "paraformer-zh", spec, SEED)
        auto = AutoModel(model=str(model_dir), device="cpu", disable_update=True, disable_pbar=True)
        model, frontend = auto.model.eval(), auto.kwargs["frontend"]
        for name, rel in CLIPS.items():
            path = str(args.samples / rel)
            text = auto.generate(input=path, batch_size_s=300)[0]["text"]
            wav = load_audio_text_image_video(path, fs=16000)
            fbank = kaldi.fbank((wav * (1 << 15))[None], num_mel_bins=80, frame_length=25, frame_shift=10,
                                dither=0.0, energy_floor=0.0, window_type="hamming", sample_frequency=16000)
            feats, lengths = extract_fbank([wav], frontend=frontend)
            with torch.no_grad():
                encoder_out, encoder_lens = model.encode(feats, lengths)
                embeds, token_num, alphas, _ = model.calc_predictor(encoder_out, encoder_lens)
                token_num = token_num.round().long()
                decoder_out, _, _ = model.decoder(encoder_out, encoder_lens, embeds, token_num,
                                                  return_hidden=True, return_both=True)
                scores = torch.log_softmax(decoder_out, dim=-1)[0, : int(token_num[0])]
            result["clips"][name] = {
                "file": rel, "text": text, "samples_16k": int(wav.shape[0]),
                "fbank_shape": list(fbank.shape), "fbank_rows": rounded(fbank[[0, 1, fbank.shape[0] // 2, -1]]),
                "feats_shape": list(feats.shape[1:]), "feats_rows": rounded(feats[0, [0, 1, feats.shape[1] // 2, -1]]),
                "encoder_out": rounded(encoder_out[0]), "alphas": alphas[0].tolist(),
                "token_num": int(token_num[0]), "scores": rounded(scores),
            }
    from funasr.utils.postprocess_utils import sentence_postprocess

    result["postprocess"] = [
        {"tokens": tokens, "with_timestamps": sentence_postprocess(tokens, [[10 * i, 10 * i + 5] for i in range(len(tokens))])[0],
         "without": sentence_postprocess(tokens)[0]} for tokens in POSTPROCESS]
    result["provenance"] = {"funasr": funasr.__version__, "torch": torch.__version__,
                            "torchaudio": torchaudio.__version__, "python": platform.python_version(),
                            "script": "scripts/paraformer_reference.py"}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}: " + "; ".join(f"{k}: {v['text']!r}" for k, v in result["clips"].items()))


if __name__ == "__main__":
    main()
