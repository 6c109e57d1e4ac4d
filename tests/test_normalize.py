"""pipeline.normalize: repairs only — mojibake, entities, stray tags, invisible chars, spacing."""
from __future__ import annotations

import unicodedata

import pytest

from pipeline.normalize import normalize_text, repair_mojibake, split_lines, strip_stray_tags, unescape_entities

RU = "Привет, мир! Это короткий тест."


def test_nfc_composes_decomposed_letters():
    decomposed = "Cafe\u0301 cre\u0300me"
    assert unicodedata.is_normalized("NFD", decomposed)
    out = normalize_text(decomposed)
    assert out == "Caf\u00e9 cr\u00e8me"
    assert len(out) == len("Café crème")


@pytest.mark.parametrize("broken, fixed", [
    ("CafÃ©", "Café"),
    ("â€œquotedâ€\x9d and itâ€™s", "“quoted” and it’s"),
    # Russian UTF-8 read as cp1251 / as latin-1 (double-encoded UTF-8)
    (RU.encode("utf-8").decode("cp1251"), RU),
    (RU.encode("utf-8").decode("latin-1"), RU),
    # Russian cp1251 bytes read as latin-1 / cp1252
    (RU.encode("cp1251").decode("latin-1"), RU),
    ("Что это? «Новости» — сегодня в Москве".encode("cp1251").decode("cp1252"),
     "Что это? «Новости» — сегодня в Москве"),
], ids=["latin1-utf8", "quotes", "ru-utf8-as-cp1251", "ru-utf8-as-latin1", "ru-cp1251-as-latin1", "ru-cp1251-as-cp1252"])
def test_mojibake_repaired(broken, fixed):
    assert broken != fixed
    assert normalize_text(broken) == fixed


@pytest.mark.parametrize("text", [
    "Où est le château? Ça va très bien, à côté.",
    "Die Straße führt über die Brücke. Äpfel und Öl.",
    "Ég á heima á Íslandi og ég er ánægð.",
    "Ørsted og Æblegården i Århus",
    "“Curly” ‘quotes’ stay — and so do dashes…",
])
def test_correct_text_is_not_repaired(text):
    assert repair_mojibake(text) == text
    assert normalize_text(text) == text


def test_entities_decoded():
    assert normalize_text("Tom &amp; Jerry&#8217;s&nbsp;house &lt;3 &#x2014; ok") == "Tom & Jerry’s house <3 — ok"
    assert unescape_entities("R&amp;amp;D") == "R&D"
    assert unescape_entities("AT&T and Q&A") == "AT&T and Q&A"


def test_stray_tags_removed_but_comparisons_kept():
    assert normalize_text("<b>Bold</b> text</p><br/>more <span class=\"x\">here</span>") == "Bold text more here"
    assert normalize_text("a < b and c > d") == "a < b and c > d"
    assert strip_stray_tags("if x<y and y>z then") == "if x<y and y>z then"
    assert normalize_text("<p>First</p>\n<p>Second</p>") == "First\nSecond"


def test_invisible_characters_dropped():
    assert normalize_text("\ufeffco\u00adop\u200beration start") == "cooperation start"
    assert normalize_text("word\u2060joiner") == "wordjoiner"


def test_zwj_and_zwnj_kept():
    emoji = "👩\u200d💻 codes"
    assert normalize_text(emoji) == emoji
    persian = "می\u200cخواهم"
    assert normalize_text(persian) == persian
    devanagari = "क्\u200dष"
    assert normalize_text(devanagari) == devanagari


def test_spaces_collapsed_and_blank_lines_dropped():
    text = "  one \t\t two   three  \n   \n\t\n\u00a0\nfour\u00a0\u00a0five\n"
    assert normalize_text(text) == "one two three\nfour five"


def test_paragraph_per_line_kept():
    text = "First paragraph.\n\n\nSecond paragraph.\nThird paragraph."
    assert normalize_text(text).split("\n") == ["First paragraph.", "Second paragraph.", "Third paragraph."]


@pytest.mark.parametrize("text", [
    "He said “yes” and she said ‘no’.",
    "日本語の文。読点、「引用」！本当？",
    "ＡＢＣ１２３ full width",
    "中文，标点。",
])
def test_quotes_and_cjk_punctuation_untouched(text):
    assert normalize_text(text) == text


def test_line_endings():
    assert normalize_text("a\r\nb\rc\nd") == "a\nb\nc\nd"
    assert normalize_text("a\r\n\r\nb\r\r") == "a\nb"
    assert normalize_text("a\u2028b\u2029c") == "a\nb\nc"


def test_control_characters_become_spaces():
    assert normalize_text("bell\x07here and\x00nul") == "bell here and nul"


def test_split_lines_caps_long_lines():
    lines, capped = split_lines("short\n" + "x" * 50, max_line_chars=10)
    assert lines == ["short", "x" * 10]
    assert capped is True
    lines, capped = split_lines("short\nlonger line", max_line_chars=100)
    assert (lines, capped) == (["short", "longer line"], False)
    assert split_lines("", 10) == ([], False)
