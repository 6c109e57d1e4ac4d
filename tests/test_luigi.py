"""CleanPartition / CleanFile through the real `luigi` command and local scheduler, in a temp folder."""
from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parents[1]
DATE = "2026-11-24"
ARTICLE_EN = (
    "Share\nTweet\n"
    "The harbour authority said on Monday that container traffic rose by a fifth in October, "
    "the strongest month since the port reopened after the storm.\n"
    "Officials credited a new rail link that lets freight leave the docks without crossing the city centre.\n"
    "Advertisement\n"
)


def luigi_cmd(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    luigi = Path(sys.executable).parent / "luigi"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([str(luigi), "--module", "tasks", *args, "--local-scheduler", "--no-lock"], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    shutil.copy(REPO / "luigi.cfg", tmp_path / "luigi.cfg")
    day = tmp_path / "raw" / DATE
    (day / "sub dir").mkdir(parents=True)
    shutil.copy(REPO / "tests" / "fixtures" / "seed.txt", day / "seed.txt")
    (day / "harbour.txt").write_text(ARTICLE_EN, encoding="utf-8")
    (day / "empty.txt").write_bytes(b"")
    (day / "blank.txt").write_bytes(b"  \n\t\n")
    (day / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (day / "report.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    docs = [
        {"id": "a1", "url": "https://example.org/a1", "text": ARTICLE_EN.replace("October", "September")},
        {"id": "a1", "text": ARTICLE_EN.replace("October", "August")},
    ]
    with gzip.open(day / "sub dir" / "crawl é.jsonl.gz", "wt", encoding="utf-8") as fh:
        for d in docs:
            fh.write(json.dumps(d) + "\n")
        fh.write("{not json\n")
        fh.write('{"id": "no-text", "url": "https://example.org/x"}\n')
    (day / "more.jsonl").write_text(json.dumps({"id": "a1", "text": ARTICLE_EN.replace("October", "July")}) + "\n")
    return tmp_path


def read_partition(out: Path):
    records = [json.loads(l) for p in sorted(out.glob("part-*.jsonl")) for l in p.read_text().splitlines()]
    rejects = [json.loads(l) for l in (out / "_rejects.jsonl").read_text().splitlines()]
    return records, rejects, json.loads((out / "_SUCCESS.json").read_text())


def test_partition_accounts_for_every_document(workdir: Path):
    res = luigi_cmd(workdir, "CleanPartition", "--date", DATE, "--decruft-shard-max-files", "3")
    assert res.returncode == 0, res.stderr[-3000:]
    out = workdir / "clean" / DATE
    records, rejects, summary = read_partition(out)
    assert len(list(out.glob("part-*.jsonl"))) == 3  # 9 files, 3 per shard
    # the site-profile pass ran per shard too, and its counts were summed into one profile
    assert len(list(out.glob("_shards/part-*.sites.json"))) == 3
    assert json.loads((out / "_site_profiles.json").read_text())["version"] == 2
    assert summary["inputs"] == summary["cleaned"] + summary["rejected"] == len(records) + len(rejects)
    assert summary["cleaned"] == 5 and summary["rejected"] == 6
    reasons = {r["id"]: r["reason"] for r in rejects}
    assert reasons["empty.txt"] == "empty"
    assert reasons["blank.txt"] == "empty"
    assert reasons["binary.txt"] == "binary"
    assert reasons["report.pdf"] == "unsupported_format"
    assert reasons["sub dir/crawl é.jsonl.gz#2"] == "malformed_json"
    assert reasons["no-text"] == "missing_text"
    assert all(r["source"] and r["error"] for r in rejects)

    by_id = {r["id"]: r for r in records}
    assert len(by_id) == len(records)  # ids unique across the partition, never merged
    assert sorted(i for i in by_id if i.startswith("a1")) == ["a1", "a1~2", "a1~3"]
    assert {by_id[i]["text"].split(" in ")[1].split(",")[0] for i in ("a1", "a1~2", "a1~3")} == {
        "September", "August", "July"}
    # first come (in sorted file order) keeps the id: more.jsonl, then sub dir/crawl é.jsonl.gz
    assert "July" in by_id["a1"]["text"] and by_id["a1"]["source"].endswith("more.jsonl")
    assert by_id["a1~2"]["url"] == "https://example.org/a1" and "September" in by_id["a1~2"]["text"]
    harbour = by_id["harbour.txt"]
    assert harbour["lang"] == "en"
    assert harbour["text"].startswith("The harbour authority said on Monday")
    assert "Advertisement" not in harbour["text"] and "Tweet" not in harbour["text"]
    assert {r["reason"] for r in harbour["removed"]} >= {"share", "advertisement"}
    assert by_id["seed.txt"]["title"].startswith("Taliban Rule Will Be")
    assert summary["removed_by_reason"]["donation_appeal"] >= 3
    assert summary["version"]["rules"] == harbour["version"]["rules"]
    assert not list(out.glob("*luigi-tmp*"))


def test_rerun_of_complete_partition_does_nothing(workdir: Path):
    assert luigi_cmd(workdir, "CleanPartition", "--date", DATE).returncode == 0
    out = workdir / "clean" / DATE
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    res = luigi_cmd(workdir, "CleanPartition", "--date", DATE)
    assert res.returncode == 0
    assert "already" in res.stderr or "complete" in res.stderr
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before


def test_interrupted_partition_is_finished_by_rerun(workdir: Path):
    """A shard done, the partition marker missing (as after a kill): a rerun completes it exactly once."""
    assert luigi_cmd(workdir, "CleanPartition", "--date", DATE, "--decruft-shard-max-files", "3").returncode == 0
    out = workdir / "clean" / DATE
    full, _, _ = read_partition(out)
    (out / "_SUCCESS.json").unlink()
    (out / "_shards" / "part-00001.stats.json").unlink()  # shard 1 "killed" before its last write
    (out / "_rejects.jsonl").unlink()
    res = luigi_cmd(workdir, "CleanPartition", "--date", DATE, "--decruft-shard-max-files", "3")
    assert res.returncode == 0, res.stderr[-2000:]
    again, rejects, summary = read_partition(out)
    assert sorted(r["id"] for r in again) == sorted(r["id"] for r in full)
    assert summary["inputs"] == len(again) + len(rejects)


def test_failed_task_exits_non_zero(workdir: Path):
    res = luigi_cmd(workdir, "CleanPartition", "--date", "2026-01-01")
    assert res.returncode != 0
    assert "no raw partition folder" in res.stderr
    assert not (workdir / "clean" / "2026-01-01" / "_SUCCESS.json").exists()


def test_roots_from_command_line(workdir: Path):
    (workdir / "raw").rename(workdir / "incoming")
    res = luigi_cmd(workdir, "CleanPartition", "--date", DATE, "--decruft-raw-root", "incoming",
                    "--decruft-clean-root", "out")
    assert res.returncode == 0, res.stderr[-2000:]
    assert (workdir / "out" / DATE / "_SUCCESS.json").exists()
    assert not (workdir / "clean").exists()


def test_clean_file_task(workdir: Path):
    src = workdir / "raw" / DATE / "harbour.txt"
    res = luigi_cmd(workdir, "CleanFile", "--path", str(src))
    assert res.returncode == 0, res.stderr[-2000:]
    [out] = [p for p in (workdir / "clean" / "files").glob("harbour.txt.*.jsonl") if ".rejects." not in p.name]
    rec = json.loads(out.read_text())
    assert rec["id"] == "harbour.txt"
    assert rec["text"].startswith("The harbour authority")


def make_days(root: Path, days: list[str]) -> None:
    for day in days:
        folder = root / "raw" / day
        folder.mkdir(parents=True)
        (folder / "a.txt").write_text(ARTICLE_EN.replace("Monday", f"day {day}"), encoding="utf-8")


def test_range_daily_backfills_then_does_nothing(tmp_path: Path):
    shutil.copy(REPO / "luigi.cfg", tmp_path / "luigi.cfg")
    make_days(tmp_path, ["2026-11-01", "2026-11-02", "2026-11-04"])  # 11-03: no folder, nothing to do
    args = ("RangeDaily", "--of", "CleanPartition", "--start", "2026-11-01", "--stop", "2026-11-06")
    first = luigi_cmd(tmp_path, *args)
    assert first.returncode == 0, first.stderr[-2000:]
    assert sorted(p.parent.name for p in (tmp_path / "clean").glob("*/_SUCCESS.json")) == [
        "2026-11-01", "2026-11-02", "2026-11-04"]
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "clean").rglob("*")}
    second = luigi_cmd(tmp_path, *args)
    assert second.returncode == 0
    assert "ran successfully" not in second.stderr
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "clean").rglob("*")} == before


def test_ready_marker_holds_back_a_day_still_being_written(tmp_path: Path):
    shutil.copy(REPO / "luigi.cfg", tmp_path / "luigi.cfg")
    make_days(tmp_path, ["2026-11-05"])
    # keep_alive would wait up to max_keep_alive_idle_duration for the marker: don't, here
    args = ("CleanPartition", "--date", "2026-11-05", "--decruft-require-ready", "true",
            "--worker-max-keep-alive-idle-duration", "1 second")
    waiting = luigi_cmd(tmp_path, *args)
    assert waiting.returncode != 0  # missing external dependency: not done, and said so
    assert "RawPartitionReady" in waiting.stderr
    assert not (tmp_path / "clean" / "2026-11-05" / "_SUCCESS.json").exists()
    ranged = luigi_cmd(tmp_path, "RangeDaily", "--of", "CleanPartition", "--start", "2026-11-05",
                       "--stop", "2026-11-06", "--decruft-require-ready", "true",
                       "--worker-max-keep-alive-idle-duration", "1 second")
    assert ranged.returncode == 0 and not (tmp_path / "clean" / "2026-11-05" / "_SUCCESS.json").exists()
    (tmp_path / "raw" / "2026-11-05" / "_READY").touch()
    done = luigi_cmd(tmp_path, *args)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads((tmp_path / "clean" / "2026-11-05" / "_SUCCESS.json").read_text())
    assert summary["inputs"] == 1 and summary["cleaned"] == 1  # the marker is not an input
