"""The SPARQL 1.1 Service Description of the endpoint, with VoID statistics per named graph.

Result formats come from the format table (their W3C format IRIs); the default dataset lists the
default graph (the union of the named graphs) and every named graph with its triples, entities,
classes and properties.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import BNode, Dataset, Graph, Literal, Namespace, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.namespace import DCTERMS, RDF, XSD

from ...graph.core import formats

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = Namespace("http://rdfs.org/ns/void#")
DEFAULT_GRAPH_ID = DATASET_DEFAULT_GRAPH_ID
PREFIXES = {"rdf": str(RDF), "sd": str(SD), "void": str(VOID), "dcterms": str(DCTERMS), "xsd": str(XSD)}


@dataclass(frozen=True)
class Statistics:
    """VoID numbers for one graph."""

    triples: int
    entities: int
    classes: int
    properties: int


def statistics(triples) -> Statistics:
    """Count triples, distinct IRI subjects (entities), classes (objects of rdf:type) and properties."""
    count, subjects, classes, properties = 0, set(), set(), set()
    for s, p, o in triples:
        count += 1
        if isinstance(s, URIRef):
            subjects.add(s)
        properties.add(p)
        if p == RDF.type:
            classes.add(o)
    return Statistics(count, len(subjects), len(classes), len(properties))


def dataset_statistics(dataset: Dataset) -> tuple[Statistics, dict[str, Statistics]]:
    """Statistics of the default graph (all triples, each counted once) and of each non-empty named graph."""
    per_graph = {}
    for context in sorted(dataset.graphs(), key=lambda g: str(g.identifier)):
        if context.identifier == DEFAULT_GRAPH_ID or isinstance(context.identifier, BNode) or not len(context):
            continue
        per_graph[str(context.identifier)] = statistics(context.triples((None, None, None)))
    union = statistics(set(dataset.triples((None, None, None))))
    return union, per_graph


_STORE_COUNTS = (
    ("triples", "(COUNT(*) AS ?n)", "?s ?p ?o"),
    ("entities", "(COUNT(DISTINCT ?s) AS ?n)", "?s ?p ?o FILTER isIRI(?s)"),
    ("classes", "(COUNT(DISTINCT ?o) AS ?n)", "?s a ?o"),
    ("properties", "(COUNT(DISTINCT ?p) AS ?n)", "?s ?p ?o"),
)


def store_statistics(store) -> tuple[Statistics, dict[str, Statistics]]:
    """The same statistics as :func:`dataset_statistics`, counted by an external store (eight
    aggregate queries; the union's triples counted once each, as SPARQL's merged default graph)."""
    per_graph: dict[str, dict[str, int]] = {}
    union: dict[str, int] = {}
    for name, projection, pattern in _STORE_COUNTS:
        for row in store.select(f"SELECT ?g {projection} WHERE {{ GRAPH ?g {{ {pattern} }} }} GROUP BY ?g"):
            per_graph.setdefault(str(row["g"]), {})[name] = int(row["n"])
        if name == "triples":  # a triple in two graphs is one triple of the merged default graph
            pattern = "{ SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }"
        rows = store.select(f"SELECT {projection} WHERE {{ {pattern} }}")
        union[name] = int(rows[0]["n"]) if rows else 0
    named = {g: Statistics(**{k: counts.get(k, 0) for k, _, _ in _STORE_COUNTS})
             for g, counts in sorted(per_graph.items()) if counts.get("triples")}
    return Statistics(**union), named


def _add_statistics(graph: Graph, node, stats: Statistics) -> None:
    for prop, value in (("triples", stats.triples), ("entities", stats.entities),
                        ("classes", stats.classes), ("properties", stats.properties)):
        graph.add((node, VOID[prop], Literal(value, datatype=XSD.integer)))


def service_description(endpoint_url: str, union: Statistics, per_graph: dict[str, Statistics],
                        federation: list[str], title: str = "karabakh-kg SPARQL endpoint") -> Graph:
    """The service description graph for the endpoint at ``endpoint_url``.

    Nodes are hash IRIs under the endpoint's URL so the description is the same on every request.
    """
    graph = Graph(bind_namespaces="none")
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    endpoint = URIRef(endpoint_url)
    service = URIRef(endpoint_url + "#service")
    dataset = URIRef(endpoint_url + "#dataset")
    default_graph = URIRef(endpoint_url + "#default-graph")
    graph.add((service, RDF.type, SD.Service))
    graph.add((service, SD.endpoint, endpoint))
    graph.add((service, DCTERMS.title, Literal(title)))
    graph.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    for fmt in formats.FORMATS:
        if fmt.w3c_format_iri:
            graph.add((service, SD.resultFormat, URIRef(fmt.w3c_format_iri)))
    graph.add((service, SD.feature, SD.UnionDefaultGraph))
    if federation:
        graph.add((service, SD.feature, SD.BasicFederatedQuery))
    graph.add((service, SD.defaultDataset, dataset))
    graph.add((dataset, RDF.type, SD.Dataset))
    graph.add((dataset, RDF.type, VOID.Dataset))
    graph.add((dataset, VOID.sparqlEndpoint, endpoint))
    graph.add((dataset, SD.defaultGraph, default_graph))
    graph.add((default_graph, RDF.type, SD.Graph))
    _add_statistics(graph, default_graph, union)
    for index, (name, stats) in enumerate(sorted(per_graph.items()), 1):
        named = URIRef(f"{endpoint_url}#named-graph-{index}")
        described = URIRef(f"{endpoint_url}#graph-{index}")
        graph.add((dataset, SD.namedGraph, named))
        graph.add((named, RDF.type, SD.NamedGraph))
        graph.add((named, SD.name, URIRef(name)))
        graph.add((named, SD.graph, described))
        graph.add((described, RDF.type, SD.Graph))
        _add_statistics(graph, described, stats)
    return graph


def serialize(graph: Graph, fmt) -> bytes:
    """The description in any RDF format of the table, with the sd:, void: and dcterms: prefixes
    (quad formats put it in the default graph)."""
    if fmt.carries == "quads":
        dataset = Dataset()
        for prefix, namespace in PREFIXES.items():
            dataset.bind(prefix, namespace)
        target = dataset.graph(DEFAULT_GRAPH_ID)
        for triple in graph:
            target.add(triple)
        if fmt.name == "jsonld":
            data = dataset.serialize(format="json-ld", context=dict(PREFIXES), auto_compact=True, indent=2,
                                     sort_keys=True)
        else:
            data = dataset.serialize(format=fmt.rdflib_name)
    else:
        data = graph.serialize(format=fmt.rdflib_name)
    return data.encode("utf-8") if isinstance(data, str) else data
