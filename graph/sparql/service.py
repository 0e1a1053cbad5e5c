"""Answering queries for a server: the one way the web app (and the benchmarks) evaluate SPARQL.

A :class:`QueryService` owns the query worker processes (``pool``) and their queue, the answer
cache (``answer_cache``), the concurrency limit and each client's slow-query budget
(``query_budget``), answers look-ups itself (``lookup_lane``), and retries with rdflib's engine a
query that killed its worker inside Oxigraph (the decisions are ``choice``'s). Callers hand it a
:class:`~.worker.Job` and the client's address, and get back the reply, or its KkgError.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import threading
import time
from typing import Callable

from rdflib import Dataset

from ..core import sizing
from ..core.errors import KkgError
from ..core.settings import Settings
from ..pipeline import build as build_mod
from ..stores import remote_store
from . import answer_cache, choice, lookup_lane, query_budget, safety
from . import pool as pool_mod
from . import worker as worker_mod

log = logging.getLogger("karabakh_kg.graph.sparql.service")


def serving_target(build, settings: Settings) -> build_mod.Build | remote_store.RemoteStore:
    """What a server answers queries over: ``build`` as given (a Build, a bare rdflib Dataset or a
    RemoteStore), else the external store of the ``store_endpoint`` setting when set, else the
    last build in the build directory."""
    if remote_store.is_remote(build):
        return build
    if build is None and settings.store_endpoint:
        return remote_store.RemoteStore.from_settings(settings)
    if build is None:
        return build_mod.load(settings.build_dir, settings.reasoner)
    if isinstance(build, build_mod.Build):
        return build
    if isinstance(build, Dataset):
        return build_mod.Build(build, {})
    raise TypeError(f"build must be a Build, an rdflib Dataset or None, not {type(build).__name__}")


class QueryService:
    """Queries answered in worker processes. Create it, ``start()`` it before the HTTP server
    starts (it forks), ``close()`` it.

    ``dataset`` is the loaded dataset, or a :class:`~.remote_store.RemoteStore` when the server
    fronts an external store: then the workers send each query there and no answer is kept (the
    store can change behind the server's back). ``known_queries`` are (text, source) pairs the
    workers parse once before they are forked (the stored queries). ``supervised``: a supervisor
    replaces this server process when it ends (granian, ``--processes``), so the service ends it
    when its query workers can no longer start; otherwise ``health()`` reports it.
    ``budget_ledger``: the clients' slow-query seconds, shared with the other server processes
    (query_budget.py); None: this service keeps its own.
    """

    def __init__(self, dataset, settings: Settings, known_queries: list[tuple[str, str]],
                 supervised: bool = False, budget_ledger: query_budget.Ledger | None = None):
        settings = sizing.resolved(settings)
        self.supervised = supervised  # a supervisor replaces this server process when it ends
        self.remote = dataset if remote_store.is_remote(dataset) else None
        self.dataset = dataset
        self.settings = settings
        known = list(known_queries)
        hosts = safety.store_hosts(self.remote.endpoint) if self.remote else []
        self.pool = pool_mod.WorkerPool(
            self.dataset, settings.query_workers,
            worker_mod.Config(list(settings.federation_allow_list), known, hosts),
            memory_mb=settings.query_memory_mb, hard_limit=settings.query_timeout * 2 + 10,
            slow_after=settings.slow_query_seconds, max_slow=settings.max_slow_queries, on_broken=self._broken)
        self._gate = threading.BoundedSemaphore(max(1, settings.max_concurrent_queries))
        self.budget = query_budget.QueryBudget(settings.client_query_seconds, ledger=budget_ledger)
        self.answers = answer_cache.AnswerCache(0 if self.remote else settings.answer_cache_mb * 1024 * 1024,
                                                max_waiters=max(1, settings.threads // 2))  # the rest for others

    def start(self) -> "QueryService":
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

    def run(self, job: worker_mod.Job, background: bool = False, client: str | None = None) -> dict:
        """Evaluate a job in a worker, within the concurrency cap and the time limit.

        A query waits for a free query worker in the pool's queue (at most ``queue_wait`` seconds);
        beyond ``max_concurrent_queries`` queries evaluating or waiting it is refused at once with
        503 and Retry-After, and a ``client`` (its remote address; None: not counted) over its
        slow-query budget gets 429 (query_budget.py). A look-up is answered here, without a worker
        (lookup_lane.py). A failed query raises its KkgError. A query answered before is answered
        from the answer cache (answer_cache.py), without a worker; identical queries arriving
        together are evaluated once. ``background`` jobs (the warm-up's, one at a time) do not count
        against max_concurrent_queries nor against a client; they do occupy a query worker while
        they run.
        """
        client = None if background else client
        return self.answers.answer(answer_cache.key_of(job), lambda: self._evaluate(job, background, client),
                                   wait=self.settings.query_timeout * 2 + 10, crowded=self._busy)

    def answer_at_once(self, job: worker_mod.Job) -> dict | None:
        """The job's reply when it needs no query worker: kept in the answer cache, or a look-up
        answered here (the look-up lane); None otherwise, and then :meth:`run` answers it. Never
        waits and never raises: a look-up Oxigraph refuses is left to ``run``, which words the
        error. The same reply ``run`` gives, for a caller that can answer more cheaply when no
        worker is involved (the web app's hot path)."""
        key = answer_cache.key_of(job)
        kept = self.answers.get(key, count_miss=False)
        if kept is not None:
            return kept
        reply = lookup_lane.answer(self.dataset, job)
        if reply is not None:
            self.answers.keep(key, reply)
        return reply

    def _evaluate(self, job: worker_mod.Job, background: bool = False, client: str | None = None) -> dict:
        if background:
            # a fresh worker afterwards: at a million triples the stored queries left each worker
            # that warmed them holding some 0.4 GB of its own, and requests never needed it again
            return self._reply(self._in_a_worker(job, retire=True))
        looked_up = lookup_lane.answer(self.dataset, job)
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

    def _in_a_worker(self, job: worker_mod.Job, on_ran: Callable[[float], None] | None = None,
                     retire: bool = False) -> dict:
        """The worker's reply; when the worker died evaluating the job with Oxigraph's engine, the
        job again with rdflib's engine over the same store, within what is left of the time limit.

        A panic inside Oxigraph aborts the process it runs in (pyoxigraph 0.5.13 does on some ORDER
        BY over values of mixed kinds), and so does Oxigraph running out of the worker's memory
        cap: the two deaths look the same, so a memory-hungry query also gets the second try,
        where rdflib meets the cap as a MemoryError and the answer is the usual memory 503.
        ``on_ran(seconds)`` is told how long each try held a worker (its wait in the queue not
        counted). ``retire``: the worker is replaced afterwards (pool.run).
        """
        limit = self.settings.query_timeout
        started = time.monotonic()
        try:
            return self.pool.run(job, limit, wait=self.settings.queue_wait, on_ran=on_ran, retire=retire)
        except KkgError as exc:
            if not choice.rdflib_after_crash(self.dataset, job.text, job.native, exc.code):
                raise
            left = limit - (time.monotonic() - started)
            if left <= 0:
                raise
            return self.pool.run(dataclasses.replace(job, native=False), left, limit=limit,
                                 wait=self.settings.queue_wait, on_ran=on_ran, retire=retire)

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
