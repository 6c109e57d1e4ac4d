"""Train the text-mode line labeller shipped as ``pipeline/models/line_model.json`` (+ two
LightGBM files, ``line_stage1.txt`` and ``line_stage2.txt``).

Data (``training/DATA.md``): every page of ``../shared/corpus/dev`` and ``train/{wcxb,readability,zh}``
(1,656 pages) x 3 input kinds (dump, article region, already-extracted text), through the real
pipeline up to ``label_lines`` (``training/corpus_records.py``); line labels from the gold. No gold
text enters the model: only trees over numeric features.

Model, two stages (both LightGBM binary trees, deterministic, 1 thread, fixed seeds):

1. ``stage1`` over ``pipeline.classify.extract_features`` (the line, its neighbours ±1..±3,
   windows, page statistics, position relative to the headline anchor and the body mass, jusText
   stoplist density, punctuation, digits, capitals, in-page repetition) -> P(body) per open line.
2. ``stage2``, the learned smoothing: over ``smooth_features`` — the stage-1 P(body) of the line,
   of its neighbours and windows, page statistics of it, where the line stands against the page's
   main segment and its runs of likely body lines — trained on the stage-1 *out-of-fold*
   probabilities (a model that never saw the page's site made them), as at run time.

Weights: per line sqrt(tokens + 1), normalised so that every document weighs the same, times
1/sqrt(documents of its set) so that the small sets count, and ``DEV_WEIGHT`` for dev.

Validation: 5 folds grouped by site (``corpus_records.site_group``/``fold_of``). Every page's
figures come from stage-1 and stage-2 models that never saw its fold. The decision knobs (a regime
cut on the page's share of tokens in long lines, a threshold below and one above it, the Viterbi
switch penalty) of fold k are chosen on the other folds' out-of-fold predictions, maximising the
mean over the sets of each set's reported figure; the shipped knobs on all of them. Known leak, stated: the stage-1 out-of-fold
probabilities that train fold k's stage 2 were made by stage-1 models of the other folds, which
saw fold k's pages (standard stacking; the stage-2 model itself never saw fold k's labels).

Writes the per-document, per-line out-of-fold predictions to ``.cache/train-text/oof.pkl``
(read by ``training/train_quality.py``) and the cross-validated table to
``pipeline/models/line_model.json`` (``cv``; printed by ``benchmarks/quality.py``).

    nice .venv/bin/python training/train_line_model.py [--corpus ../shared/corpus] [--cache .cache]
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import multiprocessing
import pickle
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "training"))

import corpus_records  # noqa: E402
from pipeline.classify import (  # noqa: E402
    FEATURE_NAMES, MODEL_PATH, PROSE_SHARE, SMOOTH_COLUMNS, _stage_inputs, decide_scored, extract_features,
    smooth_features,
)
from pipeline.evaluate import _TOKEN, aggregate, aggregate_wcxb, score_document, shingles, wcxb_score  # noqa: E402

FOLDS = corpus_records.FOLDS
DEV_WEIGHT = 4.0
PARAMS = {
    "objective": "binary", "learning_rate": 0.1, "num_leaves": 31, "min_data_in_leaf": 50,
    "min_sum_hessian_in_leaf": 1e-3, "feature_fraction": 0.8, "feature_fraction_seed": 7,
    "bagging_fraction": 0.5, "bagging_freq": 1, "bagging_seed": 7, "lambda_l2": 1.0, "max_bin": 63, "num_threads": 1,
    "deterministic": True, "force_row_wise": True, "seed": 7, "verbose": -1,
}
ROUNDS = 200
PARAMS2 = dict(PARAMS, num_leaves=15)
ROUNDS2 = 100
TAUS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65)
PENALTIES = (0.0, 1.0)
# regime cuts on the page's share of tokens in long lines (2.0: one regime)
CUTS = (0.3, 0.45, 0.6, 0.75, 2.0)
END_MIN_WORDS = 60
# lines after the end marker kept on their own score from this P(body) on (2.0: the marker cuts all)
END_KEEPS = (2.0, 0.9, 0.8, 0.0)
SET_LABEL = {"dev": "dev", "train/wcxb": "wcxb", "train/readability": "readability", "train/zh": "zh"}


def _features(job):
    return extract_features(*job)


_GRID_INPUT: tuple = ()  # (docs, p2) for the knob grid's worker processes (inherited at fork)


def _grid_column(knob) -> np.ndarray:
    """Every document's (P, R, F1) under one (tau, penalty, end keep)."""
    docs, p2 = _GRID_INPUT
    return np.array([fast_prf(d, kept_text(decisions_of(d, p2[i], *knob))) for i, d in enumerate(docs)],
                    dtype=float)


def fit(X, y, w, params, rounds):
    import lightgbm as lgb

    ds = lgb.Dataset(X, label=y, weight=w, params={"max_bin": params["max_bin"]}, free_raw_data=False)
    return lgb.train(params, ds, num_boost_round=rounds)


def doc_weights(docs: list[dict]) -> list[np.ndarray]:
    n_set = Counter(d["set"] for d in docs)
    set_w = {s: np.sqrt(len(docs) / len(n_set)) / np.sqrt(n) for s, n in n_set.items()}
    out = []
    for d in docs:
        w = np.sqrt(np.asarray(d["ntok"], dtype=float) + 1.0)
        w = w / w.sum() if len(w) else w
        out.append(100.0 * w * set_w[d["set"]] * (DEV_WEIGHT if d["set"] == "dev" else 1.0))
    return out


def stack(docs, mats, weights, sel, open_only):
    Xs, ys, ws = [], [], []
    for i in sel:
        d = docs[i]
        if not len(d["y"]):
            continue
        m = d["open"] if open_only else np.ones(len(d["y"]), bool)
        Xs.append(mats[i][m]); ys.append(np.asarray(d["y"], float)[m]); ws.append(weights[i][m])
    return np.vstack(Xs), np.concatenate(ys), np.concatenate(ws)


def predict_docs(booster, mats, sel) -> dict[int, np.ndarray]:
    """Predictions per document, one LightGBM call for all of them."""
    sel = [i for i in sel if len(mats[i])]
    if not sel:
        return {}
    p = booster.predict(np.vstack([mats[i] for i in sel]), num_threads=1)
    p = np.round(p, 9)
    out, at = {}, 0
    for i in sel:
        out[i] = p[at: at + len(mats[i])]
        at += len(mats[i])
    return out


def doc_score(d: dict, text: str) -> dict:
    """WCXB metric on WCXB pages, the shingle metric elsewhere (P, R, F1 per document)."""
    if d["set"] == "train/wcxb":
        s = wcxb_score(text, d["gold"], d["with_"], d["without"])
        return {"P": s.precision, "R": s.recall, "F1": s.f1, "with_found": s.with_found,
                "without_found": s.without_found, "_raw": s}
    s = score_document(text, d["gold"])
    p, r = s.precision, s.recall
    f1 = 2 * p * r / (p + r) if p and r else 0.0
    return {"P": p, "R": r, "F1": f1, "_raw": s}


def fast_prf(d: dict, text: str) -> tuple:
    """(P, R, F1) of ``doc_score(d, text)`` (shingle metric: NaN where undefined) with the gold's bag or shingles computed once per document
    (the knob grid scores every document a dozen times)."""
    if "_gold_bag" not in d:
        if d["set"] == "train/wcxb":
            d["_gold_bag"] = Counter(_TOKEN.findall(d["gold"].lower()))
        else:
            d["_gold_bag"] = shingles(d["gold"])
    ref = d["_gold_bag"]
    if d["set"] == "train/wcxb":
        out = Counter(_TOKEN.findall(text.lower()))
        ov = sum((out & ref).values())
        n_out, n_ref = sum(out.values()), sum(ref.values())
        p = ov / n_out if n_out else 0.0
        r = ov / n_ref if n_ref else 0.0
        return p, r, (2 * p * r / (p + r) if p + r > 0 else 0.0)
    out = shingles(text)
    tp = sum((out & ref).values())
    fp, fn = sum(out.values()) - tp, sum(ref.values()) - tp
    p = tp / (tp + fp) if tp + fp else None
    r = tp / (tp + fn) if tp + fn else None
    f1 = 2 * p * r / (p + r) if p and r else 0.0
    return (np.nan if p is None else p), (np.nan if r is None else r), f1


def decisions_of(d, probs, tau, penalty, end_keep):
    params = {"tau": tau, "switch_penalty": penalty, "end_min_words": END_MIN_WORDS, "end_keep_p": end_keep}
    return decide_scored(d["lines"], d["fixed"], probs.tolist(), params, d["title"])


def knob_params(knob) -> dict:
    """(cut, tau below it, tau at or above it, penalty, end keep) -> the model's decision parameters."""
    cut, tau_low, tau_high, pen, end_keep = knob
    return {"tau": tau_low, "tau_dense": tau_high, "dense_page_long_share": cut, "switch_penalty": pen,
            "end_min_words": END_MIN_WORDS, "end_keep_p": end_keep}


def choose_knobs(grid, prose, set_arr, mask) -> tuple:
    """The best (cut, tau_low, tau_high, penalty, end keep) on the documents of ``mask``: the mean over the
    sets of each set's own figure — WCXB: the mean of per-page F1; the others: the F1 of mean P and
    mean R (corpus README) — the figures that are reported."""
    sets = sorted(set(set_arr[mask].tolist()))
    best = None
    for cut, pen, end_keep in itertools.product(CUTS, PENALTIES, END_KEEPS):
        high = prose >= cut
        # per set, regime and tau: sums and counts of P, R, F1
        sums = {}
        for s in sets:
            for side_name, side in (("low", ~high), ("high", high)):
                m = mask & (set_arr == s) & side
                for t in TAUS:
                    P, R, F = grid[(t, pen, end_keep)]
                    sums[(s, side_name, t)] = (np.nansum(P[m]), int(np.sum(~np.isnan(P[m]))),
                                               np.nansum(R[m]), int(np.sum(~np.isnan(R[m]))),
                                               float(F[m].sum()), int(m.sum()))
        for t_low in TAUS:
            for t_high in TAUS if cut <= 1.0 else (t_low,):
                figs = []
                for s in sets:
                    a, b = sums[(s, "low", t_low)], sums[(s, "high", t_high)]
                    sp, cp, sr, cr, sf, n = (x + y for x, y in zip(a, b))
                    if s == "train/wcxb":
                        figs.append(sf / max(n, 1))
                    else:
                        mp, mr = sp / max(cp, 1), sr / max(cr, 1)
                        figs.append(2 * mp * mr / (mp + mr) if mp + mr > 0 else 0.0)
                total = round(float(np.mean(figs)), 6)
                key = (total, -pen, end_keep, -cut, -abs(t_low - 0.5), -abs(t_high - 0.5))
                if best is None or key > best[0]:
                    best = (key, (cut, t_low, t_high, pen, end_keep))
    return best[1]


def kept_text(decisions) -> str:
    return "\n\n".join(x.text for x in decisions if x.keep)


def summarise(docs, scores, sel) -> dict:
    """The set's own aggregate (WCXB: means of per-page P/R/F1; shingle: corpus README)."""
    sel = list(sel)
    if not sel:
        return {}
    raw = [scores[i]["_raw"] for i in sel]
    if docs[sel[0]]["set"] == "train/wcxb":
        r = aggregate_wcxb(raw)
    else:
        r = aggregate(raw)
    empty = sum(1 for i in sel if scores[i].get("empty"))
    out = {k: round(float(v), 4) for k, v in r.items() if k in ("P", "R", "F1", "with_found", "without_found")}
    out["docs"] = len(sel)
    out["empty"] = empty
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    ap.add_argument("--cache", type=Path, default=REPO / ".cache")
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    ap.add_argument("--sets", default=",".join(corpus_records.SETS),
                    help="comma-separated corpus sets (default: all four; fewer only for trials)")
    ap.add_argument("--oof", type=Path, default=None, help="out-of-fold file (default CACHE/train-text/oof.pkl)")
    args = ap.parse_args(argv)
    missing = corpus_records.missing_sets(args.corpus)
    if missing:
        print(f"corpus not found: {', '.join(missing)} (the line labeller trains on ../shared/corpus/dev and "
              "train/{wcxb,readability,zh}; pass --corpus DIR)", file=sys.stderr)
        return 2
    t0 = time.time()

    def log(msg):
        print(f"[{time.time() - t0:6.0f}s] {msg}", flush=True)

    docs = corpus_records.load_all(args.corpus, args.cache, log=log, sets=tuple(args.sets.split(",")))
    for d in docs:
        d["open"] = np.array([f is None for f in d["fixed"]], dtype=bool)
        d["empty_page"] = not d["lines"]
    with ProcessPoolExecutor(2) as pool:  # the same arrays as one process computes
        X = list(pool.map(_features, [(d["lines"], d["fixed"], d["title"]) for d in docs], chunksize=16))
    weights = doc_weights(docs)
    folds = np.array([d["fold"] for d in docs])
    log(f"features: {sum(len(x) for x in X)} lines, {len(docs)} documents")

    # stage 1: out-of-fold P(body)
    p1 = [np.zeros(len(x)) for x in X]
    for k in range(FOLDS):
        tr = [i for i in range(len(docs)) if folds[i] != k]
        b = fit(*stack(docs, X, weights, tr, True), PARAMS, ROUNDS)
        for i, p in predict_docs(b, X, [i for i in range(len(docs)) if folds[i] == k]).items():
            p1[i] = p
        log(f"stage 1 fold {k}")
    S = [smooth_features(_stage_inputs(p1[i], docs[i]["fixed"]), X[i]) for i in range(len(docs))]
    # stage 2: out-of-fold smoothed P(body), trained on the other folds' stage-1 out-of-fold rows
    p2 = [np.zeros(len(x)) for x in X]
    for k in range(FOLDS):
        tr = [i for i in range(len(docs)) if folds[i] != k]
        b = fit(*stack(docs, S, weights, tr, True), PARAMS2, ROUNDS2)
        for i, p in predict_docs(b, S, [i for i in range(len(docs)) if folds[i] == k]).items():
            p2[i] = p
        log(f"stage 2 fold {k}")

    # the knobs: per (tau, penalty, end keep) every document's score; fold k's from the other folds
    sets = sorted({d["set"] for d in docs})
    global _GRID_INPUT
    _GRID_INPUT = (docs, p2)
    knobs = list(itertools.product(TAUS, PENALTIES, END_KEEPS))
    # two processes forked after the decisions' inputs exist (nothing is pickled but the knob)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        grid = {knob: (prf[:, 0], prf[:, 1], prf[:, 2]) for knob, prf in zip(knobs, pool.map(_grid_column, knobs))}
    _GRID_INPUT = ()
    log("knob grid")
    set_arr = np.array([d["set"] for d in docs])
    prose = np.array([float(x[0, PROSE_SHARE]) if len(x) else 0.0 for x in X])
    fold_knobs = [choose_knobs(grid, prose, set_arr, folds != k) for k in range(FOLDS)]
    shipped_knob = choose_knobs(grid, prose, set_arr, folds >= 0)
    log(f"fold knobs (cut, tau low, tau high, penalty, end keep) {fold_knobs}; shipped {shipped_knob}")

    # out-of-fold decisions with fold k's knobs: the reported figures and oof.pkl
    oof_rows, scores = [], []
    for i, d in enumerate(docs):
        dec = decide_scored(d["lines"], d["fixed"], p2[i].tolist(), knob_params(fold_knobs[d["fold"]]),
                            d["title"], prose[i])
        text = kept_text(dec)
        sc = doc_score(d, text)
        sc["empty"] = not text.strip()
        scores.append(sc)
        oof_rows.append(dict(
            set=d["set"], id=d["id"], kind=d["kind"], fold=int(d["fold"]), page_type=d["page_type"],
            lang=d["lang"], lang_group=d["lang_group"], lines=[x.text for x in dec], keep=[x.keep for x in dec],
            prob=[x.score for x in dec], fixed=d["fixed"], rule=[x.rule for x in dec],
            score={k: v for k, v in sc.items() if not k.startswith("_")},
        ))
    cv = {"by_set": {}, "by_page_type": {}, "by_language": {}}
    for kind in corpus_records.KINDS:
        for s in sets:
            sel = [i for i, d in enumerate(docs) if d["set"] == s and d["kind"] == kind]
            cv["by_set"][f"{SET_LABEL[s]}/{kind}"] = summarise(docs, scores, sel)
            if s == "train/wcxb":
                art = [i for i in sel if docs[i]["page_type"] == "article"]
                cv["by_set"][f"wcxb-articles/{kind}"] = summarise(docs, scores, art)
                for t in sorted({docs[i]["page_type"] for i in sel if docs[i]["page_type"]}):
                    cv["by_page_type"][f"{t}/{kind}"] = summarise(
                        docs, scores, [i for i in sel if docs[i]["page_type"] == t])
        # language groups: the shingle metric on the non-WCXB sets plus WCXB (English, its metric)
        for g in ("en", "other Latin", "CJK", "other scripts"):
            sel = [i for i, d in enumerate(docs) if d["kind"] == kind and d["lang_group"] == g
                   and d["set"] != "train/wcxb"]
            if sel:
                cv["by_language"][f"{g}/{kind}"] = summarise(docs, scores, sel)
    log("cross-validated table done")
    for key, r in cv["by_set"].items():
        print(f"  {key:<24} P={r['P']:.3f} R={r['R']:.3f} F1={r['F1']:.3f} docs={r['docs']}")

    oof_path = args.oof or args.cache / "train-text" / "oof.pkl"
    oof_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = oof_path.with_suffix(".tmp")
    tmp.write_bytes(pickle.dumps(oof_rows, protocol=4))
    tmp.replace(oof_path)

    # the shipped models: stage 1 on all documents; stage 2 on all stage-1 out-of-fold rows
    all_docs = list(range(len(docs)))
    b1 = fit(*stack(docs, X, weights, all_docs, True), PARAMS, ROUNDS)
    b2 = fit(*stack(docs, S, weights, all_docs, True), PARAMS2, ROUNDS2)
    log("shipped models")
    out = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    files = {}
    for stage, b in (("stage1", b1), ("stage2", b2)):
        name = f"line_{stage}.txt"
        text = b.model_to_string()
        (out.parent / name).write_text(text, encoding="utf-8")
        files[stage] = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    meta = {
        "stage1": "line_stage1.txt", "stage2": "line_stage2.txt", "sha256": files,
        "features": list(FEATURE_NAMES), "smooth_features": list(SMOOTH_COLUMNS),
        **knob_params(shipped_knob),
        "fold_knobs": [list(k) for k in fold_knobs], "params": PARAMS, "rounds": ROUNDS,
        "params_stage2": PARAMS2, "rounds_stage2": ROUNDS2, "dev_weight": DEV_WEIGHT,
        "trained_on": "../shared/corpus dev + train/{wcxb,readability,zh}, 1,656 pages x {dump, article, "
                      "trafilatura-extracted text} (training/DATA.md)",
        "cv": cv,
    }
    out.write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    log(f"wrote {out} and its LightGBM files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
