"""Remembering what a function computed from a query text or header, for texts of modest size.

The server answers the same few texts again and again (stored queries, clients' Accept headers),
and scanning them with regular expressions on every request showed in profiles. A client may also
send a megabyte query: those are computed each time rather than kept.
"""

from __future__ import annotations

import functools
import re
from typing import Callable, TypeVar

T = TypeVar("T")

LONGEST_KEPT = 8_192  # characters: every stored query is well under, a client's megabyte query is not
ENTRIES = 256  # at most 2 MiB of ASCII text (8 MiB of astral characters) per remembered function


def per_text(func: Callable[[str], T]) -> Callable[[str], T]:
    """``func`` of one text, remembered for the last ENTRIES texts of at most LONGEST_KEPT characters."""
    remembered = functools.lru_cache(maxsize=ENTRIES)(func)

    @functools.wraps(func)
    def call(text: str) -> T:
        return remembered(text) if len(text) <= LONGEST_KEPT else func(text)

    return call


def finds(pattern: re.Pattern) -> Callable[[str], bool]:
    """Whether ``pattern`` occurs in a text, remembered as :func:`per_text` does."""
    return per_text(lambda text: pattern.search(text) is not None)
