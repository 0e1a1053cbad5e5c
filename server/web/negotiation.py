"""Content negotiation, driven by the format table (``graph/core/formats.py``).

A response format is chosen from, in order: an explicit ``format=``/``output=`` parameter (what
SPARQLWrapper, YASGUI and others send, as a short name or a media type), a file extension in the
URL, or the ``Accept`` header with its q-values and wildcards. Which formats are candidates depends
on what is being answered: a table (SELECT, ASK), a graph (CONSTRUCT, DESCRIBE, exports) or a
page for people.

When a ``format=`` value and the Accept header disagree, the format parameter wins, except where the
type the Accept header names is a strict subset of the one ``format=`` names: N-Triples is Turtle
(and TriG), N-Quads is TriG. An answer in the narrower format then satisfies both. SPARQLWrapper
sends ``format=turtle`` beside a user's ``Accept: application/n-triples`` and must get N-Triples, as
it does from Oxigraph's server (which reads the Accept header alone).

A few media types and names mean different formats for tables and for graphs (``xml`` is SPARQL
XML results for SELECT but RDF/XML for CONSTRUCT; ``application/json`` is SPARQL JSON results or
JSON-LD); ``formats.KIND_ALIASES`` settles them. The kinds of answer, their formats in order of
preference and :class:`~karabakh_kg.graph.core.formats.Choice` live in the format table's module.
"""

from __future__ import annotations

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from ...graph.core import caching, formats
from ...graph.core.errors import KkgError
from ...graph.core.formats import (
    GRAPH,
    KIND_ALIASES,
    TABLE,
    Choice,
    candidates,
    not_acceptable,
)


def without_parameters(accept: MIMEAccept) -> MIMEAccept:
    """The Accept header with media type parameters other than q dropped and types lower-cased,
    so ``application/sparql-results+json; charset=utf-8`` matches the plain type."""
    return MIMEAccept([(value.split(";")[0].strip().lower(), quality) for value, quality in accept])


def request_accept() -> MIMEAccept:
    """The current request's Accept header, parameters dropped (see :func:`without_parameters`)."""
    from flask import request

    return accept_of(request.headers.get("Accept", ""))


@caching.per_text
def accept_of(header: str) -> MIMEAccept:
    """An Accept header parsed once per distinct value: clients send the same few again and again."""
    return without_parameters(parse_accept_header(header, MIMEAccept))


@caching.per_text
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


# format name -> the formats whose every document is also a document of it (N-Triples is Turtle...)
NARROWER = {"turtle": ("ntriples",), "trig": ("nquads", "turtle", "ntriples")}


def _narrowed(found: formats.Format, accept: MIMEAccept, kind: str) -> formats.Format:
    """``found`` (named by ``format=``), or the narrower format the Accept header names outright (not
    through a wildcard) when there is one (module docstring)."""
    narrower = NARROWER.get(found.name)
    if not narrower or not accept:
        return found
    named = {value for value, quality in accept if quality > 0 and "*" not in value}
    options = [(media_type, name) for media_type, name in media_types(kind)
               if name in narrower and media_type in named]
    if not options:
        return found
    best = accept.best_match([media_type for media_type, _ in options])
    return formats.by_name(dict(options)[best]) if best else found


def by_accept(accept: MIMEAccept, kind: str) -> formats.Format | None:
    """The best format for an Accept header (q-values, wildcards), or None when nothing acceptable."""
    return _BEST.get((tuple(accept), kind), lambda: _by_accept(accept, kind))


# by_accept once per distinct Accept header and kind: werkzeug's matching of every media type against
# every accepted one was a fifth of a look-up's time in the server process.
_BEST = caching.ComputedOnce(size=256)


def _by_accept(accept: MIMEAccept, kind: str) -> formats.Format | None:
    pairs = media_types(kind)
    if not accept:
        return formats.by_name(pairs[0][1])
    best = accept.best_match([media_type for media_type, _ in pairs])
    if best is None:
        return None
    return formats.by_name(dict(pairs)[best])


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
            if found and not extension:  # a URL's extension (/data.ttl) names its format exactly
                found = _narrowed(found, accept, kind)
            chosen[kind] = found.name if found else None
        asked = (f".{extension}" if extension else "format=" + ", ".join(explicit))
        return Choice(chosen[TABLE], chosen[GRAPH], asked)
    table, graph = by_accept(accept, TABLE), by_accept(accept, GRAPH)
    return Choice(table.name if table else None, graph.name if graph else None,
                  f"Accept: {accept.to_header() or '*/*'}")


@caching.per_text
def choice_by_accept(header: str) -> Choice:
    """:func:`choose` for a request with no ``format=`` parameter, once per distinct Accept header."""
    return choose(accept_of(header), [])


def choose_format(kind: str, accept: MIMEAccept, format_values: list[str] = (),
                  extension: str | None = None) -> formats.Format:
    """The one format for an answer whose kind is known (exports, the service description); 406 if none."""
    explicit = ([extension] if extension else []) + [v for v in format_values if v and v.strip()]
    if explicit:
        for value in explicit:
            found = by_parameter(value, kind)
            if found:
                return found if extension else _narrowed(found, accept, kind)
        raise not_acceptable(kind, f".{extension}" if extension else "format=" + ", ".join(explicit))
    found = by_accept(accept, kind)
    if found is None:
        raise not_acceptable(kind, f"Accept: {accept.to_header()}")
    return found


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
