"""Oxigraph's evaluation of a query text over the dataset it holds, answered as an rdflib Result.

The query's dataset (FROM, FROM NAMED or the protocol's graphs) and its pre-bound variables are
handed to Oxigraph as options, never pasted into the text. Refusals and failures are raised as
Oxigraph raises them (SyntaxError, RuntimeError): ``choice`` decides who answers then.
"""

from __future__ import annotations

import re

from rdflib import Graph, Variable
from rdflib.query import Result

from ..core import caching
from ..core.iris import bind_prefixes
from ..pipeline.datasets import to_ox, to_rdflib

# -- queries ------------------------------------------------------------------------------------

_RANDOM = re.compile(r"\b(RAND|UUID|STRUUID)\s*\(", re.IGNORECASE)
_draws_random = caching.finds(_RANDOM)
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
    Pre-bound variables are substituted as RDF terms, never pasted into the text. Oxigraph's
    refusals and failures are raised (SyntaxError, RuntimeError): ``choice`` decides who answers.
    """
    import pyoxigraph as ox

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

    return _in_a_new_thread(evaluate) if _draws_random(text) else evaluate()


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
# again and again, and making rdflib Literals was a third of a look-up's time.
_CONVERTED = caching.lru(50_000)


def _converter():
    """``to_rdflib`` converting each distinct term once: answers repeat labels and IRIs row after row
    (converting every cell was half the time of a large answer), and look-ups repeat them query after
    query, so terms are also kept for the process (the least recently used 50,000)."""
    kept = _CONVERTED
    seen: dict = {}

    def convert(term):
        found = seen.get(term)
        if found is None:
            found = kept.get(term)
            if found is None:
                found = kept[term] = to_rdflib(term)
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
        bind_prefixes(graph)
        convert = _converter()
        graph.addN((convert(t.subject), convert(t.predicate), convert(t.object), graph) for t in answer)
        result.graph = graph
    return result
