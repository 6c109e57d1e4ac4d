"""HTML page → (main text, title, metadata): the HTML block model over the page's visible blocks
with trafilatura's text as a feature, trafilatura alone without a model, BeautifulSoup as the fallback."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import trafilatura
from bs4 import BeautifulSoup
from courlan import extract_domain
from htmldate import find_date
from lxml import etree
from lxml.html import HtmlElement
from trafilatura import metadata as _tmeta
from trafilatura.utils import load_html

from . import html_blocks
from .classify import stable

_DROP_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "head")
_SITE_FROM_URL = re.compile(r"https?://(?:www\.|w[0-9]+\.)?([^/]+)")
# The metadata fields a record gets (those found): see page_metadata.
META_FIELDS = ("date", "author", "sitename", "description", "hostname")
# Deleted by trafilatura's own tree cleaning before its main extractor looks at the page; dropped
# up front (after the metadata is read) so its many XPath passes and tree copies walk a page about
# half the size. Only its readability comparison, which read the whole page, now sees less: the
# text is the same on all 120 dev pages.
_FURNITURE = ("nav", "footer", "aside", "style", "svg")
_JSON_LD = "application/ld+json"  # kept: trafilatura reads it (forum pages, JSON article bodies)
HTML_MODEL_PATH = Path(__file__).with_name("models") / "html_blocks.lgb.txt"


@dataclass
class Extracted:
    text: str
    title: str | None = None
    metadata: dict = field(default_factory=dict)
    method: str = "trafilatura"
    blocks: list = field(default_factory=list)  # the page's visible text blocks (html_blocks.Block)
    kept: list = field(default_factory=list)  # per block: did it reach ``text``
    rule: str = ""  # what decided about the blocks left out (``html.model``, ``trafilatura``)
    probs: list = field(default_factory=list)  # per block: the block model's P(body) (``html_model`` only)
    repeats: list = field(default_factory=list)  # per block: left out as a repeat of kept text (``html_model``)

    def visible_chars(self) -> int | None:
        """Characters of the page's visible text (blocks one a line), None without blocks."""
        if not self.blocks:
            return None
        return sum(len(b.text) for b in self.blocks) + len(self.blocks) - 1


def _soup_text(html: str) -> tuple[str, str | None]:
    soup = BeautifulSoup(html, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    for tag in soup(_DROP_TAGS):
        tag.decompose()
    return soup.get_text("\n", strip=True), title or None


# Tags that never close, so that they do not nest: void elements, comments and <!DOCTYPE> (self-closed
# ones, ``<path/>``, are counted by their "/>").
_NO_CLOSE = ("<img", "<br", "<input", "<meta", "<link", "<hr", "<source", "<area", "<col", "<embed",
             "<param", "<track", "<wbr", "<base", "<!")


def looks_too_deep(html: str, max_depth: int) -> bool:
    """Cheap guard: more opening than closing tags by ``max_depth`` means pathological nesting.
    Tags that never close (``_NO_CLOSE``, self-closed ones) are not openings: a page of a thousand
    images and inline SVG icons is not deep."""
    if len(html) < max_depth * 3:
        return False
    opens = html.count("<") - 2 * html.count("</")
    if opens <= max_depth:
        return False
    low = html.lower()  # only for the pages the first count flags
    return opens - low.count("/>") - sum(low.count(tag) for tag in _NO_CLOSE) > max_depth


def page_metadata(tree: HtmlElement) -> tuple[str | None, dict]:
    """Title and cheap metadata of a parsed page; reads ``tree`` without changing it.

    What ``trafilatura.bare_extraction(with_metadata=True)`` finds, minus its costly parts:
    title, author, site name and description from ``<meta>``/OpenGraph tags and JSON-LD
    (else the title from ``<h1>``/``<title>``, the site name from the ``<title>`` or the
    URL); hostname from the page's canonical/og:url; date by htmldate's quick search (URL,
    meta tags, JSON-LD, ``<time>``/``<abbr>`` and date-like elements, no free-text search).
    Not looked for: an author named only in the page body (trafilatura's fallback copies and
    prunes the whole tree: ~12 ms a page), categories, tags, licence.
    """
    meta = _tmeta.examine_meta(tree)
    if meta.author and " " not in meta.author:  # as trafilatura: a one-word author is a handle
        meta.author = None
    meta = _tmeta.extract_meta_json(tree, meta)
    meta.title = meta.title or _tmeta.extract_title(tree)
    meta.url = meta.url or _tmeta.extract_url(tree)
    if meta.url:
        meta.hostname = extract_domain(meta.url, fast=True)
    meta.date = find_date(tree, extensive_search=False, original_date=True, url=meta.url)
    meta.sitename = meta.sitename or _tmeta.extract_sitename(tree)
    if meta.sitename:
        meta.sitename = meta.sitename.lstrip("@")
        if meta.sitename and "." not in meta.sitename and not meta.sitename[0].isupper():
            meta.sitename = meta.sitename.title()
    elif meta.url and (match := _SITE_FROM_URL.match(meta.url)):
        meta.sitename = match[1]
    meta.clean_and_trim()
    return meta.title or None, {k: v for k in META_FIELDS if (v := getattr(meta, k, None))}


def drop_furniture(tree: HtmlElement) -> HtmlElement:
    """Delete, in place, what trafilatura would delete anyway: ``<head>`` (but JSON-LD), scripts,
    styles, SVG, navigation, footers and asides. Tail text stays, as in trafilatura."""
    head = tree.find("head")
    doomed = [el for el in head] if head is not None else []
    doomed += tree.iter("script")
    for el in doomed:
        if not (el.tag == "script" and el.get("type") == _JSON_LD) and el.getparent() is not None:
            el.drop_tree()
    etree.strip_elements(tree, *_FURNITURE, with_tail=False)
    return tree


def _trafilatura_doc(tree: HtmlElement, favor_precision: bool, include_comments: bool = False,
                     fast: bool = False) -> tuple[str, str]:
    """(main text, comments text) of trafilatura's ``bare_extraction`` ("" when it fails)."""
    try:
        doc = trafilatura.bare_extraction(
            tree, include_comments=include_comments, include_tables=True, include_images=False,
            deduplicate=False, favor_precision=favor_precision, fast=fast,
        )
    except Exception:  # noqa: BLE001 - RecursionError, ValueError, lxml errors…: the soup fallback
        return "", ""
    if doc is None:
        return "", ""
    return doc.text or "", (doc.comments or "") if include_comments else ""


def _trafilatura_text(tree: HtmlElement, favor_precision: bool, include_comments: bool = False,
                      fast: bool = False) -> str:
    return _trafilatura_doc(tree, favor_precision, include_comments, fast)[0]


def parse_page(html: str) -> HtmlElement | None:
    """The parsed page (trafilatura's parser), or None when lxml cannot make a tree of it."""
    try:
        return load_html(html)
    except Exception:  # noqa: BLE001 - hostile input
        return None


# trafilatura's modes the block model can read its candidate from: (favor_precision, fast).
CANDIDATE_MODES = {"dflt_c": (False, False), "fast_c": (False, True)}


def candidate_text(html: str, tree: HtmlElement, mode: str = "dflt_c") -> tuple[str, str]:
    """(text, comments) of trafilatura on a page, comments told apart: the block model's candidate.

    ``mode`` (``CANDIDATE_MODES``): ``dflt_c`` its default mode, ``fast_c`` the same without its
    readability/jusText comparisons. Prunes ``tree`` in place (``drop_furniture``): read the
    page's blocks first. When that finds nothing, the default mode on the page as it came (its
    rescue stages read the whole page).
    """
    precision, fast = CANDIDATE_MODES[mode]
    text, comments = _trafilatura_doc(drop_furniture(tree), precision, True, fast)
    if not text.strip():
        fresh = parse_page(html)
        text = _trafilatura_text(fresh, favor_precision=False) if fresh is not None else ""
    return text, comments


@dataclass(frozen=True)
class HtmlModel:
    booster: Any  # pipeline.lgbm.Booster (or a lightgbm.Booster in training)
    tau: tuple[float, float]  # thresholds for blocks trafilatura kept / left out
    candidate: str  # the CANDIDATE_MODES entry the model was trained with


@lru_cache(maxsize=4)
def html_model(path: str | None = None) -> HtmlModel | None:
    """The HTML block model at ``path`` (default: the shipped one), or None when the model file
    is missing (then trafilatura's text is the answer)."""
    model_path = Path(path) if path else HTML_MODEL_PATH
    meta_path = model_path.with_suffix("").with_suffix(".json")
    if not model_path.is_file() or not meta_path.is_file():
        return None
    from .lgbm import Booster

    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if tuple(meta.get("features", ())) != html_blocks.FEATURE_NAMES:
        raise ValueError(f"{model_path}: the model's features differ from pipeline.html_blocks' (retrain: make train-html)")
    candidate = meta.get("candidate", "dflt_c")
    if candidate not in CANDIDATE_MODES:
        raise ValueError(f"{model_path}: unknown candidate mode {candidate!r} (retrain: make train-html)")
    booster = Booster(model_path.read_text(encoding="utf-8"))
    tau = meta["tau"]
    taus = (float(tau[0]), float(tau[1])) if isinstance(tau, list) else (float(tau), float(tau))
    return HtmlModel(booster, taus, candidate)


_COV = html_blocks.FEATURE_NAMES.index("cov")


def kept_blocks(blocks: list[html_blocks.Block], candidate: str, comments: str,
                model: HtmlModel) -> tuple[np.ndarray, np.ndarray, list[bool]]:
    """(which blocks the model keeps, their P(body), which it left out as repeats): P(body), rounded
    (``stable``), against the threshold for blocks the candidate holds (trafilatura kept them) or the
    one for blocks it left out; then a block that repeats a run of the kept text before it
    (``html_blocks.repeated_runs``) is left out too."""
    tau_in, tau_out = model.tau
    X = html_blocks.block_features(blocks, candidate, comments)
    p = stable(model.booster.predict(X, num_threads=1))
    keep = p >= np.where(X[:, _COV] >= 0.5, tau_in, tau_out)
    repeats = html_blocks.repeated_runs([b.text for b in blocks], keep)
    return keep & ~np.array(repeats, dtype=bool), p, repeats


def extract_html(html: str, *, max_bytes: int, max_depth: int, model_path: str | None = None) -> Extracted:
    """Main text of a page. Too large or too deep pages skip trafilatura (counted by the caller).

    The page's visible text blocks (``html_blocks.page_blocks``) are scored by the HTML block
    model, which reads each block's DOM features and how much of it trafilatura's default mode
    kept; the blocks it keeps, in page order, are the text (method ``html_model``). Without a
    model, trafilatura's text (``trafilatura``); when the model keeps nothing, the longer of
    trafilatura's fast and default texts. ``Extracted.blocks`` and
    ``Extracted.kept`` say which visible blocks did not reach the text, for the removal record.

    Never raises: whatever lxml or trafilatura cannot handle goes to the BeautifulSoup fallback.
    """
    title, meta = None, {}
    if len(html) <= max_bytes and not looks_too_deep(html, max_depth):
        tree = parse_page(html)  # parsed once, for the metadata, the blocks and the extraction
        if tree is not None:
            try:
                title, meta = page_metadata(tree)
            except Exception:  # noqa: BLE001 - metadata is optional
                title, meta = None, {}
            try:
                blocks = html_blocks.page_blocks(tree)  # before trafilatura prunes the tree
            except Exception:  # noqa: BLE001 - hostile input: no blocks, no record of them
                blocks = []
            model = html_model(model_path) if blocks else None
            try:
                text, comments = candidate_text(html, tree, model.candidate if model else "dflt_c")
            except Exception:  # noqa: BLE001 - hostile input: fall back, never raise
                text, comments = "", ""
            if model is not None:
                keep, probs, repeats = kept_blocks(blocks, text, comments, model)
                if keep.any():
                    kept_text = "\n".join(b.text for b, k in zip(blocks, keep) if k)
                    return Extracted(kept_text, title, meta, "html_model", blocks, keep.tolist(), "html.model",
                                     probs.tolist(), repeats)
                if CANDIDATE_MODES[model.candidate][1]:
                    # the model kept no block of a fast candidate: trafilatura's default mode too, whose
                    # comparison with readability and jusText rescues pages its main pass misreads
                    # (one that found only a footer); the longer text of the two is the answer
                    text = max(text, _trafilatura_text(tree, favor_precision=False), key=len)
            if text.strip():
                cov = html_blocks.Coverage(text)
                keep = [cov.of(html_blocks.tokens(b.text)) >= 0.5 for b in blocks]
                return Extracted(text, title, meta, "trafilatura", blocks, keep, "trafilatura")
        method = "soup_fallback"
    else:
        method = "soup_capped"
    try:
        text, soup_title = _soup_text(html[:max_bytes])
    except RecursionError:
        text, soup_title = re.sub(r"<[^>]*>", "\n", html[:max_bytes]), None
        method = "regex_fallback"
    return Extracted(text, title or soup_title, meta, method)


_TITLE_SPLIT = re.compile(r"\s+[|\-–—:»·]\s+")


def with_block_removals(decisions: list, got: Extracted, title: str | None, max_line_chars: int) -> list:
    """``decisions`` (of the extracted text's lines) with every visible block of the page that did
    not reach the text added as a removed line, in page order where the lines map to the kept
    blocks one to one (else after them). Reason: what the page's structure says about the block
    (``html_blocks.structure_reason``: navigation, footer, related, caption, comments, title),
    ``duplicate`` for a block the model kept that repeats a run of the text (rule ``html.repeat``),
    else ``extractor``; rule: the structure's (``html.nav``…) or what decided (``got.rule``)."""
    from .document import Decision
    from .normalize import split_lines

    if not got.blocks:
        return decisions
    keys = set()
    for t in (title, got.title):
        if t:
            keys.add(" ".join(html_blocks.tokens(t)))
            keys.update(" ".join(html_blocks.tokens(part)) for part in _TITLE_SPLIT.split(t))
    keys.discard("")
    title_keys = frozenset(keys)
    removed: list[tuple[int, Decision]] = []  # (kept blocks before it, decision)
    scored = got.method == "html_model" and len(got.probs) == len(got.blocks)
    probs = got.probs if scored else [None] * len(got.blocks)
    kept_probs = []  # the block model's P(body) of the kept blocks, in order
    left_out = [b.text for b, k in zip(got.blocks, got.kept) if not k]
    normal, _ = split_lines("\n".join(left_out), max_line_chars)  # one pass; per block if it shifts
    if len(normal) != len(left_out):
        normal = [" ".join(split_lines(t, max_line_chars)[0]) for t in left_out]
    repeats = got.repeats if len(got.repeats) == len(got.blocks) else [False] * len(got.blocks)
    at = 0
    for block, kept, prob, repeat in zip(got.blocks, got.kept, probs, repeats):
        if kept:
            kept_probs.append(prob)
            continue
        line = normal[at]
        at += 1
        if not line:
            continue
        if repeat:
            removed.append((len(kept_probs), Decision(line, False, "duplicate", "html.repeat", prob)))
            continue
        said = html_blocks.structure_reason(block, title_keys)
        reason, rule = said if said else ("extractor", got.rule or got.method)
        if said and got.rule:
            rule = f"{rule}+{got.rule}"
        removed.append((len(kept_probs), Decision(line, False, reason, rule, prob)))
    one_to_one = got.method == "html_model" and len(kept_probs) == len(decisions)
    if one_to_one and scored:  # each kept line is its block: it carries the block's P(body)
        decisions = [Decision(d.text, d.keep, d.reason, d.rule, p) if d.keep and d.score is None else d
                     for d, p in zip(decisions, kept_probs)]
    if not removed:
        return list(decisions)
    if not one_to_one:
        return list(decisions) + [d for _, d in removed]
    merged, j = [], 0
    for i, d in enumerate(decisions):
        while j < len(removed) and removed[j][0] <= i:
            merged.append(removed[j][1])
            j += 1
        merged.append(d)
    merged.extend(d for _, d in removed[j:])
    return merged
