from collections import Counter

from ztts1_eval.data.demo import build


def test_demo_items_and_pairing(samples):
    items = {item.id: item for item in build(samples)}
    assert Counter(item.language for item in items.values()) == {"en": 12, "de": 7, "es": 7, "fr": 7, "zh": 2, "ja": 1}
    # Two clips of one speaker: the clone prompt is the *other* clip (ITW convention).
    assert items["en-ljspeech_LJ001-0001"].prompt_wav == "en/ljspeech_LJ001-0004.flac"
    assert items["en-ljspeech_LJ001-0004"].prompt_wav == "en/ljspeech_LJ001-0001.flac"
    # LibriSpeech 0001 has no transcript: never an item, but the prompt of 0000.
    assert "en-librispeech_2412-153948-0001" not in items
    assert items["en-librispeech_2412-153948-0000"].prompt_wav == "en/librispeech_2412-153948-0001.flac"
    assert items["en-librispeech_2412-153948-0000"].prompt_text is None
    # FLEURS clips share the label "fleurs_en_unknown" but are different people: self-prompted.
    assert items["en-fleurs_en_003"].prompt_wav == items["en-fleurs_en_003"].gt_wav == "en/fleurs_en_003.ogg"
    assert items["en-fleurs_en_003"].meta["pairing"] == "self_prompt"
    # Default voices without transcripts are not items.
    assert not any("zonos2_default" in item_id for item_id in items)
