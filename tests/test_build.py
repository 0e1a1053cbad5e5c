"""The build: reasoning leaves the asserted graphs alone, the data conforms, the summary is right."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from karabakh_kg.graph.core.errors import KkgError
from karabakh_kg.graph.core.iris import KKG, WD, named_graph
from karabakh_kg.graph.pipeline import build as build_mod
from karabakh_kg.graph.pipeline import reason, sources, validate
from owlrl.Namespaces import ERRNS
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, RDF

CLI = [sys.executable, "-m", "karabakh_kg.server.cli"]


def _parsed(files) -> Graph:
    graph = Graph()
    for f in files:
        sources.parse_into(graph, f)
    return graph


def test_asserted_graphs_are_exactly_the_source_files(dataset):
    assert isomorphic(dataset.graph(named_graph("ontology")), _parsed(sources.ontology_files()))
    assert isomorphic(dataset.graph(named_graph("facts")), _parsed(sources.fact_files()))
    assert isomorphic(dataset.graph(named_graph("links")), _parsed(sources.link_files()))


def test_inferred_graph_is_disjoint_from_the_asserted_graphs(dataset):
    inferred = set(dataset.graph(named_graph("inferred")))
    assert inferred, "the reasoner inferred nothing"
    for name in ("ontology", "facts", "links"):
        assert not inferred & set(dataset.graph(named_graph(name)))


def test_reasoning_types_claims_with_their_superclasses(dataset):
    inferred = dataset.graph(named_graph("inferred"))
    claims = set(dataset.graph(named_graph("facts")).subjects(RDF.type, None))
    assert any((c, RDF.type, KKG.Claim) in inferred for c in claims)


def test_no_sameas_between_distinct_nodes(dataset):
    for s, o in dataset.subject_objects(OWL.sameAs):
        assert s == o, f"{s} owl:sameAs {o}"


def test_no_inconsistency_is_inferred(dataset):
    assert not list(dataset.subjects(RDF.type, OWL.Nothing))
    assert not list(dataset.subjects(RDF.type, ERRNS.ErrorMessage))


def test_an_inconsistency_stops_reasoning_with_the_reasoners_message():
    graph = Graph().parse(data="""
        @prefix owl: <http://www.w3.org/2002/07/owl#> . @prefix ex: <http://e/> .
        ex:A owl:disjointWith ex:B . ex:x a ex:A , ex:B .""", format="turtle")
    with pytest.raises(KkgError) as info:
        reason.owlrl_closure(graph)
    assert info.value.code == "inconsistent"
    assert any("disjoint" in d.lower() for d in info.value.details)


def test_reasoner_says_nothing_about_wikidata_items(dataset):
    inferred = dataset.graph(named_graph("inferred"))
    about_items = [t for t in inferred if isinstance(t[0], URIRef) and str(t[0]).startswith(str(WD) + "Q")]
    assert about_items == []


def test_the_data_conforms_and_every_check_is_silent(dataset):
    assert build_mod.check(dataset, build_mod.Inputs.shipped()) == []


def test_every_check_fires_on_its_broken_example():
    checks = {c.name: c for c in validate.load_checks()}
    examples = {f.name.rsplit("/", 1)[-1].removesuffix(".ttl"): f for f in sources.check_example_files()}
    assert checks, "no violation checks shipped"
    assert set(examples) == set(checks), "each check needs exactly one broken example"
    for name, example in examples.items():
        inputs = build_mod.Inputs(sources.ontology_files(), [example], [])
        dataset, _ = build_mod.assemble(inputs)
        rows = validate.check_violations(build_mod.union_graph(dataset), [checks[name]], {})
        assert rows, f"check {name} did not fire on {example.name}"


def test_rival_figures_merged_by_a_functional_property_stop_the_reasoner():
    graph = Graph().parse(data="""
        @prefix owl: <http://www.w3.org/2002/07/owl#> . @prefix ex: <http://e/> .
        ex:killed a owl:DatatypeProperty, owl:FunctionalProperty . ex:war ex:killed 2906, 3825 .""",
                          format="turtle")
    with pytest.raises(KkgError) as info:
        reason.owlrl_closure(graph)
    assert info.value.code == "merged-values"
    assert any('"2906"' in d and '"3825"' in d for d in info.value.details)


def test_summary_counts_match_the_graph(built, dataset):
    counts = built.manifest["counts"]
    for label, cls in build_mod.CORE_CLASSES.items():
        assert counts[label] == len(set(dataset.subjects(RDF.type, cls)))
        assert counts[label] > 0
    assert sum(built.manifest["graphs"].values()) == built.manifest["triples"]


def test_build_command_prints_summary_and_writes_manifest(tmp_path):
    out = subprocess.run(CLI + ["build", "--build-dir", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert f"built {manifest['triples']} triples" in out.stdout
    for label, count in manifest["counts"].items():
        assert f"{count} {label}" in out.stdout
    assert (tmp_path / "dataset.nq").stat().st_size > 0


def test_load_reuses_a_fresh_build_and_rebuilds_a_stale_one(tmp_path):
    first = build_mod.build(tmp_path)
    again = build_mod.load(tmp_path)
    assert again.manifest["built_at"] == first.manifest["built_at"]
    assert isomorphic(again.dataset.graph(named_graph("facts")), first.dataset.graph(named_graph("facts")))
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["fingerprint"] = "stale"
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert not build_mod.is_fresh(tmp_path)
    rebuilt = build_mod.load(tmp_path)
    assert rebuilt.manifest["fingerprint"] != "stale"


def test_bad_turtle_stops_the_build_with_file_and_line(tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix ex: <http://e/> .\nex:a ex:b ex:c .\nex:a ex:b .\n")
    out = subprocess.run(CLI + ["build", "--build-dir", str(tmp_path / "b"), "--facts", str(bad)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert f"{bad}:3" in out.stderr
    assert not (tmp_path / "b" / "manifest.json").exists()


def test_shape_violation_names_node_rule_file_and_line(tmp_path):
    bad = tmp_path / "claim.ttl"
    bad.write_text(
        "@prefix kkg: <https://w3id.org/karabakh-kg/ontology#> .\n"
        "@prefix claim: <https://w3id.org/karabakh-kg/id/claim/> .\n"
        "\n"
        "claim:orphan a kkg:CasualtyClaim .\n"
    )
    out = subprocess.run(CLI + ["validate", str(bad)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert f"{bad}:4: claim:orphan" in out.stderr
    assert "claimant" in out.stderr
