"""Bytes to text: BOMs, UTF-16 without BOM, declared HTML charsets, then detection.

Rejections raise ``InputError`` with a short machine reason (``empty``, ``binary``,
``unsupported_format``, ``undecodable``) and one human line.

``replace_unencodable`` decides, once, what happens to code points UTF-8 cannot encode (lone
surrogates, e.g. from JSON ``"\\ud800"`` or a file name that is not UTF-8): every reader, and
``clean_document`` before anything else, passes every string of a Document through it
(``make_document_encodable``), and the writers through ``encodable`` again, so nothing
downstream ever sees one.
"""
from __future__ import annotations

import codecs
import re
from collections import Counter
from dataclasses import replace
from typing import Any

from .document import Document



_SURROGATES = re.compile("[\ud800-\udbff][\udc00-\udfff]|[\ud800-\udfff]")
UNENCODABLE_STAT = "unencodable_chars"  # the record's ``stats`` key that counts them


def replace_unencodable(text: str) -> tuple[str, int]:
    """``text`` made encodable as UTF-8, and how many code points had to change.

    A lone surrogate becomes U+FFFD; a high surrogate followed by a low one (UTF-16 code units
    left unjoined) becomes the character they spell. Surrogates are the only code points of a
    Python ``str`` that UTF-8 cannot encode. Text that encodes is returned as it is (fast).
    """
    if text.isascii():
        return text, 0
    try:
        text.encode("utf-8")
        return text, 0
    except UnicodeEncodeError:
        pass
    changed = 0

    def fix(m: re.Match) -> str:
        nonlocal changed
        pair = m.group()
        changed += len(pair)
        if len(pair) == 2:
            return chr(0x10000 + ((ord(pair[0]) - 0xD800) << 10) + (ord(pair[1]) - 0xDC00))
        return "\ufffd"

    return _SURROGATES.sub(fix, text), changed


def encodable(value: Any) -> tuple[Any, int]:
    """``replace_unencodable`` through strings, dict keys and values, lists and tuples (a record);
    returns the value (the same object when nothing changed) and the count."""
    if isinstance(value, str):
        return replace_unencodable(value)
    if isinstance(value, dict):
        total, out = 0, {}
        for k, v in value.items():
            k, n = encodable(k)
            v, m = encodable(v)
            out[k] = v
            total += n + m
        return (out, total) if total else (value, 0)
    if isinstance(value, (list, tuple)):
        total, items = 0, []
        for v in value:
            v, n = encodable(v)
            items.append(v)
            total += n
        return ((tuple(items) if isinstance(value, tuple) else items), total) if total else (value, 0)
    return value, 0


_DOC_STRINGS = ("id", "source", "kind", "raw", "url", "title", "text", "lang", "error", "detail", "skipped")


def make_document_encodable(doc: Document) -> Document:
    """Every string of ``doc`` through ``replace_unencodable`` (in place); the count is added to
    ``doc.stats["unencodable_chars"]`` (the record's ``stats``). Returns ``doc``."""
    total = 0
    for name in _DOC_STRINGS:
        value = getattr(doc, name)
        if isinstance(value, str):
            fixed, n = replace_unencodable(value)
            if n:
                setattr(doc, name, fixed)
                total += n
    for name in ("metadata", "capped"):
        fixed, n = encodable(getattr(doc, name))
        if n:
            setattr(doc, name, fixed)
            total += n
    for i, d in enumerate(doc.decisions):  # made from ``raw``, clean by then; checked all the same
        (text, reason, rule), n = encodable((d.text, d.reason, d.rule))
        if n:
            doc.decisions[i] = replace(d, text=text, reason=reason, rule=rule)
            total += n
    if total:
        doc.stats[UNENCODABLE_STAT] = doc.stats.get(UNENCODABLE_STAT, 0) + total
    return doc


class InputError(ValueError):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


# Formats we do not read, by their magic bytes.
_MAGIC = {
    b"%PDF": "PDF document",
    b"PK\x03\x04": "ZIP archive (docx/xlsx/epub?)",
    b"\x89PNG": "PNG image",
    b"GIF8": "GIF image",
    b"\xff\xd8\xff": "JPEG image",
    b"\x7fELF": "ELF executable",
    b"\x1f\x8b": "gzip data without a .gz name",
    b"BZh": "bzip2 data",
    b"\xfd7zXZ": "xz data",
    b"7z\xbc\xaf": "7z archive",
    b"Rar!": "RAR archive",
    b"OggS": "Ogg media",
    b"ID3": "MP3 audio",
    b"\x00\x00\x00\x18ftyp": "MP4 video",
    b"\x00\x00\x00\x20ftyp": "MP4 video",
    b"\xd0\xcf\x11\xe0": "MS Office document",
    b"RIFF": "RIFF media",
}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]{2,40})""", re.I)
_CONTROL_BYTES = bytes(set(range(32)) - {9, 10, 12, 13})
_HIGH_LETTERS = bytes(range(0xC0, 0x100))
_ASCII_LETTERS = bytes(range(0x41, 0x5B)) + bytes(range(0x61, 0x7B))


def _high_bytes(column: bytes) -> bool:
    """Looks like UTF-16 high bytes: many NULs (Latin text), or NUL plus one script's block
    (Cyrillic is 0x04, Greek 0x03, Arabic 0x06) making up nearly all of them."""
    if column.count(0) / len(column) > 0.3:
        return True
    top = Counter(column).most_common(2)
    return any(value == 0 for value, _ in top) and sum(n for _, n in top) / len(column) > 0.9


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    even_nul, odd_nul = even.count(0) / len(even), odd.count(0) / len(odd)
    if _high_bytes(odd) and even_nul < 0.05:
        return "utf-16-le"
    if _high_bytes(even) and odd_nul < 0.05:
        return "utf-16-be"
    return None


def declared_charset(data: bytes) -> str | None:
    """The ``<meta charset>`` of an HTML page, if it names a codec Python knows."""
    m = _META_CHARSET.search(data[:8192])
    if not m:
        return None
    name = m.group(1).decode("ascii", "ignore")
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _refuse_non_text(data: bytes) -> None:
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            raise InputError("unsupported_format", f"not text: {what}")


def _refuse_binary(data: bytes) -> None:
    sample = data[:65536]
    control = sum(sample.count(b) for b in _CONTROL_BYTES)
    if control / len(sample) > 0.05:
        raise InputError("binary", f"binary data: {control} control bytes in the first {len(sample)}")


def stream_encoding(head: bytes, *, complete: bool) -> str:
    """The encoding of a stream read piece by piece (a JSONL file), from its first bytes.

    The same decisions as ``decode_bytes`` (BOM, UTF-16 without BOM, UTF-8, detection), but
    ``head`` may end inside a character unless ``complete`` (it is the whole stream).
    Raises InputError (``empty`` only when ``complete``).
    """
    if not head.strip():
        if complete:
            raise InputError("empty", "empty or whitespace-only input")
        return "utf-8"
    _refuse_non_text(head)
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    wide = _utf16_without_bom(head)
    if wide:
        return wide
    _refuse_binary(head)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    encoding = _detect(head[:200_000])
    if encoding is None:
        raise InputError("undecodable", "no text encoding fits these bytes")
    return encoding


def decode_bytes(data: bytes, *, html: bool = False) -> tuple[str, str]:
    """Decode ``data``; returns (text, encoding name). Raises InputError."""
    if not data.strip():
        raise InputError("empty", "empty or whitespace-only input")
    _refuse_non_text(data)
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(name)
            except UnicodeDecodeError as exc:
                raise InputError("undecodable", f"bad {name} after its BOM: {exc}") from None
            return text.lstrip("\ufeff"), name
    wide = _utf16_without_bom(data)
    if wide:
        try:
            return data.decode(wide), wide
        except UnicodeDecodeError:
            pass
    _refuse_binary(data)
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if html:
        declared = declared_charset(data)
        if declared and declared not in ("utf-8", "utf-16", "utf-32"):
            try:
                return data.decode(declared), declared
            except UnicodeDecodeError:
                pass
    encoding = _detect(data[:200_000])
    if encoding is None:
        raise InputError("undecodable", "no text encoding fits these bytes")
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError:
        # The sample fitted, the rest does not: keep what decodes, mark the damage.
        return data.decode(encoding, errors="replace"), encoding


def _detect(sample: bytes) -> str | None:
    """charset_normalizer's guess; among equally good guesses the common Windows code page wins.

    It often cannot tell cp1250 from cp1252 (latin-1 French ``crème`` → ``crčme``) and, for
    short input, guesses anything (``Café`` as UTF-16, ``Привет`` as cp1125). Cyrillic text
    has nearly all its letters at bytes >= 0xC0, Western text few: that share picks between
    cp1251 and cp1252.
    """
    from charset_normalizer import from_bytes  # here: writers import this module for its first half

    matches = from_bytes(sample)
    best = matches.best()
    if best is None or best.encoding is None:
        return None
    # Near-equal guesses, each with the code pages that decode these bytes to the same text
    # (latin-1 German comes back as cp1250 alone: ä, ö, ü, ß sit at the same bytes). Language
    # coherence on a short sample is noisy (latin-1 Italian: cp1258 0.522, cp1252 0.500).
    tied = {name for m in matches if m.chaos <= best.chaos + 0.01 and m.coherence >= best.coherence - 0.05
            for name in (m.encoding, *m.could_be_from_charset)}
    high = len(sample) - len(sample.translate(None, _HIGH_LETTERS))
    letters = high + len(sample) - len(sample.translate(None, _ASCII_LETTERS))
    preferred = ("cp1251", "cp1252") if letters and high / letters > 0.5 else ("cp1252", "cp1251")
    if best.coherence > 0:
        preferred = tuple(name for name in preferred if name in tied)
    # else: no language evidence at all (short input); every guess is as good as the next.
    for name in preferred:
        try:
            sample.decode(name)
        except UnicodeDecodeError:
            continue
        return name
    return best.encoding
