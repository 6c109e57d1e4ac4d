"""Train the line model shipped as ``pipeline/models/line_lr.json``.

Data provenance: see ``training/DATA.md``. In short: the 120-page dev corpus
(``../shared/corpus/dev`` beside the repository, ScrapingHub article-extraction benchmark, MIT licence), all
three input kinds (``dump.txt``, ``article.txt`` and trafilatura's extraction of
``page.html``). Line labels come from the gold: a line is body when its normalized text
occurs in the normalized gold (lines of fewer than 4 tokens also need a neighbour that
occurs with them). No gold text is stored in the model: only feature weights.

Model: L2-regularised logistic regression (numpy, Newton steps), features from
``pipeline.classify.extract_features`` (an n x F array), line weight sqrt(tokens + 1) normalised per
document (the metric averages over documents). The smoothing threshold ``tau`` and the
switch penalty are chosen on the cross-validated predictions.

Cross-validation: 5 folds grouped by site (host name), so every page is scored by a
model that never saw that site. Figures use the exact metric of ``pipeline.evaluate``.

    PYTHONPATH=. .venv/bin/python training/train_line_model.py [--corpus DIR] [--cache DIR]

Defaults: ``--corpus ../shared/corpus/dev`` (beside the repository), ``--cache .cache/trafilatura``
(in the repository, git-ignored).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

import pickle

import pipeline.boilerplate
import pipeline.clean
from pipeline.classify import FEATURE_NAMES, MODEL_PATH, decide, extract_features, looks_extracted
from pipeline.config import CleanConfig
from pipeline.document import Decision, Document
from pipeline.evaluate import aggregate, normalize_line, score_document

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "dev"
DEFAULT_CACHE = REPO / ".cache" / "trafilatura"
KINDS = ("dump", "article", "html")
FILES = {"dump": "dump.txt", "article": "article.txt", "html": "page.html"}


class _Recorder:
    """Stands in for ``label_lines`` inside the real pipeline and records what it is given,
    so the model is trained on exactly the lines, rule labels and title it sees at run time."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], list, str | None]] = []

    def __call__(self, lines, fixed, cfg, title=None):
        self.calls.append((list(lines), list(fixed), title))
        return [f if f is not None else Decision(l, True) for l, f in zip(lines, fixed)]


def _cached_extract(cache: Path | None):
    """``pipeline.extract.extract_html`` with a disk cache (trafilatura dominates the run time)."""
    real = pipeline.clean.extract_html

    def extract(html: str, **kw):
        key = hashlib.sha1(html.encode("utf-8") + repr(sorted(kw.items())).encode()).hexdigest()
        f = cache / f"{key}.pkl" if cache is not None else None
        if f is not None and f.exists():
            return pickle.loads(f.read_bytes())
        got = real(html, **kw)
        if f is not None:
            cache.mkdir(parents=True, exist_ok=True)
            f.write_bytes(pickle.dumps(got))
        return got

    return extract


def pipeline_inputs(source: str, kind: str, cache: Path | None) -> tuple[list[str], list, str | None]:
    """(lines, fixed rule labels, title) that ``label_lines`` receives for this input."""
    rec = _Recorder()
    saved = (pipeline.boilerplate.label_lines, pipeline.clean.extract_html)
    pipeline.boilerplate.label_lines = rec
    pipeline.clean.extract_html = _cached_extract(cache)
    try:
        doc = Document(id="train", source="train", kind="html" if kind == "html" else "text", raw=source)
        pipeline.clean.clean_document(doc, CleanConfig(statistical_html=True))  # record html too
    finally:
        pipeline.boilerplate.label_lines, pipeline.clean.extract_html = saved
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


def load_docs(corpus: Path, cache: Path | None) -> list[dict]:
    manifest = {}
    for row in (corpus / "manifest.jsonl").read_text().splitlines():
        d = json.loads(row)
        manifest[d["id"]] = urlparse(d["url"]).netloc.lower().removeprefix("www.")
    docs = []
    for page in sorted(p for p in corpus.iterdir() if p.is_dir()):
        gold = (page / "gold.txt").read_text(encoding="utf-8")
        for kind in KINDS:
            src = (page / FILES[kind]).read_text(encoding="utf-8")
            lines, fixed, title = pipeline_inputs(src, kind, cache)
            labels = line_labels(lines, gold)
            ntok = [len(normalize_line(l).split()) for l in lines]
            docs.append(
                dict(id=page.name, site=manifest.get(page.name, page.name), kind=kind, gold=gold,
                     lines=lines, fixed=fixed, title=title, X=extract_features(lines, fixed, title),
                     y=np.array(labels, dtype=float), ntok=np.array(ntok, dtype=float))
            )
    return docs


def _design(docs: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    Xs, ys, ws = [], [], []
    for d in docs:
        open_mask = np.array([f is None for f in d["fixed"]], dtype=bool)
        if not open_mask.any():
            continue
        w = np.sqrt(d["ntok"][open_mask] + 1.0)
        w = w / w.sum()
        Xs.append(d["X"][open_mask]); ys.append(d["y"][open_mask]); ws.append(w)
    return np.vstack(Xs), np.concatenate(ys), np.concatenate(ws)


def fit_logistic(X: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float) -> dict:
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-9] = 1.0
    Z = np.hstack([(X - mean) / scale, np.ones((len(X), 1))])
    w = w / w.sum() * len(w)  # average weight 1
    beta = np.zeros(Z.shape[1])
    reg = np.full(Z.shape[1], l2)
    reg[-1] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(Z @ beta, -30, 30)))
        g = Z.T @ (w * (p - y)) + reg * beta
        H = (Z * (w * p * (1 - p))[:, None]).T @ Z + np.diag(reg + 1e-9)
        step = np.linalg.solve(H, g)
        beta -= step
        if np.abs(step).max() < 1e-7:
            break
    return {"features": list(FEATURE_NAMES), "mean": mean.tolist(), "scale": scale.tolist(),
            "weights": beta[:-1].tolist(), "bias": float(beta[-1])}


def predict(model: dict, X: np.ndarray) -> np.ndarray:
    z = ((X - np.array(model["mean"])) / np.array(model["scale"])) @ np.array(model["weights"]) + model["bias"]
    return 1 / (1 + np.exp(-np.clip(z, -30, 30)))


LONG_SHARE = FEATURE_NAMES.index("doc_long_share")


def score_docs(docs: list[dict], probs: list[np.ndarray], params: dict, kinds=KINDS) -> dict:
    out = {}
    for kind in kinds:
        scores, empty = [], 0
        for d, p in zip(docs, probs):
            if d["kind"] != kind:
                continue
            long_share = float(d["X"][0, LONG_SHARE]) if len(d["lines"]) else 0.0
            decisions = decide(d["lines"], d["fixed"], p.tolist(), params, d["title"],
                               looks_extracted(d["lines"], params), long_share=long_share)
            text = "\n\n".join(x.text for x in decisions if x.keep)
            empty += not normalize_line(text)
            scores.append(score_document(text, d["gold"]))
        out[kind] = dict(aggregate(scores), empty=empty, docs=len(scores))
    return out


def site_folds(docs: list[dict], k: int) -> dict[str, int]:
    """Deterministic grouping: sites sorted by a hash, dealt round-robin into k folds."""
    sites = sorted({d["site"] for d in docs}, key=lambda s: hashlib.sha1(s.encode()).hexdigest())
    return {s: i % k for i, s in enumerate(sites)}


def _objective(r: dict) -> float:
    return sum(r[k]["F1"] for k in r) / len(r)


def grid(docs, probs) -> tuple[dict, dict]:
    """Two stages: tau, the switch penalty and the dense-page regime (article regions) on the
    raw dumps (no clean-page regime), then
    the clean-page regime (share cut, tau_clean) on all three kinds."""
    best = None
    for tau in (0.3, 0.35, 0.4, 0.5):
        for pen in (1.0, 2.0, 3.0):
            for dense_share in (0.1, 0.15, 0.2, 2.0):  # 2.0: no dense-page regime
                for tau_dense in ((0.45, 0.5, 0.55, 0.6) if dense_share <= 1 else (tau,)):
                    params = {"tau": tau, "switch_penalty": pen, "dense_page_long_share": dense_share,
                              "tau_dense": tau_dense}
                    r = score_docs(docs, probs, params, kinds=("dump", "article"))
                    if best is None or _objective(r) > best[0]:
                        best = (_objective(r), params)
    params = best[1]
    best = None
    for max_lines in (30, 60, 100):
        for share in (0.5, 0.6, 0.7, 0.8, 2.0):
            for tau_clean in (0.0, 0.02, 0.05, 0.1):
                for pen_clean in (0.0, params["switch_penalty"]):
                    trial = dict(params, clean_page_max_lines=max_lines, clean_page_token_share=share,
                                 tau_clean=tau_clean, switch_penalty_clean=pen_clean)
                    r = score_docs(docs, probs, trial)
                    obj = (r["dump"]["F1"] + r["article"]["F1"] + 2 * r["html"]["F1"]) / 4
                    if best is None or obj > best[0]:
                        best = (obj, trial, r)
    return best[1], best[2]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                    help="gold corpus folder (default: ../shared/corpus/dev beside the repository)")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                    help="trafilatura results cache (default: .cache/trafilatura in the repository, git-ignored)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    ap.add_argument("--dump-docs", type=Path, help="also pickle the prepared documents here (analysis)")
    args = ap.parse_args(argv)
    if not (args.corpus / "manifest.jsonl").is_file():
        print(f"corpus not found: {args.corpus} (no manifest.jsonl there; give --corpus DIR)", file=sys.stderr)
        return 2
    t0 = time.time()
    docs = load_docs(args.corpus, args.cache)
    if args.dump_docs:
        args.dump_docs.write_bytes(pickle.dumps(docs))
    print(f"loaded {len(docs)} documents in {time.time() - t0:.1f}s", file=sys.stderr)
    folds = site_folds(docs, args.folds)
    cv_probs: list[np.ndarray | None] = [None] * len(docs)
    for f in range(args.folds):
        train = [d for d in docs if folds[d["site"]] != f]
        m = fit_logistic(*_design(train), l2=args.l2)
        for i, d in enumerate(docs):
            if folds[d["site"]] == f:
                cv_probs[i] = predict(m, d["X"])
    params, cv = grid(docs, cv_probs)
    model = fit_logistic(*_design(docs), l2=args.l2)
    full_probs = [predict(model, d["X"]) for d in docs]
    shipped = score_docs(docs, full_probs, params)
    model.update(
        params,
        l2=args.l2,
        trained_on="dev corpus (ScrapingHub article-extraction benchmark, 120 pages) x {dump, article, trafilatura(html)}",
        cv_by_site={k: {m: round(v, 4) for m, v in r.items()} for k, r in cv.items()},
        train_fit={k: {m: round(v, 4) for m, v in r.items()} for k, r in shipped.items()},
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    print("decision parameters:", params)
    for name, r in (("cross-validated (by site)", cv), ("shipped model on its training pages", shipped)):
        print(name)
        for kind in KINDS:
            x = r[kind]
            print(f"  {kind:<8} P={x['P']:.3f} R={x['R']:.3f} F1={x['F1']:.3f} empty={x['empty']}")
    top = sorted(zip(FEATURE_NAMES, model["weights"]), key=lambda kv: -abs(kv[1]))[:15]
    print("largest standardized weights:", ", ".join(f"{k}={v:+.2f}" for k, v in top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
