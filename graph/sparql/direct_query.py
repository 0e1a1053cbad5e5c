"""Plain queries answered by Oxigraph alone, without rdflib's parser (a query worker's fast path).

rdflib's SPARQL parser (pyparsing) takes milliseconds for a one-line look-up: more than Oxigraph
takes to parse and evaluate it, and more than the rest of the request. A worker keeps the queries
it parsed (worker.parsed_query), but a client asking about hundreds of different subjects misses
that cache every time. Most of what the parse is for (a query's dataset clause, pre-bound
parameters, the SERVICE allow-list) does not concern a plain query, so one that needs none of it
goes straight to Oxigraph, which parses it itself. Which queries do is decided in ``choice``
(:func:`~.choice.oxigraph_alone`): a dataset Oxigraph holds, no pre-bound parameters, no protocol
dataset, and a text with no ``SERVICE`` (Oxigraph would call it from Rust, out of reach of the
worker's audit hook), no ``FROM``, no backslash and no aggregate inside braces (rdflib's parse
refuses those SPARQL forbids), that starts with its query form.

Every other query, and every query Oxigraph refuses or fails on, takes the usual path (rdflib's
parse, the checks, then Oxigraph's or rdflib's evaluation), so error messages keep rdflib's line
and column, and what that path checks is never skipped. The answer is the same as the usual path's
for such a query: that path hands the same text to the same Oxigraph call (oxigraph.native_query).
"""

from __future__ import annotations

import json

from rdflib.query import Result

from ..core.iris import PREFIXES
from . import oxigraph

_PREFIXES = dict(PREFIXES)


def answer(dataset, text: str, form: str) -> Result | None:
    """The query's rdflib Result evaluated by Oxigraph from its text alone (``form`` from
    ``choice.oxigraph_alone``), or None when Oxigraph refused or failed on it: then the usual path
    decides what the client is told."""
    try:
        result = oxigraph.native_query(dataset, text, None, None, PREFIXES)
    except (SyntaxError, RuntimeError, ValueError, TypeError):
        return None
    if form == "DESCRIBE":
        result.type = "DESCRIBE"
    return result


def select_json(dataset, text: str, max_rows: int, prefixes: bool = True,
                full_rows: bool = False) -> tuple[bytes, int, int | None] | None:
    """A SELECT query's SPARQL JSON results written by Oxigraph itself, with the row count and the
    row limit that cut them (None: whole); None when Oxigraph refused or failed on the query. Not
    for queries drawing random values (oxigraph.native_query gives those a thread of their own).

    The same document the usual path writes (tests compare them parsed): rows that bind nothing
    are left out, as rdflib leaves them out, and at most ``max_rows`` rows are kept. Writing the
    JSON in Rust skips making an rdflib term of every value, most of a look-up's time.
    ``prefixes`` False: the text names no prefixed name, so Oxigraph is not handed the project's
    prefixes to read (a tenth of a look-up's time). ``full_rows``: every row binds every selected
    variable, so no row is left out and the rows are counted without reading the document
    (:func:`count_full_rows`).
    """
    import pyoxigraph as ox

    try:
        solutions = dataset.store._inner.query(text, use_default_graph_as_union=True,
                                               prefixes=_PREFIXES if prefixes else None)
        if not isinstance(solutions, ox.QuerySolutions):
            return None
        data = solutions.serialize(format=ox.QueryResultsFormat.JSON)
    except (SyntaxError, RuntimeError, ValueError, TypeError):
        return None
    if full_rows:
        rows = count_full_rows(data)
        if rows is not None and rows <= max_rows:
            return data, rows, None
    document = json.loads(data)
    bindings = document["results"]["bindings"]
    kept = [row for row in bindings if row]
    if len(kept) == len(bindings) and len(kept) <= max_rows:
        return data, len(kept), None
    document["results"]["bindings"] = kept[:max_rows]
    data = json.dumps(document, ensure_ascii=False).encode("utf-8")
    return data, min(len(kept), max_rows), max_rows if len(kept) > max_rows else None


_VARIABLES_END = b"]}"  # of the head: {"head":{"vars":["p","o"]},"results":...
_TERM = b'{"type":'
_TRIPLE_TERM = b'{"type":"triple"'


def count_full_rows(data: bytes) -> int | None:
    """The rows of Oxigraph's SPARQL JSON results in which every row binds every variable, counted
    without parsing them (a tenth of a look-up's time); None when they cannot be counted so
    (triple terms, no variables). Each bound value is one ``{"type":`` object, a text that cannot
    occur inside a JSON string (its quotes would be escaped), so the rows are the values over the
    variables. tests/test_server_direct.py checks it against the parsed document.
    """
    if not data.startswith(b'{"head":{"vars":[') or _TRIPLE_TERM in data:
        return None
    head_end = data.find(_VARIABLES_END)
    variables = data.count(b'"', 0, head_end) // 2 - 2  # the quotes of "head" and "vars" left out
    if variables <= 0:
        return None
    terms = data.count(_TERM, head_end)
    if terms % variables:
        return None
    return terms // variables
