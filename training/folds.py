"""Cross-validation groups and folds of the corpus pages (``../shared/corpus/README.md``), shared by
every training script so that all models are validated on the same site-grouped folds.

Group: the URL's host without ``www.``; Readability test pages by name without a trailing ``-N``;
pages without a URL one group each. Fold: SHA-1 of the group, mod 5.
"""
from __future__ import annotations

import hashlib
import re
from urllib.parse import urlparse

FOLDS = 5


def site_group(set_name: str, page_id: str, meta: dict) -> str:
    """Cross-validation group of a page of ``set_name`` (``dev``, ``train/wcxb``, …)."""
    url = meta.get("url") or ""
    if set_name == "train/readability":
        name = (meta.get("source") or page_id).split("test-pages/")[-1].split("/")[0]
        return "readability:" + re.sub(r"-\d+$", "", name)
    if url.startswith("http"):
        host = urlparse(url).netloc.lower()
        return host[4:] if host.startswith("www.") else host
    return f"{set_name}:{page_id}"


def fold_of(group: str, folds: int = FOLDS) -> int:
    return int(hashlib.sha1(group.encode("utf-8")).hexdigest(), 16) % folds
