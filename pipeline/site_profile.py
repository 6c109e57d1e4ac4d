"""Learned site boilerplate: lines that recur across many documents of one site.

CCNet removes paragraphs repeated across a crawl; here the unit is a site (URL host, or
the input's folder when there is no URL), and a line is boilerplate for that site when it
occurs in at least ``min_share`` of the site's documents and in at least ``min_docs`` of them
— so a sentence two articles happen to quote is never learned.

Memory is bounded: each site keeps at most ``max_keys`` candidate lines; when full, the
least frequent half is dropped (a line recurring in a large share of documents survives
every pruning). The profile is plain JSON, versioned and readable.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Iterable, TextIO
from urllib.parse import urlsplit

PROFILE_VERSION = 1
_WORDS = re.compile(r"\w+")
_DIGITS = re.compile(r"\d")


def line_key(line: str) -> str:
    """CCNet-style normal form: lower-case words, digits as 0, punctuation and spacing dropped."""
    key = " ".join(_WORDS.findall(line.lower()))
    return _DIGITS.sub("0", key) if _DIGITS.search(key) else key  # digits are \w: same words either way


def site_of(url: str | None, doc_id: str) -> str:
    """URL host without ``www.``, else the folder part of the document id (``.`` for the top)."""
    if url:
        host = urlsplit(url).hostname or ""
        if host:
            return host.removeprefix("www.")
    return str(PurePosixPath(doc_id.split("#", 1)[0]).parent)


@dataclass
class SiteCounts:
    docs: int = 0
    lines: Counter = field(default_factory=Counter)
    text: dict[str, str] = field(default_factory=dict)  # key -> first line seen, for readers


class ProfileLearner:
    """Streams documents' lines and keeps bounded per-site document frequencies."""

    def __init__(self, max_keys: int = 50_000, max_sites: int = 10_000, max_words: int = 30):
        self.max_keys = max_keys
        self.max_sites = max_sites
        self.max_words = max_words  # longer lines are prose: syndicated copies, not template
        self.sites: dict[str, SiteCounts] = {}

    def add(self, site: str, lines: Iterable[str]) -> None:
        counts = self.sites.get(site)
        if counts is None:
            if len(self.sites) >= self.max_sites:
                return  # beyond the cap, new sites are not profiled (counted by the caller)
            counts = self.sites[site] = SiteCounts()
        counts.docs += 1
        for line in set(lines):
            key = line_key(line)
            if not key or key.count(" ") >= self.max_words:
                continue
            counts.lines[key] += 1
            counts.text.setdefault(key, line)
        self._prune(counts)

    def _prune(self, counts: SiteCounts) -> None:
        if len(counts.lines) > self.max_keys:
            keep = dict(counts.lines.most_common(self.max_keys // 2))
            counts.lines = Counter(keep)
            counts.text = {k: counts.text[k] for k in keep}

    def state(self) -> dict:
        """The counts so far, as JSON: a partial pass (one shard of a day) that ``merge`` adds up."""
        return {"version": PROFILE_VERSION, "sites": {
            site: {"docs": c.docs, "lines": {k: [n, c.text[k]] for k, n in c.lines.items()}}
            for site, c in sorted(self.sites.items())}}

    def merge(self, state: dict) -> None:
        """Add the counts of another pass (``state()``): document and line counts sum up, so
        shards learnt apart give the profile one pass would (unless a site overflowed ``max_keys``)."""
        for site, entry in state["sites"].items():
            counts = self.sites.get(site)
            if counts is None:
                if len(self.sites) >= self.max_sites:
                    continue
                counts = self.sites[site] = SiteCounts()
            counts.docs += entry["docs"]
            for key, (n, example) in entry["lines"].items():
                counts.lines[key] += n
                counts.text.setdefault(key, example)
            self._prune(counts)

    def profile(self, min_share: float, min_docs: int) -> dict:
        sites = {}
        for site, counts in sorted(self.sites.items()):
            floor = max(min_docs, min_share * counts.docs)
            lines = sorted(((n, k) for k, n in counts.lines.items() if n >= floor), key=lambda x: (-x[0], x[1]))
            if lines:
                sites[site] = {
                    "docs": counts.docs,
                    "lines": [{"key": k, "docs": n, "example": counts.text[k]} for n, k in lines],
                }
        return {"version": PROFILE_VERSION, "min_share": min_share, "min_docs": min_docs, "sites": sites}


class SiteProfiles:
    """Loaded profiles: the boilerplate line keys of each site."""

    def __init__(self, data: dict | None = None):
        data = data or {"sites": {}}
        self.version = data.get("version", PROFILE_VERSION)
        self._sites = {site: frozenset(l["key"] for l in entry["lines"]) for site, entry in data["sites"].items()}

    @classmethod
    def load(cls, fh: TextIO) -> "SiteProfiles":
        return cls(json.load(fh))

    def keys_for(self, url: str | None, doc_id: str) -> frozenset[str]:
        return self._sites.get(site_of(url, doc_id), frozenset())

    def __len__(self) -> int:
        return len(self._sites)

    def fingerprint(self) -> tuple:
        """Equal for profiles with the same lines (to tell whether a cleaner can be reused)."""
        return tuple(sorted((site, hash(keys)) for site, keys in self._sites.items()))
