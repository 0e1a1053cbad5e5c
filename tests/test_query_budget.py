"""Each client's slow-query budget (graph/sparql/query_budget.py): counted over the last minute,
shared by processes forked after the ledger was made, and never a reason to hang or refuse when the
ledger itself is in trouble.

The clock is a variable the tests move (the budget takes any monotonic clock), so nothing here
waits a minute; the processes are real ``fork()`` children.
"""

from __future__ import annotations

import os
import time

import pytest

from karabakh_kg.graph.core.errors import KkgError
from karabakh_kg.graph.sparql import query_budget


class Clock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def _refused(budget: query_budget.QueryBudget, client: str) -> KkgError | None:
    try:
        budget.check(client)
    except KkgError as exc:
        return exc
    return None


def test_a_client_over_its_seconds_is_refused_until_they_are_a_minute_old():
    clock = Clock()
    budget = query_budget.QueryBudget(10, clock=clock)
    budget.charge("10.0.0.1", 4)
    clock.now += 20
    budget.charge("10.0.0.1", 7)
    assert budget.used("10.0.0.1") == 11
    refused = _refused(budget, "10.0.0.1")
    assert refused is not None and refused.status == 429 and "client_query_seconds" in str(refused)
    # the first 4 s leave the minute 40 s from now (within the second they were counted in)
    assert 39 <= int(refused.headers["Retry-After"]) <= 41
    assert _refused(budget, "10.0.0.2") is None  # another client is not touched
    clock.now += 41
    assert budget.used("10.0.0.1") == 7 and _refused(budget, "10.0.0.1") is None
    clock.now += 20
    assert budget.used("10.0.0.1") == 0


def test_no_limit_counts_nothing():
    budget = query_budget.QueryBudget(0)
    budget.charge("10.0.0.1", 1000)
    assert _refused(budget, "10.0.0.1") is None


def test_processes_forked_after_the_ledger_share_it():
    """What serve does: one ledger, then server processes forked; a client's time counted in one
    is seen by the others."""
    ledger = query_budget.Ledger()
    budget = query_budget.QueryBudget(5, ledger=ledger)
    children = []
    for seconds in (2, 2):
        pid = os.fork()
        if pid == 0:  # a server process charging the client for a slow query
            try:
                query_budget.QueryBudget(5, ledger=ledger).charge("192.0.2.7", seconds)
            finally:
                os._exit(0)
        children.append(pid)
    for pid in children:
        assert os.waitpid(pid, 0)[1] == 0
    assert budget.used("192.0.2.7") == 4 and _refused(budget, "192.0.2.7") is None
    budget.charge("192.0.2.7", 1.5)
    assert _refused(budget, "192.0.2.7") is not None
    pid = os.fork()
    if pid == 0:
        os._exit(0 if _refused(query_budget.QueryBudget(5, ledger=ledger), "192.0.2.7") else 1)
    assert os.waitpid(pid, 0)[1] == 0, "a sibling process let the client in"


def test_more_clients_than_slots_forget_the_least_recently_charged():
    clock = Clock()
    ledger = query_budget.Ledger(slots=query_budget.PROBES)  # every key may take every slot
    budget = query_budget.QueryBudget(10, clock=clock, ledger=ledger)
    clients = [f"10.1.0.{number}" for number in range(3 * query_budget.PROBES)]
    for client in clients:
        clock.now += 0.5
        budget.charge(client, 11)
    assert all(_refused(budget, client) is not None for client in clients[-query_budget.PROBES:])
    assert sum(_refused(budget, client) is not None for client in clients) == query_budget.PROBES


def test_a_half_full_ledger_forgets_nobody():
    """4,096 clients charged within a minute (half the default table) are all still counted."""
    clock = Clock()
    budget = query_budget.QueryBudget(1, clock=clock)
    clients = [f"2001:db8::{number:x}" for number in range(query_budget.SLOTS // 2)]
    for client in clients:
        clock.now += 0.01
        budget.charge(client, 2)
    assert [client for client in clients if _refused(budget, client) is None] == []


@pytest.mark.parametrize("seconds", [float("nan"), float("inf"), -1.0, 0.0])
def test_charges_that_are_no_time_count_nothing(seconds):
    budget = query_budget.QueryBudget(10)
    budget.charge("10.0.0.3", 4)
    budget.charge("10.0.0.3", seconds)
    budget.charge("10.0.0.3", 4)
    assert budget.used("10.0.0.3") == 8


def test_without_a_limit_nothing_is_used():
    assert query_budget.QueryBudget(0).used("10.0.0.4") == 0.0


def test_a_ledger_locked_by_a_dead_process_neither_hangs_nor_refuses(caplog):
    ledger = query_budget.Ledger()
    budget = query_budget.QueryBudget(1, ledger=ledger)
    budget.charge("10.0.0.9", 5)
    pid = os.fork()
    if pid == 0:  # takes the lock and dies holding it
        ledger._lock.acquire()
        os._exit(0)
    os.waitpid(pid, 0)
    started = time.monotonic()
    assert _refused(budget, "10.0.0.9") is None  # not checked rather than refused, or hung
    budget.charge("10.0.0.9", 5)
    assert time.monotonic() - started < 3 * query_budget.LOCK_SECONDS + 1
    assert "ledger stayed locked" in caplog.text


@pytest.mark.parametrize("client", ["", "::1", "2001:db8::1", "x" * 300, "\udcff"])
def test_any_address_is_a_client(client):
    budget = query_budget.QueryBudget(1)
    budget.charge(client, 2)
    assert _refused(budget, client) is not None
