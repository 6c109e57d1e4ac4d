"""HTML pages: visible text blocks, their features, and every block that does not reach the text on
record as a removed line with a reason from the page's structure (issue 11 item 5)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from trafilatura.utils import load_html

from pipeline import html_blocks
from pipeline.classify import stable
from pipeline.clean import clean_html
from pipeline.config import CleanConfig
from pipeline.extract import HTML_MODEL_PATH, extract_html, html_model

REPO = Path(__file__).resolve().parents[1]
PAGE_PATH = REPO / "tests" / "fixtures" / "html" / "harbour.html"
PAGE = PAGE_PATH.read_text(encoding="utf-8")
BODY = ("The new ferry terminal on the north quay", "The building has room for four hundred",
        "Ticket prices will not change")


def test_blocks_are_the_visible_text_in_page_order():
    blocks = html_blocks.page_blocks(load_html(PAGE))
    texts = [b.text for b in blocks]
    assert texts[:3] == ["Harbour Times", "News", "Sport"]
    assert texts[-1] == "Privacy policy · Contact us"
    joined = "\n".join(texts)
    for invisible in ("tracking", "color: red", "Hidden text", "Ferry terminal opens in spring | Harbour"):
        assert invisible not in joined
    by_text = {b.text: b for b in blocks}
    h1 = by_text["Ferry terminal opens in spring"]
    assert h1.tag == "h1"
    assert by_text["News"].link_chars == 4 and by_text["News"].anc >> html_blocks.ANCESTOR_TAGS.index("nav") & 1
    body = next(b for b in blocks if b.text.startswith(BODY[0]))
    assert body.tag == "p" and body.link_chars == 0 and "  " not in body.text and "\n" not in body.text
    assert by_text["Home › News"].tag == "div"


def test_a_deep_page_does_not_overflow_the_stack():
    html = "<html><body>" + "<div>" * 200 + "<p>deep text here</p>" + "</div>" * 200 + "</body></html>"
    assert [b.text for b in html_blocks.page_blocks(load_html(html))] == ["deep text here"]
    deeper = "<html><body>" + "<div>" * 5_000 + "<p>x</p>" + "</div>" * 5_000 + "</body></html>"
    html_blocks.page_blocks(load_html(deeper))  # libxml2 caps the depth; the walk never raises


@pytest.mark.numeric
def test_features_have_the_model_columns_and_are_rounded():
    blocks = html_blocks.page_blocks(load_html(PAGE))
    candidate = "\n".join(b.text for b in blocks if b.text.startswith(BODY))
    X = html_blocks.block_features(blocks, candidate)
    assert X.shape == (len(blocks), len(html_blocks.FEATURE_NAMES))
    assert np.array_equal(X, stable(X))
    cov = X[:, html_blocks.FEATURE_NAMES.index("cov")]
    assert [t for t, c in zip((b.text for b in blocks), cov) if c == pytest.approx(1.0)] == [
        b.text for b in blocks if b.text.startswith(BODY)]
    assert html_blocks.block_features([], "") .shape == (0, len(html_blocks.FEATURE_NAMES))


@pytest.mark.numeric
def test_features_place_blocks_against_the_candidate_and_its_comments():
    html = ("<html><body><h1>A title of the page</h1><div class='post'><p>first body paragraph of the story here</p>"
            "<p>second body paragraph of the story here</p></div><p>https://example.com/img/logo.png</p>"
            "<div class='c'><p>a reader writes that this is fine</p></div></body></html>")
    blocks = html_blocks.page_blocks(load_html(html))
    assert [b.text for b in blocks][1:3] == ["first body paragraph of the story here",
                                               "second body paragraph of the story here"]
    X = html_blocks.block_features(blocks, "first body paragraph of the story here\n"
                                   "second body paragraph of the story here",
                                   "a reader writes that this is fine")
    col = {n: X[:, i] for i, n in enumerate(html_blocks.FEATURE_NAMES)}
    assert col["cov_comments"].tolist() == pytest.approx([0, 0, 0, 0, 1])
    assert col["urlish"].tolist() == pytest.approx([0, 0, 0, 1, 0])
    # share of the candidate before / after each block; the h1 comes first
    assert col["cand_before"].tolist() == pytest.approx([0, 0, 0.5, 1, 1])
    assert col["cand_after"].tolist() == pytest.approx([1, 0.5, 0, 0, 0])
    assert col["h1_after"].tolist() == pytest.approx([1, 1, 1, 1, 1])
    # the two paragraphs share a structure and a parent, both kept by the candidate
    assert col["sig_cov"][1] == pytest.approx(1.0) and col["parent_cov"][2] == pytest.approx(1.0)


def test_shipped_model_matches_the_features():
    model = html_model(None)
    assert model.booster.num_feature() == len(html_blocks.FEATURE_NAMES) and all(0 < t < 1 for t in model.tau)
    assert HTML_MODEL_PATH.stat().st_size < 10_000_000


def test_every_visible_block_is_kept_or_on_record_with_a_reason():
    record = clean_html(PAGE)
    assert record["metadata"]["extractor"] == "html_model"
    for start in BODY:
        assert start in record["text"]
    removed = {r["text"]: r for r in record["removed"]}
    expect = {
        "News": ("navigation", "html.nav"), "Home › News": ("navigation", "html.nav"),
        "Bridge repairs to start in May": ("related", "html.related"),
        "Will there be parking near the north quay?": ("comments", "html.comments"),
        "© 2026 Harbour Times. All rights reserved.": ("footer", "html.footer"),
        "Ferry terminal opens in spring": ("title", None),
    }
    for text, (reason, rule) in expect.items():
        assert removed[text]["reason"] == reason, text
        if rule:
            assert removed[text]["rule"].startswith(rule), removed[text]
    # nothing lost: each visible block is in the text or among the removed lines
    kept = record["text"].split("\n\n")
    for block in html_blocks.page_blocks(load_html(PAGE)):
        assert block.text in kept or block.text in removed, block.text
    # in page order: "at" follows the page, the kept lines in between
    ats = [r["at"] for r in record["removed"]]
    assert ats == sorted(ats) and removed["News"]["at"] < removed["Bridge repairs to start in May"]["at"]


def test_html_stats_count_the_visible_text_and_the_raw_bytes():
    s = clean_html(PAGE)["stats"]
    blocks = html_blocks.page_blocks(load_html(PAGE))
    assert s["chars_in"] == sum(len(b.text) for b in blocks) + len(blocks) - 1
    assert s["bytes_in"] == len(PAGE.encode("utf-8")) > s["chars_in"]
    assert s["lines_in"] == s["lines_kept"] + s["lines_removed"]


def test_without_the_model_trafilatura_decides_and_says_so():
    record = clean_html(PAGE, CleanConfig(html_model="/nonexistent/model.lgb.txt"))
    assert record["metadata"]["extractor"] == "trafilatura"
    rules = {r["rule"] for r in record["removed"]}
    assert any(r.endswith("trafilatura") for r in rules)
    assert all(r["reason"] for r in record["removed"])


def test_a_model_with_other_features_is_refused(tmp_path):
    (tmp_path / "m.lgb.txt").write_text(HTML_MODEL_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "m.json").write_text('{"tau": 0.5, "features": ["a", "b"]}', encoding="utf-8")
    with pytest.raises(ValueError, match="retrain"):
        html_model(str(tmp_path / "m.lgb.txt"))


def test_explain_shows_the_html_removals():
    out = subprocess.run([sys.executable, "-m", "tasks.cli", "explain", str(PAGE_PATH), "--no-colour"],
                         capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert any(l.startswith("DROP") and "navigation:html.nav" in l and l.endswith("Sport") for l in lines)
    assert any(l.startswith("DROP") and "footer:html.footer" in l for l in lines)
    assert any(l.startswith("KEEP") and BODY[1] in l for l in lines)


def test_extract_html_blocks_survive_a_page_without_text():
    got = extract_html("<html><body><div></div></body></html>", max_bytes=10_000, max_depth=100)
    assert got.text.strip() == "" and got.blocks == []


PARAGRAPHS = [f"Paragraph {word} of the story tells how the harbour board met on a Tuesday evening, "
              f"voted on the budget for the {word} year and sent the plan to the town council for review."
              for word in ("one", "two", "three", "four")]


def test_a_block_that_repeats_a_run_of_kept_blocks_is_a_repeat():
    copy = " ".join(PARAGRAPHS)  # a hidden or AMP copy of the whole article after its paragraphs
    assert html_blocks.repeated_runs(PARAGRAPHS + [copy], [True] * 5) == [False] * 4 + [True]
    # only kept blocks count: with two of the paragraphs left out the copy is the text's only copy of them
    assert html_blocks.repeated_runs(PARAGRAPHS + [copy], [True, False, False, True, True]) == [False] * 5
    # one paragraph repeated (on purpose, or a heading after its table-of-contents entry) stays
    assert html_blocks.repeated_runs(PARAGRAPHS[:1] * 3, [True] * 3) == [False] * 3
    # a short block made of common phrases is not a run
    assert html_blocks.repeated_runs(PARAGRAPHS + ["the harbour board met on a Tuesday evening"], [True] * 5)[-1] is False


def test_a_repeated_copy_of_the_article_is_on_record_as_a_duplicate():
    page = ("<html><head><title>Harbour board budget</title></head><body><article><h1>Harbour board budget</h1>"
            + "".join(f"<p>{p}</p>" for p in PARAGRAPHS) + "</article>"
            + f'<div class="amp-copy"><div>{" ".join(PARAGRAPHS)}</div></div></body></html>')
    got = extract_html(page, max_bytes=10**7, max_depth=500)
    blocks = [b.text for b in got.blocks]
    assert blocks[-1] == " ".join(PARAGRAPHS) and got.method == "html_model"
    record = clean_html(page)
    for p in PARAGRAPHS:
        assert record["text"].count(p) == 1, p
    # the model scores the copy as body (it is article text): the repeat rule leaves it out, on record
    assert got.repeats[-1] and not got.kept[-1] and got.probs[-1] >= max(html_model(None).tau)
    dup = [r for r in record["removed"] if r["reason"] == "duplicate"]
    assert [r["rule"] for r in dup] == ["html.repeat"] and dup[0]["text"] == " ".join(PARAGRAPHS)


def test_react_streamed_content_is_visible_other_hidden_elements_are_not():
    # React's streamed server rendering sends a Suspense boundary's content as <div hidden id="S:…">
    # and moves it into its <template id="B:…"> at once: readers see it
    page = ('<html><body><main><h1>Index funds</h1><template id="B:1f"></template><p>Loading…</p></main>'
            '<div hidden>A hidden menu</div><div hidden id="S:other">Not a streamed boundary</div>'
            '<div hidden id="S:1f"><p>An index fund is an investment that tracks a market index.</p></div>'
            '</body></html>')
    texts = [b.text for b in html_blocks.page_blocks(load_html(page))]
    assert texts == ["Index funds", "Loading…", "An index fund is an investment that tracks a market index."]
