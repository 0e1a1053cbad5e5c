"""A table of attributed figures (the columns of figures.tsv), checked row by row and turned into
claims: one kkg:Source per page, one claim per row.

The same code converts the shipped figures (``source_facts``) and a user's file
(``karabakh-kg import``). Every problem names its row (the file's line) and column, and all of
them are reported at once.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS

from ..core.errors import KkgError, Location
from ..core.iris import DCTERMS, KKG, entity
from . import figure_vocabulary as vocab
from .page_sources import add_page, is_url, latest, page_iri
from .reported_dates import reporting_date
from .turtle_writer import TripleBuffer

COLUMNS = ("id", "event", "claimant_as_written", "claimant", "category", "group", "whose", "value", "min",
           "max", "approximation", "as_of", "entry", "url", "page_title", "note")
REQUIRED = ("id", "event", "category", "approximation", "entry", "url", "page_title")
STATED = entity("concept", "status-stated")
NORMAL = entity("concept", "rank-normal")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class FigureRow:
    """One checked row: the cells as written, and where it is in its file."""

    cells: dict
    line: int

    def __getitem__(self, column: str) -> str:
        return self.cells[column]


def _number(text: str) -> int | None:
    return int(text) if text else None


def _row_problems(cells: dict) -> list[tuple[str, str]]:
    """(column, message) for everything wrong with one row."""
    problems = [(c, "is empty") for c in REQUIRED if not cells[c]]
    if cells["id"] and not _ID.match(cells["id"]):
        problems.append(("id", f"{cells['id']!r} must be letters, digits, '-', '_' or '.'"))
    if cells["event"] and vocab.event_iri(cells["event"]) is None:
        problems.append(("event", f"unknown event {cells['event']!r}: use an id of events.tsv "
                                  f"({', '.join(sorted(vocab.EVENTS))}) or event:SLUG"))
    if cells["category"] and cells["category"] not in vocab.CATEGORIES:
        problems.append(("category", f"unknown category {cells['category']!r}; choose one of: "
                                     f"{', '.join(vocab.CATEGORIES)}"))
    for column in ("value", "min", "max"):
        if cells[column] and not cells[column].isdigit():
            problems.append((column, f"{cells[column]!r} is not a whole number >= 0 (digits only, no commas)"))
    approximation = cells["approximation"]
    if approximation and approximation not in vocab.APPROXIMATIONS:
        problems.append(("approximation", f"unknown approximation {approximation!r}; choose one of: "
                                          f"{', '.join(vocab.APPROXIMATIONS)}"))
    needs = {"exact": ("value",), "approximately": ("value",), "at least": ("min",), "range": ("min", "max")}
    if approximation in needs and not any(c for c, _ in problems if c in ("value", "min", "max")):
        wanted = needs[approximation]
        for column in ("value", "min", "max"):
            if column in wanted and not cells[column]:
                problems.append((column, f"is empty but approximation is {approximation!r}"))
            if column not in wanted and cells[column]:
                problems.append((column, f"must be empty when approximation is {approximation!r} "
                                         f"(uses {' and '.join(wanted)})"))
        if approximation == "range" and cells["min"] and cells["max"] and int(cells["min"]) > int(cells["max"]):
            problems.append(("max", f"{cells['max']} is below min {cells['min']}"))
    if cells["as_of"]:
        try:
            reporting_date(cells["as_of"])
        except ValueError as exc:
            problems.append(("as_of", str(exc)))
    if cells["url"] and not is_url(cells["url"]):
        problems.append(("url", f"{cells['url']!r} is not an http(s) address"))
    return problems


def read_rows(data: bytes, name: str) -> list[FigureRow]:
    """The rows of a CSV (or, for a ``.tsv`` name, tab-separated) figures table, every one checked.

    Problems raise one KkgError whose details list each as ``FILE:LINE: column NAME (N): message``.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise KkgError("file is not UTF-8", code="bad-table", where=Location(name, line)) from None
    delimiter = "\t" if name.lower().endswith(".tsv") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if not header:
        raise KkgError("the table is empty: expected a header row with the columns "
                       + ", ".join(COLUMNS), code="bad-table", where=Location(name, 1))
    header = [h.strip() for h in header]
    missing = [c for c in COLUMNS if c not in header]
    unknown = [h for h in header if h not in COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        said = (["missing column(s): " + ", ".join(missing)] if missing else []) + (
            ["unknown column(s): " + ", ".join(unknown)] if unknown else []) + (
            ["a column is named twice"] if len(set(header)) != len(header) else [])
        raise KkgError("bad header: " + "; ".join(said) + f" (expected: {', '.join(COLUMNS)})",
                       code="bad-table", where=Location(name, 1))
    position = {column: header.index(column) + 1 for column in COLUMNS}
    rows, details, seen = [], [], {}
    for cells_list in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells_list):
            continue
        if len(cells_list) != len(header):
            details.append(f"{name}:{line}: has {len(cells_list)} cells, the header has {len(header)}")
            continue
        cells = {h: cell.strip() for h, cell in zip(header, cells_list)}
        problems = _row_problems(cells)
        if cells["id"] in seen:
            problems.append(("id", f"{cells['id']!r} is already the id of line {seen[cells['id']]}"))
        seen.setdefault(cells["id"], line)
        details += [f"{name}:{line}: column {column} ({position[column]}): {message}"
                    for column, message in problems]
        rows.append(FigureRow(cells, line))
    if details:
        first = re.match(r".*?:(\d+):", details[0])
        raise KkgError(f"{len(details)} problem(s) in the figures table", code="bad-table",
                       where=Location(name, int(first.group(1)) if first else None), details=details)
    if not rows:
        raise KkgError("the table has a header but no rows", code="bad-table", where=Location(name, 2))
    return rows


def read_file(path: str | Path) -> list[FigureRow]:
    """The checked rows of a figures table on disk; a missing file is a KkgError naming it."""
    p = Path(path)
    if not p.is_file():
        raise KkgError(f"no such file: {path}", code="no-such-file")
    return read_rows(p.read_bytes(), str(path))


def figure_text(row: FigureRow) -> str:
    """The figure as the pages write it: ``2,906``, ``~430``, ``200+``, ``31–94``."""
    fmt = lambda n: f"{int(n):,}"  # noqa: E731
    approximation = row["approximation"]
    if approximation == "range":
        return f"{fmt(row['min'])}–{fmt(row['max'])}"
    if approximation == "at least":
        return f"{fmt(row['min'])}+"
    return ("~" if approximation == "approximately" else "") + fmt(row["value"])


def _parties(row: FigureRow, group: URIRef | None) -> tuple[URIRef, ...]:
    whose = row["whose"]
    if group == vocab.G("civilians") and whose in vocab.CIVILIANS_OF:
        return (vocab.CIVILIANS_OF[whose],)
    return vocab.WHOSE.get(whose, ())


def _group(row: FigureRow) -> URIRef | None:
    group = vocab.GROUPS.get(row["group"])
    if group is None and "civilians" in row["whose"].lower():
        return vocab.G("civilians")  # "Azerbaijani civilians" says which people as well as whose
    return group


def claim_iri(row: FigureRow, prefix: str = "") -> URIRef:
    """``claim:{prefix}{id}-{category}-per-{claimant}``: stable while the row's id is."""
    claimant = vocab.claimant_entry(row["claimant"]).slug if row["claimant"] else "the-page"
    category = vocab.slugify(row["category"].replace("other:", ""), 30)
    return entity("claim", f"{vocab.slugify(prefix + row['id'], 40)}-{category}-per-{claimant}")


def add_claim(graph: Graph | TripleBuffer, row: FigureRow, event_labels: dict, prefix: str = "") -> URIRef:
    """Add one row as a claim (and its page and any new claimant) to ``graph``; return the claim."""
    claim = claim_iri(row, prefix)
    page = page_iri(row["url"])
    category, cls = vocab.CATEGORIES[row["category"]]
    group = _group(row)
    if row["claimant"]:
        entry = vocab.claimant_entry(row["claimant"])
        claimant = entity("actor", entry.slug)
        if entry.cls is not None:
            graph.add((claimant, RDF.type, entry.cls))
            graph.add((claimant, RDFS.label, Literal(entry.label, lang="en")))
            graph.add((claimant, PROV.wasDerivedFrom, page))
        claimant_label = entry.label or row["claimant"]
    else:
        claimant, claimant_label = page, "the page"
    event = vocab.event_iri(row["event"])
    what = " ".join(w for w in (row["whose"], row["group"], row["category"].replace("other:", "")) if w)
    as_of = f", as of {row['as_of']}" if row["as_of"] else ""
    label = f"{event_labels.get(row['event'], row['event'])}: {what}, per {claimant_label}: {figure_text(row)}{as_of}"
    add = graph.add
    add((claim, RDF.type, cls))
    add((claim, RDFS.label, Literal(label, lang="en")))
    add((claim, DCTERMS.identifier, Literal(row["id"])))
    add((claim, KKG.about, event))
    add((claim, KKG.category, category))
    if group is not None:
        add((claim, KKG.personGroup, group))
    if row["group"]:
        add((claim, KKG.personGroupText, Literal(row["group"])))
    for party in _parties(row, group):
        add((claim, KKG.appliesTo, party))
    if row["whose"]:
        add((claim, KKG.appliesToText, Literal(row["whose"])))
    for column, prop in (("value", KKG.value), ("min", KKG.minValue), ("max", KKG.maxValue)):
        if row[column]:
            add((claim, prop, Literal(int(row[column]))))
    add((claim, KKG.approximation, vocab.APPROXIMATIONS[row["approximation"]]))
    add((claim, KKG.claimant, claimant))
    if row["claimant_as_written"]:
        add((claim, KKG.attribution, Literal(row["claimant_as_written"])))
    add((claim, KKG.epistemicStatus, STATED))
    add((claim, KKG.rank, NORMAL))
    add((claim, KKG.sourceDocument, page))
    if row["as_of"]:
        add((claim, KKG.asOf, reporting_date(row["as_of"])))
    add((claim, KKG.verbatim, Literal(row["entry"])))
    if row["note"]:
        add((claim, RDFS.comment, Literal(row["note"], lang="en")))
    return claim


def figures_graph(rows: list[FigureRow], event_labels: dict | None = None, prefix: str = "") -> TripleBuffer:
    """The claims of ``rows`` with their pages (each page once, dated by its latest figure) and
    their new claimants, in the order made (``.to_graph()`` for an rdflib graph)."""
    graph = TripleBuffer()
    pages: dict[str, list] = {}
    for row in rows:
        pages.setdefault(row["url"], []).append(row)
    for url, page_rows in pages.items():
        dates = [reporting_date(r["as_of"]) if r["as_of"] else None for r in page_rows]
        add_page(graph, url, page_rows[0]["page_title"], latest(dates))
    for row in rows:
        add_claim(graph, row, event_labels or {}, prefix)
    return graph

