"""pipeline.readers: files (plain or .gz), JSONL records, rejections, sniffing."""
from __future__ import annotations

import gzip
import json

import pytest

from pipeline.config import CleanConfig
from pipeline.readers import documents_from_bytes, iter_documents, sniff_format

TEXT = "Erster Absatz über Bäume.\n\nZweiter Absatz.\n"
HTML = "<!DOCTYPE html><html><head><title>T</title></head><body><p>Grüße aus Köln.</p></body></html>"


def _write(path, data: bytes, gz: bool):
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def _docs(path, **kw):
    return list(iter_documents(path, **kw))


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
@pytest.mark.parametrize("name, kind, payload", [
    ("a.txt", "text", TEXT),
    ("a.html", "html", HTML),
    ("a.htm", "html", HTML),
])
def test_text_and_html_files(tmp_path, gz, name, kind, payload):
    path = _write(tmp_path / (name + (".gz" if gz else "")), payload.encode("utf-8"), gz)
    docs = _docs(path, doc_id="x")
    assert len(docs) == 1
    doc = docs[0]
    assert not doc.rejected
    assert (doc.id, doc.kind, doc.raw) == ("x", kind, payload)
    assert doc.source == str(path)
    assert doc.metadata["encoding"] == "utf-8"


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
def test_jsonl_file(tmp_path, gz):
    lines = [
        json.dumps({"id": "a1", "url": "https://e.com/a", "title": "T", "text": "Body one", "lang_hint": "en", "n": 3}),
        "",
        json.dumps({"text": "Body without id"}),
        "{broken json",
        json.dumps([1, 2, 3]),
        json.dumps({"title": "no text"}),
        json.dumps({"text": 42}),
        json.dumps({"html": "<p>Hi there</p>", "id": 7}),
        "   ",
        json.dumps({"text": "   ", "html": None}),
    ]
    path = _write(tmp_path / ("in.jsonl" + (".gz" if gz else "")), ("\n".join(lines) + "\n").encode(), gz)
    docs = _docs(path, doc_id="base")
    got = [(d.id, d.error, d.kind if not d.error else None) for d in docs]
    assert got == [
        ("a1", None, "text"),
        ("base#2", None, "text"),
        ("base#3", "malformed_json", None),
        ("base#4", "not_an_object", None),
        ("base#5", "missing_text", None),
        ("base#6", "bad_field", None),
        ("7", None, "html"),
        ("base#9", "bad_field", None),
    ]
    first = docs[0]
    assert (first.url, first.title, first.raw) == ("https://e.com/a", "T", "Body one")
    assert first.metadata == {"lang_hint": "en", "n": 3}
    assert docs[1].raw == "Body without id"
    assert docs[6].raw == "<p>Hi there</p>"
    assert "line 4" in docs[2].detail
    assert all(d.source == str(path) for d in docs)


def test_jsonl_default_base_id_is_path(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"text": "a"}\n{"text": "b"}\n', encoding="utf-8")
    assert [d.id for d in _docs(path)] == [f"{path.as_posix()}#0", f"{path.as_posix()}#1"]


def test_jsonl_crlf_and_bom(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b'{"id": "a", "text": "caf\\u00e9"}\r\n\r\n{"id": "b", "text": "b"}\r\n')
    docs = _docs(path)
    assert [(d.id, d.raw, d.error) for d in docs] == [("a", "café", None), ("b", "b", None)]


def test_truncated_gzip(tmp_path):
    blob = gzip.compress(b"Some text line.\n" * 2000)
    path = tmp_path / "cut.txt.gz"
    path.write_bytes(blob[: len(blob) // 2])
    docs = _docs(path, doc_id="cut")
    assert len(docs) == 1
    assert docs[0].error == "bad_gzip"
    assert docs[0].id == "cut"


def test_gz_name_but_not_gzip(tmp_path):
    path = tmp_path / "fake.txt.gz"
    path.write_bytes(b"not gzip at all")
    assert [d.error for d in _docs(path)] == ["bad_gzip"]


@pytest.mark.parametrize("name", ["doc.pdf", "sheet.xlsx", "photo.jpg.gz"])
def test_unknown_extension_rejected(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"%PDF-1.4 whatever")
    docs = _docs(path)
    assert [d.error for d in docs] == ["unsupported_format"]


def test_pdf_bytes_under_txt_name_rejected(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"%PDF-1.4\n1 0 obj\n")
    assert [d.error for d in _docs(path)] == ["unsupported_format"]


def test_file_names_with_spaces_and_non_ascii(tmp_path):
    path = tmp_path / "Статья über café.txt"
    path.write_text("Привет из файла.", encoding="utf-8")
    docs = _docs(path)
    assert [(d.id, d.raw, d.error) for d in docs] == [(path.as_posix(), "Привет из файла.", None)]
    jpath = tmp_path / "my records ü.jsonl"
    jpath.write_text('{"text": "x"}\n', encoding="utf-8")
    assert [d.id for d in _docs(jpath, doc_id="my records ü.jsonl")] == ["my records ü.jsonl#0"]


def test_extensionless_file_sniffed(tmp_path):
    path = tmp_path / "README"
    path.write_bytes(b'{"id": "s", "text": "sniffed json"}\n')
    assert [(d.id, d.raw) for d in _docs(path)] == [("s", "sniffed json")]


def test_empty_file(tmp_path):
    path = tmp_path / "e.txt"
    path.write_bytes(b"  \n ")
    assert [d.error for d in _docs(path)] == ["empty"]


def test_fmt_override(tmp_path):
    path = tmp_path / "page.txt"
    path.write_text(HTML, encoding="utf-8")
    assert _docs(path)[0].kind == "text"
    assert _docs(path, fmt="html")[0].kind == "html"


def test_input_cap(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("abcdefghij" * 10, encoding="ascii")
    (doc,) = _docs(path, cfg=CleanConfig(max_input_bytes=25))
    assert doc.raw == "abcdefghijabcdefghijabcde"
    assert doc.capped == ["input_bytes"]


@pytest.mark.parametrize("data, fmt", [
    (b"<!DOCTYPE html><html><body>x</body></html>", "html"),
    (b"\n  <html lang='en'><p>x</p></html>", "html"),
    (b"<div><p>fragment</p></div>", "html"),
    (b'{"text": "x"}\n{"text": "y"}\n', "jsonl"),
    (b'\xef\xbb\xbf  {"text": "x"}', "jsonl"),
    (b"Just some prose. a < b and c > d.", "text"),
    (b"<3 hearts are not tags", "text"),
])
def test_sniff_format(data, fmt):
    assert sniff_format(data) == fmt


def test_documents_from_bytes_sniffs():
    docs = list(documents_from_bytes(b'{"text": "one"}\n{"text": "two"}\n', doc_id="<stdin>", source="<stdin>"))
    assert [(d.id, d.raw) for d in docs] == [("<stdin>#0", "one"), ("<stdin>#1", "two")]
    (html,) = documents_from_bytes(HTML.encode(), doc_id="s", source="s")
    assert html.kind == "html"
    (text,) = documents_from_bytes("Plain words.".encode("utf-16"), doc_id="s", source="s", fmt="text")
    assert (text.kind, text.raw) == ("text", "Plain words.")
    (bad,) = documents_from_bytes(b"", doc_id="s", source="s")
    assert bad.error == "empty"
