"""Validation that scales: the same Violations as validate.py, from compiled shapes and Oxigraph.

validate.py runs pyshacl and the ``*-violation.rq`` checks with rdflib's SPARQL engine; on a
million triples that is many minutes. Here the shapes are evaluated by graph/pipeline/fastshacl.py (pyshacl's
results, computed once per node and shape) and the checks by Oxigraph over the same triples. The
Violations are built exactly as validate.py builds them, and tests/test_validators.py compares both
paths on the seed, on generated data and on broken variants of both.

The validator is a setting (``validator``: ``fast`` or ``pyshacl``). If the shapes use SHACL that
fastshacl does not compile, the fast path hands over to validate.py: validation is never skipped.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterable

from rdflib import Graph, URIRef
from rdflib.namespace import RDFS, SH

from ..core.iris import PREFIXES, bind_prefixes
from ..core.settings import ProcessChoice
from . import fastshacl, sources, validate

VALIDATORS = ("fast", "pyshacl")
_choice = ProcessChoice("validator", VALIDATORS)
use, check, current, reset = _choice.use, _choice.check, _choice.current, _choice.reset


def _namer() -> Graph:
    graph = Graph()
    bind_prefixes(graph)
    return graph


def shacl_violations(triples: Iterable, shapes: Graph, index: dict, data: fastshacl.Data | None = None
                     ) -> list[validate.Violation]:
    """The SHACL Violations of the data (as validate.shacl_violations gives them); Unsupported if the
    shapes need pyshacl."""
    compiled = fastshacl.CompiledShapes(shapes)
    data = data or fastshacl.Data(triples)
    names = _namer()
    out = []
    for r in compiled.validate(data):
        shape_name = shapes.value(r.shape, SH.name) or shapes.value(r.shape, RDFS.label)
        rule = validate._short(shapes, r.shape) if isinstance(r.shape, URIRef) else str(shape_name or "shape")
        if r.path is not None and isinstance(r.path, URIRef):
            rule = f"{rule} {validate._short(names, r.path)}"
        text = str(r.message) if r.message else "violates the shape"
        if r.value is not None and str(r.value) not in text:
            text = f"{text} (value: {r.value})"
        out.append(validate.Violation(validate._short(names, r.focus), rule, text, sources.locate(r.focus, index)))
    return sorted(out, key=lambda v: (str(v.where or ""), v.focus, v.rule, v.message))


def _store_of(triples: Iterable, nquads):
    """An Oxigraph store holding the triples, and whether queries must take its default graph as the
    union of its named graphs: it is read from the N-Quads file when given (the build has just written
    it, and parsing it is faster than converting rdflib terms)."""
    import pyoxigraph as ox

    from .datasets import to_ox

    store = ox.Store()
    if nquads is not None:
        store.bulk_load(path=str(nquads), format=ox.RdfFormat.N_QUADS)
        return store, True
    store.bulk_extend(ox.Quad(*(to_ox(t) for t in triple)) for triple in triples)
    return store, False


def check_violations(triples: Iterable, checks: list[validate.Check], index: dict,
                     nquads=None) -> list[validate.Violation]:
    """The rows of the violation checks, evaluated by Oxigraph (as validate.check_violations gives them);
    ``nquads``, when given, is an N-Quads file holding the same triples, none of them in two graphs
    (Oxigraph's union of the graphs would repeat it)."""
    from .datasets import to_rdflib

    store, union = _store_of(triples, nquads)
    names = _namer()
    prefixes = {prefix: str(ns) for prefix, ns in names.namespaces()}
    prefixes.update(PREFIXES)
    out = []
    for check in checks:
        solutions = store.query(check.query, prefixes=prefixes, use_default_graph_as_union=union)
        variables = [v.value for v in solutions.variables]
        for row in solutions:
            fields = {name: to_rdflib(value) for name, value in zip(variables, row) if value is not None}
            focus = fields.get("focus")
            message = fields.get("message") or check.title
            out.append(validate.Violation(validate._short(names, focus), f"check {check.name}", str(message),
                                          sources.locate(focus, index)))
    return out


def validate_triples(triples: list, index: dict | None = None, nquads=None) -> list[validate.Violation]:
    """All SHACL and check violations of a closed graph's triples; falls back to validate.py (pyshacl)
    when the shapes use SHACL the compiled validator does not evaluate. ``nquads`` may name an N-Quads
    file holding the same triples, none in two graphs, for speed."""
    index = {} if index is None else index
    shapes = validate.load_shapes()
    try:
        with no_gc():
            shacl = shacl_violations(triples, shapes, index)
    except fastshacl.Unsupported:
        graph = Graph()
        bind_prefixes(graph)
        graph.addN((s, p, o, graph) for s, p, o in triples)
        return validate.validate_graph(graph, index)
    with no_gc():
        return shacl + check_violations(triples, validate.load_checks(), index, nquads)


@contextmanager
def no_gc():
    """Pause Python's cyclic garbage collector while millions of index entries are made: they hold no
    cycles, and full collections over a heap of that size cost more than the work itself."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
