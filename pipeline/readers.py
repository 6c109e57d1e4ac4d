"""iter_documents(path): every document in one input file, bad ones included.

A bad record becomes a rejected Document with a reason, never an exception that
ends the batch. Formats: .txt, .html/.htm, .jsonl, each optionally .gz; other or
missing extensions are sniffed from the content.
"""
from __future__ import annotations

import gzip
import io
import json
import zlib
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from .config import CleanConfig
from .decode import InputError, decode_bytes
from .document import Document

TEXT_EXT = {".txt", ".text", ".md"}
HTML_EXT = {".html", ".htm", ".xhtml", ".shtml"}
JSONL_EXT = {".jsonl", ".ndjson", ".json"}
FORMATS = ("auto", "text", "html", "jsonl")
_KNOWN_FIELDS = {"id", "url", "title", "text", "html"}


def input_format(name: str) -> str:
    """Format named by a file name's extension (``.gz`` looked through), or ``auto``."""
    suffixes = [s.lower() for s in Path(name).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    ext = suffixes[-1] if suffixes else ""
    if ext in TEXT_EXT:
        return "text"
    if ext in HTML_EXT:
        return "html"
    if ext in JSONL_EXT:
        return "jsonl"
    return "auto"


def is_supported(name: str) -> bool:
    """Files that ``iter_documents`` reads as documents rather than rejecting outright."""
    suffixes = [s.lower() for s in Path(name).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    return not suffixes or input_format(name) != "auto"


def sniff_format(data: bytes) -> str:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"{"):
        return "jsonl"
    if head.startswith((b"<!doctype html", b"<html", b"<?xml")) or (
        head.startswith(b"<") and any(t in head for t in (b"<head", b"<body", b"<div", b"<p>", b"<meta"))
    ):
        return "html"
    return "text"


def read_capped(stream: BinaryIO, limit: int) -> tuple[bytes, bool]:
    data = stream.read(limit + 1)
    return data[:limit], len(data) > limit


def read_input(path: Path, limit: int) -> tuple[bytes, bool]:
    """File bytes (gunzipped for ``.gz``), at most ``limit``. Raises OSError or InputError."""
    with open(path, "rb") as raw:
        if path.name.lower().endswith(".gz"):
            try:
                with gzip.GzipFile(fileobj=raw) as gz:
                    return read_capped(gz, limit)
            except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
                raise InputError("bad_gzip", f"truncated or corrupt gzip: {exc}") from None
        return read_capped(raw, limit)


def _doc_from_object(obj: dict[str, Any], doc_id: str, source: str) -> Document:
    meta = {k: v for k, v in obj.items() if k not in _KNOWN_FIELDS}
    own_id = obj.get("id")
    if isinstance(own_id, (str, int)) and not isinstance(own_id, bool) and str(own_id).strip():
        doc_id = str(own_id).strip()
    url = obj.get("url") if isinstance(obj.get("url"), str) else None
    title = obj.get("title") if isinstance(obj.get("title"), str) else None
    doc = Document(id=doc_id, source=source, url=url, title=title, metadata=meta)
    text, html = obj.get("text"), obj.get("html")
    if isinstance(text, str) and text.strip():
        doc.raw, doc.kind = text, "text"
    elif isinstance(html, str) and html.strip():
        doc.raw, doc.kind = html, "html"
    elif "text" in obj and not isinstance(text, str) or "html" in obj and not isinstance(html, str):
        doc.error, doc.detail = "bad_field", "`text`/`html` is not a string"
    else:
        doc.error, doc.detail = "missing_text", "no non-empty `text` or `html` field"
    return doc


def iter_jsonl(text: str, base_id: str, source: str) -> Iterator[Document]:
    for n, line in enumerate(io.StringIO(text)):
        if not line.strip():
            continue
        doc_id = f"{base_id}#{n}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Document(id=doc_id, source=source, error="malformed_json",
                           detail=f"line {n + 1}: {exc.msg} at column {exc.colno}")
            continue
        if not isinstance(obj, dict):
            yield Document(id=doc_id, source=source, error="not_an_object",
                           detail=f"line {n + 1}: a JSON {type(obj).__name__}, not an object")
            continue
        yield _doc_from_object(obj, doc_id, source)


def documents_from_bytes(data: bytes, *, doc_id: str, source: str, fmt: str = "auto",
                         capped: bool = False) -> Iterator[Document]:
    """Documents in one input's bytes; ``fmt`` ``auto`` sniffs the content."""
    if fmt == "auto":
        fmt = sniff_format(data)
    try:
        text, encoding = decode_bytes(data, html=fmt == "html")
    except InputError as exc:
        yield Document(id=doc_id, source=source, error=exc.reason, detail=exc.detail)
        return
    if fmt == "jsonl":
        for doc in iter_jsonl(text, doc_id, source):
            if capped:
                doc.capped.append("input_bytes")
            yield doc
        return
    doc = Document(id=doc_id, source=source, kind="html" if fmt == "html" else "text", raw=text)
    doc.metadata["encoding"] = encoding
    if capped:
        doc.capped.append("input_bytes")
    yield doc


def iter_documents(path: Path | str, *, doc_id: str | None = None, cfg: CleanConfig | None = None,
                   fmt: str = "auto") -> Iterator[Document]:
    """Every document in the file at ``path``; ``doc_id`` defaults to the path as given."""
    cfg = cfg or CleanConfig()
    path = Path(path)
    doc_id = doc_id or path.as_posix()
    source = str(path)
    if fmt == "auto":
        fmt = input_format(path.name)
        if fmt == "auto" and not is_supported(path.name):
            yield Document(id=doc_id, source=source, error="unsupported_format",
                           detail=f"unsupported file type {''.join(path.suffixes)!r}")
            return
    try:
        data, capped = read_input(path, cfg.max_input_bytes)
    except InputError as exc:
        yield Document(id=doc_id, source=source, error=exc.reason, detail=exc.detail)
        return
    yield from documents_from_bytes(data, doc_id=doc_id, source=source, fmt=fmt, capped=capped)
