"""The per-document quality score and the guard built on it (issue 14 item 1)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.clean import clean_html, clean_text
from pipeline.config import CleanConfig
from pipeline.quality import PARTS, load_quality_model

pytestmark = pytest.mark.numeric

SEED = (Path(__file__).parent / "fixtures" / "seed.txt").read_text(encoding="utf-8")
# a page that is mostly furniture around two short sentences
FURNITURE = "\n".join(
    ["Home", "News", "Sport", "Weather", "Login", "Subscribe", "Menu", "Search"] * 6
    + ["The council met on Tuesday.", "It will meet again."]
    + ["Privacy policy", "Terms of use", "Contact", "Advertise with us", "© 2024 Example Media"] * 6
)


def test_every_record_gets_a_quality_in_0_1_with_its_parts():
    rec = clean_text(SEED)
    assert 0.0 <= rec["quality"] <= 1.0
    assert set(rec["quality_parts"]) == set(PARTS)
    assert rec["quality_parts"]["removed_share"] == pytest.approx(
        1 - len(rec["text"].split()) / len(SEED.split()), abs=0.1)


def test_a_page_of_furniture_scores_below_a_clean_article():
    good, bad = clean_text(SEED)["quality"], clean_text(FURNITURE)["quality"]
    assert good > 0.8 and bad < good - 0.2


def test_no_labeller_evidence_no_quality():
    rec = clean_text(SEED, CleanConfig(statistical=False))
    assert rec["quality"] is None and rec["quality_parts"]["lang_score"] > 0.9
    # HTML without the block model (trafilatura's text, rules only): no P(body) anywhere
    page = "<html><body><article><p>" + "A sentence of the article body. " * 20 + "</p></article></body></html>"
    html = clean_html(page, CleanConfig(html_model="/nonexistent/model.lgb.txt"))
    assert html["quality"] is None and html["metadata"]["extractor"] == "trafilatura"


def test_html_quality_from_the_block_model():
    """HTML input is scored on the block model's P(body) of its kept and left-out blocks, with the
    parts of its own regime; a page of furniture around two sentences scores below an article."""
    article = (Path(__file__).parent / "fixtures" / "html" / "harbour.html").read_text(encoding="utf-8")
    rec = clean_html(article)
    assert rec["metadata"]["extractor"] == "html_model"
    assert 0.0 <= rec["quality"] <= 1.0 and rec["quality_parts"]["extracted"] == 1.0
    assert rec["quality_parts"]["html_p_kept"] == rec["quality_parts"]["p_kept"] > 0.5
    links = "".join(f'<li><a href="/{w.lower()}">{w}</a></li>' for w in FURNITURE.splitlines()[:48])
    furniture = (f"<html><body><nav><ul>{links}</ul></nav><div><p>The council met on Tuesday.</p>"
                 f"<p>It will meet again.</p></div><footer><ul>{links}</ul></footer></body></html>")
    bad = clean_html(furniture)
    assert bad["quality"] < rec["quality"] - 0.2


def test_min_quality_rejects_as_low_quality():
    rec = clean_text(FURNITURE, CleanConfig(min_quality=0.99))
    assert "below min_quality 0.99" in rec["error"]
    assert clean_text(FURNITURE, CleanConfig(min_quality=0.99), id="f")["quality"] < 0.99
    assert "error" not in clean_text(SEED, CleanConfig(min_quality=0.5))


def test_max_removed_share_compares_with_the_regime():
    model = load_quality_model()
    rec = clean_text(FURNITURE, CleanConfig(max_removed_share=0.2))
    assert "expected for its page regime" in rec["error"]
    # the seed loses a fifth of its words: within what its regime loses by design plus 0.2
    assert "error" not in clean_text(SEED, CleanConfig(max_removed_share=0.2))
    assert set(model["median_removed_share"]) == {"dump", "article", "html"}


def test_cli_filter_goes_to_the_rejects_and_exits_0(tmp_path):
    src = tmp_path / "furniture.txt"
    src.write_text(FURNITURE, encoding="utf-8")
    (tmp_path / "seed.txt").write_text(SEED, encoding="utf-8")
    out, rej = tmp_path / "out.jsonl", tmp_path / "rej.jsonl"
    got = subprocess.run([sys.executable, "-m", "tasks.cli", "clean", str(src), str(tmp_path / "seed.txt"),
                          "-o", str(out), "--rejects", str(rej), "--min-quality", "0.6"],
                         capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[1])
    assert got.returncode == 0, got.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    rejects = [json.loads(line) for line in rej.read_text(encoding="utf-8").splitlines()]
    assert [Path(r["id"]).name for r in records] == ["seed.txt"] and records[0]["quality"] >= 0.6
    assert [(Path(r["id"]).name, r["reason"]) for r in rejects] == [("furniture.txt", "low_quality")]


def test_parquet_holds_quality(tmp_path):
    import pyarrow.parquet as pq

    from pipeline.writers import open_writer

    with open_writer("parquet", tmp_path / "x.parquet") as w:
        w.write(clean_text(SEED, id="seed"))
    table = pq.read_table(tmp_path / "x.parquet")
    row = table.to_pylist()[0]
    assert row["quality"] == pytest.approx(clean_text(SEED)["quality"])
    assert set(row["quality_parts"]) == set(PARTS)
