"""Partitions and the CLI on S3: moto's standalone server on loopback, reached as AWS would be.

The code under test is told nothing but what a user's environment tells it: ``AWS_ENDPOINT_URL``
and credentials in environment variables (no luigi.cfg entry, no test hook). Skipped when
moto's server or s3fs is not installed (``pip install -c constraints.txt -e '.[test,s3]'``).
"""
from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("s3fs", reason="s3fs not installed: pip install -c constraints.txt -e '.[s3]'")
pytest.importorskip("moto.server", reason="moto's server not installed: pip install -c constraints.txt 'moto[server]'")
boto3 = pytest.importorskip("boto3", reason="boto3 (moto's dependency) not installed")

REPO = Path(__file__).parents[1]
DATE = "2026-11-24"
BUCKET = "crawl"
ARTICLE = (
    "Share\nTweet\n"
    "The harbour authority said on Monday that container traffic rose by a fifth in {month}, "
    "the strongest month since the port reopened after the storm.\n"
    "Officials credited a new rail link that lets freight leave the docks without crossing the city centre.\n"
    "Advertisement\n"
)
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    """moto's S3 server on 127.0.0.1 (a free port), stopped after the module's tests."""
    port = _free_port()
    log = open(tmp_path_factory.mktemp("moto") / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=2).read()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"moto server did not start (exit {proc.poll()}); see {log.name}")
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


@pytest.fixture()
def aws_env(s3_server, tmp_path, monkeypatch):
    """The environment a user on S3 has (endpoint, credentials), an empty bucket, and the same
    variables for child processes. No AWS config file of the machine is read."""
    env = {
        "AWS_ENDPOINT_URL": s3_server,
        "AWS_ACCESS_KEY_ID": "decruft-test",
        "AWS_SECRET_ACCESS_KEY": "decruft-test-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(key, raising=False)
    urllib.request.urlopen(urllib.request.Request(s3_server + "/moto-api/reset", method="POST")).read()
    client = boto3.client("s3", endpoint_url=s3_server)
    client.create_bucket(Bucket=BUCKET)
    return client


def make_day(folder: Path) -> None:
    """A day of inputs: plain text, JSONL (repeated ids), gzip JSONL, and inputs that are rejected."""
    (folder / "sub dir").mkdir(parents=True)
    for n, month in enumerate(MONTHS[:6]):
        (folder / f"harbour-{n}.txt").write_text(ARTICLE.format(month=month), encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "report.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    (folder / "_READY").write_text("")
    with gzip.open(folder / "sub dir" / "crawl é.jsonl.gz", "wt", encoding="utf-8") as fh:
        for month in MONTHS[6:]:
            fh.write(json.dumps({"id": "a1", "url": "https://example.org/a1", "text": ARTICLE.format(month=month)}) + "\n")
        fh.write("{not json\n")
    (folder / "more.jsonl").write_text(json.dumps({"id": "a1", "text": ARTICLE.format(month="May")}) + "\n")


def upload_tree(client, local: Path, prefix: str) -> None:
    for path in sorted(local.rglob("*")):
        if path.is_file():
            client.upload_file(str(path), BUCKET, f"{prefix}/{path.relative_to(local).as_posix()}")


def uploaded_day(client, tmp_path: Path) -> Path:
    """``make_day`` under ``tmp_path/raw/DATE``, uploaded to ``s3://BUCKET/raw``; returns the local raw root."""
    raw = tmp_path / "raw"
    make_day(raw / DATE)
    upload_tree(client, raw, "raw")
    return raw


def keys(client, prefix: str) -> dict[str, dict]:
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        for obj in page.get("Contents", []):
            found[obj["Key"][len(prefix):].lstrip("/")] = obj
    return found


def get(client, key: str) -> bytes:
    return client.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def s3_partition(client, prefix: str):
    """Records (in part order), rejects and _SUCCESS.json of a partition on S3."""
    names = keys(client, prefix)
    parts = sorted(n for n in names if n.startswith("part-"))
    records = []
    for part in parts:
        data = get(client, f"{prefix}/{part}")
        if part.endswith(".gz"):
            data = gzip.decompress(data)
        records.extend(json.loads(line) for line in data.decode().splitlines())
    rejects = [json.loads(line) for line in get(client, f"{prefix}/_rejects.jsonl").decode().splitlines()]
    return records, rejects, json.loads(get(client, f"{prefix}/_SUCCESS.json")), parts


def local_partition(folder: Path):
    records = [json.loads(line) for p in sorted(folder.glob("part-*.jsonl")) for line in p.read_text().splitlines()]
    rejects = [json.loads(line) for line in (folder / "_rejects.jsonl").read_text().splitlines()]
    return records, rejects, json.loads((folder / "_SUCCESS.json").read_text())


def build(raw_root: str, clean_root: str, **settings) -> tuple[bool, list[str]]:
    """CleanPartition for DATE through a real Luigi build (local scheduler, one worker, in this
    process). Returns the result and the task families that ran."""
    import luigi
    import luigi.configuration

    from tasks.clean import CleanPartition

    cfg = luigi.configuration.get_config()
    ran: list[str] = []

    def record(task):
        ran.append(task.get_task_family())

    values = {"raw_root": raw_root, "clean_root": clean_root, "shard_max_files": "3", **settings}
    for key, value in values.items():
        cfg.set("decruft", key, str(value))
    luigi.Task.event_handler(luigi.Event.SUCCESS)(record)
    try:
        ok = luigi.build([CleanPartition(date=__import__("datetime").date.fromisoformat(DATE))],
                         local_scheduler=True, workers=1, log_level="WARNING")
    finally:
        luigi.Task._event_callbacks[luigi.Task][luigi.Event.SUCCESS].discard(record)
        for key in values:
            cfg.remove_option("decruft", key)
    return ok, ran


@pytest.fixture()
def luigi_cfg(monkeypatch):
    """The repository's luigi.cfg as the configuration (as `luigi` run in the repo reads it)."""
    import luigi.configuration

    monkeypatch.chdir(REPO)
    cfg = luigi.configuration.get_config()
    cfg.reload()
    if not cfg.has_section("decruft"):
        cfg.add_section("decruft")
    return cfg


def test_partition_from_s3_to_s3_equals_the_local_one(aws_env, luigi_cfg, tmp_path):
    raw = uploaded_day(aws_env, tmp_path)
    ok, ran = build(f"s3://{BUCKET}/raw", f"s3://{BUCKET}/clean/")
    assert ok and ran.count("CleanShard") == 4 and ran[-1] == "CleanPartition"
    records, rejects, summary, parts = s3_partition(aws_env, f"clean/{DATE}")

    ok, _ = build(str(raw), str(tmp_path / "clean"))
    assert ok
    local_records, local_rejects, local_summary = local_partition(tmp_path / "clean" / DATE)
    # the same documents, ids, texts and counts as from local disk; sources name the objects
    assert parts == [f"part-{i:05d}.jsonl" for i in range(4)]  # 10 files, 3 per shard
    assert [(r["id"], r["text"]) for r in records] == [(r["id"], r["text"]) for r in local_records]
    assert sorted(r["id"] for r in records)[:4] == ["a1", "a1~2", "a1~3", "a1~4"]
    assert [(r["id"], r["reason"]) for r in rejects] == [(r["id"], r["reason"]) for r in local_rejects]
    assert {r["source"] for r in records} >= {f"s3://{BUCKET}/raw/{DATE}/harbour-0.txt",
                                              f"s3://{BUCKET}/raw/{DATE}/more.jsonl"}
    for key in ("inputs", "cleaned", "rejected", "rejected_by_reason", "langs", "shards", "output_format"):
        assert summary[key] == local_summary[key], key
    assert summary["cleaned"] == 11 and summary["inputs"] == summary["cleaned"] + summary["rejected"]
    assert [e["name"] for e in summary["input_files"]] == [e["name"] for e in local_summary["input_files"]]
    assert all(e["size"] > 0 or e["name"] == "empty.txt" for e in summary["input_files"])
    assert summary["raw_dir"] == f"s3://{BUCKET}/raw/{DATE}"
    # the report and the site profile are there too; nothing temporary was left in the bucket
    names = keys(aws_env, f"clean/{DATE}")
    assert b"decruft audit report" in get(aws_env, f"clean/{DATE}/_report.html")
    assert "_site_profiles.json" in names and "_shards/part-00002.stats.json" in names
    assert not [n for n in names if "tmp" in n]

    # complete: a second build runs nothing
    ok, ran = build(f"s3://{BUCKET}/raw", f"s3://{BUCKET}/clean")
    assert ok and ran == []


def test_rerun_after_a_kill_finishes_only_what_is_missing(aws_env, luigi_cfg, tmp_path):
    uploaded_day(aws_env, tmp_path)
    ok, _ = build(f"s3://{BUCKET}/raw", f"s3://{BUCKET}/clean", output_format="jsonl.gz")
    assert ok
    before, _, summary, _ = s3_partition(aws_env, f"clean/{DATE}")
    # as a kill leaves it: one shard's part and counts never written, no _SUCCESS.json
    for key in (f"clean/{DATE}/part-00001.jsonl.gz", f"clean/{DATE}/_shards/part-00001.stats.json",
                f"clean/{DATE}/_SUCCESS.json"):
        aws_env.delete_object(Bucket=BUCKET, Key=key)
    kept = keys(aws_env, f"clean/{DATE}")["part-00000.jsonl.gz"]["ETag"]
    ok, ran = build(f"s3://{BUCKET}/raw", f"s3://{BUCKET}/clean", output_format="jsonl.gz")
    assert ok and ran == ["CleanShard", "CleanPartition"]  # one shard cleaned again, nothing else
    after, rejects, again, parts = s3_partition(aws_env, f"clean/{DATE}")
    assert len(parts) == 4 and keys(aws_env, f"clean/{DATE}")["part-00000.jsonl.gz"]["ETag"] == kept
    ids = [r["id"] for r in after]
    assert len(ids) == len(set(ids)) == again["cleaned"] == summary["cleaned"]
    assert [(r["id"], r["text"]) for r in after] == [(r["id"], r["text"]) for r in before]


def test_a_failed_shard_leaves_no_part_and_no_success(aws_env, luigi_cfg, tmp_path, monkeypatch):
    """Readers never see half a part: a shard that dies mid-way uploads nothing."""
    import tasks.clean

    uploaded_day(aws_env, tmp_path)
    real = tasks.clean.clean_units

    def dies_after_two(*args, **kwargs):
        for n, outcome in enumerate(real(*args, **kwargs)):
            if n == 2:
                raise MemoryError("killed mid-shard")
            yield outcome

    monkeypatch.setattr(tasks.clean, "clean_units", dies_after_two)
    ok, ran = build(f"s3://{BUCKET}/raw", f"s3://{BUCKET}/clean", document_timeout=0)
    assert not ok and "CleanPartition" not in ran
    names = keys(aws_env, f"clean/{DATE}")
    assert not [n for n in names if n.startswith("part-") or n.endswith((".stats.json", ".rejects.jsonl"))]
    assert "_SUCCESS.json" not in names and not [n for n in names if "tmp" in n]
    monkeypatch.setattr(tasks.clean, "clean_units", real)
    ok, ran = build(f"s3://{BUCKET}/raw", f"s3://{BUCKET}/clean", document_timeout=0)
    assert ok and ran.count("CleanShard") == 4
    records, _, summary, _ = s3_partition(aws_env, f"clean/{DATE}")
    assert len({r["id"] for r in records}) == len(records) == summary["cleaned"] == 11


def decruft(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "decruft"
    return subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))


def test_cli_clean_s3_in_s3_out(aws_env, tmp_path):
    make_day(tmp_path / "day")
    upload_tree(aws_env, tmp_path / "day", "in")
    src = f"s3://{BUCKET}/in/sub dir/crawl é.jsonl.gz"
    res = decruft("clean", src, "-o", f"s3://{BUCKET}/out/crawl.jsonl.gz", "--rejects",
                  f"s3://{BUCKET}/out/rejects.jsonl", cwd=tmp_path)
    assert res.returncode == 1, res.stderr  # one malformed line: rejected, the rest written
    assert "4 cleaned, 1 rejected (malformed_json 1)" in res.stderr
    records = [json.loads(line) for line in gzip.decompress(get(aws_env, "out/crawl.jsonl.gz")).decode().splitlines()]
    from tasks.cli import main

    assert main(["clean", str(tmp_path / "day" / "sub dir" / "crawl é.jsonl.gz"), "-o", str(tmp_path / "local.jsonl")]) == 1
    expected = [json.loads(line) for line in (tmp_path / "local.jsonl").read_text().splitlines()]
    assert [(r["id"], r["text"]) for r in records] == [(r["id"], r["text"]) for r in expected]
    assert {r["source"] for r in records} == {src}
    assert [json.loads(line)["reason"] for line in get(aws_env, "out/rejects.jsonl").decode().splitlines()] \
        == ["malformed_json"]

    # a prefix is read as a folder is: every object under it, ids relative to it, _READY skipped
    res = decruft("clean", f"s3://{BUCKET}/in", "-o", f"s3://{BUCKET}/out/all.jsonl", cwd=tmp_path)
    assert res.returncode == 1, res.stderr
    ids = [json.loads(line)["id"] for line in get(aws_env, "out/all.jsonl").decode().splitlines()]
    assert "harbour-0.txt" in ids and "a1" in ids and len(ids) == len(set(ids)) == 11

    # nothing there to read, or nowhere to write: said, and nothing written
    res = decruft("clean", f"s3://{BUCKET}/in/missing.txt", "-o", f"s3://{BUCKET}/out/x.jsonl", cwd=tmp_path)
    assert res.returncode == 1 and "cannot read s3://crawl/in/missing.txt: no such file" in res.stderr
    assert get(aws_env, "out/x.jsonl") == b""  # as on disk: the output holds what could be read
    res = decruft("clean", f"s3://{BUCKET}/in/more.jsonl", "-o", "s3://no-such-bucket/x.jsonl", cwd=tmp_path)
    assert res.returncode == 2 and "cannot write s3://no-such-bucket/x.jsonl: no bucket" in res.stderr


def test_decruft_run_on_s3_then_summary(aws_env, tmp_path):
    """`decruft run` with URL roots and two workers (forked task processes, each with its own S3
    client), in a child process that knows S3 only from its environment."""
    make_day(tmp_path / "raw" / DATE)
    upload_tree(aws_env, tmp_path / "raw", "raw")
    shutil.copy(REPO / "luigi.cfg", tmp_path / "luigi.cfg")
    res = decruft("run", DATE, "--raw-root", f"s3://{BUCKET}/raw", "--clean-root", f"s3://{BUCKET}/clean",
                  "--output-format", "parquet", "--workers", "2", "--no-lock", cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    assert f"1 of 1 day complete: 11 cleaned" in res.stderr and f"s3://{BUCKET}/clean/{DATE}/" in res.stderr
    assert {"part-00000.parquet", "_SUCCESS.json"} <= set(keys(aws_env, f"clean/{DATE}"))
    res = decruft("run", DATE, "--raw-root", f"s3://{BUCKET}/raw", "--clean-root", f"s3://{BUCKET}/clean",
                  "--output-format", "txt-dir", "--no-lock", cwd=tmp_path)
    assert res.returncode == 2 and "txt-dir" in res.stderr


def readme_commands() -> list[str]:
    """The shell commands of README's "Object storage" section, backslash continuations joined."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("### Object storage (S3, GCS)", 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        for command in block.replace("\\\n", " ").splitlines():
            command = command.split("  #", 1)[0].strip()
            if command:
                commands.append(command)
    return commands


def test_readme_object_storage_commands_run_as_written(aws_env, tmp_path):
    """Every command README gives for object storage, against the S3 server, as a user types it
    (the venv's bin for .venv/bin/, the local scheduler for SCHEDULER_HOST, no pip install)."""
    from test_warc import write_warc

    day = tmp_path / "raw" / DATE
    make_day(day)
    write_warc(day / "CC-MAIN-00000.warc.gz")
    upload_tree(aws_env, tmp_path / "raw", "raw")
    shutil.copy(REPO / "luigi.cfg", tmp_path / "luigi.cfg")
    commands = readme_commands()
    assert len(commands) == 5 and commands[0].startswith(".venv/bin/pip install")
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ, PYTHONPATH=str(REPO))
    # exit 1 for the folder: it holds inputs that are rejected (an empty file, a PDF, a bad line)
    for command, code in zip(commands[1:], [0, 1, 0, 0], strict=True):
        if "RangeDaily" in command:  # the day was cleaned above: as a kill leaves it, once more
            aws_env.delete_object(Bucket=BUCKET, Key=f"clean/{DATE}/_SUCCESS.json")
        argv = shlex.split(command.replace("--scheduler-host SCHEDULER_HOST", "--local-scheduler --no-lock"))
        argv[0] = str(bin_dir / argv[0].removeprefix(".venv/bin/"))
        res = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert res.returncode == code, (command, res.stderr[-3000:])
    warc = [json.loads(line) for line in gzip.decompress(get(aws_env, "out/00000.jsonl.gz")).decode().splitlines()]
    assert [r["url"] for r in warc] == ["https://example.org/ru", "https://example.org/en"]
    folder = [json.loads(line)["id"] for line in get(aws_env, f"out/{DATE}.jsonl").decode().splitlines()]
    assert "harbour-0.txt" in folder and "empty.txt" not in folder
    assert [json.loads(line)["id"] for line in get(aws_env, "out/rejects.jsonl").decode().splitlines()] \
        == ["empty.txt", "report.pdf", "sub dir/crawl é.jsonl.gz#4"]
    # RangeDaily (luigi.cfg's output_format, jsonl) cleaned the unfinished day again as jsonl and
    # removed the jsonl.gz parts `decruft run` had written
    summary = json.loads(get(aws_env, f"clean/{DATE}/_SUCCESS.json"))
    assert summary["output_format"] == "jsonl" and summary["cleaned"] == 13
    names = keys(aws_env, f"clean/{DATE}")
    assert "part-00000.jsonl" in names and not [n for n in names if n.endswith(".jsonl.gz")]


def test_a_listing_older_than_the_objects_is_not_what_the_outputs_record(aws_env, luigi_cfg, tmp_path, monkeypatch):
    """A listing kept from before the inputs were rewritten (the same keys, new times) must not
    make a shard that has just cleaned them look incomplete, nor be recorded as what the site
    profile and shards were made from: only a fresh listing says no, and outputs record a fresh one."""
    import tasks.clean
    import tasks.storage

    monkeypatch.setattr(tasks.storage, "LISTING_MAX_AGE", 1e9)  # the worst case: kept all run long
    raw = uploaded_day(aws_env, tmp_path)
    luigi_cfg.set("decruft", "raw_root", f"s3://{BUCKET}/raw")
    tasks.clean.day_digest(dt.date.fromisoformat(DATE))  # listed and fingerprinted now
    luigi_cfg.remove_option("decruft", "raw_root")
    time.sleep(1.1)  # S3 times are in seconds
    upload_tree(aws_env, raw, "raw")
    ok, ran = build(f"s3://{BUCKET}/raw", f"s3://{BUCKET}/clean")
    assert ok and ran.count("CleanShard") == 4 and ran[-1] == "CleanPartition"
    records, _, summary, _ = s3_partition(aws_env, f"clean/{DATE}")
    assert len(records) == summary["cleaned"] == 11
    monkeypatch.setattr(tasks.storage, "LISTING_MAX_AGE", 0.0)  # every check lists afresh
    for key in (f"clean/{DATE}/part-00001.jsonl", f"clean/{DATE}/_SUCCESS.json"):  # as a kill leaves it
        aws_env.delete_object(Bucket=BUCKET, Key=key)
    ok, ran = build(f"s3://{BUCKET}/raw", f"s3://{BUCKET}/clean")
    assert ok and ran == ["CleanShard", "CleanPartition"]  # the profile and the other shards stand


def test_a_shard_is_fetched_a_group_at_a_time_in_order(aws_env, tmp_path):
    """staged_chunks: the objects of a shard come in groups of ``size``, in order, named as
    staged_inputs names them (so ids are the same); a group's copies are gone when the next is
    asked for; an object that vanished since the listing is absent (and so rejected when read)."""
    from tasks import storage

    raw = tmp_path / "raw"
    (raw / DATE / "sub dir").mkdir(parents=True)
    for n in range(4):
        (raw / DATE / f"doc-{n}.txt").write_text(f"text {n}\n", encoding="utf-8")
    (raw / DATE / "sub dir" / "last é.txt").write_text("text last\n", encoding="utf-8")
    upload_tree(aws_env, raw, "raw")
    base = f"s3://{BUCKET}/raw/{DATE}"
    urls = [f"{base}/doc-{n}.txt" for n in range(4)] + [f"{base}/gone.txt", f"{base}/sub dir/last é.txt"]

    with storage.staged_inputs(urls, base) as whole:
        names = [p.relative_to(whole.base).as_posix() for p in whole.paths]
    groups, seen = [], []
    for staged in storage.staged_chunks(urls, base, size=4):
        assert all(not p.exists() for p in seen)  # the group before was removed
        assert staged.sources == urls[4 * len(groups): 4 * len(groups) + 4]
        groups.append([(p.relative_to(staged.base).as_posix(), p.read_text() if p.exists() else None)
                       for p in staged.paths])
        seen = staged.paths
    assert [len(g) for g in groups] == [4, 2]
    assert [name for g in groups for name, _ in g] == names
    assert [text for g in groups for _, text in g] == [f"text {n}\n" for n in range(4)] + [None, "text last\n"]
    assert not any(p.exists() for p in seen)
    # local paths are one group, as they are
    local = [raw / DATE / "doc-0.txt", raw / DATE / "doc-1.txt"]
    assert [s.paths for s in storage.staged_chunks(local, raw / DATE, size=1)] == [local]


def test_a_partition_cleaned_group_by_group_equals_the_local_one(aws_env, luigi_cfg, tmp_path, monkeypatch):
    """Shards larger than a fetch group (4 files per shard, groups of 2): the same records and
    rejects as from local disk."""
    from tasks import storage

    monkeypatch.setattr(storage, "STAGE_FILES", 2)
    raw = uploaded_day(aws_env, tmp_path)
    ok, _ = build(f"s3://{BUCKET}/raw", f"s3://{BUCKET}/clean", shard_max_files="4")
    assert ok
    records, rejects, summary, _ = s3_partition(aws_env, f"clean/{DATE}")
    ok, _ = build(str(raw), str(tmp_path / "clean"), shard_max_files="4")
    assert ok
    local_records, local_rejects, local_summary = local_partition(tmp_path / "clean" / DATE)
    assert [(r["id"], r["text"]) for r in records] == [(r["id"], r["text"]) for r in local_records]
    assert [(r["id"], r["reason"]) for r in rejects] == [(r["id"], r["reason"]) for r in local_rejects]
    assert summary["cleaned"] == local_summary["cleaned"] == 11 and summary["shards"] == 3


def test_a_shard_lists_its_own_names_not_the_whole_day(aws_env, monkeypatch):
    """A shard's manifest (what it records as its inputs) comes from one listing of its files'
    common prefix: a day of many shards is not listed once per shard (at 1,000 keys a request,
    that would grow with shards × objects). A file system whose find takes no prefix is listed
    whole and filtered."""
    from tasks import storage
    from tasks.clean import file_manifest

    for name in ("a-0.txt", "a-1.txt", "b-0.txt", "b-1.txt", "b-10.txt", "c-0.txt"):
        aws_env.put_object(Bucket=BUCKET, Key=f"raw/{DATE}/{name}", Body=name.encode() * 3)
    base = storage.location(f"s3://{BUCKET}/raw/{DATE}")
    fs = base.fs
    asked = []
    find = fs.find

    def recording_find(path, **kwargs):
        asked.append(kwargs.get("prefix", ""))
        return find(path, **kwargs)

    monkeypatch.setattr(fs, "find", recording_find)
    shard = [base / "b-0.txt", base / "b-1.txt", base / "b-10.txt", base / "b-gone.txt"]
    manifest = file_manifest(shard, base, fresh=True)
    assert asked == ["b-"]
    assert [(e["name"], e["size"]) for e in manifest] == [("b-0.txt", 21), ("b-1.txt", 21), ("b-10.txt", 24),
                                                          ("b-gone.txt", None)]
    asked.clear()
    assert [e["size"] for e in file_manifest([base / "a-1.txt", base / "c-0.txt"], base, fresh=True)] == [21, 21]
    assert asked == [""]  # no common prefix: the day

    def old_find(path, detail=False, maxdepth=None):  # no prefix argument
        asked.append("whole")
        return find(path, detail=detail)

    monkeypatch.setattr(fs, "find", old_find)
    asked.clear()
    assert file_manifest(shard[:2], base, fresh=True) == manifest[:2]
    assert asked == ["whole"]


def test_the_cleaning_pass_takes_the_copies_the_site_pass_left(aws_env, tmp_path, monkeypatch):
    """Each object is fetched once for the two passes over a shard; one rewritten between them
    (same size, new contents) is fetched again, never taken stale; nothing stays kept after."""
    import tempfile

    from tasks import storage

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    for n in range(5):
        aws_env.put_object(Bucket=BUCKET, Key=f"raw/{DATE}/doc-{n}.txt", Body=f"first {n}\n".encode())
    base = f"s3://{BUCKET}/raw/{DATE}"
    urls = [f"{base}/doc-{n}.txt" for n in range(5)]
    fetched = []
    fetch = storage._fetch

    def recording_fetch(remote, local):
        fetched.extend(str(r) for r in remote)
        return fetch(remote, local)

    monkeypatch.setattr(storage, "_fetch", recording_fetch)

    def read(keep: bool) -> list[str]:
        storage._LISTED.clear()  # as after the fresh listing each pass makes of its inputs
        return [p.read_text() for s in storage.staged_chunks(urls, base, size=2, keep=keep) for p in s.paths]

    assert read(keep=True) == [f"first {n}\n" for n in range(5)] and fetched == urls
    kept = tmp_path / "tmp" / f"decruft-kept-{os.getuid()}"
    assert len(list(kept.iterdir())) == 5
    aws_env.put_object(Bucket=BUCKET, Key=f"raw/{DATE}/doc-3.txt", Body=b"again 3\n")
    fetched.clear()
    assert read(keep=False) == ["first 0\n", "first 1\n", "first 2\n", "again 3\n", "first 4\n"]
    assert fetched == [urls[3]]
    assert list(kept.iterdir()) == []  # four taken, doc-3's stale copy removed
    # a kept folder others may write to is neither read nor written
    kept.chmod(0o777)
    fetched.clear()
    assert read(keep=True)[3] == "again 3\n" and fetched == urls
    assert list(kept.iterdir()) == []
