"""Line classes of plain text: which kept lines of a dump are headings, list items or paragraphs.

The unit is a *piece*: a source line of the document inside a kept line (the cleaning re-joins a
dump's lines, and glues list items and headings to the line before as well as link texts;
``pipeline.markdown.text_pieces`` cuts them back). A learned classifier (``models/line_class.json``,
trained by ``training/train_line_class.py`` on WCXB pages whose gold is also Markdown) reads
cheap features of each piece and of the pieces around it (length, ending punctuation,
capitalisation, bullet and number prefixes, where it stands, its neighbours' lengths and endings,
runs of short lines, whether the cleaning glued it to its neighbours) and gives P(paragraph),
P(heading), P(list item); a piece is a heading or a list item when that probability passes the
model's threshold for it (chosen inside the cross-validation folds), else a paragraph.

Called on the kept lines after labelling (``pipeline.markdown``), so the labeller's decisions
never depend on it. Without a model file every line is a paragraph.
"""
from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from .classify import shifted, stable
from .markdown import LIST_ITEM, PLAIN, LineClass

MODEL_PATH = Path(__file__).parent / "models" / "line_class.json"
CLASS_NAMES = ("paragraph", "heading", "list_item")
HEADING_LEVEL = 2  # a dump does not say a heading's level: all are "##"

_TERMINAL = re.compile(r"[.!?…。！？؟।][\"'”’»)\]]*$")
_COLON_END = re.compile(r"[:：]\s*$")
_OTHER_END = re.compile(r"[,;\-–—/|(]\s*$")
_SENTENCE_INSIDE = re.compile(r"[.!?。！？]\s+\S")
_BULLET = re.compile(r"^\s*[•·▪▫◦‣⁃●○■□►▸▶✓✔✗✘➤➢→\-–—*+]\s*")
_NUMBERED = re.compile(r"^\s*(?:\d{1,3}|[a-zA-Z]|[ivxlcIVXLC]{1,5})[.)]\s+")
_STEP = re.compile(r"^\s*(?:step|chapter|part|section|question|q|faq)\s*\d+\b", re.IGNORECASE)
_WORD = re.compile(r"\w+")
_DIGIT = re.compile(r"\d")
_URLISH = re.compile(r"https?://|www\.|\.com\b|@\w")
_QUESTION_END = re.compile(r"\?[\"'”’»)\]]*$")
_KEY_VALUE = re.compile(r"^[^:：]{1,40}[:：]\s+\S")
_CAPITALIZED = re.compile(r"^[^\W\d_]")

# Per-line features (OWN), the same few of the neighbours, then the page's.
OWN = ("log_chars", "log_words", "terminal", "colon_end", "other_end", "no_end", "question_end",
       "sentences_inside", "bullet", "numbered", "step", "first_upper", "title_share", "all_caps",
       "digit_share", "comma_rate", "key_value", "urlish", "position", "first", "last",
       "rel_len", "avg_word_len", "starts_quote")
NEIGHBOUR = ("log_chars", "terminal", "colon_end", "no_end", "bullet", "numbered", "title_share")
OFFSETS = (-2, -1, 1, 2)
PAGE = ("page_log_lines", "page_median_log_chars", "short_run", "short_run_pos", "same_start_run",
        "len_sim_prev", "len_sim_next", "prev_short_next_long", "bullet_share", "numbered_share",
        "glued_prev", "glued_next", "line_log_pieces", "prev_open")
FEATURE_NAMES = tuple(list(OWN) + [f"{n}_{o:+d}" for o in OFFSETS for n in NEIGHBOUR] + list(PAGE))


def _title_share(words: list[str]) -> float:
    alpha = [w for w in words if w[:1].isalpha()]
    if not alpha:
        return 0.0
    return sum(1 for w in alpha if w[:1].isupper()) / len(alpha)


def line_features(lines: list[str], groups: list[int] | None = None) -> np.ndarray:
    """``len(lines) x len(FEATURE_NAMES)`` features of a document's pieces (``groups``: the kept
    line each piece is part of; default: each its own), rounded (``stable``)."""
    n = len(lines)
    if n == 0:
        return np.zeros((0, len(FEATURE_NAMES)))
    own = np.zeros((n, len(OWN)))
    words = [_WORD.findall(t) for t in lines]
    chars = np.array([len(t) for t in lines], dtype=float)
    nwords = np.array([len(w) for w in words], dtype=float)
    log_chars = np.log1p(chars)
    median = float(np.median(log_chars))
    col = {name: i for i, name in enumerate(OWN)}
    own[:, col["log_chars"]] = log_chars
    own[:, col["log_words"]] = np.log1p(nwords)
    for i, t in enumerate(lines):
        s = t.rstrip()
        terminal = bool(_TERMINAL.search(s))
        colon = bool(_COLON_END.search(s))
        other = bool(_OTHER_END.search(s))
        own[i, col["terminal"]] = terminal
        own[i, col["colon_end"]] = colon
        own[i, col["other_end"]] = other
        own[i, col["no_end"]] = not (terminal or colon or other)
        own[i, col["question_end"]] = bool(_QUESTION_END.search(s))
        own[i, col["sentences_inside"]] = min(len(_SENTENCE_INSIDE.findall(s)), 5)
        own[i, col["bullet"]] = bool(_BULLET.match(s))
        own[i, col["numbered"]] = bool(_NUMBERED.match(s))
        own[i, col["step"]] = bool(_STEP.match(s))
        own[i, col["first_upper"]] = s[:1].isupper()
        own[i, col["title_share"]] = _title_share(words[i])
        letters = [c for c in s if c.isalpha()]
        own[i, col["all_caps"]] = len(letters) >= 3 and all(c.isupper() for c in letters if c.lower() != c.upper())
        own[i, col["digit_share"]] = len(_DIGIT.findall(s)) / max(len(s), 1)
        own[i, col["comma_rate"]] = s.count(",") / max(len(words[i]), 1)
        own[i, col["key_value"]] = bool(_KEY_VALUE.match(s))
        own[i, col["urlish"]] = bool(_URLISH.search(s))
        own[i, col["avg_word_len"]] = (sum(map(len, words[i])) / len(words[i])) if words[i] else 0.0
        own[i, col["starts_quote"]] = s[:1] in "\"“„«'‘"
    own[:, col["position"]] = np.arange(n) / max(n - 1, 1)
    own[0, col["first"]] = 1.0
    own[-1, col["last"]] = 1.0
    own[:, col["rel_len"]] = log_chars - median
    cols = [own]
    pick = [OWN.index(f) for f in NEIGHBOUR]
    sel = own[:, pick]
    cols.extend(shifted(sel, o, -1.0) for o in OFFSETS)  # neighbours' features, -1 off the page
    page = np.zeros((n, len(PAGE)))
    pc = {name: i for i, name in enumerate(PAGE)}
    page[:, pc["page_log_lines"]] = math.log1p(n)
    page[:, pc["page_median_log_chars"]] = median
    # runs of short lines without an ending (menus, lists, sub-headings in a row)
    short = (chars <= 100) & (own[:, col["terminal"]] == 0)
    run_id = np.cumsum(np.concatenate([[1], (short[1:] != short[:-1]).astype(int)]))
    sizes = np.bincount(run_id)
    starts = {}
    for i, r in enumerate(run_id):
        starts.setdefault(r, i)
    run_len = sizes[run_id].astype(float)
    page[:, pc["short_run"]] = np.where(short, np.log1p(run_len), 0.0)
    page[:, pc["short_run_pos"]] = [((i - starts[r]) / max(sizes[r] - 1, 1)) if short[i] else -1.0
                                   for i, r in enumerate(run_id)]
    first_words = [w[0].lower() if w else "" for w in words]
    same = np.zeros(n)
    for i in range(n):
        same[i] = (first_words[i] != "" and ((i > 0 and first_words[i - 1] == first_words[i])
                                             or (i + 1 < n and first_words[i + 1] == first_words[i])))
    page[:, pc["same_start_run"]] = same
    prev_lc = np.concatenate([[-1.0], log_chars[:-1]])
    next_lc = np.concatenate([log_chars[1:], [-1.0]])
    page[:, pc["len_sim_prev"]] = np.where(prev_lc >= 0, -np.abs(log_chars - prev_lc), -5.0)
    page[:, pc["len_sim_next"]] = np.where(next_lc >= 0, -np.abs(log_chars - next_lc), -5.0)
    page[:, pc["prev_short_next_long"]] = (next_lc - log_chars) * (next_lc >= 0)
    page[:, pc["bullet_share"]] = float(own[:, col["bullet"]].mean())
    page[:, pc["numbered_share"]] = float(own[:, col["numbered"]].mean())
    g = np.asarray(groups if groups is not None else range(n))
    page[1:, pc["glued_prev"]] = g[1:] == g[:-1]
    page[:-1, pc["glued_next"]] = g[:-1] == g[1:]
    page[:, pc["line_log_pieces"]] = np.log(np.bincount(g - g.min())[g - g.min()])
    open_end = (own[:, col["terminal"]] == 0) & (own[:, col["colon_end"]] == 0)
    ends_lower = np.array([bool(t.split()) and t.split()[-1][:1].islower() for t in lines])
    page[1:, pc["prev_open"]] = (open_end & ends_lower)[:-1]
    cols.append(page)
    return stable(np.hstack(cols))


@lru_cache(maxsize=4)
def load_model(path: str | None = None) -> dict | None:
    """The line class model at ``path`` (default: the shipped one), or None when there is none:
    ``{"booster": pipeline.lgbm.Booster, "tau": {"heading": t, "list_item": t}, ...}``."""
    model_path = Path(path) if path else MODEL_PATH
    if not model_path.is_file():
        return None
    meta = json.loads(model_path.read_text(encoding="utf-8"))
    if tuple(meta.get("features", ())) != FEATURE_NAMES:
        raise ValueError(f"{model_path}: the model's features differ from pipeline.line_class' "
                         "(retrain: make train-class)")
    from .lgbm import Booster

    meta["booster"] = Booster(meta["lightgbm"])
    return meta


def class_probabilities(lines: list[str], model: dict, groups: list[int] | None = None) -> np.ndarray:
    """``len(lines) x 3`` probabilities (``CLASS_NAMES`` order), rounded (``stable``)."""
    if not lines:
        return np.zeros((0, len(CLASS_NAMES)))
    X = line_features(lines, groups)
    return stable(np.asarray(model["booster"].predict(X, num_threads=1)).reshape(len(lines), len(CLASS_NAMES)))


def decide(probs: np.ndarray, tau: dict[str, float]) -> list[str]:
    """Class name per line: heading or list item when its probability passes its threshold
    (the larger margin wins when both do), else paragraph."""
    out = []
    th, tl = tau["heading"], tau["list_item"]
    for p_par, p_head, p_item in probs:
        head, item = p_head >= th, p_item >= tl
        if head and item:
            out.append("heading" if p_head - th >= p_item - tl else "list_item")
        elif head:
            out.append("heading")
        elif item:
            out.append("list_item")
        else:
            out.append("paragraph")
    return out


_AS_CLASS = {"heading": LineClass(f"h{HEADING_LEVEL}"), "list_item": LineClass(LIST_ITEM, depth=1),
             "paragraph": PLAIN}


def classify_pieces(pieces: list[str], groups: list[int] | None = None, model_path: str | None = None
                    ) -> list[LineClass]:
    """The line class of every piece of a text document (``groups``: the kept line of each;
    paragraphs without a model)."""
    model = load_model(model_path)
    if model is None or not pieces:
        return [PLAIN] * len(pieces)
    names = decide(class_probabilities(pieces, model, groups), model["tau"])
    return [_AS_CLASS[name] for name in names]
