"""Answering queries for a server: the one way the web app (and the benchmarks) evaluate SPARQL.

A :class:`QueryService` owns the query worker processes (``pool``), the answer cache
(``answer_cache``) and the concurrency limit, and retries with rdflib's engine a query that killed
its worker inside Oxigraph (the decision is ``choice``'s). Callers hand it a :class:`~.worker.Job`
and get back the reply, or its KkgError.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time

from rdflib import Dataset

from ..core.errors import KkgError
from ..core.settings import Settings
from ..pipeline import build as build_mod
from ..stores import remote_store
from . import answer_cache, choice, safety
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
    workers parse once before they are forked (the stored queries).
    """

    def __init__(self, dataset, settings: Settings, known_queries: list[tuple[str, str]]):
        self.remote = dataset if remote_store.is_remote(dataset) else None
        self.dataset = dataset
        self.settings = settings
        known = list(known_queries)
        hosts = safety.store_hosts(self.remote.endpoint) if self.remote else []
        self.pool = pool_mod.WorkerPool(
            self.dataset, settings.query_workers,
            worker_mod.Config(list(settings.federation_allow_list), known, hosts),
            memory_mb=settings.query_memory_mb, hard_limit=settings.query_timeout * 2 + 10)
        self._gate = threading.BoundedSemaphore(max(1, settings.max_concurrent_queries))
        self.answers = answer_cache.AnswerCache(0 if self.remote else settings.answer_cache_mb * 1024 * 1024,
                                                max_waiters=max(1, settings.threads // 2))  # the rest for others

    def start(self) -> "QueryService":
        """Fork the query workers (before any server thread starts)."""
        self.pool.start()
        return self

    def close(self) -> None:
        """Stop the query workers."""
        self.pool.close()

    def run(self, job: worker_mod.Job, background: bool = False) -> dict:
        """Evaluate a job in a worker, within the concurrency cap and the time limit.

        When the cap is reached the request is refused at once with 503 and Retry-After rather than
        queued. A failed query raises its KkgError. A query answered before is answered from the
        answer cache (answer_cache.py), without a worker; identical queries arriving together are
        evaluated once. ``background`` jobs (the warm-up's, one at a time) do not count against
        max_concurrent_queries; they do occupy a query worker while they run.
        """
        return self.answers.answer(answer_cache.key_of(job), lambda: self._evaluate(job, background),
                                   wait=self.settings.query_timeout * 2 + 10, crowded=self._busy)

    def _evaluate(self, job: worker_mod.Job, background: bool = False) -> dict:
        if background:
            return self._reply(self._in_a_worker(job))
        if not self._gate.acquire(blocking=False):
            raise self._busy()
        try:
            reply = self._in_a_worker(job)
        finally:
            self._gate.release()
        return self._reply(reply)

    def _in_a_worker(self, job: worker_mod.Job) -> dict:
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
            return self.pool.run(job, limit)
        except KkgError as exc:
            if not choice.rdflib_after_crash(self.dataset, job.text, job.native, exc.code):
                raise
            left = limit - (time.monotonic() - started)
            if left <= 0:
                raise
            return self.pool.run(dataclasses.replace(job, native=False), left, limit=limit)

    def _busy(self) -> KkgError:
        """The 503 for a request beyond max_concurrent_queries (evaluating, or waiting for one)."""
        retry = max(1, round(self.settings.query_timeout / 2))
        return KkgError(f"the server is already answering {self.settings.max_concurrent_queries} queries "
                        f"(setting max_concurrent_queries); retry in {retry} s", code="busy", status=503,
                        headers={"Retry-After": str(retry)})

    @staticmethod
    def _reply(reply: dict) -> dict:
        if not reply["ok"]:
            raise worker_mod.error_from_reply(reply)
        return reply
