"""The state one app serves: the build (or an external store), the settings, the stored queries,
the query service (``karabakh_kg.graph.sparql.service``: the one way queries are evaluated), and
values derived from the (immutable) dataset: statistics for the service description and export
bytes.
"""

from __future__ import annotations

import hashlib
import time
import uuid

from flask import current_app, has_request_context, request

from ...graph import sparql
from ...graph.core.caching import ComputedOnce
from ...graph.core.settings import Settings
from . import description


class Endpoint:
    """What one app serves. Create it, ``start()`` it before the HTTP server starts, ``close()`` it.

    ``build`` is the local build, or a :class:`~karabakh_kg.graph.stores.remote_store.RemoteStore` when the
    server fronts an external store: then the workers send each query there, nothing derived from
    the data is cached (the store can change behind the server's back) and responses carry no ETag
    (``version`` is None). ``supervised``: a supervisor replaces this server process when it ends
    (granian, ``--processes``), so the query service ends it when its query workers can no longer
    start. ``budget_ledger``: the clients' slow-query seconds shared with the other server
    processes (None: this process keeps its own).
    """

    def __init__(self, build, settings: Settings,
                 stored_queries: dict, extra_version: str = "", supervised: bool = False,
                 budget_ledger: sparql.BudgetLedger | None = None):
        self.remote = build if sparql.is_remote(build) else None
        self.build = None if self.remote else build
        self.dataset = self.remote or build.dataset
        self.queries = sparql.QueryService(self.dataset, settings,
                                           [(q.text, q.source) for q in stored_queries.values()], supervised,
                                           budget_ledger)
        self.settings = settings = self.queries.settings  # process and worker counts made concrete there
        self.stored_queries = stored_queries
        if self.remote:
            self.version = None
        else:
            base = build.version or uuid.uuid4().hex
            limits = f"{settings.max_rows}|{sorted(settings.federation_allow_list)}"
            self.version = hashlib.sha256(f"{base}|{extra_version}|{limits}".encode()).hexdigest()[:16]
        self.memo = ComputedOnce(size=0 if self.remote else 32)
        self._store_counts = ComputedOnce(size=2)  # an external store's statistics, per cache_max_age period
        self.warming = None  # the warm-up thread (warm_up.py), once started
        self.unexpected_errors = 0  # counted by the catch-all error handler; tests assert it stays 0

    def start(self) -> "Endpoint":
        """Fork the query workers (before any server thread starts)."""
        self.queries.start()
        return self

    def close(self) -> None:
        """Stop the query workers."""
        self.queries.close()

    def run(self, job: sparql.Job, background: bool = False) -> dict:
        """A job's reply from the query service (see :meth:`QueryService.run`), counted against the
        requesting client's slow-query budget (by remote address); a failed query raises its
        KkgError."""
        client = (request.remote_addr or "") if has_request_context() else None
        return self.queries.run(job, background, client=client)

    def health(self) -> tuple[bool, dict]:
        """Whether this server process can answer queries, and its query workers' state (/health)."""
        return self.queries.health()

    def statistics(self):
        """VoID statistics of the default graph and of each named graph: computed once for the
        build; counted by an external store at most once per ``cache_max_age`` seconds (eight
        aggregate queries over the whole store, too many for every request)."""
        if self.remote:
            period = self.settings.cache_max_age
            if period <= 0:
                return description.store_statistics(self.remote)
            return self._store_counts.get(int(time.monotonic() // period),
                                          lambda: description.store_statistics(self.remote))
        return self.memo.get(("statistics",), lambda: description.dataset_statistics(self.dataset))

    def graph_names(self) -> list[str]:
        """The IRIs of the non-empty named graphs (an external store's: the build's graph names)."""
        if self.remote:
            return sorted(self.remote.graphs)
        return sorted(self.statistics()[1])


def current() -> Endpoint:
    """The Endpoint of the app handling the current request."""
    return current_app.extensions["karabakh_kg"]
