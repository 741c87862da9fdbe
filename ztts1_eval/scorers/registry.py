"""Explicit registry of scorers: ``type -> "module:Class"``, imported lazily."""

from __future__ import annotations

from typing import Any

from ztts1_eval.core.registry import resolve
from ztts1_eval.scorers.base import Scorer

SCORERS: dict[str, str] = {
    "pocketsphinx_wer": "ztts1_eval.scorers.pocketsphinx_wer:PocketsphinxWER",
    "resemblyzer_sim": "ztts1_eval.scorers.resemblyzer_sim:ResemblyzerSimilarity",
    "dnsmos": "ztts1_eval.scorers.dnsmos:DNSMOS",
    "qwen3_asr": "ztts1_eval.scorers.qwen3_asr:Qwen3ASRWER",
    "whisper_asr": "ztts1_eval.scorers.whisper_asr:WhisperWER",
    "paraformer_asr": "ztts1_eval.scorers.paraformer_asr:ParaformerWER",
    "by_language": "ztts1_eval.scorers.by_language:ByLanguage",
    "redimnet": "ztts1_eval.scorers.redimnet_sim:ReDimNetSimilarity",
    "unispeech_wavlm_ecapa": "ztts1_eval.scorers.unispeech_sim:UniSpeechWavLMSimilarity",
    "eres2net_sim": "ztts1_eval.scorers.eres2net_sim:ERes2NetSimilarity",
    "emotion2vec": "ztts1_eval.scorers.emotion2vec_emotion:Emotion2vecAccuracy",
    "openai_whisper_asr": "ztts1_eval.scorers.openai_whisper_asr:OpenAIWhisperWER",
    "msr_utmos": "ztts1_eval.scorers.msr_utmos:MSRUTMOS",
    "utmosv2": "ztts1_eval.scorers.utmosv2:UTMOSv2",
    "ttsds2_prosody": "ztts1_eval.scorers.ttsds_prosody:TTSDSProsody",
    "dswed": "ztts1_eval.scorers.dswed:DSWED",
}

def create(scorer_type: str, options: dict[str, Any] | None = None) -> Scorer:
    cls = resolve(SCORERS, scorer_type, "scorer", group="scorers")
    return cls(**(options or {}))
