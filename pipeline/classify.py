"""Statistical line labelling: re-join fragments, score every open line, smooth, cut.

Contract used by ``pipeline.boilerplate``:

- ``rejoin(lines) -> list[str]``: merge fragments a dump split inside a sentence.
- ``label_lines(lines, fixed, cfg, title=None) -> list[Decision]``: one Decision per line;
  where ``fixed[i]`` is a Decision (a phrase rule decided) it is returned unchanged.

Stages (each names itself in ``Decision.rule`` when it removes a line):

1. ``rejoin``: punctuation-only lines, lines starting lower-case or with closing
   punctuation, and short link texts after a line that broke off mid-sentence are glued
   to the previous line (METHODS.md section 5).
2. page context, computed once per document: the jusText stoplist with the best token
   coverage (inverted index over all 100 lists), the headline anchor (last line containing
   the longest part of the title), in-page duplicate counts, the share of long lines.
3. ``stat.line_model``: two LightGBM stages (``models/line_model.json`` + ``line_stage1.txt``,
   ``line_stage2.txt``, trained by ``training/train_line_model.py`` on 1,656 pages x 3 input
   kinds). Stage 1 scores each open line from ``extract_features`` (the line, its neighbours
   and windows, page statistics, position against the headline anchor and the page's body
   mass); stage 2, the learned smoothing, re-scores it from the stage-1 scores around it
   (``smooth_features``). A line removed because of its own score names ``stat.line_model``.
4. ``stat.smoothing``: the decision cut — a threshold per page regime (the page's share of
   tokens in long lines; cut and thresholds chosen by site-grouped cross-validation) and an
   optional 2-state Viterbi pass; a line kept or removed against its own score names it.
5. ``stat.headline``: open lines that repeat the headline (reason ``headline``).
6. ``stat.end_marker``: once ``end_min_words`` body words were kept, the first comment-section
   marker (a ``comments`` rule hit other than a bare counter, or a thread of "name says:" +
   date heads) ends the article; open lines from it on go (reason ``comments``), except those
   the model scores ``end_keep_p`` or more (a forum's answers, an article that goes on below a
   comment link; the threshold is chosen by cross-validation, 2.0: none).

Features are built column-wise (numpy, no per-line Python beyond reading each line once) and
scored by LightGBM's compiled predict; scores are rounded (``stable``) before any threshold;
everything is deterministic; the model is read once.
"""
from __future__ import annotations

import importlib.util
import json
import math
import re
from collections import Counter
from functools import lru_cache
from itertools import chain
from operator import itemgetter
from pathlib import Path

import numpy as np

from .config import CleanConfig
from .document import Decision
from .normalize import word_key

MODEL_PATH = Path(__file__).parent / "models" / "line_model.json"

# numpy picks SIMD kernels (and OpenBLAS its dot-product kernels) by CPU, so log1p, exp and
# matrix products may differ in the last bit from one machine to the next. Features and scores
# are rounded to this many decimals before the model or a threshold sees them, so a decision
# never hinges on the last bit (a 1e-16 difference crosses a 1e-9 rounding edge about once in
# 10^7 values; the narrowed-dispatch runs of .ci/run check the outputs are byte-identical).
STABLE_DECIMALS = 9


def stable(values: np.ndarray) -> np.ndarray:
    """``values`` rounded to ``STABLE_DECIMALS`` (machine-independent for comparisons)."""
    return np.round(values, STABLE_DECIMALS)

_WORD = re.compile(r"\w+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_TERMINAL = re.compile(r"[.!?…。！？؟।][\"'”’»)\]]*$")
_CLOSING_START = re.compile(r"^[,.;:)\]}’”»!?%…、。，）]")
_PUNCT_ONLY = re.compile(r"^[^\w]{1,3}$")
_SENTENCE_END = re.compile(r"[.!?。！？](?:\s|$)")
_DIGIT = re.compile(r"\d")
_URLISH = re.compile(r"https?://|www\.|@\w+\.\w|\.com\b")
_SEPARATORS = re.compile(r"[|•›»«‹·▶►]")
_TITLE_SPLIT = re.compile(r"\s+[|–—-]\s+|\s+[»:]\s+|\s*\|\s*")
_WORD_BINS = (1, 2, 3, 5, 8, 12, 20, 40)
# date/time cues (language-independent digits, plus month names of the corpus languages)
_DATE_DIGITS = re.compile(
    r"\b(?:19|20)\d\d\b|\b\d{1,2}:\d{2}\b|\b\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\b|\b\d+\s*(?:min|h|hrs?|hours?|days?)\b"
)
_MONTH_WORDS = (
    "jan(?:uary)?", "feb(?:ruary)?", "mar(?:ch)?", "apr(?:il)?", "may", "june?", "july?",
    "aug(?:ust)?", "sept?(?:ember)?", "oct(?:ober)?", "nov(?:ember)?", "dec(?:ember)?", "januar",
    "februar", "märz", "mai", "juni", "juli", "oktober", "dezember", "janvier", "février", "mars",
    "avril", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre", "enero",
    "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
    "noviembre", "diciembre", "janeiro", "fevereiro", "março", "maio", "junho", "julho",
    "setembro", "outubro", "novembro", "dezembro", "gennaio", "febbraio", "aprile", "maggio",
    "giugno", "luglio", "settembre", "ottobre", "dicembre", "januari", "februari", "maret", "mei",
    "juni", "agustus", "oktober", "desember",
    r"янв\w*", r"фев\w*", r"мар\w*", r"апр\w*", "ма[йя]", r"июн\w*", r"июл\w*", r"авг\w*", r"сент\w*",
    r"окт\w*", r"нояб\w*", r"дек\w*",
)
# The lookahead on the first letters is implied by the alternatives (same IGNORECASE
# matching); it lets most positions fail at once instead of trying 82 alternatives.
_MONTHS = re.compile(
    r"\b(?=[%s])(?:%s)\b" % ("".join(sorted({w[0] for w in _MONTH_WORDS})), "|".join(_MONTH_WORDS)),
    re.IGNORECASE,
)
_BYLINE = re.compile(
    r"^\W*(?:(?:posted|written|words|reported|story|text|photos?)\s+by|by|por|von|par|di|oleh|door|av|автор|текст)\b\s*:?",
    re.IGNORECASE,
)
_COUNTER = re.compile(r"^\W*\d")
_BULLET = re.compile(r"^(?:[-•*·–—▪◦●○■□►▸✓✔]\s*|\(?\d{1,2}[.)]\s|\(?[a-z][.)]\s)")
# a quantity first: "200 g Zucker", "1/2 cup", "390 kcal", "3 Eier"
_QUANTITY = re.compile(r"^\W{0,2}\d+(?:[.,/]\d+)?\s*[½¼¾⅓⅔]?(?:\s|[^\W\d]{1,6}\b)")
_QUOTE_START = re.compile(r"^[\"“”„«»‘’'「『]")
_PUNCT = re.compile(r"[^\w\s]")
_URL_ONLY = re.compile(r"^\W*(?:https?://|www\.)\S+$")
# "username says:" / "Name wrote:" heading a comment, or a counter "34 responses to"
_COMMENT_HEAD = re.compile(
    r"^\S+(?:\s+\S+){0,3}\s+(?:says|said|wrote|disse|escreveu|dice|scrive|schreibt|dit|a écrit|пишет|написал\w*|berkata)\s*:",
    re.IGNORECASE,
)


# --------------------------------------------------------------------------- rejoin
def _ends_open(line: str) -> bool:
    """The line broke off mid-sentence: ends in a lower-case word or a comma-like mark."""
    if not line or _TERMINAL.search(line):
        return False
    last = line[-1]
    if last in ",;(–—-“\"'‘":
        return True
    words = line.split()
    if len(words) < 6:
        return False
    tail = words[-1]
    return tail[:1].islower()


def _is_fragment(line: str, prev: str) -> bool:
    if _PUNCT_ONLY.match(line):
        return True
    if _CLOSING_START.match(line):
        return True
    first = line[0]
    if first.islower() and not line.startswith(("http", "www.")):
        # a lower-case start continues a sentence unless the previous line ended one
        return not _TERMINAL.search(prev)
    if _ends_open(prev) and len(line.split()) <= 6:
        # a short link text inside a sentence ("... won by" / "30 points" / "in 2016.")
        return True
    return False


def rejoin_spans(lines: list[str]) -> list[tuple[str, int, int]]:
    """Merge fragments into the previous line; empty lines are dropped. Per output line: its
    text and the range ``[start, end)`` of input lines it was made of."""
    out: list[tuple[str, int, int]] = []
    for i, raw in enumerate(lines):
        line = raw.strip()
        if not line:
            continue
        if out and _is_fragment(line, out[-1][0]):
            prev, start, _ = out[-1]
            if _CLOSING_START.match(line) or _PUNCT_ONLY.match(line) or prev.endswith(("(", "“", "‘", "/")):
                out[-1] = (prev + line, start, i + 1)
            else:
                out[-1] = (prev + " " + line, start, i + 1)
        else:
            out.append((line, i, i + 1))
    return out


def rejoin(lines: list[str]) -> list[str]:
    """Merge fragments into the previous line; empty lines are dropped."""
    return [line for line, _, _ in rejoin_spans(lines)]


# --------------------------------------------------------------------------- page context
@lru_cache(maxsize=1)
def _stoplists() -> tuple[tuple[str, ...], tuple[frozenset[str], ...]]:
    """The jusText stoplists, names sorted: the same sets as ``justext.get_stoplist`` (its
    lines, lower-cased), read from jusText's files directly in ~0.02 s where
    ``get_stoplist`` takes 0.12 s for all 100 (and importing jusText loads lxml)."""
    folder = _stoplist_folder()
    names = tuple(sorted(p.stem for p in folder.glob("*.txt")))
    return names, tuple(_read_stoplist(folder / f"{name}.txt") for name in names)


def _stoplist_folder() -> Path:
    spec = importlib.util.find_spec("justext")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the justext package is not installed (pip install justext)")
    return Path(next(iter(spec.submodule_search_locations))) / "stoplists"


def _read_stoplist(path: Path) -> frozenset[str]:
    # justext: frozenset(w.decode("utf8").lower() for w in data.splitlines()); bytes.splitlines
    # breaks at \n, \r\n and \r only, so the decoded text is split at those alone.
    text = path.read_bytes().decode("utf8").replace("\r\n", "\n").replace("\r", "\n").lower()
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # a final line break ends the last line; it starts no empty one
    return frozenset(lines)


_LISTS_OF: dict[str, tuple[int, ...]] = {}  # word -> indices of the stoplists holding it, as met
_LISTS_OF_MAX = 200_000  # words remembered before the memo starts again (memory stays bounded)


@lru_cache(maxsize=1)
def _any_stoplist() -> frozenset[str]:
    """Every word of every stoplist (one set union, milliseconds): most words of a page are in none,
    and are told so by one lookup instead of one per stoplist."""
    return frozenset().union(*_stoplists()[1])


def _lists_of(word: str) -> tuple[int, ...]:
    lists = _LISTS_OF.get(word)
    if lists is None:
        if len(_LISTS_OF) >= _LISTS_OF_MAX:
            _LISTS_OF.clear()
        lists = _LISTS_OF[word] = (tuple(i for i, words in enumerate(_stoplists()[1]) if word in words)
                                   if word in _any_stoplist() else ())
    return lists


def choose_stoplist(token_lists: list[list[str]], sample: int = 1000) -> tuple[str, frozenset[str]]:
    """The jusText stoplist covering most of the (lower-cased) tokens; ('', empty) if none.

    Tokens are read list by list until ``sample`` were seen."""
    names = _stoplists()[0]
    taken, seen = [], 0
    for toks in token_lists:
        taken.append(toks)
        seen += len(toks)
        if seen >= sample:
            break
    freq = Counter(chain.from_iterable(taken))
    hits = [(lists, c) for t, c in freq.items() if (lists := _lists_of(t))]
    # counts[i]: sampled tokens that are in stoplist i
    counts = np.bincount(
        np.fromiter(chain.from_iterable(lists for lists, _ in hits), dtype=np.intp),
        weights=np.repeat([c for _, c in hits], [len(lists) for lists, _ in hits]),
        minlength=len(names),
    )
    best = int(np.argmax(counts)) if names else -1  # the first of equals, as before
    if best < 0 or counts[best] == 0:
        return "", frozenset()
    return names[best], _stoplists()[1][best]


def headline_anchor(keys: list[str], title: str | None) -> int:
    """Index of the last line (in the first 70% of the page) containing the title's longest part."""
    if not title or not keys:
        return -1
    parts = [p for p in _TITLE_SPLIT.split(title) if p.strip()]
    longest = word_key(max(parts, key=len)) if parts else ""
    if len(longest.split()) < 2 and len(longest) < 12:
        return -1
    limit = max(1, int(len(keys) * 0.7))
    anchor = -1
    for i in range(limit):
        if longest in keys[i]:
            anchor = i
    return anchor


# --------------------------------------------------------------------------- features
FEATURE_NAMES: list[str] = (
    [f"words_bin{i}" for i in range(len(_WORD_BINS) + 1)]
    + [
        "log_words", "log_chars", "stop_density", "stop_dense", "terminal", "colon_end",
        "cap_ratio", "title_case_open", "first_upper", "digit_ratio", "separator", "urlish",
        "sentences", "dup", "pos", "pos2", "before_anchor", "after_anchor_log",
        "anchor_near", "no_anchor", "contains_title", "all_caps",
        "prev_fixed", "next_fixed",
        "prev_log_words", "next_log_words", "prev2_log_words", "next2_log_words",
        "prev_stop", "next_stop", "prev_terminal", "next_terminal",
        "win_long_share", "run_short",
        "doc_long_share", "doc_log_lines", "doc_stop_cover",
        "doc_long_x_short", "doc_long_x_words", "rank_len",
        "date_like", "date_short", "byline", "url_only", "dup_long", "comment_head",
        "prev_date", "next_date", "after_comment_head",
    ]
    # the wider page around the line (windowed neighbours, page statistics, the body mass)
    + [
        "prev3_log_words", "next3_log_words", "prev2_stop", "next2_stop", "prev2_terminal",
        "next2_terminal", "win5_log_words", "win5_terminal", "win10_long_share",
        "doc_mean_log_words", "doc_terminal_share", "doc_token_long_share", "doc_fixed_share",
        "rel_log_words", "bullet_start", "quantity_start", "prev_colon_end", "quote_start",
        "punct_ratio", "mean_word_chars", "dist_prev_long", "dist_next_long", "long_mass_before",
        "token_mass_before", "prev_long_terminal", "next_long_terminal", "run_same_bin",
        "fixed_within3",
    ]
)
LONG_SHARE = FEATURE_NAMES.index("doc_long_share")
PROSE_SHARE = FEATURE_NAMES.index("doc_token_long_share")


def _tokenize(lines: list[str]) -> tuple[list[list[str]], list[list[str]], list[str]]:
    """Per line: its ``\\w+`` tokens, the tokens of the lower-cased line, and the latter
    joined by one space (the line's ``word_key``, for the duplicate and title tests)."""
    raw_tokens = [_WORD.findall(line) for line in lines]
    low_tokens, keys = [], []
    for line, toks in zip(lines, raw_tokens):
        if line.isascii():
            # lower-casing ASCII maps tokens to tokens: one lower() instead of a second findall
            key = " ".join(toks).lower()
            low = key.split()
        else:
            # elsewhere it need not ("İ" lower-cases to "i" + a combining dot, two tokens)
            low = _WORD.findall(line.lower())
            key = " ".join(low)
        low_tokens.append(low)
        keys.append(key)
    return raw_tokens, low_tokens, keys


def _all_caps(tokens: list[str]) -> bool:
    """Every alphabetic token is upper-case, and they have more than 3 letters together."""
    letters = 0
    for t in tokens:
        if t.isalpha():
            if not t.isupper():
                return False  # most lines end here, at their first word
            letters += len(t)
    return letters > 3


def _lengths(items: list) -> np.ndarray:
    """len() of each item, as a column."""
    return np.fromiter(map(len, items), np.intp, len(items))


def _found(pattern: re.Pattern, lines: list[str]) -> np.ndarray:
    """Boolean column: ``pattern`` occurs in the line."""
    return np.fromiter(map(bool, map(pattern.search, lines)), bool, len(lines))


def _counts(pattern: re.Pattern, lines: list[str]) -> np.ndarray:
    """How often ``pattern`` occurs in each line."""
    return np.fromiter(map(len, map(pattern.findall, lines)), np.intp, len(lines))


def _where(test, lines: list[str], candidates: np.ndarray) -> np.ndarray:
    """Boolean column: ``test(line)`` is truthy; only the candidate lines are tested (the
    others cannot pass, so their regexes are not run)."""
    out = np.zeros(len(lines), dtype=bool)
    out[[i for i in np.flatnonzero(candidates).tolist() if test(lines[i])]] = True
    return out


def _is_date(line: str) -> bool:
    return bool(_DATE_DIGITS.search(line) or _MONTHS.search(line))


def shifted(values: np.ndarray, offset: int, fill: float = 0.0) -> np.ndarray:
    """``values[i + offset]`` for every row i (offset != 0); ``fill`` where that row is off the page."""
    out = np.full(values.shape, fill)
    if offset < 0:
        out[-offset:] = values[:offset]
    else:
        out[:-offset] = values[offset:]
    return out


def _neighbour(col: np.ndarray, offset: int) -> np.ndarray:
    """``col[i + offset]`` for every line i (offset != 0); 0 where that line is off the page."""
    return shifted(col, offset)


def _short_run_lengths(short: np.ndarray) -> np.ndarray:
    """Length of the maximal run of short lines containing each line (0 for other lines)."""
    starts = np.flatnonzero(np.concatenate(([True], short[1:] != short[:-1])))
    lengths = np.diff(np.append(starts, len(short)))
    return np.repeat(lengths, lengths) * short


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, 0 where den is 0."""
    return np.divide(num, den, out=np.zeros(len(num)), where=den > 0)


def extract_features(
    lines: list[str], fixed: list[Decision | None], title: str | None = None
) -> np.ndarray:
    """One row per line, one column per ``FEATURE_NAMES`` entry (an n x F float array).

    Built column by column: what needs the text (tokens, regex tests) is read once per line;
    bins, neighbours, windows and ranks are array operations on those columns.
    """
    n = len(lines)
    if n == 0:
        return np.zeros((0, len(FEATURE_NAMES)))
    raw_tokens, low_tokens, keys = _tokenize(lines)
    n_raw, n_low = _lengths(raw_tokens), _lengths(low_tokens)
    # stoplist: sample the longer lines first (prose), they tell the language best
    _, stop = choose_stoplist([low_tokens[i] for i in np.argsort(-n_low, kind="stable").tolist()])

    # per-line facts read from the text
    n_chars = _lengths(lines)
    n_stop = np.fromiter((sum(map(stop.__contains__, low)) for low in low_tokens), np.intp, n)
    n_cap_start = np.fromiter((sum(map(str.isupper, map(itemgetter(0), toks))) for toks in raw_tokens),
                              np.intp, n)
    n_cjk = np.fromiter((0 if line.isascii() else len(_CJK.findall(line)) for line in lines), np.intp, n)
    words = n_low + n_cjk / 2.0
    n_digits = _counts(_DIGIT, lines)
    term = _found(_TERMINAL, lines)
    urlish = _found(_URLISH, lines)
    date = _where(_is_date, lines, (words <= 20) & (n_digits > 0))
    has_colon = np.fromiter((":" in line for line in lines), bool, n)
    comment_head = _where(_COMMENT_HEAD.match, lines, (words <= 20) & has_colon)
    is_fixed = np.fromiter((f is not None for f in fixed), bool, n)

    # page context
    dup_count = Counter(keys)
    dups = np.fromiter(map(dup_count.__getitem__, keys), np.intp, n)
    if title is None:
        title = lines[0]
    anchor = headline_anchor(keys, title)
    title_key = word_key(title) if title else ""
    sdens = _ratio(n_stop, n_low)
    caps = _ratio(n_cap_start, n_raw)
    lw = np.log1p(words)
    long_lines = (words >= 15).astype(float)
    long_share = np.count_nonzero(long_lines) / n
    at = np.arange(n)
    rel = at / max(1, n - 1)
    # the 3 lines before and the 3 after (fewer at the page ends)
    window_lo, window_hi = np.maximum(at - 3, 0), np.minimum(at + 4, n)
    long_cum = np.concatenate(([0.0], np.cumsum(long_lines)))
    # comment heads followed (in the line or the next) by a date: a thread from here on
    thread_heads = np.flatnonzero(comment_head & (date | (_neighbour(date, 1) > 0)))
    first_thread = thread_heads[0] if len(thread_heads) >= 2 else n

    contains_title = (np.fromiter((bool(k) and (k in title_key or title_key in k) for k in keys), bool, n)
                      if title_key else 0.0)

    word_bin = np.searchsorted(_WORD_BINS, words, side="right")  # how many edges <= words
    cols: dict[str, np.ndarray | float] = {
        f"words_bin{k}": word_bin == k for k in range(len(_WORD_BINS) + 1)
    }
    cols.update(
        log_words=lw,
        log_chars=np.log1p(n_chars),
        stop_density=sdens,
        stop_dense=sdens >= 0.30,
        terminal=term,
        colon_end=np.fromiter((line.endswith(":") for line in lines), bool, n),
        cap_ratio=caps,
        title_case_open=(caps >= 0.6) & ~term & (n_raw >= 2),
        first_upper=np.fromiter((line[:1].isupper() for line in lines), bool, n),
        digit_ratio=n_digits / n_chars,
        separator=_found(_SEPARATORS, lines),
        urlish=urlish,
        sentences=np.minimum(_counts(_SENTENCE_END, lines), 3),
        dup=np.log(dups) * (n_low > 0),  # 0 for lines without words
        pos=rel,
        pos2=rel * rel,
        before_anchor=(at <= anchor) if anchor >= 0 else 0.0,
        after_anchor_log=np.log1p(np.maximum(at - anchor, 0)) if anchor >= 0 else 0.0,
        anchor_near=((at > anchor) & (at <= anchor + 6)) if anchor >= 0 else 0.0,
        no_anchor=float(anchor < 0),
        contains_title=contains_title,
        all_caps=np.fromiter(map(_all_caps, raw_tokens), bool, n),
        prev_fixed=_neighbour(is_fixed, -1),
        next_fixed=_neighbour(is_fixed, 1),
        prev_log_words=_neighbour(lw, -1),
        next_log_words=_neighbour(lw, 1),
        prev2_log_words=_neighbour(lw, -2),
        next2_log_words=_neighbour(lw, 2),
        prev_stop=_neighbour(sdens, -1),
        next_stop=_neighbour(sdens, 1),
        prev_terminal=_neighbour(term, -1),
        next_terminal=_neighbour(term, 1),
        win_long_share=(long_cum[window_hi] - long_cum[window_lo] - long_lines)
        / np.maximum(1, window_hi - window_lo - 1),
        run_short=np.log1p(_short_run_lengths(words <= 5)),
        doc_long_share=long_share,
        doc_log_lines=math.log1p(n),
        doc_stop_cover=n_stop.sum() / (n_low.sum() or 1),
        doc_long_x_short=long_share * (words <= 5),
        doc_long_x_words=long_share * lw,
        rank_len=np.searchsorted(np.sort(words), words, side="left") / n,
        date_like=date,
        date_short=date & (words <= 12),
        byline=_where(_BYLINE.match, lines, words <= 8),
        # a line _URL_ONLY matches contains "http(s)://" or "www.", so _URLISH found it
        url_only=_where(_URL_ONLY.match, lines, (words <= 12) & urlish),
        dup_long=(words >= 8) & (dups > 1),
        comment_head=comment_head,
        prev_date=_neighbour(date, -1),
        next_date=_neighbour(date, 1),
        after_comment_head=at >= first_thread,
    )
    cols.update(_context_columns(lines, lw, sdens, term, long_lines, words, word_bin, is_fixed, n_chars,
                                 n_raw, cols["colon_end"]))
    feats = np.empty((n, len(FEATURE_NAMES)))
    for j, name in enumerate(FEATURE_NAMES):
        feats[:, j] = cols[name]
    return stable(feats)


def _window_mean(col: np.ndarray, k: int) -> np.ndarray:
    """Mean of ``col`` over the other lines within ``k`` above and ``k`` below (0 alone)."""
    n = len(col)
    at = np.arange(n)
    lo, hi = np.maximum(at - k, 0), np.minimum(at + k + 1, n)
    cum = np.concatenate(([0.0], np.cumsum(col, dtype=float)))
    return (cum[hi] - cum[lo] - col) / np.maximum(1, hi - lo - 1)


def _distance_to(mask: np.ndarray, before: bool) -> np.ndarray:
    """log1p of the distance in lines to the nearest other line where ``mask`` holds, above
    (``before``) or below; log1p(n) where there is none."""
    n = len(mask)
    at = np.arange(n)
    if before:
        last = np.maximum.accumulate(np.where(mask, at, -1))
        prev = np.concatenate(([-1], last[:-1]))
        d = np.where(prev >= 0, at - prev, n)
    else:
        nxt_idx = np.minimum.accumulate(np.where(mask, at, n)[::-1])[::-1]
        nxt = np.concatenate((nxt_idx[1:], [n]))
        d = np.where(nxt < n, nxt - at, n)
    return np.log1p(d)


def _run_lengths(values: np.ndarray) -> np.ndarray:
    """Length of the maximal run of equal values containing each line."""
    starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
    lengths = np.diff(np.append(starts, len(values)))
    return np.repeat(lengths, lengths)


def _context_columns(lines, lw, sdens, term, long_lines, words, word_bin, is_fixed, n_chars, n_raw,
                     colon_end) -> dict[str, np.ndarray | float]:
    """The wider page around each line: all array operations on columns read once per line,
    except three anchored regexes (bullets, quantities, quotes) and one punctuation count."""
    n = len(lines)
    termf = term.astype(float)
    long_term = (words >= 8) & term
    tok_total = float(words.sum()) or 1.0
    long_total = float(long_lines.sum()) or 1.0
    return dict(
        prev3_log_words=_neighbour(lw, -3),
        next3_log_words=_neighbour(lw, 3),
        prev2_stop=_neighbour(sdens, -2),
        next2_stop=_neighbour(sdens, 2),
        prev2_terminal=_neighbour(term, -2),
        next2_terminal=_neighbour(term, 2),
        win5_log_words=_window_mean(lw, 5),
        win5_terminal=_window_mean(termf, 5),
        win10_long_share=_window_mean(long_lines, 10),
        doc_mean_log_words=float(lw.mean()),
        doc_terminal_share=float(termf.mean()),
        doc_token_long_share=float(words[words >= 15].sum()) / tok_total,
        doc_fixed_share=float(is_fixed.mean()),
        rel_log_words=lw - float(np.median(lw)),
        bullet_start=_found(_BULLET, lines),
        quantity_start=_where(_QUANTITY.match, lines, words <= 12),
        prev_colon_end=_neighbour(colon_end, -1),
        quote_start=_found(_QUOTE_START, lines),
        punct_ratio=_counts(_PUNCT, lines) / np.maximum(n_chars, 1),
        mean_word_chars=np.minimum(n_chars / np.maximum(n_raw, 1), 30.0),
        dist_prev_long=_distance_to(long_term, True),
        dist_next_long=_distance_to(long_term, False),
        long_mass_before=np.concatenate(([0.0], np.cumsum(long_lines)[:-1])) / long_total,
        token_mass_before=np.concatenate(([0.0], np.cumsum(words)[:-1])) / tok_total,
        prev_long_terminal=_neighbour(long_term, -1),
        next_long_terminal=_neighbour(long_term, 1),
        run_same_bin=np.log1p(_run_lengths(word_bin)),
        fixed_within3=_window_mean(is_fixed.astype(float), 3),
    )


# --------------------------------------------------------------------------- model
# Learned smoothing (stage 2): what the first stage said about the lines around each line.
SMOOTH_NAMES: list[str] = [
    "p", "p_prev1", "p_next1", "p_prev2", "p_next2", "p_prev3", "p_next3",
    "p_win2", "p_win5", "p_win10", "p_max_prev3", "p_max_next3", "p_mean_before", "p_mean_after",
    "p_doc_mean", "p_doc_high_share", "p_rank", "p_dist_prev_high", "p_dist_next_high",
    "p_high_mass_before",
]
# first-stage features the second stage sees too
SMOOTH_BASE = ["log_words", "terminal", "stop_density", "prev_fixed", "next_fixed", "doc_long_share",
               "doc_log_lines", "doc_token_long_share", "doc_fixed_share", "pos", "fixed_within3",
               "bullet_start", "colon_end", "prev_colon_end", "quantity_start"]
# Where the line stands against the page's text as the first stage sees it (the whole page at once):
# the main segment (the run of lines with the largest sum of (P(body) - 0.5) x sqrt(words + 1):
# the article, when it is one run) and the runs of likely body lines (P(body) >= 0.5, gaps of up to
# SEGMENT_GAP lines bridged): a second run of prose after the article (comments, an author's bio,
# teasers) is small beside the main one.
SMOOTH_SEGMENT = ["seg_inside", "seg_token_share", "seg_before", "seg_after", "run_mass_ratio", "run_rank"]
SMOOTH_COLUMNS = SMOOTH_NAMES + SMOOTH_BASE + SMOOTH_SEGMENT
SEGMENT_GAP = 2


def smooth_features(p: np.ndarray, feats: np.ndarray) -> np.ndarray:
    """Stage-2 rows: per line the first stage's P(body) ``p`` (rule-fixed lines: 0 for a removal,
    1 for a keep), that of its neighbours and windows, page statistics of ``p``, the
    ``SMOOTH_BASE`` columns of ``feats`` (rows of ``extract_features``) and where the line stands
    against the page's main segment and runs of body lines (``SMOOTH_SEGMENT``). Array operations only."""
    n = len(p)
    width = len(SMOOTH_COLUMNS)
    if n == 0:
        return np.zeros((0, width))
    p = np.asarray(p, dtype=float)
    at = np.arange(n)
    cum = np.concatenate(([0.0], np.cumsum(p)))
    high = p >= 0.5
    padded = np.concatenate((np.zeros(3), p, np.zeros(3)))
    prev3 = np.max(np.stack([padded[2 - k: 2 - k + n] for k in range(3)]), axis=0)
    next3 = np.max(np.stack([padded[4 + k: 4 + k + n] for k in range(3)]), axis=0)
    high_cum = np.concatenate(([0.0], np.cumsum(high)[:-1]))
    cols = [
        p, _neighbour(p, -1), _neighbour(p, 1), _neighbour(p, -2), _neighbour(p, 2),
        _neighbour(p, -3), _neighbour(p, 3),
        _window_mean(p, 2), _window_mean(p, 5), _window_mean(p, 10), prev3, next3,
        cum[at] / np.maximum(at, 1), (cum[n] - cum[at + 1]) / np.maximum(n - at - 1, 1),
        np.full(n, cum[n] / n), np.full(n, high.mean()),
        np.searchsorted(np.sort(p), p, side="left") / n,
        _distance_to(high, True), _distance_to(high, False),
        high_cum / max(1, int(high.sum())),
    ]
    base = feats[:, [FEATURE_NAMES.index(name) for name in SMOOTH_BASE]]
    words = np.expm1(feats[:, FEATURE_NAMES.index("log_words")])
    return stable(np.column_stack(cols + [base] + _segment_columns(p, words)))


def main_segment(score: np.ndarray) -> tuple[int, int]:
    """(a, b): the run ``score[a..b]`` of largest sum (prefix sums, rounded so that ties do not
    depend on the order of additions; the first best end, the shortest run ending there)."""
    c = stable(np.concatenate(([0.0], np.cumsum(score))))
    low = np.minimum.accumulate(c[:-1])  # the smallest prefix sum before each end
    b = int(np.argmax(c[1:] - low))
    a = int(np.flatnonzero(c[: b + 1] == low[b])[-1])
    return a, b


def body_runs(high: np.ndarray, gap: int = SEGMENT_GAP) -> np.ndarray:
    """Per line, the number of its run of ``high`` lines (runs split where more than ``gap``
    lines in a row are not high; the lines of a bridged gap belong to the run), -1 outside runs."""
    n = len(high)
    at = np.arange(n)
    h = np.flatnonzero(high)
    if not len(h):
        return np.full(n, -1)
    run_of = np.full(n, -1)
    run_of[h] = np.cumsum(np.concatenate(([True], np.diff(h) > gap + 1))) - 1
    prev = np.maximum.accumulate(np.where(high, at, -1))  # the last high line at or above
    nxt = np.minimum.accumulate(np.where(high, at, n)[::-1])[::-1]  # the first at or below
    prev_run = run_of[np.maximum(prev, 0)]
    inside = (prev >= 0) & (nxt < n) & (prev_run == run_of[np.minimum(nxt, n - 1)])
    return np.where(inside, prev_run, -1)


def _segment_columns(p: np.ndarray, words: np.ndarray) -> list[np.ndarray]:
    """The ``SMOOTH_SEGMENT`` columns of lines with P(body) ``p`` and ``words`` words."""
    n = len(p)
    at = np.arange(n)
    a, b = main_segment((p - 0.5) * np.sqrt(words + 1.0))
    total = float(words.sum()) or 1.0
    run = body_runs(p >= 0.5)
    ratio, rank = np.zeros(n), np.full(n, 6.0)
    if run.max() >= 0:
        member = run >= 0
        mass = np.bincount(run[member], weights=words[member])
        order = np.argsort(-mass, kind="stable")
        place = np.empty(len(mass))
        place[order] = np.arange(len(mass))
        ratio[member] = mass[run[member]] / (mass.max() or 1.0)
        rank[member] = np.minimum(place[run[member]], 5)
    return [(at >= a) & (at <= b), np.full(n, float(words[a:b + 1].sum()) / total),
            np.log1p(np.maximum(a - at, 0)), np.log1p(np.maximum(at - b, 0)), ratio, rank]


def _stage_inputs(p1: np.ndarray, fixed: list[Decision | None]) -> np.ndarray:
    """Stage-1 P(body) with rule-fixed lines set to what the rule decided (0 or 1)."""
    out = np.array(p1, dtype=float)
    for i, f in enumerate(fixed):
        if f is not None:
            out[i] = 1.0 if f.keep else 0.0
    return out


@lru_cache(maxsize=2)
def load_model(path: str = str(MODEL_PATH)) -> dict:
    """The model description (``line_model.json``) with its two LightGBM boosters loaded."""
    from .lgbm import Booster

    with open(path, encoding="utf-8") as fh:
        model = json.load(fh)
    if model["features"] != FEATURE_NAMES or model["smooth_features"] != SMOOTH_COLUMNS:
        raise ValueError(f"{path}: features differ from this code's; retrain the model (make train-text)")
    folder = Path(path).parent
    for stage in ("stage1", "stage2"):
        text = (folder / model[stage]).read_text(encoding="utf-8")
        model["_" + stage] = Booster(text)
    return model


def _predict(booster, X: np.ndarray) -> np.ndarray:
    return stable(booster.predict(X, num_threads=1))


def score_lines(feats: np.ndarray, fixed: list[Decision | None], model: dict) -> tuple[np.ndarray, np.ndarray]:
    """(stage-1, stage-2) P(body) per line, rounded (``stable``)."""
    if len(feats) == 0:
        return np.zeros(0), np.zeros(0)
    p1 = _predict(model["_stage1"], feats)
    p2 = _predict(model["_stage2"], smooth_features(_stage_inputs(p1, fixed), feats))
    return p1, p2


def viterbi(probs: list[float], tau: float, penalty: float) -> list[bool]:
    """Best keep/drop sequence: emission log-odds against tau, a cost per state switch."""
    if not probs:
        return []
    if tau <= 0.0:
        return [True] * len(probs)
    eps = 1e-6
    bias = math.log(tau / (1 - tau))
    # score of "keep" per line: half the log-odds against tau; "drop" scores the negative
    clipped = np.clip(probs, eps, 1 - eps)
    half = [(lo - bias) / 2 for lo in map(math.log, (clipped / (1 - clipped)).tolist())]
    drop, keep = -half[0], half[0]  # best score of a path ending in each state
    back: list[tuple[bool, bool]] = []  # per line: do the best paths into drop, keep come from keep?
    for h in half[1:]:
        drop_from_keep = drop < keep - penalty
        keep_from_keep = drop - penalty < keep
        drop, keep = (
            (keep - penalty if drop_from_keep else drop) - h,
            (keep if keep_from_keep else drop - penalty) + h,
        )
        back.append((drop_from_keep, keep_from_keep))
    state = drop <= keep
    path = [state]
    for drop_from_keep, keep_from_keep in reversed(back):
        state = keep_from_keep if state else drop_from_keep
        path.append(state)
    path.reverse()
    return path


# --------------------------------------------------------------------------- labelling
def label_lines(
    lines: list[str], fixed: list[Decision | None], cfg: CleanConfig, title: str | None = None
) -> list[Decision]:
    try:
        model = load_model()
    except FileNotFoundError:  # no trained model shipped: keep what the rules left
        return [f if f is not None else Decision(l, True) for l, f in zip(lines, fixed)]
    return label_with_model(lines, fixed, model, title)


def label_with_model(
    lines: list[str], fixed: list[Decision | None], model: dict, title: str | None = None
) -> list[Decision]:
    """``label_lines`` with an explicit model (training and cross-validation use this)."""
    n = len(lines)
    if n == 0:
        return []
    feats = extract_features(lines, fixed, title)
    _, p2 = score_lines(feats, fixed, model)
    return decide_scored(lines, fixed, p2.tolist(), model, title, float(feats[0, PROSE_SHARE]))


def decide_scored(lines: list[str], fixed: list[Decision | None], probs: list[float], model: dict,
                  title: str | None, prose_share: float = 0.0) -> list[Decision]:
    """Decisions from the final P(body) per line (training scores its grid through this).
    ``prose_share``: the page's share of tokens in lines of 15 words or more (its regime: at
    least ``dense_page_long_share`` uses ``tau_dense``; both chosen by cross-validation)."""
    if all(_is_sentence(l) for l, f in zip(lines, fixed) if f is None):
        # Nothing but prose is left open (an already-clean article, a short JSONL text):
        # there is no page furniture for the model to find, and cutting could only lose text.
        # The scores are still recorded: the document's quality reads them.
        return [f if f is not None else Decision(l, True, None, "stat.all_prose", p)
                for l, f, p in zip(lines, fixed, probs)]
    return decide(lines, fixed, probs, model, title, long_share=prose_share)


def _is_sentence(line: str) -> bool:
    """A line of prose: six words or more (40 characters for scripts without spaces) ending
    like a sentence."""
    if not _TERMINAL.search(line):
        return False
    return len(_WORD.findall(line)) >= 6 or (len(line) >= 40 and " " not in line[:40])


def looks_extracted(lines: list[str], model: dict) -> bool:
    """The page already reads like extracted text (e.g. trafilatura's output): few lines, and
    most tokens in lines of 15 words or more."""
    if len(lines) > model.get("clean_page_max_lines", 0):
        return False
    counts = [len(_WORD.findall(l)) for l in lines]
    total = sum(counts) or 1
    return sum(c for c in counts if c >= 15) / total >= model.get("clean_page_token_share", 2.0)


def end_markers(lines: list[str], fixed: list[Decision | None]) -> list[int]:
    """Lines that start the comment section (boilerpipe's terminating blocks): a comment
    rule hit ("Leave a reply", the comment form; not a bare counter "34 Comments"), or the first of two or more
    "name says:" heads followed by a date."""
    # a counter ("0 Comments") often sits in the meta bar above the article: not a marker
    marks = [i for i, f in enumerate(fixed)
             if f is not None and f.reason == "comments" and not _COUNTER.match(f.text)]
    heads = []
    for i, line in enumerate(lines):
        if fixed[i] is None and ":" in line and len(line) <= 160 and _COMMENT_HEAD.match(line):
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            if _DATE_DIGITS.search(line) or _DATE_DIGITS.search(nxt[:80]):
                heads.append(i)
    if len(heads) >= 2:
        marks.append(heads[0])
    return sorted(marks)


def end_of_article(lines: list[str], fixed: list[Decision | None], keep: dict[int, bool],
                   min_words: int) -> int:
    """Index of the first end marker after at least ``min_words`` kept words (boilerpipe's
    TerminatingBlocksFinder): everything after it is dropped. ``len(lines)`` when none."""
    n = len(lines)
    if min_words <= 0:
        return n
    marks = end_markers(lines, fixed)
    if not marks:
        return n
    seen = 0
    j = 0
    for i in range(n):
        while j < len(marks) and marks[j] < i:
            j += 1
        if j == len(marks):
            break
        if marks[j] == i:
            if seen >= min_words:
                return i
        elif keep.get(i):
            seen += len(_WORD.findall(lines[i]))
    return n


def decide(
    lines: list[str], fixed: list[Decision | None], probs: list[float], model: dict,
    title: str | None, extracted: bool = False, long_share: float = 0.0,
) -> list[Decision]:
    """Smooth the per-line probabilities and turn them into Decisions.

    On a page that already reads like extracted text (``looks_extracted``) the lower
    threshold ``tau_clean`` applies: only lines the model is sure about go, so recall is kept.
    On a dense page (an article region: at least ``dense_page_long_share`` of the lines have
    15 words or more, ``long_share``) the stricter ``tau_dense`` applies: the body is there
    anyway, what else is kept is cruft inside the region.
    """
    n = len(lines)
    tau, penalty = model.get("tau", 0.5), model.get("switch_penalty", 0.0)
    if long_share >= model.get("dense_page_long_share", 2.0):
        tau = model.get("tau_dense", tau)
    if extracted:
        tau, penalty = model.get("tau_clean", tau), model.get("switch_penalty_clean", penalty)
    open_idx = [i for i in range(n) if fixed[i] is None]
    keep_seq = viterbi([probs[i] for i in open_idx], tau, penalty)
    keep = dict(zip(open_idx, keep_seq))
    if open_idx and not any(keep_seq):
        # never empty a page the rules left open: keep its most body-like line(s)
        best = max(probs[i] for i in open_idx)
        for i in open_idx:
            keep[i] = probs[i] >= best * 0.9
    end = end_of_article(lines, fixed, keep, model.get("end_min_words", 60))
    end_keep = model.get("end_keep_p", 2.0)
    title_key = word_key(title) if title else ""
    out: list[Decision] = []
    for i, line in enumerate(lines):
        if fixed[i] is not None:
            out.append(fixed[i])
            continue
        p = probs[i]
        alone = p >= tau
        if i >= end and p < end_keep:  # the marker starts the comment section (a rule-fixed marker is decided above)
            out.append(Decision(line, False, "comments", "stat.end_marker", p))
        elif keep[i]:
            out.append(Decision(line, True, None, None if alone else "stat.smoothing", p))
        elif title_key and word_key(line) == title_key:
            out.append(Decision(line, False, "headline", "stat.headline", p))
        else:
            out.append(Decision(line, False, "boilerplate", "stat.line_model" if not alone else "stat.smoothing", p))
    return out
