"""The hot path: ``GET /sparql?query=`` answers that need no query worker, served without Flask.

The request a crawler, a Linked Data page or a client library sends most is a look-up about one
subject, or a query asked before. The query service answers either without a query worker (the
look-up lane, the answer cache: :meth:`QueryService.answer_at_once`) in about a tenth of a
millisecond; Flask's request context, routing, response object and after-request hooks took twice
that again, and the protocol's reading and the negotiation as much again. So the app's WSGI
callable is wrapped (Flask's middleware pattern, ``app.wsgi_app``): a request this module can
answer exactly as the ``/sparql`` route would, status, headers and bytes, is answered here; every
other request reaches Flask untouched.

It answers only a ``GET /sparql`` over http or https whose only parameter is one ``query=``, with a
``Host`` header, no body, no ``If-None-Match`` and no ``Upgrade``, served from a build (not an
external store), whose reply :meth:`~karabakh_kg.graph.sparql.QueryService.answer_at_once` gives. Everything else goes to Flask:
other paths and methods, ``format=`` and dataset parameters, conditional requests, queries that
need a worker, and every error, which the route words in the one error shape. The headers come from
the same functions the route's come from (the ETag, the CORS decision, the content type);
tests/test_hot_path.py sends a corpus of requests to both and compares the answers.
"""

from __future__ import annotations

import logging
from typing import Callable, Iterable

from werkzeug.sansio.utils import get_host

from ...graph.core import formats
from ...graph.sparql import Job
from . import http_manners, negotiation, protocol
from .answers import content_type, reply_headers
from .endpoint import Endpoint

log = logging.getLogger("karabakh_kg.server")

PATH = "/sparql"

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


class HotPath:
    """A WSGI app answering what it can of ``GET /sparql`` (module docstring), the rest by ``app``."""

    def __init__(self, app: WsgiApp, endpoint: Endpoint):
        self.app = app
        self.endpoint = endpoint
        self.answered = 0  # requests answered here (tests look at it; so may an operator)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == PATH and environ.get("REQUEST_METHOD") == "GET":
            try:
                answer = self._answer(environ)
            except Exception:  # a bug here must not cost the request: Flask answers it
                log.exception("the hot path failed on GET %s?%s; answered by the app instead",
                              PATH, environ.get("QUERY_STRING", "")[:200])
                self.endpoint.unexpected_errors += 1
                answer = None
            if answer is not None:
                status, headers, data = answer
                self.answered += 1
                start_response(status, headers)
                return [data]
        return self.app(environ, start_response)

    def _answer(self, environ: dict) -> tuple[str, list[tuple[str, str]], bytes] | None:
        """(status, headers, body) as the ``/sparql`` route would answer, or None to leave it to it."""
        endpoint = self.endpoint
        host = environ.get("HTTP_HOST")
        scheme = environ.get("wsgi.url_scheme")
        if (endpoint.version is None or host is None or scheme not in ("http", "https")
                or "HTTP_IF_NONE_MATCH" in environ or "HTTP_UPGRADE" in environ  # werkzeug: a WebSocket 400
                or environ.get("CONTENT_LENGTH") not in (None, "", "0") or "HTTP_TRANSFER_ENCODING" in environ):
            return None
        settings = endpoint.settings
        query_string = environ.get("QUERY_STRING", "")
        text = protocol.lone_query(query_string, settings.max_request_bytes)
        if text is None:
            return None
        accept = environ.get("HTTP_ACCEPT", "")
        job = Job(text, negotiation.choice_by_accept(accept), settings.max_rows)
        reply = endpoint.queries.answer_at_once(job)
        if reply is None:
            return None
        etag = http_manners.etag_of_request(endpoint.version, scheme, get_host(scheme, host), PATH, query_string,
                                            accept)
        data = reply["data"]
        headers = [("Content-Type", content_type(formats.by_name(reply["format"]))),
                   ("Content-Length", str(len(data))),
                   ("ETag", f'"{etag}"'),
                   ("Cache-Control", f"public, max-age={settings.cache_max_age}")]
        headers += reply_headers(reply)
        cors, varies_by_origin = http_manners.cors_headers(settings.cors_origins, environ.get("HTTP_ORIGIN"),
                                                           "GET", environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"))
        # in the order the route's after-request hook sets them: Vary: Origin comes before the CORS
        # headers, Accept after them
        if varies_by_origin:
            headers += [("Vary", "Origin, Accept")] + cors
        else:
            headers += cors + [("Vary", "Accept")]
        headers.append(("X-Content-Type-Options", "nosniff"))
        return "200 OK", headers, data
