"""Luigi tasks over ``pipeline``: CleanFile, CleanShard and CleanPartition.

Layout of one partition, ``<clean_root>/<date>/``::

    part-00000.jsonl ...   clean records (glob ``part-*.jsonl`` reads exactly the data); with
                           output_format: part-*.jsonl.gz, part-*.parquet, part-NNNNN/*.txt or
                           (markdown) part-NNNNN/*.md
    _rejects.jsonl         one line per input document that could not be cleaned
    _report.html           audit report (pipeline/report.py), written just before _SUCCESS.json
    _SUCCESS.json          counts; written last, so its presence means "complete"
    _site_profiles.json    learned site boilerplate (LearnSiteProfiles), used by every shard
    _shards/               per-shard rejects and counts (what _SUCCESS.json sums), record ids (to
                           make ids unique across shards), report counts (what _report.html
                           merges) and site line counts (LearnShardSites, what
                           _site_profiles.json sums)

``raw_root`` and ``clean_root`` may be URLs (``s3://bucket/prefix``, …): ``tasks.storage`` says how
the same layout and its guarantees are kept on object storage.
"""
from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import logging
import multiprocessing
import os
import shutil
import time
from functools import lru_cache
from pathlib import Path

import luigi

from pipeline.batch import (BatchStats, Listing, Tally, clean_units, learn_site_counts, list_inputs, read_for_sites,
                            relative_id)
from pipeline.clean import version_info, warm_up
from pipeline.config import CleanConfig
from pipeline.report import PartitionScan, write_report
from pipeline.site_profile import ProfileLearner, SiteProfiles
from pipeline.writers import (FORMAT_SUFFIX, UniqueIds, dumps, open_writer, output_format_of, records_at, rewrite_ids,
                              writer_format)

from . import storage
from .config import decruft
from .sandbox import die_with_parent, shared_cleaner


logger = logging.getLogger("luigi-interface")


@luigi.Task.event_handler(luigi.Event.START)
def _end_with_the_worker(task: luigi.Task) -> None:
    """With ``--workers N`` each task runs in a process forked by the worker: when the worker
    dies (even by ``kill -9``) the kernel kills that process at once (``PR_SET_PDEATHSIG``),
    instead of letting it run its task to the end. With one worker the task runs in the worker
    itself, which is left alone."""
    parent = multiprocessing.parent_process()
    if parent is not None and parent.pid is not None:
        die_with_parent(parent.pid)


def plan_shards(files: list[Path], max_files: int, max_bytes: int) -> list[list[Path]]:
    """Consecutive files grouped into shards of at most ``max_files`` files / ``max_bytes`` bytes."""
    shards: list[list[Path]] = []
    current: list[Path] = []
    size = 0
    for path in files:
        try:
            n = path.stat().st_size
        except OSError:
            n = 0
        if current and (len(current) >= max_files or size + n > max_bytes):
            shards.append(current)
            current, size = [], 0
        current.append(path)
        size += n
    if current:
        shards.append(current)
    return shards


TXT_DIR_REMOTE = ("output_format txt-dir (and markdown) writes folders of files, which object storage cannot take in one "
                  "piece: use jsonl, jsonl.gz or parquet for a clean_root URL")


def write_batch(paths, base, out: dict[str, luigi.target.FileSystemTarget], extra: dict,
                ids: UniqueIds | None = None, profiles: SiteProfiles | None = None,
                task: luigi.Task | None = None, *, cfg: CleanConfig | None = None,
                output_format: str | None = None, timeout: float | None = None) -> BatchStats:
    """Clean ``paths`` and write ``out``'s records, rejects, (ids, scan,) then counts — each atomically.

    For a partition's shards: ``out["ids"]`` gets the records' ids in order (a JSON list), so
    that the partition makes ids unique without reading the records back, and ``out["scan"]``
    the shard's counts for the partition's report (``PartitionScan.state``, from the counts
    the cleaning child sends with each document). With ``task``, progress (share of files done)
    and counts go to the scheduler's page. ``cfg``, ``output_format`` and ``timeout`` default to
    luigi.cfg's; a Spark executor, which has no Luigi configuration, passes them.
    """
    cfg = decruft().clean_config() if cfg is None else cfg
    output_format = decruft().output_format if output_format is None else output_format
    timeout = decruft().document_timeout if timeout is None else timeout
    if output_format in ("txt-dir", "markdown") and storage.is_remote(storage.location(out["records"].path)):
        raise storage.StorageError(TXT_DIR_REMOTE)
    version = version_info(cfg)

    def outcomes():  # (files before, outcome); remote inputs: a group of objects at a time, the next fetched meanwhile
        before = 0
        for staged in storage.staged_chunks(paths, base):
            if timeout > 0:
                done = shared_cleaner(cfg, profiles, timeout).outcomes(staged.paths, staged.base, version,
                                                                       staged.sources)
            else:
                done = clean_units(staged.paths, staged.base, cfg, version, profiles, sources=staged.sources)
            yield from ((before, outcome) for outcome in done)
            before += len(staged.paths)

    with contextlib.closing(outcomes()) as cleaned:
        return _write_batch(cleaned, len(paths), out, extra, ids, version, task, output_format)


def _write_batch(outcomes, files: int, out, extra: dict, ids: UniqueIds | None, version: dict,
                 task: luigi.Task | None, output_format: str) -> BatchStats:
    # Records in luigi.cfg's output_format. Binary formats cannot go through target.open("w"), and
    # target.temporary_path() refuses to replace a records file left by a shard whose other
    # outputs are missing (a rerun after a kill): the writer itself writes a hidden temporary
    # sibling and os.replace()s it into place on success (removed on error). On object storage
    # it writes a local file, uploaded whole once complete (storage.local_output).
    stats = BatchStats()
    written: list[str] = []
    scan = PartitionScan(part_files=1, keep_docs=False) if "scan" in out else None
    with storage.local_output(out["records"].path) as records_path, out["rejects"].open("w") as rejects, \
            open_writer(writer_format(output_format), records_path) as records:
        for n, (before, done) in enumerate(outcomes, 1):
            stats.count(done.tally)
            if task is not None and n % 50 == 0:
                task.set_progress_percentage(round(100 * (before + done.position[0]) / max(1, files)))
                task.set_status_message(f"{stats.cleaned} cleaned, {stats.rejected} rejected so far")
            if done.tally.skipped:
                continue
            if done.rejected:
                rejects.write(done.line + "\n")
                if scan is not None:
                    scan.add_reject(json.loads(done.line))
                continue
            doc_id = done.id if ids is None else ids.claim(done.id)
            if doc_id == done.id:
                records.write_line(done.line)
            else:  # a repeated id within this output: id~2, …
                records.write(dict(json.loads(done.line), id=doc_id))
            if scan is not None:
                scan.add_counts(len(written), done.counts)
            written.append(doc_id)
    if "ids" in out:
        write_json(out["ids"], written)
    if scan is not None:
        write_json(out["scan"], scan.state())
    with out["stats"].open("w") as fh:
        json.dump(dict(extra, **stats.as_dict(), version=version), fh, ensure_ascii=False, indent=1)
    return stats


def site_counts(paths, base, cfg: CleanConfig) -> ProfileLearner:
    """``learn_site_counts`` over a shard's files, objects fetched a group at a time (``staged_chunks``)."""
    learner = ProfileLearner(max_words=cfg.site_max_words)
    read = [p for p in map(storage.location, paths) if read_for_sites(p.name)]
    for staged in storage.staged_chunks(read, base, keep=True):  # copies left for the cleaning pass
        learn_site_counts(staged.paths, staged.base, cfg, learner)
    return learner


def format_of(path) -> str | None:
    """The output format of a part file (``output_format_of``; for an object, by its name alone)."""
    if storage.is_remote(path):
        name = path.name.lower()
        return next((fmt for fmt, suffix in FORMAT_SUFFIX.items() if suffix and name.endswith(suffix)), None)
    return output_format_of(path)


def write_json(target: luigi.target.FileSystemTarget, data) -> None:
    """``data`` as one line of JSON, atomically. ``json.dumps`` then one write: ``json.dump``
    encodes in pure Python, chunk by chunk (several times slower on the shards' large states)."""
    with target.open("w") as fh:
        fh.write(json.dumps(data, ensure_ascii=False))


@lru_cache(maxsize=None)
def _warm_up_once() -> None:
    """Load rules, line model and language profiles in this process, once.

    Called from ``CleanShard.requires``, which runs in the process that schedules the shards:
    with ``--workers N`` Luigi forks one process per task from it, and each then starts warm
    instead of spending about a second loading the same data again.
    """
    warm_up(decruft().clean_config())


@contextlib.contextmanager
def partition_lock(date: dt.date, exclusive: bool):
    """Hold ``<clean_root>/<date>/_shards/.lock``: shared while a task writes into the partition
    (its shards, site counts, site profile), exclusive while ``CleanPartition`` finishes it.

    Two runs of one day at once (``--no-lock``, or ``--workers 1`` beside ``--workers 2``, which
    take different Luigi locks) then never pull files from under each other: while the
    exclusive lock is held no other process writes there, so every temporary file left is
    provably stale (a killed run's) and can go. POSIX record locks (``lockf``): released when the
    process ends, however it ends, not inherited by forked children (the cleaning process), and
    honoured over NFS.

    On object storage there is no lock (nothing is renamed or cleaned up there; see
    ``tasks.storage``): Luigi's scheduler keeps two workers from running one task at once.
    """
    if storage.is_remote(clean_dir(date)):
        yield
        return
    folder = clean_dir(date) / "_shards"
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # releases the lock


def raw_dir(date: dt.date) -> "Path | storage.RemotePath":
    """``<raw_root>/<date>/``: the day's input files (a local folder or a URL prefix)."""
    return storage.location(decruft().raw_root) / date.isoformat()


def clean_dir(date: dt.date) -> "Path | storage.RemotePath":
    """``<clean_root>/<date>/``: the day's partition (layout: module doc)."""
    return storage.location(decruft().clean_root) / date.isoformat()


def partition_listing(date: dt.date) -> Listing:
    """The day's input files, and the entries rejected unread (``pipeline.batch.list_inputs``:
    symbolic links outside ``raw_root``, dangling links, …; luigi.cfg ``follow_symlinks``)."""
    raw = raw_dir(date)
    if storage.is_remote(raw):
        return Listing(storage.list_files(raw, max_age=storage.LISTING_MAX_AGE), [])
    if not raw.is_dir():
        return Listing([], [])
    return list_inputs(Path(decruft().raw_root), raw, decruft().follow_symlinks)


def partition_plan(date: dt.date) -> list[list[Path]]:
    """The day's input files grouped into shards (luigi.cfg ``shard_max_files``/``_bytes``)."""
    cfg = decruft()
    return plan_shards(partition_listing(date).inputs, cfg.shard_max_files, cfg.shard_max_bytes)


def file_manifest(paths, base: Path, fresh: bool = False) -> list[dict]:
    """``[{name, size, mtime_ns}]`` of ``paths`` (name: the id's path, relative to ``base``), as
    they are now; what ``_SUCCESS.json`` records as ``input_files`` and a rerun compares.
    (Objects: from a listing up to two seconds old, unless ``fresh``.)"""
    if storage.is_remote(base):
        return _remote_manifest(paths, base, fresh)
    found = []
    for p in paths:
        p = Path(p)
        try:
            st = os.stat(p) if os.path.exists(p) else os.lstat(p)
            size, mtime = st.st_size, st.st_mtime_ns
        except OSError:
            size = mtime = None
        # a file name that is not UTF-8 (surrogate escapes) is kept as \xNN escapes: writable, and
        # the same on every run
        name = relative_id(p, base).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        found.append({"name": name, "size": size, "mtime_ns": mtime})
    return found


def _remote_manifest(paths, base: storage.RemotePath, fresh: bool) -> list[dict]:
    """``file_manifest`` of objects under ``base``: sizes and times from one listing (an object
    gone since it was listed: size and time None, as for a missing local file)."""
    paths = [storage.location(p) for p in paths]
    listed = storage.stats_of(paths, base, max_age=0.0 if fresh else None) if paths else {}
    found = []
    for p in paths:
        size, mtime = listed.get(str(p), (None, None))
        found.append({"name": p.relative_to(base), "size": size, "mtime_ns": mtime})
    return found


def listing_manifest(date: dt.date) -> list[dict]:
    """The manifest of everything the day's listing holds: inputs and entries rejected unread."""
    listing = partition_listing(date)
    return sorted(file_manifest([*listing.inputs, *(Path(d.source) for d in listing.rejects)], raw_dir(date)),
                  key=lambda e: e["name"])


def digest(manifest: list[dict]) -> str:
    """A short fingerprint of a manifest (what an intermediate output was made from)."""
    return hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()[:20]


_DAY_DIGESTS: dict[tuple, tuple[float, str]] = {}


def day_digest(date: dt.date, fresh: bool = False) -> str:
    """Fingerprint of the day's input files (the site profile depends on all of them).

    Every shard's ``complete()`` asks, several times per run: the answer is kept for two
    seconds (unless ``fresh``), so that a day of many shards is listed once per scheduling pass,
    not once per shard.
    """
    key = (date, decruft().raw_root, decruft().follow_symlinks)
    now = time.monotonic()
    hit = _DAY_DIGESTS.get(key)
    if hit is not None and now - hit[0] < storage.LISTING_MAX_AGE and not fresh:
        return hit[1]
    value = digest(file_manifest(partition_listing(date).inputs, raw_dir(date), fresh))
    _DAY_DIGESTS[key] = (now, value)
    return value


def read_json(path) -> dict | None:
    return storage.read_json(path)


def _made_from(path, key: str, current) -> bool:
    """Whether the JSON output at ``path`` records ``key`` equal to ``current`` (a callable taking
    ``fresh``, called only when needed). Outputs written before inputs were recorded (no ``key``)
    count as current."""
    data = read_json(path)
    if data is None:
        return False
    return key not in data or _still(data[key], current)


def _still(recorded, current) -> bool:
    """Whether ``recorded`` equals ``current()`` (a manifest or digest of inputs). The answer from
    a listing kept for two seconds may predate objects rewritten since (the run that wrote
    ``recorded`` listed afresh): only a fresh listing may say no."""
    return recorded == current(False) or recorded == current(True)


class LearnShardSites(luigi.Task):
    """Per site, how many of one shard's documents hold each line → ``_shards/part-NNNNN.sites.json``.

    The site-profile pass is split by shard so that several workers share it.
    """

    date = luigi.DateParameter()
    index = luigi.IntParameter()
    files = luigi.ListParameter(significant=True, visibility=luigi.parameter.ParameterVisibility.PRIVATE)

    def output(self):
        return storage.target(clean_dir(self.date) / "_shards" / f"part-{self.index:05d}.sites.json")

    def inputs_digest(self, fresh: bool = False) -> str:
        return digest(file_manifest(self.files, raw_dir(self.date), fresh))

    def complete(self):
        """Written, from these files as they are now (a changed day is learnt again)."""
        return self.output().exists() and _made_from(self.output().path, "inputs", self.inputs_digest)

    def run(self):
        with partition_lock(self.date, exclusive=False):
            if self.complete():  # another run of this day wrote it meanwhile
                return
            made_from = self.inputs_digest(fresh=True)  # before reading: a change while reading shows next time
            cfg = decruft().clean_config()
            learner = site_counts(self.files, raw_dir(self.date), cfg)
            write_json(self.output(), dict(learner.state(), inputs=made_from))


class LearnSiteProfiles(luigi.Task):
    """Per site, the lines that recur in many of a day's documents → ``_site_profiles.json``."""

    date = luigi.DateParameter()

    def requires(self):
        return [LearnShardSites(date=self.date, index=i, files=[str(p) for p in files])
                for i, files in enumerate(partition_plan(self.date))]

    def output(self):
        return storage.target(clean_dir(self.date) / "_site_profiles.json")

    def complete(self):
        """Written, from the day's files as they are now (a changed day is learnt again)."""
        return self.output().exists() and _made_from(self.output().path, "inputs", lambda fresh: day_digest(self.date, fresh))

    def run(self):
        with partition_lock(self.date, exclusive=False):
            if self.complete():  # another run of this day wrote it meanwhile
                return
            made_from = day_digest(self.date, fresh=True)  # as the shards it reads listed them
            cfg = decruft().clean_config()
            learner = ProfileLearner(max_words=cfg.site_max_words)
            for target in self.input():
                with target.open("r") as fh:
                    learner.merge(json.load(fh))
            profile = dict(learner.profile(cfg.site_min_share, cfg.site_min_docs), inputs=made_from)
            with self.output().open("w") as fh:
                json.dump(profile, fh, ensure_ascii=False, indent=1)
        self.set_status_message(f"{len(profile['sites'])} sites with boilerplate lines")


class RawPartitionReady(luigi.ExternalTask):
    """The crawler's ``_READY`` marker in a day folder (only required when ``require_ready`` is on)."""

    date = luigi.DateParameter()

    def output(self):
        return storage.target(raw_dir(self.date) / "_READY")


def shard_outputs(folder: Path, index: int, output_format: str) -> dict[str, luigi.target.FileSystemTarget]:
    """What shard ``index`` of the partition in ``folder`` writes (``write_batch``'s ``out``)."""
    name = f"part-{index:05d}"
    return {  # part-NNNNN.jsonl / .jsonl.gz / .parquet, or the folder part-NNNNN/ for txt-dir
        "records": storage.target(folder / f"{name}{FORMAT_SUFFIX[output_format]}"),
        "rejects": storage.target(folder / "_shards" / f"{name}.rejects.jsonl"),
        "stats": storage.target(folder / "_shards" / f"{name}.stats.json"),
        "ids": storage.target(folder / "_shards" / f"{name}.ids.json"),
        "scan": storage.target(folder / "_shards" / f"{name}.scan.json"),
    }


def shard_complete(out: dict[str, luigi.LocalTarget], files, base: Path, profile_inputs=None) -> bool:
    """Every one of a shard's outputs written, from ``files`` as they are now and, with
    ``profile_inputs`` (a callable taking ``fresh``: the day's digest now), from the site profile of the day as it is."""
    if not all(t.exists() for t in out.values()):
        return False
    stats = read_json(out["stats"].path)
    if stats is None:
        return False
    if "input_files" in stats and not _still(stats["input_files"], lambda fresh: file_manifest(files, base, fresh)):
        return False
    if profile_inputs is not None and "profile_inputs" in stats and not _still(stats["profile_inputs"], profile_inputs):
        return False
    return True


class CleanShard(luigi.Task):
    """One shard of a day's partition: a fixed list of input files → ``part-NNNNN.jsonl``."""

    date = luigi.DateParameter()
    index = luigi.IntParameter()
    files = luigi.ListParameter(significant=True, visibility=luigi.parameter.ParameterVisibility.PRIVATE)

    def requires(self):
        _warm_up_once()
        deps = {}
        if decruft().site_profiles:
            deps["profiles"] = LearnSiteProfiles(date=self.date)
        if decruft().require_ready:
            deps["ready"] = RawPartitionReady(date=self.date)
        return deps

    def output(self):
        return shard_outputs(clean_dir(self.date), self.index, decruft().output_format)

    def complete(self):
        """Every output written, from these files as they are now and (with site profiles) from
        the day as it is now: after a change of the day's inputs, a shard is cleaned again."""
        return shard_complete(self.output(), self.files, raw_dir(self.date),
                              (lambda fresh: day_digest(self.date, fresh)) if decruft().site_profiles else None)

    def run(self):
        with partition_lock(self.date, exclusive=False):
            if self.complete():  # another run of this day cleaned this shard meanwhile
                self.set_status_message("cleaned by another run")
                return
            out = self.output()
            base = raw_dir(self.date)
            extra = {"shard": self.index, "files": len(self.files),
                     "input_files": file_manifest(self.files, base, fresh=True)}  # before reading them
            profiles = None
            if "profiles" in self.input():
                with self.input()["profiles"].open("r") as fh:
                    data = json.load(fh)
                profiles = SiteProfiles(data)
                if "inputs" in data:
                    extra["profile_inputs"] = data["inputs"]
            stats = write_batch([storage.location(p) for p in self.files], base, out, extra, profiles=profiles,
                                task=self)
        self.set_progress_percentage(100)
        self.set_status_message(f"{stats.cleaned} cleaned, {stats.rejected} rejected")


def input_changes(recorded: list[dict], current: list[dict]) -> dict[str, list[str]]:
    """Names ``new``, ``changed`` (size or mtime) and ``missing`` between two manifests."""
    before = {e["name"]: (e["size"], e["mtime_ns"]) for e in recorded}
    now = {e["name"]: (e["size"], e["mtime_ns"]) for e in current}
    return {
        "new": sorted(n for n in now if n not in before),
        "changed": sorted(n for n in now if n in before and now[n] != before[n]),
        "missing": sorted(n for n in before if n not in now),
    }


def describe_changes(changes: dict[str, list[str]], limit: int = 10) -> str:
    def names(found: list[str]) -> str:
        shown = ", ".join(found[:limit])
        return shown + (f", … ({len(found) - limit} more)" if len(found) > limit else "")
    return "; ".join(f"{len(v)} {k} ({names(v)})" for k, v in changes.items() if v)


_SAID: set[str] = set()


def say_once(message: str) -> None:
    """A warning on stderr (Luigi's log), once per process however often complete() is asked."""
    if message not in _SAID:
        _SAID.add(message)
        logger.warning(message)


class PartitionInputsUnchanged(luigi.ExternalTask):
    """The inputs of a cleaned day are still those ``_SUCCESS.json`` records.

    Required by ``CleanPartition`` only when they are not and ``on_input_change = fail``: the
    day is then "missing data" (exit 20, luigi.cfg ``[retcode] missing_data``) and nothing is
    rewritten.
    """

    date = luigi.DateParameter()

    def complete(self):
        changes = CleanPartition(date=self.date).input_changes()
        if changes:
            say_once(f"{raw_dir(self.date)} changed since {clean_dir(self.date)} was cleaned: "
                     f"{describe_changes(changes)}. on_input_change = fail: nothing done; clean the day again "
                     "with on_input_change = reclean (luigi.cfg, --decruft-on-input-change reclean, "
                     "decruft run --on-input-change reclean)")
        return not changes

    def output(self):
        return storage.target(clean_dir(self.date) / "_SUCCESS.json")


class CleanPartition(luigi.Task):
    """Every dump under ``<raw_root>/<date>/`` → ``<clean_root>/<date>/`` (see module doc).

    Complete when ``_SUCCESS.json`` exists, names the configured ``output_format`` and records
    the inputs the day holds now (names, sizes, mtimes). A day complete in another format is an
    error unless ``force`` is set (then it is cleaned again in the new one). A day whose inputs
    changed is "missing data" (exit 20) with ``on_input_change = fail``, cleaned again with
    ``reclean`` (only the shards whose files changed, all of them when site profiles are on).
    """

    date = luigi.DateParameter(default=dt.date.today())

    def raw_dir(self) -> Path:
        return raw_dir(self.date)

    def has_input(self) -> bool:
        """A day folder exists and, when ``require_ready`` is on, holds its ``_READY`` marker."""
        raw = self.raw_dir()
        return raw.is_dir() and (not decruft().require_ready or (raw / "_READY").exists())

    @classmethod
    def bulk_complete(cls, parameter_tuples):
        """For ``RangeDaily``: days already cleaned, and days with nothing to clean yet. A day
        whose inputs changed is not complete: ``on_input_change`` decides what happens to it."""
        tasks = (cls(date=date) for date in parameter_tuples)
        return [task.date for task in tasks if task.complete() or not task.has_input()]

    def recorded(self) -> dict | None:
        """``_SUCCESS.json`` as written, or None."""
        return read_json(self.output().path)

    def recorded_format(self, summary: dict) -> str | None:
        """The format the day was cleaned in (from the part files for days cleaned before it was recorded)."""
        if "output_format" in summary:
            return summary["output_format"]
        found = {{"md-dir": "markdown"}.get(f, f) for f in map(format_of, storage.location(self.output().path).parent.glob("part-*"))} - {None}
        return found.pop() if len(found) == 1 else None

    def other_format(self) -> str | None:
        """The format a complete day was cleaned in when it is not the configured one."""
        summary = self.recorded()
        if summary is None:
            return None
        fmt = self.recorded_format(summary)
        return fmt if fmt is not None and fmt != decruft().output_format else None

    def input_changes(self) -> dict[str, list[str]] | None:
        """New, changed and missing input names since the day was cleaned; None when none (or
        when the day is not cleaned, or was cleaned before inputs were recorded)."""
        summary = self.recorded()
        if summary is None or "input_files" not in summary or not self.raw_dir().is_dir():
            return None
        changes = input_changes(summary["input_files"], listing_manifest(self.date))
        return changes if any(changes.values()) else None

    def complete(self):
        return (self.output().exists() and self.recorded() is not None and self.other_format() is None
                and self.input_changes() is None)

    def requires(self):
        cfg = decruft()
        if self.output().exists():
            if self.other_format() is not None and not cfg.force:
                return  # run() says why; nothing else is touched
            if cfg.on_input_change == "fail" and self.input_changes() is not None:
                yield PartitionInputsUnchanged(date=self.date)
                return
        if cfg.require_ready:
            yield RawPartitionReady(date=self.date)
        for i, files in enumerate(partition_plan(self.date)):
            yield CleanShard(date=self.date, index=i, files=[str(p) for p in files])

    def shards(self) -> list[CleanShard]:
        return [t for t in self.requires() if isinstance(t, CleanShard)]

    def output(self):
        return storage.target(clean_dir(self.date) / "_SUCCESS.json")

    def run(self):
        if not self.raw_dir().is_dir():
            raise FileNotFoundError(f"no raw partition folder {self.raw_dir()}")
        other = self.other_format()
        if other is not None and not decruft().force:
            raise RuntimeError(f"{clean_dir(self.date)} is already complete as {other}, not "
                               f"{decruft().output_format}: nothing done. To clean it again as "
                               f"{decruft().output_format} (replacing the {other} files), use --force "
                               "(decruft run) or --decruft-force true")
        with partition_lock(self.date, exclusive=True):
            if self.complete():  # another run of this day finished it meanwhile
                self.set_status_message("finished by another run")
                return
            self._finish()

    def _finish(self):
        """Clean up, make ids unique, merge rejects and counts, write the report, then _SUCCESS.json.
        Runs under the partition's exclusive lock: nobody else writes here meanwhile."""
        shards = self.shards()
        out_dir = storage.location(self.output().path).parent
        expected = {storage.location(s.output()["records"].path).name for s in shards}
        for stale in sorted(out_dir.glob("part-*")):
            # left by an earlier plan of this partition with more shards, or another output_format
            if stale.name not in expected and format_of(stale) is not None:
                storage.remove(stale)
        if not storage.is_remote(out_dir):  # object storage gets no temporary objects: nothing to clean
            # Left by a killed run: every shard is complete by now, and under the exclusive lock no
            # other run is writing (a live run's temporary files are never touched).
            for litter in [*out_dir.glob("*-luigi-tmp-*"), *out_dir.glob("_shards/*-luigi-tmp-*")]:
                litter.unlink(missing_ok=True)
            for litter in [*out_dir.glob(".part-*.tmp"), *out_dir.glob(".part-*.old")]:  # the writers' own
                shutil.rmtree(litter, ignore_errors=True) if litter.is_dir() else litter.unlink(missing_ok=True)
        final_ids = self._make_ids_unique(shards)
        total, scan = BatchStats(), PartitionScan(rejects_present=True)
        version = version_info(decruft().clean_config())
        with storage.target(out_dir / "_rejects.jsonl").open("w") as rejects:
            for shard in shards:
                with shard.output()["rejects"].open("r") as fh:
                    for line in fh:
                        rejects.write(line)
                with shard.output()["stats"].open("r") as fh:
                    total.merge(json.load(fh))
                with shard.output()["scan"].open("r") as fh:
                    scan.merge(json.load(fh))
            listing_rejects = partition_listing(self.date).rejects
            for doc in listing_rejects:  # rejected unread: links outside raw_root, …
                record = doc.to_reject(version)
                rejects.write(dumps(record) + "\n")
                total.count(Tally.of(doc))
                scan.add_reject(record)
        self._read_sample(shards, final_ids, scan)
        in_order = [i for shard in shards for i in final_ids[shard.index]]
        scan.rename(in_order.__getitem__)  # the report's lowest-quality table names final ids
        # What was cleaned, as each shard saw its files before reading them, and what the
        # listing rejected unread: a later run compares this with the day as it is then.
        manifest = []
        for shard in shards:
            stats = read_json(shard.output()["stats"].path) or {}
            manifest.extend(stats.get("input_files") or file_manifest(shard.files, self.raw_dir()))
        manifest.extend(file_manifest([Path(d.source) for d in listing_rejects], self.raw_dir()))
        counts = total.as_dict()
        if counts["inputs"] != counts["cleaned"] + counts["rejected"]:
            raise RuntimeError(f"lost documents: {counts}")
        summary = {
            "date": self.date.isoformat(),
            "raw_dir": str(self.raw_dir()),
            "shards": len(shards),
            **counts,
            "version": version_info(decruft().clean_config()),
            "output_format": decruft().output_format,
            "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "input_files": sorted(manifest, key=lambda e: e["name"]),
        }
        with storage.target(out_dir / "_report.html", format=luigi.format.UTF8).open("w") as fh:
            write_report(out_dir, fh, summary=summary, scan=scan)
        with self.output().open("w") as fh:
            json.dump(summary, fh, ensure_ascii=False, indent=1)
        self.set_status_message(f"{counts['cleaned']} cleaned, {counts['rejected']} rejected")

    @staticmethod
    def _read_sample(shards, final_ids: dict[int, list[str]], scan: PartitionScan) -> None:
        """Read the records of the report's sampled documents (partition order → shard, line)."""
        starts, n = [], 0
        for shard in shards:
            starts.append(n)
            n += len(final_ids[shard.index])
        wanted: dict[int, set[int]] = {}
        for order in scan.sample_orders():
            i = bisect.bisect_right(starts, order) - 1
            wanted.setdefault(i, set()).add(order - starts[i])
        records = {}
        for i, positions in sorted(wanted.items()):
            path = storage.location(shards[i].output()["records"].path)
            with storage.local_copy(path) as local:
                for n, rec in records_at(format_of(path) or decruft().output_format, local, positions):
                    records[starts[i] + n] = rec
        scan.fill_sample(records)

    @staticmethod
    def _make_ids_unique(shards) -> dict[int, list[str]]:
        """Ids repeated across shards get ``~N`` (shards are cleaned apart), first come first served.

        Each shard's ids come from its ``_shards/part-NNNNN.ids.json``; only a shard whose ids
        change is rewritten (atomically, streamed: ``pipeline.writers.rewrite_ids``), then its
        ids file, so that a rerun finds the same ids again. Returns each shard's final ids.
        """
        ids, final = UniqueIds(), {}
        for shard in shards:
            target = shard.output()["ids"]
            with target.open("r") as fh:
                old = json.load(fh)
            new = [ids.claim(i) for i in old]
            if new != old:
                path = storage.location(shard.output()["records"].path)
                fmt = format_of(path) or decruft().output_format
                if storage.is_remote(path):  # rewritten locally, then uploaded whole in its place
                    with storage.local_copy(path) as local:
                        rewrite_ids(fmt, local, new)
                        path.upload(local)
                else:
                    rewrite_ids(fmt, path, new)
                write_json(target, new)
            final[shard.index] = new
        return final


class CleanFile(luigi.Task):
    """One input file → ``<clean_root>/files/<name>.<key>.jsonl`` (+ ``.rejects.jsonl``, ``.stats.json``).

    ``<key>`` is a hash of the file's absolute path: ``/a/note.txt`` and ``/b/note.txt`` never
    share an output (the name stays for people reading the folder).
    """

    path = luigi.Parameter()

    def output(self):
        src = storage.location(self.path)
        key = hashlib.sha256(str(src if storage.is_remote(src) else src.resolve()).encode()).hexdigest()[:12]
        stem = f"{src.name}.{key}"
        out = storage.location(decruft().clean_root) / "files"
        fmt = decruft().output_format  # txt-dir / markdown: the folder <name>.<key>.txt-dir/ or .md-dir/
        suffix = FORMAT_SUFFIX[fmt] or f".{writer_format(fmt)}"
        return {
            "records": storage.target(out / f"{stem}{suffix}"),
            "rejects": storage.target(out / f"{stem}.rejects.jsonl"),
            "stats": storage.target(out / f"{stem}.stats.json"),
        }

    def run(self):
        src = storage.location(self.path)
        if not src.is_file():
            raise FileNotFoundError(f"no such input file: {src}")
        out = self.output()
        write_batch([src], src.parent, out, {"file": str(src)}, ids=UniqueIds())
