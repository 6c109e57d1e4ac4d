"""Lone surrogates and other hostile characters: replaced once (decode.replace_unencodable), never fatal.

Property tests (hypothesis) over clean_text, clean_html, the readers and every writer, with
surrogates, NULs, RTL marks, zero-width characters and 100,000-character lines: they never
raise, and everything they return or write encodes as UTF-8.
"""
from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pipeline
from pipeline.decode import encodable, make_document_encodable, replace_unencodable
from pipeline.document import Document
from pipeline.readers import documents_from_bytes, iter_documents
from pipeline.writers import OUTPUT_FORMATS, iter_records, open_writer, output_format_of, safe_filename
from tasks.cli import main

REPO = Path(__file__).parents[1]
DATE = "2026-11-24"
BODY = ("The harbour authority said on Monday that container traffic rose by a fifth in October, "
        "the strongest month since the port reopened after the storm.")

# --------------------------------------------------------------------------- the one function


@pytest.mark.parametrize("text, fixed, n", [
    ("plain ascii", "plain ascii", 0),
    ("café – ok 😀", "café – ok 😀", 0),
    ("a\ud800b", "a\ufffdb", 1),
    ("\udfff", "\ufffd", 1),
    ("x\ud83d", "x\ufffd", 1),  # a high surrogate cut from its pair
    ("\ud83d\ude00!", "😀!", 2),  # a pair left unjoined: the character it spells
    ("\ude00\ud83d", "\ufffd\ufffd", 2),  # the wrong order is no pair
    ("name-\udcff.txt", "name-\ufffd.txt", 1),  # os.fsdecode of a byte that is not UTF-8
])
def test_replace_unencodable(text, fixed, n):
    assert replace_unencodable(text) == (fixed, n)
    fixed.encode("utf-8")


def test_encodable_walks_records_and_keeps_clean_ones():
    clean = {"id": "a", "n": 1, "removed": [{"text": "é"}], "t": ("x",)}
    assert encodable(clean) == (clean, 0) and encodable(clean)[0] is clean
    got, n = encodable({"id\ud800": ["a\udc00", ("b\ud800",)], "meta": {"k": "\ud800"}, "x": None})
    assert n == 4
    assert got == {"id\ufffd": ["a\ufffd", ("b\ufffd",)], "meta": {"k": "\ufffd"}, "x": None}


def test_document_strings_are_made_encodable_and_counted():
    doc = Document(id="i\ud800", source="s\udcff", title="t\ud800", url="u\ud800", raw="r\ud800\ud800",
                   metadata={"k\ud800": "v\ud800"})
    make_document_encodable(doc)
    assert (doc.id, doc.source, doc.title, doc.url, doc.raw) == ("i\ufffd", "s\ufffd", "t\ufffd", "u\ufffd", "r\ufffd\ufffd")
    assert doc.metadata == {"k\ufffd": "v\ufffd"}
    assert doc.stats["unencodable_chars"] == 8


# --------------------------------------------------------------------------- the reproducers


def test_cli_surrogate_record_is_cleaned_and_the_batch_goes_on(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    lines = [json.dumps({"id": "a", "text": BODY}),
             '{"id": "b\\ud800", "title": "T\\udfff", "text": "Bad \\ud800 char. ' + BODY + '"}',
             json.dumps({"id": "c", "text": BODY + " Again."})]
    (tmp_path / "f.jsonl").write_text("\n".join(lines) + "\n", encoding="ascii")
    code = main(["clean", "f.jsonl", "-o", "out.jsonl", "--rejects", "rej.jsonl"])
    assert code == 0, capsys.readouterr().err
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in records] == ["a", "b\ufffd", "c"]
    bad = records[1]
    assert bad["title"] == "T\ufffd" and bad["text"].startswith("Bad \ufffd char.")
    assert bad["stats"]["unencodable_chars"] == 3
    assert records[0]["stats"]["unencodable_chars"] == 0
    assert (tmp_path / "rej.jsonl").read_text() == ""


def test_library_calls_with_surrogates():
    html = pipeline.clean_html("About SFGATE\ud83d")
    assert html["text"] == "About SFGATE\ufffd" and html["stats"]["unencodable_chars"] == 1
    text = pipeline.clean_text(BODY + " \ud800", id="x\udcff", extra="m\ud800")
    assert text["text"].endswith("\ufffd") and text["id"] == "x\ufffd" and text["metadata"] == {"extra": "m\ufffd"}
    assert text["stats"]["unencodable_chars"] == 3
    json.dumps(text, ensure_ascii=False).encode("utf-8")


def test_txt_dir_with_a_surrogate_id(tmp_path: Path):
    assert safe_filename("a\ud800b") == "a\ufffdb"
    assert safe_filename("x" * 300 + "\ud800") != safe_filename("x" * 300 + "\udc00")  # long ids stay apart
    rec = dict(pipeline.clean_text(BODY), id="id\ud800/x")
    with open_writer("txt-dir", tmp_path / "out") as out:
        out.write(rec)
    (got,) = iter_records("txt-dir", tmp_path / "out")
    assert got["id"] == "id\ufffd/x" and got["text"] == rec["text"]


def test_file_name_that_is_not_utf8(tmp_path: Path):
    name = os.fsdecode(b"caf\xe9.txt")  # latin-1 bytes in a file name: '\udce9' in Python
    (tmp_path / name).write_text(BODY, encoding="utf-8")
    (doc,) = iter_documents(tmp_path / name, doc_id=name)
    assert doc.id == "caf\ufffd.txt" and doc.source.endswith("caf\ufffd.txt") and doc.raw == BODY
    assert doc.stats["unencodable_chars"] == 2


def test_partition_with_surrogates_and_an_undecodable_file_name(tmp_path: Path):
    """LearnShardSites and CleanShard once failed on such a record; the day then failed for good."""
    shutil.copy(REPO / "luigi.cfg", tmp_path / "luigi.cfg")
    day = tmp_path / "raw" / DATE
    day.mkdir(parents=True)
    (day / "crawl.jsonl").write_text(json.dumps({"id": "ok", "text": BODY}) + "\n"
                                     + '{"id": "s\\ud800", "url": "https://e.org/\\udc00", "text": "Odd \\ud800. '
                                     + BODY + '"}\n', encoding="ascii")
    (day / os.fsdecode(b"dump-\xff.txt")).write_text(BODY + " From a file.", encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    res = subprocess.run([str(Path(sys.executable).parent / "luigi"), "--module", "tasks", "CleanPartition",
                          "--date", DATE, "--local-scheduler"], cwd=tmp_path, capture_output=True, text=True,
                         env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    out = tmp_path / "clean" / DATE
    summary = json.loads((out / "_SUCCESS.json").read_text())
    assert summary["inputs"] == summary["cleaned"] == 3 and summary["rejected"] == 0
    records = {r["id"]: r for r in iter_records("jsonl", out / "part-00000.jsonl")}
    assert set(records) == {"ok", "s\ufffd", "dump-\ufffd.txt"}
    assert records["s\ufffd"]["url"] == "https://e.org/\ufffd"
    assert records["s\ufffd"]["stats"]["unencodable_chars"] == 3


# --------------------------------------------------------------------------- property tests

HOSTILE = ["\ud800", "\udbff", "\udc00", "\udfff", "\ud83d", "\x00", "\u200f", "\u200e", "\u202e", "\u2066",
           "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\n", "\r", "\r\n", "\t", "\x0c", "\u2028",
           "\x85", "\ufffd", "😀", "é", "Я", "ש", "ع", "中", " ", "&amp;", "<p>", "Share"]
CHARS = st.one_of(st.sampled_from(HOSTILE), st.characters(exclude_categories=()))
SHORT = st.lists(CHARS, max_size=60).map("".join)
# A 100,000-character line of hostile characters and words (no newline in it).
LONG_LINE = st.builds(lambda piece: (piece.replace("\n", " ").replace("\r", " ") or "x") * (100_000 // max(1, len(piece)) + 1),
                      st.lists(CHARS, min_size=1, max_size=8).map("".join)).map(lambda s: s[:100_000])
TEXT = st.lists(st.one_of(SHORT, st.just(BODY), LONG_LINE), min_size=1, max_size=4).map("\n".join)
SMALL_TEXT = st.lists(st.one_of(SHORT, st.just(BODY)), min_size=1, max_size=4).map("\n".join)
FAST = settings(max_examples=25, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


def assert_encodable(value) -> None:
    json.dumps(value, ensure_ascii=False, default=str).encode("utf-8")


def assert_document_encodable(doc: Document) -> None:
    for name in ("id", "source", "raw", "url", "title", "text", "detail"):
        value = getattr(doc, name)
        if value is not None:
            value.encode("utf-8")
    assert_encodable(doc.metadata)


@FAST
@given(TEXT, SHORT)
def test_clean_text_never_raises_and_is_encodable(text, title):
    rec = pipeline.clean_text(text, id=title or "x", title=title or None, url=title)
    assert_encodable(rec)
    assert rec["stats"]["unencodable_chars"] == replace_unencodable(text)[1] + 3 * replace_unencodable(title)[1]


@FAST
@given(TEXT)
def test_clean_html_never_raises_and_is_encodable(text):
    assert_encodable(pipeline.clean_html(text))
    assert_encodable(pipeline.clean_html(f"<html><head><title>{text[:200]}</title></head><body><p>{text}</p></body></html>"))


@FAST
@given(SMALL_TEXT, SHORT)
def test_readers_never_raise_and_are_encodable(text, other):
    raw = text.encode("utf-8", "surrogatepass")  # a surrogate here is bytes that are not UTF-8
    record = json.dumps({"id": other, "title": other, "text": text, other: text})  # \ud800 escapes
    for data, fmt in ((raw, "auto"), (raw, "html"), (record.encode(), "auto"), (gzip.compress(raw), "auto"),
                      ((record + "\n" + text.replace("\n", " ")).encode("utf-8", "surrogatepass"), "jsonl")):
        for doc in documents_from_bytes(data, doc_id=other, source=other, fmt=fmt):
            assert_document_encodable(doc)
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in (("a.jsonl", record.encode()), ("a.txt", raw), ("a.html.gz", gzip.compress(raw))):
            (Path(tmp) / name).write_bytes(data)
            for doc in iter_documents(Path(tmp) / name, doc_id=other or None):
                assert_document_encodable(doc)


def _record(text: str, other: str) -> dict:
    rec = pipeline.clean_text(BODY)
    rec.update(id=other, title=other, url=other, source=other, text=text, metadata={other: text, "k": [other]},
               markdown=text)
    rec["removed"] = [{"reason": "boilerplate", "rule": other, "text": text, "at": 0}]
    return rec


@FAST
@given(SMALL_TEXT, SHORT)
def test_every_writer_never_raises_and_writes_utf8(text, other):
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in OUTPUT_FORMATS:
            target = Path(tmp) / {"jsonl": "o.jsonl", "text": "o.txt", "jsonl.gz": "o.jsonl.gz",
                                  "parquet": "o.parquet", "txt-dir": "o", "markdown": "o.md", "md-dir": "o-md"}[fmt]
            with open_writer(fmt, target) as out:
                out.write(_record(text, other))
                out.write_line(json.dumps(_record(other, text), ensure_ascii=False))
            if fmt in ("text", "markdown"):
                target.read_bytes().decode("utf-8")
                continue
            got = list(iter_records(output_format_of(target), target))
            assert len(got) == 2
            assert replace_unencodable(got[0]["id"])[1] == 0
            assert_encodable(got)
