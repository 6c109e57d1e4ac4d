"""Language identification: langdetect's model (``langid``, vectorised) on a bounded sample of the clean text."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .langid import detector

_LETTER = re.compile(r"[^\W\d_]")
# An e-mail match starts only where a token starts: ``\S+@`` tried at every position of a
# long run without spaces is quadratic (minutes for one 100 kB token).
_URLISH = re.compile(r"https?://\S+|www\.\S+|(?<!\S)[^\s@]+@\S+\.\w+")
# langdetect's codes that are not ISO 639-1.
_ISO = {"zh-cn": "zh", "zh-tw": "zh"}


def language_sample(text: str, limit: int) -> str:
    """Up to ``limit`` chars, taken from the start, middle and end so one odd paragraph cannot decide."""
    if len(text) > limit:  # cut first: the cost must not grow with the text
        third = limit // 3
        mid = len(text) // 2
        text = " ".join((text[:third], text[mid - third // 2 : mid + third // 2], text[-third:]))
    return _URLISH.sub(" ", text)


def detect_language(text: str, *, sample_chars: int = 2000, min_letters: int = 20,
                    min_score: float = 0.6, seed: int = 0) -> tuple[str, float]:
    """(ISO 639-1 code, probability), or ("und", score) when too short or unsure. Deterministic."""
    sample = language_sample(text, sample_chars)
    if not _enough_letters(min_letters)(sample, 0, len(sample)):
        return "und", 0.0
    # seeded per call: the same answer in every process, no global state
    by_code: dict[str, float] = {}
    for lang, prob in detector().probabilities(sample, seed).items():
        code = _ISO.get(lang, lang)  # zh-cn and zh-tw are one language here: add them up
        by_code[code] = by_code.get(code, 0.0) + prob
    if not by_code:
        return "und", 0.0
    lang = max(by_code, key=lambda c: (by_code[c], c))
    score = round(min(by_code[lang], 1.0), 4)
    if score < min_score:
        return "und", score
    return lang, score


@dataclass(frozen=True)
class LanguageMix:
    """The languages of one document: the main one, each one's share of characters, and the
    language of every paragraph (in order; ``und`` where the document was too short to tell)."""

    lang: str
    score: float
    langs: tuple[tuple[str, float], ...]  # (code, share of characters), largest share first
    paragraphs: tuple[str, ...]

    def shares(self) -> list[dict[str, float | str]]:
        """``langs`` as the record field: ``[{"lang": "de", "share": 0.52}, …]``."""
        return [{"lang": code, "share": share} for code, share in self.langs]


@lru_cache(maxsize=8)
def _enough_letters(n: int):
    """``search(text, 0, end)``: whether ``text[:end]`` holds ``n`` letters (stops at the n-th)."""
    return re.compile(r"(?:[^\W\d_][\W\d_]*){%d}" % n).search


def _groups(sizes: list[int], n_groups: int) -> list[list[int]]:
    """Indices 0..len(sizes)-1 cut into at most ``n_groups`` consecutive runs of similar total size."""
    if len(sizes) <= n_groups:
        return [[i] for i in range(len(sizes))]
    total = sum(sizes)
    out: list[list[int]] = [[]]
    done = 0
    for i, size in enumerate(sizes):
        # start a new run when this one has its share and runs are left for the rest
        if out[-1] and done >= total * len(out) / n_groups and len(out) < n_groups:
            out.append([])
        out[-1].append(i)
        done += size
    return out


def _unit_sample(parts: list[str], limit: int) -> str:
    """Up to ``limit`` chars of a run of paragraphs: an equal slice from the start of each."""
    each = max(limit // len(parts), 60)
    return " ".join(p[:each] for p in parts)[:limit]


def detect_languages(paragraphs: list[str], *, sample_chars: int = 1000, min_letters: int = 20,
                     min_score: float = 0.6, seed: int = 0, min_chars: int = 400,
                     max_units: int = 16, unit_chars: int = 250, min_margin: float = 12.0,
                     max_detects: int = 3) -> LanguageMix:
    """Main language, language shares and per-paragraph languages of ``paragraphs``, at bounded cost.

    A document of at least ``min_chars`` characters and two paragraphs with ``min_letters``
    letters is tagged per paragraph (Dolma's way: tag paragraphs, score the document by
    share): at most ``max_units`` paragraphs — or consecutive runs of them, when there are more
    — are scored on ``unit_chars`` characters each by langdetect's naive Bayes without its
    random trials (one matrix product for all of them, ``langid.log_likelihoods``). A paragraph
    leaves the document's dominant language only when its log-likelihood is ``min_margin``
    above it (close languages — no/da, es/ca — do not split a monolingual document);
    paragraphs too short to tell take their neighbour's language. When more than one language
    remains, seeded langdetect confirms (and names) each of the ``max_detects`` largest on a
    sample of its own paragraphs; otherwise it runs once on the whole text, as
    ``detect_language`` does. Where the language changes inside a run of paragraphs, those
    paragraphs are scored one by one (at most ``max_units`` more). So any document costs at
    most ``2 * max_units`` naive-Bayes scorings of ``unit_chars`` characters and ``max_detects``
    detector runs.
    """
    def whole() -> LanguageMix:
        lang, score = detect_language(text, sample_chars=sample_chars, min_letters=min_letters,
                                      min_score=min_score, seed=seed)
        return LanguageMix(lang, score, ((lang, 1.0),) if text else (), (lang,) * len(paragraphs))

    text = "\n\n".join(paragraphs)
    if len(text) < min_chars or len(paragraphs) < 2:
        return whole()
    enough = _enough_letters(min_letters)
    scored = [i for i, p in enumerate(paragraphs) if enough(p, 0, unit_chars)]
    if len(scored) < 2:
        return whole()
    runs = _groups([len(paragraphs[i]) for i in scored], max_units)
    samples = [_unit_sample([paragraphs[scored[k]] for k in run], unit_chars) for run in runs]
    det = detector()
    loglik, counts = det.log_likelihoods(samples)
    codes = [_ISO.get(c, c) for c in det.prof.langs]
    best = loglik.argmax(axis=1)
    weight = np.array([sum(len(paragraphs[scored[k]]) for k in run) for run in runs], dtype=np.float64)
    has_ngrams = counts > 0
    by_lang = np.bincount(best[has_ngrams], weights=weight[has_ngrams], minlength=len(codes))
    dominant = int(by_lang.argmax())
    # Long runs first: their own best language, unless it beats the dominant one by less
    # than ``min_margin``. Then short runs (fewer than ``unit_chars // 4`` characters: a
    # byline, a caption, a list item) choose among the languages of the long runs around them
    # and the dominant one, unless their own best beats those by twice the margin.
    choice = [-1] * len(runs)
    short = [weight[r] < unit_chars // 4 for r in range(len(runs))]
    for r in range(len(runs)):
        if has_ngrams[r] and not short[r]:
            k = int(best[r])
            if k != dominant and codes[k] != codes[dominant] and loglik[r, k] - loglik[r, dominant] < min_margin:
                k = dominant
            choice[r] = k
    for r in range(len(runs)):
        if not has_ngrams[r] or not short[r]:
            continue
        before = next((choice[q] for q in range(r - 1, -1, -1) if choice[q] >= 0 and not short[q]), -1)
        after = next((choice[q] for q in range(r + 1, len(runs)) if choice[q] >= 0 and not short[q]), -1)
        near = {k for k in (before, after, dominant) if k >= 0}
        k_near = max(near, key=lambda k: loglik[r, k])
        k = int(best[r])
        choice[r] = k if loglik[r, k] - loglik[r, k_near] >= 2 * min_margin else k_near
    labels: list[str | None] = [None] * len(paragraphs)
    for r, run in enumerate(runs):
        if choice[r] >= 0:
            for j in run:
                labels[scored[j]] = codes[choice[r]]
    # Runs of several paragraphs where the language changes (their neighbours disagree with
    # them): their paragraphs are scored one by one (at most ``max_units`` more), each taking
    # the best of the languages around it.
    near_change = [r for r, run in enumerate(runs) if len(run) > 1 and choice[r] >= 0 and any(
        0 <= q < len(runs) and choice[q] >= 0 and choice[q] != choice[r] for q in (r - 1, r + 1))]
    singles = [(r, j) for r in near_change for j in runs[r]][:max_units]
    if singles:
        ll2, n2 = det.log_likelihoods([paragraphs[scored[j]][:unit_chars] for _, j in singles])
        for (r, j), row, n in zip(singles, ll2, n2):
            if n:
                options = {choice[q] for q in (r - 1, r, r + 1) if 0 <= q < len(runs) and choice[q] >= 0}
                labels[scored[j]] = codes[max(options, key=lambda k: row[k])]
    # paragraphs not scored take the language before them, else the one after them
    last = next((l for l in labels if l is not None), None)
    if last is None:
        return whole()
    filled: list[str] = []
    for l in labels:
        last = l if l is not None else last
        filled.append(last)
    if len(set(filled)) == 1:
        return whole()
    chars: dict[str, int] = {}
    for p, l in zip(paragraphs, filled):
        chars[l] = chars.get(l, 0) + len(p)
    order = sorted(chars, key=lambda c: (-chars[c], c))
    confirmed: dict[str, tuple[str, float]] = {}
    for code in order[:max_detects]:
        own = "\n\n".join(p for p, l in zip(paragraphs, filled) if l == code)
        got, score = detect_language(own, sample_chars=sample_chars, min_letters=min_letters,
                                     min_score=min_score, seed=seed)
        confirmed[code] = (got if got != "und" else code, score)
    final = tuple(confirmed.get(l, (l, 0.0))[0] for l in filled)
    chars = {}
    for p, l in zip(paragraphs, final):
        chars[l] = chars.get(l, 0) + len(p)
    total = sum(chars.values()) or 1
    langs = tuple(sorted(((c, round(n / total, 4)) for c, n in chars.items()), key=lambda x: (-x[1], x[0])))
    main = langs[0][0]
    score = max((s for c, (got, s) in confirmed.items() if got == main), default=0.0)
    lang = main if score >= min_score else "und"
    return LanguageMix(lang, score, langs, final)


def known_languages() -> frozenset[str]:
    """The codes ``lang`` can take (langdetect's languages, ``zh`` for both Chinese variants)."""
    from langdetect import detector_factory
    import os

    names = (f for f in os.listdir(detector_factory.PROFILES_DIRECTORY) if not f.startswith("."))
    return frozenset(_ISO.get(n, n) for n in names)


def parse_languages(value: str | list[str] | tuple[str, ...]) -> frozenset[str]:
    """``"de,en"`` (or a list of codes) as a set of codes; ValueError naming an unknown code."""
    items = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    codes = frozenset(c.strip().lower() for c in items if c.strip())
    unknown = sorted(codes - known_languages())
    if unknown:
        raise ValueError(f"unknown language code(s) {', '.join(unknown)} (ISO 639-1, e.g. de,en)")
    return codes
