"""SparkCleanPartition's speed against its baselines, measured in the same run on the same documents.

Figures (each printed with its ratio; rounds alternate the three runs and medians are compared,
so that a shared machine's swings in speed hit every side):
  spark-2x  SparkCleanPartition on local[2]  vs  the same on local[1]          (target ≥ 1.7)
  spark-1x  SparkCleanPartition on local[1]  vs  CleanPartition --workers 1    (target ≥ 0.8)

Each run is a whole ``decruft run DATE`` (``--engine spark --master local[N]`` for Spark) in a
fresh clean folder: JVM and Python start-up, the site-profile pass, cleaning, the finish.
The day: --docs dump.txt files of the dev corpus, copied round-robin (the corpus has 120).

    .venv/bin/python benchmarks/spark.py [--docs 10000] [--rounds 1] [--corpus ../shared/corpus/dev]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "dev"
DATE = "2026-01-01"


def make_partition(root: Path, corpus: Path, docs: int) -> None:
    day = root / "raw" / DATE
    day.mkdir(parents=True)
    dumps = sorted(corpus.glob("*/dump.txt"))
    if not dumps:
        raise SystemExit(f"no */dump.txt under {corpus}: give --corpus")
    for n in range(docs):
        src = dumps[n % len(dumps)]
        shutil.copyfile(src, day / f"{n:06d}-{src.parent.name[:12]}.txt")
    shutil.copy(REPO / "luigi.cfg", root / "luigi.cfg")


def run(root: Path, *args: str) -> float:
    """Seconds of one ``decruft run`` of the day, from an empty clean folder."""
    shutil.rmtree(root / "clean", ignore_errors=True)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "tasks.cli", "run", DATE, "--no-lock", *args]
    start = time.perf_counter()
    res = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if res.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stderr[-3000:]}")
    return elapsed


def line(name: str, what: str, ours: float, base: float, target: float) -> None:
    ratio = ours / base if base else float("nan")
    verdict = "ok" if ratio >= target else "BELOW TARGET"
    print(f"{name:9} {what}: {ours:7.1f} vs {base:7.1f} docs/s   ratio {ratio:5.2f} (target ≥ {target}) {verdict}",
          flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=1, help="alternating rounds of the three runs (medians compared)")
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = ap.parse_args()
    runs = {"luigi --workers 1": ("--workers", "1"),
            "spark local[1]": ("--engine", "spark", "--master", "local[1]"),
            "spark local[2]": ("--engine", "spark", "--master", "local[2]")}
    rates: dict[str, list[float]] = {name: [] for name in runs}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_partition(root, args.corpus, args.docs)
        print(f"{args.docs} documents ({sum(p.stat().st_size for p in (root / 'raw' / DATE).iterdir()) / 2**20:.0f} MB), "
              f"{os.cpu_count()} cores, {args.rounds} round(s)", flush=True)
        for _ in range(args.rounds):
            for name, extra in runs.items():
                seconds = run(root, *extra)
                rates[name].append(args.docs / seconds)
                print(f"  {name:18} {seconds:7.1f} s  {args.docs / seconds:7.1f} docs/s", flush=True)
    med = {name: statistics.median(v) for name, v in rates.items()}
    line("spark-2x", "local[2] vs local[1]", med["spark local[2]"], med["spark local[1]"], 1.7)
    line("spark-1x", "local[1] vs CleanPartition --workers 1", med["spark local[1]"], med["luigi --workers 1"], 0.8)
    return 0


if __name__ == "__main__":
    sys.exit(main())
