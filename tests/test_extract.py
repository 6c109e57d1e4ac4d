"""pipeline.extract: one parse, cheap metadata, trafilatura on the page without its furniture."""
from __future__ import annotations

import lxml.html
import pytest
import trafilatura
from trafilatura.utils import load_html

from pipeline import extract
from pipeline.extract import drop_furniture, extract_html, page_metadata

LIMITS = {"max_bytes": 5_000_000, "max_depth": 2_000}
PARAGRAPHS = [
    "The harbour authority said on Monday that the new ferry terminal would open in the spring, "
    "two years later than planned, after a dispute with the builder over the cost of the foundations.",
    "Passengers will be able to buy tickets at machines inside the hall, and the old ticket office "
    "on the quay is to become a café with a view over the water and the islands beyond.",
    "The council expects about four thousand travellers a day once the summer timetable starts, "
    "twice as many as the old terminal could handle on its busiest days.",
]
PAGE = f"""<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8">
<title>New ferry terminal opens late | Harbour Times</title>
<meta property="og:title" content="New ferry terminal to open in spring">
<meta property="og:site_name" content="Harbour Times">
<meta property="og:url" content="https://www.harbourtimes.example/news/ferry-terminal">
<meta name="description" content="The terminal opens two years late.">
<meta name="author" content="Anna Berg">
<meta property="article:published_time" content="2021-03-08T09:30:00Z">
<link rel="stylesheet" href="/site.css">
<style>body {{ color: black }}</style>
<script>var tracking = "pageview";</script>
<script type="application/ld+json">{{"@context": "https://schema.org", "@type": "NewsArticle",
 "headline": "New ferry terminal to open in spring"}}</script>
</head><body>
<nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav>
<aside><h3>Most read</h3><ul><li><a href="/a">Storm closes bridge</a></li></ul></aside>
<article>
<h1>New ferry terminal to open in spring</h1>
<p>{PARAGRAPHS[0]}</p>
<svg viewBox="0 0 10 10"><title>share icon</title><path d="M0 0h10v10z"/></svg>
<p>{PARAGRAPHS[1]}</p>
<script>loadAds();</script>
<p>{PARAGRAPHS[2]}</p>
</article>
<footer>Copyright 2021 Harbour Times. All rights reserved.</footer>
</body></html>"""
PRECISION = dict(include_comments=False, include_tables=True, include_images=False, deduplicate=False,
                 favor_precision=True)


def test_page_metadata_from_meta_tags():
    title, meta = page_metadata(load_html(PAGE))
    assert title == "New ferry terminal to open in spring"
    assert meta == {
        "date": "2021-03-08", "author": "Anna Berg", "sitename": "Harbour Times",
        "description": "The terminal opens two years late.", "hostname": "harbourtimes.example",
    }


def test_page_metadata_fallbacks_and_missing_fields():
    html = ("<html><head><title>Council votes on budget</title></head><body><article><p>"
            + PARAGRAPHS[0] + "</p></article></body></html>")
    title, meta = page_metadata(load_html(html))
    assert title == "Council votes on budget"
    assert meta == {}  # nothing found is left out, never None


def test_page_metadata_leaves_the_tree_alone():
    tree = load_html(PAGE)
    before = lxml.html.tostring(tree)
    page_metadata(tree)
    assert lxml.html.tostring(tree) == before


def test_drop_furniture_keeps_json_ld_text_and_tails():
    tree = drop_furniture(load_html("<html><head><title>t</title><script>x()</script>"
                                    '<script type="application/ld+json">{"a": 1}</script></head>'
                                    "<body><nav>Menu</nav>before <footer>Foot</footer>after"
                                    "<p>Kept <script>y()</script>tail</p><aside>Side</aside></body></html>"))
    html = lxml.html.tostring(tree, encoding="unicode")
    for gone in ("<title>", "x()", "y()", "Menu", "Foot", "Side"):
        assert gone not in html
    assert '{"a": 1}' in html
    assert "before after" in html.replace("  ", " ") and "Kept tail" in html


NO_MODEL = "/nonexistent/html_blocks.lgb.txt"  # extract_html without the block model: trafilatura alone
DEFAULT = dict(PRECISION, favor_precision=False, include_comments=True)


def test_without_the_model_same_text_as_trafilatura_on_the_whole_page():
    """Dropping the furniture first is only a speed-up: trafilatura deletes it anyway."""
    got = extract_html(PAGE, **LIMITS, model_path=NO_MODEL)
    assert got.method == "trafilatura" and got.rule == "trafilatura"
    assert got.text == trafilatura.bare_extraction(PAGE, **DEFAULT).text
    assert got.text.split("\n") == ["New ferry terminal to open in spring", *PARAGRAPHS]
    # every visible block is there, those trafilatura left out marked as not kept
    left_out = [b.text for b, k in zip(got.blocks, got.kept) if not k]
    assert "Storm closes bridge" in left_out and PARAGRAPHS[0] not in left_out


def test_the_block_model_keeps_the_article_and_drops_the_furniture():
    got = extract_html(PAGE, **LIMITS)
    assert got.method == "html_model" and got.rule == "html.model"
    for p in PARAGRAPHS:
        assert p in got.text.split("\n")
    for cruft in ("Storm closes bridge", "Most read", "Copyright 2021 Harbour Times. All rights reserved."):
        assert cruft not in got.text
    assert [b.text for b, k in zip(got.blocks, got.kept) if k] == got.text.split("\n")


def test_empty_default_mode_retries_on_the_untouched_page(monkeypatch):
    calls = []
    real = trafilatura.bare_extraction

    def fake(tree, **kw):
        calls.append((kw["include_comments"], tree.find(".//nav") is not None))
        return None if kw["include_comments"] else real(tree, **kw)

    monkeypatch.setattr(extract.trafilatura, "bare_extraction", fake)
    got = extract_html(PAGE, **LIMITS, model_path=NO_MODEL)
    assert calls == [(True, False), (False, True)]
    assert got.method == "trafilatura" and PARAGRAPHS[0] in got.text
    assert got.metadata["author"] == "Anna Berg"


@pytest.mark.parametrize("target", ["bare_extraction", "page_metadata", "load_html", "page_blocks"])
def test_nothing_raises_out_of_extract_html(monkeypatch, target):
    def boom(*args, **kwargs):
        raise RuntimeError("lxml had a bad day")

    owner = {"bare_extraction": extract.trafilatura, "page_blocks": extract.html_blocks}.get(target, extract)
    monkeypatch.setattr(owner, target, boom)
    got = extract_html(PAGE, **LIMITS)
    assert PARAGRAPHS[0] in got.text
    if target == "page_metadata":
        assert got.method == "html_model" and got.metadata == {}
    elif target == "bare_extraction":  # no candidate: the blocks alone decide
        assert got.method == "html_model"
    elif target == "page_blocks":  # no blocks: trafilatura's text
        assert got.method == "trafilatura" and got.blocks == []
    else:
        assert got.method == "soup_fallback"
        assert got.title


def test_soup_fallback_keeps_the_page_metadata(monkeypatch):
    monkeypatch.setattr(extract.trafilatura, "bare_extraction", lambda *a, **k: None)
    got = extract_html(PAGE, **LIMITS, model_path=NO_MODEL)
    assert got.method == "soup_fallback"
    assert got.title == "New ferry terminal to open in spring"
    assert got.metadata["sitename"] == "Harbour Times"
    assert "var tracking" not in got.text and PARAGRAPHS[2] in got.text


def test_too_large_or_too_deep_skips_the_parse(monkeypatch):
    monkeypatch.setattr(extract, "load_html", lambda *a, **k: pytest.fail("parsed"))
    assert extract_html(PAGE, max_bytes=100, max_depth=2_000).method == "soup_capped"
    deep = "<html><body>" + "<div>" * 3_000 + PARAGRAPHS[0] + "</div>" * 10 + "</body></html>"
    assert extract_html(deep, **LIMITS).method in ("soup_capped", "regex_fallback")


def test_a_page_of_many_images_and_icons_is_not_too_deep():
    # void elements and self-closed SVG shapes never close: they do not nest
    icons = '<svg viewBox="0 0 8 8"><path d="M0 0h8v8z"/><circle r="2"/></svg>'
    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><link rel='icon' href='/i.png'></head><body>"
            + "".join(f'<a href="/p/{i}"><img src="/{i}.jpg" alt="">{icons}</a><br>' for i in range(1_500))
            + f"<article><p>{PARAGRAPHS[0]}</p><p>{PARAGRAPHS[1]}</p></article></body></html>")
    assert not extract.looks_too_deep(page, 2_000)
    assert extract.looks_too_deep("<div>" * 3_000 + "text", 2_000)
    got = extract_html(page, **LIMITS)
    assert got.method not in ("soup_capped", "regex_fallback") and PARAGRAPHS[0] in got.text


def test_when_the_model_keeps_no_block_trafilatura_s_default_mode_decides(monkeypatch):
    import numpy as np

    calls = []
    real = extract._trafilatura_doc

    def doc(tree, favor_precision, include_comments=False, fast=False):
        calls.append(fast)
        return ("Home\nContact", "") if fast else real(tree, favor_precision, include_comments, fast)

    monkeypatch.setattr(extract, "_trafilatura_doc", doc)
    monkeypatch.setattr(extract, "kept_blocks", lambda blocks, *a: (np.zeros(len(blocks), bool),
                                                                    np.zeros(len(blocks)), [False] * len(blocks)))
    got = extract_html(PAGE, **LIMITS)
    assert extract.html_model().candidate == "fast_c" and calls == [True, False]
    assert got.method == "trafilatura" and PARAGRAPHS[0] in got.text and "Home\nContact" not in got.text
    # the longer text of the two wins: a fast text longer than the default one stays
    long_fast = "\n".join(PARAGRAPHS * 3)
    monkeypatch.setattr(extract, "_trafilatura_doc", lambda tree, p, c=False, fast=False:
                        (long_fast, "") if fast else real(tree, p, c, fast))
    assert extract_html(PAGE, **LIMITS).text == long_fast
