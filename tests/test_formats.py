"""Output formats: jsonl, text, jsonl.gz, parquet, txt-dir — writers, CLI and Luigi partitions."""
from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import pipeline
from pipeline.document import Decision, Document
from pipeline.report import render_report
from pipeline.writers import (INDEX_NAME, iter_records, open_writer, parquet_schema, read_ids, rewrite_ids,
                              safe_filename)
from tasks.cli import main

REPO = Path(__file__).parents[1]
DATE = "2026-11-24"
ARTICLE = (
    "Share\nTweet\n"
    "The harbour authority said on Monday that container traffic rose by a fifth in October, "
    "the strongest month since the port reopened after the storm.\n"
    "Officials credited a new rail link that lets freight leave the docks without crossing the city centre.\n"
    "Advertisement\n"
)
HOSTILE_IDS = ["../../x", "a/b", "a_b", "A_B", "con", "CON.txt", "   ", "", ".", "..", "dup", "dup",
               "x" * 600, "x" * 600 + "y", "tab\there\x00nul\u202e", "-rf", "C:\\Windows\\evil", "é/ü"]


def sample_records(n: int = 3) -> list[dict]:
    base = pipeline.clean_text(ARTICLE, url="https://example.org/a", source="dump.txt", extra={"k": [1, 2]})
    assert base["removed"], "the sample must have removed spans"
    return [dict(base, id=f"doc-{i}", text=base["text"] + f" ({i})") for i in range(n)]


def test_parquet_schema_covers_every_record_field():
    """Arrow drops struct keys it does not know: the schema must follow Document.to_record."""
    doc = Document(id="a", source="s", decisions=[Decision("x", keep=False, reason="share", rule="r"),
                                                  Decision("y", keep=True)],
                   stats={"chars_in": 1, "chars_out": 1, "lines_in": 2, "lines_kept": 1, "lines_removed": 1,
                          "unencodable_chars": 0, "bytes_in": 1})
    from pipeline.clean import version_info
    from pipeline.config import CleanConfig

    record = doc.to_record(version_info(CleanConfig()))
    schema = parquet_schema()
    assert set(record) | {"markdown"} == set(schema.names)  # markdown: only when rendered (null otherwise)
    doc.markdown = "y\n"
    assert set(doc.to_record(version_info(CleanConfig()))) == set(schema.names)
    assert set(record["removed"][0]) == {f.name for f in schema.field("removed").type.value_type}
    assert set(record["stats"]) == {f.name for f in schema.field("stats").type}
    assert set(record["version"]) == {f.name for f in schema.field("version").type}
    assert set(sample_records(1)[0]["stats"]) == {f.name for f in schema.field("stats").type}


def test_parquet_round_trip_in_row_groups(tmp_path: Path):
    records = sample_records(2500)
    out = tmp_path / "out.parquet"
    with open_writer("parquet", out) as w:
        for rec in records:
            w.write(rec)
    assert sorted(os.listdir(tmp_path)) == ["out.parquet"]  # no temporary file left
    pf = pq.ParquetFile(out)
    assert pf.metadata.num_row_groups == 3 and pf.metadata.num_rows == 2500
    assert pf.schema_arrow.field("removed").type == pa.list_(parquet_schema().field("removed").type.value_type)
    table = pq.read_table(out)
    first = table.slice(0, 1).to_pylist()[0]
    assert first["removed"] == records[0]["removed"]  # list of {reason, rule, text, at} structs
    assert first["stats"] == records[0]["stats"] and first["version"] == records[0]["version"]
    assert json.loads(first["metadata"]) == records[0]["metadata"]
    assert table.column("id").to_pylist() == [r["id"] for r in records]
    assert list(iter_records("parquet", out))[1] == records[1]


def test_parquet_refuses_unknown_fields_and_leaves_nothing(tmp_path: Path):
    out = tmp_path / "out.parquet"
    out.write_bytes(b"old")
    rec = sample_records(1)[0]
    with pytest.raises(ValueError, match="removed.colour"):
        with open_writer("parquet", out) as w:
            w.write(rec)
            w.write(dict(rec, removed=[dict(rec["removed"][0], colour="red")]))
    assert sorted(os.listdir(tmp_path)) == ["out.parquet"] and out.read_bytes() == b"old"


def test_jsonl_gz_round_trip(tmp_path: Path):
    records = sample_records()
    out = tmp_path / "out.jsonl.gz"
    with open_writer("jsonl.gz", out) as w:
        for rec in records:
            w.write(rec)
    with gzip.open(out, "rt", encoding="utf-8") as fh:
        assert [json.loads(line) for line in fh] == records
    first = out.read_bytes()
    with open_writer("jsonl.gz", out) as w:  # reproducible bytes: no timestamp in the header
        for rec in records:
            w.write(rec)
    assert out.read_bytes() == first


def test_safe_filename():
    for doc_id in HOSTILE_IDS:
        name = safe_filename(doc_id)
        assert name and "/" not in name and "\\" not in name and ".." not in name
        assert not any(ord(c) < 32 or c in '<>:"|?*' for c in name)
        assert not name.startswith((".", "-")) and not name.endswith((".", " "))
        assert len(name.encode()) <= 120
        assert name.split(".")[0].lower() not in {"con", "prn", "aux", "nul"}
    assert safe_filename("x" * 600) != safe_filename("x" * 600 + "y")  # shortened names keep a hash
    assert safe_filename("a/b") == safe_filename("a/b")
    assert safe_filename("seed.txt") == "seed.txt"


def test_txt_dir_names_are_safe_unique_and_deterministic(tmp_path: Path):
    base = sample_records(1)[0]
    records = [dict(base, id=i, text=f"text {n}") for n, i in enumerate(HOSTILE_IDS)]
    folders = []
    for name in ("one", "two"):
        folder = tmp_path / name
        with open_writer("txt-dir", folder) as w:
            for rec in records:
                w.write(rec)
        folders.append(folder)
    one = folders[0]
    names = sorted(os.listdir(one))
    assert names == sorted(os.listdir(folders[1]))  # same ids, same names
    txt = [n for n in names if n != INDEX_NAME]
    assert len(txt) == len(records) and len({n.casefold() for n in txt}) == len(txt)
    assert all(n.endswith(".txt") and (one / n).resolve().parent == one.resolve() for n in txt)
    assert not [p for p in tmp_path.iterdir() if p.name not in ("one", "two")]  # nothing outside, no temp
    index = [json.loads(line) for line in (one / INDEX_NAME).read_text(encoding="utf-8").splitlines()]
    assert [e["id"] for e in index] == HOSTILE_IDS
    for n, entry in enumerate(index):
        assert (one / entry["file"]).read_text(encoding="utf-8") == f"text {n}\n"
    assert [r["text"] for r in iter_records("txt-dir", one)] == [r["text"] for r in records]
    by_id = {}
    for e in index:
        by_id.setdefault(e["id"], []).append(e["file"])
    assert by_id["dup"] == ["dup.txt", "dup~2.txt"]


def test_txt_dir_will_not_replace_a_foreign_folder(tmp_path: Path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.md").write_text("keep me")
    with pytest.raises(FileExistsError):
        open_writer("txt-dir", tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.md").read_text() == "keep me"


@pytest.mark.parametrize("fmt,name", [("jsonl", "p.jsonl"), ("jsonl.gz", "p.jsonl.gz"),
                                      ("parquet", "p.parquet"), ("txt-dir", "p")])
def test_rewrite_ids(tmp_path: Path, fmt: str, name: str):
    records = sample_records(5)
    path = tmp_path / name
    with open_writer(fmt, path) as w:
        for rec in records:
            w.write(rec)
    assert read_ids(fmt, path) == [r["id"] for r in records]
    new = [f"{r['id']}~2" for r in records]
    rewrite_ids(fmt, path, new)
    assert read_ids(fmt, path) == new
    again = list(iter_records(fmt, path))
    assert [r["text"] for r in again] == [r["text"] for r in records]
    if fmt != "txt-dir":
        assert again == [dict(r, id=i) for r, i in zip(records, new)]
    assert sorted(os.listdir(tmp_path)) == [name]  # no temporary left


def test_cli_formats(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "b.jsonl").write_text(json.dumps({"id": "a.txt", "text": ARTICLE.replace("October", "May")}) + "\n")
    for fmt in ("jsonl.gz", "parquet", "txt-dir"):
        assert main(["clean", "a.txt", "--format", fmt]) == 2
        assert f"--format {fmt} needs -o" in capsys.readouterr().err

    assert main(["clean", "a.txt", "b.jsonl", "-o", "out.jsonl.gz", "--format", "jsonl.gz"]) == 0
    with gzip.open("out.jsonl.gz", "rt") as fh:
        gz = [json.loads(line) for line in fh]
    assert [r["id"] for r in gz] == ["a.txt", "a.txt~2"]

    assert main(["clean", "a.txt", "b.jsonl", "-o", "out.parquet", "--format", "parquet"]) == 0
    rows = pq.read_table("out.parquet").to_pylist()
    assert [r["id"] for r in rows] == ["a.txt", "a.txt~2"] and rows[0]["removed"] == gz[0]["removed"]

    assert main(["clean", "a.txt", "b.jsonl", "-o", "texts", "--format", "txt-dir"]) == 0
    assert sorted(os.listdir("texts")) == [INDEX_NAME, "a.txt.txt", "a.txt~2.txt"]
    assert (tmp_path / "texts" / "a.txt.txt").read_text() == gz[0]["text"] + "\n"
    assert main(["clean", "a.txt", "-o", "texts", "--format", "txt-dir"]) == 0  # replaces its own output
    assert sorted(os.listdir("texts")) == [INDEX_NAME, "a.txt.txt"]

    assert main(["clean", "a.txt", "--format", "text"]) == 0
    assert capsys.readouterr().out == gz[0]["text"] + "\n"
    assert main(["clean", "a.txt", "-o", "out.jsonl"]) == 0
    assert json.loads(Path("out.jsonl").read_text()) == gz[0]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries left


def luigi_cmd(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    luigi = Path(sys.executable).parent / "luigi"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([str(luigi), "--module", "tasks", *args, "--local-scheduler"], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=300)


def read_part(fmt: str, path: Path) -> list[dict]:
    return list(iter_records(fmt, path))


@pytest.mark.parametrize("fmt,pattern", [("parquet", "part-*.parquet"), ("jsonl.gz", "part-*.jsonl.gz"),
                                         ("txt-dir", "part-*")])
def test_partition_output_format(tmp_path: Path, fmt: str, pattern: str, monkeypatch):
    shutil.copy(REPO / "luigi.cfg", tmp_path / "luigi.cfg")
    day = tmp_path / "raw" / DATE
    day.mkdir(parents=True)
    (day / "a.txt").write_text(ARTICLE, encoding="utf-8")
    for n, month in enumerate(["May", "June"]):  # the same id in two shards: made unique by rewriting
        (day / f"b{n}.jsonl").write_text(json.dumps({"id": "a1", "text": ARTICLE.replace("October", month)}) + "\n")
    (day / "empty.txt").write_bytes(b"")
    res = luigi_cmd(tmp_path, "CleanPartition", "--date", DATE, "--decruft-shard-max-files", "1",
                    "--decruft-output-format", fmt)
    assert res.returncode == 0, res.stderr[-3000:]
    out = tmp_path / "clean" / DATE
    parts = sorted(p for p in out.glob(pattern) if not p.name.startswith("_"))
    assert [p.name for p in parts] == [f"part-{i:05d}{'' if fmt == 'txt-dir' else '.' + fmt}" for i in range(4)]
    assert not list(out.glob("part-*.jsonl")) and not list(out.glob("*luigi-tmp*"))
    records = [r for p in parts for r in read_part(fmt, p)]
    summary = json.loads((out / "_SUCCESS.json").read_text())
    assert summary["cleaned"] == len(records) == 3 and summary["rejected"] == 1
    assert sorted(r["id"] for r in records) == ["a.txt", "a1", "a1~2"]
    by_id = {r["id"]: r for r in records}
    assert "May" in by_id["a1"]["text"] and "June" in by_id["a1~2"]["text"]
    if fmt == "parquet":
        table = pq.read_table(parts[0])
        assert table.schema.field("removed").type.value_type.names == ["reason", "rule", "text", "at"]
        assert {r["reason"] for r in by_id["a.txt"]["removed"]} >= {"share", "advertisement"}
    if fmt == "txt-dir":
        assert sorted(os.listdir(parts[2])) == [INDEX_NAME, "a1~2.txt"]
    # the report, merged from the shards' scans, is the one a scan of the finished folder gives
    page = (out / "_report.html").read_text(encoding="utf-8")
    assert f'<b>{sum(summary["removed_by_reason"].values())}</b><span>spans removed' in page
    assert 'data-id="a1~2"' in page
    monkeypatch.chdir(tmp_path)
    if fmt != "txt-dir":  # a txt-dir index keeps no removed spans: only the shards saw them
        assert page == render_report(Path("clean") / DATE)
    # a rerun of the complete partition does nothing
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    assert luigi_cmd(tmp_path, "CleanPartition", "--date", DATE, "--decruft-shard-max-files", "1",
                     "--decruft-output-format", fmt).returncode == 0
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before
