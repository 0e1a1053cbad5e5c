"""Which engine answers a query, and which answers instead when it cannot: decided here only.

- An external store (``remote_store``) answers every query sent to a server in front of it.
- Oxigraph answers, from the query text, when the dataset is held in an Oxigraph store and the
  query calls no ``SERVICE`` (Oxigraph would call it from Rust, out of reach of the workers' audit
  hook: see ``safety``).
- rdflib's engine answers everything else, over the same store, and also answers instead:
  when Oxigraph refuses a query rdflib parsed (a function it does not know, a pre-bound variable it
  cannot substitute: SPARQL SEP-0007), when Oxigraph fails on a query it accepted, and when a query
  killed the process evaluating it inside Oxigraph (pyoxigraph 0.5.13 panics on some ORDER BY over
  values of mixed kinds; a panic cannot be caught).

Failures of the second kind are logged, at most once a minute for the same failure.
"""

from __future__ import annotations

import logging
import re
import time

from ..core import caching
from ..pipeline import datasets
from ..stores import remote_store

log = logging.getLogger("karabakh_kg.graph.sparql.choice")

STORE, OXIGRAPH, RDFLIB = "store", "oxigraph", "rdflib"

# What Oxigraph says when it refuses a query rdflib can evaluate (an unknown or custom function).
_KNOWN_REFUSAL = re.compile(r"is not supported|not implemented", re.IGNORECASE)
_calls_service = caching.finds(re.compile(r"\bSERVICE\b", re.IGNORECASE))


def engine_for(dataset, text: str | None, native: bool = True) -> str:
    """The engine that evaluates a query over ``dataset``: STORE, OXIGRAPH or RDFLIB.
    ``native=False`` keeps Oxigraph's engine out (after it crashed on this query)."""
    if remote_store.is_remote(dataset):
        return STORE
    if native and oxigraph_evaluates(dataset, text):
        return OXIGRAPH
    return RDFLIB


def oxigraph_evaluates(dataset, text: str | None) -> bool:
    """True when Oxigraph will evaluate this query itself (an Oxigraph dataset, text known, no SERVICE)."""
    return text is not None and datasets.engine_of(dataset) == "oxigraph" and not _calls_service(text)


def rdflib_after_oxigraph_error(exc: Exception, text: str) -> bool:
    """Whether rdflib answers a query Oxigraph raised ``exc`` on (a refusal or a failure); a
    failure that is not a known refusal is logged, so that the operator learns of it."""
    if not isinstance(exc, (SyntaxError, RuntimeError)):
        return False
    if isinstance(exc, RuntimeError) and not _KNOWN_REFUSAL.search(str(exc)) and first_in_a_while(str(exc)):
        log.warning("Oxigraph failed (%s); rdflib evaluates the query instead:\n%s", exc, excerpt(text))
    return True


def rdflib_after_crash(dataset, text: str, native: bool, code: str) -> bool:
    """Whether rdflib answers a query whose evaluation process died (error ``code``
    ``worker-crashed``) while Oxigraph evaluated it. The death may also be the worker's memory cap:
    the two look the same, and rdflib then meets the cap as the usual memory error."""
    if code != "worker-crashed" or not native or not oxigraph_evaluates(dataset, text):
        return False
    if first_in_a_while("worker crashed"):
        log.warning("a query process died evaluating this query with Oxigraph (a panic inside Oxigraph, "
                    "or its memory cap); rdflib evaluates it instead:\n%s", excerpt(text))
    return True


def excerpt(text: str, most: int = 2000) -> str:
    """A query text for the log: whole up to ``most`` characters, else its start."""
    return text if len(text) <= most else text[:most] + " [...]"


_WARNED: dict[str, float] = {}
WARN_AGAIN_AFTER = 60.0  # seconds


def first_in_a_while(reason: str) -> bool:
    """True for the first of the same failures in WARN_AGAIN_AFTER seconds (in this process): a
    client repeating a query that trips Oxigraph must not fill the log."""
    now = time.monotonic()
    if now - _WARNED.get(reason, -WARN_AGAIN_AFTER) < WARN_AGAIN_AFTER:
        return False
    if len(_WARNED) > 1000:
        _WARNED.clear()
    _WARNED[reason] = now
    return True
