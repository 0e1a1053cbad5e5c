"""HTTP requests to an external SPARQL store, with every failure turned into one KkgError.

Used by ``push`` (Graph Store Protocol PUTs) and by the server fronting the store (SPARQL 1.1
Protocol queries). The standard library's urllib is enough: it speaks HTTP Digest (what
Virtuoso's authenticated endpoints ask for) and Basic authentication, and it keeps the package's
dependencies as they are.
"""

from __future__ import annotations

import http.client
import re
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..core.errors import KkgError

# How much of a store's error body goes into the message: enough for "SP030: SPARQL compiler...".
_MESSAGE_CHARS = 300


@dataclass(frozen=True)
class Reply:
    """A successful answer: status, headers (lower-cased names) and body."""

    status: int
    headers: dict[str, str]
    body: bytes


def check_url(url: str, setting: str) -> str:
    """The URL, if it is an absolute http(s) URL; otherwise a KkgError naming the setting."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise KkgError(f"{setting}: {url!r} is not an http:// or https:// URL", code="bad-setting")
    return url


def _opener(url: str, user: str, password: str) -> urllib.request.OpenerDirector:
    if not user:
        return urllib.request.build_opener()
    manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    manager.add_password(None, url, user, password)
    return urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(manager),
                                       urllib.request.HTTPBasicAuthHandler(manager))


# Virtuoso answers a query it cannot compile or evaluate (SQLSTATE classes 37 and 42: syntax and
# access; 22: data exceptions such as a division by zero) with HTTP 500, not 400.
_VIRTUOSO_QUERY_FAULT = re.compile(r"^Virtuoso (?:37|42|22)[0-9A-Z]{3} Error")


def _store_message(body: bytes) -> str:
    """The first meaningful lines of a store's error page (Virtuoso answers HTML or plain text),
    without the echo of the query that Virtuoso appends."""
    text = body.decode("utf-8", "replace").split("SPARQL query:", 1)[0]
    for tag in ("<xmp>", "<pre>"):
        if tag in text:
            text = text.split(tag, 1)[1].split("</", 1)[0]
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("<")]
    message = " ".join(lines)
    return message[:_MESSAGE_CHARS] + ("..." if len(message) > _MESSAGE_CHARS else "")


# A store asks for credentials (401) as soon as it has read the headers and may close the
# connection while a big body is still being sent (Virtuoso does: "Broken pipe"). Above this size
# the challenge is fetched first with a body-less request, and the body is sent authorized.
_PROBE_ABOVE = 64 * 1024


def _authorize_ahead(request: urllib.request.Request, user: str, password: str, timeout: float) -> None:
    """Add the Authorization header the store's Digest challenge asks for, fetched with a HEAD
    request, so that the body goes out once, authorized (no header when the store sets no Digest
    challenge: urllib then answers a challenge as usual)."""
    probe = urllib.request.Request(request.full_url, method="HEAD")
    try:
        urllib.request.build_opener().open(probe, timeout=timeout).close()
        return
    except urllib.error.HTTPError as exc:
        challenge = exc.headers.get("WWW-Authenticate", "") if exc.code == 401 else ""
    scheme, _, params = challenge.partition(" ")
    if scheme.lower() != "digest":
        return
    manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    manager.add_password(None, request.full_url, user, password)
    handler = urllib.request.HTTPDigestAuthHandler(manager)
    fields = urllib.request.parse_keqv_list(urllib.request.parse_http_list(params))
    authorization = handler.get_authorization(request, fields)
    if authorization:
        request.add_unredirected_header("Authorization", "Digest " + authorization)


def send(url: str, *, data: bytes | None = None, method: str = "GET", headers: dict | None = None,
         user: str = "", password: str = "", timeout: float = 60.0, what: str = "the SPARQL store",
         public: bool = False) -> Reply:
    """Send one request; a 2xx answer is returned, anything else raised as a KkgError.

    Statuses of the KkgError: 502 when the store cannot be reached, refuses the credentials or
    fails; 503 when it does not answer within ``timeout``; 400 when it rejects the request itself
    (for a query: the store's SPARQL dialect refuses what rdflib accepted), with the store's words.
    ``public`` messages (answers to HTTP clients) leave out the store's URL, which is the
    operator's business.
    """
    place = what if public else f"{what} at {url}"
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    try:
        if user and data and len(data) > _PROBE_ABOVE:
            _authorize_ahead(request, user, password, timeout)
        with _opener(url, user, password).open(request, timeout=timeout) as answer:
            return Reply(answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read())
    except urllib.error.HTTPError as exc:
        body = exc.read() if exc.fp is not None else b""
        said = _store_message(body) or str(exc.reason)
        if exc.code in (401, 403):
            hint = "set store_user and store_password" if not user else "check store_user and store_password"
            raise KkgError(f"{place} refused the request (HTTP {exc.code}): {said}; {hint}",
                           code="store-refused", status=502) from None
        if exc.code == 400 or _VIRTUOSO_QUERY_FAULT.match(said):
            raise KkgError(f"{what} rejected the request: {said}", code="store-rejected", status=400) from None
        raise KkgError(f"{place} failed (HTTP {exc.code}): {said}", code="store-failed", status=502) from None
    except (TimeoutError, socket.timeout):
        raise KkgError(f"{place} did not answer within {timeout:g} s", code="timeout", status=503,
                       headers={"Retry-After": str(max(1, round(timeout)))}) from None
    except urllib.error.URLError as exc:
        reason = exc.reason.strerror if isinstance(exc.reason, OSError) and exc.reason.strerror else exc.reason
        raise KkgError(f"could not reach {place} ({reason})", code="store-unreachable", status=502) from None
    except (http.client.HTTPException, ConnectionError, OSError, ValueError) as exc:
        raise KkgError(f"could not talk to {place} ({exc or type(exc).__name__})", code="store-unreachable",
                       status=502) from None
