"""Versioned text normalizers for WER/CER.

A normalizer changes scores, so each has a name and a version that go into every scorer
identity (and therefore into the score cache key and the results).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Callable

# Apostrophes inside words carry meaning in English ("don't"); everything else that Unicode
# calls punctuation (P*) or a symbol (S*) goes. This covers ASCII and CJK punctuation alike.
_APOSTROPHES = {"'", "\u2019", "\u02bc"}


def _strip_punctuation(text: str) -> str:
    out = []
    for ch in text:
        if ch in _APOSTROPHES:
            out.append("'")
        elif unicodedata.category(ch)[0] in ("P", "S"):
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def seedtts_v1(text: str, language: str) -> str:
    """Seed-TTS-Eval compatible: NFKC, lowercase, punctuation stripped (apostrophes kept),
    whitespace collapsed. CER languages have their spaces removed, since their references
    are compared character by character.
    """
    text = unicodedata.normalize("NFKC", text)
    text = _strip_punctuation(text.lower())
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"(^|\s)'+|'+(\s|$)", r"\1\2", text).strip()  # quote marks, not apostrophes
    return text


@dataclass(frozen=True)
class Normalizer:
    name: str
    version: str
    fn: Callable[[str, str], str]

    def __call__(self, text: str, language: str) -> str:
        return self.fn(text, language)

    def identity(self) -> dict:
        return {"name": self.name, "version": self.version}


NORMALIZERS: dict[str, Normalizer] = {
    "seedtts": Normalizer("seedtts", "1", seedtts_v1),
}


def get(name: str) -> Normalizer:
    if name not in NORMALIZERS:
        raise KeyError(f"unknown text normalizer {name!r}; known: {sorted(NORMALIZERS)}")
    return NORMALIZERS[name]
