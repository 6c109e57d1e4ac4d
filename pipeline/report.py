"""Audit report for one clean partition: ``<partition>/_report.html``.

One self-contained HTML page (inline CSS and SVG, no scripts, no network assets) with

1. a bar chart of removed spans by reason,
2. the language mix,
3. the quality score (``quality``): its distribution and the lowest-scored documents,
4. the most frequent removed lines (normalized), with their reason,
5. rejects by reason (with a few examples),
6. a deterministic sample of documents: the text with removed spans struck through (``<del>``),
   labelled with their reason (rule id in the ``title`` attribute), in the original order,
7. when the records carry ``markdown``: headings and list items found, and each sampled
   document's Markdown.

The part files are streamed once and memory does not grow with the partition: counters of
removed lines are pruned to the most frequent ones, and only the sampled documents are kept
(bottom-k by a hash of the id: the same ids are chosen on every run, spread over the partition).
"""
from __future__ import annotations

import hashlib
import heapq
import html
import json
import os
import re
import unicodedata
from collections import Counter, deque
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, NamedTuple, TextIO

REPORT_NAME = "_report.html"

# Bounds: memory and page size stay flat however big the partition is.
LINES_PRUNE_AT = 50_000  # distinct removed lines tracked before pruning …
LINES_KEEP = 10_000  # … down to the most frequent ones
TOP_LINES_SHOWN = 50
TOP_RULES_SHOWN = 30
REJECT_EXAMPLES = 3  # per reason
REJECT_REASONS_WITH_EXAMPLES = 50
LINE_KEY_CHARS = 200  # a normalized removed line is cut to this length
DOC_MAX_ITEMS = 300  # paragraphs + removed spans shown per document
DOC_MAX_CHARS = 30_000
ITEM_MAX_CHARS = 3_000
QUALITY_BINS = 10  # histogram of ``quality`` over 0..1
LOWEST_SHOWN = 20  # documents with the lowest ``quality``

PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
           "#ff9da7", "#9c755f", "#bab0ac", "#1f77b4", "#d62728", "#2ca02c", "#9467bd")


REASON_COLOURS = {  # the reasons README lists; any other reason gets a palette colour by hash
    "title": "#6b7280", "donation_appeal": "#e15759", "photo_credit": "#b07aa1", "navigation": "#4e79a7",
    "share": "#76b7b2", "newsletter": "#f28e2b", "cookie_notice": "#9c755f", "advertisement": "#d62728",
    "payment_widget": "#edc948", "legal": "#59a14f", "comments": "#ff9da7", "site_boilerplate": "#1f77b4",
    "boilerplate": "#8c8c8c",
}


def reason_colour(reason: str) -> str:
    """The same colour for a reason in every report (chart bars and document labels)."""
    if reason in REASON_COLOURS:
        return REASON_COLOURS[reason]
    digest = hashlib.blake2b(reason.encode("utf-8"), digest_size=2).digest()
    return PALETTE[int.from_bytes(digest, "big") % len(PALETTE)]


def sample_key(doc_id: str) -> int:
    """Deterministic, well-spread rank of a document id for bottom-k sampling."""
    return int.from_bytes(hashlib.blake2b(doc_id.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big")


_WS = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")


@lru_cache(maxsize=1 << 16)  # removed lines repeat (menus, footers): most keys are cache hits
def normalize_line(text: str) -> str:
    """Key for counting removed lines: NFKC, case-folded, digit runs → ``#``, whitespace collapsed."""
    key = _WS.sub(" ", _DIGITS.sub("#", unicodedata.normalize("NFKC", text).casefold())).strip()
    return key if len(key) <= LINE_KEY_CHARS else key[:LINE_KEY_CHARS] + "…"


def _clip(text: str, limit: int = ITEM_MAX_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + f" … [{len(text) - limit} more characters]"


def interleave(record: dict[str, Any]) -> tuple[list[tuple[str, dict | None]], bool]:
    """The document's lines in input order: ``(text, None)`` kept, ``(text, span)`` removed.

    Uses each removed span's ``at`` (its position among the decided lines); kept paragraphs of
    ``text`` fill the other positions in order. Returns ``(items, exact)``; without usable ``at``
    fields (older records) the kept paragraphs come first, then the removed spans, and ``exact``
    is False.
    """
    text = record.get("text") or ""
    paragraphs = text.split("\n\n") if text else []
    removed = [r for r in record.get("removed") or [] if isinstance(r, dict)]
    ats = [r.get("at") for r in removed]
    total = len(paragraphs) + len(removed)
    if not all(isinstance(a, int) and not isinstance(a, bool) and 0 <= a < total for a in ats) \
            or len(set(ats)) != len(ats):
        return [(p, None) for p in paragraphs] + [(str(r.get("text", "")), r) for r in removed], not removed
    at_map = {a: r for a, r in zip(ats, removed)}
    items: list[tuple[str, dict | None]] = []
    kept = iter(paragraphs)
    for pos in range(total):
        span = at_map.get(pos)
        if span is not None:
            items.append((str(span.get("text", "")), span))
        else:
            para = next(kept, None)
            if para is not None:
                items.append((para, None))
    items.extend((p, None) for p in kept)
    return items, True


@dataclass
class SampledDoc:
    order: int  # position in the partition (part files sorted, then line)
    id: str
    title: str | None
    url: str | None
    source: str | None
    lang: str
    lang_score: Any
    stats: dict
    items: list[tuple[str, dict | None]]
    exact: bool
    hidden_items: int
    markdown: str | None = None  # the record's Markdown (clipped), when it has one


def _compact(order: int, rec: dict[str, Any]) -> SampledDoc:
    items, exact = interleave(rec)
    shown: list[tuple[str, dict | None]] = []
    chars = 0
    for text, span in items:
        if len(shown) >= DOC_MAX_ITEMS or chars >= DOC_MAX_CHARS:
            break
        clipped = _clip(text)
        chars += len(clipped)
        shown.append((clipped, {"reason": span.get("reason"), "rule": span.get("rule")} if span is not None else None))
    stats = rec.get("stats") if isinstance(rec.get("stats"), dict) else {}
    md = rec.get("markdown")
    return SampledDoc(order, str(rec.get("id", "")), rec.get("title"), rec.get("url"), rec.get("source"),
                      str(rec.get("lang") or "und"), rec.get("lang_score"),
                      {k: v for k, v in stats.items() if isinstance(v, (int, float))},
                      shown, exact, len(items) - len(shown),
                      _clip(md, DOC_MAX_CHARS) if isinstance(md, str) else None)


class DocCounts(NamedTuple):
    """What the report counts of one clean document: from its record, or from the Document
    itself where it is cleaned (``of_document``, no JSON to parse)."""

    id: str
    lang: str
    chars_in: int
    chars_out: int
    spans: list[tuple[str, str, str, int]]  # removed: (normalized line, reason, rule, characters)
    lang_chars: tuple[tuple[str, int], ...] = ()  # clean characters per language (from ``langs``)
    quality: float | None = None  # the record's ``quality`` (None: not scored)
    title: str = ""
    structure: tuple[int, int] | None = None  # (headings, list items) of its Markdown, if rendered

    @classmethod
    def of_record(cls, rec: dict[str, Any]) -> "DocCounts":
        """From a record as read back (checked: part files may be edited by hand)."""
        stats = rec.get("stats") if isinstance(rec.get("stats"), dict) else {}
        spans = []
        for span in rec.get("removed") or ():
            if isinstance(span, dict):
                text = str(span.get("text") or "")
                spans.append((normalize_line(text), str(span.get("reason") or "boilerplate"),
                              str(span.get("rule") or ""), len(text)))
        chars_out = _count(stats.get("chars_out"))
        md = rec.get("markdown")
        return cls(str(rec.get("id", "")), str(rec.get("lang") or "und"), _count(stats.get("chars_in")),
                   chars_out, spans, _lang_chars(rec.get("langs"), chars_out), _quality(rec.get("quality")),
                   str(rec.get("title") or ""), markdown_structure(md) if isinstance(md, str) else None)

    @classmethod
    def of_document(cls, doc: Any) -> "DocCounts":
        """From a cleaned ``pipeline.document.Document`` (what its record would give)."""
        spans = [(normalize_line(d.text), d.reason or "boilerplate", d.rule or "", len(d.text))
                 for d in doc.decisions if not d.keep]
        chars_out = doc.stats.get("chars_out", 0)
        md = getattr(doc, "markdown", None)
        structure = markdown_structure(md) if md is not None else None
        return cls(doc.id, doc.lang or "und", doc.stats.get("chars_in", 0), chars_out, spans,
                   _lang_chars(doc.langs, chars_out), _quality(doc.quality), doc.title or "", structure)


def _quality(value: Any) -> float | None:
    """A record's ``quality`` when it is a number in 0..1 (checked: files may be edited)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0.0 <= value <= 1.0:
        return float(value)
    return None


def _quality_bin(quality: float) -> int:
    return min(int(quality * QUALITY_BINS), QUALITY_BINS - 1)


_MD_HEADING = re.compile(r"^(?:> ?)*#{1,6} ", re.MULTILINE)
_MD_ITEM = re.compile(r"^(?:> ?)*\s*(?:[-*+]|\d{1,9}[.)]) ", re.MULTILINE)


def markdown_structure(md: str) -> tuple[int, int]:
    """(headings, list items) of a record's Markdown."""
    return len(_MD_HEADING.findall(md)), len(_MD_ITEM.findall(md))


def _lang_chars(langs: Any, chars_out: int) -> tuple[tuple[str, int], ...]:
    """A record's ``langs`` shares as characters of its clean text (checked: files may be edited)."""
    out = []
    for entry in langs if isinstance(langs, list) else ():
        if isinstance(entry, dict) and isinstance(entry.get("share"), (int, float)):
            out.append((str(entry.get("lang") or "und"), round(entry["share"] * chars_out)))
    return tuple(out)


_LINE_REASON, _REASON, _RULE, _CHARS = itemgetter(0, 1), itemgetter(1), itemgetter(2), itemgetter(3)


def _consume(iterator: Iterator[Any]) -> None:
    deque(iterator, maxlen=0)


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


@dataclass
class PartitionScan:
    """Bounded-memory summary of one partition, built in one pass over its files.

    With ``keep_docs`` off, the sample holds only which documents were chosen (``sample_orders``);
    their records are read back later (``fill_sample``). That is how a partition's shards scan
    their own records and the partition merges the scans (``state``, ``merge``).
    """

    max_docs: int = 200
    keep_docs: bool = True
    documents: int = 0
    bad_lines: int = 0
    chars_in: int = 0
    chars_out: int = 0
    removed_by_reason: Counter = field(default_factory=Counter)
    removed_chars_by_reason: Counter = field(default_factory=Counter)
    langs: Counter = field(default_factory=Counter)
    lang_chars: Counter = field(default_factory=Counter)  # clean characters per language (paragraphs)
    mixed_docs: int = 0  # documents with more than one language in ``langs``
    quality_bins: list = field(default_factory=lambda: [0] * QUALITY_BINS)  # documents per 0.1 of quality
    quality_none: int = 0  # documents without a quality score
    _lowest: list = field(default_factory=list)  # max-heap of the lowest: (-quality, -order, id, title)
    rules: Counter = field(default_factory=Counter)
    rule_reason: dict = field(default_factory=dict)
    lines: Counter = field(default_factory=Counter)  # (normalized line, reason) → count
    line_rule: dict = field(default_factory=dict)  # (normalized line, reason) → a rule id
    pruned: bool = False
    rejects: Counter = field(default_factory=Counter)
    reject_examples: dict = field(default_factory=dict)
    rejects_present: bool = False
    part_files: int = 0
    markdown_docs: int = 0  # documents whose records carry ``markdown``
    headings: int = 0  # headings and list items in their Markdown
    list_items: int = 0
    _heap: list = field(default_factory=list)  # max-heap on sample key via negation

    def add_record(self, order: int, rec: dict[str, Any]) -> None:
        self.add_counts(order, DocCounts.of_record(rec), rec)

    def add_counts(self, order: int, counts: "DocCounts", rec: dict[str, Any] | None = None) -> None:
        """Count one clean document; ``rec``, its record, is needed to sample it when ``keep_docs``."""
        self.documents += 1
        self.langs[counts.lang] += 1
        for lang, chars in counts.lang_chars:
            self.lang_chars[lang] += chars
        self.mixed_docs += len(counts.lang_chars) > 1
        self._add_quality(counts.quality, order, counts.id, counts.title)
        if counts.structure is not None:
            self.markdown_docs += 1
            self.headings += counts.structure[0]
            self.list_items += counts.structure[1]
        self.chars_in += counts.chars_in
        self.chars_out += counts.chars_out
        # A dump has ~170 removed lines: per-span work stays in C (map, zip, Counter, setdefault).
        spans = counts.spans
        reasons = list(map(_REASON, spans))
        rules = list(map(_RULE, spans))
        keys = list(map(_LINE_REASON, spans))
        self.removed_by_reason.update(reasons)
        chars_by_reason = self.removed_chars_by_reason
        for reason, chars in zip(reasons, map(_CHARS, spans)):
            chars_by_reason[reason] += chars
        self.rules.update(rules)
        self.lines.update(keys)
        _consume(map(self.line_rule.setdefault, keys, rules))  # the first rule seen for a line
        _consume(map(self.rule_reason.setdefault, rules, reasons))
        self._prune()
        self._offer(sample_key(counts.id), order,
                    (lambda: _compact(order, rec)) if self.keep_docs and rec is not None else None)

    def _add_quality(self, quality: float | None, order: int, doc_id: str, title: str) -> None:
        if quality is None:
            self.quality_none += 1
            return
        self.quality_bins[_quality_bin(quality)] += 1
        self._add_quality_entry(quality, order, doc_id, title)

    def _add_quality_entry(self, quality: float, order: int, doc_id: str, title: str) -> None:
        entry = (-quality, -order, doc_id, _clip(title, 200))
        if len(self._lowest) < LOWEST_SHOWN:
            heapq.heappush(self._lowest, entry)
        elif entry > self._lowest[0]:  # lower quality (or the same, earlier in the partition)
            heapq.heapreplace(self._lowest, entry)

    def rename(self, id_at: Callable[[int], str]) -> None:
        """Give the lowest-quality documents their final ids (``id_at``: partition order → id),
        once the partition has made ids unique across its shards."""
        self._lowest = [(q, o, id_at(-o), t) for q, o, _, t in self._lowest]

    @property
    def lowest(self) -> list[tuple[float, int, str, str]]:
        """The lowest-quality documents, lowest first: (quality, partition order, id, title)."""
        return [(-q, -o, i, t) for q, o, i, t in sorted(self._lowest, reverse=True)]

    def _prune(self) -> None:
        """Keep the most frequent removed lines and rules once there are too many (memory bound)."""
        if len(self.lines) > LINES_PRUNE_AT:
            self.lines = Counter(dict(self.lines.most_common(LINES_KEEP)))
            self.line_rule = {k: self.line_rule[k] for k in self.lines}
            self.pruned = True
        if len(self.rules) > LINES_PRUNE_AT:
            self.rules = Counter(dict(self.rules.most_common(LINES_KEEP)))
            self.rule_reason = {k: self.rule_reason[k] for k in self.rules}
            self.pruned = True

    def _offer(self, key: int, order: int, make: Callable[[], SampledDoc] | None) -> None:
        """Keep the document if its (key, order) is among the ``max_docs`` smallest so far."""
        if self.max_docs <= 0:
            return
        if len(self._heap) < self.max_docs:
            heapq.heappush(self._heap, ((-key, -order), make() if make else None))
        elif (key, order) < (-self._heap[0][0][0], -self._heap[0][0][1]):
            heapq.heapreplace(self._heap, ((-key, -order), make() if make else None))

    def add_reject(self, rec: dict[str, Any]) -> None:
        reason = str(rec.get("reason") or "unknown")
        self.rejects[reason] += 1
        examples = self.reject_examples.get(reason)
        if examples is None:
            if len(self.reject_examples) >= REJECT_REASONS_WITH_EXAMPLES:
                return
            examples = self.reject_examples[reason] = []
        if len(examples) < REJECT_EXAMPLES:
            examples.append((str(rec.get("id", "")), _clip(str(rec.get("error") or ""), 300)))

    @property
    def sampled(self) -> list[SampledDoc]:
        return sorted((doc for _, doc in self._heap if doc is not None), key=lambda d: d.order)

    def sample_orders(self) -> list[int]:
        """Partition order of the sampled documents whose records are still to be read."""
        return sorted(-neg_order for (_, neg_order), doc in self._heap if doc is None)

    def fill_sample(self, records: dict[int, dict[str, Any]]) -> None:
        """Give the sampled documents their records, by partition order (see ``sample_orders``)."""
        self._heap = [(entry, doc if doc is not None else _compact(-entry[1], records[-entry[1]]))
                      for entry, doc in self._heap]  # same keys, same order: still a heap

    def state(self) -> dict[str, Any]:
        """The counts as JSON-ready data, for ``merge``; the sample as (key, order) pairs."""
        return {
            "documents": self.documents, "bad_lines": self.bad_lines, "part_files": self.part_files,
            "chars_in": self.chars_in, "chars_out": self.chars_out, "pruned": self.pruned,
            "removed_by_reason": self.removed_by_reason, "removed_chars_by_reason": self.removed_chars_by_reason,
            "langs": self.langs, "lang_chars": self.lang_chars, "mixed_docs": self.mixed_docs,
            "quality_bins": self.quality_bins, "quality_none": self.quality_none,
            "lowest": [list(entry) for entry in self.lowest],
            "markdown_docs": self.markdown_docs, "headings": self.headings, "list_items": self.list_items,
            "rules": self.rules, "rule_reason": self.rule_reason,
            "lines": [[line, reason, n, self.line_rule.get((line, reason))] for (line, reason), n in self.lines.items()],
            "rejects": self.rejects, "reject_examples": self.reject_examples,
            "rejects_present": self.rejects_present,
            "sampled": [[-neg_key, -neg_order] for (neg_key, neg_order), _ in self._heap],
        }

    def merge(self, state: dict[str, Any]) -> None:
        """Add a scan saved by ``state``, as if its documents came after ours.

        Scans of a partition's part files merged in order give the scan of the partition: the
        same counts, and the same sample (the smallest keys of all are among the smallest of
        each part), whose records ``fill_sample`` then reads.
        """
        offset = self.documents
        for name in ("documents", "bad_lines", "part_files", "chars_in", "chars_out"):
            setattr(self, name, getattr(self, name) + state[name])
        self.pruned |= state["pruned"]
        self.rejects_present |= state["rejects_present"]
        for name in ("removed_by_reason", "removed_chars_by_reason", "langs", "rules", "rejects"):
            getattr(self, name).update(state[name])
        self.lang_chars.update(state.get("lang_chars", {}))
        self.mixed_docs += state.get("mixed_docs", 0)
        self.quality_none += state.get("quality_none", 0)
        for i, n in enumerate(state.get("quality_bins", ())[:QUALITY_BINS]):
            self.quality_bins[i] += n
        for quality, order, doc_id, title in state.get("lowest", ()):
            self._add_quality_entry(quality, offset + order, doc_id, title)
        for name in ("markdown_docs", "headings", "list_items"):
            setattr(self, name, getattr(self, name) + state.get(name, 0))
        for rule, reason in state["rule_reason"].items():
            self.rule_reason.setdefault(rule, reason)
        for line, reason, n, rule in state["lines"]:
            self.lines[line, reason] += n
            self.line_rule.setdefault((line, reason), rule)
        self._prune()
        for reason, examples in state["reject_examples"].items():
            mine = self.reject_examples.get(reason)
            if mine is None:
                if len(self.reject_examples) >= REJECT_REASONS_WITH_EXAMPLES:
                    continue
                mine = self.reject_examples[reason] = []
            mine.extend(tuple(e) for e in examples[:REJECT_EXAMPLES - len(mine)])
        for key, order in state["sampled"]:
            self._offer(key, offset + order, None)


def _json_lines(path: Path) -> Iterable[dict[str, Any] | None]:
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                yield None
                continue
            yield obj if isinstance(obj, dict) else None


def scan_partition(partition_dir: Path, max_docs: int = 200) -> PartitionScan:
    """One pass over ``part-*.jsonl`` and ``_rejects.jsonl``."""
    scan = PartitionScan(max_docs=max_docs)
    order = 0
    for part in sorted(partition_dir.glob("part-*.jsonl")):
        scan.part_files += 1
        for rec in _json_lines(part):
            if rec is None:
                scan.bad_lines += 1
                continue
            scan.add_record(order, rec)
            order += 1
    # parts in the other output formats (luigi.cfg output_format): jsonl.gz, parquet, txt-dir
    from .writers import iter_records, output_format_of

    for part in sorted(partition_dir.glob("part-*")):
        fmt = output_format_of(part)
        if fmt in (None, "jsonl"):
            continue
        scan.part_files += 1
        for rec in iter_records(fmt, part):
            scan.add_record(order, rec)
            order += 1
    rejects = partition_dir / "_rejects.jsonl"
    if rejects.is_file():
        scan.rejects_present = True
        for rec in _json_lines(rejects):
            if rec is None:
                scan.bad_lines += 1
                continue
            scan.add_reject(rec)
    return scan


# ---------------------------------------------------------------------------------------- HTML

def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


CSS = """
:root { --fg:#1d2125; --muted:#5f6b76; --line:#dde1e6; --bg:#fff; --soft:#f5f7f9; --del:#b3261e; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
       background: var(--bg); margin: 0 auto; max-width: 1100px; padding: 24px 28px 80px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 36px 0 10px;
     padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 0 0 4px; overflow-wrap: anywhere; }
.muted, .note { color: var(--muted); } .note { font-size: 13px; margin: 4px 0 10px; }
.warn { background: #fff4e5; border: 1px solid #f0c27b; padding: 8px 12px; border-radius: 6px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 14px 0; }
.card { background: var(--soft); border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; min-width: 120px; }
.card b { display: block; font-size: 20px; } .card span { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--soft); font-weight: 600; } td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
td.txt { overflow-wrap: anywhere; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
.meter { background: var(--soft); border-radius: 3px; height: 10px; min-width: 120px; }
.meter i { display: block; height: 10px; border-radius: 3px; background: #4e79a7; }
.tag { display: inline-block; color: #fff; border-radius: 4px; padding: 0 6px; font-size: 12px;
       line-height: 18px; white-space: nowrap; margin-right: 6px; }
svg.chart text { font: 12px system-ui, sans-serif; fill: var(--fg); }
svg.chart text.count { fill: var(--muted); }
.toc { columns: 2; font-size: 13px; padding-left: 20px; } .toc li { overflow-wrap: anywhere; }
.doc { border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; margin: 14px 0; }
.doc .meta { font-size: 12px; color: var(--muted); margin-bottom: 8px; overflow-wrap: anywhere; }
.doc .meta code { font-size: 12px; }
.doc p { margin: 0 0 8px; overflow-wrap: anywhere; white-space: pre-wrap; }
.doc pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f6f6; padding: 6px; }
.doc p.rm { background: #fdf1f0; border-left: 3px solid var(--del); padding: 1px 8px; }
.doc del { color: var(--del); text-decoration-thickness: 1px; }
"""


def _bar_chart(counts: Counter, chars: Counter) -> str:
    """Horizontal bars, one per reason, biggest first; each bar has data-reason / data-count."""
    if not counts:
        return '<p class="muted">No spans were removed.</p>'
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    label_w, bar_w, count_w, row_h, top = 170, 560, 110, 26, 8
    width, height = label_w + bar_w + count_w, top * 2 + row_h * len(rows)
    biggest = rows[0][1]
    total = sum(counts.values())
    parts = [f'<svg class="chart" id="removed-chart" role="img" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'aria-label="Removed spans by reason">']
    for i, (reason, n) in enumerate(rows):
        y = top + i * row_h
        w = max(2.0, bar_w * n / biggest)
        pct = 100.0 * n / total
        parts.append(
            f'<g class="bar" data-reason="{esc(reason)}" data-count="{n}">'
            f'<title>{esc(reason)}: {n} spans ({pct:.1f}%), {chars.get(reason, 0)} characters</title>'
            f'<text class="label" x="{label_w - 8}" y="{y + row_h / 2 + 4:.0f}" text-anchor="end">{esc(reason)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" rx="3" fill="{reason_colour(reason)}"/>'
            f'<text class="count" x="{label_w + w + 6:.1f}" y="{y + row_h / 2 + 4:.0f}">{n} ({pct:.0f}%)</text>'
            "</g>")
    parts.append("</svg>")
    return "".join(parts)


def _quality_section(scan: PartitionScan) -> str:
    """Histogram of ``quality`` (documents per tenth) and the lowest-scored documents."""
    scored = sum(scan.quality_bins)
    if not scored:
        return (f'<p class="muted">No document has a quality score'
                f'{f" ({scan.quality_none} without one)" if scan.quality_none else ""}.</p>')
    parts = ['<p class="note"><code>quality</code> predicts how clean a document\'s text is (0..1; README '
             '"Quality score"). Documents per tenth of the score'
             f'{f"; {scan.quality_none} documents have no score" if scan.quality_none else ""}.</p>',
             '<table id="quality-bins"><tr><th>quality</th><th class="n">documents</th><th class="n">share</th><th></th></tr>']
    for i, n in enumerate(scan.quality_bins):
        pct = 100.0 * n / scored
        upper = "]" if i == QUALITY_BINS - 1 else ")"
        parts.append(f'<tr data-bin="{i}"><td>[{i / QUALITY_BINS:.1f}, {(i + 1) / QUALITY_BINS:.1f}{upper}</td>'
                     f'<td class="n">{n}</td><td class="n">{pct:.1f}%</td>'
                     f'<td><div class="meter"><i style="width:{pct:.1f}%"></i></div></td></tr>')
    parts.append("</table>")
    parts.append(f'<h3>The {len(scan.lowest)} lowest</h3><table id="quality-lowest"><tr><th class="n">quality</th>'
                 "<th>id</th><th>title</th></tr>")
    for quality, _, doc_id, title in scan.lowest:
        parts.append(f'<tr><td class="n">{quality:.3f}</td><td class="txt">{esc(doc_id)}</td><td>{esc(title)}</td></tr>')
    parts.append("</table>")
    return "\n".join(parts)


def _tag(span: dict) -> str:
    reason = str(span.get("reason") or "boilerplate")
    rule = str(span.get("rule") or "")
    return (f'<span class="tag" style="background:{reason_colour(reason)}" title="rule: {esc(rule)}">'
            f"{esc(reason)}</span>")


def _doc_html(n: int, doc: SampledDoc) -> str:
    title = doc.title if doc.title else "(no title)"
    score = f" ({doc.lang_score})" if isinstance(doc.lang_score, (int, float)) else ""
    stats = ", ".join(f"{k} {v}" for k, v in doc.stats.items())
    out = [f'<article class="doc" id="doc-{n}" data-id="{esc(doc.id)}">',
           f"<h3>{esc(title)}</h3>",
           f'<div class="meta">id <code>{esc(doc.id)}</code> · lang <b>{esc(doc.lang)}</b>{esc(score)}']
    if doc.url:
        out.append(f" · url <code>{esc(doc.url)}</code>")
    if doc.source:
        out.append(f" · source <code>{esc(doc.source)}</code>")
    if stats:
        out.append(f"<br>{esc(stats)}")
    out.append("</div>")
    if not doc.exact:
        out.append('<p class="note">Original order unknown (record without <code>at</code>): '
                   "kept text first, then the removed spans.</p>")
    for text, span in doc.items:
        if span is None:
            out.append(f"<p>{esc(text)}</p>")
        else:
            out.append(f'<p class="rm">{_tag(span)}<del title="rule: {esc(span.get("rule") or "")}">'
                       f"{esc(text)}</del></p>")
    if doc.hidden_items:
        out.append(f'<p class="note">… {doc.hidden_items} more lines not shown.</p>')
    if doc.markdown is not None:
        heads, items = markdown_structure(doc.markdown)
        out.append(f'<details class="md"><summary>Markdown ({heads} headings, {items} list items)</summary>'
                   f"<pre>{esc(doc.markdown)}</pre></details>")
    out.append("</article>")
    return "\n".join(out)


def _summary_file(partition_dir: Path) -> dict[str, Any] | None:
    path = partition_dir / "_SUCCESS.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def render_report(partition_dir: Path, max_docs: int = 200, *, summary: dict[str, Any] | None = None,
                  scan: PartitionScan | None = None) -> str:
    """The report page for one partition folder, as a string.

    ``summary`` is the ``_SUCCESS.json`` content (read from the folder when not given; the
    Luigi task passes it because it writes the report just before that file). ``scan``: the
    partition's scan when the caller has it (the Luigi task merges its shards' scans), else
    the folder is scanned.
    """
    if isinstance(partition_dir, (str, os.PathLike)):  # else a tasks.storage.RemotePath (scan, summary given)
        partition_dir = Path(partition_dir)
    if scan is None:
        scan = scan_partition(partition_dir, max_docs)
    if summary is None:
        summary = _summary_file(partition_dir)
    name = partition_dir.name or str(partition_dir)
    removed_total = sum(scan.removed_by_reason.values())
    rejected_total = sum(scan.rejects.values())
    out: list[str] = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>decruft report · {esc(name)}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
        f"<h1>decruft audit report · {esc(name)}</h1>",
    ]
    meta = [f"partition <code>{esc(partition_dir)}</code>", f"{scan.part_files} part files"]
    if summary:
        version = summary.get("version") if isinstance(summary.get("version"), dict) else {}
        if version:
            meta.append(f"decruft {esc(version.get('decruft'))}, rules {esc(version.get('rules'))}")
        if summary.get("finished_at"):
            meta.append(f"finished {esc(summary.get('finished_at'))}")
    out.append(f'<p class="muted">{" · ".join(meta)}</p>')

    warnings = []
    if scan.bad_lines:
        warnings.append(f"{scan.bad_lines} unreadable JSON lines skipped.")
    if summary:
        for key, seen in (("cleaned", scan.documents), ("rejected", rejected_total)):
            if isinstance(summary.get(key), int) and summary[key] != seen:
                warnings.append(f"_SUCCESS.json says {key} = {summary[key]}, the files hold {seen}.")
    if not scan.rejects_present:
        warnings.append("No _rejects.jsonl in this folder.")
    for w in warnings:
        out.append(f'<p class="warn">{esc(w)}</p>')

    kept_pct = f"{100.0 * scan.chars_out / scan.chars_in:.1f}%" if scan.chars_in else "–"
    cards = [(scan.documents, "documents cleaned"), (rejected_total, "documents rejected"),
             (removed_total, "spans removed"), (len(scan.langs), "languages"),
             (f"{scan.chars_in:,}", "characters in"), (f"{scan.chars_out:,}", "characters out"),
             (kept_pct, "of characters kept")]
    out.append('<div class="cards">' + "".join(f"<div class=\"card\"><b>{esc(v)}</b><span>{esc(k)}</span></div>"
                                               for v, k in cards) + "</div>")

    # 1. removed spans by reason
    out.append('<h2 id="removed">Removed spans by reason</h2>')
    out.append(_bar_chart(scan.removed_by_reason, scan.removed_chars_by_reason))
    if scan.rules:
        out.append(f'<details><summary>Top {min(TOP_RULES_SHOWN, len(scan.rules))} rules</summary>'
                   '<table id="rules"><tr><th>rule</th><th>reason</th><th class="n">spans</th></tr>')
        for rule, n in sorted(scan.rules.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_RULES_SHOWN]:
            out.append(f"<tr><td><code>{esc(rule or '(none)')}</code></td><td>{esc(scan.rule_reason.get(rule))}</td>"
                       f'<td class="n">{n}</td></tr>')
        out.append("</table></details>")

    # 2. language mix
    out.append('<h2 id="languages">Language mix</h2>')
    if scan.langs:
        out.append('<p class="note">Documents by main language (<code>lang</code>), and characters of clean text '
                   'by the language of their paragraph (<code>langs</code>: each document tagged per paragraph). '
                   f'{scan.mixed_docs} of {scan.documents} documents hold more than one language.</p>')
        chars_total = sum(scan.lang_chars.values())
        out.append('<table id="langs"><tr><th>lang</th><th class="n">documents</th><th class="n">share</th><th></th>'
                   '<th class="n">characters (paragraphs)</th><th class="n">share</th></tr>')
        order = sorted(set(scan.langs) | set(scan.lang_chars),
                       key=lambda l: (-scan.langs.get(l, 0), -scan.lang_chars.get(l, 0), l))
        for lang in order:
            n = scan.langs.get(lang, 0)
            pct = 100.0 * n / scan.documents
            chars = scan.lang_chars.get(lang, 0)
            cpct = f"{100.0 * chars / chars_total:.1f}%" if chars_total else "–"
            out.append(f'<tr data-lang="{esc(lang)}"><td><b>{esc(lang)}</b></td><td class="n">{n}</td>'
                       f'<td class="n">{pct:.1f}%</td><td><div class="meter"><i style="width:{pct:.1f}%"></i></div></td>'
                       f'<td class="n">{chars:,}</td><td class="n">{cpct}</td></tr>')
        out.append("</table>")
    else:
        out.append('<p class="muted">No documents.</p>')

    # 3. quality
    out.append('<h2 id="quality">Quality</h2>')
    out.append(_quality_section(scan))

    # 4. most frequent removed lines
    out.append('<h2 id="top-lines">Most frequent removed lines</h2>')
    out.append('<p class="note">Lines normalized (Unicode NFKC, case-folded, digit runs as #, whitespace collapsed, '
               f"cut at {LINE_KEY_CHARS} characters); counted per reason.")
    if scan.pruned:
        out.append(f" The partition has many distinct removed lines: only the most frequent were tracked "
                   f"(pruned to {LINES_KEEP:,} whenever more than {LINES_PRUNE_AT:,}), so counts are lower bounds.")
    out.append("</p>")
    if scan.lines:
        out.append('<table id="lines"><tr><th class="n">count</th><th>reason</th><th>line</th></tr>')
        for (line, reason), n in sorted(scan.lines.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_LINES_SHOWN]:
            out.append(f'<tr><td class="n">{n}</td><td>{_tag({"reason": reason, "rule": scan.line_rule.get((line, reason))})}'
                       f'</td><td class="txt">{esc(line)}</td></tr>')
        out.append("</table>")
    else:
        out.append('<p class="muted">No spans were removed.</p>')

    # 5. rejects
    out.append('<h2 id="rejects">Rejected documents by reason</h2>')
    if scan.rejects:
        out.append('<table id="rejects-table"><tr><th>reason</th><th class="n">documents</th><th>examples (id: error)</th></tr>')
        for reason, n in sorted(scan.rejects.items(), key=lambda kv: (-kv[1], kv[0])):
            examples = "<br>".join(f"<code>{esc(i)}</code>: {esc(e)}" for i, e in scan.reject_examples.get(reason, []))
            out.append(f'<tr data-reason="{esc(reason)}"><td><b>{esc(reason)}</b></td><td class="n">{n}</td>'
                       f'<td class="txt">{examples}</td></tr>')
        out.append("</table>")
    else:
        out.append('<p class="muted">No rejected documents.</p>')

    # 6. Markdown structure
    if scan.markdown_docs:
        out.append('<h2 id="markdown">Markdown structure</h2>')
        per = scan.markdown_docs
        out.append(f'<p id="markdown-counts">{scan.markdown_docs} of {scan.documents} documents rendered as Markdown: '
                   f"<b>{scan.headings:,}</b> headings ({scan.headings / per:.1f} per document), "
                   f"<b>{scan.list_items:,}</b> list items ({scan.list_items / per:.1f} per document). "
                   "Each sampled document below shows its Markdown.</p>")

    # 7. sampled documents
    sampled = scan.sampled
    out.append('<h2 id="documents">Documents</h2>')
    if len(sampled) < scan.documents:
        note = (f"Showing a sample of {len(sampled)} of {scan.documents} documents, chosen by a hash of the id "
                "(the same documents on every run), in partition order.")
    else:
        note = f"All {scan.documents} documents, in partition order."
    out.append(f'<p class="note" id="sample-note">{esc(note)} Removed spans are struck through and labelled '
               "with their reason (hover for the rule id).</p>")
    if sampled:
        out.append('<ol class="toc">' + "".join(
            f'<li><a href="#doc-{n}">{esc(d.title or d.id)}</a> <span class="muted">({esc(d.lang)}, '
            f"{sum(1 for _, s in d.items if s is not None)} removed)</span></li>"
            for n, d in enumerate(sampled)) + "</ol>")
    for n, doc in enumerate(sampled):
        out.append(_doc_html(n, doc))
    out.append("</body>\n</html>\n")
    return "\n".join(out)


def write_report(partition_dir: Path, out_fh: TextIO, max_docs: int = 200, *,
                 summary: dict[str, Any] | None = None, scan: PartitionScan | None = None) -> None:
    """Write the report page for ``partition_dir`` to an open text file handle."""
    out_fh.write(render_report(partition_dir, max_docs, summary=summary, scan=scan))
