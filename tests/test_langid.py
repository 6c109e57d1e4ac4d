"""pipeline.langid gives langdetect's answers: same languages, same probabilities (to rounding)."""
from __future__ import annotations

import pytest
from langdetect import detector_factory
from langdetect.lang_detect_exception import LangDetectException

from pipeline import langid
from tests.test_language import PARAGRAPHS

pytestmark = pytest.mark.numeric

TEXTS = [
    *PARAGRAPHS.values(),
    # scripts and normalisations langdetect treats specially
    "Trong khi đó, Hà Nội ghi nhận lượng mưa lớn nhất trong vòng mười năm qua.",  # Vietnamese
    "Cu\u0301ng nga\u0300y ho\u0302m đó, thành phố đã quyết định mở rộng mạng lưới xe buýt.",  # combining marks
    "今日は東京で大きな会議が開かれ、多くの人々が新しい計画について話し合いました。",
    "오늘 서울에서 열린 회의에서 많은 사람들이 새로운 계획에 대해 이야기했습니다.",
    "ذهب الرئيس إلى المدينة يوم الثلاثاء لافتتاح المستشفى الجديد، وقال إن الخدمة ستتحسن.",
    "این یک متن فارسی است که برای آزمایش تشخیص زبان نوشته شده است و یی دارد.",
    "Στην Αθήνα, το δημοτικό συμβούλιο αποφάσισε την επέκταση του δικτύου λεωφορείων.",
    "Şehir meclisi salı günü otobüs ağını genişletmeye karar verdi; ţară şi ştiri.",
    # all-capitals words, URLs, e-mail addresses, punctuation runs, double spaces
    "NEW YORK (AP) — The UN said on Tuesday that NATO and the EU had agreed. See https://example.com/x "
    "or write to desk@example.org!!!   Then   more   spaces.",
    "Москва, РИА НОВОСТИ. Президент РФ заявил, что ВВП вырос. Read more at www.example.ru",
    "mixed Latin and 中文 words 中文字符 in one line, with some English around them",
    "x" * 50,
    "A",
]


def _langdetect(text: str) -> dict[str, float]:
    detector_factory.init_factory()
    d = detector_factory._factory.create()
    d.seed = 0
    d.append(text)
    try:
        return {p.lang: p.prob for p in d.get_probabilities()}
    except LangDetectException:
        return {}


@pytest.mark.parametrize("text", TEXTS, ids=range(len(TEXTS)))
def test_same_probabilities_as_langdetect(text):
    ours = langid.detector().probabilities(text, 0)
    theirs = _langdetect(text)
    assert ours.keys() == theirs.keys()
    for lang, p in theirs.items():
        assert ours[lang] == pytest.approx(p, abs=1e-9)


def test_long_text_is_cut_where_langdetect_cuts_it():
    # langdetect reads the first 10,000 characters; past them, German only
    text = PARAGRAPHS["en"] * (10_000 // len(PARAGRAPHS["en"]) + 1) + PARAGRAPHS["de"] * 200
    ours = langid.detector().probabilities(text, 0)
    assert ours.keys() == _langdetect(text).keys() == {"en"}


def test_ngrams_restart_at_each_word_and_skip_capital_runs():
    d = langid.NgramDetector()
    index = d.prof.index
    names = {v: k for k, v in index.items()}
    grams = [names[i] for i in d.ngram_ids(d.prepare("The CAT"))]
    # " The " gives T, " T", h, Th, " Th", e, he, "The", "e ", "he "; "CAT" only its first letter
    assert grams[:3] == ["T", " T", "h"]
    assert "AT" not in grams and "CA" not in grams and "A" not in grams
    assert "C" in grams and " C" in grams
    assert all(len(g) <= 3 for g in grams)


def test_no_ngrams_no_languages():
    assert langid.detector().probabilities("1234 5678 ... !!!", 0) == {}


def test_word_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(langid, "_WORD_CACHE_SIZE", 10)
    d = langid.NgramDetector()
    for i in range(100):
        d.probabilities(f"word{i} other{i} thing{i} " * 3, 0)
        assert len(d._words) <= 10 + 4


@pytest.mark.parametrize("n", [1, 2, 3, 17, 255, 256, 257, 3000])
def test_fast_draws_draw_what_random_choice_draws(n):
    import random

    items = [7 * i for i in range(n)]
    fast, plain = langid._fast_draws(random.Random(n), items), random.Random(n)
    assert [fast() for _ in range(300)] == [plain.choice(items) for _ in range(300)]
    assert langid._SAME_DRAWS  # so probabilities() uses them on this Python


def test_random_choice_fallback_gives_the_same_probabilities(monkeypatch):
    fast = {t: langid.detector().probabilities(t, 3) for t in TEXTS[:4]}
    monkeypatch.setattr(langid, "_SAME_DRAWS", False)
    for text, probs in fast.items():
        slow = langid.NgramDetector().probabilities(text, 3)
        assert slow.keys() == probs.keys()
        assert all(slow[k] == pytest.approx(v, abs=1e-12) for k, v in probs.items())
