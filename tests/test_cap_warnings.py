"""Inputs cut by a limit say so on stderr: which document, which limit (CLI and Luigi)."""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

from pipeline.batch import BatchStats, clean_files
from pipeline.config import CleanConfig

REPO = Path(__file__).parents[1]
DATE = "2026-11-24"
SENTENCE = "The harbour authority said on Monday that container traffic rose by a fifth in October."


def write_inputs(folder: Path) -> None:
    # 2.2 M characters of distinct prose lines: over max_document_chars (2,000,000)
    lines = [f"{SENTENCE} Line {i} of the report names berth {i % 97} and crane {i % 13}." for i in range(17_000)]
    (folder / "big.txt").write_text("\n".join(lines), encoding="utf-8")
    (folder / "long.txt").write_text(SENTENCE + "\n" + "word " * 6000 + "\n" + SENTENCE, encoding="utf-8")
    (folder / "small.txt").write_text(SENTENCE, encoding="utf-8")


def test_cli_warns_with_the_document_and_the_limit(tmp_path: Path):
    write_inputs(tmp_path)
    assert len((tmp_path / "big.txt").read_text()) > 2_000_000
    res = subprocess.run([str(Path(sys.executable).parent / "decruft"), "clean", "big.txt", "long.txt", "small.txt",
                          "-o", "out.jsonl"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    warnings = [line for line in res.stderr.splitlines() if line.startswith("decruft: capped ")]
    assert warnings == [
        "decruft: capped big.txt: only the first max_document_chars = 2,000,000 characters were cleaned",
        "decruft: capped long.txt: lines longer than max_line_chars = 20,000 characters were cut",
    ]


def test_library_warnings_name_every_limit(tmp_path: Path, caplog):
    (tmp_path / "a.txt").write_text(SENTENCE * 40, encoding="utf-8")
    (tmp_path / "p.html").write_text("<html><body>" + f"<p>{SENTENCE}</p>" * 50 + "</body></html>", encoding="utf-8")
    cfg = CleanConfig(max_input_bytes=2000, max_html_bytes=1000)
    with caplog.at_level(logging.WARNING, logger="pipeline"):
        docs = list(clean_files([tmp_path / "a.txt", tmp_path / "p.html"], tmp_path, cfg, BatchStats()))
    assert [d.capped for d in docs] == [["input_bytes"], ["input_bytes", "soup_capped"]]
    messages = [r.getMessage() for r in caplog.records if r.name == "pipeline.clean"]
    assert messages == [
        "capped a.txt: only the first max_input_bytes = 2,000 bytes were read",
        "capped p.html: only the first max_input_bytes = 2,000 bytes were read; HTML over max_html_bytes = 1,000 "
        "or nested deeper than max_html_depth = 2,000: its first 1,000 characters read without trafilatura",
    ]


def test_luigi_log_warns_with_the_document_and_the_limit(tmp_path: Path):
    shutil.copy(REPO / "luigi.cfg", tmp_path / "luigi.cfg")
    day = tmp_path / "raw" / DATE
    day.mkdir(parents=True)
    (day / "long.txt").write_text(SENTENCE + "\n" + "word " * 6000 + "\n" + SENTENCE, encoding="utf-8")
    (day / "small.txt").write_text(SENTENCE, encoding="utf-8")
    res = subprocess.run([str(Path(sys.executable).parent / "luigi"), "--module", "tasks", "CleanPartition",
                          "--date", DATE, "--local-scheduler"], cwd=tmp_path, capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    warnings = [line for line in res.stderr.splitlines() if line.startswith("capped ")]
    assert warnings == ["capped long.txt: lines longer than max_line_chars = 20,000 characters were cut"]
