"""Versioned text normalizers for WER/CER.

A normalizer changes scores, so each has a name and a version that go into every scorer
identity (and therefore into the score cache key and the results). Bump the version whenever
the output of a normalizer changes for any input. Each normalizer also decides which languages
are scored per character (CER), because the references disagree on that.

Reproductions of published tools (tested against their rules in ``tests/test_reference_wer.py``):

- ``seedtts_eval`` (v1): Seed-TTS-Eval's ``run_wer.py`` (``process_one``). Delete every
  character of ``string.punctuation`` and of zhon's ``hanzi.punctuation`` except the ASCII
  apostrophe (deleted, not replaced by a space: "well-known" -> "wellknown"); zh is scored per
  character and not lowercased; every other language is lowercased and scored per word. The
  hypothesis alone is converted to simplified Chinese with zhconv ``zh-cn``. Nothing else: no
  Unicode normalization, so full-width digits and curly apostrophes are as the reference treats
  them. Seed-TTS-Eval defines en and zh only; other languages take its en rule (as CV3-Eval does)
  and yue its zh rule.
- ``cv3_eval`` (v1): CV3-Eval's ``utils/run_wer.py``: the same rules, with zh, ja and ko (and
  yue) per character.

Our own (not a reproduction of anything):

- ``unicode_punct`` (v2, called ``seedtts`` up to this version): NFKC, lowercase (Turkish İ/I
  handled), every Unicode punctuation and symbol character replaced by a space except apostrophes
  inside words, Chinese converted to simplified (OpenCC t2s) on both sides; CER for zh, ja, ko,
  th, yue. Covers all ZTTS1 languages (Hindi danda, Arabic comma, full-width forms).
- ``ztts1`` (v1): ``unicode_punct`` plus numbers and spellings, so "fifty" vs "50" or "colour"
  vs "color" are not errors. English: Whisper's number and spelling normalizers; other
  languages: digit runs spelled out with num2words in the item's language where it has a
  speller (not hi, tl, zh: digits stay). Combining marks (Hindi matras, Thai) are kept.
"""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from ztts1_eval.core import languages

_APOSTROPHES = {"'", "\u2019", "\u02bc"}
# num2words language codes for the benchmark's languages (those it can spell).
_NUM2WORDS = {"ar": "ar", "de": "de", "en": "en", "es": "es", "fr": "fr", "id": "id", "it": "it", "ja": "ja",
              "ko": "ko", "pl": "pl", "pt": "pt", "ru": "ru", "th": "th", "tr": "tr", "nl": "nl", "cs": "cs",
              "uk": "uk", "vi": "vi", "fa": "fa", "he": "he", "hu": "hu", "ro": "ro", "sv": "sv"}
_CHINESE = frozenset({"zh", "yue"})


# --- reproductions: Seed-TTS-Eval and CV3-Eval ------------------------------------------------

@lru_cache(maxsize=1)
def _reference_deletions() -> dict[int, None]:
    """str.translate table deleting the references' punctuation set (ASCII apostrophe kept)."""
    from zhon.hanzi import punctuation as hanzi_punctuation

    return {ord(ch): None for ch in set(hanzi_punctuation + string.punctuation) if ch != "'"}


@lru_cache(maxsize=1)
def _zhconv():
    try:
        import zhconv
    except ImportError as exc:
        raise RuntimeError("the seedtts_eval / cv3_eval normalizers convert Chinese hypotheses with zhconv "
                           "(GPL-2.0+, as the references do): pip install -e '.[zhconv]' (make setup installs it)") from exc
    return zhconv


def _reference_rule(char_languages: frozenset[str]) -> Callable[[str, str, bool], str]:
    def normalize(text: str, language: str, hypothesis: bool) -> str:
        if hypothesis and language in _CHINESE:
            text = _zhconv().convert(text, "zh-cn")
        text = text.translate(_reference_deletions())
        # Per-character languages are not lowercased (Latin letters stay case-sensitive tokens);
        # the scorer splits them into characters (whitespace is not a token, as jiwer collapses it).
        return text if language in char_languages else text.lower()
    return normalize


# --- our own: unicode_punct and ztts1 ---------------------------------------------------------

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


def unicode_punct_v2(text: str, language: str, hypothesis: bool = False) -> str:
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


def ztts1_v1(text: str, language: str, hypothesis: bool = False) -> str:
    text = _lower(unicodedata.normalize("NFKC", text), language)
    if language == "en":
        numbers, spelling = _english()
        text = spelling(numbers(unicode_punct_v2(text, language)))
    else:
        text = _spell_digits(text, language)
    return unicode_punct_v2(text, language)


_OWN_CHAR_LANGUAGES = frozenset(code for code, lang in languages.LANGUAGES.items() if lang.unit == "char")


@dataclass(frozen=True)
class Normalizer:
    name: str
    version: str
    fn: Callable[[str, str, bool], str]
    char_languages: frozenset[str]  # scored per character (CER); the rest per word
    reproduces: str | None = None  # the published tool whose rules it follows, if any

    def __call__(self, text: str, language: str, hypothesis: bool = False) -> str:
        """``hypothesis`` marks ASR output: the references convert only it to simplified Chinese."""
        return self.fn(text, language, hypothesis)

    def unit(self, language: str) -> str:
        return "char" if language in self.char_languages else "word"

    def check(self) -> None:
        """Import what the normalizer needs now, so a run fails before synthesis, not mid-scoring."""
        self("测试", "zh", True)

    def identity(self) -> dict:
        return {"name": self.name, "version": self.version}


NORMALIZERS: dict[str, Normalizer] = {
    "seedtts_eval": Normalizer("seedtts_eval", "1", _reference_rule(_CHINESE), _CHINESE,
                               "Seed-TTS-Eval run_wer.py (BytedanceSpeech/seed-tts-eval)"),
    "cv3_eval": Normalizer("cv3_eval", "1", _reference_rule(_CHINESE | {"ja", "ko"}), _CHINESE | {"ja", "ko"},
                           "CV3-Eval utils/run_wer.py (FunAudioLLM/CV3-Eval)"),
    "unicode_punct": Normalizer("unicode_punct", "2", unicode_punct_v2, _OWN_CHAR_LANGUAGES),
    "ztts1": Normalizer("ztts1", "1", ztts1_v1, _OWN_CHAR_LANGUAGES),
}
# Renamed: the old name promised Seed-TTS-Eval's rules, which it never reproduced exactly.
_RENAMED = {"seedtts": "unicode_punct (the old 'seedtts' v2), or seedtts_eval for Seed-TTS-Eval's exact rules"}


def get(name: str) -> Normalizer:
    if name not in NORMALIZERS:
        hint = f" ('{name}' is now {_RENAMED[name]})" if name in _RENAMED else ""
        raise KeyError(f"unknown text normalizer {name!r}{hint}; known: {sorted(NORMALIZERS)}")
    return NORMALIZERS[name]
