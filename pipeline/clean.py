"""clean_document: one Document from raw input to clean, language-tagged text."""
from __future__ import annotations

import hashlib
import logging
from dataclasses import replace
from functools import lru_cache
from importlib import metadata as _metadata
from typing import Any

from .boilerplate import strip_boilerplate
from .classify import MODEL_PATH
from .config import CleanConfig
from .decode import UNENCODABLE_STAT, make_document_encodable
from .document import Decision, Document
from .language import LanguageMix, detect_language, detect_languages
from .normalize import split_lines
from .quality import assess, quality_guard
from .rules import RuleError, RuleSet, load_rules
from .site_profile import SiteProfiles
from .site_rules import SiteRuleBook, apply_line_rules, drop_selected, load_site_rules

log = logging.getLogger(__name__)

try:
    __version__ = _metadata.version("decruft")
except _metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0+src"


def extract_html(html: str, **limits: Any):
    """``pipeline.extract.extract_html``, imported on first use: trafilatura, lxml and
    BeautifulSoup take a few tenths of a second to load, and text input never needs them."""
    from .extract import extract_html as extract

    return extract(html, **limits)


def rules_for(cfg: CleanConfig) -> RuleSet:
    return load_rules(tuple(cfg.rules_dirs), frozenset(cfg.disabled_rules))


@lru_cache(maxsize=1)
def model_version() -> str:
    """Content hash of the shipped line model (``none`` when it is missing)."""
    try:
        return hashlib.sha256(MODEL_PATH.read_bytes()).hexdigest()[:12]
    except FileNotFoundError:
        return "none"


def version_info(cfg: CleanConfig) -> dict[str, str]:
    """What changes output: package version, the rules' and the line model's content hashes."""
    return {"decruft": __version__, "rules": rules_version(cfg), "model": model_version()}


def site_rules_for(cfg: CleanConfig) -> SiteRuleBook:
    return load_site_rules(tuple(cfg.rules_dirs))


def rules_version(cfg: CleanConfig) -> str:
    """Hash of the phrase rules in use, and of the site rules (``sites/*.toml``) when there are any."""
    phrase, sites = rules_for(cfg).version, site_rules_for(cfg)
    if not len(sites):
        return phrase
    return hashlib.sha256(f"{phrase}+{sites.version}".encode()).hexdigest()[:12]


def clean_document(doc: Document, cfg: CleanConfig | None = None,
                   profiles: SiteProfiles | None = None) -> Document:
    """Clean ``doc`` in place and return it; a document that cannot be cleaned gets ``error`` set.

    ``profiles``: learned site boilerplate (``site_profile``); lines of a plain-text
    document that are its site's template are removed with reason ``site_boilerplate``.
    """
    make_document_encodable(doc)  # first: nothing below ever sees a lone surrogate
    if doc.rejected or doc.skipped:
        return doc
    cfg = cfg or CleanConfig()
    raw = doc.raw

    def capped(text: str) -> str:
        """The first ``max_document_chars`` of the text to clean (of a page: of its extracted text;
        its markup is bounded by ``max_input_bytes`` and ``max_html_bytes``)."""
        if len(text) <= cfg.max_document_chars:
            return text
        doc.capped.append("document_chars")
        return text[: cfg.max_document_chars]

    if doc.kind != "html":
        raw = capped(raw)
    title = doc.title
    site = site_rules_for(cfg).for_document(doc.url, doc.id)
    selected: list[Decision] = []
    if doc.kind == "html" and site is not None and site.selects:
        raw, selected = drop_selected(raw, site)  # the site's CSS selectors, before extraction
    page = raw  # the HTML as the extractor reads it (Markdown takes its structure from it)
    got = None
    if doc.kind == "html":
        got = extract_html(raw, max_bytes=cfg.max_html_bytes, max_depth=cfg.max_html_depth,
                           model_path=cfg.html_model)
        if got.method not in ("trafilatura", "html_model"):
            doc.capped.append(got.method) if got.method == "soup_capped" else None
        doc.metadata.update({k: v for k, v in got.metadata.items() if k not in doc.metadata})
        doc.metadata["extractor"] = got.method
        title = title or got.title
        raw = capped(got.text)
    lines, cut = split_lines(raw, cfg.max_line_chars)
    if cut:
        doc.capped.append("line_chars")
    # learnt from plain-text documents (``batch.learn_site_counts``): applied to those alone
    site_keys = profiles.for_document(doc.url, doc.id) if profiles and doc.kind == "text" else None
    if doc.kind == "html" and cfg.statistical and not cfg.statistical_html:
        cfg = replace(cfg, statistical=False)
    decisions, title = strip_boilerplate(lines, rules_for(cfg), cfg, title=title, site_keys=site_keys)
    if got is not None and got.blocks:  # what the HTML extractor left out is on record too
        from .extract import with_block_removals

        decisions = with_block_removals(decisions, got, title, cfg.max_line_chars)
    if site is not None:
        decisions = selected + apply_line_rules(decisions, site)
    kept = [d.text for d in decisions if d.keep]
    mix = languages_of(kept, cfg)
    if cfg.keep_langs and kept:
        decisions, kept, mix = keep_languages(decisions, mix, cfg)
    doc.decisions = decisions
    doc.title = title.strip() if title else None
    doc.text = "\n\n".join(kept)
    if cfg.markdown:  # a rendering of the same kept lines, with their line classes
        from .markdown import to_markdown

        structured = got is not None and got.method in ("html_model", "trafilatura")  # a parsed page
        doc.line_classes, doc.markdown = to_markdown(kept, page if structured else None, cfg.line_class_model,
                                                     source=lines)
    visible = got.visible_chars() if got is not None else None
    doc.stats = {
        # HTML: the page's visible text (its blocks one a line), the raw size beside it
        "chars_in": len(doc.raw) if visible is None else visible,
        "chars_out": len(doc.text),
        "lines_in": len(decisions),
        "lines_kept": len(kept),
        "lines_removed": len(decisions) - len(kept),
        UNENCODABLE_STAT: doc.stats.get(UNENCODABLE_STAT, 0),  # replaced by U+FFFD (decode.py)
        "bytes_in": len(doc.raw.encode("utf-8", "surrogatepass")),  # the raw size (HTML: the page)
    }
    doc.lang, doc.lang_score = mix.lang, mix.score
    doc.langs, doc.paragraph_langs = mix.shares(), mix.paragraphs
    doc.quality_parts, doc.quality = assess(decisions, extracted=doc.kind == "html", lang_score=doc.lang_score)
    if cfg.keep_langs and not kept and any(d.reason == "other_language" for d in decisions):
        found = ", ".join(f"{d['lang']} {d['share']}" for d in doc.langs) or "none"
        doc.error = "language_filtered"
        doc.detail = f"no paragraph in {', '.join(sorted(cfg.keep_langs))} (found: {found})"
    elif len(doc.text) < cfg.min_output_chars:
        doc.error = "empty_after_cleaning"
        doc.detail = f"nothing left after cleaning ({len(decisions)} lines removed)"
    elif (guard := quality_guard(doc.quality, doc.quality_parts, cfg)) is not None:
        doc.error, doc.detail = guard
    if doc.capped:
        log.warning("capped %s: %s", doc.id, "; ".join(describe_cap(name, cfg) for name in doc.capped))
    return doc


def describe_cap(name: str, cfg: CleanConfig) -> str:
    """One limit that cut a document (a ``stats.capped`` name), in words, with its setting."""
    if name == "input_bytes":
        return f"only the first max_input_bytes = {cfg.max_input_bytes:,} bytes were read"
    if name == "document_chars":
        return f"only the first max_document_chars = {cfg.max_document_chars:,} characters were cleaned"
    if name == "line_chars":
        return f"lines longer than max_line_chars = {cfg.max_line_chars:,} characters were cut"
    if name == "soup_capped":
        return (f"HTML over max_html_bytes = {cfg.max_html_bytes:,} or nested deeper than max_html_depth = "
                f"{cfg.max_html_depth:,}: its first {cfg.max_html_bytes:,} characters read without trafilatura")
    return name


def languages_of(paragraphs: list[str], cfg: CleanConfig) -> LanguageMix:
    """``detect_languages`` with the config's knobs (main language, shares, per paragraph)."""
    return detect_languages(
        paragraphs, sample_chars=cfg.lang_sample_chars, min_letters=cfg.lang_min_letters,
        min_score=cfg.lang_min_score, seed=cfg.lang_seed, min_chars=cfg.langs_min_chars,
        max_units=cfg.langs_max_units, unit_chars=cfg.langs_unit_chars, min_margin=cfg.langs_min_margin,
        max_detects=cfg.langs_max_detects)


def keep_languages(decisions: list[Decision], mix: LanguageMix, cfg: CleanConfig
                   ) -> tuple[list[Decision], list[str], LanguageMix]:
    """Remove kept paragraphs whose language is not in ``cfg.keep_langs`` (reason
    ``other_language``, rule ``lang.<code>``); the mix is recomputed over what is left (one
    more detector run only when the main language was removed)."""
    out: list[Decision] = []
    kept: list[str] = []
    langs: list[str] = []
    labels = iter(mix.paragraphs)
    for d in decisions:
        if not d.keep:
            out.append(d)
            continue
        lang = next(labels)
        if lang in cfg.keep_langs:
            out.append(d)
            kept.append(d.text)
            langs.append(lang)
        else:
            out.append(Decision(d.text, False, "other_language", f"lang.{lang}"))
    if not kept:
        return out, kept, LanguageMix("und", 0.0, mix.langs, ())
    if len(kept) == len(mix.paragraphs):
        return out, kept, mix
    chars: dict[str, int] = {}
    for text, lang in zip(kept, langs):
        chars[lang] = chars.get(lang, 0) + len(text)
    total = sum(chars.values()) or 1
    shares = tuple(sorted(((c, round(n / total, 4)) for c, n in chars.items()), key=lambda x: (-x[1], x[0])))
    main, score = mix.lang, mix.score
    if main not in chars:
        main, score = detect_language("\n\n".join(t for t, l in zip(kept, langs) if l == shares[0][0]),
                                      sample_chars=cfg.lang_sample_chars, min_letters=cfg.lang_min_letters,
                                      min_score=cfg.lang_min_score, seed=cfg.lang_seed)
    return out, kept, LanguageMix(main, score, shares, tuple(langs))


_WARM_UP = ("Home | News | Sport\nWarm-up page\nThe rules, the line model and the language profiles "
            "load while this page is cleaned.\nShare this article")


def warm_up(cfg: CleanConfig | None = None) -> None:
    """Load what cleaning needs (rules, line model, language profiles, stoplists) now rather
    than inside the first document: before forking workers, or outside a time limit."""
    clean_document(Document(id="warm-up", source="", raw=_WARM_UP), cfg)
    from .langid import profiles

    profiles().log_matrix()  # the per-paragraph language table (too short a page to need it above)


def clean_or_reject(doc: Document, cfg: CleanConfig | None = None,
                    profiles: SiteProfiles | None = None) -> Document:
    """``clean_document`` that never raises: an unexpected error rejects this document only."""
    try:
        return clean_document(doc, cfg, profiles)
    except RuleError:  # a bad rule file is the run's configuration, not this document's fault
        raise
    except Exception as exc:  # one bad document never stops a batch
        doc.error, doc.detail = "internal_error", f"{type(exc).__name__}: {exc}"
        return doc


def _clean(raw: str, kind: str, cfg: CleanConfig | None, fields: dict[str, Any]) -> dict[str, Any]:
    cfg = cfg or CleanConfig()
    known = {k: fields.pop(k) for k in ("id", "source", "url", "title") if k in fields}
    doc = Document(
        id=str(known.get("id", "doc")), source=str(known.get("source", "<memory>")),
        url=known.get("url"), title=known.get("title"), kind=kind, raw=raw, metadata=dict(fields),
    )
    clean_document(doc, cfg)
    record = doc.to_record(version_info(cfg))
    if doc.rejected:
        record["error"] = doc.to_reject(record["version"])["error"]
    return record


def clean_text(text: str, cfg: CleanConfig | None = None, **fields: Any) -> dict[str, Any]:
    """Clean one plain-text dump; ``fields`` (id, source, url, title, anything else → metadata)."""
    return _clean(text, "text", cfg, fields)


def clean_html(html: str, cfg: CleanConfig | None = None, **fields: Any) -> dict[str, Any]:
    """Clean one HTML page: trafilatura's main text, then the same cleaning as ``clean_text``."""
    return _clean(html, "html", cfg, fields)
