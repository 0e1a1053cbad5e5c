"""Read big input files with Oxigraph's parser, giving exactly the triples rdflib's parser gives.

rdflib's N-Triples and Turtle parsers run at about 30k triples a second; at a million triples
parsing was a third of the build. Oxigraph (Rust) parses the same files about ten times faster, and
its terms are turned into rdflib terms here, each distinct term once.

The two parsers do not always build the same terms, so the fast path steps aside (returns None and
the caller parses with rdflib, as before) wherever they could differ:

- Oxigraph lowercases language tags (``"x"@EN`` becomes ``@en``); rdflib keeps the case;
- Oxigraph cannot tell ``"x"`` from ``"x"^^xsd:string``; rdflib keeps the explicit datatype;
- the two resolve relative IRIs against ``@base`` differently, and Oxigraph reads RDF 1.2 base
  directions (``@en--ltr``) that rdflib refuses;
- Oxigraph refuses what rdflib accepts (relative IRIs without a base, some invalid IRIs), or the file
  has a syntax error: rdflib then parses it and reports the error with its line, as before.

Blank node labels are scoped to the file, as rdflib scopes them (``_:b1`` in two files is two
nodes). tests/test_fastparse.py compares both parsers on the shipped files, generated data and a
corpus of awkward inputs.
"""

from __future__ import annotations

import re

from rdflib import BNode, Literal, URIRef

from ..core import formats
from . import input_checks, sources
from .sources import SourceFile

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
# The cases where the two parsers' terms could differ (a false alarm only costs speed). Each
# pattern starts with a literal byte so that Python's regex engine skips ahead quickly; the costly
# context checks run only where that byte occurs.
_CAPITAL_TAG = re.compile(rb"@[A-Za-z0-9-]*[A-Z]")               # then: right after a quote?
_MAYBE_STRING = re.compile(rb"\^\^[^\n]{0,300}?string|\^\^\s*#")   # xsd:string however written
_IRI_ESCAPE = re.compile(rb"<[^>\s]*\\[uU]")
_BASE = re.compile(rb"(?im:^\s*@?base\b)")


def _terms_may_differ(data: bytes, line_format: bool) -> bool:
    """True when the file holds something the two parsers read differently (module docstring);
    N-Triples and N-Quads (``line_format``) have no base IRI."""
    if any(data[m.start() - 1:m.start()] in (b'"', b"'") for m in _CAPITAL_TAG.finditer(data)):
        return True
    if _MAYBE_STRING.search(data):
        return True
    if b"\\u" in data or b"\\U" in data:
        if _IRI_ESCAPE.search(data):
            return True
    if line_format:
        return False
    return bool((b"base" in data or b"BASE" in data or b"Base" in data) and _BASE.search(data))


def can_read(fmt: formats.Format) -> bool:
    """True for the formats this module reads (line formats, Turtle and TriG)."""
    return fmt.oxigraph_name is not None


def read(source: SourceFile, fmt: formats.Format) -> dict | None:
    """The file's triples by graph (None for the graph being filled, else the quad's graph IRI), or
    None when rdflib must parse this file (see the module docstring)."""
    import pyoxigraph as ox

    if not can_read(fmt):
        return None
    data = source.data
    if _terms_may_differ(data, fmt.name in ("ntriples", "nquads")):
        return None
    try:
        quads = ox.parse(data, format=getattr(ox.RdfFormat, fmt.oxigraph_name))
        return _convert(quads, ox)
    except MemoryError:
        raise input_checks.token_too_long(data, source.name) from None
    except SyntaxError as exc:
        # N-Triples and N-Quads have one strict grammar (Oxigraph passes the W3C tests): its verdict
        # stands, located at once, where rdflib took seconds on a megabyte line
        # (a bad escape is left to rdflib's path, which explains lone surrogates)
        line_format = fmt.name in ("ntriples", "nquads") and "escape sequence" not in str(exc)
        located = sources.oxigraph_syntax_error(source, exc) if line_format else None
        if located is not None:
            raise located from None
        return None
    except (ValueError, OSError):
        return None


def _convert(quads, ox) -> dict:
    """Oxigraph quads as rdflib triples grouped by graph, each distinct term converted once; each
    graph's triples are the keys of a dict, in file order (a store filled in that order answers
    order-dependent queries, GROUP_CONCAT say, the same in every process)."""
    terms: dict = {}
    named, blank, literal = ox.NamedNode, ox.BlankNode, ox.Literal

    def term(t):
        found = terms.get(t)
        if found is None:
            cls = type(t)
            if cls is named:
                found = URIRef(t.value)
            elif cls is blank:
                found = BNode()  # a fresh node per label and file, as rdflib's parsers make
            elif cls is literal:
                if getattr(t, "direction", None):
                    raise ValueError("a base direction (RDF 1.2), which rdflib refuses")
                if t.language:
                    found = Literal(t.value, lang=t.language)
                elif t.datatype.value == _XSD_STRING:
                    found = Literal(t.value)
                else:
                    found = Literal(t.value, datatype=URIRef(t.datatype.value))
                if input_checks.xml_illegal(t.value):
                    raise ValueError("a literal input_checks refuses: rdflib's path locates it")
            else:
                raise ValueError(f"unsupported term {t!r}")  # RDF-star triples: rdflib parses those
            terms[t] = found
        return found

    graphs: dict = {}
    default = ox.DefaultGraph()
    for q in quads:
        name = None if q.graph_name == default else term(q.graph_name)
        target = graphs.get(name)
        if target is None:
            target = graphs[name] = {}
        target[(term(q.subject), term(q.predicate), term(q.object))] = None
    return graphs


def read_graphs(source: SourceFile) -> dict:
    """Every triple of an input file, by graph: None for the graph the file is read into, a graph IRI
    for the named graphs of quad formats; each graph's triples in file order (dict keys). Oxigraph reads it where that gives rdflib's triples,
    rdflib otherwise (with its located syntax errors)."""
    from rdflib import Dataset

    fmt = formats.by_extension(source.name)
    found = read(source, fmt) if fmt is not None else None
    if found is not None:
        return found
    scratch = Dataset()
    target = scratch.graph(_TARGET)
    sources.parse_into(target, source)  # with input_checks.check_terms
    return {None if g.identifier == _TARGET else g.identifier: dict.fromkeys(g) for g in scratch.graphs() if len(g)}


_TARGET = URIRef("urn:x-karabakh-kg:being-read")
