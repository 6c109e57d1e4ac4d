"""Learned site boilerplate on synthetic site batches: F1 with and without site profiles, and
whether content several articles of a site share survives.

A synthetic site is one real page's template — its dump lines before and after the article
(the header and footer runs, found from that page's dump and its gold) — around the article
regions of ``--per-site`` other pages of the same corpus folder, as a crawl of one site looks:

- each template line is on a random ≥ 80% of the site's pages, and every number in it is
  drawn again per page (dates, counters, "3 comments");
- shared content — one quote (a long line of another page's gold) and one list block (3-5
  consecutive short lines of another page's gold; lines a phrase rule takes, such as a credit
  line a gold kept, are not used) — is planted between two paragraphs of 2-5
  of the bodies (fewer than ``site_min_share`` of the pages), and added to those pages' gold.

Profiles are learned from each site's batch alone (``pipeline.site_profile``, the counts of two
halves learnt apart and merged, as shards are), then every page is cleaned with and without
them and scored with the corpus metric (``pipeline.evaluate``). "shared kept" is the share of
planted lines present in every output they were planted in. "bare F1" cleans each page's
article alone, without any template: the labeller's own limit, which a perfect profile would
reach. Deterministic for given seeds.

    .venv/bin/python benchmarks/site_profiles.py [--corpus DIR ...] [--sites 20] [--per-site 20] [--seeds 1 2 3]
"""
from __future__ import annotations

import argparse
import math
import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's pipeline, not an installed one

from pipeline.clean import clean_document, rules_for  # noqa: E402
from pipeline.config import CleanConfig  # noqa: E402
from pipeline.document import Document  # noqa: E402
from pipeline.normalize import split_lines  # noqa: E402
from pipeline.evaluate import aggregate, iter_pages, normalize_line, score_document  # noqa: E402
from pipeline.site_profile import ProfileLearner, SiteProfiles, line_key  # noqa: E402

SHARED = REPO.parent / "shared" / "corpus"
DEFAULT_CORPORA = [SHARED / "dev", SHARED / "train" / "wcxb", SHARED / "train" / "readability", SHARED / "train" / "zh"]
_NUMBER = re.compile(r"\d+")
_LETTERS = re.compile(r"[^\W\d_]+")  # words with letters (a list item is words, not only figures)


@dataclass
class SourcePage:
    id: str
    head: list[str]
    region: list[str]
    tail: list[str]
    gold: list[str]  # gold lines (non-empty)


def split_page(dump: str, gold: str) -> tuple[list[str], list[str], list[str]] | None:
    """(template head, article region, template tail) of a dump, by where gold lines sit."""
    lines = [l for l in dump.splitlines() if l.strip()]
    gold_text = normalize_line(gold)
    in_gold = [len(normalize_line(l)) > 20 and normalize_line(l) in gold_text for l in lines]
    if sum(in_gold) < 3:
        return None
    first = in_gold.index(True)
    last = len(in_gold) - 1 - in_gold[::-1].index(True)
    return lines[:first], lines[first : last + 1], lines[last + 1 :]


def load_pages(corpus: Path, bodies: str = "gold") -> list[SourcePage]:
    """The corpus's article pages that split into template and article; with ``bodies="gold"``
    a page's article region is its gold lines (the article as its site shows it, one
    paragraph a line), with ``"region"`` the dump lines from its first to its last gold line
    (the cruft inside the article too; gold text outside that region then counts as missed)."""
    pages = []
    for page in iter_pages(corpus, "dump"):
        if page.meta.get("page_type", "article") != "article":
            continue
        parts = split_page(page.source, page.gold)
        if parts:
            gold = [l.strip() for l in page.gold.splitlines() if l.strip()]
            head, region, tail = parts
            pages.append(SourcePage(page.id, head, gold if bodies == "gold" else region, tail, gold))
    return pages


def vary_numbers(line: str, rng: random.Random) -> str:
    """Every digit run drawn again (its length may change: "9 comments" → "12 comments")."""
    return _NUMBER.sub(lambda m: str(rng.randrange(10 ** min(len(m.group()) + 1, 6))), line)


def ruled(line: str) -> bool:
    """A phrase rule takes the line (a credit line some golds keep): not planted as content."""
    return rules_for(CleanConfig()).match(line) is not None


def quote_of(page: SourcePage, rng: random.Random) -> list[str] | None:
    lines = [l for l in page.gold if 15 <= len(normalize_line(l).split()) <= 60 and not ruled(l)]
    return [rng.choice(lines)] if lines else None


def list_of(page: SourcePage, rng: random.Random) -> list[str] | None:
    """3-5 consecutive gold lines of 2-12 words each (a list block), if the page has them."""
    short = [2 <= len(normalize_line(l).split()) <= 12 and len(_LETTERS.findall(l)) >= 2 and not ruled(l)
             for l in page.gold]
    starts = [i for i in range(len(short) - 2) if all(short[i : i + 3])]
    if not starts:
        return None
    i = rng.choice(starts)
    n = 3
    while n < 5 and i + n < len(short) and short[i + n]:
        n += 1
    return page.gold[i : i + n]


def gaps(page: SourcePage) -> list[tuple[int, int]]:
    """(region index, gold index) pairs where a region line ends gold line g and the next
    region line starts gold line g + 1: between two paragraphs, in the dump and in the gold."""
    norm_gold = [normalize_line(g) for g in page.gold]
    out = []
    for pos in range(1, len(page.region)):
        before, after = normalize_line(page.region[pos - 1]), normalize_line(page.region[pos])
        if not before or not after:
            continue
        for g in range(len(norm_gold) - 1):
            if norm_gold[g].endswith(before) and norm_gold[g + 1].startswith(after):
                out.append((pos, g + 1))
                break
    return out


@dataclass
class SiteDoc:
    id: str
    text: str
    gold: str
    planted: list[str]


def build_site(name: str, template: SourcePage, bodies: list[SourcePage], donors: list[SourcePage],
               rng: random.Random, min_share: float) -> list[SiteDoc]:
    n = len(bodies)
    template_lines = template.head + template.tail
    on_pages = []
    for _ in template_lines:  # each template line on a random >= 80% of the pages
        k = rng.randint(math.ceil(0.8 * n), n)
        on_pages.append(set(rng.sample(range(n), k)))
    shared: list[list[str]] = []
    template_keys = {line_key(l) for l in template_lines}
    for donor in donors:
        block = quote_of(donor, rng) if not shared else list_of(donor, rng)
        if block and not template_keys & {line_key(l) for l in block}:  # content, not the template's text
            shared.append(block)
        if len(shared) == 2:
            break
    plantable = [i for i, b in enumerate(bodies) if gaps(b)]
    most = max(2, min(5, math.ceil(min_share * n) - 1))  # below site_min_share
    plants: dict[int, list[list[str]]] = {}
    for block in shared:
        if len(plantable) < 2:
            break
        for i in rng.sample(plantable, min(len(plantable), rng.randint(2, most))):
            plants.setdefault(i, []).append(block)
    docs = []
    for i, body in enumerate(bodies):
        region, gold = list(body.region), list(body.gold)
        planted: list[str] = []
        for block in plants.get(i, []):
            pos, g = rng.choice(gaps(SourcePage(body.id, [], region, [], gold)) or [(len(region), len(gold))])
            region[pos:pos] = block
            gold[g:g] = block
            planted += block
        head = [vary_numbers(l, rng) for j, l in enumerate(template.head) if i in on_pages[j]]
        tail = [vary_numbers(l, rng) for j, l in enumerate(template.tail, len(template.head)) if i in on_pages[j]]
        docs.append(SiteDoc(f"{name}/{body.id}.txt", "\n".join(head + region + tail), "\n".join(gold), planted))
    return docs


def learn(name: str, docs: list[SiteDoc], cfg: CleanConfig) -> dict:
    """The site's profile from two halves counted apart and merged, as a partition's shards are."""
    total = ProfileLearner(max_words=cfg.site_max_words)
    for part in (docs[: len(docs) // 2], docs[len(docs) // 2 :]):
        learner = ProfileLearner(max_words=cfg.site_max_words)
        for doc in part:
            learner.add(name, split_lines(doc.text, cfg.max_line_chars)[0])
        total.merge(learner.state())
    return total.profile(cfg.site_min_share, cfg.site_min_docs)


def contains(output: str, line: str) -> bool:
    return f" {normalize_line(line)} " in f" {normalize_line(output)} "


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, nargs="+", default=None,
                    help="corpus folders (default: dev and train/{wcxb,readability,zh} of ../shared/corpus)")
    ap.add_argument("--sites", type=int, default=20, help="synthetic sites per seed")
    ap.add_argument("--per-site", type=int, default=20, help="pages per site")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--bodies", choices=("gold", "region"), default="gold",
                    help="article of each page: its gold lines, or its dump's article region")
    args = ap.parse_args()
    corpora = args.corpus or [c for c in DEFAULT_CORPORA if c.is_dir()]
    missing = [c for c in corpora if not c.is_dir()]
    if not corpora or missing:
        print(f"corpus not found: {missing[0] if missing else DEFAULT_CORPORA[0]}", file=sys.stderr)
        return 2
    folders = [(c, load_pages(c, args.bodies)) for c in corpora]
    folders = [(c, p) for c, p in folders if len(p) > args.per_site + 3]
    cfg = CleanConfig()
    rows = []
    for seed in args.seeds:
        rng = random.Random(seed)
        scores = {"without": [], "with": [], "bare": []}
        planted_ok = planted_all = learned = 0
        for s in range(args.sites):
            corpus, pages = folders[s % len(folders)]
            template = rng.choice([p for p in pages if len(p.head) + len(p.tail) >= 3])
            others = [p for p in pages if p is not template]
            picked = rng.sample(others, args.per_site + 3)
            name = f"site{s}"
            docs = build_site(name, template, picked[: args.per_site], picked[args.per_site :], rng, cfg.site_min_share)
            profile = learn(name, docs, cfg)
            learned += sum(len(v["lines"]) for v in profile["sites"].values())
            profiles = SiteProfiles(profile)
            kept_in_all: dict[str, bool] = {}
            for doc in docs:
                runs = (("without", doc.text, None), ("with", doc.text, profiles), ("bare", doc.gold, None))
                for key, raw, prof in runs:
                    out = clean_document(Document(id=doc.id, source=doc.id, raw=raw), cfg, prof)
                    text = out.text if not out.rejected else ""
                    scores[key].append(score_document(text, doc.gold))
                    if prof is not None:
                        for line in doc.planted:
                            kept_in_all[line] = kept_in_all.get(line, True) and contains(text, line)
            planted_ok += sum(kept_in_all.values())
            planted_all += len(kept_in_all)
        rows.append((seed, aggregate(scores["without"]), aggregate(scores["with"]), planted_ok, planted_all,
                     aggregate(scores["bare"]), learned))
    print(f"{args.sites} synthetic sites x {args.per_site} pages per seed, from "
          + ", ".join(f"{c.name} ({len(p)})" for c, p in folders))
    print(f"{'seed':>4} {'F1 without':>10} {'P':>6} {'R':>6} {'F1 with':>8} {'P':>6} {'R':>6} {'shared kept':>12} "
          f"{'learned':>8} {'bare F1':>8}")
    for seed, wo, wi, ok, total, bare, learned in rows:
        print(f"{seed:>4} {wo['F1']:10.3f} {wo['P']:6.3f} {wo['R']:6.3f} {wi['F1']:8.3f} {wi['P']:6.3f} {wi['R']:6.3f} "
              f"{ok:>5}/{total:<4} {ok / max(total, 1):4.0%} {learned:>6} {bare['F1']:8.3f}")
    f1s = [r[2]["F1"] for r in rows]
    ok, total = sum(r[3] for r in rows), sum(r[4] for r in rows)
    print(f"mean F1 with profiles {sum(f1s) / len(f1s):.3f} (without {sum(r[1]['F1'] for r in rows) / len(rows):.3f}); "
          f"shared content kept {ok}/{total} = {ok / max(total, 1):.1%}; the articles alone, cleaned (bare): "
          f"{sum(r[5]['F1'] for r in rows) / len(rows):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
