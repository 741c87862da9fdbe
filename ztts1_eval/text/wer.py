"""Word/character error counts from normalized texts (jiwer), kept per item so the corpus
error rate can be summed exactly."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import jiwer



@dataclass(frozen=True)
class EditCounts:
    unit: str  # "word" | "char"
    ref_units: int
    hits: int
    substitutions: int
    deletions: int
    insertions: int

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def rate(self) -> float:
        return self.errors / self.ref_units

    def to_fields(self, prefix: str) -> dict:
        out = {f"{prefix}_{k}": v for k, v in asdict(self).items()}
        out[f"{prefix}_errors"] = self.errors
        return out


def _tokens(text: str, unit: str) -> str:
    if unit == "char":
        return " ".join(ch for ch in text if not ch.isspace())
    return text


def edit_counts(reference: str, hypothesis: str, unit: str) -> EditCounts:
    """Counts on already-normalized texts; ``unit="char"`` compares characters, whitespace
    ignored. Words are split as jiwer's default transform does (runs of whitespace collapse to
    one space, then split on spaces), which is also what Seed-TTS-Eval and CV3-Eval rely on."""
    ref = _tokens(reference, unit)
    hyp = _tokens(hypothesis, unit)
    if not ref.strip():
        raise ValueError("reference text is empty after normalization")
    if not hyp.strip():  # jiwer rejects empty strings: an empty hypothesis deletes everything
        n = len(ref.split())
        return EditCounts(unit, n, 0, 0, n, 0)
    out = jiwer.process_words(ref, hyp)
    return EditCounts(unit, out.hits + out.substitutions + out.deletions, out.hits, out.substitutions, out.deletions, out.insertions)


def score_transcript(reference: str, hypothesis: str, language: str, normalizer) -> tuple[dict, str | None]:
    """Per-item fields kept by every ASR scorer (raw hypothesis, both normalized texts, edit
    counts, rate) and a failure reason or None. The normalizer decides the unit (word or
    character) per language and treats the hypothesis as ASR output."""
    ref_norm = normalizer(reference or "", language)
    hyp_norm = normalizer(hypothesis, language, hypothesis=True)
    unit = normalizer.unit(language)
    values = {"asr_hypothesis": hypothesis, "wer_ref_norm": ref_norm, "wer_hyp_norm": hyp_norm, "wer_unit": unit}
    try:
        counts = edit_counts(ref_norm, hyp_norm, unit)
    except ValueError as exc:
        return values, str(exc)
    return {**values, "wer": counts.rate, **counts.to_fields("wer")}, None
