"""Serialise the dataset, or one named graph, in any RDF format of the format table.

Output is deterministic: the same input gives the same bytes on every run (sorted statements,
canonical Turtle, a fixed JSON-LD context), so exports can be diffed and cached.
"""

from __future__ import annotations

import json

from rdflib import BNode, Dataset, Graph, URIRef
from rdflib.compare import to_canonical_graph

from . import formats
from .errors import KkgError
from .iris import PREFIXES, bind_prefixes, resolve_graph_name


def jsonld_context() -> dict:
    """The published JSON-LD @context: the project's prefixes, so compact IRIs read like the Turtle."""
    return {prefix: iri for prefix, iri in sorted(PREFIXES.items()) if prefix not in ("kkgraph",)}


def _canonical(triples) -> list:
    """The triples with blank nodes renamed canonically (by their content), so labels never vary between runs."""
    triples = list(triples)
    if any(isinstance(n, BNode) for t in triples for n in t):
        source = Graph()
        for triple in triples:
            source.add(triple)
        triples = list(to_canonical_graph(source))
    return sorted(triples, key=lambda t: tuple(n.n3() for n in t))


def _term_key(triple) -> tuple:
    return tuple(n.n3() for n in triple)


class _OrderedGraph(Graph):
    """A graph that lists its statements in sorted order, so serializers that walk it write a fixed order."""

    def triples(self, triple, *args, **kwargs):
        """The matching statements, sorted (rdflib's memory store yields them in hash order)."""
        found = list(super().triples(triple, *args, **kwargs))
        found.sort(key=lambda t: _term_key(t) if all(n is not None for n in t) else ())
        yield from found


class _OrderedDataset(Dataset):
    """A dataset that lists its named graphs sorted by name, for the same reason."""

    def graphs(self, triple=None):
        """The named graphs, sorted by IRI."""
        return iter(sorted(super().graphs(triple), key=lambda g: str(g.identifier)))

    def contexts(self, triple=None):
        """The named graphs, sorted by IRI (the TriG serializer still calls this older name)."""
        return iter(sorted(super().graphs(triple), key=lambda g: str(g.identifier)))


def _sort_jsonld_nodes(value):
    """Order every node list by @id: JSON-LD gives @graph arrays no meaning, rdflib gives them hash order."""
    if isinstance(value, dict):
        return {k: _sort_jsonld_nodes(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_sort_jsonld_nodes(v) for v in value]
        if all(isinstance(v, dict) for v in items):
            items.sort(key=lambda v: json.dumps(v, sort_keys=True))
        elif all(not isinstance(v, (dict, list)) for v in items):
            items.sort(key=str)
        return items
    return value


def _sorted_copy(triples, target: Graph) -> Graph:
    for triple in _canonical(triples):
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
    g = _OrderedGraph(identifier=identifier)
    bind_prefixes(g)
    return g


def _dataset_subset(dataset: Dataset, graph: str | None) -> Dataset:
    out = _OrderedDataset()
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


def _encode(container: Graph, fmt: formats.Format) -> bytes:
    """Serialise an ordered graph or dataset; line formats sorted, JSON-LD compacted with our context."""
    if fmt.name == "jsonld":
        doc = json.loads(container.serialize(format="json-ld", context=jsonld_context(), auto_compact=True))
        return (json.dumps(_sort_jsonld_nodes(doc), indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
    data = container.serialize(format=fmt.rdflib_name)
    data = data.encode("utf-8") if isinstance(data, str) else data
    return _sorted_lines(data) if fmt.name in ("ntriples", "nquads") else data


def serialize(dataset: Dataset, format_name: str, graph: str | None = None) -> bytes:
    """The dataset (or one named graph, by short name or IRI) in the named format, as bytes.

    Triple-only formats (Turtle, N-Triples, RDF/XML) carry the union of the graphs when no graph
    is named; quad formats (TriG, N-Quads, JSON-LD) keep the named graphs.
    """
    fmt = formats.by_name(format_name, formats.RDF_FORMATS)
    if fmt.carries == formats.QUADS:
        return _encode(_dataset_subset(dataset, graph), fmt)
    return _encode(select_graph(dataset, graph), fmt)


def serialize_graph(graph: Graph, format_name: str) -> bytes:
    """One unnamed graph (a CONSTRUCT or DESCRIBE result) in any RDF format, deterministically.

    In TriG and N-Quads its triples are in the default graph.
    """
    fmt = formats.by_name(format_name, formats.RDF_FORMATS)
    if fmt.name in ("trig", "nquads"):
        container = _OrderedDataset()
        bind_prefixes(container)
        _sorted_copy(graph, container.default_graph)
        return _encode(container, fmt)
    return _encode(_sorted_copy(graph, _new_graph()), fmt)


def context_document() -> bytes:
    """The @context document published beside the data (``/context.jsonld``)."""
    return (json.dumps({"@context": jsonld_context()}, indent=2, sort_keys=True) + "\n").encode("utf-8")
