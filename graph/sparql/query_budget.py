"""Each client's share of slow-query time (the Wikidata Query Service model: so many seconds of
query time per client per minute), kept by one server process.

A client is a remote address. Only queries that ran longer than ``slow_query_seconds`` are
counted, for their whole run (queries stopped at the time limit included): look-ups that finish
fast cost the server little and are never refused here. A client over its budget gets 429 with
Retry-After, the seconds until enough of its counted time is more than a minute old.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from ..core import caching
from ..core.errors import KkgError

WINDOW_SECONDS = 60.0
MOST_CLIENTS = 10_000  # clients remembered at once; the one counted or checked least recently is forgotten first


class QueryBudget:
    """Seconds of slow-query time per client over the last minute, within ``seconds_per_minute``
    (0: no limit)."""

    def __init__(self, seconds_per_minute: float, clock=time.monotonic):
        self.limit = max(0.0, float(seconds_per_minute))
        self._clock = clock
        self._used = caching.lru(MOST_CLIENTS)  # client -> deque of (when, seconds), oldest first
        self._lock = threading.Lock()

    def check(self, client: str | None) -> None:
        """Raise the 429 KkgError when ``client`` has used its budget for the last minute."""
        if not self.limit or client is None:
            return
        with self._lock:
            entries = self._pruned(client)
            used = sum(seconds for _at, seconds in entries)
            if used < self.limit:
                return
            now = self._clock()
            wait = WINDOW_SECONDS
            for at, seconds in entries:  # oldest first: when does enough of it expire?
                used -= seconds
                if used < self.limit:
                    wait = at + WINDOW_SECONDS - now
                    break
        retry = max(1, math.ceil(wait))
        raise KkgError(f"this client has used {self.limit:g} s of slow-query time in the last minute (setting "
                       f"client_query_seconds); retry in {retry} s, or make the queries cheaper",
                       code="too-many-requests", status=429, headers={"Retry-After": str(retry)})

    def charge(self, client: str | None, seconds: float) -> None:
        """Count ``seconds`` of slow-query time against ``client``."""
        if not self.limit or client is None or seconds <= 0:
            return
        with self._lock:
            entries = self._pruned(client)
            entries.append((self._clock(), seconds))
            self._used[client] = entries  # the least recently used client beyond MOST_CLIENTS is dropped

    def used(self, client: str) -> float:
        """Seconds counted against ``client`` over the last minute."""
        with self._lock:
            return sum(seconds for _at, seconds in self._pruned(client))

    def _pruned(self, client: str) -> deque:
        entries = self._used.get(client)
        if entries is None:
            return deque()
        horizon = self._clock() - WINDOW_SECONDS
        while entries and entries[0][0] <= horizon:
            entries.popleft()
        if not entries:
            del self._used[client]
        return entries
