"""Language identification: langdetect's model (``langid``, vectorised) on a bounded sample of the clean text."""
from __future__ import annotations

import re

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
    if len(_LETTER.findall(sample)) < min_letters:
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
