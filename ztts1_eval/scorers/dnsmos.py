"""DNSMOS P.835 (SIG/BAK/OVRL) and P.808 from the ONNX models bundled in ``speechmos``.

The paper reports UTMOS; DNSMOS is the ``lite`` quality metric because its weights ship in
a wheel. We call speechmos' model class directly on one clip at a time (its ``run`` helper
uses a thread pool whose order we would rather not depend on). Deterministic: fixed 9.01 s
windows with 1 s hop, clips shorter than that are tiled, as in Microsoft's reference script.
Every item keeps all four values; ``metric`` picks the table's: ``ovrl`` (P.835 overall) or
``p808``, the one CV3-Eval reports as "DNSMOS" (its dnsmos_local_wavscp.py averages the last CSV
column, P808_MOS, over clips resampled to 16 kHz by librosa's default soxr_hq, as ours are).
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import Any, Sequence

from ztts1_eval.core.checksums import tree_sha256
from ztts1_eval.scorers.base import Metric, ScoreInput, ScoreOutput, Scorer, ScorerInfo, ScorerUnavailable


class DNSMOS(Scorer):
    type_name = "dnsmos"
    METRICS = {"ovrl": Metric("dnsmos_ovrl", "DNSMOS OVRL", higher_is_better=True, worst=1.0),
               "p808": Metric("dnsmos_p808", "DNSMOS P.808", higher_is_better=True, worst=1.0)}

    def __init__(self, personalized: bool = False, metric: str = "ovrl", batch_size: int = 8):
        if metric not in self.METRICS:
            raise ValueError(f"dnsmos: metric must be one of {sorted(self.METRICS)}, not {metric!r}")
        self.info = ScorerInfo(needs_text=False, needs_reference_audio=False, kind="utterance", sample_rate=16000,
                               languages=None, metrics=(self.METRICS[metric],))
        self.metric = metric
        try:
            from speechmos import dnsmos
        except ImportError as exc:
            raise ScorerUnavailable(
                "dnsmos: install the lite extra (speechmos + onnxruntime + librosa): pip install -e '.[lite]'"
            ) from exc
        self._module = dnsmos
        self.personalized = personalized
        self.batch_size = batch_size
        base = Path(dnsmos.__file__).parent
        self._primary = base / ("pdnsmos_models" if personalized else "dnsmos_models") / "sig_bak_ovr.onnx"
        self._p808 = base / "dnsmos_models" / "model_v8.onnx"
        for path in (self._primary, self._p808):
            if not path.is_file():
                raise ScorerUnavailable(f"dnsmos: bundled model missing at {path}; reinstall speechmos")
        self._model = None

    def identity(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "model": "DNSMOS P.835 sig_bak_ovr.onnx + P.808 model_v8.onnx (bundled in speechmos)",
            "package": f"speechmos=={version('speechmos')}",
            "onnxruntime": version("onnxruntime"),
            "model_sha256": {"p835": tree_sha256(self._primary), "p808": tree_sha256(self._p808)},
            "personalized": self.personalized,
            "table_metric": self.metric,
            "sample_rate": self.info.sample_rate,
        }

    def load(self) -> None:
        self._model = self._module.DNSMOS(str(self._primary), str(self._p808))

    def score(self, batch: Sequence[ScoreInput]) -> list[ScoreOutput]:
        outputs = []
        for item in batch:
            result = self._model(item.audio.samples, self.info.sample_rate, self.personalized)
            outputs.append(ScoreOutput(values={
                "dnsmos_ovrl": float(result["ovrl_mos"]),
                "dnsmos_sig": float(result["sig_mos"]),
                "dnsmos_bak": float(result["bak_mos"]),
                "dnsmos_p808": float(result["p808_mos"]),
            }))
        return outputs

    def close(self) -> None:
        self._model = None
