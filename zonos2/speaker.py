"""Speaker embeddings for ZONOS2 voice cloning (reference §3.5).

Three sources, in order of preference for reproducibility:
1. a saved embedding (``.npy``/``.npz``, key ``emb`` or a single array; [N, 2048] is averaged);
2. the ECAPA-TDNN encoder ``marksverdhei/Qwen3-Voice-Embedding-12Hz-1.7B`` from a **local
   snapshot**, loaded by transformers with ``trust_remote_code`` — the encoder's module code
   ships only inside that snapshot and its state-dict key names are not published anywhere we
   can read, so we do not re-implement it blind; the front end below is ours and exact;
3. nothing: an unconditioned voice (no speaker slot, no markers), as the official server does.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import torch

EMBEDDER_HUB_ID = "marksverdhei/Qwen3-Voice-Embedding-12Hz-1.7B"
SAMPLE_RATE = 24000
N_FFT, HOP, N_MELS, F_MAX = 1024, 256, 128, 12000.0
REFLECT_PAD = (N_FFT - HOP) // 2  # 384
LOG_FLOOR = 1e-5


class SpeakerError(ValueError):
    pass


def load_saved_embedding(path: str | os.PathLike | bytes, dim: int = 2048, name: str | None = None) -> torch.Tensor:
    """A saved .npy/.npz embedding (a file, or its bytes as a server receives them): key ``emb``
    or a single array; [N, dim] is averaged over rows, as the official server does."""
    if isinstance(path, bytes):
        name = name or "speaker embedding"
        try:
            data = np.load(io.BytesIO(path), allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise SpeakerError(f"{name}: not a .npy/.npz array ({exc})") from exc
        return _embedding_of(data, dim, name)
    path = Path(path)
    if not path.is_file():
        raise SpeakerError(f"speaker embedding file not found: {path}")
    return _embedding_of(np.load(path, allow_pickle=False), dim, str(path))


def _embedding_of(data, dim: int, path: str) -> torch.Tensor:
    if isinstance(data, np.lib.npyio.NpzFile):
        keys = list(data.keys())
        if "emb" in keys:
            array = data["emb"]
        elif len(keys) == 1:
            array = data[keys[0]]
        else:
            raise SpeakerError(f"{path}: expected key 'emb' or a single array, found {keys}")
    else:
        array = data
    array = np.asarray(array, dtype=np.float32)
    if array.ndim == 2:
        array = array.mean(axis=0)
    if array.shape != (dim,):
        raise SpeakerError(f"{path}: speaker embedding must have {dim} values (or [N, {dim}]), got shape {array.shape}")
    return torch.from_numpy(array)


def log_mel(waveform_24k: np.ndarray) -> torch.Tensor:
    """The encoder's front end: reflect pad 384, |STFT| (n_fft 1024, hop 256, Hann 1024,
    center=False), 128 Slaney mels 0-12 kHz, log(max(mel, 1e-5)) -> [1, T, 128] float32."""
    import librosa

    x = torch.as_tensor(np.asarray(waveform_24k, dtype=np.float32))[None, None]
    x = torch.nn.functional.pad(x, (REFLECT_PAD, REFLECT_PAD), mode="reflect")[0, 0]
    spec = torch.stft(x, N_FFT, hop_length=HOP, win_length=N_FFT, window=torch.hann_window(N_FFT),
                      center=False, return_complex=True).abs()
    mel_basis = torch.from_numpy(librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS, fmin=0.0,
                                                     fmax=F_MAX, htk=False, norm="slaney")).float()
    mel = mel_basis @ spec
    return torch.log(torch.clamp(mel, min=LOG_FLOOR)).T[None]


class SpeakerEmbedder:
    """ECAPA-TDNN from a local snapshot (see module docstring for why remote code)."""

    def __init__(self, snapshot: str | os.PathLike, device: str = "cpu", trust_remote_code: bool = False):
        path = Path(snapshot).expanduser()
        if not (path / "config.json").is_file():
            raise SpeakerError(
                f"speaker encoder snapshot not found at {path}: download {EMBEDDER_HUB_ID} (all files) where "
                "you have network and pass that directory, or give saved .npy/.npz embeddings instead."
            )
        if not trust_remote_code:  # its module code runs from the snapshot: the user's call, recorded
            raise SpeakerError(
                f"the speaker encoder's model class is code inside {path}: review it and allow it with "
                "trust_remote_code (system.options.speaker_encoder_trust_remote_code=true, or "
                "--trust-speaker-encoder-code), or give saved .npy/.npz embeddings instead.")
        from transformers import AutoModel

        self.model = AutoModel.from_pretrained(str(path), trust_remote_code=True, local_files_only=True).to(device).eval()
        self.device = device
        self.snapshot = str(path)

    @torch.inference_mode()
    def embed(self, samples: np.ndarray, sample_rate: int) -> torch.Tensor:
        import soxr

        # The official server decodes the prompt to 16-bit PCM first; keep that quantization.
        samples = np.clip(np.round(np.asarray(samples, dtype=np.float64) * 32768.0), -32768, 32767) / 32768.0
        if sample_rate != SAMPLE_RATE:
            samples = soxr.resample(samples.astype(np.float32), sample_rate, SAMPLE_RATE)
        features = log_mel(samples).to(self.device)
        out = self.model(features)
        hidden = out.last_hidden_state if hasattr(out, "last_hidden_state") else out
        return hidden.reshape(-1).float().cpu()
