"""The fast reasoner gives exactly owlrl's inferred graph (differential tests).

owlrl is the reference: on the seed, on generated data, on random schemas inside the compiled
fragment, and on inputs outside it (where the fast reasoner must hand over to owlrl), both must
produce the same inferred triples, or the same error.
"""

from __future__ import annotations

import random

import pytest
from karabakh_kg.graph.core.errors import KkgError
from karabakh_kg.graph.core.iris import named_graph
from karabakh_kg.graph.pipeline import build as build_mod
from karabakh_kg.graph.pipeline import fastreason, reason, sources
from karabakh_kg.graph.pipeline.generate import generate
from rdflib import BNode, Graph, Literal, Namespace
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, XSD

EX = Namespace("https://example.org/test#")


def _inferred(inputs: build_mod.Inputs, reasoner: str) -> set:
    dataset, _ = build_mod.assemble(inputs, reasoner)
    return set(dataset.graph(named_graph("inferred")))


def _assert_same(fast: set, owlrl: set) -> None:
    missing, extra = owlrl - fast, fast - owlrl
    assert not missing and not extra, (
        f"{len(missing)} owlrl triples missing, e.g. {sorted(missing)[:3]}; "
        f"{len(extra)} extra, e.g. {sorted(extra)[:3]}")


def _closures(graph: Graph):
    """(fast result, owlrl result), each a set of triples or the KkgError code raised."""
    out = []
    for run in (lambda: fastreason.fast_closure(set(graph), reason.owlrl_closure),
                lambda: set(reason.owlrl_closure(graph))):
        try:
            out.append(run())
        except KkgError as exc:
            out.append(exc.code)
    return out


def test_seed_inferences_identical_to_owlrl():
    inputs = build_mod.Inputs.shipped()
    fast = _inferred(inputs, "fast")
    assert len(fast) > 500  # types, super-properties, closed schema
    _assert_same(fast, _inferred(inputs, "owlrl"))


def test_seed_is_inside_the_compiled_fragment():
    """The shipped ontology and facts never need the owlrl fallback."""
    inputs = build_mod.Inputs.shipped()
    dataset, _ = build_mod.assemble(inputs, "fast")
    triples = {t for name in build_mod.ASSERTED for t in dataset.graph(named_graph(name))}
    assert fastreason.is_supported(triples)


@pytest.mark.parametrize("suffix", ["nt", "ttl"])
def test_generated_inferences_identical_to_owlrl(tmp_path, suffix):
    path = tmp_path / f"generated.{suffix}"
    generate(path, 8000 if suffix == "nt" else 3000, seed=7)
    inputs = build_mod.Inputs.with_facts([str(path)])
    fast = _inferred(inputs, "fast")
    assert len(fast) > 1000
    _assert_same(fast, _inferred(inputs, "owlrl"))


def _random_case(rng: random.Random) -> Graph:
    """A small random schema inside the compiled fragment and random data using it."""
    g = Graph()
    classes = [EX[f"C{i}"] for i in range(6)]
    props = [EX[f"p{i}"] for i in range(6)]
    nodes = [EX[f"x{i}"] for i in range(8)]
    literals = [Literal(5), Literal("text"), Literal("2020-01-02", datatype=XSD.date), Literal("hi", lang="en")]
    for c in classes:
        if rng.random() < 0.7:
            g.add((c, RDF.type, OWL.Class))
    for p in props:
        g.add((p, RDF.type, rng.choice([OWL.ObjectProperty, OWL.DatatypeProperty, RDF.Property,
                                        OWL.AnnotationProperty])))
    for _ in range(rng.randint(2, 8)):
        g.add((rng.choice(classes), RDFS.subClassOf, rng.choice(classes + [OWL.Thing])))
    for _ in range(rng.randint(0, 2)):
        g.add((rng.choice(classes), OWL.equivalentClass, rng.choice(classes)))
    for _ in range(rng.randint(1, 6)):
        g.add((rng.choice(props), RDFS.subPropertyOf, rng.choice(props + [RDFS.label])))
    for _ in range(rng.randint(0, 2)):
        g.add((rng.choice(props), OWL.equivalentProperty, rng.choice(props)))
    for _ in range(rng.randint(1, 4)):
        g.add((rng.choice(props), RDFS.domain, rng.choice(classes)))
    for _ in range(rng.randint(1, 4)):
        g.add((rng.choice(props), RDFS.range, rng.choice(classes + [XSD.string, XSD.integer])))
    if rng.random() < 0.5:
        g.add((rng.choice(props), OWL.inverseOf, rng.choice(props)))
    if rng.random() < 0.4:
        g.add((rng.choice(props), RDF.type, OWL.SymmetricProperty))
    if rng.random() < 0.4:
        g.add((rng.choice(props), RDF.type, OWL.TransitiveProperty))
    if rng.random() < 0.5:
        head = BNode()
        Collection(g, head, rng.sample(classes, 2))
        g.add((rng.choice(classes), OWL.unionOf, head))
    for _ in range(rng.randint(5, 25)):
        obj = rng.choice(nodes + literals) if rng.random() < 0.8 else rng.choice(literals)
        g.add((rng.choice(nodes), rng.choice(props), obj))
    for _ in range(rng.randint(1, 6)):
        g.add((rng.choice(nodes), RDF.type, rng.choice(classes)))
    return g


@pytest.mark.parametrize("seed", range(60))
def test_random_schemas_identical_to_owlrl(seed):
    graph = _random_case(random.Random(seed))
    fast, owlrl = _closures(graph)
    if isinstance(owlrl, set) and isinstance(fast, set):
        _assert_same(fast, owlrl)
    else:
        assert fast == owlrl


@pytest.mark.parametrize("case", [
    "sameas", "functional", "restriction", "disjoint", "ill-typed", "string-range-on-integer",
])
def test_outside_the_fragment_fast_equals_owlrl(case):
    """OWL the fast path does not compile, and inconsistent literals: owlrl's answer or owlrl's error."""
    g = Graph()
    g.add((EX.a, EX.p, EX.b))
    g.add((EX.p, RDFS.domain, EX.C))
    if case == "sameas":
        g.add((EX.a, OWL.sameAs, EX.c))
    elif case == "functional":
        g.add((EX.p, RDF.type, OWL.FunctionalProperty))
        g.add((EX.a, EX.p, Literal(1)))
        g.add((EX.a, EX.p, Literal(2)))
    elif case == "restriction":
        r = BNode()
        g.add((r, RDF.type, OWL.Restriction))
        g.add((r, OWL.onProperty, EX.p))
        g.add((r, OWL.someValuesFrom, OWL.Thing))
    elif case == "disjoint":
        g.add((EX.C, OWL.disjointWith, EX.D))
        g.add((EX.a, RDF.type, EX.D))
    elif case == "ill-typed":
        g.add((EX.a, EX.q, Literal("abc", datatype=XSD.integer)))
    elif case == "string-range-on-integer":
        g.add((EX.q, RDFS.range, XSD.string))
        g.add((EX.a, EX.q, Literal(3)))
        g.add((EX.b, EX.r, Literal("x", datatype=XSD.string)))  # owlrl only checks datatypes in use
    assert not fastreason.is_supported(g) or case in ("ill-typed", "string-range-on-integer")
    fast, owlrl = _closures(g)
    if isinstance(owlrl, set):
        _assert_same(fast, owlrl)
    else:
        assert fast == owlrl
    if case in ("functional", "ill-typed", "string-range-on-integer", "disjoint"):
        assert isinstance(owlrl, str), "owlrl is expected to reject this input"


def test_check_examples_give_the_same_result_with_both_reasoners():
    """Each broken example of the checks (functional property, sameAs...) closes the same way."""
    for example in sources.check_example_files():
        inputs = build_mod.Inputs(sources.ontology_files(), [example], [])
        results = []
        for reasoner in ("fast", "owlrl"):
            try:
                results.append(_inferred(inputs, reasoner))
            except KkgError as exc:
                results.append(exc.code)
        assert results[0] == results[1], example.name


def test_unknown_reasoner_is_refused():
    with pytest.raises(KkgError) as err:
        build_mod.assemble(build_mod.Inputs.shipped(), "hermit")
    assert err.value.code == "bad-setting"
    assert "fast" in str(err.value) and "owlrl" in str(err.value)
