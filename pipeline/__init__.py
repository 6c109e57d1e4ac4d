"""decruft's cleaning library: usable on its own, without Luigi.

    >>> import pipeline
    >>> record = pipeline.clean_text(open("dump.txt").read(), url="https://example.com/a")
    >>> record["text"], record["lang"], record["removed"][0]["reason"]
"""
from .clean import __version__, clean_document, clean_html, clean_text, version_info
from .config import CleanConfig
from .document import Decision, Document
from .readers import iter_documents

__all__ = [
    "CleanConfig", "Decision", "Document", "__version__", "clean_document", "clean_html",
    "clean_text", "iter_documents", "version_info",
]
