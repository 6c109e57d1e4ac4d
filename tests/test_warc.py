"""WARC input: HTML 200 responses are documents; other records are counted as skipped."""
from __future__ import annotations

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
from pipeline.readers import input_format, iter_documents
from tasks.cli import main

REPO = Path(__file__).parents[1]
DATE = "2026-11-24"
RU_PAGE = """<!doctype html><html><head><title>Порт: рекордный октябрь</title></head><body>
<nav><a href="/">Главная</a> <a href="/news">Новости</a></nav>
<article><h1>Порт: рекордный октябрь</h1>
<p>Грузооборот морского порта в октябре вырос на пятую часть по сравнению с прошлым годом,
сообщила в понедельник администрация порта. Это лучший месяц с тех пор, как порт вновь открылся после шторма.</p>
<p>Рост объясняют новой железнодорожной веткой, по которой контейнеры уходят из доков, не пересекая центр города.</p>
</article></body></html>"""
EN_PAGE = """<html><head><meta charset="utf-8"><title>Harbour traffic</title></head><body><article>
<p>The harbour authority said on Monday that container traffic rose by a fifth in October, the strongest
month since the port reopened after the storm — café owners on the quay noticed it first.</p>
<p>Officials credited a new rail link that lets freight leave the docks without crossing the city centre.</p>
</article></body></html>"""
EXPECTED_SKIPPED = {"non_html": 1, "record_request": 1, "record_revisit": 1, "record_warcinfo": 1, "status_404": 1}


def http(status: str, content_type: str | None) -> StatusAndHeaders:
    headers = [("Content-Type", content_type)] if content_type else []
    return StatusAndHeaders(status, headers, protocol="HTTP/1.1")


def write_warc(path: Path, *, gz: bool = True) -> dict[str, str]:
    """A small crawl: warcinfo, request + HTML response (cp1251 per HTTP header), a UTF-8 page
    with no Content-Type, a 404 page, a PNG, and a revisit. Returns url → WARC-Record-ID."""
    ids: dict[str, str] = {}
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=gz)
        w.write_record(w.create_warcinfo_record(path.name, {"software": "decruft tests"}))
        req = StatusAndHeaders("GET /ru HTTP/1.1", [("Host", "example.org")], is_http_request=True)
        w.write_record(w.create_warc_record("https://example.org/ru", "request", http_headers=req))

        def response(url: str, body: bytes, status: str, ctype: str | None) -> None:
            rec = w.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http(status, ctype))
            ids[url] = rec.rec_headers.get_header("WARC-Record-ID")
            w.write_record(rec)

        response("https://example.org/ru", RU_PAGE.encode("cp1251"), "200 OK", "text/html; charset=windows-1251")
        response("https://example.org/en", EN_PAGE.encode("utf-8"), "200 OK", None)  # sniffed as HTML
        response("https://example.org/gone", b"<html><body>Not found</body></html>", "404 Not Found", "text/html")
        response("https://example.org/logo.png", b"\x89PNG\r\n\x1a\n" + bytes(200), "200 OK", "image/png")
        w.write_record(w.create_revisit_record("https://example.org/ru", "sha1:AAAA", "https://example.org/ru",
                                               "2026-11-20T00:00:00Z", http_headers=http("200 OK", "text/html")))
    return ids


@pytest.mark.parametrize("name", ["crawl.warc.gz", "crawl.warc"])
def test_html_responses_are_documents_and_the_rest_is_skipped(tmp_path: Path, name: str):
    path = tmp_path / name
    rec_ids = write_warc(path, gz=name.endswith(".gz"))
    assert input_format(name) == "warc"
    stats = BatchStats()
    docs = list(clean_files([path], tmp_path, CleanConfig(), stats))
    assert [d.url for d in docs] == ["https://example.org/ru", "https://example.org/en"]
    assert not any(d.rejected or d.skipped for d in docs)
    ru, en = docs
    rid = rec_ids["https://example.org/ru"]
    assert ru.source == f"{path}#{rid.strip('<>')}"
    assert ru.id == f"{name}#{rid.strip('<>').removeprefix('urn:uuid:')}"
    assert ru.metadata["encoding"] == "cp1251" and ru.metadata["warc_date"]
    assert ru.lang == "ru" and ru.title == "Порт: рекордный октябрь"
    assert "Грузооборот морского порта" in ru.text and "Главная" not in ru.text
    assert en.lang == "en" and "café owners" in en.text
    counts = stats.as_dict()
    assert counts["skipped"] == EXPECTED_SKIPPED
    assert counts["inputs"] == counts["cleaned"] == 2 and counts["rejected"] == 0


def test_a_record_over_max_record_bytes_is_rejected_and_the_next_is_read(tmp_path: Path):
    path = tmp_path / "c.warc.gz"
    rec_ids = write_warc(path)
    # the per-file cap does not apply to a WARC: the file is several times this size
    docs = [d for d in iter_documents(path, cfg=CleanConfig(max_input_bytes=300)) if not d.skipped]
    assert [(d.url, d.error) for d in docs] == [("https://example.org/ru", None), ("https://example.org/en", None)]
    ru_bytes = len(RU_PAGE.encode("cp1251"))
    docs = [d for d in iter_documents(path, cfg=CleanConfig(max_record_bytes=ru_bytes - 1)) if not d.skipped]
    assert [(d.url, d.error) for d in docs] == [("https://example.org/ru", "too_large"), ("https://example.org/en", None)]
    assert docs[0].id.endswith("#" + rec_ids["https://example.org/ru"].strip("<>").removeprefix("urn:uuid:"))
    assert f"max_record_bytes ({ru_bytes - 1:,} bytes)" in docs[0].detail


def test_corrupt_warc_keeps_what_was_read(tmp_path: Path):
    good = tmp_path / "good.warc"
    write_warc(good, gz=False)
    data = good.read_bytes()
    cut = data.index(b"https://example.org/gone")  # inside the 404 record's headers, after both pages
    truncated = tmp_path / "truncated.warc"
    truncated.write_bytes(data[: cut + 400])
    stats = BatchStats()
    docs = list(clean_files([truncated], tmp_path, CleanConfig(), stats))
    assert [d.url for d in docs if not d.rejected] == ["https://example.org/ru", "https://example.org/en"]
    assert [(d.id, d.error) for d in docs if d.rejected] == [("truncated.warc", "bad_warc")]
    assert stats.inputs == stats.cleaned + stats.rejected == 3

    garbage = tmp_path / "garbage.warc.gz"
    garbage.write_bytes(b"<html>not an archive</html>")
    [doc] = list(iter_documents(garbage))
    assert doc.error == "bad_warc" and "archive" in doc.detail.lower()
    empty = tmp_path / "empty.warc"
    empty.write_bytes(b"")
    assert [d.error for d in iter_documents(empty)] == ["empty"]


def test_cli_reads_warc_and_reports_skipped(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write_warc(tmp_path / "crawl.warc.gz")
    assert main(["clean", "crawl.warc.gz"]) == 0
    out, err = capsys.readouterr()
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["url"] for r in records] == ["https://example.org/ru", "https://example.org/en"]
    assert "skipped 5 records" in err and "status_404 1" in err
    # from stdin, a WARC is recognised by its first line
    write_warc(tmp_path / "plain.warc", gz=False)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO((tmp_path / "plain.warc").read_bytes())))
    assert main(["clean", "-"]) == 0
    out, _ = capsys.readouterr()
    assert len(out.splitlines()) == 2
    # and a gzip-compressed WARC on stdin (no .gz name to go by) by its first line once unpacked
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO((tmp_path / "crawl.warc.gz").read_bytes())))
    assert main(["clean", "-"]) == 0
    out, err = capsys.readouterr()
    assert [json.loads(line)["url"] for line in out.splitlines()] == ["https://example.org/ru", "https://example.org/en"]
    assert "skipped 5 records" in err


def luigi_cmd(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    luigi = Path(sys.executable).parent / "luigi"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([str(luigi), "--module", "tasks", *args, "--local-scheduler"], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=300)


def test_partition_counts_skipped_records(tmp_path: Path):
    shutil.copy(REPO / "luigi.cfg", tmp_path / "luigi.cfg")
    day = tmp_path / "raw" / DATE
    day.mkdir(parents=True)
    write_warc(day / "crawl.warc.gz")
    write_warc(tmp_path / "good.warc", gz=False)
    (day / "broken.warc").write_bytes((tmp_path / "good.warc").read_bytes()[:-300])  # truncated revisit
    res = luigi_cmd(tmp_path, "CleanPartition", "--date", DATE, "--decruft-shard-max-files", "1")
    assert res.returncode == 0, res.stderr[-3000:]
    out = tmp_path / "clean" / DATE
    summary = json.loads((out / "_SUCCESS.json").read_text())
    records = [json.loads(l) for p in sorted(out.glob("part-*.jsonl")) for l in p.read_text().splitlines()]
    rejects = [json.loads(l) for l in (out / "_rejects.jsonl").read_text().splitlines()]
    assert summary["inputs"] == summary["cleaned"] + summary["rejected"] == len(records) + len(rejects)
    assert summary["cleaned"] == 4 and summary["rejected"] == 1
    assert [r["reason"] for r in rejects] == ["bad_warc"] and rejects[0]["id"] == "broken.warc"
    # the truncated file's last record (the revisit) is lost with the corruption
    assert summary["skipped"] == {k: v * 2 - (k == "record_revisit") for k, v in EXPECTED_SKIPPED.items()}
    assert sorted(r["url"] for r in records) == ["https://example.org/en"] * 2 + ["https://example.org/ru"] * 2
    assert all(r["source"].startswith(str(Path("raw") / DATE)) and "#urn:uuid:" in r["source"] for r in records)


def shorten_content_length(data: bytes, url: bytes, by: int) -> bytes:
    """The WARC with the Content-Length of ``url``'s response record made ``by`` bytes too small."""
    at = data.index(b"WARC-Type: response")
    at = data.index(b"WARC-Target-URI: " + url, at)
    start = data.index(b"Content-Length: ", at) + len(b"Content-Length: ")
    end = data.index(b"\r\n", start)
    return data[:start] + str(int(data[start:end]) - by).encode() + data[end:]


def test_a_damaged_warc_costs_one_short_stderr_line_per_document(tmp_path: Path):
    """Once: warcio printed 'WARNING: Record not followed by newline…' with the raw page bytes."""
    import random

    write_warc(tmp_path / "good.warc", gz=False)
    write_warc(tmp_path / "good.warc.gz", gz=True)
    plain, packed = (tmp_path / "good.warc").read_bytes(), (tmp_path / "good.warc.gz").read_bytes()
    (tmp_path / "short.warc").write_bytes(shorten_content_length(plain, b"https://example.org/ru", 60))
    names = ["short.warc"]
    rnd = random.Random(7)
    for k in range(40):
        data = bytearray(packed if k % 2 else plain)
        for _ in range(rnd.randint(1, 4)):
            data[rnd.randrange(len(data))] = rnd.randrange(256)
        names.append(f"m{k}.warc" + (".gz" if k % 2 else ""))
        (tmp_path / names[-1]).write_bytes(bytes(data))
    res = subprocess.run([str(Path(sys.executable).parent / "decruft"), "clean", *names, "-o", "out.jsonl"],
                         cwd=tmp_path, capture_output=True, text=True, errors="replace", timeout=300)
    assert res.returncode == 1, res.stderr[-2000:]
    lines = res.stderr.splitlines()
    assert not [l for l in lines if not l.startswith("decruft: ")]
    assert not [l for l in lines if "Remainder" in l or "\\x" in l or len(l) > 400]
    per_file = [sum(1 for l in lines if f" {name}" in l or f"/{name}" in l) for name in names]
    assert max(per_file) <= 2 and len(lines) <= len(names) * 2 + 1
    short = [l for l in lines if "short.warc" in l]
    assert short and all("Content-Length" in l for l in short)
