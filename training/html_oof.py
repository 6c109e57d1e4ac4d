"""Out-of-fold predictions of the HTML path, for the quality score of HTML input.

Every page of ``dev`` and ``train/{wcxb,readability,zh}`` goes through the full cleaning pipeline
(``pipeline.clean.clean_document``: the HTML block model, then the phrase rules) with the block
model of the fold that never saw its site (``.cache/html_folds``, written by
``training/train_html_model.py``), and is scored against its gold (the WCXB metric on WCXB pages,
the shingle metric elsewhere). Per page it keeps what ``training/train_quality.py`` reads: the
decided lines, kept or not, the block model's P(body) per line (``Decision.score``), whether a rule
decided the line, the fold and the score — so the quality model of HTML input is fitted, and
validated, on predictions of block models that never saw the page's site.

    .venv/bin/python training/html_oof.py [--corpus ../shared/corpus] [--folds .cache/html_folds]
        [--out .cache/html_folds/oof.pkl]

Exit 2 when the corpus or the fold models are missing. Deterministic (same rows twice).
"""
from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SETS = ("dev", "train/wcxb", "train/readability", "train/zh")
FOLDS = REPO / ".cache" / "html_folds"


def by_rule(decision) -> bool:
    """What ``pipeline.quality.assess`` counts as decided by a rule (no P(body), a rule id)."""
    return decision.score is None and bool(decision.rule) and not decision.rule.startswith("stat.")


def page_row(page, set_name: str, fold: int, cfg) -> dict:
    from pipeline.clean import clean_document
    from pipeline.document import Document
    from pipeline.evaluate import score_document, wcxb_score

    doc = Document(id=page.id, source=f"{set_name}/{page.id}", kind="html", raw=page.source,
                   url=page.meta.get("url"))
    clean_document(doc, cfg)
    if "wcxb" in set_name:
        f1 = wcxb_score(doc.text, page.gold).f1
    else:
        sc = score_document(doc.text, page.gold)
        p, r = sc.precision or 0.0, sc.recall or 0.0
        f1 = 2 * p * r / (p + r) if p + r > 0 else 0.0
    ds = doc.decisions
    return {"id": f"{set_name}/{page.id}", "set": set_name, "kind": "html", "fold": fold,
            "lines": [d.text for d in ds], "keep": [d.keep for d in ds], "prob": [d.score for d in ds],
            "fixed": [d.rule if by_rule(d) else None for d in ds], "score": {"F1": f1},
            "lang_score": doc.lang_score}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    ap.add_argument("--folds", type=Path, default=FOLDS)
    ap.add_argument("--out", type=Path, default=None, help="default: FOLDS/oof.pkl")
    args = ap.parse_args(argv)
    missing = [str(args.corpus / s) for s in SETS if not (args.corpus / s).is_dir()]
    if missing:
        print(f"corpus not found: {', '.join(missing)} (pass --corpus DIR)", file=sys.stderr)
        return 2
    index = args.folds / "folds.json"
    if not index.is_file():
        print(f"fold models not found: {index} (run `make train-html` first)", file=sys.stderr)
        return 2
    fold_of = json.loads(index.read_text(encoding="utf-8"))["pages"]

    from pipeline.config import CleanConfig
    from pipeline.evaluate import iter_pages

    cfgs = {}
    rows = []
    t0 = time.perf_counter()
    for s in SETS:
        for page in iter_pages(args.corpus / s, "html"):
            fold = fold_of.get(f"{s}/{page.id}")
            if fold is None:
                print(f"{s}/{page.id}: not in the folds' index (retrain with `make train-html`)", file=sys.stderr)
                return 2
            if fold not in cfgs:
                cfgs[fold] = CleanConfig(html_model=str(args.folds / f"fold{fold}.lgb.txt"))
            rows.append(page_row(page, s, fold, cfgs[fold]))
        print(f"{s}: {sum(r['set'] == s for r in rows)} pages ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    out = args.out or args.folds / "oof.pkl"
    out.write_bytes(pickle.dumps(rows, protocol=4))
    print(f"wrote {out}: {len(rows)} pages", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
