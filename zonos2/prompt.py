"""Prompt rows for one request (reference §3): every row is 9 audio ids + 1 text-column id.

Order: [speaker slot] [background] [accurate] [speaking rate] [quality...] BOS bytes EOS
[17 sheared silence frames]. The speaker slot is a placeholder row whose embedding the model
replaces with the projected speaker vector."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from zonos2.config import Zonos2Config
from zonos2.shear import PAD, SILENCE_CODES, shear

BOS, EOS, BYTE_OFFSET = 2, 3, 192
NEUTRAL_RATE_BUCKET = 4  # "17-21": speed 1.0 = its midpoint
DEFAULT_QUALITY = {"trailing_silence_s": 3}


class PromptError(ValueError):
    """A request that cannot become a prompt; the message says which field."""


@dataclass(frozen=True)
class PromptOptions:
    text: str
    has_speaker: bool = False
    clean_speaker_background: bool = False
    accurate_mode: bool = True
    speaking_rate_enabled: bool = False
    speaking_rate_bucket: int | None = None
    speaking_rate: float | None = None  # bytes per second
    speed: float | None = None  # multiplier of the neutral rate
    quality_enabled: bool = True
    quality_buckets: Mapping[str, int] | Sequence[int | None] | None = field(default_factory=lambda: dict(DEFAULT_QUALITY))
    quality_values: Mapping[str, Any] | Sequence[Any] | None = None


_RANGE = re.compile(r"^(-?\d+(?:\.\d+)?)-(-?\d+(?:\.\d+)?)$")
_OPEN = re.compile(r"^(-?\d+(?:\.\d+)?)\+$")


def _parse_label(label: str) -> tuple[float, float | None]:
    """'a-b' -> (a, b); 'a+' -> (a, None). Handles negative bounds such as '-50--45.5'."""
    if m := _RANGE.match(label):
        return float(m.group(1)), float(m.group(2))
    if m := _OPEN.match(label):
        return float(m.group(1)), None
    raise PromptError(f"cannot parse bucket label {label!r}")


def _parse_spec(label: str) -> tuple[str, float, float | None]:
    """A bucket label as the server reads it: ("exact", v, None) for '0', ("range", a, b) for
    'a-b', ("range", a, None) for 'a+'."""
    try:
        return "exact", float(label), None
    except ValueError:
        low, high = _parse_label(label)
        return "range", low, high


def bucket_of(value: Any, labels: Sequence[str]) -> int | None:
    """Raw value -> bucket as the official server maps it; None (no row) for a value that is not
    a finite number. Exact labels match first (within 1e-9); ranges are [low, high) except the
    last range of the list, which is inclusive when closed; 'X+' = >= X; below the first range
    -> the first range, above -> the last."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(value):
        return None
    specs = [_parse_spec(label) for label in labels]
    for i, (kind, low, _) in enumerate(specs):
        if kind == "exact" and math.isclose(value, low, rel_tol=1e-12, abs_tol=1e-9):
            return i
    ranges = [i for i, (kind, _, _) in enumerate(specs) if kind == "range"]
    if not ranges:
        return None
    for i in ranges:
        _, low, high = specs[i]
        if high is None:
            if value >= low:
                return i
        elif low <= value < high or (i == ranges[-1] and low <= value <= high):
            return i
    return ranges[0] if value < specs[ranges[0]][1] else ranges[-1]


def speaking_rate_bucket(config: Zonos2Config, options: PromptOptions) -> int | None:
    if not options.speaking_rate_enabled:
        return None
    given = {k: v for k, v in (("speaking_rate_bucket", options.speaking_rate_bucket),
                               ("speaking_rate", options.speaking_rate), ("speed", options.speed)) if v is not None}
    if not given:  # the server adds no row (and no error)
        return None
    if len(given) > 1:
        raise PromptError(f"give only one of speaking_rate_bucket, speaking_rate, speed; got {sorted(given)}")
    labels = config.speaking_rate_buckets
    if options.speaking_rate_bucket is not None:
        bucket = int(options.speaking_rate_bucket)
        if not 0 <= bucket < len(labels):
            raise PromptError(f"speaking_rate_bucket {bucket} outside 0..{len(labels) - 1}")
        return bucket
    if options.speaking_rate is not None:
        rate = float(options.speaking_rate)
    else:
        low, high = _parse_label(labels[NEUTRAL_RATE_BUCKET])
        rate = float(options.speed) * (low + high) / 2.0
    if rate <= 0:
        raise PromptError(f"speaking rate must be positive, got {rate}")
    # First bucket whose upper edge is greater (a value on an edge, within 1e-9, goes up).
    for i, label in enumerate(labels):
        _, high = _parse_label(label)
        if high is None or (rate < high and not math.isclose(rate, high, rel_tol=1e-12, abs_tol=1e-9)):
            return i
    return len(labels) - 1


def _per_feature(config: Zonos2Config, given: Mapping[str, Any] | Sequence[Any]) -> dict[str, Any]:
    if isinstance(given, Mapping):
        unknown = set(given) - set(config.quality_features)
        if unknown:
            raise PromptError(f"unknown quality features {sorted(unknown)}; known: {list(config.quality_features)}")
        return {f: given[f] for f in config.quality_features if given.get(f) is not None}
    if len(given) > len(config.quality_features):
        raise PromptError(f"{len(given)} quality values for {len(config.quality_features)} features")
    return {f: v for f, v in zip(config.quality_features, given) if v is not None}


def quality_ids(config: Zonos2Config, options: PromptOptions) -> list[int]:
    if not options.quality_enabled:
        return []
    if options.quality_values is not None and options.quality_buckets not in (None, DEFAULT_QUALITY):
        raise PromptError("give quality_buckets or quality_values, not both")
    ids = []
    if options.quality_values is not None:
        for feature, value in _per_feature(config, options.quality_values).items():
            bucket = bucket_of(value, config.quality_buckets[feature])
            if bucket is not None:  # a non-finite or non-numeric value gives no row, as the server
                ids.append(config.quality_offset(feature) + bucket)
    elif options.quality_buckets is not None:
        for feature, bucket in _per_feature(config, options.quality_buckets).items():
            n = len(config.quality_buckets[feature])
            if not 0 <= int(bucket) < n:
                raise PromptError(f"quality bucket {bucket} for {feature} outside 0..{n - 1}")
            ids.append(config.quality_offset(feature) + int(bucket))
    return ids


def text_ids(text: str) -> list[int]:
    if not text or not text.strip():
        raise PromptError("empty text")
    return [BOS] + [b + BYTE_OFFSET for b in text.encode("utf-8")] + [EOS]


def build_prompt(config: Zonos2Config, options: PromptOptions) -> np.ndarray:
    """Prompt frames [P, n_codebooks + 1] (int64)."""
    text_column: list[int] = []
    if options.has_speaker:
        if not config.speaker_enabled:
            raise PromptError("this checkpoint has no speaker conditioning")
        text_column.append(config.text_pad_id)  # speaker slot, position 0
        if config.speaker_background_token_enabled:
            clean, noisy = config.background_ids
            text_column.append(clean if options.clean_speaker_background else noisy)
        if config.accurate_mode_token_enabled and options.accurate_mode:
            text_column.append(config.accurate_id)
    bucket = speaking_rate_bucket(config, options)
    if bucket is not None:
        text_column.append(config.condition_base + bucket)
    text_column += quality_ids(config, options)
    text_column += text_ids(options.text)
    rows = np.full((len(text_column), config.n_codebooks + 1), PAD, dtype=np.int64)
    rows[:, -1] = text_column
    silence = np.full((len(SILENCE_CODES), config.n_codebooks + 1), config.text_pad_id, dtype=np.int64)
    silence[:, : config.n_codebooks] = shear(SILENCE_CODES[:, : config.n_codebooks])
    prompt = np.concatenate([rows, silence])
    if len(prompt) >= config.max_seqlen:
        raise PromptError(f"prompt of {len(prompt)} frames reaches the context limit of {config.max_seqlen} "
                          f"(text of {len(options.text.encode('utf-8'))} bytes is too long; split it)")
    return prompt
