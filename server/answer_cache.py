"""Answers kept in the server process for repeated queries.

A build never changes while it is served, so the same query text with the same parameters, dataset
and output format always gives the same bytes: a public endpoint meets the same look-ups again and
again (the stored queries, a page that refreshes), and answering them from memory skips the worker
round trip and the evaluation. Queries whose answer may change between two evaluations (NOW(),
RAND(), UUID(), STRUUID(), BNODE(), SERVICE) are never kept.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

from .worker import Job

_VOLATILE = re.compile(r"\b(NOW|RAND|UUID|STRUUID|BNODE|SERVICE)\b", re.IGNORECASE)


def key_of(job: Job) -> tuple | None:
    """What makes two jobs' answers the same bytes, or None when the answer may change between runs."""
    if _VOLATILE.search(job.text):
        return None
    bindings = tuple(sorted((str(name), value.n3() if hasattr(value, "n3") else repr(value))
                            for name, value in job.bindings.items()))
    return (job.text, job.choice.table, job.choice.graph, job.choice.asked, job.max_rows, job.source,
            bindings, tuple(job.default_graphs or ()), tuple(job.named_graphs or ()),
            job.default_graphs is None, job.named_graphs is None)


class AnswerCache:
    """A least-recently-used store of successful replies, bounded by the bytes of their answers."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max(0, max_bytes)
        self._replies: OrderedDict = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple | None) -> dict | None:
        """The kept reply for ``key``, or None."""
        if key is None or not self.max_bytes:
            return None
        with self._lock:
            reply = self._replies.get(key)
            if reply is None:
                self.misses += 1
                return None
            self._replies.move_to_end(key)
            self.hits += 1
            return reply

    def put(self, key: tuple | None, reply: dict) -> None:
        """Keep a successful reply, dropping the least recently used ones beyond the byte budget."""
        size = len(reply.get("data") or b"")
        if key is None or not reply.get("ok") or size > self.max_bytes // 4:
            return
        with self._lock:
            if key in self._replies:
                return
            self._replies[key] = reply
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, dropped = self._replies.popitem(last=False)
                self._bytes -= len(dropped.get("data") or b"")
