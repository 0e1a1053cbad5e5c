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
budget, not one per process. An app made without one (tests, embedding) makes its own. A lock
left held by a process that died is waited for ``LOCK_SECONDS``, then the query is neither counted
nor refused (logged), until the server restarts.
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
SLOTS = 8192  # about 8 MB; see Ledger for how many clients it holds
PROBES = 16  # the slots a client's key may take (double hashing: each key its own sequence)
LOCK_SECONDS = 1.0  # the lock is held for microseconds; longer means a process died holding it
_FIELDS = 2 + 2 * WINDOW_SECONDS  # client key, last charged, then (second, seconds) for each second


def _key(client: str) -> float:
    """A client's key: 48 bits of its address's digest, exact as a double, never 0 (an empty slot)."""
    return float(int.from_bytes(hashlib.blake2b(client.encode("utf-8", "surrogatepass"), digest_size=6).digest(),
                                "big") + 1)


def _probes(key: float, slots: int):
    """The slots a key may take, in order: double hashing (a step of its own, odd, so that with a
    power-of-two table it visits distinct slots), so that keys do not pile up in runs as with
    linear probing, where a client was forgotten while most of the table was empty."""
    number = int(key)
    start, step = number % slots, ((number >> 20) % slots) | 1
    return ((start + probe * step) % slots for probe in range(PROBES))


class _Unavailable(Exception):
    """The ledger's lock could not be taken in time."""


class Ledger:
    """Slow-query seconds per client for each second of the last minute, shared by the processes
    forked after it was made (see the module docstring).

    A client's time is kept in one of PROBES slots its key picks. When all of them hold other
    clients, the one charged least recently among them is forgotten (its budget starts again).
    With the table at most half full (4,096 clients charged within a minute) that happens about
    once in 65,000 new clients; a client whose last charge is over a minute old holds nothing worth
    keeping. ``slots`` is a power of two."""

    def __init__(self, slots: int = SLOTS):
        self.slots = max(PROBES, int(slots))
        if self.slots & (self.slots - 1):
            raise ValueError("a ledger's slots are a power of two")
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
        among those its key may take, else the one charged least recently, emptied and given to it."""
        cells = self._cells
        empty = oldest = None
        for slot in _probes(key, self.slots):
            base = slot * _FIELDS
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
        if not self.limit or client is None or not math.isfinite(seconds) or seconds <= 0:
            return
        try:
            self._ledger.add(client, seconds, self._clock())
        except _Unavailable:
            log.error("the slow-query ledger stayed locked for %g s (a server process died holding it?); "
                      "this query's time was not counted", LOCK_SECONDS)

    def used(self, client: str) -> float:
        """Seconds counted against ``client`` over the last minute (0 with no limit: none are)."""
        if not self.limit:
            return 0.0
        return sum(seconds for _at, seconds in self._recent(client, self._clock()))

    def _recent(self, client: str, now: float) -> list[tuple[float, float]]:
        try:
            return self._ledger.recent(client, now)
        except _Unavailable:  # never refuse a client because of the ledger's own trouble
            log.error("the slow-query ledger stayed locked for %g s (a server process died holding it?); "
                      "budgets are not checked", LOCK_SECONDS)
            return []
