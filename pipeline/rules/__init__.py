"""Phrase rules as data: ``*.toml`` files per language, compiled once.

Each file holds ``[[rule]]`` tables::

    [[rule]]
    id = "donation.en.favor_to_ask"     # unique; shown in ``removed[].rule``
    reason = "donation_appeal"           # shown in ``removed[].reason``
    scope = "to_end"                     # "line" (default) or "to_end": this line and all after it
    pattern = '^\\W*we have a small favou?r to ask\\b'
    max_words = 60                       # optional: longer lines never match
    case = "insensitive"                 # default; or "sensitive"
    matches = ["… we have a small favor to ask. As you may have heard, …"]
    keeps = ["The minister said he had a small favor to ask of Moscow."]

A file may set ``lang = "en"`` at the top (``"*"`` for language-independent rules). A
language file's rules match that language's own phrases; a form several languages share lives
in ``common.toml`` under an id without a language code.

Every file is checked when it is loaded: ``reason`` must be one of ``REASONS``, every
``matches`` line must be matched by the rule's own pattern and no ``keeps`` line may be; a
file that fails is refused with its path, the rule id and the problem (``RuleError``).
``check_rules_dir`` lists every problem of a folder instead of stopping at the first.
"""
from __future__ import annotations

import hashlib
import re
import re._constants as _sre_constants
import re._parser as _sre_parser
import tomllib
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import ahocorasick

BUILTIN_DIR = Path(__file__).parent
SCOPES = ("line", "to_end")
# Removal reasons a rule may give (README: "Removal reasons"); ``title`` and ``boilerplate``
# belong to the title finder and the line labeller.
REASONS = frozenset({
    "donation_appeal", "photo_credit", "navigation", "share", "newsletter", "cookie_notice",
    "advertisement", "payment_widget", "legal", "comments", "site_boilerplate",
})
_CACHED_LINE_CHARS = 200  # lines up to this long have their answer cached…
_CACHE_SIZE = 100_000  # …in a cache emptied when it reaches this many lines
_WORD = re.compile(r"\w+")
# Shortest literal worth a prefilter: shorter ones ("ap") occur in too many lines to help.
_MIN_LITERAL = 2


_LITERAL, _SUBPATTERN, _BRANCH = _sre_constants.LITERAL, _sre_constants.SUBPATTERN, _sre_constants.BRANCH
_MAX_REPEAT, _MIN_REPEAT = _sre_constants.MAX_REPEAT, _sre_constants.MIN_REPEAT


class RuleError(ValueError):
    """A rule file is malformed (message names the file and rule)."""


@dataclass(frozen=True)
class Rule:
    id: str
    reason: str
    pattern: re.Pattern[str]
    scope: str = "line"
    max_words: int | None = None
    lang: str = "*"
    matches: tuple[str, ...] = ()
    keeps: tuple[str, ...] = ()
    origin: str = ""
    literals: frozenset[str] | None = None  # prefilter: one must occur (lower-cased) for a match

    def applies(self, line: str, words: int | None = None) -> bool:
        if self.max_words is not None:
            if words is None:
                words = len(_WORD.findall(line))
            if words > self.max_words:
                return False
        return self.pattern.search(line) is not None


def _compile(raw: str, case: str, where: str) -> tuple[re.Pattern[str], str, int]:
    flags = re.IGNORECASE if case == "insensitive" else 0
    if raw.startswith("(?i)"):
        raw, flags = raw[4:], re.IGNORECASE
    try:
        compiled = re.compile(raw, flags)
    except re.error as exc:
        raise RuleError(f"{where}: bad pattern: {exc}") from None
    if compiled.groups and re.search(r"\\[1-9]", raw):
        raise RuleError(f"{where}: numbered back-references are not supported; use (?P<name>…)")
    return compiled, raw, flags


def _parse_file(path: Path, problems: list[str] | None = None) -> tuple[list[tuple[Rule, str, int]], bytes]:
    """The rules of one file. A problem raises ``RuleError``, or, with ``problems`` given, is
    appended there and the rule (when it compiled) is still returned, so every problem is seen."""
    data = path.read_bytes()
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        if problems is None:
            raise RuleError(f"{path}: {exc}") from None
        problems.append(f"{path}: {exc}")
        return [], data
    lang = doc.get("lang", "*")
    out = []

    def problem(message: str) -> None:
        if problems is None:
            raise RuleError(message)
        problems.append(message)

    for n, entry in enumerate(doc.get("rule", [])):
        where = f"{path}: rule #{n} ({entry.get('id', '?')})"
        missing = {"id", "reason", "pattern"} - entry.keys()
        if missing:
            problem(f"{where}: missing {sorted(missing)}")
            continue
        where = f"{path}: rule {entry['id']!r}"
        if entry["reason"] not in REASONS:
            problem(f"{where}: unknown reason {entry['reason']!r} (one of: {', '.join(sorted(REASONS))})")
        scope = entry.get("scope", "line")
        if scope not in SCOPES:
            problem(f"{where}: scope must be one of {SCOPES}")
            scope = "line"
        try:
            compiled, raw, flags = _compile(entry["pattern"], entry.get("case", "insensitive"), where)
        except RuleError as exc:
            problem(str(exc))
            continue
        rule = Rule(
            id=entry["id"],
            reason=entry["reason"],
            pattern=compiled,
            scope=scope,
            max_words=entry.get("max_words"),
            lang=entry.get("lang", lang),
            matches=tuple(entry.get("matches", ())),
            keeps=tuple(entry.get("keeps", ())),
            origin=str(path),
            literals=required_literals(raw, flags),
        )
        for line in rule.matches:
            if not rule.applies(line):
                problem(f"{where}: its pattern does not match its `matches` example {line!r}")
        for line in rule.keeps:
            if rule.applies(line):
                problem(f"{where}: its pattern matches its `keeps` example {line!r}")
        out.append((rule, raw, flags))
    return out, data


class RuleSet:
    """All active rules, compiled so that a line costs one regex search.

    Rules are grouped by their ``max_words`` guard: for each distinct guard value ``t``
    there is one combined regex of the rules that still apply to a line of ``t`` words.
    A line is searched only with the regex for its word count, so long body paragraphs
    meet only the few rules written for long lines.
    """

    def __init__(self, rules: list[tuple[Rule, str, int]], version: str):
        self.rules = [r for r, _, _ in rules]
        self.version = version
        self._by_group = {f"r{i}": (i, rule) for i, rule in enumerate(self.rules)}
        self._cache: dict[str, Rule | None] = {}
        limits = sorted({r.max_words for r in self.rules if r.max_words is not None})
        # Per tier: (upper word count, one regex of the ^-anchored rules without a literal
        # prefilter, the anchored rules with one, the other rules). Anchored rules are tried
        # at the start of the line only (``match``). The Aho-Corasick pass below says which
        # rules with literals can match at all, so most lines meet none of their regexes
        # (dev dumps: 45 µs per line when every anchored rule was in the one regex, 12 µs
        # now). Floating rules are searched one by one: each keeps the engine's
        # literal-prefix scan, which one big alternation would lose (2.5x slower combined).
        # Rules are numbered in file order; bit i of a mask stands for rule i.
        # A line of w words uses the tier of the smallest limit >= w (bisect on _limits).
        self._limits = limits
        # matches a line of more than ``limits[-1]`` ``\w+`` words (possessive: a word is never split)
        self._beyond_limits = re.compile(r"(?:\W*+\w++){%d}" % (limits[-1] + 1)).match if limits else None
        # …tried on lines long enough to be likely to have that many (6 characters a word)
        self._long_line = 6 * limits[-1] if limits else 1 << 62
        self._tiers: list[tuple[re.Pattern[str] | None, list[tuple[int, Rule]], int,
                                list[tuple[int, Rule]], int, list[tuple[int, Rule]]]] = []
        for limit in [*limits, None]:
            anchored, gated, floating = [], [], []
            for i, (rule, raw, flags) in enumerate(rules):
                if rule.max_words is None or (limit is not None and rule.max_words >= limit):
                    if raw.startswith("^") and "|" not in _top_level(raw):
                        if rule.literals is not None:
                            gated.append((i, rule))
                        else:
                            prefix = "(?i:" if flags & re.IGNORECASE else "(?:"
                            anchored.append(f"(?P<r{i}>{prefix}{raw}))")
                    else:
                        floating.append((i, rule))
            gated_mask = sum(1 << i for i, _ in gated)
            floating_mask = sum(1 << i for i, rule in floating if rule.literals is not None)
            unfiltered = [(i, rule) for i, rule in floating if rule.literals is None]
            self._tiers.append((_join(anchored), gated, gated_mask, floating, floating_mask, unfiltered))
        # One Aho-Corasick automaton over every rule's required literals: a single
        # C-speed pass over the line says which rules could match at all.
        self._literals = ahocorasick.Automaton()
        owners: dict[str, int] = {}
        for i, rule in enumerate(self.rules):
            for lit in rule.literals or ():
                owners[lit] = owners.get(lit, 0) | 1 << i
        for lit, mask in owners.items():
            self._literals.add_word(lit, mask)
        if owners:
            self._literals.make_automaton()

    def __len__(self) -> int:
        return len(self.rules)

    def match(self, line: str) -> Rule | None:
        """A rule that removes ``line``, or None. Anchored rules are tried first.

        Answers for short lines are cached: menus, share bars and footers repeat within a
        page and across a site's pages, and a cached line costs a dict lookup.
        """
        if len(line) <= _CACHED_LINE_CHARS:
            try:
                return self._cache[line]
            except KeyError:
                if len(self._cache) >= _CACHE_SIZE:
                    self._cache.clear()
                rule = self._cache[line] = self._match(line)
                return rule
        return self._match(line)

    def _match(self, line: str) -> Rule | None:
        # A line with more words than the largest max_words meets the last tier: a long
        # paragraph has its words counted only that far, not all tokenised to pick its tier.
        if len(line) > self._long_line and self._beyond_limits(line):
            words = self._limits[-1] + 1
        else:
            words = len(_WORD.findall(line))
        anchored, gated, gated_mask, floating, floating_mask, unfiltered = self._tiers[bisect_left(self._limits, words)]
        possible = 0  # bit i: a literal rule i needs occurs in the line
        if self._literals.kind == ahocorasick.AHOCORASICK:
            for _, mask in self._literals.iter(line.lower()):
                possible |= mask
        # The first anchored rule (in file order) that matches wins, as in one regex.
        m = anchored.match(line) if anchored else None
        best, rule = self._by_group[m.lastgroup] if m else (len(self.rules), None)
        if possible & gated_mask:
            for i, candidate in gated:
                if i > best:
                    break
                if possible >> i & 1 and candidate.pattern.match(line):
                    rule = candidate
                    break
        if rule is not None:
            return rule
        # Floating rules in file order: those without literals always, the others only
        # when one of their literals occurs in the line.
        candidates = unfiltered
        if possible & floating_mask:
            candidates = [(i, c) for i, c in floating if c.literals is None or possible >> i & 1]
        for _, candidate in candidates:
            if candidate.pattern.search(line):
                return candidate
        return None


def required_literals(pattern: str, flags: int = 0) -> frozenset[str] | None:
    """Lower-cased strings one of which every match of ``pattern`` contains, or None if unknown.

    A cheap prefilter: a line containing none of them cannot match, so the regex is skipped.
    """
    try:
        parsed = _sre_parser.parse(pattern, flags)
    except re.error:
        return None
    found = _required(list(parsed))
    if not found or min(len(x) for x in found) < _MIN_LITERAL:
        return None
    return frozenset(x.lower() for x in found)


def _required(items: list) -> set[str] | None:
    """Required literal set of a parsed sequence: the most selective of its parts."""
    candidates: list[set[str]] = []
    run: list[str] = []
    for op, arg in items + [(None, None)]:
        if op is _LITERAL:
            run.append(chr(arg))
            continue
        if run and op is _BRANCH:
            # The parser factors common prefixes out: "EFE|Europa" is "E" + (FE|uropa).
            # The run glued to each alternative's own leading literals is required too.
            candidates.append({"".join(run) + _leading(list(alt)) for alt in arg[1]})
        if run:
            candidates.append({"".join(run)})
            run = []
        if op is _SUBPATTERN:
            sub = _required(list(arg[-1]))
        elif op is _BRANCH:
            alternatives = [_required(list(alt)) for alt in arg[1]]
            sub = set().union(*alternatives) if all(alternatives) else None
        elif op in (_MAX_REPEAT, _MIN_REPEAT) and arg[0] >= 1:
            sub = _required(list(arg[2]))
        else:
            sub = None
        if sub:
            candidates.append(sub)
    if not candidates:
        return None
    return max(candidates, key=lambda c: (min(len(x) for x in c), -len(c)))


def _leading(items: list) -> str:
    """The literal characters a parsed sequence starts with."""
    out = []
    for op, arg in items:
        if op is not _LITERAL:
            break
        out.append(chr(arg))
    return "".join(out)


def _join(groups: list[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(groups)) if groups else None


def _top_level(raw: str) -> str:
    """``raw`` with bracketed parts blanked, to see its top-level alternation bars."""
    out, depth, escaped = [], 0, False
    for ch in raw:
        if escaped:
            escaped = False
            out.append(" " if depth else ch)
            continue
        if ch == "\\":
            escaped = True
        elif ch in "([":
            depth += 1
        elif ch in ")]" and depth:
            depth -= 1
            continue
        out.append(" " if depth else ch)
    return "".join(out)


def rule_files(extra_dirs: Iterable[Path] = ()) -> list[Path]:
    files = sorted(BUILTIN_DIR.glob("*.toml"))
    for d in extra_dirs:
        d = Path(d)
        if not d.is_dir():
            raise RuleError(f"rules folder not found: {d}")
        files.extend(sorted(d.glob("*.toml")))
    return files


@lru_cache(maxsize=8)
def load_rules(extra_dirs: tuple[Path, ...] = (), disabled: frozenset[str] = frozenset()) -> RuleSet:
    """Load built-in rules plus user folders; later files may not reuse an id."""
    entries: list[tuple[Rule, str, int]] = []
    seen: dict[str, str] = {}
    digest = hashlib.sha256()
    for path in rule_files(extra_dirs):
        parsed, data = _parse_file(path)
        digest.update(path.name.encode() + b"\0" + data)
        for rule, raw, flags in parsed:
            if rule.id in seen:
                raise RuleError(f"{path}: rule id {rule.id!r} already defined in {seen[rule.id]}")
            seen[rule.id] = path.name
            if rule.id not in disabled:
                entries.append((rule, raw, flags))
    unknown = disabled - seen.keys()
    if unknown:
        raise RuleError(f"cannot disable unknown rule ids: {sorted(unknown)}")
    digest.update(",".join(sorted(disabled)).encode())
    return RuleSet(entries, digest.hexdigest()[:12])


def check_rules_dir(folder: Path) -> tuple[list[Rule], list[str]]:
    """Every rule of a user folder and every problem found in it (empty when all is well).

    Checks what loading checks (TOML, fields, reason, scope, pattern, the rules' own
    ``matches``/``keeps``) and that no id repeats one already defined, built-in or earlier."""
    folder = Path(folder)
    if not folder.is_dir():
        return [], [f"rules folder not found: {folder}"]
    problems: list[str] = []
    seen = {rule.id: Path(rule.origin).name for rule in load_rules().rules}
    rules: list[Rule] = []
    files = sorted(folder.glob("*.toml"))
    if not files:
        problems.append(f"{folder}: no *.toml rule files")
    for path in files:
        parsed, _ = _parse_file(path, problems)
        for rule, _, _ in parsed:
            if rule.id in seen:
                problems.append(f"{path}: rule {rule.id!r}: id already defined in {seen[rule.id]}")
            seen.setdefault(rule.id, path.name)
            rules.append(rule)
    return rules, problems
