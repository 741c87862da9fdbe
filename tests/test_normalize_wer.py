import pytest

from ztts1_eval import normalize
from ztts1_eval.wer import edit_counts

seedtts = normalize.get("seedtts")


def test_seedtts_normalizer():
    assert seedtts("And so, my fellow Americans: ask NOT!", "en") == "and so my fellow americans ask not"
    assert seedtts("Don't say “hello” — it's 'quoted'.", "en") == "don't say hello it's quoted"
    assert seedtts("广州市，房地产。", "zh") == "广州市 房地产"
    assert seedtts("¿Cierto? «sí»", "es") == "cierto sí"
    assert seedtts.identity() == {"name": "seedtts", "version": "1"}
    with pytest.raises(KeyError, match="unknown text normalizer"):
        normalize.get("nope")


def test_word_error_counts():
    c = edit_counts("the cat sat on the mat", "a cat sat on mat", "en")
    assert (c.unit, c.ref_units, c.hits, c.substitutions, c.deletions, c.insertions) == ("word", 6, 4, 1, 1, 0)
    assert c.rate == pytest.approx(2 / 6)
    c = edit_counts("the cat", "the black cat", "en")
    assert (c.hits, c.insertions, c.errors) == (2, 1, 1) and c.rate == pytest.approx(0.5)


def test_character_error_for_chinese():
    c = edit_counts("广州市 房地产", "广州房地产", "zh")
    assert c.unit == "char" and c.ref_units == 6 and c.deletions == 1 and c.errors == 1


def test_empty_hypothesis_is_all_deletions_and_empty_reference_fails():
    c = edit_counts("one two three", "", "en")
    assert c.deletions == 3 and c.rate == 1.0
    with pytest.raises(ValueError, match="reference text is empty"):
        edit_counts("", "x", "en")
