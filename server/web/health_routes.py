"""``/health``: whether this server process can answer queries, for load balancers and supervisors.

200 with the query workers' state when it can; 503 with the problem when it cannot (the query-worker
spawner ended or keeps failing, or the server is shutting down), so that a server whose every
query would fail never looks healthy. Never cached; answered without a query worker.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from .endpoint import current

bp = Blueprint("health", __name__)


@bp.route("/health", methods=["GET", "HEAD"])
def health():
    """``{"status": "ok", "query_workers": {...}}`` (200) or ``{"status": "unhealthy", ...}`` (503)."""
    healthy, state = current().health()
    problem = state.pop("problem", None)
    body = {"status": "ok" if healthy else "unhealthy", "query_workers": state}
    if problem:
        body["problem"] = problem
    response = jsonify(body)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    if not healthy:
        response.headers["Retry-After"] = "5"
    return response
