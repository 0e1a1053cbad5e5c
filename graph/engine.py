"""The store seam: which engine holds the dataset and evaluates SPARQL.

rdflib stays the API everywhere (``Dataset``, ``Graph``, ``Result``); only the store behind it
changes:

- ``rdflib``: rdflib's in-memory store and rdflib's own SPARQL engine (pure Python);
- ``oxigraph``: the Oxigraph store for rdflib (oxrdflib/pyoxigraph, Rust), whose SPARQL engine
  runs the query text natively.

The engine is a setting (``--engine``, ``KARABAKH_KG_ENGINE``); :func:`use` fixes it for the
process. Answers are the same on both (tests/test_engines.py runs every stored query and a corpus of
other queries on both and compares the results), so the choice is about speed and memory: see
bench/RESULTS-perf.md.

Two differences are smoothed over here, so that no caller sees them:

- Oxigraph returns plain literals as ``"x"^^xsd:string``; RDF 1.1 says they are the same term, and
  rdflib writes them without the datatype, so they are handed back as plain ``Literal("x")``.
- Oxigraph calls ``SERVICE`` endpoints from Rust, out of reach of the server's Python audit hook; a
  query whose text mentions SERVICE is therefore evaluated by rdflib, under the server's
  allow-list and hook, whatever the engine.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

from rdflib import BNode, Dataset, Graph, Literal, URIRef, Variable
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.namespace import XSD
from rdflib.query import Result

from . import memo
from .errors import KkgError
from .settings import ProcessChoice

log = logging.getLogger("karabakh_kg.graph.engine")

# What Oxigraph says when it refuses a query rdflib can evaluate (an unknown or custom function).
_KNOWN_REFUSAL = re.compile(r"is not supported|not implemented", re.IGNORECASE)

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
    from .iris import bind_prefixes

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
    parsed by Oxigraph where that gives rdflib's own terms (graph/fastparse.py), a third faster."""
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


# -- queries ------------------------------------------------------------------------------------

_SERVICE = re.compile(r"\bSERVICE\b", re.IGNORECASE)
_RANDOM = re.compile(r"\b(RAND|UUID|STRUUID)\s*\(", re.IGNORECASE)


def runs_natively(dataset, text: str | None) -> bool:
    """True when Oxigraph will evaluate this query itself (an Oxigraph dataset, text known, no SERVICE)."""
    return text is not None and engine_of(dataset) == "oxigraph" and not _calls_service(text)


_calls_service = memo.finds(_SERVICE)
_draws_random = memo.finds(_RANDOM)
draws_random = _draws_random  # whether a query text calls RAND(), UUID() or STRUUID()


def _in_a_new_thread(evaluate):
    """``evaluate()`` run in a thread of its own. Oxigraph draws RAND(), UUID() and STRUUID() from a
    per-thread generator that a forked process inherits: every query worker (forked from one parent)
    would draw the same "random" values. A new thread seeds a new generator from the OS."""
    import threading

    outcome: dict = {}

    def run():
        try:
            outcome["value"] = evaluate()
        except BaseException as exc:  # handed back to the caller's thread as it was
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="kkg-random-query")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _dataset_clause(parsed) -> tuple[list | None, list | None]:
    """The default and named graphs a query's FROM / FROM NAMED (or the protocol's) select, if any."""
    clauses = parsed.algebra.get("datasetClause") if parsed is not None else None
    if not clauses:
        return None, None
    default = [dict.get(c, "default") for c in clauses if dict.get(c, "default") is not None]
    named = [dict.get(c, "named") for c in clauses if dict.get(c, "named") is not None]
    return default, named


def native_query(dataset, text: str, parsed=None, bindings: dict | None = None,
                 prefixes: dict | None = None) -> Result:
    """Evaluate the query text with Oxigraph's engine; an rdflib Result with rdflib terms.

    ``parsed`` is rdflib's parse of the same text: its dataset clause (which the server may have
    replaced with the protocol's default-graph-uri/named-graph-uri) decides the query's dataset.
    Pre-bound variables are substituted as RDF terms, never pasted into the text.
    """
    import pyoxigraph as ox

    if bindings and parsed is not None and parsed.algebra.name == "SelectQuery":
        projected = {str(v) for v in parsed.algebra.get("PV") or []}
        if not {str(k) for k in bindings} <= projected:
            # Oxigraph substitutes only projected variables (SPARQL SEP-0007); rdflib pre-binds any.
            return dataset.query(parsed, initBindings=bindings)
    store = dataset.store._inner
    options = {"prefixes": dict(prefixes or {})}
    default, named = _dataset_clause(parsed)
    if default is None and named is None:
        options["use_default_graph_as_union"] = True
    else:
        options["default_graph"] = _graph_names(default)
        options["named_graphs"] = _graph_names(named)
    if bindings:
        options["substitutions"] = {ox.Variable(str(k)): to_ox(v) for k, v in bindings.items()}
    kind = parsed.algebra.name if parsed is not None else ""

    def evaluate() -> Result:
        return _as_result(store.query(text, **options), kind)

    try:
        return _in_a_new_thread(evaluate) if _draws_random(text) else evaluate()
    except (SyntaxError, RuntimeError) as exc:
        # A text rdflib parsed but Oxigraph refuses (a variable it cannot substitute, SEP-0007; a
        # function it does not know, which SPARQL makes an expression error, not a failed query)
        # is rdflib's to run, over the same store.
        if parsed is None:
            raise
        if isinstance(exc, RuntimeError) and not _KNOWN_REFUSAL.search(str(exc)) and first_in_a_while(str(exc)):
            # Oxigraph failed on a query it accepted: rdflib still answers (more slowly, within the
            # same time limit), and the operator learns that Oxigraph did not.
            log.warning("Oxigraph failed (%s); rdflib evaluates the query instead:\n%s", exc, excerpt(text))
        return dataset.query(parsed, initBindings=bindings or {})


def excerpt(text: str, most: int = 2000) -> str:
    """A query text for the log: whole up to ``most`` characters, else its start."""
    return text if len(text) <= most else text[:most] + " [...]"


_WARNED: dict[str, float] = {}
WARN_AGAIN_AFTER = 60.0  # seconds


def first_in_a_while(reason: str) -> bool:
    """True for the first of the same failures in WARN_AGAIN_AFTER seconds (in this process): a
    client repeating a query that trips Oxigraph must not fill the log."""
    now = time.monotonic()
    if now - _WARNED.get(reason, -WARN_AGAIN_AFTER) < WARN_AGAIN_AFTER:
        return False
    if len(_WARNED) > 1000:
        _WARNED.clear()
    _WARNED[reason] = now
    return True


def _graph_names(graphs) -> list:
    """The graphs as Oxigraph names, leaving out names Oxigraph cannot hold (``FROM <>``, a relative
    IRI): no store has such a graph, so it adds nothing to the dataset, as with rdflib."""
    names = []
    for graph in graphs or ():
        try:
            names.append(to_ox(graph))
        except ValueError:
            continue
    return names


# Oxigraph term -> rdflib term, kept between queries: look-ups answer with the same labels and IRIs
# again and again, and making rdflib Literals was a third of a look-up's time. Emptied when full.
_CONVERTED: dict = {}
_CONVERTED_MAX = 50_000


def _converter():
    """``to_rdflib`` converting each distinct term once: answers repeat labels and IRIs row after row
    (converting every cell was half the time of a large answer), and look-ups repeat them query after
    query, so terms are also kept for the process, up to _CONVERTED_MAX of them."""
    if len(_CONVERTED) >= _CONVERTED_MAX:
        _CONVERTED.clear()
    kept = _CONVERTED
    seen: dict = {}

    def convert(term):
        found = seen.get(term)
        if found is None:
            found = kept.get(term)
            if found is None:
                found = to_rdflib(term)
                if len(kept) < _CONVERTED_MAX:
                    kept[term] = found
            seen[term] = found
        return found

    return convert


def _as_result(answer, kind: str) -> Result:
    """Oxigraph's answer as an rdflib Result holding rdflib terms."""
    import pyoxigraph as ox

    if isinstance(answer, ox.QueryBoolean):
        result = Result("ASK")
        result.askAnswer = bool(answer)
    elif isinstance(answer, ox.QuerySolutions):
        result = Result("SELECT")
        names = [v.value for v in answer.variables]
        result.vars = [Variable(n) for n in names]
        variables = result.vars
        convert = _converter()
        result.bindings = [{var: convert(value) for var, value in zip(variables, row) if value is not None}
                           for row in answer]
        result.kkg_materialised = True  # a list of dicts in the order of ``vars``, unbound left out
    else:
        result = Result("DESCRIBE" if kind == "DescribeQuery" else "CONSTRUCT")
        graph = Graph()
        from .iris import bind_prefixes

        bind_prefixes(graph)
        convert = _converter()
        graph.addN((convert(t.subject), convert(t.predicate), convert(t.object), graph) for t in answer)
        result.graph = graph
    return result
