"""SparkCleanPartition: one day's partition cleaned on a Spark cluster, same outputs as CleanPartition.

``luigi --module tasks SparkCleanPartition --date D`` (or ``decruft run D --engine spark --master URL``)
runs as a ``luigi.contrib.spark.PySparkTask``: the Luigi worker does what needs the day as a whole,
spark-submit's driver hands the heavy passes to the executors.

- In the Luigi worker (``CleanPartition.run``, under the partition's exclusive lock): the day is
  listed (``pipeline.batch.list_inputs``), its files are cut into ``[spark] partitions``
  contiguous shards of about equal bytes, shards already complete (as ``CleanShard.complete``
  tells) are left alone, and the job is pickled for spark-submit.
- On the cluster (``main``): the site-profile pass is a distributed count, one Spark task per
  shard counting lines per site (``learn_site_counts``, map), the counts summed
  (``ProfileLearner.merge``, reduce), the profile written to ``_site_profiles.json`` and
  broadcast; then one Spark task per shard cleans its files (``write_batch``, what a
  ``CleanShard`` runs) into the shard's outputs.
- Back in the Luigi worker: ``CleanPartition._finish`` makes ids unique across shards, merges
  rejects and counts, writes ``_report.html`` and then ``_SUCCESS.json``.

Commit protocol: every output of a shard is written to a temporary name and renamed into place
when whole (the writers' own, and ``luigi.LocalTarget``), the stats file last; a shard counts as
done only when all its outputs exist and its stats record the files as they are. A task
retried by Spark (an executor lost mid-way) writes the same shard again, or finds it done: each
document ends in one part file, once. A killed run leaves only temporary names, which the
finish step removes.
"""
from __future__ import annotations

import contextlib
import importlib.util
import json
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import luigi
from luigi import configuration
from luigi.contrib.spark import PySparkTask

from pipeline.config import CleanConfig
from pipeline.site_profile import ProfileLearner, SiteProfiles

from .clean import (CleanPartition, CleanShard, LearnSiteProfiles, clean_dir, day_digest, file_manifest,
                    partition_listing, raw_dir, read_json, shard_complete, shard_outputs, site_counts, write_batch)
from . import storage
from .config import decruft

REPO = Path(__file__).resolve().parents[1]  # what executors put on their PYTHONPATH (pipeline/, tasks/)
_FILES_PER_PARTITION = 500  # with [spark] partitions = 0: at least one partition per this many files
_BYTES_PER_PARTITION = 32 * 2**20  # … and per this many bytes


def spark_setting(name: str, default=None):
    """A key of luigi.cfg's ``[spark]`` section (Luigi's own keys and decruft's, e.g. ``partitions``)."""
    return configuration.get_config().get("spark", name, default)


def plan_partitions(files: list[Path], partitions: int) -> list[list[Path]]:
    """``files`` in order, cut into ``partitions`` runs of consecutive files of about equal work
    (fewer when there are fewer files, or a file outweighs a run's share). A file weighs its bytes
    plus an average file's (a small file is still a document to clean). ``partitions`` 0: one run
    per 500 files or 32 MB, at least min(8, files), so that the cores share a small day too."""
    if not files:
        return []
    sizes = []
    for path in files:
        try:
            sizes.append(max(1, path.stat().st_size))
        except (OSError, storage.StorageError):
            sizes.append(1)
    if partitions <= 0:
        partitions = max(math.ceil(len(files) / _FILES_PER_PARTITION), math.ceil(sum(sizes) / _BYTES_PER_PARTITION),
                         min(8, len(files)))
    partitions = min(partitions, len(files))
    # each file goes to the share of the work its middle falls in: consecutive runs, never empty
    average = sum(sizes) / len(sizes)
    weights = [size + average for size in sizes]
    total, before, groups, last = sum(weights), 0.0, [], -1
    for path, size in zip(files, weights):
        index = min(partitions - 1, int((before + size / 2) * partitions / total))
        if index != last:
            groups.append([])
            last = index
        groups[-1].append(path)
        before += size
    return groups


def spark_home() -> str | None:
    """``SPARK_HOME``, else the Spark inside the pyspark package (``decruft[spark]``), else None."""
    if os.environ.get("SPARK_HOME"):
        return os.environ["SPARK_HOME"]
    spec = importlib.util.find_spec("pyspark")
    return spec.submodule_search_locations[0] if spec and spec.submodule_search_locations else None


def with_repo(pythonpath: str) -> str:
    """``pythonpath`` with this checkout first (executors import ``pipeline`` and ``tasks`` from it)."""
    parts = [p for p in pythonpath.split(os.pathsep) if p and p != str(REPO)]
    return os.pathsep.join([str(REPO), *parts])


@dataclass
class SparkJob:
    """What the Spark driver and executors need, from the Luigi worker (they read no luigi.cfg)."""

    cwd: str  # relative raw_root / clean_root / rules_dir are relative to this folder
    base: str  # the day's raw folder: ids are file paths relative to it
    out: str  # the day's clean folder
    cfg: CleanConfig
    output_format: str
    timeout: float
    shards: list[tuple[int, list[str]]]  # (index, files) of every shard of the day
    todo: list[int]  # the shards to clean
    site_profiles: bool
    profile: dict | None = None  # the day's site profile when already learnt
    profile_inputs: str | None = None  # the day's digest, recorded in a profile learnt now


@contextlib.contextmanager
def _in_folder(folder: str):
    """Run in the Luigi worker's folder, so that relative settings name the same files there."""
    before = os.getcwd()
    try:
        os.chdir(folder)
    except OSError as exc:
        raise RuntimeError(f"this executor cannot enter {folder} ({exc.strerror}): give raw_root, clean_root "
                           "and rules_dir as absolute paths on storage every executor mounts") from None
    try:
        yield
    finally:
        os.chdir(before)


def count_sites(job: SparkJob, index: int) -> dict:
    """Map: per site, how many of shard ``index``'s documents hold each line (``ProfileLearner.state``)."""
    with _in_folder(job.cwd):
        files = dict(job.shards)[index]
        return site_counts(files, job.base, job.cfg).state()  # as LearnShardSites counts


def add_site_counts(max_words: int):
    """Reduce: two shards' counts summed (``ProfileLearner.merge``)."""
    def add(a: dict, b: dict) -> dict:
        learner = ProfileLearner(max_words=max_words)
        learner.merge(a)
        learner.merge(b)
        return learner.state()
    return add


def clean_shard(job: SparkJob, index: int, profile: dict | None) -> dict:
    """One shard's files cleaned into its outputs (``write_batch``, as ``CleanShard.run``); a shard
    already complete (a retried task whose first attempt finished) is left as it is."""
    with _in_folder(job.cwd):
        files = [storage.location(p) for p in dict(job.shards)[index]]
        base = storage.location(job.base)
        out = shard_outputs(storage.location(job.out), index, job.output_format)
        profile_inputs = profile.get("inputs") if profile else None
        if shard_complete(out, files, base, (lambda fresh: profile_inputs) if profile_inputs else None):
            return {"shard": index, "written": False, **(read_json(out["stats"].path) or {})}
        extra = {"shard": index, "files": len(files), "input_files": file_manifest(files, base, fresh=True)}  # before reading
        profiles = None
        if profile is not None:
            profiles = SiteProfiles(profile)
            if profile_inputs:
                extra["profile_inputs"] = profile_inputs
        stats = write_batch(files, base, out, extra, profiles=profiles,
                            cfg=job.cfg, output_format=job.output_format, timeout=job.timeout)
        return {"shard": index, "written": True, **stats.as_dict()}


def run_job(sc, job: SparkJob) -> list[dict]:
    """The two passes on the cluster (module doc); returns each cleaned shard's counts."""
    profile = job.profile
    shared_job = sc.broadcast(job)  # the shards' file lists, sent to each executor once
    if job.site_profiles and profile is None:
        indexes = [i for i, _ in job.shards]
        counts = (sc.parallelize(indexes, len(indexes))
                  .map(lambda i: count_sites(shared_job.value, i))
                  .reduce(add_site_counts(job.cfg.site_max_words)))
        learner = ProfileLearner(max_words=job.cfg.site_max_words)
        learner.merge(counts)
        profile = dict(learner.profile(job.cfg.site_min_share, job.cfg.site_min_docs), inputs=job.profile_inputs)
        with _in_folder(job.cwd):
            with storage.target(storage.location(job.out) / "_site_profiles.json").open("w") as fh:
                json.dump(profile, fh, ensure_ascii=False, indent=1)
    if not job.todo:
        return []
    shared_profile = sc.broadcast(profile)
    return (sc.parallelize(job.todo, len(job.todo))
            .map(lambda i: clean_shard(shared_job.value, i, shared_profile.value))
            .collect())


class SparkCleanPartition(PySparkTask, CleanPartition):
    """``CleanPartition`` with its shards cleaned on Spark (module doc). Complete, rerun, input
    changes, output formats, ``RangeDaily`` and exit codes: as for ``CleanPartition``.

    luigi.cfg ``[spark]``: ``master`` (required: a cluster's URL, or ``local[N]``), ``executor_memory``,
    ``driver_memory``, ``conf`` (``key=value|key=value``), ``partitions`` (shards of a day; 0: by size),
    ``spark_submit`` (default: the pyspark package's), ``pyspark_python`` (the executors' Python;
    default: this one), and Luigi's other ``[spark]`` keys.
    """

    run = CleanPartition.run
    complete = CleanPartition.complete
    output = CleanPartition.output

    @property
    def name(self):
        return f"decruft {self.date.isoformat()}"

    @property
    def master(self):
        master = spark_setting("master")
        if not master:
            raise RuntimeError("SparkCleanPartition needs a Spark master: [spark] master in luigi.cfg, or "
                               "decruft run --engine spark --master URL (spark://host:7077, or local[2] on one machine)")
        return master

    @property
    def spark_submit(self):
        home = spark_home()
        return spark_setting("spark_submit", str(Path(home) / "bin" / "spark-submit") if home else "spark-submit")

    @property
    def pyspark_python(self):
        return spark_setting("pyspark_python", sys.executable)

    @property
    def conf(self):
        conf = {"spark.executorEnv.PYTHONPATH": with_repo(os.environ.get("PYTHONPATH", "")),
                # a task lost with its executor runs again (Spark's default, said here for the README)
                "spark.task.maxFailures": "4"}
        conf.update(super().conf or {})
        return conf

    def program_environment(self):
        env = super().program_environment()
        env["PYTHONPATH"] = with_repo(env.get("PYTHONPATH", ""))
        env["PYSPARK_PYTHON"] = self.pyspark_python
        home = spark_home()
        if home and "SPARK_HOME" not in env:
            env["SPARK_HOME"] = home
        return env

    def requires(self):
        # CleanPartition's requirements but its shards, which run on the cluster instead
        return [t for t in CleanPartition.requires(self) or () if not isinstance(t, CleanShard)]

    def partition_plan(self) -> list[list[Path]]:
        return plan_partitions(partition_listing(self.date).inputs, int(spark_setting("partitions", 0) or 0))

    def shards(self) -> list[CleanShard]:
        """The shards of the Spark plan, as ``CleanShard`` objects (their outputs, what is complete)."""
        return [CleanShard(date=self.date, index=i, files=[str(p) for p in files])
                for i, files in enumerate(self.partition_plan())]

    def _finish(self):
        """Clean on the cluster what is not complete, then finish as ``CleanPartition`` does."""
        cfg = decruft()
        shards = self.shards()
        profile = None
        if cfg.site_profiles:
            learnt = LearnSiteProfiles(date=self.date)
            if learnt.complete():
                profile = read_json(learnt.output().path)
        todo = [s.index for s in shards if not s.complete()]
        if shards and (todo or (cfg.site_profiles and profile is None)):  # a day of no files: nothing to run
            self._job = SparkJob(
                cwd=os.getcwd(), base=str(raw_dir(self.date)), out=str(clean_dir(self.date)),
                cfg=cfg.clean_config(), output_format=cfg.output_format, timeout=cfg.document_timeout,
                shards=[(s.index, list(s.files)) for s in shards], todo=todo, site_profiles=cfg.site_profiles,
                profile=profile, profile_inputs=day_digest(self.date, fresh=True) if cfg.site_profiles else None)
            self.set_status_message(f"{len(todo)} of {len(shards)} shards on Spark ({self.master})")
            PySparkTask.run(self)
        CleanPartition._finish(self)

    def main(self, sc, *args):
        """In spark-submit's driver: the passes of ``run_job``."""
        run_job(sc, self._job)
