"""`export --format wikibase` and `--format quickstatements`: both parse back (rdflib; a small
QuickStatements parser here), agree with each other, and match the graph statement by statement:
figures, bounds, qualifiers, references. Rival figures stay side by side, Turkey is never a
participant, and nothing outside the verified lists is written."""

from __future__ import annotations

from decimal import Decimal

import pytest
from click.testing import CliRunner
from karabakh_kg.graph.core import formats
from karabakh_kg.graph.core.iris import KKG, SCHEMA, WD, WDT
from karabakh_kg.graph.pipeline import build as build_mod
from karabakh_kg.graph.pipeline import sources
from karabakh_kg.graph.wikidata import export as wikidata_export
from karabakh_kg.graph.wikidata import vocabulary as wikidata
from karabakh_kg.server.cli import main
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import PROV, RDF, SKOS

WIKIBASE = Namespace("http://wikiba.se/ontology#")
PS = "http://www.wikidata.org/prop/statement/"
PSV = "http://www.wikidata.org/prop/statement/value/"
PQ = "http://www.wikidata.org/prop/qualifier/"
PQV = "http://www.wikidata.org/prop/qualifier/value/"
PR = "http://www.wikidata.org/prop/reference/"
ARTICLE = "https://en.wikipedia.org/wiki/Second_Nagorno-Karabakh_War"
QUANTITY_PROPERTIES = {"P1120", "P1339", "P1446", "P1114"}


# --- reading the outputs back -------------------------------------------------------------------

def parse_quickstatements(text: str) -> set[tuple]:
    """QuickStatements V1 lines as (item, property, value, qualifiers, reference) tuples."""
    found = set()
    for line in text.splitlines():
        cells = line.split("\t")
        assert len(cells) >= 3 and len(cells) % 2 == 1, f"malformed line {line!r}"
        item, prop, value, rest = cells[0], cells[1], cells[2], cells[3:]
        assert item.startswith("Q") and prop.startswith("P"), line
        pairs = list(zip(rest[::2], rest[1::2]))
        qualifiers = tuple(sorted(p for p in pairs if p[0].startswith("P")))
        reference = tuple(sorted((k, v.strip('"')) for k, v in pairs if k.startswith("S")))
        assert all(k[0] in "PS" for k, _ in pairs), line
        found.add((item, prop, value, qualifiers, reference))
    return found


def _local(term) -> str:
    return str(term).rsplit("/", 1)[-1]


def _number(literal) -> str:
    return format(Decimal(str(literal)).normalize(), "f")


def _time_text(day: str, precision: int) -> str:
    """A time in QuickStatements form, from its first day and precision."""
    if precision == 9:
        return f"+{day[:4]}-00-00T00:00:00Z/9"
    if precision == 10:
        return f"+{day[:7]}-00T00:00:00Z/10"
    return f"+{day}T00:00:00Z/{precision}"


def _qualifier_value(graph, node, qualifier, value) -> str:
    """An item qualifier as its ID; a time qualifier (P585) as QuickStatements writes it, read from
    its full value (pqv:) after checking the simple value (pq:) says the same moment."""
    if isinstance(value, URIRef):
        return _local(value)
    full = graph.value(node, URIRef(PQV + _local(qualifier)))
    assert (full, RDF.type, WIKIBASE.TimeValue) in graph
    moment = graph.value(full, WIKIBASE.timeValue).toPython()
    assert moment == value.toPython()
    return _time_text(moment.date().isoformat(), int(graph.value(full, WIKIBASE.timePrecision)))


def _as_of_qualifier(graph, claim) -> list[tuple]:
    """The point-in-time qualifier a claim's reporting date should give (none when undated)."""
    as_of = graph.value(claim, KKG.asOf)
    if as_of is None:
        return []
    text = str(as_of)
    precision = {10: 11, 7: 10, 4: 9}[len(text)]
    return [("P585", _time_text(text + "-01-01"[len(text) - 4:] if precision != 11 else text, precision))]


def parse_wikibase(data: bytes) -> set[tuple]:
    """Wikibase RDF statements as the same tuples (quantities with one bound as amount[lower,])."""
    graph = Graph().parse(data=data, format="turtle")
    found = set()
    for item, prop, node in graph.triples((None, None, None)):
        if not str(prop).startswith("http://www.wikidata.org/prop/P") or (node, RDF.type, WIKIBASE.Statement) not in graph:
            continue
        pid = _local(prop)
        assert (node, WIKIBASE.rank, WIKIBASE.NormalRank) in graph
        simple = graph.value(node, URIRef(PS + pid))
        full = graph.value(node, URIRef(PSV + pid))
        if full is not None and (full, RDF.type, WIKIBASE.QuantityValue) in graph:
            assert graph.value(full, WIKIBASE.quantityUnit) == WD.Q199
            amount = _number(graph.value(full, WIKIBASE.quantityAmount))
            assert amount == _number(simple)
            lower, upper = graph.value(full, WIKIBASE.quantityLowerBound), graph.value(full, WIKIBASE.quantityUpperBound)
            value = amount
            if lower is not None or upper is not None:
                value += f"[{_number(lower) if lower is not None else ''},{_number(upper) if upper is not None else ''}]"
        elif full is not None and (full, RDF.type, WIKIBASE.TimeValue) in graph:
            precision = int(graph.value(full, WIKIBASE.timePrecision))
            moment = graph.value(full, WIKIBASE.timeValue).toPython()
            assert moment == simple.toPython() and moment.utcoffset().total_seconds() == 0
            day = moment.date().isoformat()
            value = _time_text(day, precision)
        else:
            value = _local(simple)
        qualifiers = tuple(sorted((_local(q), _qualifier_value(graph, node, q, v)) for q, v in graph.predicate_objects(node)
                                  if str(q).startswith(PQ) and not str(q).startswith(PQV)))
        references = list(graph.objects(node, PROV.wasDerivedFrom))
        assert references, f"{node} has no reference"
        for ref in references:
            assert (ref, RDF.type, WIKIBASE.Reference) in graph
            pairs = [("S" + _local(p)[1:], str(v) if _local(p) == "P854" else _local(v))
                     for p, v in graph.predicate_objects(ref) if str(p).startswith(PR)]
            found.add((_local(item), pid, value, qualifiers, tuple(sorted(pairs))))
    return found


# --- the graph as the oracle --------------------------------------------------------------------

def _qid(graph, node):
    return wikidata.qid_of(graph, node)


def claim_for(graph, statement) -> URIRef:
    """The one quantity claim of the graph that a quantity statement says, checked field by field."""
    item, pid, value, qualifiers, reference = statement
    amount, _, bounds = value.partition("[")
    lower, _, upper = bounds.rstrip("]").partition(",") if bounds else ("", "", "")
    matches = []
    for claim in set(graph.subjects(KKG.about, None)):
        category = graph.value(claim, KKG.category)
        if _qid(graph, graph.value(claim, KKG.about)) != item or category is None:
            continue
        if wikidata.wikidata_id(graph.value(category, KKG.wikidataProperty)) != pid:
            continue
        figure = graph.value(claim, KKG.value) or graph.value(claim, KKG.minValue)
        if figure is None or str(figure) != amount:
            continue
        if (lower or None) != (str(graph.value(claim, KKG.minValue)) if graph.value(claim, KKG.minValue) is not None else None):
            continue
        if (upper or None) != (str(graph.value(claim, KKG.maxValue)) if graph.value(claim, KKG.maxValue) is not None else None):
            continue
        parties = sorted(("P518", _qid(graph, p)) for p in graph.objects(claim, KKG.appliesTo))
        concepts = [c for c in (graph.value(claim, KKG.approximation), graph.value(claim, KKG.epistemicStatus)) if c]
        circumstances = sorted(("P1480", wikidata.wikidata_id(m)) for c in concepts
                               for m in graph.objects(c, SKOS.exactMatch) if wikidata.wikidata_id(m))
        if tuple(sorted(parties + circumstances + _as_of_qualifier(graph, claim))) != qualifiers:
            continue
        urls = {("S854", str(graph.value(src, SCHEMA.url))) for src in graph.objects(claim, KKG.sourceDocument)}
        if reference not in {(u,) for u in urls}:
            continue
        matches.append(claim)
    assert len(matches) == 1, f"{statement} matches {matches}"
    return matches[0]


def fact_holds(graph, statement) -> bool:
    """A plain-fact statement holds when the reasoned graph has the wdt: triple and the source says it."""
    item, pid, value, qualifiers, reference = statement
    assert qualifiers == ()
    for subject in graph.subjects(SKOS.exactMatch, WD[item]):
        urls = {("S854", str(graph.value(src, SCHEMA.url))) for src in graph.objects(subject, PROV.wasDerivedFrom)}
        if reference not in {(u,) for u in urls}:
            continue
        for target in graph.objects(subject, WDT[pid]):
            if value.startswith("Q") and _qid(graph, target) == value:
                return True
            if value.startswith("+"):
                stamp, precision = value[1:].split("/")
                text = stamp[:4] if precision == "9" else stamp[:10]
                if str(target) == text:
                    return True
    return False


@pytest.fixture(scope="module")
def union(dataset):
    """The built dataset as one graph."""
    return build_mod.union_graph(dataset)


@pytest.fixture(scope="module")
def exports(union):
    """Both exports of the seed graph, parsed back."""
    qs, _ = wikidata_export.serialize(union, "quickstatements")
    rdf, _ = wikidata_export.serialize(union, "wikibase")
    return parse_quickstatements(qs.decode("utf-8")), parse_wikibase(rdf), qs, rdf


def test_both_exports_say_the_same_statements(exports):
    qs, rdf, _, _ = exports
    assert qs == rdf
    assert len(qs) == 49  # 16 from the seed; the rest are figures of other pages about the two linked wars


def test_every_statement_matches_the_graph(union, exports):
    qs, _, _, _ = exports
    claims = set()
    for statement in qs:
        if statement[1] in QUANTITY_PROPERTIES:
            claims.add(claim_for(union, statement))
        else:
            assert fact_holds(union, statement), statement
    assert len(claims) == len([s for s in qs if s[1] in QUANTITY_PROPERTIES])


def test_rival_figures_side_by_side_with_whose_losses_and_reference(exports):
    qs, _, _, _ = exports
    reference = (("S854", ARTICLE),)
    assert ("Q99659280", "P1120", "2906", (("P518", "Q227"),), reference) in qs
    assert ("Q99659280", "P1120", "3825", (("P518", "Q244165"), ("P518", "Q399")), reference) in qs
    assert ("Q99659280", "P1446", "187", (("P518", "Q244165"), ("P518", "Q399")), reference) in qs
    assert ("Q99659280", "P580", "+2020-09-27T00:00:00Z/11", (), reference) in qs
    assert ("Q99659280", "P582", "+2020-11-10T00:00:00Z/11", (), reference) in qs
    assert ("Q381375", "P580", "+1988-00-00T00:00:00Z/9", (), reference) in qs
    assert ("Q101305942", "P361", "Q99659280", (), reference) in qs


def test_every_exportable_claim_and_fact_is_exported(union, exports):
    qs, _, _, _ = exports
    expected_claims = set()
    for claim in set(union.subjects(KKG.about, None)):
        category = union.value(claim, KKG.category)
        pid = wikidata.wikidata_id(union.value(category, KKG.wikidataProperty)) if category is not None else None
        parties = list(union.objects(claim, KKG.appliesTo))
        if (pid in {"P1120", "P1339", "P1446"} and _qid(union, union.value(claim, KKG.about))
                and all(_qid(union, p) for p in parties) and union.value(claim, KKG.unit) is None):
            expected_claims.add(claim)
    exported = {claim_for(union, s) for s in qs if s[1] in QUANTITY_PROPERTIES}
    assert exported == expected_claims
    assert len(exported) == 38  # 5 of the seed, 33 from other pages
    expected_facts = set()
    for s, p, o in union.triples((None, None, None)):
        if str(p).startswith(str(WDT)) and _qid(union, s) and (_qid(union, o) or not isinstance(o, URIRef)):
            expected_facts.add((_qid(union, s), str(p)[len(str(WDT)):]))
    assert expected_facts == {(s[0], s[1]) for s in qs if s[1] not in QUANTITY_PROPERTIES}


def test_contested_participation_is_never_exported(exports):
    qs, rdf, qs_text, rdf_data = exports
    participants = {s[2] for s in qs if s[1] == "P710"}
    assert participants == {"Q227", "Q399", "Q244165"}
    assert "Q43" not in qs_text.decode()
    assert b"Q43>" not in rdf_data and b"wd:Q43 " not in rdf_data


def test_only_verified_ids_are_written(exports):
    qs, _, _, _ = exports
    allowed = wikidata.verified_ids()
    for item, prop, value, qualifiers, reference in qs:
        assert {item, prop} <= allowed
        assert all(q in allowed and (v in allowed or (q == "P585" and v.startswith("+"))) for q, v in qualifiers)
        if value.startswith("Q"):
            assert value in allowed


def test_exports_are_deterministic(union, exports):
    _, _, qs, rdf = exports
    assert b'"2020-09-27T00:00:00Z"^^xsd:dateTime' in rdf  # written as Wikibase writes times
    assert wikidata_export.serialize(union, "quickstatements")[0] == qs
    assert wikidata_export.serialize(union, "wikibase")[0] == rdf


SYNTHETIC = """
@prefix kkg: <https://w3id.org/karabakh-kg/ontology#> .
@prefix actor: <https://w3id.org/karabakh-kg/id/actor/> .
@prefix event: <https://w3id.org/karabakh-kg/id/event/> .
@prefix claim: <https://w3id.org/karabakh-kg/id/claim/> .
@prefix source: <https://w3id.org/karabakh-kg/id/source/> .
@prefix concept: <https://w3id.org/karabakh-kg/id/concept/> .

claim:test-approximate-with-bounds a kkg:CasualtyClaim ;
    kkg:about event:second-nagorno-karabakh-war ; kkg:category concept:casualty-killed ;
    kkg:appliesTo actor:turkey ; kkg:value 11000 ; kkg:minValue 10000 ; kkg:maxValue 12000 ;
    kkg:approximation concept:approximation-approximately ; kkg:epistemicStatus concept:status-alleged ;
    kkg:rank concept:rank-normal ; kkg:sourceDocument source:wikipedia-second-nagorno-karabakh-war .

claim:test-at-least a kkg:CasualtyClaim ;
    kkg:about event:second-nagorno-karabakh-war ; kkg:category concept:casualty-missing ;
    kkg:appliesTo actor:armenia ; kkg:minValue 60 ; kkg:approximation concept:approximation-at-least ;
    kkg:rank concept:rank-normal ; kkg:sourceDocument source:wikipedia-second-nagorno-karabakh-war .
"""


@pytest.fixture(scope="module")
def synthetic():
    """The shipped ontology, facts and links plus two made-up claims with bounds (not reasoned)."""
    graph = Graph()
    for f in sources.ontology_files() + sources.fact_files() + sources.link_files():
        sources.parse_into(graph, f)
    graph.parse(data=SYNTHETIC, format="turtle")
    return graph


def test_bounds_and_circumstances_in_wikibase_rdf(synthetic):
    data, _ = wikidata_export.serialize(synthetic, "wikibase")
    statements = parse_wikibase(data)
    reference = (("S854", ARTICLE),)
    approximate = ("Q99659280", "P1120", "11000[10000,12000]",
                   (("P1480", "Q32188232"), ("P1480", "Q5727902"), ("P518", "Q43")), reference)
    at_least = ("Q99659280", "P1446", "60[60,]", (("P518", "Q399"),), reference)
    assert {approximate, at_least} <= statements
    assert claim_for(synthetic, approximate) == URIRef("https://w3id.org/karabakh-kg/id/claim/test-approximate-with-bounds")
    assert claim_for(synthetic, at_least) == URIRef("https://w3id.org/karabakh-kg/id/claim/test-at-least")


def test_bounds_and_circumstances_in_quickstatements(synthetic):
    data, skipped = wikidata_export.serialize(synthetic, "quickstatements")
    lines = data.decode().splitlines()
    assert (f"Q99659280\tP1120\t11000[10000,12000]\tP518\tQ43\tP1480\tQ5727902\tP1480\tQ32188232"
            f'\tS854\t"{ARTICLE}"') in lines
    assert not any(line.split("\t")[1:3] == ["P1446", "60"] for line in lines)  # "60+" has only a lower bound
    reasons = {str(s.origin).rsplit("/", 1)[-1]: s.reason for s in skipped}
    assert "only one bound" in reasons["test-at-least"]


def test_export_command_writes_both_formats(built, build_dir, tmp_path):
    runner = CliRunner()
    out = tmp_path / "claims.qs"
    result = runner.invoke(main, ["export", "--format", "quickstatements", "-o", str(out), "--build-dir", str(build_dir)])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("Q381375\tP580\t+1988-00-00T00:00:00Z/9")
    assert "not exported" in result.stderr and "casualty-wounded-and-sick" in result.stderr
    result = runner.invoke(main, ["export", "--format", "wikibase", "--build-dir", str(build_dir)])
    assert result.exit_code == 0
    assert "PREFIX psv: <http://www.wikidata.org/prop/statement/value/>" in result.stdout
    result = runner.invoke(main, ["export", "--format", "wikibase", "--graph", "facts", "--build-dir", str(build_dir)])
    assert result.exit_code == 1 and "--graph does not apply" in result.stderr
    result = runner.invoke(main, ["export", "--format", "turtle", "--graph", "links", "--build-dir", str(build_dir)])
    assert result.exit_code == 0 and "skos:exactMatch" in result.stdout


def test_format_table_knows_the_exports():
    assert formats.by_name("qs").name == "quickstatements"
    assert {f.name for f in formats.EXPORT_FORMATS} == {"wikibase", "quickstatements"}
    assert not set(formats.EXPORT_FORMATS) & set(formats.RDF_FORMATS)
    assert formats.by_media_type("text/turtle").name == "turtle"


def test_the_reporting_date_is_the_point_in_time_qualifier(exports):
    qs, rdf, qs_text, _ = exports
    assert qs == rdf
    azerbaijan = {(s[2], dict(s[3]).get("P585")) for s in qs
                  if s[:2] == ("Q99659280", "P1120") and ("P518", "Q227") in s[3]}
    # the revised toll at each reporting date: day precision for news, month for a Wikipedia dump
    assert {("2783", "+2020-12-03T00:00:00Z/11"), ("2855", "+2021-01-18T00:00:00Z/11"),
            ("2881", "+2021-03-02T00:00:00Z/11"), ("2900", "+2021-06-02T00:00:00Z/11"),
            ("2906", "+2025-06-00T00:00:00Z/10"), ("2906", None)} <= azerbaijan
    assert "P585\t+2025-06-00T00:00:00Z/10" in qs_text.decode()
