"""Checks every parsed input file passes, so that bad input is one located error, not a traceback
later in the build, a 500 in the server, or an ill-formed export.

- A UTF-8 byte-order mark at the start of a file is dropped (every peer parser accepts one).
- Every IRI must be one Oxigraph (the store, the validator and the exports) accepts: rdflib's Turtle
  parser lets ``<http://e/x y>`` through, which failed much later with ``Invalid IRI code point``.
- No literal, IRI or graph name may hold a character XML 1.0 cannot carry (NUL and the other C0
  controls but tab, line feed and carriage return; U+FFFE, U+FFFF): the RDF/XML export and SPARQL
  XML results would otherwise be ill-formed. Refused at input time rather than escaped, since XML has
  no escape for them (``&#0;`` is ill-formed too).
- An ill-typed literal (``"abc"^^xsd:integer``) is legal RDF and parses; but when the reasoner finds
  the data inconsistent, ``ill_typed_literals`` locates such literals (file, line, column) for the
  error, where owlrl alone named no file.
- Parser messages are cut to a readable length: a 1 MB bad line is not echoed back whole.
"""

from __future__ import annotations

import logging
import re

from rdflib import Literal, URIRef

from ..core.errors import KkgError, Location

UTF8_BOM = b"\xef\xbb\xbf"
MESSAGE_LIMIT = 200
TOKEN_LIMIT_BYTES = 16 * 1024 * 1024  # Oxigraph's parser buffer: one term may not be longer

# rdflib logs a warning with a whole traceback for every ill-typed literal it meets; the check below
# reports them as located errors instead.
logging.getLogger("rdflib.term").setLevel(logging.ERROR)

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XML_ILLEGAL_BYTES = re.compile(b"[\x00-\x08\x0b\x0c\x0e-\x1f]|\xef\xbf[\xbe\xbf]")


def strip_bom(data: bytes) -> bytes:
    """The bytes without a leading UTF-8 byte-order mark."""
    return data[len(UTF8_BOM):] if data.startswith(UTF8_BOM) else data


def shorten(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` cut to ``limit`` characters (with the number cut), so no message echoes a huge input."""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def xml_illegal(text: str) -> str | None:
    """The first character of ``text`` that XML 1.0 cannot carry, or None."""
    match = _XML_ILLEGAL.search(text)
    return match.group(0) if match else None


def refuse_unwritable_xml(data: bytes, label: str) -> bytes:
    """``data`` (an XML document just written), or a 406 KkgError when it holds a character XML 1.0
    cannot carry: a query can still make such a literal (``BIND("\\u0000" AS ?x)``) though no input
    holds one, and an ill-formed document must never be sent."""
    match = _XML_ILLEGAL_BYTES.search(data)
    if match is None:
        return data
    code = ord(match.group(0).decode("utf-8")) if len(match.group(0)) > 1 else match.group(0)[0]
    raise KkgError(f"the answer holds the character U+{code:04X}, which {label} (XML 1.0) cannot carry; "
                   "ask for another format (JSON, CSV, TSV, Turtle, N-Triples)", code="not-acceptable",
                   status=406)


def locate_text(text: str, needles, name: str) -> Location:
    """The location (line, column) in ``text`` of the first occurrence of the first of ``needles`` (in
    order of preference) that occurs; the file alone when none does."""
    best = None
    for needle in needles:
        if needle and (at := text.find(needle)) >= 0:
            best = at
            break
    if best is None:
        return Location(name)
    line = text.count("\n", 0, best) + 1
    return Location(name, line, best - text.rfind("\n", 0, best))


def _escapes(char: str) -> list[str]:
    """How a file may write ``char``: itself, or as a \\u / \\U escape in either case."""
    code = ord(char)
    return [char, f"\\u{code:04X}", f"\\u{code:04x}", f"\\U{code:08X}", f"\\U{code:08x}"]


def check_terms(triples_by_graph: dict, name: str, text_of) -> None:
    """Raise a located KkgError for the first bad term among the parsed triples (module docstring).

    ``text_of`` is a callable giving the file's text, read only when a problem needs locating. Each
    distinct term is checked once.
    """
    from pyoxigraph import NamedNode

    seen: set = set()
    for graph_name, triples in triples_by_graph.items():
        named = [(graph_name,)] if isinstance(graph_name, URIRef) else []
        for triple in [*named, *triples]:
            for term in triple:
                if term not in seen:
                    seen.add(term)
                    _check_term(term, name, text_of, NamedNode)


def _check_term(term, name: str, text_of, named_node) -> None:
    """Raise a located KkgError when one term is an IRI Oxigraph refuses or holds a character XML 1.0
    cannot carry."""
    if isinstance(term, URIRef):
        value = str(term)
        bad = xml_illegal(value)
        if bad is None:
            try:
                named_node(value)
                return
            except ValueError as exc:
                problem = str(exc)
        else:
            problem = f"it holds the character U+{ord(bad):04X}"
        text = text_of()
        where = locate_text(text, [value, value.split(" ")[0] if " " in value else ""], name)
        raise KkgError(f"invalid IRI <{shorten(value, 80)}>: {problem}", code="bad-iri", where=where)
    if isinstance(term, Literal):
        value = str(term)
        bad = xml_illegal(value)
        if bad is not None:
            where = locate_text(text_of(), _escapes(bad), name)
            raise KkgError(f"the literal {shorten(value, 60)!r} holds the character U+{ord(bad):04X}, which "
                           "XML 1.0 cannot carry (the RDF/XML export and SPARQL XML results could not "
                           "be written); remove it", code="bad-literal", where=where)


def ill_typed_literals(triples_by_graph: dict, name: str, text: str) -> list[KkgError]:
    """A located error for each distinct ill-typed literal (a lexical form its XSD datatype does not
    allow, ``"abc"^^xsd:integer``) among the parsed triples of one file."""
    found, seen = [], set()
    for triples in triples_by_graph.values():
        for _s, _p, term in triples:
            if isinstance(term, Literal) and term not in seen and term.ill_typed:
                seen.add(term)
                value = str(term)
                short = str(term.datatype).replace("http://www.w3.org/2001/XMLSchema#", "xsd:")
                found.append(KkgError(f"the literal {shorten(value, 60)!r} is not a valid {short}",
                                      code="inconsistent", status=422,
                                      where=locate_text(text, [f'"{value}"', value], name)))
    return found


def token_too_long(data: bytes, name: str) -> KkgError:
    """The error for a file holding a term longer than the parser's limit, at the first line that is
    longer than the limit (the file alone when the term spans lines)."""
    start = 0
    line = 1
    while True:
        end = data.find(b"\n", start)
        stop = len(data) if end < 0 else end
        if stop - start > TOKEN_LIMIT_BYTES:
            where = Location(name, line)
            break
        if end < 0:
            where = Location(name)
            break
        start, line = end + 1, line + 1
    return KkgError(f"a single term is longer than {TOKEN_LIMIT_BYTES // (1024 * 1024)} MiB, the "
                    "parser's limit", code="syntax-error", where=where)
