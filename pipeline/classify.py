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
3. ``stat.line_model``: a logistic regression over cheap per-line features and those of
   the neighbours (``models/line_lr.json``, trained by ``training/train_line_model.py``).
4. ``stat.smoothing``: a 2-state Viterbi pass over the open lines (switching costs a
   penalty), so isolated short lines inside the body survive and isolated prose-like lines
   inside navigation go.
5. ``stat.headline``: open lines that repeat the headline (reason ``headline``).
6. ``stat.end_marker``: once ``end_min_words`` body words were kept, the first comment-section
   marker (a ``comments`` rule hit other than a bare counter, or a thread of "name says:" +
   date heads) ends the article; open lines after it go (reason ``comments``).

Page regimes (parameters in the model file): a dense page (article region: many long lines)
uses ``tau_dense``; a page that already reads like extracted text uses ``tau_clean``.

Everything is pure Python and deterministic; the model is read once.
"""
from __future__ import annotations

import json
import math
import operator
import re
from functools import lru_cache
from pathlib import Path

from .config import CleanConfig
from .document import Decision
from .normalize import word_key

MODEL_PATH = Path(__file__).parent / "models" / "line_lr.json"

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
_MONTHS = re.compile(
    r"\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|"
    r"nov(?:ember)?|dec(?:ember)?|januar|februar|märz|mai|juni|juli|oktober|dezember|janvier|février|mars|avril|juin|"
    r"juillet|août|septembre|octobre|novembre|décembre|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|"
    r"octubre|noviembre|diciembre|janeiro|fevereiro|março|maio|junho|julho|setembro|outubro|novembro|dezembro|gennaio|"
    r"febbraio|aprile|maggio|giugno|luglio|settembre|ottobre|dicembre|januari|februari|maret|mei|juni|agustus|"
    r"oktober|desember|янв\w*|фев\w*|мар\w*|апр\w*|ма[йя]|июн\w*|июл\w*|авг\w*|сент\w*|окт\w*|нояб\w*|дек\w*)\b",
    re.IGNORECASE,
)
_BYLINE = re.compile(
    r"^\W*(?:(?:posted|written|words|reported|story|text|photos?)\s+by|by|por|von|par|di|oleh|door|av|автор|текст)\b\s*:?",
    re.IGNORECASE,
)
_COUNTER = re.compile(r"^\W*\d")
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


def rejoin(lines: list[str]) -> list[str]:
    """Merge fragments into the previous line; empty lines are dropped."""
    out: list[str] = []
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if out and _is_fragment(line, out[-1]):
            prev = out[-1]
            if _CLOSING_START.match(line) or _PUNCT_ONLY.match(line) or prev.endswith(("(", "“", "‘", "/")):
                out[-1] = prev + line
            else:
                out[-1] = prev + " " + line
        else:
            out.append(line)
    return out


# --------------------------------------------------------------------------- page context
@lru_cache(maxsize=1)
def _stoplist_index() -> tuple[tuple[str, ...], dict[str, tuple[int, ...]]]:
    """word -> indices of the jusText stoplists that contain it (built once)."""
    import justext

    names = tuple(sorted(justext.get_stoplists()))
    index: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        for word in justext.get_stoplist(name):
            index.setdefault(word, []).append(i)
    return names, {w: tuple(v) for w, v in index.items()}


def choose_stoplist(token_lists: list[list[str]], sample: int = 1000) -> tuple[str, frozenset[str]]:
    """The jusText stoplist covering most of the (lower-cased) tokens; ('', empty) if none."""
    names, index = _stoplist_index()
    freq: dict[str, int] = {}
    seen = 0
    for toks in token_lists:
        for t in toks:
            freq[t] = freq.get(t, 0) + 1
        seen += len(toks)
        if seen >= sample:
            break
    counts = [0] * len(names)
    for t, c in freq.items():
        for i in index.get(t, ()):
            counts[i] += c
    best = max(range(len(names)), key=counts.__getitem__) if names else -1
    if best < 0 or counts[best] == 0:
        return "", frozenset()
    return names[best], _stoplist_words(names[best])


@lru_cache(maxsize=16)
def _stoplist_words(name: str) -> frozenset[str]:
    import justext

    return frozenset(justext.get_stoplist(name))


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
def _bins(value: float, edges: tuple[int, ...]) -> list[float]:
    out = [0.0] * (len(edges) + 1)
    k = 0
    while k < len(edges) and value >= edges[k]:
        k += 1
    out[k] = 1.0
    return out


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
)


def _line_stats(line: str, stop: frozenset[str]) -> tuple[list[str], float, float, float]:
    toks = _WORD.findall(line)
    n_cjk = len(_CJK.findall(line))
    words = len(toks) + n_cjk / 2.0
    low = [t.lower() for t in toks]
    sd = sum(1 for t in low if t in stop) / len(low) if low else 0.0
    return low, words, sd, float(bool(_TERMINAL.search(line)))


def extract_features(
    lines: list[str], fixed: list[Decision | None], title: str | None = None
) -> list[list[float]]:
    """One feature vector per line (order of ``FEATURE_NAMES``)."""
    n = len(lines)
    if n == 0:
        return []
    raw_tokens = [_WORD.findall(l) for l in lines]
    low_tokens = [_WORD.findall(l.lower()) for l in lines]
    # stoplist: sample the longer lines first (prose), they tell the language best
    order = sorted(range(n), key=lambda i: -len(low_tokens[i]))
    _, stop = choose_stoplist([low_tokens[i] for i in order])
    words, sdens, term, keys = [], [], [], []
    for line, low in zip(lines, low_tokens):
        n_cjk = len(_CJK.findall(line)) if not line.isascii() else 0
        w = len(low) + n_cjk / 2.0
        words.append(w)
        sdens.append(len([t for t in low if t in stop]) / len(low) if low else 0.0)
        term.append(1.0 if _TERMINAL.search(line) else 0.0)
        keys.append(" ".join(low))
    dup_count: dict[str, int] = {}
    for k in keys:
        dup_count[k] = dup_count.get(k, 0) + 1
    if title is None and lines:
        title = lines[0]
    anchor = headline_anchor(keys, title)
    title_key = word_key(title) if title else ""
    total_tokens = sum(len(t) for t in low_tokens) or 1
    stop_cover = sum(sd * len(t) for sd, t in zip(sdens, low_tokens)) / total_tokens
    long_share = sum(1 for w in words if w >= 15) / n
    log_lines = math.log1p(n)
    sorted_w = sorted(words)
    lw = [math.log1p(w) for w in words]
    is_fixed = [f is not None for f in fixed]
    long_flag = [1.0 if w >= 15 else 0.0 for w in words]
    # short-line runs: length of the maximal run of lines <= 5 words containing the line
    short = [w <= 5 for w in words]
    run_len = [0] * n
    i = 0
    while i < n:
        j = i
        while j < n and short[j] == short[i]:
            j += 1
        for k in range(i, j):
            run_len[k] = (j - i) if short[i] else 0
        i = j
    import bisect

    date = [0.0] * n
    byline = [0.0] * n
    chead = [0.0] * n
    for i, line in enumerate(lines):
        w = words[i]
        if w <= 20:
            if _DIGIT.search(line) and (_DATE_DIGITS.search(line) or _MONTHS.search(line)):
                date[i] = 1.0
            if w <= 8 and _BYLINE.match(line):
                byline[i] = 1.0
            if ":" in line and _COMMENT_HEAD.match(line):
                chead[i] = 1.0
    # comment heads followed (in the line or the next) by a date: a thread from here on
    first_thread = n
    heads = 0
    for i in range(n):
        if chead[i] and (date[i] or (i + 1 < n and date[i + 1])):
            heads += 1
            if heads == 1:
                first_thread = i
    if heads < 2:
        first_thread = n
    feats: list[list[float]] = []
    for i, line in enumerate(lines):
        toks = raw_tokens[i]
        nt = len(toks)
        w = words[i]
        caps = len([t for t in toks if t[0].isupper()]) / nt if nt else 0.0
        alpha = [t for t in toks if t.isalpha()]
        all_caps = 1.0 if alpha and all(t.isupper() for t in alpha) and len("".join(alpha)) > 3 else 0.0
        digits = len(_DIGIT.findall(line)) / len(line)
        lo, hi = max(0, i - 3), min(n, i + 4)
        win = (sum(long_flag[lo:hi]) - long_flag[i]) / max(1, hi - lo - 1)
        rel = i / max(1, n - 1)
        if anchor >= 0:
            before = 1.0 if i <= anchor else 0.0
            after_log = math.log1p(i - anchor) if i > anchor else 0.0
            near = 1.0 if 0 < i - anchor <= 6 else 0.0
        else:
            before, after_log, near = 0.0, 0.0, 0.0
        row = _bins(w, _WORD_BINS) + [
            lw[i],
            math.log1p(len(line)),
            sdens[i],
            1.0 if sdens[i] >= 0.30 else 0.0,
            term[i],
            1.0 if line.endswith(":") else 0.0,
            caps,
            1.0 if caps >= 0.6 and not term[i] and nt >= 2 else 0.0,
            1.0 if line[:1].isupper() else 0.0,
            digits,
            1.0 if _SEPARATORS.search(line) else 0.0,
            1.0 if _URLISH.search(line) else 0.0,
            min(3.0, float(len(_SENTENCE_END.findall(line)))),
            math.log(dup_count[keys[i]]) if keys[i] else 0.0,
            rel,
            rel * rel,
            before,
            after_log,
            near,
            1.0 if anchor < 0 else 0.0,
            1.0 if title_key and keys[i] and (keys[i] in title_key or title_key in keys[i]) else 0.0,
            all_caps,
            1.0 if i > 0 and is_fixed[i - 1] else 0.0,
            1.0 if i + 1 < n and is_fixed[i + 1] else 0.0,
            lw[i - 1] if i > 0 else 0.0,
            lw[i + 1] if i + 1 < n else 0.0,
            lw[i - 2] if i > 1 else 0.0,
            lw[i + 2] if i + 2 < n else 0.0,
            sdens[i - 1] if i > 0 else 0.0,
            sdens[i + 1] if i + 1 < n else 0.0,
            term[i - 1] if i > 0 else 0.0,
            term[i + 1] if i + 1 < n else 0.0,
            win,
            math.log1p(run_len[i]),
            long_share,
            log_lines,
            stop_cover,
            long_share * (1.0 if w <= 5 else 0.0),
            long_share * lw[i],
            bisect.bisect_left(sorted_w, w) / n,
            date[i],
            date[i] * (1.0 if w <= 12 else 0.0),
            byline[i],
            1.0 if w <= 12 and _URL_ONLY.match(line) else 0.0,
            1.0 if w >= 8 and dup_count[keys[i]] > 1 else 0.0,
            chead[i],
            date[i - 1] if i > 0 else 0.0,
            date[i + 1] if i + 1 < n else 0.0,
            1.0 if i >= first_thread else 0.0,
        ]
        feats.append(row)
    return feats


LONG_SHARE = FEATURE_NAMES.index("doc_long_share")


# --------------------------------------------------------------------------- model
@lru_cache(maxsize=2)
def load_model(path: str = str(MODEL_PATH)) -> dict:
    with open(path, encoding="utf-8") as fh:
        model = json.load(fh)
    unknown = set(model["features"]) - set(FEATURE_NAMES)
    if unknown:
        raise ValueError(f"{path}: features {sorted(unknown)} unknown to this code; retrain the model")
    # fold the standardisation into the weights: z = sum(w_j * (x_j - m_j) / s_j) + b;
    # features the model was trained without get weight 0
    by_name = {f: (wj / sj, mj) for f, wj, sj, mj in
               zip(model["features"], model["weights"], model["scale"], model["mean"])}
    w = [by_name.get(f, (0.0, 0.0))[0] for f in FEATURE_NAMES]
    b = model["bias"] - sum(wj * mj for wj, mj in by_name.values())
    model["_w"], model["_b"] = w, b
    return model


def score_lines(feats: list[list[float]], model: dict) -> list[float]:
    """P(body) per line from the logistic model."""
    w, b = model["_w"], model["_b"]
    out = []
    mul = operator.mul
    for x in feats:
        z = b + sum(map(mul, w, x))
        z = max(-30.0, min(30.0, z))
        out.append(1.0 / (1.0 + math.exp(-z)))
    return out


def viterbi(probs: list[float], tau: float, penalty: float) -> list[bool]:
    """Best keep/drop sequence: emission log-odds against tau, a cost per state switch."""
    if not probs:
        return []
    if tau <= 0.0:
        return [True] * len(probs)
    eps = 1e-6
    bias = math.log(tau / (1 - tau))

    def emit(p: float) -> tuple[float, float]:
        p = min(1 - eps, max(eps, p))
        lo = math.log(p / (1 - p)) - bias
        return -lo / 2, lo / 2  # (drop, keep) scores

    d0, k0 = emit(probs[0])
    score = [d0, k0]
    back: list[tuple[int, int]] = []
    for p in probs[1:]:
        e_drop, e_keep = emit(p)
        from_drop = (score[0], score[1] - penalty)
        from_keep = (score[0] - penalty, score[1])
        bd = 0 if from_drop[0] >= from_drop[1] else 1
        bk = 0 if from_keep[0] >= from_keep[1] else 1
        score = [from_drop[bd] + e_drop, from_keep[bk] + e_keep]
        back.append((bd, bk))
    state = 0 if score[0] > score[1] else 1
    path = [state]
    for bd, bk in reversed(back):
        state = bd if state == 0 else bk
        path.append(state)
    path.reverse()
    return [s == 1 for s in path]


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
    if all(_is_sentence(l) for l, f in zip(lines, fixed) if f is None):
        # Nothing but prose is left open (an already-clean article, a short JSONL text):
        # there is no page furniture for the model to find, and cutting could only lose text.
        return [f if f is not None else Decision(l, True, None, "stat.all_prose") for l, f in zip(lines, fixed)]
    feats = extract_features(lines, fixed, title)
    probs = score_lines(feats, model)
    return decide(lines, fixed, probs, model, title, looks_extracted(lines, model),
                  long_share=feats[0][LONG_SHARE])


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
    title_key = word_key(title) if title else ""
    out: list[Decision] = []
    for i, line in enumerate(lines):
        if fixed[i] is not None:
            out.append(fixed[i])
            continue
        alone = probs[i] >= tau
        if i > end:
            out.append(Decision(line, False, "comments", "stat.end_marker"))
        elif keep[i]:
            out.append(Decision(line, True, None, None if alone else "stat.smoothing"))
        elif title_key and word_key(line) == title_key:
            out.append(Decision(line, False, "headline", "stat.headline"))
        else:
            out.append(Decision(line, False, "boilerplate", "stat.line_model" if not alone else "stat.smoothing"))
    return out
