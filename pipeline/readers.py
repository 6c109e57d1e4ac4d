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
import logging
import re
import zlib
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from .config import CleanConfig
from .decode import InputError, decode_bytes, make_document_encodable, stream_encoding
from .document import Document

log = logging.getLogger(__name__)

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
    own_id = _own_id(obj.get("id"))
    doc_id = own_id or doc_id
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


def _own_id(value: Any) -> str | None:
    """A record's ``id`` field as decruft uses it (a non-empty string or an integer), else None."""
    if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
        return str(value).strip()
    return None


def _jsonl_record(line: str, n: int, base_id: str, source: str) -> Document:
    """The Document of line ``n`` (0-based) of a JSONL input."""
    doc_id = f"{base_id}#{n}"
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return Document(id=doc_id, source=source, error="malformed_json",
                        detail=f"line {n + 1}: {exc.msg} at column {exc.colno}")
    if not isinstance(obj, dict):
        return Document(id=doc_id, source=source, error="not_an_object",
                        detail=f"line {n + 1}: a JSON {type(obj).__name__}, not an object")
    return _doc_from_object(obj, doc_id, source)


def iter_jsonl(text: str, base_id: str, source: str) -> Iterator[Document]:
    """The records of JSONL text already in memory (``iter_jsonl_stream`` reads a stream)."""
    for n, line in enumerate(io.StringIO(text)):
        if line.strip():
            yield _jsonl_record(line, n, base_id, source)


_SCAN = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\r\n]*")


def id_from_prefix(prefix: str) -> str | None:
    """The top-level ``id`` of a JSON object of which only ``prefix`` was read, when the
    prefix holds it whole (keys before it parse); None otherwise."""
    i = _SPACE.match(prefix).end()
    if not prefix.startswith("{", i):
        return None
    i += 1
    try:
        while True:
            i = _SPACE.match(prefix, i).end()
            if not prefix.startswith('"', i):
                return None
            key, i = json.decoder.scanstring(prefix, i + 1)
            i = _SPACE.match(prefix, i).end()
            if not prefix.startswith(":", i):
                return None
            i = _SPACE.match(prefix, i + 1).end()
            value, i = _SCAN.raw_decode(prefix, i)
            if key == "id":
                return _own_id(value)
            i = _SPACE.match(prefix, i).end()
            if not prefix.startswith(",", i):
                return None
            i += 1
    except (ValueError, RecursionError):  # the prefix ends inside this value
        return None


def _too_large(n: int, size: int, cap: int, prefix: str, base_id: str, source: str) -> Document:
    return Document(id=id_from_prefix(prefix) or f"{base_id}#{n}", source=source, error="too_large",
                    detail=f"line {n + 1}: a record of {size:,} bytes, over max_record_bytes ({cap:,})")


def _ascii_compatible(encoding: str) -> bool:
    try:
        return "{\n".encode(encoding) == b"{\n" or encoding == "utf-8-sig"
    except (LookupError, UnicodeError):
        return False


def iter_jsonl_stream(stream: BinaryIO, *, base_id: str, source: str, encoding: str,
                      max_record_bytes: int) -> Iterator[Document]:
    """The records of a JSONL stream, read one line at a time: memory stays at one record.

    A line longer than ``max_record_bytes`` is not kept: it is read past and rejected as
    ``too_large`` (id from the part read, when it holds one), and reading goes on with the next.
    ``encoding`` (``decode.stream_encoding``) decides how lines are decoded; a line that is not
    UTF-8 in a UTF-8 stream is decoded on its own, as a whole file of it would be.
    """
    if not _ascii_compatible(encoding):  # UTF-16/32: lines are found by a text reader
        yield from _iter_wide_jsonl(stream, base_id, source, encoding, max_record_bytes)
        return
    utf8 = encoding in ("utf-8", "utf-8-sig")
    n = 0
    while line := stream.readline(max_record_bytes + 1):
        if n == 0 and line.startswith(codecs.BOM_UTF8):
            line = line[len(codecs.BOM_UTF8):]
        if len(line.rstrip(b"\r\n")) > max_record_bytes:
            head, size = line[:65536], len(line)
            while not line.endswith(b"\n") and (line := stream.readline(1 << 20)):
                size += len(line)
            prefix = head.decode("utf-8" if utf8 else encoding, errors="replace")
            yield _too_large(n, size - 1 if line.endswith(b"\n") else size, max_record_bytes, prefix, base_id, source)
        elif line.strip():
            try:
                text = line.decode(encoding) if utf8 else line.decode(encoding, errors="replace")
            except UnicodeDecodeError:  # one line in another encoding: decoded by itself
                try:
                    text = decode_bytes(line)[0]
                except InputError as exc:
                    yield Document(id=f"{base_id}#{n}", source=source, error=exc.reason,
                                   detail=f"line {n + 1}: {exc.detail}")
                    n += 1
                    continue
            yield _jsonl_record(text, n, base_id, source)
        n += 1


def _iter_wide_jsonl(stream: BinaryIO, base_id: str, source: str, encoding: str,
                     max_record_bytes: int) -> Iterator[Document]:
    unit = 4 if "32" in encoding else 2  # bytes per character, at least
    cap = max(1, max_record_bytes // unit)
    text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="\n")
    n = 0
    while line := text.readline(cap + 1):
        if n == 0:
            line = line.lstrip("\ufeff")
        if len(line.rstrip("\r\n")) > cap:
            prefix, size = line[:65536], len(line)
            while not line.endswith("\n") and (line := text.readline(1 << 20)):
                size += len(line)
            yield _too_large(n, size * unit, max_record_bytes, prefix, base_id, source)
        elif line.strip():
            yield _jsonl_record(line, n, base_id, source)
        n += 1


class _Prefixed(io.RawIOBase):
    """``head`` (bytes already read from ``rest``) and then the rest of the stream, as one stream."""

    def __init__(self, head: bytes, rest: BinaryIO):
        self._head, self._rest = memoryview(head), rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


_HEAD_BYTES = 1 << 16
_GZIP_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error)


def _gunzipped_head(head: bytes) -> bytes:
    """The first bytes of gzip data, unpacked as far as ``head`` goes. Raises zlib.error."""
    return zlib.decompressobj(wbits=31).decompress(head, _HEAD_BYTES)


def documents_from_stream(stream: BinaryIO, *, doc_id: str, source: str, fmt: str = "auto",
                          cfg: CleanConfig | None = None, gz_name: bool = False) -> Iterator[Document]:
    """Every document of one input stream (a file, stdin), read as it comes.

    Gzip is recognised by its magic bytes, with or without a ``.gz`` name (``gz_name``: the
    name says gzip, so content that is not is ``bad_gzip``); ``fmt`` ``auto`` sniffs the
    (unpacked) start. One-document inputs (text, HTML) are read up to ``cfg.max_input_bytes``
    (the rest is cut, counted as capped ``input_bytes``). Multi-document inputs are never cut
    as a whole: JSONL is read line by line and a WARC record by record, each record up to
    ``cfg.max_record_bytes`` (a longer one is rejected as ``too_large`` and the next is read).
    Every string of every Document is encodable (``decode.make_document_encodable``).
    """
    cfg = cfg or CleanConfig()
    for doc in _documents_from_stream(stream, doc_id, source, fmt, cfg, gz_name):
        yield make_document_encodable(doc)


def _documents_from_stream(stream: BinaryIO, doc_id: str, source: str, fmt: str, cfg: CleanConfig,
                           gz_name: bool) -> Iterator[Document]:
    head = stream.read(_HEAD_BYTES)
    stream = io.BufferedReader(_Prefixed(head, stream), buffer_size=1 << 16)
    compressed = head[:2] == _GZIP_MAGIC
    if fmt == "warc":  # warcio reads plain and gzipped WARCs itself, record by record
        yield from iter_warc(stream, doc_id=doc_id, source=source, max_bytes=cfg.max_record_bytes)
        return
    plain = head
    if gz_name and not compressed:
        yield Document(id=doc_id, source=source, error="bad_gzip", detail="a .gz name, but not gzip data")
        return
    if compressed:
        try:
            plain = _gunzipped_head(head)
        except zlib.error as exc:
            yield Document(id=doc_id, source=source, error="bad_gzip", detail=f"truncated or corrupt gzip: {exc}")
            return
    if fmt == "auto":
        fmt = sniff_format(plain)
    if fmt == "warc":
        yield from iter_warc(stream, doc_id=doc_id, source=source, max_bytes=cfg.max_record_bytes)
        return
    body: BinaryIO = gzip.GzipFile(fileobj=stream) if compressed else stream
    try:
        if fmt == "jsonl":
            yield from _read_jsonl(body, plain, doc_id, source, cfg, compressed)
            return
        data, capped = read_capped(body, cfg.max_input_bytes)
    except _GZIP_ERRORS as exc:
        yield Document(id=doc_id, source=source, error="bad_gzip", detail=f"truncated or corrupt gzip: {exc}")
        return
    try:
        text, encoding = decode_bytes(data, html=fmt == "html")
    except InputError as exc:
        yield Document(id=doc_id, source=source, error=exc.reason, detail=exc.detail)
        return
    doc = Document(id=doc_id, source=source, kind="html" if fmt == "html" else "text", raw=text)
    doc.metadata["encoding"] = encoding
    if capped:
        doc.capped.append("input_bytes")
    yield doc


def _read_jsonl(body: BinaryIO, head: bytes, doc_id: str, source: str, cfg: CleanConfig,
                compressed: bool) -> Iterator[Document]:
    """JSONL records of ``body``; a gzip stream that breaks off ends in one ``bad_gzip`` reject
    (the records read before it stay)."""
    try:
        encoding = stream_encoding(head, complete=len(head) < _HEAD_BYTES and not compressed)
    except InputError as exc:
        if exc.reason != "empty":
            yield Document(id=doc_id, source=source, error=exc.reason, detail=exc.detail)
            return
        encoding = "utf-8"  # only blank lines, perhaps: a stream of them holds no record
    count = 0
    try:
        for doc in iter_jsonl_stream(body, base_id=doc_id, source=source, encoding=encoding,
                                     max_record_bytes=cfg.max_record_bytes):
            count += 1
            yield doc
    except _GZIP_ERRORS as exc:
        yield Document(id=doc_id, source=source, error="bad_gzip",
                       detail=f"after {count} records: truncated or corrupt gzip: {exc}")
        return
    if count == 0:
        yield Document(id=doc_id, source=source, error="empty", detail="empty or whitespace-only input")


def documents_from_bytes(data: bytes, *, doc_id: str, source: str, fmt: str = "auto",
                         capped: bool = False, max_bytes: int = CleanConfig.max_input_bytes,
                         cfg: CleanConfig | None = None) -> Iterator[Document]:
    """``documents_from_stream`` over bytes in memory; ``capped``: they were cut already."""
    cfg = cfg or CleanConfig(max_input_bytes=max_bytes)
    for doc in documents_from_stream(io.BytesIO(data), doc_id=doc_id, source=source, fmt=fmt, cfg=cfg):
        if capped and "input_bytes" not in doc.capped:
            doc.capped.append("input_bytes")
        yield doc


def iter_documents(path: Path | str, *, doc_id: str | None = None, cfg: CleanConfig | None = None,
                   fmt: str = "auto", source: str | None = None) -> Iterator[Document]:
    """Every document in the file at ``path``; ``doc_id`` defaults to the path as given, ``source``
    (what records name as their origin) too: a local copy of a remote file names the original.

    Read as ``documents_from_stream`` reads stdin (so a file and the same bytes piped give the
    same documents). Every string of every Document is encodable
    (``decode.make_document_encodable``): a lone surrogate (JSON ``"\\ud800"``, a file name that
    is not UTF-8) is U+FFFD, counted in ``stats``.
    """
    path = Path(path)
    doc_id = doc_id or path.as_posix()
    source = source or str(path)
    if fmt == "auto":
        fmt = input_format(path.name)
        if fmt == "auto" and not is_supported(path.name):
            yield make_document_encodable(Document(id=doc_id, source=source, error="unsupported_format",
                                                   detail=f"unsupported file type {''.join(path.suffixes)!r}"))
            return
    with open(path, "rb") as stream:
        yield from documents_from_stream(stream, doc_id=doc_id, source=source, fmt=fmt, cfg=cfg,
                                         gz_name=path.name.lower().endswith(".gz"))


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


class _Notes(list):
    """Collects what warcio would print to stderr (with raw page bytes in it), one short line each."""

    def format(self, offset, line) -> str:  # stands in for ArchiveIterator.INC_RECORD
        self.append(f"a record is not followed by a blank line (its Content-Length is wrong?) at offset {offset}")
        return ""


def _quiet_decompress(reader, notes: _Notes) -> None:
    """Make a warcio reader note a broken compressed stream instead of printing the error."""
    original = reader._decompress

    def _decompress(data):
        if reader.decompressor and data and reader.num_block_read > 0:  # the branch that prints
            try:
                return reader.decompressor.decompress(data)
            except Exception as exc:
                notes.append(f"corrupt compressed data: {type(exc).__name__}: {exc}")
                return b""
        return original(data)

    reader._decompress = _decompress


def _quiet_archive(stream: BinaryIO, notes: _Notes):
    """warcio's ArchiveIterator over ``stream``, with its stderr warnings going to ``notes``."""
    from warcio.archiveiterator import ArchiveIterator

    archive = ArchiveIterator(stream)
    archive.INC_RECORD = notes
    _quiet_decompress(archive.reader, notes)
    return archive


def _content_stream(record, notes: _Notes):
    from warcio.bufferedreaders import BufferedReader

    stream = record.content_stream()
    if isinstance(stream, BufferedReader):
        _quiet_decompress(stream, notes)
    return stream


def iter_warc(stream: BinaryIO, *, doc_id: str, source: str, max_bytes: int) -> Iterator[Document]:
    """Documents of a WARC file (plain or gzip), streamed one record at a time.

    Every HTML ``response`` record with HTTP status 200 is a document: ``url`` is its
    WARC-Target-URI, ``id`` ``<doc_id>#<record uuid>``, ``source`` ``<path>#<WARC-Record-ID>``;
    a body (transfer/content encodings undone) over ``max_bytes`` is rejected as
    ``too_large`` (the next record is read). Every other
    record is a Document with ``skipped`` set (``record_<type>``, ``status_<code>``,
    ``non_html``, ``not_http``). A corrupt or truncated archive ends in one rejected
    Document (``bad_warc``); the records read before it stay. What warcio would print on
    stderr about a damaged archive (raw page bytes included) goes into that reject's detail,
    or, when the archive reads on, into one warning line per record (logger ``pipeline.readers``).
    """
    notes = _Notes()
    n = 0
    try:
        for n, record in enumerate(_quiet_archive(stream, notes), 1):
            if notes:  # about the end of the record before this one
                log.warning("%s: record %d: %s", source, n - 1, "; ".join(dict.fromkeys(notes)))
                notes.clear()
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
                body, over = (read_capped(_content_stream(record, notes), max_bytes)
                              if mime in HTML_MIME or not mime else (b"", False))
                if mime not in HTML_MIME and not (not mime and sniff_format(body) == "html"):
                    doc.skipped = "non_html"
                else:
                    doc.url = (record.rec_headers.get_header("WARC-Target-URI") or "").strip().strip("<>") or None
                    doc.metadata["warc_date"] = record.rec_headers.get_header("WARC-Date")
                    if over:
                        doc.error = "too_large"
                        doc.detail = f"record {n}: a body over max_record_bytes ({max_bytes:,} bytes)"
                    else:
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
                           detail=f"record {n} ({rid or 'no id'}) {problem}{_noted(notes)}")
            return
    except Exception as exc:  # warcio raises many kinds on corrupt input (ArchiveLoadFailed, zlib.error, …)
        yield Document(id=doc_id, source=source, error="bad_warc",
                       detail=f"after {n} records: {type(exc).__name__}: {_one_line(str(exc))[:200]}{_noted(notes)}")
        return
    if notes:
        log.warning("%s: record %d: %s", source, n, "; ".join(dict.fromkeys(notes)))
    if n == 0:
        yield Document(id=doc_id, source=source, error="empty", detail="no WARC records")


def _one_line(text: str) -> str:
    """warcio's error message on one line, without the raw bytes it quotes (``first line: [b'…']``)."""
    text = text.split("first line:")[0].split("Remainder:")[0]
    return " ".join(text.split()).rstrip(",:")


def _noted(notes: _Notes) -> str:
    return f" ({'; '.join(dict.fromkeys(notes))})" if notes else ""
