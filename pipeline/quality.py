"""Document quality: how clean the output probably is, from what cleaning already knows.

``quality_parts`` reads a cleaned document's decisions (the labeller's P(body) per open line in
``Decision.score``, the rule hits), the share of words removed, the page regime and the
language score; ``quality`` combines them with a logistic model (``models/quality.json``,
trained by ``training/train_quality.py`` on the out-of-fold predictions of the line labeller,
so it predicts the per-document F1 of pages whose site the labeller never saw).
"""
from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

QUALITY_PATH = Path(__file__).parent / "models" / "quality.json"
PARTS = ("p_kept", "p_removed", "uncertain_share", "removed_share", "rule_removed_share",
         "log_kept_words", "long_share", "extracted", "lang_score", "log_lines", "kept_line_share",
         "short_kept_share", "kept_runs", "removed_x_long", "p_kept_sq", "lines_x_removed",
         "html_p_kept", "html_p_removed", "html_removed", "html_uncertain")
# what a page regime loses by design (median removed share of words per input kind, dev + training
# corpora; ``gutted`` compares the excess over this with ``max_removed_share``): see the model file
_WORD = re.compile(r"\w+")


def quality_parts(lines: Iterable[tuple[str, bool, float | None, bool]], extracted: bool,
                  lang_score: float) -> dict[str, float]:
    """The parts of ``quality``. ``lines``: (text, kept, P(body) or None, decided by a rule)."""
    kept_w = removed_w = rule_w = 0
    p_kept = p_removed = uncertain = open_w = 0.0
    long_lines = n = kept_n = short_kept = runs = 0
    previous = False
    for text, keep, prob, by_rule in lines:
        w = len(_WORD.findall(text))
        n += 1
        long_lines += w >= 15
        runs += keep and not previous  # separate stretches of kept lines
        previous = keep
        if keep:
            kept_n += 1
            short_kept += w < 5
            kept_w += w
        else:
            removed_w += w
            rule_w += w if by_rule else 0
        if prob is None or by_rule:
            continue
        weight = w + 1
        open_w += weight
        if keep:
            p_kept += weight * prob
        else:
            p_removed += weight * prob
        uncertain += weight * (0.2 < prob < 0.8)
    total = kept_w + removed_w
    parts = {
        "p_kept": round(p_kept / open_w, 6) if open_w else 0.5,
        "p_removed": round(p_removed / open_w, 6) if open_w else 0.0,
        "uncertain_share": round(uncertain / open_w, 6) if open_w else 0.0,
        "removed_share": round(removed_w / total, 6) if total else 0.0,
        "rule_removed_share": round(rule_w / total, 6) if total else 0.0,
        "log_kept_words": round(math.log1p(kept_w), 6),
        "long_share": round(long_lines / n, 6) if n else 0.0,
        "extracted": float(extracted),
        "lang_score": round(float(lang_score), 4),
        "log_lines": round(math.log1p(n), 6),
        "kept_line_share": round(kept_n / n, 6) if n else 0.0,
        "short_kept_share": round(short_kept / kept_n, 6) if kept_n else 0.0,
        "kept_runs": round(math.log1p(runs), 6),
    }
    # interactions a linear model cannot form itself: what a removed share means depends on the
    # regime (a dump loses half, extracted text little), and sure pages are surer than linear
    parts["removed_x_long"] = round(parts["removed_share"] * parts["long_share"], 6)
    parts["p_kept_sq"] = round(parts["p_kept"] ** 2, 6)
    parts["lines_x_removed"] = round(parts["log_lines"] * parts["removed_share"], 6)
    # HTML input's P(body) comes from the block model, not the line labeller: its own weights
    for name in ("p_kept", "p_removed", "removed_share", "uncertain_share"):
        parts[f"html_{name.removesuffix('_share')}"] = parts[name] if extracted else 0.0
    return parts


@lru_cache(maxsize=2)
def load_quality_model(path: str = str(QUALITY_PATH)) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        return None


def quality(parts: dict[str, float], model: dict[str, Any] | None = None) -> float | None:
    """P(clean) in 0..1 (rounded to 3 decimals), or None when no model is shipped."""
    model = model if model is not None else load_quality_model()
    if model is None:
        return None
    z = model["bias"] + sum(w * (parts[name] - m) / s for name, w, m, s in
                            zip(model["parts"], model["weights"], model["mean"], model["scale"]))
    z = max(-30.0, min(30.0, z))
    return round(1.0 / (1.0 + math.exp(-z)), 3)


def assess(decisions, extracted: bool, lang_score: float) -> tuple[dict[str, float], float | None]:
    """(parts, quality) of a cleaned document's decisions. Without a line the labeller scored
    (rules only, or HTML, whose text the labeller does not see by default) there is no evidence
    for the model: parts are given, ``quality`` is None."""
    lines = [(d.text, d.keep, d.score, d.score is None and bool(d.rule) and not d.rule.startswith("stat."))
             for d in decisions]
    parts = quality_parts(lines, extracted=extracted, lang_score=lang_score)
    if not any(d.score is not None for d in decisions):
        return parts, None
    return parts, quality(parts)


def expected_removed_share(parts: dict[str, float], model: dict[str, Any]) -> float:
    """What the document's page regime removes by design: the median removed share of words of
    the input kind (dump, article region, extracted text) whose median share of long lines is
    nearest to this document's (both measured on the training corpora)."""
    if parts["extracted"]:
        return model["median_removed_share"]["html"]
    kinds = ("dump", "article")
    nearest = min(kinds, key=lambda k: (abs(model["median_long_share"][k] - parts["long_share"]), k))
    return model["median_removed_share"][nearest]


def quality_guard(value: float | None, parts: dict[str, float], cfg) -> tuple[str, str] | None:
    """(reason, detail) when the user's ``min_quality`` / ``max_removed_share`` rejects the
    document, else None."""
    if cfg.min_quality is not None and value is not None and value < cfg.min_quality:
        return "low_quality", f"quality {value:.3f} below min_quality {cfg.min_quality}"
    model = load_quality_model()
    if cfg.max_removed_share is not None and model is not None and parts:
        expected = expected_removed_share(parts, model)
        if parts["removed_share"] - expected > cfg.max_removed_share:
            return "gutted", (f"{parts['removed_share']:.0%} of the words removed, {expected:.0%} expected for "
                              f"its page regime, more than max_removed_share {cfg.max_removed_share} above")
    return None
