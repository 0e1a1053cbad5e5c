"""The store seam: which engine holds the dataset, and moving data in and out of it.

rdflib stays the API everywhere (``Dataset``, ``Graph``, ``Result``); only the store behind it
changes:

- ``rdflib``: rdflib's in-memory store and rdflib's own SPARQL engine (pure Python);
- ``oxigraph``: the Oxigraph store for rdflib (oxrdflib/pyoxigraph, Rust), whose SPARQL engine
  runs the query text natively (``karabakh_kg.graph.sparql.oxigraph``).

The engine is a setting (``--engine``, ``KARABAKH_KG_ENGINE``); :func:`use` fixes it for the
process. Answers are the same on both (tests/test_engines.py runs every stored query and a corpus of
other queries on both and compares the results), so the choice is about speed and memory: see
docs/performance.md. Which engine evaluates a given query is decided in
``karabakh_kg.graph.sparql.choice``.

Oxigraph returns plain literals as ``"x"^^xsd:string``; RDF 1.1 says they are the same term, and
rdflib writes them without the datatype, so they are handed back as plain ``Literal("x")``.
"""

from __future__ import annotations

from pathlib import Path

from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.namespace import XSD

from ..core.errors import KkgError
from ..core.settings import ProcessChoice

ENGINES = ("rdflib", "oxigraph")
_choice = ProcessChoice("engine", ENGINES)
use, check, current, reset = _choice.use, _choice.check, _choice.current, _choice.reset


# -- datasets -----------------------------------------------------------------------------------

def _oxigraph_store_class():
    import pyoxigraph as ox
    from oxrdflib import OxigraphStore

    class KkgOxigraphStore(OxigraphStore):
        """oxrdflib's store, handing back plain literals as plain (not ``^^xsd:string``) literals."""

        def triples(self, triple_pattern, context=None):
            """The matching triples, with each one's graph (as rdflib's store API expects)."""
            from oxrdflib._converter import from_ox_graph_name, to_ox_quad_pattern

            try:
                found = self._inner.quads_for_pattern(*to_ox_quad_pattern(triple_pattern, context))
            except (TypeError, ValueError):  # a literal subject, an IRI Oxigraph refuses: no match
                return iter(())
            return (((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)),
                     iter((from_ox_graph_name(q.graph_name, self),)))
                    for q in found)

        def __len__(self, context=None):
            """The number of quads (of one graph); 0 for a graph Oxigraph cannot name (``FROM <0>``)."""
            try:
                return super().__len__(context)
            except ValueError:
                return 0

        def addN(self, quads):  # noqa: N802 (rdflib's name)
            """Add many quads in one call (oxrdflib reads a generator twice and loses the events)."""
            self._inner.extend([to_ox(q) for q in quads])

    KkgOxigraphStore.ox = ox
    return KkgOxigraphStore


def new_dataset(name: str | None = None) -> Dataset:
    """An empty dataset of the given (else the current) engine, whose default graph is the union of the
    named graphs, as users query it."""
    from ..core.iris import bind_prefixes

    name = check(name or current())
    if name == "oxigraph":
        dataset = Dataset(store=_oxigraph_store_class()(), default_union=True)
    else:
        dataset = Dataset(default_union=True)
    bind_prefixes(dataset)
    return dataset


def engine_of(dataset) -> str:
    """``oxigraph`` when the graph or dataset is backed by an Oxigraph store, else ``rdflib``."""
    return "oxigraph" if hasattr(getattr(dataset, "store", None), "_inner") else "rdflib"


def load_nquads(dataset: Dataset, path: str | Path) -> None:
    """Read an N-Quads file into the dataset: Oxigraph bulk-loads it natively; for rdflib's store it is
    parsed by Oxigraph where that gives rdflib's own terms (graph/pipeline/fastparse.py), a third faster."""
    if engine_of(dataset) == "oxigraph":
        import pyoxigraph as ox

        dataset.store._inner.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS)
    else:
        from . import fastparse, sources

        add_graphs(dataset, fastparse.read_graphs(sources.user_files([str(path)])[0]))


def add_graphs(dataset: Dataset, graphs: dict) -> Dataset:
    """Add triples grouped by graph IRI (None: the default graph) to the dataset, one bulk add each."""
    for name, triples in graphs.items():
        target = dataset.default_graph if name is None else dataset.graph(name)
        target.addN((s, p, o, target) for s, p, o in triples)
    return dataset


def copy_into(target: Dataset, source: Dataset) -> Dataset:
    """Copy every quad of ``source`` into ``target`` (e.g. an assembled build into the serving engine)."""
    quads = [(s, p, o, target.graph(c.identifier)) for c in source.graphs() for s, p, o in c]
    if engine_of(target) == "oxigraph":
        target.store._inner.extend([to_ox(q) for q in quads])
    else:
        target.addN(quads)
    return target


# -- term conversion ----------------------------------------------------------------------------

def to_rdflib(term):
    """An Oxigraph term as an rdflib term; ``"x"^^xsd:string`` becomes the plain literal ``"x"``."""
    import pyoxigraph as ox

    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        if term.datatype.value == _XSD_STRING:
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    raise KkgError(f"unsupported term from the engine: {term!r}", code="engine-error", status=500)


_XSD_STRING = str(XSD.string)


def to_ox(term):
    """An rdflib term, triple or quad (whose 4th item is a graph or graph name) as an Oxigraph one."""
    import pyoxigraph as ox

    if isinstance(term, tuple):
        s, p, o = (to_ox(t) for t in term[:3])
        if len(term) == 4:
            graph = term[3].identifier if isinstance(term[3], Graph) else term[3]
            name = ox.DefaultGraph() if graph in (None, DATASET_DEFAULT_GRAPH_ID) else to_ox(graph)
            return ox.Quad(s, p, o, name)
        return ox.Triple(s, p, o)
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)) if term.datatype else None)
    raise KkgError(f"unsupported term for the engine: {term!r}", code="engine-error", status=500)


