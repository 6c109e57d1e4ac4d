"""Score a cleaner against a gold corpus with the shingle metric of the ScrapingHub benchmark.

Corpus layout (``corpus_dir``): one folder per page, each holding ``gold.txt`` (the true
article body) and one or more inputs: ``dump.txt`` (whole-page text dump, one text node a
line), ``article.txt`` (the same for the ``<article>``/``<main>`` region) and ``page.html``
(the saved page). Folders without ``gold.txt`` or without the requested input are skipped.

The metric (``corpus/README.md``): per document, ``\\w+`` tokens (Unicode, case kept) form
4-token shingles (a text with fewer than 4 tokens forms one shingle of all its tokens),
counted as multisets; tp = |gold ∩ out|, fp = |out| - tp, fn = |gold| - tp, normalized by
tp + fp + fn. Precision is the mean over documents with output (tp + fp > 0), recall the mean
over documents with gold (tp + fn > 0), F1 = 2PR / (P + R) of the two means. Empty outputs
only cost recall, so they are counted and reported.
"""
from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from .normalize import word_key

_TOKEN = re.compile(r"\w+")
INPUT_FILES = {"dump": "dump.txt", "article": "article.txt", "html": "page.html"}


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text or "")


def shingles(text: str, n: int = 4) -> Counter:
    """Multiset of n-token shingles; fewer than n tokens make one shingle, none make none."""
    toks = tokens(text)
    if not toks:
        return Counter()
    if len(toks) < n:
        return Counter([tuple(toks)])
    return Counter(tuple(toks[i : i + n]) for i in range(len(toks) - n + 1))


@dataclass(frozen=True)
class DocScore:
    tp: float  # normalized: tp / (tp + fp + fn)
    fp: float
    fn: float

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp > 0 else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn > 0 else None


def score_document(output: str, gold: str) -> DocScore:
    """Normalized tp/fp/fn of one output against its gold."""
    out, ref = shingles(output), shingles(gold)
    tp = sum((out & ref).values())
    fp = sum(out.values()) - tp
    fn = sum(ref.values()) - tp
    total = tp + fp + fn
    if total == 0:
        return DocScore(0.0, 0.0, 0.0)
    return DocScore(tp / total, fp / total, fn / total)


def aggregate(scores: list[DocScore]) -> dict[str, float]:
    """P, R (means over documents where defined) and F1 of the means."""
    ps = [s.precision for s in scores if s.precision is not None]
    rs = [s.recall for s in scores if s.recall is not None]
    p = sum(ps) / len(ps) if ps else 0.0
    r = sum(rs) / len(rs) if rs else 0.0
    f1 = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return {"P": p, "R": r, "F1": f1}


def normalize_line(text: str) -> str:
    """Lower-cased ``\\w+`` tokens joined by one space (for 'is this line gold content?')."""
    return word_key(text)


def iter_corpus(corpus_dir: str | Path, input_kind: str) -> Iterator[tuple[str, str, str]]:
    """(page id, input text, gold text) for every page folder holding both files, sorted by id."""
    if input_kind not in INPUT_FILES:
        raise ValueError(f"input_kind must be one of {sorted(INPUT_FILES)}, not {input_kind!r}")
    root = Path(corpus_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {root}")
    for page in sorted(p for p in root.iterdir() if p.is_dir()):
        src, gold = page / INPUT_FILES[input_kind], page / "gold.txt"
        if src.is_file() and gold.is_file():
            yield page.name, src.read_text(encoding="utf-8"), gold.read_text(encoding="utf-8")


def _as_record(result: Any) -> tuple[str, list[dict[str, str]]]:
    """Accept a record dict (``text``, ``removed``), a plain string, or None (rejected)."""
    if result is None:
        return "", []
    if isinstance(result, str):
        return result, []
    if isinstance(result, dict):
        return result.get("text") or "", list(result.get("removed") or [])
    raise TypeError(f"clean function returned {type(result).__name__}, expected dict or str")


def evaluate_corpus(
    corpus_dir: str | Path, input_kind: str, clean_fn: Callable[[str], Any]
) -> dict[str, Any]:
    """Run ``clean_fn`` on every page's input and score its text against the gold.

    ``clean_fn(input_text)`` returns a record dict with ``text`` and ``removed``
    ([{reason, rule, text}]), a plain string, or None for a rejected document.
    Returns P, R, F1, empty (outputs without tokens), docs, docs_per_s (cleaning time only),
    per-document scores and a per-rule table of removed lines.
    """
    scores: list[DocScore] = []
    per_doc: list[dict[str, Any]] = []
    rules: dict[str, dict[str, float]] = {}
    empty = 0
    elapsed = 0.0
    for doc_id, source, gold in iter_corpus(corpus_dir, input_kind):
        t0 = time.perf_counter()
        text, removed = _as_record(clean_fn(source))
        elapsed += time.perf_counter() - t0
        if not tokens(text):
            empty += 1
        s = score_document(text, gold)
        scores.append(s)
        per_doc.append({"id": doc_id, "P": s.precision, "R": s.recall, "empty": not tokens(text)})
        gold_key = " " + normalize_line(gold) + " "
        for item in removed:
            rule = item.get("rule") or item.get("reason") or "?"
            row = rules.setdefault(rule, {"lines": 0, "gold_lines": 0, "tokens": 0, "gold_tokens": 0})
            key = normalize_line(item.get("text", ""))
            n = len(key.split()) if key else 0
            is_gold = bool(key) and (" " + key + " ") in gold_key
            row["lines"] += 1
            row["tokens"] += n
            if is_gold:
                row["gold_lines"] += 1
                row["gold_tokens"] += n
    result: dict[str, Any] = aggregate(scores)
    result.update(
        input=input_kind,
        docs=len(scores),
        empty=empty,
        docs_per_s=len(scores) / elapsed if elapsed > 0 else float("inf"),
        rules={
            rule: dict(
                row,
                fp_rate=row["gold_lines"] / row["lines"] if row["lines"] else 0.0,
            )
            for rule, row in sorted(rules.items(), key=lambda kv: -kv[1]["lines"])
        },
        per_doc=per_doc,
    )
    return result


def format_report(result: dict[str, Any], max_rules: int = 40) -> str:
    """Human-readable summary: the headline figures, then removed lines per rule."""
    lines = [
        f"input={result.get('input', '?')}  docs={result['docs']}  "
        f"P={result['P']:.3f}  R={result['R']:.3f}  F1={result['F1']:.3f}  "
        f"empty={result['empty']}  docs/s={result['docs_per_s']:.1f}"
    ]
    rules = result.get("rules") or {}
    if rules:
        lines.append("")
        lines.append(f"{'rule':<40} {'removed':>8} {'gold%':>6} {'tokens':>8} {'goldtok%':>8}")
        for rule, row in list(rules.items())[:max_rules]:
            tok_share = row["gold_tokens"] / row["tokens"] if row["tokens"] else 0.0
            lines.append(
                f"{rule[:40]:<40} {row['lines']:>8} {100 * row['fp_rate']:>5.1f}% "
                f"{row['tokens']:>8} {100 * tok_share:>7.1f}%"
            )
        if len(rules) > max_rules:
            lines.append(f"... {len(rules) - max_rules} more rules")
        lines.append("gold% = removed lines whose text occurs in the gold (false positives)")
    return "\n".join(lines)


def default_clean_fn(input_kind: str, cfg: Any = None) -> Callable[[str], Any]:
    """The library's own cleaner for an input kind: ``clean_html`` for html, else ``clean_text``."""
    from .clean import clean_html, clean_text

    if input_kind == "html":
        return lambda source: clean_html(source, cfg)
    return lambda source: clean_text(source, cfg)
