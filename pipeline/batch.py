"""Batches: many input files → cleaned and rejected documents, with counts.

Used by the CLI and the Luigi shard tasks alike; the caller owns the output files.
"""
from __future__ import annotations

import os
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple

from .clean import clean_or_reject
from .config import CleanConfig
from .decode import make_document_encodable
from .normalize import split_lines
from .document import Document
from .readers import input_format, iter_documents
from .report import DocCounts
from .site_profile import ProfileLearner, SiteProfiles, site_of
from .writers import UniqueIds, dumps


class Tally(NamedTuple):
    """What ``BatchStats`` counts of one input unit (small: it crosses a pipe per document)."""

    skipped: str | None
    error: str | None
    lang: str
    capped: tuple[str, ...]
    removed: dict[str, int]  # removed lines by reason

    @classmethod
    def of(cls, doc: Document) -> "Tally":
        removed: dict[str, int] = {}
        if not doc.skipped and not doc.rejected:
            for d in doc.decisions:
                if not d.keep:
                    reason = d.reason or "boilerplate"
                    removed[reason] = removed.get(reason, 0) + 1
        return cls(doc.skipped, doc.error, doc.lang, tuple(doc.capped), removed)


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
        self.count(Tally.of(doc))

    def count(self, tally: Tally) -> None:
        if tally.skipped:  # not an input document: outside inputs = cleaned + rejected
            self.skipped[tally.skipped] += 1
            return
        self.inputs += 1
        self.capped.update(tally.capped)
        if tally.error is not None:
            self.rejected += 1
            self.rejected_by_reason[tally.error] += 1
            return
        self.cleaned += 1
        self.langs[tally.lang] += 1
        self.removed_by_reason.update(tally.removed)

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
    """Path relative to ``base`` (posix), or the path itself when it lies outside ``base``.

    The path as listed comes first: a symbolic link ``base/alias.txt`` is ``alias.txt``, not
    its target's name. Only a path that is not lexically under ``base`` is resolved.
    """
    if base is not None:
        try:
            return Path(os.path.abspath(path)).relative_to(os.path.abspath(base)).as_posix()
        except ValueError:
            pass
        try:
            return path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


class Listing(NamedTuple):
    """What ``list_inputs`` found: files to read, sorted, and entries rejected without reading."""

    inputs: list[Path]
    rejects: list[Document]


def _is_within(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def list_inputs(root: Path, folder: Path | None = None, follow_symlinks: bool = False) -> Listing:
    """Every input file under ``folder`` (default: ``root``), sub-folders included, sorted.

    Names starting with ``.`` or ``_`` are not inputs (markers such as ``_READY``). The rule for
    symbolic links (the same for a partition, whose root is ``raw_root`` and folder the day,
    and for ``decruft clean DIR``, whose root and folder are DIR):

    - a link to a file inside ``root`` is read, its id the link's own path relative to
      ``folder``; one that resolves outside ``root`` is rejected (``outside_root``) without
      being opened;
    - a link to a folder is rejected (``symlinked_folder``), its files unread;
    - with ``follow_symlinks`` every link is followed, folders too (a link back into a folder
      being walked is rejected as a loop, ``unreadable``);
    - a dangling link, an unreadable folder, and anything that is not a regular file (a FIFO,
      a socket, a device) is rejected as ``unreadable``.

    Rejects are Documents with ``error`` and ``detail`` set, ids relative to ``folder``.
    """
    root = Path(root)
    folder = root if folder is None else Path(folder)
    real_root = root.resolve()
    inputs: list[Path] = []
    rejects: list[Document] = []

    def reject(path: Path, reason: str, detail: str) -> None:
        rejects.append(Document(id=relative_id(path, folder), source=str(path), error=reason, detail=detail))

    def walk(dirpath: Path, ancestors: frozenset) -> None:
        try:
            with os.scandir(dirpath) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            reject(dirpath, "unreadable", f"cannot list the folder: {type(exc).__name__}: {exc.strerror or exc}")
            return
        for entry in entries:
            if entry.name.startswith((".", "_")):
                continue
            path = Path(entry.path)
            try:
                link = entry.is_symlink()
                if link:
                    try:
                        target = path.resolve(strict=True)
                    except (OSError, RuntimeError):
                        reject(path, "unreadable", f"dangling symbolic link to {os.readlink(path)}")
                        continue
                st = path.stat()
            except OSError as exc:
                reject(path, "unreadable", f"{type(exc).__name__}: {exc.strerror or exc}")
                continue
            if link and not follow_symlinks:
                if not _is_within(target, real_root):
                    reject(path, "outside_root", f"symbolic link to {target}, outside {root} "
                                                 "(read only with follow_symlinks = true)")
                    continue
                if stat.S_ISDIR(st.st_mode):
                    reject(path, "symlinked_folder", f"symbolic link to the folder {target} "
                                                     "(walked only with follow_symlinks = true)")
                    continue
            if stat.S_ISDIR(st.st_mode):
                key = (st.st_dev, st.st_ino)
                if key in ancestors:
                    reject(path, "unreadable", "symbolic link loop: the folder is already being read")
                    continue
                walk(path, ancestors | {key})
            elif stat.S_ISREG(st.st_mode):
                inputs.append(path)
            else:
                reject(path, "unreadable", "not a regular file")

    top = folder.stat()
    walk(folder, frozenset({(top.st_dev, top.st_ino)}))
    inputs.sort()
    rejects.sort(key=lambda d: d.source)
    return Listing(inputs, rejects)


def iter_file_documents(path: Path, base: Path | None, cfg: CleanConfig, fmt: str = "auto",
                        source: str | None = None, doc_id: str | None = None) -> Iterator[Document]:
    """Documents of one file; an unreadable file becomes one rejected Document.

    ``source`` and ``doc_id``: for a local copy of a remote file (``tasks.storage``), the name
    records give as their source (default: ``path``) and the id (default: relative to ``base``).
    """
    doc_id = doc_id or relative_id(path, base)
    source = source or str(path)
    try:
        yield from iter_documents(path, doc_id=doc_id, cfg=cfg, fmt=fmt, source=source)
    except OSError as exc:
        yield make_document_encodable(Document(id=doc_id, source=source, error="unreadable",
                                               detail=f"{type(exc).__name__}: {exc.strerror or exc}"))


Position = tuple[int, int]  # (index of the file in the list, index of the unit in the file)


def iter_units(paths: list[Path], base: Path | None, cfg: CleanConfig, start: Position = (0, 0),
               sources: list[str] | None = None) -> Iterator[tuple[Position, Document]]:
    """Every input unit of ``paths`` (documents and skipped units) with its position, from ``start`` on.

    ``sources``: one per path, the name its records give as their source (local copies of
    remote files); default: the paths themselves.
    """
    first_file, first_unit = start
    for i in range(first_file, len(paths)):
        source = sources[i] if sources is not None else None
        for j, doc in enumerate(iter_file_documents(paths[i], base, cfg, source=source)):
            if i == first_file and j < first_unit:
                continue
            yield (i, j), doc


class Outcome(NamedTuple):
    """One input unit after cleaning, ready to write: its JSON line and what to count.

    ``line`` is the clean record (``Document.to_record``) or, when ``tally.error`` is set, the
    rejects-file record; empty for a skipped unit. ``counts``: what the partition report counts
    of a clean document (None otherwise).
    """

    position: Position
    id: str
    line: str
    tally: Tally
    counts: DocCounts | None = None

    @property
    def rejected(self) -> bool:
        return self.tally.error is not None

    @classmethod
    def of(cls, position: Position, doc: Document, version: dict) -> "Outcome":
        if doc.skipped:
            return cls(position, doc.id, "", Tally.of(doc))
        if doc.rejected:
            return cls(position, doc.id, dumps(doc.to_reject(version)), Tally.of(doc))
        return cls(position, doc.id, dumps(doc.to_record(version)), Tally.of(doc), DocCounts.of_document(doc))


def clean_units(paths: list[Path], base: Path | None, cfg: CleanConfig, version: dict,
                profiles: SiteProfiles | None = None, start: Position = (0, 0),
                sources: list[str] | None = None) -> Iterator[Outcome]:
    """Clean every unit of ``paths`` from ``start`` on, in order, as ``Outcome`` lines to write.

    Ids stay as read. The streaming form of ``clean_files`` for writers of records (and for a
    cleaning child process, whose answers must be small to send).
    """
    for position, doc in iter_units(paths, base, cfg, start, sources):
        if not doc.skipped:
            doc = clean_or_reject(doc, cfg, profiles)
        yield Outcome.of(position, doc, version)


def clean_files(paths: Iterable[Path], base: Path | None, cfg: CleanConfig, stats: BatchStats,
                ids: UniqueIds | None = None, profiles: SiteProfiles | None = None) -> Iterator[Document]:
    """Clean every document of every file, in order; each comes out cleaned or rejected, never lost.

    With ``ids``, repeated ids of cleaned documents are made unique (``id~2``); without,
    ids stay as read (a partition makes them unique across all its shards at the end).
    Skipped units (``doc.skipped``, e.g. WARC records that are not HTML pages) are only
    counted in ``stats.skipped``; they are not yielded.
    """
    for path in paths:
        for doc in iter_file_documents(path, base, cfg):
            if doc.skipped:
                stats.add(doc)
                continue
            doc = clean_or_reject(doc, cfg, profiles)
            if ids is not None and not doc.rejected:
                doc.id = ids.claim(doc.id)
            stats.add(doc)
            yield doc


def read_for_sites(name: str) -> bool:
    """Whether the site-profile pass reads a file of this name: web archives and HTML files hold
    only HTML pages, which it leaves out, so they are not read (nor fetched) twice."""
    return input_format(name) not in ("warc", "html")


def learn_site_counts(paths: Iterable[Path], base: Path | None, cfg: CleanConfig,
                      learner: ProfileLearner | None = None) -> ProfileLearner:
    """One streaming pass over plain-text documents: per site, how many documents hold each line.

    HTML pages are left out: trafilatura already drops their templates.
    """
    learner = learner or ProfileLearner(max_words=cfg.site_max_words)
    for path in paths:
        if not read_for_sites(path.name):
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
