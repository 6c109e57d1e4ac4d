"""pipeline.language: deterministic, bounded, ISO codes, "und" when unsure."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from pytest import approx

from pipeline.language import detect_language, language_sample

pytestmark = pytest.mark.numeric

PARAGRAPHS = {
    "en": "The city council voted on Tuesday to expand the bus network, adding three new routes "
          "that will connect the northern suburbs with the hospital and the university campus.",
    "de": "Der Stadtrat hat am Dienstag beschlossen, das Busnetz zu erweitern. Drei neue Linien sollen "
          "die nördlichen Vororte mit dem Krankenhaus und der Universität verbinden.",
    "ru": "Городской совет во вторник проголосовал за расширение автобусной сети: три новых маршрута "
          "соединят северные пригороды с больницей и университетским городком.",
    "fr": "Le conseil municipal a voté mardi l'extension du réseau de bus, avec trois nouvelles lignes "
          "qui relieront les banlieues du nord à l'hôpital et au campus universitaire.",
    "es": "El ayuntamiento votó el martes a favor de ampliar la red de autobuses, con tres nuevas líneas "
          "que conectarán los barrios del norte con el hospital y el campus universitario.",
    "pt": "A câmara municipal votou na terça-feira a ampliação da rede de ônibus, com três novas linhas "
          "que vão ligar os bairros do norte ao hospital e ao campus da universidade.",
}


@pytest.mark.parametrize("lang", sorted(PARAGRAPHS))
def test_paragraph_languages(lang):
    got, score = detect_language(PARAGRAPHS[lang])
    assert got == lang
    assert 0.6 <= score <= 1.0


@pytest.mark.parametrize("text", [
    "",
    "ok",
    "Hello there",
    "https://example.com/a/very/long/path/that/goes/on/and/on?with=query&and=more",
    "see www.example.org/news/politics/2021/09/02/article-name and mail@example.com",
    "1234567890 9876543210 5555 1212 3434 0000 99 88 77",
    "— … !!! ??? --- ***",
])
def test_und_for_too_little_text(text):
    assert detect_language(text) == ("und", 0.0)


def test_chinese_variants_are_zh():
    simplified = "这是一个用简体中文写的句子，用来测试语言检测是否能够正确地工作。我们希望它返回中文。"
    traditional_mix = "我们今天去北京看朋友，天气很好，大家都很高兴。我們今天去台北看朋友，天氣很好，大家都很高興。"
    assert detect_language(simplified)[0] == "zh"
    # langdetect splits this one between zh-tw, zh-cn and ko: both Chinese variants count for zh.
    lang, score = detect_language(traditional_mix)
    assert lang == "zh"
    assert score >= 0.6


def test_min_score_gives_und_with_score():
    lang, score = detect_language(PARAGRAPHS["en"], min_score=1.01)
    assert lang == "und"
    assert 0.6 <= score <= 1.0


def test_same_answer_twice_in_process():
    text = "Die Bank am Rhein ist offen, the bank is open"
    assert detect_language(text) == detect_language(text)


_CHILD = (
    "import json, sys; from pipeline.language import detect_language; "
    "print(json.dumps([detect_language(t, min_score=0.0) for t in json.loads(sys.argv[1])]))"
)


def test_deterministic_across_processes():
    texts = [
        "Die Bank am Rhein ist offen, the bank is open today",
        "No, pasta e pizza con amore, por favor mi amigo",
        "Ja nee, das ist so, jo",
    ]
    children = [
        subprocess.Popen([sys.executable, "-c", _CHILD, json.dumps(texts)], stdout=subprocess.PIPE,
                         text=True, env=dict(os.environ, PYTHONHASHSEED=seed))
        for seed in ("1", "4242")
    ]
    results = []
    for child in children:
        out, _ = child.communicate(timeout=60)
        assert child.returncode == 0
        results.append(json.loads(out))
    parent = [list(detect_language(t, min_score=0.0)) for t in texts]
    # the same languages in every process (and in the parent), the same scores to rounding
    for got in (results[1], parent):
        assert [lang for lang, _ in got] == [lang for lang, _ in results[0]]
        assert [score for _, score in got] == approx([score for _, score in results[0]], abs=1e-4)
    assert all(isinstance(lang, str) and lang for lang, _ in results[0])


def test_sample_is_bounded_for_big_text():
    text = ("word " * 200_000)[:1_000_000]
    sample = language_sample(text, 2000)
    assert len(sample) <= 2000 + 2


def test_sample_takes_start_middle_end():
    text = "A" * 3000 + "B" * 3000 + "C" * 3000
    sample = language_sample(text, 900)
    assert sample.startswith("A" * 300)
    assert "B" * 300 in sample
    assert sample.endswith("C" * 300)


def test_sample_removes_urls_and_emails():
    sample = language_sample("read https://example.com/x?y=1 or www.example.org or write to bob@example.com now", 2000)
    assert "example" not in sample
    assert sample.split() == ["read", "or", "or", "write", "to", "now"]


def test_cost_bounded_for_long_tokens():
    # one 1 MB "word" (base64 blob, minified JS): must not be quadratic
    blob = "x" * 1_000_000
    lang, score = detect_language(blob, sample_chars=2000)
    assert isinstance(lang, str) and 0.0 <= score <= 1.0
    assert len(language_sample(blob, 2000)) <= 2002
    # a sample limit above the text: the URL/e-mail filter sees all 100 kB at once
    assert language_sample("q" * 100_000, 200_000) == "q" * 100_000
