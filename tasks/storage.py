"""Where inputs and partitions live: local paths, as ever, or URLs through fsspec.

``raw_root``, ``clean_root`` and the CLI's paths are either local paths (``file://`` URLs are
local paths too), which keep every guarantee they have always had (temporary files renamed into
place, POSIX locks), or URLs such as ``s3://bucket/prefix`` or ``gs://bucket/prefix``, served
by fsspec (s3fs, gcsfs: ``pip install 'decruft[s3]'``). ``location(text)`` returns a
``pathlib.Path`` for the first and a ``RemotePath`` (the few path operations the tasks use) for
the second; ``target(loc)`` the Luigi target for either.

Object storage has no rename, so outputs there keep their contract by other means:

- every object is written once, whole, under its final name: written to a local temporary
  file first, then uploaded in one request (a PUT, or a multipart upload, which S3 makes
  visible only when it completes), and only when the writer finished without error. A reader
  sees a part file entirely or not at all; a killed run leaves none half-written.
- a shard's counts (``_shards/part-NNNNN.stats.json``) are uploaded after its other outputs and
  a partition's ``_SUCCESS.json`` after everything else: a shard, or a partition, is complete
  only once they exist. A rerun after a kill cleans again exactly the shards without them,
  whose objects it replaces whole (same names): every document is in the partition once.
- there is no lock on object storage: two runs of one day at once are kept apart by Luigi
  (one central scheduler gives each task to one worker), not by the store.

Inputs on object storage are listed with their sizes and modification times in one listing,
and copied to a local temporary folder a group of objects at a time, the next group fetched
while one is read (readers, the cleaning child and its time limit work on local files); the
site-profile pass leaves its copies for the cleaning pass, so each object is fetched once.
Records name the original URL as their source.

Credentials and endpoints come from where the SDK looks for them (for S3: the environment,
``AWS_ENDPOINT_URL``/``AWS_ENDPOINT_URL_S3``, ``~/.aws/config``, instance roles), never from
luigi.cfg. A listing is reused for two seconds at most (``LISTING_MAX_AGE``: the completeness
checks of one scheduling pass ask many times); what outputs record as their inputs comes from a
fresh one, of the shard's own range of names where the store lists by prefix.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, NamedTuple
from urllib.parse import unquote, urlsplit

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
EXTRA_FOR = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs"}


class StorageError(Exception):
    """A URL that cannot be served here (no driver installed, no such bucket, …)."""


def is_url(text: Any) -> bool:
    """Whether ``text`` is a URL served by fsspec (``file://`` is not: it is a local path)."""
    if not isinstance(text, str):
        return isinstance(text, RemotePath)
    m = _SCHEME.match(text)
    return m is not None and m.group(1).lower() != "file"


def location(text: "str | os.PathLike | RemotePath") -> "Path | RemotePath":
    """A ``Path`` for a local path or ``file://`` URL, a ``RemotePath`` for any other URL."""
    if isinstance(text, (Path, RemotePath)):
        return text
    text = os.fspath(text)
    if is_url(text):
        return RemotePath(text)
    if text.lower().startswith("file://"):
        parts = urlsplit(text)
        if parts.netloc not in ("", "localhost"):
            raise StorageError(f"{text}: a file:// URL names a file on this machine (file:///path)")
        return Path(unquote(parts.path))
    return Path(text)


def is_remote(loc: Any) -> bool:
    return isinstance(loc, RemotePath)


@lru_cache(maxsize=None)
def _filesystem(protocol: str, pid: int):
    try:
        import fsspec
    except ImportError:
        raise StorageError(f"{protocol}:// paths need fsspec: pip install 'decruft[{EXTRA_FOR.get(protocol, 's3')}]'") \
            from None
    try:
        # No listings cache: whether an object exists is asked of the store every time (another
        # worker may just have written it). A fresh instance per process (``pid``): Luigi forks
        # its workers, and an S3 client's connections must not be shared across a fork.
        return fsspec.filesystem(protocol, use_listings_cache=False, skip_instance_cache=True)
    except (ImportError, ValueError) as exc:
        extra = EXTRA_FOR.get(protocol)
        hint = f": pip install 'decruft[{extra}]'" if extra else ""
        raise StorageError(f"{protocol}:// paths cannot be served here ({exc}){hint}") from None


def filesystem(protocol: str):
    """The fsspec file system for ``protocol`` in this process."""
    return _filesystem(protocol, os.getpid())


class RemoteStat(NamedTuple):
    st_size: int
    st_mtime_ns: int | None


def _mtime_ns(info: dict) -> int | None:
    """An object's modification time in ns, from what fsspec's listing says (S3: LastModified,
    GCS: updated, others: mtime/created)."""
    for key in ("LastModified", "updated", "mtime", "last_modified", "created"):
        value = info.get(key)
        if value is None:
            continue
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=dt.timezone.utc)
            return int(value.timestamp()) * 10**9 + value.microsecond * 1000
        if isinstance(value, (int, float)):
            return int(value * 1e9)
    return None


class RemotePath:
    """A URL with the path operations the tasks use (``/``, ``name``, ``parent``, ``exists``,
    ``glob``, …). Not ``os.PathLike`` on purpose: handing one to ``open`` is a bug, not a file."""

    __slots__ = ("url", "protocol", "_info")

    def __init__(self, url: str, info: dict | None = None):
        m = _SCHEME.match(url)
        if m is None:
            raise ValueError(f"not a URL: {url!r}")
        self.protocol = m.group(1).lower()
        head, rest = url[: m.end()], url[m.end():]
        self.url = head + re.sub("/+", "/", rest).rstrip("/")
        self._info = info

    # --- names
    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        return f"RemotePath({self.url!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, RemotePath) and other.url == self.url

    def __lt__(self, other: "RemotePath") -> bool:
        return self.url < other.url

    def __hash__(self) -> int:
        return hash(self.url)

    def __truediv__(self, name: "str | os.PathLike") -> "RemotePath":
        name = os.fspath(name).replace(os.sep, "/").strip("/")
        return RemotePath(f"{self.url}/{name}")

    @property
    def name(self) -> str:
        return self.key.rpartition("/")[2]

    @property
    def parent(self) -> "RemotePath":
        key = self.key
        if "/" not in key:
            return self
        return RemotePath(self.url[: len(self.url) - len(self.name) - 1])

    @property
    def key(self) -> str:
        """The path as the file system names it (``bucket/prefix/name``: no scheme)."""
        return self.url[_SCHEME.match(self.url).end():]

    @property
    def fs(self):
        return filesystem(self.protocol)

    def relative_to(self, base: "RemotePath") -> str:
        prefix = base.url + "/"
        if not self.url.startswith(prefix):
            raise ValueError(f"{self.url} is not under {base.url}")
        return self.url[len(prefix):]

    # --- questions
    def exists(self) -> bool:
        return self.fs.exists(self.key)

    def is_file(self) -> bool:
        return self.fs.isfile(self.key)

    def is_dir(self) -> bool:
        return self.fs.isdir(self.key)

    def info(self) -> dict:
        if self._info is None:
            self._info = self.fs.info(self.key)
        return self._info

    def stat(self) -> RemoteStat:
        info = self.info()
        return RemoteStat(int(info.get("size") or 0), _mtime_ns(info))

    def glob(self, pattern: str) -> list["RemotePath"]:
        found = self.fs.glob(f"{self.key}/{pattern}", detail=True)
        return sorted(RemotePath(self.fs.unstrip_protocol(k), info) for k, info in found.items())

    # --- contents
    def read_bytes(self) -> bytes:
        return self.fs.cat_file(self.key)

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.read_bytes().decode(encoding)

    def open_binary(self):
        """The object, for reading (a seekable binary file)."""
        return self.fs.open(self.key, "rb")

    def upload(self, local: "str | os.PathLike") -> None:
        """Put the finished local file ``local`` here: one object, visible once uploaded whole."""
        self.fs.put_file(os.fspath(local), self.key)

    def download(self, local: "str | os.PathLike") -> None:
        self.fs.get_file(self.key, os.fspath(local))

    def unlink(self, missing_ok: bool = False) -> None:
        try:
            self.fs.rm_file(self.key)
        except FileNotFoundError:
            if not missing_ok:
                raise

    def remove_tree(self) -> None:
        """This object, or every object under this prefix."""
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(self.key, recursive=True)

    def mkdir(self, parents: bool = False, exist_ok: bool = False) -> None:
        """Nothing: object stores have no folders (a prefix exists once an object is under it)."""

    def check_writable(self) -> None:
        """Raise ``StorageError`` when the bucket (the URL's first part) cannot be reached."""
        bucket = self.key.partition("/")[0]
        try:
            found = self.fs.exists(bucket)
        except Exception as exc:  # credentials, endpoint, network: said as they are
            raise StorageError(f"cannot reach {self.protocol}://{bucket}: {type(exc).__name__}: {exc}") from None
        if not found:
            raise StorageError(f"no bucket {self.protocol}://{bucket} (or no access to it)")


# ----------------------------------------------------------------------------------- listing

def _hidden(relative: str) -> bool:
    return any(part.startswith((".", "_")) for part in relative.split("/"))


_LISTED: dict[tuple[str, str], tuple[float, list["RemotePath"], dict[str, RemoteStat]]] = {}

# How long a listing of inputs is reused by the completeness checks of one scheduling pass.
LISTING_MAX_AGE = 2.0


def _listing(folder: RemotePath, max_age: float, prefix: str):
    key = (folder.url, prefix)
    now = time.monotonic()
    hit = _LISTED.get(key)
    if hit is not None and now - hit[0] < max_age:
        return hit
    fs = folder.fs
    try:
        try:  # s3fs and gcsfs list only the keys that start with the prefix
            found = fs.find(folder.key, detail=True, prefix=prefix) if prefix else fs.find(folder.key, detail=True)
        except TypeError:  # a file system whose find takes no prefix: all of it, filtered below
            found = fs.find(folder.key, detail=True)
    except FileNotFoundError:
        found = {}
    files = []
    for name, info in found.items():
        if info.get("type", "file") != "file" or name.endswith("/"):
            continue
        path = RemotePath(fs.unstrip_protocol(name), info)
        try:
            relative = path.relative_to(folder)
        except ValueError:
            continue
        if relative.startswith(prefix) and not _hidden(relative):
            files.append(path)
    files.sort()
    _LISTED[key] = hit = (now, files, {str(p): p.stat() for p in files})
    return hit


def list_files(folder: RemotePath, max_age: float = 0.0) -> list[RemotePath]:
    """Every object under ``folder``, sorted, with its size and time, in one listing, or the
    same answer given up to ``max_age`` seconds ago. Names with a part starting with ``.`` or
    ``_`` are not inputs (markers such as ``_READY``), as on disk; folder markers (keys ending
    in ``/``) neither. Object stores have no links or devices: nothing is rejected unread."""
    return list(_listing(folder, max_age, "")[1])


def _listing_of(paths: list, base: RemotePath, max_age: float):
    """The ``_listing`` that holds ``paths``: of their names' common prefix under ``base`` (a
    shard's files are consecutive names), not of the whole folder."""
    names = []
    for loc in map(location, paths):
        if isinstance(loc, RemotePath):
            with contextlib.suppress(ValueError):  # outside base: not in any listing of it
                names.append(loc.relative_to(base))
    return _listing(base, max_age, os.path.commonprefix(names) if names else "")


def stats_of(paths: list, base: RemotePath, max_age: float | None = None) -> dict[str, RemoteStat]:
    """``{url: (size, mtime_ns)}`` of the objects under ``base`` that one listing of ``paths``'
    common name prefix holds.

    Every shard's ``complete()`` asks for its files' manifest, several times per scheduling
    pass: a listing is reused for ``max_age`` seconds (default ``LISTING_MAX_AGE``, as
    ``tasks.clean.day_digest`` is), so a day of many shards is listed once per pass, not once
    per shard.
    """
    return _listing_of(paths, base, LISTING_MAX_AGE if max_age is None else max_age)[2]


# ----------------------------------------------------------------------------------- reading, writing

def read_json(path) -> dict | None:
    """The JSON object at ``path`` (local or remote), or None when missing or not an object."""
    loc = location(path)
    try:
        if is_remote(loc):
            data = json.loads(loc.read_bytes())
        else:
            with open(loc, encoding="utf-8") as fh:
                data = json.load(fh)
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


def remove(loc: "Path | RemotePath") -> None:
    """A file or folder (local), an object or prefix (remote)."""
    if is_remote(loc):
        loc.remove_tree()
    elif loc.is_dir() and not loc.is_symlink():
        shutil.rmtree(loc)
    else:
        loc.unlink(missing_ok=True)


@contextlib.contextmanager
def local_output(path) -> Iterator[Path]:
    """A local path to write ``path``'s contents to, atomically as the writer does locally.

    Local: ``path`` itself (its folder made). Remote: a file in a temporary folder, uploaded to
    ``path`` in one piece when the block ends without error (and never otherwise).
    """
    loc = location(path)
    if not is_remote(loc):
        loc.parent.mkdir(parents=True, exist_ok=True)
        yield loc
        return
    with tempfile.TemporaryDirectory(prefix="decruft-out-") as tmp:
        local = Path(tmp) / (loc.name or "output")
        yield local
        if local.is_dir():
            raise StorageError(f"{loc}: a folder of files (txt-dir) cannot be written to object storage "
                               "in one piece; use jsonl, jsonl.gz or parquet there")
        loc.upload(local)


@contextlib.contextmanager
def local_copy(path) -> Iterator[Path]:
    """``path`` as a local file for reading: itself, or a temporary copy of the object."""
    loc = location(path)
    if not is_remote(loc):
        yield loc
        return
    with tempfile.TemporaryDirectory(prefix="decruft-copy-") as tmp:
        local = Path(tmp) / (loc.name or "input")
        loc.download(local)
        yield local


class Staged(NamedTuple):
    """Inputs ready to read: local paths, the folder ids are relative to, and what records name
    as each one's source (None: the paths themselves)."""

    paths: list[Path]
    base: Path | None
    sources: list[str] | None


@contextlib.contextmanager
def staged_inputs(paths: list, base) -> Iterator[Staged]:
    """Local files for ``paths`` (ids relative to ``base``) for the length of the block.

    Local paths are given back as they are. Objects are copied to a temporary folder that
    mirrors their names under ``base`` (so ids come out as from local files), fetched together;
    one that cannot be fetched (gone since it was listed) is left absent, and so rejected as
    ``unreadable`` when read, like a local file that vanished.
    """
    locs = [location(p) for p in paths]
    if not any(is_remote(p) for p in locs):
        yield Staged(locs, None if base is None else location(base), None)
        return
    with tempfile.TemporaryDirectory(prefix="decruft-stage-") as tmp:
        yield _stage(locs, base, Path(tmp), 0)


STAGE_FILES = 32  # objects fetched together by staged_chunks (one such group is read while the next is fetched)
KEEP_BYTES = 512 * 2**20  # copies the site-profile pass leaves for the cleaning pass, per machine and user
KEEP_SECONDS = 3600  # a copy nobody took by then is removed


def staged_chunks(paths: list, base, size: int | None = None, keep: bool = False) -> Iterator[Staged]:
    """``staged_inputs`` for a whole shard, in groups of ``size`` objects, in order: while the
    caller reads one group, the next is fetched in a background thread, so the cleaning does
    not wait for the store (with one small object per document, fetching the shard first
    left the cleaning idle for a GET per document). Each group's copies are removed once the
    caller asks for the next. Local paths come back as one group, as they are.

    The site-profile pass reads every object that the cleaning pass reads again: with ``keep``
    its copies are left in a folder of this machine's temporary space (``KEEP_BYTES`` at most),
    under a name made of the object's URL, size, time and ETag as listed, and a later
    ``staged_chunks`` of the same objects, unchanged, takes them instead of fetching again
    (one GET per object, not two). A rewritten object has another name: it is fetched anew.
    """
    locs = [location(p) for p in paths]
    if not any(is_remote(p) for p in locs):
        yield Staged(locs, None if base is None else location(base), None)
        return
    from concurrent.futures import ThreadPoolExecutor

    size = size or STAGE_FILES
    groups = [range(i, min(len(locs), i + size)) for i in range(0, len(locs), size)]
    kept = _Kept(locs, base, keep)
    with tempfile.TemporaryDirectory(prefix="decruft-stage-") as tmp, \
            ThreadPoolExecutor(1, thread_name_prefix="decruft-fetch") as pool:
        fetch = lambda g: _stage([locs[i] for i in g], base, Path(tmp) / str(g.start), g.start, kept)  # noqa: E731
        ahead = pool.submit(fetch, groups[0])
        for n in range(len(groups)):
            staged = ahead.result()
            if n + 1 < len(groups):
                ahead = pool.submit(fetch, groups[n + 1])
            yield staged
            shutil.rmtree(staged.base.parent, ignore_errors=True)


class _Kept:
    """Copies of objects kept between the two passes over a shard (``staged_chunks``)."""

    def __init__(self, locs: list, base, keep: bool):
        self.folder = Path(tempfile.gettempdir()) / f"decruft-kept-{os.getuid()}"
        self.keep, self.names, self.present, self.room = keep, {}, {}, 0
        remote = location(base) if base is not None else None
        if not isinstance(remote, RemotePath) or not (self.folder.is_dir() or keep):
            return  # nothing kept to take, or objects outside one folder: fetched as they come
        for p in _listing_of(locs, remote, LISTING_MAX_AGE)[1]:
            info = p.info()
            tag = info.get("ETag") or info.get("etag") or info.get("md5Hash") or ""
            version = f"{info.get('size')}\0{_mtime_ns(info)}\0{tag}"
            self.names[p.url] = f"{_hash(p.url)}.{_hash(version)}"  # object.version
        try:
            self.folder.mkdir(mode=0o700, exist_ok=True)
            st = self.folder.lstat()
        except OSError:  # no writable temporary space: each pass fetches its own copies
            st = None
        if st is None or not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
            self.keep, self.names = False, {}  # not ours alone: nothing taken from it, nothing left in it
            return
        used, now = 0, time.time()
        for entry in os.scandir(self.folder):
            with contextlib.suppress(OSError):
                st = entry.stat()
                if now - st.st_mtime > KEEP_SECONDS:
                    os.unlink(entry.path)
                    continue
                used += st.st_size
                self.present[entry.name.split(".")[0]] = entry.name
        self.room = KEEP_BYTES - used

    def take(self, remote: RemotePath, local: Path) -> bool:
        """Move a kept copy of ``remote`` (as listed) to ``local``; False when there is none."""
        name = self.names.get(remote.url)
        have = self.present.pop(name.split(".")[0], None) if name else None
        if have is None:
            return False
        try:
            if have == name:
                os.replace(self.folder / name, local)
                return True
            os.unlink(self.folder / have)  # a copy of the object as it was before: stale
        except OSError:
            pass
        return False

    def leave(self, remote: RemotePath, local: Path) -> None:
        """With ``keep``, leave a copy of the fetched ``local`` for the next pass, room permitting."""
        name = self.names.get(remote.url)
        if not self.keep or name is None:
            return
        with contextlib.suppress(OSError):
            size = local.stat().st_size
            if size <= self.room:
                os.link(local, self.folder / name)
                self.room -= size


def _hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogateescape")).hexdigest()[:24]


def _stage(locs: list, base, tmp: Path, first: int, kept: "_Kept | None" = None) -> Staged:
    """``locs`` copied under ``tmp``, mirroring their names under ``base`` (``first``: the index
    of ``locs[0]`` in its shard, for names of objects outside ``base``); ``kept``: copies left
    by an earlier pass to take, and to leave (``staged_chunks``)."""
    base = location(base) if base is not None else None
    root = tmp / (base.name if base is not None and base.name else "in")
    local: list[Path] = []
    for n, p in enumerate(locs, first):
        try:
            relative = p.relative_to(base) if base is not None else f"{n}/{p.name}"
        except ValueError:
            relative = f"{n}/{p.name}"
        local.append(root / relative)
        local[-1].parent.mkdir(parents=True, exist_ok=True)
    todo = [i for i in range(len(locs)) if kept is None or not kept.take(locs[i], local[i])]
    _fetch([locs[i] for i in todo], [local[i] for i in todo])
    if kept is not None:
        for i in todo:
            kept.leave(locs[i], local[i])
    return Staged(local, root, [str(p) for p in locs])


def _fetch(remote: list[RemotePath], local: list[Path]) -> None:
    """Download ``remote[i]`` to ``local[i]``: all at once per file system (concurrent), then
    one by one for whatever that left missing."""
    by_fs: dict[str, list[int]] = {}
    for i, r in enumerate(remote):
        by_fs.setdefault(r.protocol, []).append(i)
    for protocol, idx in by_fs.items():
        fs = filesystem(protocol)
        with contextlib.suppress(Exception):  # one missing object fails the batch: retried below
            fs.get([remote[i].key for i in idx], [str(local[i]) for i in idx])
        for i in idx:
            if not local[i].exists():
                with contextlib.suppress(OSError, FileNotFoundError):
                    remote[i].download(local[i])


# ----------------------------------------------------------------------------------- Luigi targets

def target(path, format=None):
    """The Luigi target for ``path``: ``luigi.LocalTarget`` locally (atomic rename on write),
    an fsspec-backed ``RemoteTarget`` for a URL (one upload of the finished file on write)."""
    import luigi

    loc = location(path)
    if is_remote(loc):
        return _remote_classes()[0](str(loc), format=format)
    return luigi.LocalTarget(loc, format=format)


@lru_cache(maxsize=None)
def _remote_classes():
    """RemoteTarget and its file system, made on first use (``decruft --help`` loads no Luigi)."""
    import luigi
    import luigi.format
    import luigi.target

    class RemoteFileSystem(luigi.target.FileSystem):
        """Luigi's FileSystem over fsspec, for any URL."""

        def exists(self, path):
            return RemotePath(path).exists()

        def remove(self, path, recursive=True, skip_trash=True):
            loc = RemotePath(path)
            loc.remove_tree() if recursive else loc.unlink(missing_ok=True)

        def mkdir(self, path, parents=True, raise_if_exists=False):
            """Object stores have no folders."""

        def isdir(self, path):
            return RemotePath(path).is_dir()

        def listdir(self, path):
            return [str(p) for p in list_files(RemotePath(path))]

    class _AtomicUpload(luigi.target.AtomicLocalFile):
        """Written to a local temporary file; uploaded whole on a clean close, dropped otherwise."""

        def move_to_final_destination(self):
            RemotePath(self.path).upload(self.tmp_path)

    class RemoteTarget(luigi.target.FileSystemTarget):
        """A file on object storage (any fsspec URL) as a Luigi target."""

        fs = RemoteFileSystem()

        def __init__(self, path, format=None):
            super().__init__(str(RemotePath(path)))
            self.format = format or luigi.format.get_default_format()

        def open(self, mode="r"):
            if mode not in ("r", "w"):
                raise ValueError(f"unsupported open mode {mode!r}")
            if mode == "w":
                return self.format.pipe_writer(_AtomicUpload(self.path))
            return self.format.pipe_reader(RemotePath(self.path).open_binary())

    return RemoteTarget, RemoteFileSystem
