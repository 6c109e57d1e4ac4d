"""A cleaned day meets a changed world (issue 11 item 3): another output format, changed raw
files, and CleanFile inputs that share a base name."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parents[1]
BIN = Path(sys.executable).parent
DATE = "2026-11-19"


def story(n: int, word: str = "Thursday") -> str:
    return (f"The library in district {n} said on {word} that its reading room would stay open late "
            f"during the exam weeks.\nStudents had asked for {n + 2} more hours on weekday evenings.\n")


def run(cwd: Path, *args: str, tool: str = "luigi") -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    if tool == "luigi":
        cmd = [str(BIN / "luigi"), "--module", "tasks", *args, "--local-scheduler", "--no-lock"]
    else:
        cmd = [str(BIN / "decruft"), *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture()
def day(tmp_path: Path) -> Path:
    shutil.copy(REPO / "luigi.cfg", tmp_path / "luigi.cfg")
    folder = tmp_path / "raw" / DATE
    folder.mkdir(parents=True)
    for n in range(4):
        (folder / f"s{n}.txt").write_text(story(n), encoding="utf-8")
    res = run(tmp_path, "CleanPartition", "--date", DATE, "--decruft-shard-max-files", "2")
    assert res.returncode == 0, res.stderr[-3000:]
    return folder


def records(root: Path, fmt: str = "jsonl") -> dict[str, dict]:
    out = root / "clean" / DATE
    if fmt == "parquet":
        import pyarrow.parquet as pq
        rows = [r for p in sorted(out.glob("part-*.parquet")) for r in pq.read_table(p).to_pylist()]
    else:
        rows = [json.loads(l) for p in sorted(out.glob("part-*.jsonl")) for l in p.open(encoding="utf-8")]
    return {r["id"]: r for r in rows}


def snapshot(folder: Path) -> dict:
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def test_success_records_the_inputs(day: Path):
    summary = json.loads((day.parents[1] / "clean" / DATE / "_SUCCESS.json").read_text())
    assert summary["output_format"] == "jsonl"
    assert [e["name"] for e in summary["input_files"]] == ["s0.txt", "s1.txt", "s2.txt", "s3.txt"]
    st = (day / "s1.txt").stat()
    assert summary["input_files"][1] == {"name": "s1.txt", "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def test_day_complete_in_another_format_is_an_error_unless_forced(day: Path):
    root = day.parents[1]
    out = root / "clean" / DATE
    before = snapshot(out)
    res = run(root, "run", DATE, "--output-format", "parquet", tool="decruft")
    assert res.returncode != 0
    assert "already complete as jsonl" in res.stderr and "--force" in res.stderr
    assert snapshot(out) == before and not list(out.glob("*.parquet"))
    res = run(root, "run", DATE, "--output-format", "parquet", "--force", tool="decruft")
    assert res.returncode == 0, res.stderr[-3000:]
    assert sorted(records(root, "parquet")) == ["s0.txt", "s1.txt", "s2.txt", "s3.txt"]
    assert not list(out.glob("part-*.jsonl"))
    assert json.loads((out / "_SUCCESS.json").read_text())["output_format"] == "parquet"
    again = run(root, "CleanPartition", "--date", DATE, "--decruft-output-format", "parquet")
    assert again.returncode == 0 and "ran successfully" not in again.stderr


def change(day: Path) -> None:
    (day / "s4.txt").write_text(story(4), encoding="utf-8")  # new
    (day / "s1.txt").write_text(story(1, "Saturday, after a long meeting,"), encoding="utf-8")  # changed
    (day / "s3.txt").unlink()  # missing


def test_changed_inputs_fail_by_default_and_name_the_files(day: Path):
    root = day.parents[1]
    out = root / "clean" / DATE
    change(day)
    before = snapshot(out)
    res = run(root, "CleanPartition", "--date", DATE, "--decruft-shard-max-files", "2")
    assert res.returncode == 20, res.stderr[-3000:]  # luigi.cfg [retcode] missing_data
    assert "1 new (s4.txt); 1 changed (s1.txt); 1 missing (s3.txt)" in res.stderr
    assert "on_input_change" in res.stderr
    assert snapshot(out) == before  # nothing rewritten
    ranged = run(root, "RangeDaily", "--of", "CleanPartition", "--start", DATE, "--stop", "2026-11-20")
    assert ranged.returncode == 20 and "1 new (s4.txt)" in ranged.stderr
    assert snapshot(out) == before


def test_reclean_cleans_the_changed_day_again(day: Path):
    root = day.parents[1]
    change(day)
    res = run(root, "RangeDaily", "--of", "CleanPartition", "--start", DATE, "--stop", "2026-11-20",
              "--decruft-on-input-change", "reclean", "--decruft-shard-max-files", "2")
    assert res.returncode == 0, res.stderr[-3000:]
    recs = records(root)
    assert sorted(recs) == ["s0.txt", "s1.txt", "s2.txt", "s4.txt"]
    assert "Saturday" in recs["s1.txt"]["text"]
    summary = json.loads((root / "clean" / DATE / "_SUCCESS.json").read_text())
    assert summary["inputs"] == summary["cleaned"] == 4
    assert [e["name"] for e in summary["input_files"]] == ["s0.txt", "s1.txt", "s2.txt", "s4.txt"]
    again = run(root, "CleanPartition", "--date", DATE, "--decruft-shard-max-files", "2")
    assert again.returncode == 0 and "ran successfully" not in again.stderr


def test_reclean_from_the_cli(day: Path):
    root = day.parents[1]
    (day / "s5.txt").write_text(story(5), encoding="utf-8")
    assert run(root, "run", DATE, tool="decruft").returncode != 0
    res = run(root, "run", DATE, "--on-input-change", "reclean", tool="decruft")
    assert res.returncode == 0, res.stderr[-3000:]
    assert "s5.txt" in records(root)


def test_clean_file_outputs_never_shared_by_two_inputs(tmp_path: Path):
    shutil.copy(REPO / "luigi.cfg", tmp_path / "luigi.cfg")
    for folder, word in (("a", "Monday"), ("b", "Tuesday")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "note.txt").write_text(story(7, word), encoding="utf-8")
    for folder in ("a", "b"):
        res = run(tmp_path, "CleanFile", "--path", str(tmp_path / folder / "note.txt"))
        assert res.returncode == 0, res.stderr[-3000:]
        assert "ran successfully" in res.stderr  # the second is not "complete" because of the first
    outs = [p for p in sorted((tmp_path / "clean" / "files").glob("note.txt.*.jsonl"))
            if not p.name.endswith(".rejects.jsonl")]
    assert len(outs) == 2
    texts = sorted(json.loads(p.read_text())["text"].split(" on ")[1].split()[0] for p in outs)
    assert texts == ["Monday", "Tuesday"]
