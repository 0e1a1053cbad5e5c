"""What each kind of page shows, worked out from the page's graph (the answer of
``entity_queries.PAGE_QUERY``): plain dicts and lists of :class:`~.term_view.Shown` terms that the
``entity.html`` template lays out.

- every page: the title, types, description, its statements (property: values) and the statements
  pointing to it;
- an event: participants by side with the status of each participation ("alleged by Armenia"), and
  every figure about it grouped by what it counts: each claimant's latest figure side by side with a
  chart, then the history of each claimant's figure (:mod:`.figure_series` has the rule);
- an actor: the claims it makes, the figures about its people, the events it is in, its Wikidata item;
- a claim: its provenance, its figure (and the figure it was later revised to), the verbatim source
  text, the Wikidata statement it exports to.
"""

from __future__ import annotations

from collections import defaultdict

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from ....graph.core.iris import ID, KKG, PROV
from ....graph.wikidata import export as wikidata_export
from . import figure_chart, figure_series
from .term_view import Shown, Terms, figure_text

CLAIMS = str(ID) + "claim/"
_SHOWN_APART = {RDF.type, RDFS.label, RDFS.comment, SKOS.prefLabel, SKOS.definition, KKG.verbatim}


def is_claim(node) -> bool:
    """True for one of our claim IRIs (claims are n-ary nodes: figures, participations, statements)."""
    return isinstance(node, URIRef) and str(node).startswith(CLAIMS)


def figure_of(graph: Graph, claim) -> str:
    """The claim's figure as reported ("~11,000", "60+")."""
    return figure_text(graph.value(claim, KKG.value), graph.value(claim, KKG.minValue),
                       graph.value(claim, KKG.maxValue), graph.value(claim, KKG.approximation),
                       graph.value(claim, KKG.unit))


def _number_of(graph: Graph, claim) -> float | None:
    for prop in (KKG.value, KKG.minValue, KKG.maxValue):
        found = graph.value(claim, prop)
        if isinstance(found, Literal):
            try:
                return float(found)
            except (TypeError, ValueError):
                return None
    return None


def statements_of(graph: Graph, entity, terms: Terms) -> list[dict]:
    """The entity's statements, one row per property (label, link, values), sorted by label."""
    by_property = defaultdict(list)
    for prop, value in graph.predicate_objects(entity):
        if prop not in _SHOWN_APART and not (prop == RDFS.label):
            by_property[prop].append(value)
    rows = [{"property": terms.show(prop), "values": terms.show_all(values)} for prop, values in by_property.items()]
    return sorted(rows, key=lambda r: r["property"].text.lower())


def pointing_to(graph: Graph, entity, terms: Terms, leave_out=()) -> list[dict]:
    """The statements pointing to the entity, one row per property: the subjects, sorted by label."""
    by_property = defaultdict(set)
    for subject, prop in graph.subject_predicates(entity):
        if prop not in leave_out:
            by_property[prop].add(subject)
    rows = [{"property": terms.show(prop), "subjects": terms.show_all(subjects)}
            for prop, subjects in by_property.items()]
    return sorted(rows, key=lambda r: r["property"].text.lower())


def claim_row(graph: Graph, claim, terms: Terms) -> dict:
    """One figure or participation as a row: the claim, its claimant, attribution, status, figure,
    reporting date, whose people it counts, its source document."""
    status = graph.value(claim, KKG.epistemicStatus)
    claimant = graph.value(claim, KKG.claimant)
    attribution = graph.value(claim, KKG.attribution)
    as_of = graph.value(claim, KKG.asOf)
    sources = list(graph.objects(claim, KKG.sourceDocument))
    own_voice = claimant is not None and claimant in sources
    if own_voice:  # the document states it in its own voice
        shown_claimant = Shown("the source itself", terms.href(claimant), terms.label(claimant))
    else:
        shown_claimant = terms.show(claimant) if claimant is not None else None
    return {
        "node": claim,
        "claim": terms.show(claim),
        "claimant": shown_claimant,
        "own_voice": own_voice,
        "attribution": str(attribution) if attribution is not None else None,
        "status": terms.label(status) if status is not None else None,
        "figure": figure_of(graph, claim),
        "as_of": terms.show(as_of) if as_of is not None else None,
        "number": _number_of(graph, claim),
        "applies_to": terms.show_all(graph.objects(claim, KKG.appliesTo)),
        "source": [terms.show(s) for s in sources],
        "verbatim": [str(v) for v in graph.objects(claim, KKG.verbatim)],
    }


def figure_groups(graph: Graph, claims, terms: Terms, by_event: bool = False) -> list[dict]:
    """Figures grouped by what they count (category and group of people; also the event when
    ``by_event``). In each group, ``rows`` are the rival figures side by side: the latest figure of
    each series (see :mod:`.figure_series`), with a bar chart of them; ``histories`` are the series
    of more than one figure, oldest to newest."""
    groups = defaultdict(list)
    for claim in claims:
        category = graph.value(claim, KKG.category)
        if category is not None:
            groups[_group_key(graph, claim, category, terms, by_event)].append(claim)
    out = [_figure_group(graph, key, members, terms) for key, members in groups.items()]
    # rival accounts first (figures from several claimants), then by what they count
    return sorted(out, key=lambda g: (not g["rival"], g["event"], g["category"], g["people"]))


def _group_key(graph: Graph, claim, category, terms: Terms, by_event: bool) -> tuple:
    group = graph.value(claim, KKG.personGroup)
    event = graph.value(claim, KKG.about) if by_event else None
    return (terms.label(event) if event is not None else "", terms.label(category),
            terms.label(group) if group is not None else "")


def _figure_group(graph: Graph, key: tuple, claims: list, terms: Terms) -> dict:
    event, category, people = key
    series = figure_series.series_of(graph, claims)
    row_of = {claim: claim_row(graph, claim, terms) for claim in claims}
    rows = [row_of[figure_series.latest(graph, ordered)] for ordered in series.values()]
    rows.sort(key=lambda r: (-(r["number"] or 0), r["claimant"].text if r["claimant"] else ""))
    title = (f"{event}: " if event else "") + (f"{category} ({people})" if people else category)
    histories = [_history(graph, speaker, whose, [row_of[c] for c in ordered], terms)
                 for (speaker, whose), ordered in series.items() if len(ordered) > 1]
    histories.sort(key=lambda h: (h["speaker"].text, h["whose_text"]))
    return {"title": title, "event": event, "category": category, "people": people, "rows": rows,
            "chart": _chart(title, rows), "rival": len(series) > 1, "histories": histories, "count": len(claims)}


def _chart(title: str, rows: list[dict]):
    """The bar chart of a group's rival figures, when there are several and each has a number."""
    if len(rows) < 2 or any(r["number"] is None for r in rows):
        return None
    claimants = {r["claimant"].text if r["claimant"] else "" for r in rows}
    return figure_chart.svg(title, [(_bar_label(r, len(claimants) < len(rows)), r["figure"], r["number"])
                                    for r in rows])


def _history(graph: Graph, speaker, whose, ordered: list[dict], terms: Terms) -> dict:
    latest = figure_series.latest(graph, [r["node"] for r in ordered])
    rows = [r | {"latest": r["node"] == latest} for r in ordered]
    others = sorted({r["claimant"].text for r in rows if r["claimant"]} - {terms.label(speaker)})
    return {"speaker": _speaker(speaker, ordered[0], terms), "with": others,
            "whose": terms.show_all(whose), "whose_text": ", ".join(w.text for w in terms.show_all(whose)),
            "rows": rows, "undated": sum(1 for r in rows if r["as_of"] is None)}


def _speaker(speaker, first: dict, terms: Terms) -> Shown:
    if first["own_voice"]:  # a page speaking in its own voice is its own series
        return first["claimant"]
    return terms.show(speaker) if speaker is not None else Shown("unattributed")


def _counted(graph: Graph, claim) -> tuple:
    """What a figure counts: its event, category, group of people and whose people."""
    return (graph.value(claim, KKG.about), graph.value(claim, KKG.category), graph.value(claim, KKG.personGroup),
            frozenset(graph.objects(claim, KKG.appliesTo)))


def revision(graph: Graph, claim, terms: Terms) -> dict | None:
    """For a figure that is not its claimant's latest for the same thing (see :mod:`.figure_series`),
    the latest as a row, with ``later`` true when the claim is dated (so the latest was reported
    after it); None for the latest figure itself, and for a claim that is no figure."""
    if graph.value(claim, KKG.category) is None:
        return None
    key = _counted(graph, claim)
    siblings = [c for c in set(graph.subjects(KKG.category, key[1])) if _counted(graph, c) == key]
    ordered = next(s for s in figure_series.series_of(graph, siblings).values() if claim in s)
    latest = figure_series.latest(graph, ordered)
    if latest == claim or graph.value(latest, KKG.asOf) is None:
        return None
    return claim_row(graph, latest, terms) | {"later": graph.value(claim, KKG.asOf) is not None}


def _bar_label(row: dict, with_whose: bool) -> str:
    who = row["claimant"].text if row["claimant"] else "unattributed"
    whose = ", ".join(a.text for a in row["applies_to"])
    return f"per {who}" + (f" ({whose})" if whose and with_whose else "")


def participants_by_side(graph: Graph, claims, terms: Terms) -> list[dict]:
    """Participation claims grouped by side: participant, role, and the status of the claim (its
    attribution words, "alleged by Armenia", else its status and claimant)."""
    sides = defaultdict(list)
    for claim in claims:
        participant = graph.value(claim, KKG.participant)
        if participant is None:
            continue
        side = graph.value(claim, KKG.side)
        row = claim_row(graph, claim, terms)
        row["participant"] = terms.show(participant)
        row["role"] = ", ".join(terms.label(r) for r in graph.objects(claim, KKG.role))
        sides[terms.label(side) if side is not None else "side not given"].append(row)
    return [{"side": side, "rows": sorted(rows, key=lambda r: r["participant"].text)}
            for side, rows in sorted(sides.items())]


def wikidata_statement(graph: Graph, claim) -> dict:
    """The Wikidata statement a claim exports to (as QuickStatements), or why it exports to none."""
    return wikidata_export.claim_statement(graph, claim)


def view(graph: Graph, entity: URIRef, kind: str, terms: Terms) -> dict:
    """Everything the page of ``entity`` shows (see the module docstring)."""
    claims_about = sorted({s for s in graph.subjects(KKG.about, entity) if is_claim(s)})
    page = {
        "kind": kind,
        "title": terms.label(entity),
        "iri": str(entity),
        "types": terms.show_all(graph.objects(entity, RDF.type)),
        "comments": [str(c) for c in graph.objects(entity, RDFS.comment)]
        + [str(c) for c in graph.objects(entity, SKOS.definition)],
        "alt_labels": sorted(str(a) for a in graph.objects(entity, SKOS.altLabel)),
        "statements": statements_of(graph, entity, terms),
        "verbatim": sorted(str(v) for v in graph.objects(entity, KKG.verbatim)),
    }
    shown_in_sections = set()
    if kind == "event":
        page["participants"] = participants_by_side(graph, claims_about, terms)
        page["figures"] = figure_groups(graph, claims_about, terms)
        page["other_claims"] = [claim_row(graph, c, terms) for c in claims_about
                                if graph.value(c, KKG.participant) is None and graph.value(c, KKG.category) is None]
        shown_in_sections.add(KKG.about)
    elif kind == "actor":
        made = sorted({s for s in graph.subjects(KKG.claimant, entity) if is_claim(s)})
        about_people = sorted({s for s in graph.subjects(KKG.appliesTo, entity) if is_claim(s)})
        page["claims_made"] = [claim_row(graph, c, terms) for c in made]
        page["figures"] = figure_groups(graph, about_people, terms, by_event=True)
        events = set(graph.subjects(KKG.involves, entity))
        for claim in graph.subjects(KKG.participant, entity):
            events.update(graph.objects(claim, KKG.about))
        page["events"] = terms.show_all(events)
        page["wikidata"] = terms.show_all(graph.objects(entity, SKOS.exactMatch))
        shown_in_sections.update({KKG.claimant, KKG.appliesTo})
    elif kind == "claim":
        page["claim"] = claim_row(graph, entity, terms)
        page["provenance"] = _provenance(graph, entity, terms)
        page["wikidata_statement"] = wikidata_statement(graph, entity)
        page["revision"] = revision(graph, entity, terms)
    page["pointing"] = pointing_to(graph, entity, terms, leave_out=shown_in_sections)
    return page


_PROVENANCE = (("claimant", KKG.claimant), ("attribution", KKG.attribution), ("status", KKG.epistemicStatus),
               ("rank", KKG.rank), ("source document", KKG.sourceDocument), ("section", KKG.section),
               ("field", KKG.field), ("about", KKG.about), ("derived from", PROV.wasDerivedFrom))


def _provenance(graph: Graph, claim, terms: Terms) -> list[dict]:
    rows = []
    for name, prop in _PROVENANCE:
        values = list(graph.objects(claim, prop))
        if values:
            rows.append({"name": name, "values": terms.show_all(values)})
    return rows


def ontology_view(graph: Graph, terms: Terms) -> dict:
    """The ontology page: its classes and properties, each with its anchor, label, definition,
    super-classes or super-properties, domain and range."""
    sections = {"Classes": [], "Properties": []}
    namespace = str(KKG)
    for subject in sorted(set(graph.subjects(RDF.type, None))):
        if not str(subject).startswith(namespace) or str(subject) == namespace:
            continue
        types = set(graph.objects(subject, RDF.type))
        section = "Classes" if OWL.Class in types or RDFS.Class in types else "Properties"
        sections[section].append({
            "anchor": str(subject)[len(namespace):],
            "label": terms.label(subject),
            "iri": str(subject),
            "definitions": [str(d) for d in graph.objects(subject, SKOS.definition)]
            + [str(c) for c in graph.objects(subject, RDFS.comment)],
            "parents": terms.show_all(list(graph.objects(subject, RDFS.subClassOf))
                                      + list(graph.objects(subject, RDFS.subPropertyOf))),
            "domain": terms.show_all(graph.objects(subject, RDFS.domain)),
            "range": terms.show_all(graph.objects(subject, RDFS.range)),
        })
    ontology = URIRef(namespace.rstrip("#"))
    return {"title": terms.label(ontology) if (ontology, None, None) in graph else "The karabakh-kg ontology",
            "comments": [str(c) for c in graph.objects(ontology, RDFS.comment)],
            "sections": [(name, items) for name, items in sections.items() if items]}

