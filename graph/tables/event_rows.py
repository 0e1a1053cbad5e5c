"""The event records of events.tsv as events and event-report claims.

Each row becomes a kkg:EventReportClaim: the page's title and dates for the event, as written and
as comparable days. Rows ``ID.altN`` are the same event read on another page, so two pages that
disagree (Sumgait began on 26 or 27 February 1988) give two claims about one event. The event
itself gets plain ``kkg:startDate``/``kkg:endDate`` only where all its reports agree, and always
``kkg:earliestDate``/``kkg:latestDate`` spanning every report, so range filters see it.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS

from ..core.iris import KKG, entity
from . import figure_vocabulary as vocab
from .page_sources import add_page, page_iri
from .reported_dates import date_literal, literal_span, plain_date, written_date_span

KINDS = {"conflict": KKG.Conflict, "pogrom": KKG.Pogrom, "war": KKG.War, "massacre": KKG.Massacre,
         "ceasefire": KKG.Ceasefire, "clashes": KKG.Clashes, "blockade": KKG.Blockade,
         "offensive": KKG.Offensive, "explosion": KKG.Incident, "exodus": KKG.Exodus}

# The part_of and follows/preceded columns, read once by hand (they are free text): only events
# of the table, only what the column says.
PART_OF = {
    "sumgait-pogrom": ("nagorno-karabakh-conflict", "first-nagorno-karabakh-war"),
    "first-nagorno-karabakh-war": ("nagorno-karabakh-conflict",),
    "khojaly-massacre": ("first-nagorno-karabakh-war",),
    "april-2016-war": ("nagorno-karabakh-conflict",),
    "second-nagorno-karabakh-war": ("nagorno-karabakh-conflict",),
    "blockade-2022-2023": ("nagorno-karabakh-conflict",),
    "2023-azerbaijani-offensive": ("nagorno-karabakh-conflict",),
    "2023-fuel-depot-explosion": ("2023-exodus",),
}
FOLLOWS = {
    "bishkek-protocol": ("first-nagorno-karabakh-war",),
    "2020-ceasefire-statement": ("second-nagorno-karabakh-war",),
    "2023-azerbaijani-offensive": ("blockade-2022-2023",),
    "2023-exodus": ("2023-azerbaijani-offensive",),
}
CAUSED_BY = {"2023-exodus": ("2023-azerbaijani-offensive",)}

# Titles of the pages that give only an event row (events.tsv has no title column), from the
# "Pages used" list of the collector's README.
EVENT_PAGE_TITLES = {
    "https://en.m.wikipedia.org/wiki/Nagorno-Karabakh_conflict":
        "Nagorno-Karabakh conflict (en.m.wikipedia.org, stored copy)",
    "http://the-uncensored-wiki.com:20171/2017-wikipedia_en_all_novid_2017-08/A/Khojaly_Massacre.html":
        "Khojaly Massacre (wikipedia_en_all_novid_2017-08 copy)",
    "https://en.wikipedia.org/wiki/Bishkek_Protocol": "Bishkek Protocol (en.wikipedia.org, stored copy)",
    "https://pax.peaceagreements.org/agreements/310": "Bishkek Protocol (PA-X Peace Agreements Database)",
    "https://armenpress.am/eng/news/1120489/":
        "Deaths and multiple injuries reported in fuel depot blast in Nagorno-Karabakh (Armenpress)",
}


def read_event_rows(data: bytes) -> list[dict]:
    """The rows of events.tsv as dicts keyed by its header."""
    reader = csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""), delimiter="\t")
    return [{k: (v or "").strip() for k, v in row.items()} for row in reader]


def base_id(row_id: str) -> str:
    """``sumgait-pogrom.alt1`` -> ``sumgait-pogrom``."""
    return row_id.split(".alt")[0]


def report_span(row: dict) -> tuple[date | None, date | None]:
    """The first day the page lets the event begin and the last day it lets it end (None: open)."""
    start = written_date_span(row["start"])
    end = written_date_span(row["end"]) if row["end"] else None
    first = start[0] if start else None
    if row["end"].lower().startswith("present"):
        return first, None
    last = end[1] if end else (start[1] if start else None)
    return first, last


def add_report(graph: Graph, row: dict, page_titles: dict) -> URIRef:
    """Add one row as an event-report claim (and its page); return the claim."""
    event = vocab.event_iri(base_id(row["id"]))
    page = add_page(graph, row["url"], page_titles[row["url"]])
    claim = entity("claim", "event-report-" + vocab.slugify(row["id"].replace(".", "-"), 60))
    when = row["start"] + (f" – {row['end']}" if row["end"] else "")
    graph.add((claim, RDF.type, KKG.EventReportClaim))
    graph.add((claim, RDFS.label, Literal(f"{row['label']}: {when}, per {page_titles[row['url']]}", lang="en")))
    graph.add((claim, KKG.about, event))
    graph.add((claim, KKG.claimant, page))
    graph.add((claim, KKG.sourceDocument, page))
    graph.add((claim, KKG.epistemicStatus, entity("concept", "status-stated")))
    graph.add((claim, KKG.rank, entity("concept", "rank-normal")))
    graph.add((claim, KKG.verbatim, Literal(row["evidence"])))
    graph.add((claim, KKG.reportedTitle, Literal(row["label"])))
    graph.add((claim, KKG.reportedStart, Literal(row["start"])))
    if row["end"]:
        graph.add((claim, KKG.reportedEnd, Literal(row["end"])))
    first, last = report_span(row)
    if first:
        graph.add((claim, KKG.earliestDate, date_literal(first)))
    if last:
        graph.add((claim, KKG.latestDate, date_literal(last)))
    notes = "; ".join(f"{k}: {row[k]}" for k in ("part_of", "follows/preceded") if row.get(k))
    if notes:
        graph.add((claim, RDFS.comment, Literal(f"The record's {notes}", lang="en")))
    return claim


def events_graph(rows: list[dict], page_titles: dict, seed_events: set[URIRef]) -> Graph:
    """Events (new ones defined, the seed's ones only linked), their reports, order and comparable span.

    ``page_titles`` maps each page address to its record's title; ``seed_events`` are the events
    the seed facts define already (they keep their label, class and plain dates).
    """
    graph = Graph()
    titles = {**EVENT_PAGE_TITLES, **page_titles}
    by_event: dict[str, list[dict]] = {}
    for row in rows:
        by_event.setdefault(base_id(row["id"]), []).append(row)
        add_report(graph, row, titles)
    for event_id, reports in by_event.items():
        event = vocab.event_iri(event_id)
        main = next(r for r in reports if r["id"] == event_id)
        if event not in seed_events:  # the seed's events keep their source; their reports cite the page
            graph.add((event, PROV.wasDerivedFrom, page_iri(main["url"])))
            graph.add((event, RDF.type, KINDS[main["kind"]]))
            graph.add((event, RDFS.label, Literal(main["label"], lang="en")))
            for column, prop in (("start", KKG.startDate), ("end", KKG.endDate)):
                values = {plain_date(r[column]) if r[column] else None for r in reports}
                if len(values) == 1 and None not in values:
                    graph.add((event, prop, values.pop()))
        for prop, table in ((KKG.partOf, PART_OF), (KKG.follows, FOLLOWS), (KKG.causedBy, CAUSED_BY)):
            for other in table.get(event_id, ()):
                graph.add((event, prop, vocab.event_iri(other)))
    return graph


def comparable_span(graph: Graph, event: URIRef) -> tuple[date | None, date | None]:
    """The earliest start and latest end an event's plain dates and reports allow (None: unknown or open)."""
    firsts, lasts, open_ended = [], [], False
    for prop in (KKG.startDate, KKG.pointInTime):
        for value in graph.objects(event, prop):
            first, last = literal_span(value)
            firsts.append(first)
            lasts.append(last)
    for value in graph.objects(event, KKG.endDate):
        lasts.append(literal_span(value)[1])
    for claim in graph.subjects(KKG.about, event):
        if (claim, RDF.type, KKG.EventReportClaim) not in graph:
            continue
        firsts += [date.fromisoformat(str(d)) for d in graph.objects(claim, KKG.earliestDate)]
        ends = [date.fromisoformat(str(d)) for d in graph.objects(claim, KKG.latestDate)]
        lasts += ends
        open_ended = open_ended or not ends
    return (min(firsts) if firsts else None), (None if open_ended or not lasts else max(lasts))
