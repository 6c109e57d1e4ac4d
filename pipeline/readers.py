"""iter_documents(path): every document in one input file, bad ones included.

A bad record becomes a rejected Document with a reason, never an exception that
ends the batch. Formats: .txt, .html/.htm, .jsonl, each optionally .gz, and .warc/.warc.gz web
archives (read with warcio: one document per HTML 200 ``response`` record; other
records become *skipped* Documents, counted but neither cleaned nor rejected); other or
missing extensions are sniffed from the content.
"""
from __future__ import annotations

import codecs
import gzip
import io
import json
import re
import zlib
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from .config import CleanConfig
from .decode import InputError, decode_bytes, make_document_encodable
from .document import Document

TEXT_EXT = {".txt", ".text", ".md"}
HTML_EXT = {".html", ".htm", ".xhtml", ".shtml"}
JSONL_EXT = {".jsonl", ".ndjson", ".json"}
WARC_EXT = {".warc"}
FORMATS = ("auto", "text", "html", "jsonl", "warc")
_KNOWN_FIELDS = {"id", "url", "title", "text", "html"}


def _extension(name: str) -> str:
    """A file name's last extension, lower-cased, ``.gz`` looked through ("" when none)."""
    suffixes = [s.lower() for s in Path(name).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


def input_format(name: str) -> str:
    """Format named by a file name's extension (``.gz`` looked through), or ``auto``."""
    ext = _extension(name)
    if ext in TEXT_EXT:
        return "text"
    if ext in HTML_EXT:
        return "html"
    if ext in JSONL_EXT:
        return "jsonl"
    if ext in WARC_EXT:
        return "warc"
    return "auto"


def is_supported(name: str) -> bool:
    """Files that ``iter_documents`` reads as documents rather than rejecting outright."""
    return _extension(name) == "" or input_format(name) != "auto"


_GZIP_MAGIC = b"\x1f\x8b"


def sniff_format(data: bytes) -> str:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"{"):
        return "jsonl"
    if head.startswith(b"warc/"):
        return "warc"
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
                         capped: bool = False, max_bytes: int = CleanConfig.max_input_bytes) -> Iterator[Document]:
    """Documents in one input's bytes; ``fmt`` ``auto`` sniffs the content.

    Gzip-compressed bytes (stdin has no ``.gz`` name to go by) are unpacked first, to at most
    ``max_bytes``; a compressed WARC is left to warcio, which reads it record by record.
    Every string of every Document is encodable (``decode.make_document_encodable``).
    """
    for doc in _documents_from_bytes(data, doc_id=doc_id, source=source, fmt=fmt, capped=capped, max_bytes=max_bytes):
        yield make_document_encodable(doc)


def _documents_from_bytes(data: bytes, *, doc_id: str, source: str, fmt: str,
                          capped: bool, max_bytes: int) -> Iterator[Document]:
    if data[:2] == _GZIP_MAGIC and fmt != "warc":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as gz:
                head = gz.read(4096)
            if fmt == "auto" and sniff_format(head) == "warc":
                fmt = "warc"
            else:
                with gzip.GzipFile(fileobj=io.BytesIO(data)) as gz:
                    data, over = read_capped(gz, max_bytes)
                capped = capped or over
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            yield Document(id=doc_id, source=source, error="bad_gzip", detail=f"truncated or corrupt gzip: {exc}")
            return
    if fmt == "auto":
        fmt = sniff_format(data)
    if fmt == "warc":
        yield from iter_warc(io.BytesIO(data), doc_id=doc_id, source=source, max_bytes=len(data) + 1)
        return
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
    """Every document in the file at ``path``; ``doc_id`` defaults to the path as given.

    Every string of every Document is encodable (``decode.make_document_encodable``): a lone
    surrogate (JSON ``"\\ud800"``, a file name that is not UTF-8) is U+FFFD, counted in ``stats``.
    """
    for doc in _iter_documents(path, doc_id=doc_id, cfg=cfg or CleanConfig(), fmt=fmt):
        yield make_document_encodable(doc)


def _iter_documents(path: Path | str, *, doc_id: str | None, cfg: CleanConfig, fmt: str) -> Iterator[Document]:
    path = Path(path)
    doc_id = doc_id or path.as_posix()
    source = str(path)
    if fmt == "auto":
        fmt = input_format(path.name)
        if fmt == "auto" and not is_supported(path.name):
            yield Document(id=doc_id, source=source, error="unsupported_format",
                           detail=f"unsupported file type {''.join(path.suffixes)!r}")
            return
    if fmt == "warc":  # streamed record by record; warcio reads .warc.gz itself
        with open(path, "rb") as stream:
            yield from iter_warc(stream, doc_id=doc_id, source=source, max_bytes=cfg.max_input_bytes)
        return
    try:
        data, capped = read_input(path, cfg.max_input_bytes)
    except InputError as exc:
        yield Document(id=doc_id, source=source, error=exc.reason, detail=exc.detail)
        return
    yield from _documents_from_bytes(data, doc_id=doc_id, source=source, fmt=fmt, capped=capped,
                                     max_bytes=cfg.max_input_bytes)


# --------------------------------------------------------------------------------------- WARC

HTML_MIME = {"text/html", "application/xhtml+xml"}
_HTTP_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]{2,40})""", re.I)
_BOM_PREFIXES = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _bare_record_id(record_id: str) -> str:
    """``<urn:uuid:1234-…>`` → ``1234-…`` (other URN forms lose only the brackets)."""
    rid = record_id.strip().strip("<>")
    return rid[len("urn:uuid:"):] if rid.lower().startswith("urn:uuid:") else rid


def _decode_http_body(data: bytes, content_type: str) -> tuple[str, str]:
    """Body bytes → text: a BOM wins, then the HTTP ``charset``, then ``decode_bytes`` (meta, detection)."""
    m = _HTTP_CHARSET.search(content_type)
    if m and data.strip() and not data.startswith(_BOM_PREFIXES):
        try:
            codec = codecs.lookup(m.group(1)).name
            return data.decode(codec), codec
        except (LookupError, UnicodeDecodeError):
            pass
    return decode_bytes(data, html=True)


def _drain(stream: BinaryIO) -> None:
    while stream.read(1 << 16):
        pass


def iter_warc(stream: BinaryIO, *, doc_id: str, source: str, max_bytes: int) -> Iterator[Document]:
    """Documents of a WARC file (plain or gzip), streamed one record at a time.

    Every HTML ``response`` record with HTTP status 200 is a document: ``url`` is its
    WARC-Target-URI, ``id`` ``<doc_id>#<record uuid>``, ``source`` ``<path>#<WARC-Record-ID>``;
    its body (transfer/content encodings undone) is read up to ``max_bytes``. Every other
    record is a Document with ``skipped`` set (``record_<type>``, ``status_<code>``,
    ``non_html``, ``not_http``). A corrupt or truncated archive ends in one rejected
    Document (``bad_warc``); the records read before it stay.
    """
    from warcio.archiveiterator import ArchiveIterator

    n = 0
    try:
        for n, record in enumerate(ArchiveIterator(stream), 1):
            rid = record.rec_headers.get_header("WARC-Record-ID") or ""
            bare = _bare_record_id(rid) or str(n - 1)
            rec_id, rec_source = f"{doc_id}#{bare}", f"{source}#{rid.strip().strip('<>') or n - 1}"
            doc = Document(id=rec_id, source=rec_source, kind="html")
            http = record.http_headers
            if record.rec_type != "response":
                doc.skipped = f"record_{record.rec_type or 'unknown'}"
            elif http is None:
                doc.skipped = "not_http"
            elif http.get_statuscode() != "200":
                doc.skipped = f"status_{http.get_statuscode() or 'unknown'}"
            else:
                content_type = http.get_header("Content-Type") or ""
                mime = content_type.split(";")[0].strip().lower()
                body, capped = read_capped(record.content_stream(), max_bytes) if mime in HTML_MIME or not mime else (b"", False)
                if mime not in HTML_MIME and not (not mime and sniff_format(body) == "html"):
                    doc.skipped = "non_html"
                else:
                    doc.url = (record.rec_headers.get_header("WARC-Target-URI") or "").strip().strip("<>") or None
                    doc.metadata["warc_date"] = record.rec_headers.get_header("WARC-Date")
                    if capped:
                        doc.capped.append("input_bytes")
                    try:
                        doc.raw, doc.metadata["encoding"] = _decode_http_body(body, content_type)
                    except InputError as exc:
                        doc.error, doc.detail = exc.reason, exc.detail
            _drain(record.raw_stream)
            remaining = getattr(record.raw_stream, "limit", 0)
            if record.rec_headers.get_header("Content-Length") is None:  # required: headers cut short
                problem = "has no Content-Length (truncated headers?)"
            elif isinstance(remaining, int) and remaining > 0:
                problem = f"is truncated: {remaining} bytes missing"
            else:
                yield doc
                continue
            yield Document(id=doc_id, source=source, error="bad_warc",
                           detail=f"record {n} ({rid or 'no id'}) {problem}")
            return
    except Exception as exc:  # warcio raises many kinds on corrupt input (ArchiveLoadFailed, zlib.error, …)
        yield Document(id=doc_id, source=source, error="bad_warc",
                       detail=f"after {n} records: {type(exc).__name__}: {str(exc)[:200]}")
        return
    if n == 0:
        yield Document(id=doc_id, source=source, error="empty", detail="no WARC records")
