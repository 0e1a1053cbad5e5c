"""Wikidata links and aligned properties: only verified IDs, every matching verified ID used, the
reasoner copies nothing onto Wikidata IRIs, and a client can ask with wdt: properties for the
undisputed facts (never for the contested ones)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from karabakh_kg.graph.core.iris import ID, KKG, WD, WDT, named_graph
from karabakh_kg.graph.pipeline import build as build_mod
from karabakh_kg.graph.wikidata import vocabulary as wikidata
from karabakh_kg.server.cli import main
from rdflib import Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS, XSD

PACKAGE_DATA = Path(wikidata.__file__).parents[1] / "data" / "wikidata"
WIKIDATA = "http://www.wikidata.org/"

PREFIXES = """
PREFIX kkg: <https://w3id.org/karabakh-kg/ontology#>
PREFIX actor: <https://w3id.org/karabakh-kg/id/actor/>
PREFIX event: <https://w3id.org/karabakh-kg/id/event/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX wd: <http://www.wikidata.org/entity/>
PREFIX wdt: <http://www.wikidata.org/prop/direct/>
"""


@pytest.fixture(scope="module")
def union(dataset):
    """The built dataset as one graph."""
    return build_mod.union_graph(dataset)


@pytest.mark.parametrize("name", ["verified-items.tsv", "verified-properties.tsv"])
def test_shipped_verified_lists_are_the_copies_their_readme_records(name):
    """The copies of the shared lists keep the SHA-256 their README records (nothing outside the
    clone is read: the digests were taken when the lists were copied)."""
    readme = (PACKAGE_DATA / "README.md").read_text(encoding="utf-8")
    recorded = re.search(rf"`{re.escape(name)}`: `([0-9a-f]{{64}})`", readme)
    assert recorded, f"README.md records no digest for {name}"
    assert hashlib.sha256((PACKAGE_DATA / name).read_bytes()).hexdigest() == recorded.group(1)


def test_every_verified_item_that_matches_an_entity_is_used(union):
    by_label = {}
    for entity in set(union.subjects(RDF.type, None)):
        if isinstance(entity, URIRef) and str(entity).startswith(str(ID)) and wikidata.kind_of(union, entity):
            for label in wikidata.english_labels(union, entity):
                by_label.setdefault(label.casefold(), set()).add(entity)
    unmatched = set()
    for qid, item in wikidata.verified_items().items():
        entities = by_label.get(item.label.casefold(), set())
        if not entities:
            unmatched.add(qid)
        for entity in entities:
            assert (entity, SKOS.exactMatch, WD[qid]) in union, f"{entity} matches {item.label!r} but is not linked to {qid}"
            assert wikidata.kind_of(union, entity) == item.kind
            assert str(union.value(entity, KKG.wikidataLinkConfidence)) == item.confidence
    # Stepanakert is verified but not in the seed (docs/data-model.md, links.ttl).
    assert unmatched == {"Q129352"}


def test_no_wikidata_iri_outside_the_verified_lists(dataset):
    allowed = wikidata.verified_ids()
    seen = set()
    for quad in dataset.quads((None, None, None, None)):
        for term in quad[:3]:
            if isinstance(term, URIRef) and str(term).startswith(WIKIDATA):
                local = str(term).rsplit("/", 1)[-1]
                seen.add(local)
                assert local in allowed, f"{term} is not in the verified lists"
    assert {"Q99659280", "Q227", "P580", "P710", "Q5727902", "Q32188232"} <= seen


def test_links_are_skos_exact_match_never_same_as(dataset):
    links = dataset.graph(named_graph("links"))
    assert not list(links.triples((None, OWL.sameAs, None)))
    assert len(set(links.subject_objects(SKOS.exactMatch))) == 15


def test_reasoner_adds_nothing_about_wikidata_iris_beyond_the_alignment(dataset):
    inferred = dataset.graph(named_graph("inferred"))
    ontology = dataset.graph(named_graph("ontology"))
    aligned = {o for o in ontology.objects(None, RDFS.subPropertyOf) if str(o).startswith(str(WDT))}
    about_properties = {RDF.type, RDFS.subPropertyOf, OWL.equivalentProperty}
    for s, p, o in inferred:
        if str(s).startswith(WIKIDATA):
            assert s in aligned and p in about_properties, f"the reasoner added ({s} {p} {o})"
    # and nothing is copied onto the linked items themselves
    for link in wikidata.links(build_mod.union_graph(dataset)):
        assert not list(inferred.triples((link.item, None, None)))


def _select(dataset, text: str) -> set:
    return {tuple(row) for row in dataset.query(PREFIXES + text)}


def test_wdt_start_and_end_time_of_the_war(dataset):
    rows = _select(dataset, "SELECT ?start ?end WHERE { ?war skos:exactMatch wd:Q99659280 ; "
                            "wdt:P580 ?start ; wdt:P582 ?end }")
    assert rows == {(Literal("2020-09-27", datatype=XSD.date), Literal("2020-11-10", datatype=XSD.date))}


def test_wdt_part_of_location_winner_significant_event(dataset):
    war = URIRef(f"{ID}event/second-nagorno-karabakh-war")
    assert _select(dataset, "SELECT ?c WHERE { ?war skos:exactMatch wd:Q99659280 ; wdt:P361 ?c }") == \
        {(URIRef(f"{ID}event/nagorno-karabakh-conflict"),)}
    places = _select(dataset, "SELECT ?item WHERE { ?war skos:exactMatch wd:Q99659280 ; wdt:P276 ?p . "
                              "?p skos:exactMatch ?item }")
    assert places == {(WD.Q44302,)}
    assert _select(dataset, "SELECT ?w WHERE { ?war skos:exactMatch wd:Q99659280 ; wdt:P1346 ?w }") == \
        {(URIRef(f"{ID}actor/azerbaijan"),)}
    assert (URIRef(f"{ID}event/capture-of-shusha"),) in \
        _select(dataset, "SELECT ?e WHERE { ?war skos:exactMatch wd:Q99659280 ; wdt:P793 ?e }")
    assert _select(dataset, "SELECT ?w WHERE { ?e skos:exactMatch wd:Q101305942 ; wdt:P361 ?w }") == {(war,)}


def test_wdt_participants_are_the_undisputed_ones_and_never_turkey(dataset):
    rows = _select(dataset, "SELECT ?item WHERE { ?war skos:exactMatch wd:Q99659280 ; wdt:P710 ?a . "
                            "?a skos:exactMatch ?item }")
    assert rows == {(WD.Q227,), (WD.Q399,), (WD.Q244165,)}
    assert not dataset.query(PREFIXES + "ASK { ?event wdt:P710 ?a . ?a skos:exactMatch wd:Q43 }").askAnswer
    assert not dataset.query(PREFIXES + "ASK { ?event wdt:P710 actor:turkey }").askAnswer
    # the alleged participation is still there, as a claim with its claimant
    assert dataset.query(PREFIXES + "ASK { ?c kkg:participant actor:turkey ; kkg:claimant actor:armenia }").askAnswer


def test_every_claim_category_and_aligned_property_names_a_verified_property(dataset):
    properties = wikidata.verified_properties()
    for concept, target in dataset.subject_objects(KKG.wikidataProperty):
        assert wikidata.wikidata_id(target) in properties, (concept, target)
    for prop, parent in dataset.subject_objects(RDFS.subPropertyOf):
        if str(parent).startswith(str(WDT)):
            assert str(parent)[len(str(WDT)):] in properties
            assert str(prop).startswith(str(KKG))


def test_qualifier_value_alignments(union):
    assert (URIRef(f"{ID}concept/approximation-approximately"), "Q5727902") in wikidata.alignments(union)
    assert (URIRef(f"{ID}concept/status-alleged"), "Q32188232") in wikidata.alignments(union)


def test_links_list_names_linked_and_unlinked_entities(built, build_dir):
    result = CliRunner().invoke(main, ["links", "list", "--build-dir", str(build_dir)])
    assert result.exit_code == 0, result.output
    assert "wd:Q99659280\tconfirmed\thttps://w3id.org/karabakh-kg/id/event/second-nagorno-karabakh-war" in result.output
    assert "wd:Q101305942\tlikely" in result.output
    unlinked = result.output.split("unlinked", 1)[1]
    for slug in ("actor/armenia-artsakh", "actor/sohr", "event/nagorno-karabakh-conflict", "place/shusha"):
        assert f"https://w3id.org/karabakh-kg/id/{slug}\t" in unlinked
    assert "Q129352" not in result.output
