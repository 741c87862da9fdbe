"""One scorer slot served by a different scorer per language, as protocols that use one ASR per
language define it (Seed-TTS-Eval: Whisper-large-v3 for English, Paraformer-zh for Chinese).

The slot keeps one metric and one table column; each item goes to its language's scorer, and the
slot's identity holds every scorer's identity, so any change re-scores the slot. The scorers must
produce the same metrics and take audio at the same rates. A ``normalizer`` given to the slot (a
benchmark's rule, e.g. ``conf/benchmark/seedtts.yaml``) is handed to every scorer. ``only`` (the
benchmark's languages) leaves the other languages' scorers out, so a one-language benchmark need
not fetch the other language's model. The key ``other`` serves every language not named (CV3-Eval:
Paraformer for zh, Whisper for the rest).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ztts1_eval.scorers.base import ScoreInput, ScoreOutput, Scorer, ScorerInfo, ScorerUnavailable

ANY = "other"  # the entry for every language not named


def _wanted(language: str, only: Sequence[str] | None, named: set[str]) -> bool:
    """Whether a slot entry serves any of the benchmark's languages (``only``; None: all)."""
    if only is None:
        return True
    return any(lang not in named for lang in only) if language == ANY else language in only


class ByLanguage(Scorer):
    type_name = "by_language"

    def __init__(self, by_language: Mapping[str, Mapping[str, Any]], only: Sequence[str] | None = None,
                 normalizer: str | None = None, batch_size: int = 8):
        from ztts1_eval.scorers import registry

        self.scorers: dict[str, Scorer] = {}
        missing = []
        for language, spec in by_language.items():
            if not _wanted(language, only, set(by_language)):
                continue
            spec = dict(spec)
            if normalizer is not None:
                spec["normalizer"] = normalizer
            try:
                self.scorers[language] = registry.create(spec.pop("type"), spec)
            except ScorerUnavailable as exc:
                missing.append(f"{language}: {exc} (in this slot the options are under by_language.{language})")
        if missing:
            raise ScorerUnavailable("; ".join(missing))
        if not self.scorers:
            raise ValueError("by_language: name at least one language and its scorer")
        infos = {language: scorer.info for language, scorer in self.scorers.items()}
        first = next(iter(infos.values()))
        for language, info in infos.items():
            same = (info.metrics, info.sample_rate, info.native_rates, info.kind, info.needs_reference_audio)
            if same != (first.metrics, first.sample_rate, first.native_rates, first.kind, first.needs_reference_audio):
                raise ValueError(f"by_language: the {language} scorer differs from the others in metrics, rates or "
                                 "kind; one slot needs scorers that are interchangeable")
            if language != ANY and not info.supports(language):
                raise ValueError(f"by_language: the {language} scorer ({self.scorers[language].type_name}) does not "
                                 "score that language")
        self.batch_size = batch_size
        self.info = ScorerInfo(
            needs_text=any(i.needs_text for i in infos.values()), needs_reference_audio=first.needs_reference_audio,
            kind=first.kind, sample_rate=first.sample_rate,
            languages=None if ANY in self.scorers else frozenset(self.scorers),
            metrics=first.metrics, native_rates=first.native_rates,
            unsupported_reason=f"this protocol scores only {', '.join(sorted(self.scorers))}",
        )
        self._loaded: set[str] = set()

    def identity(self) -> dict[str, Any]:
        return {"type": self.type_name,
                "by_language": {language: scorer.identity() for language, scorer in sorted(self.scorers.items())}}

    def score(self, batch: Sequence[ScoreInput]) -> list[ScoreOutput]:
        outputs: list[ScoreOutput | None] = [None] * len(batch)
        for language, scorer in self.scorers.items():
            positions = [i for i, item in enumerate(batch) if self._route(item.language) == language]
            if not positions:
                continue
            if language not in self._loaded:  # only the languages this run has
                scorer.load()
                self._loaded.add(language)
            for position, output in zip(positions, scorer.score([batch[i] for i in positions])):
                outputs[position] = output
        return [out or ScoreOutput(status="failed", reason="no scorer for this language") for out in outputs]

    def _route(self, language: str) -> str | None:
        if language in self.scorers:
            return language
        return ANY if ANY in self.scorers else None

    def close(self) -> None:
        for scorer in self.scorers.values():
            scorer.close()
        self._loaded.clear()
