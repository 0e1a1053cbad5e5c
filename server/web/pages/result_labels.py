"""Readable result tables: a SPARQL JSON results document as rows of
:class:`~.term_view.Shown` cells, IRIs as links to their pages with their labels (looked up with one
query through the endpoint), literals without language tags unless a column holds several languages,
numbers formatted.

The query page does the same in the browser (static/app.js), with the same label query.
"""

from __future__ import annotations

import json

from rdflib import Literal, URIRef

from ....graph.core.iris import GRAPH
from ....graph.sparql import Job
from .. import negotiation
from .term_view import Shown, Terms, literal_shown

MOST_IRIS = 1000


def label_query(iris: list[str]) -> str:
    """The SELECT query of the labels (asserted, any language) of these IRIs."""
    values = " ".join(f"<{iri}>" for iri in iris)
    return ("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
            f"SELECT ?iri ?label WHERE {{ VALUES ?iri {{ {values} }}\n"
            f"  GRAPH ?g {{ ?iri rdfs:label ?label }} FILTER (?g != <{GRAPH}inferred>) }}\n")


def labels_of(endpoint, iris) -> dict[str, list[Literal]]:
    """The labels of up to MOST_IRIS of these IRIs, by IRI (IRIs that cannot be written in a query
    are left out)."""
    wanted = sorted({i for i in iris if i and not any(c in i for c in '<>"{}|^`\\ ')})[:MOST_IRIS]
    if not wanted:
        return {}
    reply = endpoint.run(Job(label_query(wanted), negotiation.Choice("json", None, "labels"),
                             endpoint.settings.max_rows, source="labels"))
    found: dict[str, list[Literal]] = {}
    for row in json.loads(reply["data"])["results"]["bindings"]:
        label = row["label"]
        found.setdefault(row["iri"]["value"], []).append(Literal(label["value"], lang=label.get("xml:lang")))
    return found


def _literal(cell: dict) -> Literal:
    datatype = cell.get("datatype")
    return Literal(cell["value"], lang=cell.get("xml:lang"), datatype=URIRef(datatype) if datatype else None)


def readable_rows(document: dict, endpoint, site_base: str = "", root: str = "/") -> list[list[Shown | None]]:
    """The table's rows as cells to show, in the order of its variables."""
    variables = document["head"]["vars"]
    rows = document["results"]["bindings"]
    iris = [cell["value"] for row in rows for cell in row.values() if cell.get("type") == "uri"]
    terms = Terms(labels_of(endpoint, iris), site_base, root)
    several = {v: len({row[v]["xml:lang"] for row in rows if v in row and row[v].get("xml:lang")}) > 1
               for v in variables}  # a tag only in a column holding several languages
    out = []
    for row in rows:
        cells = []
        for variable in variables:
            cell = row.get(variable)
            if cell is None:
                cells.append(None)
            elif cell["type"] == "uri":
                cells.append(terms.show(URIRef(cell["value"])))
            elif cell["type"] == "bnode":
                cells.append(Shown("_:" + cell["value"]))
            else:
                cells.append(literal_shown(_literal(cell), several[variable]))
        out.append(cells)
    return out
