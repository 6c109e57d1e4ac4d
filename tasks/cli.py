"""The ``decruft`` command: clean, explain, eval, run, report, config. A thin layer over ``pipeline``.

Exit codes (README, "Exit codes"): ``clean``/``explain`` 0 when every document was cleaned, 1 when
some were rejected or a path could not be read (the rest is written), 2 for a usage or
configuration error; ``run`` exits with luigi.cfg's ``[retcode]`` codes.

Imports are made where a command needs them: ``decruft --help`` loads neither Luigi nor
trafilatura (``benchmarks/startup.py`` measures it).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, TextIO

from pipeline.readers import FORMATS
from pipeline.writers import OUTPUT_FORMATS, PARTITION_FORMATS, atomic_text_file

if TYPE_CHECKING:
    from pipeline.batch import BatchStats
    from pipeline.config import CleanConfig

PROG = "decruft"
OK, SOME_REJECTED, USAGE = 0, 1, 2  # decruft clean / explain / eval / report


def fail(message: str, code: int = SOME_REJECTED) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return code


class UsageError(Exception):
    """A usage or configuration error found by a command: one line on stderr, exit 2."""


@contextlib.contextmanager
def atomic_output(path: str | None) -> Iterator[TextIO]:
    """stdout, or a file written to a temporary name and renamed into place on success."""
    if path is None or path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    from tasks.storage import is_url, local_output

    if is_url(path):  # written locally, uploaded whole on success (tasks.storage)
        with local_output(path) as local, atomic_text_file(local) as fh:
            yield fh
        return
    with atomic_text_file(path) as fh:
        yield fh


def config_from_args(args: argparse.Namespace) -> "CleanConfig":
    from pipeline.config import CleanConfig

    return CleanConfig(
        rules_dirs=tuple(Path(d) for d in args.rules or ()),
        disabled_rules=frozenset(args.disable_rule or ()),
        statistical=not args.rules_only,
        min_quality=getattr(args, "min_quality", None),
        max_removed_share=getattr(args, "max_removed_share", None),
        keep_langs=keep_langs_of(args),
        markdown=bool(getattr(args, "markdown", False)),
    )


def keep_langs_of(args: argparse.Namespace) -> frozenset[str]:
    from pipeline.language import parse_languages

    try:
        return parse_languages(",".join(getattr(args, "keep_lang", None) or ()))
    except ValueError as exc:
        raise UsageError(f"--keep-lang: {exc}") from None


def list_folder(folder: Path, follow_symlinks: bool = False):
    """The input files of a folder given to ``decruft clean``, and the entries rejected unread
    (links out of the folder, dangling links, …): the same listing as a partition's day, with
    the folder as the root (``pipeline.batch.list_inputs``)."""
    from pipeline.batch import list_inputs

    return list_inputs(folder, folder, follow_symlinks)


def iter_remote_documents(name: str, fmt: str, cfg: "CleanConfig", unreadable: list[str]):
    """Documents of a URL: one object (its id the URL), or every object under a prefix, read as a
    folder is (ids relative to it, names starting with ``.`` or ``_`` left out). Each object is
    copied to a temporary file while it is read; records name the URL as their source."""
    from pipeline.batch import iter_file_documents
    from tasks import storage

    try:
        loc = storage.location(name)
        if loc.is_file():
            files, base = [loc], None
        elif loc.is_dir():
            files, base = storage.list_files(loc), loc
        else:
            files, base = None, None
    except Exception as exc:  # no driver, no credentials, no endpoint: said as it is
        print(f"{PROG}: cannot read {name}: {type(exc).__name__}: {exc}", file=sys.stderr)
        unreadable.append(name)
        return
    if files is None:
        print(f"{PROG}: cannot read {name}: no such file", file=sys.stderr)
        unreadable.append(name)
        return
    if not files:
        print(f"{PROG}: no input files in folder {name}", file=sys.stderr)
        unreadable.append(name)
        return
    for file in files:
        with storage.staged_inputs([file], base) as staged:
            yield from iter_file_documents(staged.paths[0], staged.base, cfg, fmt, source=staged.sources[0],
                                           doc_id=None if base is not None else str(file))


def iter_input_documents(paths: list[str], fmt: str, cfg: "CleanConfig", unreadable: list[str]):
    """Documents of every path: ``-`` is stdin, a folder is read recursively (ids relative to it);
    URLs (``s3://bucket/key``, a prefix for a folder) through ``tasks.storage``."""
    from pipeline.batch import iter_file_documents
    from pipeline.readers import documents_from_stream
    from tasks.storage import is_url

    cwd = Path.cwd()
    for name in paths:
        if is_url(name):
            yield from iter_remote_documents(name, fmt, cfg, unreadable)
            continue
        if name == "-":
            # read as a file is (gzip by its magic bytes, JSONL and WARC record by record)
            yield from documents_from_stream(sys.stdin.buffer, doc_id="<stdin>", source="<stdin>", fmt=fmt, cfg=cfg)
            continue
        path = Path(name)
        if path.is_dir() and os.access(path, os.R_OK | os.X_OK):
            files, rejected = list_folder(path)
            if not files and not rejected:
                print(f"{PROG}: no input files in folder {name}", file=sys.stderr)
                unreadable.append(name)
            yield from rejected  # already rejected: clean_or_reject passes them through
            for file in files:
                yield from iter_file_documents(file, path, cfg, fmt)
            continue
        if not path.is_file() or not os.access(path, os.R_OK):
            why = "no such file" if not path.exists() else "not a readable file"
            print(f"{PROG}: cannot read {name}: {why}", file=sys.stderr)
            unreadable.append(name)
            continue
        yield from iter_file_documents(path, cwd, cfg, fmt)


def _by_reason(counts: dict[str, int]) -> str:
    return ", ".join(f"{reason} {n}" for reason, n in sorted(counts.items()))


def failed_rejections(rejected_by_reason: dict[str, int]) -> int:
    """Rejected documents that count as failures: not those a filter the user set removed."""
    from pipeline.document import FILTERED_REASONS

    return sum(n for reason, n in rejected_by_reason.items() if reason not in FILTERED_REASONS)


def counts_phrase(cleaned: int, rejected: dict[str, int], capped: dict[str, int], skipped: dict[str, int]) -> str:
    """``5 cleaned, 2 rejected (empty 1, malformed_json 1), 0 capped`` (+ filtered, skipped records)."""
    from pipeline.document import FILTERED_REASONS

    filtered = {r: n for r, n in rejected.items() if r in FILTERED_REASONS}
    rejected = {r: n for r, n in rejected.items() if r not in FILTERED_REASONS}
    parts = [f"{cleaned} cleaned", f"{sum(rejected.values())} rejected" + (f" ({_by_reason(rejected)})" if rejected else "")]
    if filtered:
        parts.append(f"{sum(filtered.values())} filtered out as asked ({_by_reason(filtered)})")
    parts.append(f"{sum(capped.values())} capped" + (f" ({_by_reason(capped)})" if capped else ""))
    if skipped:
        parts.append(f"skipped {sum(skipped.values())} records that are not documents ({_by_reason(skipped)})")
    return ", ".join(parts)


def clean_summary(stats: "BatchStats", unreadable: list[str], where: str) -> str:
    """The one line ``decruft clean`` ends with, on stderr."""
    line = counts_phrase(stats.cleaned, stats.rejected_by_reason, stats.capped, stats.skipped)
    if unreadable:
        line += f", {len(unreadable)} path{'s' if len(unreadable) > 1 else ''} not read ({', '.join(unreadable)})"
    return f"{PROG}: {line}; output: {where}"


def cmd_clean(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from pipeline.clean import version_info
    from pipeline.writers import MARKDOWN_FORMATS, PATH_FORMATS, format_for_output

    to_stdout = args.output is None or args.output == "-"
    try:
        fmt = format_for_output(args.format, args.output)
    except ValueError as exc:
        return fail(str(exc), USAGE)
    if fmt in PATH_FORMATS and to_stdout:
        what = "FOLDER" if fmt in ("txt-dir", "md-dir") else "FILE"
        return fail(f"--format {fmt} needs -o {what} (it cannot be written to stdout)", USAGE)
    cfg = config_from_args(args)
    if fmt in MARKDOWN_FORMATS:
        cfg = replace(cfg, markdown=True)
    version = version_info(cfg)  # loads the rules: a bad rule file stops here, before any output
    from tasks import storage

    remote = [name for name in (None if to_stdout else args.output, args.rejects) if storage.is_url(name)]
    if fmt in ("txt-dir", "md-dir") and not to_stdout and storage.is_url(args.output):
        return fail(f"cannot write {args.output}: {fmt} is a folder of files, which object storage cannot "
                    "take in one piece; use jsonl, jsonl.gz or parquet there", USAGE)
    for name in remote:
        try:
            storage.location(name).check_writable()
        except Exception as exc:
            return fail(f"cannot write {name}: {exc}", USAGE)
    if to_stdout or not storage.is_url(args.output):
        return _clean(args, fmt, cfg, version, to_stdout, args.output)
    code = None
    try:  # on object storage: a local file, uploaded whole once complete
        with storage.local_output(args.output) as output:
            code = _clean(args, fmt, cfg, version, to_stdout, output)
    except (OSError, storage.StorageError) as exc:
        if code is None:  # not the upload
            raise
        return fail(f"cannot write {args.output}: {type(exc).__name__}: {exc} (nothing written there)", USAGE)
    return code


def _clean(args: argparse.Namespace, fmt: str, cfg: "CleanConfig", version: dict, to_stdout: bool, output) -> int:
    from pipeline.batch import BatchStats
    from pipeline.clean import clean_or_reject
    from pipeline.writers import UniqueIds, dumps, open_writer

    stats, ids, unreadable = BatchStats(), UniqueIds(), []
    target = sys.stdout if to_stdout else str(output).rstrip("/") if fmt in ("txt-dir", "md-dir") else output
    try:  # a file or folder is written atomically by the writer; stdout as it goes
        writer = open_writer(fmt, target)
    except (OSError, ValueError) as exc:
        return fail(f"cannot write {args.output}: {exc}", USAGE)
    documents = iter_input_documents(args.paths, args.input_format, cfg, unreadable)
    show = sys.stderr.isatty() if args.progress is None else args.progress
    if show:
        from tqdm import tqdm

        bar = tqdm(documents, unit=" docs", file=sys.stderr)
    else:
        bar = contextlib.nullcontext(documents)
    with writer as out, atomic_output(args.rejects) if args.rejects else contextlib.nullcontext() as rej, \
            bar as docs:
        say = bar.write if show else (lambda s, file: print(s, file=file))
        for doc in docs:
            if doc.skipped:  # not a document (e.g. a WARC 404 or image): counted, never cleaned
                stats.add(doc)
                continue
            clean_or_reject(doc, cfg)
            stats.add(doc)
            if doc.rejected:
                say(f"{PROG}: rejected {doc.id}: {doc.error}: {doc.detail}", file=sys.stderr)
                if rej is not None:
                    rej.write(dumps(doc.to_reject(version)) + "\n")
                continue
            doc.id = ids.claim(doc.id)
            out.write(doc.to_record(version))
    where = f"{'stdout' if to_stdout else args.output} ({fmt})"
    if args.rejects:
        where += f", rejects in {args.rejects}"
    print(clean_summary(stats, unreadable, where), file=sys.stderr)
    return SOME_REJECTED if failed_rejections(stats.rejected_by_reason) or unreadable else OK


_COLOURS = {"keep": "\033[32m", "drop": "\033[31m", "dim": "\033[2m", "end": "\033[0m"}


def cmd_explain(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from pipeline.clean import clean_or_reject, version_info

    cfg = replace(config_from_args(args), markdown=True)  # kept lines show their line class
    version_info(cfg)  # a bad rule file: exit 2 before any output
    colour = sys.stdout.isatty() and not args.no_colour
    paint = (lambda s, c: f"{_COLOURS[c]}{s}{_COLOURS['end']}") if colour else (lambda s, c: s)
    unreadable: list[str] = []
    rejected = 0
    for doc in iter_input_documents([args.path], args.input_format, cfg, unreadable):
        if doc.skipped:
            print(paint(f"# {doc.id}  skipped: {doc.skipped}", "dim"))
            continue
        clean_or_reject(doc, cfg)
        rejected += failed_rejections({doc.error: 1}) if doc.rejected else 0
        mix = " ".join(f"{d['lang']}:{d['share']}" for d in doc.langs)
        quality = "-" if doc.quality is None else f"{doc.quality:.3f}"
        print(paint(f"# {doc.id}  lang={doc.lang} ({doc.lang_score})  langs={mix or '-'}  quality={quality}  "
                    f"title={doc.title!r}", "dim"))
        if doc.error and not doc.decisions:
            print(paint(f"# rejected: {doc.error}: {doc.detail}", "drop"))
            continue
        para_langs, classes = iter(doc.paragraph_langs), iter(doc.line_classes)
        for d in doc.decisions:
            if d.keep:
                kind = getattr(next(classes, None), "kind", "")
                label = f"[{next(para_langs, '')}] {kind} {d.rule or ''}".rstrip()
            else:
                label = f"{d.reason}:{d.rule}"
            if d.score is not None:  # the line labeller's P(body)
                label += f" p={d.score:.2f}"
            verdict = paint("KEEP", "keep") if d.keep else paint("DROP", "drop")
            text = d.text if d.keep else paint(d.text, "dim")
            print(f"{verdict} {paint(label.ljust(28), 'dim')} {text}")
        if doc.error:
            print(paint(f"# rejected: {doc.error}: {doc.detail}", "drop"))
    return SOME_REJECTED if rejected or unreadable else OK


def cmd_eval(args: argparse.Namespace) -> int:
    from pipeline import evaluate

    cfg = config_from_args(args)
    corpus = Path(args.corpus)
    if not corpus.is_dir():
        return fail(f"eval: corpus folder not found: {corpus}", USAGE)
    result = evaluate.evaluate_corpus(corpus, args.input, evaluate.default_clean_fn(args.input, cfg),
                                      metric=args.metric)
    if not result["docs"]:
        return fail(f"eval: no gold texts in {corpus}: no page folder holds both gold.txt and "
                    f"{evaluate.INPUT_FILES[args.input]} (layout: {corpus}/<page>/gold.txt)", USAGE)
    print(json.dumps(result, indent=1, ensure_ascii=False) if args.json else evaluate.format_report(result))
    return OK


# ----------------------------------------------------------------------------------- decruft run

def parse_date(text: str):
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"run: not a date: {text!r} (expected YYYY-MM-DD, e.g. 2026-11-24)") from None


def decruft_overrides(args: argparse.Namespace) -> dict[str, str]:
    """luigi.cfg ``[decruft]`` settings given on the command line (``run``/``config``), as strings."""
    if args.rules and len(args.rules) > 1:
        raise UsageError(f"{args.command}: --rules takes one folder here (luigi.cfg's rules_dir), "
                         f"not {len(args.rules)}: {', '.join(args.rules)}")
    given = {"raw_root": args.raw_root, "clean_root": args.clean_root, "output_format": args.output_format,
             "rules_dir": args.rules[0] if args.rules else None}
    overrides = {k: v for k, v in given.items() if v is not None}
    if args.disable_rule is not None:
        overrides["disabled_rules"] = json.dumps(args.disable_rule)
    if args.rules_only:
        overrides["statistical"] = "false"
    if getattr(args, "follow_symlinks", False):
        overrides["follow_symlinks"] = "true"
    if getattr(args, "on_input_change", None):
        overrides["on_input_change"] = args.on_input_change
    if getattr(args, "force", False):
        overrides["force"] = "true"
    if getattr(args, "markdown", False):
        overrides["markdown"] = "true"
    for key in ("min_quality", "max_removed_share"):
        if getattr(args, key, None) is not None:
            overrides[key] = str(getattr(args, key))
    return overrides


def apply_overrides(overrides: dict[str, str]) -> None:
    """Put command-line settings into Luigi's configuration, where ``tasks.config.decruft`` reads them."""
    import luigi.configuration

    cfg = luigi.configuration.get_config()
    if overrides and not cfg.has_section("decruft"):
        cfg.add_section("decruft")
    for key, value in overrides.items():
        cfg.set("decruft", key, value)


def luigi_exit_code(worker, roots, retcodes) -> int:
    """The exit code ``luigi`` itself gives for this run (luigi.retcodes.run_with_retcodes)."""
    from luigi.execution_summary import _summary_dict

    task_sets = _summary_dict(worker)
    has = {status for status, tasks in task_sets.items() if tasks}
    code = max(code * (status in has) for code, status in (
        (retcodes.missing_data, "still_pending_ext"), (retcodes.task_failed, "failed"),
        (retcodes.already_running, "run_by_other_worker"), (retcodes.scheduling_error, "scheduling_error"),
        (retcodes.not_run, "not_run")))
    done = task_sets["completed"] | task_sets["already_done"]
    if code == 0 and any(t not in done for t in roots):
        return retcodes.not_run
    return code


_STATUS_WORDS = (  # Luigi's summary categories, in the order a day is described by
    ("completed", "completed"), ("already_done", "already done"), ("failed", "failed"),
    ("still_pending_ext", "missing data: an external input is not there yet"),
    ("scheduling_error", "scheduling error"), ("upstream_failure", "a shard failed"),
    ("upstream_missing_dependency", "missing data: an external input is not there yet"),
    ("run_by_other_worker", "run by another worker"), ("upstream_run_by_other_worker", "run by another worker"),
    ("not_run", "not run"))


def _status_of(task, task_sets) -> str:
    for status, words in _STATUS_WORDS:
        if task in task_sets.get(status, ()):
            return words
    return "not run"


def run_summary(roots, worker) -> str:
    """The one line ``decruft run`` ends with: days complete, their counts, where they are."""
    from luigi.execution_summary import _summary_dict

    task_sets = _summary_dict(worker) if worker is not None else {}
    done, missing = [], []
    cleaned, rejected, capped, skipped = 0, {}, {}, {}
    from tasks.storage import location

    for task in roots:
        marker = location(task.output().path)
        status = _status_of(task, task_sets)
        if status in ("completed", "already done") and marker.is_file():
            summary = json.loads(marker.read_text(encoding="utf-8"))
            cleaned += summary.get("cleaned", 0)
            for total, part in ((rejected, "rejected_by_reason"), (capped, "capped"), (skipped, "skipped")):
                for reason, n in (summary.get(part) or {}).items():
                    total[reason] = total.get(reason, 0) + n
            done.append(f"{marker.parent}/" + (" (already complete)" if status == "already done" else ""))
        else:
            missing.append(f"{task.date.isoformat()} ({status})")
    line = f"{PROG}: {len(done)} of {len(roots)} day{'s' if len(roots) > 1 else ''} complete"
    if done:
        line += f": {counts_phrase(cleaned, rejected, capped, skipped)}; output: {', '.join(done)}"
    if missing:
        line += f"; not complete: {', '.join(missing)}"
    return line


@contextlib.contextmanager
def settings_errors(command: str):
    """A setting Luigi cannot parse (``shard_max_files = many``) becomes one usage error line."""
    import luigi

    try:
        yield
    except (ValueError, TypeError, luigi.parameter.ParameterException) as exc:
        cause = f": {exc.__cause__}" if exc.__cause__ else ""
        raise UsageError(f"{command}: configuration: {exc}{cause}") from None


def cmd_run(args: argparse.Namespace) -> int:
    dates = [parse_date(d) for d in args.dates]
    if args.workers < 1:
        raise UsageError(f"run: --workers must be at least 1, not {args.workers}")
    if args.master and args.engine != "spark":
        raise UsageError("run: --master URL is for --engine spark")
    import luigi
    import luigi.interface
    from luigi.retcodes import retcode

    apply_overrides(decruft_overrides(args))
    if args.master:
        config = luigi.configuration.get_config()
        if not config.has_section("spark"):
            config.add_section("spark")
        config.set("spark", "master", args.master)
    from pipeline.clean import version_info
    from tasks.clean import CleanPartition
    from tasks.config import decruft

    with settings_errors("run"):
        retcodes = retcode()
        version_info(decruft().clean_config())  # bad settings or rule files: exit 2 before Luigi starts
    from tasks.clean import TXT_DIR_REMOTE
    from tasks.storage import is_url

    if decruft().output_format in ("txt-dir", "markdown") and is_url(decruft().clean_root):
        raise UsageError(f"run: {TXT_DIR_REMOTE}")
    if args.engine == "spark":
        from tasks.spark import SparkCleanPartition as CleanPartition  # noqa: N814 - the same role
    roots = [CleanPartition(date=d) for d in dates]
    try:
        result = luigi.build(roots, workers=args.workers, local_scheduler=not args.scheduler_host,
                             scheduler_host=args.scheduler_host or "localhost", scheduler_port=args.scheduler_port,
                             detailed_summary=True, no_lock=args.no_lock)
    except luigi.interface.PidLockAlreadyTakenExit:
        lock_dir = luigi.interface.core().lock_pid_dir
        print(f"{PROG}: run: already running: another process with this command line holds Luigi's lock "
              f"(in {lock_dir}); nothing done. --no-lock runs anyway; exit {retcodes.already_running} "
              f"(luigi.cfg [retcode] already_running)", file=sys.stderr)
        return retcodes.already_running
    except Exception as exc:  # e.g. the central scheduler cannot be reached
        print(f"{PROG}: run: {type(exc).__name__}: {exc}", file=sys.stderr)
        return retcodes.unhandled_exception
    # Luigi has logged its execution summary already (once): decruft adds one line of its own.
    code = luigi_exit_code(result.worker, roots, retcodes)
    print(run_summary(roots, result.worker) + f"; exit {code}", file=sys.stderr)
    return code


# ----------------------------------------------------------------------------------- report, config

def is_partition(folder: Path) -> bool:
    """A ``clean/<date>/`` folder: it holds ``_SUCCESS.json``, ``_rejects.jsonl`` or part files."""
    from pipeline.writers import output_format_of

    if (folder / "_SUCCESS.json").is_file() or (folder / "_rejects.jsonl").is_file():
        return True
    return any(output_format_of(p) is not None for p in folder.glob("part-*"))


def cmd_report(args: argparse.Namespace) -> int:
    folder = Path(args.partition)
    if not folder.is_dir():
        return fail(f"report: partition folder not found: {folder}", USAGE)
    if not is_partition(folder):
        return fail(f"report: {folder} is not a partition: it holds no _SUCCESS.json, _rejects.jsonl or "
                    f"part-* files (give a clean/<date>/ folder)", USAGE)
    from pipeline.report import REPORT_NAME, write_report

    with atomic_output(args.output or str(folder / REPORT_NAME)) as out:
        write_report(folder, out, max_docs=args.max_docs)
    return OK


def cmd_config(args: argparse.Namespace) -> int:
    from tasks.settings import effective_settings, format_settings

    with settings_errors("config"):
        rows, files = effective_settings(decruft_overrides(args))
    if args.json:
        print(json.dumps({"files": files, "settings": rows}, indent=1, ensure_ascii=False))
    else:
        print(format_settings(rows, files), end="")
    return OK


# ----------------------------------------------------------------------------------- the parser

class _Parser(argparse.ArgumentParser):
    """Usage errors in one line on stderr (then exit 2), not the usage text and a traceback."""

    def error(self, message: str):
        self.exit(USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _Version(argparse.Action):
    """``--version``: the installed package's version (read only when asked for)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from importlib import metadata

        try:
            version = metadata.version("decruft")
        except metadata.PackageNotFoundError:
            version = "0.0.0+src (not installed)"
        print(f"{PROG} {version}")
        parser.exit(OK)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Turn scraped article dumps into clean, language-tagged text.",
                     epilog="Exit codes: see README (clean: 0 all cleaned, 1 some rejected or unread, 2 usage; "
                            "run: luigi.cfg's [retcode]).")
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def guard_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--min-quality", type=float, metavar="Q",
                       help="reject documents whose quality (0..1) is below Q, reason low_quality (default off)")
        p.add_argument("--max-removed-share", type=float, metavar="S",
                       help="reject documents that lost S more of their words than their page regime loses "
                            "by design, reason gutted (default off; README recommends values)")

    def rule_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--rules", action="append", metavar="DIR", help="extra folder of rule files (*.toml); repeatable")
        p.add_argument("--disable-rule", action="append", metavar="ID", help="switch a rule off by id; repeatable")
        p.add_argument("--rules-only", action="store_true", help="phrase rules only, no statistical line labelling")
        p.add_argument("--keep-lang", action="append", metavar="CODES",
                       help="keep only paragraphs in these languages (e.g. de,en): others are removed "
                            "(other_language); a document with none goes to the rejects (language_filtered)")

    p = sub.add_parser("clean", help="clean files, folders (or - for stdin) to JSONL, text, Parquet…")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="input files, or folders (read recursively, as a partition's day; ids relative to "
                        "the folder); - reads stdin")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write here instead of stdout (atomically). Without --format the name decides: "
                        ".jsonl, .jsonl.gz, .parquet, .txt (text), .md (markdown), an existing folder or "
                        "NAME/ (txt-dir)")
    p.add_argument("--format", choices=OUTPUT_FORMATS, default=None,
                   help="jsonl records (the default on stdout), clean text only (documents separated by a "
                        "line holding only a form feed, U+000C), markdown (the clean text as Markdown, "
                        "separated the same way), jsonl.gz, parquet, txt-dir (one .txt per document) or "
                        "md-dir (one .md per document); jsonl.gz, parquet, txt-dir and md-dir need -o")
    p.add_argument("--markdown", action="store_true",
                   help="add a markdown field to each record (JSONL, Parquet): the clean text as Markdown")
    p.add_argument("--input-format", choices=FORMATS, default="auto", help="input format (default: by extension, stdin sniffed)")
    p.add_argument("--rejects", metavar="FILE", help="write rejected documents here, as in _rejects.jsonl")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: only when stderr is a terminal)")
    rule_options(p)
    guard_options(p)
    p.set_defaults(func=cmd_clean)

    p = sub.add_parser("explain", help="show every line with kept/removed and the rule that decided")
    p.add_argument("path", metavar="FILE", help="input file; - reads stdin")
    p.add_argument("--input-format", choices=FORMATS, default="auto", help="input format (default: by extension, stdin sniffed)")
    p.add_argument("--no-colour", "--no-color", action="store_true", help="no ANSI colours even on a terminal")
    rule_options(p)
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("eval", help="score cleaning against gold texts (corpus layout: see README)")
    p.add_argument("--corpus", required=True, metavar="DIR", help="folder of page folders with gold.txt")
    p.add_argument("--input", choices=("dump", "article", "html"), default="dump",
                   help="which input file to clean (html reads page.html or page.html.gz)")
    p.add_argument("--metric", choices=("shingle", "wcxb"), default="shingle",
                   help="shingle: the dev corpus's 4-token shingle metric; wcxb: WCXB's token-bag F1 and snippet rates")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    rule_options(p)
    p.set_defaults(func=cmd_eval)

    def settings_options(p: argparse.ArgumentParser) -> None:
        """luigi.cfg [decruft] settings that ``run`` (and ``config``) take on the command line."""
        p.add_argument("--raw-root", metavar="DIR", help="folder holding one sub-folder per day (luigi.cfg raw_root)")
        p.add_argument("--clean-root", metavar="DIR", help="where partitions are written (luigi.cfg clean_root)")
        p.add_argument("--output-format", choices=PARTITION_FORMATS,
                       help="records as jsonl (luigi.cfg's default), jsonl.gz, parquet, txt-dir, or markdown "
                            "(a folder of .md files) (luigi.cfg output_format)")
        p.add_argument("--markdown", action="store_true",
                       help="add a markdown field to each record (luigi.cfg markdown = true)")
        p.add_argument("--rules", action="append", metavar="DIR",
                       help="a folder of extra rule files, *.toml (luigi.cfg rules_dir; one folder)")
        p.add_argument("--disable-rule", action="append", metavar="ID",
                       help="switch a rule off by id; repeatable; replaces luigi.cfg's disabled_rules")
        p.add_argument("--rules-only", action="store_true",
                       help="phrase rules only, no statistical line labelling (luigi.cfg statistical = false)")
        p.add_argument("--follow-symlinks", action="store_true",
                       help="read symbolic links that point outside the raw root, and walk linked folders "
                            "(default: rejected as outside_root / symlinked_folder; luigi.cfg follow_symlinks)")
        p.add_argument("--on-input-change", choices=("fail", "reclean"),
                       help="a cleaned day whose raw files changed: fail (exit 20, nothing rewritten) or "
                            "reclean (clean it again) (luigi.cfg on_input_change, default fail)")
        p.add_argument("--force", action="store_true",
                       help="clean again a day already complete in another --output-format, replacing its "
                            "files (luigi.cfg force)")

    p = sub.add_parser("run", help="run CleanPartition (or SparkCleanPartition) for dates through Luigi")
    p.add_argument("dates", nargs="+", metavar="YYYY-MM-DD", help="the days to clean: <raw_root>/<date>/ → <clean_root>/<date>/")
    p.add_argument("--workers", type=int, default=1, metavar="N", help="Luigi worker processes (default 1)")
    p.add_argument("--engine", choices=("luigi", "spark"), default="luigi",
                   help="luigi: shards cleaned by Luigi's workers (default); spark: SparkCleanPartition, the "
                        "shards cleaned on a Spark cluster (pip install -e '.[spark]', Java)")
    p.add_argument("--master", metavar="URL", help="with --engine spark: the Spark master, spark://HOST:7077 or "
                   "local[N] (luigi.cfg [spark] master)")
    settings_options(p)
    guard_options(p)
    p.add_argument("--scheduler-host", metavar="HOST", help="central luigid host (default: local scheduler)")
    p.add_argument("--scheduler-port", type=int, default=8082, metavar="PORT", help="central luigid port (default 8082)")
    p.add_argument("--no-lock", action="store_true",
                   help="run even if another process with the same command line is running (Luigi's lock)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("report", help="write a partition's HTML audit report (_report.html)")
    p.add_argument("partition", metavar="PARTITION_DIR", help="a clean/<date>/ folder")
    p.add_argument("-o", "--output", metavar="FILE", help="default: PARTITION_DIR/_report.html (atomically); - for stdout")
    p.add_argument("--max-docs", type=int, default=200, metavar="N", help="documents shown, sampled by id hash (default 200)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("config", help="print the effective settings of `decruft run`, each with where it came from")
    settings_options(p)
    p.add_argument("--json", action="store_true", help="print them as JSON")
    p.set_defaults(func=cmd_config)

    from tasks import rules_cli  # `decruft rules list|check`
    rules_cli.add_parser(sub)
    return parser


class _WarningsToStderr(logging.Handler):
    """The library's warnings (inputs cut by a limit, damaged archives): one ``decruft: …`` line each."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"{PROG}: {record.getMessage()}", file=sys.stderr)


def show_library_warnings() -> None:
    logger = logging.getLogger("pipeline")
    if not any(isinstance(h, _WarningsToStderr) for h in logger.handlers):
        logger.addHandler(_WarningsToStderr(logging.WARNING))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from pipeline.rules import RuleError

    show_library_warnings()
    try:
        return args.func(args)
    except UsageError as exc:
        return fail(str(exc), USAGE)
    except RuleError as exc:
        return fail(f"rules: {exc}", USAGE)
    except BrokenPipeError:  # e.g. `decruft clean … | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
