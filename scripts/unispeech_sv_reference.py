"""Write tests/data/unispeech_sv_official/reference.json with the OFFICIAL Seed-TTS-Eval similarity code.

Run it outside the project's venv, in an environment with torch + torchaudio + librosa, given
checkouts of https://github.com/BytedanceSpeech/seed-tts-eval (its thirdparty/UniSpeech
speaker_verification code, the one ``cal_sim.sh`` runs) and https://github.com/s3prl/s3prl (the
WavLM upstream that code loads through ``torch.hub.load('s3prl/s3prl', 'wavlm_large')``):

    python scripts/unispeech_sv_reference.py --seed-tts-eval /path/seed-tts-eval --s3prl /path/s3prl \
        --samples ../shared/samples

For each tiny WavLM layout of tests/tiny_unispeech_sv.py it builds the official ``ECAPA_TDNN``
(feat_type ``wavlm_large``; ``torch.hub.load`` answered with s3prl's ``UpstreamExpert`` on a tiny
local WavLM checkpoint instead of the download), records its state-dict keys, fills them with the
seeded values of tests/tiny_unispeech_sv.py, loads them as ``verification.init_model`` does
(``load_state_dict(ckpt['model'], strict=False)``), and records what ``verification.verification``
returns for real clip pairs, each clip's embedding (same steps: librosa load, torchaudio
``Resample`` to 16 kHz, forward), and slices of torchaudio's resampled audio.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import types
from pathlib import Path

import librosa
import torch
import torchaudio
from torchaudio.transforms import Resample

PROJECT = Path(__file__).resolve().parents[1]
CLIPS = {"ljspeech_0004_22k": "en/ljspeech_LJ001-0004.flac", "ljspeech_0001_22k": "en/ljspeech_LJ001-0001.flac",
         "aishell_16k": "zh/aishell_BAC009S0724W0121.wav", "jfk_44k_stereo": "en/jfk_inaugural_1961.flac"}
PAIRS = [("ljspeech_0004_22k", "ljspeech_0001_22k"), ("ljspeech_0004_22k", "aishell_16k")]
SLICES = [(0, 400), (20000, 20400)]
SEED = {"large_layout": 11, "base_layout": 12}


def git_commit(path: Path) -> str | None:
    try:
        return subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def import_official(seed_tts_eval: Path, s3prl: Path):
    package = types.ModuleType("s3prl")  # the upstream only; s3prl/__init__ imports its whole toolkit
    package.__path__ = [str(s3prl / "s3prl")]
    sys.modules["s3prl"] = package
    from s3prl.upstream.wavlm.expert import UpstreamExpert
    from s3prl.upstream.wavlm.WavLM import WavLM, WavLMConfig

    sys.path.insert(0, str(seed_tts_eval / "thirdparty/UniSpeech/downstreams/speaker_verification"))
    import verification
    from models.ecapa_tdnn import ECAPA_TDNN

    return UpstreamExpert, WavLM, WavLMConfig, ECAPA_TDNN, verification


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed-tts-eval", type=Path, required=True)
    parser.add_argument("--s3prl", type=Path, required=True)
    parser.add_argument("--commits", nargs=2, metavar=("SEED_TTS_EVAL", "S3PRL"),
                        help="the checkouts' commits, when they are exported trees rather than git clones")
    parser.add_argument("--samples", type=Path, default=PROJECT.parent / "shared/samples")
    parser.add_argument("--out", type=Path, default=PROJECT / "tests/data/unispeech_sv_official/reference.json")
    args = parser.parse_args()
    sys.path.insert(0, str(PROJECT / "tests"))
    import tiny_unispeech_sv as tiny

    UpstreamExpert, WavLM, WavLMConfig, ECAPA_TDNN, verification = import_official(args.seed_tts_eval, args.s3prl)
    torch.manual_seed(0)
    result = {"clips": CLIPS, "pairs": PAIRS, "head": tiny.HEAD, "layouts": {}, "resampled": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for layout, cfg in tiny.CONFIGS.items():
            upstream_ckpt = Path(tmp) / f"{layout}_upstream.pt"
            torch.save({"cfg": cfg, "model": WavLM(WavLMConfig(cfg)).state_dict()}, upstream_ckpt)
            hub_calls = []

            def hub_load(repo, name, *_, _ckpt=upstream_ckpt, **__):
                hub_calls.append(f"{repo}:{name}")
                return UpstreamExpert(str(_ckpt))

            torch.hub.load = hub_load
            model = ECAPA_TDNN(feat_dim=cfg["encoder_embed_dim"], channels=tiny.HEAD["channels"],
                               emb_dim=tiny.HEAD["emb_dim"], feat_type="wavlm_large")
            spec = [(key, list(t.shape), str(t.dtype).replace("torch.", "")) for key, t in model.state_dict().items()]
            checkpoint = tiny.write_checkpoint(Path(tmp) / f"{layout}.pth", spec, SEED[layout])
            # verification.init_model, after building the model:
            state_dict = torch.load(checkpoint, map_location=lambda storage, loc: storage)
            report = model.load_state_dict(state_dict["model"], strict=False)
            assert not report.missing_keys and not report.unexpected_keys, report
            model.eval()
            embeddings = {}
            for name, rel in CLIPS.items():
                wav, rate = librosa.load(str(args.samples / rel), sr=None, mono=False)
                if wav.ndim == 2:
                    wav = wav[0, :]  # the script's wav2 path (its wav1 path indexes [:, 0], a bug for stereo)
                tensor = Resample(orig_freq=rate, new_freq=16000)(torch.from_numpy(wav).unsqueeze(0).float())
                with torch.no_grad():
                    embeddings[name] = model(tensor)[0].tolist()
            sims = {}
            for a, b in PAIRS:
                sim, _ = verification.verification("wavlm_large", str(args.samples / CLIPS[a]),
                                                   str(args.samples / CLIPS[b]), use_gpu=False, model=model)
                sims[f"{a}|{b}"] = float(sim[0])
            result["layouts"][layout] = {"cfg": cfg, "seed": SEED[layout], "spec": spec, "hub_calls": hub_calls,
                                         "embeddings": embeddings, "similarity": sims}
    for name, rel in CLIPS.items():
        wav, rate = librosa.load(str(args.samples / rel), sr=None, mono=False)
        wav = wav[0] if wav.ndim == 2 else wav
        out = Resample(orig_freq=rate, new_freq=16000)(torch.from_numpy(wav).unsqueeze(0).float())[0]
        result["resampled"][name] = {"rate": rate, "length": int(out.shape[0]),
                                     "slices": {f"{a}:{b}": out[a:b].tolist() for a, b in SLICES}}
    result["provenance"] = {
        "seed_tts_eval_commit": args.commits[0] if args.commits else git_commit(args.seed_tts_eval),
        "s3prl_commit": args.commits[1] if args.commits else git_commit(args.s3prl),
        "torch": torch.__version__, "torchaudio": torchaudio.__version__, "librosa": librosa.__version__,
        "python": platform.python_version(), "script": "scripts/unispeech_sv_reference.py",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
