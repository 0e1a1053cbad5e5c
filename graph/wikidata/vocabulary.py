"""Wikidata: the vocabulary of Wikidata's RDF model, the verified item and property lists, and our
links to Wikidata items.

The only Wikidata IDs this project uses are those in the verified lists shipped in
``graph/data/wikidata/verified-items.tsv`` and ``verified-properties.tsv`` (byte-identical copies of
the shared lists ``shared/wikidata/items.tsv`` and ``properties.tsv``). Links are
``skos:exactMatch`` triples in the links graph (never ``owl:sameAs``: see docs/data-model.md).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS, SKOS

from ..core.errors import KkgError, Location
from ..core.iris import ID, KKG, WD, WDT

# Wikibase's RDF model (https://www.mediawiki.org/wiki/Wikibase/Indexing/RDF_Dump_Format).
WIKIBASE = Namespace("http://wikiba.se/ontology#")
P = Namespace("http://www.wikidata.org/prop/")
PS = Namespace("http://www.wikidata.org/prop/statement/")
PSV = Namespace("http://www.wikidata.org/prop/statement/value/")
PQ = Namespace("http://www.wikidata.org/prop/qualifier/")
PQV = Namespace("http://www.wikidata.org/prop/qualifier/value/")
PR = Namespace("http://www.wikidata.org/prop/reference/")
WIKIDATA_PREFIXES = {"wd": str(WD), "wdt": str(WDT), "wikibase": str(WIKIBASE), "p": str(P),
                     "ps": str(PS), "psv": str(PSV), "pq": str(PQ), "pqv": str(PQV),
                     "pr": str(PR)}

DATA_PACKAGE = "karabakh_kg.graph"
DATA_FOLDER = "data/wikidata"
ITEMS_FILE = "verified-items.tsv"
PROPERTIES_FILE = "verified-properties.tsv"

# What a link may point at, by the kind of our entity (from its class).
KIND_CLASSES = {"actor": KKG.Actor, "event": KKG.Event, "place": KKG.Place}


@dataclass(frozen=True)
class VerifiedItem:
    """One row of the verified item list: the label it was seen with, the QID, our kind, how sure, where seen."""

    label: str
    qid: str
    kind: str
    confidence: str
    evidence: str


@dataclass(frozen=True)
class VerifiedProperty:
    """One row of the verified property list: a property (P...) or a qualifier value item (Q...)."""

    id: str
    label: str
    use: str


def _data_text(name: str) -> tuple[str, str]:
    """A shipped file of graph/data/wikidata as (display name, text)."""
    entry = resources.files(DATA_PACKAGE) / DATA_FOLDER / name
    return f"graph/{DATA_FOLDER}/{name}", entry.read_text(encoding="utf-8")


def _rows(name: str, text: str, columns: tuple[str, ...]) -> list[tuple[int, list[str]]]:
    """The data rows of a tab-separated list with '#' comments and a header row, with line numbers."""
    out, header_seen = [], False
    for number, line in enumerate(io.StringIO(text), 1):
        line = line.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        cells = next(csv.reader([line], delimiter="\t", quoting=csv.QUOTE_NONE))
        if not header_seen:
            header_seen = True
            if tuple(cells[: len(columns)]) != columns:
                raise KkgError(f"expected the header {' | '.join(columns)}", code="bad-verified-list",
                               where=Location(name, number))
            continue
        out.append((number, cells + [""] * (len(columns) - len(cells))))
    return out


def parse_verified_items(text: str, name: str = ITEMS_FILE) -> dict[str, VerifiedItem]:
    """The verified items of a list in the shared format (label, qid, kind, confidence, evidence), by QID."""
    items = {}
    for number, cells in _rows(name, text, ("label", "qid", "kind", "confidence", "evidence")):
        item = VerifiedItem(*[c.strip() for c in cells[:5]])
        if not item.qid.startswith("Q") or not item.qid[1:].isdigit():
            raise KkgError(f"{item.qid!r} is not an item ID", code="bad-verified-list", where=Location(name, number))
        items[item.qid] = item
    return items


def parse_verified_properties(text: str, name: str = PROPERTIES_FILE) -> dict[str, VerifiedProperty]:
    """The verified properties and qualifier values of a list in the shared format (id, label, use), by ID."""
    found = {}
    for _number, cells in _rows(name, text, ("id", "label", "use")):
        prop = VerifiedProperty(*[c.strip() for c in cells[:3]])
        found[prop.id] = prop
    return found


@lru_cache(maxsize=1)
def verified_items() -> dict[str, VerifiedItem]:
    """The shipped verified item list, by QID (the only items links may point at)."""
    name, text = _data_text(ITEMS_FILE)
    return parse_verified_items(text, name)


@lru_cache(maxsize=1)
def verified_properties() -> dict[str, VerifiedProperty]:
    """The shipped verified property list (properties and qualifier values), by ID."""
    name, text = _data_text(PROPERTIES_FILE)
    return parse_verified_properties(text, name)


def verified_ids() -> set[str]:
    """Every Wikidata ID this project may use: verified items, properties and qualifier values."""
    return set(verified_items()) | set(verified_properties())


def wikidata_id(term) -> str | None:
    """``Q227`` for ``wd:Q227`` (also P-ids); None for anything that is not a Wikidata entity IRI."""
    if isinstance(term, URIRef) and str(term).startswith(str(WD)):
        local = str(term)[len(str(WD)):]
        if local[:1] in ("Q", "P") and local[1:].isdigit():
            return local
    return None


def qid_of(graph: Graph, node) -> str | None:
    """The Wikidata item our node is linked to with skos:exactMatch (verified or not), or None."""
    found = sorted(q for q in (wikidata_id(o) for o in graph.objects(node, SKOS.exactMatch))
                   if q and q.startswith("Q"))
    return found[0] if found else None


def kind_of(graph: Graph, node) -> str | None:
    """actor, event or place, from the node's classes (following rdfs:subClassOf), else None."""
    classes = set()
    for cls in graph.objects(node, RDF.type):
        classes.update(graph.transitive_objects(cls, RDFS.subClassOf))
    for kind, cls in KIND_CLASSES.items():
        if cls in classes:
            return kind
    return None


def english_labels(graph: Graph, node) -> tuple[str, ...]:
    """The node's English (or untagged) rdfs:label, skos:prefLabel and skos:altLabel values, sorted."""
    labels = set()
    for prop in (RDFS.label, SKOS.prefLabel, SKOS.altLabel):
        for label in graph.objects(node, prop):
            if isinstance(label, Literal) and (label.language or "en").lower().startswith("en"):
                labels.add(str(label))
    return tuple(sorted(labels))


@dataclass(frozen=True)
class Link:
    """One of our entities linked to a Wikidata item."""

    entity: URIRef
    qid: str
    kind: str | None
    labels: tuple[str, ...]
    confidence: str | None

    @property
    def item(self) -> URIRef:
        """The Wikidata entity IRI."""
        return WD[self.qid]


def links(graph: Graph) -> list[Link]:
    """Every skos:exactMatch from one of our instances to a Wikidata item, sorted by entity IRI."""
    out = []
    for entity, target in graph.subject_objects(SKOS.exactMatch):
        qid = wikidata_id(target)
        if not qid or not qid.startswith("Q") or not str(entity).startswith(str(ID)):
            continue
        if str(entity).startswith(f"{ID}concept/"):
            continue  # a controlled value aligned with a qualifier value: see alignments()
        confidence = graph.value(entity, KKG.wikidataLinkConfidence)
        out.append(Link(entity, qid, kind_of(graph, entity), english_labels(graph, entity),
                        str(confidence) if confidence is not None else None))
    return sorted(set(out), key=lambda link: (str(link.entity), link.qid))


def unlinked(graph: Graph) -> list[tuple[URIRef, str, str]]:
    """Our actors, events and places with no Wikidata link: (entity, kind, English label), sorted."""
    linked = {link.entity for link in links(graph)}
    out = set()
    for kind, cls in KIND_CLASSES.items():
        for entity in graph.subjects(RDF.type, cls):
            if isinstance(entity, URIRef) and entity not in linked and str(entity).startswith(str(ID)):
                labels = english_labels(graph, entity)
                out.add((entity, kind, labels[0] if labels else ""))
    return sorted(out, key=lambda row: (row[1], str(row[0])))


def alignments(graph: Graph) -> list[tuple[URIRef, str]]:
    """Our concepts aligned with Wikidata items by skos:exactMatch (qualifier values such as circa), sorted."""
    out = set()
    for concept, target in graph.subject_objects(SKOS.exactMatch):
        qid = wikidata_id(target)
        if qid and str(concept).startswith(f"{ID}concept/"):
            out.add((concept, qid))
    return sorted(out, key=lambda row: (str(row[0]), row[1]))
