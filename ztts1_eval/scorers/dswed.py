"""DS-WED diversity (Yang et al., ICASSP 2026) as a scorer over an item's K generations.

Needs ``generations >= 2`` in the run config (each generation has its own recorded seed; a
system that cannot be seeded says so in its description, and a deterministic system scores 0).
Models: HuBERT-base (``facebook/hubert-base-ls960``, a transformers directory or hub id at a
pinned revision) and the k-means file of ``yfyeung/kmeans-librispeech-hubert-base``
(``hubert-base-layer-8.kmeans.50.model``, a joblib pickle of a scikit-learn estimator, so it is
only unpickled with ``trust_pickle: true``). Silero VAD ships in its wheel.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any, Sequence

from ztts1_eval.core.checksums import tree_sha256
from ztts1_eval.scorers import hub
from ztts1_eval.scorers.base import Metric, ScoreInput, ScoreOutput, Scorer, ScorerInfo, ScorerUnavailable

DEFAULT_HUBERT = "facebook/hubert-base-ls960"
DEFAULT_KMEANS_REPO = "yfyeung/kmeans-librispeech-hubert-base"


class DSWED(Scorer):
    type_name = "dswed"
    info = ScorerInfo(
        needs_text=False,
        needs_reference_audio=False,
        needs_all_samples=True,
        kind="utterance",
        sample_rate=16000,
        languages=None,
        metrics=(Metric("dswed", "DS-WED", higher_is_better=True, decimals=1),),
    )

    def __init__(self, hubert: str = DEFAULT_HUBERT, hubert_revision: str | None = None, layer: int = 8,
                 vocab: int = 50, kmeans: str | None = None, kmeans_repo: str = DEFAULT_KMEANS_REPO,
                 kmeans_revision: str | None = None, trust_pickle: bool = False, device: str = "auto",
                 batch_size: int = 8):
        try:
            import joblib  # noqa: F401
            import silero_vad  # noqa: F401
            import sklearn  # noqa: F401
            import torch  # noqa: F401
        except ImportError as exc:
            raise ScorerUnavailable(f"dswed needs torch, silero-vad, scikit-learn and joblib: "
                                    f"pip install -e '.[paper]' ({exc})") from exc
        self.hubert_id, self.hubert_revision, self.layer = hubert, hubert_revision, int(layer)
        self.hubert_dir = hub.snapshot("dswed", hubert, hubert_revision, option="diversity.hubert")
        kmeans = kmeans or f"hubert-base-layer-{self.layer}.kmeans.{vocab}.model"
        self.kmeans_path = hub.file("dswed", kmeans, kmeans_repo, kmeans_revision, option="diversity.kmeans")
        self.kmeans_repo, self.kmeans_revision = kmeans_repo, kmeans_revision
        # Unpickling runs code from the file: only a pinned commit's file, or when the user says so.
        if hub.is_pinned(kmeans_revision, self.kmeans_path.parent):
            self.unpickling = f"pinned commit {kmeans_revision}"
        elif trust_pickle:
            self.unpickling = "trust_pickle: true (revision not pinned to a commit)"
        else:
            raise ScorerUnavailable(f"dswed: {self.kmeans_path.name} is a joblib pickle (unpickling runs code from "
                                    "the file); pin scorers.run.diversity.kmeans_revision to a commit hash, or set "
                                    "scorers.run.diversity.trust_pickle=true if you trust it")
        self.device = hub.resolve_device(device)
        self.batch_size = batch_size
        self._extractor = None

    def identity(self) -> dict[str, Any]:
        from ztts1_eval.prosody import dswed, vad

        return {
            "type": self.type_name,
            "model": f"{self.hubert_id} layer {self.layer} + {self.kmeans_path.name}",
            "package": f"transformers=={version('transformers')}, scikit-learn=={version('scikit-learn')}",
            "hubert_revision": self.hubert_revision,
            "hubert_snapshot": self.hubert_dir.name,
            "hubert_sha256": hub.weight_checksums(self.hubert_dir),
            "kmeans": {"repo": self.kmeans_repo, "revision": self.kmeans_revision, "file": self.kmeans_path.name,
                       "unpickling": self.unpickling,
                       "sha256": tree_sha256(self.kmeans_path)},
            "vad": vad.identity(),
            "distance": {"version": dswed.DSWED_VERSION, "weights": list(dswed.WEIGHTS), "pairs": "all, mean"},
            "input_normalization": False,
            "dtype": "float32",
            "device": self.device.split(":")[0],
        }

    def load(self) -> None:
        from ztts1_eval.prosody.units import UnitExtractor

        try:
            self._extractor = UnitExtractor(self.hubert_dir, self.kmeans_path, self.layer, self.device)
        except ValueError as exc:
            raise ScorerUnavailable(f"dswed: {exc}") from exc

    def score(self, batch: Sequence[ScoreInput]) -> list[ScoreOutput]:
        from ztts1_eval.prosody import vad
        from ztts1_eval.prosody.dswed import mean_pairwise_distance

        outputs = []
        for item in batch:
            generations = item.samples or []
            if len(generations) < 2:
                outputs.append(ScoreOutput(status="failed", reason=f"only {len(generations)} usable generation(s)"))
                continue
            if min(clip.samples.size for clip in generations) < 1600:
                outputs.append(ScoreOutput(status="failed", reason="a generation is shorter than 0.1 s"))
                continue
            try:
                trimmed = [vad.trim(clip.samples) for clip in generations]
                units = [self._extractor.units(t.samples) for t in trimmed]
            except Exception as exc:  # noqa: BLE001 - one item's failure must not fail its batch
                outputs.append(ScoreOutput(status="failed", reason=f"{type(exc).__name__}: {exc}"))
                continue
            outputs.append(ScoreOutput(values={
                "dswed": mean_pairwise_distance(units),
                "dswed_generations": len(units),
                "dswed_mean_units": float(sum(len(u) for u in units) / len(units)),
                "dswed_no_speech": sum(not t.speech_found for t in trimmed),
            }))
        return outputs

    def close(self) -> None:
        self._extractor = None
