"""Site rules as data: ``sites/<host>.toml`` in a rules folder (built-in and ``--rules DIR``).

Learned site profiles (``site_profile``) find template lines by themselves; users also know
their sites. One file per site::

    # pipeline/rules/sites/example.com.toml   (or my-rules/sites/example.com.toml)
    subdomains = true          # also news.example.com, …  (default: this host only)

    [[drop]]                   # lines to remove: reason "site_rule", rule "site.example.com.promo"
    id = "promo"
    pattern = '^Subscribe to Example Weekly\\b'
    matches = ["Subscribe to Example Weekly for 1 euro"]   # lines it must match
    keeps = ["He did not subscribe to the theory."]         # lines it must leave alone

    [[keep]]                   # lines to keep whatever the learned profile or the labeller say
    id = "ingredients"
    pattern = '^\\d+ ?(?:g|ml|kg)\\b'
    matches = ["200 g Zucker"]
    keeps = ["Share this recipe"]

    [[select]]                 # HTML: elements removed before extraction (CSS selectors)
    id = "related"
    selector = "div.related-links, aside.promo"
    matches = ['<div class="related-links"><a href="/x">More</a></div>']   # snippets it must find
    keeps = ['<div class="article-body"><p>Text</p></div>']               # snippets it must not

The host is the file name without ``.toml`` (or a ``host = "…"`` key), compared with the
record's URL host without ``www.``; a document without a URL uses the same site key as the
learned profiles (its folder, ``site_profile.site_of``). Every rule names itself in
``removed`` as ``site.<host>.<id>``. Precedence: a site's keep-rule wins over the learned
profile (``site_boilerplate``) and the statistical labeller (``boilerplate``); a site's
drop-rule removes a line those kept. Phrase rules and the title keep their decisions.
``check_site_rules`` validates a folder (what ``decruft rules check`` runs).
"""
from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from .document import Decision
from .rules import BUILTIN_DIR, RuleError
from .site_profile import site_of

SITES_DIR = BUILTIN_DIR / "sites"
REASON = "site_rule"
# Decisions a site's keep-rule may overturn, and a drop-rule may rename: the learned ones.
LEARNED_REASONS = frozenset({"site_boilerplate", "boilerplate"})
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class LineRule:
    id: str  # site.<host>.<id>
    pattern: re.Pattern[str]
    matches: tuple[str, ...] = ()
    keeps: tuple[str, ...] = ()


@dataclass(frozen=True)
class SelectRule:
    id: str
    selector: str
    matches: tuple[str, ...] = ()
    keeps: tuple[str, ...] = ()


@dataclass(frozen=True)
class SiteRules:
    host: str
    subdomains: bool = False
    drops: tuple[LineRule, ...] = ()
    keeps: tuple[LineRule, ...] = ()
    selects: tuple[SelectRule, ...] = ()
    origin: str = ""

    def keep_rule(self, line: str) -> LineRule | None:
        return next((r for r in self.keeps if r.pattern.search(line)), None)

    def drop_rule(self, line: str) -> LineRule | None:
        return next((r for r in self.drops if r.pattern.search(line)), None)

    def __len__(self) -> int:
        return len(self.drops) + len(self.keeps) + len(self.selects)


def selector_finds(selector: str, html: str) -> bool:
    from bs4 import BeautifulSoup

    return bool(BeautifulSoup(html, "lxml").select(selector))


def _strings(entry: dict, key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RuleError(f"{where}: {key} must be a list of strings")
    return tuple(value)


def parse_site_file(path: Path, check_html: bool = True) -> SiteRules:
    """One ``sites/<host>.toml`` file, checked: fields, patterns, selectors, and every example.

    ``check_html=False`` skips running the selectors on their HTML examples (which loads
    BeautifulSoup and lxml, 0.2 s): ``load_site_rules`` does so for the built-in files only,
    which the test suite checks in full (``tests/test_site_rules.py``)."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RuleError(f"{path}: {exc}") from None
    host = str(doc.get("host") or path.stem).lower().removeprefix("www.")
    unknown = set(doc) - {"host", "subdomains", "drop", "keep", "select"}
    if unknown:
        raise RuleError(f"{path}: unknown keys {sorted(unknown)} (host, subdomains, drop, keep, select)")
    if not isinstance(doc.get("subdomains", False), bool):
        raise RuleError(f"{path}: subdomains must be true or false")
    seen: set[str] = set()
    parsed: dict[str, list] = {"drop": [], "keep": [], "select": []}
    for kind in parsed:
        for n, entry in enumerate(doc.get(kind, [])):
            where = f"{path.name} {kind} #{n} ({entry.get('id', '?')})"
            short = entry.get("id")
            if not isinstance(short, str) or not _ID.match(short):
                raise RuleError(f"{where}: id must be lower-case letters, digits, - or _")
            if short in seen:
                raise RuleError(f"{where}: id {short!r} used twice in this file")
            seen.add(short)
            rule_id = f"site.{host}.{short}"
            matches, keeps = _strings(entry, "matches", where), _strings(entry, "keeps", where)
            if not matches or not keeps:
                raise RuleError(f"{where}: needs at least one example in matches and one in keeps")
            if kind == "select":
                selector = entry.get("selector")
                if not isinstance(selector, str) or not selector.strip():
                    raise RuleError(f"{where}: missing selector")
                try:
                    for html in matches if check_html else ():
                        if not selector_finds(selector, html):
                            raise RuleError(f"{where}: selector {selector!r} finds nothing in matches example {html!r}")
                    for html in keeps if check_html else ():
                        if selector_finds(selector, html):
                            raise RuleError(f"{where}: selector {selector!r} finds an element in keeps example {html!r}")
                except RuleError:
                    raise
                except Exception as exc:  # soupsieve's SelectorSyntaxError and the like
                    raise RuleError(f"{where}: bad selector {selector!r}: {exc}") from None
                parsed[kind].append(SelectRule(rule_id, selector, matches, keeps))
                continue
            raw = entry.get("pattern")
            if not isinstance(raw, str):
                raise RuleError(f"{where}: missing pattern")
            flags = 0 if entry.get("case", "insensitive") == "sensitive" else re.IGNORECASE
            try:
                pattern = re.compile(raw, flags)
            except re.error as exc:
                raise RuleError(f"{where}: bad pattern: {exc}") from None
            for line in matches:
                if not pattern.search(line):
                    raise RuleError(f"{where}: pattern does not match its matches example {line!r}")
            for line in keeps:
                if pattern.search(line):
                    raise RuleError(f"{where}: pattern matches its keeps example {line!r}")
            parsed[kind].append(LineRule(rule_id, pattern, matches, keeps))
    return SiteRules(host, doc.get("subdomains", False), tuple(parsed["drop"]), tuple(parsed["keep"]),
                     tuple(parsed["select"]), str(path))


def site_files(extra_dirs: Iterable[Path] = ()) -> list[Path]:
    """Built-in ``pipeline/rules/sites/*.toml``, then each user folder's ``sites/*.toml``."""
    files = sorted(SITES_DIR.glob("*.toml"))
    for d in extra_dirs:
        files.extend(sorted((Path(d) / "sites").glob("*.toml")))
    return files


class SiteRuleBook:
    """Every site's rules, by host; ``for_document`` finds a document's."""

    def __init__(self, sites: dict[str, SiteRules], version: str):
        self.sites = sites
        self.version = version

    def __len__(self) -> int:
        return len(self.sites)

    def for_document(self, url: str | None, doc_id: str) -> SiteRules | None:
        key = site_of(url, doc_id)
        got = self.sites.get(key)
        if got is not None or not url:
            return got
        parts = key.split(".")
        for i in range(1, len(parts) - 1):  # news.example.com -> example.com (not "com")
            parent = self.sites.get(".".join(parts[i:]))
            if parent is not None and parent.subdomains:
                return parent
        return None


@lru_cache(maxsize=8)
def load_site_rules(extra_dirs: tuple[Path, ...] = ()) -> SiteRuleBook:
    """All site files (built-in, then user folders); a host in two files merges their rules."""
    sites: dict[str, SiteRules] = {}
    digest = hashlib.sha256()
    for path in site_files(extra_dirs):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
        rules = parse_site_file(path, check_html=path.parent != SITES_DIR)
        old = sites.get(rules.host)
        if old is not None:
            ids = {r.id for r in (*old.drops, *old.keeps, *old.selects)}
            clash = ids & {r.id for r in (*rules.drops, *rules.keeps, *rules.selects)}
            if clash:
                raise RuleError(f"{path}: rule ids already defined in {old.origin}: {sorted(clash)}")
            rules = SiteRules(rules.host, old.subdomains or rules.subdomains, old.drops + rules.drops,
                              old.keeps + rules.keeps, old.selects + rules.selects, f"{old.origin}, {path}")
        sites[rules.host] = rules
    return SiteRuleBook(sites, digest.hexdigest()[:12])


def check_site_rules(folder: Path) -> tuple[list[SiteRules], list[str]]:
    """The site files of a rules folder (``folder/sites/*.toml``) and every problem found
    (loading them, their examples, ids clashing with the built-in ones). For ``decruft rules check``."""
    problems: list[str] = []
    found: list[SiteRules] = []
    builtin = load_site_rules(())
    for path in sorted((Path(folder) / "sites").glob("*.toml")):
        try:
            rules = parse_site_file(path)
        except RuleError as exc:
            problems.append(str(exc))
            continue
        old = builtin.sites.get(rules.host)
        if old is not None:
            clash = {r.id for r in (*old.drops, *old.keeps, *old.selects)} & {
                r.id for r in (*rules.drops, *rules.keeps, *rules.selects)}
            if clash:
                problems.append(f"{path}: rule ids already defined in {old.origin}: {sorted(clash)}")
        found.append(rules)
    return found, problems


def drop_selected(html: str, site: SiteRules) -> tuple[str, list[Decision]]:
    """``html`` without the elements the site's selectors find, and one removed span per element."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    removed: list[Decision] = []
    for rule in site.selects:
        for element in soup.select(rule.selector):
            if element.decomposed:
                continue  # inside an element removed already
            text = " ".join(element.get_text(" ").split())
            element.decompose()
            if text:
                removed.append(Decision(text, False, REASON, rule.id))
    return (str(soup) if removed or site.selects else html), removed


def apply_line_rules(decisions: list[Decision], site: SiteRules) -> list[Decision]:
    """Keep-rules overturn learned removals; drop-rules remove what was kept (or name a learned
    removal). Phrase-rule and title decisions stay."""
    out = []
    for d in decisions:
        if d.keep or d.reason in LEARNED_REASONS:
            keep = site.keep_rule(d.text)
            if keep is not None:
                d = Decision(d.text, True, None, keep.id)
            else:
                drop = site.drop_rule(d.text)
                if drop is not None:
                    d = Decision(d.text, False, REASON, drop.id)
        out.append(d)
    return out
