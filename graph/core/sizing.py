"""How many server processes, query workers and slow-query slots ``serve`` runs when the settings
leave them at 0: chosen from the cores this process may run on."""

from __future__ import annotations

import os

from .settings import Settings


def cores() -> int:
    """The cores this process may run on (its CPU affinity where the system tells, else all)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def resolved(settings: Settings) -> Settings:
    """``settings`` with ``processes``, ``query_workers`` and ``max_slow_queries`` made concrete:

    - processes: one per core (a Python process answers HTTP on one core at a time);
    - query workers per process: twice the cores shared among the processes, at least 2, so that
      evaluation keeps every core busy while some workers wait on the server process;
    - slow queries per process: half its query workers, at least 1 and at most all but one, so
      that queries that finish fast always find a worker that no slow query holds;
    - and, when neither count is given, at least two query workers beside the slow ones: a
      runaway spends its first ``slow_query_seconds`` looking like any other query, and with one
      worker beside the slow ones, a second runaway resent as soon as it is stopped would hold that
      worker most of the time (cheap queries then waited a second beside two runaways).

    A value the user gave is kept as given.
    """
    processes = settings.processes or cores()
    workers = settings.query_workers or max(2, -(-2 * cores() // processes))
    slow = settings.max_slow_queries or min(max(1, workers // 2), max(1, workers - 1))
    if not settings.query_workers and not settings.max_slow_queries:
        workers = max(workers, slow + 2)
    if (processes, workers, slow) == (settings.processes, settings.query_workers, settings.max_slow_queries):
        return settings
    return settings.replace(processes=processes, query_workers=workers, max_slow_queries=slow)
