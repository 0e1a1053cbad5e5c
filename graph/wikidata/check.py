"""``links check``: every link to Wikidata compared with Wikidata's entity data.

A link passes when the item is in the verified list, exists, is not a redirect, its English label
(or one of its English aliases) equals one of our English labels, and its type is plausible for
our class. Plausibility: the document's entity type is ``item``, and our entity's kind (actor,
event or place, from its class) equals the kind the verified list records for that QID. Wikidata's
own classes (P31) are not compared: no class item is in the verified list, so there is nothing
verified to compare them with.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Callable

from rdflib import Graph, URIRef

from .entities import EntityRecord
from .vocabulary import (
    VerifiedItem,
    alignments,
    links,
    verified_items,
    verified_properties,
)


@dataclass(frozen=True)
class Mismatch:
    """One problem with one link: our entity, the QID, what is wrong."""

    entity: URIRef
    qid: str
    problem: str

    def __str__(self) -> str:
        return f"<{self.entity}> wd:{self.qid}: {self.problem}"


def normalise(label: str) -> str:
    """A label compared loosely: Unicode NFC, case-folded, inner whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFC", label).casefold().split())


def check_link(entity: URIRef, qid: str, kind: str | None, labels: tuple[str, ...], record: EntityRecord,
               verified: dict[str, VerifiedItem]) -> list[Mismatch]:
    """The problems of one link, given the item's record; empty when the link is fine."""
    def problem(text: str) -> Mismatch:
        """A mismatch of this link."""
        return Mismatch(entity, qid, text)

    found = []
    if qid not in verified:
        found.append(problem("the item is not in the verified list (never guess IDs)"))
    if not record.exists:
        return found + [problem(f"the item does not exist (no entity document: {record.source})")]
    if record.redirect_to and record.redirect_to != qid:
        return found + [problem(f"the item is a redirect to {record.redirect_to}: link to that item instead")]
    if record.type and record.type != "item":
        found.append(problem(f"the entity is a {record.type}, not an item"))
    ours = {normalise(label) for label in labels}
    theirs = [name for name in record.names if name]
    if not theirs:
        found.append(problem("the item has no English label or alias to compare"))
    elif not ours & {normalise(name) for name in theirs}:
        ours_text = ", ".join(repr(label) for label in labels) or "none"
        found.append(problem(f"English label {record.label!r} (aliases: "
                             f"{', '.join(repr(a) for a in record.aliases) or 'none'}) matches none of our "
                             f"labels ({ours_text})"))
    expected = verified.get(qid)
    if expected is not None and kind != expected.kind:
        found.append(problem(f"implausible type: the verified list records {qid} as {expected.kind}, "
                             f"but our entity's class makes it {kind or 'neither an actor, an event nor a place'}"))
    return found


def check_links(graph: Graph, documents: Callable[[str], EntityRecord],
                verified: dict[str, VerifiedItem] | None = None) -> tuple[int, list[Mismatch]]:
    """Check every link of ``graph`` against the records ``documents`` gives; (links checked, mismatches).

    ``documents`` is a RecordedDocuments or LiveDocuments (or any callable QID -> EntityRecord);
    a live source that cannot reach the network raises a KkgError saying so.
    """
    verified = verified_items() if verified is None else verified
    mismatches = []
    all_links = links(graph)
    for link in all_links:
        mismatches.extend(check_link(link.entity, link.qid, link.kind, link.labels, documents(link.qid), verified))
    values = verified_properties()
    aligned = alignments(graph)
    for concept, qid in aligned:
        if qid not in values:
            mismatches.append(Mismatch(concept, qid, "aligned with an item that is not among the verified "
                                                     "qualifier values (properties list)"))
    return len(all_links) + len(aligned), mismatches
