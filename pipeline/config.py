"""CleanConfig: every knob of the cleaning library, once, with its default.

Library code takes a ``CleanConfig``; it never reads ``luigi.cfg`` or the
environment. The task layer and the CLI build one and pass it in.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class CleanConfig:
    # --- input bounds -----------------------------------------------------
    max_input_bytes: int = 20_000_000
    """Bytes read from one single-document input (text, HTML; after gzip); longer input is
    truncated and counted as capped. JSONL and WARC inputs are not cut: see max_record_bytes."""
    max_record_bytes: int = 20_000_000
    """Bytes of one record of a multi-document input (a JSONL line, a WARC record's body): JSONL
    and WARC are streamed record by record, and a longer record is rejected as ``too_large``."""
    max_document_chars: int = 2_000_000
    """Characters of one document kept for cleaning; the rest is dropped and counted as capped. For a
    page, of its extracted text (a 3 MB page of inline scripts is not capped: ``max_html_bytes``)."""
    max_line_chars: int = 20_000
    """A longer single line is cut to this length (a 5 MB line is not prose)."""
    max_html_bytes: int = 5_000_000
    """HTML longer than this is not given to trafilatura; the BeautifulSoup fallback reads it."""
    max_html_depth: int = 2_000
    """HTML nested deeper than this (counted from tags) skips trafilatura and lxml."""

    # --- language ---------------------------------------------------------
    lang_sample_chars: int = 1_000
    """Characters of clean text given to langdetect (bounded cost per document). On the dev
    corpus, 1,000 characters give the same language as 2,000 for all 120 pages at half the cost."""
    lang_min_letters: int = 20
    """Fewer letters than this in the sample: language is ``und``."""
    lang_min_score: float = 0.60
    """Best langdetect probability below this: language is ``und``."""
    lang_seed: int = 0
    """Seed for langdetect, so the same text gives the same answer in every process."""

    langs_min_chars: int = 400
    """A clean text at least this long (with two paragraphs of ``lang_min_letters`` letters) is
    tagged per paragraph for ``langs``; a shorter one gets its one language."""
    langs_max_units: int = 16
    """At most this many paragraphs (or runs of consecutive paragraphs, when there are more) are
    scored per document: the cost of ``langs`` does not grow with the text."""
    langs_unit_chars: int = 250
    """Characters of each scored paragraph (or run) given to the per-paragraph scorer."""
    langs_min_margin: float = 12.0
    """A paragraph leaves the document's dominant language only when its log-likelihood for its
    own language is this much higher (nats): close languages do not split a document."""
    langs_max_detects: int = 3
    """Languages of a mixed document confirmed (and named) by langdetect on their own paragraphs."""
    keep_langs: frozenset[str] = field(default_factory=frozenset)
    """When set: paragraphs in other languages are removed (``other_language``); a document with
    no paragraph in these languages is rejected (``language_filtered``). Empty: keep all."""

    # --- boilerplate ------------------------------------------------------
    rules_dirs: tuple[Path, ...] = ()
    """Extra folders of user rule files (*.toml), merged with the built-in ones."""
    disabled_rules: frozenset[str] = field(default_factory=frozenset)
    """Rule ids switched off (built-in or user)."""
    to_end_min_position: float = 0.5
    """A ``to_end`` rule cuts the rest of the text only when it fires past this share of the text."""
    statistical: bool = True
    """Run the line classifier after the phrase rules (off: rules only)."""
    statistical_html: bool = False
    """Also run it on text trafilatura extracted from HTML (off: trafilatura used the page
    structure already; text-only features then cost recall — dev F1 0.967 with, 0.973 without)."""
    site_min_share: float = 0.3
    """A line is site boilerplate when it occurs in at least this share of a site's documents…"""
    site_min_docs: int = 5
    """…and in at least this many of them (two articles quoting one sentence never qualify)."""
    site_max_words: int | None = None
    """Longer lines are never learned (None: any length; where a line sits on the page, not its
    length, tells a long template teaser from a syndicated article's prose)."""
    html_model: str | None = None
    """Path of an HTML block model (``pipeline/models/html_blocks.lgb.txt`` + its ``.json``) to use
    instead of the shipped one (the cross-validation benchmark scores pages with fold models)."""
    markdown: bool = False
    """Also render the clean text as Markdown (the record's ``markdown`` field): headings, lists,
    block quotes and tables from an HTML page's structure, headings and list items of text from
    the learned line classes (``pipeline.line_class``)."""
    line_class_model: str | None = None
    """Path of a line class model (``pipeline/models/line_class.json``'s format) to use instead of
    the shipped one (the Markdown benchmark scores dumps with fold models)."""
    min_output_chars: int = 1
    """A document whose clean text is shorter than this is rejected (``empty_after_cleaning``)."""

    # --- quality guard (both off by default) -------------------------------
    min_quality: float | None = None
    """A document whose ``quality`` is below this goes to the rejects (``low_quality``)."""
    max_removed_share: float | None = None
    """A document that lost more of its words than its page regime loses by design (the median
    of its kind in the training corpora, ``models/quality.json``) plus this share goes to the
    rejects (``gutted``)."""
