"""The figures and events read from many pages: every row of the shipped tables is in the build with
its claimant, figure, date and address; the dated series come out in order; the disputes are found;
year-only dates compare with full dates.

The expectations are read from the shipped copies of the tables (graph/data/sources/*.tsv) with the
csv module, not from our Turtle nor through the converter: a figure mistyped in the data fails here.
"""

from __future__ import annotations

import csv
import io
from importlib import resources

import pytest
from karabakh_kg.graph.core.iris import DCTERMS, KKG, SCHEMA, entity, named_graph
from karabakh_kg.graph.pipeline import sources
from karabakh_kg.graph.sparql import query as query_mod
from karabakh_kg.graph.sparql import stored_queries
from karabakh_kg.graph.tables import source_facts
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, RDFS, XSD

QUERIES = stored_queries.load_all()
# The collector's normalised claimant -> the label of the actor it is read as (the rest: as written).
CLAIMANT_LABELS = {"Artsakh": "Republic of Artsakh", "HRW": "Human Rights Watch", "Azerbaijan (government)": "Azerbaijan",
                   "Azerbaijan (parliament)": "Azerbaijani parliament", "CDSI": "Caspian Defense Studies Institute (CDSI)"}


def _table(name):
    data = (resources.files("karabakh_kg.graph") / "data" / "sources" / name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(data, newline=""), delimiter="\t"))


FIGURES = _table("figures.tsv")
EVENTS = _table("events.tsv")


@pytest.fixture(scope="module")
def facts(dataset):
    return dataset.graph(named_graph("facts"))


def _claim_of(facts, row_id):
    found = list(facts.subjects(DCTERMS.identifier, Literal(row_id)))
    assert len(found) == 1, f"{row_id}: {found}"
    return found[0]


def _rows(dataset, name, **params):
    stored = QUERIES[name]
    return stored_queries.row_texts(query_mod.run_query(dataset, stored.text, stored.bindings(params)))


def test_the_tables_have_every_row():
    assert len(FIGURES) == 120 and len(EVENTS) == 18


def test_the_shipped_turtle_is_what_the_tables_give():
    shipped = {f.name.rsplit("/", 1)[-1]: f for f in sources.fact_files()}
    for name, graph in source_facts.build_graphs().items():
        on_disk = Graph().parse(data=shipped[f"{name}"].data, format="turtle")
        assert isomorphic(graph, on_disk), f"{name} is stale: run python -m karabakh_kg.graph.tables.source_facts"


@pytest.mark.parametrize("row", FIGURES, ids=lambda r: r["id"])
def test_every_row_is_a_claim_with_its_claimant_figure_date_and_address(facts, row):
    claim = _claim_of(facts, row["id"])
    claimant = facts.value(claim, KKG.claimant)
    page = facts.value(claim, KKG.sourceDocument)
    assert facts.value(page, SCHEMA.url) == URIRef(row["url"])
    assert facts.value(page, RDFS.label) == Literal(row["page_title"], lang="en")
    if row["claimant"]:
        expected = CLAIMANT_LABELS.get(row["claimant"], row["claimant"])
        assert facts.value(claimant, RDFS.label) == Literal(expected, lang="en")
    else:
        assert claimant == page, "a row without a claimant is the page speaking in its own voice"
    for column, prop in (("value", KKG.value), ("min", KKG.minValue), ("max", KKG.maxValue)):
        expected = {Literal(int(row[column]))} if row[column] else set()
        assert set(facts.objects(claim, prop)) == expected, column
    approximation = facts.value(claim, KKG.approximation)
    assert str(approximation).endswith("approximation-" + row["approximation"].replace(" ", "-"))
    as_of = facts.value(claim, KKG.asOf)
    assert (str(as_of) if as_of is not None else "") == row["as_of"]
    if as_of is not None:
        assert as_of.datatype == {10: XSD.date, 7: XSD.gYearMonth, 4: XSD.gYear}[len(row["as_of"])]
    assert set(facts.objects(claim, KKG.verbatim)) == {Literal(row["entry"])}
    words = facts.value(claim, KKG.attribution)
    assert (str(words) if words is not None else "") == row["claimant_as_written"]
    assert (str(facts.value(claim, KKG.appliesToText) or "")) == row["whose"]


def test_every_page_is_one_source(facts):
    urls = {row["url"] for row in FIGURES} | {row["url"] for row in EVENTS}
    found = {str(url) for page, url in facts.subject_objects(SCHEMA.url)
             if str(page).startswith(str(entity("source", "page-x"))[:-1])}
    assert found == urls


@pytest.mark.parametrize("claimant, figures", [
    ("actor:armenia", ["1,166", "2,317", "2,425", "3,621", "3,773", "3,825"]),
    ("actor:azerbaijan", ["2,783", "2,855", "2,881", "2,900", "2,906"]),
])
def test_a_dated_series_comes_out_in_order(dataset, claimant, figures):
    rows = _rows(dataset, "figure-history", claimant=claimant, party=claimant)
    dated = [r for r in rows if "asOf" in r]
    assert [r["asOf"] for r in dated] == sorted(r["asOf"] for r in dated)
    values = [f"{int(r['value']):,}" for r in dated]
    assert values == figures


def test_the_history_of_the_2022_clashes(dataset):
    rows = _rows(dataset, "figure-history", claimant="actor:azerbaijan", party="actor:azerbaijan",
                 event="event:september-2022-clashes")
    assert [(r.get("asOf"), r["value"]) for r in rows] == [("2022-09-13", "50"), ("2022-09-15", "71"),
                                                           ("2024-02", "80")]


@pytest.mark.parametrize("event, a, b", [
    ("2016 Nagorno-Karabakh conflict (Four-Day War, April War)", ("Armenian sources", "91 troops"),
     ("Azerbaijan", "560 soldiers")),
    ("September 2022 Armenia–Azerbaijan clashes", ("Armenia", "431"), ("Azerbaijan", "80 servicemen")),
    ("Second Nagorno-Karabakh War", ("Azerbaijan", "2,906"), ("Armenia", "7,630")),
    ("Khojaly massacre", ("Azerbaijani parliament", "485"), ("Azerbaijan", "613")),
    ("Sumgait pogrom", ("Armenian sources", "200+"), ("USSR", "26 Armenians")),
])
def test_disputed_figures_finds_the_real_disagreements(dataset, event, a, b):
    rows = _rows(dataset, "disputed-figures")
    pairs = {frozenset({(r["claimantA"], r["figureA"]), (r["claimantB"], r["figureB"])})
             for r in rows if r["event"] == event and r["relation"] == "contradicts"}
    assert any(any(c == a[0] and a[1] in f for c, f in pair) and any(c == b[0] and b[1] in f for c, f in pair)
               for pair in pairs), pairs


def test_a_replaced_figure_is_history_not_a_dispute(dataset):
    rows = _rows(dataset, "disputed-figures")
    assert not any("2,317" in r["figureA"] + r["figureB"] for r in rows)  # Armenia replaced it with 3,773
    assert not any({r["claimantA"], r["claimantB"]} == {"Armenia", "Armenia/Artsakh"} for r in rows)


def test_year_only_dates_compare_with_full_dates(dataset):
    query = """PREFIX kkg: <https://w3id.org/karabakh-kg/ontology#>
    SELECT ?e WHERE { ?e kkg:earliestDate ?d FILTER (?d > "2020-11-10"^^<http://www.w3.org/2001/XMLSchema#date>) }"""
    after = {str(r[0]).rsplit("/", 1)[-1] for r in query_mod.run_query(dataset, query)}
    assert {"clashes-2022", "azerbaijani-offensive-2023", "september-2022-clashes", "blockade-2022-2023",
            "2023-exodus", "2023-fuel-depot-explosion"} <= after
    assert not after & {"first-nagorno-karabakh-war", "second-nagorno-karabakh-war", "april-2016-war"}


def test_two_pages_with_different_dates_are_two_claims(facts):
    pogrom = entity("event", "sumgait-pogrom")
    reports = [c for c in facts.subjects(KKG.about, pogrom) if (c, RDF.type, KKG.EventReportClaim) in facts]
    assert {str(facts.value(c, KKG.reportedStart)) for c in reports} == {"February 27, 1988", "February 26, 1988"}
    assert facts.value(pogrom, KKG.earliestDate) == Literal("1988-02-26", datatype=XSD.date)
    assert facts.value(pogrom, KKG.startDate) is None  # the pages disagree: no plain start date
    assert facts.value(pogrom, KKG.endDate) == Literal("1988-03-01", datatype=XSD.date)  # they agree


def test_the_events_are_linked_and_ordered(dataset):
    conflict = entity("event", "nagorno-karabakh-conflict")
    for slug in ("sumgait-pogrom", "first-nagorno-karabakh-war", "april-2016-war", "second-nagorno-karabakh-war",
                 "blockade-2022-2023", "azerbaijani-offensive-2023"):
        assert (entity("event", slug), KKG.partOf, conflict) in dataset, slug
    war = entity("event", "second-nagorno-karabakh-war")
    followers = set(dataset.objects(war, KKG.followedBy))  # inferred from kkg:follows
    assert {entity("event", "ceasefire-agreement-2020"), entity("event", "post-war-skirmishes")} <= followers
    assert (entity("event", "2023-exodus"), KKG.follows, entity("event", "azerbaijani-offensive-2023")) in dataset


def test_new_entities_are_not_linked_to_wikidata(dataset):
    links = dataset.graph(named_graph("links"))
    for slug in ("sumgait-pogrom", "khojaly-massacre", "april-2016-war", "2023-exodus"):
        assert not list(links.objects(entity("event", slug), None)), slug
