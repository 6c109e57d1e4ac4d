"""Per-document time limit without signals: cleaning runs in a child process.

The parent sends one document at a time over a pipe and waits at most ``timeout``
seconds for the answer. A document that takes longer (a pathological page in
trafilatura, a regex that backtracks) gets the child killed, is rejected with reason
``timeout``, and a fresh child takes the next document. No SIGALRM: the caller's own
timers, threads and test harness are left alone.
"""
from __future__ import annotations

import multiprocessing as mp
import select
from multiprocessing.connection import Connection

from pipeline.clean import clean_or_reject, warm_up
from pipeline.config import CleanConfig
from pipeline.document import Document
from pipeline.site_profile import SiteProfiles


def _serve(conn: Connection, parent_end: Connection, cfg: CleanConfig, profiles: SiteProfiles | None) -> None:
    # The forked child inherited the parent's end of the pipe too: close it, or a killed
    # parent would never be noticed (recv would wait for ourselves) and we would live on.
    parent_end.close()
    while True:
        try:
            doc = conn.recv()
        except (EOFError, OSError):  # parent gone (finished, or killed): so are we
            return
        doc = clean_or_reject(doc, cfg, profiles)
        doc.raw = ""  # the input already crossed the pipe once; the parent has no use for it back
        conn.send(doc)


class IsolatedCleaner:
    """Callable ``doc -> doc`` that cleans in a child process with a per-document timeout."""

    def __init__(self, cfg: CleanConfig, profiles: SiteProfiles | None = None, timeout: float = 60.0):
        self.cfg, self.profiles, self.timeout = cfg, profiles, timeout
        self._ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
        self._proc: mp.Process | None = None
        self._conn: Connection | None = None
        self._poller: select.poll | None = None
        self.timeouts = 0
        self._warm = False

    def _start(self) -> None:
        if not self._warm:
            # Load rules, language profiles and the line model here, once: every forked
            # child inherits them instead of paying the start-up inside its time limit.
            warm_up(self.cfg)
            self._warm = True
        parent, child = self._ctx.Pipe()
        self._proc = self._ctx.Process(target=_serve, args=(child, parent, self.cfg, self.profiles), daemon=True)
        self._proc.start()
        child.close()
        self._conn = parent
        # One poll object for the child's life: Connection.poll builds a selector on every
        # call, which cost 0.5 ms per document.
        self._poller = select.poll()
        self._poller.register(parent.fileno(), select.POLLIN)

    def _stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.join()
        if self._conn is not None:
            self._conn.close()
        self._proc = self._conn = None

    def __call__(self, doc: Document) -> Document:
        if doc.rejected:
            return doc
        if self._proc is None or not self._proc.is_alive():
            self._start()
        try:
            self._conn.send(doc)
            if self._poller.poll(self.timeout * 1000):  # an answer, or the child hung up
                return self._conn.recv()
            why = f"cleaning took longer than {self.timeout:g} s"
            self.timeouts += 1
            doc.capped.append("timeout")
        except (EOFError, OSError) as exc:  # the child died (out of memory, crash)
            why = f"cleaning process died: {type(exc).__name__}"
        self._stop()
        doc.error, doc.detail = "timeout" if "longer" in why else "crashed", why
        return doc

    def close(self) -> None:
        self._stop()

    def __enter__(self) -> "IsolatedCleaner":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_SHARED: dict[str, object] = {}


def shared_cleaner(cfg: CleanConfig, profiles: SiteProfiles | None, timeout: float) -> IsolatedCleaner:
    """One IsolatedCleaner per process for as long as the settings stay the same.

    A worker runs shard after shard with the same configuration and site profile; keeping
    the cleaning process keeps what it learned on the way (rule answers for repeated lines,
    n-gram lists of words seen), instead of starting cold for each shard. The process is a
    daemon: it ends with ours.
    """
    key = (cfg, timeout, profiles.fingerprint() if profiles is not None else None)
    if _SHARED.get("key") != key:
        old = _SHARED.get("cleaner")
        if old is not None:
            old.close()
        _SHARED.update(key=key, cleaner=IsolatedCleaner(cfg, profiles, timeout))
    return _SHARED["cleaner"]
