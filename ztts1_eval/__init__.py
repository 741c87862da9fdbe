"""ztts1-eval: reproducible evaluation of zero-shot voice-cloning TTS (ZTTS1-Eval)."""

__version__ = "0.1.0"
