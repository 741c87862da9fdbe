"""Clean-room PyTorch runner for ZONOS2 (8B-total / 0.9B-active MoE TTS).

Empty until the runner issue lands; ``systems.zonos2`` reports that clearly. The specification
it will follow is ``shared/docs/zonos2-reference.md``.
"""
