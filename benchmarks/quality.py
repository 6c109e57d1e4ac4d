"""Quality benchmark: the library's cleaner on every input kind of a gold corpus.

    PYTHONPATH=. .venv/bin/python benchmarks/quality.py [--corpus DIR] [--kinds dump,article,html]

``--corpus`` defaults to ``../shared/corpus/dev`` beside the repository.

Prints P/R/F1/empty and docs/s per input kind of the shipped model on the corpus (a live run; the
exact metric of corpus/README.md, see ``pipeline.evaluate``), the per-rule table, and the line
labeller's whole cross-validated table (folds grouped by site; per set, WCXB page type, language
group and input kind) as recorded by ``training/train_line_model.py`` (``make train-text``).
``--cv-only`` prints the table alone.
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


def _row(key: str, x: dict) -> str:
    snip = (f"  with {x['with_found']:.3f} without {x['without_found']:.3f}"
            if "with_found" in x and x.get("docs") else "")
    return (f"{key:<28} {x['P']:6.3f} {x['R']:6.3f} {x['F1']:6.3f} {int(x['docs']):6d} {int(x['empty']):6d}"
            + snip)


def print_cv_table(model: dict) -> None:
    """The line labeller's cross-validated table, as ``training/train_line_model.py`` recorded it."""
    cv = model.get("cv") or {}
    if not cv:
        return
    print("\nline labeller, cross-validated by site over dev + train (each page scored by models that never saw"
          " its site;\nknobs of fold k chosen on the other folds). WCXB pages: the WCXB metric (token bags, mean"
          " of per-page P/R/F1);\nothers: the shingle metric. html = trafilatura's extracted text through the"
          " text labeller.")
    for title, key in (("per set", "by_set"), ("per WCXB page type", "by_page_type"),
                       ("per language group (dev, readability, zh; shingle metric)", "by_language")):
        print(f"\n{title}:\n{'set/input':<28} {'P':>6} {'R':>6} {'F1':>6} {'docs':>6} {'empty':>6}")
        for name, x in cv.get(key, {}).items():
            print(_row(name, x))
    print(f"\nknobs per fold (regime cut on the share of tokens in long lines, tau below, tau at or above, "
          f"switch penalty, P(body) kept after the end marker): {model.get('fold_knobs')};\n"
          f"shipped: cut {model.get('dense_page_long_share')}, tau {model.get('tau')} / {model.get('tau_dense')}, "
          f"penalty {model.get('switch_penalty')}, end keep {model.get('end_keep_p', 2.0)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                    help="gold corpus folder (default: ../shared/corpus/dev beside the repository)")
    ap.add_argument("--kinds", default="dump,article,html")
    ap.add_argument("--rules", type=int, default=15, help="rows of the per-rule table")
    ap.add_argument("--cv-only", action="store_true", help="only the cross-validated table (no live run)")
    args = ap.parse_args(argv)
    if args.cv_only:
        print_cv_table(json.loads(MODEL_PATH.read_text(encoding="utf-8")))
        return 0
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
        print_cv_table(json.loads(MODEL_PATH.read_text(encoding="utf-8")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
