"""Document: one input article on its way through the pipeline.

``to_record`` is the output schema, in one place (README documents it).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


# Rejections the user asked for (a filter in the config): they go to the rejects with their
# reason, but are not failures — ``decruft clean`` does not exit 1 for them.
FILTERED_REASONS = frozenset({"language_filtered", "low_quality", "gutted"})


@dataclass(frozen=True)
class Decision:
    """What happened to one input line: kept, or removed with a reason and the deciding rule."""

    text: str
    keep: bool
    reason: str | None = None  # e.g. "donation_appeal", "photo_credit", "title"
    rule: str | None = None  # rule id or feature name that decided
    score: float | None = None  # the line labeller's P(body), where it scored the line


@dataclass
class Document:
    id: str
    source: str
    kind: str = "text"  # text | html
    raw: str = ""  # decoded input text (or HTML) before cleaning
    url: str | None = None
    title: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    # set by cleaning
    text: str = ""
    lang: str = "und"
    lang_score: float = 0.0
    quality: float | None = None  # predicted cleanliness 0..1 (pipeline.quality); None: no evidence
    quality_parts: dict[str, float] = field(default_factory=dict)
    langs: list[dict[str, Any]] = field(default_factory=list)  # [{"lang", "share"}], largest first
    paragraph_langs: tuple[str, ...] = ()  # language of each kept paragraph, in order
    decisions: list[Decision] = field(default_factory=list)
    # with CleanConfig.markdown: the class of each kept line (pipeline.markdown.LineClass), and
    # the clean text rendered as Markdown
    line_classes: list[Any] = field(default_factory=list)
    markdown: str | None = None
    stats: dict[str, int] = field(default_factory=dict)
    capped: list[str] = field(default_factory=list)
    # set when the document cannot be cleaned
    error: str | None = None  # short machine reason, e.g. "binary", "empty"
    detail: str | None = None  # one human line
    # set by a reader for an input unit that is not a document at all (e.g. a WARC request
    # record, a 404, an image): counted under ``skipped`` by reason, never cleaned or rejected
    skipped: str | None = None

    @property
    def rejected(self) -> bool:
        return self.error is not None

    def removed(self) -> list[dict[str, Any]]:
        return [
            {"reason": d.reason or "boilerplate", "rule": d.rule or "", "text": d.text, "at": i}
            for i, d in enumerate(self.decisions)
            if not d.keep
        ]

    def to_record(self, version: dict[str, str]) -> dict[str, Any]:
        """The clean-output record (one JSON object per document); ``markdown`` only when rendered."""
        record = {
            "id": self.id,
            "source": self.source,
            "url": self.url,
            "title": self.title,
            "lang": self.lang,
            "lang_score": self.lang_score,
            "quality": self.quality,
            "quality_parts": self.quality_parts,
            "langs": self.langs,
            "text": self.text,
            "removed": self.removed(),
            "stats": dict(self.stats, capped=list(self.capped)),
            "metadata": self.metadata,
            "version": version,
        }
        if self.markdown is not None:
            record["markdown"] = self.markdown
        return record

    def to_reject(self, version: dict[str, str]) -> dict[str, Any]:
        """The rejects-file record: where it came from and why it was not cleaned."""
        return {
            "id": self.id,
            "source": self.source,
            "reason": self.error,
            "error": self.detail or self.error,
            "url": self.url,
            "version": version,
        }
