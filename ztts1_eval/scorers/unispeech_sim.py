"""Speaker similarity as Seed-TTS-Eval scores it (``cal_sim.sh`` → UniSpeech
``verification_pair_list_v2.py``): WavLM-Large + ECAPA-TDNN from ``wavlm_large_finetune.pth``,
100 x cosine(output, prompt), averaged over utterances.

Reproduced: the file read at its own rate and brought to 16 kHz by torchaudio's sinc resampler
(``resampler: torchaudio_sinc``, our port), the whole clip in one forward pass in float32, no
trimming (``--wav*_start_sr 0 --wav*_end_sr -1``). Deliberate differences, recorded in the
identity: every model parameter must come from the checkpoint (the official ``strict=False`` load
would keep s3prl's pretrained WavLM for a missing one); an item that cannot be scored is a
recorded failure, where the script drops it from the average silently; ``resampler: soxr`` is an
option. The checkpoint is a torch pickle ``{"model": state_dict, ...}`` published on Google Drive;
its SHA-256 is recorded and can be pinned.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ztts1_eval.core.checksums import tree_sha256
from ztts1_eval.scorers import hub, resampling
from ztts1_eval.core.audio import Audio
from ztts1_eval.scorers.base import Metric, ScorerInfo, ScorerUnavailable
from ztts1_eval.scorers.similarity import EmbeddingSimilarity

DEFAULT_CHECKPOINT = "wavlm_large_finetune.pth"
DOWNLOAD_URL = "https://drive.google.com/file/d/1-aE1NfzpRCLxA4GUxX9ITI3F9LlbtEGP/view"  # seed-tts-eval README
SAMPLE_RATE = 16000
MIN_SAMPLES = 1600  # 0.1 s: shorter clips carry no speaker information worth a number
RESAMPLERS = ("torchaudio_sinc", "soxr")


def fetch_hint(name: str) -> str:
    target = (hub.models_dir() or Path("/models")) / "unispeech" / name
    where = "" if hub.models_dir() else " and set ZTTS1_MODELS_DIR=/models"
    return (f"download {name} where you have network ({DOWNLOAD_URL}, the link in seed-tts-eval's README; e.g. "
            f"`gdown 1-aE1NfzpRCLxA4GUxX9ITI3F9LlbtEGP -O {target}`){where}, or set "
            f"scorers.run.sim.checkpoint=/path/to/{name}")


def resolve_checkpoint(checkpoint: str) -> Path:
    path = Path(checkpoint).expanduser()
    if path.is_file():
        return path
    if "/" in checkpoint:
        raise ScorerUnavailable(f"unispeech_wavlm_ecapa: checkpoint file {checkpoint} does not exist; "
                                f"{fetch_hint(path.name)}")
    local = hub.models_dir() / "unispeech" / checkpoint if hub.models_dir() else None
    if local is not None and local.is_file():
        return local
    looked = f" (looked in {local.parent})" if local is not None else ""
    raise ScorerUnavailable(f"unispeech_wavlm_ecapa: {checkpoint} not found{looked}; {fetch_hint(checkpoint)}")


def load_state(path: Path, trust_pickle: bool) -> Mapping[str, Any]:
    import pickle

    import torch

    try:
        blob = torch.load(path, map_location="cpu", weights_only=not trust_pickle)
    except pickle.UnpicklingError as exc:
        raise ScorerUnavailable(f"unispeech_wavlm_ecapa: {path} holds Python objects besides tensors; if you trust "
                                "the file (the release from seed-tts-eval's link), set "
                                f"scorers.run.sim.trust_pickle=true ({str(exc).splitlines()[0]})") from exc
    except Exception as exc:
        raise ScorerUnavailable(f"unispeech_wavlm_ecapa: cannot read {path} as a torch checkpoint "
                                f"({type(exc).__name__}: {exc}); is it a complete download?") from exc
    if not isinstance(blob, dict) or not isinstance(blob.get("model"), Mapping):
        keys = sorted(blob)[:8] if isinstance(blob, dict) else type(blob).__name__
        raise ScorerUnavailable(f"unispeech_wavlm_ecapa: {path} is not a UniSpeech speaker-verification checkpoint "
                                f"(expected a dict with a 'model' state dict, got {keys})")
    return blob["model"]


class UniSpeechWavLMSimilarity(EmbeddingSimilarity):
    type_name = "unispeech_wavlm_ecapa"

    def __init__(self, checkpoint: str = DEFAULT_CHECKPOINT, sha256: str | None = None,
                 wavlm_config: str | Mapping[str, Any] = "wavlm_large", resampler: str = "torchaudio_sinc",
                 trust_pickle: bool = False, device: str = "auto", batch_size: int = 16):
        try:
            import torch  # noqa: F401
            from transformers import WavLMModel  # noqa: F401
        except ImportError as exc:
            raise ScorerUnavailable(f"unispeech_wavlm_ecapa needs torch and transformers: pip install -e '.[paper]' "
                                    f"({exc})") from exc
        from ztts1_eval.models.unispeech_sv import read_wavlm_config

        resampling.check("unispeech_wavlm_ecapa", resampler, RESAMPLERS)
        self.checkpoint = checkpoint
        self.path = resolve_checkpoint(checkpoint)  # fail fast, before any synthesis
        self.sha256 = tree_sha256(self.path)
        if sha256 and sha256.lower() != self.sha256:
            raise ScorerUnavailable(f"unispeech_wavlm_ecapa: {self.path} has SHA-256 {self.sha256}, the config pins "
                                    f"{sha256}; the file changed or the download is corrupt")
        self.wavlm_config_name = wavlm_config if isinstance(wavlm_config, str) else "inline"
        self.wavlm_cfg = read_wavlm_config(wavlm_config if isinstance(wavlm_config, str) else dict(wavlm_config))
        self.resampler, self.trust_pickle = resampler, trust_pickle
        self.device = hub.resolve_device(device)
        self.batch_size = batch_size  # items per score() call; each utterance still runs alone
        self.info = ScorerInfo(
            needs_text=False, needs_reference_audio=True, kind="utterance", sample_rate=SAMPLE_RATE, languages=None,
            metrics=(Metric("sim", "Spk. sim.", higher_is_better=True, decimals=1, worst=0.0),),
            native_rates=resampling.native_rates(resampler),
        )
        self._model = None
        self._ignored: list[str] = []
        self._prompt_embeddings: dict[str, np.ndarray] = {}

    def identity(self) -> dict[str, Any]:
        notes = ["every parameter from the checkpoint (the official load is strict=False)",
                 "unscorable items recorded as failures (the script drops them)"]
        if self.resampler != "torchaudio_sinc":
            notes.append(f"resampled by {self.resampler} (Seed-TTS-Eval: torchaudio Resample)")
        return {
            "type": self.type_name,
            "model": f"UniSpeech WavLM-Large + ECAPA-TDNN {Path(self.checkpoint).name}",
            "model_sha256": self.sha256,
            "wavlm_config": self.wavlm_config_name,
            "reference": "seed-tts-eval cal_sim.sh (UniSpeech verification_pair_list_v2.py, s3prl wavlm_large)",
            "implementation": "ztts1_eval.models.unispeech_sv (transformers WavLMModel + own ECAPA-TDNN head)",
            "resampler": self.resampler,
            "differences": notes,
            "ignored_checkpoint_keys": len(self._ignored),
            "dtype": "float32",
            "device": self.device.split(":")[0],
            "batching": "one utterance per forward pass (no padding)",
            "sample_rate": SAMPLE_RATE,
        }

    def load(self) -> None:
        from ztts1_eval.models.unispeech_sv import build

        try:
            model, self._ignored = build(load_state(self.path, self.trust_pickle), self.wavlm_cfg)
        except ValueError as exc:
            raise ScorerUnavailable(f"unispeech_wavlm_ecapa: {self.path}: {exc}") from exc
        self._model = model.to(self.device)

    def embed(self, samples: np.ndarray, rate: int) -> np.ndarray:
        import torch

        wav = resampling.resample(np.asarray(samples, dtype=np.float32), rate, SAMPLE_RATE, self.resampler)
        if wav.size < MIN_SAMPLES:
            raise ValueError(f"audio too short for a speaker embedding ({wav.size} samples at 16 kHz < {MIN_SAMPLES})")
        with torch.inference_mode():
            tensor = torch.from_numpy(np.ascontiguousarray(wav, dtype=np.float32))[None].to(self.device)
            return self._model(tensor)[0].float().cpu().numpy()

    def embed_clip(self, clip: Audio) -> np.ndarray:
        return self.embed(clip.samples, clip.sample_rate)
