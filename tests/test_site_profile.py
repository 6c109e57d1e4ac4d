"""Learned site boilerplate: template lines go, sentences two articles share stay."""
from __future__ import annotations

import json

import pipeline
from pipeline.batch import BatchStats, clean_files, learn_site_counts, learn_site_profiles
from pipeline.config import CleanConfig
from pipeline.site_profile import ProfileLearner, SiteProfiles, line_key, site_of

TEMPLATE_TOP = ["Riverside Courier", "Local | County | Schools | Obituaries", "Get the Courier app for breaking alerts"]
TEMPLATE_END = ["Courier Media Group publishes 14 community papers across the valley", "Tips? Call the newsroom at 555-0100"]
QUOTE = "“We will not let this stand,” the mayor said at the meeting on Tuesday evening."


TOWNS = ["Ashford", "Belmont", "Carver", "Dunmore", "Elton", "Fairview", "Glenwood", "Hartley", "Irvine", "Jasper"]
TOPICS = ["road repairs", "school buses", "the library roof", "water mains", "park lighting",
          "snow removal", "the animal shelter", "bridge inspections", "trash pickup", "sidewalk ramps"]


def article(n: int) -> list[str]:
    town, topic = TOWNS[n], TOPICS[n]
    body = [
        f"The county board met in {town} on Monday to discuss {topic}.",
        f"Residents of {town} told the board that {topic} had been neglected since spring.",
        f"The board voted to spend more on {topic} in {town} before the end of the fiscal year.",
    ]
    if n in (2, 5):  # two articles quote the same sentence
        body.append(QUOTE)
    return TEMPLATE_TOP + body + TEMPLATE_END


def test_line_key_and_site():
    assert line_key("Tips? Call the newsroom at 555-0100") == line_key("tips call the newsroom at 555 0199")
    assert site_of("https://www.courier.example/a/b", "x.txt") == "courier.example"
    assert site_of(None, "courier/2026/a.txt#3") == "courier/2026"
    assert site_of(None, "a.txt") == "."


def test_learner_finds_template_not_quotes():
    learner = ProfileLearner()
    for n in range(10):
        learner.add("courier.example", article(n))
    learner.add("other.example", article(3))
    profile = learner.profile(min_share=0.3, min_docs=5)
    assert profile["version"] == 1
    keys = {l["key"] for l in profile["sites"]["courier.example"]["lines"]}
    assert keys == {line_key(l) for l in TEMPLATE_TOP + TEMPLATE_END}
    assert line_key(QUOTE) not in keys
    assert "other.example" not in profile["sites"]  # one document is never a template
    examples = {l["example"] for l in profile["sites"]["courier.example"]["lines"]}
    assert "Tips? Call the newsroom at 555-0100" in examples


def test_learner_memory_is_bounded():
    learner = ProfileLearner(max_keys=100)
    for n in range(300):
        words = [TOWNS[n % 10], TOPICS[n // 10 % 10], TOWNS[n // 100], f"x{n:03d}".replace("0", "o")]
        learner.add("s", TEMPLATE_END + [f"{' '.join(words)} line {'abcdef'[k]}" for k in range(6)])
        assert len(learner.sites["s"].lines) <= 100
    keys = {l["key"] for l in learner.profile(0.3, 5)["sites"]["s"]["lines"]}
    assert keys == {line_key(l) for l in TEMPLATE_END}


def test_profiles_remove_template_lines_with_reason():
    learner = ProfileLearner()
    for n in range(10):
        learner.add("courier.example", article(n))
    profiles = SiteProfiles(learner.profile(0.3, 5))
    text = "\n".join(article(5))
    without = pipeline.clean_text(text, url="https://courier.example/x")
    doc = pipeline.Document(id="x", source="x", url="https://courier.example/x", raw=text)
    pipeline.clean_document(doc, CleanConfig(), profiles)
    removed = {d.text: d.reason for d in doc.decisions if not d.keep}
    for line in TEMPLATE_END:
        assert removed.get(line) == "site_boilerplate"
        assert line not in doc.text
    assert QUOTE in doc.text
    assert "Residents of Fairview told the board" in doc.text
    assert len(doc.text) < len(without["text"]) or all(l not in without["text"] for l in TEMPLATE_END)


def test_learn_site_profiles_from_files(tmp_path):
    site = tmp_path / "courier"
    site.mkdir()
    for n in range(8):
        (site / f"a{n}.txt").write_text("\n".join(article(n)), encoding="utf-8")
    paths = sorted(site.iterdir())
    profile = learn_site_profiles(paths, tmp_path, CleanConfig())
    assert set(profile["sites"]) == {"courier"}
    profiles = SiteProfiles(json.loads(json.dumps(profile)))
    docs = list(clean_files(paths, tmp_path, CleanConfig(), BatchStats(), profiles=profiles))
    assert all("Courier Media Group" not in d.text for d in docs)
    assert sum(QUOTE in d.text for d in docs) == 2


def test_shards_learnt_apart_merge_into_the_one_pass_profile(tmp_path):
    for site in ("courier", "herald"):
        (tmp_path / site).mkdir()
        for n in range(9):
            (tmp_path / site / f"a{n}.txt").write_text("\n".join(article(n)), encoding="utf-8")
    paths = sorted(tmp_path.rglob("*.txt"))
    cfg = CleanConfig()
    whole = learn_site_profiles(paths, tmp_path, cfg)
    merged = ProfileLearner(max_words=cfg.site_max_words)
    for shard in (paths[:4], paths[4:11], paths[11:]):  # shards cut across sites
        state = json.loads(json.dumps(learn_site_counts(shard, tmp_path, cfg).state()))
        merged.merge(state)
    assert merged.profile(cfg.site_min_share, cfg.site_min_docs) == whole
    assert set(whole["sites"]) == {"courier", "herald"}
    assert whole["sites"]["courier"]["docs"] == 9
