"""Each client's share of slow-query time (the Wikidata Query Service model: so many seconds of
query time per client per minute), kept for every server process of one ``serve`` together.

A client is a remote address. Only queries that ran longer than ``slow_query_seconds`` are
counted, for their whole run (queries stopped at the time limit included): look-ups that finish
fast cost the server little and are never refused here. A client over its budget gets 429 with
Retry-After, the seconds until enough of its counted time is more than a minute old.

The seconds are kept in a :class:`Ledger`: per client, the seconds counted in each second of the
last minute, in memory that the server processes forked after it was made share (a
``multiprocessing`` shared array under a ``multiprocessing`` lock). ``serve`` makes one before it
forks its server processes, so a client whose connections land on several processes has one
budget, not one per process. An app made without one (tests, embedding) makes its own.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import logging
import math
import multiprocessing
import time

from ..core.errors import KkgError

log = logging.getLogger("karabakh_kg.graph.sparql.query_budget")

WINDOW_SECONDS = 60
SLOTS = 4096  # clients remembered at once (about 4 MB); beyond, the least recently charged is forgotten
PROBES = 8  # the slots a client may take: a full neighbourhood forgets its least recently charged client
LOCK_SECONDS = 1.0  # the lock is held for microseconds; longer means a process died holding it
_FIELDS = 2 + 2 * WINDOW_SECONDS  # client key, last charged, then (second, seconds) for each second


def _key(client: str) -> float:
    """A client's key: 48 bits of its address's digest, exact as a double, never 0 (an empty slot)."""
    return float(int.from_bytes(hashlib.blake2b(client.encode("utf-8", "surrogatepass"), digest_size=6).digest(),
                                "big") + 1)


class _Unavailable(Exception):
    """The ledger's lock could not be taken in time."""


class Ledger:
    """Slow-query seconds per client for each second of the last minute, shared by the processes
    forked after it was made (see the module docstring)."""

    def __init__(self, slots: int = SLOTS):
        self.slots = max(PROBES, int(slots))
        self._cells = multiprocessing.RawArray(ctypes.c_double, self.slots * _FIELDS)
        self._lock = multiprocessing.Lock()

    def add(self, client: str, seconds: float, now: float) -> None:
        """Count ``seconds`` against ``client`` in the second ``now`` falls in."""
        key = _key(client)
        with self._locked():
            base = self._slot(key, create=True)
            cells = self._cells
            cells[base + 1] = now
            second = float(math.floor(now))
            at = base + 2 + 2 * (int(second) % WINDOW_SECONDS)
            if cells[at] != second:
                cells[at], cells[at + 1] = second, 0.0
            cells[at + 1] += seconds

    def recent(self, client: str, now: float) -> list[tuple[float, float]]:
        """(second, seconds) counted against ``client`` within the last minute, oldest first."""
        key = _key(client)
        with self._locked():
            base = self._slot(key, create=False)
            if base is None:
                return []
            cells = self._cells
            entries = [(cells[at], cells[at + 1]) for at in range(base + 2, base + _FIELDS, 2)
                       if cells[at + 1] > 0 and cells[at] > now - WINDOW_SECONDS]
        return sorted(entries)

    def _slot(self, key: float, create: bool) -> int | None:
        """The offset of ``key``'s slot; with ``create``, when it has none, the first empty slot
        among its neighbours, else the one charged least recently, emptied and given to it."""
        cells = self._cells
        start = int(key) % self.slots
        empty = oldest = None
        for probe in range(PROBES):
            base = ((start + probe) % self.slots) * _FIELDS
            if cells[base] == key:
                return base
            if cells[base] == 0:
                empty = base if empty is None else empty
            elif oldest is None or cells[base + 1] < cells[oldest + 1]:
                oldest = base
        if not create:
            return None
        base = empty if empty is not None else oldest
        cells[base:base + _FIELDS] = [0.0] * _FIELDS
        cells[base] = key
        return base

    @contextlib.contextmanager
    def _locked(self):
        if not self._lock.acquire(timeout=LOCK_SECONDS):
            raise _Unavailable
        try:
            yield
        finally:
            self._lock.release()


class QueryBudget:
    """Seconds of slow-query time per client over the last minute, within ``seconds_per_minute``
    (0: no limit), kept in ``ledger`` (a new one when None)."""

    def __init__(self, seconds_per_minute: float, clock=time.monotonic, ledger: Ledger | None = None):
        self.limit = max(0.0, float(seconds_per_minute))
        self._clock = clock  # time.monotonic is one clock for every process of the machine
        self._ledger = ledger if ledger is not None or not self.limit else Ledger()

    def check(self, client: str | None) -> None:
        """Raise the 429 KkgError when ``client`` has used its budget for the last minute."""
        if not self.limit or client is None:
            return
        now = self._clock()
        entries = self._recent(client, now)
        used = sum(seconds for _at, seconds in entries)
        if used < self.limit:
            return
        wait = float(WINDOW_SECONDS)
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
        try:
            self._ledger.add(client, seconds, self._clock())
        except _Unavailable:
            log.error("the slow-query ledger stayed locked for %g s (a server process died holding it?); "
                      "this query's time was not counted", LOCK_SECONDS)

    def used(self, client: str) -> float:
        """Seconds counted against ``client`` over the last minute."""
        return sum(seconds for _at, seconds in self._recent(client, self._clock()))

    def _recent(self, client: str, now: float) -> list[tuple[float, float]]:
        try:
            return self._ledger.recent(client, now)
        except _Unavailable:  # never refuse a client because of the ledger's own trouble
            log.error("the slow-query ledger stayed locked for %g s (a server process died holding it?); "
                      "budgets are not checked", LOCK_SECONDS)
            return []
