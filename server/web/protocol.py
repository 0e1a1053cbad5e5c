"""Reading a SPARQL 1.1 Protocol request: the query, the dataset it should see, the wanted format.

GET ``?query=``; POST ``application/x-www-form-urlencoded``; POST ``application/sparql-query``
(media types case-insensitive). Parameters and direct POST bodies are decoded strictly as UTF-8, as
the SPARQL 1.1 Protocol requires: a body declared in another charset (UTF-16, Latin-1) or not valid
UTF-8 is a 400 rather than silently mangled text; sizes are checked before anything is read.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote_plus

from flask import request

from ...graph.core.errors import KkgError, Location

FORM = "application/x-www-form-urlencoded"
QUERY_BODY = "application/sparql-query"
UPDATE_BODY = "application/sparql-update"
ACCEPTED_BODIES = (FORM, QUERY_BODY)
FORMAT_PARAMETERS = ("format", "output")
_MAX_FIELDS = 1000


@dataclass
class QueryRequest:
    """What a protocol request asks: the query (None when absent), graphs, format values, all parameters."""

    query: str | None
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)
    format_values: list[str] = field(default_factory=list)
    params: list[tuple[str, str]] = field(default_factory=list)


def _too_large(what: str, size: int, limit: int) -> KkgError:
    return KkgError(f"the {what} is {size} bytes; the limit is {limit} bytes (setting max_request_bytes)"
                    + ("; send long queries with POST" if what == "query string" else ""),
                    code="too-large", status=413)


def _not_utf8(what: str, data: bytes, start: int) -> KkgError:
    line = data[:start].count(b"\n") + 1
    column = start - (data.rfind(b"\n", 0, start) + 1) + 1
    return KkgError(f"the {what} is not valid UTF-8 (byte {data[start:start + 1]!r})", code="bad-encoding",
                    where=Location(what, line, column))


def _pairs(raw: bytes, what: str) -> list[tuple[str, str]]:
    """``name=value&...`` decoded strictly: percent-escapes must make UTF-8."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(what, raw, exc.start) from None
    try:
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict",
                         max_num_fields=_MAX_FIELDS)
    except UnicodeDecodeError as exc:
        raise KkgError(f"the {what} is not valid UTF-8 once percent-decoded ({exc.reason})",
                       code="bad-encoding") from None
    except ValueError as exc:  # too many fields
        raise KkgError(f"the {what} is malformed: {exc}", code="bad-request") from None


def url_params(max_bytes: int) -> list[tuple[str, str]]:
    """The URL's query parameters, strictly decoded; a 413 when the query string is over the limit."""
    raw = request.query_string
    if len(raw) > max_bytes:
        raise _too_large("query string", len(raw), max_bytes)
    return _pairs(raw, "query string")


def lone_query(query_string: str, max_bytes: int) -> str | None:
    """The query of a URL whose only parameter is one ``query=``, decoded as :func:`url_params`
    decodes it; None for any other URL (more parameters, over the size limit, badly encoded), whose
    reading, and wording of what is wrong, is :func:`read_query_request`'s. For the hot path."""
    if not query_string.startswith("query=") or "&" in query_string or len(query_string) > max_bytes:
        return None
    try:  # what _pairs does for one pair, without its general parse
        return unquote_plus(query_string[6:].encode("latin-1").decode("utf-8"), errors="strict")
    except UnicodeError:
        return None


def body(max_bytes: int) -> bytes:
    """The request body, read only when within the size limit (413 otherwise)."""
    length = request.content_length
    if length is not None and length > max_bytes:
        raise _too_large("request body", length, max_bytes)
    data = request.stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise _too_large("request body", len(data), max_bytes)
    if length is not None and len(data) < length:  # the client stopped sending: never run part of a query
        raise KkgError(f"the request body ended after {len(data)} of the {length} bytes its Content-Length "
                       f"announced", code="incomplete-body", status=400)
    return data


def _decode_query(data: bytes) -> str:
    """A direct POST body as text: UTF-8 only (SPARQL 1.1 Protocol 2.1.3; the W3C tests send UTF-16
    and Latin-1 bodies and expect a 400)."""
    charset = (request.mimetype_params.get("charset") or "utf-8").strip().strip('"').lower()
    try:
        codec = codecs.lookup(charset).name
    except LookupError:
        codec = None
    if codec != "utf-8":
        raise KkgError(f"a {QUERY_BODY} body must be UTF-8, not {charset!r}: send the query as UTF-8",
                       code="bad-encoding")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8("query", data, exc.start) from None


def values(pairs: list[tuple[str, str]], name: str) -> list[str]:
    """Every value given for a parameter, in order."""
    return [value for key, value in pairs if key == name]


def read_query_request(max_bytes: int) -> QueryRequest:
    """The protocol request in flight; KkgErrors for wrong body types (415), sizes (413), encodings,
    repeated queries and updates (400)."""
    pairs = url_params(max_bytes)
    if request.method == "POST":
        media_type = request.mimetype  # lower-cased, parameters removed
        if media_type == FORM:
            pairs = pairs + _pairs(body(max_bytes), "request body")
        elif media_type == QUERY_BODY:
            pairs = pairs + [("query", _decode_query(body(max_bytes)))]
        elif media_type == UPDATE_BODY:
            raise update_refused()
        else:
            shown = request.content_type or "no Content-Type"
            raise KkgError(f"cannot read a POST body of type {shown}; send {QUERY_BODY} "
                           f"or {FORM} (with a query= field)", code="unsupported-media-type", status=415,
                           details=list(ACCEPTED_BODIES))
    if values(pairs, "update"):
        raise update_refused()
    queries = values(pairs, "query")
    if len(queries) > 1:
        raise KkgError(f"the query is given {len(queries)} times; give exactly one query",
                       code="repeated-query")
    return QueryRequest(queries[0] if queries else None, values(pairs, "default-graph-uri"),
                        values(pairs, "named-graph-uri"), format_values(pairs), pairs)


def format_values(pairs) -> list[str]:
    """The values of every format-choosing parameter (``format=``, ``output=``), in order."""
    return [v for name in FORMAT_PARAMETERS for v in values(pairs, name)]


def update_refused() -> KkgError:
    """The error for any SPARQL Update sent here: the endpoint is read-only."""
    return KkgError("SPARQL updates are refused: this endpoint is read-only", code="update-refused")
