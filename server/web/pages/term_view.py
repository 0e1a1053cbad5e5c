"""RDF terms as people read them: IRIs as links to their pages with their labels, literals without
language noise, numbers with thousands separators, dates spelled out, figures with "~" and "+".

One :class:`Terms` per page knows the page's labels (from the page's own graph, or from a label
query) and where the canonical base is served (setting ``site_base``), so the data keeps its
canonical IRIs while the links work on a laptop.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from rdflib import BNode, Literal, URIRef
from rdflib.namespace import RDFS, XSD

from ....graph.core.iris import BASE, PREFIXES

_NUMERIC = {XSD.integer, XSD.int, XSD.long, XSD.short, XSD.nonNegativeInteger, XSD.positiveInteger,
            XSD.decimal, XSD.double, XSD.float}
_ONTOLOGY = BASE + "ontology"

APPROXIMATELY = BASE + "id/concept/approximation-approximately"
AT_LEAST = BASE + "id/concept/approximation-at-least"
PERCENT = BASE + "id/concept/unit-percent"


@dataclass(frozen=True)
class Shown:
    """A term ready for a template: its text, its link (or None), a tooltip, and a language tag to
    show (only where a value has several languages)."""

    text: str
    href: str | None = None
    title: str | None = None
    lang: str | None = None
    numeric: bool = False


def local_path(iri: str) -> str | None:
    """The path under the canonical base (``id/actor/azerbaijan``, ``ontology#Actor``), or None for
    an IRI that is not ours."""
    if iri.startswith(_ONTOLOGY + "#"):
        return "ontology" + iri[len(_ONTOLOGY):]
    if iri == _ONTOLOGY:
        return "ontology"
    if iri.startswith(BASE + "id/"):
        return iri[len(BASE):]
    return None


def href_of(iri: str, site_base: str, root: str = "/") -> str:
    """Where a link to ``iri`` goes: our identifiers to ``site_base`` (or this server's ``root`` when
    the setting is empty), anything else to the IRI itself."""
    path = local_path(iri)
    if path is None:
        return iri
    return (site_base or root) + path


def curie(iri: str) -> str:
    """``kkg:Actor``, ``wd:Q43``: the shortest prefixed name for an IRI, or the IRI itself."""
    best = None
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and (best is None or len(namespace) > len(PREFIXES[best])):
            best = prefix
    return f"{best}:{iri[len(PREFIXES[best]):]}" if best else iri


def number_text(value) -> str:
    """A number with thousands separators (2,906), decimals kept as written (72.5)."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if number == number.to_integral_value() and "e" not in str(value).lower():
        return f"{int(number):,}"
    return f"{number:,}"


def date_text(value: Literal) -> str:
    """An xsd:date as "27 September 2020", an xsd:gYearMonth as "June 2025"; other literals as written."""
    try:
        if value.datatype == XSD.date:
            day = datetime.date.fromisoformat(str(value))
            return f"{day.day} {day:%B %Y}"
        if value.datatype == XSD.gYearMonth:
            return f"{datetime.date.fromisoformat(str(value) + '-01'):%B %Y}"
    except ValueError:
        pass
    return str(value)


def figure_text(value=None, minimum=None, maximum=None, approximation=None, unit=None) -> str:
    """A reported figure as the source wrote it: "2,906", "~11,000", "60+", "100–200", "72%"."""
    unit_text = "%" if unit is not None and str(unit) == PERCENT else ""
    if value is not None:
        text = number_text(value)
        if approximation is not None and str(approximation) == APPROXIMATELY:
            text = "~" + text
        return text + unit_text
    if minimum is not None and maximum is not None:
        return f"{number_text(minimum)}–{number_text(maximum)}{unit_text}"
    if minimum is not None:
        return f"{number_text(minimum)}{unit_text}+"
    if maximum is not None:
        return f"up to {number_text(maximum)}{unit_text}"
    return ""


class Terms:
    """Labels and links for the terms of one page."""

    def __init__(self, labels: dict[str, list[Literal]], site_base: str = "", root: str = "/"):
        self.labels = labels
        self.site_base = site_base
        self.root = root

    @classmethod
    def from_graph(cls, graph, site_base: str = "", root: str = "/") -> "Terms":
        """The labels a page's graph carries (its ``rdfs:label`` statements)."""
        labels: dict[str, list[Literal]] = {}
        for subject, label in graph.subject_objects(RDFS.label):
            if isinstance(label, Literal):
                labels.setdefault(str(subject), []).append(label)
        return cls(labels, site_base, root)

    def label(self, term) -> str:
        """The English (else untagged, else any) label of an IRI, else its prefixed name."""
        found = self.labels.get(str(term))
        if found:
            for wanted in ("en", None):
                for label in sorted(found):
                    if label.language == wanted:
                        return str(label)
            return str(sorted(found)[0])
        if isinstance(term, BNode):
            return "(blank node)"
        return curie(str(term))

    def href(self, iri) -> str:
        """The link for an IRI (see :func:`href_of`)."""
        return href_of(str(iri), self.site_base, self.root)

    def show(self, term, several_languages: bool = False) -> Shown:
        """A term for a template: a link with its label for an IRI, readable text for a literal."""
        if isinstance(term, URIRef):
            return Shown(self.label(term), self.href(term), str(term))
        if isinstance(term, BNode):
            return Shown("(blank node)")
        if isinstance(term, Literal):
            return literal_shown(term, several_languages)
        return Shown(str(term))

    def show_all(self, terms) -> list[Shown]:
        """Several values of one property, sorted by their text; a language tag on each only when
        the values come in several languages."""
        terms = list(terms)
        languages = {t.language for t in terms if isinstance(t, Literal) and t.language}
        shown = [self.show(t, several_languages=len(languages) > 1) for t in terms]
        return sorted(shown, key=lambda s: s.text.lower())


def literal_shown(term: Literal, several_languages: bool = False) -> Shown:
    """A literal for people: numbers formatted, dates spelled out, no language tag unless asked."""
    if term.datatype in _NUMERIC:
        return Shown(number_text(term), title=curie(str(term.datatype)), numeric=True)
    if term.datatype in (XSD.date, XSD.gYearMonth):
        return Shown(date_text(term), title=str(term))
    return Shown(str(term), lang=term.language if several_languages else None)
