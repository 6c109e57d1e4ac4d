"""Multi-document inputs (JSONL, WARC) are streamed record by record, with a per-record cap.

The per-file byte cap (``max_input_bytes``) cuts one-document inputs only; a JSONL line or a
WARC record longer than ``max_record_bytes`` is rejected as ``too_large`` (with its id when the
part read holds it) and every record after it is read. Stdin is read as a file is, gzip included.
"""
from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.batch import BatchStats, clean_files
from pipeline.config import CleanConfig
from pipeline.readers import documents_from_stream, id_from_prefix, iter_documents

REPO = Path(__file__).parents[1]
DATE = "2026-11-24"
BODY = ("The harbour authority said on Monday that container traffic rose by a fifth in October, "
        "the strongest month since the port reopened after the storm.")
MB = 1_000_000


def small_record(i: int, size: int = 1000) -> str:
    """One JSONL line of about ``size`` bytes with id ``r<i>``."""
    line = json.dumps({"id": f"r{i}", "text": f"{BODY} Record {i}.", "pad": ""})
    return line.replace('"pad": ""', '"pad": "' + "p" * max(0, size - len(line) - 1) + '"')


def test_a_30_mb_jsonl_is_read_whole(tmp_path: Path):
    """Once: exit 0, 20,082 records, one misleading malformed_json and 9,917 records in neither file."""
    path = tmp_path / "big.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(30_000):
            fh.write(small_record(i) + "\n")
    assert path.stat().st_size > 29 * MB
    docs = list(iter_documents(path, doc_id="big.jsonl"))
    assert len(docs) == 30_000
    assert [d.id for d in docs] == [f"r{i}" for i in range(30_000)]
    assert not any(d.rejected or d.capped for d in docs)
    assert docs[-1].raw == f"{BODY} Record 29999."


def test_a_jsonl_longer_than_the_file_cap_loses_nothing_when_cleaned(tmp_path: Path):
    path = tmp_path / "crawl.jsonl.gz"
    lines = [small_record(i, 300) for i in range(400)]
    lines[7] = "{broken"
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    cfg = CleanConfig(max_input_bytes=20_000)  # the file is six times this
    stats = BatchStats()
    docs = list(clean_files([path], tmp_path, cfg, stats))
    assert stats.inputs == stats.cleaned + stats.rejected == 400
    assert stats.rejected_by_reason == {"malformed_json": 1} and not stats.capped
    assert [d.id for d in docs if not d.rejected] == [f"r{i}" for i in range(400) if i != 7]


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
def test_a_50_mb_record_in_the_middle(tmp_path: Path, gz: bool):
    """Once: one misleading malformed_json, and the small records after it lost."""
    path = tmp_path / ("mid.jsonl.gz" if gz else "mid.jsonl")
    huge_first = '{"id": "huge", "text": "' + "x" * (50 * MB) + '"}'
    huge_late = '{"text": "' + "y" * (50 * MB) + '", "id": "late"}'
    data = "\n".join([small_record(0), huge_first, small_record(2), huge_late, small_record(4), ""]).encode()
    path.write_bytes(gzip.compress(data, compresslevel=1) if gz else data)
    docs = list(iter_documents(path, doc_id="mid.jsonl"))
    assert [(d.id, d.error) for d in docs] == [("r0", None), ("huge", "too_large"), ("r2", None),
                                               ("mid.jsonl#3", "too_large"), ("r4", None)]
    assert docs[1].detail == f"line 2: a record of {len(huge_first):,} bytes, over max_record_bytes (20,000,000)"
    assert docs[4].raw == f"{BODY} Record 4."
    # the cap is a setting
    small = list(iter_documents(path, doc_id="mid.jsonl", cfg=CleanConfig(max_record_bytes=500)))
    assert [d.error for d in small] == ["too_large"] * 5
    assert [d.id for d in small] == ["r0", "huge", "r2", "mid.jsonl#3", "r4"]


@pytest.mark.parametrize("prefix, found", [
    ('{"id": "a", "text": "cut he', "a"),
    ('  {"url": "u", "n": [1, {"id": "nested"}], "id": 42, "te', "42"),
    ('{"text": "cut before the id', None),
    ('{"id": "cut', None),
    ('{"id": true, "x": 1', None),
    ('{"id": "  ", "x"', None),
    ('["id", "a"]', None),
    ('{"a\\"b": "c", "id": "é"}', "é"),
])
def test_id_from_prefix(prefix, found):
    assert id_from_prefix(prefix) == found


def test_utf16_and_latin1_jsonl_are_still_read(tmp_path: Path):
    recs = [json.dumps({"id": "a", "text": "Grüße aus Köln"}, ensure_ascii=False), json.dumps({"id": "b", "text": "Ça va"}, ensure_ascii=False)]
    text = "\n".join(recs) + "\n"
    for enc in ("utf-16", "utf-16-le", "cp1252", "utf-8-sig"):
        path = tmp_path / f"{enc}.jsonl"
        path.write_bytes(text.encode(enc))
        assert [(d.id, d.raw) for d in iter_documents(path)] == [("a", "Grüße aus Köln"), ("b", "Ça va")], enc
    big = tmp_path / "wide.jsonl"
    big.write_bytes((recs[0] + "\n" + json.dumps({"id": "w", "text": "z" * 5000}) + "\n" + recs[1] + "\n").encode("utf-16"))
    got = [(d.id, d.error) for d in iter_documents(big, cfg=CleanConfig(max_record_bytes=2000))]
    assert got == [("a", None), ("w", "too_large"), ("b", None)]


def test_truncated_gzip_jsonl_keeps_the_records_before_the_break(tmp_path: Path):
    blob = gzip.compress(("\n".join(small_record(i) for i in range(3000)) + "\n").encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(blob[: len(blob) // 2])
    docs = list(iter_documents(path, doc_id="cut.jsonl.gz"))
    good = [d for d in docs if not d.rejected]
    assert len(good) > 100 and [d.id for d in good] == [f"r{i}" for i in range(len(good))]
    assert [(d.id, d.error) for d in docs if d.rejected][-1] == ("cut.jsonl.gz", "bad_gzip")


# ------------------------------------------------------------------ the real command, stdin and files

def decruft(*args: str, cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "decruft"), *args], cwd=cwd, input=stdin,
                          capture_output=True, timeout=300)


def test_cli_50_mb_record_in_the_middle_from_a_file_and_from_stdin(tmp_path: Path):
    data = "\n".join([small_record(0), '{"id": "huge", "text": "' + "x" * (50 * MB) + '"}', small_record(2), ""]).encode()
    (tmp_path / "mid.jsonl").write_bytes(data)
    for args, stdin in ((["mid.jsonl"], None), (["-"], data), (["-"], gzip.compress(data, compresslevel=1))):
        res = decruft("clean", *args, "--rejects", "rej.jsonl", cwd=tmp_path, stdin=stdin)
        assert res.returncode == 1, res.stderr.decode()[-2000:]  # some documents rejected, the rest written
        assert b"rejected huge: too_large: line 2: a record of 50,000,026 bytes" in res.stderr
        assert [json.loads(line)["id"] for line in res.stdout.splitlines()] == ["r0", "r2"]
        (reject,) = [json.loads(line) for line in (tmp_path / "rej.jsonl").read_text().splitlines()]
        assert (reject["id"], reject["reason"]) == ("huge", "too_large")


def article_page(n_paragraphs: int = 12) -> str:
    """An HTML page whose markup dwarfs its text (it compresses to less than its article)."""
    nav = "".join(f'<li><a href="/section/{i}">Section {i}</a></li>' for i in range(400))
    script = "<script>var config = {" + ",".join(f'"k{i}": {i}' for i in range(3000)) + "};</script>"
    paras = "".join(f"<p>{BODY} Paragraph {i} adds that freight volumes kept growing all year.</p>"
                    for i in range(n_paragraphs))
    return (f"<!DOCTYPE html><html><head><title>Harbour traffic</title>{script}</head><body>"
            f"<nav><ul>{nav}</ul></nav><article><h1>Harbour traffic</h1>{paras}</article></body></html>")


def write_one_record_warc(path: Path, html: str) -> None:
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=True)
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        w.write_record(w.create_warc_record("https://example.org/harbour", "response",
                                            payload=io.BytesIO(html.encode()), http_headers=http))


def comparable(record: dict) -> tuple:
    return record["url"], record["title"], record["lang"], record["text"], record["stats"]["capped"]


@pytest.mark.parametrize("kind", ["warc.gz", "jsonl.gz", "html.gz"])
def test_compressed_input_on_stdin_gives_what_the_file_gives(tmp_path: Path, kind: str):
    """Once: a gzipped single-record WARC on stdin came out empty_after_cleaning (its body was
    cut at the compressed size of the whole archive)."""
    html = article_page()
    path = tmp_path / f"page.{kind}"
    if kind == "warc.gz":
        write_one_record_warc(path, html)
        assert path.stat().st_size < html.index("<article>")  # the old cut fell before the article
    elif kind == "jsonl.gz":
        path.write_bytes(gzip.compress((json.dumps({"id": "p", "url": "https://example.org/harbour", "html": html})
                                        + "\n" + json.dumps({"id": "q", "text": BODY}) + "\n").encode()))
    else:
        path.write_bytes(gzip.compress(html.encode()))
    from_file = decruft("clean", path.name, cwd=tmp_path)
    from_stdin = decruft("clean", "-", cwd=tmp_path, stdin=path.read_bytes())
    assert from_file.returncode == from_stdin.returncode == 0, from_stdin.stderr.decode()
    file_records = [json.loads(line) for line in from_file.stdout.splitlines()]
    stdin_records = [json.loads(line) for line in from_stdin.stdout.splitlines()]
    assert len(file_records) == (2 if kind == "jsonl.gz" else 1)
    assert [comparable(r) for r in stdin_records] == [comparable(r) for r in file_records]
    first = stdin_records[0]
    assert "Paragraph 11 adds that freight volumes" in first["text"] and "Section 3" not in first["text"]
    assert first["source"] == "<stdin>" if kind != "warc.gz" else first["source"].startswith("<stdin>#")


# ------------------------------------------------------------------ through Luigi

def test_partition_rejects_an_over_long_record_and_reads_on(tmp_path: Path):
    shutil.copy(REPO / "luigi.cfg", tmp_path / "luigi.cfg")
    day = tmp_path / "raw" / DATE
    day.mkdir(parents=True)
    lines = [small_record(i, 300) for i in range(60)]
    lines[20] = '{"id": "huge", "text": "' + "x" * 30_000 + '"}'
    (day / "crawl.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (day / "note.txt").write_text(BODY, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    res = subprocess.run([str(Path(sys.executable).parent / "luigi"), "--module", "tasks", "CleanPartition",
                          "--date", DATE, "--local-scheduler", "--decruft-max-record-bytes", "10000"],
                         cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    out = tmp_path / "clean" / DATE
    summary = json.loads((out / "_SUCCESS.json").read_text())
    assert summary["inputs"] == 61 and summary["cleaned"] == 60 and summary["rejected"] == 1
    assert summary["rejected_by_reason"] == {"too_large": 1}
    (reject,) = [json.loads(line) for line in (out / "_rejects.jsonl").read_text().splitlines()]
    assert reject["id"] == "huge" and "max_record_bytes (10,000)" in reject["error"]
    ids = [json.loads(line)["id"] for line in (out / "part-00000.jsonl").read_text().splitlines()]
    assert ids == [f"r{i}" for i in range(60) if i != 20] + ["note.txt"]


def test_documents_from_stream_reads_a_pipe_as_it_comes():
    """A stream without seek or tell (a pipe) is read as a file is."""
    r, w = os.pipe()
    data = ("\n".join(small_record(i) for i in range(50)) + "\n").encode()
    with os.fdopen(w, "wb") as fh:
        fh.write(gzip.compress(data))
    with os.fdopen(r, "rb") as pipe:
        docs = list(documents_from_stream(pipe, doc_id="<stdin>", source="<stdin>"))
    assert [d.id for d in docs] == [f"r{i}" for i in range(50)]
