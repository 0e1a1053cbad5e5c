"""The one error handler: every failure becomes a KkgError, answered in the one shape.

Plain text by default (``error: where: message``, as the command line prints it), JSON
(``KkgError.to_dict()``) when the client prefers JSON. Werkzeug's HTTP errors (404, 405 with
``Allow``, 413...) are turned into KkgErrors first; anything else is a bug in this server: it is
logged with its traceback and answered with a generic 500 in the same shape, never a traceback.
"""

from __future__ import annotations

import json
import logging

from flask import Flask, Response, current_app, has_request_context, request
from werkzeug.exceptions import HTTPException

from ...graph.core.errors import KkgError
from . import negotiation

log = logging.getLogger("karabakh_kg.server")

_JSON_TYPES = ("application/json", "application/sparql-results+json", "application/ld+json",
               "application/problem+json")

_HTTP_CODES = {
    400: "bad-request", 404: "not-found", 405: "method-not-allowed", 406: "not-acceptable",
    408: "request-timeout", 413: "too-large", 414: "too-large", 415: "unsupported-media-type",
    431: "too-large", 501: "not-implemented",
}

# Headers of werkzeug's errors that tell the client what to do next; the rest (its HTML) is dropped.
_KEPT_HEADERS = ("allow", "retry-after")


def prefers_json() -> bool:
    """True when the request's Accept header rates a JSON type above plain text."""
    if not has_request_context():
        return False
    accept = negotiation.request_accept()
    if not accept:
        return False
    best = accept.best_match(("text/plain",) + _JSON_TYPES)
    return best is not None and best != "text/plain"


def error_response(exc: KkgError) -> Response:
    """The HTTP response for a KkgError: its status, its headers, its one shape."""
    if prefers_json():
        body = json.dumps(exc.to_dict(), ensure_ascii=False) + "\n"
        mimetype = "application/json"
    else:
        body = f"error: {exc}\n"
        mimetype = "text/plain"
    response = Response(body, status=exc.status, mimetype=mimetype)
    if mimetype == "text/plain":
        response.charset = "utf-8"
    for name, value in exc.headers.items():
        response.headers[name] = value
    response.headers["Cache-Control"] = "no-store"
    return response


def from_http_exception(exc: HTTPException) -> KkgError:
    """A werkzeug HTTP error as a KkgError with a message that says what to do."""
    status = exc.code or 500
    headers = {name: value for name, value in exc.get_headers() if name.lower() in _KEPT_HEADERS}
    path = request.path if has_request_context() else ""
    if status == 405:
        allowed = headers.get("Allow", "")
        message = f"{request.method} is not allowed on {path}; allowed: {allowed}"
    elif status == 404:
        message = f"nothing at {path}; the endpoint is /sparql, stored queries are at /queries, data at /data"
    elif status == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        message = f"the request is too large; the limit is {limit} bytes (setting max_request_bytes)"
    else:
        message = exc.description or exc.name
    return KkgError(message, code=_HTTP_CODES.get(status, f"http-{status}"), status=status, headers=headers)


def register(app: Flask) -> None:
    """Install the handlers on an app: KkgError, werkzeug's HTTP errors, and the catch-all for bugs."""

    @app.errorhandler(KkgError)
    def _on_kkg_error(exc: KkgError):
        return error_response(exc)

    @app.errorhandler(HTTPException)
    def _on_http_error(exc: HTTPException):
        return error_response(from_http_exception(exc))

    @app.errorhandler(Exception)
    def _on_bug(exc: Exception):
        log.exception("unexpected error answering %s %s", request.method, request.full_path)
        endpoint = app.extensions.get("karabakh_kg")
        if endpoint is not None:
            endpoint.unexpected_errors += 1
        return error_response(KkgError("internal error: the server failed to answer this request; "
                                       "the failure was logged", code="internal-error", status=500))
