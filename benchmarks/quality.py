"""Quality benchmark: the library's cleaner on every input kind of a gold corpus.

    PYTHONPATH=. .venv/bin/python benchmarks/quality.py [--corpus DIR] [--kinds dump,article,html]

``--corpus`` defaults to ``../shared/corpus/dev`` beside the repository.

Prints P/R/F1/empty and docs/s per input kind (the exact metric of corpus/README.md, see
``pipeline.evaluate``), the per-rule table, and the line model's cross-validated figures
(folds grouped by site) as recorded by ``training/train_line_model.py``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "dev"
sys.path.insert(0, str(REPO))

from pipeline.classify import MODEL_PATH  # noqa: E402
from pipeline.evaluate import default_clean_fn, evaluate_corpus, format_report  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                    help="gold corpus folder (default: ../shared/corpus/dev beside the repository)")
    ap.add_argument("--kinds", default="dump,article,html")
    ap.add_argument("--rules", type=int, default=15, help="rows of the per-rule table")
    args = ap.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"corpus not found: {args.corpus} (give --corpus DIR: a folder of page folders with gold.txt)",
              file=sys.stderr)
        return 2
    rows = []
    for kind in args.kinds.split(","):
        r = evaluate_corpus(args.corpus, kind, default_clean_fn(kind))
        rows.append(r)
        print(format_report(r, max_rules=args.rules), end="\n\n")
    print(f"{'input':<8} {'P':>6} {'R':>6} {'F1':>6} {'empty':>6} {'docs/s':>7}")
    for r in rows:
        print(f"{r['input']:<8} {r['P']:6.3f} {r['R']:6.3f} {r['F1']:6.3f} {r['empty']:6d} {r['docs_per_s']:7.1f}")
    if MODEL_PATH.exists():
        model = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
        print("\nline model, cross-validated by site (each page scored by a model that never saw its site):")
        for kind, x in model.get("cv_by_site", {}).items():
            note = "  (classifier on trafilatura's text; off for html by default)" if kind == "html" else ""
            print(f"{kind:<8} {x['P']:6.3f} {x['R']:6.3f} {x['F1']:6.3f} {int(x['empty']):6d}{note}")
        print("(shipped model on its own training pages:",
              ", ".join(f"{k} F1 {v['F1']:.3f}" for k, v in model.get("train_fit", {}).items()) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
