"""Speaker similarity with ReDimNet, the paper's SIM scorer: 100 x cosine(output, clone prompt).

Checkpoints are the official IDRnD releases, ``{size}-{dataset}-{train_type}.pt``: a torch pickle
holding ``model_config`` (the constructor arguments) and ``state_dict``. ``checkpoint`` is a file
path or a release file name; a name is looked up in ``$ZTTS1_MODELS_DIR/redimnet/`` and in torch
hub's cache (where ``torch.hub.load('IDRnD/ReDimNet', ...)`` puts it), and downloaded from the
release URL into the latter unless ``HF_HUB_OFFLINE``/``ZTTS1_OFFLINE`` is set. Release assets sit
under the mutable tag ``latest``, so the file's SHA-256 is recorded, and can be pinned with ``sha256``.

Inference: 16 kHz mono, float32, one utterance per forward pass (the model has no padding mask,
so batching by padding would change embeddings). Each distinct prompt is embedded once per run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from ztts1_eval.core.checksums import tree_sha256
from ztts1_eval.scorers import hub
from ztts1_eval.core.audio import Audio
from ztts1_eval.scorers.base import Metric, ScorerInfo, ScorerUnavailable
from ztts1_eval.scorers.similarity import EmbeddingSimilarity

RELEASE_URL = "https://github.com/IDRnD/ReDimNet/releases/download/latest/{name}"
# VoxBlink2 + VoxCeleb2 + CN-Celeb, mixup fine-tuned: the only released family trained on
# multilingual in-the-wild video speech, which is what the ZTTS1 in-the-wild set is made of.
DEFAULT_CHECKPOINT = "M-vb2+vox2+cnc-ft_mix.pt"
MIN_SAMPLES = 1600  # 0.1 s at 16 kHz: shorter clips carry no speaker information worth a number


def _search_dirs() -> list[Path]:
    import torch

    dirs = [hub.models_dir() / "redimnet"] if hub.models_dir() else []
    dirs.append(Path(torch.hub.get_dir()) / "checkpoints")
    return dirs


def fetch_hint(name: str) -> str:
    target = _search_dirs()[0] / name
    extra = "" if hub.models_dir() else " (or into $ZTTS1_MODELS_DIR/redimnet/)"
    return (f"fetch it where you have network: curl -L --create-dirs -o '{target}' '{RELEASE_URL.format(name=quote(name))}'"
            f"{extra}, or set scorers.run.sim.checkpoint=/path/to/{name}")


def resolve_checkpoint(checkpoint: str) -> Path:
    """A local file, or a release name found in the caches or downloaded (unless offline)."""
    path = Path(checkpoint).expanduser()
    if path.is_file():
        return path
    if "/" in checkpoint or not checkpoint.endswith(".pt"):
        raise ScorerUnavailable(f"redimnet: checkpoint file {checkpoint} does not exist; expected a file path or "
                                f"a release name such as {DEFAULT_CHECKPOINT}")
    candidates = [d / checkpoint for d in _search_dirs()]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked = ", ".join(str(c) for c in candidates)
    if hub.offline():
        raise ScorerUnavailable(f"redimnet: {checkpoint} not found (looked in {looked}) and downloads are off "
                                f"(HF_HUB_OFFLINE/ZTTS1_OFFLINE); {fetch_hint(checkpoint)}")
    import torch

    target = candidates[-1]  # torch hub's cache, as torch.hub.load would
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        torch.hub.download_url_to_file(RELEASE_URL.format(name=quote(checkpoint)), str(target), progress=False)
    except Exception as exc:  # network, 404
        raise ScorerUnavailable(f"redimnet: {checkpoint} not found (looked in {looked}) and the download failed "
                                f"({type(exc).__name__}: {exc}); {fetch_hint(checkpoint)}") from exc
    return target


def load_encoder(path: Path):
    """Build the encoder from the file's ``model_config`` and load ``state_dict`` with strict keys."""
    import torch

    from ztts1_eval.models.redimnet import ReDimNetEncoder

    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ScorerUnavailable(f"redimnet: cannot read {path} as a torch checkpoint ({type(exc).__name__}: {exc}); "
                                "is it a complete download?") from exc
    if not isinstance(blob, dict) or "model_config" not in blob or "state_dict" not in blob:
        keys = sorted(blob)[:8] if isinstance(blob, dict) else type(blob).__name__
        raise ScorerUnavailable(f"redimnet: {path} is not an IDRnD ReDimNet release file (expected a dict with "
                                f"'model_config' and 'state_dict', got {keys})")
    try:
        model = ReDimNetEncoder(**blob["model_config"])
    except (TypeError, ValueError) as exc:
        raise ScorerUnavailable(f"redimnet: {path}: unsupported model_config ({exc})") from exc
    result = model.load_state_dict(blob["state_dict"], strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise ScorerUnavailable(f"redimnet: {path}: state dict does not match the architecture "
                                f"(missing {result.missing_keys[:5]}, unexpected {result.unexpected_keys[:5]})")
    return model.eval(), blob["model_config"]


class ReDimNetSimilarity(EmbeddingSimilarity):
    type_name = "redimnet"
    info = ScorerInfo(
        needs_text=False,
        needs_reference_audio=True,
        kind="utterance",
        sample_rate=16000,
        languages=None,
        metrics=(Metric("sim", "Spk. sim.", higher_is_better=True, decimals=1, worst=0.0),),
    )

    def __init__(self, checkpoint: str = DEFAULT_CHECKPOINT, sha256: str | None = None, device: str = "auto",
                 batch_size: int = 16):
        try:
            import torch  # noqa: F401
        except ImportError as exc:
            raise ScorerUnavailable("redimnet needs torch: pip install -e '.[paper]'") from exc
        self.checkpoint = checkpoint
        self.path = resolve_checkpoint(checkpoint)  # fail fast, before any synthesis
        self.sha256 = tree_sha256(self.path)
        if sha256 and sha256.lower() != self.sha256:
            raise ScorerUnavailable(f"redimnet: {self.path} has SHA-256 {self.sha256}, the config pins {sha256}; "
                                    "the release file changed or the download is corrupt")
        self.device = hub.resolve_device(device)
        self.batch_size = batch_size  # items per score() call; each utterance still runs alone
        self._model = None
        self._model_config: dict | None = None
        self._prompt_embeddings: dict[str, np.ndarray] = {}

    def identity(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "model": f"IDRnD/ReDimNet {Path(self.checkpoint).name}",
            "release_url": RELEASE_URL.format(name=quote(Path(self.checkpoint).name)),
            "model_sha256": self.sha256,
            "implementation": "ztts1_eval.models.redimnet (no torchaudio), strict state-dict load",
            "dtype": "float32",
            "device": self.device.split(":")[0],  # GPU and CPU kernels differ in the last digits
            "batching": "one utterance per forward pass (no padding)",
            "sample_rate": 16000,
        }

    def load(self) -> None:
        model, self._model_config = load_encoder(self.path)
        self._model = model.to(self.device)

    def embed(self, samples: np.ndarray) -> np.ndarray:
        import torch

        if samples.size < MIN_SAMPLES:
            raise ValueError(f"audio too short for a speaker embedding ({samples.size} samples < {MIN_SAMPLES})")
        with torch.inference_mode():
            wav = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))[None].to(self.device)
            return self._model(wav)[0].float().cpu().numpy()

    def embed_clip(self, clip: Audio) -> np.ndarray:
        return self.embed(clip.samples)
