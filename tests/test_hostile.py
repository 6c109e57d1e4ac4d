"""Hostile inputs: a partition of garbage runs to completion, and every document is accounted for."""
from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from pipeline.config import CleanConfig
from tasks.sandbox import IsolatedCleaner, shared_cleaner
from tests.test_luigi import REPO, luigi_cmd

DATE = "2026-11-20"
EN = ("The city council approved the new budget on Tuesday after a long debate about school funding. "
      "Officials said the plan would add {n} teachers and repair three buildings before next autumn.")
RU = "Городской совет во вторник утвердил новый бюджет после долгих споров о финансировании школ. Чиновники заявили, что план позволит нанять сорок учителей."
FR = "Le conseil municipal a approuvé mardi le nouveau budget après un long débat sur le financement des écoles. Les élus ont promis de rénover trois bâtiments."
DE = "Der Stadtrat hat am Dienstag nach langer Debatte über die Finanzierung der Schulen den neuen Haushalt beschlossen. Drei Gebäude sollen saniert werden."
BOMB = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10))
        + b"]><html><body><p>&lol9;</p><p>" + EN.format(n=7).encode() + b"</p></body></html>")


def build(day: Path) -> None:
    day.mkdir(parents=True)
    (day / "empty.txt").write_bytes(b"")
    (day / "spaces.txt").write_bytes(b"   \n\t \r\n")
    (day / "binary.txt").write_bytes(bytes((i * 7919) % 256 for i in range(5000)))
    (day / "utf16.txt").write_bytes(FR.encode("utf-16"))
    (day / "cp1251.txt").write_bytes(RU.encode("cp1251"))
    (day / "latin1.txt").write_bytes(DE.encode("latin-1"))
    (day / "mojibake.txt").write_bytes(FR.encode("utf-8").decode("latin-1").encode("utf-8"))
    (day / "nul.txt").write_bytes(EN.format(n=1).encode().replace(b" teachers", b" \x00teachers"))
    (day / "crlf.txt").write_bytes(f"{EN.format(n=2)}\r\n\r\n{EN.format(n=3)}\r\n".encode())
    (day / "cr.txt").write_bytes(f"{EN.format(n=4)}\r{EN.format(n=5)}\r".encode())
    (day / "longline.txt").write_bytes(" ".join(EN.format(n=i) for i in range(27_000)).encode())  # ~5 MB, one line
    (day / "big.txt").write_bytes("\n".join(EN.format(n=i) for i in range(80_000)).encode())  # ~15 MB
    (day / "deep.html").write_bytes(b"<html><body>" + b"<div>" * 200_000 + EN.format(n=6).encode()
                                    + b"</div>" * 200_000 + b"</body></html>")
    (day / "bomb.html").write_bytes(BOMB)
    (day / "cp1251.html").write_bytes(
        f'<html><head><meta charset="windows-1251"><title>Бюджет</title></head><body><article><p>{RU}</p>'
        f"</article></body></html>".encode("cp1251"))
    good = gzip.compress(EN.format(n=8).encode() * 50)
    (day / "truncated.txt.gz").write_bytes(good[: len(good) // 2])
    lines = [json.dumps({"id": "dup", "text": EN.format(n=9)}), json.dumps({"id": "dup", "text": DE}), "{oops",
             "[1, 2]", "42", json.dumps({"id": "n1", "text": 12345}), json.dumps({"id": "n2"}),
             json.dumps({"id": "../../x", "text": FR}),
             json.dumps({"id": "huge", "text": EN.format(n=10) + " " + "y" * 2_000_000, "extra": "z" * 2_000_000})]
    (day / "mixed.jsonl").write_text("\n".join(lines) + "\n")
    (day / "paper.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + bytes(range(256)) * 10)
    (day / "with space é ü.txt").write_text(DE, encoding="utf-8")


@pytest.fixture(scope="module")
def partition(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    shutil.copy(REPO / "luigi.cfg", root / "luigi.cfg")
    build(root / "raw" / DATE)
    res = luigi_cmd(root, "CleanPartition", "--date", DATE)
    out = root / "clean" / DATE
    records = {json.loads(l)["id"]: json.loads(l) for p in sorted(out.glob("part-*.jsonl")) for l in p.open()}
    rejects = {json.loads(l)["id"]: json.loads(l) for l in (out / "_rejects.jsonl").open()}
    return root, res, records, rejects, json.loads((out / "_SUCCESS.json").read_text())


def test_runs_to_completion_and_accounts_for_every_document(partition):
    root, res, records, rejects, summary = partition
    assert res.returncode == 0, res.stderr[-3000:]
    assert summary["inputs"] == 27  # 18 single-document files + 9 JSONL lines
    assert summary["inputs"] == summary["cleaned"] + summary["rejected"] == len(records) + len(rejects)
    assert not (root / "x").exists() and not (root / "clean" / "x").exists()


def test_rejects_have_reasons(partition):
    _, _, _, rejects, summary = partition
    assert {k: v["reason"] for k, v in rejects.items()} == {
        "empty.txt": "empty", "spaces.txt": "empty", "binary.txt": "binary", "paper.pdf": "unsupported_format",
        "truncated.txt.gz": "bad_gzip", "mixed.jsonl#2": "malformed_json", "mixed.jsonl#3": "not_an_object",
        "mixed.jsonl#4": "not_an_object", "n1": "bad_field", "n2": "missing_text",
    }
    assert sum(summary["rejected_by_reason"].values()) == summary["rejected"]


def test_encodings_decoded_and_languages_right(partition):
    _, _, records, _, _ = partition
    assert records["utf16.txt"]["text"] == FR and records["utf16.txt"]["lang"] == "fr"
    assert records["cp1251.txt"]["text"] == RU and records["cp1251.txt"]["lang"] == "ru"
    assert records["latin1.txt"]["text"] == DE and records["latin1.txt"]["lang"] == "de"
    assert records["mojibake.txt"]["text"] == FR
    assert records["cp1251.html"]["text"] == RU and records["cp1251.html"]["lang"] == "ru"
    assert records["nul.txt"]["text"] == EN.format(n=1).replace(" teachers", "  teachers").replace("  ", " ")
    assert records["crlf.txt"]["text"] == f"{EN.format(n=2)}\n\n{EN.format(n=3)}"
    assert records["cr.txt"]["text"] == f"{EN.format(n=4)}\n\n{EN.format(n=5)}"
    assert records["with space é ü.txt"]["text"] == DE


def test_pathological_html_and_sizes_are_bounded_and_counted(partition):
    _, _, records, _, summary = partition
    assert EN.format(n=6) in records["deep.html"]["text"]
    assert EN.format(n=7) in records["bomb.html"]["text"]
    assert "lollol" not in records["bomb.html"]["text"]  # the entity bomb was not expanded
    assert len(records["longline.txt"]["text"]) <= CleanConfig().max_line_chars
    # at most max_document_chars of input were cleaned (output paragraphs gain a blank line each)
    assert len(records["big.txt"]["text"].replace("\n\n", "\n")) <= CleanConfig().max_document_chars
    paragraphs = records["big.txt"]["text"].split("\n\n")
    assert len(paragraphs) > 1000 and all(p.startswith("The city council approved") for p in paragraphs)
    assert "document_chars" in records["big.txt"]["stats"]["capped"]
    assert summary["capped"]["document_chars"] >= 3 and summary["capped"]["line_chars"] >= 2


def test_ids_unique_and_never_paths(partition):
    _, _, records, _, _ = partition
    assert "dup" in records and "dup~2" in records
    assert records["dup~2"]["text"] == DE
    assert records["../../x"]["text"] == FR  # kept as data; no file is named after an id


def _outcomes(cleaner: IsolatedCleaner, folder: Path, texts: dict[str, str]) -> dict[str, dict]:
    """name → (record or reject as a dict, with its tally) for files written from ``texts``."""
    paths = []
    for name, text in texts.items():
        paths.append(folder / name)
        paths[-1].write_text(text, encoding="utf-8")
    return {out.id: dict(json.loads(out.line), tally=out.tally) for out in cleaner.outcomes(paths, folder, {})}


def test_slow_document_times_out_without_signals(tmp_path: Path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "slow.toml").write_text(
        "[[rule]]\nid = 'user.backtracking'\nreason = 'navigation'\npattern = '^(a+)+$'\n", encoding="utf-8")
    cfg = CleanConfig(rules_dirs=(rules,))
    docs = tmp_path / "docs"
    docs.mkdir()
    texts = {"a.txt": EN.format(n=10), "slow.txt": "a" * 40 + "!", "fast.txt": EN.format(n=11)}
    with IsolatedCleaner(cfg, timeout=2) as cleaner:
        out = _outcomes(cleaner, docs, texts)
        assert cleaner.timeouts == 1
        again = _outcomes(cleaner, docs, {"b.txt": EN.format(n=12)})  # a fresh child took over
    assert list(out) == ["a.txt", "slow.txt", "fast.txt"]  # input order, each document once
    assert out["slow.txt"]["reason"] == "timeout" and "2 s" in out["slow.txt"]["error"]
    assert out["slow.txt"]["tally"].capped == ("timeout",)
    assert out["a.txt"]["text"] == EN.format(n=10) and out["fast.txt"]["text"] == EN.format(n=11)
    assert again["b.txt"]["text"] == EN.format(n=12)


def test_shared_cleaner_is_reused_only_for_the_same_settings(tmp_path: Path):
    from pipeline.site_profile import SiteProfiles

    profile = {"sites": {"a.example": {"lines": [{"key": "menu"}]}}}
    first = shared_cleaner(CleanConfig(), SiteProfiles(profile), 30)
    assert _outcomes(first, tmp_path, {"1.txt": EN.format(n=1)})["1.txt"]["text"] == EN.format(n=1)
    child = first._proc
    again = shared_cleaner(CleanConfig(), SiteProfiles(profile), 30)
    assert again is first and again._proc is child  # same settings: the warm process goes on
    assert _outcomes(again, tmp_path, {"2.txt": EN.format(n=2)})["2.txt"]["text"] == EN.format(n=2)
    assert again._proc is child  # and it served a second job
    other = shared_cleaner(CleanConfig(), SiteProfiles({"sites": {}}), 30)
    assert other is not first and first._proc is None  # other profile: the old process is ended
    assert not child.is_alive()
    assert _outcomes(other, tmp_path, {"3.txt": EN.format(n=3)})["3.txt"]["text"] == EN.format(n=3)
    other.close()


def test_a_reader_that_stops_early_ends_the_child(tmp_path: Path):
    texts = {f"{n}.txt": EN.format(n=n) for n in range(5)}
    with IsolatedCleaner(CleanConfig(), timeout=30) as cleaner:
        paths = []
        for name, text in texts.items():
            paths.append(tmp_path / name)
            paths[-1].write_text(text, encoding="utf-8")
        stream = cleaner.outcomes(paths, tmp_path, {})
        assert next(stream).id == "0.txt"
        child = cleaner._proc
        stream.close()  # the child was mid-job: its answers must not reach the next job
        assert cleaner._proc is None and not child.is_alive()
        assert [o.id for o in cleaner.outcomes(paths[3:], tmp_path, {})] == ["3.txt", "4.txt"]


def test_a_child_that_dies_costs_one_document(tmp_path: Path, monkeypatch):
    import os

    import tasks.sandbox as sandbox
    from pipeline.batch import clean_units

    def dies_on_crash_txt(paths, base, cfg, version, profiles, start, sources=None):
        for out in clean_units(paths, base, cfg, version, profiles, start, sources):
            if out.id == "crash.txt":
                os._exit(3)  # like the kernel's OOM killer: no exception, no goodbye
            yield out

    monkeypatch.setattr(sandbox, "clean_units", dies_on_crash_txt)  # the forked child runs this
    texts = {"a.txt": EN.format(n=1), "crash.txt": EN.format(n=2), "b.txt": EN.format(n=3)}
    with IsolatedCleaner(CleanConfig(), timeout=30) as cleaner:
        out = _outcomes(cleaner, tmp_path, texts)
    assert list(out) == ["a.txt", "crash.txt", "b.txt"]
    assert out["crash.txt"]["reason"] == "crashed" and "died" in out["crash.txt"]["error"]
    assert out["a.txt"]["text"] == EN.format(n=1) and out["b.txt"]["text"] == EN.format(n=3)
