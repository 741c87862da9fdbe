"""CER with Paraformer-zh, as Seed-TTS-Eval's ``run_wer.py`` scores Chinese.

Reproduces its Chinese path: FunASR ``AutoModel(model="paraformer-zh")`` (SeACo-Paraformer,
``funasr/paraformer-zh`` on the hub), ``generate(input=wav_path, batch_size_s=300)`` with no VAD,
punctuation or hotword model, ``res[0]["text"]``; the file read at its own rate, channels averaged,
brought to 16 kHz by torchaudio's ``Resample`` (``resampler: torchaudio_sinc``, our port); then
``zhconv`` to zh-cn and ``process_one`` (the ``seedtts_eval`` normalizer). Our code
(``ztts1_eval.models.paraformer``) runs FunASR's modules on the checkpoint's own key names; the
Kaldi fbank comes from kaldi-native-fbank instead of torchaudio (log-mel values agree to ~2e-5
relative on real speech). Each clip is decoded alone, as the script's per-file calls do.
"""

from __future__ import annotations

import json
from importlib.metadata import version
from typing import Any, Sequence

import numpy as np

from ztts1_eval.core.checksums import tree_sha256
from ztts1_eval.scorers import hub, resampling
from ztts1_eval.scorers.base import (Metric, ScoreInput, ScoreOutput, Scorer, ScorerInfo, ScorerUnavailable,
                                     transcript_output)
from ztts1_eval.text import normalize

DEFAULT_MODEL = "funasr/paraformer-zh"
SAMPLE_RATE = 16000
RESAMPLERS = ("torchaudio_sinc", "soxr")
FILES = {"init_param": "model.pt", "config": "config.yaml", "token_list": "tokens.json", "cmvn_file": "am.mvn"}


class ParaformerWER(Scorer):
    type_name = "paraformer_asr"

    def __init__(self, model: str = DEFAULT_MODEL, revision: str | None = None, normalizer: str = "seedtts_eval",
                 resampler: str = "torchaudio_sinc", languages: list[str] | None = None, trust_pickle: bool = False,
                 batch_size: int = 8, device: str = "auto"):
        try:
            import kaldi_native_fbank  # noqa: F401
            import torch  # noqa: F401
            import yaml  # noqa: F401
        except ImportError as exc:
            raise ScorerUnavailable(f"paraformer_asr needs torch, PyYAML and kaldi-native-fbank: "
                                    f"pip install -e '.[paper]' ({exc})") from exc
        resampling.check("paraformer_asr", resampler, RESAMPLERS)
        self.source = hub.snapshot("paraformer_asr", model, revision, option="wer.model", required="config.yaml")
        self.files = hub.funasr_files("paraformer_asr", self.source, FILES)
        self.model_id, self.revision = model, revision
        self.normalizer = normalize.get(normalizer)
        self.normalizer.check()
        self.resampler, self.trust_pickle = resampler, trust_pickle
        self.batch_size = batch_size  # items per score() call; each clip is decoded alone
        self.device = hub.resolve_device(device)
        self.info = ScorerInfo(
            needs_text=True, needs_reference_audio=False, kind="utterance", sample_rate=SAMPLE_RATE,
            languages=frozenset(languages) if languages else frozenset({"zh"}),
            metrics=(Metric("wer", "WER (%)", higher_is_better=False, scale=100.0,
                            corpus_numerator="wer_errors", corpus_denominator="wer_ref_units", worst=1.0),),
            unsupported_reason="not scored by Paraformer-zh in this protocol",
            native_rates=resampling.native_rates(resampler),
        )
        self._model = None
        self._tokens: list[str] = []
        self._cmvn: tuple[np.ndarray, np.ndarray] | None = None
        self._frontend: dict[str, Any] = {}
        self._unused: list[str] = []

    def identity(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "model": self.model_id,
            "revision": self.revision,
            "snapshot": self.source.name,
            "model_sha256": {p.name: tree_sha256(p) for p in self.files.values()},
            "implementation": "ztts1_eval.models.paraformer (FunASR SeACo-Paraformer, no hotwords)",
            "fbank": f"kaldi-native-fbank=={version('kaldi-native-fbank')} (FunASR: torchaudio.compliance.kaldi)",
            "reproduces": "seed-tts-eval run_wer.py (Chinese: funasr AutoModel paraformer-zh, zhconv zh-cn)",
            "resampler": self.resampler,
            "unused_checkpoint_keys": len(self._unused),
            "normalizer": self.normalizer.identity(),
            "batch_size": self.batch_size,
            "batching": "one clip per forward pass (no padding)",
            "dtype": "float32",
            "device": self.device.split(":")[0],
            "languages": sorted(self.info.languages or []),
            "sample_rate": SAMPLE_RATE,
        }

    def load(self) -> None:
        if self._model is not None:
            return
        import yaml

        from ztts1_eval.models.paraformer import Paraformer, read_cmvn

        config = yaml.safe_load(self.files["config"].read_text(encoding="utf-8"))
        self._tokens = json.loads(self.files["token_list"].read_text(encoding="utf-8"))
        self._cmvn = read_cmvn(self.files["cmvn_file"].read_text(encoding="utf-8"))
        self._frontend = dict(config.get("frontend_conf") or {})
        try:
            model = Paraformer(config, len(self._tokens))
        except (KeyError, ValueError) as exc:
            raise ScorerUnavailable(f"paraformer_asr: {self.files['config']}: {exc}") from exc
        self._unused = hub.load_strict("paraformer_asr", self.files["init_param"], self.trust_pickle, model,
                                       self.files["config"])
        self._model = model.eval().to(self.device)

    def features(self, samples: np.ndarray, rate: int) -> np.ndarray:
        """WavFrontend's output: Kaldi fbank, LFR stacking, CMVN (``[frames, n_mels * lfr_m]``)."""
        from ztts1_eval.models.kaldi_fbank import kaldi_fbank
        from ztts1_eval.models.paraformer import apply_lfr

        self.load()
        wav = resampling.resample(np.asarray(samples, dtype=np.float32), rate, SAMPLE_RATE, self.resampler)
        front = self._frontend
        frame_length = front.get("frame_length", 25)
        if len(wav) < SAMPLE_RATE * frame_length / 1000:
            # FunASR shortens the window to the clip, where the FFT has fewer bins than mel bins
            raise ValueError(f"audio too short for one {frame_length} ms fbank frame ({len(wav)} samples at 16 kHz)")
        fbank = kaldi_fbank(wav, SAMPLE_RATE, front.get("n_mels", 80), frame_length, front.get("frame_shift", 10),
                            front.get("window", "hamming"), front.get("dither", 0.0), front.get("snip_edges", True),
                            scale=32768.0 if front.get("upsacle_samples", True) else 1.0)  # FunASR's spelling
        feats = apply_lfr(fbank, front.get("lfr_m", 1), front.get("lfr_n", 1))
        shift, scale = self._cmvn
        return ((feats + shift[: feats.shape[1]]) * scale[: feats.shape[1]]).astype(np.float32)

    def transcribe(self, samples: np.ndarray, rate: int) -> str:
        import torch

        from ztts1_eval.models.paraformer import sentence_postprocess

        feats = torch.from_numpy(self.features(samples, rate))[None].to(self.device)
        with torch.inference_mode():
            ids = self._model(feats)["ids"]
        return sentence_postprocess([self._tokens[i] for i in ids], timestamps=True)

    def score(self, batch: Sequence[ScoreInput]) -> list[ScoreOutput]:
        outputs = []
        for item in batch:
            try:
                text = self.transcribe(item.audio.samples, item.audio.sample_rate)
            except ValueError as exc:
                outputs.append(ScoreOutput(status="failed", reason=str(exc)))
                continue
            outputs.append(transcript_output(item, text, self.normalizer))
        return outputs

    def close(self) -> None:
        self._model = None
