"""Which files of a folder are inputs (pipeline.batch.list_inputs), symbolic links above all
(issue 12 item 4), and the same rule in a Luigi partition."""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from pipeline.batch import list_inputs
from tests.test_luigi import luigi_cmd

REPO = Path(__file__).parents[1]
DATE = "2026-11-21"
SECRET = "The vault combination is kept in the drawer beside the window, and only the manager knows it.\n"
STORY = ("The ferry company said on Friday that the morning crossing would run again from next week, "
         "after the harbour wall was repaired.\nPassengers had waited two months for the service to return.\n")

pytestmark = pytest.mark.skipif(not hasattr(os, "symlink") or sys.platform == "win32", reason="needs symlinks")


def build(tmp: Path) -> tuple[Path, Path]:
    """raw/<DATE>/ with a real file, links inside and outside raw/, a dangling link, a linked folder."""
    outside = tmp / "elsewhere"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET, encoding="utf-8")
    (outside / "more").mkdir()
    (outside / "more" / "deep.txt").write_text(STORY.replace("Friday", "Sunday"), encoding="utf-8")
    root = tmp / "raw"
    day = root / DATE
    (day / "sub").mkdir(parents=True)
    (day / "story.txt").write_text(STORY, encoding="utf-8")
    (root / "2026-11-20").mkdir()
    (root / "2026-11-20" / "old.txt").write_text(STORY.replace("Friday", "Monday"), encoding="utf-8")
    (day / "alias.txt").symlink_to("story.txt")  # inside the day
    (day / "yesterday.txt").symlink_to(root / "2026-11-20" / "old.txt")  # inside raw/, another day
    (day / "leak.txt").symlink_to(outside / "secret.txt")  # outside raw/
    (day / "sub" / "gone.txt").symlink_to(tmp / "nowhere.txt")  # dangling
    (day / "linked").symlink_to(outside / "more", target_is_directory=True)  # a folder outside
    (day / "sub" / "inner").symlink_to(day / "sub", target_is_directory=True)  # a loop when followed
    return root, day


def ids(listing, folder: Path) -> tuple[list[str], dict[str, str]]:
    inputs = [p.relative_to(folder).as_posix() for p in listing.inputs]
    return inputs, {d.id: d.error for d in listing.rejects}


def test_default_reads_links_inside_the_root_only(tmp_path: Path):
    root, day = build(tmp_path)
    listing = list_inputs(root, day)
    inputs, rejects = ids(listing, day)
    assert inputs == ["alias.txt", "story.txt", "yesterday.txt"]
    assert rejects == {"leak.txt": "outside_root", "linked": "outside_root", "sub/gone.txt": "unreadable",
                       "sub/inner": "symlinked_folder"}
    detail = {d.id: d.detail for d in listing.rejects}
    assert "nowhere.txt" in detail["sub/gone.txt"] and "dangling" in detail["sub/gone.txt"]
    assert all(d.source for d in listing.rejects)


def test_follow_symlinks_reads_every_link_and_walks_linked_folders(tmp_path: Path):
    root, day = build(tmp_path)
    inputs, rejects = ids(list_inputs(root, day, follow_symlinks=True), day)
    assert inputs == ["alias.txt", "leak.txt", "linked/deep.txt", "story.txt", "yesterday.txt"]
    # the loop is walked once and stops; the dangling link is still unreadable
    assert rejects == {"sub/gone.txt": "unreadable", "sub/inner": "unreadable"}


def test_root_is_the_folder_when_no_folder_is_given(tmp_path: Path):
    root, day = build(tmp_path)
    # as `decruft clean DIR` uses it: DIR is the root, so a link to another day is outside it
    inputs, rejects = ids(list_inputs(day), day)
    assert inputs == ["alias.txt", "story.txt"]
    assert rejects["yesterday.txt"] == rejects["leak.txt"] == "outside_root"


def test_hidden_markers_and_special_files(tmp_path: Path):
    (tmp_path / "_READY").touch()
    (tmp_path / ".partial.txt").write_text("x")
    (tmp_path / "_meta").mkdir()
    (tmp_path / "_meta" / "x.txt").write_text("x")
    (tmp_path / "a.txt").write_text(STORY)
    os.mkfifo(tmp_path / "pipe.txt")  # reading it would block for ever
    inputs, rejects = ids(list_inputs(tmp_path), tmp_path)
    assert inputs == ["a.txt"]
    assert rejects == {"pipe.txt": "unreadable"}


def read(out: Path):
    records = {json.loads(l)["id"]: json.loads(l) for p in sorted(out.glob("part-*.jsonl")) for l in p.open()}
    rejects = {json.loads(l)["id"]: json.loads(l) for l in (out / "_rejects.jsonl").open()}
    return records, rejects, json.loads((out / "_SUCCESS.json").read_text())


@pytest.mark.parametrize("follow", [False, True])
def test_partition_applies_the_listing_rule(tmp_path: Path, follow: bool):
    shutil.copy(REPO / "luigi.cfg", tmp_path / "luigi.cfg")
    build(tmp_path)
    res = luigi_cmd(tmp_path, "CleanPartition", "--date", DATE, "--decruft-follow-symlinks", str(follow).lower())
    assert res.returncode == 0, res.stderr[-3000:]
    records, rejects, summary = read(tmp_path / "clean" / DATE)
    assert summary["inputs"] == summary["cleaned"] + summary["rejected"] == len(records) + len(rejects)
    assert records["alias.txt"]["text"] == records["story.txt"]["text"]
    assert "Monday" in records["yesterday.txt"]["text"]
    assert all(not i.startswith("/") for i in [*records, *rejects])  # ids are relative, never link paths
    if follow:
        assert sorted(records) == ["alias.txt", "leak.txt", "linked/deep.txt", "story.txt", "yesterday.txt"]
        assert {i: r["reason"] for i, r in rejects.items()} == {"sub/gone.txt": "unreadable", "sub/inner": "unreadable"}
    else:
        assert sorted(records) == ["alias.txt", "story.txt", "yesterday.txt"]
        assert not any("vault" in r["text"] for r in records.values())
        assert {i: r["reason"] for i, r in rejects.items()} == {
            "leak.txt": "outside_root", "linked": "outside_root", "sub/gone.txt": "unreadable",
            "sub/inner": "symlinked_folder"}
        assert summary["rejected_by_reason"]["outside_root"] == 2
