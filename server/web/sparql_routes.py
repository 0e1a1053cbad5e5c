"""The ``/sparql`` blueprint: the SPARQL 1.1 Protocol for queries, and the service description."""

from __future__ import annotations

from flask import Blueprint, request

from ...graph.core import formats
from ...graph.core.errors import KkgError
from ...graph.sparql import Job
from . import answers, description, negotiation, protocol, ui_routes
from .endpoint import current
from .http_manners import not_modified, request_etag

bp = Blueprint("sparql", __name__)


@bp.route("/sparql", methods=["GET", "POST"])
def sparql():
    """Answer a query (GET ``?query=``, POST form or ``application/sparql-query``); without a query,
    the service description (or, for a browser, the query page)."""
    endpoint = current()
    asked = protocol.read_query_request(endpoint.settings.max_request_bytes)
    if asked.query is None:
        if request.method == "POST":
            raise KkgError("no query given: POST a query= form field or an application/sparql-query body",
                           code="missing-query")
        return _service_description(asked)
    etag = request_etag(endpoint.version)
    cached = not_modified(etag)
    if cached is not None:
        return cached
    choice = negotiation.choose(negotiation.request_accept(), asked.format_values)
    job = Job(asked.query, choice, endpoint.settings.max_rows,
              default_graphs=asked.default_graphs or None, named_graphs=asked.named_graphs or None)
    return answers.reply_response(endpoint.run(job), etag)


def _wants_page(asked: protocol.QueryRequest) -> bool:
    if asked.format_values:
        return any(v.strip().lower() in ("html", "text/html") for v in asked.format_values)
    accept = negotiation.request_accept()
    if not accept:
        return False
    rdf_types = [mt for mt, _ in negotiation.media_types(formats.GRAPH)]
    return accept.best_match(rdf_types + ["text/html"]) == "text/html"


def _service_description(asked: protocol.QueryRequest):
    endpoint = current()
    if _wants_page(asked):
        return ui_routes.query_page()
    fmt = negotiation.choose_format(formats.GRAPH, negotiation.request_accept(), asked.format_values)
    etag = request_etag(endpoint.version)
    cached = not_modified(etag)
    if cached is not None:
        return cached
    url = request.host_url.rstrip("/") + request.path

    def render() -> bytes:
        union, per_graph = endpoint.statistics()
        graph = description.service_description(url, union, per_graph,
                                                 list(endpoint.settings.federation_allow_list))
        return description.serialize(graph, fmt)

    data = endpoint.memo.get(("service-description", url, fmt.name), render)
    return answers.data_response(data, fmt, etag)
