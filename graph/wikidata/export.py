"""The Wikidata-shaped exports: Wikibase RDF (Turtle) and QuickStatements V1, both written from
:mod:`wikidata_statements`, both deterministic (same graph, same bytes).

Wikibase RDF uses Wikidata's own namespaces (``p:``, ``ps:``, ``psv:``, ``pq:``, ``pr:``,
``wikibase:``) for the statements of our linked items. Statement, value and reference nodes are
not Wikidata's (these statements are not in Wikidata): they are IRIs under
``https://w3id.org/karabakh-kg/wikibase/``, the value and reference ones named by a hash of their
content as Wikidata names its own, and each statement says with ``rdfs:seeAlso`` which claim (or
entity) of our graph it comes from. No truthy ``wdt:`` triples are written, so rival figures are
never flattened into one. Time values carry no calendar model: the Gregorian calendar's item is
not in the verified list.

QuickStatements V1: one tab-separated line per statement and reference, ``item TAB property TAB
value`` then qualifier pairs (``P518 TAB Q227``, ``P1480 TAB Q5727902``) then reference pairs
(``S854 TAB "url"``, ``S248 TAB Q…``). Quantities with both bounds are ``amount[lower,upper]``;
a figure with only one bound ("60+") cannot be written in QuickStatements and is skipped, with the
reason, like everything else that cannot be a statement.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS, XSD

from ..core.iris import BASE, KKG, WD, bind_prefixes
from ..pipeline.export import _OrderedGraph
from .statements import Quantity, Skipped, Statement, Time, statements
from .vocabulary import PQ, PQV, PR, PS, PSV, WIKIBASE, WIKIDATA_PREFIXES, P, qid_of

EXPORT_BASE = BASE + "wikibase/"
RANK_IRIS = {"normal": WIKIBASE.NormalRank, "preferred": WIKIBASE.PreferredRank,
             "deprecated": WIKIBASE.DeprecatedRank}


def _digest(*parts) -> str:
    return hashlib.sha1("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()


def _decimal(number: Decimal) -> Literal:
    return Literal(format(number, "f"), datatype=XSD.decimal)


def _datetime(value: Time) -> Literal:
    """The time as Wikibase RDF writes it (``Z``, not rdflib's normalised ``+00:00``)."""
    return Literal(value.datetime, datatype=XSD.dateTime, normalize=False)


def _statement_iri(statement: Statement) -> URIRef:
    local = str(statement.origin).rstrip("/").rsplit("/", 1)[-1]
    if statement.value is not None and not isinstance(statement.value, Quantity):
        value = statement.value.value if isinstance(statement.value, Time) else statement.value
        local = f"{local}-{statement.property}-{value}"
    return URIRef(f"{EXPORT_BASE}statement/{statement.subject}-{local}")


def _time_node(graph: Graph, value: Time) -> URIRef:
    """Add a full time value (wikibase:TimeValue with its precision) and return its node."""
    full = URIRef(f"{EXPORT_BASE}value/{_digest('time', value.value, value.precision)}")
    graph.add((full, RDF.type, WIKIBASE.TimeValue))
    graph.add((full, WIKIBASE.timeValue, _datetime(value)))
    graph.add((full, WIKIBASE.timePrecision, Literal(value.precision)))
    graph.add((full, WIKIBASE.timeTimezone, Literal(0)))
    return full


def _add_value(graph: Graph, node: URIRef, statement: Statement) -> None:
    pid, value = statement.property, statement.value
    if isinstance(value, Quantity):
        graph.add((node, PS[pid], _decimal(value.amount)))
        full = URIRef(f"{EXPORT_BASE}value/{_digest('quantity', value.amount, value.lower, value.upper, value.unit)}")
        graph.add((node, PSV[pid], full))
        graph.add((full, RDF.type, WIKIBASE.QuantityValue))
        graph.add((full, WIKIBASE.quantityAmount, _decimal(value.amount)))
        if value.lower is not None:
            graph.add((full, WIKIBASE.quantityLowerBound, _decimal(value.lower)))
        if value.upper is not None:
            graph.add((full, WIKIBASE.quantityUpperBound, _decimal(value.upper)))
        graph.add((full, WIKIBASE.quantityUnit, WD[value.unit]))
    elif isinstance(value, Time):
        graph.add((node, PS[pid], _datetime(value)))
        graph.add((node, PSV[pid], _time_node(graph, value)))
    else:
        graph.add((node, PS[pid], WD[str(value)]))


def wikibase_graph(found: list[Statement]) -> Graph:
    """The statements in the Wikibase RDF model, in a graph that lists its triples in sorted order."""
    graph = _OrderedGraph()
    bind_prefixes(graph)
    for prefix, namespace in WIKIDATA_PREFIXES.items():
        graph.bind(prefix, namespace, override=True, replace=True)
    graph.bind("prov", str(PROV), override=True, replace=True)
    for statement in found:
        item = WD[statement.subject]
        node = _statement_iri(statement)
        graph.add((item, RDF.type, WIKIBASE.Item))
        graph.add((item, P[statement.property], node))
        graph.add((node, RDF.type, WIKIBASE.Statement))
        graph.add((node, WIKIBASE.rank, RANK_IRIS[statement.rank]))
        graph.add((node, RDFS.seeAlso, statement.origin))
        _add_value(graph, node, statement)
        for qualifier, value in statement.qualifiers:
            if isinstance(value, Time):  # the reporting date (P585): simple value and full time value
                graph.add((node, PQ[qualifier], _datetime(value)))
                graph.add((node, PQV[qualifier], _time_node(graph, value)))
            else:
                graph.add((node, PQ[qualifier], WD[value]))
        for reference in statement.references:
            ref = URIRef(f"{EXPORT_BASE}reference/{_digest('reference', reference.url, reference.stated_in)}")
            graph.add((node, PROV.wasDerivedFrom, ref))
            graph.add((ref, RDF.type, WIKIBASE.Reference))
            if reference.url:
                graph.add((ref, PR.P854, URIRef(reference.url)))
            if reference.stated_in:
                graph.add((ref, PR.P248, WD[reference.stated_in]))
    return graph


def wikibase_rdf(graph: Graph) -> tuple[bytes, list[Skipped]]:
    """``graph``'s statements about linked items as Wikibase RDF in Turtle, and what was skipped."""
    found, skipped = statements(graph)
    data = wikibase_graph(found).serialize(format="longturtle")
    return (data.encode("utf-8") if isinstance(data, str) else data), skipped


def _number(value: Decimal) -> str:
    return format(value, "f")


def quickstatements_value(value) -> str | None:
    """A value in QuickStatements V1 syntax, or None when the syntax cannot express it (a one-sided bound)."""
    if isinstance(value, Time):
        return f"{value.timestamp}/{value.precision}"
    if isinstance(value, Quantity):
        if (value.lower is None) != (value.upper is None):
            return None
        unit = "" if value.unit == "Q199" else f"U{value.unit[1:]}"
        if value.lower is None:
            return f"{_number(value.amount)}{unit}"
        return f"{_number(value.amount)}[{_number(value.lower)},{_number(value.upper)}]{unit}"
    return str(value)


def quickstatements_lines(found: list[Statement]) -> tuple[list[str], list[Skipped]]:
    """QuickStatements V1 lines for the statements, and the statements it cannot express."""
    lines, skipped = [], []
    for statement in found:
        value = quickstatements_value(statement.value)
        if value is None:
            skipped.append(Skipped(statement.origin, statement.subject,
                                   f"{statement.property}: a figure with only one bound (lower bound "
                                   f"{statement.value.lower}) cannot be written in QuickStatements"))
            continue
        head = [statement.subject, statement.property, value]
        for qualifier, qualifier_value in statement.qualifiers:
            head += [qualifier, quickstatements_value(qualifier_value)]
        for reference in statement.references or (None,):
            cells = list(head)
            if reference is not None and reference.url:
                cells += ["S854", f'"{reference.url}"']
            if reference is not None and reference.stated_in:
                cells += ["S248", reference.stated_in]
            lines.append("\t".join(cells))
    return lines, skipped


def quickstatements(graph: Graph) -> tuple[bytes, list[Skipped]]:
    """``graph``'s statements about linked items as QuickStatements V1 text, and what was skipped."""
    found, skipped = statements(graph)
    lines, not_expressible = quickstatements_lines(found)
    text = "".join(line + "\n" for line in lines)
    return text.encode("utf-8"), sorted(skipped + not_expressible, key=lambda s: (str(s.origin), s.reason))


WRITERS = {"wikibase": wikibase_rdf, "quickstatements": quickstatements}


def serialize(graph: Graph, format_name: str) -> tuple[bytes, list[Skipped]]:
    """The Wikidata-shaped export named ``wikibase`` or ``quickstatements`` of ``graph``, and what was skipped."""
    return WRITERS[format_name](graph)


def claim_statement(graph: Graph, claim) -> dict:
    """The Wikidata statement a claim exports to (as QuickStatements lines), or the reasons it
    exports to none: what a claim's page shows."""
    found, skipped = statements(graph)
    mine = [s for s in found if s.origin == claim]
    if mine:
        lines, not_expressible = quickstatements_lines(mine)
        return {"lines": lines, "reasons": [s.reason for s in not_expressible]}
    reasons = sorted({s.reason for s in skipped if s.origin == claim})
    if not reasons:
        about = graph.value(claim, KKG.about)
        if not _has_figure(graph, claim):
            reasons = ["only figures (quantity claims) become Wikidata statements; participation and other "
                       "claims stay here, with their claimant"]
        elif about is None or qid_of(graph, about) is None:
            reasons = ["the event it is about has no verified Wikidata item"]
    return {"lines": [], "reasons": reasons}


def _has_figure(graph: Graph, claim) -> bool:
    return any(graph.value(claim, p) is not None for p in (KKG.value, KKG.minValue, KKG.maxValue))
