"""WER with the openai-whisper package's ``transcribe``, as CV3-Eval's ``utils/run_wer.py`` scores
every language but Chinese.

Reproduces: ``whisper.load_model("large-v3.pt")``, ``model.transcribe(path, language=<the item's
language>)`` with every other option at its default (temperature fallback 0, 0.2, ... 1.0 with the
compression-ratio and log-probability thresholds, conditioning on previous text, fp16 on GPU and
fp32 on CPU), ``result["text"].strip()``. It is the package itself, not a port: this decoding loop
is not transformers' ``generate``. Temperature fallback samples; the script leaves torch's random
state as it is, we seed it (``sampling_seed``) before each clip, so a clip's text does not depend
on which clips came before it. The file is read as ``whisper.load_audio`` reads it (ffmpeg to
16 kHz mono int16; ``audio_loader: ffmpeg``, which needs the ffmpeg program); ``soxr`` decodes and
resamples in-process instead (recorded). Item failures are recorded where the script skips them.
"""

from __future__ import annotations

import shutil
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ztts1_eval.core.checksums import tree_sha256
from ztts1_eval.scorers import hub, resampling
from ztts1_eval.scorers.base import (Metric, ScoreInput, ScoreOutput, Scorer, ScorerInfo, ScorerUnavailable,
                                     transcript_output)
from ztts1_eval.text import normalize

SAMPLE_RATE = 16000
AUDIO_LOADERS = ("ffmpeg", "soxr")


def _download_root() -> Path:
    base = hub.models_dir()
    return base / "whisper" if base else Path.home() / ".cache" / "whisper"


def resolve_checkpoint(model: str) -> tuple[Path, str | None]:
    """A ``.pt`` path, or a model name of the package (``large-v3``) found in the download root or
    downloaded there by the package (unless offline). Also the SHA-256 the package publishes."""
    import whisper

    path = Path(model).expanduser()
    if path.suffix == ".pt" or "/" in model:
        if not path.is_file():
            raise ScorerUnavailable(f"openai_whisper_asr: checkpoint file {model} does not exist")
        return path, None
    if model not in whisper._MODELS:
        raise ScorerUnavailable(f"openai_whisper_asr: {model!r} is neither a .pt file nor a model of the "
                                f"openai-whisper package ({', '.join(whisper._MODELS)})")
    url = whisper._MODELS[model]
    expected = url.split("/")[-2]  # the package names each file by its SHA-256
    target = _download_root() / Path(url).name
    if not target.is_file():
        if hub.offline():
            raise ScorerUnavailable(f"openai_whisper_asr: {target} not found and downloads are off "
                                    f"(HF_HUB_OFFLINE/ZTTS1_OFFLINE); fetch it where you have network: "
                                    f"curl -L --create-dirs -o '{target}' '{url}', or set "
                                    "scorers.run.wer...model=/path/to/large-v3.pt")
        try:
            whisper._download(url, str(target.parent), in_memory=False)
        except Exception as exc:  # network, checksum
            raise ScorerUnavailable(f"openai_whisper_asr: cannot download {url} ({type(exc).__name__}: {exc})") from exc
    return target, expected


class OpenAIWhisperWER(Scorer):
    type_name = "openai_whisper_asr"

    def __init__(self, model: str = "large-v3", normalizer: str = "cv3_eval", audio_loader: str = "ffmpeg",
                 languages: list[str] | None = None, sampling_seed: int = 0, batch_size: int = 8,
                 device: str = "auto"):
        try:
            import torch  # noqa: F401
            import whisper  # noqa: F401
        except ImportError as exc:
            raise ScorerUnavailable(f"openai_whisper_asr needs the openai-whisper package: pip install -e '.[paper]' "
                                    f"({exc})") from exc
        if audio_loader not in AUDIO_LOADERS:
            raise ValueError(f"openai_whisper_asr: audio_loader must be one of {AUDIO_LOADERS}, not {audio_loader!r}")
        if audio_loader == "ffmpeg" and shutil.which("ffmpeg") is None:
            raise ScorerUnavailable("openai_whisper_asr: audio_loader ffmpeg (how whisper.load_audio reads files) needs "
                                    "the ffmpeg program: apt install ffmpeg, or set audio_loader=soxr (recorded)")
        self.path, expected = resolve_checkpoint(model)
        self.sha256 = tree_sha256(self.path)
        if expected and self.sha256 != expected:
            raise ScorerUnavailable(f"openai_whisper_asr: {self.path} has SHA-256 {self.sha256}, the package publishes "
                                    f"{expected}; the download is corrupt")
        self.model_name, self.audio_loader, self.sampling_seed = model, audio_loader, sampling_seed
        self.normalizer = normalize.get(normalizer)
        self.normalizer.check()
        self.batch_size = batch_size  # items per score() call; each clip is transcribed alone
        self.device = hub.resolve_device(device)
        self.info = ScorerInfo(
            needs_text=True, needs_reference_audio=False, kind="utterance", sample_rate=SAMPLE_RATE,
            languages=frozenset(languages) if languages else None,
            metrics=(Metric("wer", "WER (%)", higher_is_better=False, scale=100.0,
                            corpus_numerator="wer_errors", corpus_denominator="wer_ref_units", worst=1.0),),
            native_rates=resampling.native_rates("soxr" if audio_loader == "soxr" else "ffmpeg"),
        )
        self._model = None

    def identity(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "model": Path(self.model_name).name,
            "model_sha256": self.sha256,
            "package": f"openai-whisper=={version('openai-whisper')}",
            "reproduces": "CV3-Eval utils/run_wer.py (whisper.load_model + transcribe(language=item language))",
            "decoding": "transcribe() defaults: temperature fallback, conditioned on previous text",
            "sampling_seed": self.sampling_seed,
            "fp16": self.device.startswith("cuda"),
            "audio_loader": self.audio_loader,
            "normalizer": self.normalizer.identity(),
            "batch_size": self.batch_size,
            "device": self.device.split(":")[0],
            "sample_rate": SAMPLE_RATE,
        }

    def load(self) -> None:
        if self._model is None:
            import whisper

            self._model = whisper.load_model(str(self.path), device=self.device).eval()

    def _audio(self, samples: np.ndarray, rate: int) -> np.ndarray:
        """16 kHz float32 as ``whisper.load_audio`` would give for this clip's file."""
        if self.audio_loader == "soxr":
            return resampling.resample(np.asarray(samples, dtype=np.float32), rate, SAMPLE_RATE, "soxr")
        import soundfile as sf
        import whisper

        with tempfile.TemporaryDirectory(prefix="ztts1-whisper-") as tmp:
            path = Path(tmp) / "clip.wav"  # float WAV: ffmpeg reads back exactly the decoded samples
            sf.write(path, np.asarray(samples, dtype=np.float32), rate, subtype="FLOAT")
            return whisper.load_audio(str(path))

    def transcribe(self, samples: np.ndarray, rate: int, language: str) -> str:
        import torch

        self.load()
        torch.manual_seed(self.sampling_seed)
        result = self._model.transcribe(self._audio(samples, rate), language=language,
                                        fp16=self.device.startswith("cuda"), verbose=None)
        return result["text"].strip()

    def score(self, batch: Sequence[ScoreInput]) -> list[ScoreOutput]:
        outputs = []
        for item in batch:
            try:
                text = self.transcribe(item.audio.samples, item.audio.sample_rate, item.language)
            except Exception as exc:  # noqa: BLE001 - the script skips such items; we record them
                outputs.append(ScoreOutput(status="failed", reason=f"{type(exc).__name__}: {exc}"))
                continue
            outputs.append(transcript_output(item, text, self.normalizer))
        return outputs

    def close(self) -> None:
        self._model = None
