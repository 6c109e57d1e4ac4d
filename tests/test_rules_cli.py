"""`decruft rules list|check`, bad user rules refused with exit 2, and README's --disable-rule example."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipeline.rules import load_rules
from tasks.cli import main

REPO = Path(__file__).parents[1]
SEED = REPO / "tests" / "fixtures" / "seed.txt"

GOOD = """lang = "en"

[[rule]]
id = "shop.en.promo"
reason = "advertisement"
pattern = '^Shop (?:now|our store)$'
matches = ["Shop now", "Shop our store"]
keeps = ["Shop now for the holidays, retailers urged on Friday."]
"""


def _folder(tmp_path: Path, body: str, name: str = "rules") -> Path:
    d = tmp_path / name
    d.mkdir()
    (d / "shop.toml").write_text(body, encoding="utf-8")
    return d


def test_rules_list_shows_every_rule(capsys):
    assert main(["rules", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "id\treason\tscope\tfile"
    rows = [line.split("\t") for line in out[1:]]
    assert len(rows) == len(load_rules())
    by_id = {r[0]: r[1:] for r in rows}
    assert by_id["donation.en.favor_to_ask"] == ["donation_appeal", "to_end", "en.toml"]
    assert by_id["nav.de.menu"] == ["navigation", "line", "de.toml"]
    assert by_id["credit.foto_label"] == ["photo_credit", "line", "common.toml"]


def test_rules_list_with_a_user_folder(tmp_path, capsys):
    folder = _folder(tmp_path, GOOD)
    assert main(["rules", "list", "--rules", str(folder)]) == 0
    last = capsys.readouterr().out.splitlines()[-1].split("\t")
    assert last == ["shop.en.promo", "advertisement", "line", str(folder / "shop.toml")]


def test_rules_check_passes_a_good_folder(tmp_path, capsys):
    folder = _folder(tmp_path, GOOD)
    assert main(["rules", "check", str(folder)]) == 0
    out = capsys.readouterr().out
    assert out.strip() == f"{folder}: 1 rules in 1 files, 3 examples: all pass"


@pytest.mark.parametrize(("change", "problem"), [
    (('reason = "advertisement"', 'reason = "not_a_reason"'), "unknown reason 'not_a_reason'"),
    (('matches = ["Shop now", "Shop our store"]', 'matches = ["Shop now", "Shop here"]'),
     "does not match its `matches` example 'Shop here'"),
    (('keeps = ["Shop now for the holidays, retailers urged on Friday."]', 'keeps = ["Shop now"]'),
     "matches its `keeps` example 'Shop now'"),
])
def test_bad_rule_folder_is_refused_everywhere(tmp_path, capsys, change, problem):
    folder = _folder(tmp_path, GOOD.replace(*change))
    assert main(["rules", "check", str(folder)]) == 2
    err = capsys.readouterr().err
    assert f"{folder / 'shop.toml'}: rule 'shop.en.promo': " in err and problem in err
    (tmp_path / "a.txt").write_text("Shop now\n", encoding="utf-8")
    for command in (["clean", str(tmp_path / "a.txt")], ["explain", str(tmp_path / "a.txt")]):
        assert main([*command, "--rules", str(folder)]) == 2
        cap = capsys.readouterr()
        assert "shop.en.promo" in cap.err and problem in cap.err
        assert cap.out == ""


def test_rules_check_missing_folder(tmp_path, capsys):
    assert main(["rules", "check", str(tmp_path / "nope")]) == 2
    assert "rules folder not found" in capsys.readouterr().err


def _readme_disable_example() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.findall(r"decruft clean \S+ (?:--rules \S+ )?--disable-rule ([\w.]+)", readme)
    assert found, "README has no `decruft clean … --disable-rule ID` example"
    return found[0]


def test_readme_disable_rule_example_changes_the_seed(tmp_path, monkeypatch, capsys):
    rule_id = _readme_disable_example()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "seed.txt").write_bytes(SEED.read_bytes())
    assert main(["clean", "seed.txt"]) == 0
    (plain,) = [json.loads(l) for l in capsys.readouterr().out.splitlines()]
    assert main(["clean", "seed.txt", "--disable-rule", rule_id]) == 0
    (rec,) = [json.loads(l) for l in capsys.readouterr().out.splitlines()]
    gone = [r["text"] for r in plain["removed"] if r["rule"] == rule_id]
    assert gone == ["Fahim Dashty / facebook", "Fahim Dashty / facebook"]
    assert all(r["rule"] != rule_id for r in rec["removed"])
    # the two credit lines are back in the text, and nothing else changed
    assert rec["text"].split("\n\n").count("Fahim Dashty / facebook") == 2
    assert [p for p in rec["text"].split("\n\n") if p != "Fahim Dashty / facebook"] == plain["text"].split("\n\n")
