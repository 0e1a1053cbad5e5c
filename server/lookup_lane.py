"""Look-ups answered in the server process, without a query worker (the look-up lane).

The query a Linked Data page or a crawler sends most is one triple pattern about a named subject:
``SELECT ?p ?o WHERE { <s> ?p ?o }``. Sending it to a query worker costs two process hand-overs,
more than Oxigraph takes to answer it. Its cost is bounded by its shape: Oxigraph reads the
subject's triples from its subject index, so the time and memory it takes are those of the
subject's triples in a dataset that does not change while it is served; nothing can make it run
long, read a file or open a connection. So a query of exactly this shape, asking for SPARQL JSON,
is evaluated here by Oxigraph (the same call a worker makes, direct_query.select_json); every other
query goes to a worker, under its time limit and memory cap.

The shape, matched on the whole text: ``SELECT [DISTINCT] ?v... WHERE { <iri> (?v|<iri>|a)
(?v|<iri>) [.] } [LIMIT n]`` and an optional trailing comment; full IRIs only (no prefixed
names, no literals), over the union of the graphs (no FROM, no protocol dataset, no parameters).
"""

from __future__ import annotations

import re

from ..graph import engine, memo
from ..graph.errors import KkgError
from . import direct_query, negotiation
from .worker import Job, note_truncation

_IRI = r"<[^<>\"{}|^`\\\x00-\x20]*>"
_VAR = r"[?$][A-Za-z_][A-Za-z0-9_]*"
_LOOKUP = re.compile(
    rf"\s*SELECT\s+(?:DISTINCT\s+)?(?:{_VAR}\s*)+WHERE\s*\{{\s*{_IRI}\s+(?:{_VAR}|{_IRI}|a)\s+"
    rf"(?:{_VAR}|{_IRI})\s*\.?\s*\}}\s*(?:LIMIT\s+\d+\s*)?(?:#[^\n]*)?", re.IGNORECASE)


@memo.per_text
def is_lookup(text: str) -> bool:
    """Whether the whole query text has the look-up shape (see the module docstring)."""
    return _LOOKUP.fullmatch(text) is not None


def answer(dataset, job: Job) -> dict | None:
    """The reply for a look-up asking for SPARQL JSON, evaluated here; None for any other job (or
    when Oxigraph refuses the text), which then goes to a query worker."""
    if job.bindings or job.default_graphs is not None or job.named_graphs is not None:
        return None
    if not is_lookup(job.text) or engine.engine_of(dataset) != "oxigraph":
        return None
    try:
        format_name = job.choice.for_kind(negotiation.TABLE)
    except KkgError:  # no table format acceptable: the worker's path words the 406
        return None
    if format_name != "json":
        return None
    written = direct_query.select_json(dataset, job.text, job.max_rows)
    if written is None:
        return None
    data, rows, limit = written
    if limit:
        data = note_truncation(data, format_name, limit)
    return {"ok": True, "data": data, "format": format_name, "type": "SELECT", "rows": rows, "truncated": limit}
