"""Serialise the dataset, or one named graph, in any RDF format of the format table.

Output is deterministic: the same input gives the same bytes on every run (sorted statements,
canonical Turtle, a fixed JSON-LD context), so exports can be diffed and cached.
"""

from __future__ import annotations

import json

from rdflib import BNode, Dataset, Graph, URIRef

from . import formats
from .errors import KkgError
from .iris import PREFIXES, bind_prefixes, resolve_graph_name


def jsonld_context() -> dict:
    """The published JSON-LD @context: the project's prefixes, so compact IRIs read like the Turtle."""
    return {prefix: iri for prefix, iri in sorted(PREFIXES.items()) if prefix not in ("kkgraph",)}


def _sorted_copy(triples, target: Graph) -> Graph:
    for triple in sorted(triples, key=lambda t: tuple(n.n3() for n in t)):
        target.add(triple)
    return target


def select_graph(dataset: Dataset, graph: str | None) -> Graph:
    """The named graph ``graph`` (short name or IRI), or the union of all graphs when None."""
    if graph is None:
        return _sorted_copy(set(dataset.triples((None, None, None))), _new_graph())
    iri = resolve_graph_name(graph)
    known = {c.identifier for c in dataset.graphs() if len(c)}
    if iri not in known:
        names = ", ".join(sorted(str(k) for k in known))
        raise KkgError(f"no graph named {graph!r}; the dataset has: {names}", code="no-such-graph", status=404)
    return _sorted_copy(dataset.graph(iri), _new_graph(iri))


def _new_graph(identifier=None) -> Graph:
    g = Graph(identifier=identifier)
    bind_prefixes(g)
    return g


def _dataset_subset(dataset: Dataset, graph: str | None) -> Dataset:
    out = Dataset()
    bind_prefixes(out)
    contexts = sorted((c for c in dataset.graphs() if len(c) and isinstance(c.identifier, URIRef)),
                      key=lambda c: str(c.identifier))
    if graph is not None:
        wanted = select_graph(dataset, graph).identifier
        contexts = [c for c in contexts if c.identifier == wanted]
    for context in contexts:
        _sorted_copy(context, out.graph(context.identifier))
    return out


def _sorted_lines(data: bytes) -> bytes:
    lines = sorted({line for line in data.decode("utf-8").splitlines() if line.strip()})
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


def serialize(dataset: Dataset, format_name: str, graph: str | None = None) -> bytes:
    """The dataset (or one named graph, by short name or IRI) in the named format, as bytes.

    Triple-only formats (Turtle, N-Triples, RDF/XML) carry the union of the graphs when no graph
    is named; quad formats (TriG, N-Quads, JSON-LD) keep the named graphs.
    """
    fmt = formats.by_name(format_name, formats.RDF_FORMATS)
    if fmt.carries == formats.QUADS:
        subset = _dataset_subset(dataset, graph)
        if fmt.name == "jsonld":
            data = subset.serialize(format="json-ld", context=jsonld_context(), auto_compact=True, indent=2,
                                    sort_keys=True)
        else:
            data = subset.serialize(format=fmt.rdflib_name)
    else:
        data = select_graph(dataset, graph).serialize(format=fmt.rdflib_name)
    if isinstance(data, str):
        data = data.encode("utf-8")
    if fmt.name in ("ntriples", "nquads"):
        return _sorted_lines(data)
    return data


def serialize_graph(graph: Graph, format_name: str) -> bytes:
    """One graph (e.g. a CONSTRUCT result) in a triple or quad format, deterministically."""
    dataset = Dataset()
    bind_prefixes(dataset)
    fmt = formats.by_name(format_name, formats.RDF_FORMATS)
    if fmt.carries == formats.QUADS:
        _sorted_copy(graph, dataset.graph(URIRef(str(graph.identifier)) if not isinstance(graph.identifier, BNode) else None))
        return serialize(dataset, format_name)
    copy = _sorted_copy(graph, _new_graph())
    data = copy.serialize(format=fmt.rdflib_name)
    data = data.encode("utf-8") if isinstance(data, str) else data
    return _sorted_lines(data) if fmt.name == "ntriples" else data


def context_document() -> bytes:
    """The @context document published beside the data (``/context.jsonld``)."""
    return (json.dumps({"@context": jsonld_context()}, indent=2, sort_keys=True) + "\n").encode("utf-8")
