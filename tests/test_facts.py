"""Every item of the seed checklist is in the graph with its exact value, qualifiers and claimant.

The expectations below are read from the seed text shipped in the package
(graph/data/sources/second-nagorno-karabakh-war.txt, the source document), not from our Turtle: a
figure mistyped in the data fails here.
"""

from __future__ import annotations

import pytest
from karabakh_kg.graph.core.iris import KKG, WDT, entity, named_graph
from karabakh_kg.graph.pipeline import sources
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD

ARTICLE = entity("source", "wikipedia-second-nagorno-karabakh-war")
WAR = entity("event", "second-nagorno-karabakh-war")


def A(slug):  # noqa: N802 - short names keep the table readable
    return entity("actor", slug)


def C(slug):  # noqa: N802
    return entity("concept", slug)


EXACT, APPROX, AT_LEAST = C("approximation-exact"), C("approximation-approximately"), C("approximation-at-least")
STATED, ALLEGED, ACCORDING = C("status-stated"), C("status-alleged"), C("status-according-to")

# (claim slug, category, group, parties, value, minimum, approximation, claimant, status, verbatim)
FIGURES = [
    ("azerbaijan-servicemen-killed-per-azerbaijan", "killed", "servicemen", {A("azerbaijan")}, 2906, None, EXACT,
     A("azerbaijan"), STATED, "2,906 servicemen killed"),
    ("azerbaijan-servicemen-missing-per-azerbaijan", "missing", "servicemen", {A("azerbaijan")}, 6, None, EXACT,
     A("azerbaijan"), STATED, "6 servicemen missing"),
    ("azerbaijan-servicemen-wounded-per-azerbaijan", "wounded", "servicemen", {A("azerbaijan")}, 11110, None, EXACT,
     A("azerbaijan"), STATED, "11,110 servicemen wounded"),
    ("azerbaijan-servicemen-captured-per-azerbaijan", "captured", "servicemen", {A("azerbaijan")}, 14, None, EXACT,
     A("azerbaijan"), STATED, "14 servicemen captured"),
    ("syrian-mercenaries-killed-per-sohr", "killed", "mercenaries", {A("syrian-mercenaries")}, 541, None, EXACT,
     A("sohr"), STATED, "541 Syrian mercenaries killed"),
    ("syrian-mercenaries-captured-per-sohr", "captured", "mercenaries", {A("syrian-mercenaries")}, None, 3, AT_LEAST,
     A("sohr"), STATED, "3+ Syrian mercenaries captured"),
    ("armenia-artsakh-servicemen-killed-per-armenia-artsakh", "killed", "servicemen", {A("armenia"), A("artsakh")},
     3825, None, EXACT, A("armenia-artsakh"), STATED, "3,825 servicemen killed"),
    ("armenia-artsakh-servicemen-missing-per-armenia-artsakh", "missing", "servicemen", {A("armenia"), A("artsakh")},
     187, None, EXACT, A("armenia-artsakh"), STATED, "187 servicemen missing"),
    ("armenia-artsakh-servicemen-wounded-and-sick-per-armenia-artsakh", "wounded-and-sick", "servicemen",
     {A("armenia"), A("artsakh")}, 11000, None, APPROX, A("armenia-artsakh"), STATED,
     "~11,000 servicemen wounded and sick"),
    ("armenia-artsakh-servicemen-captured-per-armenia-artsakh", "captured", "servicemen", {A("armenia"), A("artsakh")},
     None, 60, AT_LEAST, A("armenia-artsakh"), STATED, "60+ servicemen captured"),
    ("azerbaijani-civilians-killed", "killed", "civilians", {C("nationality-azerbaijani")}, 100, None, EXACT,
     ARTICLE, STATED, "100 Azerbaijani and 85 Armenian civilians killed"),
    ("armenian-civilians-killed", "killed", "civilians", {C("nationality-armenian")}, 85, None, EXACT,
     ARTICLE, STATED, "100 Azerbaijani and 85 Armenian civilians killed"),
    ("armenian-civilians-missing", "missing", "civilians", {C("nationality-armenian")}, 21, None, EXACT,
     ARTICLE, STATED, "21 Armenian civilians missing"),
    ("azerbaijani-civilians-injured", "injured", "civilians", {C("nationality-azerbaijani")}, 416, None, EXACT,
     ARTICLE, STATED, "416 Azerbaijani and 165 Armenian civilians injured"),
    ("armenian-civilians-injured", "injured", "civilians", {C("nationality-armenian")}, 165, None, EXACT,
     ARTICLE, STATED, "416 Azerbaijani and 165 Armenian civilians injured"),
    ("azerbaijani-civilians-captured", "captured", "civilians", {C("nationality-azerbaijani")}, 3, None, EXACT,
     ARTICLE, STATED, "3 Azerbaijani and 40 Armenian civilians captured"),
    ("armenian-civilians-captured", "captured", "civilians", {C("nationality-armenian")}, 40, None, EXACT,
     ARTICLE, STATED, "3 Azerbaijani and 40 Armenian civilians captured"),
    ("russian-mi-24-shot-down", "shot-down", None, {C("nationality-russian")}, 1, None, EXACT,
     ARTICLE, STATED, "1 Russian Mi-24 shot down, 2 crew members killed, 1 injured"),
    ("mi-24-crew-members-killed", "killed", "crew-members", set(), 2, None, EXACT,
     ARTICLE, STATED, "1 Russian Mi-24 shot down, 2 crew members killed, 1 injured"),
    ("mi-24-crew-members-injured", "injured", "crew-members", set(), 1, None, EXACT,
     ARTICLE, STATED, "1 Russian Mi-24 shot down, 2 crew members killed, 1 injured"),
    ("russian-civilian-killed", "killed", "civilians", {C("nationality-russian")}, 1, None, EXACT,
     ARTICLE, STATED, "1 Russian civilian killed"),
    ("french-journalists-injured", "injured", "journalists", {C("nationality-french")}, 2, None, EXACT,
     ARTICLE, STATED, "2 French and 3 Russian journalists injured"),
    ("russian-journalists-injured", "injured", "journalists", {C("nationality-russian")}, 3, None, EXACT,
     ARTICLE, STATED, "2 French and 3 Russian journalists injured"),
    ("iranian-civilian-injured", "injured", "civilians", {C("nationality-iranian")}, 1, None, EXACT,
     ARTICLE, STATED, "1 Iranian civilian injured by stray fire"),
    ("armenians-displaced", "displaced", None, {C("nationality-armenian")}, 100000, None, EXACT,
     ARTICLE, STATED, "100,000 Armenians displaced"),
    ("azerbaijanis-temporarily-displaced-according-to-azerbaijan", "temporarily-displaced", None,
     {C("nationality-azerbaijani")}, 40000, None, EXACT, A("azerbaijan"), ACCORDING,
     "and 40,000 Azerbaijanis (according to Azerbaijan) temporarily displaced"),
]


@pytest.fixture(scope="module")
def facts(dataset):
    return dataset.graph(named_graph("facts"))


def test_seed_ships_in_the_package():
    text = sources.seed_text()
    assert text.startswith("Second Nagorno-Karabakh War")
    assert "Per Armenia/Artsakh" in text


@pytest.mark.parametrize("row", FIGURES, ids=lambda r: r[0])
def test_every_figure_is_a_claim_with_value_qualifiers_and_claimant(dataset, facts, row):
    slug, category, group, parties, value, minimum, approximation, claimant, status, verbatim = row
    claim = entity("claim", slug)
    assert (claim, RDF.type, KKG.Claim) in dataset, f"{slug} is not a claim"
    assert set(facts.objects(claim, KKG.category)) == {C(f"casualty-{category}")}
    assert set(facts.objects(claim, KKG.personGroup)) == ({C(f"group-{group}")} if group else set())
    assert set(facts.objects(claim, KKG.appliesTo)) == parties
    assert set(facts.objects(claim, KKG.value)) == ({Literal(value)} if value is not None else set())
    assert set(facts.objects(claim, KKG.minValue)) == ({Literal(minimum)} if minimum is not None else set())
    assert set(facts.objects(claim, KKG.approximation)) == {approximation}
    assert set(facts.objects(claim, KKG.claimant)) == {claimant}
    assert set(facts.objects(claim, KKG.epistemicStatus)) == {status}
    assert set(facts.objects(claim, KKG.sourceDocument)) == {ARTICLE}
    assert set(facts.objects(claim, KKG.verbatim)) == {Literal(verbatim)}
    assert verbatim in sources.seed_text()


def test_no_casualty_claim_of_the_seed_is_left_unchecked(dataset):
    # the figures read from other pages are checked row by row in test_source_facts.py
    checked = {entity("claim", row[0]) for row in FIGURES}
    from_seed = {c for c in dataset.subjects(RDF.type, KKG.CasualtyClaim)
                 if (c, KKG.sourceDocument, ARTICLE) in dataset}
    assert from_seed == checked
    assert len(set(dataset.subjects(RDF.type, KKG.CasualtyClaim))) > len(checked)


def test_claimant_attributions_keep_the_seed_words(facts):
    for claimant, words in ((A("azerbaijan"), "Per Azerbaijan:"), (A("sohr"), "Per SOHR:"),
                            (A("armenia-artsakh"), "Per Armenia/Artsakh:")):
        attributed = {facts.value(c, KKG.attribution) for c in facts.subjects(KKG.claimant, claimant)
                      if (c, KKG.personGroup, None) in facts and (c, KKG.sourceDocument, ARTICLE) in facts}
        assert attributed == {Literal(words)}, claimant
    assert (A("armenia-artsakh"), KKG.hasMember, A("armenia")) in facts
    assert (A("armenia-artsakh"), KKG.hasMember, A("artsakh")) in facts


def test_the_war_itself(dataset, facts):
    assert facts.value(WAR, RDFS.label) == Literal("Second Nagorno-Karabakh War", lang="en")
    assert facts.value(WAR, KKG.partOf) == entity("event", "nagorno-karabakh-conflict")
    assert facts.value(WAR, KKG.startDate) == Literal("2020-09-27", datatype=XSD.date)
    assert facts.value(WAR, KKG.endDate) == Literal("2020-11-10", datatype=XSD.date)
    assert facts.value(WAR, KKG.durationDays) == Literal(44)
    assert set(facts.objects(WAR, KKG.location)) == {entity("place", "nagorno-karabakh"),
                                                      entity("place", "surrounding-occupied-territories")}
    assert facts.value(WAR, KKG.winner) == A("azerbaijan")
    assert facts.value(WAR, KKG.result) == Literal("Azerbaijani victory", lang="en")
    assert set(facts.objects(WAR, KKG.involves)) == {A("azerbaijan"), A("armenia"), A("artsakh")}
    territory = entity("claim", "azerbaijan-gains-control-of-artsakh-territory")
    assert facts.value(territory, KKG.value) == Literal(72)
    assert facts.value(territory, KKG.unit) == C("unit-percent")
    assert facts.value(territory, KKG.beneficiary) == A("azerbaijan")
    assert facts.value(territory, KKG.appliesTo) == A("artsakh")


BELLIGERENTS = [
    ("azerbaijan", "side-azerbaijani", STATED, ARTICLE),
    ("syrian-mercenaries", "side-azerbaijani", STATED, ARTICLE),
    ("turkey", "side-azerbaijani", ALLEGED, A("armenia")),
    ("artsakh", "side-armenian", STATED, ARTICLE),
    ("armenia", "side-armenian", STATED, ARTICLE),
]


@pytest.mark.parametrize("actor, side, status, claimant", BELLIGERENTS, ids=lambda v: str(v).rsplit("/", 1)[-1])
def test_belligerents_by_side_with_status_and_claimant(facts, actor, side, status, claimant):
    claims = [c for c in facts.subjects(KKG.participant, A(actor))
              if (c, KKG.role, C("role-belligerent")) in facts]
    assert len(claims) == 1
    claim = claims[0]
    assert facts.value(claim, KKG.side) == C(side)
    assert facts.value(claim, KKG.epistemicStatus) == status
    assert facts.value(claim, KKG.claimant) == claimant
    assert facts.value(claim, KKG.about) == WAR


def test_turkey_is_never_a_belligerent_in_a_plain_triple(dataset):
    turkey = A("turkey")
    plain = [(s, p) for s, p in dataset.subject_predicates(turkey)
             if not (s, RDF.type, KKG.Claim) in dataset]
    assert plain == [], plain
    assert (WAR, WDT.P710, turkey) not in dataset
    assert (WAR, WDT.P710, A("azerbaijan")) in dataset


def test_turkeys_military_support_is_the_articles_own_claim(facts):
    claim = entity("claim", "turkey-military-support-to-azerbaijan")
    assert facts.value(claim, KKG.participant) == A("turkey")
    assert facts.value(claim, KKG.role) == C("role-military-support")
    assert facts.value(claim, KKG.beneficiary) == A("azerbaijan")
    assert facts.value(claim, KKG.claimant) == ARTICLE
    assert facts.value(claim, KKG.epistemicStatus) == STATED
    assert facts.value(claim, KKG.verbatim) == Literal("Turkey provided military support to Azerbaijan.")


def test_syrian_mercenaries_are_a_unit_involved(facts):
    claims = [c for c in facts.subjects(KKG.participant, A("syrian-mercenaries"))
              if (c, KKG.role, C("role-unit-involved")) in facts]
    assert len(claims) == 1


def test_map_legend(facts):
    captured = entity("place", "areas-captured-by-azerbaijan")
    ceded = entity("place", "areas-ceded-to-azerbaijan")
    remaining = entity("place", "areas-remaining-under-artsakh-control")
    assert facts.value(captured, KKG.controlledBy) == A("azerbaijan")
    assert facts.value(ceded, KKG.controlChangedBy) == entity("event", "ceasefire-agreement-2020")
    assert facts.value(remaining, KKG.controlledBy) == A("artsakh")
    for place in ("lachin-corridor", "dadivank-monastery"):
        assert facts.value(entity("place", place), KKG.patrolledBy) == A("russian-peacekeeping-force")


def _event(facts, slug):
    event = entity("event", slug)
    assert (event, RDFS.label, None) in facts, slug
    assert (event, URIRef("http://www.w3.org/ns/prov#wasDerivedFrom"), ARTICLE) in facts, slug
    return event


def test_the_lead(dataset, facts):
    offensive = _event(facts, "azerbaijani-offensive-2020")
    assert facts.value(offensive, KKG.startDate) == Literal("2020-09-27", datatype=XSD.date)
    first = _event(facts, "first-nagorno-karabakh-war")
    assert facts.value(first, KKG.startDate) == Literal("1988", datatype=XSD.gYear)
    assert facts.value(first, KKG.endDate) == Literal("1994", datatype=XSD.gYear)
    means = {str(m).rsplit("/", 1)[-1] for m in facts.objects(WAR, KKG.means)}
    assert {"means-drones", "means-sensors", "means-long-range-heavy-artillery", "means-missile-strikes"} <= means
    ceasefires = _event(facts, "failed-ceasefires-2020")
    assert set(facts.objects(ceasefires, KKG.mediator)) == {A("russia"), A("france"), A("united-states")}
    agreement = _event(facts, "ceasefire-agreement-2020")
    assert facts.value(agreement, KKG.startDate) == Literal("2020-11-10", datatype=XSD.date)
    _event(facts, "capture-of-shusha")
    _event(facts, "anti-government-protests-in-armenia")
    _event(facts, "icj-case")
    assert facts.value(_event(facts, "clashes-2022"), KKG.pointInTime) == Literal("2022", datatype=XSD.gYear)
    assert facts.value(_event(facts, "azerbaijani-offensive-2023"), KKG.pointInTime) == Literal("2023", datatype=XSD.gYear)
    condemnation = _event(facts, "international-condemnation")
    assert A("united-nations") in set(facts.objects(condemnation, None))
    peacekeepers = entity("claim", "russian-peacekeepers-deployed")
    assert facts.value(peacekeepers, KKG.value) == Literal(2000)
    assert facts.value(peacekeepers, KKG.approximation) == APPROX
    mandate = entity("claim", "russian-peacekeeping-mandate-duration")
    assert facts.value(mandate, KKG.minValue) == Literal(5)
    assert facts.value(mandate, KKG.approximation) == AT_LEAST
    pows = entity("claim", "armenian-prisoners-of-war-held-in-azerbaijan")
    assert "unconfirmed number" in str(facts.value(pows, KKG.verbatim))


def test_every_claim_verbatim_is_seed_text(facts):
    seed = sources.seed_text()
    for claim, text in facts.subject_objects(KKG.verbatim):
        if (claim, RDF.type, None) in facts and (claim, KKG.sourceDocument, ARTICLE) in facts:
            assert str(text) in seed, f"{claim}: {text!r} is not in the seed"


def test_the_source_document_is_recorded_honestly(facts):
    assert (ARTICLE, RDF.type, KKG.EncyclopediaArticle) in facts
    urls = {str(o) for o in facts.objects(ARTICLE, URIRef("https://schema.org/url"))}
    assert urls == {"https://en.wikipedia.org/wiki/Second_Nagorno-Karabakh_War"}
    text = " ".join(str(o) for o in facts.objects(ARTICLE, None)).lower()
    assert "revision" in text
