"""The stored queries: one ``.rq`` file each under ``queries/``, with a ``#+`` YAML header.

The header (lines starting with ``#+``) gives the title, the description and typed parameters with
defaults. The rows each query gives on the seed graph are kept beside it, in
``queries/expected/ID.yaml``, so that the query file stays a short example (a header may still carry
them under ``expected:``, but not both). The id is the file name without ``.rq``.
Parameters are bound as RDF terms (initial bindings), never pasted into the query text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import yaml
from rdflib import Literal
from rdflib.namespace import XSD

from ..core.errors import KkgError, Location
from ..core.iris import expand_curie
from ..pipeline import sources

PARAM_TYPES = ("iri", "string", "integer", "decimal", "date", "boolean")


@dataclass(frozen=True)
class Parameter:
    """A typed query parameter with its default (None when it must be given)."""

    name: str
    type: str
    default: str | None
    description: str

    def to_term(self, text: str):
        """The RDF term for a user-supplied value; a KkgError naming the parameter when it does not fit."""
        text = str(text)
        try:
            if self.type == "iri":
                iri = expand_curie(text)
                if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+$", str(iri)):
                    raise ValueError("not an absolute IRI or a known prefixed name")
                return iri
            if self.type == "string":
                return Literal(text)
            if self.type == "integer":
                if not re.fullmatch(r"[+-]?\d+", text.strip()):
                    raise ValueError("not an integer")
                return Literal(int(text), datatype=XSD.integer)
            if self.type == "decimal":
                return Literal(Decimal(text.strip()), datatype=XSD.decimal)
            if self.type == "date":
                return Literal(date.fromisoformat(text.strip()), datatype=XSD.date)
            if self.type == "boolean":
                if text.strip().lower() not in ("true", "false"):
                    raise ValueError("not true or false")
                return Literal(text.strip().lower() == "true", datatype=XSD.boolean)
        except (ValueError, InvalidOperation) as exc:
            raise KkgError(f"parameter {self.name!r}: {text!r} is not a valid {self.type} ({exc})",
                           code="bad-parameter", status=400) from None
        raise KkgError(f"parameter {self.name!r} has unknown type {self.type!r}", code="bad-query-file")

    def to_dict(self) -> dict:
        """The parameter as JSON for listings."""
        return {"name": self.name, "type": self.type, "default": self.default,
                "required": self.default is None, "description": self.description}


@dataclass(frozen=True)
class StoredQuery:
    """A stored query: id, title, description, parameters, expected rows and its SPARQL text."""

    id: str
    title: str
    description: str
    params: tuple[Parameter, ...]
    expected: tuple[dict, ...] | None
    text: str
    source: str
    ordered: bool = field(default=False)

    def bindings(self, given: dict[str, str]) -> dict:
        """RDF terms for every parameter (given value, else default); unknown or missing ones are KkgErrors."""
        known = {p.name for p in self.params}
        unknown = sorted(set(given) - known)
        if unknown:
            choices = ", ".join(sorted(known)) or "none"
            raise KkgError(f"unknown parameter(s) {', '.join(map(repr, unknown))} for query {self.id!r}; "
                           f"its parameters: {choices}", code="bad-parameter")
        out = {}
        for param in self.params:
            value = given.get(param.name, param.default)
            if value is None or value == "":
                raise KkgError(f"parameter {param.name!r} is required ({param.type}: {param.description})",
                               code="bad-parameter")
            out[param.name] = param.to_term(value)
        return out

    def to_dict(self) -> dict:
        """The query's metadata as JSON for listings."""
        return {"id": self.id, "title": self.title, "description": self.description,
                "parameters": [p.to_dict() for p in self.params]}


def parse_stored_query(source: sources.SourceFile) -> StoredQuery:
    """Read one ``.rq`` file; a malformed header is a KkgError with the file and line."""
    text = source.text
    header_lines = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("#+"):
            header_lines.append(line[3:] if line.startswith("#+ ") else line[2:])
    try:
        meta = yaml.safe_load("\n".join(header_lines)) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise KkgError(f"bad #+ header: {getattr(exc, 'problem', exc)}", code="bad-query-file",
                       where=Location(source.name, mark.line + 1 if mark else None)) from None
    if not isinstance(meta, dict) or "title" not in meta:
        raise KkgError("the #+ header needs at least a title", code="bad-query-file", where=Location(source.name, 1))
    params = []
    for raw in meta.get("params") or []:
        if not isinstance(raw, dict) or "name" not in raw or raw.get("type", "string") not in PARAM_TYPES:
            raise KkgError(f"bad parameter declaration {raw!r}; each needs a name and a type in "
                           f"{', '.join(PARAM_TYPES)}", code="bad-query-file", where=Location(source.name))
        default = raw.get("default")
        params.append(Parameter(str(raw["name"]), raw.get("type", "string"),
                                None if default is None else str(default), str(raw.get("description", ""))))
    expected = meta.get("expected")
    if expected is not None:
        expected = _rows(expected, source)
    query_id = source.name.rsplit("/", 1)[-1].removesuffix(".rq")
    body = _strip_header(text)
    return StoredQuery(query_id, str(meta["title"]).strip(), str(meta.get("description", "")).strip(),
                       tuple(params), expected, body, source.name,
                       ordered=bool(re.search(r"\bORDER\s+BY\b", body, re.I)))


def _rows(rows, source: sources.SourceFile) -> tuple[dict, ...]:
    """Expected rows as {variable: text} dicts; anything but a list of mappings is a KkgError naming the file."""
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise KkgError("expected rows must be a list of {variable: value} mappings", code="bad-query-file",
                       where=Location(source.name))
    return tuple({str(k): (None if v is None else str(v)) for k, v in row.items()} for row in rows)


def with_expected_rows(query: StoredQuery, source: sources.SourceFile) -> StoredQuery:
    """The query with the rows of its ``expected/ID.yaml`` file; a KkgError when its header has rows too."""
    if query.expected is not None:
        raise KkgError(f"expected rows for {query.id!r} are both in its header and in {source.name}; keep one",
                       code="bad-query-file", where=Location(source.name))
    try:
        rows = yaml.safe_load(source.text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise KkgError(f"bad expected rows: {getattr(exc, 'problem', exc)}", code="bad-query-file",
                       where=Location(source.name, mark.line + 1 if mark else None)) from None
    return replace(query, expected=_rows(rows, source))


def _strip_header(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith("#+")).strip() + "\n"


@lru_cache(maxsize=1)
def load_all() -> dict[str, StoredQuery]:
    """Every stored query by id, in id order."""
    found = {}
    for f in sources.query_files():
        query = parse_stored_query(f)
        found[query.id] = query
    for f in sources.expected_answer_files():
        query_id = f.name.rsplit("/", 1)[-1].removesuffix(".yaml")
        if query_id not in found:
            raise KkgError(f"expected rows for a stored query that does not exist: {query_id!r}",
                           code="bad-query-file", where=Location(f.name))
        found[query_id] = with_expected_rows(found[query_id], f)
    return dict(sorted(found.items()))


def get(query_id: str) -> StoredQuery:
    """The stored query with this id; a 404 KkgError listing the ids when there is none."""
    queries = load_all()
    if query_id not in queries:
        raise KkgError(f"no stored query {query_id!r}; stored queries: {', '.join(queries)}",
                       code="no-such-query", status=404)
    return queries[query_id]


def resolve_query_argument(argument: str):
    """A stored query by id, or a user's ``.rq`` file by path: returns (StoredQuery or None, text)."""
    if argument.endswith(".rq") or "/" in argument:
        f = sources.user_files([argument])[0]
        if f.text.lstrip().startswith("#+"):
            return parse_stored_query(f), None
        return None, f.text
    query = get(argument)
    return query, None


def row_texts(result) -> list[dict]:
    """SELECT rows as {variable: text} dicts, comparable with a query's expected rows."""
    from .query import term_text

    return [{str(v): term_text(row[v]) for v in result.vars if row[v] is not None} for row in result]


def source_text(stored: StoredQuery) -> str:
    """The stored query's file as shipped, header included (its own text when it has no file)."""
    for source in sources.query_files():
        if source.name == stored.source:
            return source.text
    return stored.text
