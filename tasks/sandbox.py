"""Per-document time limit without signals: cleaning runs in a child process.

The parent hands the child a list of files; the child reads, cleans and serializes their
documents and streams back one small message per document (``pipeline.batch.Outcome``: the
JSON line to write and what to count). The parent waits at most ``timeout`` seconds for each
message. When none comes (a pathological page in trafilatura, a regex that backtracks) or the
child dies, the parent kills it, rejects the document it was on (reason ``timeout`` or
``crashed``) and a fresh child goes on from the next one. No SIGALRM: the caller's own timers,
threads and test harness are left alone.

Whole files go to the child, not one document at a time: a round trip per document (the
document pickled there, its decisions pickled back, two wake-ups) cost about a third of the
cleaning itself.
"""
from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import select
import signal
import sys
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Iterator

from pipeline.batch import Outcome, Position, clean_units, iter_units, relative_id
from pipeline.clean import warm_up
from pipeline.config import CleanConfig
from pipeline.document import Document
from pipeline.site_profile import SiteProfiles

_DONE = None  # the child's message after the last document of a job
_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """Have the kernel SIGKILL this process as soon as its parent dies (Linux ``PR_SET_PDEATHSIG``;
    elsewhere nothing). A parent already gone before the call (we were re-parented) ends us now."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:
        os._exit(1)


def _serve(conn: Connection, parent_end: Connection, cfg: CleanConfig, profiles: SiteProfiles | None,
           parent_pid: int) -> None:
    # Mid-document the pipe is not being read: have the kernel end us with the parent instead.
    die_with_parent(parent_pid)
    # The forked child inherited the parent's end of the pipe too: close it, or a killed
    # parent would never be noticed (recv would wait for ourselves) and we would live on.
    parent_end.close()
    while True:
        try:
            paths, base, start, version, sources = conn.recv()
        except (EOFError, OSError):  # parent gone (finished, or killed): so are we
            return
        try:
            for outcome in clean_units(paths, base, cfg, version, profiles, start, sources):
                conn.send(outcome)
        except (EOFError, OSError):
            return
        except Exception as exc:  # a reader bug: say what, and let a fresh child go on after it
            conn.send(f"{type(exc).__name__}: {exc}")
            return
        conn.send(_DONE)


class IsolatedCleaner:
    """Cleans lists of files in a child process, with a time limit per document.

    ``outcomes(paths, base, version, sources)`` yields what ``pipeline.batch.clean_units`` yields, in
    the same order; a document that outlives the limit (or kills the child) comes out rejected.
    """

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
        self._proc = self._ctx.Process(target=_serve, args=(child, parent, self.cfg, self.profiles, os.getpid()),
                                      daemon=True)
        self._proc.start()
        child.close()
        self._conn = parent
        # Connection.poll builds a selector on every call: one poll object for the child's life.
        self._poller = select.poll()
        self._poller.register(parent.fileno(), select.POLLIN)

    def _stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.join()
        if self._conn is not None:
            self._conn.close()
        self._proc = self._conn = None

    def outcomes(self, paths: list[Path], base: Path | None, version: dict,
                 sources: list[str] | None = None) -> Iterator[Outcome]:
        start: Position = (0, 0)
        while True:
            if self._proc is None or not self._proc.is_alive():
                self._start()
            finished, last, error, why = False, None, "crashed", "cleaning process died"
            try:
                self._conn.send((paths, base, start, version, sources))
                while True:
                    if not self._poller.poll(self.timeout * 1000):
                        error, why = "timeout", f"cleaning took longer than {self.timeout:g} s"
                        break
                    message = self._conn.recv()
                    if message is _DONE:
                        finished = True
                        return
                    if isinstance(message, str):
                        why = f"cleaning failed: {message}"
                        break
                    last = message.position
                    yield message
            except (EOFError, OSError) as exc:  # the child died (out of memory, crash)
                why = f"cleaning process died: {type(exc).__name__}"
            finally:
                if not finished:  # failed, or our reader stopped early: the child is mid-job
                    self._stop()
            resume = start if last is None else (last[0], last[1] + 1)
            start = yield from self._fail_next(paths, base, version, resume, error, why, sources)
            if start is None:
                return

    def _fail_next(self, paths: list[Path], base: Path | None, version: dict, resume: Position,
                   error: str, why: str, sources: list[str] | None = None) -> Iterator[Outcome]:
        """Reject the first document from ``resume`` on (the one the child was on); returns
        where the next child starts, or None when there is nothing left."""
        first_file, first_unit = resume
        for i in range(first_file, len(paths)):
            skip = first_unit if i == first_file else 0
            try:
                one = [sources[i]] if sources is not None else None
                for (_, j), doc in iter_units([paths[i]], base, self.cfg, (0, skip), one):
                    if doc.skipped:  # not a document: the child was past it
                        yield Outcome.of((i, j), doc, version)
                        continue
                    doc.error, doc.detail = error, why
                    if error == "timeout":
                        self.timeouts += 1
                        doc.capped.append("timeout")
                    yield Outcome.of((i, j), doc, version)
                    return i, j + 1
            except Exception as exc:  # the file cannot be read here either: the rest of it is one reject
                source = sources[i] if sources is not None else str(paths[i])
                doc = Document(id=relative_id(paths[i], base), source=source, error=error,
                               detail=f"{why}; reading the file again failed: {type(exc).__name__}: {exc}")
                yield Outcome.of((i, skip), doc, version)
                return i + 1, 0
        return None

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
