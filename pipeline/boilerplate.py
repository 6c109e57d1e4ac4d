"""Label every line (kept, or removed with a reason and rule id), then cut.

Order matters (jusText issue 54): phrase rules decide first and their labels are
fixed; the statistical labeller in ``classify`` only decides the lines left open,
and can use the rule labels as context.

Cleaning clean text changes nothing: ``strip_boilerplate`` decides the kept lines again, as a
second cleaning of its output would (normalized again, re-joined, title, rules, line model),
until they stand still, so a record's text cleaned again with its title is the same text.
"""
from __future__ import annotations

import re
from typing import Callable

from .classify import _URLISH, _is_date, label_lines, rejoin_spans
from .config import CleanConfig
from .document import Decision
from .normalize import normalize_text, word_key
from .rules import Rule, RuleSet
from .site_profile import BODY, FOOTER, HEADER, SHARED_RULE, SiteTemplate, line_key

_WORDS = re.compile(r"\w+")
# A dump's page title ("Headline | Section - Site") is its first open line, among these…
_PAGE_TITLE_LINES = 3
# …scripts written without spaces between words (a headline there can be one \w+ token)
_NO_SPACES = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# …and splits into parts at these separators (a headline's own " - " is a part boundary too;
# runs of parts are tried, so it still matches).
_TITLE_PARTS = re.compile(r"\s+[|–—-]\s+")
_MENU_LINES = 8  # one-word lines passed over on the way to a dump's headline
_MAX_PASSES = 4  # decisions, then up to 3 more passes over the kept lines (2 on every dev dump)


def _looks_like_headline(line: str) -> bool:
    words = len(_WORDS.findall(line))
    return 2 <= words <= 30 and not re.search(r"[.;:,]$", line)


def _first_line_headline(line: str) -> bool:
    """A line that can be a dump's headline without a page title to confirm it: 2-20 words,
    no closing punctuation, starting with a capital (or a letter of a caseless script), not a
    date ("Monday, November 18, 2019", "1 day ago") or an address."""
    words = len(_WORDS.findall(line))
    first = line[:1]
    return (2 <= words <= 20 and not re.search(r"[.;:,]$", line) and first.isalpha() and not first.islower()
            and not _is_date(line) and not _URLISH.search(line))


def rejoin_unmatched(lines: list[str], rules: RuleSet, site_keys: SiteTemplate | frozenset[str] | None = None,
                     match: Callable[[str], Rule | None] | None = None,
                     ) -> tuple[list[str], list[Rule | None], list[str | None], list[tuple[int, int]]]:
    """Re-join fragments, but only inside runs of lines no rule matched.

    A line a rule removes ("Photo: …", "… we have a small favor to ask") must never be
    glued to its neighbour, nor a line of the site's template (``site_keys``, which marks
    lines by where they sit on the page: ``SiteTemplate.mark``). Returns the new lines, the
    rule each matches, the site-template rule id of each (no rule matching) or None, and the
    range of input lines each was made of. ``match``: ``rules.match``, or a memo of it.
    """
    match = match or rules.match
    site_keys = _template(site_keys)
    out_lines: list[str] = []
    out_rules: list[Rule | None] = []
    out_site: list[str | None] = []
    out_spans: list[tuple[int, int]] = []
    run: list[str] = []
    run_start = 0
    matched = [match(line) for line in lines]
    marks: list[str | None] = [None] * len(lines)
    span = (len(lines), len(lines))
    if site_keys:
        open_ = [m is None for m in matched]
        span = site_keys.body_span(lines, open_)
        marks = site_keys.mark(lines, open_, span)

    def zone(i: int) -> str:
        return HEADER if i < span[0] else BODY if i < span[1] else FOOTER

    def flush() -> None:
        if not run:
            return
        for line, start, end in rejoin_spans(run):
            out_lines.append(line)
            out_spans.append((run_start + start, run_start + end))
            if end - start == 1 and line == run[start]:  # neither a rule nor the profile took it above
                out_rules.append(None)
                out_site.append(None)
            else:
                rule = match(line)
                out_rules.append(rule)
                out_site.append(site_keys.rule_for(line, zone(run_start + start))
                                if rule is None and site_keys else None)
        run.clear()

    for i, line in enumerate(lines):
        rule, site = matched[i], marks[i]
        if rule is None and site is None:
            if not run:
                run_start = i
            run.append(line)
            continue
        flush()
        out_lines.append(line)
        out_rules.append(rule)
        out_site.append(site)
        out_spans.append((i, i + 1))
    flush()
    return out_lines, out_rules, out_site, out_spans


def _template(site_keys: SiteTemplate | frozenset[str] | None) -> SiteTemplate | None:
    """A bare set of line keys is a template whose lines go wherever they stand."""
    if site_keys is None or isinstance(site_keys, SiteTemplate):
        return site_keys or None
    return SiteTemplate.of_keys(site_keys) if site_keys else None


def apply_rules(lines: list[str], matched: list[Rule | None], rules: RuleSet, cfg: CleanConfig,
                on_site: list[str | None] | None = None) -> list[Decision | None]:
    """Hard labels from phrase rules, then the site profile (``on_site``: its rule id per
    line, or None); None where neither fired."""
    fixed: list[Decision | None] = [None] * len(lines)
    total = sum(len(l) for l in lines) or 1
    seen = 0
    cut_from: tuple[int, str, str] | None = None
    for i, line in enumerate(lines):
        seen += len(line)
        rule = matched[i]
        if rule is None:
            if on_site and on_site[i]:
                fixed[i] = Decision(line, False, "site_boilerplate", on_site[i])
            continue
        fixed[i] = Decision(line, False, rule.reason, rule.id)
        if rule.scope == "to_end" and (seen - len(line)) / total >= cfg.to_end_min_position:
            cut_from = (i, rule.reason, rule.id)
            break
    if cut_from is not None:
        start, reason, rule_id = cut_from
        for j in range(start + 1, len(lines)):
            own = matched[j]  # name the more specific rule where one fires
            fixed[j] = Decision(lines[j], False, *((own.reason, own.id) if own else (reason, rule_id)))
    return fixed


def repeated_headline(lines: list[str], fixed: list[Decision | None],
                      key: Callable[[str], str] = word_key) -> tuple[int, int] | None:
    """``(i, j)``: line i, the first open line of the dump (where a scraper puts the page's
    ``<title>``), reads like a page title ("Headline - Site"), and a later open line j repeats
    its headline (the page's ``<h1>``); None if there is no such pair.

    The headline is the longest part of the page title (or a run of parts containing it, for
    a headline with its own " - "); it reads like a headline (2-30 words, no closing "." ";"
    ":" ","; or, in a script written without spaces, one word of six characters or more), and
    the page title has at most 40 words."""
    first = next((i for i in range(min(len(lines), _PAGE_TITLE_LINES)) if fixed[i] is None), None)
    if first is None or len(_WORDS.findall(lines[first])) > 40:
        return None
    texts = _TITLE_PARTS.split(lines[first])
    parts = [word_key(p) for p in texts]
    longest = max(range(len(parts)), key=lambda k: len(parts[k]))
    head = texts[longest]
    if not (_looks_like_headline(head) or (_NO_SPACES.search(head) and len(parts[longest]) >= 6)):
        return None
    wanted = {" ".join(filter(None, parts[a:b])) for a in range(longest + 1)
              for b in range(longest + 1, len(parts) + 1)}
    for j in range(first + 1, len(lines)):
        if fixed[j] is None and key(lines[j]) in wanted:
            return first, j
    return None


def split_title(lines: list[str], fixed: list[Decision | None], title: str | None,
                key: Callable[[str], str] = word_key) -> str | None:
    """Mark headline lines as removed (reason ``title``) and return the title.

    With a known title, every line equal to it (or to its longest part, for
    "Headline - Site Name" page titles) goes. Without one, a headline that a dump repeats
    (its page title, then its ``<h1>``: ``repeated_headline``) becomes the title, and both
    lines go; failing that, the first open line that reads like a headline becomes the title
    when a longer line follows it (one-word menu entries above it are passed over).
    ``key``: ``word_key``, or a memo of it.
    """
    if not title:
        pair = repeated_headline(lines, fixed, key)
        if pair is not None:
            page_title, headline = pair
            fixed[page_title] = Decision(lines[page_title], False, "title", "title.page_title")
            title = lines[headline]
    if title:
        keys = {word_key(title)}
        parts = re.split(r"\s+[|–—-]\s+|\s+[»:]\s+", title)
        longest = max(parts, key=len)
        if len(_WORDS.findall(longest)) >= 3:
            keys.add(word_key(longest))
        for i, line in enumerate(lines):
            if fixed[i] is None and key(line) in keys:
                fixed[i] = Decision(line, False, "title", "title.match")
        return title
    open_idx = [i for i, f in enumerate(fixed) if f is None]
    for here, nxt in zip(open_idx[:_MENU_LINES + 1], open_idx[1:]):
        words = len(_WORDS.findall(lines[here]))
        if _first_line_headline(lines[here]) and len(_WORDS.findall(lines[nxt])) >= max(words + 1, 8):
            fixed[here] = Decision(lines[here], False, "title", "title.first_line")
            return lines[here]
        if words > 1:
            break  # only one-word menu entries ("Startseite", "Politik") may stand above it
    return None


def _keep_shared(decisions: list[Decision], shared: list[bool]) -> list[Decision]:
    """Lines the statistical labeller removed that are content the site's articles share
    (``shared``, per decision) are kept."""
    return [Decision(d.text, True, None, SHARED_RULE, d.score)
            if shared[i] and not d.keep and (d.rule or "").startswith("stat.") else d
            for i, d in enumerate(decisions)]


def _decide(lines: list[str], rules: RuleSet, cfg: CleanConfig, title: str | None,
            site_keys: SiteTemplate | frozenset[str] | None, memo: "_Memo | None" = None,
            ) -> tuple[list[Decision], str | None, list[tuple[int, int]]]:
    """One pass: re-join, rules, site profile, title, line model. Also returns, per decision,
    the range of ``lines`` it was made of. Lines the site's articles share (found with the
    profile, ``SiteTemplate.shared_inside``) go into ``memo.protected``: the labeller does
    not remove them in this pass nor in the later ones; lines several pages have in their
    body (``memo.recurring``) are not taken for the page's headline either."""
    memo = memo or _Memo(rules)
    site_keys = _template(site_keys)
    read = lines
    lines, matched, on_site, spans = rejoin_unmatched(lines, rules, site_keys, memo.match)
    read_matched: list[Rule | None] = [None] * len(read)
    if site_keys:  # the rules' matches of the lines as read (the profile counted those)
        for m, (start, end) in zip(matched, spans):
            if m is not None and end - start == 1:
                read_matched[start] = m
    if site_keys and all(site for m, site in zip(matched, on_site) if m is None):
        on_site = None  # the whole page is "template": a duplicate document, not boilerplate
    fixed = apply_rules(lines, matched, rules, cfg, on_site)
    shared = [False] * len(lines)  # content the site's articles share, inside the body
    recurring = shared  # … and lines several pages share anywhere in the body
    if site_keys:
        open_ = [m is None for m in read_matched]
        shared_in, in_body = site_keys.shared_inside(read, open_), site_keys.shared_in_body(read, open_)
        shared = [fixed[i] is None and any(shared_in[start:end]) for i, (start, end) in enumerate(spans)]
        recurring = [fixed[i] is None and any(in_body[start:end]) for i, (start, end) in enumerate(spans)]
        memo.protected |= {l for l, s in zip(lines, shared) if s}
        memo.recurring |= {l for l, r in zip(lines, recurring) if r}
    elif memo.recurring:
        shared = [fixed[i] is None and line in memo.protected for i, line in enumerate(lines)]
        recurring = [fixed[i] is None and line in memo.recurring for i, line in enumerate(lines)]
    title = split_title(lines, fixed, title, memo.key)
    for i, f in enumerate(fixed):
        if recurring[i] and f is not None and f.rule == "title.first_line":
            fixed[i], title = None, None  # a line several pages share is not this page's headline
    if cfg.statistical:
        decisions = label_lines(lines, fixed, cfg, title=title)
        if any(shared):
            decisions = _keep_shared(decisions, shared)
    else:
        decisions = [f if f is not None else Decision(l, True) for l, f in zip(lines, fixed)]
    return decisions, title, spans


def _renormalized(decisions: list[Decision]) -> list[Decision]:
    """Kept lines as the next cleaning would read them: normalization again ("&amp;amp;#65279;"
    unescapes twice per pass) drops a line that becomes empty and changes one that changes."""
    kept = [d.text for d in decisions if d.keep]
    if normalize_text("\n".join(kept)).split("\n") == kept:
        return decisions  # the usual case: one call for the whole text
    out = []
    for d in decisions:
        text = normalize_text(d.text) if d.keep else d.text
        if text and "\n" not in text:
            out.append(d if text == d.text else Decision(text, True, d.reason, d.rule))
        elif text:
            out.extend(Decision(part, True, d.reason, d.rule) for part in text.split("\n"))
    return out


def _replace_kept(decisions: list[Decision], again: list[Decision],
                  spans: list[tuple[int, int]]) -> list[Decision]:
    """``decisions`` with its kept lines replaced by ``again`` (decided over those kept lines;
    ``spans``: which of them each one was made of). Removed lines keep their place."""
    by_start = {start: d for d, (start, _) in zip(again, spans)}
    out: list[Decision] = []
    k = 0  # index among the kept lines
    for d in decisions:
        if not d.keep:
            out.append(d)
            continue
        if k in by_start:
            out.append(by_start[k])
        k += 1
    return out


_UNSEEN = object()


class _Memo:
    """Per-line answers remembered for one document (its passes meet the same lines again):
    ``match`` is ``rules.match`` (whose own cache holds short lines only; the long ones are the
    kept paragraphs), ``key`` is ``word_key``."""

    def __init__(self, rules: RuleSet):
        self.protected: set[str] = set()  # lines kept as content the site's articles share
        self.recurring: set[str] = set()  # lines several of the site's pages have in their body: no headline
        self._rules: dict[str, Rule | None] = {}
        self._keys: dict[str, str] = {}
        self._match = rules.match

    def match(self, line: str) -> Rule | None:
        rule = self._rules.get(line, _UNSEEN)
        if rule is _UNSEEN:
            rule = self._rules[line] = self._match(line)
        return rule  # type: ignore[return-value]

    def key(self, line: str) -> str:
        got = self._keys.get(line)
        if got is None:
            got = self._keys[line] = word_key(line)
        return got


def strip_boilerplate(
    lines: list[str], rules: RuleSet, cfg: CleanConfig, title: str | None = None,
    site_keys: SiteTemplate | frozenset[str] | None = None,
) -> tuple[list[Decision], str | None]:
    """Decide every line; returns the decisions (in order) and the document title.

    ``site_keys``: the template learned for this document's site (``site_profile``; a bare
    set of line keys goes wherever its lines stand). The kept lines are decided again
    (without the site profile, which a second cleaning would not have; the lines it kept as
    shared content stay kept) until a pass keeps them all unchanged: the output is a fixed point.
    """
    site_keys = _template(site_keys)
    memo = _Memo(rules)
    decisions, out_title, _ = _decide(lines, rules, cfg, title, site_keys, memo)
    # The first pass kept every line as it was, under the same title (clean text), and the site
    # profile named none of them: a pass is a function of its lines and title, so the second
    # would be this one again and keep them all. It is not run.
    unchanged = out_title == title and len(decisions) == len(lines) and all(d.keep for d in decisions) \
        and [d.text for d in decisions] == lines \
        and not (site_keys and any(line_key(line) in site_keys for line in lines))
    title = out_title
    for _ in range(_MAX_PASSES - 1):
        decisions = _renormalized(decisions)
        kept = [d.text for d in decisions if d.keep]
        if not kept or (unchanged and kept == lines):
            break
        again, again_title, spans = _decide(kept, rules, cfg, title, None, memo)
        if again_title == title and len(again) == len(kept) and all(d.keep for d in again) \
                and [d.text for d in again] == kept:
            break
        decisions, title = _replace_kept(decisions, again, spans), again_title
    return decisions, title
