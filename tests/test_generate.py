"""The synthetic data generator: deterministic, about N triples, realistic, valid under the shapes."""

from __future__ import annotations

from collections import Counter

import pytest
from click.testing import CliRunner
from karabakh_kg.graph.core.iris import ID, KKG
from karabakh_kg.graph.pipeline import build as build_mod
from karabakh_kg.graph.pipeline.generate import generate
from karabakh_kg.server.cli import main
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

CONCEPT = ID + "concept/"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A 6,000-triple generated graph (N-Triples) and its parsed form."""
    path = tmp_path_factory.mktemp("gen") / "graph.nt"
    count = generate(path, 6000, seed=11)
    return path, count, Graph().parse(path, format="nt")


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    generate(tmp_path / "a.nt", 3000, seed=5)
    generate(tmp_path / "b.nt", 3000, seed=5)
    generate(tmp_path / "c.nt", 3000, seed=6)
    assert (tmp_path / "a.nt").read_bytes() == (tmp_path / "b.nt").read_bytes()
    assert (tmp_path / "a.nt").read_bytes() != (tmp_path / "c.nt").read_bytes()


@pytest.mark.parametrize("wanted", [5000, 12000, 40000])
def test_about_the_requested_number_of_triples(tmp_path, wanted):
    count = generate(tmp_path / "g.nt", wanted, seed=1)
    assert abs(count - wanted) <= wanted * 0.05
    assert len(Graph().parse(tmp_path / "g.nt", format="nt")) == count


def test_turtle_and_ntriples_hold_the_same_triples(tmp_path):
    generate(tmp_path / "g.ttl", 3000, seed=2)
    generate(tmp_path / "g.nt", 3000, seed=2)
    turtle = Graph().parse(tmp_path / "g.ttl", format="turtle")
    assert set(turtle) == set(Graph().parse(tmp_path / "g.nt", format="nt"))
    # our Turtle style: every subject written once, at column 0 (the build locates nodes this way)
    text = (tmp_path / "g.ttl").read_text()
    assert sum(1 for line in text.splitlines() if line.startswith(("actor:", "claim:", "event:"))) > 50


def test_every_generated_node_is_under_a_gen_slug(generated):
    _, _, graph = generated
    subjects = {s for s in graph.subjects() if isinstance(s, URIRef)}
    assert subjects and all(str(s).startswith(str(ID)) and "/gen-" in str(s) for s in subjects)


def test_uses_the_ontology_classes_and_rival_figures(generated):
    _, _, graph = generated
    types = Counter(graph.objects(None, RDF.type))
    for cls in ("War", "Conflict", "Offensive", "Battle", "Ceasefire", "Agreement", "LegalCase", "State",
                "SelfDeclaredState", "ActorGroup", "ArmedGroup", "Organisation", "Place",
                "CasualtyClaim", "QuantityClaim", "ParticipationClaim", "StatementClaim",
                "EncyclopediaArticle", "Encyclopedia"):
        assert types[KKG[cls]] >= 1, cls
    assert types[KKG.War] >= 2 and types[KKG.CasualtyClaim] > 100
    approximations = Counter(graph.objects(None, KKG.approximation))
    for style in ("exact", "approximately", "at-least"):
        assert approximations[URIRef(CONCEPT + f"approximation-{style}")] > 10, style
    statuses = set(graph.objects(None, KKG.epistemicStatus))
    assert {URIRef(CONCEPT + "status-stated"), URIRef(CONCEPT + "status-alleged"),
            URIRef(CONCEPT + "status-according-to")} <= statuses
    # several claimants give figures for the same war, category and people
    rivals = Counter()
    for claim in graph.subjects(RDF.type, KKG.CasualtyClaim):
        key = (graph.value(claim, KKG.about), graph.value(claim, KKG.category),
               graph.value(claim, KKG.appliesTo), graph.value(claim, KKG.personGroup))
        rivals[key] += 1
    assert max(rivals.values()) >= 3
    claimants = {graph.value(c, KKG.claimant) for c in graph.subjects(RDF.type, KKG.CasualtyClaim)}
    assert len(claimants) >= 3


def test_lower_bounds_have_no_value_and_exact_figures_no_minimum(generated):
    _, _, graph = generated
    for claim in graph.subjects(KKG.approximation, URIRef(CONCEPT + "approximation-at-least")):
        assert graph.value(claim, KKG.value) is None and graph.value(claim, KKG.minValue) is not None
    for claim in graph.subjects(KKG.approximation, URIRef(CONCEPT + "approximation-exact")):
        assert graph.value(claim, KKG.value) is not None


def test_builds_and_validates_through_the_pipeline(generated, tmp_path):
    path, count, _ = generated
    result = build_mod.build(tmp_path / "build", build_mod.Inputs.with_facts([str(path)]))
    assert result.manifest["graphs"][str(build_mod.named_graph("facts"))] == count
    assert result.manifest["counts"]["claims"] > 100


def test_generate_command(tmp_path):
    runner = CliRunner()
    out = tmp_path / "cli.ttl"
    result = runner.invoke(main, ["generate", "--triples", "2500", "-o", str(out), "--seed", "4"])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and out.is_file()
    bad = runner.invoke(main, ["generate", "--triples", "100", "-o", str(tmp_path / "x.json")])
    assert bad.exit_code == 1 and ".nt" in bad.output
    assert not (tmp_path / "x.json").exists()
