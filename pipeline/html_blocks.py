"""The visible text blocks of an HTML page, with the DOM features the HTML block model reads.

A *block* is the text between two block-level boundaries (``<p>``, ``<div>``, ``<li>``, ``<hN>``,
``<td>``, ``<br>``…) in document order: the text of the inline elements inside it (``<a>``,
``<b>``, ``<span>``…) and their tails, whitespace collapsed. What a browser does not show as text
(``<script>``, ``<style>``, ``<head>``, ``<select>``…) is not a block.

``page_blocks`` walks the parsed tree once (``lxml.etree.iterwalk``, no recursion, so a deep page
cannot overflow Python's stack). Every block keeps its tag, the structure around it (inside
``<nav>``/``<footer>``/``<aside>``…, words of the ``class``/``id`` attributes of its ancestors),
its link text and its position. ``block_features`` turns a page's blocks plus the text of an
extractor's candidate (trafilatura) into an ``n x F`` float array (``FEATURE_NAMES``), rounded
by ``pipeline.classify.stable`` so that the model's decisions never hinge on the last bit.
``structure_reason`` names what the page's structure says about a block (``navigation``,
``footer``, ``related``, ``caption``, ``comments``, ``title``), for the removal record.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
from lxml import etree

from .classify import choose_stoplist, shifted, stable

BLOCK_TAGS = frozenset(
    "p div li ul ol dl dd dt h1 h2 h3 h4 h5 h6 td th tr table tbody thead tfoot pre blockquote "
    "section article main header footer nav aside form figure figcaption caption address details "
    "summary fieldset legend center hr br body html menu hgroup option".split()
)
SKIP_TAGS = frozenset(
    "script style noscript template svg iframe head select textarea object embed canvas math "
    "video audio picture map title meta link input".split()
)
HEADINGS = frozenset("h1 h2 h3 h4 h5 h6".split())
# Tags whose presence among a block's ancestors is a feature (one bit each).
ANCESTOR_TAGS = ("nav", "footer", "header", "aside", "form", "article", "main", "li", "table",
                 "figure", "blockquote", "pre", "menu", "button", "label", "dl", "section")
_ANC_INDEX = {t: i for i, t in enumerate(ANCESTOR_TAGS)}
# Words of class/id attributes (matched inside the lower-cased attribute text): one bit per group.
CLASS_GROUPS = (
    ("nav", r"nav|menu|breadcrumb|topbar|toolbar|skip|pagination|pager|tabs?\b"),
    ("footer", r"foot|copyright|legal|bottom"),
    ("header", r"header|masthead|banner|top-?bar|logo"),
    ("sidebar", r"side|rail|widget|aside"),
    ("comment", r"comment|disqus|respond|reply|replies"),
    ("related", r"related|recommend|more-?from|read-?next|also|popular|trending|teaser|outbrain|taboola"),
    ("share", r"share|social|follow|facebook|twitter|tweet|whatsapp|pinterest"),
    ("ad", r"\bads?\b|advert|sponsor|promo|banner|dfp|gpt-"),
    ("subscribe", r"newsletter|subscri|signup|sign-up|cookie|consent|gdpr|popup|modal|paywall"),
    ("meta", r"meta|byline|author|date|time|tags?\b|categor|label"),
    ("caption", r"caption|credit|figcaption|image|photo|media|gallery"),
    ("content", r"content|article|post|entry|story|body|text|main|prose|blog"),
    ("product", r"product|price|description|detail|spec|review|rating|cart|buy"),
    ("forum", r"thread|message|forum|topic|question|answer|discussion"),
    ("docs", r"docs?\b|documentation|markdown|highlight|code|api|manual"),
    ("hidden", r"hidden|sr-only|visually-?hidden|screen-?reader|d-none"),
    ("list", r"list|grid|card|item|tile|feed|collection|results?\b"),
)
# One pass over an attribute finds every group (non-overlapping matches, left to right).
_CLASS_ANY = re.compile("|".join(f"(?P<g{i}>{rx})" for i, (_, rx) in enumerate(CLASS_GROUPS)))
_GROUP_BIT = {f"g{i}": 1 << i for i in range(len(CLASS_GROUPS))}
BLOCK_KINDS = ("p", "div", "li", "h1", "h2", "h3", "h4", "td", "pre", "blockquote", "dd",
               "figcaption", "br", "other")
_KIND_INDEX = {k: i for i, k in enumerate(BLOCK_KINDS)}
_KIND_OF = {"h5": "h4", "h6": "h4", "th": "td", "dt": "dd", "caption": "figcaption", "code": "pre",
            "section": "div", "article": "div", "main": "div", "body": "div", "center": "div",
            "span": "other"}

# Tokens: CJK characters one by one (so Chinese text has tokens), other \w runs whole.
_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]|[^\W\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+")
_SPACE = re.compile(r"\s+")
_TERMINAL = re.compile(r"[.!?…。！？؟।:][\"'”’»)\]]*$")
_SENTENCE_END = re.compile(r"[.!?。！？](?:\s|$)")
_DIGIT = re.compile(r"\d")
_NO_DIGITS = str.maketrans("", "", "0123456789")
_UPPER = re.compile(r"[A-ZÀ-ÖØ-ÞА-ЯΑ-Ω]")
# A hidden element is not shown, except React's streamed server rendering: the content of a Suspense
# boundary arrives as ``<div hidden id="S:1f">`` at the end of the body and a script moves it into
# its place in the page (``<template id="B:1f">``) at once; the reader sees it, so its text counts.
_STREAMED = re.compile(r"S:[0-9a-f]+$")  # the boundary number in hex
# A block that is one URL or one ISO timestamp (microdata leftovers, image links).
_URLISH = re.compile(r"^\S*(?:://|www\.)\S*$|^\d{4}-\d\d-\d\dT\S*$")


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens (CJK characters one by one)."""
    return _TOKEN.findall(text.lower())


@dataclass
class Block:
    text: str
    tag: str  # the innermost block-level element's tag
    depth: int
    link_chars: int
    anc: int  # bitmask over ANCESTOR_TAGS
    cls: int  # bitmask over CLASS_GROUPS (any ancestor's class/id)
    cls_near: int  # bitmask over CLASS_GROUPS of the innermost 3 attributed ancestors
    parent: int  # index of the innermost block element (blocks under one element share it)
    index: int = 0


_BITS_MEMO: dict[str, int] = {}


def _attr_bits(attr: str) -> int:
    bits = _BITS_MEMO.get(attr)
    if bits is None:
        bits = 0
        for m in _CLASS_ANY.finditer(attr.lower()):
            bits |= _GROUP_BIT[m.lastgroup]
        if len(_BITS_MEMO) < 50_000:
            _BITS_MEMO[attr] = bits
    return bits


def _class_bits(el) -> int:
    """Class groups of an element's ``class``, ``id`` and microdata ``itemprop`` words."""
    c, i, m = el.get("class"), el.get("id"), el.get("itemprop")
    if not c and not i and not m:
        return 0
    return _attr_bits(f"{c or ''} {i or ''} {m or ''}")


def page_blocks(tree) -> list[Block]:
    """Visible text blocks of a parsed page (``lxml.html`` tree), in document order."""
    blocks: list[Block] = []
    pieces: list[str] = []
    put = pieces.append
    link = 0  # chars of link text in the current block
    in_link = 0  # open <a> elements
    # Stack entries: (anc bits, class bits, near-class bits tuple, their OR, block element id,
    # is_block, innermost block-level tag).
    stack: list[tuple] = []
    push, pop = stack.append, stack.pop
    top = (0, 0, (), 0, 0, False, "other")
    counter = 0
    space = _SPACE.sub
    skip_tags, block_tags, anc_index = SKIP_TAGS, BLOCK_TAGS, _ANC_INDEX
    memo, attr_bits = _BITS_MEMO, _attr_bits

    def flush(link_chars: int) -> None:
        text = space(" ", "".join(pieces)).strip()
        pieces.clear()
        if text:
            anc, cls, _, near_bits, parent, _, block_tag = top
            blocks.append(Block(text, block_tag, len(stack), min(link_chars, len(text)), anc, cls,
                                near_bits, parent))

    walker = etree.iterwalk(tree, events=("start", "end"))
    skipping = []
    for event, el in walker:
        tag = el.tag
        if event == "start":
            if tag.__class__ is not str:  # comments, processing instructions: only their tail
                walker.skip_subtree()
                continue
            get = el.get
            if tag in skip_tags or (get("hidden") is not None and not _STREAMED.match(get("id") or "")) \
                    or get("aria-hidden") == "true":
                walker.skip_subtree()
                skipping.append(el)
                continue
            is_block = tag in block_tags
            if is_block and pieces:
                flush(link)
                link = 0
            anc, cls, near, near_bits, parent, _, block_tag = top
            i = anc_index.get(tag)
            if i is not None:
                anc |= 1 << i
            c, d, m = get("class"), get("id"), get("itemprop")
            if c or d or m:
                key = f"{c or ''} {d or ''} {m or ''}"
                bits = memo.get(key)
                if bits is None:
                    bits = attr_bits(key)
                if bits:
                    cls |= bits
                    near = (near + (bits,))[-3:]
                    near_bits = 0
                    for x in near:
                        near_bits |= x
            if is_block:
                counter += 1
                parent = counter
                block_tag = tag
            top = (anc, cls, near, near_bits, parent, is_block, block_tag)
            push(top)
            if tag == "a":
                in_link += 1
            elif tag == "br" and pieces:
                flush(link)
                link = 0
            t = el.text
            if t:
                put(t)
                if in_link:
                    link += len(t.strip())
        else:
            if tag.__class__ is str:
                if skipping and skipping[-1] is el:
                    skipping.pop()
                else:
                    if top[5] and pieces:
                        flush(link)
                        link = 0
                    if stack:
                        pop()
                        top = stack[-1] if stack else (0, 0, (), 0, 0, False, "other")
                    if tag == "a":
                        in_link -= 1
            t = el.tail
            if t:
                put(t)
                if in_link:
                    link += len(t.strip())
    if pieces:
        flush(link)
    for i, b in enumerate(blocks):
        b.index = i
    return blocks


def _ngrams(toks: list[str], n: int) -> list[tuple[str, ...]]:
    return list(zip(*(toks[i:] for i in range(n))))


class Coverage:
    """How much of a block's text occurs in a candidate text (an extractor's output, the gold)."""

    def __init__(self, text: str) -> None:
        toks = tokens(text)
        self.tri = set(_ngrams(toks, 3))
        self.bi = set(_ngrams(toks, 2))
        self.uni = set(toks)
        self.n = len(toks)

    def of(self, toks: list[str]) -> float:
        if not toks:
            return 0.0
        if len(toks) >= 3:
            tri = self.tri
            if not tri:
                return 0.0
            return sum(1 for g in zip(toks, toks[1:], toks[2:]) if g in tri) / (len(toks) - 2)
        if len(toks) == 2:
            return 1.0 if tuple(toks) in self.bi else 0.0
        return 1.0 if toks[0] in self.uni else 0.0


# A kept block that repeats a run of the text kept before it: most of its trigrams already kept,
# taken from several earlier blocks (a hidden or AMP copy of the whole article after its paragraphs,
# a teaser box that strings ledes together). One repeated paragraph is not a run: test pages and
# real ones repeat a paragraph on purpose, and a heading repeats its table of contents entry.
REPEAT_SHARE = 0.8  # share of the block's token trigrams already kept
REPEAT_SOURCES = 3  # …found in at least this many earlier kept blocks
REPEAT_MIN_TOKENS = 40  # …in a block of this many tokens or more


def repeated_runs(texts: list[str], keep) -> list[bool]:
    """Per block: kept, but it repeats a run of earlier kept blocks (``REPEAT_*``); such a block
    is better left out (the text would hold it twice)."""
    first_seen: dict[tuple[str, str, str], int] = {}
    out = [False] * len(texts)
    for i, (text, kept) in enumerate(zip(texts, keep)):
        if not kept:
            continue
        toks = tokens(text)
        tri = list(zip(toks, toks[1:], toks[2:]))
        if len(toks) >= REPEAT_MIN_TOKENS:
            found = [first_seen[g] for g in tri if g in first_seen]
            if len(found) >= REPEAT_SHARE * len(tri) and len(set(found)) >= REPEAT_SOURCES:
                out[i] = True
                continue
        for g in tri:
            first_seen.setdefault(g, i)
    return out


# Per-block features (own), then the same few for neighbours, then page-level ones.
OWN = (["log_chars", "log_tokens", "link_density", "depth", "rel_depth", "position", "char_position",
        "terminal", "sentences", "digit_share", "upper_share", "letter_share", "comma_rate",
        "avg_token_len", "has_copyright", "has_pipe", "dup_count", "parent_log_chars",
        "parent_link_density", "parent_blocks", "cov"]
       + [f"kind_{k}" for k in BLOCK_KINDS] + [f"in_{t}" for t in ANCESTOR_TAGS]
       + [f"cls_{g}" for g, _ in CLASS_GROUPS] + [f"near_{g}" for g, _ in CLASS_GROUPS])
NEIGHBOUR = ("cov", "log_tokens", "link_density", "terminal")
OFFSETS = (-2, -1, 1, 2)
PAGE = ("page_log_blocks", "page_log_chars", "page_link_density", "cand_share", "cand_log_tokens",
        "cov_window5", "cov_run_before", "cov_run_after",
        # where the block sits relative to the candidate's text and the page's first <h1>
        "cand_before", "cand_after", "cand_gap", "h1_rel", "h1_after",
        # blocks of the same structure (tag, depth, ancestors, class words) and of the same parent
        "sig_log_count", "sig_cov", "parent_cov",
        # the text itself: the page language's jusText stopwords, a bare URL / timestamp
        "stop_share", "page_stop_share", "urlish",
        # trafilatura's comments (posts of a forum, readers' comments of an article)
        "cov_comments", "comments_share")
FEATURE_NAMES = tuple(OWN + [f"{n}_{o:+d}" for o in OFFSETS for n in NEIGHBOUR] + list(PAGE))


def block_features(blocks: list[Block], candidate: str, comments: str = "") -> np.ndarray:
    """``len(blocks) x len(FEATURE_NAMES)`` features; ``candidate`` is trafilatura's text,
    ``comments`` the comments it told apart from it."""
    n = len(blocks)
    if n == 0:
        return np.zeros((0, len(FEATURE_NAMES)))
    cov = Coverage(candidate)
    own = np.zeros((n, len(OWN)))
    toks_all = [tokens(b.text) for b in blocks]
    counts: dict[str, int] = {}
    for b in blocks:
        counts[b.text] = counts.get(b.text, 0) + 1
    depths = np.array([b.depth for b in blocks], dtype=float)
    med_depth = float(np.median(depths))
    chars = np.array([len(b.text) for b in blocks], dtype=float)
    links = np.array([b.link_chars for b in blocks], dtype=float)
    parents = np.array([b.parent for b in blocks])
    _, pinv = np.unique(parents, return_inverse=True)
    p_chars = np.bincount(pinv, weights=chars)
    p_links = np.bincount(pinv, weights=links)
    p_count = np.bincount(pinv)
    total_chars = float(chars.sum())
    cum = np.cumsum(chars) - chars
    k0 = 21
    kinds = _KIND_INDEX
    texts = [b.text for b in blocks]
    nts = np.array([len(x) for x in toks_all], dtype=float)
    digits = np.array([len(t) - len(t.translate(_NO_DIGITS)) for t in texts], dtype=float)
    tok_chars = np.array([sum(map(len, x)) for x in toks_all], dtype=float)
    own[:, 0] = np.log1p(chars)
    own[:, 1] = np.log1p(nts)
    own[:, 2] = links / chars
    own[:, 3] = depths
    own[:, 4] = depths - med_depth
    own[:, 5] = np.arange(n) / n
    own[:, 6] = cum / total_chars if total_chars else 0.0
    own[:, 7] = [1.0 if _TERMINAL.search(t) else 0.0 for t in texts]
    own[:, 8] = [len(_SENTENCE_END.findall(t)) for t in texts]
    own[:, 9] = digits / chars
    letters = np.maximum(tok_chars - digits, 1.0)
    own[:, 10] = np.array([len(_UPPER.findall(t)) for t in texts], dtype=float) / letters
    own[:, 11] = letters / chars
    own[:, 12] = np.array([t.count(",") for t in texts], dtype=float) / np.maximum(nts, 1.0)
    own[:, 13] = np.where(nts > 0, tok_chars / np.maximum(nts, 1.0), 0.0)
    own[:, 14] = [1.0 if ("©" in t or "(c)" in t or "(C)" in t) else 0.0 for t in texts]
    own[:, 15] = [1.0 if ("|" in t or "•" in t or "·" in t) else 0.0 for t in texts]
    own[:, 16] = np.log([counts[t] for t in texts])
    own[:, 17] = np.log1p(p_chars[pinv])
    own[:, 18] = np.where(p_chars[pinv] > 0, p_links[pinv] / np.maximum(p_chars[pinv], 1.0), 0.0)
    own[:, 19] = np.log(p_count[pinv])
    own[:, 20] = [cov.of(x) for x in toks_all]
    kind = np.array([kinds.get(_KIND_OF.get(b.tag, b.tag), kinds["other"]) for b in blocks])
    own[np.arange(n), k0 + kind] = 1.0
    base = k0 + len(BLOCK_KINDS)
    na, nc = len(ANCESTOR_TAGS), len(CLASS_GROUPS)
    anc = np.array([b.anc for b in blocks], dtype=np.int64)
    cls = np.array([b.cls for b in blocks], dtype=np.int64)
    near = np.array([b.cls_near for b in blocks], dtype=np.int64)
    own[:, base : base + na] = (anc[:, None] >> np.arange(na)) & 1
    own[:, base + na : base + na + nc] = (cls[:, None] >> np.arange(nc)) & 1
    own[:, base + na + nc : base + na + 2 * nc] = (near[:, None] >> np.arange(nc)) & 1
    cols = [own]
    pick = [OWN.index(f) for f in NEIGHBOUR]
    sel = own[:, pick]
    cols.extend(shifted(sel, o, -1.0) for o in OFFSETS)  # neighbours' features, -1 off the page
    c = own[:, 20]
    page = np.zeros((n, len(PAGE)))
    page[:, 0] = math.log1p(n)
    page[:, 1] = math.log1p(total_chars)
    page[:, 2] = links.sum() / total_chars if total_chars else 0.0
    ntoks = np.array([len(x) for x in toks_all], dtype=float)
    page[:, 3] = cov.n / ntoks.sum() if ntoks.sum() else 0.0
    page[:, 4] = math.log1p(cov.n)
    kernel = np.ones(11) / 11
    page[:, 5] = np.convolve(np.pad(c, 5, constant_values=0.0), kernel, mode="valid")
    # Token-weighted share of candidate text in the 20 blocks before / after.
    w = ntoks * c
    cw, cn = np.concatenate([[0.0], np.cumsum(w)]), np.concatenate([[0.0], np.cumsum(ntoks)])
    idx = np.arange(n)
    lo, hi = np.maximum(idx - 20, 0), np.minimum(idx + 21, n)
    before_t = cn[idx] - cn[lo]
    after_t = cn[hi] - cn[idx + 1]
    page[:, 6] = np.where(before_t > 0, (cw[idx] - cw[lo]) / np.maximum(before_t, 1), -1.0)
    page[:, 7] = np.where(after_t > 0, (cw[hi] - cw[idx + 1]) / np.maximum(after_t, 1), -1.0)
    # Candidate tokens before / after the block (share of all candidate-covered tokens), blocks
    # to the nearest covered block.
    covered = c >= 0.5
    cw_all = cw[-1]
    page[:, 8] = (cw[idx]) / cw_all if cw_all else -1.0
    page[:, 9] = (cw_all - cw[idx + 1]) / cw_all if cw_all else -1.0
    if covered.any():
        pos = np.flatnonzero(covered)
        j = np.searchsorted(pos, idx)
        left = np.where(j > 0, idx - pos[np.maximum(j - 1, 0)], n)
        right = np.where(j < len(pos), pos[np.minimum(j, len(pos) - 1)] - idx, n)
        page[:, 10] = np.log1p(np.minimum(left, right))
    else:
        page[:, 10] = math.log1p(n)
    h1 = [i for i, b in enumerate(blocks) if b.tag == "h1"]
    if h1:
        page[:, 11] = (idx - h1[0]) / n
        page[:, 12] = (idx >= h1[0]).astype(float)
    else:
        page[:, 11] = -2.0
        page[:, 12] = -1.0
    sig = [(b.tag, b.depth, b.anc, b.cls_near) for b in blocks]
    sig_id: dict = {}
    sinv = np.array([sig_id.setdefault(x, len(sig_id)) for x in sig])
    s_count = np.bincount(sinv)
    s_tok = np.bincount(sinv, weights=ntoks)
    s_cov = np.bincount(sinv, weights=w)
    rest_tok = s_tok[sinv] - ntoks
    page[:, 13] = np.log(s_count[sinv])
    page[:, 14] = np.where(rest_tok > 0, (s_cov[sinv] - w) / np.maximum(rest_tok, 1.0), -1.0)
    p_tok = np.bincount(pinv, weights=ntoks)
    p_cov = np.bincount(pinv, weights=w)
    page[:, 15] = np.where(p_tok[pinv] > 0, p_cov[pinv] / np.maximum(p_tok[pinv], 1.0), -1.0)
    _, stop = choose_stoplist(sorted(toks_all, key=len, reverse=True))
    n_stop = np.array([sum(map(stop.__contains__, x)) for x in toks_all], dtype=float) if stop else np.zeros(n)
    page[:, 16] = n_stop / np.maximum(nts, 1.0)
    page[:, 17] = n_stop.sum() / ntoks.sum() if ntoks.sum() else 0.0
    page[:, 18] = [1.0 if _URLISH.match(t) else 0.0 for t in texts]
    if comments.strip():
        ccov = Coverage(comments)
        page[:, 19] = [ccov.of(x) for x in toks_all]
        page[:, 20] = ccov.n / ntoks.sum() if ntoks.sum() else 0.0
    cols.append(page)
    return stable(np.hstack(cols))


def structure_reason(block: Block, title_keys: frozenset[str] = frozenset()) -> tuple[str, str] | None:
    """(reason, rule) the page's structure gives a removed block, or None (then: the extractor)."""
    anc, cls = block.anc, block.cls_near | block.cls
    if block.tag == "h1" or (title_keys and len(block.text) < 300 and " ".join(tokens(block.text)) in title_keys):
        return "title", "html.title"
    if cls >> _CLS["comment"] & 1:
        return "comments", "html.comments"
    if anc >> _ANC_INDEX["nav"] & 1 or block.cls_near >> _CLS["nav"] & 1 or anc >> _ANC_INDEX["menu"] & 1:
        return "navigation", "html.nav"
    if anc >> _ANC_INDEX["footer"] & 1 or block.cls_near >> _CLS["footer"] & 1:
        return "footer", "html.footer"
    if block.tag in ("figcaption", "caption") or anc >> _ANC_INDEX["figure"] & 1 or block.cls_near >> _CLS["caption"] & 1:
        return "caption", "html.caption"
    if block.cls_near >> _CLS["related"] & 1 or anc >> _ANC_INDEX["aside"] & 1:
        return "related", "html.related"
    if anc >> _ANC_INDEX["header"] & 1 or block.cls_near >> _CLS["header"] & 1:
        return "navigation", "html.header"
    return None


_CLS = {g: i for i, (g, _) in enumerate(CLASS_GROUPS)}
