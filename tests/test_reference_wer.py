"""Golden comparison: our ``seedtts_eval`` / ``cv3_eval`` normalizers + edit counts give the same
per-utterance WER as Seed-TTS-Eval's and CV3-Eval's published rules (tests/reference_wer.py)."""

import pytest

from reference_wer import utterance_wer
from ztts1_eval.text import normalize
from ztts1_eval.text.wer import score_transcript

# (language, reference text, ASR hypothesis): hyphens, dotted abbreviations, quotes of every kind,
# full-width digits and punctuation, traditional/simplified mixes, mixed-case Latin in Chinese,
# emoji, ideographic spaces, Korean spacing, Thai, Cyrillic.
PAIRS = [
    ("en", "Hello, world!", " hello world."),
    ("en", "Don't stop—it's well-known.", "Don’t stop, it's well known."),
    ("en", "The U.S.A. and Mr. Smith.", "the USA and mister smith"),
    ("en", "She said \"yes\" and 'no'.", "she said yes and no"),
    ("en", "It costs $5.32 (approx.)", "it costs five dollars thirty two cents approx"),
    ("en", "Rock 'n' roll, y'all!", "rock n roll yall"),
    ("en", "Emoji 😀 time 🎉!", "emoji time"),
    ("en", "ＦＵＬＬ ｗｉｄｔｈ １２３", "full width 123"),
    ("en", "e-mail & co-operate / 50%", "email and cooperate 50 percent"),
    ("en", "Tab\tseparated  words", "tab separated words"),
    ("en", "…and the «quoted» text…", "and the quoted text"),
    ("zh", "你好，世界！", "你好世界"),
    ("zh", "我用iPhone拍照。", "我用iphone拍照"),
    ("zh", "我們在2011年開會，好嗎？", "我们在二零一一年开会好吗"),
    ("zh", "广州市房地产中介协会分析", "廣州市房地產中介協會分析"),
    ("zh", "他说：“今天天气很好。”", "他說今天天氣很好"),
    ("zh", "价格是１２３元", "价格是123元"),
    ("zh", "这是　一个　测试", "這是一個測試"),
    ("zh", "《红楼梦》的作者是曹雪芹", "红楼梦的作者是曹雪芹😀"),
    ("zh", "A股和B股", "a股和b股"),
    ("ja", "こんにちは、世界・テスト。", "こんにちは世界テスト"),
    ("ja", "東京タワーは333メートルです。", "東京タワーは３３３メートルです"),
    ("ja", "「はい」と言った", "はいといった"),
    ("ko", "안녕 하세요!", "안녕하세요"),
    ("ko", "저는 3살이에요.", "저는 세살이에요"),
    ("de", "Er sagte: „Grüß Gott!“ – 2-mal.", "er sagte grüß gott zweimal"),
    ("de", "Das ist z.B. die U-Bahn.", "das ist zum beispiel die ubahn"),
    ("fr", "«Bonjour» l’homme", "bonjour l'homme"),
    ("fr", "L'été, c'est « super » !", "l'été c'est super"),
    ("fr", "Aujourd’hui, peut-être.", "aujourd'hui peut être"),
    ("ru", "Ёлка стоит 100 рублей, да?", "елка стоит сто рублей да"),
    ("ru", "«Привет», — сказал он.", "привет сказал он"),
    ("th", "ฉันมี 2 แมว และ หมา", "ฉันมีสองแมวและหมา"),
    ("th", "สวัสดีครับ!", "สวัสดีครับ"),
    ("es", "¿Cuántos años tienes? ¡Tengo 21!", "cuántos años tienes tengo 21"),
]


def ours(reference: str, hypothesis: str, language: str, name: str) -> float:
    values, failure = score_transcript(reference, hypothesis, language, normalize.get(name))
    assert failure is None
    return values["wer"]


@pytest.mark.parametrize("language, reference, hypothesis", PAIRS)
def test_seedtts_eval_matches_the_reference(language, reference, hypothesis):
    assert ours(reference, hypothesis, language, "seedtts_eval") == pytest.approx(
        utterance_wer(reference, hypothesis, language, "seedtts"), abs=1e-12)


@pytest.mark.parametrize("language, reference, hypothesis", PAIRS)
def test_cv3_eval_matches_the_reference(language, reference, hypothesis):
    assert ours(reference, hypothesis, language, "cv3_eval") == pytest.approx(
        utterance_wer(reference, hypothesis, language, "cv3"), abs=1e-12)


def test_the_pairs_exercise_the_rules():
    """Hand-checked values, so the pairs above cannot all be trivially zero."""
    assert len(PAIRS) >= 30 and len({lang for lang, *_ in PAIRS}) >= 8
    assert ours("Don't stop—it's well-known.", "Don’t stop, it's well known.", "en", "seedtts_eval") == pytest.approx(5 / 3)
    assert ours("我用iPhone拍照。", "我用iphone拍照", "zh", "seedtts_eval") == pytest.approx(1 / 10)  # case kept in zh
    assert ours("广州市房地产中介协会分析", "廣州市房地產中介協會分析", "zh", "seedtts_eval") == 0.0  # t2s on the hypothesis
    assert ours("안녕 하세요!", "안녕하세요", "ko", "cv3_eval") == 0.0  # per character
    assert ours("안녕 하세요!", "안녕하세요", "ko", "seedtts_eval") == 1.0  # per word
    assert ours("«Bonjour» l’homme", "bonjour l'homme", "fr", "cv3_eval") == 1.0  # « » kept, ’ deleted


def test_reference_normalizers_convert_only_the_hypothesis():
    seed = normalize.get("seedtts_eval")
    assert seed("廣州", "zh") == "廣州" and seed("廣州", "zh", hypothesis=True) == "广州"
    assert seed("Well-known U.S. “news”", "en") == "wellknown us news"
    assert seed("Rock 'n' roll", "en") == "rock 'n' roll"  # the ASCII apostrophe is never deleted
    assert seed.unit("zh") == "char" and seed.unit("ja") == "word"
    assert normalize.get("cv3_eval").unit("ja") == "char"
