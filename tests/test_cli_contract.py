"""What the ``decruft`` command promises a user (issue 11, items 2, 4 and 7): the output format `-o`
asks for, the text format's document boundary, exit codes and summary lines, ``--version``,
folders as input, ``decruft run``'s options, lock and retcodes, ``decruft config``, lazy
imports and the benchmark paths. Mostly through the installed console script, as a user runs it."""
from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.normalize import normalize_text
from pipeline.writers import INDEX_NAME, format_for_output
from tasks.cli import build_parser, main

REPO = Path(__file__).resolve().parents[1]
DECRUFT = str(Path(sys.executable).parent / "decruft")
DATE = "2026-11-24"
BODY = ("The harbour reopened on Monday after repairs that took two years and cost $40m, "
        "the port authority said in a statement.")
BODY2 = ("Fishing boats returned to the inner basin within hours, and the ferry to the islands "
         "will run its full timetable again from next week.")


def decruft(*args: str, cwd: Path, env: dict | None = None, stdin: bytes | None = None,
            timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([DECRUFT, *args], cwd=cwd, input=stdin, capture_output=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})))


def err_lines(res: subprocess.CompletedProcess) -> list[str]:
    return res.stderr.decode("utf-8").strip().splitlines()


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "a.txt").write_text(f"Share this article\n{BODY}\n\n{BODY2}\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text(f"{BODY2}\n", encoding="utf-8")
    return tmp_path


# ---------------------------------------------------------------------- item 2: -o decides the format

def test_output_name_decides_the_format(work: Path):
    res = decruft("clean", "a.txt", "b.txt", "-o", "out.jsonl.gz", cwd=work)
    assert res.returncode == 0, res.stderr
    assert (work / "out.jsonl.gz").read_bytes()[:2] == b"\x1f\x8b"
    if shutil.which("gzip"):
        assert subprocess.run(["gzip", "-t", str(work / "out.jsonl.gz")]).returncode == 0
    with gzip.open(work / "out.jsonl.gz", "rt", encoding="utf-8") as fh:
        assert [json.loads(line)["id"] for line in fh] == ["a.txt", "b.txt"]

    assert decruft("clean", "a.txt", "-o", "out.parquet", cwd=work).returncode == 0
    assert (work / "out.parquet").read_bytes()[:4] == b"PAR1"
    assert pq.read_table(work / "out.parquet").column("id").to_pylist() == ["a.txt"]

    assert decruft("clean", "a.txt", "-o", "OUT.JSONL", cwd=work).returncode == 0
    assert json.loads((work / "OUT.JSONL").read_text(encoding="utf-8"))["text"] == f"{BODY}\n\n{BODY2}"

    assert decruft("clean", "a.txt", "-o", "out.txt", cwd=work).returncode == 0
    assert (work / "out.txt").read_text(encoding="utf-8") == f"{BODY}\n\n{BODY2}\n"

    assert decruft("clean", "a.txt", "b.txt", "-o", "texts/", cwd=work).returncode == 0
    assert sorted(os.listdir(work / "texts")) == [INDEX_NAME, "a.txt.txt", "b.txt.txt"]
    (work / "existing").mkdir()
    assert decruft("clean", "a.txt", "-o", "existing", cwd=work).returncode == 0
    assert sorted(os.listdir(work / "existing")) == [INDEX_NAME, "a.txt.txt"]


@pytest.mark.parametrize("args,needle", [
    (["-o", "out.json"], "cannot tell the output format from -o out.json"),
    (["-o", "out"], "cannot tell the output format from -o out"),
    (["-o", "out.gz"], "cannot tell the output format from -o out.gz"),
    (["--format", "jsonl", "-o", "x.parquet"], "--format jsonl contradicts -o x.parquet, which means parquet"),
    (["--format", "text", "-o", "x.jsonl.gz"], "--format text contradicts -o x.jsonl.gz, which means jsonl.gz"),
    (["--format", "parquet", "-o", "dir/"], "--format parquet contradicts -o dir/, which means txt-dir"),
])
def test_output_name_not_understood_or_contradicted_is_a_usage_error(work: Path, args, needle):
    before = sorted(os.listdir(work))
    res = decruft("clean", "a.txt", *args, cwd=work)
    assert res.returncode == 2
    (line,) = err_lines(res)
    assert needle in line
    for form in ("NAME.jsonl (jsonl)", "NAME.jsonl.gz (jsonl.gz)", "NAME.parquet (parquet)", "NAME.txt (text)",
                 "NAME.md (markdown)", "a name ending in / (txt-dir"):
        assert form in line
    assert res.stdout == b"" and sorted(os.listdir(work)) == before  # nothing written


def test_format_for_output_rules(tmp_path: Path):
    assert format_for_output(None, None) == format_for_output(None, "-") == "jsonl"
    assert format_for_output("text", None) == "text"
    assert format_for_output("jsonl", "out.json") == "jsonl"  # --format given: a name that says nothing is fine
    assert format_for_output("txt-dir", "texts") == "txt-dir"
    assert format_for_output(None, str(tmp_path)) == "txt-dir"
    assert format_for_output(None, "a.b.Parquet") == "parquet"
    with pytest.raises(ValueError, match="contradicts"):
        format_for_output("txt-dir", "x.txt")


def test_text_format_separates_documents_by_a_form_feed_line(work: Path):
    """Paragraphs: one blank line; documents: a line holding only U+000C, which no clean text can hold."""
    # two sentences of prose (no line for the labeller to judge): the test is about the separators
    tricky = "First paragraph of the third document.\f\n\f\n\x0cSecond\fparagraph of it, after form feeds."
    (work / "c.jsonl").write_text(json.dumps({"id": "c", "text": tricky}) + "\n", encoding="utf-8")
    res = decruft("clean", "a.txt", "b.txt", "c.jsonl", "--format", "text", cwd=work)
    assert res.returncode == 0, res.stderr
    out = res.stdout.decode("utf-8")
    docs = out.split("\n\f\n")
    assert docs == [f"{BODY}\n\n{BODY2}", BODY2,
                    "First paragraph of the third document.\n\nSecond paragraph of it, after form feeds.\n"]
    assert out.count("\f") == 2  # only the two separator lines
    # (split at "\n": str.splitlines() also breaks lines at a form feed)
    assert [line for line in out.split("\n") if "\f" in line] == ["\f", "\f"]


def test_normalization_strips_form_feeds_and_other_line_separators():
    text = "a\fb\n\f\n\x0c\nc\x0bd\x1ce\x1df\x1eg\x85h\u2028i\u2029j"
    out = normalize_text(text)
    assert "\f" not in out
    assert all(line.strip() and "\f" not in line for line in out.splitlines())
    assert out.splitlines() == out.split("\n")  # no other character splits a line


# ---------------------------------------------------------------------- item 4: exit codes and summaries

def test_clean_exit_codes_and_the_summary_line(work: Path):
    ok = decruft("clean", "a.txt", "b.txt", "-o", "out.jsonl", cwd=work)
    assert ok.returncode == 0
    assert err_lines(ok) == ["decruft: 2 cleaned, 0 rejected, 0 capped; output: out.jsonl (jsonl)"]

    (work / "empty.txt").write_bytes(b"")
    empty = decruft("clean", "empty.txt", cwd=work)
    assert empty.returncode == 1 and empty.stdout == b""
    assert err_lines(empty)[-1] == "decruft: 0 cleaned, 1 rejected (empty 1), 0 capped; output: stdout (jsonl)"

    (work / "mixed.jsonl").write_text(json.dumps({"id": "m1", "text": BODY}) + "\n{oops\n" + "Share\n", encoding="utf-8")
    (work / "long.txt").write_text(BODY + " " + "x" * 25_000 + "\n", encoding="utf-8")
    mixed = decruft("clean", "mixed.jsonl", "long.txt", "gone.txt", "-o", "m.jsonl", "--rejects", "rej.jsonl", cwd=work)
    assert mixed.returncode == 1
    lines = err_lines(mixed)
    assert lines[-1] == ("decruft: 2 cleaned, 2 rejected (malformed_json 2), 1 capped (line_chars 1), 1 path not read "
                         "(gone.txt); output: m.jsonl (jsonl), rejects in rej.jsonl")
    assert sum(line.startswith("decruft: rejected ") for line in lines) == 2
    assert [json.loads(l)["id"] for l in (work / "m.jsonl").read_text().splitlines()] == ["m1", "long.txt"]

    bad_rule = decruft("clean", "a.txt", "--disable-rule", "no.such.rule", cwd=work)
    assert bad_rule.returncode == 2 and "no.such.rule" in bad_rule.stderr.decode() and bad_rule.stdout == b""
    usage = decruft("clean", cwd=work)
    assert usage.returncode == 2 and len(err_lines(usage)) == 1


def test_explain_exit_codes(work: Path, capsys):
    assert main(["explain", str(work / "a.txt")]) == 0
    (work / "empty.txt").write_bytes(b"")
    assert main(["explain", str(work / "empty.txt")]) == 1
    assert "# rejected: empty" in capsys.readouterr().out


def test_eval_without_gold_texts_fails(tmp_path: Path):
    (tmp_path / "corpus" / "page1").mkdir(parents=True)
    (tmp_path / "corpus" / "page1" / "dump.txt").write_text(BODY, encoding="utf-8")  # no gold.txt
    res = decruft("eval", "--corpus", "corpus", cwd=tmp_path)
    assert res.returncode == 2 and res.stdout == b""
    (line,) = err_lines(res)
    assert line.startswith("decruft: eval: no gold texts in corpus") and "gold.txt" in line and "dump.txt" in line
    missing = decruft("eval", "--corpus", "nowhere", cwd=tmp_path)
    assert missing.returncode == 2 and err_lines(missing) == ["decruft: eval: corpus folder not found: nowhere"]
    (tmp_path / "corpus" / "page1" / "gold.txt").write_text(BODY, encoding="utf-8")
    scored = decruft("eval", "--corpus", "corpus", "--json", cwd=tmp_path)
    assert scored.returncode == 0 and json.loads(scored.stdout)["docs"] == 1


def test_report_on_a_folder_that_is_not_a_partition_fails(tmp_path: Path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("buy milk\n", encoding="utf-8")
    res = decruft("report", "notes", cwd=tmp_path)
    assert res.returncode == 2
    (line,) = err_lines(res)
    assert "notes is not a partition" in line and "_SUCCESS.json" in line
    assert sorted(os.listdir(tmp_path / "notes")) == ["todo.txt"]  # no report written
    (tmp_path / "part" / "x").mkdir(parents=True)
    (tmp_path / "part" / "part-00000.jsonl").write_text("", encoding="utf-8")
    assert decruft("report", "part", cwd=tmp_path).returncode == 0
    assert (tmp_path / "part" / "_report.html").is_file()


def _luigi_cfg(tmp_path: Path, **retcodes: int) -> None:
    """The repo's luigi.cfg with other retcodes and a lock folder of the test's own."""
    text = (REPO / "luigi.cfg").read_text(encoding="utf-8")
    for name, code in retcodes.items():
        text = re.sub(rf"^{name} = .*$", f"{name} = {code}", text, count=1, flags=re.M)
    text = text.replace("[core]\n", f"[core]\nlock_pid_dir = {tmp_path / 'locks'}\n", 1)
    (tmp_path / "luigi.cfg").write_text(text, encoding="utf-8")


def _day(tmp_path: Path, date: str = DATE) -> Path:
    day = tmp_path / "in" / date
    day.mkdir(parents=True)
    (day / "a.txt").write_text(f"Share\n{BODY}\n", encoding="utf-8")
    (day / "empty.txt").write_bytes(b"")  # rejected inside the partition: not a failure
    return day


def test_run_exit_codes_are_luigi_cfgs_and_one_summary_each(tmp_path: Path):
    _luigi_cfg(tmp_path, task_failed=33)
    _day(tmp_path)
    cmd = ("run", "--raw-root", "in", "--clean-root", "out")
    ok = decruft(*cmd, DATE, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr[-3000:]
    err = ok.stderr.decode("utf-8")
    assert err.count("Scheduled ") == 1 and err.count("===== Luigi Execution Summary =====") == 2  # Luigi's own, once
    assert err.strip().splitlines()[-1] == (f"decruft: 1 of 1 day complete: 1 cleaned, 1 rejected (empty 1), 0 capped; "
                                            f"output: out/{DATE}/; exit 0")
    again = decruft(*cmd, DATE, cwd=tmp_path)
    assert again.returncode == 0 and "(already complete)" in err_lines(again)[-1]

    failed = decruft(*cmd, "2026-01-01", cwd=tmp_path)
    assert failed.returncode == 33  # luigi.cfg's task_failed, not a fixed 1
    assert err_lines(failed)[-1] == "decruft: 0 of 1 day complete; not complete: 2026-01-01 (failed); exit 33"

    for bad in (["not-a-date"], ["2026-13-01"], [DATE, "--workers", "0"]):
        res = decruft(*cmd, *bad, cwd=tmp_path)
        assert res.returncode == 2
        (line,) = err_lines(res)
        assert line.startswith("decruft") and "Traceback" not in res.stderr.decode()
    (line,) = err_lines(decruft("run", "not-a-date", cwd=tmp_path))
    assert line == "decruft: run: not a date: 'not-a-date' (expected YYYY-MM-DD, e.g. 2026-11-24)"


def test_run_takes_luigis_lock_unless_no_lock(tmp_path: Path):
    """A second `decruft run` with the same command line finds the first one's lock and exits with
    luigi.cfg's already_running code; the first finishes undisturbed."""
    _luigi_cfg(tmp_path, already_running=7)
    _day(tmp_path)
    argv = [DECRUFT, "run", "--raw-root", "in", "--clean-root", "out", DATE]
    first = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    locks = tmp_path / "locks"
    try:
        deadline = time.monotonic() + 60
        while not any(p.read_text().strip() == str(first.pid) for p in locks.glob("*.pid") if p.stat().st_size):
            assert first.poll() is None and time.monotonic() < deadline, "the first run never took the lock"
            time.sleep(0.005)
        os.kill(first.pid, signal.SIGSTOP)  # hold it while it holds the lock
        second = subprocess.run(argv, cwd=tmp_path, capture_output=True, timeout=120)
    finally:
        os.kill(first.pid, signal.SIGCONT)
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err[-3000:]
    assert second.returncode == 7
    assert "already running" in err_lines(second)[-1] and "--no-lock" in err_lines(second)[-1]
    assert json.loads((tmp_path / "out" / DATE / "_SUCCESS.json").read_text())["cleaned"] == 1
    for pid_file in locks.glob("*.pid"):
        pid_file.unlink()
    no_lock = subprocess.run([*argv, "--no-lock"], cwd=tmp_path, capture_output=True, timeout=300)
    assert no_lock.returncode == 0 and not list(locks.glob("*.pid"))


def test_run_takes_rules_and_disable_rule(tmp_path: Path):
    _luigi_cfg(tmp_path)
    day = tmp_path / "in" / DATE
    day.mkdir(parents=True)
    (day / "a.txt").write_text(f"{BODY}\nThe harbour cat sat on the quay all day.\n{BODY2}\n", encoding="utf-8")
    rules = tmp_path / "my-rules"
    rules.mkdir()
    (rules / "local.toml").write_text('''lang = "en"

[[rule]]
id = "local.en.harbour_cat"
reason = "advertisement"
pattern = '^The harbour cat sat on the quay'
matches = ["The harbour cat sat on the quay all day."]
keeps = ["The harbour reopened on Monday."]
''', encoding="utf-8")
    base = ("run", DATE, "--raw-root", "in", "--rules", "my-rules")

    def text_of(root: str, *extra: str) -> dict:
        res = decruft(*base, "--clean-root", root, *extra, cwd=tmp_path)
        assert res.returncode == 0, res.stderr[-3000:]
        return json.loads((tmp_path / root / DATE / "part-00000.jsonl").read_text(encoding="utf-8"))

    rec = text_of("with-rule")
    assert "harbour cat" not in rec["text"]
    assert [(r["rule"], r["reason"]) for r in rec["removed"]] == [("local.en.harbour_cat", "advertisement")]
    rec = text_of("rule-off", "--disable-rule", "local.en.harbour_cat")
    assert "The harbour cat sat on the quay all day." in rec["text"].split("\n\n")
    bad = decruft(*base, "--clean-root", "x", "--disable-rule", "no.such.rule", cwd=tmp_path)
    assert bad.returncode == 2 and "no.such.rule" in err_lines(bad)[-1] and not (tmp_path / "x").exists()
    two = decruft(*base, "--rules", "my-rules", "--clean-root", "x", cwd=tmp_path)
    assert two.returncode == 2 and "--rules takes one folder" in err_lines(two)[-1] and not (tmp_path / "x").exists()


def test_every_run_option_has_help_text():
    run = build_parser()._subparsers._group_actions[0].choices["run"]
    options = [a for a in run._actions if a.dest != "help"]
    assert {a.dest for a in options} >= {"dates", "workers", "raw_root", "clean_root", "output_format", "rules",
                                         "disable_rule", "scheduler_host", "scheduler_port", "no_lock"}
    assert [a.dest for a in options if not a.help] == []


# ---------------------------------------------------------------------- item 7: the CLI a user expects

def test_version(tmp_path: Path):
    res = decruft("--version", cwd=tmp_path)
    assert res.returncode == 0 and res.stdout.decode() == f"decruft {metadata.version('decruft')}\n"


def test_clean_a_folder_like_a_partition_day(tmp_path: Path):
    day = tmp_path / "dump"
    (day / "sub").mkdir(parents=True)
    (day / "sub" / "a.txt").write_text(BODY + "\n", encoding="utf-8")
    (day / "b.txt").write_text(BODY2 + "\n", encoding="utf-8")
    (day / "_READY").write_text("", encoding="utf-8")
    (day / ".hidden.txt").write_text(BODY + "\n", encoding="utf-8")
    (day / "_private").mkdir()
    (day / "_private" / "c.txt").write_text(BODY + "\n", encoding="utf-8")
    res = decruft("clean", "dump", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    recs = [json.loads(l) for l in res.stdout.decode().splitlines()]
    assert [(r["id"], r["source"]) for r in recs] == [("b.txt", "dump/b.txt"), ("sub/a.txt", "dump/sub/a.txt")]
    (tmp_path / "nothing").mkdir()
    res = decruft("clean", "nothing", cwd=tmp_path)
    assert res.returncode == 1 and "no input files in folder nothing" in res.stderr.decode()


def test_help_loads_neither_luigi_nor_trafilatura():
    code = ("import sys\nfrom tasks.cli import main\n"
            "for argv in (['--help'], ['clean', '--help'], ['run', '--help']):\n"
            "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
            "print(sorted(m for m in ('luigi', 'trafilatura', 'numpy', 'tqdm') if m in sys.modules))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == "[]"


def test_cleaning_text_loads_no_html_or_training_stack(tmp_path: Path):
    """``decruft clean`` of a text file needs neither Luigi, trafilatura, BeautifulSoup, lxml nor
    the lightgbm Python package (SciPy): the line model is run through LightGBM's library."""
    (tmp_path / "a.txt").write_text("Share this article\n" + BODY + "\nRead more\n", encoding="utf-8")
    code = ("import sys\nfrom tasks.cli import main\n"
            "code = main(['clean', 'a.txt', '-o', 'out.jsonl'])\n"
            "print(code, sorted(m for m in ('luigi', 'trafilatura', 'bs4', 'lxml', 'lightgbm', 'scipy', 'justext')"
            " if m in sys.modules))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == "0 []"
    rec = json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8"))
    assert BODY.split(".")[0] in rec["text"] and "Share this article" not in rec["text"]


def test_config_says_where_each_value_comes_from(tmp_path: Path):
    (tmp_path / "luigi.cfg").write_text("[decruft]\nraw_root = from-cwd\nclean_root = from-cwd\nno_such = 1\n"
                                        "[retcode]\ntask_failed = 31\n", encoding="utf-8")
    (tmp_path / "elsewhere.cfg").write_text("[decruft]\nclean_root = from-env\n", encoding="utf-8")
    res = decruft("config", "--output-format", "parquet", "--json", cwd=tmp_path,
                  env={"LUIGI_CONFIG_PATH": str(tmp_path / "elsewhere.cfg")})
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    rows = {(r["section"], r["name"]): r for r in got["settings"]}
    cwd_cfg, env_cfg = str(tmp_path / "luigi.cfg"), str(tmp_path / "elsewhere.cfg")
    assert rows[("decruft", "raw_root")] == {"section": "decruft", "name": "raw_root", "value": "from-cwd",
                                             "source": f"config file {cwd_cfg}"}
    assert (rows[("decruft", "clean_root")]["value"], rows[("decruft", "clean_root")]["source"]) == (
        "from-env", f"config file {env_cfg}")
    assert (rows[("decruft", "output_format")]["value"], rows[("decruft", "output_format")]["source"]) == (
        "parquet", "command line")
    assert (rows[("decruft", "shard_max_files")]["value"], rows[("decruft", "shard_max_files")]["source"]) == (
        "1000", "default")
    assert rows[("retcode", "task_failed")]["value"] == "31"
    assert rows[("retcode", "missing_data")]["source"] == "default"
    assert "no such setting, ignored" in rows[("decruft", "no_such")]["source"]
    assert rows[("library", "max_input_bytes")]["source"].startswith("default")
    assert [f["via"] for f in got["files"] if f["resolved"] == env_cfg] == ["LUIGI_CONFIG_PATH"]
    text = decruft("config", cwd=tmp_path, env={"LUIGI_CONFIG_PATH": env_cfg}).stdout.decode()
    assert any(l.startswith("raw_root = from-cwd") and l.endswith(f"# config file {cwd_cfg}") for l in text.splitlines())


def test_benchmarks_and_training_name_no_machine_paths_and_say_when_the_corpus_is_missing(tmp_path: Path):
    for path in [*REPO.glob("benchmarks/*.py"), *REPO.glob("training/*")]:
        text = path.read_text(encoding="utf-8")
        assert "/work/" not in text and "/tmp/" not in text, path
    for script in ("benchmarks/quality.py", "training/train_line_model.py"):
        res = subprocess.run([sys.executable, str(REPO / script), "--corpus", str(tmp_path / "no-corpus")],
                             capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert res.returncode != 0
        assert f"corpus not found: {tmp_path / 'no-corpus'}" in res.stderr and "Traceback" not in res.stderr


def test_txt_dir_output_folder_gets_the_umask(work: Path):
    old = os.umask(0o027)
    try:
        assert main(["clean", str(work / "a.txt"), "-o", str(work / "texts") + "/"]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((work / "texts").stat().st_mode) == 0o750


def test_documents_filtered_out_by_a_users_option_are_not_failures():
    from tasks.cli import counts_phrase, failed_rejections

    assert failed_rejections({"language_filtered": 3}) == 0
    assert failed_rejections({"language_filtered": 3, "empty": 1}) == 1
    assert counts_phrase(2, {"language_filtered": 3, "empty": 1}, {}, {}) == (
        "2 cleaned, 1 rejected (empty 1), 3 filtered out as asked (language_filtered 3), 0 capped")


def test_a_setting_luigi_cannot_parse_is_one_line_and_exit_2(tmp_path: Path):
    (tmp_path / "luigi.cfg").write_text("[decruft]\nshard_max_files = many\n", encoding="utf-8")
    for cmd in (["run", DATE], ["config"]):
        res = decruft(*cmd, cwd=tmp_path)
        assert res.returncode == 2 and res.stdout == b""
        (line,) = err_lines(res)
        assert line.startswith(f"decruft: {cmd[0]}: configuration:") and "shard_max_files" in line and "'many'" in line


def test_run_waiting_for_ready_exits_with_missing_data(tmp_path: Path):
    _luigi_cfg(tmp_path)
    cfg = tmp_path / "luigi.cfg"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("require_ready = false", "require_ready = true"), encoding="utf-8")
    _day(tmp_path)
    res = decruft("run", DATE, "--raw-root", "in", "--clean-root", "out", cwd=tmp_path)
    assert res.returncode == 20  # luigi.cfg [retcode] missing_data
    assert err_lines(res)[-1] == (f"decruft: 0 of 1 day complete; not complete: {DATE} (missing data: an external "
                                  f"input is not there yet); exit 20")
