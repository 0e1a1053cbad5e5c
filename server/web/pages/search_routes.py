"""The ``search`` blueprint: ``/search?q=`` over labels and alternative labels, as a page (HTML, also
without JavaScript) or as JSON (``Accept: application/json``, ``format=json`` or ``/search.json``)."""

from __future__ import annotations

import json

from flask import Blueprint, Response, render_template, request

from .. import negotiation, protocol
from ..endpoint import current
from ..http_manners import cacheable, not_modified, request_etag
from . import label_search

bp = Blueprint("search", __name__)

HTML, JSON = "text/html", "application/json"


@bp.route("/search")
@bp.route("/search.<extension>")
def search(extension: str | None = None):
    """Things whose label contains ``q``, best matches first, with their kinds and types."""
    endpoint = current()
    params = protocol.url_params(endpoint.settings.max_request_bytes)
    format_values = protocol.format_values(params)
    chosen = negotiation.choose_one(negotiation.request_accept(), [HTML, JSON], format_values, extension)
    text = label_search.cleaned(protocol.values(params, "q")[0] if protocol.values(params, "q") else "")
    etag = request_etag(endpoint.version)
    cached = not_modified(etag)
    if cached is not None:
        return cached
    results = label_search.search(endpoint, text, endpoint.settings.site_base, request.script_root + "/")
    if chosen == JSON:
        body = json.dumps({"q": text, "results": results}, ensure_ascii=False, indent=1) + "\n"
        return cacheable(Response(body, mimetype=JSON), etag)
    html = render_template("search.html", text=text, results=results, search_text=text)
    return cacheable(Response(html, mimetype=HTML), etag)
