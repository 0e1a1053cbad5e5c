"""Federated queries that call the Wikidata Query Service through ``SERVICE``.

Stored queries name the public endpoint, ``SERVICE <https://query.wikidata.org/sparql>``. Whether
they run is the operator's choice: the server refuses every ``SERVICE`` whose IRI is not on its
federation allow-list (setting ``federation_allow_list``). An operator with a Wikidata mirror, or
a test with a local stand-in, points the same queries at another endpoint with :func:`retarget`,
which rewrites the ``SERVICE`` IRI of the text and nothing else; the new IRI must then be on the
allow-list in its turn.
"""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import urlsplit

from ..core.errors import KkgError
from .stored_queries import StoredQuery

WIKIDATA_SPARQL = "https://query.wikidata.org/sparql"

_SERVICE = re.compile(r"\bSERVICE\s+(?:SILENT\s+)?<([^>]*)>", re.IGNORECASE)


def service_endpoints(text: str) -> list[str]:
    """The endpoint IRIs a query's text calls with ``SERVICE <...>``, in order of appearance."""
    return [match.group(1) for match in _SERVICE.finditer(text)]


def is_federated(query: StoredQuery) -> bool:
    """True when the stored query calls another endpoint (and so needs the network and the allow-list)."""
    return bool(service_endpoints(query.text))


def retarget(query: StoredQuery, endpoint: str, original: str = WIKIDATA_SPARQL) -> StoredQuery:
    """A copy of ``query`` whose ``SERVICE <original>`` clauses call ``endpoint`` instead.

    ``endpoint`` must be an absolute http(s) IRI; a KkgError says so otherwise.
    """
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c in endpoint for c in "<>\"{} "):
        raise KkgError(f"{endpoint!r} is not an http(s) SPARQL endpoint IRI", code="bad-setting")

    def swap(match: re.Match) -> str:
        """The SERVICE clause with the new IRI, when it called ``original``."""
        if match.group(1) != original:
            return match.group(0)
        return match.group(0).replace(f"<{original}>", f"<{endpoint}>")

    return dataclasses.replace(query, text=_SERVICE.sub(swap, query.text))


def retarget_all(queries: dict[str, StoredQuery], endpoint: str,
                 original: str = WIKIDATA_SPARQL) -> dict[str, StoredQuery]:
    """Every stored query, with the federated ones pointed at ``endpoint`` instead of ``original``."""
    return {name: retarget(query, endpoint, original) if original in service_endpoints(query.text) else query
            for name, query in queries.items()}
