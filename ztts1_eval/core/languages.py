"""Language codes the benchmark knows, and how content errors are counted for each.

Codes are ISO 639-1 where one exists (639-3 otherwise, e.g. ``yue``). A manifest with any
other code is rejected: a typo such as ``en-US`` or ``cn`` must not silently become its own
language column.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    # "char" -> CER (scripts written without spaces between words), "word" -> WER.
    unit: str = "word"


_LANGUAGES = [
    Language("ar", "Arabic"),
    Language("cs", "Czech"),
    Language("de", "German"),
    Language("el", "Greek"),
    Language("en", "English"),
    Language("es", "Spanish"),
    Language("fa", "Persian"),
    Language("fi", "Finnish"),
    Language("fr", "French"),
    Language("he", "Hebrew"),
    Language("hi", "Hindi"),
    Language("hu", "Hungarian"),
    Language("id", "Indonesian"),
    Language("it", "Italian"),
    Language("ja", "Japanese", "char"),
    Language("ko", "Korean", "char"),
    Language("ms", "Malay"),
    Language("nl", "Dutch"),
    Language("pl", "Polish"),
    Language("pt", "Portuguese"),
    Language("ro", "Romanian"),
    Language("ru", "Russian"),
    Language("sv", "Swedish"),
    Language("th", "Thai", "char"),
    Language("tl", "Tagalog"),
    Language("tr", "Turkish"),
    Language("uk", "Ukrainian"),
    Language("vi", "Vietnamese"),
    Language("yue", "Cantonese", "char"),
    Language("zh", "Chinese", "char"),
]

LANGUAGES: dict[str, Language] = {lang.code: lang for lang in _LANGUAGES}

def is_known(code: str) -> bool:
    return code in LANGUAGES

