"""The ``ui`` blueprint: the HTML query page for people (``/query``) (editor, stored query picker, results
table with download links). Plain HTML and a small vanilla script served from ``static/``; nothing
is fetched from other sites.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, url_for

from ...graph.core import formats
from ...graph.core.errors import KkgError
from ...graph.core.iris import BASE
from .endpoint import current

bp = Blueprint("ui", __name__)


def editor_text(stored) -> str:
    """A stored query as text for the editor: its parameters' defaults bound in a trailing VALUES clause."""
    text = stored.text.rstrip() + "\n"
    bound, unbound = [], []
    for param in stored.params:
        if param.default is None:
            unbound.append(param)
            continue
        try:
            bound.append((param.name, param.to_term(param.default).n3()))
        except KkgError:
            unbound.append(param)
    for param in unbound:
        text += f"# parameter ?{param.name} ({param.type}) has no default: bind it to run this query\n"
    if bound:
        names = " ".join(f"?{name}" for name, _ in bound)
        terms = " ".join(term for _, term in bound)
        text += f"VALUES ({names}) {{ ({terms}) }}\n"
    return text


def page_context() -> dict:
    """What the query page shows: the stored queries and the download formats of each kind."""
    endpoint = current()
    stored = [{"id": q.id, "title": q.title, "description": q.description, "text": editor_text(q),
               "url": url_for("queries.stored_query", name=q.id)}
              for q in endpoint.stored_queries.values()]
    downloads = {kind: [{"name": f.name, "label": f.label} for f in formats.candidates(kind)
                        if f.carries != formats.TEXT]
                 for kind in (formats.TABLE, formats.GRAPH)}
    settings = endpoint.settings
    limits = {"timeout": settings.query_timeout, "max_rows": settings.max_rows}
    example = ("SELECT ?graph (COUNT(*) AS ?triples)\nWHERE { GRAPH ?graph { ?s ?p ?o } }\n"
               "GROUP BY ?graph\nORDER BY DESC(?triples)\n")
    if request.path == url_for("ui.index"):  # /query?query=...: a page's "open in SPARQL" link
        example = request.args.get("query", example)
    links = {"base": BASE, "site": settings.site_base or request.script_root + "/"}  # for readable results
    return {"stored": stored, "downloads": downloads, "limits": limits, "example": example,
            "graphs": endpoint.graph_names(), "links": links}


def query_page() -> Response:
    """The query page (also what a browser gets at ``/sparql`` without a query)."""
    response = Response(render_template("index.html", **page_context()), mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/query")
def index():
    """The query page; ``?query=`` puts a query in its editor (the pages' "open in SPARQL" links).
    The home page is ``/`` (home_routes.py)."""
    return query_page()
