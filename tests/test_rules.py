"""Phrase rules: every rule's own examples, cross-rule false positives, and the loader's errors."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.rules import BUILTIN_DIR, RuleError, load_rules, required_literals

RULES = load_rules()


def _short(text: str, n: int = 40) -> str:
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= n else text[: n - 1] + "…"


MATCH_CASES = [
    pytest.param(rule, line, id=f"{rule.id}::{_short(line)}") for rule in RULES.rules for line in rule.matches
]
KEEP_CASES = [
    pytest.param(rule, line, id=f"{rule.id}::{_short(line)}") for rule in RULES.rules for line in rule.keeps
]


@pytest.mark.parametrize(("rule", "line"), MATCH_CASES)
def test_rule_matches_its_examples(rule, line):
    assert rule.applies(line), f"{rule.id} ({rule.origin}) does not match its example {line!r}"
    # And the combined set removes it (possibly under an earlier rule).
    assert RULES.match(line) is not None


@pytest.mark.parametrize(("rule", "line"), KEEP_CASES)
def test_no_rule_matches_a_keep(rule, line):
    hit = RULES.match(line)
    assert hit is None, f"{hit.id} removes {line!r}, a body line kept by {rule.id}"


def test_rules_loaded_from_every_language_file():
    langs = {r.lang for r in RULES.rules}
    assert {"*", "en", "de", "ru", "fr", "es"} <= langs
    for path in sorted(BUILTIN_DIR.glob("*.toml")):
        assert any(r.origin == str(path) for r in RULES.rules), f"{path.name} defines no rule"


@pytest.mark.parametrize("rule", RULES.rules, ids=lambda r: r.id)
def test_every_rule_has_examples(rule):
    assert rule.matches, f"{rule.id} has no `matches`"
    assert rule.keeps, f"{rule.id} has no `keeps`"


def test_ids_unique_and_well_formed():
    ids = [r.id for r in RULES.rules]
    assert len(ids) == len(set(ids))
    for rule in RULES.rules:
        assert re.fullmatch(r"[a-z_]+(?:\.[a-z_]+){1,2}", rule.id), rule.id
        if rule.lang != "*":
            assert rule.id.split(".")[1] == rule.lang, f"{rule.id} lives in a {rule.lang} file"


KNOWN_REASONS = {
    "donation_appeal", "photo_credit", "navigation", "share", "newsletter",
    "cookie_notice", "advertisement", "payment_widget", "legal", "comments",
}


@pytest.mark.parametrize("rule", RULES.rules, ids=lambda r: r.id)
def test_reason_is_known(rule):
    assert rule.reason in KNOWN_REASONS


# Realistic cruft next to a body sentence (with the same trigger words) that must stay.
MULTILINGUAL = {
    "en": (
        [
            "If you value our journalism, please consider a donation of any size.",
            "Image source, Getty Images",
            "Firefighters battle the blaze near Malibu on Friday. Ringo H.W. Chiu / AP",
            "Photo: Jane Doe/Reuters",
        ],
        [
            "The charity said donations of any size were welcome after the floods.",
            "Getty Images and Reuters photographers were barred from the courtroom.",
            "Firefighters battled the blaze near Malibu for a third day on Friday.",
        ],
    ),
    "de": (
        [
            "Unterstützen Sie unabhängigen Journalismus",
            "Foto: Kay Nietfeld/dpa",
            "Bundeskanzler Olaf Scholz bei seiner Regierungserklärung im Bundestag. Foto: Michael Kappeler/dpa",
        ],
        [
            "Die Opposition will den Vorschlag unterstützen, sagte der Fraktionschef der Union.",
            "Das Foto von Scholz im Bundestag sorgte am Donnerstag für Spott im Netz.",
            "Weiterlesen konnten die Abgeordneten erst nach der Sitzung, hieß es aus der Fraktion.",
        ],
    ),
    "ru": (
        [
            "Поддержите нас",
            "Фото: Сергей Бобылев/ТАСС",
            "Президент России Владимир Путин во время совещания в Кремле. Фото: Михаил Метцель/ТАСС",
            "Подпишитесь на наш канал в Telegram",
        ],
        [
            "Жители района попросили власти поддержать местную больницу, сообщает ТАСС.",
            "Фото с места происшествия опубликовали очевидцы в социальных сетях.",
            "Читайте внимательно условия договора, советуют юристы.",
        ],
    ),
    "fr": (
        [
            "Soutenez notre journalisme",
            "Photo : AFP",
            "Emmanuel Macron à l'Élysée, le 3 mars. LUDOVIC MARIN / AFP",
            "Lire aussi : Réforme des retraites, ce qui change au 1er janvier",
        ],
        [
            "Les syndicats appellent à soutenir le mouvement de grève jeudi, selon l'AFP.",
            "La photo du président a fait le tour des réseaux sociaux mardi.",
            "Abonnés ou non, les lecteurs pourront consulter le dossier gratuitement.",
        ],
    ),
    "es": (
        [
            "Apoya el periodismo independiente",
            "Foto: EFE",
            "El presidente del Gobierno, durante la sesión de control en el Congreso. EFE/Chema Moya",
            "Suscríbete",
        ],
        [
            "El Gobierno apoya el periodismo independiente, dijo la ministra en el Congreso.",
            "La foto del presidente, publicada por EFE, se viralizó en las redes sociales.",
            "Leer más libros mejora la comprensión lectora, según un estudio de la universidad.",
        ],
    ),
}


@pytest.mark.parametrize(
    ("lang", "line"),
    [pytest.param(lang, line, id=f"{lang}-cruft::{_short(line)}") for lang, (cruft, _) in MULTILINGUAL.items() for line in cruft],
)
def test_multilingual_cruft_removed(lang, line):
    assert RULES.match(line) is not None, f"[{lang}] cruft line survives: {line!r}"


@pytest.mark.parametrize(
    ("lang", "line"),
    [pytest.param(lang, line, id=f"{lang}-body::{_short(line)}") for lang, (_, body) in MULTILINGUAL.items() for line in body],
)
def test_multilingual_body_kept(lang, line):
    hit = RULES.match(line)
    assert hit is None, f"[{lang}] {hit.id} removes body line {line!r}"


def test_to_end_rules_are_anchored():
    # A to_end rule cuts everything after it, so it must only fire where a line starts with it.
    for rule in RULES.rules:
        if rule.scope == "to_end":
            assert rule.pattern.pattern.startswith("^"), rule.id


# ---- loader errors -------------------------------------------------------------------------

def _write(dir_: Path, name: str, body: str) -> Path:
    path = dir_ / name
    path.write_text(body, encoding="utf-8")
    return path


def test_user_dir_rules_are_added(tmp_path):
    _write(tmp_path, "site.toml", """
[[rule]]
id = "site.example.promo"
reason = "advertisement"
pattern = '^Shop our store$'
matches = ["Shop our store"]
keeps = ["He went to shop at our store."]
""")
    rules = load_rules(extra_dirs=(tmp_path,))
    assert len(rules) == len(RULES) + 1
    assert rules.match("Shop our store").id == "site.example.promo"
    assert rules.version != RULES.version


BAD_RULE_FILES = {
    "bad pattern": ("id = 'bad.pattern'\nreason = 'navigation'\npattern = '(unclosed'\n", "bad pattern"),
    "back-reference": ("id = 'bad.backref'\nreason = 'navigation'\npattern = '(a)\\1'\n", "back-references"),
    "missing field": ("id = 'bad.missing'\npattern = 'x'\n", "missing.*reason"),
    "unknown scope": ("id = 'bad.scope'\nreason = 'navigation'\npattern = 'x'\nscope = 'paragraph'\n", "scope"),
}


@pytest.mark.parametrize(("body", "error"), BAD_RULE_FILES.values(), ids=BAD_RULE_FILES.keys())
def test_bad_rule_raises(tmp_path, body, error):
    _write(tmp_path, "bad.toml", "[[rule]]\n" + body)
    with pytest.raises(RuleError, match=error):
        load_rules(extra_dirs=(tmp_path,))


def test_malformed_toml_raises(tmp_path):
    _write(tmp_path, "bad.toml", "[[rule]\nid = ")
    with pytest.raises(RuleError, match="bad.toml"):
        load_rules(extra_dirs=(tmp_path,))


def test_duplicate_id_in_user_dir_raises(tmp_path):
    existing = RULES.rules[0].id
    _write(tmp_path, "dup.toml", f"""
[[rule]]
id = "{existing}"
reason = "navigation"
pattern = '^nothing to see$'
""")
    with pytest.raises(RuleError, match="already defined"):
        load_rules(extra_dirs=(tmp_path,))


def test_missing_user_dir_raises(tmp_path):
    with pytest.raises(RuleError, match="not found"):
        load_rules(extra_dirs=(tmp_path / "nope",))


def test_disable_rule_by_id():
    line = "Unterstützen Sie unabhängigen Journalismus"
    assert RULES.match(line).id == "donation.de.unterstuetzen"
    rules = load_rules(disabled=frozenset({"donation.de.unterstuetzen"}))
    assert len(rules) == len(RULES) - 1
    assert all(r.id != "donation.de.unterstuetzen" for r in rules.rules)
    hit = rules.match(line)
    assert hit is None or hit.id != "donation.de.unterstuetzen"
    assert rules.version != RULES.version


def test_disable_unknown_id_raises():
    with pytest.raises(RuleError, match="unknown rule ids"):
        load_rules(disabled=frozenset({"no.such.rule"}))


@pytest.mark.parametrize(("pattern", "literals"), [
    (r"^\W*read more\W*$", {"read more"}),
    # the parser factors "E" out of EFE|Europa: the prefilter glues it back on
    (r"\s(?:EFE|Europa\s+Press)\s*$", {"efe", "europa"}),
    (r"^(?:subscribe|sign up) now", {"subscribe", "sign up"}),
    (r"^\W*(?:x|menu)\W*$", None),  # "x" is too short to be worth a prefilter
    (r"^\d+ comments?$", {" comment"}),
])
def test_required_literals(pattern, literals):
    got = required_literals(pattern, re.IGNORECASE)
    assert got == (frozenset(literals) if literals is not None else None)


def test_first_rule_in_file_order_wins_with_prefilter(tmp_path):
    # rule a has no usable literal (one regex of such rules), rule b has one (tried alone):
    # on a line both match, the earlier rule is still the answer, whichever order they come in
    for first, second in (("a", "b"), ("b", "a")):
        patterns = {"a": r"^\W*(?:x|share)\b", "b": r"^\W*share this"}
        folder = tmp_path / first
        folder.mkdir()
        _write(folder, "order.toml", "".join(
            f"[[rule]]\nid = 'order.{r}'\nreason = 'share'\npattern = '{patterns[r]}'\n\n"
            for r in (first, second)))
        rules = load_rules(extra_dirs=(folder,), disabled=frozenset(r.id for r in RULES.rules))
        assert rules.match("Share this article").id == f"order.{first}"
        assert rules.match("Nothing to see here") is None


# ---- rule ids and files tell the truth ---------------------------------------------------------

LANGUAGE_EXAMPLES = [(rule, line) for rule in RULES.rules if rule.lang != "*" for line in rule.matches + rule.keeps]


@pytest.mark.parametrize("rule", [r for r in RULES.rules if r.lang != "*"], ids=lambda r: r.id)
def test_language_rule_matches_no_other_language_example(rule):
    # Each language file's rule run on every other language file's examples: a form several
    # languages share belongs in common.toml under a neutral id, not in one language's file.
    foreign = [(other.id, line) for other, line in LANGUAGE_EXAMPLES
               if other.lang != rule.lang and rule.applies(line)]
    assert not foreign, f"{rule.id} ({rule.lang}) matches other languages' examples: {foreign}"


@pytest.mark.parametrize(("line", "rule_id"), [
    ("Startseite", "nav.de.menu"),
    ("Главная", "nav.ru.menu"),
    ("Skip to content", "nav.en.skip_links"),
    ("Sponsored", "ads.en.advertisement"),
    ("Foto: EFE", "credit.foto_label"),
    ("Manifestantes en la Puerta del Sol de Madrid. Foto: EFE", "credit.caption_end"),
    ("Read more", "nav.en.read_more"),
    ("Weiterlesen", "nav.de.read_more"),
    ("Читайте также", "nav.ru.read_more"),
    ("© 2024 Diario El País, S.L. Todos los derechos reservados.", "legal.copyright_notice"),
    ("18+", "legal.age_rating"),
    ("Pubblicità", "ads.it.pubblicita"),
])
def test_rule_that_removes_a_line_names_what_it_is(line, rule_id):
    # Issue 11 item 6: nav.de.weiterlesen removed "Startseite", nav.ru.chitayte "Главная",
    # nav.en.read_more "Skip to content", credit.de.caption_end a Spanish "Foto: EFE",
    # ads.de.anzeige the English "Sponsored".
    assert RULES.match(line).id == rule_id


@pytest.mark.parametrize("rule", [r for r in RULES.rules if r.lang == "*"], ids=lambda r: r.id)
def test_common_rule_ids_name_no_language(rule):
    assert not set(rule.id.split(".")) & {r.lang for r in RULES.rules}, rule.id
    assert Path(rule.origin).name == "common.toml"


# ---- the NYT's photo credits ------------------------------------------------------------------

NYT_CAPTION = [
    "The governor spoke to reporters outside the statehouse on Tuesday.",
    "Credit...",
    "Jane Doe/The New York Times",
]


def test_nyt_credit_lines_are_photo_credits():
    for line in NYT_CAPTION[1:]:
        assert RULES.match(line).reason == "photo_credit", line
    assert RULES.match("Kirsten Luce for The New York Times").reason == "photo_credit"
    assert RULES.match("Credit...Chang W. Lee/The New York Times").reason == "photo_credit"
    # body sentences with the same words stay
    assert RULES.match("Credit... that is what the bank refused him, his lawyer said in court.") is None
    assert RULES.match("Jane Doe said The New York Times had hired her in 1983.") is None


NYT_DEV_DUMP = Path(__file__).parents[2] / "shared" / "corpus" / "dev" / (
    "04a6711caa7c687592777718866e781e976e0fe684faebe8b3cedcef8cd0ea34") / "dump.txt"


@pytest.mark.skipif(not NYT_DEV_DUMP.exists(), reason=f"dev corpus not found ({NYT_DEV_DUMP})")
def test_nyt_dev_dump_loses_its_photo_credits():
    import pipeline

    rec = pipeline.clean_text(NYT_DEV_DUMP.read_text(encoding="utf-8"))
    paragraphs = rec["text"].split("\n\n")
    assert "Credit..." not in paragraphs
    assert not [p for p in paragraphs if p.endswith("/The New York Times")]
    credits = [r for r in rec["removed"] if r["reason"] == "photo_credit"]
    assert {r["rule"] for r in credits} >= {"credit.en.credit_ellipsis", "credit.en.staff_photographer"}


# ---- bad user rules are refused at load -------------------------------------------------------

REFUSED_RULES = {
    "unknown reason": ("reason = 'not_a_reason'\npattern = '^Shop now$'\nmatches = ['Shop now']\n",
                       "unknown reason 'not_a_reason'"),
    "matches missed": ("reason = 'advertisement'\npattern = '^Shop now$'\nmatches = ['Shop now!!']\n",
                       "does not match its `matches` example 'Shop now!!'"),
    "keeps matched": ("reason = 'advertisement'\npattern = '^Shop now'\nmatches = ['Shop now']\n"
                      "keeps = ['Shop now for the best deals, the ad said.']\n",
                      "matches its `keeps` example 'Shop now for the best deals, the ad said.'"),
}


@pytest.mark.parametrize(("body", "problem"), REFUSED_RULES.values(), ids=REFUSED_RULES.keys())
def test_bad_user_rule_is_refused_with_file_id_and_problem(tmp_path, body, problem):
    path = _write(tmp_path, "mine.toml", "[[rule]]\nid = 'mine.promo'\n" + body)
    with pytest.raises(RuleError) as info:
        load_rules(extra_dirs=(tmp_path,))
    message = str(info.value)
    assert str(path) in message and "'mine.promo'" in message and problem in message


def test_check_rules_dir_lists_every_problem(tmp_path):
    from pipeline.rules import check_rules_dir

    _write(tmp_path, "a.toml", "[[rule]]\nid = 'mine.a'\n" + REFUSED_RULES["unknown reason"][0]
           + "\n[[rule]]\nid = 'mine.b'\n" + REFUSED_RULES["keeps matched"][0])
    _write(tmp_path, "b.toml", f"[[rule]]\nid = '{RULES.rules[0].id}'\nreason = 'navigation'\npattern = '^x$'\n")
    rules, problems = check_rules_dir(tmp_path)
    assert [r.id for r in rules] == ["mine.a", "mine.b", RULES.rules[0].id]
    assert len(problems) == 3
    assert "'mine.a': unknown reason" in problems[0]
    assert "'mine.b': its pattern matches its `keeps` example" in problems[1]
    assert "already defined in common.toml" in problems[2]
    good = tmp_path / "good"
    good.mkdir()
    _write(good, "ok.toml", "[[rule]]\nid = 'mine.ok'\nreason = 'advertisement'\npattern = '^Shop now$'\n"
           "matches = ['Shop now']\nkeeps = ['Shop now for the best deals, the ad said.']\n")
    assert check_rules_dir(good)[1] == []


def test_long_lines_meet_the_tier_of_their_word_count():
    # a line longer than every max_words is counted only as far as the largest limit
    rules = load_rules()
    top = rules._limits[-1]
    for words in (top - 1, top, top + 1, top + 2, 3 * top):
        for sep in (" ", " -- ", "'", ",\u00a0", "…"):
            line = sep.join(f"wörd{i}" for i in range(words))
            assert bool(rules._beyond_limits(line)) == (words > top), (words, sep)
    long_line = " ".join(["word"] * (3 * top)) + " Photo: Jane Doe/Reuters"
    assert rules.match(long_line) == rules._match(long_line)
