"""Clean-room PyTorch runner for ZONOS2 (8B-total / 0.9B-active MoE TTS), written from
shared/docs/zonos2-reference.md. Runs on CPU and GPU.

    from zonos2 import Zonos2TTS
    tts = Zonos2TTS.from_pretrained("Zyphra/ZONOS2", revision="<commit>")
    [pcm] = tts.generate("Hello there.", speakers=["voice.npy"])
"""

from zonos2.api import Conditioning, Zonos2TTS
from zonos2.sampler import SamplingParams

__all__ = ["Conditioning", "SamplingParams", "Zonos2TTS"]
