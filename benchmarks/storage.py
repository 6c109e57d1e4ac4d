"""CleanPartition on object storage vs local disk, same documents, same run.

Starts moto's standalone S3 server on 127.0.0.1 (a free port), uploads a generated partition of
dev-corpus dumps to ``s3://bench/raw/<date>/``, and runs the real ``luigi --module tasks
CleanPartition`` (local scheduler, one worker) alternately

  local   raw_root and clean_root on local disk (a temporary folder)
  s3      raw_root s3://bench/raw and clean_root s3://bench/clean, endpoint and credentials
          from the environment only (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, …)

``--rounds`` times each (the clean partition removed before every round), then prints the
median documents/s of each, their ratio (target: s3 ≥ 0.7× local), that both partitions hold
the same ids and texts, and the arithmetic for a crawl (documents/s per core, core-hours per
billion documents) from the local figure. The S3 server shares the machine's cores with the
cleaning (a real store does not), so the ratio is a lower bound.

    .venv/bin/python benchmarks/storage.py [--docs 3000] [--rounds 3] [--per-file 1] [--corpus ../shared/corpus/dev]
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "dev"
BIN = Path(sys.executable).parent
DATE = "2026-01-01"
BUCKET = "bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto(log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=2).read()
            return proc, url
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise SystemExit(f"moto server did not start; see {log}")
            time.sleep(0.2)


def make_day(day: Path, corpus: Path, docs: int, per_file: int = 1) -> None:
    """``docs`` dev dumps: one .txt file each, or (``per_file`` > 1) JSONL files of that many
    records each, as crawls ship them (few large objects rather than many small ones)."""
    day.mkdir(parents=True)
    dumps = sorted(corpus.glob("*/dump.txt"))
    if not dumps:
        raise SystemExit(f"no dev corpus at {corpus} (*/dump.txt): give --corpus")
    if per_file <= 1:
        for n in range(docs):
            src = dumps[n % len(dumps)]
            shutil.copyfile(src, day / f"{n:06d}-{src.parent.name[:12]}.txt")
        return
    texts = [p.read_text(encoding="utf-8") for p in dumps]
    for start in range(0, docs, per_file):
        with open(day / f"{start:06d}.jsonl", "w", encoding="utf-8") as fh:
            for n in range(start, min(docs, start + per_file)):
                fh.write(json.dumps({"id": f"{n:06d}-{dumps[n % len(dumps)].parent.name[:12]}",
                                     "text": texts[n % len(texts)]}, ensure_ascii=False) + "\n")


def run(root: Path, env: dict, *settings: str) -> float:
    """Seconds of one CleanPartition run (the real luigi command, one worker)."""
    cmd = [str(BIN / "luigi"), "--module", "tasks", "CleanPartition", "--date", DATE, "--local-scheduler",
           "--no-lock", "--workers", "1", *settings]
    start = time.perf_counter()
    res = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if res.returncode != 0:
        raise SystemExit(f"luigi failed ({' '.join(settings) or 'local'}):\n{res.stderr[-3000:]}")
    return elapsed


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def empty_prefix(client, prefix: str) -> None:
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        objs = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if objs:
            client.delete_objects(Bucket=BUCKET, Delete={"Objects": objs})


def s3_records(client, prefix: str) -> list[tuple[str, str]]:
    out = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix + "/part-"):
        for obj in sorted(page.get("Contents", []), key=lambda o: o["Key"]):
            data = client.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
            if obj["Key"].endswith(".gz"):
                data = gzip.decompress(data)
            out.extend((r["id"], r["text"]) for r in map(json.loads, data.decode().splitlines()))
    return out


def local_records(folder: Path) -> list[tuple[str, str]]:
    return [(r["id"], r["text"]) for p in sorted(folder.glob("part-*.jsonl"))
            for r in map(json.loads, p.read_text(encoding="utf-8").splitlines())]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--per-file", type=int, default=1, help="documents per input file (>1: JSONL files)")
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = ap.parse_args()
    try:
        import boto3
        import moto.server  # noqa: F401
        import s3fs  # noqa: F401
    except ImportError as exc:
        raise SystemExit(f"needs s3fs and moto[server]: pip install -c constraints.txt -e '.[test,s3]' ({exc})")

    print(f"# {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC; {args.docs} documents, {args.per_file} per file, "
          f"{args.rounds} rounds")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_day(root / "raw" / DATE, args.corpus, args.docs, args.per_file)
        shutil.copy(REPO / "luigi.cfg", root / "luigi.cfg")
        proc, endpoint = start_moto(root / "moto.log")
        try:
            s3_env = {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                      "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(root / "none"),
                      "AWS_SHARED_CREDENTIALS_FILE": str(root / "none")}
            client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="bench",
                                  aws_secret_access_key="bench", region_name="us-east-1")
            client.create_bucket(Bucket=BUCKET)
            for path in sorted(p for p in (root / "raw").rglob("*") if p.is_file()):
                client.upload_file(str(path), BUCKET, f"raw/{path.relative_to(root / 'raw').as_posix()}")
            env = dict(os.environ, PYTHONPATH=str(REPO))
            env_s3 = dict(env, **s3_env)
            local, remote, served = [], [], []
            for n in range(args.rounds):
                shutil.rmtree(root / "clean", ignore_errors=True)
                local.append(args.docs / run(root, env))
                empty_prefix(client, "clean/")
                before = cpu_seconds(proc.pid)
                seconds = run(root, env_s3, "--decruft-raw-root", f"s3://{BUCKET}/raw",
                              "--decruft-clean-root", f"s3://{BUCKET}/clean")
                remote.append(args.docs / seconds)
                served.append((cpu_seconds(proc.pid) - before) / seconds)
                print(f"  round {n + 1}: local {local[-1]:.1f} docs/s, s3 {remote[-1]:.1f} docs/s "
                      f"(the S3 server kept {served[-1]:.2f} cores busy)", flush=True)
            same = s3_records(client, f"clean/{DATE}") == local_records(root / "clean" / DATE)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    lo, s3 = statistics.median(local), statistics.median(remote)
    ratio = s3 / lo
    print(f"storage  CleanPartition s3 -> s3 {s3:.1f} docs/s vs local disk {lo:.1f} docs/s: "
          f"{ratio:.2f}x (target >= 0.7: {'met' if ratio >= 0.7 else 'NOT met'})")
    print(f"         the S3 server on the same machine kept {statistics.median(served):.2f} of its "
          f"{os.cpu_count()} cores busy during the S3 runs (a real store does not)")
    print(f"         same ids and texts in both partitions: {'yes' if same else 'NO'}")
    # one worker keeps about 1.05 cores busy (README "Speed"): its parent writes while the child cleans
    per_core = lo / 1.05
    print(f"crawl    {per_core:.1f} docs/s per core (local, one worker = 1.05 cores): "
          f"{1e9 / per_core / 3600:,.0f} core-hours per billion text dumps")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
