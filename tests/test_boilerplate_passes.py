"""strip_boilerplate's shortcuts (a pass that would repeat the last one is not run; rule answers
and word keys remembered per document) give exactly what the plain multi-pass loop gives."""
from __future__ import annotations

from pathlib import Path

import pytest

import pipeline
from pipeline import boilerplate as bp
from pipeline.config import CleanConfig
from pipeline.decode import decode_bytes
from pipeline.normalize import split_lines
from pipeline.rules import load_rules
from pipeline.site_profile import line_key

REPO = Path(__file__).parents[1]
DEV = REPO.parent / "shared" / "corpus" / "dev"
SAMPLES = [REPO / "tests" / "fixtures" / "seed.txt", *sorted((REPO / "raw").rglob("*.txt"))]
ARTICLE = [
    "Bridge Closed For Two Years After Vote",
    "The city council voted on Tuesday to close the old bridge over the river for two years of repairs.",
    "Engineers said the steel had corroded faster than expected, and that traffic would move to the ferry.",
    "The mayor, who had opposed the closure for months, said she would ask the state for money to speed it up.",
]


def multi_pass(lines, rules, cfg, title=None, site_keys=frozenset()):
    """The loop without shortcuts: decide, then decide the kept lines again until a pass keeps
    them all unchanged (at most ``_MAX_PASSES`` passes), rules matched afresh every pass."""
    decisions, title, _ = bp._decide(lines, rules, cfg, title, site_keys, bp._Memo(rules))
    for _ in range(bp._MAX_PASSES - 1):
        decisions = bp._renormalized(decisions)
        kept = [d.text for d in decisions if d.keep]
        if not kept:
            break
        again, again_title, spans = bp._decide(kept, rules, cfg, title, frozenset(), bp._Memo(rules))
        if again_title == title and len(again) == len(kept) and all(d.keep for d in again) \
                and [d.text for d in again] == kept:
            break
        decisions, title = bp._replace_kept(decisions, again, spans), again_title
    return decisions, title


def _cases(texts):
    """Each text as a dump, then its cleaned text (clean text: where the pass is skipped)
    with and without its title."""
    for text in texts:
        yield text, None
        rec = pipeline.clean_text(text)
        if rec["text"]:
            yield rec["text"], rec["title"]
            yield rec["text"], None


def _check(text, title, site_keys=frozenset()):
    cfg, rules = CleanConfig(), load_rules()
    lines, _ = split_lines(text, cfg.max_line_chars)
    assert bp.strip_boilerplate(lines, rules, cfg, title=title, site_keys=site_keys) == \
        multi_pass(lines, rules, cfg, title, site_keys)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_samples_as_the_multi_pass_loop_decides(path):
    for text, title in _cases([decode_bytes(path.read_bytes())[0]]):
        _check(text, title)


def test_clean_text_is_decided_once_and_alike():
    calls = []
    real = bp._decide

    def counting(lines, *args):
        calls.append(len(lines))
        return real(lines, *args)

    lines = ARTICLE[1:]
    cfg, rules = CleanConfig(), load_rules()
    try:
        bp._decide = counting
        got = bp.strip_boilerplate(lines, rules, cfg, title=ARTICLE[0])
    finally:
        bp._decide = real
    assert calls == [3]  # one pass: the second would have been the same call
    assert [d.text for d in got[0] if d.keep] == lines and got[1] == ARTICLE[0]
    assert got == multi_pass(lines, rules, cfg, ARTICLE[0])


def test_a_site_profile_line_makes_the_second_pass_run():
    # the first pass had the profile and the second would not: they are not the same call
    lines = ARTICLE[1:] + ["Subscribe to our newsletter for more local news"]
    keys = frozenset({line_key(lines[-1])})
    _check("\n".join(lines), ARTICLE[0], keys)
    _check("\n".join(lines), None, keys)


@pytest.mark.skipif(not DEV.is_dir(), reason=f"development corpus not found at {DEV}")
def test_dev_dumps_as_the_multi_pass_loop_decides():
    dumps = sorted(DEV.glob("*/dump.txt"))[::4]
    assert dumps
    for text, title in _cases([p.read_text(encoding="utf-8") for p in dumps]):
        _check(text, title)


def test_a_page_all_in_the_profile_is_joined_by_the_second_pass():
    # every line is in the profile: a duplicate page, so nothing is removed as site boilerplate,
    # but its lines were not glued in the first pass; the second (without the profile) glues
    # them: a pass to run, though the first kept every line (no line model: rules alone)
    lines = ["Engineers said the steel had corroded faster than expected, and that the traffic",
             "would move to the ferry until the work is done next year."]
    keys = frozenset(map(line_key, lines))
    cfg, rules = CleanConfig(statistical=False), load_rules()
    assert [d.text for d in bp._decide(lines, rules, cfg, None, keys)[0] if d.keep] == lines
    got = bp.strip_boilerplate(lines, rules, cfg, site_keys=keys)
    assert got == multi_pass(lines, rules, cfg, None, keys)
    assert [d.text for d in got[0] if d.keep] == [" ".join(lines)]
