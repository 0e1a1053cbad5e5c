"""The ``home`` blueprint: ``/``, the page a newcomer lands on. A few lines on what this is, the war's
key rival figures at a glance (the "killed" figures of the war's page: each claimant's latest,
side by side with their chart), and the ways in: the events, the claimants, the stored queries, the query page and the
SPARQL endpoint. Everything on it comes from queries run through the endpoint.
"""

from __future__ import annotations

import json
from collections import defaultdict

from flask import Blueprint, Response, render_template, request
from rdflib import URIRef

from ....graph.core.iris import KKG, entity
from ....graph.sparql import Job
from .. import negotiation
from ..endpoint import current
from ..http_manners import cacheable, not_modified, request_etag
from . import entity_pages, entity_queries
from .entity_routes import page_graph, page_terms, with_members
from .term_view import href_of

bp = Blueprint("home", __name__)

WAR = entity("event", "second-nagorno-karabakh-war")
KEY_CATEGORY = "killed"
MOST_LISTED = 200

WAYS_IN_QUERY = f"""# The events and the claimants, for the home page
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?what ?thing ?label WHERE {{
  {{ ?thing a <{KKG.Event}> . BIND ("event" AS ?what) }}
  UNION
  {{ ?claim <{KKG.claimant}> ?thing . BIND ("claimant" AS ?what) }}
  OPTIONAL {{ ?thing rdfs:label ?label FILTER (LANGMATCHES(LANG(?label), "en") || LANG(?label) = "") }}
}}
LIMIT 5000
"""


def ways_in(endpoint) -> dict[str, list[dict]]:
    """The events and the claimants (label and page link), alphabetically, at most MOST_LISTED each."""
    reply = endpoint.run(Job(WAYS_IN_QUERY, negotiation.Choice("json", None, "home"), endpoint.settings.max_rows,
                             source="home page"))
    found = defaultdict(dict)
    for row in json.loads(reply["data"])["results"]["bindings"]:
        iri = row["thing"]["value"]
        label = row.get("label", {}).get("value") or iri.rsplit("/", 1)[-1]
        found[row["what"]["value"]][iri] = label
    root = request.script_root + "/"
    return {what: [{"label": label, "href": href_of(iri, endpoint.settings.site_base, root)}
                   for iri, label in sorted(items.items(), key=lambda i: i[1].lower())[:MOST_LISTED]]
            for what, items in found.items()}


@bp.route("/")
def home():
    """The home page."""
    endpoint = current()
    etag = request_etag(endpoint.version)
    cached = not_modified(etag)
    if cached is not None:
        return cached
    graph, _ = page_graph(entity_queries.PAGE_QUERY, str(WAR))
    key_figures, war = [], None
    if (WAR, None, None) in graph:
        terms = page_terms(graph)
        claims = sorted({s for s in graph.subjects(KKG.about, WAR) if entity_pages.is_claim(s)})
        key_figures = [g for g in entity_pages.figure_groups(with_members(graph), claims, terms) if g["category"] == KEY_CATEGORY]
        war = terms.show(URIRef(WAR))
    stored = [{"title": q.title, "id": q.id} for q in endpoint.stored_queries.values()]
    html = render_template("home.html", war=war, key_figures=key_figures, ways=ways_in(endpoint), stored=stored)
    return cacheable(Response(html, mimetype="text/html"), etag)
