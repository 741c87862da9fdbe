"""Seed-TTS-Eval's and CV3-Eval's WER rules, written out step by step as their scripts run them
(``run_wer.py``: ``process_one``, then ``jiwer.compute_measures``), so our normalizers can be
checked against them. Deliberately literal (a loop over the punctuation characters, a string
join per character, jiwer's own transform), unlike ``ztts1_eval.text.normalize``.

Seed-TTS-Eval (BytedanceSpeech/seed-tts-eval, run_wer.py, unchanged since 2024-06-03):
  hypothesis of zh -> zhconv.convert(hyp, 'zh-cn')
  for x in zhon.hanzi.punctuation + string.punctuation: if x != "'": text = text.replace(x, '')
  text = text.replace('  ', ' ')
  zh: text = " ".join([x for x in text]) ; en: text = text.lower()
  WER = jiwer.compute_measures(truth, hypo)["wer"] per utterance, then the mean over utterances
CV3-Eval (FunAudioLLM/CV3-Eval, utils/run_wer.py): the same with lang[-2:] in {zh, ja, ko}
split per character and every other language lowercased.
"""

from __future__ import annotations

import string

import jiwer
import zhconv
from zhon.hanzi import punctuation as hanzi_punctuation


def process_one(text: str, per_character: bool) -> str:
    for x in hanzi_punctuation + string.punctuation:
        if x == "'":
            continue
        text = text.replace(x, "")
    text = text.replace("  ", " ")
    if per_character:
        return " ".join([x for x in text])
    return text.lower()


def utterance_wer(truth: str, hypo: str, language: str, protocol: str) -> float:
    """One utterance's WER as the reference script computes it (jiwer.compute_measures was
    removed in jiwer 4; process_words with the same default transform gives the same counts)."""
    char_languages = {"zh"} if protocol == "seedtts" else {"zh", "ja", "ko"}
    if language == "zh":
        hypo = zhconv.convert(hypo, "zh-cn")
    per_character = language in char_languages
    truth, hypo = process_one(truth, per_character), process_one(hypo, per_character)
    return jiwer.process_words(truth, hypo).wer
