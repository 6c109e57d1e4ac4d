"""Train the HTML block model shipped as ``pipeline/models/html_blocks.lgb.txt`` (+ ``.json``).

Data (``training/DATA.md``): the pages of ``../shared/corpus/dev`` and ``../shared/corpus/train/
{wcxb,readability,zh}`` (1,656 pages). Every page's visible text blocks come from
``pipeline.html_blocks.page_blocks``; the features from ``block_features`` with trafilatura's
text and comments in the mode ``CANDIDATE`` (``pipeline.extract.candidate_text``; recorded in the
model's ``.json`` as ``candidate``) — exactly what runs at cleaning time. A block's label: the share of its token trigrams found in the gold (blocks of
1-2 tokens: found in the gold *and* the nearest longer block on one side is body), body when ≥ 0.5.
Weights: block tokens + 1, normalised so that every page weighs the same (the metrics average over
pages), times 1/sqrt(pages of its set) so that the small sets count. tau maximises the mean over
the sets of their figure under the set's own metric (``pipeline.evaluate``: WCXB's mean page F1 on
WCXB, the shingle F1 of the mean P and R elsewhere). No gold text enters the model: only trees.

Model: LightGBM binary trees (deterministic, 1 thread, fixed seeds). Validation: 5 folds grouped by
site (``site_group``: URL host without ``www.``; Readability test pages by name without ``-N``;
zh pages one group each), so every page is scored by a model that never saw its site. The decision
threshold ``tau`` for fold k is chosen on the out-of-fold predictions of the *other* folds (never on
fold k's own labels). The fold models are written to the cache so that ``benchmarks/
html_quality.py`` scores every page through the full cleaning pipeline with the model that never
saw its site. The shipped model is fit on all pages; its ``tau`` is the median of the fold taus.

    nice .venv/bin/python training/train_html_model.py [--corpus ../shared/corpus] [--cache .cache]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline import html_blocks  # noqa: E402
from pipeline.classify import stable  # noqa: E402
from pipeline.evaluate import aggregate, iter_pages, score_document, wcxb_score  # noqa: E402
from pipeline.extract import CANDIDATE_MODES, HTML_MODEL_PATH, candidate_text, parse_page  # noqa: E402

sys.dont_write_bytecode = True  # no __pycache__ inside training/ for the sibling import below
import html_cache  # noqa: E402  (training/, beside this file)
from folds import FOLDS, fold_of, site_group  # noqa: E402

SETS = ("dev", "train/wcxb", "train/readability", "train/zh")
# (tau for blocks trafilatura kept, tau for blocks it left out): adding what trafilatura dropped
# may need more confidence than keeping what it kept.
TAUS = tuple((a, b) for a in (0.3, 0.4, 0.5, 0.6) for b in (0.4, 0.5, 0.6, 0.7, 0.8, 0.9))
PARAMS = {
    "objective": "binary", "learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 40,
    "min_sum_hessian_in_leaf": 1e-3, "feature_fraction": 0.8, "feature_fraction_seed": 7,
    "bagging_fraction": 1.0, "lambda_l2": 1.0, "max_bin": 63, "num_threads": 1,
    "deterministic": True, "force_row_wise": True, "seed": 7, "verbose": -1,
}
ROUNDS = 300
CANDIDATE = "fast_c"  # pipeline.extract.CANDIDATE_MODES: which trafilatura text the features read


def labels(blocks, gold: str) -> np.ndarray:
    cov = html_blocks.Coverage(gold)
    toks = [html_blocks.tokens(b.text) for b in blocks]
    raw = np.array([cov.of(t) for t in toks], dtype=float)
    long = np.array([len(t) >= 3 for t in toks], dtype=bool)
    lab = (raw >= 0.5) & long
    # Short blocks: in the gold and next to body.
    idx_long = np.flatnonzero(long)
    for i in np.flatnonzero(~long & (raw >= 0.5)):
        j = np.searchsorted(idx_long, i)
        before = lab[idx_long[j - 1]] if j > 0 else False
        after = lab[idx_long[j]] if j < len(idx_long) else False
        lab[i] = before or after
    return lab.astype(np.float64)


def feature_key(candidate: str) -> str:
    return hashlib.sha1(Path(html_blocks.__file__).read_bytes() + f"candidate:{candidate}".encode()).hexdigest()[:10]


def page_data(cache: Path, set_name: str, page, candidate: str) -> dict:
    f = cache / "features" / feature_key(candidate) / set_name / f"{page.id}.npz"
    if f.exists():
        z = np.load(f)
        return {k: z[k] for k in z.files}
    tree = parse_page(page.source)
    blocks = html_blocks.page_blocks(tree) if tree is not None else []
    got = html_cache.cached(cache, set_name, page.id, page.source)  # training/html_cache.py
    cand, comments = got.get(candidate, ""), got.get(candidate + ".comments", "")
    if not cand.strip() and tree is not None:
        cand, comments = candidate_text(page.source, tree, candidate)
    X = html_blocks.block_features(blocks, cand, comments)
    y = labels(blocks, page.gold)
    ntok = np.array([len(html_blocks.tokens(b.text)) for b in blocks], dtype=float)
    f.parent.mkdir(parents=True, exist_ok=True)
    with open(f.with_suffix(".tmp"), "wb") as fh:
        np.savez_compressed(fh, X=X, y=y, ntok=ntok)
    f.with_suffix(".tmp").replace(f)
    return {"X": X, "y": y, "ntok": ntok}


def train(X, y, w, lgb):
    ds = lgb.Dataset(X, label=y, weight=w, params={"max_bin": PARAMS["max_bin"]}, free_raw_data=False)
    return lgb.train(PARAMS, ds, num_boost_round=ROUNDS)


def page_score(p: dict, text: str):
    """The page's metric (``pipeline.evaluate``): WCXB's token bags on WCXB, shingles elsewhere."""
    if p["set"] == "train/wcxb":
        return wcxb_score(text, p["gold"], p["with"], p["without"])
    return score_document(text, p["gold"])


def set_figure(scores: list) -> float:
    """A set's figure: mean page F1 (WCXB scores) or F1 of the mean P and R (shingles)."""
    if scores and hasattr(scores[0], "f1"):
        return float(np.mean([x.f1 for x in scores]))
    return aggregate(scores)["F1"] if scores else 0.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    ap.add_argument("--cache", type=Path, default=REPO / ".cache")
    ap.add_argument("--out", type=Path, default=HTML_MODEL_PATH)
    ap.add_argument("--candidate", default=CANDIDATE, choices=sorted(CANDIDATE_MODES))
    args = ap.parse_args(argv)
    missing = [s for s in SETS if not (args.corpus / s).is_dir()]
    if missing:
        print(f"corpus not found: {', '.join(str(args.corpus / s) for s in missing)} "
              "(the HTML model trains on ../shared/corpus/dev and train/{wcxb,readability,zh}; "
              "pass --corpus DIR)", file=sys.stderr)
        return 2
    import lightgbm as lgb

    t0 = time.time()
    pages = []
    for set_name in SETS:
        for page in iter_pages(args.corpus / set_name, "html"):
            d = page_data(args.cache, set_name, page, args.candidate)
            group = site_group(set_name, page.id, page.meta)
            tree = parse_page(page.source)
            texts = [b.text for b in html_blocks.page_blocks(tree)] if tree is not None else []
            pages.append({"set": set_name, "id": page.id, "group": group, "fold": fold_of(group),
                          "type": page.meta.get("page_type"), "gold": page.gold, "texts": texts,
                          "with": page.meta.get("with"), "without": page.meta.get("without"), **d})
        print(f"features {set_name}: {len(pages)} pages {time.time() - t0:.0f}s", flush=True)

    # Each set weighs as sqrt(its pages): the 120 dev pages are not drowned by WCXB's 1,337.
    n_set = Counter(p["set"] for p in pages)
    set_w = {s: 1.0 / np.sqrt(n) * np.sqrt(len(pages) / len(n_set)) for s, n in n_set.items()}

    def stack(sel):
        Xs, ys, ws = [], [], []
        for p in sel:
            if len(p["y"]) == 0:
                continue
            w = p["ntok"] + 1.0
            Xs.append(p["X"]); ys.append(p["y"]); ws.append(100.0 * set_w[p["set"]] * w / w.sum())
        return np.vstack(Xs), np.concatenate(ys), np.concatenate(ws)

    fold_dir = args.cache / "html_folds"
    fold_dir.mkdir(parents=True, exist_ok=True)
    for k in range(FOLDS):  # out-of-fold probabilities
        model = train(*stack([p for p in pages if p["fold"] != k]), lgb)
        model.save_model(str(fold_dir / f"fold{k}.lgb.txt"))
        for p in pages:
            if p["fold"] == k:
                p["prob"] = stable(model.predict(p["X"], num_threads=1)) if len(p["y"]) else np.zeros(0)
        print(f"fold {k}: trained {time.time() - t0:.0f}s", flush=True)

    cov_col = html_blocks.FEATURE_NAMES.index("cov")

    def text_at(p, tau):
        if not len(p["y"]):
            return ""
        keep = p["prob"] >= np.where(p["X"][:, cov_col] >= 0.5, tau[0], tau[1])
        repeats = html_blocks.repeated_runs(p["texts"], keep)  # as at cleaning time (kept_blocks)
        return "\n".join(t for t, k, r in zip(p["texts"], keep, repeats) if k and not r)

    grid = {tau: [page_score(p, text_at(p, tau)) for p in pages] for tau in TAUS}
    print(f"threshold grid {time.time() - t0:.0f}s", flush=True)
    folds = np.array([p["fold"] for p in pages])
    sets = np.array([p["set"] for p in pages])
    taus = []
    for k in range(FOLDS):  # fold k's threshold: the best on the other folds' pages
        def objective(t, other=folds != k):  # mean over the sets of their figure
            return round(float(np.mean([set_figure([grid[t][i] for i in np.flatnonzero(other & (sets == s))])
                                        for s in SETS])), 6)
        taus.append(max(TAUS, key=lambda t: (objective(t), -abs(t[0] - 0.5) - abs(t[1] - 0.5))))
    for k, t in enumerate(taus):  # fold k's model and its threshold (benchmarks/html_quality.py)
        (fold_dir / f"fold{k}.json").write_text(json.dumps(
            {"tau": list(t), "features": list(html_blocks.FEATURE_NAMES), "candidate": args.candidate}),
            encoding="utf-8")
    cv = [grid[taus[p["fold"]]][i] for i, p in enumerate(pages)]
    print("fold taus", taus)
    report = {s: round(set_figure([x for x, q in zip(cv, sets) if q == s]), 4) for s in SETS}
    types = sorted({p["type"] for p in pages if p["type"]})
    report.update({f"wcxb:{t}": round(set_figure([x for x, p in zip(cv, pages) if p["type"] == t]), 4)
                   for t in types})
    print("block-level CV (before the phrase rules):", report)

    final = train(*stack(pages), lgb)
    tau = [float(np.median([t[0] for t in taus])), float(np.median([t[1] for t in taus]))]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(final.model_to_string(), encoding="utf-8")
    meta_path = args.out.with_suffix("").with_suffix(".json")
    meta = {"tau": tau, "fold_taus": [list(t) for t in taus], "features": list(html_blocks.FEATURE_NAMES),
            "candidate": args.candidate, "folds": FOLDS, "rounds": ROUNDS, "params": PARAMS,
            "pages": len(pages), "cv_block_level": report}
    meta_path.write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    (fold_dir / "folds.json").write_text(json.dumps(
        {"taus": [list(t) for t in taus], "feature_key": feature_key(args.candidate),
         "pages": {f"{p['set']}/{p['id']}": p["fold"] for p in pages}}, indent=0), encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes), tau={tau} in {time.time() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
