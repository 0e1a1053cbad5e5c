"""Upload the build's named graphs into an external store, replacing them there.

One SPARQL 1.1 Graph Store HTTP Protocol ``PUT <store>?graph=IRI`` per named graph, with the
graph as N-Triples: PUT replaces the graph (a second push leaves the same triples, not twice as
many), works on Virtuoso, Fuseki, GraphDB and RDF4J alike, and needs no SPARQL Update text, whose
size some stores limit. Each graph is replaced on its own: between two PUTs a reader sees some
graphs new and others old (push into a second store and switch ``store_endpoint`` when that
matters).

Blank nodes are scoped to one request, so a blank node shared by two graphs would become two;
such a build is refused rather than changed (the shipped build shares none). Literals typed
``xsd:string`` are sent as plain literals, the same term in RDF 1.1, so that stores which tell
them apart (Virtuoso) hold one form.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import BNode, Dataset, Graph

from ..core import progress
from ..core.errors import KkgError
from . import store_http
from .remote_store import build_graphs, plain

PUSH_TIMEOUT = 600.0  # seconds for one graph's upload


@dataclass(frozen=True)
class Pushed:
    """One graph sent: its IRI, how many triples, and the store's HTTP status (201 created, 200/204 replaced)."""

    graph: str
    triples: int
    status: int


def graph_url(graph_store: str, graph: str) -> str:
    """The Graph Store Protocol URL of one graph (indirect identification, ``?graph=IRI``)."""
    from urllib.parse import quote

    separator = "&" if "?" in graph_store else "?"
    return f"{graph_store}{separator}graph={quote(graph, safe='')}"


def ntriples(graph: Graph) -> bytes:
    """The graph as N-Triples, with ``xsd:string`` literals written plain."""
    out = Graph()
    for s, p, o in graph:
        out.add((s, p, plain(o)))
    data = out.serialize(format="nt", encoding="utf-8")
    return data if isinstance(data, bytes) else data.encode("utf-8")


def _refuse_shared_blank_nodes(dataset: Dataset, graphs: list[str]) -> None:
    seen: dict[BNode, str] = {}
    for name in graphs:
        for triple in dataset.graph(name):
            for node in triple:
                if isinstance(node, BNode) and seen.setdefault(node, name) != name:
                    raise KkgError(f"blank node _:{node} is in both {seen[node]} and {name}; pushing graph by "
                                   f"graph would split it in two (give it an IRI)", code="push-refused")


def push(dataset: Dataset, graph_store: str, user: str = "", password: str = "") -> list[Pushed]:
    """PUT each of the build's named graphs (ontology, facts, links, inferred: the graphs a server
    fronting the store queries) into the store at ``graph_store``; what was sent.

    Failures (a bad URL, a refused connection, refused credentials, a store error) are KkgErrors;
    the graphs PUT before the failure stay replaced.
    """
    store_http.check_url(graph_store, "store_graph_store")
    graphs = build_graphs()
    _refuse_shared_blank_nodes(dataset, graphs)
    pushed = []
    for number, name in enumerate(graphs, 1):
        graph = dataset.graph(name)
        progress.step(f"pushing graph {number} of {len(graphs)}: {name} ({len(graph):,} triples)")
        reply = store_http.send(graph_url(graph_store, name), data=ntriples(graph), method="PUT",
                                headers={"Content-Type": "application/n-triples"}, user=user,
                                password=password, timeout=PUSH_TIMEOUT,
                                what="the store's Graph Store endpoint")
        pushed.append(Pushed(name, len(graph), reply.status))
    return pushed
