"""The partition audit report (_report.html): content, escaping, sampling, bounded memory, wiring."""
from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import pipeline
from pipeline import report
from pipeline.clean import clean_document, version_info
from pipeline.config import CleanConfig
from pipeline.document import Document
from pipeline.writers import dumps

REPO = Path(__file__).parents[1]
SEED = REPO / "tests" / "fixtures" / "seed.txt"
DATE = "2026-11-24"
EVIL_TITLE = '<script>alert("x")</script> & Co'

ARTICLES = {
    "harbour": ("en", "Share\nTweet\n"
                "The harbour authority said on Monday that container traffic rose by a fifth in October, "
                "the strongest month since the port reopened after the storm.\n"
                "Officials credited a new rail link that lets freight leave the docks without crossing the city centre.\n"
                "Advertisement\n"),
    "bahn": ("de", "Startseite\nPolitik\n"
             "Die Lokführergewerkschaft hat für Donnerstag einen neuen Streik im Personenverkehr angekündigt, "
             "der nach Angaben der Bahn bis Freitagabend dauern soll.\n"
             "Reisende sollten sich vor Fahrtantritt über Ersatzfahrpläne informieren, teilte das Unternehmen mit.\n"
             "Teilen\n"),
    "lluvia": ("es", "Leer más\n"
               "Las lluvias torrenciales obligaron este martes a suspender las clases en decenas de municipios "
               "de la provincia de Valencia, según informó la Generalitat.\n"
               "Los servicios de emergencia atendieron más de trescientas llamadas durante la madrugada.\n"
               "Suscríbete a nuestro boletín\n"),
}


def _records(n_copies: int = 1) -> list[dict]:
    """Real records from the cleaning pipeline (not hand-made dicts), ids unique."""
    out = [pipeline.clean_text(SEED.read_text(encoding="utf-8"), id="seed", source="raw/seed.txt")]
    for i in range(n_copies):
        for name, (_, text) in ARTICLES.items():
            title = EVIL_TITLE if (name == "harbour" and i == 0) else None
            out.append(pipeline.clean_text(text, id=f"{name}-{i}", source=f"raw/{name}.txt",
                                           url=f"https://example.org/{name}/{i}", title=title))
    assert not any("error" in r for r in out)
    return out


def _rejects() -> list[dict]:
    v = {"decruft": "0.1.0", "rules": "x"}
    return [
        {"id": "crawl.jsonl#3", "source": "raw/crawl.jsonl", "reason": "malformed_json",
         "error": "line 4: Expecting value", "url": None, "version": v},
        {"id": "crawl.jsonl#5", "source": "raw/crawl.jsonl", "reason": "malformed_json",
         "error": "line 6: Expecting value", "url": None, "version": v},
        {"id": "empty.txt", "source": "raw/empty.txt", "reason": "empty", "error": "empty input <0 bytes>",
         "url": None, "version": v},
    ]


def write_partition(folder: Path, records: list[dict], rejects: list[dict], shards: int = 2) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for s in range(shards):
        with open(folder / f"part-{s:05d}.jsonl", "w", encoding="utf-8") as fh:
            for rec in records[s::shards]:
                fh.write(dumps(rec) + "\n")
    with open(folder / "_rejects.jsonl", "w", encoding="utf-8") as fh:
        for rec in rejects:
            fh.write(dumps(rec) + "\n")
    summary = {"date": DATE, "cleaned": len(records), "rejected": len(rejects),
               "version": {"decruft": "0.1.0", "rules": "abc123"}, "finished_at": "2026-11-25T00:00:00+00:00"}
    (folder / "_SUCCESS.json").write_text(json.dumps(summary), encoding="utf-8")
    return folder


def bars(page: str) -> dict[str, int]:
    found = re.findall(r'<g class="bar" data-reason="([^"]*)" data-count="(\d+)">', page)
    return {reason: int(n) for reason, n in found}


def assert_self_contained(page: str) -> None:
    lowered = page.lower()
    assert not re.search(r"<link\b", lowered)
    assert not re.search(r"<script\b", lowered)  # no scripts at all (user text is escaped)
    assert not re.search(r"""\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", lowered)
    assert "@import" not in lowered and "url(" not in lowered
    assert not re.search(r"<(?:img|iframe|object|embed)\b", lowered)


def test_interleave_restores_the_input_order():
    doc = Document(id="seed", source="seed.txt", raw=SEED.read_text(encoding="utf-8"))
    clean_document(doc, CleanConfig())
    record = json.loads(dumps(doc.to_record(version_info(CleanConfig()))))
    items, exact = report.interleave(record)
    assert exact
    assert [(t, s is not None) for t, s in items] == [(d.text, not d.keep) for d in doc.decisions]
    assert [s["reason"] for _, s in items if s] == [d.reason or "boilerplate" for d in doc.decisions if not d.keep]


def test_counts_of_a_document_are_those_of_its_record():
    doc = Document(id="seed", source="seed.txt", raw=SEED.read_text(encoding="utf-8"))
    clean_document(doc, CleanConfig())
    record = json.loads(dumps(doc.to_record(version_info(CleanConfig()))))
    counts = report.DocCounts.of_document(doc)
    assert counts == report.DocCounts.of_record(record)
    assert len(counts.spans) == len(record["removed"]) > 5 and counts.chars_in == len(doc.raw)


def test_interleave_without_at_falls_back():
    record = {"text": "one\n\ntwo", "removed": [{"reason": "share", "rule": "r", "text": "Share"}]}
    items, exact = report.interleave(record)
    assert not exact
    assert items == [("one", None), ("two", None), ("Share", record["removed"][0])]


def test_report_content(tmp_path: Path):
    records = _records()
    part = write_partition(tmp_path / DATE, records, _rejects())
    page = report.render_report(part)

    # 1. one bar per reason, labelled, with the partition's counts
    expected = Counter(r["reason"] for rec in records for r in rec["removed"])
    assert bars(page) == dict(expected)
    assert len(re.findall(r'<g class="bar"', page)) == len(expected) >= 5
    for reason, n in expected.items():
        assert re.search(rf'<text class="label"[^>]*>{reason}</text>', page)
        assert re.search(rf'<text class="count"[^>]*>{n} \(', page)

    # 2. languages
    langs = Counter(r["lang"] for r in records)
    assert set(langs) >= {"en", "de", "es"}
    for lang, n in langs.items():
        assert re.search(rf'<tr data-lang="{lang}"><td><b>{lang}</b></td><td class="n">{n}</td>', page)

    # 3. frequent removed lines, normalized, with the reason
    top = page[page.index('id="top-lines"'):page.index('id="rejects"')]
    assert re.search(r'<td class="n">2</td><td><span class="tag"[^>]*>photo_credit</span></td>'
                     r'<td class="txt">fahim dashty / facebook</td>', top)

    # 4. rejects by reason
    assert re.search(r'<tr data-reason="malformed_json"><td><b>malformed_json</b></td><td class="n">2</td>', page)
    assert re.search(r'<tr data-reason="empty"><td><b>empty</b></td><td class="n">1</td>', page)
    assert "empty input &lt;0 bytes&gt;" in page

    # 5. documents: removed spans struck through, labelled, in the input order
    assert "All 4 documents" in page and len(re.findall(r'<article class="doc"', page)) == 4
    assert re.search(r'<p class="rm"><span class="tag"[^>]*title="rule: [^"]+">share</span>'
                     r'<del title="rule: [^"]+">Share</del></p>', page)
    seed_doc = page[page.index('data-id="seed"'):]
    seed_doc = seed_doc[:seed_doc.index("</article>")]
    assert seed_doc.index("Support The Moscow Times!") < seed_doc.index("In an interview with The Moscow Times")
    assert seed_doc.index("In an interview with The Moscow Times") < seed_doc.index("Afghan resistance movement")
    assert seed_doc.index("Afghan resistance movement") < seed_doc.index("The Taliban’s resurgence")

    # escaping and self-containment
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in page
    assert EVIL_TITLE not in page
    assert_self_contained(page)
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    assert "decruft 0.1.0, rules abc123" in page
    assert '<p class="warn">' not in page
    assert report.render_report(part) == page  # deterministic


def test_sampling_is_bounded_deterministic_and_noted(tmp_path: Path):
    records = _records(n_copies=20)  # 61 documents
    part = write_partition(tmp_path / DATE, records, [])
    page = report.render_report(part, max_docs=10)
    assert "Showing a sample of 10 of 61 documents" in page
    shown = re.findall(r'<article class="doc" id="doc-\d+" data-id="([^"]*)"', page)
    assert len(shown) == 10
    # bottom-10 by the id hash, shown in partition order (shard files sorted, then line)
    order = [r["id"] for s in range(2) for r in records[s::2]]
    chosen = set(sorted(order, key=report.sample_key)[:10])
    assert shown == [i for i in order if i in chosen]
    assert report.render_report(part, max_docs=10) == page
    assert "No _rejects.jsonl" not in page and "No rejected documents." in page


def test_merged_part_scans_make_the_same_report(tmp_path: Path):
    """What CleanPartition does (each shard scans its records, the scans saved as JSON and merged,
    the sampled records read back) gives the page a scan of the whole folder gives: counts, top
    lines, reject examples and the sample."""
    records, rejects = _records(n_copies=20), _rejects()
    part = write_partition(tmp_path / DATE, records, rejects, shards=3)
    merged = report.PartitionScan(max_docs=10, rejects_present=True)
    for s in range(3):
        one = report.PartitionScan(max_docs=10, part_files=1, keep_docs=False)
        for order, rec in enumerate(records[s::3]):
            one.add_record(order, rec)
        for rec in rejects[s::3]:
            one.add_reject(rec)
        merged.merge(json.loads(json.dumps(one.state())))
    in_order = [rec for s in range(3) for rec in records[s::3]]
    assert len(merged.sample_orders()) == 10 and merged.sampled == []
    merged.fill_sample({n: in_order[n] for n in merged.sample_orders()})
    whole = report.render_report(part, max_docs=10)
    assert "Showing a sample of 10 of 61 documents" in whole
    assert report.render_report(part, max_docs=10, scan=merged) == whole


def test_records_at_reads_only_the_wanted_lines(tmp_path: Path):
    from pipeline.writers import records_at

    path = tmp_path / "part.jsonl"
    path.write_text('{"id": "a"}\n\n{"id": "b"}\nnot json, never parsed\n{"id": "d"}\n', encoding="utf-8")
    assert list(records_at("jsonl", path, {1, 3})) == [(1, {"id": "b"}), (3, {"id": "d"})]


def test_records_at_stops_after_the_last_wanted_line(tmp_path: Path):
    from pipeline.writers import records_at

    lines = ['{"id": "é"}\n'] + [json.dumps({"id": os.urandom(16).hex()}) + "\n" for _ in range(5000)]
    data = gzip.compress("".join(lines).encode("utf-8"))
    path = tmp_path / "part.jsonl.gz"
    path.write_bytes(data[:-100])  # a truncated tail: reading it to the end fails
    assert list(records_at("jsonl.gz", path, {0})) == [(0, {"id": "é"})]
    with pytest.raises(EOFError):
        list(records_at("jsonl.gz", path, {4999}))


def test_memory_stays_bounded(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(report, "LINES_PRUNE_AT", 100)
    monkeypatch.setattr(report, "LINES_KEEP", 20)
    folder = tmp_path / DATE
    folder.mkdir()
    with open(folder / "part-00000.jsonl", "w", encoding="utf-8") as fh:
        for i in range(2000):
            removed = [{"reason": "navigation", "rule": "nav.x", "text": "Read more", "at": 0},
                       {"reason": "share", "rule": f"share.{i}", "text": f"unique line {i} x{'y' * (i % 7)}", "at": 2}]
            rec = {"id": f"d{i}", "lang": "en", "text": f"Body {i}.\n\nMore {i}.", "removed": removed,
                   "stats": {"chars_in": 100, "chars_out": 20}}
            fh.write(json.dumps(rec) + "\n")
        fh.write("{broken\n")
    scan = report.scan_partition(folder, max_docs=5)
    assert scan.documents == 2000 and scan.bad_lines == 1
    assert len(scan.lines) <= 100 and len(scan.rules) <= 100 and len(scan._heap) == 5
    assert scan.lines[("read more", "navigation")] == 2000 and scan.pruned
    page = report.render_report(folder, max_docs=5)
    assert "counts are lower bounds" in page and "1 unreadable JSON lines skipped" in page
    assert "No _rejects.jsonl in this folder." in page
    assert bars(page) == {"navigation": 2000, "share": 2000}
    doc = page[page.index('<article class="doc"'):]
    doc = doc[:doc.index("</article>")]
    assert re.search(r"<del[^>]*>Read more</del>.*<p>Body \d+\.</p>.*<del[^>]*>unique line.*<p>More \d+\.</p>",
                     doc, re.S)


def test_empty_partition(tmp_path: Path):
    folder = tmp_path / DATE
    folder.mkdir()
    page = report.render_report(folder)
    assert "No spans were removed." in page and "No documents." in page and "All 0 documents" in page


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tasks.cli", *args], cwd=cwd, capture_output=True, text=True,
                          encoding="utf-8", env=dict(os.environ, PYTHONPATH=str(REPO)))


def test_cli_report(tmp_path: Path, monkeypatch):
    part = write_partition(tmp_path / DATE, _records(), _rejects())
    res = run_cli("report", DATE, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    page = (part / "_report.html").read_text(encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert page == report.render_report(Path(DATE))
    assert not list(part.glob(".*.tmp"))
    res = run_cli("report", DATE, "-o", "-", "--max-docs", "2", cwd=tmp_path)
    assert res.returncode == 0 and "Showing a sample of 2 of 4 documents" in res.stdout
    res = run_cli("report", DATE, "-o", "elsewhere.html", cwd=tmp_path)
    assert res.returncode == 0 and (tmp_path / "elsewhere.html").read_text(encoding="utf-8").startswith("<!DOCTYPE")
    res = run_cli("report", "missing", cwd=tmp_path)
    assert res.returncode == 2 and "partition folder not found: missing" in res.stderr


@pytest.fixture(scope="module")
def luigi_partition(tmp_path_factory) -> Path:
    """A real CleanPartition run over the committed sample day, plus a crawler line with a nasty title."""
    work = tmp_path_factory.mktemp("luigi")
    shutil.copy(REPO / "luigi.cfg", work / "luigi.cfg")
    shutil.copytree(REPO / "raw" / DATE, work / "raw" / DATE)
    evil = {"id": "evil", "url": "https://example.org/evil", "title": EVIL_TITLE, "text": ARTICLES["harbour"][1]}
    (work / "raw" / DATE / "evil.jsonl").write_text(json.dumps(evil) + "\n", encoding="utf-8")
    luigi = Path(sys.executable).parent / "luigi"
    res = subprocess.run([str(luigi), "--module", "tasks", "CleanPartition", "--date", DATE, "--local-scheduler"],
                         cwd=work, capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert res.returncode == 0, res.stderr[-3000:]
    return work / "clean" / DATE


def test_clean_partition_writes_the_report(luigi_partition: Path):
    out = luigi_partition
    page = (out / "_report.html").read_text(encoding="utf-8")
    summary = json.loads((out / "_SUCCESS.json").read_text(encoding="utf-8"))
    assert (out / "_SUCCESS.json").stat().st_mtime_ns >= (out / "_report.html").stat().st_mtime_ns
    assert bars(page) == summary["removed_by_reason"]
    for lang in summary["langs"]:
        assert f'<tr data-lang="{lang}">' in page
    for reason, n in summary["rejected_by_reason"].items():
        assert f'<tr data-reason="{reason}"><td><b>{reason}</b></td><td class="n">{n}</td>' in page
    assert f"All {summary['cleaned']} documents" in page
    assert "&lt;script&gt;" in page and EVIL_TITLE not in page
    assert_self_contained(page)
    assert '<p class="warn">' not in page


def find_chromium() -> str | None:
    for name in ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.mark.skipif(find_chromium() is None,
                    reason="no Chromium: install the Debian package `chromium` (apt-get install -y chromium)")
def test_report_renders_in_headless_chromium(luigi_partition: Path, tmp_path: Path):
    page_path = luigi_partition / "_report.html"
    flags = [find_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]
    res = subprocess.run([*flags, "--dump-dom", page_path.as_uri()], capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stderr[-2000:]
    dom = res.stdout
    assert re.search(r'<svg class="chart" id="removed-chart"', dom)
    assert len(re.findall(r'<g class="bar"', dom)) == len(bars(page_path.read_text(encoding="utf-8")))
    summary = json.loads((luigi_partition / "_SUCCESS.json").read_text(encoding="utf-8"))
    assert len(re.findall(r'<article class="doc"', dom)) == summary["cleaned"]
    assert "<del" in dom and "&lt;script&gt;" in dom
    assert "<script>alert" not in dom  # the evil title stayed text
    shot = tmp_path / "report.png"
    res = subprocess.run([*flags, "--window-size=1200,1600", f"--screenshot={shot}", page_path.as_uri()],
                         capture_output=True, text=True, timeout=180)
    assert res.returncode == 0 and shot.stat().st_size > 10_000


def test_quality_distribution_and_the_lowest_documents(tmp_path: Path):
    """The report's quality section: documents per tenth of ``quality`` (all scored documents
    counted once), and the lowest-scored ones, lowest first, each with its id and score."""
    records = _records(n_copies=10)
    # A record whose quality is missing or not a number counts as unscored, not as a bin.
    records.append(dict(records[1], id="no-score", quality=None))
    records.append(dict(records[1], id="odd-score", quality="high"))
    part = write_partition(tmp_path / DATE, records, _rejects())
    page = report.render_report(part)
    section = page[page.index('<h2 id="quality">'):page.index('<h2 id="top-lines">')]
    bins = [int(n) for n in re.findall(r'<tr data-bin="\d+"><td>[^<]*</td><td class="n">(\d+)</td>', section)]
    scored = [r["quality"] for r in records if isinstance(r.get("quality"), float)]
    assert len(bins) == report.QUALITY_BINS and sum(bins) == len(scored) > 0
    assert "2 documents have no score" in section
    for q in scored:
        assert bins[min(int(q * 10), 9)] > 0
    lowest = re.findall(r'<tr><td class="n">([0-9.]+)</td><td class="txt">([^<]*)</td>',
                        section[section.index('id="quality-lowest"'):])
    assert len(lowest) == min(report.LOWEST_SHOWN, len(scored))
    shown = [float(q) for q, _ in lowest]
    assert shown == sorted(shown)
    assert shown[0] == pytest.approx(min(scored), abs=5e-4)
    worst_ids = {r["id"] for r in records if isinstance(r.get("quality"), float)
                 and abs(r["quality"] - min(scored)) < 1e-9}
    assert lowest[0][1] in worst_ids


def test_quality_section_without_scores(tmp_path: Path):
    records = [dict(r, quality=None) for r in _records()]
    page = report.render_report(write_partition(tmp_path / DATE, records, []))
    assert f"No document has a quality score ({len(records)} without one)." in page
