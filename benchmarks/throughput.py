"""Throughput and memory of decruft against baselines measured in the same run, on the same documents.

Figures (each printed with its ratio; text and html alternate five rounds of baseline and
decruft, luigi and workers three rounds, and compare medians, so a shared machine's swings in
speed hit both sides):
  text    decruft.clean_text on dev dumps  vs  langdetect alone on a 2,000-char sample of each dump
  html    decruft.clean_html on dev pages  vs  trafilatura.extract alone
  luigi   CleanPartition over N documents  vs  the same work in one plain process (site-profile
          pass, cleaning, JSONL records and rejects; see plain_process)
  workers CleanPartition with --workers 2  vs  --workers 1 (local scheduler)
  memory  peak RSS of a CleanPartition run over a generated partition of --memory-mb MB

    .venv/bin/python benchmarks/throughput.py [--only text,html,luigi,workers,memory]
        [--corpus ../shared/corpus/dev] [--luigi-docs 10000] [--luigi-rounds 3] [--shard-files N]
        [--memory-mb 64,256,1024]
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "dev"
BIN = Path(sys.executable).parent


def load(corpus: Path, name: str) -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(corpus.glob(f"*/{name}"))]


def rate(fn, items, min_seconds: float = 5.0) -> float:
    """Documents per second of ``fn`` over ``items``, repeating the list until ``min_seconds`` passed."""
    done, start = 0, time.perf_counter()
    while True:
        for item in items:
            fn(item)
        done += len(items)
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return done / elapsed


def compare(ours, base, items, rounds: int = 5, seconds: float = 2.0) -> tuple[float, float]:
    """Median docs/s of ``ours`` and ``base`` over ``rounds`` alternating rounds.

    Alternating (rather than all of one, then all of the other) keeps a shared machine's
    swings in speed from landing on one side of the ratio.
    """
    ours(items[0])
    base(items[0])  # warm-up: models and profiles load outside the timing
    mine, theirs = [], []
    for _ in range(rounds):
        theirs.append(rate(base, items, seconds))
        mine.append(rate(ours, items, seconds))
    return statistics.median(mine), statistics.median(theirs)


def line(name: str, ours: float, base: float, target: float, unit: str = "docs/s") -> None:
    ratio = ours / base if base else float("nan")
    verdict = "ok" if ratio >= target else "BELOW TARGET"
    print(f"{name:8} decruft {ours:9.1f} {unit}   baseline {base:9.1f} {unit}   ratio {ratio:5.2f} (target ≥ {target}) {verdict}")


def bench_text(corpus: Path) -> None:
    import pipeline
    from langdetect import DetectorFactory, detect_langs

    DetectorFactory.seed = 0
    dumps = load(corpus, "dump.txt")

    def langdetect_only(text: str) -> None:
        try:
            detect_langs(text[:2000])
        except Exception:
            pass

    langdetect_only(dumps[0])
    pipeline.clean_text("Models, rules and language profiles load here.\nNot inside the timing, that is.")
    start = time.perf_counter()
    for text in dumps:  # a first pass: every document new to the caches (rule answers, word n-grams)
        pipeline.clean_text(text)
    first = len(dumps) / (time.perf_counter() - start)
    ours, base = compare(pipeline.clean_text, langdetect_only, dumps)
    line("text", ours, base, 0.75)
    print(f"         (first pass, documents not seen before: {first:.1f} docs/s, ratio {first / base:.2f})")


def bench_html(corpus: Path) -> None:
    import trafilatura

    import pipeline

    pages = load(corpus, "page.html")
    ours, base = compare(pipeline.clean_html, trafilatura.extract, pages)
    line("html", ours, base, 0.9)


def make_partition(root: Path, corpus: Path, docs: int, date: str = "2026-01-01") -> Path:
    day = root / "raw" / date
    day.mkdir(parents=True)
    dumps = sorted(corpus.glob("*/dump.txt"))
    for n in range(docs):
        src = dumps[n % len(dumps)]
        shutil.copyfile(src, day / f"{n:06d}-{src.parent.name[:12]}.txt")
    shutil.copy(REPO / "luigi.cfg", root / "luigi.cfg")
    return day


def run_partition(root: Path, workers: int, date: str = "2026-01-01",
                  shard_files: int | None = None) -> tuple[float, int]:
    """Seconds and peak RSS (KiB, largest single process) of one CleanPartition run
    (``shard_files``: files per shard, instead of luigi.cfg's ``shard_max_files``)."""
    shutil.rmtree(root / "clean", ignore_errors=True)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = [str(BIN / "python"), "-c", _RUN_AND_REPORT_RSS, str(BIN / "luigi"), "--module", "tasks", "CleanPartition",
           "--date", date, "--local-scheduler", "--no-lock", "--workers", str(workers)]
    if shard_files:
        cmd += ["--decruft-shard-max-files", str(shard_files)]
    start = time.perf_counter()
    res = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if res.returncode != 0:
        raise SystemExit(f"luigi failed:\n{res.stderr[-3000:]}")
    return elapsed, int(res.stdout.strip().splitlines()[-1])


# Runs luigi as a child and prints the peak RSS of the largest process among its descendants.
_RUN_AND_REPORT_RSS = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def plain_process(day: Path, out: Path) -> float:
    """Docs/s of CleanPartition's work done in one plain process: the site-profile pass, then
    cleaning with the profile, records and rejects written as JSONL (no Luigi, no shards, no
    cleaning child, no report)."""
    from pipeline.batch import BatchStats, clean_files, learn_site_profiles
    from pipeline.config import CleanConfig  # its defaults are luigi.cfg's settings
    from pipeline.site_profile import SiteProfiles
    from pipeline.writers import dumps, open_writer

    cfg = CleanConfig()
    files = sorted(day.iterdir())
    start = time.perf_counter()
    profiles = SiteProfiles(learn_site_profiles(files, day, cfg))
    with open_writer("jsonl", str(out / "plain.jsonl")) as records, open(out / "plain.rejects.jsonl", "w") as rejects:
        for doc in clean_files(files, day, cfg, BatchStats(), profiles=profiles):
            if doc.rejected:
                rejects.write(dumps(doc.to_reject({})) + "\n")
            else:
                records.write(doc.to_record({}))
    return len(files) / (time.perf_counter() - start)


def bench_luigi(corpus: Path, docs: int, rounds: int, shard_files: int | None = None) -> None:
    """``rounds`` alternating rounds of the plain process, one worker and two; medians compared
    (a shared machine's speed swings by ±15% from one minute to the next)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        day = make_partition(root, corpus, docs)
        plain, one, two = [], [], []
        for _ in range(rounds):
            plain.append(plain_process(day, root))
            one.append(docs / run_partition(root, workers=1, shard_files=shard_files)[0])
            two.append(docs / run_partition(root, workers=2, shard_files=shard_files)[0])
        if rounds > 1:
            print(f"         ({rounds} rounds, docs/s — plain: {_figures(plain)}; 1 worker: {_figures(one)}; "
                  f"2 workers: {_figures(two)})")
        line("luigi", statistics.median(one), statistics.median(plain), 0.8)
        line("workers", statistics.median(two), statistics.median(one), 1.7)


def _figures(values: list[float]) -> str:
    return ", ".join(f"{v:.1f}" for v in values)


def bench_memory(corpus: Path, sizes: list[int]) -> None:
    """Peak RSS per process for each partition size: flat across sizes means streaming."""
    for megabytes in sizes:
        bench_memory_once(corpus, megabytes)


def bench_memory_once(corpus: Path, megabytes: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        dumps = sorted(corpus.glob("*/dump.txt"))
        average = sum(p.stat().st_size for p in dumps) / len(dumps)
        docs = int(megabytes * 2**20 / average)
        make_partition(root, corpus, docs)
        seconds, peak_kib = run_partition(root, workers=1)
        size = sum(p.stat().st_size for p in (root / "raw").rglob("*") if p.is_file()) / 2**20
        verdict = "ok" if peak_kib / 1024 < 500 else "ABOVE TARGET"
        print(f"memory   {size:.0f} MB partition, {docs} documents, {seconds:.0f} s: "
              f"peak RSS {peak_kib / 1024:.0f} MB per process (target < 500 MB) {verdict}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--only", default="text,html,luigi,memory")
    ap.add_argument("--luigi-docs", type=int, default=10_000)
    ap.add_argument("--luigi-rounds", type=int, default=3, help="alternating rounds of plain, 1 and 2 workers")
    ap.add_argument("--shard-files", type=int, help="files per shard task (default: luigi.cfg's shard_max_files)")
    ap.add_argument("--memory-mb", default="1024",
                    help="partition size(s) in MB, comma-separated (e.g. 64,256,1024)")
    args = ap.parse_args()
    if not args.corpus.is_dir():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    print(f"# {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    only = set(args.only.split(","))
    if "text" in only:
        bench_text(args.corpus)
    if "html" in only:
        bench_html(args.corpus)
    if "luigi" in only or "workers" in only:
        bench_luigi(args.corpus, args.luigi_docs, args.luigi_rounds, args.shard_files)
    if "memory" in only:
        bench_memory(args.corpus, [int(x) for x in args.memory_mb.split(",")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
