"""Languages per paragraph (``langs``), the main language of mixed documents, and ``keep_langs``."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import pipeline
from pipeline import language
from pipeline.clean import clean_document
from pipeline.config import CleanConfig
from pipeline.document import Document
from pipeline.language import detect_language, detect_languages, parse_languages
from pipeline.report import PartitionScan, render_report
from tasks.cli import main

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
from mixed_langs import DE, EN  # noqa: E402

FR = ("Le conseil municipal a voté mardi l'extension du réseau de bus, avec trois nouvelles lignes qui "
      "relieront les banlieues du nord à l'hôpital et au campus universitaire dès le mois de septembre.")


def shares(record_or_mix) -> dict[str, float]:
    langs = record_or_mix["langs"] if isinstance(record_or_mix, dict) else record_or_mix.shares()
    return {d["lang"]: d["share"] for d in langs}


@pytest.mark.parametrize("order", ["en_de", "de_en", "en_de_en"])
def test_mixed_document_shares_and_main_language(order):
    paragraphs = {"en_de": EN + DE, "de_en": DE + EN, "en_de_en": EN[:3] + DE + EN[3:]}[order]
    truth = ["en" if p in EN else "de" for p in paragraphs]
    rec = pipeline.clean_text("\n\n".join(paragraphs))
    got = shares(rec)
    de_share = sum(len(p) for p in DE) / sum(len(p) for p in paragraphs)
    assert set(got) == {"en", "de"}
    assert got["de"] == pytest.approx(de_share, abs=0.01)
    assert got["en"] == pytest.approx(1 - de_share, abs=0.01)
    # German is the larger part: the main language, whatever the order (one tag on the whole
    # text said "und" at 0.57 for English then German)
    assert rec["lang"] == "de" and rec["lang_score"] >= 0.9
    assert rec["langs"][0]["lang"] == "de"
    mix = detect_languages(paragraphs)
    assert list(mix.paragraphs) == truth


def test_issue_example_english_then_german_is_not_und():
    # the issue's case: about 3,000 chars of English, then 3,300 of German
    text = "\n\n".join(EN * 2 + DE * 2)
    assert detect_language(text)[0] in ("und", "de")  # one tag: "und" or the later language only
    rec = pipeline.clean_text(text)
    assert rec["lang"] == "de"
    assert shares(rec)["en"] == pytest.approx(0.4957, abs=0.01)


def test_monolingual_document_keeps_its_one_tag():
    text = "\n\n".join(EN)
    rec = pipeline.clean_text(text)
    lang, score = detect_language(text, sample_chars=CleanConfig().lang_sample_chars)
    assert (rec["lang"], rec["lang_score"]) == (lang, score) == ("en", rec["lang_score"])
    assert rec["langs"] == [{"lang": "en", "share": 1.0}]


def test_short_document_is_not_split():
    mix = detect_languages([EN[0][:150], DE[0][:150]])  # 300 chars: below langs_min_chars
    assert len(mix.langs) == 1 and len(set(mix.paragraphs)) == 1


def test_short_paragraph_takes_its_neighbours_language():
    # a byline-like line with a few foreign-looking names inside German text stays German
    paragraphs = DE[:3] + ["Von Jan de Vries und Per Olsen"] + DE[3:]
    mix = detect_languages(paragraphs)
    assert set(mix.paragraphs) == {"de"}
    assert mix.langs == (("de", 1.0),)


def test_cost_is_bounded_whatever_the_length(monkeypatch):
    calls = {"probabilities": 0, "log_likelihoods": 0, "scored_chars": 0}
    det = language.detector()
    real_prob, real_ll = det.probabilities, det.log_likelihoods

    def prob(text, seed=0):
        calls["probabilities"] += 1
        return real_prob(text, seed)

    def ll(texts):
        calls["log_likelihoods"] += 1
        calls["scored_chars"] += sum(len(t) for t in texts)
        return real_ll(texts)

    monkeypatch.setattr(det, "probabilities", prob)
    monkeypatch.setattr(det, "log_likelihoods", ll)
    cfg = CleanConfig()
    paragraphs = (EN + DE + [FR]) * 300  # ~1,000 paragraphs, 4,000 long ones' worth of text
    mix = detect_languages(paragraphs, max_units=cfg.langs_max_units, unit_chars=cfg.langs_unit_chars)
    assert calls["log_likelihoods"] <= 2
    assert calls["scored_chars"] <= 2 * cfg.langs_max_units * (cfg.langs_unit_chars + 1)
    assert calls["probabilities"] <= cfg.langs_max_detects
    assert {"en", "de"} <= set(shares(mix))


def test_keep_langs_removes_other_paragraphs():
    text = "\n\n".join(EN[:3] + DE + EN[3:])
    rec = pipeline.clean_text(text, CleanConfig(keep_langs=frozenset({"de"})))
    assert rec["lang"] == "de"
    assert rec["langs"] == [{"lang": "de", "share": 1.0}]
    assert rec["text"] == "\n\n".join(DE)
    removed = [r for r in rec["removed"] if r["reason"] == "other_language"]
    assert [r["text"] for r in removed] == EN
    assert {r["rule"] for r in removed} == {"lang.en"}
    assert [r["at"] for r in removed] == [0, 1, 2, 9, 10, 11]


def test_keep_langs_main_language_removed_gets_a_new_tag():
    rec = pipeline.clean_text("\n\n".join(EN + DE[:2]), CleanConfig(keep_langs=frozenset({"de"})))
    assert rec["lang"] == "de" and rec["lang_score"] >= 0.9
    assert rec["text"] == "\n\n".join(DE[:2])


def test_keep_langs_nothing_in_kept_language_is_language_filtered():
    rec = pipeline.clean_text("\n\n".join(EN + DE), CleanConfig(keep_langs=frozenset({"fr"})))
    assert rec["error"].startswith("no paragraph in fr")
    doc = Document(id="x", source="x", raw="\n\n".join(EN + DE))
    clean_document(doc, CleanConfig(keep_langs=frozenset({"fr"})))
    assert doc.error == "language_filtered"
    assert "de 0.50" in doc.detail and "en 0.49" in doc.detail


def test_parse_languages():
    assert parse_languages("de, EN") == frozenset({"de", "en"})
    assert parse_languages("") == frozenset()
    assert "zh" in parse_languages(["zh"])
    with pytest.raises(ValueError, match="eng"):
        parse_languages("de,eng")


def test_cli_keep_lang(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mixed.txt").write_text("\n\n".join(EN + DE), encoding="utf-8")
    (tmp_path / "english.txt").write_text("\n\n".join(EN), encoding="utf-8")
    code = main(["clean", "mixed.txt", "english.txt", "--keep-lang", "de", "--rejects", "rej.jsonl"])
    out, err = capsys.readouterr()
    assert code == 0  # a filter the user asked for is not a failure
    records = [json.loads(l) for l in out.splitlines()]
    assert [r["id"] for r in records] == ["mixed.txt"]
    assert records[0]["text"] == "\n\n".join(DE)
    rejects = [json.loads(l) for l in (tmp_path / "rej.jsonl").read_text().splitlines()]
    assert [(r["id"], r["reason"]) for r in rejects] == [("english.txt", "language_filtered")]
    assert "english.txt: language_filtered" in err
    assert main(["clean", "mixed.txt", "--keep-lang", "de,xx"]) == 2
    assert "unknown language code(s) xx" in capsys.readouterr().err


def test_explain_shows_paragraph_languages(tmp_path, capsys):
    path = tmp_path / "mixed.txt"
    path.write_text("\n\n".join(EN[:2] + DE[:2]), encoding="utf-8")
    assert main(["explain", str(path), "--no-colour"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "langs=" in out[0] and "de:0.5" in out[0]
    keeps = [l for l in out if l.startswith("KEEP")]
    assert [("[en]" in l, "[de]" in l) for l in keeps] == [(True, False)] * 2 + [(False, True)] * 2


def test_parquet_has_langs(tmp_path):
    path = tmp_path / "mixed.txt"
    path.write_text("\n\n".join(EN + DE), encoding="utf-8")
    assert main(["clean", str(path), "-o", str(tmp_path / "out.parquet"), "--format", "parquet"]) == 0
    row = pq.read_table(tmp_path / "out.parquet").to_pylist()[0]
    assert [d["lang"] for d in row["langs"]] == ["de", "en"]
    assert sum(d["share"] for d in row["langs"]) == pytest.approx(1.0, abs=1e-3)


def test_report_language_mix_by_paragraph(tmp_path):
    scan = PartitionScan()
    mixed = pipeline.clean_text("\n\n".join(EN + DE), id="mixed")
    english = pipeline.clean_text("\n\n".join(EN), id="english")
    for n, rec in enumerate((mixed, english)):
        scan.add_record(n, rec)
    assert scan.mixed_docs == 1
    de_chars = round(mixed["langs"][0]["share"] * mixed["stats"]["chars_out"])
    assert scan.lang_chars["de"] == de_chars
    assert scan.lang_chars["en"] == pytest.approx(mixed["stats"]["chars_out"] - de_chars
                                                  + english["stats"]["chars_out"], abs=1)
    again = PartitionScan()
    again.merge(scan.state())
    assert again.lang_chars == scan.lang_chars and again.mixed_docs == 1
    (tmp_path / "part-00000.jsonl").write_text("\n".join(json.dumps(r) for r in (mixed, english)) + "\n")
    (tmp_path / "_rejects.jsonl").write_text("")
    html = render_report(tmp_path)
    assert "1 of 2 documents hold more than one language" in html
    assert f"<td class=\"n\">{de_chars:,}</td>" in html


def test_prepare_many_equals_prepare_one_by_one():
    det = language.detector()
    texts = [EN[0], "这是一个用简体中文写的句子 with Latin words, see https://example.com/x", DE[1],
             "mail me@example.org\nnext line", "Он сказал: «OK»"]
    assert det.prepare_many(texts) == [det.prepare(t.replace("\n", " ")) for t in texts]
