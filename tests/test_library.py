"""pipeline.clean_text / clean_html: the record a library user gets."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import pipeline
from pipeline.config import CleanConfig

SEED = Path(__file__).parent / "fixtures" / "seed.txt"
KEYS = {"id", "source", "url", "title", "lang", "lang_score", "langs", "text", "removed", "stats", "metadata", "version"}

PAGE = """<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8">
<title>Heavy rain floods Berlin underground | Example News</title>
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2021-09-02T10:00:00Z">
</head><body>
<nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav>
<article>
<h1>Heavy rain floods Berlin underground</h1>
<p>Heavy rain fell on Berlin on Thursday, flooding several underground stations and closing two motorways for most of the day.</p>
<p>The city&#8217;s fire brigade said it had been called out more than four hundred times between noon and midnight, mostly to pump water from cellars.</p>
<p>Forecasters expect the weather to improve over the weekend, with sunshine and temperatures of up to twenty-five degrees.</p>
</article>
<footer>Copyright 2021 Example News. All rights reserved.</footer>
</body></html>"""


@pytest.fixture(scope="module")
def seed_record():
    return pipeline.clean_text(SEED.read_text(encoding="utf-8"), id="seed", url="https://example.com/a",
                               section="world", tags=["afghanistan", "russia"])


def test_record_shape(seed_record):
    r = seed_record
    assert KEYS <= set(r)
    assert (r["id"], r["source"], r["url"]) == ("seed", "<memory>", "https://example.com/a")
    assert r["lang"] == "en" and 0.6 <= r["lang_score"] <= 1.0
    assert r["metadata"] == {"section": "world", "tags": ["afghanistan", "russia"]}
    assert r["version"] == {"decruft": pipeline.__version__, "rules": pipeline.clean.rules_version(CleanConfig()),
                            "model": pipeline.clean.model_version()}
    assert len(r["version"]["model"]) == 12
    assert "error" not in r


def test_title_and_boilerplate_removed(seed_record):
    r = seed_record
    assert r["title"] == "Taliban Rule Will Be a 'Threat' to Russia and the World, Top Panjshir Resistance Member Warns"
    text = r["text"]
    assert text.startswith("In an interview with The Moscow Times, the anti-Taliban National Resistance Front")
    for junk in ("Support The Moscow Times!", "Remind me later.", "Read more", "paiment methods",
                 "we have a small favor to ask", "Fahim Dashty / facebook"):
        assert junk not in text
    by_text = {d["text"]: d for d in r["removed"]}
    assert by_text["Support The Moscow Times!"]["reason"] == "donation_appeal"
    assert by_text["Read more"]["rule"] == "nav.en.read_more"
    for d in r["removed"]:
        assert {"reason", "rule", "text"} <= set(d)
        assert d["reason"] and isinstance(d["rule"], str) and d["text"]
    # body kept, curly quotes intact
    assert "“Who is among these refugees, how do we know?” Putin said." in text
    assert "The Taliban’s resurgence in Afghanistan" in text


def test_text_layout(seed_record):
    text = seed_record["text"]
    paragraphs = text.split("\n\n")
    assert len(paragraphs) >= 20
    assert "\n\n\n" not in text
    for p in paragraphs:
        assert p and "\n" not in p
        assert p == p.strip()
        assert not re.search(r"[ \t]{2,}", p)


def test_stats(seed_record):
    r = seed_record
    s = r["stats"]
    raw = SEED.read_text(encoding="utf-8")
    assert s["chars_in"] == len(raw)
    assert s["chars_out"] == len(r["text"])
    assert s["lines_in"] == s["lines_kept"] + s["lines_removed"]
    assert s["lines_removed"] == len(r["removed"])
    assert s["lines_kept"] == len(r["text"].split("\n\n"))
    assert s["capped"] == []


def test_clean_text_normalizes_and_defaults():
    raw = ("Der Bundestag hat am Donnerstag &uuml;ber den Haushalt debattiert.  \r\n\r\n"
           "   Die Opposition kritisierte die Pl&auml;ne  der Regierung   scharf.\r\n")
    r = pipeline.clean_text(raw, cfg=CleanConfig(statistical=False))
    assert r["id"] == "doc" and r["source"] == "<memory>" and r["url"] is None
    assert r["text"] == ("Der Bundestag hat am Donnerstag über den Haushalt debattiert.\n\n"
                         "Die Opposition kritisierte die Pläne der Regierung scharf.")
    assert r["lang"] == "de"
    assert r["metadata"] == {}


def test_clean_text_empty_result_has_error():
    r = pipeline.clean_text("Read more\nSupport The Moscow Times!\n")
    assert r["text"] == ""
    assert r["error"]
    assert [d["text"] for d in r["removed"]] == ["Read more", "Support The Moscow Times!"]


def test_clean_html_record():
    r = pipeline.clean_html(PAGE, id="h1", source="feed", url="https://news.example/rain", extra={"k": 1})
    assert KEYS <= set(r)
    assert (r["id"], r["source"], r["url"]) == ("h1", "feed", "https://news.example/rain")
    assert r["title"].startswith("Heavy rain floods Berlin underground")
    assert r["text"] == (
        "Heavy rain fell on Berlin on Thursday, flooding several underground stations and closing two "
        "motorways for most of the day.\n\n"
        "The city’s fire brigade said it had been called out more than four hundred times between noon "
        "and midnight, mostly to pump water from cellars.\n\n"
        "Forecasters expect the weather to improve over the weekend, with sunshine and temperatures of "
        "up to twenty-five degrees."
    )
    meta = r["metadata"]
    assert meta["extra"] == {"k": 1}
    assert meta["author"] == "Jane Doe"
    assert meta["date"] == "2021-09-02"
    assert meta["extractor"] == "html_model"
    assert r["lang"] == "en"
    for junk in ("Home", "Copyright", "All rights reserved", "<p>", "&#8217;"):
        assert junk not in r["text"]


def test_clean_html_user_metadata_wins():
    r = pipeline.clean_html(PAGE, author="Given Author")
    assert r["metadata"]["author"] == "Given Author"


def test_clean_html_soup_fallback():
    html = ("<html><head><title>Office</title></head><body><div id='footer'>"
            "Our office on Main Street is open from nine to five on weekdays.</div></body></html>")
    r = pipeline.clean_html(html, cfg=CleanConfig(statistical=False))
    assert r["metadata"]["extractor"] == "soup_fallback"
    assert r["text"] == "Our office on Main Street is open from nine to five on weekdays."
    assert r["title"] == "Office"


def test_clean_html_oversized_goes_to_soup():
    html = "<html><body><p>" + "Words in a long paragraph here. " * 20 + "</p><script>var x = 1;</script></body></html>"
    r = pipeline.clean_html(html, cfg=CleanConfig(max_html_bytes=100, max_document_chars=10_000, statistical=False))
    assert r["metadata"]["extractor"] == "soup_capped"
    assert "var x" not in r["text"]
    assert "soup_capped" in r["stats"]["capped"]


def test_max_document_chars_of_a_page_counts_its_text_not_its_markup():
    # a page heavy with inline script (3 MB pages of JSON state are common) is not cut before extraction
    article = "".join(f"<p>Paragraph {i} tells how the harbour board met and voted on the budget for the year.</p>"
                      for i in range(30))
    html = ("<html><head><title>Budget</title><script>var state = '" + "x" * 20_000 + "';</script></head>"
            f"<body><article>{article}</article></body></html>")
    r = pipeline.clean_html(html, cfg=CleanConfig(max_document_chars=10_000, statistical=False))
    assert "document_chars" not in r["stats"]["capped"]
    assert "Paragraph 29 tells" in r["text"]
    # the cap still holds for the text: 30 paragraphs of ~85 characters over a cap of 1,000
    r = pipeline.clean_html(html, cfg=CleanConfig(max_document_chars=1_000, statistical=False))
    assert "document_chars" in r["stats"]["capped"]
    assert "Paragraph 0 tells" in r["text"] and "Paragraph 29 tells" not in r["text"]
    assert len(r["text"].replace("\n\n", "\n")) <= 1_000
