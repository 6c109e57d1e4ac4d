"""Label every line (kept, or removed with a reason and rule id), then cut.

Order matters (jusText issue 54): phrase rules decide first and their labels are
fixed; the statistical labeller in ``classify`` only decides the lines left open,
and can use the rule labels as context.
"""
from __future__ import annotations

import re

from .classify import label_lines, rejoin
from .config import CleanConfig
from .document import Decision
from .normalize import word_key
from .rules import Rule, RuleSet
from .site_profile import line_key

_WORDS = re.compile(r"\w+")


def _looks_like_headline(line: str) -> bool:
    words = len(_WORDS.findall(line))
    return 2 <= words <= 30 and not re.search(r"[.;:,]$", line)


def rejoin_unmatched(lines: list[str], rules: RuleSet, site_keys: frozenset[str] = frozenset()
                     ) -> tuple[list[str], list[Rule | None], list[bool]]:
    """Re-join fragments, but only inside runs of lines no rule matched.

    A line a rule removes ("Photo: …", "… we have a small favor to ask") must never be
    glued to its neighbour, nor a line of the site's profile (``site_keys``). Returns the
    new lines, the rule each matches, and whether each (no rule matching) is in the profile.
    """
    out_lines: list[str] = []
    out_rules: list[Rule | None] = []
    out_site: list[bool] = []
    run: list[str] = []

    def on_site(line: str) -> bool:
        return bool(site_keys) and line_key(line) in site_keys

    def flush() -> None:
        originals = set(run)
        for line in rejoin(run):
            out_lines.append(line)
            if line in originals:  # neither a rule nor the profile took it above
                out_rules.append(None)
                out_site.append(False)
            else:
                rule = rules.match(line)
                out_rules.append(rule)
                out_site.append(rule is None and on_site(line))
        run.clear()

    for line in lines:
        rule = rules.match(line)
        site = rule is None and on_site(line)
        if rule is None and not site:
            run.append(line)
            continue
        flush()
        out_lines.append(line)
        out_rules.append(rule)
        out_site.append(site)
    flush()
    return out_lines, out_rules, out_site


def apply_rules(lines: list[str], matched: list[Rule | None], rules: RuleSet, cfg: CleanConfig,
                on_site: list[bool] | None = None) -> list[Decision | None]:
    """Hard labels from phrase rules, then the site profile (``on_site``); None where neither fired."""
    fixed: list[Decision | None] = [None] * len(lines)
    total = sum(len(l) for l in lines) or 1
    seen = 0
    cut_from: tuple[int, str, str] | None = None
    for i, line in enumerate(lines):
        seen += len(line)
        rule = matched[i]
        if rule is None:
            if on_site and on_site[i]:
                fixed[i] = Decision(line, False, "site_boilerplate", "site_profile")
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


def split_title(lines: list[str], fixed: list[Decision | None], title: str | None) -> str | None:
    """Mark headline lines as removed (reason ``title``) and return the title.

    With a known title, every line equal to it (or to its longest part, for
    "Headline - Site Name" page titles) goes. Without one, the first open line
    that reads like a headline becomes the title when prose follows it.
    """
    if title:
        keys = {word_key(title)}
        parts = re.split(r"\s+[|–—-]\s+|\s+[»:]\s+", title)
        longest = max(parts, key=len)
        if len(_WORDS.findall(longest)) >= 3:
            keys.add(word_key(longest))
        for i, line in enumerate(lines):
            if fixed[i] is None and word_key(line) in keys:
                fixed[i] = Decision(line, False, "title", "title.match")
        return title
    open_idx = [i for i, f in enumerate(fixed) if f is None]
    if len(open_idx) >= 2:
        first, nxt = open_idx[0], open_idx[1]
        if _looks_like_headline(lines[first]) and len(_WORDS.findall(lines[nxt])) > len(
            _WORDS.findall(lines[first])
        ):
            fixed[first] = Decision(lines[first], False, "title", "title.first_line")
            return lines[first]
    return None


def strip_boilerplate(
    lines: list[str], rules: RuleSet, cfg: CleanConfig, title: str | None = None,
    site_keys: frozenset[str] = frozenset(),
) -> tuple[list[Decision], str | None]:
    """Decide every line; returns the decisions (in order) and the document title.

    ``site_keys``: normalized lines learned as boilerplate for this document's site.
    """
    lines, matched, on_site = rejoin_unmatched(lines, rules, site_keys)
    if site_keys and all(site for m, site in zip(matched, on_site) if m is None):
        on_site = None  # the whole page is "template": a duplicate document, not boilerplate
    fixed = apply_rules(lines, matched, rules, cfg, on_site)
    title = split_title(lines, fixed, title)
    if cfg.statistical:
        decisions = label_lines(lines, fixed, cfg, title=title)
    else:
        decisions = [f if f is not None else Decision(l, True) for l, f in zip(lines, fixed)]
    return decisions, title
