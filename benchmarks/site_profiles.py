"""Effect of learned site boilerplate: F1 with and without site profiles on synthetic site batches.

Each synthetic site wraps one dev page's template (its dump lines before and after the
article, found with that page's gold) around the article region of ``--per-site`` other
pages — the same site template around different articles, as a real crawl of one site looks.
Profiles are learned from each site's batch alone (pipeline.site_profile), then every
document is cleaned with and without them and scored with the corpus metric.

    .venv/bin/python benchmarks/site_profiles.py [--corpus ../shared/corpus/dev] [--sites 12] [--per-site 10]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.clean import clean_document
from pipeline.config import CleanConfig
from pipeline.document import Document
from pipeline.evaluate import aggregate, iter_corpus, normalize_line, score_document
from pipeline.site_profile import ProfileLearner, SiteProfiles

DEFAULT_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "dev"


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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--sites", type=int, default=12)
    ap.add_argument("--per-site", type=int, default=10)
    args = ap.parse_args()
    if not args.corpus.is_dir():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    pages = []
    for page_id, dump, gold in iter_corpus(args.corpus, "dump"):
        parts = split_page(dump, gold)
        if parts:
            pages.append((page_id, parts, gold))
    cfg = CleanConfig()
    scores = {"without": [], "with": []}
    learned_lines = 0
    for s in range(min(args.sites, len(pages))):
        head, _, tail = pages[s][1]
        others = [pages[(s + 1 + k) % len(pages)] for k in range(args.per_site)]
        docs = [(f"site{s}/{pid}.txt", "\n".join(head + region + tail), gold) for pid, (_, region, _), gold in others]
        learner = ProfileLearner()
        for doc_id, text, _ in docs:
            learner.add(f"site{s}", text.splitlines())
        profile = learner.profile(cfg.site_min_share, cfg.site_min_docs)
        learned_lines += sum(len(v["lines"]) for v in profile["sites"].values())
        profiles = SiteProfiles(profile)
        for doc_id, text, gold in docs:
            for key, prof in (("without", None), ("with", profiles)):
                doc = clean_document(Document(id=doc_id, source=doc_id, raw=text), cfg, prof)
                scores[key].append(score_document(doc.text if not doc.rejected else "", gold))
    print(f"{len(scores['with'])} documents in {min(args.sites, len(pages))} synthetic sites; "
          f"{learned_lines} lines learned as site boilerplate")
    print(f"{'':18} {'P':>6} {'R':>6} {'F1':>6}")
    for key in ("without", "with"):
        agg = aggregate(scores[key])
        print(f"{key + ' profiles':18} {agg['P']:6.3f} {agg['R']:6.3f} {agg['F1']:6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
