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

``metric="wcxb"``: the Web Content Extraction Benchmark's metric (``corpus/README.md``): per page,
bags of lower-cased ``\\w+`` tokens, precision = overlap / output tokens, recall = overlap /
gold tokens, F1 per page; the scores are the means of per-page P, R and F1 (an empty output
scores 0 on all three), and the snippet rates: the share of a page's ``with`` snippets found in
the output (lower-cased substring) and of its ``without`` snippets (lower is better), averaged
over the pages that have them. Pages are also scored per ``page_type`` when the corpus
manifest (``manifest.jsonl``) gives one. ``page.html.gz`` is read where ``page.html`` is absent.
"""
from __future__ import annotations

import gzip
import json
import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, NamedTuple

from .normalize import word_key

_TOKEN = re.compile(r"\w+")
INPUT_FILES = {"dump": "dump.txt", "article": "article.txt", "html": "page.html"}
METRICS = ("shingle", "wcxb")


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


@dataclass(frozen=True)
class WcxbScore:
    """One page under the WCXB metric (token bags, lower-cased)."""

    precision: float
    recall: float
    f1: float
    with_found: float | None = None  # share of the page's ``with`` snippets in the output
    without_found: float | None = None  # share of its ``without`` snippets in the output


def _snippet_rate(snippets: list[str] | None, output_lower: str) -> float | None:
    if not snippets:
        return None
    return sum(s.lower() in output_lower for s in snippets) / len(snippets)


def wcxb_score(output: str, gold: str, with_: list[str] | None = None,
               without: list[str] | None = None) -> WcxbScore:
    """P, R and F1 of the lower-cased ``\\w+`` token bags; an empty output scores 0."""
    lower = (output or "").lower()
    out, ref = Counter(_TOKEN.findall(lower)), Counter(_TOKEN.findall((gold or "").lower()))
    overlap = sum((out & ref).values())
    n_out, n_ref = sum(out.values()), sum(ref.values())
    p = overlap / n_out if n_out else 0.0
    r = overlap / n_ref if n_ref else 0.0
    f1 = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return WcxbScore(p, r, f1, _snippet_rate(with_, lower), _snippet_rate(without, lower))


def aggregate_wcxb(scores: list[WcxbScore]) -> dict[str, float]:
    """Means of per-page P, R, F1 and of the snippet rates (over pages that have snippets)."""
    def mean(values: list[float]) -> float:
        return sum(values) / len(values) if values else 0.0

    withs = [s.with_found for s in scores if s.with_found is not None]
    withouts = [s.without_found for s in scores if s.without_found is not None]
    return {"P": mean([s.precision for s in scores]), "R": mean([s.recall for s in scores]),
            "F1": mean([s.f1 for s in scores]), "with_found": mean(withs), "without_found": mean(withouts)}


def normalize_line(text: str) -> str:
    """Lower-cased ``\\w+`` tokens joined by one space (for 'is this line gold content?')."""
    return word_key(text)


class Page(NamedTuple):
    """One gold page of a corpus: its id, the input text, the gold text and its manifest entry."""

    id: str
    source: str
    gold: str
    meta: dict[str, Any]


def read_manifest(root: Path) -> dict[str, dict[str, Any]]:
    """``manifest.jsonl`` of a corpus folder by page id ({} when there is none)."""
    path = root / "manifest.jsonl"
    if not path.is_file():
        return {}
    entries = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return {str(e["id"]): e for e in entries if "id" in e}


def input_path(page: Path, input_kind: str) -> Path | None:
    """The page's input file for ``input_kind`` (``page.html.gz`` where ``page.html`` is absent)."""
    src = page / INPUT_FILES[input_kind]
    if src.is_file():
        return src
    packed = src.with_name(src.name + ".gz")
    return packed if packed.is_file() else None


def read_input(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return data.decode("utf-8")


def iter_pages(corpus_dir: str | Path, input_kind: str) -> Iterator[Page]:
    """Every page folder holding the input and ``gold.txt``, sorted by id, with its manifest entry."""
    if input_kind not in INPUT_FILES:
        raise ValueError(f"input_kind must be one of {sorted(INPUT_FILES)}, not {input_kind!r}")
    root = Path(corpus_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {root}")
    manifest = read_manifest(root)
    for page in sorted(p for p in root.iterdir() if p.is_dir()):
        src, gold = input_path(page, input_kind), page / "gold.txt"
        if src is not None and gold.is_file():
            yield Page(page.name, read_input(src), gold.read_text(encoding="utf-8"), manifest.get(page.name, {}))


def iter_corpus(corpus_dir: str | Path, input_kind: str) -> Iterator[tuple[str, str, str]]:
    """(page id, input text, gold text) for every page folder holding both files, sorted by id."""
    for page in iter_pages(corpus_dir, input_kind):
        yield page.id, page.source, page.gold


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
    corpus_dir: str | Path, input_kind: str, clean_fn: Callable[[str], Any], metric: str = "shingle"
) -> dict[str, Any]:
    """Run ``clean_fn`` on every page's input and score its text against the gold.

    ``clean_fn(input_text)`` returns a record dict with ``text`` and ``removed``
    ([{reason, rule, text}]), a plain string, or None for a rejected document.
    ``metric``: ``shingle`` (the dev corpus's) or ``wcxb`` (see the module docstring).
    Returns P, R, F1, empty (outputs without tokens), docs, docs_per_s (cleaning time only),
    per-document scores, a per-rule table of removed lines and, when the manifest gives page
    types, the same figures per ``page_type`` (``by_type``).
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, not {metric!r}")
    scores: list[Any] = []
    types: list[str | None] = []
    per_doc: list[dict[str, Any]] = []
    rules: dict[str, dict[str, float]] = {}
    empty = 0
    elapsed = 0.0
    for page in iter_pages(corpus_dir, input_kind):
        doc_id, gold = page.id, page.gold
        t0 = time.perf_counter()
        text, removed = _as_record(clean_fn(page.source))
        elapsed += time.perf_counter() - t0
        if not tokens(text):
            empty += 1
        if metric == "wcxb":
            s = wcxb_score(text, gold, page.meta.get("with"), page.meta.get("without"))
            per_doc.append({"id": doc_id, "P": s.precision, "R": s.recall, "F1": s.f1, "empty": not tokens(text)})
        else:
            s = score_document(text, gold)
            per_doc.append({"id": doc_id, "P": s.precision, "R": s.recall, "empty": not tokens(text)})
        scores.append(s)
        types.append(page.meta.get("page_type"))
        per_doc[-1]["page_type"] = types[-1]
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
    combine = aggregate_wcxb if metric == "wcxb" else aggregate
    result: dict[str, Any] = combine(scores)
    by_type: dict[str, dict[str, Any]] = {}
    for page_type in sorted({t for t in types if t}):
        chosen = [s for s, t in zip(scores, types) if t == page_type]
        by_type[page_type] = dict(combine(chosen), docs=len(chosen),
                                  empty=sum(1 for d in per_doc if d["page_type"] == page_type and d["empty"]))
    result.update(
        input=input_kind,
        metric=metric,
        docs=len(scores),
        empty=empty,
        by_type=by_type,
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
    snippets = ("  with={with_found:.3f}  without={without_found:.3f}" if "with_found" in result else "")
    lines = [
        f"input={result.get('input', '?')}  metric={result.get('metric', 'shingle')}  docs={result['docs']}  "
        f"P={result['P']:.3f}  R={result['R']:.3f}  F1={result['F1']:.3f}  "
        f"empty={result['empty']}  docs/s={result['docs_per_s']:.1f}" + snippets.format(**result)
    ]
    by_type = result.get("by_type") or {}
    if by_type:
        lines.append("")
        lines.append(f"{'page_type':<16} {'docs':>5} {'P':>6} {'R':>6} {'F1':>6} {'empty':>5}")
        for page_type, row in by_type.items():
            lines.append(f"{page_type:<16} {row['docs']:>5} {row['P']:>6.3f} {row['R']:>6.3f} {row['F1']:>6.3f} "
                         f"{row['empty']:>5}")
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
