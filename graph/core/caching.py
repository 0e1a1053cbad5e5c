"""The one cache abstraction: bounded least-recently-used maps (cachetools' ``LRUCache``), a value
computed once per key however many threads ask for it at once, and functions of short texts
remembered.

The server answers the same few texts again and again (stored queries, clients' Accept headers),
and scanning them with regular expressions on every request showed in profiles. A client may also
send a megabyte query: those are computed each time rather than kept.
"""

from __future__ import annotations

import re
import threading
from typing import Callable, Hashable, TypeVar

from cachetools import LRUCache

T = TypeVar("T")

LONGEST_KEPT = 8_192  # characters: every stored query is well under, a client's megabyte query is not
ENTRIES = 256  # at most 2 MiB of ASCII text (8 MiB of astral characters) per remembered function


def lru(maxsize: int, getsizeof: Callable[[object], int] | None = None) -> LRUCache:
    """A least-recently-used map holding at most ``maxsize`` entries, or ``maxsize`` units of
    ``getsizeof`` (bytes, say). Not thread-safe: callers that share one across threads lock it."""
    return LRUCache(maxsize=maxsize, getsizeof=getsizeof)


class ComputedOnce:
    """The last ``size`` values computed by key, each computed once even when concurrent callers
    ask for it together (the others wait for the first). ``size`` 0 keeps nothing."""

    def __init__(self, size: int = 32):
        self._values = lru(size) if size > 0 else None
        self._locks: dict = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The kept value for ``key``, computing it (once) when missing."""
        if self._values is None:
            return compute()
        with self._lock:
            if key in self._values:
                return self._values[key]
            key_lock = self._locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._values:
                    return self._values[key]
            value = compute()
            with self._lock:
                self._values[key] = value
                self._locks.pop(key, None)
            return value


def per_text(func: Callable[[str], T]) -> Callable[[str], T]:
    """``func`` of one text, remembered for the last ENTRIES texts of at most LONGEST_KEPT characters."""
    remembered = lru(ENTRIES)
    lock = threading.Lock()

    def call(text: str) -> T:
        if len(text) > LONGEST_KEPT:
            return func(text)
        with lock:
            if text in remembered:
                return remembered[text]
        value = func(text)
        with lock:
            remembered[text] = value
        return value

    call.__doc__, call.__name__, call.__wrapped__ = func.__doc__, func.__name__, func
    return call


def finds(pattern: re.Pattern) -> Callable[[str], bool]:
    """Whether ``pattern`` occurs in a text, remembered as :func:`per_text` does."""
    return per_text(lambda text: pattern.search(text) is not None)
