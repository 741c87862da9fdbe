"""Quality (predicted MOS) with MSR-UTMOS (Nishikawa et al., 2025), the paper's quality scorer.

The model is a sampling-frequency-independent (SFI) self-supervised backbone plus a
listener-conditioned head (sarulab-speech/msr-utmos, MIT). Two pieces of weights:

- the **backbone snapshot** (``Wataru/sfi_hubert_distill_ears`` and siblings, the
  ``hyper_parameters.ssl_model_path`` of the MOS checkpoint): a transformers repository whose
  model class ships only as code inside the snapshot, so it is run with ``trust_remote_code``
  from a local directory or a pinned revision. Its SFI convolution's parameterization is not
  published anywhere we can read, so it is not re-implemented here (see docs/scorers.md);
- the **MOS checkpoint** (a Lightning ``.ckpt``): ``state_dict`` holds the fine-tuned backbone
  under ``ssl_model.`` (loaded into the snapshot's model with strict keys) and the head,
  ``pred_liner`` (Linear-SiLU-Linear, or one Linear in early checkpoints) and
  ``listenr_embedding`` (sic) — written by hand (models/msr_utmos_head.py): three lines of the paper.

Score: raw waveform (no normalization) at its native rate among 16/24/48 kHz (other rates are
resampled to the nearest), frame features h; for each listener id l: y_l = tanh(mean_t
pred(h + e_l)); MOS = 2 * mean_l(y_l) + 3 over ``listeners`` (the official demo's 1..10).
One utterance per forward pass (no padding mask exists), no random crops: deterministic.
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ztts1_eval.core.checksums import tree_sha256
from ztts1_eval.scorers import hub
from ztts1_eval.scorers.base import Metric, ScoreInput, ScoreOutput, Scorer, ScorerInfo, ScorerUnavailable

DEFAULT_CHECKPOINT_REPO = "sarulab-speech/MSR-UTMOS"  # a Hugging Face Space
DEFAULT_CHECKPOINT = "model.ckpt"  # the official demo's default file name
NATIVE_RATES = (16000, 24000, 48000)
DEFAULT_LISTENERS = tuple(range(1, 11))
BACKBONE_PREFIX = "ssl_model."
MIN_SECONDS = 0.1


def read_checkpoint(path: Path, trust_pickle: bool) -> dict:
    import torch

    try:
        blob = torch.load(path, map_location="cpu", weights_only=not trust_pickle)
    except Exception as exc:
        hint = ("" if trust_pickle else " If the file is one you trust, set scorers.run.quality.trust_pickle=true "
                "(full unpickling runs code stored in the file).")
        raise ScorerUnavailable(f"msr_utmos: cannot read {path} ({type(exc).__name__}: {str(exc)[:300]}).{hint}") from exc
    if not isinstance(blob, dict) or not isinstance(blob.get("state_dict"), dict):
        raise ScorerUnavailable(f"msr_utmos: {path} is not a Lightning checkpoint (no 'state_dict')")
    return blob


class MSRUTMOS(Scorer):
    type_name = "msr_utmos"
    info = ScorerInfo(
        needs_text=False,
        needs_reference_audio=False,
        kind="utterance",
        sample_rate=16000,
        languages=None,
        metrics=(Metric("utmos", "UTMOS", higher_is_better=True, decimals=2, worst=1.0),),
        native_rates=NATIVE_RATES,
    )

    def __init__(self, checkpoint: str = DEFAULT_CHECKPOINT, checkpoint_repo: str = DEFAULT_CHECKPOINT_REPO,
                 checkpoint_repo_type: str = "space", checkpoint_revision: str | None = None,
                 backbone: str | None = None, backbone_revision: str | None = None,
                 trust_remote_code: bool = False, trust_pickle: bool = False,
                 listeners: Sequence[int] = DEFAULT_LISTENERS, device: str = "auto", batch_size: int = 8):
        try:
            import torch
            import transformers  # noqa: F401
        except ImportError as exc:
            raise ScorerUnavailable(f"msr_utmos needs torch and transformers: pip install -e '.[paper]' ({exc})") from exc
        self.checkpoint_path = hub.file("msr_utmos", checkpoint, checkpoint_repo, checkpoint_revision,
                                        option="quality.checkpoint", repo_type=checkpoint_repo_type)
        self.checkpoint_revision = checkpoint_revision
        self.trust_pickle = trust_pickle
        blob = read_checkpoint(self.checkpoint_path, trust_pickle)  # fail fast on unreadable files
        hparams = blob.get("hyper_parameters") or {}
        self.backbone_id = backbone or hparams.get("ssl_model_path")
        if not self.backbone_id:
            raise ScorerUnavailable("msr_utmos: the checkpoint does not name its backbone (hyper_parameters."
                                    "ssl_model_path); set scorers.run.quality.backbone")
        self.backbone_revision = backbone_revision
        self.backbone_dir = hub.snapshot("msr_utmos", self.backbone_id, backbone_revision, option="quality.backbone")
        # Remote code runs only from a pinned commit's snapshot, or when the user says so.
        if hub.is_pinned(backbone_revision, self.backbone_dir):
            self.remote_code = f"pinned commit {backbone_revision}"
        elif trust_remote_code:
            self.remote_code = "trust_remote_code: true (revision not pinned to a commit)"
        else:
            raise ScorerUnavailable(f"msr_utmos: the SFI backbone's model class is code inside {self.backbone_dir}; "
                                    "pin scorers.run.quality.backbone_revision to a commit hash (that commit's code "
                                    "then runs), or review it and set scorers.run.quality.trust_remote_code=true")
        self.listeners = tuple(int(i) for i in listeners)
        n_listeners = blob["state_dict"].get("listenr_embedding.weight")
        if not self.listeners or (n_listeners is not None and max(self.listeners) >= n_listeners.shape[0]):
            raise ScorerUnavailable(f"msr_utmos: listener ids {self.listeners} do not fit the checkpoint")
        self.device = hub.resolve_device(device)
        self.batch_size = batch_size  # items per score() call; each utterance still runs alone
        self._backbone = self._head = None

    def identity(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "model": f"MSR-UTMOS {self.checkpoint_path.name}",
            "checkpoint_sha256": tree_sha256(self.checkpoint_path),
            "checkpoint_revision": self.checkpoint_revision,
            "backbone": self.backbone_id,
            "backbone_revision": self.backbone_revision,
            "backbone_snapshot": self.backbone_dir.name,
            "backbone_sha256": hub.weight_checksums(self.backbone_dir, ("*.py",)),  # the code run, too
            "remote_code": self.remote_code,
            "package": f"transformers=={version('transformers')}",
            "listeners": list(self.listeners),
            "native_rates": list(NATIVE_RATES),
            "resampling": "soxr HQ to the nearest native rate",
            "dtype": "float32",
            "device": self.device.split(":")[0],
            "batching": "one utterance per forward pass (no padding)",
        }

    def load(self) -> None:
        import torch
        from transformers import AutoModel

        from ztts1_eval.models.msr_utmos_head import MOSHead

        state = read_checkpoint(self.checkpoint_path, self.trust_pickle)["state_dict"]
        backbone_state = {k[len(BACKBONE_PREFIX):]: v for k, v in state.items() if k.startswith(BACKBONE_PREFIX)}
        head_state = {k: v for k, v in state.items() if not k.startswith(BACKBONE_PREFIX)}
        if not backbone_state:
            raise ScorerUnavailable(f"msr_utmos: {self.checkpoint_path} holds no '{BACKBONE_PREFIX}*' weights")
        backbone = AutoModel.from_pretrained(str(self.backbone_dir), trust_remote_code=True, local_files_only=True,
                                             dtype=torch.float32)
        result = backbone.load_state_dict(backbone_state, strict=False)
        if result.missing_keys or result.unexpected_keys:
            raise ScorerUnavailable(f"msr_utmos: the checkpoint's backbone does not match {self.backbone_id} "
                                    f"(missing {result.missing_keys[:5]}, unexpected {result.unexpected_keys[:5]})")
        if not hasattr(backbone, "set_sample_rate"):
            raise ScorerUnavailable(f"msr_utmos: {self.backbone_id} has no set_sample_rate(); not an SFI backbone")
        try:
            head = MOSHead.from_state_dict(head_state)
        except (ValueError, RuntimeError) as exc:
            raise ScorerUnavailable(f"msr_utmos: {self.checkpoint_path}: {exc}") from exc
        self._backbone = backbone.to(self.device).eval()
        self._head = head.to(self.device)
        self._listener_ids = torch.tensor(self.listeners, device=self.device)

    def predict(self, samples: np.ndarray, rate: int) -> float:
        import torch

        if rate not in NATIVE_RATES:
            raise ValueError(f"sample rate {rate} is not one of {NATIVE_RATES}")
        if samples.size < MIN_SECONDS * rate:
            raise ValueError(f"audio too short for a MOS prediction ({samples.size} samples at {rate} Hz)")
        with torch.inference_mode():
            self._backbone.set_sample_rate(rate)
            wav = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))[None].to(self.device)
            frames = self._backbone(input_values=wav).last_hidden_state.float()
            y = self._head(frames, self._listener_ids)
        return float(2.0 * y.double().mean() + 3.0)

    def score(self, batch: Sequence[ScoreInput]) -> list[ScoreOutput]:
        outputs = []
        for item in batch:
            try:
                value = self.predict(item.audio.samples, item.audio.sample_rate)
            except ValueError as exc:
                outputs.append(ScoreOutput(status="failed", reason=str(exc)))
                continue
            except Exception as exc:  # noqa: BLE001 - e.g. out of GPU memory on one long clip
                outputs.append(ScoreOutput(status="failed", reason=f"{type(exc).__name__}: {exc}"))
                continue
            outputs.append(ScoreOutput(values={"utmos": value, "utmos_rate": item.audio.sample_rate}))
        return outputs

    def close(self) -> None:
        self._backbone = self._head = None
