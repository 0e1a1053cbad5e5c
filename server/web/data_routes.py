"""The ``/data`` blueprint: exports of the dataset or one named graph, the Graph Store Protocol's
read side (``GET``/``HEAD /data?graph=IRI`` and ``/data?default``), and ``/context.jsonld``.

Exports are computed once per graph and format (the dataset never changes while served).
"""

from __future__ import annotations

from flask import Blueprint, request
from rdflib import Graph
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

from ...graph.core import formats
from ...graph.core.errors import KkgError
from ...graph.pipeline import export
from . import answers, negotiation, protocol
from .endpoint import current
from .http_manners import etag_for, not_modified

bp = Blueprint("data", __name__)


@bp.before_request
def _needs_the_build():
    """Exports are made from the build in process; a server fronting an external store says so."""
    endpoint = current()
    if endpoint.remote is not None and request.endpoint != "data.context":
        raise KkgError("exports are not served while this server fronts an external SPARQL store (setting "
                       "store_endpoint): use `karabakh-kg export` on the build, the store's own Graph Store "
                       "Protocol GET, or a CONSTRUCT query on /sparql",
                       code="not-served", status=501)


def _graph_iri(name: str) -> str:
    """A graph's IRI from a short name (``facts``, ``file/extra``) or an IRI; 404 when not in the dataset."""
    iri = export.graph_iri(name)
    known = current().graph_names()
    if iri not in known:
        raise KkgError(f"no graph named {name!r}; the dataset has: {', '.join(known)}",
                       code="no-such-graph", status=404)
    return iri


def _export(graph: str | None, kind: str, extension: str | None = None):
    """Answer the dataset (graph None), the default graph ("default") or one named graph IRI."""
    endpoint = current()
    params = protocol.url_params(endpoint.settings.max_request_bytes)
    format_values = protocol.format_values(params)
    fmt = negotiation.choose_format(kind, negotiation.request_accept(), format_values, extension)
    etag = etag_for(endpoint.version, "export", graph or "", fmt.name)
    cached = not_modified(etag)
    if cached is not None:
        return cached

    def render() -> bytes:
        if graph == "default":
            # the union, named as the default graph so that quad formats write it as such
            default_graph = Graph(identifier=DATASET_DEFAULT_GRAPH_ID)
            for triple in export.select_graph(endpoint.dataset, None):
                default_graph.add(triple)
            return export.serialize_graph(default_graph, fmt.name)
        return export.serialize(endpoint.dataset, fmt.name, graph)

    data = endpoint.memo.get(("export", graph, fmt.name), render)
    name = "karabakh-kg" if graph is None else \
        "karabakh-kg-default-graph" if graph == "default" else f"karabakh-kg-{export.file_stem(graph)}"
    return answers.data_response(data, fmt, etag, f"{name}.{fmt.extension}", download=extension is not None)


@bp.route("/data")
def data():
    """The whole dataset; with ``?graph=IRI`` one named graph, with ``?default`` the default graph
    (the Graph Store Protocol's GET)."""
    params = protocol.url_params(current().settings.max_request_bytes)
    graphs = protocol.values(params, "graph")
    default = any(name == "default" for name, _ in params)
    if len(graphs) > 1 or (graphs and default):
        raise KkgError("name one graph: either ?graph=IRI or ?default", code="bad-parameter")
    if graphs:
        return _export(_graph_iri(graphs[0]), formats.GRAPH)
    if default:
        return _export("default", formats.GRAPH)
    return _export(None, formats.DATASET)


@bp.route("/data.<extension>")
def data_file(extension: str):
    """The whole dataset as a file: ``/data.trig``, ``/data.nq``, ``/data.ttl``..."""
    return _export(None, formats.DATASET, extension)


@bp.route("/data/<path:name>")
def graph_file(name: str):
    """One named graph by short name, by Accept (``/data/facts``) or as a file (``/data/facts.ttl``)."""
    stem, dot, extension = name.rpartition(".")
    if dot and formats.by_extension(name) is not None:
        return _export(_graph_iri(stem), formats.GRAPH, extension)
    return _export(_graph_iri(name), formats.GRAPH)


@bp.route("/context.jsonld")
def context():
    """The JSON-LD @context the exports use (the project's prefixes)."""
    endpoint = current()
    etag = etag_for(endpoint.version, "context")
    cached = not_modified(etag)
    if cached is not None:
        return cached
    return answers.data_response(export.context_document(), formats.by_name("jsonld"), etag)
