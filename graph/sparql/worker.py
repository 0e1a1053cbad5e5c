"""What a query worker process does with one job: parse, check, evaluate, cap, serialise.

The server process never evaluates a user's query itself: it sends a :class:`Job` to a worker (see
``pool.py``) and gets back a reply dict. Everything the client can get wrong comes back as a
KkgError's fields; anything else is an engine failure, logged here with its traceback and reported
without the engine's internals.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from dataclasses import dataclass, field
from http.client import HTTPException
from urllib.error import HTTPError, URLError

from pyparsing import ParseBaseException
from rdflib import Graph, URIRef, Variable
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.plugins.sparql.sparql import AlreadyBound, SPARQLError
from rdflib.query import Result

from ..core import caching
from ..core import formats as kinds
from ..core.errors import KkgError, Location
from . import choice, direct_query, oxigraph, safety
from . import query as query_mod

log = logging.getLogger("karabakh_kg.graph.sparql.worker")

TRUNCATED_HEADER = "X-Karabakh-KG-Truncated"


@dataclass
class Job:
    """One query for a worker: its text, pre-bound parameters, dataset restriction and output choice."""

    text: str
    choice: kinds.Choice
    max_rows: int
    source: str = "query"
    bindings: dict = field(default_factory=dict)
    default_graphs: list[str] | None = None
    named_graphs: list[str] | None = None
    native: bool = True  # False: rdflib's engine over the same store (Oxigraph crashed on this query)


@dataclass
class Config:
    """What every job in a worker shares: the federation allow-list, query texts (the stored
    queries) to parse once before workers are forked, and the hosts of an external store the
    workers send queries to."""

    allow_list: list[str] = field(default_factory=list)
    known_queries: list[tuple[str, str]] = field(default_factory=list)
    store_hosts: list[str] = field(default_factory=list)  # an external store's host and addresses


_PARSED = caching.lru(256)


def parsed_query(text: str, source: str):
    """The parsed query, from a per-process cache: parsing costs more than evaluating most queries.

    rdflib's prepared queries are made to be evaluated again; the caller restores anything it
    changes (the dataset clause).
    """
    key = (text, source)
    found = _PARSED.get(key)
    if found is None:
        found = _PARSED[key] = query_mod.parse_query(text, source=source)
    return found


def execute(dataset, job: Job, config: Config) -> dict:
    """Run one job; the reply is ``{"ok": True, "data", "format", "type", "rows", "truncated"}`` or
    ``{"ok": False, "error": KkgError fields, "replace": bool}``."""
    try:
        return _execute(dataset, job, config)
    except KkgError as exc:
        return error_reply(exc)
    except MemoryError:
        return error_reply(KkgError("the query needed more memory than a query may use "
                                    "(setting query_memory_mb)", code="memory-limit", status=503,
                                    headers={"Retry-After": "60"}), replace=True)
    except RecursionError:
        return error_reply(KkgError("the query is nested too deeply for the query engine",
                                    code="query-too-complex", status=400, where=Location(job.source)))
    except Exception:  # an engine failure on a parsed, valid query: log it, do not leak it
        log.error("query engine failure on query:\n%s\n%s", job.text, traceback.format_exc())
        return error_reply(KkgError("the query engine (rdflib) failed while evaluating this query; "
                                    "the failure was logged on the server", code="engine-error",
                                    status=500), replace=True)


def error_reply(exc: KkgError, replace: bool = False) -> dict:
    """A KkgError as a reply a pipe can carry (see :func:`error_from_reply`)."""
    return {"ok": False, "replace": replace, "error": exc.to_dict(), "headers": dict(exc.headers)}


def error_from_reply(reply: dict) -> KkgError:
    """The KkgError a worker's error reply describes."""
    return KkgError.from_dict(reply["error"], reply.get("headers"))


def _execute(dataset, job: Job, config: Config) -> dict:
    form = choice.oxigraph_alone(dataset, job.text, job.bindings, job.default_graphs, job.named_graphs,
                                 job.native)
    # a plain query: Oxigraph answers it without rdflib's parse (unless it crashed Oxigraph before:
    # then job.native is False and rdflib's engine answers)
    if form is not None:
        reply = _direct(dataset, job, form)
        if reply is not None:
            return reply
    parsed = parsed_query(job.text, job.source)
    safety.refuse_unlisted_services(parsed, config.allow_list, job.source)
    kind = kinds.KIND_OF_QUERY[parsed.algebra.name]
    format_name = job.choice.for_kind(kind)
    own_clause = parsed.algebra["datasetClause"]
    safety.restrict_dataset(parsed, job.default_graphs, job.named_graphs)
    try:
        result = query_mod.run_query(dataset, parsed, job.bindings, native=job.native)
        capped, rows, truncated = _capped(result, job.max_rows, job.text)
        limit = _limit_reached(result, rows, job.max_rows, truncated)
    except (SPARQLError, AlreadyBound) as exc:
        raise KkgError(f"query error: {exc or type(exc).__name__}", code="query-error",
                       where=Location(job.source)) from None
    except ParseBaseException as exc:  # e.g. a malformed literal met during evaluation
        raise KkgError(f"query error: {exc.msg}", code="query-error", where=Location(job.source)) from None
    except REMOTE_FAILURES as exc:
        raise _service_failure(parsed, exc) from None
    finally:
        parsed.algebra["datasetClause"] = own_clause  # the cached query keeps its own FROM clauses
    return _serialised(capped, rows, limit, format_name, result.type)


def direct_json_reply(dataset, job: Job, prefixes: bool = True, full_rows: bool = False) -> dict | None:
    """A SELECT's reply in SPARQL JSON results, written by Oxigraph from the query text alone
    (direct_query.py), the row cap noted; None when Oxigraph refused or failed on it.
    ``prefixes`` False: the text names full IRIs only; ``full_rows``: every row binds every
    selected variable (both known of a look-up, see direct_query.select_json)."""
    written = direct_query.select_json(dataset, job.text, job.max_rows, prefixes, full_rows)
    if written is None:
        return None
    data, rows, limit = written
    if limit:
        data = note_truncation(data, "json", limit)
    return {"ok": True, "data": data, "format": "json", "type": "SELECT", "rows": rows, "truncated": limit}


def _direct(dataset, job: Job, form: str) -> dict | None:
    """The reply for a plain query evaluated by Oxigraph from its text (direct_query.py); None when
    Oxigraph refused or failed on it, for the usual path to answer."""
    kind = kinds.GRAPH if form in ("CONSTRUCT", "DESCRIBE") else kinds.TABLE
    format_name = job.choice.for_kind(kind)
    if form == "SELECT" and format_name == "json" and not _selects_star(job.text) \
            and not oxigraph.draws_random(job.text):
        return direct_json_reply(dataset, job)
    result = direct_query.answer(dataset, job.text, form)
    return None if result is None else _finish(result, job, format_name)


def _finish(result: Result, job: Job, format_name: str) -> dict:
    """The reply for a result evaluated without rdflib's parse (direct_query.py): capped, written."""
    capped, rows, truncated = _capped(result, job.max_rows, job.text)
    return _serialised(capped, rows, _limit_reached(result, rows, job.max_rows, truncated), format_name,
                       result.type)


def _serialised(capped: Result, rows: int, limit: int | None, format_name: str, kind: str) -> dict:
    data = query_mod.serialize_result(capped, format_name)
    if limit:
        data = note_truncation(data, format_name, limit)
    return {"ok": True, "data": data, "format": format_name, "type": kind, "rows": rows, "truncated": limit}


def _limit_reached(result: Result, rows: int, max_rows: int, truncated: bool) -> int | None:
    """The row limit that cut this answer: ours (max_rows), or an external store's own (Virtuoso's
    ResultSetMaxRows, which it announces in a header), or None when the answer is whole."""
    if truncated:
        return max_rows
    store_limit = getattr(result, "kkg_store_max_rows", None)
    if store_limit is not None and rows >= store_limit:
        return store_limit
    return None


# What an allow-listed SERVICE endpoint that is down, refuses, or answers nonsense makes rdflib raise.
REMOTE_FAILURES = (URLError, HTTPException, ConnectionError, TimeoutError, json.JSONDecodeError, KeyError)


def _service_failure(parsed, exc: Exception) -> Exception:
    """A 502 KkgError naming the SERVICE endpoints when the query has any; otherwise ``exc`` itself
    (then it is an engine failure, not a remote one)."""
    endpoints = sorted({str(t) for t in safety.service_endpoints(parsed) if isinstance(t, URIRef)})
    if not endpoints:
        return exc
    if isinstance(exc, HTTPError):
        reason = f"it answered HTTP {exc.code}"
    elif isinstance(exc, URLError):
        reason = f"it could not be reached ({exc.reason})"
    elif isinstance(exc, (json.JSONDecodeError, KeyError)):
        reason = "its answer was not SPARQL JSON results"
    else:
        reason = f"it could not be reached ({exc or type(exc).__name__})"
    named = ", ".join(f"<{e}>" for e in endpoints)
    return KkgError(f"the federated query failed: SERVICE {named}: {reason}", code="service-failed", status=502)


def _capped(result: Result, max_rows: int, text: str) -> tuple[Result, int, bool]:
    """At most ``max_rows`` rows (or triples); evaluation stops early when the result streams."""
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        # Copied into a graph named as the default graph, so that quad formats (TriG, N-Quads)
        # write the triples in the default graph rather than in a made-up named graph.
        kept = Graph(identifier=DATASET_DEFAULT_GRAPH_ID, namespace_manager=result.graph.namespace_manager)
        count, truncated = 0, False
        for triple in result.graph:
            if count >= max_rows:
                truncated = True
                break
            kept.add(triple)
            count += 1
        out = Result(result.type)
        out.graph = kept
        return out, count, truncated
    if result.type == "ASK":
        return result, 1, False
    if getattr(result, "kkg_materialised", False):  # Oxigraph's rows, already dicts of rdflib terms
        every = [row for row in result.bindings if row]  # rows binding nothing are left out, as rdflib iterates
        out = Result("SELECT")
        out.vars = _ordered_vars(result.vars, text)
        out.bindings = every[:max_rows]
        return out, len(out.bindings), len(every) > max_rows
    rows = []
    truncated = False
    for row in result:
        if len(rows) >= max_rows:
            truncated = True
            break
        rows.append(row)
    out = Result("SELECT")
    out.vars = _ordered_vars(result.vars, text)
    out.bindings = [{Variable(name): term for name, term in row.asdict().items()} for row in rows]
    return out, len(rows), truncated


def _ordered_vars(variables, text: str):
    """``SELECT *`` variables in order of first mention (rdflib's order depends on hashing)."""
    if not _selects_star(text):
        return list(variables)

    def first_mention(var) -> int:
        match = re.search(r"[?$]" + re.escape(str(var)) + r"\b", text)
        return match.start() if match else len(text)

    return sorted(variables, key=lambda v: (first_mention(v), str(v)))


_selects_star = caching.finds(re.compile(r"\bSELECT\s+(?:DISTINCT\s+|REDUCED\s+)?\*", re.IGNORECASE))


def note_truncation(data: bytes, format_name: str, max_rows: int) -> bytes:
    """Say in the body, where the format allows it without breaking parsers, that rows were cut."""
    message = (f"results truncated to the first {max_rows} rows (or triples): the server's max_rows "
               f"limit; add LIMIT/OFFSET to page through them")
    if format_name == "json":
        document = json.loads(data)
        document["truncated"] = {"maxRows": max_rows, "message": message}
        return json.dumps(document, ensure_ascii=False).encode("utf-8")
    if format_name in ("srx", "xml") and data.startswith(b"<?xml"):
        end = data.index(b"?>") + 2
        return data[:end] + f"\n<!-- {message} -->".encode() + data[end:]
    comment = kinds.by_name(format_name).comment
    if comment:
        return comment + f" {message}\n".encode() + data
    return data


def warm_up(dataset, config: Config | None = None) -> None:
    """Run each kind of query once and write every format, so that lazy imports happen before
    workers are forked (and before the audit hook forbids reading more modules); parse the known
    queries so that every worker starts with them parsed."""
    for text, source in (config.known_queries if config else []):
        try:
            parsed_query(text, source)
        except KkgError as exc:
            log.warning("known query %s does not parse: %s", source, exc)
    probe = URIRef("urn:karabakh-kg:warm-up")
    for text, names in (("SELECT ?s ?o WHERE { ?s ?p ?o } LIMIT 1", kinds.PREFERENCE[kinds.TABLE]),
                        ("ASK { ?s ?p ?o }", kinds.PREFERENCE[kinds.TABLE]),
                        ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 1", kinds.PREFERENCE[kinds.GRAPH]),
                        (f"DESCRIBE <{probe}>", kinds.PREFERENCE[kinds.GRAPH][:1])):
        for name in names:
            choice = kinds.Choice(name, name, "warm-up")
            reply = execute(dataset, Job(text, choice, 10), Config())
            if not reply["ok"]:
                log.warning("warm-up query failed: %s", reply["error"]["message"])
