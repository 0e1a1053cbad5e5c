"""The state one app serves: the build (or an external store), the settings, the query workers,
and caches derived from the (immutable) dataset: statistics for the service description and export
bytes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import signal
import threading
import time
import uuid
from collections import OrderedDict
from typing import Callable

from flask import current_app, has_request_context, request

from ..graph import build as build_mod
from ..graph import engine, remote_store
from ..graph.errors import KkgError
from ..graph.settings import Settings
from . import (answer_cache, description, lookup_lane, pool as pool_mod, query_budget, safety, sizing,
               worker as worker_mod)

log = logging.getLogger("karabakh_kg.server.endpoint")


class _Memo:
    """A small LRU of computed bytes, computing each key once even under concurrent requests."""

    def __init__(self, size: int = 32):
        self._size = size
        self._values: OrderedDict = OrderedDict()
        self._locks: dict = {}
        self._lock = threading.Lock()

    def get(self, key, compute: Callable[[], object]):
        """The cached value for ``key``, computing it (once) when missing."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
            key_lock = self._locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._values:
                    return self._values[key]
            value = compute()
            with self._lock:
                self._values[key] = value
                while len(self._values) > self._size:
                    self._values.popitem(last=False)
                self._locks.pop(key, None)
            return value


class Endpoint:
    """What one app serves. Create it, ``start()`` it before the HTTP server starts, ``close()`` it.

    ``build`` is the local build, or a :class:`~karabakh_kg.graph.remote_store.RemoteStore` when the
    server fronts an external store: then the workers send each query there, nothing derived from
    the data is cached (the store can change behind the server's back) and responses carry no ETag
    (``version`` is None).
    """

    def __init__(self, build: build_mod.Build | remote_store.RemoteStore, settings: Settings,
                 stored_queries: dict, extra_version: str = "", supervised: bool = False):
        settings = sizing.resolved(settings)
        self.supervised = supervised  # a supervisor replaces this server process when it ends
        self.remote = build if remote_store.is_remote(build) else None
        self.build = None if self.remote else build
        self.dataset = self.remote or build.dataset
        self.settings = settings
        self.stored_queries = stored_queries
        if self.remote:
            self.version = None
        else:
            base = build.version or uuid.uuid4().hex
            limits = f"{settings.max_rows}|{sorted(settings.federation_allow_list)}"
            self.version = hashlib.sha256(f"{base}|{extra_version}|{limits}".encode()).hexdigest()[:16]
        known = [(q.text, q.source) for q in stored_queries.values()]
        hosts = safety.store_hosts(self.remote.endpoint) if self.remote else []
        self.pool = pool_mod.WorkerPool(
            self.dataset, settings.query_workers,
            worker_mod.Config(list(settings.federation_allow_list), known, hosts),
            memory_mb=settings.query_memory_mb, hard_limit=settings.query_timeout * 2 + 10,
            slow_after=settings.slow_query_seconds, max_slow=settings.max_slow_queries, on_broken=self._broken)
        self._gate = threading.BoundedSemaphore(max(1, settings.max_concurrent_queries))
        self.budget = query_budget.QueryBudget(settings.client_query_seconds)
        self.memo = _Memo(size=0 if self.remote else 32)
        self._store_counts = _Memo(size=2)  # an external store's statistics, per cache_max_age period
        self.answers = answer_cache.AnswerCache(0 if self.remote else settings.answer_cache_mb * 1024 * 1024,
                                                max_waiters=max(1, settings.threads // 2))  # the rest for others
        self.warming = None  # the warm-up thread (warm_up.py), once started
        self.unexpected_errors = 0  # counted by the catch-all error handler; tests assert it stays 0

    def start(self) -> "Endpoint":
        """Fork the query workers (before any server thread starts)."""
        self.pool.start()
        return self

    def close(self) -> None:
        """Stop the query workers."""
        self.pool.close()

    def health(self) -> tuple[bool, dict]:
        """Whether this server process can answer queries, and its query workers' state (/health)."""
        state = self.pool.state()
        if self.pool.closed:
            return False, {**state, "problem": "the server is shutting down"}
        if self.pool.broken:
            return False, {**state, "problem": self.pool.broken}
        return True, state

    def _broken(self, reason: str) -> None:
        """The pool cannot start workers any more: under a supervisor (granian, or ``--processes``),
        end this server process gracefully (SIGTERM: requests in flight are finished) so that a
        fresh one, with a fresh spawner, replaces it; otherwise /health reports it (503)."""
        if not self.supervised:
            log.error("the server cannot start query workers any more (%s): /health reports it; restart "
                      "the server", reason)
            return
        log.error("ending this server process so that its supervisor starts a fresh one (%s)", reason)
        os.kill(os.getpid(), signal.SIGTERM)

    def run(self, job: worker_mod.Job, background: bool = False) -> dict:
        """Evaluate a job in a worker, within the concurrency cap and the time limit.

        A query waits for a free query worker in the pool's queue (at most ``queue_wait`` seconds);
        beyond ``max_concurrent_queries`` queries evaluating or waiting it is refused at once with
        503 and Retry-After, and a client over its slow-query budget gets 429 (query_budget.py).
        A failed query raises its KkgError. A query answered before is answered from the
        answer cache (answer_cache.py), without a worker; identical queries arriving together are
        evaluated once. ``background`` jobs (the warm-up's, one at a time) do not count against
        max_concurrent_queries; they do occupy a query worker while they run.
        """
        client = None if background or not has_request_context() else (request.remote_addr or "")
        return self.answers.answer(answer_cache.key_of(job), lambda: self._evaluate(job, background, client),
                                   wait=self.settings.query_timeout * 2 + 10, crowded=self._busy)

    def _evaluate(self, job: worker_mod.Job, background: bool = False, client: str | None = None) -> dict:
        if background:
            return self._reply(self._in_a_worker(job))
        looked_up = None if self.remote else lookup_lane.answer(self.dataset, job)
        if looked_up is not None:  # one triple pattern about a named subject: no worker needed
            return looked_up
        self.budget.check(client)
        if not self._gate.acquire(blocking=False):
            raise self._busy()

        def charge(seconds: float) -> None:  # a query that turned slow counts in full against its client
            if seconds >= self.settings.slow_query_seconds:
                self.budget.charge(client, seconds)

        try:
            reply = self._in_a_worker(job, charge)
        finally:
            self._gate.release()
        return self._reply(reply)

    def _in_a_worker(self, job: worker_mod.Job, on_ran: Callable[[float], None] | None = None) -> dict:
        """The worker's reply; when the worker died evaluating the job with Oxigraph's engine, the
        job again with rdflib's engine over the same store, within what is left of the time limit.

        A panic inside Oxigraph aborts the process it runs in (pyoxigraph 0.5.13 does on some ORDER
        BY over values of mixed kinds), and so does Oxigraph running out of the worker's memory
        cap: the two deaths look the same, so a memory-hungry query also gets the second try,
        where rdflib meets the cap as a MemoryError and the answer is the usual memory 503.
        """
        limit = self.settings.query_timeout
        started = time.monotonic()
        try:
            return self.pool.run(job, limit, wait=self.settings.queue_wait, on_ran=on_ran)
        except KkgError as exc:
            if exc.code != "worker-crashed" or not job.native or not engine.runs_natively(self.dataset, job.text):
                raise
            if engine.first_in_a_while("worker crashed"):
                log.warning("a query worker died evaluating this query with Oxigraph (a panic inside Oxigraph, "
                            "or its memory cap); rdflib evaluates it instead:\n%s", engine.excerpt(job.text))
            left = limit - (time.monotonic() - started)
            if left <= 0:
                raise
            return self.pool.run(dataclasses.replace(job, native=False), left, limit=limit,
                                 wait=self.settings.queue_wait, on_ran=on_ran)

    def _busy(self) -> KkgError:
        """The 503 for a request beyond max_concurrent_queries (evaluating, or waiting for a worker)."""
        retry = max(1, round(self.settings.query_timeout / 2))
        return KkgError(f"the server is already answering or queueing {self.settings.max_concurrent_queries} "
                        f"queries (setting max_concurrent_queries); retry in {retry} s", code="busy", status=503,
                        headers={"Retry-After": str(retry)})

    @staticmethod
    def _reply(reply: dict) -> dict:
        if not reply["ok"]:
            raise worker_mod.error_from_reply(reply)
        return reply

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
