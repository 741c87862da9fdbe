"""Emotion accuracy as CV3-Eval scores its emotion leaves (``scripts/eval_emotation.py``):
emotion2vec_plus_large's utterance-level label against the item's emotion.

Reproduced: the clip at 16 kHz (``librosa.load(path, sr=16000)``: channels averaged, soxr_hq, as
our pipeline's resampling), FunASR's Emotion2vec utterance scores (our port,
``ztts1_eval.models.emotion2vec``), the hypothesis ``labels[argmax(scores)]`` with the script's
label list ['angry', 'disgusted', 'fearful', 'happy', 'neutral', 'other', 'sad', 'surprised',
'unk'] in the model's label order; correct when it equals the item's ``emotion`` (CV3-Eval's
leaf name). The table's "Emo. acc." is the share correct x 100 (the script's classification
report "accuracy", over high and low intensity together), with its interval; the items' meta
keeps their intensity. CV3-Eval loads the model through modelscope's pipeline, which runs this FunASR
model.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ztts1_eval.core.checksums import tree_sha256
from ztts1_eval.scorers import hub
from ztts1_eval.scorers.base import Metric, ScoreInput, ScoreOutput, Scorer, ScorerInfo, ScorerUnavailable

DEFAULT_MODEL = "emotion2vec/emotion2vec_plus_large"
CV3_LABELS = ("angry", "disgusted", "fearful", "happy", "neutral", "other", "sad", "surprised", "unk")
FILES = {"init_param": "model.pt", "config": "config.yaml", "token_list": "tokens.txt"}


def read_labels(text: str) -> list[str]:
    """tokens.txt: one label per line (``中文/english``); a JSON list is read as FunASR would."""
    import json

    stripped = text.strip()
    if stripped.startswith("["):
        return [str(x) for x in json.loads(stripped)]
    return [line.strip() for line in stripped.splitlines() if line.strip()]


class Emotion2vecAccuracy(Scorer):
    type_name = "emotion2vec"

    def __init__(self, model: str = DEFAULT_MODEL, revision: str | None = None, trust_pickle: bool = False,
                 batch_size: int = 8, device: str = "auto"):
        try:
            import torch  # noqa: F401
            import yaml  # noqa: F401
        except ImportError as exc:
            raise ScorerUnavailable(f"emotion2vec needs torch and PyYAML: pip install -e '.[paper]' ({exc})") from exc
        self.source = hub.snapshot("emotion2vec", model, revision, option="emotion.model", required="config.yaml")
        self.files = hub.funasr_files("emotion2vec", self.source, FILES)
        self.model_id, self.revision, self.trust_pickle = model, revision, trust_pickle
        self.labels = read_labels(self.files["token_list"].read_text(encoding="utf-8"))
        used = [label for label in self.labels if not label.startswith("unuse")]
        if len(used) != len(CV3_LABELS):
            raise ScorerUnavailable(f"emotion2vec: {self.files['token_list']} has {len(used)} labels in use; CV3-Eval's "
                                    f"label list has {len(CV3_LABELS)} (emotion2vec_plus_* models)")
        self.batch_size = batch_size
        self.device = hub.resolve_device(device)
        self.info = ScorerInfo(
            needs_text=False, needs_reference_audio=False, kind="utterance", sample_rate=16000, languages=None,
            metrics=(Metric("emo_acc", "Emo. acc.", higher_is_better=True, scale=100.0, decimals=1, worst=0.0),),
            needs_meta=("emotion",),
        )
        self._model = None
        self._unused: list[str] = []

    def identity(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "model": self.model_id,
            "revision": self.revision,
            "snapshot": self.source.name,
            "model_sha256": {p.name: tree_sha256(p) for p in self.files.values()},
            "labels": self.labels,
            "reproduces": "CV3-Eval scripts/eval_emotation.py (emotion2vec_plus_large, utterance granularity)",
            "implementation": "ztts1_eval.models.emotion2vec (FunASR's Emotion2vec inference path)",
            "unused_checkpoint_keys": len(self._unused),
            "dtype": "float32",
            "device": self.device.split(":")[0],
            "sample_rate": 16000,
        }

    def load(self) -> None:
        if self._model is not None:
            return
        import yaml

        from ztts1_eval.models.emotion2vec import Emotion2vec

        config = yaml.safe_load(self.files["config"].read_text(encoding="utf-8"))
        try:
            model = Emotion2vec(config["model_conf"], len(self.labels))
        except (KeyError, ValueError) as exc:
            raise ScorerUnavailable(f"emotion2vec: {self.files['config']}: {exc}") from exc
        self._unused = hub.load_strict("emotion2vec", self.files["init_param"], self.trust_pickle, model,
                                       self.files["config"])
        self._model = model.eval().to(self.device)

    def scores(self, samples: np.ndarray) -> list[float]:
        """Probabilities of the labels in use, in the model's order (FunASR's ``scores``)."""
        import torch

        self.load()
        unused = [label.startswith("unuse") for label in self.labels]
        wav = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))[None].to(self.device)
        with torch.inference_mode():
            probs = self._model(wav, unused)[0].float().cpu().tolist()
        return [p for p, skip in zip(probs, unused) if not skip]

    def score(self, batch: Sequence[ScoreInput]) -> list[ScoreOutput]:
        outputs = []
        for item in batch:
            try:
                probs = self.scores(item.audio.samples)
            except Exception as exc:  # noqa: BLE001 - e.g. a clip shorter than the conv stack's field
                outputs.append(ScoreOutput(status="failed", reason=f"{type(exc).__name__}: {exc}"))
                continue
            hypothesis = CV3_LABELS[int(np.argmax(probs))]
            reference = str(item.meta["emotion"])
            outputs.append(ScoreOutput(values={"emo_acc": float(hypothesis == reference), "emotion_hyp": hypothesis,
                                               "emotion_ref": reference, "emotion_p_max": float(max(probs))}))
        return outputs

    def close(self) -> None:
        self._model = None
