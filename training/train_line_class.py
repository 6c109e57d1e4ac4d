"""Train the text line class model shipped as ``pipeline/models/line_class.json``.

Data (``training/DATA.md``): the 1,337 WCXB pages of ``../shared/corpus/train/wcxb``, whose gold is
also Markdown (``gold.md``). Every page's ``dump.txt`` and ``article.txt`` go through the real
cleaning (``pipeline.clean.clean_text``, shipped rules and line labeller), and the pieces of its
kept lines (``pipeline.markdown.text_pieces``: the source lines each kept line was made of) — what
``pipeline.line_class`` sees at run time — are labelled by matching them to the lines of
``gold.md``: a piece whose words (``\\w+``, lower-cased, link targets and marks dropped) are
those of a gold heading line (``#``…) is a heading, of a gold list item (``-``, ``*``, ``1.``) a list
item, else a paragraph (gold paragraphs, and the boilerplate the cleaning kept). Only LightGBM trees
over numeric line features enter the model: no gold text.

Model: LightGBM multiclass trees (deterministic, 1 thread, fixed seeds) over
``pipeline.line_class.line_features``. Validation: 5 folds grouped by site (URL host without
``www.``, fold = SHA-1 of the host mod 5, as ``training/train_html_model.py``), so every page is
scored by a model that never saw its site. The thresholds for heading and list item of fold k
are chosen on the out-of-fold predictions of the *other* folds (F1 of that class over lines),
never on fold k's own. Fold models go to ``.cache/line_class_folds`` for ``benchmarks/markdown.py``;
the shipped model is fit on all pages with the median of the fold thresholds.

    nice .venv/bin/python training/train_line_class.py [--corpus ../shared/corpus/train/wcxb] [--cache .cache]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.markdown import structure, words  # noqa: E402
from pipeline import line_class  # noqa: E402

sys.dont_write_bytecode = True  # no __pycache__ inside training/ for the sibling import below
from folds import FOLDS, fold_of, site_group  # noqa: E402  (training/, beside this file)

INPUTS = ("dump.txt", "article.txt")
TAUS = tuple(round(t, 2) for t in np.arange(0.05, 0.81, 0.05))
PARAMS = {
    "objective": "multiclass", "num_class": 3, "learning_rate": 0.05, "num_leaves": 31,
    "min_data_in_leaf": 30, "min_sum_hessian_in_leaf": 1e-3, "feature_fraction": 0.8,
    "feature_fraction_seed": 7, "bagging_fraction": 1.0, "lambda_l2": 1.0, "max_bin": 63,
    "num_threads": 1, "deterministic": True, "force_row_wise": True, "seed": 7, "verbose": -1,
}
ROUNDS = 250


def kept_lines(corpus: Path, cache: Path) -> dict[str, list[list[str]]]:
    """Per page, the kept lines of each input (``INPUTS``) as the cleaning gives them today,
    cached under the cleaning's version (package, rules and line model hashes)."""
    from pipeline.clean import clean_text, version_info
    from pipeline.config import CleanConfig
    from pipeline.evaluate import read_input

    cfg = CleanConfig()
    key = hashlib.sha256(json.dumps(version_info(cfg), sort_keys=True).encode()).hexdigest()[:12]
    path = cache / "line_class" / f"kept-{key}.json"  # (cached kept lines; pieces are cut below)
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    out: dict[str, list[list[str]]] = {}
    t0 = time.time()
    pages = sorted(p for p in corpus.iterdir() if p.is_dir() and (p / "gold.md").is_file())
    for n, page in enumerate(pages, 1):
        docs = []
        for name in INPUTS:
            src = page / name
            rec = clean_text(read_input(src), cfg, id=page.name) if src.is_file() else {"text": ""}
            docs.append(rec["text"].split("\n\n") if rec.get("text") else [])
        out[page.name] = docs
        if n % 200 == 0:
            print(f"cleaned {n} pages {time.time() - t0:.0f}s", flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    return out


def document_pieces(kept: list[str], raw: str) -> tuple[list[str], list[int]]:
    """The pieces of a document's kept lines (its source lines, as ``pipeline.clean`` gives them
    to ``pipeline.markdown``) and the kept line of each."""
    from pipeline.config import CleanConfig
    from pipeline.markdown import text_pieces
    from pipeline.normalize import split_lines

    cfg = CleanConfig()
    source, _ = split_lines(raw[: cfg.max_document_chars], cfg.max_line_chars)
    spans = text_pieces(kept, source)
    texts = [line[a:b].strip() for line, per in zip(kept, spans) for a, b in per]
    return texts, [i for i, per in enumerate(spans) for _ in per]


def page_labels(lines: list[str], gold_md: str) -> np.ndarray:
    """0 paragraph, 1 heading, 2 list item for each kept line (by its words in ``gold.md``)."""
    heads, items, _ = structure(gold_md)
    y = np.zeros(len(lines), dtype=int)
    for i, line in enumerate(lines):
        key = words(line)
        if key in heads and heads[key] >= items.get(key, 0):
            y[i] = 1
        elif key in items:
            y[i] = 2
    return y


def train(X: np.ndarray, y: np.ndarray, lgb):
    return lgb.train(PARAMS, lgb.Dataset(X, label=y, free_raw_data=False), num_boost_round=ROUNDS)


def class_f1(y: np.ndarray, pred: np.ndarray, c: int) -> tuple[float, float, float]:
    tp = float(np.sum((pred == c) & (y == c)))
    found, gold = float(np.sum(pred == c)), float(np.sum(y == c))
    p = tp / found if found else 0.0
    r = tp / gold if gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def predict(probs: np.ndarray, th: float, tl: float) -> np.ndarray:
    names = line_class.decide(probs, {"heading": th, "list_item": tl})
    return np.array([line_class.CLASS_NAMES.index(n) for n in names])


def choose_taus(probs: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(heading, list item) thresholds with the best F1 of each class (ties: the lower one)."""
    best = []
    for c in (1, 2):
        scores = []
        for t in TAUS:
            pred = probs[:, c] >= t
            tp = float(np.sum(pred & (y == c)))
            found, gold = float(pred.sum()), float(np.sum(y == c))
            p, r = (tp / found if found else 0.0), (tp / gold if gold else 0.0)
            scores.append(2 * p * r / (p + r) if p + r else 0.0)
        best.append(float(TAUS[int(np.argmax(scores))]))
    return best[0], best[1]


def model_json(booster, taus: tuple[float, float], extra: dict) -> str:
    meta = {"features": list(line_class.FEATURE_NAMES), "classes": list(line_class.CLASS_NAMES),
            "tau": {"heading": taus[0], "list_item": taus[1]}, **extra,
            "lightgbm": booster.model_to_string(num_iteration=-1)}
    return json.dumps(meta, indent=0, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus" / "train" / "wcxb")
    ap.add_argument("--cache", type=Path, default=REPO / ".cache")
    ap.add_argument("--out", type=Path, default=line_class.MODEL_PATH)
    args = ap.parse_args(argv)
    if not (args.corpus / "manifest.jsonl").is_file():
        print(f"training data missing: {args.corpus}/manifest.jsonl (the WCXB pages with gold.md of "
              "../shared/corpus/train/wcxb; pass --corpus DIR)", file=sys.stderr)
        return 2
    import lightgbm as lgb

    from pipeline.evaluate import read_manifest

    from pipeline.evaluate import read_input

    manifest = read_manifest(args.corpus)
    kept = kept_lines(args.corpus, args.cache)
    pages = []
    for page_id in sorted(kept):
        gold_md = (args.corpus / page_id / "gold.md").read_text(encoding="utf-8")
        group = site_group("wcxb", page_id, manifest.get(page_id, {}))
        for kind, lines in zip(INPUTS, kept[page_id]):
            if not lines:
                continue
            pieces, groups = document_pieces(lines, read_input(args.corpus / page_id / kind))
            pages.append({"id": page_id, "kind": kind, "fold": fold_of(group),
                          "X": line_class.line_features(pieces, groups), "y": page_labels(pieces, gold_md)})
    print(f"{len(pages)} documents, {sum(len(p['y']) for p in pages)} pieces of kept lines; "
          f"headings {sum(int((p['y'] == 1).sum()) for p in pages)}, "
          f"list items {sum(int((p['y'] == 2).sum()) for p in pages)}", flush=True)
    folds = np.array([p["fold"] for p in pages])

    def stack(sel):
        return (np.vstack([p["X"] for p, s in zip(pages, sel) if s]),
                np.concatenate([p["y"] for p, s in zip(pages, sel) if s]))

    fold_dir = args.cache / "line_class_folds"
    fold_dir.mkdir(parents=True, exist_ok=True)
    oof = [None] * len(pages)
    boosters = []
    for k in range(FOLDS):
        t0 = time.time()
        X, y = stack(folds != k)
        booster = train(X, y, lgb)
        boosters.append(booster)
        for i, p in enumerate(pages):
            if p["fold"] == k:
                oof[i] = line_class.stable(np.asarray(booster.predict(p["X"], num_threads=1)).reshape(-1, 3))
        print(f"fold {k}: {len(y)} lines {time.time() - t0:.0f}s", flush=True)
    # thresholds of fold k: chosen on the other folds' out-of-fold predictions
    taus = []
    for k in range(FOLDS):
        other = [i for i in range(len(pages)) if folds[i] != k]
        taus.append(choose_taus(np.vstack([oof[i] for i in other]), np.concatenate([pages[i]["y"] for i in other])))
    cv = {}
    for kind in INPUTS:
        sel = [i for i, p in enumerate(pages) if p["kind"] == kind]
        y = np.concatenate([pages[i]["y"] for i in sel])
        pred = np.concatenate([predict(oof[i], *taus[pages[i]["fold"]]) for i in sel])
        cv[kind] = {name: dict(zip(("P", "R", "F1"), (round(v, 3) for v in class_f1(y, pred, c))))
                    for c, name in ((1, "heading"), (2, "list_item"))}
    print("fold taus", taus)
    print("cross-validated by site, kept lines:", json.dumps(cv))
    for k, booster in enumerate(boosters):
        (fold_dir / f"fold{k}.json").write_text(model_json(booster, taus[k], {"fold": k}), encoding="utf-8")
    every = {pid: fold_of(site_group("wcxb", pid, manifest.get(pid, {}))) for pid in kept}
    (fold_dir / "folds.json").write_text(json.dumps(  # every page, also those with nothing kept
        {"folds": FOLDS, "pages": every}, indent=0, sort_keys=True), encoding="utf-8")
    X, y = stack([True] * len(pages))
    booster = train(X, y, lgb)
    tau = (float(np.median([t[0] for t in taus])), float(np.median([t[1] for t in taus])))
    extra = {"folds": FOLDS, "rounds": ROUNDS, "params": PARAMS, "documents": len(pages), "lines": int(len(y)),
             "fold_taus": [list(t) for t in taus], "cv_by_site": cv,
             "data": "WCXB dev split (train/wcxb, CC-BY-4.0): dump.txt and article.txt kept lines vs gold.md"}
    args.out.write_text(model_json(booster, tau, extra), encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes), tau {tau}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
