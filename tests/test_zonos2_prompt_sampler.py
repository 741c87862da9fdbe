"""Prompt rows, shear, and sampler properties against hand-derived expectations (reference §3, §4.2)."""

import numpy as np
import pytest
import torch

from zonos2.config import release_config
from zonos2.prompt import PromptError, PromptOptions, bucket_of, build_prompt
from zonos2.sampler import SamplingParams, apply_repetition_penalty, filter_probs, sample_frame, sample_frames
from zonos2.shear import SILENCE_CODES, deshear, shear

CFG = release_config()
P = 1025
TEXT = "Hi!"  # bytes 72 105 33 -> 264 297 225
TEXT_IDS = [2, 264, 297, 225, 3]


def _text_column(**kw):
    return build_prompt(CFG, PromptOptions(text=TEXT, **kw))[:, -1].tolist()


@pytest.mark.parametrize("options, head", [
    ({}, [511]),  # no speaker: no slot, no markers; default quality row trailing_silence bucket 3
    ({"has_speaker": True}, [519, 517, 518, 511]),  # slot, noisy background, accurate, quality
    ({"has_speaker": True, "clean_speaker_background": True, "accurate_mode": False}, [519, 516, 511]),
    ({"quality_enabled": False}, []),
    ({"quality_buckets": None}, []),
    ({"speaking_rate_enabled": True, "speaking_rate_bucket": 2}, [450, 511]),
    ({"speaking_rate_enabled": True, "speed": 1.0}, [452, 511]),  # 19 B/s -> "17-21"
    ({"speaking_rate_enabled": True, "speed": 0.5}, [449, 511]),  # 9.5 -> "8-11"
    ({"speaking_rate_enabled": True, "speed": 2.0}, [454, 511]),  # 38 -> "28-40"
    ({"speaking_rate_enabled": True, "speaking_rate": 21.0}, [453, 511]),  # on an edge: goes up
    ({"speaking_rate_enabled": True, "speaking_rate": 99.0}, [455, 511]),  # "40+"
    ({"quality_buckets": {"lufs": 0, "trailing_silence_s": 7}}, [456, 515]),
    ({"quality_buckets": [11, None, None, 7]}, [467, 499]),  # list in feature order
    ({"quality_values": {"estimated_snr": 61, "max_pause": 6.0, "lufs": -50}}, [457, 479, 491]),
    ({"has_speaker": True, "speaking_rate_enabled": True, "speaking_rate_bucket": 0,
      "quality_buckets": {"leading_silence_s": 1}}, [519, 517, 518, 448, 501]),
])
def test_prompt_rows(options, head):
    rows = build_prompt(CFG, PromptOptions(text=TEXT, **options))
    column = rows[:, -1].tolist()
    assert column == head + TEXT_IDS + [519] * 17
    assert (rows[: len(head) + len(TEXT_IDS), :9] == P).all()  # conditioning and text rows: audio pad
    assert np.array_equal(rows[-17:, :9], shear(SILENCE_CODES))


def test_silence_tail_is_sheared_and_truncated():
    tail = shear(SILENCE_CODES)
    assert tail.shape == (17, 9)
    assert tail[0].tolist() == [568] + [P] * 8
    assert tail[8].tolist() == [SILENCE_CODES[8 - c, c] for c in range(9)]
    assert tail[16, 8] == SILENCE_CODES[8, 8]  # the last 8 source rows of cb8 are dropped


def test_shear_roundtrip():
    block = np.random.default_rng(0).integers(0, 1024, size=(30, 9))
    restored = deshear(shear(block))
    assert np.array_equal(restored[:22], block[:22])  # the last c rows of codebook c are pads
    assert (restored[29, 1:] == P).all()


def test_quality_value_buckets_follow_the_servers_rules():
    labels = CFG.quality_buckets["lufs"]
    assert bucket_of(-2000, labels) == 0 and bucket_of(-50, labels) == 1 and bucket_of(3, labels) == 11
    # An open-ended last bucket: the closed range before it stays half-open (server: -5 -> '-5+').
    assert bucket_of(-5, labels) == 11 and bucket_of(60, CFG.quality_buckets["estimated_snr"]) == 11
    assert bucket_of(4.0, CFG.quality_buckets["leading_silence_s"]) == 7
    pause = CFG.quality_buckets["max_pause"]  # closed last range: inclusive
    assert bucket_of(6.0, pause) == 11 and bucket_of(9.0, pause) == 11 and bucket_of(0.5, pause) == 1
    # Not a finite number: no bucket, so no row (a label string is not a number either).
    for bad in (float("nan"), float("inf"), "-50--45.5", "loud", None):
        assert bucket_of(bad, labels) is None
    assert bucket_of("0", ["0", "1-2", "2+"]) == 0 and bucket_of(2.0, ["0", "1-2", "2+"]) == 2
    with_nan = build_prompt(CFG, PromptOptions(text="x", quality_buckets=None,
                                               quality_values={"lufs": float("nan"), "max_pause": 0.7}))
    without = build_prompt(CFG, PromptOptions(text="x", quality_buckets=None, quality_values={"max_pause": 0.7}))
    np.testing.assert_array_equal(with_nan, without)


def test_speaking_rate_rules_follow_the_server():
    enabled_empty = build_prompt(CFG, PromptOptions(text="x", speaking_rate_enabled=True))
    np.testing.assert_array_equal(enabled_empty, build_prompt(CFG, PromptOptions(text="x")))  # no row, no error
    on_edge = build_prompt(CFG, PromptOptions(text="x", speaking_rate_enabled=True, speaking_rate=21.0 - 1e-10))
    above = build_prompt(CFG, PromptOptions(text="x", speaking_rate_enabled=True, speaking_rate=21.5))
    np.testing.assert_array_equal(on_edge, above)  # within 1e-9 of an edge goes up
    for bad in ({"speaking_rate": 0.0}, {"speed": -1.0}):
        with pytest.raises(PromptError, match="must be positive"):
            build_prompt(CFG, PromptOptions(text="x", speaking_rate_enabled=True, **bad))


def test_penalty_below_one_and_zero_temperature_are_clamped_as_the_server():
    logits = torch.full((9, 1026), 2.0)
    history = torch.tensor([[3] * 9])
    boosted = apply_repetition_penalty(logits, history, SamplingParams(repetition_penalty=0.5))
    assert torch.equal(boosted, logits)  # clamped to 1: no effect
    assert SamplingParams(temperature=0.0).effective_temperature == 1e-6


@pytest.mark.parametrize("options, message", [
    ({"text": ""}, "empty text"),
    ({"text": "   "}, "empty text"),
    ({"text": "x" * 7000}, "context limit"),
    ({"text": "x", "speaking_rate_enabled": True, "speed": 1, "speaking_rate": 3}, "only one of"),
    ({"text": "x", "quality_buckets": {"loudness": 1}}, "unknown quality features"),
    ({"text": "x", "quality_buckets": {"lufs": 12}}, "outside 0..11"),
])
def test_prompt_errors(options, message):
    with pytest.raises(PromptError, match=message):
        build_prompt(CFG, PromptOptions(**options))


def test_repetition_penalty_distinct_values_first_8_codebooks():
    logits = torch.full((9, 1026), 2.0)
    logits[:, 5] = -2.0
    history = torch.tensor([[3] * 9, [3] * 9, [5] * 9, [1024] * 9])
    out = apply_repetition_penalty(logits, history, SamplingParams())
    assert out[0, 3] == pytest.approx(2.0 / 1.2)  # positive: divided, not stacked for 2 repeats
    assert out[0, 5] == pytest.approx(-2.0 * 1.2)  # negative: multiplied
    assert out[0, 1024] == 2.0  # EOA is never penalized
    assert out[8, 3] == 2.0  # codebook 8 not penalized
    window = apply_repetition_penalty(logits, history, SamplingParams(repetition_window=2))
    assert window[0, 3] == 2.0 and window[0, 5] != -2.0
    assert torch.equal(apply_repetition_penalty(logits, history[:0], SamplingParams()), logits)


def test_top_k_and_min_p_restrict_the_support():
    logits = torch.linspace(-5, 5, 1026).repeat(9, 1)
    probs = filter_probs(logits, SamplingParams(top_k=10, min_p=0.0))
    assert int((probs[0] > 0).sum()) == 10 and probs[0, -10:].gt(0).all()
    probs = filter_probs(logits, SamplingParams(top_k=1026, min_p=0.5))
    kept = probs[0] > 0
    assert kept.sum() > 1 and torch.allclose(probs.sum(-1), torch.ones(9))
    assert float(probs[0][kept].min()) >= 0.5 * float(probs[0].max()) - 1e-7
    top_p = filter_probs(torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]])), SamplingParams(top_k=4, min_p=0.0, top_p=0.7, temperature=1.0))
    assert top_p[0].gt(0).tolist() == [True, True, False, False]


def test_seeded_sampling_is_deterministic_and_greedy_at_zero_temperature():
    logits = torch.randn(9, 1026)
    params = SamplingParams(top_k=1000, min_p=0.0)
    a = sample_frame(logits, torch.empty(0, 9, dtype=torch.long), params, torch.Generator().manual_seed(5))
    b = sample_frame(logits, torch.empty(0, 9, dtype=torch.long), params, torch.Generator().manual_seed(5))
    c = sample_frame(logits, torch.empty(0, 9, dtype=torch.long), params, torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)
    greedy = sample_frame(logits, torch.empty(0, 9, dtype=torch.long), SamplingParams(temperature=0), None)
    assert torch.equal(greedy, logits.argmax(-1))


def test_batched_sampling_gives_each_row_its_own_draw():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 9, 1025, generator=gen) * 3
    histories = [torch.randint(0, 1025, (n, 9), generator=gen) for n in (0, 5, 60, 12)]
    params = [SamplingParams(seed=1), SamplingParams(seed=2, top_p=0.8), SamplingParams(seed=3, max_frames=9),
              SamplingParams(seed=4, temperature=0.7, repetition_codebooks=-1)]
    batched = sample_frames(logits, histories, params, [torch.Generator().manual_seed(p.seed) for p in params])
    for row, p in enumerate(params):
        alone = sample_frame(logits[row], histories[row], p, torch.Generator().manual_seed(p.seed))
        assert torch.equal(batched[row], alone)
