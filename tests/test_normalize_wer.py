import pytest

from ztts1_eval.text import normalize
from ztts1_eval.text.wer import edit_counts

unicode_punct = normalize.get("unicode_punct")


def test_unicode_punct_normalizer():
    assert unicode_punct("And so, my fellow Americans: ask NOT!", "en") == "and so my fellow americans ask not"
    assert unicode_punct("Don't say “hello” — it's 'quoted'.", "en") == "don't say hello it's quoted"
    assert unicode_punct("广州市，房地产。", "zh") == "广州市 房地产"
    assert unicode_punct("¿Cierto? «sí»", "es") == "cierto sí"
    assert unicode_punct.identity() == {"name": "unicode_punct", "version": "2"}
    with pytest.raises(KeyError, match="unknown text normalizer"):
        normalize.get("nope")
    with pytest.raises(KeyError, match="now unicode_punct"):
        normalize.get("seedtts")


def test_word_error_counts():
    c = edit_counts("the cat sat on the mat", "a cat sat on mat", "word")
    assert (c.unit, c.ref_units, c.hits, c.substitutions, c.deletions, c.insertions) == ("word", 6, 4, 1, 1, 0)
    assert c.rate == pytest.approx(2 / 6)
    c = edit_counts("the cat", "the black cat", "word")
    assert (c.hits, c.insertions, c.errors) == (2, 1, 1) and c.rate == pytest.approx(0.5)


def test_character_error_for_chinese():
    c = edit_counts("广州市 房地产", "广州房地产", "char")
    assert c.unit == "char" and c.ref_units == 6 and c.deletions == 1 and c.errors == 1


def test_empty_hypothesis_is_all_deletions_and_empty_reference_fails():
    c = edit_counts("one two three", "", "word")
    assert c.deletions == 3 and c.rate == 1.0
    with pytest.raises(ValueError, match="reference text is empty"):
        edit_counts("", "x", "word")


# (language, text, unicode_punct, ztts1): one golden case per ZTTS1 language plus mixed scripts.
GOLDEN = [
    ("ar", 'قال: "مرحبا"، عندي 3 كتب.', "قال مرحبا عندي 3 كتب", "قال مرحبا عندي ثلاثة كتب"),
    ("de", "Er sagte: „Grüß Gott!“ – 2 Mal.", "er sagte grüß gott 2 mal", "er sagte grüß gott zwei mal"),
    ("en", "Mr. Smith's colour TV cost twenty-five dollars in 1999!",
     "mr smith's colour tv cost twenty five dollars in 1999", "mr smith's color tv cost 25 in 1999"),
    ("es", "¿Cuántos años tienes? ¡Tengo 21!", "cuántos años tienes tengo 21", "cuántos años tienes tengo veintiuno"),
    ("fr", "L'été, c'est « super » : 10 jours.", "l'été c'est super 10 jours", "l'été c'est super dix jours"),
    ("hi", "मैंने 5 किताबें पढ़ीं।", "मैंने 5 किताबें पढ़ीं", "मैंने 5 किताबें पढ़ीं"),  # matras kept; no hi speller
    ("id", "Saya punya 2 kucing, bukan?", "saya punya 2 kucing bukan", "saya punya dua kucing bukan"),
    ("it", "Perché l'ho fatto? 7 volte!", "perché l'ho fatto 7 volte", "perché l'ho fatto sette volte"),
    ("ja", "東京タワーは333メートルです。", "東京タワーは333メートルです", "東京タワーは 三百三十三 メートルです"),
    ("ko", "안녕하세요! 저는 3살이에요.", "안녕하세요 저는 3살이에요", "안녕하세요 저는 삼 살이에요"),
    ("pl", "Zażółć gęślą jaźń — 4 razy.", "zażółć gęślą jaźń 4 razy", "zażółć gęślą jaźń cztery razy"),
    ("pt", "Ação, coração… 12 vezes!", "ação coração 12 vezes", "ação coração doze vezes"),
    ("ru", "Ёлка стоит 100 рублей, да?", "ёлка стоит 100 рублей да", "ёлка стоит сто рублей да"),
    ("th", "ฉันมี 2 แมว และ หมา", "ฉันมี 2 แมว และ หมา", "ฉันมี สอง แมว และ หมา"),  # tone marks kept
    ("tl", "Salamat po! Mayroon akong 3 aso.", "salamat po mayroon akong 3 aso", "salamat po mayroon akong 3 aso"),
    ("tr", "İstanbul'da 5 gün kaldım. IRMAK", "istanbul'da 5 gün kaldım ırmak", "istanbul'da beş gün kaldım ırmak"),
    ("zh", "我們在2011年開會，好嗎？", "我们在2011年开会 好吗", "我们在2011年开会 好吗"),  # traditional -> simplified
    ("en", "iPhone 15 Pro — “Hello” 東京", "iphone 15 pro hello 東京", "iphone 15 pro hello 東京"),
]


@pytest.mark.parametrize("language, text, seed_expected, ztts1_expected", GOLDEN)
def test_normalizer_golden(language, text, seed_expected, ztts1_expected):
    assert normalize.get("unicode_punct")(text, language) == seed_expected
    assert normalize.get("ztts1")(text, language) == ztts1_expected


def test_ztts1_makes_number_and_spelling_variants_agree():
    z = normalize.get("ztts1")
    assert z("He paid fifty dollars for the colour TV", "en") == z("he paid $50 for the color TV", "en")
    assert z("Es kostet 25 Euro", "de") == z("es kostet fünfundzwanzig euro", "de")
    assert edit_counts(z("in nineteen ninety", "en"), z("in 1990", "en"), "word").errors == 0
    assert normalize.get("ztts1").identity() == {"name": "ztts1", "version": "1"}


def test_cer_counts_thai_and_japanese_by_character():
    z = normalize.get("ztts1")
    assert edit_counts("สวัสดี", "สวัสดี", z.unit("th")).ref_units == 6
    assert edit_counts("東京です", "東京です", z.unit("ja")).rate == 0.0
