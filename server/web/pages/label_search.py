"""Label search: the graph's own things whose label, preferred label or alternative label contains
the words typed, best matches first, each with its kind and types.

The search is one SELECT query (the text typed is bound as ``?q``, never pasted into the query), run
through the endpoint like any other; ranking and grouping happen here: an exact label first, then a
label starting with the text, then one with a word starting with it, then any other; things before
the claims about them.
"""

from __future__ import annotations

import json
from collections import OrderedDict

from rdflib import Literal

from ....graph.core.errors import KkgError
from ....graph.core.iris import BASE, GRAPH
from ....graph.sparql import Job
from .. import negotiation
from .term_view import curie, href_of, local_path

MOST_ROWS = 2000
MAX_TEXT = 200

SEARCH_QUERY = f"""# Things of the graph whose label, preferred or alternative label contains ?q (lower case)
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?entity ?matched ?label ?type ?typeLabel WHERE {{
  VALUES ?property {{ rdfs:label skos:prefLabel skos:altLabel }}
  GRAPH ?g {{ ?entity ?property ?matched }}
  FILTER (?g != <{GRAPH}inferred> && isIRI(?entity) && STRSTARTS(STR(?entity), "{BASE}")
          && CONTAINS(LCASE(STR(?matched)), ?q))
  OPTIONAL {{ GRAPH ?lg {{ ?entity rdfs:label ?label }} FILTER (?lg != <{GRAPH}inferred>) }}
  OPTIONAL {{ GRAPH ?tg {{ ?entity a ?type }} FILTER (?tg != <{GRAPH}inferred>)
             OPTIONAL {{ ?type rdfs:label ?typeLabel }} }}
}}
LIMIT {MOST_ROWS}
"""


def cleaned(text: str | None) -> str:
    """The text to look for: trimmed, spaces collapsed; a 400 when longer than MAX_TEXT characters."""
    text = " ".join((text or "").split())
    if len(text) > MAX_TEXT:
        raise KkgError(f"the search text is {len(text)} characters; at most {MAX_TEXT}", code="bad-parameter")
    return text


def kind_of(iri: str) -> str:
    """actor, event, claim, source, place, concept, or "ontology term"."""
    path = local_path(iri) or ""
    if path.startswith("ontology"):
        return "ontology term"
    parts = path.split("/")
    return parts[1] if len(parts) > 2 else "thing"


def _rank(text: str, labels: list[str], kind: str) -> tuple:
    wanted = text.lower()
    best = 3
    for label in labels:
        lowered = label.lower()
        if lowered == wanted:
            best = min(best, 0)
        elif lowered.startswith(wanted):
            best = min(best, 1)
        elif any(word.startswith(wanted) for word in lowered.replace("-", " ").split()):
            best = min(best, 2)
    return (best, kind == "claim", kind == "ontology term")


def search(endpoint, text: str, site_base: str = "", root: str = "/") -> list[dict]:
    """The things matching ``text``, best first: IRI, label, kind, types, the labels that matched,
    and the link to its page."""
    if not text:
        return []
    reply = endpoint.run(Job(SEARCH_QUERY, negotiation.Choice("json", None, "search"), MOST_ROWS,
                             source="search", bindings={"q": Literal(text.lower())}))
    found: OrderedDict = OrderedDict()
    for row in json.loads(reply["data"])["results"]["bindings"]:
        iri = row["entity"]["value"]
        entry = found.setdefault(iri, {"iri": iri, "label": None, "kind": kind_of(iri), "types": {},
                                       "matched": set(), "page": href_of(iri, site_base, root)})
        entry["matched"].add(row["matched"]["value"])
        if "label" in row and (entry["label"] is None or row["label"].get("xml:lang") == "en"):
            entry["label"] = row["label"]["value"]
        if "type" in row:
            type_iri = row["type"]["value"]
            entry["types"][type_iri] = row.get("typeLabel", {}).get("value") or curie(type_iri)
    results = []
    for entry in found.values():
        entry["label"] = entry["label"] or sorted(entry["matched"])[0]
        entry["matched"] = sorted(entry["matched"])
        entry["types"] = [{"iri": iri, "label": label, "page": href_of(iri, site_base, root)}
                          for iri, label in sorted(entry["types"].items(), key=lambda t: t[1])]
        results.append(entry)
    results.sort(key=lambda e: _rank(text, [e["label"]] + e["matched"], e["kind"]) + (e["label"].lower(),))
    return results
