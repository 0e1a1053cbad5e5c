"""One kkg:Source per page address: the pages attributed figures and event records are read from.

A page's IRI is derived from its address (``source:page-{host-and-path}-{hash}``), so the same
address always gives the same source, in the shipped facts and in a user's import alike.
"""

from __future__ import annotations

import hashlib
import re

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS

from ..core.iris import DCTERMS, KKG, SCHEMA, entity
from .figure_vocabulary import slugify
from .turtle_writer import TripleBuffer

CC_BY_SA = URIRef("https://creativecommons.org/licenses/by-sa/4.0/")
WIKIPEDIA = entity("source", "english-wikipedia")
# Copies of English Wikipedia articles (mirrors, Kiwix dumps, forks), by the words of their record.
_ENCYCLOPEDIA = re.compile(r"wikipedia|kiwix|infogalactic|wikizero|wikimili", re.I)
URL_PATTERN = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")


def page_iri(url: str) -> URIRef:
    """The source IRI of a page address: readable host and path, plus a short hash for uniqueness."""
    readable = slugify(re.sub(r"^https?://(www\.)?", "", url), 50)
    return entity("source", f"page-{readable}-{hashlib.sha256(url.encode()).hexdigest()[:6]}")


def split_title(page_title: str) -> tuple[str, str | None]:
    """``"Title (Publisher)"`` -> (title, publisher); a title without a final parenthesis has none."""
    match = re.fullmatch(r"(.+?)\s*\(([^()]*)\)\s*", page_title)
    if not match:
        return page_title.strip(), None
    return match.group(1).strip(), match.group(2).strip()


def is_encyclopedia_copy(page_title: str, url: str) -> bool:
    """True for a copy of an English Wikipedia article (its record names Wikipedia or a known mirror)."""
    return bool(_ENCYCLOPEDIA.search(page_title) or "wikipedia.org" in url)


def add_page(graph: Graph | TripleBuffer, url: str, page_title: str, as_of: Literal | None = None) -> URIRef:
    """Add the page as a kkg:Source (label, title, address, publisher, licence for Wikipedia copies,
    latest reporting date) and return its IRI."""
    page = page_iri(url)
    title, publisher = split_title(page_title)
    graph.add((page, RDFS.label, Literal(page_title, lang="en")))
    graph.add((page, DCTERMS.title, Literal(title)))
    graph.add((page, SCHEMA.url, URIRef(url)))
    if publisher:
        graph.add((page, KKG.publisherName, Literal(publisher)))
    if is_encyclopedia_copy(page_title, url):
        graph.add((page, RDF.type, KKG.EncyclopediaArticle))
        graph.add((page, DCTERMS.license, CC_BY_SA))
        graph.add((page, DCTERMS.language, Literal("en")))
        graph.add((page, DCTERMS.isPartOf, WIKIPEDIA))
    else:
        graph.add((page, RDF.type, KKG.WebPage))
    if as_of is not None:
        graph.add((page, KKG.asOf, as_of))
    return page


def latest(dates) -> Literal | None:
    """The latest of some reporting dates (ISO forms of any precision compare as text), or None."""
    dates = [d for d in dates if d is not None]
    return max(dates, key=str) if dates else None


def is_url(text: str) -> bool:
    """True for an absolute http(s) address without spaces or characters an IRI cannot hold."""
    return bool(URL_PATTERN.match(text))

