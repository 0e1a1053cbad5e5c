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

How Oxigraph gets a query is decided here too:

- a *plain* query (:func:`oxigraph_alone`) goes to Oxigraph from its text alone, without rdflib's
  parse, in a query worker (``direct_query``); a query Oxigraph refuses or fails on there takes the
  usual path (rdflib's parse and checks, then the engine :func:`engine_for` names);
- a *look-up* (:func:`in_lookup_lane`), one triple pattern about a named subject, is answered by
  Oxigraph in the server process itself, without a query worker (``lookup_lane``): its cost is
  bounded by its shape.
"""

from __future__ import annotations

import logging
import re
import time
from typing import NamedTuple

from ..core import caching
from ..pipeline import datasets
from ..stores import remote_store
from . import query_checks

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


# -- Oxigraph from the text alone (direct_query) and in the server process (lookup_lane) -----------

# The prologue (comments, PREFIX and BASE declarations), then the query form.
# One white-space character per step: ``(?:\s+|...)*`` could split a run of n spaces 2^n ways
# before giving up on a text with no query form (an indented typo took a worker's whole time limit).
_FORM = re.compile(
    r"(?:\s|#[^\n]*(?:\n|$)|PREFIX\s*[^\s:<>]*:\s*<[^<>\s]*>|BASE\s*<[^<>\s]*>)*"
    r"(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)
# SERVICE: Oxigraph would call it from Rust; FROM: the dataset clause decides the graphs; a
# backslash: a \u escape could spell either keyword.
_NEEDS_RDFLIB = re.compile(r"\bSERVICE\b|\bFROM\b|\\", re.IGNORECASE)


@caching.per_text
def plain_form(text: str) -> str | None:
    """``SELECT``, ``ASK``, ``CONSTRUCT`` or ``DESCRIBE`` when the text alone may go to Oxigraph (no
    ``SERVICE``, no ``FROM``, no backslash, no aggregate inside braces; the query form right after
    the prologue), else None. Oxigraph evaluates some aggregates SPARQL forbids (in a FILTER or
    BIND), which rdflib's parse refuses with their position (``query_checks``)."""
    if _NEEDS_RDFLIB.search(text) or query_checks.aggregate_in_braces(text) \
            or query_checks.has_bare_carriage_return(text):  # for rdflib's parse to refuse it
        return None
    found = _FORM.match(text)
    return found.group(1).upper() if found else None


def oxigraph_alone(dataset, text: str, bindings: dict | None, default_graphs, named_graphs,
                   native: bool = True) -> str | None:
    """The query form when Oxigraph evaluates the query from its text alone, skipping rdflib's
    parse (``direct_query``), else None: the dataset is held by Oxigraph, the query has no
    pre-bound parameters and no protocol dataset (``default-graph-uri``/``named-graph-uri``), its
    text is plain (:func:`plain_form`), and Oxigraph has not crashed on it (``native``)."""
    if not native or bindings or default_graphs is not None or named_graphs is not None:
        return None
    if datasets.engine_of(dataset) != OXIGRAPH:
        return None
    return plain_form(text)


_IRI = r"<[^<>\"{}|^`\\\x00-\x20]*>"
_VAR = r"[?$][A-Za-z_][A-Za-z0-9_]*"
_WS = r"[ \t\r\n]"  # SPARQL's white space (Python's \s also takes \f, \x85, \u2028...)
# ASCII letters only (IGNORECASE would match the Kelvin sign to k); a variable ends at white space
# (in ``?oWHERE`` the name runs on); no two neighbouring quantifiers take the same characters, so a
# text that is almost a look-up is turned down in linear time.
_LOOKUP = re.compile(
    rf"{_WS}*SELECT{_WS}+(?P<distinct>DISTINCT{_WS}+)?(?P<vars>(?:{_VAR}{_WS}+)+)WHERE{_WS}*\{{{_WS}*"
    rf"(?P<s>{_IRI}){_WS}+(?P<p>{_VAR}|{_IRI}|(?-i:a)){_WS}+(?P<o>{_VAR}|{_IRI}){_WS}*(?:\.{_WS}*)?\}}"
    rf"{_WS}*(?:LIMIT{_WS}+(?P<limit>[0-9]+){_WS}*)?(?:#[^\r\n]*(?:[\r\n]{_WS}*)?)?",
    re.IGNORECASE | re.ASCII)


class Lookup(NamedTuple):
    """A look-up as the look-up lane evaluates it."""

    text: str  # written anew from its parts: nothing else the client wrote reaches the engine
    full_rows: bool  # every selected variable is in the pattern, so every row binds every one


@caching.per_text
def lookup(text: str) -> Lookup | None:
    """The look-up a text asks, or None when the text is not a look-up: ``SELECT [DISTINCT] ?v...
    WHERE { <iri> (?v|<iri>|a) (?v|<iri>) [.] } [LIMIT n]`` and an optional trailing comment; full
    IRIs only. A comment ends at a line feed or a carriage return, as SPARQL's do, and a text with a
    carriage return not followed by a line feed is none (rdflib's parse refuses it: query_checks).
    The look-up lane hands Oxigraph the text written anew, not the client's: nothing but the
    pattern, the variables, DISTINCT and LIMIT can reach the engine."""
    found = _LOOKUP.fullmatch(text)
    if found is None or query_checks.has_bare_carriage_return(text):
        return None
    selected = found["vars"].split()
    limit = f" LIMIT {found['limit']}" if found["limit"] else ""
    written = (f"SELECT {'DISTINCT ' if found['distinct'] else ''}{' '.join(selected)} "
               f"WHERE {{ {found['s']} {found['p']} {found['o']} }}{limit}")
    in_pattern = {term[1:] for term in (found["p"], found["o"]) if term[0] in "?$"}  # ?v and $v: one variable
    return Lookup(written, {name[1:] for name in selected} <= in_pattern)


def is_lookup(text: str) -> bool:
    """Whether the whole query text is a look-up (:func:`lookup`)."""
    return lookup(text) is not None


def in_lookup_lane(dataset, text: str, bindings: dict | None, default_graphs, named_graphs,
                   native: bool = True) -> bool:
    """Whether Oxigraph answers this query in the server process, without a query worker
    (``lookup_lane``): a look-up (:func:`is_lookup`) over the union of the graphs of a dataset
    Oxigraph holds, with no pre-bound parameters and no protocol dataset. Its cost is that of the
    subject's triples: nothing in it can run long, read a file or open a connection."""
    if remote_store.is_remote(dataset) or not native:
        return False
    if bindings or default_graphs is not None or named_graphs is not None:
        return False
    return is_lookup(text) and datasets.engine_of(dataset) == OXIGRAPH


# -- who answers instead --------------------------------------------------------------------------

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
