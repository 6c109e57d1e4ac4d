"""Start-up time of the ``decruft`` command, against ``python -c 'import argparse'`` in the same run.

    .venv/bin/python benchmarks/startup.py [--rounds 7]

Targets (issue 11): ``decruft --help`` ≤ baseline + 0.2 s, ``decruft clean`` of one small text
file ≤ baseline + 0.8 s. Each command runs ``--rounds`` times, alternating with the baseline
(so a shared machine's swings hit both); medians are compared. Wall-clock seconds of the
whole process, as a user waits for it.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
TEXT = ("Share this article\nThe harbour reopened on Monday after repairs that took two years and cost "
        "$40m, the port authority said.\nRead more\n")


def wall(cmd: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args(argv)
    decruft = str(BIN / "decruft")
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        (cwd / "small.txt").write_text(TEXT, encoding="utf-8")
        commands = {
            "baseline: python -c 'import argparse'": [sys.executable, "-c", "import argparse"],
            "decruft --help": [decruft, "--help"],
            "decruft clean small.txt": [decruft, "clean", "small.txt", "-o", "out.jsonl"],
        }
        for cmd in commands.values():  # warm the file cache once
            wall(cmd, cwd)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, cmd in commands.items():
                times[name].append(wall(cmd, cwd))
    med = {name: statistics.median(t) for name, t in times.items()}
    base = med["baseline: python -c 'import argparse'"]
    budget = {"decruft --help": 0.2, "decruft clean small.txt": 0.8}
    print(f"{'command':<40} {'median s':>9} {'- baseline':>11} {'target':>8}")
    failed = False
    for name, t in med.items():
        if name in budget:
            extra = t - base
            ok = extra <= budget[name]
            failed |= not ok
            print(f"{name:<40} {t:9.3f} {extra:+11.3f} {'≤ +' + str(budget[name]):>8} {'met' if ok else 'NOT MET'}")
        else:
            print(f"{name:<40} {t:9.3f}")
    print(f"({args.rounds} alternating rounds; medians; {sys.version.split()[0]})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
