"""The line labeller's training documents: every page of ``../shared/corpus`` x 3 input kinds, run
through the real pipeline up to ``label_lines``, with line labels from the gold.

Sets: ``dev`` (120 pages) and ``train/{wcxb,readability,zh}`` (1,536). Input kinds:

- ``dump``: ``dump.txt`` (the whole page, one text node a line);
- ``article``: ``article.txt`` (the article region);
- ``html``: already-extracted text — trafilatura's default-mode text of ``page.html`` as
  ``training/html_cache.py`` caches it (``dflt_c``), cleaned as a text document.

Each input passes through ``pipeline.clean.clean_document`` with ``label_lines`` replaced by a
recorder, so the labeller is trained on exactly the lines, rule labels and title it sees at run
time. Labels (``line_labels``): a line is body when its lower-cased ``\\w+`` tokens occur as a
contiguous run in the gold's; a line of fewer than 4 tokens also needs a neighbour that occurs with
it. Records are cached per set and kind in ``.cache/train-text/records-<key>/`` (the key hashes the
code and rule files that decide what the recorder sees).

Grouping (corpus README): URL host without ``www.``; Readability test pages by name without
``-N``; zh pages one group each; fold = SHA-1(group) mod 5 (``training/train_html_model.py``).
"""
from __future__ import annotations

import hashlib
import inspect
import json
import pickle
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import pipeline.boilerplate  # noqa: E402
import pipeline.clean  # noqa: E402
from pipeline import classify  # noqa: E402
from pipeline.config import CleanConfig  # noqa: E402
from pipeline.document import Decision, Document  # noqa: E402
from pipeline.evaluate import iter_pages, normalize_line  # noqa: E402

sys.dont_write_bytecode = True  # no __pycache__ inside training/ for the sibling import below
from folds import FOLDS, fold_of, site_group  # noqa: E402  (training/, beside this file)

SETS = ("dev", "train/wcxb", "train/readability", "train/zh")
KINDS = ("dump", "article", "html")
_CJK_LANGS = ("zh", "ja", "ko")


class _Recorder:
    """Stands in for ``label_lines`` and records its first call (lines, rule labels, title)."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], list, str | None]] = []

    def __call__(self, lines, fixed, cfg, title=None):
        self.calls.append((list(lines), list(fixed), title))
        return [f if f is not None else Decision(l, True) for l, f in zip(lines, fixed)]


def pipeline_inputs(text: str) -> tuple[list[str], list, str | None]:
    """(lines, fixed rule labels, title) that ``label_lines`` receives for this text document."""
    rec = _Recorder()
    saved = pipeline.boilerplate.label_lines
    pipeline.boilerplate.label_lines = rec
    try:
        pipeline.clean.clean_document(Document(id="train", source="train", kind="text", raw=text), CleanConfig())
    finally:
        pipeline.boilerplate.label_lines = saved
    return rec.calls[0] if rec.calls else ([], [], None)


def line_labels(lines: list[str], gold: str) -> list[int]:
    gold_key = " " + normalize_line(gold) + " "
    keys = [normalize_line(l) for l in lines]

    def inside(k: str) -> bool:
        return bool(k) and (" " + k + " ") in gold_key

    labels = []
    for i, k in enumerate(keys):
        if not inside(k):
            labels.append(0)
        elif len(k.split()) >= 4:
            labels.append(1)
        else:
            prev = keys[i - 1] if i > 0 else ""
            nxt = keys[i + 1] if i + 1 < len(keys) else ""
            ctx = (prev and inside(prev + " " + k)) or (nxt and inside(k + " " + nxt))
            labels.append(1 if ctx else 0)
    return labels


def page_language(meta: dict, gold: str) -> str:
    """``lang`` of the manifest, else the seeded langdetect answer on the gold (corpus README)."""
    lang = (meta.get("lang") or "").strip().lower()
    if lang:
        return lang.split("-")[0]
    from langdetect import DetectorFactory, detect

    DetectorFactory.seed = 0
    try:
        return detect(gold[:5000])
    except Exception:  # noqa: BLE001 - no letters in the gold
        return "und"


def language_group(lang: str, gold: str) -> str:
    """en / other Latin-script / CJK / other scripts (by the gold's letters)."""
    if lang == "en":
        return "en"
    if lang.startswith(_CJK_LANGS):
        return "CJK"
    letters = [c for c in gold[:5000] if c.isalpha()]
    latin = sum(c < "\u0250" for c in letters)
    return "other Latin" if letters and latin / len(letters) >= 0.5 else "other scripts"


def records_key() -> str:
    """Hash of what decides the recorder's inputs: the rules, the pipeline up to ``label_lines``,
    the re-join, and this file's labelling."""
    h = hashlib.sha1()
    for f in sorted((REPO / "pipeline" / "rules").rglob("*.toml")):
        h.update(f.read_bytes())
    for name in ("boilerplate.py", "clean.py", "normalize.py", "site_rules.py", "config.py"):
        h.update((REPO / "pipeline" / name).read_bytes())
    for fn in (classify.rejoin_spans, classify._is_fragment, classify._ends_open, line_labels, pipeline_inputs):
        h.update(inspect.getsource(fn).encode("utf-8"))
    return h.hexdigest()[:10]


def _html_text(cache: Path, set_name: str, page) -> str:
    f = cache / "html_candidates" / set_name / f"{page.id}.json"
    if not f.exists():
        sys.path.insert(0, str(REPO / "training"))
        from html_cache import cached

        return cached(cache, set_name, page.id, page.source).get("dflt_c", "")
    return json.loads(f.read_text(encoding="utf-8")).get("dflt_c", "")


def _record(job: tuple) -> dict:
    set_name, kind, page, text = job
    lines, fixed, title = pipeline_inputs(text)
    group = site_group(set_name, page.id, page.meta)
    lang = page_language(page.meta, page.gold)
    return dict(
        set=set_name, id=page.id, kind=kind, group=group, fold=fold_of(group),
        page_type=page.meta.get("page_type"), lang=lang, lang_group=language_group(lang, page.gold),
        with_=page.meta.get("with"), without=page.meta.get("without"),
        gold=page.gold, lines=lines, fixed=fixed, title=title, y=line_labels(lines, page.gold),
        ntok=[len(normalize_line(l).split()) for l in lines],
    )


def build(corpus: Path, cache: Path, set_name: str, kind: str, workers: int = 2) -> list[dict]:
    """The records of one set and input kind (cached; ``workers`` processes, same result)."""
    out_f = cache / "train-text" / f"records-{records_key()}" / f"{set_name.replace('/', '_')}.{kind}.pkl"
    if out_f.exists():
        return pickle.loads(out_f.read_bytes())
    jobs = [(set_name, kind, page._replace(source=""), _html_text(cache, set_name, page) if kind == "html"
             else page.source) for page in iter_pages(corpus / set_name, "html" if kind == "html" else kind)]
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as pool:
            rows = list(pool.map(_record, jobs, chunksize=8))
    else:
        rows = [_record(job) for job in jobs]
    out_f.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_f.with_suffix(".tmp")
    tmp.write_bytes(pickle.dumps(rows, protocol=4))
    tmp.replace(out_f)
    return rows


def missing_sets(corpus: Path) -> list[str]:
    return [str(corpus / s) for s in SETS if not (corpus / s).is_dir()]


def load_all(corpus: Path, cache: Path, log=print, sets=SETS) -> list[dict]:
    t0 = time.time()
    rows = []
    for set_name in sets:
        for kind in KINDS:
            got = build(corpus, cache, set_name, kind)
            rows.extend(got)
            log(f"records {set_name} {kind}: {len(got)} documents ({time.time() - t0:.0f}s)")
    return rows


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="build the line labeller's training records (cached)")
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    ap.add_argument("--cache", type=Path, default=REPO / ".cache")
    a = ap.parse_args()
    if missing_sets(a.corpus):
        print(f"corpus not found: {', '.join(missing_sets(a.corpus))} (pass --corpus DIR)", file=sys.stderr)
        sys.exit(2)
    load_all(a.corpus, a.cache, log=lambda m: print(m, flush=True))
