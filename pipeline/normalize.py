"""Named, small text fixes: each repairs; none restyles.

ftfy repairs mojibake but its quote straightening and width folding would damage
curly quotes and CJK punctuation, so only its repairing fixes are switched on,
and only for text that looks broken (``ftfy.badness.is_bad``) — most text is not.
"""
from __future__ import annotations

import html
import re
import unicodedata

import ftfy
from ftfy.badness import is_bad

_FTFY = ftfy.TextFixerConfig(
    unescape_html=False,  # done below, for every text
    fix_latin_ligatures=False,
    fix_character_width=False,
    uncurl_quotes=False,
    fix_line_breaks=False,  # done below
    normalization=None,
    explain=False,
)

# Dropped: soft hyphen, zero-width space, word joiner, BOM, other invisible format chars.
# Kept: ZWNJ (U+200C) and ZWJ (U+200D) — they carry meaning in Persian, Indic scripts and emoji.
_INVISIBLE = re.compile("[\u00ad\u200b\u2060\ufeff\u180e\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# C0/C1 control characters other than tab and newline.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x9f]")
_STRAY_TAG = re.compile(
    r"</?(?:a|b|i|u|em|strong|span|div|p|br|hr|img|font|small|sup|sub|li|ul|ol|h[1-6]|blockquote|figure|figcaption|script|style|iframe|section|article|header|footer|nav|table|tr|td|th|tbody|thead)\b[^<>]{0,500}>",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_]+")
_TOKEN = re.compile(r"\w+")
_LATIN1_HIGH_WORD = re.compile("[\u00c0-\u00ff]{2,}")
_ENTITY = re.compile(r"&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def _cp1251_read_as_latin1(text: str) -> str:
    """``Ïðèâåò, ìèð!`` (cp1251 bytes read as latin-1/cp1252) → ``Привет, мир!``.

    ftfy only undoes mis-read UTF-8. Here most words consist only of letters U+00C0–U+00FF,
    which no Latin-script language writes but Russian in cp1251 does.
    """
    if not _LATIN1_HIGH_WORD.search(text):  # no two such letters in a row anywhere: not this
        return text
    words = _WORD.findall(text)
    odd = sum(1 for w in words if _LATIN1_HIGH_WORD.fullmatch(w))
    if len(words) < 2 or odd * 2 < len(words):
        return text
    data = bytearray()
    for ch in text:
        try:
            data += ch.encode("cp1252")
        except UnicodeEncodeError:
            if ord(ch) > 0xFF:
                return text
            data.append(ord(ch))
    try:
        return data.decode("cp1251")
    except UnicodeDecodeError:
        return text


# UTF-8 read as latin-1/cp1252 (or cp1251) always leaves a lead byte (Â…ô; Р С в) followed by
# a continuation byte shown as a C1 control, a latin-1 symbol, a cp1252 extra (€ ‚ ƒ „ … † ‡ ˆ ‰
# Š ‹ Œ Ž ‘ ’ “ ” • – — ˜ ™ š › œ ž Ÿ) or a cp1251 one (Ђ Ѓ ѓ Љ Њ Ќ Ћ Џ ђ љ њ ќ ћ џ Ґ ґ №).
# Text without such a pair has none of this mojibake, and ftfy's slower check is skipped.
_UTF8_AS_LEGACY = re.compile(
    "[\u00c2-\u00f4\u0420\u0421\u0432]"
    "[\u0080-\u00bf\u0402-\u040f\u0452-\u045f\u0490\u0491\u0152\u0153\u0160\u0161\u0178"
    "\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030"
    "\u2039\u203a\u20ac\u2116\u2122]"
)


def word_key(line: str) -> str:
    """Lower-cased ``\\w+`` words joined by one space: for "is this the same line?" tests."""
    return " ".join(_TOKEN.findall(line.lower()))


def repair_mojibake(text: str) -> str:
    """Undo double-encoding (``Ã©`` → ``é``, ``â€™`` → ``’``) where the text looks broken."""
    if text.isascii():
        return text
    text = _cp1251_read_as_latin1(text)
    if not _UTF8_AS_LEGACY.search(text) or not is_bad(text):
        return text
    return ftfy.fix_text(text, config=_FTFY)


def unescape_entities(text: str) -> str:
    """``&amp;`` → ``&``, ``&#8217;`` → ``’`` (twice, for double-escaped ``&amp;amp;``)."""
    for _ in range(2):
        if "&" not in text or not _ENTITY.search(text):
            break
        text = html.unescape(text)
    return text


def strip_stray_tags(text: str) -> str:
    """Remove HTML tags left in text (``<b>``, ``</p>``, ``<br/>``); keep ``a < b`` comparisons."""
    if "<" not in text:
        return text
    return _STRAY_TAG.sub(" ", text)


def normalize_text(text: str) -> str:
    """All fixes, in order; returns text with one paragraph per line, no blank lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    text = repair_mojibake(text)
    text = unescape_entities(text)
    text = strip_stray_tags(text)
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub(" ", text)
    text = unicodedata.normalize("NFC", text)
    # one space for each run of horizontal white space (str.split() and re's \s agree on
    # what is white space), lines trimmed, blank lines dropped
    return "\n".join(filter(None, (" ".join(line.split()) for line in text.split("\n"))))


def split_lines(text: str, max_line_chars: int) -> tuple[list[str], bool]:
    """Normalized lines, each cut to ``max_line_chars``; the flag says whether any was cut."""
    lines = normalize_text(text).split("\n") if text else []
    lines = [l for l in lines if l]
    capped = any(len(l) > max_line_chars for l in lines)
    if capped:
        lines = [l[:max_line_chars] for l in lines]
    return lines, capped
