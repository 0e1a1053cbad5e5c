"""Parse, run and serialise SPARQL queries over the dataset.

Syntax errors come back as KkgErrors with the line and column in the query; updates are refused
(the dataset is read-only); results are written in any result or RDF format of the format table.
"""

from __future__ import annotations

import csv
import io
import json
import re

from pyparsing import ParseBaseException
from rdflib import BNode, Dataset, Graph, Literal, URIRef, Variable
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.results import jsonresults
from rdflib.plugins.sparql.sparql import Query
from rdflib.query import Result

from ..core import formats
from ..core.errors import KkgError, Location
from ..core.iris import PREFIXES
from ..pipeline import fastparse, input_checks
from ..pipeline.export import serialize_graph
from ..pipeline.sources import SourceFile
from ..stores import query_text
from . import choice, oxigraph, query_checks

_UPDATE_KEYWORDS = re.compile(
    r"^\s*(?:(?:PREFIX\s+[\w-]*:\s*<[^>]*>|BASE\s+<[^>]*>)\s*)*"
    r"(INSERT|DELETE|LOAD|CLEAR|DROP|CREATE|ADD|MOVE|COPY|WITH)\b",
    re.IGNORECASE,
)


def _strip_comments(text: str) -> str:
    return re.sub(r"(?m)^[ \t]*#.*$", "", text)  # \s* would cross lines: quadratic on blank lines


def parse_query(text: str, source: str = "query") -> Query:
    """The parsed query; a KkgError with line and column for syntax errors, and for updates."""
    if not text or not text.strip():
        raise KkgError("the query is empty", code="missing-query", where=Location(source))
    query_checks.refuse_bare_carriage_returns(text, source)
    if _UPDATE_KEYWORDS.match(_strip_comments(text)):
        raise KkgError("SPARQL updates are refused: this endpoint is read-only", code="update-refused",
                       status=400, where=Location(source))
    try:
        parsed = prepareQuery(text, initNs=PREFIXES)
        query_checks.refuse_misplaced_aggregates(parsed, text, source)
        query_checks.clamp_slices(parsed)
        parsed.kkg_text = text  # engines that evaluate the text themselves (Oxigraph) need it
        return parsed
    except ParseBaseException as exc:
        return _raise_syntax(exc, source)
    except KkgError:
        raise
    except Exception as exc:  # rdflib reports unknown prefixes and bad algebra as bare Exceptions
        message = str(exc).strip() or type(exc).__name__
        raise KkgError(f"query error: {message}", code="query-error", where=Location(source)) from None


def _raise_syntax(exc: ParseBaseException, source: str):
    found = exc.line[exc.col - 1: exc.col + 19] if exc.line else ""
    raise KkgError(f"syntax error: {exc.msg}" + (f", found {found.strip()!r}" if found.strip() else ""),
                   code="syntax-error", where=Location(source, exc.lineno, exc.col)) from None


def run_query(dataset: Dataset | Graph, query: str | Query, bindings: dict | None = None,
              native: bool = True) -> Result:
    """Run a query (text or parsed) with pre-bound variables, bound as RDF terms, on the engine
    ``choice`` picks (an external store gets them as a VALUES block; see graph/stores/query_text.py).
    ``native=False`` keeps Oxigraph's own engine out: rdflib's evaluates the query over the same store."""
    parsed = parse_query(query) if isinstance(query, str) else query
    init = {Variable(k) if not isinstance(k, Variable) else k: v for k, v in (bindings or {}).items()}
    text = getattr(parsed, "kkg_text", None)
    chosen = choice.engine_for(dataset, text, native)
    if chosen == choice.STORE:
        return dataset.query(parsed, init)
    if chosen == choice.OXIGRAPH:
        run_text, substitutions = text, init
        if init and not _all_projected(parsed, init):
            bound = with_values(text, parsed, init)
            if bound is not None:
                run_text, substitutions = bound, {}
            elif parsed.algebra.name == "SelectQuery":
                # Oxigraph substitutes only projected variables (SPARQL SEP-0007); rdflib pre-binds any.
                return dataset.query(parsed, initBindings=init)
        try:
            return oxigraph.native_query(dataset, run_text, parsed, substitutions, PREFIXES)
        except (SyntaxError, RuntimeError) as exc:
            if not choice.rdflib_after_oxigraph_error(exc, run_text):
                raise
    return dataset.query(parsed, initBindings=init)


# -- pre-bound variables as a VALUES block ------------------------------------------------------
#
# Oxigraph substitutes only projected variables (SPARQL SEP-0007), while rdflib pre-binds any
# variable (initBindings). For SELECT and ASK queries, a one-row VALUES block at the start of the
# query's top-level group gives the same answers as rdflib's pre-binding wherever the bound
# variables occur only where a join with that block distributes: in triple patterns (and GRAPH
# names) reached through joins, UNION and GRAPH, and in expressions of the top-level group (its
# FILTERs, BINDs and OPTIONAL conditions, which see the block's binding), the projection, grouping
# and ordering. Anywhere else (a subquery, the inside of a nested OPTIONAL or MINUS, a nested
# FILTER or BIND, an inline VALUES) the answers could differ, and the query is left to
# oxigraph.native_query as before. tests/test_engines.py compares both engines on such queries.

_SPINE = {"Project", "OrderBy", "Slice", "Distinct", "Reduced", "AggregateJoin", "Group", "Filter",
          "Extend", "Join", "LeftJoin", "Minus", "SelectQuery", "AskQuery"}


def _mentions(node, names: set) -> bool:
    """True when any of the variables occurs anywhere in an algebra node or expression."""
    if isinstance(node, Variable):
        return node in names
    if isinstance(node, dict):  # CompValue (its own __getitem__ resolves variables: read raw values)
        return any(_mentions(v, names) for k, v in dict.items(node) if not str(k).startswith("_"))
    if isinstance(node, (list, tuple, set, frozenset)):
        return any(_mentions(v, names) for v in node)
    return False


def _spine_safe(node, names: set) -> bool:
    """Safe on the top-level spine (the block is joined beneath: expressions here see its binding)."""
    kind = getattr(node, "name", None)
    if kind not in _SPINE:
        return _element_safe(node, names)  # the group's first element: joined with the block
    get = lambda key: dict.get(node, key)  # noqa: E731
    if kind == "Extend" and get("var") in names:
        return False
    if kind == "Join":
        return _spine_safe(get("p1"), names) and _element_safe(get("p2"), names)
    if kind == "LeftJoin":
        return _spine_safe(get("p1"), names) and _element_safe(get("p2"), names)
    if kind == "Minus":
        return _spine_safe(get("p1"), names) and not _mentions(get("p2"), names)
    return _spine_safe(get("p"), names)


def _element_safe(node, names: set) -> bool:
    """Safe as an element evaluated on its own and then joined with the block."""
    if not _mentions(node, names):
        return True
    kind = getattr(node, "name", None)
    get = lambda key: dict.get(node, key)  # noqa: E731
    if kind == "BGP":
        return True
    if kind == "Graph":
        return _element_safe(get("p"), names)
    if kind in ("Join", "Union"):
        return _element_safe(get("p1"), names) and _element_safe(get("p2"), names)
    if kind in ("LeftJoin", "Minus"):
        return _element_safe(get("p1"), names) and not _mentions(get("p2"), names) \
            and not _mentions(get("expr"), names)
    if kind == "Filter":
        return not _mentions(get("expr"), names) and _element_safe(get("p"), names)
    if kind == "Extend":
        return get("var") not in names and not _mentions(get("expr"), names) and _element_safe(get("p"), names)
    return False


def _all_projected(parsed, bindings: dict) -> bool:
    """True when a SELECT query projects every pre-bound variable (Oxigraph substitutes those itself)."""
    algebra = parsed.algebra
    return algebra.name == "SelectQuery" and set(bindings) <= set(dict.get(algebra, "PV") or [])


_IRI = re.compile(r'[^<>"{}|^`\\\x00-\x20]*')


def _sparql_term(term) -> str | None:
    """A term in SPARQL syntax for a VALUES block; None for terms VALUES cannot hold (blank nodes)."""
    if isinstance(term, URIRef) and _IRI.fullmatch(str(term)):
        return f"<{term}>"
    if isinstance(term, Literal):
        text = (str(term).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
                .replace("\r", "\\r"))
        if term.language:
            return f'"{text}"@{term.language}'
        if term.datatype is not None:
            return f'"{text}"^^{_sparql_term(URIRef(term.datatype))}' if _IRI.fullmatch(str(term.datatype)) else None
        return f'"{text}"'
    return None


def with_values(text: str, parsed, bindings: dict) -> str | None:
    """The query text with the pre-bound variables as a one-row VALUES block at the start of its
    top-level group, or None where that would not give rdflib's answers (see above)."""
    plan = _values_plan(text, parsed, frozenset(bindings))
    if plan is None:
        return None
    names, at = plan
    terms = [_sparql_term(bindings[v]) for v in names]
    if None in terms:
        return None
    block = f" VALUES ({' '.join(v.n3() for v in names)}) {{ ({' '.join(terms)}) }}"
    return text[:at] + block + text[at:]


def _values_plan(text: str, parsed, bound: frozenset) -> tuple[list, int] | None:
    """Which of the ``bound`` variables go into the VALUES block and where it goes in ``text``, or
    None when a block would not give rdflib's answers. It depends only on the query and the names
    bound, so it is worked out once per parsed query and set of names (a parameterised stored
    query is evaluated again and again with other values)."""
    plans = getattr(parsed, "kkg_values_plans", None)
    if plans is None:
        plans = parsed.kkg_values_plans = {}
    key = (text, bound)
    if key not in plans:
        plans[key] = _plan_values(text, parsed, bound)
    return plans[key]


def _plan_values(text: str, parsed, bound: frozenset) -> tuple[list, int] | None:
    if parsed.algebra.name not in ("SelectQuery", "AskQuery"):
        return None
    pattern = dict.get(parsed.algebra, "p")
    # a variable neither projected nor used changes nothing: left out (the projection counts as a use,
    # so a projected variable the WHERE clause never mentions is shown with its value, as by rdflib)
    names = {v for v in bound if _mentions(pattern, {v})}
    if not _spine_safe(pattern, names):
        return None
    try:
        at = query_text.where_group_start(text, parsed.algebra.name)
    except KkgError:
        return None
    return sorted(names), at


def term_text(term) -> str:
    """A result term as a person reads it: IRIs shortened with our prefixes, literals by their lexical form."""
    if term is None:
        return ""
    if isinstance(term, URIRef):
        value = str(term)
        for prefix, namespace in sorted(PREFIXES.items(), key=lambda kv: -len(kv[1])):
            local = value[len(namespace):]
            if value.startswith(namespace) and re.fullmatch(r"[\w.-]*", local) and not local.endswith("."):
                return f"{prefix}:{local}"
        return value
    if isinstance(term, BNode):
        return f"_:{term}"
    return str(term)


def _tsv_term(term) -> str:
    """A term as SPARQL TSV writes it: Turtle syntax on one line, literals short-quoted and escaped."""
    if term is None:
        return ""
    if isinstance(term, Literal):
        text = (str(term).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
                .replace("\r", "\\r").replace("\t", "\\t"))
        if term.language:
            return f'"{text}"@{term.language}'
        if term.datatype is not None and str(term.datatype) != "http://www.w3.org/2001/XMLSchema#string":
            return f'"{text}"^^<{term.datatype}>'
        return f'"{text}"'
    return term.n3()


def _rows(result: Result, limit: int | None):
    for index, row in enumerate(result):
        if limit is not None and index >= limit:
            return
        yield row


def _tsv(result: Result, limit: int | None) -> bytes:
    out = io.StringIO()
    out.write("\t".join(f"?{v}" for v in result.vars) + "\n")
    for row in _rows(result, limit):
        cells = [_tsv_term(row[v]) for v in result.vars]
        out.write("\t".join(cells) + "\n")
    return out.getvalue().encode("utf-8")


def _csv(result: Result, limit: int | None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([str(v) for v in result.vars])
    for row in _rows(result, limit):
        writer.writerow(["" if row[v] is None else (f"_:{row[v]}" if isinstance(row[v], BNode) else str(row[v]))
                         for v in result.vars])
    return out.getvalue().encode("utf-8")


def _table(result: Result, limit: int | None) -> bytes:
    if result.type == "ASK":
        return f"{str(result.askAnswer).lower()}\n".encode()
    header = [str(v) for v in result.vars]
    rows = [[term_text(row[v]) for v in result.vars] for row in _rows(result, limit)]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    lines = [" | ".join(h.ljust(w) for h, w in zip(header, widths)),
             "-+-".join("-" * w for w in widths)]
    lines += [" | ".join(c.replace("\n", " ").ljust(w) for c, w in zip(r, widths)) for r in rows]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _limited(result: Result, limit: int | None) -> Result:
    if limit is None or result.type != "SELECT":
        return result
    copy = Result("SELECT")
    copy.vars = result.vars
    copy.bindings = list(_rows(result, limit))
    return copy


def _select_json(result: Result) -> bytes:
    """SPARQL JSON results of a SELECT, the very bytes rdflib's serializer writes (same members, order
    and spacing) in a third of its time: each distinct term is written once, and no row objects are
    made. The hot path of every look-up; tests/test_engines.py compares both on awkward terms."""
    written: dict = {}

    def as_json(term) -> dict:
        # rdflib's Literal("a", lang="EN") equals Literal("a", lang="en"): the tag is part of the key
        key = (term, term.language) if isinstance(term, Literal) else term
        found = written.get(key)
        if found is None:
            if isinstance(term, URIRef):
                found = {"type": "uri", "value": str(term)}
            elif isinstance(term, Literal):
                found = {"type": "literal", "value": str(term)}
                if term.datatype is not None:
                    found["datatype"] = str(term.datatype)
                if term.language is not None:
                    found["xml:lang"] = term.language
            elif isinstance(term, BNode):
                found = {"type": "bnode", "value": str(term)}
            else:
                raise KkgError(f"unsupported term in a result: {term!r}", code="engine-error", status=500)
            written[key] = found
        return found

    bindings = [{str(name): as_json(term) for name, term in row.items() if term is not None}
                for row in result.bindings]
    document = {"results": {"bindings": bindings}, "head": {"vars": [str(v) for v in result.vars]}}
    if getattr(jsonresults, "_HAS_ORJSON", False):  # rdflib writes with orjson when it is installed
        import orjson

        return orjson.dumps(document, option=orjson.OPT_NON_STR_KEYS)
    return json.dumps(document, allow_nan=False, ensure_ascii=False).encode("utf-8")


def result_format_for(result: Result, format_name: str) -> formats.Format:
    """The format a result will be written in; a KkgError when it cannot carry this kind of result."""
    fmt = formats.by_name(format_name)
    graph_result = result.type in ("CONSTRUCT", "DESCRIBE")
    if graph_result and fmt.carries not in (formats.TRIPLES, formats.QUADS, formats.TEXT):
        raise KkgError(f"a {result.type} result is a graph: choose an RDF format, not {fmt.name}",
                       code="not-acceptable", status=406)
    if not graph_result and fmt.carries not in (formats.RESULTS, formats.TEXT):
        raise KkgError(f"a {result.type} result is a table: choose json, srx, csv, tsv or table, not {fmt.name}",
                       code="not-acceptable", status=406)
    return fmt


def serialize_result(result: Result, format_name: str, limit: int | None = None) -> bytes:
    """A query result in the named format; SELECT rows beyond ``limit`` are left out."""
    fmt = result_format_for(result, format_name)
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        graph = result.graph
        if fmt.carries == formats.TEXT:
            return serialize_graph(graph, "turtle")
        return serialize_graph(graph, fmt.name)
    if fmt.name == "table":
        return _table(result, limit)
    if result.type == "ASK" and fmt.name in ("csv", "tsv"):
        head = "_askResult" if fmt.name == "csv" else "?_askResult"
        return f"{head}\r\n{str(result.askAnswer).lower()}\r\n".encode() if fmt.name == "csv" else \
            f"{head}\n{str(result.askAnswer).lower()}\n".encode()
    if fmt.name == "tsv":
        return _tsv(result, limit)
    if fmt.name == "csv":
        return _csv(result, limit)
    if fmt.name == "json" and result.type == "SELECT" and limit is None:
        return _select_json(result)
    data = _limited(result, limit).serialize(format=fmt.rdflib_name)
    data = data if isinstance(data, bytes) else data.encode("utf-8")
    if fmt.name == "srx":  # XML parsers turn a raw CR into LF: keep it as a character reference
        data = input_checks.refuse_unwritable_xml(data.replace(b"\r", b"&#13;"), "SPARQL XML results")
    return data


def read_graph_answer(data: bytes) -> Graph:
    """A graph answer written as N-Triples (a worker's reply) read back into an rdflib Graph, by
    Oxigraph's parser where it gives rdflib's own terms (``pipeline.fastparse``)."""
    graph = Graph()
    for triples in fastparse.read_graphs(SourceFile("answer.nt", data)).values():
        graph.addN((s, p, o, graph) for s, p, o in triples)
    return graph
