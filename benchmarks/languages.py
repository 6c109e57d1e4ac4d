"""Languages per paragraph: accuracy and share error on mixed documents built from gold texts.

Each mixed document joins the gold paragraphs of a page in language A and of a page in
language B (pairs of languages found in ``dev/`` and ``train/``), in several orders (A then B,
B then A, A-B-A) and shares of characters (50/50, 70/30, 85/15), about ``--chars`` long. Every
paragraph's true language is its page's. The document goes through the same function the
cleaning uses (``pipeline.language.detect_languages`` with ``CleanConfig``'s knobs), so the
figures are those of the ``langs`` field:

- paragraph accuracy: share of paragraphs of 200 characters or more tagged with their language;
- share error: per document and language (A, B), |predicted share − true share|; mean, max, and
  the share of documents where both are within 0.1;
- main language: share of documents whose ``lang`` is the larger part's;
- monolingual control: the single gold texts themselves (≥ 400 chars), share tagged as mixed
  (more than one language in ``langs``) and share whose ``lang`` is not the page's.

Page languages: the manifest's ``lang`` (primary subtag) where given and langdetect agrees,
else langdetect on the gold when it is sure (≥ 0.99); placeholder texts (lorem ipsum) are left
out, and so are gold lines under 80 characters (30 for CJK; see ``MIN_PARAGRAPH``).

    .venv/bin/python benchmarks/languages.py [--corpus-root ../shared/corpus] [--chars 4000]
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.config import CleanConfig  # noqa: E402
from pipeline.language import detect_language, detect_languages  # noqa: E402

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
SETS = ("dev", "train/readability", "train/zh")
ENGLISH_PAGES = 30  # English pages are plentiful: the first ones of dev are enough
SHARES = (0.5, 0.7, 0.85)
ORDERS = ("AB", "BA", "ABA")
# Gold lines shorter than this (characters; CJK: 30) are left out of the documents: captions,
# credits, bylines and link lines are often in another language than their page (an English
# photo credit on a Spanish page), which would make the "true" language wrong.
MIN_PARAGRAPH = 80
MIN_PARAGRAPH_CJK = 30


def mix_kwargs(cfg: CleanConfig) -> dict:
    return dict(sample_chars=cfg.lang_sample_chars, min_letters=cfg.lang_min_letters,
                min_score=cfg.lang_min_score, seed=cfg.lang_seed, min_chars=cfg.langs_min_chars,
                max_units=cfg.langs_max_units, unit_chars=cfg.langs_unit_chars,
                min_margin=cfg.langs_min_margin, max_detects=cfg.langs_max_detects)


def page_languages(root: Path) -> dict[str, list[list[str]]]:
    """language -> list of pages, each a list of gold paragraphs (lines)."""
    by_lang: dict[str, list[list[str]]] = {}
    for name in SETS:
        folder = root / name
        manifest = folder / "manifest.jsonl"
        if not manifest.is_file():
            continue
        for line in manifest.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            gold_file = folder / entry["id"] / "gold.txt"
            if not gold_file.is_file():
                continue
            gold = gold_file.read_text(encoding="utf-8")
            if "lorem ipsum" in gold.lower() or len(gold) < 1500:
                continue
            found, score = detect_language(gold, sample_chars=2000)
            given = (entry.get("lang") or "").split("-")[0].lower()
            if given and given != found or not given and score < 0.99 or found == "und":
                continue
            if found == "en" and len(by_lang.get("en", [])) >= ENGLISH_PAGES:
                continue
            shortest = MIN_PARAGRAPH_CJK if found in ("zh", "ja", "ko") else MIN_PARAGRAPH
            paragraphs = [l.strip() for l in gold.splitlines() if len(l.strip()) >= shortest]
            if sum(map(len, paragraphs)) < 1000:
                continue
            by_lang.setdefault(found, []).append(paragraphs)
    return by_lang


def take(paragraphs: list[str], chars: int) -> list[str]:
    out, n = [], 0
    for p in paragraphs:
        if n >= chars:
            break
        out.append(p)
        n += len(p)
    return out


def build_documents(by_lang: dict[str, list[list[str]]], chars: int) -> list[list[tuple[str, str]]]:
    """Mixed documents as lists of (paragraph, true language)."""
    langs = sorted(by_lang)
    pairs = [("en", l) for l in langs if l != "en"] + [
        (a, b) for a, b in itertools.combinations([l for l in langs if l != "en"], 2)]
    docs = []
    for n, (a, b) in enumerate(pairs):
        for k, (share, order) in enumerate(itertools.product(SHARES, ORDERS)):
            pa = by_lang[a][(n + k) % len(by_lang[a])]
            pb = by_lang[b][(n + 2 * k + 1) % len(by_lang[b])]
            part_a = [(p, a) for p in take(pa, int(chars * share))]
            part_b = [(p, b) for p in take(pb, int(chars * (1 - share)))]
            if order == "AB":
                doc = part_a + part_b
            elif order == "BA":
                doc = part_b + part_a
            else:
                half = len(part_a) // 2
                doc = part_a[:half] + part_b + part_a[half:]
            docs.append(doc)
    return docs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus-root", type=Path, default=DEFAULT_ROOT)
    ap.add_argument("--chars", type=int, default=4000, help="length of a mixed document (characters)")
    args = ap.parse_args(argv)
    if not (args.corpus_root / "dev").is_dir():
        print(f"corpus not found: {args.corpus_root}", file=sys.stderr)
        return 2
    cfg = CleanConfig()
    kwargs = mix_kwargs(cfg)
    by_lang = page_languages(args.corpus_root)
    docs = build_documents(by_lang, args.chars)
    long_total = long_right = 0
    errors: list[float] = []
    within = main_right = 0
    started = time.perf_counter()
    confusions: dict[tuple[str, str], int] = {}
    for doc in docs:
        paragraphs = [p for p, _ in doc]
        mix = detect_languages(paragraphs, **kwargs)
        for (p, truth), got in zip(doc, mix.paragraphs):
            if len(p) >= 200:
                long_total += 1
                long_right += got == truth
                if got != truth:
                    confusions[(truth, got)] = confusions.get((truth, got), 0) + 1
        total = sum(len(p) for p in paragraphs)
        true_share: dict[str, float] = {}
        for p, l in doc:
            true_share[l] = true_share.get(l, 0.0) + len(p) / total
        got_share = dict(mix.langs)
        errs = [abs(got_share.get(l, 0.0) - s) for l, s in true_share.items()]
        errors.extend(errs)
        within += max(errs) <= 0.1
        main_right += mix.lang == max(true_share, key=true_share.get)
    elapsed = time.perf_counter() - started
    mono_docs = [(lang, p) for lang, pages in by_lang.items() for p in pages]
    mixed_mono = wrong_mono = 0
    for lang, paragraphs in mono_docs:
        mix = detect_languages(paragraphs, **kwargs)
        mixed_mono += len(mix.langs) > 1
        wrong_mono += mix.lang != lang
    print(f"pages by language: {', '.join(f'{l} {len(p)}' for l, p in sorted(by_lang.items()))}")
    print(f"{len(docs)} mixed documents ({len(SHARES)} shares x {len(ORDERS)} orders per pair), "
          f"{elapsed / max(1, len(docs)) * 1000:.1f} ms per document")
    print(f"paragraph accuracy (>= 200 chars): {long_right / max(1, long_total):.3f} ({long_right}/{long_total})")
    print(f"share error: mean {sum(errors) / max(1, len(errors)):.3f}, max {max(errors, default=0):.3f}; "
          f"documents with every share within 0.1: {within / max(1, len(docs)):.3f}")
    print(f"main language = larger part: {main_right / max(1, len(docs)):.3f}")
    print(f"monolingual gold texts: {len(mono_docs)}, tagged mixed {mixed_mono / max(1, len(mono_docs)):.3f}, "
          f"main language wrong {wrong_mono / max(1, len(mono_docs)):.3f}")
    if confusions:
        worst = sorted(confusions.items(), key=lambda kv: -kv[1])[:8]
        print("most frequent paragraph errors (true -> tagged): "
              + ", ".join(f"{t}->{g} {n}" for (t, g), n in worst))
    return 0


if __name__ == "__main__":
    sys.exit(main())
