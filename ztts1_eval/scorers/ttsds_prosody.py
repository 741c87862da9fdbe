"""TTSDS2 prosody factor (the report's prosody layer), as a distribution scorer.

Per item it extracts each benchmark's feature from the output and from the item's real
recording; the aggregate stage turns a group's features into S = 100 * D_noise / (D_ref +
D_noise) per benchmark and averages them (ztts1_eval.prosody.factor). Noise-set features are
computed once from deterministically generated noise (ztts1_eval.prosody.noise) and stored with
the scorer's description, so tables rebuild without any model.

Benchmarks of TTSDS2's prosody factor: ``pitch`` (WORLD mean F0, implemented),
``hubert_unit_rate``, ``allosaurus_rate`` and ``mpm`` (not implemented yet: asking for them
fails with a message, never a silent drop). The factor names the benchmarks it averaged.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any, Sequence

from ztts1_eval.prosody import distances, noise, pitch
from ztts1_eval.scorers.base import Metric, ScoreInput, ScoreOutput, Scorer, ScorerInfo, ScorerUnavailable

IMPLEMENTED = {"pitch": "f0_mean"}
PLANNED = ("hubert_unit_rate", "allosaurus_rate", "mpm")


class TTSDSProsody(Scorer):
    type_name = "ttsds2_prosody"
    info = ScorerInfo(
        needs_text=False,
        needs_reference_audio=False,
        needs_ground_truth=True,
        kind="distribution",
        sample_rate=pitch.SAMPLE_RATE,
        languages=None,
        metrics=(Metric("prosody", "Prosody (TTSDS2)", higher_is_better=True, decimals=1, distribution="ttsds2"),),
    )

    def __init__(self, benchmarks: Sequence[str] = ("pitch",), batch_size: int = 16):
        unknown = [b for b in benchmarks if b not in IMPLEMENTED]
        if unknown:
            pending = [b for b in unknown if b in PLANNED]
            raise ScorerUnavailable(
                f"ttsds2_prosody: benchmarks {unknown} are not available"
                f"{' (not implemented yet: ' + ', '.join(pending) + ')' if pending else ''}; "
                f"implemented: {sorted(IMPLEMENTED)}")
        if not benchmarks:
            raise ScorerUnavailable("ttsds2_prosody: no benchmarks selected")
        try:
            pitch._pyworld()
        except ImportError as exc:
            raise ScorerUnavailable(f"ttsds2_prosody needs pyworld: pip install -e '.[lite]' ({exc})") from exc
        self.benchmarks = tuple(benchmarks)
        self.batch_size = batch_size

    def identity(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "model": f"TTSDS2 prosody factor ({', '.join(self.benchmarks)})",
            "package": f"pyworld=={version('pyworld')}",
            "benchmarks": list(self.benchmarks),
            "features": {"pitch": {"version": pitch.PITCH_VERSION, "package": f"pyworld=={version('pyworld')}",
                                   "sample_rate": pitch.SAMPLE_RATE, "hop": pitch.HOP, "max_frames": pitch.MAX_FRAMES}},
            "noise": noise.describe(),
            "distances": {"version": distances.DISTANCES_VERSION, "1d": "2-Wasserstein, seeded subsampling (seed 0)"},
        }

    def _features(self, samples) -> dict[str, float]:
        values = {}
        if "pitch" in self.benchmarks:
            values["f0_mean"] = pitch.mean_f0(samples)
        return values

    def score(self, batch: Sequence[ScoreInput]) -> list[ScoreOutput]:
        outputs = []
        for item in batch:
            values = self._features(item.audio.samples)
            values.update({f"{k}_ref": v for k, v in self._features(item.ground_truth.samples).items()})
            outputs.append(ScoreOutput(values=values))
        return outputs

    def noise_features(self) -> dict[str, Any]:
        features: dict[str, dict[str, list[float]]] = {}
        for name in noise.NOISE_SETS:
            for clip in noise.noise_set(name):
                for key, value in self._features(clip).items():
                    features.setdefault(key, {}).setdefault(name, []).append(value)
        return features
