"""The ``decruft`` command: clean, explain, eval, run, report. A thin layer over ``pipeline``."""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Iterator, TextIO

from tqdm import tqdm

from pipeline.batch import BatchStats, iter_file_documents
from pipeline.clean import clean_or_reject, version_info
from pipeline.config import CleanConfig
from pipeline.readers import FORMATS, documents_from_bytes, read_capped
from pipeline.rules import RuleError
from pipeline.writers import (OUTPUT_FORMATS, PARTITION_FORMATS, PATH_FORMATS, UniqueIds, atomic_text_file, dumps,
                              open_writer)

PROG = "decruft"


def fail(message: str, code: int = 1) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return code


@contextlib.contextmanager
def atomic_output(path: str | None) -> Iterator[TextIO]:
    """stdout, or a file written to a temporary name and renamed into place on success."""
    if path is None or path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    with atomic_text_file(path) as fh:
        yield fh


def config_from_args(args: argparse.Namespace) -> CleanConfig:
    return CleanConfig(
        rules_dirs=tuple(Path(d) for d in args.rules or ()),
        disabled_rules=frozenset(args.disable_rule or ()),
        statistical=not args.rules_only,
    )


def iter_input_documents(paths: list[str], fmt: str, cfg: CleanConfig, unreadable: list[str]):
    cwd = Path.cwd()
    for name in paths:
        if name == "-":
            data, capped = read_capped(sys.stdin.buffer, cfg.max_input_bytes)
            yield from documents_from_bytes(data, doc_id="<stdin>", source="<stdin>", fmt=fmt, capped=capped,
                                            max_bytes=cfg.max_input_bytes)
            continue
        path = Path(name)
        if not path.is_file() or not os.access(path, os.R_OK):
            why = "no such file" if not path.exists() else "not a readable file"
            print(f"{PROG}: cannot read {name}: {why}", file=sys.stderr)
            unreadable.append(name)
            continue
        yield from iter_file_documents(path, cwd, cfg, fmt)


def cmd_clean(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    version = version_info(cfg)
    stats, ids, unreadable = BatchStats(), UniqueIds(), []
    to_stdout = args.output is None or args.output == "-"
    if args.format in PATH_FORMATS and to_stdout:
        what = "FOLDER" if args.format == "txt-dir" else "FILE"
        return fail(f"--format {args.format} needs -o {what} (it cannot be written to stdout)", 2)
    try:  # a file or folder is written atomically by the writer; stdout as it goes
        writer = open_writer(args.format, sys.stdout if to_stdout else args.output)
    except (OSError, ValueError) as exc:
        return fail(f"cannot write {args.output}: {exc}")
    documents = iter_input_documents(args.paths, args.input_format, cfg, unreadable)
    show = sys.stderr.isatty() if args.progress is None else args.progress
    with writer as out, atomic_output(args.rejects) if args.rejects else contextlib.nullcontext() as rej, \
            tqdm(documents, disable=not show, unit=" docs", file=sys.stderr) as bar:
        for doc in bar:
            if doc.skipped:  # not a document (e.g. a WARC 404 or image): counted, never cleaned
                stats.add(doc)
                continue
            clean_or_reject(doc, cfg)
            stats.add(doc)
            if doc.rejected:
                bar.write(f"{PROG}: rejected {doc.id}: {doc.error}: {doc.detail}", file=sys.stderr)
                if rej is not None:
                    rej.write(dumps(doc.to_reject(version)) + "\n")
                continue
            doc.id = ids.claim(doc.id)
            out.write(doc.to_record(version))
    if stats.skipped:
        counts = ", ".join(f"{reason} {n}" for reason, n in sorted(stats.skipped.items()))
        print(f"{PROG}: skipped {sum(stats.skipped.values())} records that are not documents ({counts})", file=sys.stderr)
    return 1 if unreadable else 0


_COLOURS = {"keep": "\033[32m", "drop": "\033[31m", "dim": "\033[2m", "end": "\033[0m"}


def cmd_explain(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    colour = sys.stdout.isatty() and not args.no_colour
    paint = (lambda s, c: f"{_COLOURS[c]}{s}{_COLOURS['end']}") if colour else (lambda s, c: s)
    unreadable: list[str] = []
    for doc in iter_input_documents([args.path], args.input_format, cfg, unreadable):
        if doc.skipped:
            print(paint(f"# {doc.id}  skipped: {doc.skipped}", "dim"))
            continue
        clean_or_reject(doc, cfg)
        print(paint(f"# {doc.id}  lang={doc.lang} ({doc.lang_score})  title={doc.title!r}", "dim"))
        if doc.error and not doc.decisions:
            print(paint(f"# rejected: {doc.error}: {doc.detail}", "drop"))
            continue
        for d in doc.decisions:
            label = (d.rule or "") if d.keep else f"{d.reason}:{d.rule}"
            verdict = paint("KEEP", "keep") if d.keep else paint("DROP", "drop")
            text = d.text if d.keep else paint(d.text, "dim")
            print(f"{verdict} {paint(label.ljust(28), 'dim')} {text}")
    return 1 if unreadable else 0


def cmd_eval(args: argparse.Namespace) -> int:
    from pipeline import evaluate

    cfg = config_from_args(args)
    corpus = Path(args.corpus)
    if not corpus.is_dir():
        return fail(f"corpus folder not found: {corpus}")
    result = evaluate.evaluate_corpus(corpus, args.input, evaluate.default_clean_fn(args.input, cfg),
                                      metric=args.metric)
    print(json.dumps(result, indent=1, ensure_ascii=False) if args.json else evaluate.format_report(result))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    import luigi

    from tasks.clean import CleanPartition

    overrides = []
    if args.raw_root:
        overrides.append(("raw_root", args.raw_root))
    if args.clean_root:
        overrides.append(("clean_root", args.clean_root))
    if args.output_format:
        overrides.append(("output_format", args.output_format))
    cfg = luigi.configuration.get_config()
    for key, value in overrides:
        cfg.set("decruft", key, value)
    import datetime as dt

    tasks = [CleanPartition(date=dt.date.fromisoformat(d)) for d in args.dates]
    result = luigi.build(tasks, workers=args.workers, local_scheduler=not args.scheduler_host,
                         scheduler_host=args.scheduler_host or "localhost",
                         scheduler_port=args.scheduler_port, detailed_summary=True, no_lock=True)
    print(result.summary_text, file=sys.stderr)
    # As luigi.cfg's retcodes: tasks another worker ran (NOT_RUN here) are not a failure.
    return 0 if result.status.name in ("SUCCESS", "SUCCESS_WITH_RETRY", "NOT_RUN") else 1


def cmd_report(args: argparse.Namespace) -> int:
    from pipeline.report import REPORT_NAME, write_report

    folder = Path(args.partition)
    if not folder.is_dir():
        return fail(f"partition folder not found: {folder}")
    with atomic_output(args.output or str(folder / REPORT_NAME)) as out:
        write_report(folder, out, max_docs=args.max_docs)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Turn scraped article dumps into clean, language-tagged text.")
    sub = parser.add_subparsers(dest="command", required=True)

    def rule_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--rules", action="append", metavar="DIR", help="extra folder of rule files (*.toml); repeatable")
        p.add_argument("--disable-rule", action="append", metavar="ID", help="switch a rule off by id; repeatable")
        p.add_argument("--rules-only", action="store_true", help="phrase rules only, no statistical line labelling")

    p = sub.add_parser("clean", help="clean files (or - for stdin) to JSONL or text")
    p.add_argument("paths", nargs="+", metavar="PATH", help="input files; - reads stdin")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout (atomically); the folder for txt-dir")
    p.add_argument("--format", choices=OUTPUT_FORMATS, default="jsonl",
                   help="jsonl records (default), clean text only, jsonl.gz, parquet, or txt-dir (one .txt per "
                        "document); jsonl.gz, parquet and txt-dir need -o")
    p.add_argument("--input-format", choices=FORMATS, default="auto", help="input format (default: by extension, stdin sniffed)")
    p.add_argument("--rejects", metavar="FILE", help="write rejected documents here, as in _rejects.jsonl")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: only when stderr is a terminal)")
    rule_options(p)
    p.set_defaults(func=cmd_clean)

    p = sub.add_parser("explain", help="show every line with kept/removed and the rule that decided")
    p.add_argument("path", metavar="FILE", help="input file; - reads stdin")
    p.add_argument("--input-format", choices=FORMATS, default="auto")
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

    p = sub.add_parser("run", help="run CleanPartition for dates through Luigi")
    p.add_argument("dates", nargs="+", metavar="YYYY-MM-DD")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--raw-root")
    p.add_argument("--clean-root")
    p.add_argument("--output-format", choices=PARTITION_FORMATS,
                   help="records as jsonl (luigi.cfg's default), jsonl.gz, parquet or txt-dir")
    p.add_argument("--scheduler-host", help="central luigid host (default: local scheduler)")
    p.add_argument("--scheduler-port", type=int, default=8082)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("report", help="write a partition's HTML audit report (_report.html)")
    p.add_argument("partition", metavar="PARTITION_DIR", help="a clean/<date>/ folder")
    p.add_argument("-o", "--output", metavar="FILE", help="default: PARTITION_DIR/_report.html (atomically); - for stdout")
    p.add_argument("--max-docs", type=int, default=200, metavar="N", help="documents shown, sampled by id hash (default 200)")
    p.set_defaults(func=cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except RuleError as exc:
        return fail(f"rules: {exc}")
    except BrokenPipeError:  # e.g. `decruft clean … | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
