"""The ``entities`` blueprint: every identifier answers, and the ontology too.

``/id/{kind}/{slug}`` names a thing (a war, a state, a claim), not a document, so it answers
**303 See Other** to the document that describes it, chosen by content negotiation from the one
format table: ``/id/{kind}/{slug}.html`` for browsers, ``.ttl``, ``.jsonld``, ``.nt``, ``.rdf`` (and
the other RDF formats of the table) for programs. This is what the W3C's "Cool URIs for the Semantic
Web" recommends for slash IRIs and what DBpedia does (``/resource/X`` to ``/page/X`` or ``/data/X.ttl``);
the documents answer 200 themselves and can be bookmarked, downloaded and cached. An identifier
nothing is said about is a 404 in the one error shape, at both URLs.

``/ontology`` is a hash namespace (``ontology#Actor``): the fragment never reaches the server, so it
answers the document directly (200, negotiated, with ``.ttl`` etc. twins); the HTML has an anchor per
term.

Every answer is a query run through the endpoint (workers, time limit, row cap, answer cache):
``entity_queries`` holds the texts.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, render_template, request, url_for
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDFS

from ....graph import sparql
from ....graph.core import formats
from ....graph.core.errors import KkgError
from ....graph.sparql import Job
from .. import answers, negotiation, protocol
from ..endpoint import current
from ..http_manners import cacheable, not_modified, request_etag
from . import entity_pages, entity_queries
from .term_view import Terms

bp = Blueprint("entities", __name__)

HTML = "text/html"
SOURCE = "entity page"
EXISTS_QUERY = "ASK { { ?entity ?p ?o } UNION { ?s ?p ?entity } }"
DOWNLOADS = ("ttl", "jsonld", "nt", "rdf")


def representations() -> list[str]:
    """The media types an identifier's description comes in: HTML first (the default for ``*/*``),
    then every RDF graph format of the format table."""
    return [HTML] + [media_type for media_type, _ in negotiation.media_types(formats.GRAPH)]


def _format_values() -> list[str]:
    params = protocol.url_params(current().settings.max_request_bytes)
    return protocol.format_values(params)


def _extension_of(media_type: str) -> str:
    if media_type == HTML:
        return "html"
    return negotiation.by_parameter(media_type, negotiation.GRAPH).extension


def _run(text: str, iri: str | None, graph_format: str) -> dict:
    endpoint = current()
    bindings = {"entity": URIRef(iri)} if iri else {}
    return endpoint.run(Job(text, negotiation.Choice("json", graph_format, "page"), endpoint.settings.max_rows,
                            source=SOURCE, bindings=bindings))


def _not_found(kind: str, slug: str) -> KkgError:
    return KkgError(f"nothing is known about /id/{kind}/{slug}; search for it at /search?q={slug.replace('-', '+')}",
                    code="not-found", status=404)


def page_graph(text: str, iri: str | None) -> tuple[Graph, bool]:
    """The graph a page is drawn from: the page query's rows (each a statement and the labels of what
    it names) as triples, or a CONSTRUCT query's answer; and whether the page query's LIMIT or the
    server's row cap cut it."""
    graph = Graph()
    if text == entity_queries.PAGE_QUERY:
        reply = _run(text, iri, "ntriples")
        rows = json.loads(reply["data"])["results"]["bindings"]
        terms: dict = {}  # each distinct term converted once: rows repeat the same terms and labels

        def term(cell: dict):
            key = (cell["type"], cell["value"], cell.get("xml:lang"), cell.get("datatype"))
            found = terms.get(key)
            if found is None:
                found = terms[key] = rdf_term(cell)
            return found

        triples = set()
        for row in rows:
            s, p, o = term(row["s"]), term(row["p"]), term(row["o"])
            triples.add((s, p, o))
            for node, name in ((s, "sLabel"), (p, "pLabel"), (o, "oLabel")):
                if name in row:
                    triples.add((node, RDFS.label, term(row[name])))
        for triple in triples:
            graph.add(triple)
        return graph, bool(reply.get("truncated")) or len(rows) >= entity_queries.PAGE_ROWS
    reply = _run(text, iri, "ntriples")
    if reply["rows"]:
        graph += sparql.read_graph_answer(reply["data"])
    return graph, bool(reply.get("truncated"))


_MEMBERS: dict = {}  # the data version -> the triples of MEMBERS_QUERY (the same for every page)


def with_members(graph: Graph) -> Graph:
    """The page's graph with the members of every joint claimant (``entity_queries.MEMBERS_QUERY``),
    which its figure groups need; read once per version of the data, as every page needs the same."""
    version = current().version
    if version not in _MEMBERS:
        members, _ = page_graph(entity_queries.MEMBERS_QUERY, None)
        _MEMBERS.clear()
        _MEMBERS[version] = tuple(members)
    for triple in _MEMBERS[version]:
        graph.add(triple)
    return graph


def with_series(graph: Graph, iri: str) -> Graph:
    """A claim page's graph with the figures of the same claimant about the same thing
    (``entity_queries.SERIES_QUERY``), from which the page says whether it was later revised."""
    series, _ = page_graph(entity_queries.SERIES_QUERY, iri)
    for triple in series:
        graph.add(triple)
    return graph


def rdf_term(cell: dict):
    """An RDF term of SPARQL JSON results as an rdflib term."""
    kind = cell["type"]
    if kind == "uri":
        return URIRef(cell["value"])
    if kind == "bnode":
        return BNode(cell["value"])
    datatype = cell.get("datatype")
    return Literal(cell["value"], lang=cell.get("xml:lang"), datatype=URIRef(datatype) if datatype else None)


def sparql_link(text: str) -> str:
    """The query page with this query in its editor (the page's "open in SPARQL" link)."""
    return url_for("ui.index") + "?" + urlencode({"query": text})


def page_terms(graph: Graph) -> Terms:
    """Labels and links for a page: the graph's labels; links to ``site_base`` or this server."""
    return Terms.from_graph(graph, current().settings.site_base, request.script_root + "/")


@bp.route("/id/<kind>/<name>")
def entity(kind: str, name: str):
    """An identifier (303 to its negotiated document) or one of its documents (``slug.ext``)."""
    slug, _, extension = name.partition(".")
    iri = entity_queries.entity_iri(kind, slug)
    etag = request_etag(current().version)
    cached = not_modified(etag)
    if cached is not None:
        return cached
    if not extension:
        chosen = negotiation.choose_one(negotiation.request_accept(), representations(), _format_values())
        if not _exists(iri):
            raise _not_found(kind, slug)
        response = redirect(url_for("entities.entity", kind=kind, name=f"{slug}.{_extension_of(chosen)}"), 303)
        return cacheable(response, etag)
    if extension == "html":
        return _html_page(kind, slug, iri, etag)
    fmt = negotiation.choose_format(negotiation.GRAPH, negotiation.request_accept(), [], extension)
    reply = _run(entity_queries.description_query(current().settings.max_rows), iri, fmt.name)
    if not reply["rows"]:
        raise _not_found(kind, slug)
    return answers.reply_response(reply, etag, filename=f"{kind}-{slug}", download=False)


def _exists(iri: str) -> bool:
    endpoint = current()
    reply = endpoint.run(Job(EXISTS_QUERY, negotiation.Choice("json", None, "page"), 1, source=SOURCE,
                             bindings={"entity": URIRef(iri)}))
    return bool(json.loads(reply["data"])["boolean"])


def _html_page(kind: str, slug: str, iri: str, etag: str) -> Response:
    graph, truncated = page_graph(entity_queries.PAGE_QUERY, iri)
    node = URIRef(iri)
    if (node, None, None) not in graph and (None, None, node) not in graph:
        raise _not_found(kind, slug)
    if kind in ("event", "actor"):
        with_members(graph)
    elif kind == "claim":
        with_series(graph, iri)
    page = entity_pages.view(graph, node, kind, page_terms(graph))
    downloads = {ext: url_for("entities.entity", kind=kind, name=f"{slug}.{ext}") for ext in DOWNLOADS}
    html = render_template("entity.html", page=page, downloads=downloads, truncated=truncated,
                           sparql=sparql_link(entity_queries.for_entity(entity_queries.PAGE_QUERY, iri)),
                           description_sparql=sparql_link(entity_queries.for_entity(
                               entity_queries.description_query(current().settings.max_rows), iri)))
    return cacheable(Response(html, mimetype="text/html"), etag)


@bp.route("/ontology")
@bp.route("/ontology.<extension>")
def ontology(extension: str | None = None):
    """The ontology: an HTML page with an anchor per term, or any RDF format (negotiated or ``.ext``)."""
    etag = request_etag(current().version)
    cached = not_modified(etag)
    if cached is not None:
        return cached
    if extension in (None, "html"):
        chosen = negotiation.choose_one(negotiation.request_accept(), representations(), _format_values(), extension)
        if chosen == HTML:
            graph, _ = page_graph(entity_queries.ONTOLOGY_QUERY, None)
            view = entity_pages.ontology_view(graph, page_terms(graph))
            downloads = {ext: url_for("entities.ontology", extension=ext) for ext in DOWNLOADS}
            html = render_template("ontology.html", page=view, downloads=downloads,
                                   sparql=sparql_link(entity_queries.ONTOLOGY_QUERY))
            return cacheable(Response(html, mimetype="text/html"), etag)
        fmt = negotiation.by_parameter(chosen, negotiation.GRAPH)
    else:
        fmt = negotiation.choose_format(negotiation.GRAPH, negotiation.request_accept(), [], extension)
    reply = _run(entity_queries.ONTOLOGY_QUERY, None, fmt.name)
    return answers.reply_response(reply, etag, filename="karabakh-kg-ontology", download=False)
