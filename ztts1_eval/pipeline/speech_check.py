"""Is there speech in a clip? Decided with Silero VAD, the model DS-WED already ships with.

A system that returns 185 ms at -52 dBFS for an emoji-only text has not synthesized the text;
scoring it would give a similarity and a MOS to silence. Outputs (and prompts or ground-truth
recordings) in which the VAD finds no speech segment fail their item with "no speech detected".
The VAD runs at 16 kHz with ``get_speech_timestamps`` and the recorded threshold and minimum
speech duration (its defaults: 0.5 and 250 ms). Results are cached by file content.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

from ztts1_eval.core import audio
from ztts1_eval.core.errors import ConfigError
from ztts1_eval.pipeline.score_cache import ScoreCache, cache_key

CHECK_VERSION = "1"


@dataclass(frozen=True)
class SpeechCheck:
    threshold: float = 0.5  # Silero's speech probability threshold (its default)
    min_speech_ms: int = 250  # shorter segments are not speech (its default)

    @classmethod
    def from_config(cls, spec: dict[str, Any] | None) -> SpeechCheck | None:
        """``speech_check`` of the run config: a mapping, or null/false to turn the check off."""
        if not spec:
            return None
        unknown = set(spec) - {"threshold", "min_speech_ms"}
        if unknown:
            raise ConfigError(f"speech_check: unknown settings {sorted(unknown)} (threshold, min_speech_ms)")
        check = cls(float(spec.get("threshold", cls.threshold)), int(spec.get("min_speech_ms", cls.min_speech_ms)))
        if not 0.0 < check.threshold < 1.0 or check.min_speech_ms < 0:
            raise ConfigError(f"speech_check: threshold must be in (0, 1) and min_speech_ms >= 0, got {spec}")
        return check

    def identity(self) -> dict[str, Any]:
        return {"vad": "silero-vad (bundled TorchScript model), get_speech_timestamps at 16 kHz",
                "package": f"silero-vad=={version('silero-vad')}", "threshold": self.threshold,
                "min_speech_ms": self.min_speech_ms, "version": CHECK_VERSION}

    def speech_seconds(self, clip: audio.Audio) -> float:
        """Seconds of speech the VAD finds in the clip (0.0: none)."""
        from ztts1_eval.prosody import vad

        segments = vad.speech_segments(audio.resample(clip, vad.SAMPLE_RATE).samples, self.threshold,
                                       self.min_speech_ms)
        return float(sum(end - start for start, end in segments)) / vad.SAMPLE_RATE

    def cached_speech_seconds(self, clip: audio.Audio, sha256: str, cache: ScoreCache | None) -> float:
        if cache is None:
            return self.speech_seconds(clip)
        key = cache_key(self.identity(), sha256, None, None, "*")
        found = cache.get(key)
        if found is not None and "speech_s" in found:
            return float(found["speech_s"])
        seconds = self.speech_seconds(clip)
        cache.put(key, {"speech_s": seconds})
        return seconds


def no_speech_reason(what: str, stats: dict[str, Any]) -> str | None:
    """The failure reason for a clip without speech, with its level (from audio_flags stats)."""
    if stats.get("speech_s") is None or stats["speech_s"] > 0.0:
        return None
    return (f"no speech detected in {what} (Silero VAD; {stats['duration_s']:.2f} s, peak "
            f"{stats['peak_dbfs']:.0f} dBFS)")
