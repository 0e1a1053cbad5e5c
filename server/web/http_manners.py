"""HTTP manners on every response: CORS (also on errors and preflight), ``Vary``, caching headers,
ETags derived from the build version and the request, and conditional GET (304).
"""

from __future__ import annotations

import hashlib

from flask import Flask, Response, current_app, request

EXPOSED_HEADERS = "ETag, Content-Disposition, Retry-After, X-Karabakh-KG-Truncated, X-Karabakh-KG-Rows"
ALLOWED_METHODS = "GET, HEAD, POST, OPTIONS"


def etag_for(version: str, *parts: str) -> str:
    """A strong ETag from the dataset version and what decides the representation (path, Accept...);
    "" (no ETag) when there is no version: the data is an external store's and may change."""
    if version is None:
        return ""
    digest = hashlib.sha256()
    for part in (version,) + parts:
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()[:32]


def request_etag(version: str) -> str:
    """The ETag of the current GET request's answer: the version, the full path and the Accept header.

    It can be computed before doing any work, so a matching ``If-None-Match`` costs nothing.
    """
    # scheme and Host as sent (werkzeug's host_url decodes them again on every call)
    return etag_of_request(version, request.scheme, request.host, request.path,
                           request.query_string.decode("latin-1"), request.headers.get("Accept", ""))


def etag_of_request(version: str, scheme: str, host: str, path: str, query_string: str, accept: str) -> str:
    """The ETag of a GET request's answer from its parts (:func:`request_etag` for the request in
    flight; the hot path reads the same parts from the WSGI environment)."""
    return etag_for(version, f"{scheme}://{host}/", path, query_string, accept)


def not_modified(etag: str) -> Response | None:
    """A 304 response when the client already holds this ETag (GET and HEAD only), else None."""
    if not etag or request.method not in ("GET", "HEAD") or not request.if_none_match:
        return None
    if request.if_none_match.contains(etag) or request.if_none_match.star_tag:
        response = Response(status=304)
        cacheable(response, etag)
        return response
    return None


def cacheable(response: Response, etag: str) -> Response:
    """Mark a successful GET answer as cacheable: ETag and Cache-Control from the settings (with no
    ETag, in front of an external store, ``no-cache``)."""
    if request.method in ("GET", "HEAD"):
        if etag:
            response.set_etag(etag)
            max_age = current_app.extensions["karabakh_kg"].settings.cache_max_age
            response.headers["Cache-Control"] = f"public, max-age={max_age}"
        else:  # an external store's data can change behind the server: nothing to reuse unasked
            response.headers["Cache-Control"] = "no-cache"
    else:
        response.headers["Cache-Control"] = "no-store"
    return response


def _add_vary(response: Response, field: str) -> None:
    present = {v.strip().lower() for v in response.headers.get("Vary", "").split(",") if v.strip()}
    if field.lower() not in present:
        response.vary.add(field)


def cors_headers(origins: str, origin: str | None, method: str,
                 asked_headers: str | None) -> tuple[list[tuple[str, str]], bool]:
    """The CORS headers for a request from ``origin`` under the ``cors_origins`` setting, and
    whether the answer varies by Origin (a listed set of origins). One decision for the Flask hook
    and the hot path (hot_path.py)."""
    if not origins:
        return [], False
    if origins.strip() == "*":
        headers, varies = [("Access-Control-Allow-Origin", "*")], False
    else:
        allowed = [o.strip() for o in origins.split(",") if o.strip()]
        if origin not in allowed:
            return [], True
        headers, varies = [("Access-Control-Allow-Origin", origin)], True
    headers.append(("Access-Control-Expose-Headers", EXPOSED_HEADERS))
    if method == "OPTIONS":
        headers += [("Access-Control-Allow-Methods", ALLOWED_METHODS),
                    ("Access-Control-Allow-Headers", asked_headers or "Accept, Content-Type, If-None-Match"),
                    ("Access-Control-Max-Age", "86400")]
    return headers, varies


def _cors(response: Response, origins: str) -> None:
    headers, varies = cors_headers(origins, request.headers.get("Origin"), request.method,
                                   request.headers.get("Access-Control-Request-Headers"))
    if varies:
        _add_vary(response, "Origin")
    for name, value in headers:
        response.headers[name] = value


def register(app: Flask) -> None:
    """Add the after-request hook that puts these headers on every response, errors included."""

    @app.after_request
    def _manners(response: Response) -> Response:
        endpoint = app.extensions.get("karabakh_kg")
        _cors(response, endpoint.settings.cors_origins if endpoint else "*")
        _add_vary(response, "Accept")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if response.status_code >= 400 or "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store" if response.status_code >= 400 else "no-cache"
        if response.mimetype == "text/html":
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                "frame-ancestors 'none'")
        return response
