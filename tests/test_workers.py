"""Crash safety (a real SIGKILL) and a real central scheduler with two worker processes."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).parents[1]
BIN = Path(sys.executable).parent
DATE = "2026-11-22"
TOWNS = ["Ashford", "Belmont", "Carver", "Dunmore", "Elton", "Fairview", "Glenwood", "Hartley", "Irvine", "Jasper"]


def article(n: int) -> str:
    town = TOWNS[n % 10]
    paras = [
        f"Officials in {town} said on Monday that the repair programme number {n} would start next month.",
        f"The council in {town} approved the plan after residents complained about flooding on {n % 28 + 1} streets.",
        "Engineers will replace drains, resurface roads and add cycle lanes where the streets are wide enough.",
        f"The work in {town} is expected to take {n % 9 + 2} months and cost less than the council first feared.",
    ] * 3
    return "Share\nAdvertisement\n" + "\n".join(paras) + "\nRead more\n"


def make_partition(root: Path, docs: int) -> None:
    shutil.copy(REPO / "luigi.cfg", root / "luigi.cfg")
    day = root / "raw" / DATE
    day.mkdir(parents=True)
    for n in range(docs):
        (day / f"a{n:04d}.txt").write_text(article(n), encoding="utf-8")


def luigi_args(*extra: str) -> list[str]:
    return [str(BIN / "luigi"), "--module", "tasks", "CleanPartition", "--date", DATE, "--no-lock", *extra]


def env() -> dict:
    return dict(os.environ, PYTHONPATH=str(REPO))


def read_records(root: Path) -> list[dict]:
    out = root / "clean" / DATE
    return [json.loads(l) for p in sorted(out.glob("part-*.jsonl")) for l in p.open(encoding="utf-8")]


def test_sigkill_half_way_then_rerun_completes_exactly_once(tmp_path: Path):
    make_partition(tmp_path, 240)
    args = luigi_args("--local-scheduler", "--decruft-shard-max-files", "20")
    proc = subprocess.Popen(args, cwd=tmp_path, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = tmp_path / "clean" / DATE
    deadline = time.time() + 120
    while time.time() < deadline and len(list(out.glob("_shards/*.stats.json"))) < 3:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # its cleaning child notices the parent is gone and exits too: nothing is left running
    deadline = time.time() + 15
    while time.time() < deadline and processes_in(tmp_path):
        time.sleep(0.1)
    assert not processes_in(tmp_path)
    done_before = len(list(out.glob("_shards/*.stats.json")))  # a shard's last write: it is complete
    assert 3 <= done_before < 12, "the kill did not land half way"
    assert not (out / "_SUCCESS.json").exists()

    rerun = subprocess.run(args, cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert len(re.findall(r"done\s+CleanShard\(", rerun.stderr)) == 12 - done_before  # only the missing shards
    records = read_records(tmp_path)
    ids = [r["id"] for r in records]
    assert sorted(ids) == [f"a{n:04d}.txt" for n in range(240)]  # each document exactly once
    summary = json.loads((out / "_SUCCESS.json").read_text())
    assert summary["inputs"] == summary["cleaned"] == 240
    assert not list(out.rglob("*luigi-tmp*"))


def processes_in(folder: Path) -> list[int]:
    """Pids of live processes whose working directory is ``folder``."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if Path(os.readlink(proc / "cwd")) == folder and "Z" not in (proc / "stat").read_text().split()[2]:
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def luigid(tmp_path: Path):
    port = free_port()
    proc = subprocess.Popen([str(BIN / "luigid"), "--port", str(port), "--address", "127.0.0.1",
                             "--state-path", str(tmp_path / "luigid.state"), "--logdir", str(tmp_path)],
                            cwd=tmp_path, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("luigid did not start")
    yield port
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_two_worker_processes_share_a_central_scheduler(tmp_path: Path, luigid: int):
    make_partition(tmp_path, 80)
    args = luigi_args("--scheduler-host", "127.0.0.1", "--scheduler-port", str(luigid), "--workers", "2",
                      "--decruft-shard-max-files", "5")
    procs = [subprocess.Popen(args, cwd=tmp_path, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    logs = [p.communicate(timeout=600) for p in procs]
    for proc, (_, err) in zip(procs, logs):
        assert proc.returncode == 0, err[-3000:]
    runs = [len(re.findall(r"done\s+CleanShard\(", err)) for _, err in logs]
    assert sum(runs) == 16  # every shard ran exactly once, across both processes
    partition_runs = sum(len(re.findall(r"done\s+CleanPartition\(", err)) for _, err in logs)
    assert partition_runs == 1
    assert sorted(r["id"] for r in read_records(tmp_path)) == [f"a{n:04d}.txt" for n in range(80)]
    # the scheduler's page shows each shard's status message and progress
    query = urllib.parse.quote(json.dumps({"status": "DONE", "upstream_status": "", "search": "CleanShard"}))
    with urllib.request.urlopen(f"http://127.0.0.1:{luigid}/api/task_list?data={query}", timeout=10) as resp:
        tasks = json.load(resp)["response"]
    assert len(tasks) == 16
    assert all(t["status_message"] == "5 cleaned, 0 rejected" and t["progress_percentage"] == 100
               for t in tasks.values())
