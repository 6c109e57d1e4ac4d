"""The shingle metric of corpus/README.md on hand-computed tiny examples."""
from pathlib import Path

import pytest
from pytest import approx

from pipeline.evaluate import (
    aggregate, evaluate_corpus, format_report, score_document, shingles,
)


def test_shingles_are_4_token_multisets_case_kept():
    assert shingles("a b c d e") == {("a", "b", "c", "d"): 1, ("b", "c", "d", "e"): 1}
    assert shingles("A b c d") != shingles("a b c d")
    assert shingles("x y x y x y x")[("x", "y", "x", "y")] == 2


def test_short_text_is_one_shingle_and_empty_is_none():
    assert shingles("one, two!") == {("one", "two"): 1}
    assert shingles("  ... ") == {}


def test_document_score_hand_computed():
    # gold: 6 tokens -> 3 shingles; output shares the first 5 tokens -> 2 shingles in common
    # plus one shingle of its own: tp=2, fp=1, fn=1, normalized by 4
    s = score_document("a b c d e z", "a b c d e f")
    assert (s.tp, s.fp, s.fn) == (0.5, 0.25, 0.25)
    assert s.precision == pytest.approx(2 / 3) and s.recall == pytest.approx(2 / 3)


def test_empty_output_counts_only_against_recall():
    empty = score_document("", "a b c d e")
    assert empty.precision is None and empty.recall == approx(0.0)
    perfect = score_document("a b c d e", "a b c d e")
    agg = aggregate([empty, perfect])
    assert agg["P"] == approx(1.0) and agg["R"] == approx(0.5)
    assert agg["F1"] == pytest.approx(2 * 1.0 * 0.5 / 1.5)


def _page(root: Path, name: str, dump: str, gold: str) -> None:
    d = root / name
    d.mkdir()
    (d / "dump.txt").write_text(dump, encoding="utf-8")
    (d / "gold.txt").write_text(gold, encoding="utf-8")


def test_evaluate_corpus_and_rule_table(tmp_path):
    _page(tmp_path, "p1", "Menu\nThe body sentence is here today.", "The body sentence is here today.")
    _page(tmp_path, "p2", "Home\nNothing", "Some other gold text entirely here.")
    (tmp_path / "no_gold").mkdir()

    def clean(text):
        lines = text.splitlines()
        return {"text": lines[1] if "body" in text else "",
                "removed": [{"reason": "nav", "rule": "nav.menu", "text": lines[0]},
                            {"reason": "x", "rule": "stat.x", "text": "sentence is here"}]}

    r = evaluate_corpus(tmp_path, "dump", clean)
    assert r["docs"] == 2 and r["empty"] == 1
    assert r["P"] == approx(1.0) and r["R"] == approx(0.5)
    assert r["rules"]["nav.menu"]["lines"] == 2 and r["rules"]["nav.menu"]["fp_rate"] == approx(0.0)
    assert r["rules"]["stat.x"]["fp_rate"] == approx(0.5)  # in the gold of p1, not of p2
    report = format_report(r)
    assert "F1=0.667" in report and "nav.menu" in report


def test_plain_string_results_and_bad_kind(tmp_path):
    _page(tmp_path, "p", "x", "a b c d")
    assert evaluate_corpus(tmp_path, "dump", lambda t: "a b c d")["F1"] == approx(1.0)
    with pytest.raises(ValueError):
        evaluate_corpus(tmp_path, "pdf", str)


def test_wcxb_metric_is_the_mean_of_per_page_token_bag_f1():
    from pipeline.evaluate import aggregate_wcxb, wcxb_score

    s = wcxb_score("The cat sat. Home", "the CAT sat on the mat", ["cat sat"], ["Home", "Login"])
    # output bag {the, cat, sat, home}, gold bag {the x2, cat, sat, on, mat}: overlap 3
    assert s.precision == approx(3 / 4) and s.recall == approx(3 / 6)
    assert s.f1 == approx(2 * 0.75 * 0.5 / 1.25)
    assert s.with_found == approx(1.0) and s.without_found == approx(0.5)
    empty = wcxb_score("", "the cat")
    assert (empty.precision, empty.recall, empty.f1) == (0.0, 0.0, 0.0)
    agg = aggregate_wcxb([s, empty])
    assert agg["F1"] == approx(s.f1 / 2) and agg["with_found"] == approx(1.0)


def test_eval_reads_gzipped_html_and_reports_per_page_type(tmp_path):
    import gzip
    import json

    from pipeline.evaluate import evaluate_corpus, format_report

    rows = []
    for i, (page_type, body) in enumerate([("article", "alpha beta gamma delta"), ("forum", "one two three four")]):
        page = tmp_path / f"p{i}"
        page.mkdir()
        (page / "gold.txt").write_text(body, encoding="utf-8")
        (page / "page.html.gz").write_bytes(gzip.compress(f"<html><body><p>{body}</p></body></html>".encode()))
        rows.append({"id": f"p{i}", "page_type": page_type, "with": [body.split()[0]], "without": ["zzz"]})
    (tmp_path / "manifest.jsonl").write_text("\n".join(map(json.dumps, rows)) + "\n", encoding="utf-8")
    result = evaluate_corpus(tmp_path, "html", lambda html: html.split("<p>")[1].split("</p>")[0], metric="wcxb")
    assert result["docs"] == 2 and result["F1"] == approx(1.0)
    assert result["with_found"] == approx(1.0) and result["without_found"] == approx(0.0)
    assert set(result["by_type"]) == {"article", "forum"} and result["by_type"]["forum"]["docs"] == 1
    report = format_report(result)
    assert "metric=wcxb" in report
    assert any(line.split()[:2] == ["forum", "1"] for line in report.splitlines() if line.strip())
