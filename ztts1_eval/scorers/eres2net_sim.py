"""Speaker similarity as CV3-Eval scores it (``scripts/eval_speaker_similarity.py`` with
``--model_id damo/speech_eres2net_sv_en_voxceleb_16k``): 3D-Speaker's ERes2Net, 100 x cosine of
the output's and the prompt's embeddings, averaged over utterances.

Reproduced: the file's first channel, torchaudio's resampler to 16 kHz (our port), Kaldi fbank
with 80 bins and torchaudio's defaults (kaldi-native-fbank), minus its mean over time, the
model (``ERes2Net(feat_dim=80, embedding_size=192)``, ``pretrained_eres2net.ckpt`` of revision
v1.0.2, a plain state dict, strict keys). Differences, recorded: stereo files are averaged by
the pipeline (the script keeps the first channel); an item that fails is recorded (the script
skips it and NaN scores).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ztts1_eval.core.checksums import tree_sha256
from ztts1_eval.scorers import hub, resampling
from ztts1_eval.core.audio import Audio
from ztts1_eval.scorers.base import Metric, ScorerInfo, ScorerUnavailable
from ztts1_eval.scorers.similarity import EmbeddingSimilarity

MODEL_ID = "damo/speech_eres2net_sv_en_voxceleb_16k"
REVISION = "v1.0.2"
CHECKPOINT = "pretrained_eres2net.ckpt"
MODEL_ARGS = {"feat_dim": 80, "embedding_size": 192}  # CV3-Eval's table for this model id
SAMPLE_RATE = 16000
MIN_SAMPLES = 1600


def resolve_checkpoint(checkpoint: str) -> Path:
    path = Path(checkpoint).expanduser()
    if path.is_file():
        return path
    base = hub.models_dir()
    local = base / MODEL_ID.split("/")[-1] / CHECKPOINT if base else None
    if checkpoint == CHECKPOINT and local is not None and local.is_file():
        return local
    target = local or Path("/models") / MODEL_ID.split("/")[-1] / CHECKPOINT
    where = "" if base else " and set ZTTS1_MODELS_DIR=/models"
    raise ScorerUnavailable(
        f"eres2net_sim: {checkpoint} not found{f' (looked in {local.parent})' if local else ''}; fetch it where you "
        f"have network (ModelScope): `modelscope download --model {MODEL_ID} --revision {REVISION} {CHECKPOINT} "
        f"--local_dir {target.parent}`{where}, or set the scorer's checkpoint=/path/to/{CHECKPOINT}")


class ERes2NetSimilarity(EmbeddingSimilarity):
    type_name = "eres2net_sim"

    def __init__(self, checkpoint: str = CHECKPOINT, sha256: str | None = None, model_args: dict | None = None,
                 device: str = "auto", batch_size: int = 16):
        try:
            import kaldi_native_fbank  # noqa: F401
            import torch  # noqa: F401
        except ImportError as exc:
            raise ScorerUnavailable(f"eres2net_sim needs torch and kaldi-native-fbank: pip install -e '.[paper]' "
                                    f"({exc})") from exc
        self.checkpoint = checkpoint
        self.path = resolve_checkpoint(checkpoint)
        self.sha256 = tree_sha256(self.path)
        if sha256 and sha256.lower() != self.sha256:
            raise ScorerUnavailable(f"eres2net_sim: {self.path} has SHA-256 {self.sha256}, the config pins {sha256}")
        self.model_args = dict(model_args or MODEL_ARGS)
        self.device = hub.resolve_device(device)
        self.batch_size = batch_size
        self.info = ScorerInfo(
            needs_text=False, needs_reference_audio=True, kind="utterance", sample_rate=SAMPLE_RATE, languages=None,
            metrics=(Metric("sim", "Spk. sim.", higher_is_better=True, decimals=1, worst=0.0),),
            native_rates=resampling.native_rates("torchaudio_sinc"),
        )
        self._model = None
        self._prompt_embeddings: dict[str, np.ndarray] = {}

    def identity(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "model": f"{MODEL_ID} {Path(self.checkpoint).name}",
            "model_sha256": self.sha256,
            "model_args": self.model_args,
            "reproduces": "CV3-Eval scripts/eval_speaker_similarity.py (3D-Speaker ERes2Net)",
            "implementation": "ztts1_eval.models.eres2net, kaldi-native-fbank, torchaudio resampler port",
            "differences": ["stereo averaged (the script keeps channel 0)", "failures recorded (the script skips)"],
            "dtype": "float32",
            "device": self.device.split(":")[0],
            "sample_rate": SAMPLE_RATE,
        }

    def load(self) -> None:
        import torch

        from ztts1_eval.models.eres2net import ERes2Net

        try:
            state = torch.load(self.path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise ScorerUnavailable(f"eres2net_sim: cannot read {self.path} as a torch state dict "
                                    f"({type(exc).__name__}: {exc})") from exc
        model = ERes2Net(**self.model_args)
        try:
            model.load_state_dict(state, strict=True)
        except (RuntimeError, TypeError, AttributeError) as exc:
            raise ScorerUnavailable(f"eres2net_sim: {self.path} does not fit ERes2Net({self.model_args}): "
                                    f"{str(exc).splitlines()[0]}") from exc
        self._model = model.eval().to(self.device)

    def embed(self, samples: np.ndarray, rate: int) -> np.ndarray:
        import torch

        from ztts1_eval.models.kaldi_fbank import kaldi_fbank

        wav = resampling.resample(np.asarray(samples, dtype=np.float32), rate, SAMPLE_RATE, "torchaudio_sinc")
        if wav.size < MIN_SAMPLES:
            raise ValueError(f"audio too short for a speaker embedding ({wav.size} samples at 16 kHz < {MIN_SAMPLES})")
        feats = kaldi_fbank(wav, SAMPLE_RATE, self.model_args.get("feat_dim", 80))
        feats = feats - feats.mean(axis=0, keepdims=True)
        with torch.inference_mode():
            return self._model(torch.from_numpy(feats)[None].to(self.device))[0].float().cpu().numpy()

    def embed_clip(self, clip: Audio) -> np.ndarray:
        return self.embed(clip.samples, clip.sample_rate)
