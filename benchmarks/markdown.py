"""Markdown structure recovery against WCXB's ``gold.md``: precision and recall of heading lines and
of list items, from HTML and from text dumps, per page type.

Every page of ``train/wcxb`` is cleaned with ``CleanConfig(markdown=True)`` (the full pipeline);
the heading lines (``# …``) and list items (``- …``, ``* …``, ``1. …``) of its Markdown are
compared with those of ``gold.md``, as multisets of their words (``\\w+``, lower-cased, link
targets and emphasis marks dropped, heading levels ignored). Counts are pooled over the pages of a
type (micro-averaged): P = matched / found, R = matched / in the gold. ``P|gold`` is precision
over the found lines whose words the gold holds at all (in any line), ``R|kept`` recall over the
gold lines whose words the output holds at all: what the line classes get right of what the
cleaning kept, apart from what the cleaning kept or dropped. ``marked``: P and R over the pages whose
``gold.md`` marks that structure at all (half of the pages' gold has no list item, a fifth no
heading: there a page's lists or headings are plain lines in the gold, or the gold is one paragraph).

- ``html``: line classes from the page's structure (``pipeline.markdown``), nothing learned there.
  The kept lines come from the shipped HTML block model, which saw these pages in training
  (``--html-folds DIR``: the fold models of ``make train-html`` instead, where they exist).
- ``dump``: line classes from the learned line classifier, each page scored by the fold model of
  ``training/train_line_class.py`` that never saw its site (``.cache/line_class_folds``);
  ``--shipped`` scores the shipped model instead (in-sample, printed as such).

    .venv/bin/python benchmarks/markdown.py [--corpus ../shared/corpus/train/wcxb] [--inputs html,dump]
        [--folds .cache/line_class_folds] [--shipped] [--limit N] [--json FILE]

Exit 2 when the corpus or the fold models are missing.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+(.*)$")
_QUOTE = re.compile(r"^(?:\s*>)+\s?")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_WORD = re.compile(r"\w+")


def words(text: str) -> str:
    """A line's key: its words, lower-cased, without link targets, images or Markdown marks."""
    text = _LINK.sub(r"\1", _IMAGE.sub(" ", text)).replace("\\", "")
    return " ".join(_WORD.findall(text.lower().replace("_", " ")))


def structure(md: str) -> tuple[Counter, Counter, set[str]]:
    """(heading keys, list item keys, keys of every line) of a Markdown text."""
    heads, items, every = Counter(), Counter(), set()
    fence = False
    for raw in md.splitlines():
        line = _QUOTE.sub("", raw)
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
            continue
        if fence:
            continue
        m = _HEADING.match(line)
        if m:
            key = words(m.group(1))
            if key:
                heads[key] += 1
                every.add(key)
            continue
        m = _ITEM.match(line)
        if m:
            key = words(m.group(1))
            if key:
                items[key] += 1
                every.add(key)
            continue
        if line.startswith("|"):
            every.update(words(c) for c in line.strip("|").split("|"))
            continue
        key = words(line)
        if key:
            every.add(key)
    return heads, items, every


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus" / "train" / "wcxb")
    ap.add_argument("--inputs", default="html,dump")
    ap.add_argument("--folds", type=Path, default=REPO / ".cache" / "line_class_folds")
    ap.add_argument("--html-folds", type=Path, default=None)
    ap.add_argument("--shipped", action="store_true", help="dumps: the shipped line class model (in-sample)")
    ap.add_argument("--limit", type=int, default=0, help="pages (0: all)")
    ap.add_argument("--json", type=Path, default=None, help="also write the table as JSON here")
    args = ap.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"corpus not found: {args.corpus} (pass --corpus DIR: a WCXB folder with gold.md pages)", file=sys.stderr)
        return 2
    inputs = [i for i in args.inputs.split(",") if i]
    fold_of: dict[str, int] = {}
    if "dump" in inputs and not args.shipped:
        index = args.folds / "folds.json"
        if not index.is_file():
            print(f"fold models not found: {index} (run `make train-class` first, or pass --shipped)", file=sys.stderr)
            return 2
        fold_of = json.loads(index.read_text(encoding="utf-8"))["pages"]
    html_fold_of: dict[str, int] = {}
    if args.html_folds is not None:
        html_fold_of = json.loads((args.html_folds / "folds.json").read_text(encoding="utf-8"))["pages"]

    from pipeline.clean import clean_html, clean_text
    from pipeline.config import CleanConfig
    from pipeline.evaluate import read_input, read_manifest

    manifest = read_manifest(args.corpus)
    pages = sorted(p for p in args.corpus.iterdir() if p.is_dir() and (p / "gold.md").is_file())
    if args.limit:
        pages = pages[: args.limit]
    cfgs: dict[tuple, CleanConfig] = {}

    def cfg_for(kind: str, page_id: str) -> CleanConfig:
        if kind == "dump":
            fold = None if args.shipped else fold_of.get(page_id)
            if not args.shipped and fold is None:
                raise SystemExit(f"{page_id}: not in the line class folds' index (retrain: make train-class)")
            key = ("dump", fold)
            model = None if fold is None else str(args.folds / f"fold{fold}.json")
            return cfgs.setdefault(key, CleanConfig(markdown=True, line_class_model=model))
        fold = html_fold_of.get(f"train/wcxb/{page_id}")
        model = None if fold is None else str(args.html_folds / f"fold{fold}.lgb.txt")
        return cfgs.setdefault(("html", fold), CleanConfig(markdown=True, html_model=model))

    # counts[input][page_type] = Counter(h_found, h_gold, h_tp, h_avail, h_avail_tp, l_...)
    counts: dict[str, dict[str, Counter]] = {k: defaultdict(Counter) for k in inputs}
    seconds = Counter()
    for n, page in enumerate(pages, 1):
        entry = manifest.get(page.name, {})
        ptype = entry.get("page_type") or "unknown"
        gold_h, gold_l, gold_every = structure((page / "gold.md").read_text(encoding="utf-8"))
        for kind in inputs:
            src = page / ("dump.txt" if kind == "dump" else "page.html.gz")
            if not src.is_file():
                continue
            cfg = cfg_for(kind, page.name)
            t0 = time.perf_counter()
            fn = clean_text if kind == "dump" else clean_html
            rec = fn(read_input(src), cfg, id=page.name, url=entry.get("url"))
            seconds[kind] += time.perf_counter() - t0
            md = rec.get("markdown") or ""
            out_h, out_l, every = structure(md)
            for tag, gold, out in (("h", gold_h, out_h), ("l", gold_l, out_l)):
                c = counts[kind][ptype]
                tp = sum((gold & out).values())
                avail = Counter({k: v for k, v in gold.items() if k in every})
                c[f"{tag}_found"] += sum(out.values())
                c[f"{tag}_gold"] += sum(gold.values())
                c[f"{tag}_tp"] += tp
                c[f"{tag}_avail"] += sum(avail.values())
                c[f"{tag}_avail_tp"] += sum((avail & out).values())
                in_gold = Counter({k: v for k, v in out.items() if k in gold_every})
                c[f"{tag}_ingold"] += sum(in_gold.values())
                c[f"{tag}_ingold_tp"] += sum((in_gold & gold).values())
                if gold:  # the gold marks this structure on this page
                    c[f"{tag}_m_found"] += sum(out.values())
                    c[f"{tag}_m_gold"] += sum(gold.values())
                    c[f"{tag}_m_tp"] += tp
        if n % 100 == 0:
            print(f"… {n} pages", file=sys.stderr)

    table = {}
    for kind in inputs:
        rows = dict(counts[kind])
        rows["all"] = sum(rows.values(), Counter())
        table[kind] = {t: figures(c) for t, c in sorted(rows.items(), key=lambda kv: (kv[0] == "all", kv[0]))}
    print_table(table, args, len(pages), seconds)
    if args.json:
        args.json.write_text(json.dumps(table, indent=1), encoding="utf-8")
    return 0


def figures(c: Counter) -> dict[str, float | int]:
    def ratio(a: int, b: int) -> float | None:
        return round(a / b, 3) if b else None

    out: dict[str, float | int] = {"pages": 0}
    for tag, name in (("h", "heading"), ("l", "list")):
        out[f"{name}_P"] = ratio(c[f"{tag}_tp"], c[f"{tag}_found"])
        out[f"{name}_R"] = ratio(c[f"{tag}_tp"], c[f"{tag}_gold"])
        out[f"{name}_R_kept"] = ratio(c[f"{tag}_avail_tp"], c[f"{tag}_avail"])
        out[f"{name}_P_gold"] = ratio(c[f"{tag}_ingold_tp"], c[f"{tag}_ingold"])
        out[f"{name}_P_marked"] = ratio(c[f"{tag}_m_tp"], c[f"{tag}_m_found"])
        out[f"{name}_R_marked"] = ratio(c[f"{tag}_m_tp"], c[f"{tag}_m_gold"])
        out[f"{name}_gold"] = c[f"{tag}_gold"]
    return out


def print_table(table: dict, args, pages: int, seconds: Counter) -> None:
    print(f"Markdown structure vs gold.md: {pages} WCXB pages ({args.corpus}); pooled counts per page type")
    for kind, rows in table.items():
        how = ("line classes from the page structure (HTML block model: "
               + ("fold models" if args.html_folds else "shipped, in-sample") + ")") if kind == "html" else \
              ("learned line classes, " + ("shipped model (IN-SAMPLE)" if args.shipped else "site-grouped CV fold models"))
        print(f"\n{kind}: {how}; {seconds[kind]:.0f} s of cleaning")
        print(f"{'':<15}{'headings: all pages':<36}{'marked':<15}  {'list items: all pages':<36}{'marked':<15}")
        print(f"{'page type':<15}{'gold':>6}{'P':>7}{'R':>7}{'P|gold':>8}{'R|kept':>8}{'P':>7}{'R':>7}   "
              f"{'gold':>6}{'P':>7}{'R':>7}{'P|gold':>8}{'R|kept':>8}{'P':>7}{'R':>7}")
        for ptype, f in rows.items():
            def fmt(v):
                return f"{v:.3f}" if isinstance(v, float) else "  –  "
            cells = []
            for name in ("heading", "list"):
                cells.append(f"{f[name + '_gold']:>6}" + "".join(
                    f"{fmt(f[f'{name}_{k}']):>{w}}" for k, w in (("P", 7), ("R", 7), ("P_gold", 8), ("R_kept", 8),
                                                               ("P_marked", 7), ("R_marked", 7))))
            print(f"{ptype:<15}" + "   ".join(cells))


if __name__ == "__main__":
    sys.exit(main())
