"""Learned site boilerplate: template lines go (by where they sit), content the site's articles share stays."""
from __future__ import annotations

import json

import pipeline
from pipeline.batch import BatchStats, clean_files, learn_site_counts, learn_site_profiles
from pipeline.config import CleanConfig
from pipeline.normalize import split_lines
from pipeline.site_profile import (MAX_KEY_CHARS, RULES, SHARED_RULE, ProfileLearner, SiteProfiles, SiteTemplate,
                                   exact_key, line_key, site_of)

TEMPLATE_TOP = ["Riverside Courier", "Local | County | Schools | Obituaries", "Get the Courier app for breaking alerts"]
TEMPLATE_END = ["Courier Media Group publishes 14 community papers across the valley", "Tips? Call the newsroom at 555-0100"]
QUOTE = "“We will not let this stand,” the mayor said at the meeting on Tuesday evening."


TOWNS = ["Ashford", "Belmont", "Carver", "Dunmore", "Elton", "Fairview", "Glenwood", "Hartley", "Irvine", "Jasper",
         "Kenton", "Lisbon"]
TOPICS = ["road repairs", "school buses", "the library roof", "water mains", "park lighting", "snow removal",
          "the animal shelter", "bridge inspections", "trash pickup", "sidewalk ramps", "the fire station", "bus shelters"]


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


# A site whose template changes its numbers from page to page, with a long teaser on every
# page, an inline line inside every body, and content several articles share.
DATELINE = "Updated {h} hours ago · {c} comments"
PROMO = ("Join {r},{k} readers who get the Courier morning briefing with local news, school closures, road works "
         "and the weather for the valley, every weekday at {t} a.m., free for {d} days")
TEASER = ("Also in the Courier this week: the valley's oldest diner reopens after a fire, the high school robotics "
          "team heads to the state final, a farmer in Glenwood grows a pumpkin heavier than a small car, and the "
          "county fair announces its music line-up for the summer, with tickets on sale from Friday at the gate.")
INLINE = "Tonight on Courier Radio: the county board debate"
SHARED_QUOTE = ("“Nobody in this valley should wait three winters for a bus shelter,” said Ines Marlow, who has "
                "led the riders' association for a decade.")
SHARED_LIST = ["Bring a photo ID", "Park behind the library", "Doors open early"]
ROOM = "The hearing is in Room {room} of the town hall."
QUOTED_IN, LISTED_IN, ROOM_IN = (1, 4, 7, 9, 11), (2, 6, 10), (0, 1, 3, 5, 6, 8, 10)


def site_page(n: int) -> list[str]:
    town, topic = TOWNS[n], TOPICS[n]
    head = TEMPLATE_TOP + [DATELINE.format(h=n + 1, c=3 * n * n + 2)]
    body = [
        f"The county board met in {town} on Monday to discuss {topic}, after a long winter of complaints.",
        f"Residents of {town} told the board that {topic} had been neglected since spring, and asked for dates.",
        INLINE,
        f"The board voted to spend more on {topic} in {town} before the end of the fiscal year, the clerk said.",
        f"A second vote on {topic} is planned for the autumn session, when the new budget comes before the board.",
    ]
    if n in QUOTED_IN:
        body.insert(2, SHARED_QUOTE)
    if n in LISTED_IN:
        body[4:4] = SHARED_LIST
    if n in ROOM_IN:
        body.insert(1, ROOM.format(room=101 + 17 * n))
    tail = [TEASER, PROMO.format(r=n + 1, k=100 + 37 * n, t=5 + n % 3, d=7 * (n + 1))] + TEMPLATE_END
    return head + body + tail


def site_profiles(pages: int = 12) -> SiteProfiles:
    learner = ProfileLearner()
    for n in range(pages):
        learner.add("courier.example", site_page(n))
    return SiteProfiles(json.loads(json.dumps(learner.profile(0.3, 5))))


def clean_page(n: int, profiles: SiteProfiles | None) -> pipeline.Document:
    doc = pipeline.Document(id=f"p{n}", source=f"p{n}", url=f"https://courier.example/{n}", raw="\n".join(site_page(n)))
    return pipeline.clean_document(doc, CleanConfig(), profiles)


def test_line_key_and_site():
    assert line_key("Tips? Call the newsroom at 555-0100") == line_key("tips call the newsroom at 555 0199")
    assert line_key("Updated 3 hours ago · 9 comments") == line_key("Updated 12 hours ago · 140 comments")
    assert exact_key("Updated 3 hours ago") != exact_key("Updated 12 hours ago")
    assert line_key("2019-08-01 10:23") == line_key("2026-12-02 9:05") == "0 0 0 0 0"  # numbers only: a shape
    assert exact_key("2019-08-01 10:23") == "" and line_key("· ·") == ""
    assert site_of("https://www.courier.example/a/b", "x.txt") == "courier.example"
    assert site_of(None, "courier/2026/a.txt#3") == "courier/2026"
    assert site_of(None, "a.txt") == "."


def test_learner_finds_template_not_quotes():
    learner = ProfileLearner()
    for n in range(10):
        learner.add("courier.example", article(n))
    learner.add("other.example", article(3))
    profile = learner.profile(min_share=0.3, min_docs=5)
    assert profile["version"] == 2
    keys = {l["key"] for l in profile["sites"]["courier.example"]["lines"]}
    assert keys == {line_key(l) for l in TEMPLATE_TOP + TEMPLATE_END}
    assert line_key(QUOTE) not in keys
    assert line_key(QUOTE) in {l["key"] for l in profile["sites"]["courier.example"]["shared"]}
    assert "other.example" not in profile["sites"]  # one document is never a template
    examples = {l["example"] for l in profile["sites"]["courier.example"]["lines"]}
    assert "Tips? Call the newsroom at 555-0100" in examples


def test_long_and_changing_template_lines_are_learned():
    learner = ProfileLearner()
    for n in range(12):
        learner.add("courier.example", site_page(n))
    site = learner.profile(0.3, 5)["sites"]["courier.example"]
    by_key = {l["key"]: l["docs"] for l in site["lines"]}
    assert by_key[line_key(TEASER)] == 12  # 60 words, on every page
    assert by_key[line_key(PROMO.format(r=1, k=100, t=5, d=7))] == 12  # its numbers change on every page
    assert by_key[line_key(DATELINE.format(h=1, c=2))] == 12
    assert by_key[line_key(SHARED_QUOTE)] == 5 and by_key[line_key(ROOM.format(room=1))] == 7  # candidates…
    exact = {l["key"] for l in site["exact"]}
    assert exact_key(ROOM.format(room=101)) not in exact  # …but no room number is on half the pages


def test_where_a_line_sits_decides_and_names_the_rule():
    profiles = site_profiles()
    for n in range(12):
        doc = clean_page(n, profiles)
        removed = {d.text: d.rule for d in doc.decisions if not d.keep and d.reason == "site_boilerplate"}
        for line in TEMPLATE_TOP:
            assert removed[line] == RULES["header"]
        assert removed[DATELINE.format(h=n + 1, c=3 * n * n + 2)] == RULES["header"]
        assert removed[TEASER] == RULES["footer"]
        assert removed[PROMO.format(r=n + 1, k=100 + 37 * n, t=5 + n % 3, d=7 * (n + 1))] == RULES["footer"]
        assert removed[INLINE] == RULES["body"]  # inside the body, on every page
        assert set(removed.values()) <= set(RULES.values())
        for line in TEMPLATE_END + [TEASER, INLINE]:
            assert line not in doc.text
        # content the site's articles share stays in every page it is in
        assert (SHARED_QUOTE in doc.text) == (n in QUOTED_IN)
        for item in SHARED_LIST:
            assert (item in doc.text) == (n in LISTED_IN)
        assert (ROOM.format(room=101 + 17 * n) in doc.text) == (n in ROOM_IN)
        assert f"Residents of {TOWNS[n]} told the board" in doc.text


def test_shared_list_kept_against_the_labeller():
    profiles = site_profiles()
    for n in LISTED_IN:
        without = clean_page(n, None)
        doc = clean_page(n, profiles)
        rules = {d.text: d.rule for d in doc.decisions}
        for item in SHARED_LIST:
            assert item in doc.text
            if item not in without.text:  # the labeller alone took it: the profile says why it stays
                assert rules[item] == SHARED_RULE


def test_cleaned_text_is_a_fixed_point_with_the_profile():
    profiles = site_profiles()
    for n in (1, 2, 6):
        doc = clean_page(n, profiles)
        again = pipeline.clean_document(pipeline.Document(id="x", source="x", url=f"https://courier.example/{n}",
                                                          raw=doc.text), CleanConfig(), profiles)
        assert again.text == doc.text


def test_body_span_is_the_most_non_template_text():
    template = SiteTemplate(10, {line_key("Home"): 10, line_key("News"): 10, line_key("Contact us"): 10})
    lines = ["Home", "News", "A first paragraph of the article itself.", "News",
             "A second paragraph of the article, longer than the first one.", "Contact us", "Home"]
    assert template.body_span(lines, [True] * len(lines)) == (2, 5)
    assert template.mark(lines) == [RULES["header"], RULES["header"], None, RULES["body"], None,
                                    RULES["footer"], RULES["footer"]]
    # "News" inside the body goes only when it is on half of the pages or more: here it is
    assert SiteTemplate(10, {line_key("News"): 4}, body_floor=5).mark(lines)[3] is None


def test_learner_memory_is_bounded():
    learner = ProfileLearner(max_keys=100)
    for n in range(300):
        words = [TOWNS[n % 10], TOPICS[n // 10 % 10], TOWNS[n // 100], f"x{n:03d}".replace("0", "o")]
        learner.add("s", TEMPLATE_END + [f"{' '.join(words)} line {'abcdef'[k]}" for k in range(6)])
        assert len(learner.sites["s"].lines) <= 100
    keys = {l["key"] for l in learner.profile(0.3, 5)["sites"]["s"]["lines"]}
    assert keys == {line_key(l) for l in TEMPLATE_END}
    long_a, long_b = TEASER * 5 + " one", TEASER * 5 + " two"
    assert len(line_key(long_a)) <= MAX_KEY_CHARS and line_key(long_a) != line_key(long_b)
    learner.add("s", [long_a])
    assert all(len(k) <= MAX_KEY_CHARS + 1 and len(t) <= 200 for k, t in learner.sites["s"].text.items())


def test_version_1_profiles_and_states_are_read_again():
    v1_key = "updated 0 hours ago 00 comments"  # digits as 0 one by one, as version 1 made them
    profile = {"version": 1, "min_share": 0.3, "min_docs": 5, "sites": {"courier.example": {
        "docs": 12, "lines": [{"key": v1_key, "docs": 12, "example": "Updated 3 hours ago · 14 comments"}]}}}
    template = SiteProfiles(profile).for_document("https://courier.example/x", "x")
    assert line_key("Updated 7 hours ago · 2 comments") in template
    learner = ProfileLearner()
    learner.merge({"version": 1, "sites": {"s": {"docs": 6, "lines": {
        v1_key: [4, "Updated 3 hours ago · 14 comments"], "updated 0 hours ago 0 comments": [2, "Updated 1 hours ago · 1 comments"]}}}})
    assert learner.sites["s"].lines[line_key("Updated 3 hours ago · 14 comments")] == 6


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
            (tmp_path / site / f"a{n}.txt").write_text("\n".join(site_page(n)), encoding="utf-8")
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
    assert line_key(TEASER) in {l["key"] for l in whole["sites"]["courier"]["lines"]}
    lines = split_lines("\n".join(site_page(0)), cfg.max_line_chars)[0]
    assert lines == site_page(0)  # the learner counted the lines cleaning reads


def test_long_lines_whose_numbers_change_share_their_key():
    first = f"Markets data © 2019 Example Data Inc. {TEASER} Quotes delayed by 15 minutes."
    again = f"Markets data © 511 Example Data Inc. {TEASER} Quotes delayed by 20 minutes."
    assert len(line_key(first)) <= MAX_KEY_CHARS and line_key(first) == line_key(again)
    assert exact_key(first) != exact_key(again)


def test_numbers_only_lines_go_in_the_runs_and_stay_in_the_body():
    def page(n: int) -> list[str]:
        return (["Riverside Courier", f"{2019 + n % 3}-0{1 + n % 9}-1{n % 10}", "Local | County | Schools"]
                + article(n)[3:6] + [f"{n + 3} | {40 + n} | {n * 7}"] + article(n)[5:6]
                + ["Valley", "Archive", "Valley", "Contact", "Valley", "Valley", "Valley", "Valley"] + TEMPLATE_END)
    learner = ProfileLearner()
    for n in range(10):
        learner.add("courier.example", page(n))
    template = SiteProfiles(learner.profile(0.3, 5)).for_document("https://courier.example/x", "x")
    lines = page(4)
    marks = template.mark(lines)
    assert marks[1] == RULES["header"]  # the dateline between two template lines
    row = lines.index("7 | 44 | 28")
    assert marks[row] is None  # a table row inside the body: the page's own
    assert [marks[i] for i, l in enumerate(lines) if l == "Valley"] == [RULES["footer"]] * 6  # repeated, still template


def test_a_line_several_pages_share_is_not_taken_for_the_headline():
    notice = "Courier readers meet on Thursdays"  # reads like a headline, and heads three bodies

    def page(n: int) -> list[str]:
        body = article(n)[3:6]
        return TEMPLATE_TOP + ([notice] if n in (1, 5, 9) else []) + body + TEMPLATE_END

    learner = ProfileLearner()
    for n in range(12):
        learner.add("courier.example", page(n))
    profiles = SiteProfiles(learner.profile(0.3, 5))
    for n in (1, 5, 9):
        doc = pipeline.Document(id=f"p{n}", source=f"p{n}", url=f"https://courier.example/{n}", raw="\n".join(page(n)))
        pipeline.clean_document(doc, CleanConfig(), profiles)
        assert doc.title != notice
        assert all(d.reason != "title" for d in doc.decisions if d.text == notice)
        assert all(line not in doc.text for line in TEMPLATE_TOP + TEMPLATE_END)
