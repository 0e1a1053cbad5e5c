"""Our facts and claims as Wikidata statements (item, property, value, qualifiers, references, rank),
the neutral model both Wikidata-shaped exports (Wikibase RDF, QuickStatements) are written from.

What becomes a statement, only for subjects linked to a verified Wikidata item:

- a plain, undisputed event fact whose property has a ``wdt:`` super-property in the ontology
  (start time, end time, part of, location, participant, winner, ...), when its value is a date or
  an entity linked to a verified item; referenced by the entity's ``prov:wasDerivedFrom`` source;
- a quantity claim whose category carries ``kkg:wikidataProperty``: the figure (amount, lower and
  upper bound, unit 1), "applies to part" (P518) for each party it applies to, "sourcing
  circumstances" (P1480) for approximately (circa) and alleged, "point in time" (P585) for the
  reporting date (``kkg:asOf``, at day, month or year precision), rank from ``kkg:rank``, referenced
  by the claim's ``kkg:sourceDocument``.

Everything else about a linked subject is listed as skipped, with the reason (no Wikidata item for
the value or the party, a category that maps to "quantity" P1114 with no verified qualifier saying
what is counted, a unit with no verified item). Participation claims are never statements: only the
undisputed participation (``kkg:involves``) becomes "participant" (P710).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS, SKOS, XSD

from ..core.iris import KKG, SCHEMA, WDT
from .vocabulary import WIKIBASE, qid_of, verified_ids, verified_items, wikidata_id

UNIT_ONE = "Q199"  # the unit of plain counts in Wikidata's RDF
CIRCA = "Q5727902"
APPLIES_TO_PART = "P518"
SOURCING_CIRCUMSTANCES = "P1480"
REFERENCE_URL = "P854"
STATED_IN = "P248"
POINT_IN_TIME = "P585"
RANKS = {WIKIBASE.NormalRank: "normal", WIKIBASE.PreferredRank: "preferred", WIKIBASE.DeprecatedRank: "deprecated"}


@dataclass(frozen=True)
class Quantity:
    """A Wikibase quantity: amount, optional lower and upper bounds, unit (an item ID; Q199 is "1")."""

    amount: Decimal
    lower: Decimal | None = None
    upper: Decimal | None = None
    unit: str = UNIT_ONE


@dataclass(frozen=True)
class Time:
    """A Wikibase time value: an ISO date, month or year and its precision (11 = day, 10 = month, 9 = year)."""

    value: str
    precision: int

    @property
    def timestamp(self) -> str:
        """Wikibase's timestamp form: ``+2020-09-27T00:00:00Z``; a month is ``+2025-06-00T00:00:00Z``,
        a year ``+1988-00-00T00:00:00Z``."""
        if self.precision == 9:
            return f"+{self.value}-00-00T00:00:00Z"
        if self.precision == 10:
            return f"+{self.value}-00T00:00:00Z"
        return f"+{self.value}T00:00:00Z"

    @property
    def datetime(self) -> str:
        """The xsd:dateTime Wikibase RDF writes for it (the first day of a month or year)."""
        if self.precision == 9:
            return f"{self.value}-01-01T00:00:00Z"
        if self.precision == 10:
            return f"{self.value}-01T00:00:00Z"
        return f"{self.value}T00:00:00Z"


@dataclass(frozen=True)
class Reference:
    """A statement's reference: the reference URL (P854) and/or stated in (P248, only with a verified item)."""

    url: str | None = None
    stated_in: str | None = None


@dataclass(frozen=True)
class Statement:
    """One Wikidata statement and the node of our graph it comes from (a claim, or the entity of a plain fact)."""

    subject: str
    property: str
    value: object  # an item ID (str), a Quantity or a Time
    qualifiers: tuple[tuple[str, object], ...]  # (property, item ID or Time)
    references: tuple[Reference, ...]
    rank: str
    origin: URIRef

    def sort_key(self) -> tuple:
        """A stable order: by item number, property number, value, qualifiers."""
        return (_number(self.subject), _number(self.property), _value_key(self.value), self.qualifiers,
                str(self.origin))


@dataclass(frozen=True)
class Skipped:
    """Something about a linked item that does not become a statement, and why."""

    origin: URIRef
    subject: str
    reason: str

    def __str__(self) -> str:
        return f"<{self.origin}> (wd:{self.subject}): {self.reason}"


def _number(entity_id: str) -> int:
    return int(entity_id[1:]) if entity_id[1:].isdigit() else 0


def _value_key(value) -> tuple:
    if isinstance(value, Quantity):
        return (1, value.amount, value.lower or 0, value.upper or 0)
    if isinstance(value, Time):
        return (2, value.value)
    return (0, _number(str(value)))


def _is_a(graph: Graph, node, cls: URIRef) -> bool:
    for declared in graph.objects(node, RDF.type):
        if cls in set(graph.transitive_objects(declared, RDFS.subClassOf)):
            return True
    return False


def _time(literal: Literal) -> Time | None:
    text = str(literal)
    if literal.datatype == XSD.date and re.fullmatch(r"\d{4}-\d\d-\d\d", text):
        return Time(text, 11)
    if literal.datatype == XSD.gYear and re.fullmatch(r"\d{4}", text):
        return Time(text, 9)
    return None


def _point_in_time(literal: Literal) -> Time | None:
    """A reporting date (kkg:asOf) as a Wikibase time: a day, a month (a Wikipedia dump's) or a year."""
    if literal.datatype == XSD.gYearMonth and re.fullmatch(r"\d{4}-\d\d", str(literal)):
        return Time(str(literal), 10)
    return _time(literal)


def _references(graph: Graph, sources) -> tuple[Reference, ...]:
    out = set()
    items = verified_items()
    for source in sources:
        url = graph.value(source, SCHEMA.url)
        stated = qid_of(graph, source)
        out.add(Reference(str(url) if url is not None else None, stated if stated in items else None))
    return tuple(sorted((r for r in out if r.url or r.stated_in), key=lambda r: (r.url or "", r.stated_in or "")))


def _aligned_properties(graph: Graph) -> list[tuple[URIRef, str]]:
    """Our properties with a Wikidata direct property (wdt:) as super-property, and that property's ID."""
    found = set()
    for prop, parent in graph.subject_objects(RDFS.subPropertyOf):
        if str(prop).startswith(str(KKG)) and str(parent).startswith(str(WDT)):
            found.add((prop, str(parent)[len(str(WDT)):]))
    return sorted(found, key=lambda row: (str(row[0]), row[1]))


def _fact_statements(graph: Graph, known: set[str]) -> tuple[list[Statement], list[Skipped]]:
    statements, skipped = [], []
    for prop, pid in _aligned_properties(graph):
        for subject, value in graph.subject_objects(prop):
            item = qid_of(graph, subject)
            if item is None or item not in known:
                continue
            if pid not in known:
                skipped.append(Skipped(subject, item, f"{prop} maps to {pid}, which is not a verified property"))
                continue
            if isinstance(value, Literal):
                target = _time(value)
                if target is None:
                    skipped.append(Skipped(subject, item, f"{pid}: the value {value!r} is not a date or a year"))
                    continue
            else:
                target = qid_of(graph, value)
                if target is None or target not in known:
                    skipped.append(Skipped(subject, item, f"{pid}: <{value}> has no verified Wikidata item"))
                    continue
            references = _references(graph, graph.objects(subject, PROV.wasDerivedFrom))
            statements.append(Statement(item, pid, target, (), references, "normal", subject))
    return statements, skipped


def _claim_statement(graph: Graph, claim, item: str, known: set[str]) -> Statement | Skipped:
    """One quantity claim about a linked item as a statement, or the reason it cannot be one."""
    def skip(reason: str) -> Skipped:
        """This claim, skipped for ``reason``."""
        return Skipped(claim, item, reason)

    category = graph.value(claim, KKG.category)
    pid = wikidata_id(graph.value(category, KKG.wikidataProperty)) if category is not None else None
    if pid is None:
        return skip(f"its category <{category}> has no Wikidata property")
    if pid not in known:
        return skip(f"its category maps to {pid}, which is not a verified property")
    if pid == "P1114":
        return skip(f"its category <{category}> maps to 'quantity' (P1114), and no verified property or item "
                    f"can say what is counted: the bare figure would be meaningless")
    unit = graph.value(claim, KKG.unit)
    if unit is not None:
        return skip(f"its unit <{unit}> has no verified Wikidata unit item")
    qualifiers = []
    for party in sorted(graph.objects(claim, KKG.appliesTo)):
        party_item = qid_of(graph, party)
        if party_item is None or party_item not in known:
            return skip(f"it applies to <{party}>, which has no verified Wikidata item; without "
                        f"'applies to part' the figure would read as a total")
        qualifiers.append((APPLIES_TO_PART, party_item))
    numbers = {name: graph.value(claim, prop) for name, prop in
               (("value", KKG.value), ("min", KKG.minValue), ("max", KKG.maxValue))}
    numbers = {k: Decimal(str(v)) for k, v in numbers.items() if v is not None}
    amount = numbers.get("value", numbers.get("min", numbers.get("max")))
    if amount is None:
        return skip("it has no figure")
    for concept in (graph.value(claim, KKG.approximation), graph.value(claim, KKG.epistemicStatus)):
        for match in graph.objects(concept, SKOS.exactMatch) if concept is not None else ():
            circumstance = wikidata_id(match)
            if circumstance and circumstance in known:
                qualifiers.append((SOURCING_CIRCUMSTANCES, circumstance))
    as_of = graph.value(claim, KKG.asOf)
    when = _point_in_time(as_of) if as_of is not None else None
    if when is not None and POINT_IN_TIME in known:
        qualifiers.append((POINT_IN_TIME, when))  # the reporting date: rival and revised figures stay apart
    rank = "normal"
    rank_concept = graph.value(claim, KKG.rank)
    for match in graph.objects(rank_concept, SKOS.exactMatch) if rank_concept is not None else ():
        rank = RANKS.get(match, rank)
    references = _references(graph, graph.objects(claim, KKG.sourceDocument))
    value = Quantity(amount, numbers.get("min"), numbers.get("max"))
    return Statement(item, pid, value, tuple(sorted(set(qualifiers), key=lambda q: (_number(q[0]), _value_key(q[1])))),
                     references, rank, claim)


def statements(graph: Graph) -> tuple[list[Statement], list[Skipped]]:
    """The Wikidata statements ``graph`` supports for its linked items, and what was skipped (both sorted)."""
    known = verified_ids()
    found, skipped = _fact_statements(graph, known)
    for claim in set(graph.subjects(KKG.about, None)):
        if not _is_a(graph, claim, KKG.QuantityClaim):
            continue
        item = qid_of(graph, graph.value(claim, KKG.about))
        if item is None or item not in known:
            continue
        result = _claim_statement(graph, claim, item, known)
        (found if isinstance(result, Statement) else skipped).append(result)
    found = sorted(set(found), key=Statement.sort_key)
    skipped = sorted(set(skipped), key=lambda s: (str(s.origin), s.reason))
    return found, skipped
