"""Content negotiation, driven by the format table (``graph/formats.py``).

A response format is chosen from, in order: an explicit ``format=``/``output=`` parameter (what
SPARQLWrapper, YASGUI and others send, as a short name or a media type), a file extension in the
URL, or the ``Accept`` header with its q-values and wildcards. Which formats are candidates depends
on what is being answered: a table (SELECT, ASK), a graph (CONSTRUCT, DESCRIBE, exports) or a
page for people.

A few media types and names mean different formats for tables and for graphs (``xml`` is SPARQL
XML results for SELECT but RDF/XML for CONSTRUCT; ``application/json`` is SPARQL JSON results or
JSON-LD); :data:`KIND_ALIASES` settles them, and is the only list of media types outside the table.
"""

from __future__ import annotations

import functools

from dataclasses import dataclass

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from ..graph import formats, memo
from ..graph.errors import KkgError

TABLE = "table"  # SELECT and ASK results
GRAPH = "graph"  # CONSTRUCT and DESCRIBE results, one graph of the dataset
DATASET = "dataset"  # the whole dataset (named graphs kept by the quad formats)

# Preference order when the client accepts several equally: the first is the default for */*.
_ORDER = {
    TABLE: ("json", "srx", "csv", "tsv", "table"),
    GRAPH: ("turtle", "ntriples", "jsonld", "xml", "trig", "nquads"),
    DATASET: ("trig", "nquads", "jsonld", "turtle", "ntriples", "xml"),
}

# Names and media types whose meaning depends on the kind of answer (see the module docstring).
KIND_ALIASES = {
    TABLE: {"xml": "srx", "application/xml": "srx", "text/xml": "srx", "sparql-json": "json",
            "text/plain": "table", "txt": "table"},
    GRAPH: {"json": "jsonld", "application/json": "jsonld", "application/x-json+ld": "jsonld",
            "rdf+xml": "xml", "application/xml": "xml", "text/xml": "xml",
            "n3": "turtle", "text/n3": "turtle", "text/rdf+n3": "turtle", "application/n3": "turtle",
            "application/turtle": "turtle", "text/plain": "ntriples"},
}

KIND_ALIASES[DATASET] = KIND_ALIASES[GRAPH]

KIND_OF_QUERY = {"SelectQuery": TABLE, "AskQuery": TABLE, "ConstructQuery": GRAPH, "DescribeQuery": GRAPH}


def without_parameters(accept: MIMEAccept) -> MIMEAccept:
    """The Accept header with media type parameters other than q dropped and types lower-cased,
    so ``application/sparql-results+json; charset=utf-8`` matches the plain type."""
    return MIMEAccept([(value.split(";")[0].strip().lower(), quality) for value, quality in accept])


def request_accept() -> MIMEAccept:
    """The current request's Accept header, parameters dropped (see :func:`without_parameters`)."""
    from flask import request

    return _accept_of(request.headers.get("Accept", ""))


@memo.per_text
def _accept_of(header: str) -> MIMEAccept:
    """An Accept header parsed once per distinct value: clients send the same few again and again."""
    return without_parameters(parse_accept_header(header, MIMEAccept))


def candidates(kind: str) -> tuple[formats.Format, ...]:
    """The formats that can carry this kind of answer, in preference order."""
    return tuple(formats.by_name(name) for name in _ORDER[kind])


@functools.lru_cache(maxsize=None)
def media_types(kind: str) -> list[tuple[str, str]]:
    """(media type, format name) pairs for this kind of answer, in preference order (computed once
    per kind from the format table: callers must not change the list)."""
    pairs = []
    for fmt in candidates(kind):
        pairs += [(media_type, fmt.name) for media_type in fmt.all_media_types]
    pairs += [(alias, name) for alias, name in KIND_ALIASES[kind].items() if "/" in alias]
    seen, unique = set(), []
    for media_type, name in pairs:
        if media_type not in seen:
            seen.add(media_type)
            unique.append((media_type, name))
    return unique


def by_parameter(value: str, kind: str) -> formats.Format | None:
    """The format a ``format=`` value names for this kind of answer (short name, extension or media type)."""
    wanted = value.split(";")[0].strip().lower()
    if not wanted:
        return None
    if wanted in KIND_ALIASES[kind]:
        return formats.by_name(KIND_ALIASES[kind][wanted])
    among = candidates(kind)
    for fmt in among:
        if wanted in (fmt.name, fmt.extension, fmt.media_type) or wanted in fmt.aliases:
            return fmt
    return None


def by_accept(accept: MIMEAccept, kind: str) -> formats.Format | None:
    """The best format for an Accept header (q-values, wildcards), or None when nothing acceptable."""
    return _by_accept(tuple(accept), kind)


@functools.lru_cache(maxsize=256)
def _by_accept(accepted: tuple, kind: str) -> formats.Format | None:
    """:func:`by_accept` once per distinct Accept header and kind: werkzeug's matching of every
    media type against every accepted one was a fifth of a look-up's time in the server process."""
    accept = MIMEAccept(list(accepted))
    pairs = media_types(kind)
    if not accept:
        return formats.by_name(pairs[0][1])
    best = accept.best_match([media_type for media_type, _ in pairs])
    if best is None:
        return None
    return formats.by_name(dict(pairs)[best])


@dataclass(frozen=True)
class Choice:
    """The format chosen for each kind of answer, decided before the query's kind is known.

    ``asked`` says what the client asked for, for the 406 message when a kind has no format.
    """

    table: str | None
    graph: str | None
    asked: str

    def for_kind(self, kind: str) -> str:
        """The format name for this kind, or a 406 KkgError listing what is available."""
        name = self.table if kind == TABLE else self.graph
        if name is None:
            raise not_acceptable(kind, self.asked)
        return name


def choose(accept: MIMEAccept, format_values: list[str], extension: str | None = None) -> Choice:
    """Decide the table and graph formats from a URL extension, ``format=`` values or the Accept header.

    An extension or format value that names no format of a kind leaves that kind without one
    (a 406 if the answer turns out to be of that kind); it never silently falls back to Accept.
    """
    explicit = ([extension] if extension else []) + [v for v in format_values if v and v.strip()]
    if explicit:
        chosen = {}
        for kind in (TABLE, GRAPH):
            found = next((f for f in (by_parameter(v, kind) for v in explicit) if f), None)
            chosen[kind] = found.name if found else None
        asked = (f".{extension}" if extension else "format=" + ", ".join(explicit))
        return Choice(chosen[TABLE], chosen[GRAPH], asked)
    table, graph = by_accept(accept, TABLE), by_accept(accept, GRAPH)
    return Choice(table.name if table else None, graph.name if graph else None,
                  f"Accept: {accept.to_header() or '*/*'}")


def choose_format(kind: str, accept: MIMEAccept, format_values: list[str] = (),
                  extension: str | None = None) -> formats.Format:
    """The one format for an answer whose kind is known (exports, the service description); 406 if none."""
    explicit = ([extension] if extension else []) + [v for v in format_values if v and v.strip()]
    if explicit:
        for value in explicit:
            found = by_parameter(value, kind)
            if found:
                return found
        raise not_acceptable(kind, f".{extension}" if extension else "format=" + ", ".join(explicit))
    found = by_accept(accept, kind)
    if found is None:
        raise not_acceptable(kind, f"Accept: {accept.to_header()}")
    return found


def not_acceptable(kind: str, asked: str) -> KkgError:
    """A 406 error listing the media types (and format names) available for this kind of answer."""
    available = [f"{fmt.media_type} (format={fmt.name})" for fmt in candidates(kind)]
    what = {TABLE: "a table (SELECT or ASK)", GRAPH: "a graph (CONSTRUCT, DESCRIBE or one graph)",
            DATASET: "the dataset"}[kind]
    return KkgError(f"cannot answer {asked} for {what}; available: "
                    + ", ".join(fmt.media_type for fmt in candidates(kind)),
                    code="not-acceptable", status=406, details=available)


def choose_one(accept: MIMEAccept, among: list[str], format_values: list[str] = (),
               extension: str | None = None) -> str:
    """For pages with a fixed set of representations (e.g. ``["html", "json"]``): the chosen one.

    ``among`` holds media types; the first is the default for ``*/*``. A 406 names the choices.
    """
    explicit = ([extension] if extension else []) + [v for v in format_values if v and v.strip()]
    for value in explicit:
        wanted = value.strip().lower()
        for media_type in among:
            if wanted in (media_type, media_type.split("/")[-1], short_name(media_type)):
                return media_type
    if explicit:
        raise KkgError(f"cannot answer format {', '.join(explicit)}; available: {', '.join(among)}",
                       code="not-acceptable", status=406, details=list(among))
    if not accept:
        return among[0]
    best = accept.best_match(among)
    if best is None:
        raise KkgError(f"cannot answer Accept: {accept.to_header()}; available: {', '.join(among)}",
                       code="not-acceptable", status=406, details=list(among))
    return best


def short_name(media_type: str) -> str:
    """A short name for a page's media type: ``html``, ``json``, or the format table's name."""
    if media_type == "text/html":
        return "html"
    if media_type == "application/json":
        return "json"
    fmt = formats.by_media_type(media_type)
    return fmt.name if fmt else media_type
