"""Written-to-spoken text normalization with NVIDIA NeMo text processing, as the official
server does it (its ``tokenizer/textnorm.py``, reference §3.2): on by default there too. The
server vendors nemo-text-processing 1.2.0 byte for byte, so the PyPI package at that version is
the same grammar. Without the package, asking for normalization is an error, never a silent
fallback to raw text."""

from __future__ import annotations

import logging
import os
import re
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

# Benchmark language -> NeMo grammar language (the server's map).
NEMO_LANGUAGES = {"en": "en", "fr": "fr", "de": "de", "es": "es", "it": "it", "pt": "pt", "ja": "ja", "zh": "zh", "ko": "ko"}
_DIGIT_PUNCT = re.compile(r"(\d)([.!?,;:])(?=\s|$)")
# After normalizing, for every language: " ." -> "." (plain spaces, the mark followed by
# whitespace or the end), as the server does.
_SPACE_PUNCT = re.compile(r" +([.!?,;:])(?=\s|$)")
# Moses-style punctuation post-processing only for these (the server's choice).
_POST_PROCESSED = {"en", "zh", "ja", "ko"}
INSTALL = "pip install -e '.[zonos2]' (nemo-text-processing==1.2.0, pynini; `make setup` installs it)"


def require() -> None:
    """Raise with the install command when the package is missing."""
    try:
        import nemo_text_processing.text_normalization.normalize  # noqa: F401
    except ImportError as exc:
        raise RuntimeError(f"text_normalization (on by default, as the official server) needs "
                           f"nemo-text-processing: {INSTALL}; or set conditioning.text_normalization=false") from exc


def _cache_dir(language: str, case: str) -> str:
    """Compiled grammars (.far) are cached as the server caches them (first build 10-120 s)."""
    root = Path(os.environ.get("ZONOS2_TTS_NORM_CACHE", Path.home() / ".cache" / "zonos2-tts-norm"))
    path = root / f"{language}_{case}"
    path.mkdir(parents=True, exist_ok=True)
    return str(path)


@lru_cache(maxsize=16)
def _normalizer(language: str):
    require()
    from nemo_text_processing.text_normalization.normalize import Normalizer

    case = "lower_cased" if language == "ko" else "cased"
    return Normalizer(input_case=case, lang=language, cache_dir=_cache_dir(language, case), overwrite_cache=False)


def normalize(text: str, language: str) -> str:
    """NeMo forward TN with the server's pre- and post-processing. Languages without a grammar,
    blank text, a grammar that fails to build or to apply, or a blank result give the raw text
    (as the server does); a missing package is an error."""
    if language not in NEMO_LANGUAGES or not text.strip():
        return text
    require()
    try:
        normalizer = _normalizer(NEMO_LANGUAGES[language])
        out = normalizer.normalize(_DIGIT_PUNCT.sub(r"\1 \2", text), punct_post_process=language in _POST_PROCESSED)
    except Exception as exc:  # noqa: BLE001 - the server uses the raw text on any grammar error
        log.warning("text normalization failed (%s); using the raw text", exc)
        return text
    out = _SPACE_PUNCT.sub(r"\1", out)
    return out if out.strip() else text
