"""Train the HTML block model shipped as ``pipeline/models/html_blocks.lgb.txt`` (+ ``.json``).

Data (``training/DATA.md``): the pages of ``../shared/corpus/dev`` and ``../shared/corpus/train/
{wcxb,readability,zh}`` (1,656 pages). Every page's visible text blocks come from
``pipeline.html_blocks.page_blocks``; the features from ``block_features`` with trafilatura's
default-mode text (``pipeline.extract.candidate_text``) as the candidate — exactly what runs at
cleaning time. A block's label: the share of its token trigrams found in the gold (blocks of
1-2 tokens: found in the gold *and* the nearest longer block on one side is body), body when ≥ 0.5.
Weights: block tokens + 1, normalised so that every page weighs the same (the metrics average over
pages), times 1/sqrt(pages of its set) so that the small sets count. tau maximises the mean over
the sets of their mean page F1. No gold text enters the model: only trees.

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
import re
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline import html_blocks  # noqa: E402
from pipeline.evaluate import iter_pages  # noqa: E402
from pipeline.extract import HTML_MODEL_PATH, candidate_text, parse_page  # noqa: E402

SETS = ("dev", "train/wcxb", "train/readability", "train/zh")
FOLDS = 5
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


def site_group(set_name: str, page_id: str, meta: dict) -> str:
    """Cross-validation group of a page (corpus README)."""
    url = meta.get("url") or ""
    if set_name == "train/readability":
        name = (meta.get("source") or page_id).split("test-pages/")[-1].split("/")[0]
        return "readability:" + re.sub(r"-\d+$", "", name)
    if url.startswith("http"):
        host = urlparse(url).netloc.lower()
        return host[4:] if host.startswith("www.") else host
    return f"{set_name}:{page_id}"


def fold_of(group: str) -> int:
    return int(hashlib.sha1(group.encode("utf-8")).hexdigest(), 16) % FOLDS


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


def feature_key() -> str:
    return hashlib.sha1(Path(html_blocks.__file__).read_bytes() + b"candidate:dflt_c").hexdigest()[:10]


def page_data(cache: Path, set_name: str, page) -> dict:
    f = cache / "features" / feature_key() / set_name / f"{page.id}.npz"
    if f.exists():
        z = np.load(f)
        return {k: z[k] for k in z.files}
    tree = parse_page(page.source)
    blocks = html_blocks.page_blocks(tree) if tree is not None else []
    tc = cache / "html_candidates" / set_name / f"{page.id}.json"  # training/html_cache.py
    cand = json.loads(tc.read_text(encoding="utf-8")).get("dflt_c", "") if tc.exists() else ""
    if not cand.strip() and tree is not None:
        cand = candidate_text(page.source, tree)
    X = html_blocks.block_features(blocks, cand)
    y = labels(blocks, page.gold)
    ntok = np.array([len(html_blocks.tokens(b.text)) for b in blocks], dtype=float)
    f.parent.mkdir(parents=True, exist_ok=True)
    with open(f.with_suffix(".tmp"), "wb") as fh:
        np.savez_compressed(fh, X=X, y=y, ntok=ntok)
    f.with_suffix(".tmp").replace(f)
    return {"X": X, "y": y, "ntok": ntok}


def load_blocks_text(page) -> list[str]:
    tree = parse_page(page.source)
    return [b.text for b in html_blocks.page_blocks(tree)] if tree is not None else []


def bag_f1(out_tokens: list[str], gold_counter) -> float:
    from collections import Counter
    out = Counter(out_tokens)
    ov = sum((out & gold_counter).values())
    n_out, n_ref = sum(out.values()), sum(gold_counter.values())
    if not ov:
        return 0.0
    p, r = ov / n_out, ov / n_ref
    return 2 * p * r / (p + r)


def train(X, y, w, lgb):
    ds = lgb.Dataset(X, label=y, weight=w, params={"max_bin": PARAMS["max_bin"]}, free_raw_data=False)
    return lgb.train(PARAMS, ds, num_boost_round=ROUNDS)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    ap.add_argument("--cache", type=Path, default=REPO / ".cache")
    ap.add_argument("--out", type=Path, default=HTML_MODEL_PATH)
    args = ap.parse_args(argv)
    missing = [s for s in SETS if not (args.corpus / s).is_dir()]
    if missing:
        print(f"corpus not found: {', '.join(str(args.corpus / s) for s in missing)} "
              "(the HTML model trains on ../shared/corpus/dev and train/{wcxb,readability,zh}; "
              "pass --corpus DIR)", file=sys.stderr)
        return 2
    import lightgbm as lgb
    from collections import Counter

    t0 = time.time()
    pages = []
    for set_name in SETS:
        for page in iter_pages(args.corpus / set_name, "html"):
            d = page_data(args.cache, set_name, page)
            group = site_group(set_name, page.id, page.meta)
            gold_toks = Counter(html_blocks.tokens(page.gold))
            pages.append({"set": set_name, "id": page.id, "group": group, "fold": fold_of(group),
                          "type": page.meta.get("page_type"), "gold": gold_toks, "page": page, **d})
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

    # Out-of-fold probabilities.
    for k in range(FOLDS):
        tr = [p for p in pages if p["fold"] != k]
        model = train(*stack(tr), lgb)
        fold_dir = args.cache / "html_folds"
        fold_dir.mkdir(parents=True, exist_ok=True)
        model.save_model(str(fold_dir / f"fold{k}.lgb.txt"))
        for p in pages:
            if p["fold"] == k:
                p["prob"] = (np.round(model.predict(p["X"]), 4) if len(p["y"]) else np.zeros(0))
        print(f"fold {k}: trained on {len(tr)} pages {time.time() - t0:.0f}s", flush=True)

    # Block texts for scoring (recomputed once; cheap next to training).
    for p in pages:
        p["toks"] = [html_blocks.tokens(t) for t in load_blocks_text(p["page"])]
        del p["page"]

    cov_col = html_blocks.FEATURE_NAMES.index("cov")

    def f1_at(p, tau):
        keep = p["prob"] >= np.where(p["X"][:, cov_col] >= 0.5, tau[0], tau[1]) if len(p["y"]) else []
        out = [t for toks, k in zip(p["toks"], keep) if k for t in toks]
        return bag_f1(out, p["gold"])

    grid = {tau: np.array([f1_at(p, tau) for p in pages]) for tau in TAUS}
    print(f"threshold grid {time.time() - t0:.0f}s", flush=True)
    folds = np.array([p["fold"] for p in pages])
    sets = np.array([p["set"] for p in pages])
    taus = []
    for k in range(FOLDS):
        other = folds != k
        def objective(t):  # mean over the sets of their mean page F1
            return round(float(np.mean([grid[t][other & (sets == s)].mean() for s in SETS])), 6)
        best = max(TAUS, key=lambda t: (objective(t), -abs(t[0] - 0.5) - abs(t[1] - 0.5)))
        taus.append(best)
    for k, t in enumerate(taus):  # fold k's model and its threshold (benchmarks/html_quality.py)
        (args.cache / "html_folds" / f"fold{k}.json").write_text(json.dumps(
            {"tau": list(t), "features": list(html_blocks.FEATURE_NAMES)}), encoding="utf-8")
    per_page = np.array([grid[taus[p["fold"]]][i] for i, p in enumerate(pages)])
    print("fold taus", taus)
    report = {}
    for s in SETS:
        sel = np.array([p["set"] == s for p in pages])
        report[s] = round(float(per_page[sel].mean()), 4)
    print("block-level CV bag-F1 (before the phrase rules):", report)

    final = train(*stack(pages), lgb)
    tau = [float(np.median([t[0] for t in taus])), float(np.median([t[1] for t in taus]))]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = final.model_to_string()
    # Drop the run-dependent parts (LightGBM writes its parameters, not times, so it is stable).
    args.out.write_text(text, encoding="utf-8")
    meta_path = args.out.with_suffix("").with_suffix(".json")
    meta = {"tau": tau, "fold_taus": [list(t) for t in taus], "features": list(html_blocks.FEATURE_NAMES),
            "folds": FOLDS, "rounds": ROUNDS, "params": PARAMS, "pages": len(pages),
            "cv_block_bag_f1": report}
    meta_path.write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    (args.cache / "html_folds" / "folds.json").write_text(json.dumps(
        {"taus": [list(t) for t in taus], "feature_key": feature_key(),
         "pages": {f"{p['set']}/{p['id']}": p["fold"] for p in pages}}, indent=0), encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes), tau={tau} in {time.time() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
