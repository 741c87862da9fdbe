"""Optional written-to-spoken text normalization with NVIDIA NeMo text processing (the
official server's choice, reference §3.2). Off unless asked for; without the optional
package, asking for it is an error rather than a silent fallback."""

from __future__ import annotations

import logging
import re
from functools import lru_cache

log = logging.getLogger(__name__)

# Benchmark language -> NeMo grammar language (the server's map).
NEMO_LANGUAGES = {"en": "en", "fr": "fr", "de": "de", "es": "es", "it": "it", "pt": "pt", "ja": "ja", "zh": "zh", "ko": "ko"}
_DIGIT_PUNCT = re.compile(r"(\d)([.!?,;:])(?=\s|$)")


@lru_cache(maxsize=16)
def _normalizer(language: str):
    try:
        from nemo_text_processing.text_normalization.normalize import Normalizer
    except ImportError as exc:
        raise RuntimeError("text_normalization=True needs nemo-text-processing: pip install nemo-text-processing") from exc
    return Normalizer(input_case="lower_cased" if language == "ko" else "cased", lang=language)


def normalize(text: str, language: str) -> str:
    """NeMo forward TN; languages without a grammar get the raw text (as the server does)."""
    if language not in NEMO_LANGUAGES:
        return text
    normalizer = _normalizer(NEMO_LANGUAGES[language])  # a missing package is an error, not a fallback
    spaced = _DIGIT_PUNCT.sub(r"\1 \2", text)
    post = language in ("en", "zh", "ja", "ko")
    try:
        out = normalizer.normalize(spaced, punct_post_process=post)
    except Exception as exc:  # the server uses the raw text on any grammar error
        log.warning("text normalization failed (%s); using the raw text", exc)
        return text
    if post:
        out = re.sub(r"\s+([.,!?;:])", r"\1", out)
    return out.strip() or text
