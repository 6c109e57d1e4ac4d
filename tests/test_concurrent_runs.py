"""Two CleanPartition processes on one day at once (issue 12 item 3), and forked task processes
that must not outlive a killed parent (issue 12 item 6)."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).parents[1]
BIN = Path(sys.executable).parent
DATE = "2026-11-23"
TOWNS = ["Ashford", "Belmont", "Carver", "Dunmore", "Elton", "Fairview"]


def article(n: int) -> str:
    town = TOWNS[n % len(TOWNS)]
    return "\n".join([
        "Share",
        f"Officials in {town} said on Tuesday that bridge repair number {n} would begin in the spring.",
        f"The council in {town} voted for the plan after {n % 9 + 2} public meetings about traffic.",
        "Engineers will replace the deck, widen the footpath and add a lane for bicycles on both sides.",
        "Advertisement",
    ]) + "\n"


def make_day(root: Path, docs: int) -> None:
    shutil.copy(REPO / "luigi.cfg", root / "luigi.cfg")
    day = root / "raw" / DATE
    day.mkdir(parents=True)
    for n in range(docs):
        (day / f"n{n:03d}.txt").write_text(article(n), encoding="utf-8")
    # a repeated id across shards, so that the partition's id rewrite runs too
    (day / "z1.jsonl").write_text(json.dumps({"id": "dup", "text": article(100)}) + "\n", encoding="utf-8")
    (day / "z2.jsonl").write_text(json.dumps({"id": "dup", "text": article(101)}) + "\n", encoding="utf-8")
    (day / "zz-empty.txt").write_bytes(b"")


def luigi_args(*extra: str) -> list[str]:
    return [str(BIN / "luigi"), "--module", "tasks", "CleanPartition", "--date", DATE, "--local-scheduler", *extra]


def env() -> dict:
    return dict(os.environ, PYTHONPATH=str(REPO))


def test_two_runs_of_one_day_at_once_both_succeed(tmp_path: Path):
    docs = 9
    for attempt in range(5):
        root = tmp_path / f"run{attempt}"
        root.mkdir()
        make_day(root, docs)
        # --workers 1 beside --workers 2 (different Luigi locks), and --no-lock on both
        variants = [("--workers", "1"), ("--workers", "2")] if attempt % 2 == 0 else \
            [("--workers", "2", "--no-lock"), ("--workers", "2", "--no-lock")]
        procs = [subprocess.Popen(luigi_args("--decruft-shard-max-files", "2", *v), cwd=root, env=env(),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for v in variants]
        errs = [p.communicate(timeout=300)[1] for p in procs]
        for p, err in zip(procs, errs):
            assert p.returncode == 0, f"attempt {attempt}: {err[-3000:]}"
        out = root / "clean" / DATE
        records = [json.loads(l) for p in sorted(out.glob("part-*.jsonl")) for l in p.open(encoding="utf-8")]
        rejects = [json.loads(l) for l in (out / "_rejects.jsonl").open(encoding="utf-8")]
        summary = json.loads((out / "_SUCCESS.json").read_text())
        assert summary["inputs"] == summary["cleaned"] + summary["rejected"] == len(records) + len(rejects) == docs + 3
        ids = [r["id"] for r in records]
        assert len(ids) == len(set(ids)) == docs + 2
        assert sorted(ids) == sorted([f"n{n:03d}.txt" for n in range(docs)] + ["dup", "dup~2"])
        assert [r["id"] for r in rejects] == ["zz-empty.txt"]
        assert not [p.name for p in out.rglob("*") if ".tmp" in p.name or "luigi-tmp" in p.name]


def descendants(pid: int) -> set[int]:
    """Live (not zombie) processes below ``pid``, from /proc."""
    parents: dict[int, int] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents[int(proc.name)] = int(fields[1])
    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parents.items() if pp == p]
        found.update(kids)
        todo.extend(kids)
    return found


def alive(pids: set[int]) -> set[int]:
    left = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            left.add(pid)
    return left


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_forked_task_processes_die_with_a_killed_worker(tmp_path: Path):
    shutil.copy(REPO / "luigi.cfg", tmp_path / "luigi.cfg")
    day = tmp_path / "raw" / DATE
    day.mkdir(parents=True)
    for name in ("a", "b"):  # two shards that take many seconds each (the test ends them after ~1 s)
        with (day / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for n in range(5000):
                fh.write(json.dumps({"id": f"{name}{n}", "text": article(n)}) + "\n")
    proc = subprocess.Popen(luigi_args("--workers", "2", "--no-lock", "--decruft-shard-max-files", "1",
                                       "--decruft-site-profiles", "false"),
                            cwd=tmp_path, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    # wait until both shard processes and their cleaning children are busy
    deadline = time.time() + 120
    kids: set[int] = set()
    while time.time() < deadline:
        kids = descendants(proc.pid)
        if len(kids) >= 4:
            break
        time.sleep(0.05)
    assert len(kids) >= 4, "the shard processes did not start"
    time.sleep(0.5)
    kids = descendants(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = time.time()
    while alive(kids) and time.time() - killed_at < 2.0:
        time.sleep(0.05)
    left = alive(kids)
    for pid in left:  # do not leave them running whatever the outcome
        os.kill(pid, signal.SIGKILL)
    assert not left, f"{len(left)} of {len(kids)} task processes outlived the killed worker by 2 s"
    assert not (tmp_path / "clean" / DATE / "_SUCCESS.json").exists()
