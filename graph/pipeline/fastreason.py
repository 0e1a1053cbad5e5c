"""A fast reasoner that yields exactly owlrl's OWL 2 RL closure for ontologies like ours.

owlrl applies every OWL 2 RL rule to every triple, cycle after cycle, until nothing changes: about
1 ms per input triple and worse than linear. Our ontology only uses a small part of OWL: class and
property hierarchies, domains, ranges, equivalences, an inverse and a datatype union. For that part
the closure can be computed in two steps:

1. **Compile the schema.** The schema triples (``rdfs:subClassOf``, ``rdfs:domain``, ...; a thousand
   or so) are closed with owlrl's own ``scm-*`` rules, reproduced here with owlrl's exact side
   conditions. From the closed schema every class gets its set of superclasses and every property the
   set of properties it implies forwards (``p`` ⇒ super-properties) and backwards (inverse, symmetric).
2. **Apply it to the data in one pass.** Each data triple ``x p y`` yields ``x q y`` for each forward
   property ``q`` and ``y q x`` for each backward one; each node's types are its asserted types plus
   the domains and ranges of those properties, closed under the superclasses. Transitive properties
   are closed by a small fixpoint.

The result is compared with owlrl's by the differential tests (tests/test_reasoners.py) on the seed,
on generated data and on random schemas. When the input uses any OWL construct this module does not
compile (``owl:sameAs``, functional properties, restrictions, disjointness, property chains, keys,
explicit datatype typing, ...), or when owlrl would report an inconsistency, the whole closure is
handed to owlrl instead, so the answer (and the error) is always owlrl's.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from typing import Iterable

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD

from .trivial import is_trivial

Triple = tuple

# Predicates owlrl's OWL 2 RL rules match on or read (besides rdf:type), from owlrl/OWLRL.py.
_SUPPORTED_SCHEMA = frozenset({
    RDFS.subClassOf, OWL.equivalentClass, RDFS.subPropertyOf, OWL.equivalentProperty,
    RDFS.domain, RDFS.range, OWL.inverseOf, OWL.unionOf,
})
_UNSUPPORTED = frozenset({
    OWL.propertyChainAxiom, OWL.propertyDisjointWith, OWL.hasKey, OWL.sourceIndividual,
    OWL.assertionProperty, OWL.targetIndividual, OWL.targetValue, OWL.sameAs, OWL.differentFrom,
    OWL.members, OWL.distinctMembers, OWL.intersectionOf, OWL.complementOf, OWL.someValuesFrom,
    OWL.allValuesFrom, OWL.hasValue, OWL.onProperty, OWL.onClass, OWL.maxCardinality,
    OWL.maxQualifiedCardinality, OWL.oneOf, OWL.disjointWith,
})
_SPECIAL = _SUPPORTED_SCHEMA | _UNSUPPORTED | {RDF.type, RDF.first, RDF.rest}

# rdf:type objects that are declarations: compiled (they only feed the schema rules) or inert.
_PROPERTY_DECLARATIONS = frozenset({OWL.ObjectProperty, OWL.DatatypeProperty, RDF.Property})
_DECLARATIONS = _PROPERTY_DECLARATIONS | {
    OWL.Class, OWL.AnnotationProperty, RDFS.Datatype, OWL.Ontology, RDFS.Class, OWL.NamedIndividual,
    OWL.SymmetricProperty, OWL.TransitiveProperty, RDF.List,
}
_VOCABULARY = (str(RDF), str(RDFS), str(OWL), str(XSD))


class Unsupported(Exception):
    """The input uses OWL that this module does not compile; owlrl must do the closure."""


def _is_vocabulary(node) -> bool:
    return isinstance(node, URIRef) and str(node).startswith(_VOCABULARY)


def _datatype_tables():
    """owlrl's own datatype tables, so literal handling matches it exactly."""
    from owlrl.AxiomaticTriples import OWLRL_Datatypes_Disjointness
    from owlrl.DatatypeHandling import AltXSDToPYTHON
    from owlrl.XsdDatatypes import OWL_Datatype_Subsumptions, OWL_RL_Datatypes
    return (set(OWL_RL_Datatypes), OWL_Datatype_Subsumptions, AltXSDToPYTHON,
            [(left, right) for left, _, right in OWLRL_Datatypes_Disjointness])


class Schema:
    """The closed schema: owlrl's ``scm-*`` rules applied to the schema triples until nothing changes.

    ``triples`` holds the closed schema; ``superclasses``, ``forward``, ``backward``, ``domains`` and
    ``ranges`` are the compiled lookups the data pass uses.
    """

    def __init__(self, schema: set, declarations: dict, lists: Graph):
        self.triples = set(schema)
        self.declared = declarations
        # cls-thing, cls-nothing1: owlrl declares both classes before its cycles, so scm-cls applies.
        self.declared[OWL.Class] = set(declarations.get(OWL.Class, ())) | {OWL.Thing, OWL.Nothing}
        self._lists = lists
        self._close()
        self._compile()

    # -- step 1: owlrl's schema rules, with owlrl's side conditions (see owlrl/OWLRL.py) -------------
    def _close(self) -> None:
        t = self.triples
        for c in self.declared.get(OWL.Class, ()):   # scm-cls
            t.update({(c, RDFS.subClassOf, c), (c, OWL.equivalentClass, c),
                      (c, RDFS.subClassOf, OWL.Thing), (OWL.Nothing, RDFS.subClassOf, c)})
        for kind in _PROPERTY_DECLARATIONS:          # scm-op, scm-dp
            for p in self.declared.get(kind, ()):
                t.update({(p, RDFS.subPropertyOf, p), (p, OWL.equivalentProperty, p)})
        for c, _, head in [x for x in t if x[1] == OWL.unionOf]:   # scm-uni
            for member in self._lists.items(head):
                t.add((member, RDFS.subClassOf, c))
        while True:
            new = set()
            by = defaultdict(lambda: defaultdict(set))
            sub_of = defaultdict(lambda: defaultdict(set))
            for s, p, o in t:
                by[p][s].add(o)
                sub_of[p][o].add(s)
            sco, spo = by[RDFS.subClassOf], by[RDFS.subPropertyOf]
            for c1, supers in list(sco.items()):
                for c2 in supers:
                    if c1 != c2:                                      # scm-sco
                        new.update((c1, RDFS.subClassOf, c3) for c3 in sco.get(c2, ()) if c1 != c3)
                    if c1 in sco.get(c2, ()):                        # scm-eqc2
                        new.add((c1, OWL.equivalentClass, c2))
            for c1, others in list(by[OWL.equivalentClass].items()):  # scm-eqc1
                for c2 in others:
                    if c1 != c2:
                        new.update({(c1, RDFS.subClassOf, c2), (c2, RDFS.subClassOf, c1)})
            for p1, supers in list(spo.items()):
                for p2 in supers:
                    if p1 != p2:
                        new.update((p1, RDFS.subPropertyOf, p3) for p3 in spo.get(p2, ()) if p1 != p3)  # scm-spo
                        if p1 in spo.get(p2, ()):                    # scm-eqp2
                            new.add((p1, OWL.equivalentProperty, p2))
            for p1, others in list(by[OWL.equivalentProperty].items()):  # scm-eqp1
                for p2 in others:
                    if p1 != p2:
                        new.update({(p1, RDFS.subPropertyOf, p2), (p2, RDFS.subPropertyOf, p1)})
            for axiom in (RDFS.domain, RDFS.range):                  # scm-dom1/2, scm-rng1/2
                for prop, classes in list(by[axiom].items()):
                    for c1 in classes:
                        new.update((prop, axiom, c2) for c2 in sco.get(c1, ()) if c1 != c2)
                        new.update((p1, axiom, c1) for p1 in sub_of[RDFS.subPropertyOf].get(prop, ())
                                   if p1 != prop)
            new -= t
            if not new:
                return
            t.update(new)

    # -- step 2: lookups for the data pass -----------------------------------------------------------
    def _compile(self) -> None:
        by = defaultdict(lambda: defaultdict(set))
        for s, p, o in self.triples:
            by[p][s].add(o)
        self._sco = by[RDFS.subClassOf]
        self.domains = by[RDFS.domain]
        self.ranges = by[RDFS.range]
        spo, eqp = by[RDFS.subPropertyOf], by[OWL.equivalentProperty]
        inverse = defaultdict(set)
        for p1, p2s in by[OWL.inverseOf].items():
            for p2 in p2s:
                inverse[p1].add(p2)
                inverse[p2].add(p1)
        symmetric = self.declared.get(OWL.SymmetricProperty, set())
        self.transitive = set(self.declared.get(OWL.TransitiveProperty, ()))
        self._spo, self._eqp, self._inverse, self._symmetric = spo, eqp, inverse, symmetric
        self._superclasses: dict = {}
        self._implied: dict = {}
        self._typing: dict = {}

    def superclasses(self, c) -> frozenset:
        """``c`` and every class an instance of ``c`` also belongs to (cax-sco, cax-eqc, cls-uni)."""
        found = self._superclasses.get(c)
        if found is None:
            seen, todo = {c}, [c]
            while todo:
                for d in self._sco.get(todo.pop(), ()):
                    if d not in seen:
                        seen.add(d)
                        todo.append(d)
            found = self._superclasses[c] = frozenset(seen)
        return found

    def implied(self, p) -> tuple[frozenset, frozenset]:
        """The properties ``q`` with ``x p y`` ⇒ ``x q y`` (forward) and ⇒ ``y q x`` (backward).

        prp-spo1, prp-eqp1/2, prp-inv1/2 and prp-symp, closed under each other.
        """
        found = self._implied.get(p)
        if found is None:
            forward, backward = {p}, set()
            changed = True
            while changed:
                changed = False
                for same, other in ((forward, backward), (backward, forward)):
                    for q in list(same):
                        for r in self._spo.get(q, set()) | self._eqp.get(q, set()):
                            if r not in same:
                                same.add(r)
                                changed = True
                        for r in self._inverse.get(q, ()):
                            if r not in other:
                                other.add(r)
                                changed = True
                        if q in self._symmetric and q not in other:
                            other.add(q)
                            changed = True
            found = self._implied[p] = (frozenset(forward), frozenset(backward))
        return found

    def typing(self, p) -> tuple[frozenset, frozenset, tuple, tuple]:
        """For a triple ``x p y``: the types ``x`` and ``y`` get, and the implied forward/backward properties."""
        found = self._typing.get(p)
        if found is None:
            forward, backward = self.implied(p)
            subject, obj = set(), set()
            for q in forward:
                subject.update(self.domains.get(q, ()))
                obj.update(self.ranges.get(q, ()))
            for q in backward:
                obj.update(self.domains.get(q, ()))
                subject.update(self.ranges.get(q, ()))
            found = self._typing[p] = (frozenset(subject), frozenset(obj),
                                       tuple(q for q in forward if q != p), tuple(backward))
        return found


def _split(triples: set) -> tuple[set, dict, Graph]:
    """Separate the schema from the data; raise Unsupported for OWL this module does not compile."""
    schema, declarations = set(), defaultdict(set)
    lists = Graph()
    for triple in triples:
        s, p, o = triple
        if p == RDF.type:
            if o in _DECLARATIONS:
                declarations[o].add(s)
            elif _is_vocabulary(o) and o != OWL.Thing:
                raise Unsupported(f"rdf:type {o}")
        elif p in _SPECIAL:
            if p in _UNSUPPORTED:
                raise Unsupported(str(p))
            if p in (RDF.first, RDF.rest):
                lists.add(triple)
            else:
                schema.add(triple)
        if isinstance(p, BNode):
            raise Unsupported("blank node predicate")
    _check_schema(schema, declarations, lists)
    return schema, declarations, lists


def _check_schema(schema: set, declarations: dict, lists: Graph) -> None:
    """Refuse schemas whose consequences would reach OWL's own vocabulary (schema made from data)."""
    datatypes = _datatype_tables()[0] | {XSD.gYear, XSD.gYearMonth, XSD.gMonthDay, XSD.gDay, XSD.gMonth,
                                         RDFS.Literal}
    for s, p, o in schema:
        if p in (RDFS.subPropertyOf, OWL.equivalentProperty, OWL.inverseOf):
            if s in _SPECIAL or o in _SPECIAL or isinstance(s, BNode) or isinstance(o, BNode):
                raise Unsupported(f"{p} on {s} / {o}")
        elif p in (RDFS.domain, RDFS.range):
            if s in _SPECIAL or isinstance(s, BNode):
                raise Unsupported(f"{p} of {s}")
            if _is_vocabulary(o) and o != OWL.Thing and not (p == RDFS.range and o in datatypes):
                raise Unsupported(f"{p} {o}")
        elif p in (RDFS.subClassOf, OWL.equivalentClass):
            for node in (s, o):
                if _is_vocabulary(node) and node != OWL.Thing:
                    raise Unsupported(f"{p} with {node}")
        elif p == OWL.unionOf:
            members = list(lists.items(o))
            if _is_vocabulary(s) or any(_is_vocabulary(m) and m not in datatypes for m in members):
                raise Unsupported(f"owl:unionOf on {s}")
    for kind in (OWL.SymmetricProperty, OWL.TransitiveProperty):
        if any(p in _SPECIAL or isinstance(p, BNode) for p in declarations.get(kind, ())):
            raise Unsupported(f"{kind} on OWL vocabulary")


def _closure(triples: set) -> set:
    """Every triple owlrl would derive (before filtering), or Unsupported / ValueError for owlrl."""
    schema_triples, declarations, lists = _split(triples)
    schema = Schema(schema_triples, declarations, lists)
    derived = set(schema.triples)
    derived.update({(OWL.Thing, RDF.type, OWL.Class), (OWL.Nothing, RDF.type, OWL.Class)})

    # Property assertions: x p y gives x q y (forward) and y q x (backward).
    types = defaultdict(set)
    rdf_type = RDF.type  # namespace attribute look-ups cost more than the loop body
    for s, p, o in triples:
        if p == rdf_type:
            types[s].add(o)
            continue
        if p in _SPECIAL:
            continue
        subject_types, object_types, forward, backward = schema.typing(p)
        for q in forward:
            derived.add((s, q, o))
        for q in backward:
            derived.add((o, q, s))
        if subject_types:
            types[s].update(subject_types)
        if object_types:
            types[o].update(object_types)
    if schema.transitive:
        _close_transitive(triples, derived, schema, types)

    # Types: asserted and domain/range types, closed under the superclasses.
    closed_cache: dict = {}
    for node, direct in types.items():
        key = frozenset(direct)
        closed = closed_cache.get(key)
        if closed is None:
            closed = set()
            for c in key:
                closed |= schema.superclasses(c)
            closed = closed_cache[key] = frozenset(closed)
        for c in closed:
            derived.add((node, rdf_type, c))
    _check_datatypes(triples, types, schema)
    return derived


def _close_transitive(triples: set, derived: set, schema: Schema, types: dict) -> None:
    """prp-trp: close each transitive property's extension, and apply the schema to the new pairs."""
    while True:
        new = set()
        for t in schema.transitive:
            successors = defaultdict(set)
            for s, p, o in triples:
                if p == t:
                    successors[s].add(o)
            for s, p, o in derived:
                if p == t:
                    successors[s].add(o)
            for start in list(successors):
                seen, todo = set(), list(successors[start])
                while todo:
                    node = todo.pop()
                    if node in seen:
                        continue
                    seen.add(node)
                    todo.extend(successors.get(node, ()))
                for end in seen:
                    triple = (start, t, end)
                    if triple not in triples and triple not in derived:
                        new.add(triple)
        if not new:
            return
        for s, p, o in new:
            derived.add((s, p, o))
            subject_types, object_types, forward, backward = schema.typing(p)
            derived.update((s, q, o) for q in forward)
            derived.update((o, q, s) for q in backward)
            types[s].update(subject_types)
            types[o].update(object_types)


def _check_datatypes(triples: set, types: dict, schema: Schema) -> None:
    """Raise ValueError where owlrl would report an inconsistency from literals (dt-* rules, cax-dw)."""
    rl_datatypes, subsumptions, converters, disjoint = _datatype_tables()
    used = set()
    seen = set()
    for _, _, o in triples:
        if isinstance(o, Literal) and o.datatype in rl_datatypes and o not in seen:
            seen.add(o)
            used.add(o.datatype)
            used.update(subsumptions.get(o.datatype, ()))
            try:
                converters.get(o.datatype, lambda v: v)(str(o))
            except ValueError:
                raise ValueError(f"ill-typed literal {o.n3()}") from None
    pairs = [(a, b) for a, b in disjoint if a in used and b in used]
    if not pairs:
        return
    checked: dict = {}
    candidates = set(types) | seen
    for node in candidates:
        direct = set(types.get(node, ()))
        if isinstance(node, Literal) and node.datatype in rl_datatypes:
            direct.add(node.datatype)
            direct.update(subsumptions.get(node.datatype, ()))
        key = frozenset(direct)
        if key not in checked:
            closed = set()
            for c in key:
                closed |= schema.superclasses(c)
            checked[key] = any(a in closed and b in closed for a, b in pairs)
        if checked[key]:
            raise ValueError(f"{node.n3()} belongs to disjoint datatypes")


def is_supported(triples: Iterable[Triple]) -> bool:
    """True when the fast path applies to these triples (no OWL construct it does not compile)."""
    try:
        _split(set(triples))
    except Unsupported:
        return False
    return True


def fast_closure(triples: Iterable[Triple], fallback) -> set:
    """The new, non-trivial triples of the OWL 2 RL closure of ``triples``, exactly as owlrl gives them.

    ``fallback(graph)`` is called (with an rdflib Graph of the input) when the input is outside the
    compiled fragment or would be inconsistent for owlrl; it must return owlrl's filtered closure
    (or raise its error), so the result never depends on which path ran.
    """

    asserted = triples if isinstance(triples, set) else set(triples)
    enabled = gc.isenabled()
    gc.disable()  # millions of new tuples and sets, no cycles: full collections would dominate
    try:
        derived = _closure(asserted)
    except (Unsupported, ValueError):
        graph = Graph()
        graph.addN((s, p, o, graph) for s, p, o in asserted)
        return set(fallback(graph))
    finally:
        if enabled:
            gc.enable()
    return {t for t in derived if t not in asserted and not is_trivial(t)}
