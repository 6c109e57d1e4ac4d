"""Disk cache of trafilatura's outputs for the HTML training pages (trafilatura dominates the cost).

One JSON file per page under ``CACHE/html_candidates/<set>/<id>.json`` with the texts of the
variants of ``variants`` (every candidate mode of ``pipeline.extract.CANDIDATE_MODES``); ``CACHE`` is the git-ignored ``.cache/`` of the repo by default.

    nice .venv/bin/python training/html_cache.py [--corpus ../shared/corpus] [--cache .cache]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from trafilatura.utils import load_html

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.evaluate import iter_pages  # noqa: E402
from pipeline.extract import CANDIDATE_MODES, _trafilatura_doc, drop_furniture  # noqa: E402
SETS = ("dev", "train/wcxb", "train/readability", "train/zh")


# name -> (favor_precision, include_comments, fast): the candidate modes the block model may read.
MODES = {name: (precision, True, fast) for name, (precision, fast) in CANDIDATE_MODES.items()}


def variants(html: str) -> dict:
    """trafilatura's text and comments (``<mode>.comments``) in each mode of ``MODES`` on the pruned
    page (``drop_furniture``), as ``pipeline.extract.candidate_text`` runs it (before its rescue
    step); ``ms``: time per mode."""
    out: dict = {"ms": {}}
    try:
        tree = load_html(html)
        tree = drop_furniture(tree) if tree is not None else None
    except Exception:  # noqa: BLE001 - hostile input: no candidate
        tree = None
    for name, (prec, comments, fast) in MODES.items():
        t0 = time.perf_counter()
        try:
            text, comm = _trafilatura_doc(tree, prec, comments, fast) if tree is not None else ("", "")
        except Exception:  # noqa: BLE001
            text, comm = "", ""
        out[name] = text
        out[name + ".comments"] = comm
        out["ms"][name] = round(1000 * (time.perf_counter() - t0), 1)
    return out


def cached(cache: Path, set_name: str, page_id: str, html: str) -> dict[str, str]:
    f = cache / "html_candidates" / set_name / f"{page_id}.json"
    if f.exists():
        got = json.loads(f.read_text(encoding="utf-8"))
        if all(name in got and name + ".comments" in got for name in MODES):
            return got
    got = variants(html)
    f.parent.mkdir(parents=True, exist_ok=True)
    tmp = f.with_suffix(".tmp")
    tmp.write_text(json.dumps(got, ensure_ascii=False), encoding="utf-8")
    tmp.replace(f)
    return got


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    ap.add_argument("--cache", type=Path, default=REPO / ".cache")
    args = ap.parse_args(argv)
    missing = [str(args.corpus / s) for s in SETS if not (args.corpus / s).is_dir()]
    if missing:
        print(f"corpus not found: {', '.join(missing)} (pass --corpus DIR)", file=sys.stderr)
        return 2
    t0 = time.time()
    n = 0
    for set_name in SETS:
        for page in iter_pages(args.corpus / set_name, "html"):
            cached(args.cache, set_name, page.id, page.source)
            n += 1
            if n % 100 == 0:
                print(f"{n} pages {time.time() - t0:.0f}s", flush=True)
    print(f"done {n} pages {time.time() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
