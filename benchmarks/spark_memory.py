"""Peak memory of one Spark executor (its JVM and every Python process under it) cleaning a day.

Starts a Spark standalone master and one worker on 127.0.0.1 with README's commands ("Beyond
one machine": ``--cores 2 --memory 2g``; ``--cores`` here), generates a day of ``--mb`` MB of
dev-corpus dumps (copied round-robin), and runs ``decruft run DATE --engine spark --master
spark://…`` with luigi.cfg's ``[spark]`` settings (``executor_memory`` 1g). Every 0.2 s it reads
the executor's process tree (the ``CoarseGrainedExecutorBackend`` JVM, the PySpark daemon, its
Python workers and their cleaning children) from /proc and keeps the peaks of

  rss   the sum of the processes' resident sets (counts pages that forked children share with
        their parent once per process: an upper bound)
  pss   the sum of their proportional set sizes (shared pages split between the processes that
        share them: what the tree costs the machine)

and of the JVM alone. Target: one executor ≤ 1 GB. Prints the figures and the settings used.

    .venv/bin/python benchmarks/spark_memory.py [--mb 256] [--cores 2] [--corpus ../shared/corpus/dev]
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "dev"
DATE = "2026-01-01"
MB = 2**20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_day(root: Path, corpus: Path, mb: int) -> tuple[int, int]:
    """``mb`` MB of dev dumps as one .txt file each under raw/DATE; returns (files, bytes)."""
    day = root / "raw" / DATE
    day.mkdir(parents=True)
    dumps = [(p, p.read_bytes()) for p in sorted(corpus.glob("*/dump.txt"))]
    if not dumps:
        raise SystemExit(f"no */dump.txt under {corpus}: give --corpus")
    n = size = 0
    while size < mb * MB:
        src, data = dumps[n % len(dumps)]
        (day / f"{n:06d}-{src.parent.name[:12]}.txt").write_bytes(data)
        n, size = n + 1, size + len(data)
    shutil.copy(REPO / "luigi.cfg", root / "luigi.cfg")
    return n, size


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(entry))
    return kids


def _kb(path: str, field: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def executor_tree() -> list[int]:
    """The executor JVM's pid and its descendants' (none while no executor runs)."""
    roots = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if b"CoarseGrainedExecutorBackend" in cmd:
                roots.append(int(entry))
    kids, tree = _children(), []
    while roots:
        pid = roots.pop()
        tree.append(pid)
        roots.extend(kids.get(pid, []))
    return tree


class Sampler(threading.Thread):
    """Peaks of the executor tree's summed RSS and PSS, and of its JVM's RSS (kB)."""

    def __init__(self, every: float = 0.2):
        super().__init__(daemon=True)
        self.every, self.stop = every, threading.Event()
        self.rss = self.pss = self.jvm = self.processes = self.samples = 0

    def run(self) -> None:
        while not self.stop.is_set():
            tree = executor_tree()
            if tree:
                rss = [_kb(f"/proc/{p}/status", "VmRSS:") for p in tree]
                pss = sum(_kb(f"/proc/{p}/smaps_rollup", "Pss:") for p in tree)
                self.samples += 1
                self.rss, self.pss = max(self.rss, sum(rss)), max(self.pss, pss)
                self.jvm, self.processes = max(self.jvm, rss[0]), max(self.processes, len(tree))
            self.stop.wait(self.every)


def start(cmd: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)


def wait_for(text: str, log: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{log.name}: no {text!r}; see {log}")
        time.sleep(0.3)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=int, default=256, help="size of the day in MB")
    ap.add_argument("--cores", type=int, default=2, help="the worker's --cores (README: 2)")
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = ap.parse_args()
    sys.path.insert(0, str(REPO))
    from tasks.spark import spark_home

    home = spark_home()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files, size = make_day(root, args.corpus, args.mb)
        port = free_port()
        env = dict(os.environ, SPARK_HOME=home, SPARK_LOCAL_IP="127.0.0.1", SPARK_NO_DAEMONIZE="1",
                   SPARK_LOG_DIR=str(root / "logs"), PYTHONPATH=str(REPO))
        cls = f"{home}/bin/spark-class"
        master = start([cls, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
                        "--webui-port", str(free_port())], env, root / "master.log")
        procs = [master]
        try:
            wait_for("I have been elected leader", root / "master.log", master)
            worker = start([cls, "org.apache.spark.deploy.worker.Worker", f"spark://127.0.0.1:{port}", "--host",
                            "127.0.0.1", "--cores", str(args.cores), "--memory", "2g", "--work-dir",
                            str(root / "work"), "--webui-port", str(free_port())], env, root / "worker.log")
            procs.append(worker)
            wait_for("Successfully registered with master", root / "worker.log", worker)
            print(f"# {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
                  f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC; a day of {files:,} dumps, "
                  f"{size / MB:.0f} MB; one worker --cores {args.cores} --memory 2g; luigi.cfg [spark]",
                  flush=True)
            sampler = Sampler()
            sampler.start()
            begin = time.perf_counter()
            res = subprocess.run([sys.executable, "-m", "tasks.cli", "run", DATE, "--no-lock", "--engine", "spark",
                                  "--master", f"spark://127.0.0.1:{port}"], cwd=root, env=env,
                                 capture_output=True, text=True)
            elapsed = time.perf_counter() - begin
            sampler.stop.set()
            sampler.join()
            if res.returncode != 0:
                raise SystemExit(f"decruft run failed ({res.returncode}):\n{res.stderr[-3000:]}")
        finally:
            for proc in reversed(procs):
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=30)
    if not sampler.samples:
        raise SystemExit("no executor process was seen")
    print(f"run      {elapsed:.0f} s, {files / elapsed:.1f} docs/s; up to {sampler.processes} processes "
          f"in the executor's tree ({sampler.samples} samples)")
    print(f"memory   executor JVM alone: peak RSS {sampler.jvm / 1024:.0f} MB")
    print(f"         executor tree: peak summed RSS {sampler.rss / 1024:.0f} MB (upper bound), "
          f"peak summed PSS {sampler.pss / 1024:.0f} MB")
    verdict = "met" if sampler.pss <= 1024 * 1024 else "NOT met"
    print(f"         target one executor <= 1 GB (PSS): {verdict}"
          f"{'' if sampler.rss <= 1024 * 1024 else '; summed RSS above 1 GB'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
