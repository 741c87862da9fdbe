"""Versioned text normalizers for WER/CER.

A normalizer changes scores, so each has a name and a version that go into every scorer
identity (and therefore into the score cache key and the results). Bump the version whenever
the output of a normalizer changes for any input.

- ``seedtts`` (v2): Seed-TTS-Eval / CV3-Eval compatible. NFKC, lowercase, Unicode punctuation
  and symbols removed except apostrophes inside words; Chinese converted to simplified
  characters (ASR hypotheses often come back traditional).
- ``ztts1`` (v1): ``seedtts`` plus number handling and English spellings, so "fifty" vs "50" or
  "colour" vs "color" are not errors. English: Whisper's number and spelling normalizers
  (words -> digits, British -> American). Other languages: digit runs are spelled out with
  num2words in the item's language where it has a speller (not hi, tl, zh: digits stay).
  Combining marks (Hindi matras, Thai vowels and tones) are kept: only punctuation (P*) and
  symbols (S*) are removed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

_APOSTROPHES = {"'", "\u2019", "\u02bc"}
# num2words language codes for the benchmark's languages (those it can spell).
_NUM2WORDS = {"ar": "ar", "de": "de", "en": "en", "es": "es", "fr": "fr", "id": "id", "it": "it", "ja": "ja",
              "ko": "ko", "pl": "pl", "pt": "pt", "ru": "ru", "th": "th", "tr": "tr", "nl": "nl", "cs": "cs",
              "uk": "uk", "vi": "vi", "fa": "fa", "he": "he", "hu": "hu", "ro": "ro", "sv": "sv"}


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


@lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC

    return OpenCC("t2s")


def _lower(text: str, language: str) -> str:
    """Lowercase; Turkish dotted/dotless i need their own rule (str.lower turns "İ" into "i̇")."""
    if language == "tr":
        text = text.replace("İ", "i").replace("I", "ı")
    return text.lower()


def seedtts_v2(text: str, language: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    if language == "zh":
        text = _t2s().convert(text)
    text = _strip_punctuation(_lower(text, language))
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"(^|\s)'+|'+(\s|$)", r"\1\2", text).strip()  # quote marks, not apostrophes


@lru_cache(maxsize=1)
def _english():
    from whisper_normalizer.english import EnglishNumberNormalizer, EnglishSpellingNormalizer

    return EnglishNumberNormalizer(), EnglishSpellingNormalizer()


def _spell_digits(text: str, language: str) -> str:
    from num2words import num2words

    lang = _NUM2WORDS.get(language)
    if lang is None:
        return text
    return re.sub(r"\d+", lambda m: " " + num2words(int(m.group()), lang=lang) + " ", text)


def ztts1_v1(text: str, language: str) -> str:
    text = _lower(unicodedata.normalize("NFKC", text), language)
    if language == "en":
        numbers, spelling = _english()
        text = spelling(numbers(seedtts_v2(text, language)))
    else:
        text = _spell_digits(text, language)
    return seedtts_v2(text, language)


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
    "seedtts": Normalizer("seedtts", "2", seedtts_v2),
    "ztts1": Normalizer("ztts1", "1", ztts1_v1),
}


def get(name: str) -> Normalizer:
    if name not in NORMALIZERS:
        raise KeyError(f"unknown text normalizer {name!r}; known: {sorted(NORMALIZERS)}")
    return NORMALIZERS[name]
