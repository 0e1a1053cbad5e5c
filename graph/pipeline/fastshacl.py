"""A compiled SHACL validator giving exactly pyshacl's results for our shapes, for large graphs.

pyshacl re-validates the nested node shapes (``sh:node``, ``sh:or``, ``sh:qualifiedValueShape``) for
every value node of every focus node: each of 60,000 claims re-checks that its status, rank and
section concepts are in their schemes. On a million triples that takes many minutes. The shapes only
use a few SHACL Core components, so here they are compiled once and evaluated over a plain index of
the data, with each nested shape's verdict on a node computed once and reused.

The results mirror pyshacl's report result by result (same focus node, source shape, path, message
and value, and the nested ``sh:detail`` results pyshacl adds for ``sh:node``), so
validate.py's Violations come out the same; tests/test_validators.py compares both on the seed, on
generated data and on many broken variants. A shapes graph using any other SHACL feature (other
components, complex paths, severities, SPARQL constraints...) raises :class:`Unsupported`, and the
build then validates with pyshacl: validation is never skipped.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Iterable

from pyshacl.rdfutil import compare_literal
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH, XSD

# Parameters this module evaluates (anything else in a shape: Unsupported).
_COMPONENTS = {SH["class"], SH.datatype, SH.nodeKind, SH.minLength, SH.minInclusive, SH.languageIn,
               SH.uniqueLang, SH.hasValue, SH.minCount, SH.maxCount, SH["or"], SH.node,
               SH.qualifiedValueShape, SH.qualifiedMinCount, SH.qualifiedMaxCount, SH.lessThanOrEquals,
               SH.property}
_DESCRIPTIVE = {RDF.type, SH.name, SH.description, SH.message, SH.path, SH.targetClass,
                SH.targetSubjectsOf, RDFS.label, RDFS.comment, SH.order, SH.group}


# The same IRIs as plain module constants: rdflib's Namespace attribute lookup is slow in the hot loop.
_CLASS = SH["class"]
_DATATYPE = SH.datatype
_NODEKIND = SH.nodeKind
_IRI = SH.IRI
_MINLENGTH = SH.minLength
_MININCLUSIVE = SH.minInclusive
_LANGUAGEIN = SH.languageIn
_UNIQUELANG = SH.uniqueLang
_HASVALUE = SH.hasValue
_MINCOUNT = SH.minCount
_MAXCOUNT = SH.maxCount
_OR = SH["or"]
_NODE = SH.node
_QSHAPE = SH.qualifiedValueShape
_QMIN = SH.qualifiedMinCount
_QMAX = SH.qualifiedMaxCount
_LTE = SH.lessThanOrEquals
_TYPE = RDF.type
_SUBCLASS = RDFS.subClassOf
_LITERAL = RDFS.Literal
_DATATYPE_CLASS = RDFS.Datatype
_STRING = XSD.string
_LANGSTRING = RDF.langString


class Unsupported(Exception):
    """The shapes use SHACL this module does not compile; pyshacl must validate."""


@dataclass
class Result:
    """One validation result, as pyshacl reports it."""

    focus: object
    shape: object
    path: object
    message: object
    value: object = None


@dataclass
class Shape:
    """A compiled node or property shape."""

    node: object
    path: URIRef | None
    message: object
    params: dict = field(default_factory=dict)
    properties: list = field(default_factory=list)
    targets_class: list = field(default_factory=list)
    targets_subjects_of: list = field(default_factory=list)


class Data:
    """The data graph as plain indexes: objects by subject and predicate, subjects by type."""

    def __init__(self, triples: Iterable):
        self.out: dict = defaultdict(lambda: defaultdict(list))
        self.by_type: dict = defaultdict(set)
        self.by_predicate: dict = defaultdict(set)
        self.subclass_of: dict = defaultdict(set)
        self.superclass_of: dict = defaultdict(set)
        for s, p, o in triples:
            self.out[s][p].append(o)
            self.by_predicate[p].add(s)
            if p == _TYPE:
                self.by_type[o].add(s)
            elif p == _SUBCLASS:
                self.subclass_of[s].add(o)
                self.superclass_of[o].add(s)
        self._closure: dict = {}

    def objects(self, s, p) -> list:
        """The values of ``p`` on ``s`` (no duplicates: the data is a set of triples)."""
        found = self.out.get(s)
        return found.get(p, []) if found else []

    def superclasses(self, c) -> set:
        """``c`` and everything it is transitively rdfs:subClassOf (pyshacl's transitive_objects)."""
        found = self._closure.get(c)
        if found is None:
            found, todo = {c}, [c]
            while todo:
                for d in self.subclass_of.get(todo.pop(), ()):
                    if d not in found:
                        found.add(d)
                        todo.append(d)
            self._closure[c] = found
        return found

    def instances(self, c) -> set:
        """Instances of ``c`` or of its transitive subclasses (sh:targetClass)."""
        classes, todo = {c}, [c]
        while todo:
            for d in self.superclass_of.get(todo.pop(), ()):
                if d not in classes:
                    classes.add(d)
                    todo.append(d)
        out = set()
        for cls in classes:
            out |= self.by_type.get(cls, set())
        return out


def _list(graph: Graph, head) -> list:
    return list(graph.items(head))


class CompiledShapes:
    """The shapes graph, compiled; :meth:`validate` gives pyshacl's results for a data graph."""

    def __init__(self, shapes: Graph):
        self.graph = shapes
        self.shapes: dict = {}
        for node in set(shapes.subjects(RDF.type, SH.NodeShape)) | set(shapes.subjects(RDF.type, SH.PropertyShape)):
            self._compile(node)
        for node in set(shapes.subjects(SH.path, None)) | set(shapes.subjects(SH.targetClass, None)):
            self._compile(node)

    def _compile(self, node) -> Shape:
        if node in self.shapes:
            return self.shapes[node]
        g = self.graph
        for p in set(g.predicates(node)):
            if p not in _COMPONENTS and p not in _DESCRIPTIVE:
                raise Unsupported(f"{node}: {p}")
        path = g.value(node, SH.path)
        if path is not None and not isinstance(path, URIRef):
            raise Unsupported(f"{node}: complex sh:path")
        messages = list(g.objects(node, SH.message))
        if len(messages) > 1:
            raise Unsupported(f"{node}: several sh:message")
        shape = Shape(node, path, messages[0] if messages else None)
        self.shapes[node] = shape
        for p in _COMPONENTS - {SH.property}:
            values = list(g.objects(node, p))
            if len(values) > 1 and p not in (SH["class"], SH.node, SH.lessThanOrEquals):
                raise Unsupported(f"{node}: several {p}")
            if values:
                shape.params[p] = values
        if SH["or"] in shape.params:
            shape.params[SH["or"]] = [_list(g, shape.params[SH["or"]][0])]
        if SH.languageIn in shape.params:
            shape.params[SH.languageIn] = {str(x).lower() for x in _list(g, shape.params[SH.languageIn][0])}
        if (SH.qualifiedMinCount in shape.params or SH.qualifiedMaxCount in shape.params) and \
                SH.qualifiedValueShape not in shape.params:
            raise Unsupported(f"{node}: qualified count without shape")
        if shape.message is None and any(p for p in shape.params):
            raise Unsupported(f"{node}: no sh:message (pyshacl's generic messages are not reproduced)")
        shape.properties = [self._compile(p) for p in g.objects(node, SH.property)]
        for p in shape.params.get(SH.node, []) + shape.params.get(SH.qualifiedValueShape, []):
            self._compile(p)
        for members in shape.params.get(SH["or"], []):
            for p in members:
                self._compile(p)
        shape.targets_class = list(g.objects(node, SH.targetClass))
        shape.targets_subjects_of = list(g.objects(node, SH.targetSubjectsOf))
        return shape

    # -- evaluation ------------------------------------------------------------------------------
    def validate(self, data: Data) -> list[Result]:
        """Every result pyshacl would report for ``data``."""
        self._memo: dict = {}
        results = []
        for shape in sorted(self.shapes.values(), key=lambda s: str(s.node)):
            focus = set()
            for c in shape.targets_class:
                focus |= data.instances(c)
            for p in shape.targets_subjects_of:
                focus |= data.by_predicate.get(p, set())
            for f in focus:
                results.extend(self._run(shape, f, data)[1])
        return results

    def _run(self, shape: Shape, focus, data: Data) -> tuple[bool, list]:
        """(conforms, results) of ``shape`` on one focus node. Node shapes are memoised (they are the
        nested ones, met again for every claim pointing at the same concept; a verdict never depends
        on where the shape is used); property shapes are evaluated once per focus anyway."""
        if shape.path is not None:
            return self._evaluate(shape, focus, data)
        key = (shape.node, focus)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self._evaluate(shape, focus, data)
        return found

    def _evaluate(self, shape: Shape, f, data: Data) -> tuple[bool, list]:
        values = data.objects(f, shape.path) if shape.path is not None else [f]
        results: list = []
        ok = True

        def fail(value=None):
            """Record one result of this shape on ``f`` (with the value node, when there is one)."""
            nonlocal ok
            ok = False
            results.append(Result(f, shape.node, shape.path, shape.message, value))

        params = shape.params
        if not params:
            for prop in shape.properties:
                conforms, nested = self._run(prop, f, data)
                ok = ok and conforms
                results.extend(nested)
            return ok, results
        for c in params.get(_CLASS, []):
            for v in values:
                if isinstance(v, Literal) or not any(c in data.superclasses(t) for t in data.objects(v, _TYPE)):
                    fail(v)
        if _DATATYPE in params:
            rule = params[_DATATYPE][0]
            for v in values:
                if not _datatype_matches(v, rule):
                    fail(v)
        if _NODEKIND in params:
            if params[_NODEKIND][0] != _IRI:
                raise Unsupported("sh:nodeKind other than sh:IRI")
            for v in values:
                if not isinstance(v, URIRef):
                    fail(v)
        if _MINLENGTH in params:
            minimum = params[_MINLENGTH][0].value
            for v in values:
                if minimum != 0 and (isinstance(v, BNode) or len(_string(v)) < minimum):
                    fail(v)
        if _MININCLUSIVE in params:
            bound = params[_MININCLUSIVE][0]
            for v in values:
                if not _at_least(v, bound):
                    fail(v)
        if _LANGUAGEIN in params:
            wanted = params[_LANGUAGEIN]
            for v in values:
                lang = v.language if isinstance(v, Literal) else None
                if not (lang and ("*" in wanted or lang.lower() in wanted
                                  or lang.split("-")[0].lower() in wanted)):
                    fail(v)
        if _UNIQUELANG in params and params[_UNIQUELANG][0].value is True:
            seen, duplicates = set(), set()
            for v in values:
                if isinstance(v, Literal) and v.language:
                    low = v.language.lower()
                    (duplicates if low in seen else seen).add(low)
            for _ in duplicates:
                fail()
        if _HASVALUE in params:
            if params[_HASVALUE][0] not in values:
                fail()
        if _MINCOUNT in params and len(values) < params[_MINCOUNT][0].value:
            fail()
        if _MAXCOUNT in params and len(values) > params[_MAXCOUNT][0].value:
            fail()
        for members in params.get(_OR, []):
            for v in values:
                if not any(self._run(self.shapes[m], v, data)[0] for m in members):
                    fail(v)
        for node in params.get(_NODE, []):
            for v in values:
                conforms, nested = self._run(self.shapes[node], v, data)
                if not conforms or nested:
                    fail(v)
                    results.extend(nested)   # pyshacl puts them in the report as sh:detail results
        if _QSHAPE in params:
            qshape = self.shapes[params[_QSHAPE][0]]
            low = params.get(_QMIN, [None])[0]
            if values or (low is not None and low.value >= 1):
                count = sum(1 for v in values if self._run(qshape, v, data)[0])
                high = params.get(_QMAX, [None])[0]
                if high is not None and count > high.value:
                    fail()
                if low is not None and count < low.value:
                    fail()
        for other in params.get(_LTE, []):
            compare = data.objects(f, other)
            for v in values:
                for w in compare:
                    if not _less_or_equal(v, w):
                        fail(v)
        for prop in shape.properties:
            conforms, nested = self._run(prop, f, data)
            ok = ok and conforms
            results.extend(nested)
        return ok, results


def _string(v) -> str:
    if isinstance(v, Literal) and v.value is not None and v.datatype in (None, _LANGSTRING, _STRING):
        return str(v.value)
    return str(v)


_PYTHON_TYPES = {XSD.string: (str, bytes), RDF.langString: (str, bytes), XSD.integer: int, XSD.float: float,
                 XSD.decimal: Decimal, XSD.boolean: bool, XSD.date: date, XSD.time: time,
                 XSD.dateTime: datetime}


def _actual(v: Literal, rule) -> bool:
    expected = _PYTHON_TYPES.get(rule)
    return True if expected is None else isinstance(v.value, expected)


def _datatype_matches(v, rule) -> bool:
    """pyshacl's sh:datatype test (same special cases: rdfs:Literal, plain strings, language strings)."""
    if not isinstance(v, Literal):
        return False
    if v.datatype == rule:
        return False if getattr(v, "ill_typed", None) is True else _actual(v, rule)
    if rule == _LITERAL:
        return True
    if rule == _DATATYPE_CLASS and v.datatype:
        return True
    if v.datatype is None and v.language is None and rule == _STRING:
        return _actual(v, rule)
    if rule == _LANGSTRING and v.language:
        return _actual(v, rule)
    return False


def _at_least(v, bound: Literal) -> bool:
    """pyshacl's sh:minInclusive test."""
    if not isinstance(v, Literal):
        return False
    if isinstance(bound.value, str) != isinstance(v.value, str):
        return False
    try:
        return compare_literal(v, bound) >= 0
    except (TypeError, NotImplementedError):
        return False


def _less_or_equal(v, w) -> bool:
    """pyshacl's sh:lessThanOrEquals test for one pair (strings only compare with strings)."""
    if isinstance(v, BNode) or isinstance(w, BNode):
        raise Unsupported("sh:lessThanOrEquals on a blank node")
    v_string = isinstance(v, URIRef) or (isinstance(v, Literal) and isinstance(v.value, str))
    w_string = isinstance(w, URIRef) or (isinstance(w, Literal) and isinstance(w.value, str))
    if v_string != w_string:
        return False
    if v_string:
        v = str(v) if isinstance(v, URIRef) else v.value
        w = str(w) if isinstance(w, URIRef) else w.value
    return bool(v <= w)
