"""HTML quality, cross-validated by site: decruft vs trafilatura.extract measured in the same run.

Every page of ``dev`` and ``train/{wcxb,readability,zh}`` goes through the full cleaning pipeline
(``pipeline.clean.clean_html``: the HTML block model, then the phrase rules) with the fold model
that never saw its site (written by ``training/train_html_model.py`` to ``.cache/html_folds``), and
through ``trafilatura.extract`` with its defaults. Scores: the WCXB metric on ``train/wcxb`` (mean
per-page token-bag F1, per ``page_type``, articles vs the six other types pooled), the shingle
metric (``corpus/README.md``) on the others.

    .venv/bin/python benchmarks/html_quality.py [--corpus ../shared/corpus] [--folds .cache/html_folds]
        [--sets dev,train/wcxb,train/readability,train/zh] [--limit N] [--shipped]

``--shipped`` scores the shipped model instead (it saw every page: an in-sample figure, printed
as such). Exit 2 when the corpus or the fold models are missing.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SETS = ("dev", "train/wcxb", "train/readability", "train/zh")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    ap.add_argument("--folds", type=Path, default=REPO / ".cache" / "html_folds")
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--limit", type=int, default=0, help="pages per set (0: all)")
    ap.add_argument("--shipped", action="store_true", help="the shipped model on every page (in-sample)")
    args = ap.parse_args(argv)
    sets = [s for s in args.sets.split(",") if s]
    missing = [str(args.corpus / s) for s in sets if not (args.corpus / s).is_dir()]
    if missing:
        print(f"corpus not found: {', '.join(missing)} (pass --corpus DIR)", file=sys.stderr)
        return 2
    fold_of: dict[str, int] = {}
    if not args.shipped:
        index = args.folds / "folds.json"
        if not index.is_file():
            print(f"fold models not found: {index} (run `make train-html` first, or pass --shipped)",
                  file=sys.stderr)
            return 2
        fold_of = json.loads(index.read_text(encoding="utf-8"))["pages"]

    import trafilatura

    from pipeline.clean import clean_html
    from pipeline.config import CleanConfig
    from pipeline.evaluate import aggregate, iter_pages, score_document, wcxb_score

    cfgs: dict[int | None, CleanConfig] = {None: CleanConfig()}
    rows = []
    t_ours = t_base = 0.0
    for s in sets:
        metric = "wcxb" if "wcxb" in s else "shingle"
        scores: dict[str, dict[str, list]] = {"decruft": {}, "trafilatura": {}}
        for n, page in enumerate(iter_pages(args.corpus / s, "html")):
            if args.limit and n >= args.limit:
                break
            fold = None if args.shipped else fold_of.get(f"{s}/{page.id}")
            if not args.shipped and fold is None:
                print(f"{s}/{page.id}: not in the folds' index (retrain)", file=sys.stderr)
                return 2
            if fold not in cfgs:
                cfgs[fold] = CleanConfig(html_model=str(args.folds / f"fold{fold}.lgb.txt"))
            t0 = time.perf_counter()
            ours = clean_html(page.source, cfgs[fold]).get("text") or ""
            t1 = time.perf_counter()
            try:
                base = trafilatura.extract(page.source) or ""
            except Exception:  # noqa: BLE001 - a failure is an empty output
                base = ""
            t_ours += t1 - t0
            t_base += time.perf_counter() - t1
            ptype = page.meta.get("page_type") or "all"
            for name, text in (("decruft", ours), ("trafilatura", base)):
                if metric == "wcxb":
                    sc = wcxb_score(text, page.gold, page.meta.get("with"), page.meta.get("without"))
                else:
                    sc = score_document(text, page.gold)
                scores[name].setdefault(ptype, []).append(sc)
        for name in ("decruft", "trafilatura"):
            groups = scores[name]
            every = [x for v in groups.values() for x in v]
            if metric == "wcxb":
                def f1(xs):
                    return sum(x.f1 for x in xs) / len(xs) if xs else 0.0
                row = {"all": (f1(every), len(every))}
                if len(groups) > 1:
                    others = [x for t, v in groups.items() if t != "article" for x in v]
                    row["other6"] = (f1(others), len(others))
                    for t in sorted(groups):
                        row[t] = (f1(groups[t]), len(groups[t]))
            else:
                row = {"all": (aggregate(every)["F1"], len(every))}
            rows.append((s, metric, name, row))
    label = "shipped model, IN-SAMPLE" if args.shipped else "cross-validated by site"
    print(f"# HTML quality ({label}); decruft and trafilatura.extract in the same run")
    print(f"{'set':<20} {'metric':<8} {'slice':<14} {'docs':>5} {'decruft':>8} {'trafil.':>8} {'diff':>7}")
    by_key = {(s, name): row for s, _, name, row in rows}
    for s, metric, name, row in rows:
        if name != "decruft":
            continue
        base = by_key[(s, "trafilatura")]
        for slice_, (v, n) in row.items():
            b = base[slice_][0]
            print(f"{s:<20} {metric:<8} {slice_:<14} {n:>5} {v:>8.3f} {b:>8.3f} {v - b:>+7.3f}")
    print(f"time: decruft {t_ours:.1f}s, trafilatura.extract {t_base:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
