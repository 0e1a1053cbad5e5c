"""An external SPARQL store, queried over the SPARQL 1.1 Protocol, standing in for the local dataset.

``run_query`` hands a :class:`RemoteStore` the parsed query; the store sends the query's text
(never a re-serialisation of rdflib's algebra) and gives back an rdflib ``Result``, so the query
workers cap, serialise and report it exactly as they do a local result.

The dataset a query sees is decided here, not left to the store's defaults:

- Without FROM clauses (the usual case) the default graph is the union of the build's named
  graphs, as in process: they are sent as ``default-graph-uri`` parameters (Virtuoso's own
  default graph is every graph it holds, system graphs included), and as ``named-graph-uri`` so
  that ``GRAPH ?g`` ranges over them only.
- The query's FROM / FROM NAMED clauses, or the protocol parameters the client sent (which replace
  them), choose among those graphs; a graph the build does not have is empty, as in process.

Answers: SPARQL JSON for SELECT and ASK, N-Triples for CONSTRUCT and DESCRIBE, parsed with
rdflib. RDF 1.1 makes ``"x"^^xsd:string`` and ``"x"`` one term; stores that keep the datatype
(Virtuoso does, when the data had it) are read as the plain literal, as the Oxigraph engine is.
"""

from __future__ import annotations

import io
from urllib.parse import urlencode

from rdflib import Graph, Literal, Variable
from rdflib.namespace import XSD
from rdflib.query import Result

from ..core.errors import KkgError
from ..core.iris import GRAPH_NAMES, PREFIXES, named_graph
from . import query_text, store_http

# A graph IRI no store holds: naming it as the only default (or named) graph makes that part of
# the dataset empty, where leaving the parameter out would mean "the store's default".
EMPTY_GRAPH = "urn:karabakh-kg:empty-graph"
_RESULTS_JSON = "application/sparql-results+json"
_NTRIPLES = "application/n-triples"
# Virtuoso's header on an answer cut at its ResultSetMaxRows.
STORE_MAX_ROWS_HEADER = "x-sparql-maxrows"


def build_graphs() -> list[str]:
    """The IRIs of the build's named graphs (ontology, facts, links, inferred): what is pushed and queried."""
    return [str(named_graph(name)) for name in GRAPH_NAMES]


def plain(term):
    """The term, with ``"x"^^xsd:string`` read as the plain literal ``"x"`` (one term in RDF 1.1)."""
    if isinstance(term, Literal) and term.datatype == XSD.string and not term.language:
        return Literal(str(term))
    return term


class RemoteStore:
    """A SPARQL 1.1 Protocol endpoint holding the pushed build; ``query`` evaluates a parsed query there."""

    def __init__(self, endpoint: str, user: str = "", password: str = "", timeout: float = 60.0,
                 graphs: list[str] | None = None):
        self.endpoint = store_http.check_url(endpoint, "store_endpoint")
        self.user = user
        self.password = password
        self.timeout = timeout
        self.graphs = list(graphs or build_graphs())

    @classmethod
    def from_settings(cls, settings) -> "RemoteStore":
        """The store the settings name (``store_endpoint``, ``store_user``, ``store_password``)."""
        return cls(settings.store_endpoint, settings.store_user, settings.store_password,
                   timeout=float(settings.query_timeout) + 5)

    def __repr__(self) -> str:
        return f"RemoteStore({self.endpoint!r})"

    # -- the protocol -------------------------------------------------------------------------

    def _post(self, text: str, accept: str, default: list[str], named: list[str],
              public: bool = True) -> store_http.Reply:
        form = [("query", text)] + [("default-graph-uri", g) for g in default] + \
            [("named-graph-uri", g) for g in named]
        return store_http.send(self.endpoint, data=urlencode(form).encode("utf-8"), method="POST",
                               headers={"Content-Type": "application/x-www-form-urlencoded",
                                        "Accept": accept},
                               user=self.user, password=self.password, timeout=self.timeout, public=public)

    def dataset_for(self, parsed) -> tuple[list[str], list[str]]:
        """The default and named graphs to send for a parsed query (see the module's docstring)."""
        clauses = parsed.algebra.get("datasetClause") if parsed is not None else None
        if not clauses:
            return list(self.graphs), list(self.graphs)
        default = [str(dict.get(c, "default")) for c in clauses if dict.get(c, "default") is not None]
        named = [str(dict.get(c, "named")) for c in clauses if dict.get(c, "named") is not None]
        known = set(self.graphs)
        default = [g for g in dict.fromkeys(default) if g in known] or [EMPTY_GRAPH]
        named = [g for g in dict.fromkeys(named) if g in known] or [EMPTY_GRAPH]
        return default, named

    def query(self, parsed, bindings: dict | None = None) -> Result:
        """Evaluate a parsed query (its text, ``parsed.kkg_text``) on the store; an rdflib Result.

        ``bindings`` (variable to RDF term) open the WHERE group as a VALUES block. A result the
        store cut at its own row limit carries ``kkg_store_max_rows``.
        """
        text = getattr(parsed, "kkg_text", None)
        if text is None:
            raise KkgError("the external store needs the query's text", code="engine-error", status=500)
        kind = parsed.algebra.name
        text = query_text.with_prefixes(query_text.without_dataset_clauses(text), PREFIXES)
        if bindings:
            text = query_text.bind_values(text, kind, {str(k): v for k, v in bindings.items()})
        default, named = self.dataset_for(parsed)
        graph_result = kind in ("ConstructQuery", "DescribeQuery")
        reply = self._post(text, _NTRIPLES if graph_result else _RESULTS_JSON, default, named)
        result = self._graph_result(kind, reply) if graph_result else self._table_result(kind, reply)
        store_cap = reply.headers.get(STORE_MAX_ROWS_HEADER)
        result.kkg_store_max_rows = int(store_cap) if store_cap and store_cap.isdigit() else None
        return result

    def _graph_result(self, kind: str, reply: store_http.Reply) -> Result:
        graph = Graph()
        try:
            graph.parse(data=reply.body.decode("utf-8"), format="nt")
        except Exception as exc:  # noqa: BLE001 - whatever rdflib's parser raises on a malformed answer
            raise KkgError(f"the SPARQL store's answer was not N-Triples ({type(exc).__name__})",
                           code="store-failed", status=502) from None
        result = Result("DESCRIBE" if kind == "DescribeQuery" else "CONSTRUCT")
        result.graph = Graph()
        for s, p, o in graph:
            result.graph.add((s, p, plain(o)))
        return result

    def _table_result(self, kind: str, reply: store_http.Reply) -> Result:
        try:
            parsed = Result.parse(io.BytesIO(reply.body), format="json")
        except (ValueError, KeyError, TypeError) as exc:
            raise KkgError(f"the SPARQL store's answer was not SPARQL JSON results ({type(exc).__name__})",
                           code="store-failed", status=502) from None
        if kind == "AskQuery":
            if parsed.type != "ASK":
                raise KkgError("the SPARQL store answered an ASK query with rows", code="store-failed", status=502)
            return parsed
        result = Result("SELECT")
        result.vars = list(parsed.vars or [])
        result.bindings = [{Variable(str(k)): plain(v) for k, v in row.items() if v is not None}
                           for row in parsed.bindings]
        return result

    # -- what the server and push ask of the store --------------------------------------------

    def select(self, text: str, default: list[str] | None = None, named: list[str] | None = None,
               public: bool = True) -> list[dict]:
        """Rows of one of our own SELECT queries, as dicts of variable name to term (``public``:
        errors leave out the store's URL, for answers to HTTP clients)."""
        reply = self._post(text, _RESULTS_JSON, default if default is not None else self.graphs,
                           named if named is not None else self.graphs, public=public)
        try:
            parsed = Result.parse(io.BytesIO(reply.body), format="json")
        except (ValueError, KeyError, TypeError):
            parsed = None
        if parsed is None or parsed.type != "SELECT":
            raise KkgError("the SPARQL store did not answer SPARQL JSON results",
                           code="store-failed", status=502)
        return [{str(k): plain(v) for k, v in row.items()} for row in parsed.bindings]

    def check(self) -> None:
        """Make sure the store answers a query; a KkgError saying why not (naming its URL)."""
        self.select("SELECT ?s WHERE { ?s ?p ?o } LIMIT 1", public=False)

    def graph_sizes(self) -> dict[str, int]:
        """Triples in each of the build's graphs, as the store holds them (absent graphs: 0)."""
        rows = self.select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g", public=False)
        sizes = {g: 0 for g in self.graphs}
        for row in rows:
            if str(row.get("g")) in sizes:
                sizes[str(row["g"])] = int(row["n"])
        return sizes


def is_remote(dataset) -> bool:
    """True when queries on ``dataset`` go to an external store."""
    return isinstance(dataset, RemoteStore)

