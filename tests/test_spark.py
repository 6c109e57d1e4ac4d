"""SparkCleanPartition on a real Spark standalone cluster (a master and workers started here, on loopback).

Needs Java and pyspark (``decruft[spark]``). Without them the tests skip, saying which is missing;
with ``DECRUFT_REQUIRE_JAVA=1`` (set by ``.ci/run``) they fail instead. Nothing here runs Spark in
``local[*]``: every job goes to the cluster, and each test checks that the cluster's workers ran it.
"""
from __future__ import annotations

import gzip
import importlib.util
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).parents[1]
DATE = "2026-11-25"
TOWNS = ["Ashford", "Belmont", "Carver", "Dunmore", "Elton", "Fairview", "Glenwood", "Hartley"]


def article(n: int) -> str:
    town = TOWNS[n % len(TOWNS)]
    return (f"Subscribe to the {TOWNS[0]} Gazette newsletter\nHome | World | Sport\n"
            f"Officials in {town} said on Monday that the repair programme number {n} would start next month.\n"
            f"The council in {town} approved the plan after residents complained about flooding on {n % 28 + 1} "
            "streets.\nEngineers will replace drains, resurface roads and add cycle lanes where the streets are "
            f"wide enough.\nThe work in {town} is expected to take {n % 9 + 2} months and cost less than feared.\n"
            "© 2026 Gazette Media. All rights reserved.\n")


def page(n: int) -> str:
    paras = "".join(f"<p>{article(n).splitlines()[k]} Paragraph {k} adds that freight kept growing.</p>"
                    for k in range(2, 5))
    return (f"<!DOCTYPE html><html><head><title>Harbour {n}</title></head><body><nav><a href='/'>Home</a></nav>"
            f"<article><h1>Harbour report {n}</h1>{paras}</article><footer>Contact us</footer></body></html>")


def write_warc(path: Path, pages: list[tuple[str, str]]) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=True)
        for url, html in pages:
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            w.write_record(w.create_warc_record(url, "response", payload=io.BytesIO(html.encode()), http_headers=http))


def make_day(raw_root: Path, docs: int = 16) -> Path:
    """A small day of every input kind: text files of one site (learned boilerplate), JSONL with
    repeated ids across files, a WARC, and bad documents (each must end in the rejects)."""
    day = raw_root / DATE
    (day / "gazette").mkdir(parents=True)
    for n in range(docs):
        (day / "gazette" / f"a{n:03d}.txt").write_text(article(n), encoding="utf-8")
    rows = [{"id": f"j{n}", "url": f"https://news.example.org/j{n}", "text": article(100 + n)} for n in range(6)]
    rows.append({"id": "j0", "text": article(200)})  # the same id again, in the same file
    with gzip.open(day / "crawl.jsonl.gz", "wt", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")
        fh.write("{not json\n")
        fh.write('{"id": "no-text", "url": "https://news.example.org/x"}\n')
    (day / "more.jsonl").write_text(json.dumps({"id": "j1", "text": article(300)}) + "\n", encoding="utf-8")
    write_warc(day / "pages.warc.gz", [(f"https://harbour.example.com/p{n}", page(n)) for n in range(3)])
    (day / "empty.txt").write_bytes(b"")
    (day / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (day / "report.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    return day


# ----------------------------------------------------------------------------------- the cluster

def java_missing() -> str | None:
    """Why Spark cannot run here, or None."""
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install -e '.[spark]')"
    java = shutil.which("java") or (os.environ.get("JAVA_HOME") and shutil.which(Path(os.environ["JAVA_HOME"]) / "bin" / "java"))
    if not java:
        return "no Java runtime (java not on PATH; on Debian: apt-get install openjdk-17-jre-headless)"
    try:
        subprocess.run([str(java), "-version"], capture_output=True, timeout=60, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"java -version failed: {exc}"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"{what}: the process ended with {proc.returncode}")
        time.sleep(0.2)
    pytest.fail(f"{what}: not within {timeout:.0f} s")


def readme_commands() -> list[list[str]]:
    """The commands of README's one-machine cluster block (master, worker, decruft run), as words."""
    import shlex

    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = text[text.index("On one machine, a standalone cluster"):]
    block = block[block.index("```sh\n") + 6:]
    block = block[:block.index("```")]
    lines = [l for l in block.splitlines() if l.strip() and not l.startswith("SPARK_HOME=")]
    assert len(lines) == 3, lines
    return [shlex.split(l.rstrip(" &")) for l in lines]


def as_run(words: list[str], home: str, port: int) -> list[str]:
    """README's words with this Spark, this Python and the test cluster's port."""
    words = [w.replace("$SPARK_HOME", home).replace(":7077", f":{port}") for w in words]
    if words[0].endswith("bin/decruft"):
        words = [sys.executable, "-m", "tasks.cli", *words[1:]]
    return [str(port) if prev == "--port" else w for prev, w in zip([None, *words], words)]


class Cluster:
    """A Spark standalone master and its workers, started with README's ``spark-class`` commands
    (on a free port, with a web UI port and work folder of their own), on 127.0.0.1."""

    def __init__(self, folder: Path):
        from tasks.spark import spark_home

        self.folder, self.home = folder, spark_home()
        self.port = free_port()
        self.url = f"spark://127.0.0.1:{self.port}"
        self.env = dict(os.environ, SPARK_HOME=self.home, SPARK_LOCAL_IP="127.0.0.1", SPARK_DAEMON_MEMORY="192m",
                        SPARK_NO_DAEMONIZE="1", SPARK_LOG_DIR=str(folder / "logs"),
                        SPARK_MASTER_OPTS="-Dspark.deploy.maxExecutorRetries=20")
        self.procs: list[subprocess.Popen] = []
        self.workers: dict[str, tuple[subprocess.Popen, Path]] = {}
        self.master_cmd, self.worker_cmd, self.run_cmd = (as_run(c, self.home, self.port) for c in readme_commands())
        assert self.master_cmd[1] == "org.apache.spark.deploy.master.Master"
        assert self.worker_cmd[1] == "org.apache.spark.deploy.worker.Worker"
        self.master = self._start("master", *self.master_cmd, "--webui-port", str(free_port()))
        wait_for(lambda: "I have been elected leader" in self.log("master"), 120, "Spark master", self.master)

    def _start(self, name: str, *command: str) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "wb")
        proc = subprocess.Popen(["nice", "-n", "5", *command],
                                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.procs.append(proc)
        return proc

    def log(self, name: str) -> str:
        try:
            return (self.folder / f"{name}.log").read_text(errors="replace")
        except OSError:
            return ""

    def start_worker(self, name: str) -> Path:
        work = self.folder / name
        work.mkdir()
        proc = self._start(name, *self.worker_cmd, "--work-dir", str(work), "--webui-port", str(free_port()))
        self.workers[name] = (proc, work)
        wait_for(lambda: "Successfully registered with master" in self.log(name), 120, f"Spark worker {name}", proc)
        return work

    def kill_worker(self, name: str) -> None:
        """SIGKILL the worker's JVM and every process it started (its executors and their Python)."""
        proc, _ = self.workers.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)  # its own session (start_new_session): only what it started
        proc.wait(timeout=30)

    def apps(self) -> list[str]:
        """Applications that had executors on any of the workers ever started."""
        return sorted({p.name for p in self.folder.glob("*/app-*")})

    def apps_run_on(self, name: str) -> list[str]:
        """Applications that had an executor on worker ``name`` (its work folder gets app-*/N/)."""
        work = self.folder / name
        return sorted(p.name for p in work.glob("app-*")) if work.is_dir() else []

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    why = java_missing()
    if why:
        if os.environ.get("DECRUFT_REQUIRE_JAVA") == "1":
            pytest.fail(f"DECRUFT_REQUIRE_JAVA=1 but Spark cannot run: {why}")
        pytest.skip(f"Spark tests need Java and pyspark: {why}")
    c = Cluster(tmp_path_factory.mktemp("spark"))
    try:
        c.start_worker("worker-a")
        yield c
    finally:
        c.stop()


# ------------------------------------------------------------------------------ running the tasks

@pytest.fixture()
def settings(tmp_path: Path, monkeypatch):
    """luigi.cfg values for one test (restored after), with raw_root/clean_root under tmp_path."""
    import luigi
    from luigi.task_register import Register

    monkeypatch.setenv("SPARK_LOCAL_IP", "127.0.0.1")
    config = luigi.configuration.get_config()
    saved: list[tuple[str, str, str | None]] = []

    def put(section: str, key: str, value: str) -> None:
        old = config.get(section, key, None) if config.has_section(section) else None
        saved.append((section, key, old))
        if not config.has_section(section):
            config.add_section(section)
        config.set(section, key, value)
        Register.clear_instance_cache()  # luigi.Config objects are cached with the values they read

    put("decruft", "raw_root", str(tmp_path / "raw"))
    put("decruft", "clean_root", str(tmp_path / "clean"))
    put("spark", "executor_memory", "512m")
    put("spark", "driver_memory", "512m")
    put("spark", "partitions", "4")
    put("spark", "conf", "spark.driver.host=127.0.0.1|spark.driver.bindAddress=127.0.0.1|spark.ui.enabled=false")
    yield put
    for section, key, old in reversed(saved):
        if old is None:
            config.remove_option(section, key)
        else:
            config.set(section, key, old)
    Register.clear_instance_cache()


def build(task) -> bool:
    import luigi

    return luigi.build([task], local_scheduler=True, workers=1, log_level="WARNING")


def partition(out: Path, fmt: str) -> tuple[list[dict], list[dict], dict]:
    from pipeline.writers import FORMAT_SUFFIX, iter_records

    records = [r for p in sorted(out.glob(f"part-*{FORMAT_SUFFIX[fmt]}")) for r in iter_records(fmt, p)]
    rejects = [json.loads(l) for l in (out / "_rejects.jsonl").read_text(encoding="utf-8").splitlines()]
    return records, rejects, json.loads((out / "_SUCCESS.json").read_text(encoding="utf-8"))


def reference(tmp_path: Path, settings, fmt: str) -> tuple[list[dict], list[dict], dict]:
    """CleanPartition's partition of the same raw folder, in tmp_path/reference."""
    from tasks import CleanPartition

    settings("decruft", "clean_root", str(tmp_path / "reference"))
    assert build(CleanPartition(date=_date()))
    return partition(tmp_path / "reference" / DATE, fmt)


def _date():
    import datetime as dt

    return dt.date.fromisoformat(DATE)


COUNTS = ("inputs", "cleaned", "rejected", "rejected_by_reason", "removed_by_reason", "capped", "langs",
          "skipped", "input_files", "output_format")


def check_equal_partitions(cluster: Cluster, tmp_path: Path, settings, fmt: str) -> Path:
    """SparkCleanPartition on the cluster and CleanPartition give the same partition of one day."""
    from tasks import SparkCleanPartition

    make_day(tmp_path / "raw")
    settings("decruft", "output_format", fmt)
    want_records, want_rejects, want = reference(tmp_path, settings, fmt)
    settings("decruft", "clean_root", str(tmp_path / "clean"))
    settings("spark", "master", cluster.url)
    apps_before = cluster.apps()
    assert build(SparkCleanPartition(date=_date()))
    assert len(cluster.apps()) == len(apps_before) + 1  # ran on the cluster's workers, not in local mode

    out = tmp_path / "clean" / DATE
    records, rejects, summary = partition(out, fmt)
    assert summary["shards"] == 4 and len(list(out.glob("part-*"))) == 4
    assert [r["id"] for r in records] == [r["id"] for r in want_records]
    assert [r["text"] for r in records] == [r["text"] for r in want_records]
    assert records == want_records and rejects == want_rejects
    assert {k: summary[k] for k in COUNTS} == {k: want[k] for k in COUNTS}
    # the ids repeated across files and shards were made unique as CleanPartition makes them
    assert {"j0", "j0~2", "j1", "j1~2"} <= {r["id"] for r in records}
    # the distributed site-profile count learnt what one pass learns, and it was used
    profile = json.loads((out / "_site_profiles.json").read_text())
    assert profile == json.loads((tmp_path / "reference" / DATE / "_site_profiles.json").read_text())
    assert "subscribe to the ashford gazette newsletter" in {l["key"] for l in profile["sites"]["gazette"]["lines"]}
    assert all("Subscribe" not in r["text"] for r in records if r["id"].startswith("gazette/"))
    # every document accounted for: the bad ones are rejects with their reasons, nothing failed the job
    assert summary["inputs"] == summary["cleaned"] + summary["rejected"] == len(records) + len(rejects)
    reasons = {r["id"]: r["reason"] for r in rejects}
    assert reasons["empty.txt"] == "empty" and reasons["binary.txt"] == "binary"
    assert reasons["report.pdf"] == "unsupported_format" and reasons["crawl.jsonl.gz#7"] == "malformed_json"
    assert reasons["no-text"] == "missing_text"
    assert sum(r["id"].startswith("pages.warc.gz#") for r in records) == 3
    assert "<html" in (out / "_report.html").read_text().lower()
    # complete now, in the Spark task's eyes and CleanPartition's: a rerun does nothing
    assert SparkCleanPartition(date=_date()).complete()
    assert not list(out.rglob("*.tmp")) and not list(out.rglob("*-luigi-tmp-*"))
    return out


def test_spark_partition_equals_clean_partition(cluster: Cluster, tmp_path: Path, settings):
    check_equal_partitions(cluster, tmp_path, settings, "jsonl")


def test_worker_killed_mid_job_loses_nothing(cluster: Cluster, tmp_path: Path, settings):
    """The only worker is SIGKILLed (with its executor) once the first shard is written; a new
    worker joins, Spark runs the lost tasks again there, and every document is in the
    partition once — exactly CleanPartition's partition (in Parquet: another output format)."""
    from tasks import SparkCleanPartition

    make_day(tmp_path / "raw", docs=24)
    settings("decruft", "output_format", "parquet")
    want_records, want_rejects, want = reference(tmp_path, settings, "parquet")
    settings("decruft", "clean_root", str(tmp_path / "clean"))
    settings("spark", "master", cluster.url)
    settings("spark", "partitions", "8")
    shards = tmp_path / "clean" / DATE / "_shards"
    happened: list[str] = []

    def kill_after_first_shard():
        deadline = time.time() + 240
        while time.time() < deadline and not list(shards.glob("part-*.stats.json")):
            time.sleep(0.05)
        done = len(list(shards.glob("part-*.stats.json")))
        cluster.kill_worker("worker-a")
        happened.append(f"killed worker-a with {done} of 8 shards written")
        cluster.start_worker("worker-b")
        happened.append("worker-b joined")

    killer = threading.Thread(target=kill_after_first_shard)
    killer.start()
    try:
        ok = build(SparkCleanPartition(date=_date()))
    finally:
        killer.join()
    assert happened and happened[0].startswith("killed") and not happened[0].endswith(" 8 of 8 shards written")
    assert ok, happened
    assert cluster.apps_run_on("worker-b"), "worker-b ran none of the job"
    records, rejects, summary = partition(tmp_path / "clean" / DATE, "parquet")
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)) == want["cleaned"]
    assert records == want_records and rejects == want_rejects
    assert {k: summary[k] for k in COUNTS} == {k: want[k] for k in COUNTS}
    out = tmp_path / "clean" / DATE  # what the killed executor was writing is gone
    assert not list(out.rglob("*.tmp")) and not list(out.rglob("*-luigi-tmp-*"))


def test_run_engine_spark_needs_a_master_and_says_so(tmp_path: Path):
    """``--master`` belongs to ``--engine spark``; no Spark master configured: the task fails saying how to set one."""
    res = subprocess.run([sys.executable, "-m", "tasks.cli", "run", DATE, "--master", "local[1]"], cwd=tmp_path,
                         capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=120)
    assert res.returncode == 2 and "--master URL is for --engine spark" in res.stderr
    from tasks import SparkCleanPartition

    with pytest.raises(RuntimeError, match=r"needs a Spark master.*--engine spark --master URL"):
        SparkCleanPartition(date=_date()).master


def test_partitions_are_runs_of_consecutive_files_of_about_equal_bytes(tmp_path: Path):
    from tasks.spark import plan_partitions

    files = []
    for n, size in enumerate([100, 100, 100, 100, 400, 100, 100, 100, 100, 800, 1, 1]):
        files.append(tmp_path / f"f{n:02d}")
        files[-1].write_bytes(b"x" * size)
    groups = plan_partitions(files, 4)
    assert [p for g in groups for p in g] == files  # every file once, in order
    assert len(groups) == 4 and max(sum(p.stat().st_size for p in g) for g in groups) <= 900
    equal = files[:4] + files[5:9]
    assert [len(g) for g in plan_partitions(equal, 4)] == [2, 2, 2, 2]
    assert plan_partitions(files[:3], 8) == [[f] for f in files[:3]]  # never an empty partition
    assert len(plan_partitions(files, 0)) == 8  # by default min(8, files) for a small day
    assert plan_partitions([], 4) == []


def test_readme_decruft_run_on_the_cluster(cluster: Cluster, tmp_path: Path):
    """README's ``decruft run … --engine spark --master spark://127.0.0.1:7077`` (the port: the
    test cluster's), in a folder with luigi.cfg and raw/<date>/: exit 0, the day complete."""
    assert cluster.run_cmd[3:] == ["run", "2026-11-24", "--engine", "spark", "--master", cluster.url]
    shutil.copy(REPO / "luigi.cfg", tmp_path / "luigi.cfg")
    shutil.copytree(REPO / "raw" / "2026-11-24", tmp_path / "raw" / "2026-11-24")
    apps_before = cluster.apps()
    env = dict(os.environ, PYTHONPATH=str(REPO), SPARK_LOCAL_IP="127.0.0.1")
    res = subprocess.run(cluster.run_cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "1 of 1 day complete" in res.stderr
    assert len(cluster.apps()) == len(apps_before) + 1
    summary = json.loads((tmp_path / "clean" / "2026-11-24" / "_SUCCESS.json").read_text())
    assert summary["inputs"] == summary["cleaned"] + summary["rejected"] > 0
    assert summary["cleaned"] == sum(1 for p in (tmp_path / "clean" / "2026-11-24").glob("part-*.jsonl")
                                     for _ in p.open(encoding="utf-8"))
