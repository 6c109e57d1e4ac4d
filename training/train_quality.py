"""Train ``pipeline/models/quality.json``: the per-document quality score (issue 14 item 1).

Input: the line labeller's out-of-fold predictions, ``.cache/train-text/oof.pkl``, written by
``training/train_line_model.py`` (``make train-text``): per document of the dev and training
corpora and per input kind, its lines, rule labels, P(body) per line from a model that never saw
its site, the decisions and the document's own score (WCXB F1 on WCXB pages, shingle F1 elsewhere).

Model: logistic regression with the document's F1 as a soft label (cross-entropy, L2, Newton
steps, numpy), over ``pipeline.quality.PARTS``. Validation: the labeller's site-grouped folds
again — the quality model of fold k is fitted on the other folds — and, per input kind, the
Spearman rank correlation between quality and F1 and the AUROC for "F1 < 0.8". Deterministic.

    .venv/bin/python training/train_quality.py [--oof FILE] [--out FILE]
"""
from __future__ import annotations

import argparse
import json
import pickle
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.language import detect_language  # noqa: E402
from pipeline.quality import PARTS, QUALITY_PATH, quality_parts  # noqa: E402

OOF = REPO / ".cache" / "train-text" / "oof.pkl"
HTML_OOF = REPO / ".cache" / "html_folds" / "oof.pkl"
BAD_F1 = 0.8
L2 = 1.0


def doc_f1(score: dict) -> float:
    if "F1" in score:
        return float(score["F1"])
    p, r = score.get("P") or 0.0, score.get("R") or 0.0
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def parts_of(row: dict) -> dict[str, float]:
    lang_score = row.get("lang_score")  # the document's own (HTML rows carry it)
    if lang_score is None:
        kept_text = "\n\n".join(l for l, k in zip(row["lines"], row["keep"]) if k)
        _, lang_score = detect_language(kept_text, sample_chars=1000)
    lines = [(text, keep, prob, fixed is not None)
             for text, keep, prob, fixed in zip(row["lines"], row["keep"], row["prob"], row["fixed"])]
    return quality_parts(lines, extracted=row["kind"] == "html", lang_score=lang_score)


def fit(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale[scale == 0] = 1.0
    Z = (X - mean) / scale
    A = np.hstack([Z, np.ones((len(Z), 1))])
    w = np.zeros(A.shape[1])
    reg = np.full(A.shape[1], L2 / len(A))
    reg[-1] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(A @ w, -30, 30)))
        grad = A.T @ (p - y) / len(A) + reg * w
        H = (A * (p * (1 - p))[:, None]).T @ A / len(A) + np.diag(reg + 1e-9)
        step = np.linalg.solve(H, grad)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return w[:-1], mean, scale, float(w[-1])


def predict(X, w, mean, scale, b) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(((X - mean) / scale) @ w + b, -30, 30)))


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = np.argsort(np.argsort(a, kind="stable"), kind="stable"), np.argsort(np.argsort(b, kind="stable"), kind="stable")
    return float(np.corrcoef(ra, rb)[0, 1]) if len(a) > 2 else float("nan")


def auroc(score_bad: np.ndarray, is_bad: np.ndarray) -> float:
    """P(a bad document scores higher than a good one), ties counted half."""
    bad, good = score_bad[is_bad], score_bad[~is_bad]
    if not len(bad) or not len(good):
        return float("nan")
    allv = np.concatenate([bad, good])
    ranks = np.empty(len(allv))
    order = np.argsort(allv, kind="stable")
    sorted_v = allv[order]
    i = 0
    while i < len(allv):  # average ranks over ties
        j = i
        while j + 1 < len(allv) and sorted_v[j + 1] == sorted_v[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    r_bad = ranks[: len(bad)].sum()
    return float((r_bad - len(bad) * (len(bad) + 1) / 2) / (len(bad) * len(good)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--oof", type=Path, default=OOF, help=f"out-of-fold predictions (default {OOF})")
    ap.add_argument("--html-oof", type=Path, default=HTML_OOF,
                    help=f"the HTML path's out-of-fold predictions (default {HTML_OOF}, training/html_oof.py)")
    ap.add_argument("--out", type=Path, default=QUALITY_PATH)
    args = ap.parse_args(argv)
    if not args.oof.is_file():
        print(f"train_quality: {args.oof} not found: run `make train-text` first (it writes the labeller's "
              f"out-of-fold predictions)", file=sys.stderr)
        return 2
    rows = pickle.loads(args.oof.read_bytes())
    if args.html_oof.is_file():  # HTML input as it runs: the block model's out-of-fold P(body) per block
        rows = [r for r in rows if r["kind"] != "html"] + pickle.loads(args.html_oof.read_bytes())
    else:
        print(f"train_quality: {args.html_oof} not found (training/html_oof.py): HTML rows are the labeller's "
              "on trafilatura's text", file=sys.stderr)
    parts = [parts_of(r) for r in rows]
    X = np.array([[p[name] for name in PARTS] for p in parts])
    y = np.array([doc_f1(r["score"]) for r in rows])
    folds = np.array([r["fold"] for r in rows])
    kinds = np.array([r["kind"] for r in rows])
    oof = np.zeros(len(rows))
    for k in sorted(set(folds.tolist())):
        w, m, s, b = fit(X[folds != k], y[folds != k])
        oof[folds == k] = predict(X[folds == k], w, m, s, b)
    oof = np.round(oof, 3)
    table = {}
    for kind in ("dump", "article", "html", "all"):
        sel = np.ones(len(rows), bool) if kind == "all" else kinds == kind
        table[kind] = {"docs": int(sel.sum()), "spearman": round(spearman(oof[sel], y[sel]), 3),
                       "auroc_f1_below_0.8": round(auroc(-oof[sel], y[sel] < BAD_F1), 3),
                       "bad_share": round(float((y[sel] < BAD_F1).mean()), 3)}
        print(f"{kind:<8} docs={table[kind]['docs']:>5}  spearman={table[kind]['spearman']:.3f}  "
              f"AUROC(F1<{BAD_F1})={table[kind]['auroc_f1_below_0.8']:.3f}  share F1<{BAD_F1}: "
              f"{table[kind]['bad_share']:.3f}")
    removed = {kind: round(float(np.median(X[kinds == kind, PARTS.index("removed_share")])), 3)
               for kind in ("dump", "article", "html")}
    long_share = {kind: round(float(np.median(X[kinds == kind, PARTS.index("long_share")])), 3)
                  for kind in ("dump", "article", "html")}
    w, m, s, b = fit(X, y)
    model = {"parts": list(PARTS), "weights": [round(float(v), 9) for v in w],
             "mean": [round(float(v), 9) for v in m], "scale": [round(float(v), 9) for v in s],
             "bias": round(b, 9), "cv_by_site": table, "median_removed_share": removed,
             "median_long_share": long_share,
             "trained_on": "out-of-fold line-labeller predictions on ../shared/corpus dev + train "
                           "(training/DATA.md)"}
    args.out.write_text(json.dumps(model, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {args.out}; median removed share by kind {removed}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
