"""How often the title decruft finds in a text dump is right.

For every page of the development and training corpora, ``pipeline.clean_text`` cleans
``dump.txt`` (the whole page's text, as a naive scraper saves it) and its ``title`` is compared
with the page itself: right = equal, after NFC and whitespace collapsing, to the text of one of
the page's ``<h1>`` elements or to one segment of its ``<title>`` split at " | ", " - ", " – ",
" — ". Prints, per corpus folder: pages, titles found, right, wrong, and the shares.

    .venv/bin/python benchmarks/titles.py [--corpus ../shared/corpus] [--show-wrong 10]
"""
from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import unicodedata
from pathlib import Path

import lxml.html

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import pipeline  # noqa: E402

DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
SEPARATORS = re.compile(r" \| | - | – | — ")


def norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def page_html(folder: Path) -> str | None:
    if (folder / "page.html").exists():
        return (folder / "page.html").read_text(encoding="utf-8", errors="replace")
    if (folder / "page.html.gz").exists():
        return gzip.decompress((folder / "page.html.gz").read_bytes()).decode("utf-8", errors="replace")
    return None


def right_titles(html: str) -> set[str]:
    """The page's <h1> texts and the segments of its <title>, normalized."""
    try:
        tree = lxml.html.fromstring(html.encode("utf-8"), parser=lxml.html.HTMLParser(encoding="utf-8"))
    except (ValueError, lxml.etree.ParserError):
        return set()
    found = {norm(h1.text_content()) for h1 in tree.iter("h1")}
    for title in tree.iter("title"):
        found.update(norm(seg) for seg in SEPARATORS.split(norm(title.text_content() or "")))
    return {t for t in found if t}


def measure(pages: list[Path], show_wrong: int = 0) -> dict:
    found = right = 0
    wrong: list[tuple[str, str]] = []
    for folder in pages:
        html = page_html(folder)
        rec = pipeline.clean_text((folder / "dump.txt").read_text(encoding="utf-8"))
        if not rec["title"]:
            continue
        found += 1
        if html is not None and norm(rec["title"]) in right_titles(html):
            right += 1
        else:
            wrong.append((folder.name, rec["title"]))
    n = len(pages)
    for name, title in wrong[:show_wrong]:
        print(f"    wrong {name}: {title[:100]!r}")
    return {"pages": n, "titles": found, "right": right, "wrong": found - right,
            "right_share": right / n if n else 0.0, "precision": right / found if found else 0.0}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus root holding dev/ and train/")
    ap.add_argument("--show-wrong", type=int, default=0, metavar="N", help="print N wrong titles per folder")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    groups = {"dev": args.corpus / "dev"}
    train = args.corpus / "train"
    if train.is_dir():
        groups.update({f"train/{d.name}": d for d in sorted(train.iterdir()) if d.is_dir()})
    if not groups["dev"].is_dir():
        print(f"corpus not found: {args.corpus} (give --corpus DIR)", file=sys.stderr)
        return 2
    results = {}
    total = dict.fromkeys(("pages", "titles", "right", "wrong"), 0)
    for name, folder in groups.items():
        pages = sorted(p for p in folder.iterdir() if (p / "dump.txt").exists())
        res = results[name] = measure(pages, args.show_wrong)
        for k in total:
            total[k] += res[k]
        if not args.json:
            print(f"{name:18} pages {res['pages']:5}  titles {res['titles']:5}  right {res['right']:5}  "
                  f"wrong {res['wrong']:4}  right/pages {res['right_share']:.3f}  right/titles {res['precision']:.3f}")
    total["right_share"] = total["right"] / total["pages"] if total["pages"] else 0.0
    total["precision"] = total["right"] / total["titles"] if total["titles"] else 0.0
    results["all"] = total
    if args.json:
        print(json.dumps(results, indent=1))
    else:
        print(f"{'all':18} pages {total['pages']:5}  titles {total['titles']:5}  right {total['right']:5}  "
              f"wrong {total['wrong']:4}  right/pages {total['right_share']:.3f}  right/titles {total['precision']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
