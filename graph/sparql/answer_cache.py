"""Answers kept in the server process for repeated queries.

A build never changes while it is served, so the same query text with the same parameters, dataset
and output format always gives the same bytes: a public endpoint meets the same look-ups again and
again (the stored queries, a page that refreshes), and answering them from memory skips the worker
round trip and the evaluation. Queries whose answer may change between two evaluations (NOW(),
RAND(), UUID(), STRUUID(), BNODE(), SERVICE) are never kept.
"""

from __future__ import annotations

import hashlib
import re
import threading
from typing import Callable

from rdflib.plugins.sparql.parser import expandUnicodeEscapes

from ..core import caching
from .worker import Job

_VOLATILE = re.compile(r"\b(NOW|RAND|UUID|STRUUID|BNODE|SERVICE)\b", re.IGNORECASE)


# Memory an entry costs besides its answer (the key is a digest; the reply dict and its bookkeeping).
ENTRY_OVERHEAD = 1024


def key_of(job: Job) -> bytes | None:
    """A digest of what makes two jobs' answers the same bytes, or None when the answer may change
    between runs. The digest, not the text, is kept: a query text can be a megabyte."""
    if _volatile(job.text):
        return None
    bindings = tuple(sorted((str(name), value.n3() if hasattr(value, "n3") else repr(value))
                            for name, value in job.bindings.items()))
    # choice.asked only words a 406, and failures are never kept
    parts = (job.text, job.choice.table, job.choice.graph, job.max_rows, job.source,
             bindings, tuple(job.default_graphs or ()), tuple(job.named_graphs or ()),
             job.default_graphs is None, job.named_graphs is None)
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).digest()


@caching.per_text
def _volatile(text: str) -> bool:
    """Whether a query's answer may change between runs (NOW(), RAND()...: see _VOLATILE)."""
    return bool(_VOLATILE.search(expandUnicodeEscapes(text)))  # RAND() may be written \u0052AND()


class _Flight:
    """One evaluation that identical concurrent requests wait for, and its outcome."""

    def __init__(self):
        self.done = threading.Event()
        self.waiters = 0
        self.reply: dict | None = None
        self.error: BaseException | None = None


class AnswerCache:
    """A least-recently-used store of successful replies, bounded by the bytes of their answers."""

    def __init__(self, max_bytes: int, max_waiters: int = 8):
        self.max_bytes = max(0, max_bytes)
        self.max_waiters = max(1, max_waiters)
        self._replies = caching.lru(self.max_bytes or 1, getsizeof=_cost)
        self._lock = threading.Lock()
        self._flights: dict = {}
        self.hits = 0
        self.misses = 0
        self.shared = 0  # requests answered by an identical request's evaluation, while it ran

    def answer(self, key: bytes | None, evaluate: Callable[[], dict], wait: float,
               crowded: Callable[[], Exception] | None = None) -> dict:
        """The kept reply for ``key``, else ``evaluate()``'s (kept when it succeeds). Identical
        requests arriving while it runs wait for it (up to ``wait`` seconds) and share its reply or
        its error, so a burst of the same query costs one evaluation and one slot of the
        concurrency cap. Each waiter holds an HTTP thread: beyond ``max_waiters`` the request gets
        ``crowded()``'s error at once."""
        if key is None or not self.max_bytes:
            return evaluate()
        kept = self.get(key)
        if kept is not None:
            return kept
        with self._lock:
            flight = self._flights.get(key)
            leader = flight is None
            if leader:
                flight = self._flights[key] = _Flight()
            elif flight.waiters >= self.max_waiters and crowded is not None:
                raise crowded()
            else:
                flight.waiters += 1
        if not leader:
            try:
                done = flight.done.wait(wait)
            finally:
                with self._lock:
                    flight.waiters -= 1
            if done:
                self.shared += 1
                if flight.error is not None:
                    raise flight.error
                return flight.reply
            return evaluate()
        try:
            flight.reply = evaluate()
            self.put(key, flight.reply)
            return flight.reply
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._lock:
                self._flights.pop(key, None)
            flight.done.set()

    def __len__(self) -> int:
        return len(self._replies)

    def get(self, key: bytes | None, count_miss: bool = True) -> dict | None:
        """The kept reply for ``key``, or None (counted as a miss unless ``count_miss`` is False:
        a caller that only looks, and leaves the evaluation to :meth:`answer`, which counts it)."""
        if key is None or not self.max_bytes:
            return None
        with self._lock:
            reply = self._replies.get(key)
            if reply is None:
                self.misses += count_miss
                return None
            self.hits += 1
            return reply

    def keep(self, key: bytes | None, reply: dict) -> None:
        """Keep a reply evaluated outside :meth:`answer` after a :meth:`get` that did not count its
        miss: counted as a miss, then kept as :meth:`put` keeps it."""
        if key is not None and self.max_bytes:
            with self._lock:
                self.misses += 1
        self.put(key, reply)

    def put(self, key: bytes | None, reply: dict) -> None:
        """Keep a successful reply, dropping the least recently used ones beyond the byte budget."""
        size = _cost(reply)
        if key is None or not reply.get("ok") or size > self.max_bytes // 4:
            return
        with self._lock:
            if key in self._replies:
                return
            self._replies[key] = reply  # the least recently used ones beyond the budget are dropped


def _cost(reply: dict) -> int:
    """The memory an entry is counted for: its answer's bytes plus a fixed overhead."""
    return len(reply.get("data") or b"") + ENTRY_OVERHEAD
