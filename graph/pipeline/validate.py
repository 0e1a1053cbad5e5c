"""Check a dataset against the SHACL shapes and the ontology's ``*-violation.rq`` queries.

Problems are reported the way a user fixes them: the node, the rule it breaks, the message,
and the file and line where the node is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pyshacl import validate as shacl_validate
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, RDFS

from ..core.errors import KkgError, Location
from ..core.iris import SH, bind_prefixes
from . import sources


@dataclass(frozen=True)
class Violation:
    """One broken rule: which node, which rule, what is wrong, and where the node is written."""

    focus: str
    rule: str
    message: str
    where: Location | None = None

    def __str__(self) -> str:
        place = f"{self.where}: " if self.where else ""
        return f"{place}{self.focus}: {self.message} [{self.rule}]"


@dataclass(frozen=True)
class Check:
    """A ``*-violation.rq`` query: its name, title and text. It must return no rows."""

    name: str
    title: str
    query: str


def load_checks() -> list[Check]:
    """The ontology's violation checks, parsed from their files."""
    checks = []
    for f in sources.check_files():
        text = f.text
        title = re.search(r"^#\s*title:\s*(.+)$", text, re.M)
        name = f.name.rsplit("/", 1)[-1].removesuffix("-violation.rq")
        checks.append(Check(name, title.group(1).strip() if title else name, text))
    return checks


def load_shapes() -> Graph:
    """The SHACL shapes graph."""
    shapes = Graph()
    for f in sources.shapes_files():
        sources.parse_into(shapes, f)
    return shapes


def _short(graph: Graph, node) -> str:
    try:
        return graph.namespace_manager.normalizeUri(node) if isinstance(node, URIRef) else str(node)
    except Exception:  # rdflib cannot shorten some IRIs; the full IRI is fine
        return str(node)


def shacl_violations(data: Graph, shapes: Graph, index: dict) -> list[Violation]:
    """Violations of the SHACL shapes in ``data`` (already closed by the reasoner: no inference here)."""
    conforms, report, _ = shacl_validate(data, shacl_graph=shapes, inference="none",
                                         advanced=True, allow_warnings=True)
    if conforms:
        return []
    bind_prefixes(report)
    out = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        shape = report.value(result, SH.sourceShape)
        message = report.value(result, SH.resultMessage)
        value = report.value(result, SH.value)
        shape_name = shapes.value(shape, SH.name) or shapes.value(shape, RDFS.label)
        rule = _short(shapes, shape) if isinstance(shape, URIRef) else str(shape_name or "shape")
        if path is not None:
            rule = f"{rule} {_short(report, path)}" if isinstance(path, URIRef) else rule
        text = str(message) if message else "violates the shape"
        if value is not None and str(value) not in text:
            text = f"{text} (value: {value})"
        out.append(Violation(_short(report, focus), rule, text, sources.locate(focus, index)))
    return sorted(out, key=lambda v: (str(v.where or ""), v.focus, v.rule))


def check_violations(data: Graph, checks: list[Check], index: dict) -> list[Violation]:
    """Rows returned by the violation checks: each row is a violation of that check."""
    bind_prefixes(data)
    out = []
    for check in checks:
        for row in data.query(check.query):
            fields = row.asdict()
            focus = fields.get("focus")
            message = fields.get("message") or check.title
            out.append(Violation(_short(data, focus), f"check {check.name}", str(message),
                                 sources.locate(focus, index)))
    return out


def validate_graph(data: Graph, index: dict | None = None) -> list[Violation]:
    """All SHACL and check violations of a closed graph (ontology, facts, links and inferences together)."""
    index = {} if index is None else index
    return shacl_violations(data, load_shapes(), index) + check_violations(data, load_checks(), index)


def raise_if_invalid(violations: list[Violation], what: str) -> None:
    """Stop with a readable report (KkgError, exit status 1 on the command line) when there are violations."""
    if violations:
        raise KkgError(f"{what} is invalid: {len(violations)} violation(s)", code="invalid-data",
                       status=422, details=[str(v) for v in violations])
