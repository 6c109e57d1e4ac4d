"""Titles from dumps (issue 11 item 8) and cleaning clean text is a fixed point (issue 12 item 5)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import pipeline
from tasks.cli import main

REPO = Path(__file__).parents[1]
SEED = REPO / "tests" / "fixtures" / "seed.txt"
GERMAN = REPO / "raw" / "2026-11-24" / "site-berlin" / "bahn-streik.txt"
RUSSIAN = REPO / "raw" / "2026-11-24" / "tramvai-cp1251.txt"
DEV = REPO.parent / "shared" / "corpus" / "dev"
DEV_DUMPS = sorted(DEV.glob("*/dump.txt"))

BODY = [
    "The city council voted on Tuesday to close the old bridge over the river for two years of repairs.",
    "Engineers said the steel had corroded faster than expected, and that traffic would move to the ferry.",
    "The mayor, who had opposed the closure for months, said she would ask the state for money to speed it up.",
]


def _paragraphs(rec: dict) -> list[str]:
    return rec["text"].split("\n\n")


def _clean_file(path: Path, capsys) -> dict:
    assert main(["clean", str(path)]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    return json.loads(line)


# ---- titles ----------------------------------------------------------------------------------

def test_german_sample_headline_becomes_the_title(capsys):
    rec = _clean_file(GERMAN, capsys)
    headline = "Bahnstreik legt Fernverkehr in ganz Deutschland lahm"
    assert rec["title"] == headline
    assert headline not in _paragraphs(rec)
    assert ("title", headline) in [(r["reason"], r["text"]) for r in rec["removed"]]


def test_russian_sample_headline_becomes_the_title(capsys):
    rec = _clean_file(RUSSIAN, capsys)
    headline = "В Москве открылась первая линия нового трамвая"
    assert rec["title"] == headline
    assert headline not in _paragraphs(rec)
    assert [r["reason"] for r in rec["removed"] if r["text"] == headline] == ["title"]


def test_page_title_and_h1_repeated_in_a_dump():
    dump = "\n".join(["Bridge Closed For Two Years After Vote | Local - Riverside Gazette", "Home", "Local",
                      "Sports", "Bridge Closed For Two Years After Vote", "By Jane Doe", *BODY, "Local", "Sports"])
    rec = pipeline.clean_text(dump)
    assert rec["title"] == "Bridge Closed For Two Years After Vote"
    titles = [(r["rule"], r["text"]) for r in rec["removed"] if r["reason"] == "title"]
    assert titles == [("title.page_title", "Bridge Closed For Two Years After Vote | Local - Riverside Gazette"),
                      ("title.match", "Bridge Closed For Two Years After Vote")]
    assert BODY[0] in _paragraphs(rec)


def test_headline_with_its_own_dash_is_found_whole():
    dump = "\n".join(["Biden - Trump debate: what voters heard - Example News", "Menu",
                      "Biden - Trump debate: what voters heard", *BODY])
    assert pipeline.clean_text(dump)["title"] == "Biden - Trump debate: what voters heard"


def test_a_repeated_menu_word_is_not_a_title():
    dump = "\n".join(["Gaming", "Entertainment", "Science", "Gaming", "Entertainment", *BODY])
    rec = pipeline.clean_text(dump)
    assert rec["title"] != "Gaming"
    assert "title.page_title" not in [r["rule"] for r in rec["removed"]]


def test_known_title_is_kept_as_given():
    rec = pipeline.clean_text("\n".join(["Bridge closed", *BODY]), title="Bridge closed")
    assert rec["title"] == "Bridge closed" and _paragraphs(rec) == BODY


# ---- fixed point -----------------------------------------------------------------------------

def _assert_fixed_point(rec: dict, cfg=None) -> None:
    again = pipeline.clean_text(rec["text"], cfg, title=rec["title"])
    assert again["text"] == rec["text"]
    assert again["title"] == rec["title"]


def test_seed_is_a_fixed_point():
    _assert_fixed_point(pipeline.clean_text(SEED.read_text(encoding="utf-8")))


def test_first_pass_joins_what_a_second_pass_joins():
    # A fragment left alone because a rule-removed line stood between it and its sentence:
    # once that line is gone, a second cleaning would join them; the first one does.
    dump = "\n".join([BODY[0], "The state attorney general is investigating the company. According to",
                      "Read more", ", the questions include whether the founder engaged in self-dealing.", *BODY[1:]])
    rules_only = pipeline.CleanConfig(statistical=False)  # the joining alone, without the line model
    rec = pipeline.clean_text(dump, rules_only)
    assert not [p for p in _paragraphs(rec) if p.startswith(",")]
    assert ("The state attorney general is investigating the company. According to, the questions include "
            "whether the founder engaged in self-dealing.") in _paragraphs(rec)
    assert pipeline.clean_text(rec["text"], rules_only, title=rec["title"])["text"] == rec["text"]
    _assert_fixed_point(pipeline.clean_text(dump))


def test_untitled_text_is_a_fixed_point():
    # no title found: cleaning the text again must not take its first paragraph as one
    text = "\n\n".join(["Riverside council meets", *BODY])
    rec = pipeline.clean_text(text, title=None)
    _assert_fixed_point(rec)


def test_fixed_point_through_the_jsonl_reader(tmp_path, capsys):
    rec = pipeline.clean_text(SEED.read_text(encoding="utf-8"))
    path = tmp_path / "again.jsonl"
    path.write_text(json.dumps({"id": "seed", "title": rec["title"], "text": rec["text"]}) + "\n", encoding="utf-8")
    again = _clean_file(path, capsys)
    assert again["text"] == rec["text"] and again["title"] == rec["title"]


@pytest.mark.skipif(not DEV_DUMPS, reason=f"dev corpus not found ({DEV})")
def test_dev_dumps_are_fixed_points(tmp_path, capsys):
    records = [pipeline.clean_text(p.read_text(encoding="utf-8"), id=p.parent.name) for p in DEV_DUMPS]
    changed = [r["id"] for r in records
               if pipeline.clean_text(r["text"], title=r["title"])["text"] != r["text"]]
    assert changed == []
    path = tmp_path / "dev.jsonl"
    path.write_text("".join(json.dumps({"id": r["id"], "title": r["title"], "text": r["text"]}) + "\n"
                            for r in records), encoding="utf-8")
    assert main(["clean", str(path)]) == 0
    again = {r["id"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert [r["id"] for r in records if again[r["id"]]["text"] != r["text"]] == []
