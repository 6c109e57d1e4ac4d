"""Markdown out: line classes from an HTML page's structure, rendering, --format markdown, md-dir,
the markdown record field (JSONL, Parquet), partitions with output_format = markdown, explain, report."""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import pipeline
from pipeline.config import CleanConfig
from pipeline.markdown import (CELL, HEADER_CELL, LIST_ITEM, ORDERED_ITEM, PARAGRAPH, QUOTE, LineClass, escape,
                               render, to_markdown)
from pipeline.writers import DOCUMENT_SEPARATOR, INDEX_NAME, format_for_output, iter_records, output_format_of
from tasks.cli import main
from tests.test_luigi import luigi_cmd

REPO = Path(__file__).parents[1]
FIXTURES = REPO / "tests" / "fixtures"
STRUCTURED = FIXTURES / "html" / "structured.html"
DATE = "2026-11-24"
MD = CleanConfig(markdown=True)

EXPECTED = """\
Tomatoes need six to eight hours of direct sun a day, so the south-facing corner of a balcony is the place to start. A pot of at least twenty litres holds enough soil to keep the roots moist between waterings.

## What you need

- A pot of twenty litres or more, with drainage holes
- Peat-free compost mixed with a little grit
- A bamboo cane and soft string for tying the stems

## Planting, step by step

1. Fill the pot to a hand's width below the rim
2. Plant the seedling deeper than it grew in its tray
3. Water well and push the cane in beside the stem

> The deeper you plant a tomato, the more roots it grows along the buried stem.

### Feeding through the summer

Once the first flowers open, feed every week with a liquid fertiliser rich in potassium. Too much nitrogen gives leaves instead of fruit, which is the most common mistake on small balconies.

| Variety | Days to harvest |
|---|---|
| Gardener's Delight | 65 |
| Sungold | 57 |

Pick the fruit when it is fully coloured and slightly soft, and keep it out of the fridge so it keeps its taste.
"""

_MARKS = re.compile(r"^(?:> ?)*(?:#{1,6} |\s*[-*+] |\s*\d{1,9}\. |\|)")


def words_of_markdown(md: str) -> list[str]:
    """The words of a Markdown text without its marks (line prefixes, table rules, escapes)."""
    out = []
    for line in md.splitlines():
        if re.fullmatch(r"\|(?:---\|)+", line):
            continue
        out += re.findall(r"\w+", _MARKS.sub(" ", line).replace("\\", "").replace("|", " "))
    return out


def html_record(cfg: CleanConfig = MD) -> dict:
    return pipeline.clean_html(STRUCTURED.read_text(encoding="utf-8"), cfg, id="structured")


def test_html_headings_lists_quote_table_become_markdown():
    rec = html_record()
    assert rec["markdown"] == EXPECTED
    # a rendering of the same content: the record's text is unchanged, word for word
    assert rec["text"] == html_record(CleanConfig())["text"]
    assert words_of_markdown(rec["markdown"]) == re.findall(r"\w+", rec["text"])
    assert "markdown" not in html_record(CleanConfig())  # only when asked for
    # the title (h1) is the record's title, not part of the text, so not of the Markdown either
    assert rec["title"] == "Growing tomatoes on a balcony" and "Growing tomatoes" not in rec["markdown"]


def test_lines_the_cleaning_rejoined_are_cut_back_into_their_blocks():
    """The cleaner glues "stems" + "Planting, step by step" (a short line after an open one) and
    table cells that start lower-case; the Markdown puts them back where the page had them."""
    rec = html_record()
    assert "the stems Planting, step by step" in rec["text"]
    assert "- A bamboo cane and soft string for tying the stems\n\n## Planting, step by step\n" in rec["markdown"]
    html = ("<html><body><article><p>A long enough paragraph about the numbers in the table below, "
            "kept by the extractor.</p><table><tr><th>name</th><th>value</th></tr><tr><td>alpha</td>"
            "<td>one</td></tr><tr><td>beta</td><td>two</td></tr></table></article></body></html>")
    lines = ["A long enough paragraph about the numbers in the table below, kept by the extractor.",
             "name value alpha one beta two"]
    classes, md = to_markdown(lines, html)
    assert [c.kind for c in classes] == [PARAGRAPH, HEADER_CELL]
    assert md.endswith("| name | value |\n|---|---|\n| alpha | one |\n| beta | two |\n")


def test_layout_tables_and_nested_structure():
    html = ("<html><body><table><tr><td><h2>Menu heading</h2><p>A paragraph inside a layout table cell, "
            "the way old sites put their whole page in one table.</p></td></tr></table>"
            "<ul><li>Outer item<ul><li>Inner item</li></ul></li><li><h3>A heading in an item</h3></li></ul>"
            "<blockquote><ul><li>Quoted item</li></ul></blockquote><pre>x = 1</pre></body></html>")
    lines = ["Menu heading", "A paragraph inside a layout table cell, the way old sites put their whole page "
             "in one table.", "Outer item", "Inner item", "A heading in an item", "Quoted item", "x = 1"]
    classes, md = to_markdown(lines, html)
    assert [c.kind for c in classes] == ["h2", PARAGRAPH, LIST_ITEM, LIST_ITEM, LIST_ITEM, LIST_ITEM, "pre"]
    assert [c.depth for c in classes[2:5]] == [1, 2, 1]
    assert "## Menu heading\n\nA paragraph inside" in md  # a one-cell layout table is no table
    assert "- Outer item\n  - Inner item\n- A heading in an item\n" in md
    assert "> - Quoted item\n\n```\nx = 1\n```\n" in md


def test_text_that_reads_as_markdown_is_escaped():
    assert escape("1. Not a list") == "1\\. Not a list"
    assert escape("# not a heading") == "\\# not a heading"
    assert escape("- not an item") == "\\- not an item"
    assert escape("> not a quote") == "\\> not a quote"
    assert escape("snake_case and *stars*") == "snake\\_case and \\*stars\\*"
    assert escape("2026 was a year") == "2026 was a year"
    md = render(["1. first", "a | b"], [LineClass(ORDERED_ITEM, depth=1, number=1), LineClass(CELL, table=1, row=1)])
    assert md == "1. 1. first\n\n| a \\| b |\n|---|\n"
    assert render(["Said once.", "Said twice."], [LineClass(QUOTE, quote=1)] * 2) == "> Said once.\n>\n> Said twice.\n"
    assert render([], []) == ""


# ----------------------------------------------------------------------------------- CLI

def test_cli_format_markdown_several_documents_and_md_name(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(STRUCTURED, "page.html")
    shutil.copy(STRUCTURED, "again.html")
    assert main(["clean", "page.html", "again.html", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    docs = out.split("\n" + DOCUMENT_SEPARATOR + "\n")
    assert docs == [EXPECTED.removesuffix("\n"), EXPECTED]
    assert format_for_output(None, "x.md") == "markdown"
    assert main(["clean", "page.html", "again.html", "-o", "x.md"]) == 0
    assert Path("x.md").read_text(encoding="utf-8") == out
    assert main(["clean", "page.html", "-o", "pages", "--format", "md-dir"]) == 0
    assert sorted(os.listdir("pages")) == [INDEX_NAME, "page.html.md"]
    assert Path("pages/page.html.md").read_text(encoding="utf-8") == EXPECTED
    assert output_format_of("pages") == "md-dir"
    assert [r["markdown"] + "\n" for r in iter_records("md-dir", Path("pages"))] == [EXPECTED]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries left


def test_cli_markdown_field_in_jsonl_and_parquet(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(STRUCTURED, "page.html")
    assert main(["clean", "page.html", "-o", "with.jsonl", "--markdown"]) == 0
    (rec,) = [json.loads(line) for line in Path("with.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rec["markdown"] == EXPECTED
    assert main(["clean", "page.html", "-o", "without.jsonl"]) == 0
    assert "markdown" not in json.loads(Path("without.jsonl").read_text(encoding="utf-8"))
    assert main(["clean", "page.html", "-o", "with.parquet", "--markdown"]) == 0
    assert main(["clean", "page.html", "-o", "without.parquet"]) == 0
    assert pq.read_table("with.parquet").column("markdown").to_pylist() == [EXPECTED]
    assert pq.read_table("without.parquet").column("markdown").to_pylist() == [None]
    assert pq.read_table("with.parquet").column("text").to_pylist() == [rec["text"]]


def test_explain_prints_the_line_class_of_kept_lines(tmp_path: Path, capsys):
    assert main(["explain", str(STRUCTURED), "--no-colour"]) == 0
    lines = capsys.readouterr().out.splitlines()
    kinds = {line.split(None, 3)[3]: line.split()[2] for line in lines if line.startswith("KEEP")}
    assert kinds["What you need"] == "h2"
    assert kinds["Peat-free compost mixed with a little grit"] == "li"
    assert kinds["Plant the seedling deeper than it grew in its tray"] == "oli"
    assert kinds["Sungold"] == "td"
    assert any(line.startswith("DROP") and "Copyright 2026" in line for line in lines)


# ----------------------------------------------------------------------------------- Luigi


@pytest.fixture()
def day(tmp_path: Path) -> Path:
    shutil.copy(REPO / "luigi.cfg", tmp_path / "luigi.cfg")
    folder = tmp_path / "raw" / DATE
    folder.mkdir(parents=True)
    shutil.copy(STRUCTURED, folder / "page.html")
    shutil.copy(FIXTURES / "seed.txt", folder / "seed.txt")
    (folder / "empty.txt").write_bytes(b"")
    return tmp_path


def test_partition_output_format_markdown(day: Path):
    res = luigi_cmd(day, "CleanPartition", "--date", DATE, "--decruft-shard-max-files", "1",
                    "--decruft-output-format", "markdown")
    assert res.returncode == 0, res.stderr[-3000:]
    out = day / "clean" / DATE
    parts = sorted(p for p in out.glob("part-*") if p.is_dir())
    assert len(parts) == 3 and not list(out.glob("part-*.jsonl"))
    files = {name: part for part in parts for name in os.listdir(part)}
    assert set(files) == {INDEX_NAME, "page.html.md", "seed.txt.md"}
    assert (files["page.html.md"] / "page.html.md").read_text(encoding="utf-8") == EXPECTED
    seed_md = (files["seed.txt.md"] / "seed.txt.md").read_text(encoding="utf-8")
    seed = pipeline.clean_text((FIXTURES / "seed.txt").read_text(encoding="utf-8"), MD, id="seed.txt")
    assert seed_md == seed["markdown"] and words_of_markdown(seed_md) == re.findall(r"\w+", seed["text"])
    index = [json.loads(line) for part in parts if (part / INDEX_NAME).stat().st_size
             for line in (part / INDEX_NAME).read_text(encoding="utf-8").splitlines()]
    assert sorted(e["file"] for e in index) == ["page.html.md", "seed.txt.md"]
    summary = json.loads((out / "_SUCCESS.json").read_text())
    assert summary["output_format"] == "markdown" and summary["cleaned"] == 2 and summary["rejected"] == 1
    report = (out / "_report.html").read_text(encoding="utf-8")
    assert 'id="markdown-counts">2 of 2 documents rendered as Markdown' in report
    assert "<b>3</b> headings" in report  # What you need, Planting…, Feeding… (and none in the seed)
    # a rerun of the complete partition does nothing
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    assert luigi_cmd(day, "CleanPartition", "--date", DATE, "--decruft-shard-max-files", "1",
                     "--decruft-output-format", "markdown").returncode == 0
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before


def test_partition_markdown_field_in_jsonl(day: Path):
    res = luigi_cmd(day, "CleanPartition", "--date", DATE, "--decruft-markdown", "true")
    assert res.returncode == 0, res.stderr[-3000:]
    out = day / "clean" / DATE
    records = {r["id"]: r for p in out.glob("part-*.jsonl") for r in map(json.loads, p.read_text().splitlines())}
    assert records["page.html"]["markdown"] == EXPECTED
    assert set(records) == {"page.html", "seed.txt"} and all("markdown" in r for r in records.values())


# ----------------------------------------------------------------------------------- text

DUMP = FIXTURES / "sourdough_dump.txt"  # written for these tests: a recipe page as a naive scraper saves it


def body_lines() -> list[str]:
    """The article part of the dump (what a cleaner that keeps subheadings and list items keeps)."""
    lines = DUMP.read_text(encoding="utf-8").splitlines()
    return lines[lines.index("By Jane Doe") + 2 : lines.index("Share this article")]


@pytest.mark.numeric
def test_dump_headings_and_list_items_from_the_learned_line_classes():
    lines = body_lines()
    classes, md = to_markdown(lines, source=lines)
    kinds = dict(zip(lines, (c.kind for c in classes)))
    assert kinds["Feeding the starter"] == "h2"
    for item in ("Strong white or wholemeal flour", "Filtered water at room temperature",
                 "It doubles in size within six hours of a feed", "It smells pleasantly sour rather than sharp"):
        assert kinds[item] == LIST_ITEM, item
    for para in (lines[0], lines[-1]):
        assert kinds[para] == PARAGRAPH
    assert "\n\n## Feeding the starter\n\n" in md and "- Strong white or wholemeal flour\n- Filtered water" in md
    assert words_of_markdown(md) == re.findall(r"\w+", "\n".join(lines))  # the same words, in order


@pytest.mark.numeric
def test_text_pieces_cut_rejoined_lines_back():
    """The cleaning glues a short line to one that broke off; the classes see the source lines."""
    source = ["Cash flow challenges come with every growing firm that scales too fast",
              "Highly mobile users", "Slow response times with on-premises systems"]
    from pipeline.markdown import text_pieces

    kept = [source[0] + " " + source[1], source[2]]
    assert text_pieces(kept, source) == [[(0, len(source[0]) + 1), (len(source[0]) + 1, len(kept[0]))],
                                         [(0, len(source[2]))]]
    rec = pipeline.clean_text(DUMP.read_text(encoding="utf-8"), MD, id="dump")
    assert words_of_markdown(rec["markdown"]) == re.findall(r"\w+", rec["text"])
    assert "markdown" not in pipeline.clean_text(DUMP.read_text(encoding="utf-8"), id="dump")
