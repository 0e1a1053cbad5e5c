"""The fast validator reports exactly what pyshacl and rdflib's checks report (differential tests).

Compared: the Violation lists (node, rule, message, file and line, with multiplicity) on the seed,
on generated data, and on many broken variants of both made by deleting, duplicating and
corrupting triples; and the hand-over to pyshacl when the shapes use SHACL the compiler does not
evaluate.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest
from karabakh_kg.graph.core.errors import KkgError
from karabakh_kg.graph.core.iris import bind_prefixes
from karabakh_kg.graph.pipeline import build as build_mod
from karabakh_kg.graph.pipeline import fastshacl, fastvalidate, validate
from karabakh_kg.graph.pipeline.generate import generate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SH, XSD


def _reference(triples, index=None) -> Counter:
    graph = Graph()
    bind_prefixes(graph)
    graph.addN((s, p, o, graph) for s, p, o in triples)
    return Counter(map(str, validate.validate_graph(graph, index or {})))


def _fast(triples, index=None) -> Counter:
    return Counter(map(str, fastvalidate.validate_triples(list(triples), index or {})))


def _closed(inputs) -> list:
    dataset, _ = build_mod.assemble(inputs)
    return list({t for c in dataset.graphs() for t in c})


@pytest.fixture(scope="module")
def seed_triples():
    """The seed, reasoned: ontology, facts, links and inferences."""
    return _closed(build_mod.Inputs.shipped())


@pytest.fixture(scope="module")
def generated_triples(tmp_path_factory):
    """A generated graph of about 4,000 fact triples, reasoned."""
    path = tmp_path_factory.mktemp("gen") / "g.nt"
    generate(path, 4000, seed=9)
    return _closed(build_mod.Inputs.with_facts([str(path)]))


_ODD_VALUES = [Literal("x"), Literal("-3", datatype=XSD.integer), Literal("abc", datatype=XSD.integer),
               Literal("y", lang="fr"), Literal("2020-13-01", datatype=XSD.date), URIRef("urn:x"), Literal(""),
               Literal(5), Literal("1999", datatype=XSD.gYear), Literal("z", lang="en")]


def _mutate(triples: list, rng: random.Random) -> list:
    """A broken variant: some triples dropped, values swapped for other nodes or odd literals."""
    out = list(triples)
    objects = [t[2] for t in triples]
    subjects = list({t[0] for t in triples})
    predicates = list({t[1] for t in triples})
    for _ in range(rng.randint(1, 12)):
        roll = rng.random()
        if roll < 0.4:
            out.pop(rng.randrange(len(out)))
        elif roll < 0.7:
            s, p, _ = out[rng.randrange(len(out))]
            out.append((s, p, rng.choice(objects)))
        elif roll < 0.85:
            s, p, _ = out[rng.randrange(len(out))]
            out.append((s, p, rng.choice(_ODD_VALUES)))
        else:
            out.append((rng.choice(subjects), rng.choice(predicates), rng.choice(objects)))
    return list(set(out))


def test_seed_is_valid_for_both(seed_triples):
    assert _fast(seed_triples) == _reference(seed_triples) == Counter()


def test_generated_is_valid_for_both(generated_triples):
    assert _fast(generated_triples) == _reference(generated_triples) == Counter()


@pytest.mark.parametrize("seed", range(25))
def test_broken_seed_variants_same_violations(seed_triples, seed):
    variant = _mutate(seed_triples, random.Random(seed))
    assert _fast(variant) == _reference(variant)


@pytest.mark.parametrize("seed", range(4))
def test_broken_generated_variants_same_violations(generated_triples, seed):
    variant = _mutate(generated_triples, random.Random(100 + seed))
    assert _fast(variant) == _reference(variant)


def test_mutations_do_break_things(seed_triples):
    """The variants above are not all valid: most produce violations, several of them nested."""
    broken = [sum(_fast(_mutate(seed_triples, random.Random(seed))).values()) for seed in range(25)]
    assert sum(1 for n in broken if n) >= 15 and max(broken) >= 5


def test_unsupported_shapes_hand_over_to_pyshacl(seed_triples, monkeypatch):
    """A shape using a component the compiler does not know makes the fast path use pyshacl."""
    shapes = validate.load_shapes()
    shapes.add((URIRef("https://w3id.org/karabakh-kg/shapes#Claim-verbatim"), SH.pattern, Literal("^[0-9]")))
    with pytest.raises(fastshacl.Unsupported):
        fastshacl.CompiledShapes(shapes)
    monkeypatch.setattr(validate, "load_shapes", lambda: shapes)
    fast = _fast(seed_triples)
    assert fast == _reference(seed_triples) and fast  # the pattern fails on many claims


def test_build_reports_the_same_with_either_validator(tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text("""@prefix kkg: <https://w3id.org/karabakh-kg/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<https://w3id.org/karabakh-kg/id/claim/x> a kkg:CasualtyClaim ;
    rdfs:label "x"@en ;
    kkg:value -4 ;
    kkg:verbatim "x", "y" .
""")
    reports = {}
    for name in fastvalidate.VALIDATORS:
        fastvalidate.use(name)
        try:
            with pytest.raises(KkgError) as err:
                build_mod.build(tmp_path / name, build_mod.Inputs.with_facts([str(bad)]))
        finally:
            fastvalidate.reset()
        reports[name] = Counter(err.value.details)
    assert reports["fast"] == reports["pyshacl"]
    assert any("bad.ttl:3" in line for line in reports["fast"])


def test_unknown_validator_is_refused():
    with pytest.raises(KkgError) as err:
        fastvalidate.use("jena")
    assert err.value.code == "bad-setting"
