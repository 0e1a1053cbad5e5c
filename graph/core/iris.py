"""Every IRI the project mints, derived from one configured base.

IRIs never depend on where the server runs: they are fixed here and nowhere else.
"""

from __future__ import annotations

import re

from rdflib import Namespace, URIRef
from rdflib.namespace import NamespaceManager

BASE = "https://w3id.org/karabakh-kg/"

KKG = Namespace(BASE + "ontology#")
ID = Namespace(BASE + "id/")
GRAPH = Namespace(BASE + "graph/")
CONTEXT_URL = BASE + "context.jsonld"

PROV = Namespace("http://www.w3.org/ns/prov#")
SEM = Namespace("http://semanticweb.cs.vu.nl/2009/11/sem/")
SCHEMA = Namespace("https://schema.org/")
WD = Namespace("http://www.wikidata.org/entity/")
WDT = Namespace("http://www.wikidata.org/prop/direct/")
DCTERMS = Namespace("http://purl.org/dc/terms/")
SH = Namespace("http://www.w3.org/ns/shacl#")

KINDS = ("actor", "event", "claim", "source", "place", "concept")
GRAPH_NAMES = ("ontology", "facts", "links", "inferred")

PREFIXES: dict[str, str] = {
    "kkg": str(KKG),
    "actor": f"{ID}actor/",
    "event": f"{ID}event/",
    "claim": f"{ID}claim/",
    "source": f"{ID}source/",
    "place": f"{ID}place/",
    "concept": f"{ID}concept/",
    "kkgraph": str(GRAPH),
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "prov": str(PROV),
    "sem": str(SEM),
    "schema": str(SCHEMA),
    "dcterms": str(DCTERMS),
    "wd": str(WD),
    "wdt": str(WDT),
    "sh": str(SH),
}

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def entity(kind: str, slug: str) -> URIRef:
    """The IRI of an instance: ``{BASE}id/{kind}/{slug}``, refusing kinds and slugs that break the scheme."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    if not _SLUG.match(slug):
        raise ValueError(f"slug {slug!r} is not lowercase kebab case")
    return URIRef(f"{ID}{kind}/{slug}")


def named_graph(name: str) -> URIRef:
    """The IRI of one of the dataset's named graphs (ontology, facts, links, inferred)."""
    if name not in GRAPH_NAMES:
        raise ValueError(f"unknown graph {name!r}; expected one of {', '.join(GRAPH_NAMES)}")
    return GRAPH[name]


def resolve_graph_name(text: str) -> URIRef:
    """Accept a short graph name (``facts``) or a full graph IRI, as users type them on the command line."""
    if text in GRAPH_NAMES:
        return named_graph(text)
    return URIRef(text)


def bind_prefixes(target) -> None:
    """Bind the project's prefixes on a graph, dataset or namespace manager so output stays readable."""
    manager = target if isinstance(target, NamespaceManager) else target.namespace_manager
    for prefix, namespace in PREFIXES.items():
        manager.bind(prefix, namespace, override=True, replace=True)


def expand_curie(text: str) -> URIRef:
    """Turn ``actor:azerbaijan`` or ``<https://...>`` or a plain absolute IRI into a URIRef."""
    text = text.strip()
    if text.startswith("<") and text.endswith(">"):
        return URIRef(text[1:-1])
    prefix, sep, local = text.partition(":")
    if sep and prefix in PREFIXES and not local.startswith("//"):
        return URIRef(PREFIXES[prefix] + local)
    return URIRef(text)
