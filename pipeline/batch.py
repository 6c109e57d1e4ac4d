"""Batches: many input files → cleaned and rejected documents, with counts.

Used by the CLI and the Luigi shard tasks alike; the caller owns the output files.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .clean import clean_or_reject
from .config import CleanConfig
from .normalize import split_lines
from .document import Document
from .readers import input_format, iter_documents
from .site_profile import ProfileLearner, SiteProfiles, site_of
from .writers import UniqueIds


@dataclass
class BatchStats:
    inputs: int = 0
    cleaned: int = 0
    rejected: int = 0
    rejected_by_reason: Counter = field(default_factory=Counter)
    removed_by_reason: Counter = field(default_factory=Counter)
    capped: Counter = field(default_factory=Counter)
    langs: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)  # not documents (e.g. WARC 404s), by reason

    def add(self, doc: Document) -> None:
        if doc.skipped:  # not an input document: outside inputs = cleaned + rejected
            self.skipped[doc.skipped] += 1
            return
        self.inputs += 1
        self.capped.update(doc.capped)
        if doc.rejected:
            self.rejected += 1
            self.rejected_by_reason[doc.error] += 1
            return
        self.cleaned += 1
        self.langs[doc.lang] += 1
        self.removed_by_reason.update(d.reason or "boilerplate" for d in doc.decisions if not d.keep)

    def merge(self, other: dict) -> None:
        """Add counts saved by ``as_dict`` (e.g. one shard's stats file)."""
        for name in ("inputs", "cleaned", "rejected"):
            setattr(self, name, getattr(self, name) + other.get(name, 0))
        for name in ("rejected_by_reason", "removed_by_reason", "capped", "langs", "skipped"):
            getattr(self, name).update(other.get(name, {}))

    def as_dict(self) -> dict:
        return {
            "inputs": self.inputs,
            "cleaned": self.cleaned,
            "rejected": self.rejected,
            "rejected_by_reason": dict(sorted(self.rejected_by_reason.items())),
            "removed_by_reason": dict(sorted(self.removed_by_reason.items())),
            "capped": dict(sorted(self.capped.items())),
            "langs": dict(sorted(self.langs.items())),
            "skipped": dict(sorted(self.skipped.items())),
        }


def relative_id(path: Path, base: Path | None) -> str:
    """Path relative to ``base`` (posix), or the path itself when it lies outside ``base``."""
    if base is not None:
        try:
            return path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def iter_file_documents(path: Path, base: Path | None, cfg: CleanConfig, fmt: str = "auto") -> Iterator[Document]:
    """Documents of one file; an unreadable file becomes one rejected Document."""
    doc_id = relative_id(path, base)
    try:
        yield from iter_documents(path, doc_id=doc_id, cfg=cfg, fmt=fmt)
    except OSError as exc:
        yield Document(id=doc_id, source=str(path), error="unreadable", detail=f"{type(exc).__name__}: {exc.strerror or exc}")


def clean_files(paths: Iterable[Path], base: Path | None, cfg: CleanConfig, stats: BatchStats,
                ids: UniqueIds | None = None, profiles: SiteProfiles | None = None,
                cleaner: Callable[[Document], Document] | None = None) -> Iterator[Document]:
    """Clean every document of every file, in order; each comes out cleaned or rejected, never lost.

    With ``ids``, repeated ids of cleaned documents are made unique (``id~2``); without,
    ids stay as read (a partition makes them unique across all its shards at the end).
    ``cleaner`` replaces the in-process ``clean_or_reject`` call (e.g. to bound its time).
    Skipped units (``doc.skipped``, e.g. WARC records that are not HTML pages) are only
    counted in ``stats.skipped``; they are not yielded.
    """
    for path in paths:
        for doc in iter_file_documents(path, base, cfg):
            if doc.skipped:
                stats.add(doc)
                continue
            doc = cleaner(doc) if cleaner else clean_or_reject(doc, cfg, profiles)
            if ids is not None and not doc.rejected:
                doc.id = ids.claim(doc.id)
            stats.add(doc)
            yield doc


def learn_site_counts(paths: Iterable[Path], base: Path | None, cfg: CleanConfig,
                      learner: ProfileLearner | None = None) -> ProfileLearner:
    """One streaming pass over plain-text documents: per site, how many documents hold each line.

    HTML pages are left out: trafilatura already drops their templates.
    """
    learner = learner or ProfileLearner(max_words=cfg.site_max_words)
    for path in paths:
        if input_format(path.name) == "warc":  # web archives hold only HTML pages: not read twice
            continue
        for doc in iter_file_documents(path, base, cfg):
            if doc.rejected or doc.skipped or doc.kind != "text":
                continue
            lines, _ = split_lines(doc.raw[: cfg.max_document_chars], cfg.max_line_chars)
            learner.add(site_of(doc.url, doc.id), lines)
    return learner


def learn_site_profiles(paths: Iterable[Path], base: Path | None, cfg: CleanConfig,
                        learner: ProfileLearner | None = None) -> dict:
    """The site profile (see ``site_profile``) of ``paths``, learnt in one pass."""
    learner = learn_site_counts(paths, base, cfg, learner)
    return learner.profile(cfg.site_min_share, cfg.site_min_docs)
