"""decruft's cleaning library: usable on its own, without Luigi.

    >>> import pipeline
    >>> record = pipeline.clean_text(open("dump.txt").read(), url="https://example.com/a")
    >>> record["text"], record["lang"], record["removed"][0]["reason"]

The names below are imported on first use (PEP 562), so that ``import pipeline.writers`` (the
CLI's ``--help``, say) does not load trafilatura, numpy and the rules.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "CleanConfig": ".config",
    "Decision": ".document",
    "Document": ".document",
    "__version__": ".clean",
    "clean_document": ".clean",
    "clean_html": ".clean",
    "clean_text": ".clean",
    "iter_documents": ".readers",
    "version_info": ".clean",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value
        return value
    try:  # a submodule not imported yet: ``import pipeline; pipeline.clean.model_version()``
        return importlib.import_module(f".{name}", __name__)
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
