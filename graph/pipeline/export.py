"""Serialise the dataset, or one named graph, in any RDF format of the format table.

Output is deterministic: the same input gives the same bytes on every run (sorted statements,
canonical Turtle, a fixed JSON-LD context), so exports can be diffed and cached.
"""

from __future__ import annotations

import io
import json

from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.compare import _TripleCanonicalizer
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.plugins.serializers.nt import _quoteLiteral

from ..core import formats
from ..core.errors import KkgError
from ..core.iris import (
    GRAPH,
    GRAPH_NAMES,
    PREFIXES,
    bind_prefixes,
    named_graph,
    resolve_graph_name,
)
from . import input_checks
from .tree_labels import forest_labels


def jsonld_context() -> dict:
    """The published JSON-LD @context: the project's prefixes, so compact IRIs read like the Turtle."""
    return {prefix: iri for prefix, iri in sorted(PREFIXES.items()) if prefix not in ("kkgraph",)}


def _canonical(triples, labels: dict | None = None) -> list:
    """The triples, sorted, with blank nodes renamed canonically (see _canonical_terms)."""
    return sorted(_canonical_terms(triples, labels), key=_term_key)


def _has_blank(triple) -> bool:
    return isinstance(triple[0], BNode) or isinstance(triple[2], BNode) or isinstance(triple[1], BNode)


class _Labeller(_TripleCanonicalizer):
    """rdflib's canonicaliser, keeping the labels it gives (it only hands back relabelled triples)."""

    def _canonicalize_bnodes(self, triple, labels):
        self.labels = labels
        return super()._canonicalize_bnodes(triple, labels)


def blank_labels(collections) -> dict:
    """A canonical label for every blank node in the given collections of triples, computed once over
    all of them, so that a node keeps one label across the named graphs of a file and two nodes never
    share one. A label depends only on the triples that hold blank nodes (rdflib's canonicaliser
    colours nothing else), so only those are handed to it: at a million triples canonicalising
    everything took most of a minute. Blank nodes that form trees are labelled in linear time by
    tree_labels instead (rdflib's rounds grow with the nesting depth: quadratic)."""
    holding = {triple for triples in collections for triple in triples if _has_blank(triple)}
    if not holding:
        return {}
    labels = forest_labels(holding)  # linear for blank nodes that form trees (nested [ ] in Turtle)
    if labels is not None:
        return labels
    source = Graph()
    for triple in holding:
        source.add(triple)
    labeller = _Labeller(source)
    for _ in labeller.canonical_triples():
        pass
    return {node: BNode(f"cb{label}") for node, label in labeller.labels.items() if isinstance(node, BNode)}


def _canonical_terms(triples, labels: dict | None = None) -> list:
    """The triples with blank nodes renamed canonically (by their content, see blank_labels), so labels
    never vary between runs; ``labels`` from blank_labels over a whole dataset, else these triples'."""
    triples = list(triples)
    if labels is None:
        labels = blank_labels([triples])
    if not labels:
        return triples
    return [tuple(labels.get(n, n) for n in t) if _has_blank(t) else t for t in triples]


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
    """Order every node list by @id: JSON-LD gives @graph arrays no meaning, rdflib gives them hash order.
    An ``@list`` keeps its order: it is an RDF list (``owl:unionOf ( xsd:gYearMonth xsd:date ... )``)."""
    if isinstance(value, dict):
        return {k: ([_sort_jsonld_nodes(v) for v in value[k]] if k == "@list" and isinstance(v, list)
                    else _sort_jsonld_nodes(v)) for k, v in value.items()}
    if isinstance(value, list):
        items = [_sort_jsonld_nodes(v) for v in value]
        if all(isinstance(v, dict) for v in items):
            items.sort(key=lambda v: json.dumps(v, sort_keys=True))
        elif all(not isinstance(v, (dict, list)) for v in items):
            items.sort(key=str)
        return items
    return value


def _sorted_copy(triples, target: Graph, labels: dict | None = None) -> Graph:
    for triple in _canonical(triples, labels):
        target.add(triple)
    return target


def graph_iri(name: str) -> str:
    """A graph's IRI from a short name (``facts``, ``file/extra``) or an IRI, as users write them in
    ``/data?graph=`` and ``/data/NAME`` URLs."""
    if name in GRAPH_NAMES:
        return str(named_graph(name))
    if "://" in name or name.startswith("urn:"):
        return name
    return str(GRAPH[name])


def file_stem(iri: str) -> str:
    """A file name (without extension) for an export of the graph ``iri``: ``facts``, ``file-extra``."""
    base = str(GRAPH)
    return iri[len(base):].replace("/", "-") if iri.startswith(base) else \
        "".join(c if c.isalnum() else "-" for c in iri.split("://")[-1]).strip("-")


def select_graph_name(dataset: Dataset, graph: str) -> URIRef:
    """The IRI of the non-empty named graph ``graph`` (short name or IRI); a 404 KkgError naming the
    graphs there are when it is not in the dataset."""
    iri = resolve_graph_name(graph)
    known = {c.identifier for c in dataset.graphs() if len(c)}
    if iri not in known:
        names = ", ".join(sorted(str(k) for k in known))
        raise KkgError(f"no graph named {graph!r}; the dataset has: {names}", code="no-such-graph", status=404)
    return iri


def select_graph(dataset: Dataset, graph: str | None) -> Graph:
    """The named graph ``graph`` (short name or IRI), or the union of all graphs when None."""
    if graph is None:
        return _sorted_copy(set(dataset.triples((None, None, None))), _new_graph())
    iri = select_graph_name(dataset, graph)
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
        wanted = select_graph_name(dataset, graph)
        contexts = [c for c in contexts if c.identifier == wanted]
    contents = [set(context) for context in contexts]
    labels = blank_labels(contents)
    for context, triples in zip(contexts, contents):
        _sorted_copy(triples, out.graph(context.identifier), labels)
    return out


def lines_of(graphs: dict) -> bytes:
    """N-Quads (N-Triples for the graph named None) of graphs given as collections of triples, sorted,
    duplicates dropped and blank nodes labelled canonically across all the graphs: the bytes
    ``serialize`` writes for the line formats, made without building an rdflib store."""
    out = io.BytesIO()
    write_lines(graphs, out)
    return out.getvalue()


def write_lines(graphs: dict, stream) -> None:
    """Write ``lines_of(graphs)`` to a binary stream, a chunk at a time (the build writes a million
    quads this way, without holding the whole text twice)."""
    rows = set()
    labels = blank_labels(graphs.values())
    for name, triples in graphs.items():
        rows.update(_rows(_canonical_terms(triples, labels), name))
    rows = sorted(rows)
    for start in range(0, len(rows), 65536):
        stream.write("".join(rows[start:start + 65536]).encode("utf-8", "replace"))


def _rows(triples, graph_name):
    """Each triple as rdflib's N-Quads (or, for graph None, N-Triples) serializer writes it: the same
    text as its _nq_row/_nt_row, with each distinct term written once."""
    written: dict = {}
    objects: dict = {}

    def term(node):
        found = written.get(node)
        if found is None:
            found = written[node] = node.n3()
        return found

    def obj(node):
        found = objects.get(node)
        if found is None:
            found = objects[node] = _quoteLiteral(node) if isinstance(node, Literal) else node.n3()
        return found

    if graph_name is None:
        return [f"{term(s)} {term(p)} {obj(o)} .\n" for s, p, o in triples]
    context = "" if graph_name == DATASET_DEFAULT_GRAPH_ID else graph_name.n3()
    return [f"{term(s)} {term(p)} {obj(o)} {context} .\n" for s, p, o in triples]


def _encode(container: Graph, fmt: formats.Format) -> bytes:
    """Serialise an ordered graph or dataset; JSON-LD compacted with our context."""
    if fmt.name == "jsonld":
        doc = json.loads(container.serialize(format="json-ld", context=jsonld_context(), auto_compact=True))
        return (json.dumps(_sort_jsonld_nodes(doc), indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
    data = container.serialize(format=fmt.rdflib_name)
    data = data.encode("utf-8") if isinstance(data, str) else data
    if fmt.name == "xml":  # a CONSTRUCT can make a literal no input may hold (input_checks)
        data = input_checks.refuse_unwritable_xml(data, "RDF/XML")
    return data


def serialize(dataset: Dataset, format_name: str, graph: str | None = None) -> bytes:
    """The dataset (or one named graph, by short name or IRI) in the named format, as bytes.

    Triple-only formats (Turtle, N-Triples, RDF/XML) carry the union of the graphs when no graph
    is named; quad formats (TriG, N-Quads, JSON-LD) keep the named graphs.
    """
    fmt = formats.by_name(format_name, formats.RDF_FORMATS)
    if fmt.name == "nquads":
        names = [c.identifier for c in dataset.graphs() if len(c) and isinstance(c.identifier, URIRef)]
        if graph is not None:
            names = [select_graph_name(dataset, graph)]
        return lines_of({name: set(dataset.graph(name)) for name in names})
    if fmt.name == "ntriples":
        triples = dataset.triples((None, None, None)) if graph is None else dataset.graph(
            select_graph_name(dataset, graph))
        return lines_of({None: set(triples)})
    if fmt.carries == formats.QUADS:
        return _encode(_dataset_subset(dataset, graph), fmt)
    return _encode(select_graph(dataset, graph), fmt)


def serialize_graph(graph: Graph, format_name: str) -> bytes:
    """One unnamed graph (a CONSTRUCT or DESCRIBE result) in any RDF format, deterministically.

    In TriG and N-Quads its triples are in the default graph.
    """
    fmt = formats.by_name(format_name, formats.RDF_FORMATS)
    if fmt.name in ("nquads", "ntriples"):
        return lines_of({DATASET_DEFAULT_GRAPH_ID if fmt.name == "nquads" else None: set(graph)})
    if fmt.name == "trig":
        container = _OrderedDataset()
        bind_prefixes(container)
        _sorted_copy(graph, container.default_graph)
        return _encode(container, fmt)
    return _encode(_sorted_copy(graph, _new_graph()), fmt)


def context_document() -> bytes:
    """The @context document published beside the data (``/context.jsonld``)."""
    return (json.dumps({"@context": jsonld_context()}, indent=2, sort_keys=True) + "\n").encode("utf-8")
