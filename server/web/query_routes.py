"""The ``/queries`` blueprint: the stored queries, listed (HTML and JSON) and run with typed,
validated parameters from the query string, with ``.json``/``.csv``/``.tsv``/``.ttl`` (any format
of the table) twins and ``.rq`` for the source.
"""

from __future__ import annotations

import json
import threading

from flask import Blueprint, Response, render_template, request, url_for

from ...graph import sparql
from ...graph.core import formats
from ...graph.core.errors import KkgError
from . import answers, negotiation, protocol
from .endpoint import current
from .http_manners import cacheable, etag_for, not_modified, request_etag
from .pages import result_labels

bp = Blueprint("queries", __name__)


def _stored(query_id: str):
    queries = current().stored_queries
    if query_id not in queries:
        raise KkgError(f"no stored query {query_id!r}; stored queries: {', '.join(queries) or 'none'}",
                       code="no-such-query", status=404)
    return queries[query_id]


_PARSE_LOCK = threading.Lock()


def kind_of(stored) -> str:
    """Whether a stored query answers a table or a graph (parsed once; stored queries are trusted)."""
    def parse() -> str:
        with _PARSE_LOCK:  # rdflib's SPARQL grammar (pyparsing) breaks when two threads parse at once
            return formats.KIND_OF_QUERY[sparql.parse_query(stored.text, stored.source).algebra.name]
    return current().memo.get(("kind", stored.id), parse)


def listing() -> list[dict]:
    """Every stored query's metadata with the URLs of its page, twins and source."""
    out = []
    for stored in current().stored_queries.values():
        entry = stored.to_dict()
        kind = kind_of(stored)
        entry["kind"] = "select" if kind == formats.TABLE else "construct"
        entry["url"] = url_for("queries.stored_query", name=stored.id, _external=True)
        entry["source"] = url_for("queries.stored_query", name=f"{stored.id}.rq", _external=True)
        entry["formats"] = {ext: url_for("queries.stored_query", name=f"{stored.id}.{ext}", _external=True)
                            for ext in formats.TWINS[kind]}
        out.append(entry)
    return out


@bp.route("/queries")
@bp.route("/queries.<extension>")
def list_queries(extension: str | None = None):
    """The stored queries: HTML for browsers, JSON otherwise (or ``/queries.json``)."""
    endpoint = current()
    params = protocol.url_params(endpoint.settings.max_request_bytes)
    format_values = protocol.format_values(params)
    chosen = negotiation.choose_one(negotiation.request_accept(), ["application/json", "text/html"],
                                    format_values, extension)
    etag = request_etag(endpoint.version)
    cached = not_modified(etag)
    if cached is not None:
        return cached
    if chosen == "text/html":
        response = Response(render_template("queries.html", queries=listing()), mimetype="text/html")
    else:
        body = json.dumps({"queries": listing()}, ensure_ascii=False, indent=2) + "\n"
        response = Response(body, mimetype="application/json")
    return cacheable(response, etag)


def _parameters(stored, params: list[tuple[str, str]]) -> dict[str, str]:
    declared = {p.name for p in stored.params}
    given: dict[str, str] = {}
    for name, value in params:
        if name in protocol.FORMAT_PARAMETERS and name not in declared:
            continue
        if name in given:
            raise KkgError(f"parameter {name!r} is given more than once", code="bad-parameter")
        given[name] = value
    return given


@bp.route("/queries/<name>")
def stored_query(name: str):
    """Run a stored query: ``/queries/<id>`` (by Accept; browsers get a page), ``/queries/<id>.<ext>``
    (one format), ``/queries/<id>.rq`` (the source)."""
    endpoint = current()
    queries = endpoint.stored_queries
    extension = None
    if name not in queries and "." in name:
        name, extension = name.rsplit(".", 1)
    stored = _stored(name)
    if extension == "rq":
        return _source(stored)
    params = protocol.url_params(endpoint.settings.max_request_bytes)
    given = _parameters(stored, params)
    format_values = [v for n in protocol.FORMAT_PARAMETERS for v in protocol.values(params, n)
                     if n not in {p.name for p in stored.params}]
    kind = kind_of(stored)
    if extension is None and _wants_page(kind, format_values):
        bindings = stored.bindings(given)  # a bad parameter is a 400 naming it
        return _page(stored, kind, given, bindings)
    etag = request_etag(endpoint.version)
    cached = not_modified(etag)
    if cached is not None:
        return cached
    if extension is not None:
        choice = extension_choice(kind, extension, negotiation.request_accept())
    else:
        choice = negotiation.choose(negotiation.request_accept(), format_values)
    job = stored_job(stored, choice, given)
    return answers.reply_response(endpoint.run(job), etag, filename=stored.id, download=extension is not None)


def extension_choice(kind: str, extension: str, accept) -> formats.Choice:
    """The format a ``/queries/<id>.<extension>`` URL asks for."""
    fmt = negotiation.choose_format(kind, accept, [], extension)
    if kind == formats.TABLE:
        return formats.Choice(fmt.name, None, f".{extension}")
    return formats.Choice(None, fmt.name, f".{extension}")


def stored_job(stored, choice: formats.Choice, given: dict) -> sparql.Job:
    """The job that runs a stored query with the given parameter values (defaults for the rest).

    The query's kind is known, so only the format for that kind is kept in the choice: requests
    that get the same bytes (``/queries/x.json``, ``/queries/x`` asking for JSON) make the same job,
    and share one answer in the answer cache.
    """
    if kind_of(stored) == formats.TABLE:
        choice = formats.Choice(choice.table, None, choice.asked)
    else:
        choice = formats.Choice(None, choice.graph, choice.asked)
    return sparql.Job(stored.text, choice, current().settings.max_rows, source=stored.source,
               bindings=stored.bindings(given))


def _wants_page(kind: str, format_values: list[str]) -> bool:
    if format_values:
        return any(v.strip().lower() in ("html", "text/html") for v in format_values)
    accept = negotiation.request_accept()
    if not accept:
        return False
    data_types = [mt for mt, _ in negotiation.media_types(kind)]
    return accept.best_match(data_types + ["text/html"]) == "text/html"


def _source(stored):
    endpoint = current()
    etag = etag_for(endpoint.version, "source", stored.id)
    cached = not_modified(etag)
    if cached is not None:
        return cached
    text = sparql.source_text(stored)
    response = Response(text, content_type="application/sparql-query; charset=utf-8")
    response.headers["Content-Disposition"] = answers.attachment(f"{stored.id}.rq", download=False)
    return cacheable(response, etag)


def _page(stored, kind: str, given: dict[str, str], bindings: dict):
    """The stored query as a page: its description, a parameter form, and its results as a table."""
    endpoint = current()
    choice = formats.Choice("json", "turtle", "page")
    reply = endpoint.run(sparql.Job(stored.text, choice, endpoint.settings.max_rows, source=stored.source,
                             bindings=bindings))
    table = None
    graph_text = None
    cells = None
    if kind == formats.TABLE:
        document = json.loads(reply["data"])
        table = document
        if "results" in document:  # IRIs as links with their labels, literals readable
            cells = result_labels.readable_rows(document, endpoint, endpoint.settings.site_base,
                                                request.script_root + "/")
    else:
        graph_text = reply["data"].decode("utf-8")
    values = {p.name: given.get(p.name, p.default or "") for p in stored.params}
    query_string = request.query_string.decode("latin-1")
    twins = {ext: url_for("queries.stored_query", name=f"{stored.id}.{ext}") + (f"?{query_string}" if query_string else "")
             for ext in formats.TWINS[kind]}
    html = render_template("stored_query.html", query=stored, values=values, table=table, cells=cells,
                           graph_text=graph_text, twins=twins, truncated=reply.get("truncated"),
                           rows=reply["rows"], source_url=url_for("queries.stored_query", name=f"{stored.id}.rq"))
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    return response
