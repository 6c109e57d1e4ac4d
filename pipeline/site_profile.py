"""Learned site boilerplate: a site's template told apart from its articles' content.

CCNet removes paragraphs repeated across a crawl; here the unit is a site (URL host, or the
input's folder when there is no URL). Learning is one streaming pass that counts, per site, in
how many documents each line occurs, under two keys:

- ``line_key``: lower-case words with every number as ``0``, so "3 comments" and "12 comments",
  or a promo line whose figures change from page to page, count as one line;
- ``exact_key``: the same words with their numbers, for lines that have numbers.

Counts add up across shards (``state`` / ``merge``), so a partition counts per shard and sums.
A line is a template candidate for a site when its ``line_key`` occurs in at least ``min_share``
of the site's documents and in at least ``min_docs`` of them; lines of any length qualify (a
related-article teaser of 50 words on every page is template too).

Where a line sits decides what a candidate is (``SiteTemplate.mark``). On each page the body is
the stretch of lines that is most non-template text (characters of non-candidate lines count
for it, of lines template even inside a body against it: the maximum-sum segment). Candidates before it are the header
run (``site_profile.header``), after it the footer run (``site_profile.footer``). Inside the body
a line goes only when it is on at least ``BODY_SHARE`` of the site's pages, with its own numbers
for a line that has numbers (``site_profile.inline``: "Advertisement", an inline promo): a quote
or a list several articles share, or a field whose number changes ("Room 201"), stays. More:
a body line that is on two or more of the site's pages (``shared``) and that the statistical
labeller would remove is kept (``site_profile.shared``) where the page's own lines stand
before and after it in the body (``shared_inside``) — content several articles quote; phrase
rules still remove what they name.

Memory is bounded: each site keeps at most ``max_keys`` candidate keys; when full, the least
frequent half is dropped (a line recurring in a large share of documents survives every
pruning); a key longer than ``MAX_KEY_CHARS`` is cut and ends in a hash of the whole, an
example line in ``EXAMPLE_CHARS``. The profile is plain JSON, versioned and readable.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Iterable, Sequence, TextIO
from urllib.parse import urlsplit

PROFILE_VERSION = 2
BODY_SHARE = 0.5
"""Inside a page's body, a line is template only when it is on at least this share of the site's pages."""
MAX_KEY_CHARS = 240
EXAMPLE_CHARS = 200
MAX_REPEATS = 5
"""A line key of more different lines of one page than this is the page's own there, not its template."""
EXACT = "#"  # prefix of exact keys in the counts (never in a key: keys are \w+ words)
HEADER, BODY, FOOTER = "header", "body", "footer"
RULES = {HEADER: "site_profile.header", BODY: "site_profile.inline", FOOTER: "site_profile.footer"}
SHARED_RULE = "site_profile.shared"  # kept: content several of the site's articles share
SHARED_MIN_DOCS = 2

_WORDS = re.compile(r"\w+")
_NUMBER = re.compile(r"\d+")
_LETTER = re.compile(r"[^\W\d_]")


def _bounded(key: str) -> str:
    if len(key) <= MAX_KEY_CHARS:
        return key
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).hexdigest()
    return f"{key[: MAX_KEY_CHARS - 20]} ~{digest}"


def exact_key(line: str) -> str:
    """Lower-case ``\\w+`` words joined by a space, numbers kept; "" for a line without letters."""
    key = " ".join(_WORDS.findall(line.lower()))
    return _bounded(key) if _LETTER.search(key) else ""


def line_key(line: str) -> str:
    """``exact_key`` with every number as ``0``: lines whose numbers change are one line. A
    line of numbers only ("12", "2019-08-01 10:23") has its shape ("0", "0 0 0 0 0"), which
    only a header or footer run removes; "" for a line without words."""
    key = " ".join(_WORDS.findall(line.lower()))
    return _bounded(_NUMBER.sub("0", key) if _NUMBER.search(key) else key)


def _numbers_only(key: str) -> bool:
    return bool(key) and not _LETTER.search(key)


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


def _rekeyed_v1(lines: dict) -> dict:
    """Counts of a version-1 state (digits as 0 one by one) under today's keys, from their examples."""
    out: dict[str, list] = {}
    for n, example in lines.values():
        key = line_key(example)
        if key:
            entry = out.setdefault(key, [0, example])
            entry[0] += n
    return out


class ProfileLearner:
    """Streams documents' lines and keeps bounded per-site document frequencies."""

    def __init__(self, max_keys: int = 50_000, max_sites: int = 10_000, max_words: int | None = None):
        self.max_keys = max_keys
        self.max_sites = max_sites
        self.max_words = max_words  # None: lines of any length (a long teaser can be template)
        self.sites: dict[str, SiteCounts] = {}

    def _site(self, site: str) -> SiteCounts | None:
        counts = self.sites.get(site)
        if counts is None:
            if len(self.sites) >= self.max_sites:
                return None  # beyond the cap, new sites are not profiled
            counts = self.sites[site] = SiteCounts()
        return counts

    def add(self, site: str, lines: Iterable[str]) -> None:
        counts = self._site(site)
        if counts is None:
            return
        counts.docs += 1
        keys: dict[str, str] = {}
        for line in lines:
            key = line_key(line)
            if not key or (self.max_words is not None and key.count(" ") >= self.max_words):
                continue
            keys.setdefault(key, line)
            if _NUMBER.search(key) and not _numbers_only(key):
                keys.setdefault(EXACT + exact_key(line), line)
        for key, line in keys.items():
            counts.lines[key] += 1
            counts.text.setdefault(key, line[:EXAMPLE_CHARS])
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
        shards learnt apart give the profile one pass would (unless a site overflowed ``max_keys``).
        A version-1 state (older decruft) is re-keyed from its example lines."""
        old = state.get("version", PROFILE_VERSION) < 2
        for site, entry in state["sites"].items():
            counts = self._site(site)
            if counts is None:
                continue
            counts.docs += entry["docs"]
            for key, (n, example) in (_rekeyed_v1(entry["lines"]) if old else entry["lines"]).items():
                counts.lines[key] += n
                counts.text.setdefault(key, example)
            self._prune(counts)

    def profile(self, min_share: float, min_docs: int) -> dict:
        """Per site: its document count, the template candidates (``lines``: line keys on at least
        ``min_share`` and ``min_docs`` of its documents), for lines with numbers the exact keys
        frequent enough to go inside a body too (``exact``: on ``BODY_SHARE`` of them), and the
        lines fewer documents share (``shared``: on ``SHARED_MIN_DOCS`` or more, below the floor)."""
        sites = {}
        for site, counts in sorted(self.sites.items()):
            floor = max(min_docs, min_share * counts.docs)
            body_floor = max(min_docs, BODY_SHARE * counts.docs)
            ranked = sorted(((n, k) for k, n in counts.lines.items() if n >= SHARED_MIN_DOCS),
                            key=lambda x: (-x[0], x[1]))
            lines = [{"key": k, "docs": n, "example": counts.text[k]}
                     for n, k in ranked if not k.startswith(EXACT) and n >= floor]
            exact = [{"key": k[1:], "docs": n, "example": counts.text[k]}
                     for n, k in ranked if k.startswith(EXACT) and n >= body_floor]
            shared = [{"key": k, "docs": n} for n, k in ranked if not k.startswith(EXACT) and n < floor]
            if lines or shared:
                sites[site] = {"docs": counts.docs, "lines": lines, "exact": exact, "shared": shared}
        return {"version": PROFILE_VERSION, "min_share": min_share, "min_docs": min_docs,
                "body_share": BODY_SHARE, "sites": sites}


class SiteTemplate:
    """One site's learned template: which lines of a page it removes, and why (``mark``)."""

    def __init__(self, docs: int = 0, lines: dict[str, int] | None = None, exact: Iterable[str] = (),
                 body_floor: float = 0.0, shared: Iterable[str] = ()):
        self.docs = docs
        self.lines = lines or {}  # line key -> documents holding it (template candidates)
        self.exact = frozenset(exact)  # exact keys of lines with numbers frequent enough inside a body
        self.body_floor = body_floor
        self.shared = frozenset(shared)  # line keys of a few documents (not candidates)
        self.anywhere = False  # every candidate is template inside a body too (``of_keys``)

    @classmethod
    def of_keys(cls, keys: Iterable[str]) -> "SiteTemplate":
        """A template of these line keys, each going wherever it stands (a hand-made profile)."""
        template = cls(1, {key: 1 for key in keys})
        template.anywhere = True
        return template

    def __bool__(self) -> bool:
        return bool(self.lines or self.shared)

    def shared_line(self, line: str) -> bool:
        """The line (numbers as 0) is on two or more of the site's pages: inside a page's body,
        content its articles share (a quote, a list), which the labeller must not remove."""
        key = line_key(line)
        return bool(key) and not _numbers_only(key) and (key in self.shared or key in self.lines)

    def __contains__(self, key: str) -> bool:
        return key in self.lines

    def inline(self, line: str, key: str) -> bool:
        """Template even inside a page's body: on ``BODY_SHARE`` of the pages (numbers and all)."""
        if self.anywhere:
            return key in self.lines
        if _NUMBER.search(key):
            return exact_key(line) in self.exact
        return self.lines.get(key, 0) >= self.body_floor

    def candidates(self, lines: Sequence[str]) -> list[bool]:
        """Per line: a template candidate on this page. A template line stands once or a few
        times on a page: a line key shared by more than ``MAX_REPEATS`` different lines of one
        page (the rows of a table whose numbers change, a thousand "add 6 teachers" lines) is
        the page's own."""
        return [c is True for c in self._candidates(lines)]

    def _candidates(self, lines: Sequence[str]) -> list[bool | None]:
        """``candidates``, with None for a line of numbers only that is not one (neither
        template nor the page's own text). The same line repeated (a "›" between every menu
        entry) is one line; what counts is how many different lines share a key (lines of
        numbers only, which go only outside the body, are candidates however many)."""
        keys = [line_key(line) for line in lines]
        variants: dict[str, set[str]] = {}
        for line, key in zip(lines, keys):
            if key in self.lines:
                variants.setdefault(key, set()).add(line)
        out: list[bool | None] = []
        for key in keys:
            if _numbers_only(key):  # goes only outside the body, however often it repeats
                out.append(True if key in self.lines else None)
            else:
                out.append(bool(key) and key in self.lines and len(variants[key]) <= MAX_REPEATS)
        return out

    def body_span(self, lines: Sequence[str], open_: Sequence[bool],
                  cands: Sequence[bool] | None = None) -> tuple[int, int]:
        """``(a, b)``: the page's body is ``lines[a:b]``, the segment with the most characters of
        open non-candidate lines minus those of candidates that are template even inside a body
        (``inline``); other candidates (a quote on a third of the pages, a line whose numbers
        change), lines of numbers only and lines not open weigh nothing. ``(len, len)`` when no segment weighs more
        than nothing. ``cands``: ``_candidates(lines)``, when known."""
        cands = self._candidates(lines) if cands is None else cands
        best, best_span = 0, (len(lines), len(lines))
        run, start = 0, 0
        for i, (line, is_open) in enumerate(zip(lines, open_)):
            weight = 0
            if is_open and cands[i] is not None:  # a line of numbers only weighs nothing
                if not cands[i]:
                    weight = len(line)
                elif self.inline(line, line_key(line)):
                    weight = -len(line)  # template wherever it stands; other candidates weigh nothing
            if run <= 0:
                run, start = 0, i
            run += weight
            if run > best:
                best, best_span = run, (start, i + 1)
        return best_span

    def shared_in_body(self, lines: Sequence[str], open_: Sequence[bool]) -> list[bool]:
        """Per line: on two or more of the site's pages (``shared_line``) and in the page's body
        (never the page's own headline, however it reads)."""
        a, b = self.body_span(lines, open_)
        return [a <= i < b and is_open and self.shared_line(line) for i, (line, is_open) in enumerate(zip(lines, open_))]

    def shared_inside(self, lines: Sequence[str], open_: Sequence[bool]) -> list[bool]:
        """Per line: on two or more of the site's pages (``shared_line``) and inside the page's
        body — open lines of the page's own (neither template candidates nor shared) stand
        in the body before and after it. A list of teasers between the article and the footer
        run has none after it."""
        cands = self._candidates(lines)
        a, b = self.body_span(lines, open_, cands)
        shared = [a <= i < b and is_open and self.shared_line(line)
                  for i, (line, is_open) in enumerate(zip(lines, open_))]
        own = [a <= i < b and is_open and not shared[i] and cands[i] is False
               for i, is_open in enumerate(open_)]
        if not any(shared) or sum(own) < 2:
            return [False] * len(lines)
        first, last = own.index(True), len(own) - 1 - own[::-1].index(True)
        return [s and first < i < last for i, s in enumerate(shared)]

    def mark(self, lines: Sequence[str], open_: Sequence[bool] | None = None,
             span: tuple[int, int] | None = None) -> list[str | None]:
        """Per line, the rule id it is removed by (``RULES``) or None. ``open_``: lines no
        phrase rule took (the others are never marked and weigh nothing for the body);
        ``span``: the body, when ``body_span`` gave it already."""
        if open_ is None:
            open_ = [True] * len(lines)
        cands = self._candidates(lines)
        a, b = span or self.body_span(lines, open_, cands)
        return [self.rule_for(line, HEADER if i < a else BODY if i < b else FOOTER) if is_open and cands[i] else None
                for i, (line, is_open) in enumerate(zip(lines, open_))]

    def rule_for(self, line: str, zone: str) -> str | None:
        """The rule id removing ``line`` where it sits (``zone``: header, body, footer), or None."""
        key = line_key(line)
        if key not in self.lines or (zone == BODY and not self.inline(line, key)):
            return None
        return RULES[zone]

    def fingerprint(self) -> int:
        return hash((self.docs, tuple(sorted(self.lines.items())), tuple(sorted(self.exact)), self.body_floor,
                     tuple(sorted(self.shared))))


_EMPTY = SiteTemplate()


class SiteProfiles:
    """Loaded profiles: per site, its ``SiteTemplate``."""

    def __init__(self, data: dict | None = None):
        data = data or {"sites": {}}
        self.version = data.get("version", PROFILE_VERSION)
        body_share = data.get("body_share", BODY_SHARE)
        min_docs = data.get("min_docs", 0)
        self._sites: dict[str, SiteTemplate] = {}
        for site, entry in data["sites"].items():
            docs = entry.get("docs", 0)  # a line without its count: on every page
            if self.version < 2:  # keys were made differently: make them again from the examples
                lines: dict[str, int] = {}
                for l in entry["lines"]:
                    key = line_key(l.get("example", l["key"]))
                    if key:
                        lines[key] = max(lines.get(key, 0), l.get("docs", docs))
            else:
                lines = {l["key"]: l.get("docs", docs) for l in entry["lines"]}
            exact = (l["key"] for l in entry.get("exact", ()))
            shared = (l["key"] for l in entry.get("shared", ()))
            self._sites[site] = SiteTemplate(docs, lines, exact, max(min_docs, body_share * docs), shared)

    @classmethod
    def load(cls, fh: TextIO) -> "SiteProfiles":
        return cls(json.load(fh))

    def for_document(self, url: str | None, doc_id: str) -> SiteTemplate:
        """The template of the document's site (empty, and false, for a site without one)."""
        return self._sites.get(site_of(url, doc_id), _EMPTY)

    keys_for = for_document  # ``key in profiles.keys_for(url, id)``: the line key is a candidate

    def __len__(self) -> int:
        return len(self._sites)

    def fingerprint(self) -> tuple:
        """Equal for profiles with the same lines (to tell whether a cleaner can be reused)."""
        return tuple(sorted((site, t.fingerprint()) for site, t in self._sites.items()))
