"""Two edits of a SPARQL query's text, for stores that receive the text itself.

A store evaluates the text it is sent, so what rdflib is given beside the parsed query has to go
into the text:

- the project's prefixes (``kkg:``, ``actor:``...), which queries may use without declaring them,
  are declared at the start when the query uses them without its own declaration;
- pre-bound variables (stored-query parameters) become a ``VALUES`` block at the start of the
  query's WHERE group, which binds them for the whole pattern as rdflib's initial bindings do;
- the query's own ``FROM`` / ``FROM NAMED`` clauses are taken out, because the server sends the
  dataset it decided on as the protocol's ``default-graph-uri`` / ``named-graph-uri`` (the
  protocol says those override the query's clauses; Virtuoso adds them together instead).

Both only look at the top level of the query (outside braces, strings, IRIs and comments), where
the query's own syntax is simple; the query has already been parsed by rdflib.
"""

from __future__ import annotations

import re

from ..core.errors import KkgError

_IRI = re.compile(r'<[^<>"{}|^`\\\x00-\x20]*>')
_STRING = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
                     r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'', re.DOTALL)
_WORD = re.compile(r"[A-Za-z_][\w-]*(?::[\w.%-]*)?|[?$]\w+|:[\w.%-]*")
_FROM = re.compile(r"FROM\s+(?:NAMED\s+)?(?:<[^>]*>|[\w-]*:[\w.%-]*)", re.IGNORECASE)


def _top_level(text: str):
    """``(position, token)`` for each brace and word at nesting depth 0, in order; strings, IRIs
    and comments skipped."""
    depth, index = 0, 0
    while index < len(text):
        char = text[index]
        if char == "#":
            end = text.find("\n", index)
            index = len(text) if end < 0 else end
            continue
        if char in "\"'":
            match = _STRING.match(text, index)
            index = match.end() if match else index + 1
            continue
        if char == "<":
            match = _IRI.match(text, index)
            if match:
                index = match.end()
                continue
        if char == "{":
            if depth == 0:
                yield index, "{"
            depth += 1
        elif char == "}":
            depth -= 1
        elif depth == 0:
            match = _WORD.match(text, index)
            if match:
                yield index, match.group(0)
                index = match.end()
                continue
        index += 1


def where_group_start(text: str, kind: str) -> int:
    """The position just after the ``{`` that opens the query's WHERE group.

    ``kind`` is rdflib's algebra name (``SelectQuery``, ``ConstructQuery``...): a CONSTRUCT's
    first brace is its template unless the WHERE keyword came first (the short form).
    """
    braces = []
    after_where = None
    for position, token in _top_level(text):
        if token.upper() == "WHERE" and after_where is None:
            after_where = len(braces)
        elif token == "{":
            braces.append(position)
    if after_where is not None and after_where < len(braces):
        chosen = braces[after_where]
    elif kind == "ConstructQuery" and len(braces) >= 2:
        chosen = braces[1]
    elif kind != "ConstructQuery" and braces:
        chosen = braces[0]
    else:
        raise KkgError("cannot bind parameters in a query without a WHERE group", code="query-error")
    return chosen + 1


def bind_values(text: str, kind: str, bindings: dict) -> str:
    """The query text with ``VALUES (?a ?b) { (term term) }`` opening its WHERE group.

    Terms are written in N-Triples syntax (``term.n3()``), which escapes literals; IRIs were
    already checked to hold no character that could end them.
    """
    if not bindings:
        return text
    if kind == "ConstructQuery" and _is_short_construct(text):
        raise KkgError("parameters cannot be bound in a CONSTRUCT WHERE short form on an external store; "
                       "write the template out", code="query-error")
    names = " ".join(f"?{name}" for name in bindings)
    values = " ".join(term.n3() for term in bindings.values())
    at = where_group_start(text, kind)
    return f"{text[:at]} VALUES ({names}) {{ ({values}) }} {text[at:]}"


def _is_short_construct(text: str) -> bool:
    words = [token.upper() for _, token in _top_level(text) if token != "{"]
    return "CONSTRUCT" in words and words[words.index("CONSTRUCT") + 1:][:1] == ["WHERE"]


def without_dataset_clauses(text: str) -> str:
    """The query text with its top-level ``FROM <g>`` and ``FROM NAMED <g>`` clauses blanked out."""
    cuts = []
    for position, token in _top_level(text):
        if token == "{":
            break  # dataset clauses come before the WHERE group
        if token.upper() == "FROM":
            match = _FROM.match(text, position)
            if match:
                cuts.append((match.start(), match.end()))
    for start, end in reversed(cuts):
        text = text[:start] + " " * (end - start) + text[end:]
    return text


_DECLARED = re.compile(r"\bPREFIX\s+([A-Za-z][\w.-]*|):", re.IGNORECASE)


def with_prefixes(text: str, prefixes: dict[str, str]) -> str:
    """The query text, preceded by ``PREFIX p: <iri>`` for each of ``prefixes`` it uses (``p:``
    outside strings, IRIs and comments, at any depth) but does not declare itself."""
    declared = {name.lower() for name in _DECLARED.findall(text)}
    used = set()
    for name in prefixes:
        if name.lower() not in declared and re.search(rf"(?<![\w.:-]){re.escape(name)}:", _code_only(text)):
            used.add(name)
    head = "".join(f"PREFIX {name}: <{prefixes[name]}>\n" for name in sorted(used))
    return head + text


def _code_only(text: str) -> str:
    """The text with strings, IRIs and comments blanked out (positions kept)."""
    out, index = [], 0
    while index < len(text):
        char = text[index]
        match = None
        if char == "#":
            end = text.find("\n", index)
            match_end = len(text) if end < 0 else end
            out.append(" " * (match_end - index))
            index = match_end
            continue
        if char in "\"'":
            match = _STRING.match(text, index)
        elif char == "<":
            match = _IRI.match(text, index)
        if match:
            out.append(" " * (match.end() - index))
            index = match.end()
            continue
        out.append(char)
        index += 1
    return "".join(out)
