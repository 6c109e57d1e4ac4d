"""The ``decruft`` command, in-process through ``tasks.cli.main`` and once as the console script."""
from __future__ import annotations

import gzip
import io
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tasks.cli import main

SEED = Path(__file__).parent / "fixtures" / "seed.txt"
DECRUFT = Path(sys.executable).parent / "decruft"
BODY = ("The Panjshir region is famous for having successfully fought off invasions by Soviet forces "
        "in the Soviet-Afghan war from 1979-1989 as well as by the Taliban in the 1990s.")
BODY2 = ("Putin earlier urged his country to prevent an influx of refugees from Afghanistan after the "
         "Taliban takeover, saying militants could enter under the guise of seeking asylum.")


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "seed.txt").write_bytes(SEED.read_bytes())
    return tmp_path


def _records(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def _stdin(monkeypatch, data: bytes):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def _jsonl(*objs) -> str:
    return "".join((o if isinstance(o, str) else json.dumps(o, ensure_ascii=False)) + "\n" for o in objs)


def test_clean_file_to_stdout(work, capsys):
    assert main(["clean", "seed.txt"]) == 0
    cap = capsys.readouterr()
    (rec,) = _records(cap.out)
    assert rec["id"] == "seed.txt"
    assert rec["lang"] == "en"
    assert rec["title"].startswith("Taliban Rule Will Be a 'Threat'")
    assert BODY in rec["text"]
    assert "Support The Moscow Times!" not in rec["text"]
    assert rec["metadata"]["encoding"] == "utf-8"
    assert cap.err == "decruft: 1 cleaned, 0 rejected, 0 capped; output: stdout (jsonl)\n"


def test_output_file_and_text_format(work, capsys):
    assert main(["clean", "seed.txt", "-o", "out.jsonl"]) == 0
    assert capsys.readouterr().out == ""
    (rec,) = _records((work / "out.jsonl").read_text(encoding="utf-8"))
    assert main(["clean", "seed.txt", "--format", "text", "-o", "out.txt"]) == 0
    text = (work / "out.txt").read_text(encoding="utf-8")
    assert text == rec["text"] + "\n"
    assert not text.lstrip().startswith("{")
    assert [p.name for p in work.iterdir() if p.name.endswith(".tmp")] == []


def test_stdin_sniffed_jsonl(work, capsys, monkeypatch):
    _stdin(monkeypatch, _jsonl({"id": "a", "text": BODY}, {"text": BODY2, "url": "https://x.org/2"}).encode())
    assert main(["clean", "-"]) == 0
    recs = _records(capsys.readouterr().out)
    assert [(r["id"], r["text"], r["source"]) for r in recs] == [("a", BODY, "<stdin>"), ("<stdin>#1", BODY2, "<stdin>")]
    assert recs[1]["url"] == "https://x.org/2"


def test_stdin_sniffed_html(work, capsys, monkeypatch):
    page = f"<!DOCTYPE html><html><head><title>T</title></head><body><article><p>{BODY}</p><p>{BODY2}</p></article></body></html>"
    _stdin(monkeypatch, page.encode())
    assert main(["clean", "-"]) == 0
    (rec,) = _records(capsys.readouterr().out)
    assert rec["text"] == BODY + "\n\n" + BODY2
    assert rec["metadata"]["extractor"] == "html_model"


def test_stdin_gzip_is_unpacked_and_truncated_gzip_rejected(work, capsys, monkeypatch):
    packed = gzip.compress(_jsonl({"id": "a", "text": BODY}).encode())
    _stdin(monkeypatch, packed)
    assert main(["clean", "-"]) == 0
    (rec,) = _records(capsys.readouterr().out)
    assert (rec["id"], rec["text"]) == ("a", BODY)
    _stdin(monkeypatch, packed[:-12])
    assert main(["clean", "-", "--rejects", "rej.jsonl"]) == 1
    assert capsys.readouterr().out == ""
    (rej,) = _records((work / "rej.jsonl").read_text(encoding="utf-8"))
    assert rej["reason"] == "bad_gzip" and "truncated" in rej["error"]


def test_stdin_input_format_forced(work, capsys, monkeypatch):
    _stdin(monkeypatch, _jsonl({"id": "a", "text": BODY}).encode())
    assert main(["clean", "-", "--input-format", "text", "--rules-only"]) == 0
    (rec,) = _records(capsys.readouterr().out)
    assert rec["id"] == "<stdin>"
    assert rec["text"].startswith('{"id": "a", "text": "The Panjshir region')


def test_missing_path_reported_others_processed(work, capsys):
    code = main(["clean", "nope.txt", "seed.txt"])
    cap = capsys.readouterr()
    assert code == 1
    err = cap.err.strip().splitlines()
    assert len(err) == 2
    assert "nope.txt" in err[0] and err[0].startswith("decruft:")
    assert err[1] == "decruft: 1 cleaned, 0 rejected, 0 capped, 1 path not read (nope.txt); output: stdout (jsonl)"
    assert [r["id"] for r in _records(cap.out)] == ["seed.txt"]


def test_bad_jsonl_lines_rejected_good_ones_kept(work, capsys):
    (work / "in.jsonl").write_text(_jsonl(
        {"id": "good1", "text": BODY},
        "{not json",
        ["a", "list"],
        {"id": "notext", "title": "x"},
        {"id": "good2", "text": BODY2},
    ), encoding="utf-8")
    assert main(["clean", "in.jsonl", "--rejects", "rej.jsonl"]) == 1
    cap = capsys.readouterr()
    assert [r["id"] for r in _records(cap.out)] == ["good1", "good2"]
    rejects = _records((work / "rej.jsonl").read_text(encoding="utf-8"))
    assert [(r["id"], r["reason"]) for r in rejects] == [
        ("in.jsonl#1", "malformed_json"), ("in.jsonl#2", "not_an_object"), ("notext", "missing_text")]
    assert all(r["source"] == "in.jsonl" and r["error"] for r in rejects)
    err = cap.err
    for needle in ("in.jsonl#1", "malformed_json", "in.jsonl#2", "not_an_object", "notext", "missing_text"):
        assert needle in err


def test_repeated_ids_made_unique(work, capsys):
    (work / "a.jsonl").write_text(_jsonl({"id": "dup", "text": BODY}, {"id": "dup", "text": BODY2}), encoding="utf-8")
    (work / "b.jsonl").write_text(_jsonl({"id": "dup", "text": BODY}), encoding="utf-8")
    assert main(["clean", "a.jsonl", "b.jsonl", "seed.txt", "seed.txt"]) == 0
    recs = _records(capsys.readouterr().out)
    assert [r["id"] for r in recs] == ["dup", "dup~2", "dup~3", "seed.txt", "seed.txt~2"]
    assert recs[0]["text"] == recs[2]["text"] == BODY  # same id, both kept, not merged
    assert recs[1]["text"] == BODY2


def test_explain_no_colour(work, capsys):
    assert main(["explain", "seed.txt"]) == 0
    out = capsys.readouterr().out
    assert "\033[" not in out
    lines = out.splitlines()
    assert lines[0].startswith("# seed.txt") and "lang=en" in lines[0]
    assert re.search(r"  quality=0\.\d{3}  ", lines[0])  # the record's quality score
    # lines the labeller scored show its P(body)
    assert any(l.startswith("KEEP ") and re.search(r"stat\.\w+ p=(0\.\d\d|1\.00) ", l) for l in lines)
    assert any(l.startswith("KEEP ") and BODY in l for l in lines)
    drops = [l for l in lines if l.startswith("DROP ")]
    assert any("donation_appeal:donation.en.support_us" in l and l.endswith("Support The Moscow Times!") for l in drops)
    assert any("navigation:nav.en.read_more" in l and l.endswith("Read more") for l in drops)


def _rule_dir(tmp_path: Path) -> Path:
    d = tmp_path / "my rules"
    d.mkdir()
    (d / "local.toml").write_text('''lang = "en"

[[rule]]
id = "local.en.shoigu"
reason = "site_boilerplate"
pattern = '^On Wednesday, Russia.s Defense Minister'
max_words = 80
matches = ["On Wednesday, Russia's Defense Minister said so."]
keeps = ["Nothing here."]
''', encoding="utf-8")
    return d


def test_user_rules_and_disable_rule(work, capsys):
    shoigu = "On Wednesday, Russia’s Defense Minister and close Putin ally Sergei Shoigu said"
    assert main(["clean", "seed.txt"]) == 0
    (plain,) = _records(capsys.readouterr().out)
    assert shoigu in plain["text"]
    assert "Read more" not in plain["text"].split("\n\n")

    rules = _rule_dir(work)
    assert main(["clean", "seed.txt", "--rules", str(rules), "--disable-rule", "nav.en.read_more"]) == 0
    (rec,) = _records(capsys.readouterr().out)
    assert shoigu not in rec["text"]
    assert any(d["rule"] == "local.en.shoigu" and d["reason"] == "site_boilerplate" and d["text"].startswith(shoigu)
               for d in rec["removed"])
    assert rec["version"]["rules"] != plain["version"]["rules"]

    assert main(["explain", "seed.txt", "--rules", str(rules)]) == 0
    assert any(l.startswith("DROP ") and "site_boilerplate:local.en.shoigu" in l for l in capsys.readouterr().out.splitlines())


def test_disable_rule_keeps_read_more(work, capsys):
    (work / "rm.txt").write_text(f"{BODY}\n\nRead more\n\n{BODY2}\n", encoding="utf-8")
    assert main(["clean", "rm.txt"]) == 0
    (rec,) = _records(capsys.readouterr().out)
    assert rec["text"] == f"{BODY}\n\n{BODY2}"
    assert [(d["rule"], d["text"]) for d in rec["removed"]] == [("nav.en.read_more", "Read more")]
    assert main(["clean", "rm.txt", "--disable-rule", "nav.en.read_more"]) == 0
    (rec,) = _records(capsys.readouterr().out)
    assert rec["text"] == f"{BODY}\n\nRead more\n\n{BODY2}"
    assert rec["removed"] == []
    assert main(["explain", "rm.txt", "--disable-rule", "nav.en.read_more"]) == 0
    assert [l.split()[0] for l in capsys.readouterr().out.splitlines()[1:]] == ["KEEP", "KEEP", "KEEP"]


def test_unknown_disabled_rule_is_an_error(work, capsys):
    code = main(["clean", "seed.txt", "--disable-rule", "no.such.rule"])
    cap = capsys.readouterr()
    assert code != 0
    assert "no.such.rule" in cap.err
    assert cap.out == ""


def test_console_script(work):
    """The installed script: stdin plus a missing path, and explain through a pipe (not a tty)."""
    assert DECRUFT.exists()
    data = _jsonl({"id": "x", "text": BODY}, "[1]").encode()
    clean = subprocess.Popen([str(DECRUFT), "clean", "-", "missing.txt"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=work)
    explain = subprocess.Popen([str(DECRUFT), "explain", "seed.txt"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=work)
    out, err = clean.communicate(data, timeout=120)
    assert clean.returncode != 0
    assert [(r["id"], r["text"]) for r in _records(out.decode("utf-8"))] == [("x", BODY)]
    err_lines = err.decode("utf-8").splitlines()
    assert any("missing.txt" in l for l in err_lines)
    assert any("<stdin>#1" in l and "not_an_object" in l for l in err_lines)
    out, _ = explain.communicate(timeout=120)
    assert explain.returncode == 0
    assert b"\033[" not in out
    assert b"\nDROP " in out and b"\nKEEP " in out


def test_progress_bar_only_when_asked_or_on_a_terminal(tmp_path, capsys):
    """Piped stderr stays quiet by default; --progress forces the bar (a terminal gets it by default)."""
    from tasks.cli import main

    src = tmp_path / "many.jsonl"
    src.write_text("".join(json.dumps({"id": f"d{n}", "text": f"Paragraph number {n} of a short article about the harbour and its ships."}) + "\n"
                           for n in range(3)), encoding="utf-8")
    assert main(["clean", str(src), "-o", str(tmp_path / "a.jsonl")]) == 0
    assert "docs" not in capsys.readouterr().err
    assert main(["clean", str(src), "-o", str(tmp_path / "b.jsonl"), "--progress"]) == 0
    assert "3 docs" in capsys.readouterr().err


def test_run_drives_the_luigi_partition(tmp_path):
    """`decruft run DATE` = CleanPartition through Luigi; a failed day exits non-zero."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).parents[1]
    shutil.copy(repo / "luigi.cfg", tmp_path / "luigi.cfg")
    day = tmp_path / "in" / "2026-11-24"
    day.mkdir(parents=True)
    (day / "a.txt").write_text("Share\nThe harbour reopened on Monday after repairs that took two years and cost $40m.\n",
                               encoding="utf-8")
    cmd = [str(Path(sys.executable).parent / "decruft"), "run", "--raw-root", "in", "--clean-root", "out"]
    ok = subprocess.run([*cmd, "2026-11-24"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr[-2000:]
    rec = json.loads((tmp_path / "out" / "2026-11-24" / "part-00000.jsonl").read_text(encoding="utf-8"))
    assert rec["text"].startswith("The harbour reopened on Monday")
    missing = subprocess.run([*cmd, "2026-01-01"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert missing.returncode == 30  # luigi.cfg [retcode] task_failed
    gz = subprocess.run([*cmd, "--clean-root", "out-gz", "--output-format", "jsonl.gz", "2026-11-24"],
                        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert gz.returncode == 0, gz.stderr[-2000:]
    with gzip.open(tmp_path / "out-gz" / "2026-11-24" / "part-00000.jsonl.gz", "rt", encoding="utf-8") as fh:
        assert json.loads(fh.readline())["text"].startswith("The harbour reopened on Monday")


def test_output_files_get_the_umask_mode_not_mkstemps_0600(tmp_path):
    src = tmp_path / "a.txt"
    src.write_text("The harbour reopened on Monday after repairs that took two years.\n", encoding="utf-8")
    old = os.umask(0o027)
    try:
        assert main(["clean", str(src), "-o", str(tmp_path / "out.jsonl")]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out.jsonl").stat().st_mode) == 0o640
