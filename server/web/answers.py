"""Turning a worker's reply (or exported bytes) into an HTTP response with the right headers."""

from __future__ import annotations

from flask import Response

from ...graph.core import formats
from ...graph.sparql import TRUNCATED_HEADER
from .http_manners import cacheable

ROWS_HEADER = "X-Karabakh-KG-Rows"


def content_type(fmt: formats.Format) -> str:
    """The Content-Type for a format: its media type, with ``charset=utf-8`` for text and JSON types."""
    media_type = fmt.media_type
    if media_type.startswith("text/") or media_type.endswith("json"):
        return f"{media_type}; charset=utf-8"
    return media_type


def attachment(filename: str, download: bool = True) -> str:
    """A Content-Disposition value offering ``filename`` (``attachment`` for downloads, else ``inline``)."""
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in filename)
    return f'{"attachment" if download else "inline"}; filename="{safe}"'


def data_response(data: bytes, fmt: formats.Format, etag: str, filename: str | None = None,
                  download: bool = False) -> Response:
    """A successful answer in ``fmt``, cacheable under ``etag``."""
    response = Response(data, status=200, content_type=content_type(fmt))
    if filename:
        response.headers["Content-Disposition"] = attachment(filename, download)
    return cacheable(response, etag)


def reply_response(reply: dict, etag: str, filename: str | None = None, download: bool = False) -> Response:
    """A query's answer from a worker reply, saying how many rows and whether they were truncated."""
    fmt = formats.by_name(reply["format"])
    if filename:
        filename = f"{filename}.{fmt.extension}"
    response = data_response(reply["data"], fmt, etag, filename, download)
    for name, value in reply_headers(reply):
        response.headers[name] = value
    return response


def reply_headers(reply: dict) -> list[tuple[str, str]]:
    """The headers saying how many rows a reply holds and whether they were cut at max_rows."""
    headers = [(ROWS_HEADER, str(reply["rows"]))]
    if reply.get("truncated"):
        headers.append((TRUNCATED_HEADER, str(reply["truncated"])))
    return headers
