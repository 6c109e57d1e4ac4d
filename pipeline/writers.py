"""Writers: records to JSONL or plain text. The caller owns the (atomic) file handle."""
from __future__ import annotations

import json
from typing import Any, Iterable, TextIO

OUTPUT_FORMATS = ("jsonl", "text")


def dumps(record: dict[str, Any]) -> str:
    """One record as one JSON line: UTF-8 as is, stable key order, no trailing spaces."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def write_record(fh: TextIO, record: dict[str, Any], fmt: str = "jsonl") -> None:
    if fmt == "jsonl":
        fh.write(dumps(record) + "\n")
    elif fmt == "text":
        fh.write(record["text"] + "\n\n")
    else:
        raise ValueError(f"unknown output format {fmt!r}; choose from {OUTPUT_FORMATS}")


class UniqueIds:
    """Makes ids unique within one output: a repeat becomes ``id~2``, ``id~3``… never merged."""

    def __init__(self, taken: Iterable[str] = ()):
        self._seen: set[str] = set(taken)

    def claim(self, doc_id: str) -> str:
        if doc_id not in self._seen:
            self._seen.add(doc_id)
            return doc_id
        n = 2
        while f"{doc_id}~{n}" in self._seen:
            n += 1
        unique = f"{doc_id}~{n}"
        self._seen.add(unique)
        return unique
