"""What keeps an untrusted query from reading files or opening connections (DESIGN section 6).

Three layers, each enough on its own for the case it covers:

1. ``SPARQL_LOAD_GRAPHS`` is switched off, so ``FROM``/``FROM NAMED`` (and the protocol's
   ``default-graph-uri``/``named-graph-uri``) only select among graphs already in the dataset; an
   unknown graph is empty.
2. The parsed query's algebra is walked before evaluation: ``SERVICE`` is refused (a 400 naming
   the endpoint) unless its IRI is on the federation allow-list.
3. Query worker processes install an audit hook that refuses network connections to hosts outside
   the allow-list, reading files outside the Python installation, and starting programs, whatever
   code path tries it.
"""

from __future__ import annotations

import os
import re
import socket
import sys
from urllib.parse import urlsplit

import rdflib.plugins.sparql
from pyparsing import ParseResults
from rdflib import URIRef, Variable
from rdflib.plugins.sparql.parserutils import CompValue

from ..core.errors import KkgError, Location


def never_load_graphs() -> None:
    """Stop rdflib from fetching the graphs a query names in FROM / FROM NAMED (it reads files and URLs)."""
    rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = False


never_load_graphs()

# rdflib evaluates SERVICE from the text it matched, not from the parsed IRI, so both are checked.
_SERVICE_TEXT = re.compile(r"^service\s+(silent\s+)?<([^>]*)>", re.IGNORECASE)


def _walk(node):
    """Every CompValue in a parsed query's algebra (sub-queries, EXISTS filters and all)."""
    stack, seen = [node], set()
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, CompValue):  # rdflib's Expr is a CompValue too
            yield item
            stack.extend(item.values())
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, ParseResults)):
            stack.extend(item)


def service_endpoints(query) -> list:
    """The endpoints a parsed query's SERVICE clauses would call (IRIs, or Variables for ``SERVICE ?x``).

    Kept on the parsed query: the workers keep parsed queries and check each again for every job.
    """
    known = getattr(query, "kkg_services", None)
    if known is None:
        known = query.kkg_services = _find_service_endpoints(query)
    return list(known)


def _find_service_endpoints(query) -> list:
    found = []
    for node in _walk(query.algebra):
        if node.name == "ServiceGraphPattern":
            found.append(node.get("term"))
            match = _SERVICE_TEXT.match(str(node.get("service_string") or "").strip())
            if match:
                found.append(URIRef(match.group(2)))
    return found


def refuse_unlisted_services(query, allow_list: list[str], source: str = "query") -> None:
    """A 400 KkgError naming the first SERVICE endpoint that is not on the allow-list."""
    allowed = {a.strip() for a in allow_list}
    for term in service_endpoints(query):
        if isinstance(term, Variable) or term is None:
            raise KkgError("SERVICE with a variable endpoint is refused: this endpoint only calls the "
                           "SERVICE endpoints on its federation allow-list", code="service-refused",
                           where=Location(source))
        if str(term) not in allowed:
            listed = ", ".join(sorted(allowed)) if allowed else "none are allowed"
            raise KkgError(f"SERVICE <{term}> is refused: it is not on this endpoint's federation "
                           f"allow-list (setting federation_allow_list; {listed})",
                           code="service-refused", where=Location(source))


def restrict_dataset(query, default_graphs: list[str] | None, named_graphs: list[str] | None) -> None:
    """Make the protocol's ``default-graph-uri``/``named-graph-uri`` replace the query's FROM clauses.

    With graph loading off, both only select among the graphs the dataset already has.
    """
    if not default_graphs and not named_graphs:
        return
    clauses = [CompValue("DatasetClause", default=URIRef(g)) for g in default_graphs or []]
    clauses += [CompValue("DatasetClause", named=URIRef(g)) for g in named_graphs or []]
    query.algebra["datasetClause"] = clauses


def allowed_hosts(allow_list: list[str]) -> set[str]:
    """The host names of the allow-listed SERVICE endpoints (what a worker may connect to)."""
    return {urlsplit(iri).hostname for iri in allow_list if urlsplit(iri).hostname}


def store_hosts(url: str) -> list[str]:
    """The host name of an external store's URL and the addresses it resolves to now (the audit
    hook sees the name when resolving and the address when connecting)."""
    host = urlsplit(url).hostname
    if not host:
        return []
    found = {host}
    try:
        found.update(info[4][0] for info in socket.getaddrinfo(host, urlsplit(url).port or 80))
    except OSError:
        pass
    return sorted(found)


def _readable_roots() -> tuple[str, ...]:
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    roots.update(p for p in sys.path if p and os.path.isdir(p))
    roots.add(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))  # karabakh_kg
    return tuple(sorted(os.path.realpath(r) + os.sep for r in roots if os.path.realpath(r) != os.sep))


def install_guard(allow_list: list[str], store_hosts: list[str] = ()) -> None:
    """In a query worker: refuse, through a Python audit hook, connections to hosts not allow-listed
    (or, when the server fronts an external store, not that store's), reading files outside the
    Python installation, writing any file, and starting programs.

    An audit hook cannot be removed, so this is only ever called in worker processes.
    """
    hosts = allowed_hosts(allow_list) | set(store_hosts)
    roots = _readable_roots()

    def hook(event: str, args: tuple) -> None:
        if event in ("socket.connect", "socket.getaddrinfo", "socket.sendto"):
            address = args[1] if event != "socket.getaddrinfo" else args
            host = address[0] if isinstance(address, tuple) and address else address
            if str(host) not in hosts:
                raise PermissionError(f"network access to {host!r} is refused in query workers")
        elif event == "open":
            path, mode = args[0], args[1]
            if isinstance(path, int):
                return
            writing = mode is not None and any(c in str(mode) for c in "wax+")
            real = os.path.realpath(os.fsdecode(path))
            if writing or not real.startswith(roots):
                raise PermissionError(f"file access to {real!r} is refused in query workers")
        elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn"):
            raise PermissionError("starting programs is refused in query workers")

    sys.addaudithook(hook)
