"""langdetect's detector, vectorised: same profiles, same random draws, same answers, ~5× faster.

langdetect (Nakatani Shuyo's naive Bayes over character 1–3-grams) spends its time in two
pure-Python loops: normalising the text one character at a time, and multiplying the
55-language probability list one n-gram at a time in seven random trials. This module keeps
its algorithm and its parameters and changes only how they are computed:

- characters are normalised with one ``str.translate`` over a table filled lazily by
  langdetect's own ``NGram.normalize``;
- n-grams are cut word by word (langdetect's n-gram window restarts at every space, so a word's
  n-grams depend on the word alone) and cached per word;
- the probabilities live in one float64 matrix (n-gram × language) built from langdetect's
  profile files, and each trial multiplies numpy rows.

The trials draw from ``random.Random(seed)`` in langdetect's order (one ``gauss`` per trial,
then one ``choice`` per update), so for a given seed the result equals langdetect's up to
floating-point rounding; ``tests/test_langid.py`` checks that against langdetect itself.
"""
from __future__ import annotations

import json
import os
import random
import re
import threading
from functools import lru_cache
from itertools import chain

import numpy as np
from langdetect import detector_factory
from langdetect.detector import Detector
from langdetect.utils.ngram import NGram

ALPHA = Detector.ALPHA_DEFAULT
ALPHA_WIDTH = Detector.ALPHA_WIDTH
ITERATION_LIMIT = Detector.ITERATION_LIMIT
PROB_THRESHOLD = Detector.PROB_THRESHOLD
CONV_THRESHOLD = Detector.CONV_THRESHOLD
BASE_FREQ = Detector.BASE_FREQ
N_TRIAL = 7
MAX_TEXT_LENGTH = 10_000
_WORD_CACHE_SIZE = 200_000

_LOCK = threading.Lock()
# langdetect's cleaning_text: "Latin" is 'A'..'z'; "non-Latin" is from U+0300 on, except
# Latin Extended Additional (Vietnamese).
_LATIN = re.compile("[A-z]")
_NON_LATIN = re.compile("[\u0300-\u1dff\u1f00-\U0010ffff]")


class _NormalizeTable(dict):
    """``str.translate`` table: code point → langdetect's normalised character, filled on first use."""

    def __missing__(self, code: int) -> str:
        ch = NGram.normalize(chr(code))
        self[code] = ch
        return ch


class Profiles:
    """langdetect's language profiles as a matrix: ``matrix[index[ngram], k]`` = P(ngram | langs[k])."""

    def __init__(self, directory: str = detector_factory.PROFILES_DIRECTORY) -> None:
        # langdetect numbers languages in directory-listing order; sorted here so every
        # machine gets the same order (only the order of the output changes).
        names = sorted(f for f in os.listdir(directory) if not f.startswith("."))
        profiles = []
        for name in names:
            with open(os.path.join(directory, name), encoding="utf-8") as fh:
                profiles.append(json.load(fh))
        self.langs: tuple[str, ...] = tuple(p["name"] for p in profiles)
        # n-grams numbered in order of first appearance, profile by profile
        grams = [[w for w in p["freq"] if 1 <= len(w) <= 3] for p in profiles]
        index = {w: i for i, w in enumerate(dict.fromkeys(chain.from_iterable(grams)))}
        matrix = np.zeros((len(index), len(profiles)), dtype=np.float64)
        for k, (p, words) in enumerate(zip(profiles, grams)):
            rows = np.fromiter(map(index.__getitem__, words), dtype=np.intp, count=len(words))
            lengths = np.fromiter(map(len, words), dtype=np.intp, count=len(words))
            counts = np.fromiter(map(p["freq"].__getitem__, words), dtype=np.float64, count=len(words))
            # P(gram | lang) = count / number of n-grams of its length (float64, as before)
            matrix[rows, k] = counts / np.asarray(p["n_words"], dtype=np.float64)[lengths - 1]
        self.index = index
        self.matrix = matrix
        self._log: np.ndarray | None = None

    def log_matrix(self) -> np.ndarray:
        """log(P(ngram | lang) + alpha / BASE_FREQ), float32 (19 MB), computed on first use."""
        if self._log is None:
            with _LOCK:
                if self._log is None:
                    self._log = np.log(self.matrix + ALPHA / BASE_FREQ).astype(np.float32)
        return self._log


@lru_cache(maxsize=1)
def profiles() -> Profiles:
    with _LOCK:
        return Profiles()


class NgramDetector:
    """``probabilities(text, seed)`` as langdetect's ``Detector.get_probabilities`` computes it."""

    def __init__(self, prof: Profiles | None = None) -> None:
        self.prof = prof or profiles()
        self._table = _NormalizeTable()
        self._words: dict[str, list[int]] = {}
        self._uniform = np.full(len(self.prof.langs), 1.0 / len(self.prof.langs))

    # ----------------------------------------------------------------- text → n-gram ids
    def prepare(self, text: str) -> str:
        """langdetect's ``append`` + ``cleaning_text`` + per-character ``normalize``."""
        text = Detector.URL_RE.sub(" ", text)
        text = Detector.MAIL_RE.sub(" ", text)
        text = NGram.normalize_vi(text)
        # langdetect also squeezes runs of spaces here; the n-grams are the same without.
        text = text[:MAX_TEXT_LENGTH]
        if len(_LATIN.findall(text)) * 2 < len(_NON_LATIN.findall(text)):
            text = _LATIN.sub("", text)  # a non-Latin text: its Latin letters are noise (URLs, names)
        return text.translate(self._table)

    def prepare_many(self, texts: list[str]) -> list[str]:
        """``prepare`` of each text, the regex passes run once over all of them."""
        joined = "\n".join(t.replace("\n", " ")[:MAX_TEXT_LENGTH] for t in texts)
        joined = Detector.MAIL_RE.sub(" ", Detector.URL_RE.sub(" ", joined))
        parts = NGram.normalize_vi(joined).split("\n")
        if _NON_LATIN.search(joined):
            parts = [_LATIN.sub("", t) if len(_LATIN.findall(t)) * 2 < len(_NON_LATIN.findall(t)) else t
                     for t in parts]
        return [t.translate(self._table) for t in parts]

    def _word_ids(self, padded: str) -> list[int]:
        """Ids of the n-grams langdetect emits for one word, ``padded`` = " " + word [+ " "]."""
        index = self.prof.index
        out: list[int] = []
        for j in range(1, len(padded)):
            ch = padded[j]
            if ch.isupper() and padded[j - 1].isupper():
                continue  # langdetect skips n-grams inside an all-capitals word
            for n in (1, 2, 3):
                if n > j + 1:
                    break
                gram = padded[j - n + 1 : j + 1]
                if gram != " ":
                    k = index.get(gram)
                    if k is not None:
                        out.append(k)
        return out

    def ngram_ids(self, prepared: str) -> list[int]:
        """All n-gram ids of a prepared text, in langdetect's order."""
        words = prepared.split(" ")
        last = words.pop()  # the text's last word has no space after it (often empty)
        cache = self._words
        if len(cache) > _WORD_CACHE_SIZE:
            cache.clear()
        ids: list[int] = []
        for word in words:
            if not word:
                continue
            got = cache.get(word)
            if got is None:
                got = cache[word] = self._word_ids(" " + word + " ")
            ids += got
        if last:
            ids += self._word_ids(" " + last)
        return ids

    # ----------------------------------------------------------------- trials
    def probabilities(self, text: str, seed: int = 0) -> dict[str, float]:
        """Languages with probability above langdetect's 0.1, or {} when the text has no n-gram."""
        ids = self.ngram_ids(self.prepare(text))
        if not ids:
            return {}
        matrix = self.prof.matrix
        rnd = random.Random(seed)
        draw = _draws(rnd, ids)
        width = len(self.prof.langs)
        total = np.zeros(width)
        for _ in range(N_TRIAL):
            alpha = ALPHA + rnd.gauss(0.0, 1.0) * ALPHA_WIDTH
            # langdetect multiplies in one drawn n-gram's row at a time and normalises at
            # i = 0, 5, 10, …; here the rows of each stretch between two normalisations are
            # drawn first, then multiplied in, in the same order, by one reduction down the
            # stacked rows (the same products: a reduction over the first axis runs row by row).
            block = np.empty((6, width))
            block[0] = self._uniform
            block[1] = matrix[draw()] + alpha / BASE_FREQ
            prob = np.multiply.reduce(block[:2], axis=0)
            i = 0
            while True:
                values = prob.tolist()
                norm = sum(values)  # Python's left-to-right sum, as langdetect's
                prob /= norm
                # the largest normalised value is the largest value normalised (division
                # by a positive number is monotonic, also when rounded)
                if (norm and max(values) / norm > CONV_THRESHOLD) or i >= ITERATION_LIMIT:
                    break
                block[0] = prob
                block[1:] = matrix[[draw(), draw(), draw(), draw(), draw()]] + alpha / BASE_FREQ
                prob = np.multiply.reduce(block, axis=0)
                i += 5
            total += prob / N_TRIAL
        return {lang: p for lang, p in zip(self.prof.langs, total.tolist()) if p > PROB_THRESHOLD}

    # ----------------------------------------------------------------- naive Bayes, no trials
    def log_likelihoods(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per text, the summed log P(n-gram | language) over all its n-grams, and its n-gram count.

        The same profiles and smoothing as ``probabilities`` (alpha = langdetect's default), but
        every n-gram counted once instead of sampled in random trials: deterministic, and a few
        array sums (used to tag paragraphs, where the trials would cost a detector run each).
        Returns ``(len(texts), n_langs)`` and ``(len(texts),)`` arrays.
        """
        table = self.prof.log_matrix()
        out = np.zeros((len(texts), table.shape[1]), dtype=np.float64)
        counts = np.zeros(len(texts), dtype=np.int64)
        for i, text in enumerate(self.prepare_many(texts)):
            ids = self.ngram_ids(text)
            if ids:
                counts[i] = len(ids)
                out[i] = table[np.asarray(ids, dtype=np.intp)].sum(axis=0, dtype=np.float64)
        return out, counts


def _fast_draws(rnd: random.Random, items: list[int]):
    """A function returning ``rnd.choice(items)``, without its two Python calls per draw:
    the ``getrandbits`` calls of ``Random._randbelow_with_getrandbits``."""
    n = len(items)
    k = n.bit_length()
    getrandbits = rnd.getrandbits

    def draw() -> int:
        r = getrandbits(k)
        while r >= n:
            r = getrandbits(k)
        return items[r]

    return draw


def _same_as_choice() -> bool:
    """``_fast_draws`` draws what ``Random.choice`` draws (this Python's ``random``)."""
    for n in (1, 2, 3, 5, 7, 64, 100, 999, 1000, 4097):
        items = list(range(n))
        fast, plain = _fast_draws(random.Random(n), items), random.Random(n)
        if [fast() for _ in range(64)] != [plain.choice(items) for _ in range(64)]:
            return False
    return True


_SAME_DRAWS = _same_as_choice()


def _draws(rnd: random.Random, items: list[int]):
    """``rnd.choice(items)`` as a function of no arguments (``_fast_draws`` where it is the same)."""
    return _fast_draws(rnd, items) if _SAME_DRAWS else (lambda: rnd.choice(items))


_DETECTORS = threading.local()


def detector() -> NgramDetector:
    """One detector per thread (its normalisation table and word cache are not shared)."""
    got = getattr(_DETECTORS, "value", None)
    if got is None:
        got = _DETECTORS.value = NgramDetector()
    return got
