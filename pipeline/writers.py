"""Writers: records to JSONL, plain text, Markdown, gzip-compressed JSONL, Parquet, or a folder of
.txt (or .md) files.

``write_record`` writes one record to a text handle the caller owns. ``open_writer(fmt, target)``
returns a ``RecordWriter``: given a path it writes atomically (a temporary sibling renamed into
place on success, removed on error); given an open handle, the caller owns atomicity.
``iter_records`` / ``read_ids`` / ``rewrite_ids`` read back what the writers wrote.
"""
from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import unicodedata
from pathlib import Path
from typing import IO, Any, Iterable, Iterator, TextIO

from .decode import encodable, replace_unencodable

OUTPUT_FORMATS = ("jsonl", "text", "markdown", "jsonl.gz", "parquet", "txt-dir", "md-dir")
PATH_FORMATS = frozenset({"jsonl.gz", "parquet", "txt-dir", "md-dir"})  # written to a named file/folder, not a stream
# Formats of a partition (they keep ids, so partitions can use them). A partition's ``markdown`` is a
# folder of .md files (``md-dir``): ``writer_format`` says which writer writes a partition format.
PARTITION_FORMATS = ("jsonl", "jsonl.gz", "parquet", "txt-dir", "markdown")
FORMAT_SUFFIX = {"jsonl": ".jsonl", "jsonl.gz": ".jsonl.gz", "parquet": ".parquet", "txt-dir": "",
                 "markdown": "", "md-dir": ""}
MARKDOWN_FORMATS = frozenset({"markdown", "md-dir"})  # records must carry ``markdown`` (CleanConfig.markdown)


def writer_format(fmt: str) -> str:
    """The ``open_writer`` format that writes partition format ``fmt`` (``markdown``: ``md-dir``)."""
    return "md-dir" if fmt == "markdown" else fmt


def dumps(record: dict[str, Any]) -> str:
    """One record as one JSON line: UTF-8 as is, stable key order, no trailing spaces.

    Always encodable as UTF-8: a lone surrogate anywhere in the record is U+FFFD in the line
    (``decode.replace_unencodable``; surrogates can only sit inside JSON strings).
    """
    return replace_unencodable(json.dumps(record, ensure_ascii=False, separators=(",", ":")))[0]


# ``text`` output: one document's clean text, then a line holding only U+000C (form feed) before
# the next document. Normalization turns every control character, U+000C included, into white
# space (pipeline/normalize.py), so no paragraph of a clean text can be or contain that line.
DOCUMENT_SEPARATOR = "\f"

# What ``-o NAME`` means without ``--format`` (``format_for_output``), in the order checked.
OUTPUT_NAME_FORMS = (
    (".jsonl.gz", "jsonl.gz"),
    (".jsonl", "jsonl"),
    (".parquet", "parquet"),
    (".txt", "text"),
    (".md", "markdown"),
)
OUTPUT_NAME_HELP = ("NAME.jsonl (jsonl), NAME.jsonl.gz (jsonl.gz), NAME.parquet (parquet), NAME.txt (text), "
                    "NAME.md (markdown), an existing folder or a name ending in / (txt-dir; md-dir with "
                    "--format md-dir)")


def format_of_output_name(name: str) -> str | None:
    """The output format a ``-o`` name asks for: by its ending (case-insensitive), ``txt-dir``
    for an existing folder or a name ending in ``/``; ``None`` when the name says nothing."""
    if name.endswith(("/", os.sep)) or Path(name).is_dir():
        return "txt-dir"
    lower = name.lower()
    for suffix, fmt in OUTPUT_NAME_FORMS:
        if lower.endswith(suffix) and len(lower) > len(suffix):
            return fmt
    return None


def format_for_output(fmt: str | None, output: str | None) -> str:
    """The output format of ``--format fmt -o output`` (either may be ``None``; ``-`` is stdout).

    Without ``fmt`` the name decides (``format_of_output_name``); stdout gets ``jsonl``. A
    name that says nothing, or says another format than ``fmt``, raises ``ValueError``
    with the accepted forms (a folder name suits both folder formats, txt-dir and md-dir).
    """
    to_stdout = output is None or output == "-"
    implied = None if to_stdout else format_of_output_name(output)
    if fmt is None:
        if to_stdout:
            return "jsonl"
        if implied is None:
            raise ValueError(f"cannot tell the output format from -o {output}: use {OUTPUT_NAME_HELP}, "
                             f"or give --format")
        return implied
    if implied == "txt-dir" and fmt == "md-dir":
        return fmt
    if implied is not None and implied != fmt:
        raise ValueError(f"--format {fmt} contradicts -o {output}, which means {implied} "
                         f"({OUTPUT_NAME_HELP})")
    return fmt


def markdown_of(record: dict[str, Any]) -> str:
    """A record's Markdown without its final newline (a record cleaned without ``markdown``: an error)."""
    md = record.get("markdown")
    if md is None:
        raise ValueError(f"record {record.get('id')!r} has no markdown field (clean with CleanConfig(markdown=True))")
    return md.removesuffix("\n")


def write_record(fh: TextIO, record: dict[str, Any], fmt: str = "jsonl", first: bool = True) -> None:
    """One record to ``fh``: a JSON line, or (``text``, ``markdown``) its clean text or its Markdown,
    preceded by the document separator line unless it is the ``first`` document of the output."""
    if fmt == "jsonl":
        fh.write(dumps(record) + "\n")
    elif fmt in ("text", "markdown"):
        body = record["text"] if fmt == "text" else markdown_of(record)
        fh.write(("" if first else DOCUMENT_SEPARATOR + "\n") + replace_unencodable(body)[0] + "\n")
    else:
        raise ValueError(f"unknown output format {fmt!r}; choose from {OUTPUT_FORMATS}")


class UniqueIds:
    """Makes ids unique within one output: a repeat becomes ``id~2``, ``id~3``… never merged."""

    def __init__(self, taken: Iterable[str] = ()):
        self._seen: set[str] = set(taken)

    def claim(self, doc_id: str) -> str:
        if doc_id not in self._seen:
            self._seen.add(doc_id)
            return doc_id
        n = 2
        while f"{doc_id}~{n}" in self._seen:
            n += 1
        unique = f"{doc_id}~{n}"
        self._seen.add(unique)
        return unique


# ------------------------------------------------------------------------------- record writers

class RecordWriter:
    """Writes records one at a time. As a context manager: ``close()`` (commit) on success,
    ``abort()`` (nothing left behind, when the writer owns the target) on an exception."""

    def write(self, record: dict[str, Any]) -> None:
        raise NotImplementedError

    def write_line(self, line: str) -> None:
        """Write a record already serialized by ``dumps`` (JSONL writers copy it as is)."""
        self.write(json.loads(line))

    def close(self) -> None:
        pass

    def abort(self) -> None:
        self.close()

    def __enter__(self) -> "RecordWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _umask() -> int:
    """The process umask, read without changing it where Linux tells it (os.umask sets it)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class _AtomicBinaryFile:
    """A binary file at ``path``: with ``atomic``, written as ``.<name>.*.tmp`` beside it and
    renamed into place by ``commit``; ``discard`` removes what was written."""

    def __init__(self, path: Path, atomic: bool = True):
        self.path = Path(path)
        if atomic:
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
            os.fchmod(fd, 0o666 & ~_umask())  # mkstemp's 0600 would outlive the rename
            self.fh: IO[bytes] = os.fdopen(fd, "wb")
            self.tmp = Path(tmp)
        else:
            self.fh = open(self.path, "wb")
            self.tmp = self.path

    def commit(self) -> None:
        self.fh.close()
        if self.tmp != self.path:
            os.replace(self.tmp, self.path)

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.fh.close()
        with contextlib.suppress(OSError):
            os.unlink(self.tmp)


@contextlib.contextmanager
def atomic_text_file(path: str | os.PathLike) -> Iterator[TextIO]:
    """A UTF-8 text file written under a temporary name beside ``path``, renamed into place
    when the block ends without error (removed otherwise)."""
    target = _AtomicBinaryFile(Path(path))
    fh = io.TextIOWrapper(target.fh, encoding="utf-8", newline="\n")
    try:
        yield fh
        fh.close()
        target.commit()
    except BaseException:
        target.discard()
        raise


class _TextStreamWriter(RecordWriter):
    """JSONL or text to a text handle (caller's) or a path (atomic, UTF-8, ``\\n``)."""

    fmt = "jsonl"

    def __init__(self, target: str | os.PathLike | TextIO, *, atomic: bool = True):
        self._file: _AtomicBinaryFile | None = None
        if isinstance(target, (str, os.PathLike)):
            self._file = _AtomicBinaryFile(Path(target), atomic)
            self.fh: TextIO = io.TextIOWrapper(self._file.fh, encoding="utf-8", newline="\n")
        else:
            self.fh = target

    _written = 0

    def write(self, record: dict[str, Any]) -> None:
        write_record(self.fh, record, self.fmt, first=not self._written)
        self._written += 1

    def write_line(self, line: str) -> None:
        if self.fmt == "jsonl":
            self.fh.write(replace_unencodable(line)[0] + "\n")
        else:
            super().write_line(line)

    def close(self) -> None:
        self.fh.flush()
        if self._file is not None:
            self.fh.close()
            self._file.commit()

    def abort(self) -> None:
        if self._file is not None:
            with contextlib.suppress(Exception):
                self.fh.close()
            self._file.discard()


class JsonlWriter(_TextStreamWriter):
    fmt = "jsonl"


class TextWriter(_TextStreamWriter):
    """Clean text only (the CLI's ``--format text``): paragraphs separated by a blank line,
    documents by a line holding only U+000C (``DOCUMENT_SEPARATOR``), each text ending in a newline."""

    fmt = "text"


class MarkdownWriter(_TextStreamWriter):
    """Markdown only (``--format markdown``): each record's ``markdown``, documents separated as
    in ``text`` by a line holding only U+000C (Markdown never holds that line either)."""

    fmt = "markdown"


class JsonlGzWriter(RecordWriter):
    """JSONL, gzip-compressed (reproducible: no timestamp in the gzip header)."""

    def __init__(self, target: str | os.PathLike | IO[bytes], *, atomic: bool = True):
        self._file: _AtomicBinaryFile | None = None
        if isinstance(target, (str, os.PathLike)):
            self._file = _AtomicBinaryFile(Path(target), atomic)
            target = self._file.fh
        self._gz = gzip.GzipFile(fileobj=target, mode="wb", mtime=0)
        self.fh = io.TextIOWrapper(self._gz, encoding="utf-8", newline="\n")

    def write(self, record: dict[str, Any]) -> None:
        self.write_line(dumps(record))

    def write_line(self, line: str) -> None:
        self.fh.write(replace_unencodable(line)[0] + "\n")

    def close(self) -> None:
        self.fh.flush()
        self._gz.close()  # writes the gzip trailer, leaves the underlying file open
        if self._file is not None:
            self._file.commit()

    def abort(self) -> None:
        if self._file is not None:
            self._file.discard()


# Parquet: one row per document, the JSONL record's fields as columns. ``removed`` is a list of
# structs, ``stats`` and ``version`` are structs (fixed keys: query them as ``stats.chars_out``);
# ``metadata`` is a JSON string because its keys differ from input to input (passed through).
_PARQUET: dict[str, Any] = {}


def parquet_schema():
    """The explicit Arrow schema of Parquet output (pyarrow is imported on first use)."""
    if "schema" not in _PARQUET:
        import pyarrow as pa

        removed = pa.struct([("reason", pa.string()), ("rule", pa.string()), ("text", pa.string()),
                             ("at", pa.int64())])
        stats = pa.struct([(k, pa.int64()) for k in ("chars_in", "chars_out", "lines_in", "lines_kept",
                                                      "lines_removed", "unencodable_chars", "bytes_in")]
                          + [("capped", pa.list_(pa.string()))])
        version = pa.struct([("decruft", pa.string()), ("rules", pa.string()), ("model", pa.string())])
        from .quality import PARTS

        quality_parts = pa.struct([(name, pa.float64()) for name in PARTS])
        langs = pa.struct([("lang", pa.string()), ("share", pa.float64())])
        _PARQUET["schema"] = pa.schema([
            pa.field("id", pa.string(), nullable=False),
            ("source", pa.string()), ("url", pa.string()), ("title", pa.string()),
            ("lang", pa.string()), ("lang_score", pa.float64()),
            ("quality", pa.float64()), ("quality_parts", quality_parts),
            ("langs", pa.list_(langs)), ("text", pa.string()),
            ("markdown", pa.string()),  # null unless cleaned with markdown
            ("removed", pa.list_(removed)), ("stats", stats),
            ("metadata", pa.string()),  # JSON object
            ("version", version),
        ], metadata={b"decruft.metadata": b"json"})
    return _PARQUET["schema"]


def _struct_keys(schema, name: str) -> set[str]:
    typ = schema.field(name).type
    typ = getattr(typ, "value_type", typ)  # list<struct> -> struct
    return {typ.field(i).name for i in range(typ.num_fields)}


def _check_parquet_record(record: dict[str, Any], schema) -> None:
    """A key the schema does not have would be dropped silently by Arrow: fail loudly instead."""
    unknown = set(record) - set(schema.names)
    for name in ("stats", "version", "quality_parts"):
        unknown |= {f"{name}.{k}" for k in (record.get(name) or {})} - {f"{name}.{k}" for k in _struct_keys(schema, name)}
    removed_keys = _struct_keys(schema, "removed")
    for span in record.get("removed") or ():
        unknown |= {f"removed.{k}" for k in span if k not in removed_keys}
    if unknown:
        raise ValueError(f"record fields not in the Parquet schema (pipeline/writers.py): {sorted(unknown)}")


class ParquetWriter(RecordWriter):
    """Parquet with ``parquet_schema()``, streamed in row groups of ``row_group_size`` records
    (or fewer when their text passes ``row_group_chars``), so memory stays bounded."""

    def __init__(self, target: str | os.PathLike | IO[bytes], *, atomic: bool = True,
                 row_group_size: int = 1000, row_group_chars: int = 64_000_000, compression: str = "zstd"):
        import pyarrow.parquet as pq

        self._file: _AtomicBinaryFile | None = None
        if isinstance(target, (str, os.PathLike)):
            self._file = _AtomicBinaryFile(Path(target), atomic)
            target = self._file.fh
        self.schema = parquet_schema()
        # An open file object, never a path: pyarrow must not guess anything from a (temporary) name.
        self._writer = pq.ParquetWriter(target, self.schema, compression=compression)
        self.row_group_size, self.row_group_chars = row_group_size, row_group_chars
        self._rows: list[dict[str, Any]] = []
        self._chars = 0

    def write(self, record: dict[str, Any]) -> None:
        record = encodable(record)[0]  # Arrow cannot encode a lone surrogate either
        _check_parquet_record(record, self.schema)
        row = dict(record)
        row["metadata"] = json.dumps(record.get("metadata") or {}, ensure_ascii=False, default=str)
        self._rows.append(row)
        self._chars += len(record.get("text") or "")
        if len(self._rows) >= self.row_group_size or self._chars >= self.row_group_chars:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            import pyarrow as pa

            self._writer.write_table(pa.Table.from_pylist(self._rows, schema=self.schema))
            self._rows, self._chars = [], 0

    def close(self) -> None:
        self._flush()
        self._writer.close()
        if self._file is not None:
            self._file.commit()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._writer.close()
        if self._file is not None:
            self._file.discard()


# txt-dir: one ``<safe id>.txt`` per document plus ``_index.jsonl`` (file name → id, url, …).
INDEX_NAME = "_index.jsonl"
_UNSAFE_CHARS = re.compile(r'[\x00-\x1f\x7f-\x9f/\\:*?"<>|]')
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def safe_filename(doc_id: str, max_bytes: int = 120) -> str:
    """A file name stem from ``doc_id`` that is safe on Linux, macOS and Windows.

    No path separators, ``..``, control or reserved characters, leading dots or dashes,
    trailing dots or spaces, no Windows device names; at most ``max_bytes`` UTF-8 bytes (a
    shortened name ends with a hash of the whole id, so long ids stay apart). Never empty.
    """
    name = replace_unencodable(doc_id)[0]  # a lone surrogate is U+FFFD, as everywhere
    name = unicodedata.normalize("NFC", name)
    name = "".join("_" if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in name)
    name = _UNSAFE_CHARS.sub("_", name)
    name = re.sub(r"\s+", "_", name)
    name = re.sub(r"\.{2,}", "_", name)
    name = name.strip(" .").lstrip("-") or "_"
    if name.split(".")[0].lower() in _WINDOWS_RESERVED:
        name = "_" + name
    if len(name.encode("utf-8")) > max_bytes:
        digest = hashlib.sha1(doc_id.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        cut = name.encode("utf-8")[: max_bytes - len(digest) - 1].decode("utf-8", "ignore").rstrip(" .")
        name = f"{cut}-{digest}"
    return name


class TxtDirWriter(RecordWriter):
    """A folder of ``<safe id>.txt`` files (the clean text) and ``_index.jsonl`` mapping each
    file to its record's ``id``, ``source``, ``url``, ``title`` and ``lang``. ``MdDirWriter``:
    the same with ``<safe id>.md`` files holding the records' Markdown.

    Name collisions (``a/b`` and ``a_b``; names equal but for case) get ``~2``, ``~3``… in
    write order. With ``atomic``, the folder is built beside the target and swapped in on
    ``close``; an existing target is replaced only if it is empty or an earlier txt-dir output.
    """

    suffix = ".txt"

    def __init__(self, folder: str | os.PathLike, *, atomic: bool = True):
        self.folder = Path(folder)
        self.atomic = atomic
        if atomic:
            self._check_replaceable()
            self.build = Path(tempfile.mkdtemp(dir=self.folder.parent, prefix=f".{self.folder.name}.", suffix=".tmp"))
            os.chmod(self.build, 0o777 & ~_umask())  # mkdtemp's 0700 would outlive the rename
        else:
            self._created = not self.folder.exists()
            self.folder.mkdir(parents=True, exist_ok=True)
            self.build = self.folder
        self._taken: set[str] = {INDEX_NAME.casefold()}
        self._index = open(self.build / INDEX_NAME, "w", encoding="utf-8", newline="\n")

    def _check_replaceable(self) -> None:
        f = self.folder
        if f.exists() and not (f.is_dir() and (not any(f.iterdir()) or (f / INDEX_NAME).is_file())):
            raise FileExistsError(f"{f} exists and is not an empty folder or an earlier txt-dir or md-dir output")

    def _claim(self, doc_id: str) -> str:
        stem = safe_filename(doc_id)
        name, n = f"{stem}{self.suffix}", 2
        while name.casefold() in self._taken:
            name, n = f"{stem}~{n}{self.suffix}", n + 1
        self._taken.add(name.casefold())
        return name

    def write(self, record: dict[str, Any]) -> None:
        record = encodable(record)[0]
        name = self._claim(str(record["id"]))
        target = self.build / name
        if target.parent != self.build or name in (".", ".."):  # safe_filename never allows it
            raise ValueError(f"unsafe file name {name!r} for id {record['id']!r}")
        with open(target, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(self.body(record) + "\n")
        entry = {"file": name, **{k: record.get(k) for k in ("id", "source", "url", "title", "lang")}}
        self._index.write(dumps(entry) + "\n")

    def body(self, record: dict[str, Any]) -> str:
        return record.get("text", "")

    def close(self) -> None:
        self._index.close()
        if not self.atomic:
            return
        self._check_replaceable()
        old = None
        if self.folder.exists():
            old = Path(tempfile.mkdtemp(dir=self.folder.parent, prefix=f".{self.folder.name}.", suffix=".old"))
            os.replace(self.folder, old / "d")
        os.replace(self.build, self.folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self._index.close()
        if self.atomic or self._created:  # remove only a folder this writer made
            shutil.rmtree(self.build, ignore_errors=True)


class MdDirWriter(TxtDirWriter):
    """A folder of ``<safe id>.md`` files (each record's ``markdown``) and ``_index.jsonl``."""

    suffix = ".md"

    def body(self, record: dict[str, Any]) -> str:
        return markdown_of(record)


def open_writer(fmt: str, target: str | os.PathLike | IO, *, atomic: bool = True) -> RecordWriter:
    """A writer for ``fmt`` (one of ``OUTPUT_FORMATS``) to a path (atomic unless told otherwise),
    or to an open handle: text for ``jsonl``/``text``, binary for ``jsonl.gz``/``parquet``."""
    if fmt == "jsonl":
        return JsonlWriter(target, atomic=atomic)
    if fmt == "text":
        return TextWriter(target, atomic=atomic)
    if fmt == "markdown":
        return MarkdownWriter(target, atomic=atomic)
    if fmt == "jsonl.gz":
        return JsonlGzWriter(target, atomic=atomic)
    if fmt == "parquet":
        return ParquetWriter(target, atomic=atomic)
    if fmt in ("txt-dir", "md-dir"):
        if not isinstance(target, (str, os.PathLike)):
            raise TypeError(f"{fmt} output needs a folder path, not a stream")
        return (TxtDirWriter if fmt == "txt-dir" else MdDirWriter)(target, atomic=atomic)
    raise ValueError(f"unknown output format {fmt!r}; choose from {OUTPUT_FORMATS}")


# ------------------------------------------------------------------------------- reading back

def output_format_of(path: str | os.PathLike) -> str | None:
    """The format of a file or folder written by ``open_writer``, from its name (``None``: not one)."""
    p = Path(path)
    name = p.name.lower()
    if name.endswith(".jsonl.gz"):
        return "jsonl.gz"
    if name.endswith(".jsonl"):
        return "jsonl"
    if name.endswith(".parquet"):
        return "parquet"
    if p.is_dir() and (p / INDEX_NAME).is_file():
        return "md-dir" if _indexes_markdown(p) else "txt-dir"
    return None


def _indexes_markdown(folder: Path) -> bool:
    """Does a folder's ``_index.jsonl`` list .md files (an empty index: .md files in the folder)?"""
    with open(folder / INDEX_NAME, "rb") as fh:
        first = fh.readline()
    if first.strip():
        try:
            return str(json.loads(first).get("file", "")).endswith(".md")
        except (ValueError, AttributeError):
            return False
    return any(folder.glob("*.md"))


def iter_records(fmt: str, path: str | os.PathLike) -> Iterator[dict[str, Any]]:
    """The records in one output, streamed. For ``txt-dir``, the index entries with their ``text``."""
    path = Path(path)
    if fmt in ("jsonl", "jsonl.gz"):
        yield from map(json.loads, _jsonl_lines(fmt, path))
    elif fmt == "parquet":
        import pyarrow.parquet as pq

        with open(path, "rb") as fh:
            for batch in pq.ParquetFile(fh).iter_batches(batch_size=1000):
                for row in batch.to_pylist():
                    row["metadata"] = json.loads(row["metadata"]) if row.get("metadata") else {}
                    if row.get("markdown", "") is None:  # a record cleaned without markdown has no field
                        del row["markdown"]
                    yield row
    elif fmt in ("txt-dir", "md-dir", "markdown"):
        field = "text" if fmt == "txt-dir" else "markdown"
        with open(path / INDEX_NAME, encoding="utf-8") as fh:
            for line in fh:
                entry = json.loads(line)
                entry[field] = (path / entry.pop("file")).read_text(encoding="utf-8").removesuffix("\n")
                yield entry
    else:
        raise ValueError(f"cannot read back output format {fmt!r}")


def records_at(fmt: str, path: str | os.PathLike, wanted: set[int]) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(n, record)`` for the records at positions ``wanted`` (0-based) of one output.

    JSONL lines that are not wanted are skipped unparsed (and undecoded); reading stops after
    the last wanted one.
    """
    if not wanted:
        return
    last = max(wanted)
    lines = _jsonl_lines(fmt, path) if fmt in ("jsonl", "jsonl.gz") else iter_records(fmt, path)
    for n, item in enumerate(lines):
        if n in wanted:
            yield n, json.loads(item) if isinstance(item, bytes) else item
        if n >= last:
            return


def _jsonl_lines(fmt: str, path: Path) -> Iterator[bytes]:
    """The non-blank lines of a JSONL(.gz) output, as bytes (json.loads takes UTF-8 bytes)."""
    with (gzip.open if fmt == "jsonl.gz" else open)(path, "rb") as fh:
        for line in fh:
            if line.strip():
                yield line


def read_ids(fmt: str, path: str | os.PathLike) -> list[str]:
    """The ``id`` of every record in one output, in order (Parquet: reads the id column only)."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        with open(path, "rb") as fh:
            return [i for b in pq.ParquetFile(fh).iter_batches(columns=["id"]) for i in b.column(0).to_pylist()]
    if fmt in ("txt-dir", "md-dir", "markdown"):
        with open(Path(path) / INDEX_NAME, encoding="utf-8") as fh:
            return [json.loads(line)["id"] for line in fh]
    return [rec["id"] for rec in iter_records(fmt, path)]


def rewrite_ids(fmt: str, path: str | os.PathLike, new_ids: list[str]) -> None:
    """Rewrite one output with new ids (same order, everything else as it was), atomically."""
    if fmt in ("txt-dir", "md-dir", "markdown"):  # the files and their index: rebuilt, then swapped in
        with open_writer(writer_format(fmt), path) as out:
            for rec, new in zip(iter_records(fmt, path), new_ids, strict=True):
                out.write(dict(rec, id=new))
        return
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        with open(path, "rb") as src:
            pf = pq.ParquetFile(src)
            out = _AtomicBinaryFile(Path(path))
            try:
                writer = pq.ParquetWriter(out.fh, pf.schema_arrow, compression="zstd")
                start = 0
                for rg in range(pf.num_row_groups):  # one row group at a time, as written
                    table = pf.read_row_group(rg)
                    ids = pa.array(new_ids[start:start + table.num_rows], pa.string())
                    start += table.num_rows
                    writer.write_table(table.set_column(table.schema.get_field_index("id"),
                                                        table.schema.field("id"), ids))
                writer.close()
                if start != len(new_ids):
                    raise ValueError(f"{path}: {start} records, {len(new_ids)} ids")
            except BaseException:
                out.discard()
                raise
        out.commit()
        return
    with open_writer(fmt, path) as out:
        for rec, new in zip(iter_records(fmt, path), new_ids, strict=True):
            out.write(dict(rec, id=new))
