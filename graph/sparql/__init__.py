"""The one doorway for evaluating SPARQL: nothing outside this package evaluates a query.

- ``service``: what the web app and the benchmarks call: a query answered in a worker process,
  within the time limit, the memory cap and the concurrency limits, from the answer cache when it
  was answered before; ``forked_query`` is the command line's equivalent.
- ``choice``: the one place that decides which engine answers (Oxigraph, rdflib, an external
  store) and when another one answers instead.
- ``query``: parse, run and serialise; ``oxigraph``: Oxigraph's evaluation of a query text (the
  stores themselves are ``pipeline.datasets``; an external store is ``stores.remote_store``).
- ``pool`` and ``worker``: the query worker processes; ``safety`` and ``hardening``: what keeps an
  untrusted query from reading files, opening connections or crashing the engine.
- ``query_budget``: each client's slow-query seconds, shared by the server processes of one
  ``serve`` (``BudgetLedger``, made before they are forked).
- ``answer_cache``: answers kept for repeated queries; ``stored_queries``: the published examples;
  ``federation``: their SERVICE calls to the Wikidata Query Service, pointed elsewhere on request.

The names below are the doorway: the web app, the command line and the benchmarks use these.
"""

from ..stores.remote_store import RemoteStore, is_remote
from .answer_cache import key_of as answer_key
from .federation import WIKIDATA_SPARQL, retarget_all
from .forked_query import answer as answer_once
from .pool import STOP_SIGNALS
from .query_budget import Ledger as BudgetLedger
from .query import parse_query, read_graph_answer, run_query
from .safety import never_load_graphs, refuse_unlisted_services
from .service import QueryService, serving_target
from .stored_queries import StoredQuery, resolve_query_argument, source_text
from .stored_queries import load_all as load_stored_queries
from .worker import TRUNCATED_HEADER, Job

__all__ = ["QueryService", "Job", "TRUNCATED_HEADER", "STOP_SIGNALS", "RemoteStore", "is_remote",
           "parse_query", "run_query", "answer_once", "answer_key", "never_load_graphs",
           "refuse_unlisted_services", "StoredQuery", "load_stored_queries", "resolve_query_argument",
           "WIKIDATA_SPARQL", "retarget_all", "source_text", "serving_target", "read_graph_answer",
           "BudgetLedger"]
