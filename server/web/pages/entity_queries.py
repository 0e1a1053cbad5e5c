"""The SPARQL queries behind every identifier's page and description (run like any other
query: through the endpoint's workers, time limit, row cap and answer cache).

- :func:`description_query`: the bounded description served as RDF (CONSTRUCT) for ``/id/{kind}/{slug}``: the
  entity's asserted statements, the asserted statements pointing to it, and the ``rdfs:label`` of
  everything named in them (subjects, predicates, objects). "Asserted" means every graph but the
  inferred one: the facts, the links, and for concepts the ontology that defines them.
- ``PAGE_QUERY``: what the HTML page shows, as rows (SELECT, at most PAGE_ROWS): the description, plus every statement of each claim
  pointing to the entity (a figure is a claim node: its value, claimant and source are one hop
  further; not of the claims merely citing it as their source document), plus for a claim the statements of what it names (so that its Wikidata statement can be
  worked out); and the labels of everything named. The page's "open in SPARQL" link carries it.
- ``ONTOLOGY_QUERY``: the ontology graph, for ``/ontology``.
- ``SERIES_QUERY``: for a claim's page, the figures of the same claimant (or of a joint claimant it
  belongs to, or of its members) about the same event and category, with what the page needs to
  say whether the figure was later revised (``entity_pages.revision``).
- ``MEMBERS_QUERY``: the members of every joint claimant ("Armenia/Artsakh" has Armenia), which the
  figure groups of a page need to put a member's figures in its joint claimant's history. One text
  for every page, so the answer cache keeps it: bound to the page's entity it took 100 ms at 1M
  triples (Oxigraph started from every claim), unbound 2 ms for 516 statements.

Each is one text whatever the entity, run with ``?entity`` bound (as a stored query's parameter is),
so that each query worker parses it once: parsing costs more than evaluating. :func:`for_entity`
writes the entity into the text for the "open in SPARQL" link.
"""

from __future__ import annotations

import functools

from ....graph.core.errors import KkgError
from ....graph.core.iris import GRAPH, ID, KINDS, KKG, PROV, entity

INFERRED = f"<{GRAPH}inferred>"
ONTOLOGY_GRAPH = f"<{GRAPH}ontology>"
CLAIMS = f"{ID}claim/"

_PREFIXES = "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"


def entity_iri(kind: str, slug: str) -> str:
    """The canonical IRI of ``/id/{kind}/{slug}``; a 404 KkgError when it cannot be one of ours."""
    if kind not in KINDS:
        raise KkgError(f"no kind of identifier {kind!r}; identifiers are /id/{{kind}}/{{slug}} with kind one of "
                       f"{', '.join(KINDS)}", code="not-found", status=404)
    try:
        return str(entity(kind, slug))
    except ValueError:
        raise KkgError(f"nothing is identified by /id/{kind}/{slug}: a slug is lowercase words joined by "
                       f"hyphens", code="not-found", status=404) from None


def _core(page: bool) -> str:
    """The statements (?s ?p ?o) a description or page of ?entity is made of, as a group graph pattern."""
    node = "?entity"
    branches = [
        f"{{ GRAPH ?g {{ {node} ?p ?o }} FILTER (?g != {INFERRED}) BIND ({node} AS ?s) }}",
        f"{{ GRAPH ?g {{ ?s ?p {node} }} FILTER (?g != {INFERRED}) BIND ({node} AS ?o) }}",
    ]
    if page:
        branches.append(  # every statement of the claims pointing to it (not merely citing it as their source)
            f"{{ GRAPH ?h {{ ?s ?r {node} }} FILTER (?h != {INFERRED} && STRSTARTS(STR(?s), \"{CLAIMS}\")\n"
            f"      && ?r NOT IN (<{KKG.sourceDocument}>, <{PROV.wasDerivedFrom}>))\n"
            f"    GRAPH ?g {{ ?s ?p ?o }} FILTER (?g != {INFERRED}) }}")
        branches.append(  # what a claim names: its event's and concepts' links, its classes
                f"{{ FILTER (STRSTARTS(STR({node}), \"{CLAIMS}\"))\n"
                f"    GRAPH ?h {{ {node} ?r ?s }} FILTER (?h != {INFERRED} && isIRI(?s))\n"
                f"    GRAPH ?g {{ ?s ?p ?o }} FILTER (?g != {INFERRED}) }}")
    return "\n  UNION\n  ".join(branches)


def _label(var: str) -> str:
    return (f"  OPTIONAL {{ GRAPH ?{var}g {{ ?{var} rdfs:label ?{var}Label }} FILTER (?{var}g != {INFERRED}) }}\n")


def _with_labels(page: bool, comment: str, limit: int) -> str:
    if page:  # rows: the page counts them, and knows when the LIMIT cut it
        head = "SELECT ?entity ?s ?p ?o ?sLabel ?pLabel ?oLabel\n"
    else:
        head = "CONSTRUCT { ?s ?p ?o . ?s rdfs:label ?sLabel . ?p rdfs:label ?pLabel . ?o rdfs:label ?oLabel }\n"
    return (f"# {comment}\n{_PREFIXES}{head}"
            f"WHERE {{\n  {{\n  {_core(page)}\n  }}\n"
            + _label("s") + _label("p") + _label("o") + f"}}\nLIMIT {limit}\n")


@functools.lru_cache(maxsize=8)
def description_query(max_rows: int) -> str:
    """The bounded description of ?entity. Its LIMIT is one more solution than the server's row cap,
    so that a description the LIMIT cut is always over the cap too, and said to be truncated."""
    return _with_labels(False, "The bounded description of ?entity: its asserted statements, the statements "
                        "pointing to it, the labels of everything named.", max_rows + 1)


# A page shows at most this many statements (rows): the first found, the entity's own first. The
# largest event and actor pages of the seed need about 1,450 (the war's 1,254).
PAGE_ROWS = 2000
PAGE_QUERY = _with_labels(True, "Everything the page of ?entity shows, a statement and the labels of what it "
                          "names per row: its description, the statements of the claims about it.", PAGE_ROWS)
_SERIES_PROPERTIES = ", ".join(f"<{KKG[name]}>" for name in (
    "claimant", "about", "category", "personGroup", "appliesTo", "asOf", "value", "minValue", "maxValue",
    "approximation", "unit", "sourceDocument"))
SERIES_QUERY = f"""# The figures of ?entity's claimant (or its joint claimant, or its members) about the same thing
{_PREFIXES}CONSTRUCT {{ ?other ?p ?o . ?other rdfs:label ?otherLabel . ?by2 rdfs:label ?byLabel .
  ?group <{KKG.hasMember}> ?member }}
WHERE {{
  ?entity <{KKG.about}> ?event ; <{KKG.category}> ?category ; <{KKG.claimant}> ?by .
  {{ ?other <{KKG.claimant}> ?by BIND (?by AS ?by2) }}
  UNION {{ ?by2 <{KKG.hasMember}> ?by . ?other <{KKG.claimant}> ?by2 BIND (?by2 AS ?group) BIND (?by AS ?member) }}
  UNION {{ ?by <{KKG.hasMember}> ?by2 . ?other <{KKG.claimant}> ?by2 BIND (?by AS ?group) BIND (?by2 AS ?member) }}
  ?other <{KKG.about}> ?event ; <{KKG.category}> ?category .
  GRAPH ?g {{ ?other ?p ?o }} FILTER (?g != {INFERRED} && ?p IN ({_SERIES_PROPERTIES}))
  OPTIONAL {{ ?other rdfs:label ?otherLabel }} OPTIONAL {{ ?by2 rdfs:label ?byLabel }}
}}
"""
MEMBERS_QUERY = (f"# The members of every joint claimant\nCONSTRUCT {{ ?group <{KKG.hasMember}> ?member }}\n"
                 f"WHERE {{ GRAPH ?g {{ ?group <{KKG.hasMember}> ?member }} FILTER (?g != {INFERRED}) }}\n")
ONTOLOGY_QUERY = f"# The ontology graph\nCONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {ONTOLOGY_GRAPH} {{ ?s ?p ?o }} }}\n"


def for_entity(text: str, iri: str) -> str:
    """A query of this module with the entity written in: the self-contained text behind a page's
    "open in SPARQL" link."""
    return text.replace("?entity", f"<{iri}>")
