"""Serving under load (issue 12): queries wait in a bounded queue instead of being refused, slow
queries cannot take every worker, a client over its slow-query budget gets 429, a POST body
shorter than its Content-Length is refused, and a server whose query workers can no longer start
either replaces itself or says so on /health.

Real servers over real HTTP: waitress in this process (``live_server``), granian and ``serve`` in
processes of their own. Times are asserted only with generous bounds.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from karabakh_kg.graph.core import settings as settings_mod
from server_helpers import app_for, generated_dataset, granian_tricky_server, live_server
from test_server_cli import _children, start

SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # 400^3 rows: minutes


def _get(url: str, query: str, timeout: float = 30) -> requests.Response:
    return requests.get(f"{url}/sparql", params={"query": query}, timeout=timeout,
                        headers={"Accept": "application/sparql-results+json"})


def _timed(url: str, query: str) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = _get(url, query)
    return response, time.monotonic() - started


# -- the queue ----------------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_query_waits_for_a_busy_worker_instead_of_503():
    """One worker, held by a query until its 2 s limit: a second query waits for it and is answered."""
    with app_for(generated_dataset(400), query_timeout=2, query_workers=1, queue_wait=10) as app, \
            live_server(app) as url:
        with ThreadPoolExecutor(2) as executor:
            slow = executor.submit(_timed, url, SLOW)
            time.sleep(0.3)
            waited, seconds = _timed(url, "ASK { ?s ?p ?o }")
            assert slow.result()[0].status_code == 503  # stopped at its time limit
        assert waited.status_code == 200 and waited.json()["boolean"] is True
        assert seconds > 1.0  # it really waited for the worker


@pytest.mark.slow
def test_many_concurrent_clients_are_all_answered():
    """32 clients at once, each with a query of its own, two workers, the default queue length:
    every one answered, none 503."""
    queries = [f"SELECT ?v WHERE {{ <http://example.org/item/{i}> ?p ?v }}" for i in range(32)]
    default = settings_mod.resolve({}, environ={}).max_concurrent_queries
    assert default >= 64
    with app_for(generated_dataset(400), query_workers=2, threads=40, max_concurrent_queries=default) as app, \
            live_server(app) as url:
        with ThreadPoolExecutor(32) as executor:
            answers = list(executor.map(lambda q: _get(url, q), queries * 2))
    assert [a.status_code for a in answers] == [200] * 64
    assert {a.json()["results"]["bindings"][0]["v"]["value"] for a in answers} == {str(i) for i in range(32)}


@pytest.mark.slow
def test_the_queue_wait_is_bounded_and_then_503_with_retry_after():
    with app_for(generated_dataset(400), query_timeout=3, query_workers=1, queue_wait=0.5) as app, \
            live_server(app) as url:
        with ThreadPoolExecutor(1) as executor:
            slow = executor.submit(_timed, url, SLOW)
            time.sleep(0.3)
            refused, seconds = _timed(url, "ASK { ?s ?p ?o }")
            slow.result()
    assert refused.status_code == 503 and "queue_wait" in refused.json()["message"]
    assert int(refused.headers["Retry-After"]) >= 1
    assert 0.4 < seconds < 2.5


# -- fairness -----------------------------------------------------------------------------------------

@pytest.mark.slow
def test_slow_queries_cannot_take_every_worker():
    """Two workers, one slow query at a time: a second runaway is stopped once it turns slow, and
    quick queries keep being answered by the free worker meanwhile."""
    with app_for(generated_dataset(400), query_timeout=4, query_workers=2, max_slow_queries=1,
                 slow_query_seconds=0.3, client_query_seconds=0) as app, live_server(app) as url:
        with ThreadPoolExecutor(2) as executor:
            first = executor.submit(_timed, url, SLOW)
            time.sleep(0.8)  # the first is slow now
            second, second_seconds = _timed(url, SLOW + " # another text")
            quick = [_timed(url, f"ASK {{ <http://example.org/item/{i}> ?p ?o }}") for i in range(5)]
            state = app.extensions["karabakh_kg"].queries.pool.state()
            first_response, first_seconds = first.result()
    assert second.status_code == 503 and "max_slow_queries" in second.json()["message"]
    assert int(second.headers["Retry-After"]) >= 1
    assert second_seconds < 3.0  # stopped when it turned slow, not at the 4 s limit
    assert [r.status_code for r, _ in quick] == [200] * 5
    assert max(seconds for _, seconds in quick) < 2.0
    assert state["slow"] == 1
    assert first_response.status_code == 503 and "query_timeout" in first_response.json()["message"]
    assert first_seconds >= 3.5


@pytest.mark.slow
def test_two_runaways_resent_at_once_leave_a_worker_for_quick_queries():
    """The default sizes: two clients resend a runaway as soon as it is
    stopped, and quick queries are still answered without waiting for a runaway to be found slow
    (with one worker beside the slow one, each waited about slow_query_seconds)."""
    with app_for(generated_dataset(400), query_timeout=4, query_workers=0, max_slow_queries=0,
                 slow_query_seconds=1.5, client_query_seconds=0, max_concurrent_queries=8) as app, \
            live_server(app) as url:
        settings = app.extensions["karabakh_kg"].settings
        assert settings.query_workers >= settings.max_slow_queries + 2
        stop = time.monotonic() + 6
        def runaway(which: int) -> list[int]:
            statuses, number = [], 0
            while time.monotonic() < stop:
                number += 1
                statuses.append(_get(url, f"{SLOW} # {which}-{number}").status_code)
            return statuses
        with ThreadPoolExecutor(2) as executor, requests.Session() as client:  # one connection, as a page keeps
            runaways = [executor.submit(runaway, which) for which in range(2)]
            time.sleep(0.5)
            quick = []
            while time.monotonic() < stop - 0.5:
                started = time.monotonic()
                response = client.get(f"{url}/sparql", timeout=30,
                                      params={"query": f"ASK {{ <http://example.org/item/{len(quick)}> ?p ?o }}"})
                quick.append((response, time.monotonic() - started))
            stopped = [status for future in runaways for status in future.result()]
    assert quick and [r.status_code for r, _ in quick] == [200] * len(quick)
    assert max(seconds for _, seconds in quick) < 1.0, sorted(seconds for _, seconds in quick)[-3:]
    assert 503 in stopped  # the runaways were stopped, as too slow or as one slow query too many


@pytest.mark.slow
def test_a_client_over_its_slow_query_budget_gets_429():
    with app_for(generated_dataset(400), query_timeout=1.5, query_workers=1, slow_query_seconds=0.2,
                 client_query_seconds=1) as app, live_server(app) as url:
        assert _get(url, "ASK { ?s ?p ?o }").status_code == 200  # warms the answer cache for this text
        stopped = _get(url, SLOW)
        assert stopped.status_code == 503  # its 1.5 s count against the 1 s budget
        refused = _get(url, "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1")
        assert refused.status_code == 429
        assert "client_query_seconds" in refused.json()["message"]
        retry = int(refused.headers["Retry-After"])
        assert 1 <= retry <= 60
        assert _get(url, "ASK { ?s ?p ?o }").status_code == 200  # a cached answer is still served
        assert app.extensions["karabakh_kg"].queries.budget.used("127.0.0.1") >= 1.4


# -- a short body under granian -----------------------------------------------------------------------

def _raw_post(url: str, body: bytes, length: int, stop_sending: bool) -> bytes:
    """POST ``body`` announcing ``length`` bytes (``stop_sending``: then close the sending side, as a
    client that gave up does); the raw response."""
    host, port = url.split("//", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: " + host.encode() + b"\r\n"
                     b"Content-Type: application/sparql-query\r\nAccept: application/sparql-results+json\r\n"
                     b"Content-Length: " + str(length).encode() + b"\r\nConnection: close\r\n\r\n" + body)
        if stop_sending:
            sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


@pytest.mark.slow
def test_one_budget_per_client_across_the_server_processes(build_dir, built):
    """Two granian server processes: a client's slow query counted by one is refused by both
    (each request on a new connection, which the kernel hands to either process)."""
    process, output = start(["--processes", "2"], env={"KARABAKH_KG_BUILD_DIR": str(build_dir),
                                                       "KARABAKH_KG_WARM_STORED_QUERIES": "false",
                                                       "KARABAKH_KG_QUERY_TIMEOUT": "1",
                                                       "KARABAKH_KG_SLOW_QUERY_SECONDS": "0.2",
                                                       "KARABAKH_KG_CLIENT_QUERY_SECONDS": "1"})
    try:
        base = _base(output)
        first = _get(base, SLOW + " # 0")
        assert first.status_code == 503 and "query_timeout" in first.json()["message"]  # 1 s counted
        later = [_get(base, f"{SLOW} # {number}") for number in range(1, 7)]
        assert [r.status_code for r in later] == [429] * len(later), [r.text for r in later]
        assert all(int(r.headers["Retry-After"]) >= 1 for r in later)
        assert _get(base, "ASK { ?s ?p ?o } # quick").status_code == 429  # the client, whatever it asks
    finally:
        _stop(process)


@pytest.mark.slow
def test_granian_refuses_a_body_shorter_than_its_content_length():
    query = b"SELECT ?s WHERE { ?s ?p ?o } LIMIT 1"
    with granian_tricky_server() as url:
        whole = _raw_post(url, query, len(query), stop_sending=False)
        cut = _raw_post(url, query[:14], len(query), stop_sending=True)  # "SELECT ?s WHER": never run
    assert whole.startswith(b"HTTP/1.1 200"), whole[:200]
    assert cut.startswith(b"HTTP/1.1 400"), cut[:300]
    assert b"incomplete-body" in cut and f"14 of the {len(query)} bytes".encode() in cut


# -- healing ------------------------------------------------------------------------------------------

def _health(base: str) -> requests.Response:
    return requests.get(f"{base}/health", timeout=10)


def _base(output: str) -> str:
    return re.search(r"SPARQL endpoint:\s+(\S+)", output).group(1).rsplit("/", 1)[0]


def _stop(process) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except Exception:  # noqa: BLE001 - never leave a server behind
            process.kill()
            process.wait(5)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_killed_spawner_is_replaced_under_granian(build_dir, built):
    """The default server: the granian worker whose spawner died ends gracefully, granian starts a
    fresh one (with a fresh spawner), and queries are answered again."""
    process, output = start(["--processes", "1"], env={"KARABAKH_KG_BUILD_DIR": str(build_dir),
                                                       "KARABAKH_KG_WARM_STORED_QUERIES": "false"})
    try:
        base = _base(output)
        assert _health(base).json()["status"] == "ok"
        (worker,) = _children_with_children(process.pid)
        spawner = _spawner_under(worker)
        os.kill(spawner, signal.SIGKILL)
        deadline = time.monotonic() + 60
        answered = None
        while time.monotonic() < deadline:
            try:  # the new worker up with its own spawner, then answering (not the old one, ending)
                workers = _children_with_children(process.pid)
                if len(workers) == 1 and workers != [worker]:
                    health = _health(base)
                    answered = _get(base, f"ASK {{ ?s ?p {int(time.monotonic() * 1000)} }}", timeout=10)
                    if health.status_code == 200 and answered.status_code == 200:
                        break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        assert answered is not None and answered.status_code == 200
        assert _health(base).json()["status"] == "ok"
        (new_worker,) = _children_with_children(process.pid)
        assert new_worker != worker and _spawner_under(new_worker) != spawner
        assert process.poll() is None
    finally:
        _stop(process)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_killed_spawner_makes_health_503_without_a_supervisor(build_dir, built):
    """waitress in one process has no supervisor to replace it: /health says it is unhealthy."""
    process, output = start(["--processes", "1", "--http-server", "waitress"],
                            env={"KARABAKH_KG_BUILD_DIR": str(build_dir), "KARABAKH_KG_WARM_STORED_QUERIES": "false"})
    try:
        base = _base(output)
        healthy = _health(base)
        assert healthy.status_code == 200 and healthy.json()["query_workers"]["alive"] >= 1
        os.kill(_spawner_under(process.pid), signal.SIGKILL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and _health(base).status_code == 200:
            time.sleep(0.1)
        sick = _health(base)
        assert sick.status_code == 503 and sick.json()["status"] == "unhealthy"
        assert "spawner" in sick.json()["problem"] and sick.headers["Cache-Control"] == "no-store"
    finally:
        _stop(process)


def _children_with_children(pid: int) -> list[int]:
    """The children of ``pid`` that have children of their own (granian's workers, which hold a
    spawner; not the announcer)."""
    return [child for child in _children(pid) if _children(child)]


def _spawner_under(server_process: int) -> int:
    """The spawner among a server process's children: the one whose children are the query workers."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = [child for child in _children(server_process) if _children(child)]
        if len(found) == 1:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no single spawner under {server_process}: {_children(server_process)}")


# -- defaults chosen from the cores -------------------------------------------------------------------

def test_automatic_sizes_leave_a_fast_lane_and_keep_given_values():
    from karabakh_kg.graph.core import sizing

    chosen = sizing.resolved(settings_mod.resolve({}, environ={}))
    assert chosen.processes == sizing.cores()
    assert chosen.query_workers >= 2 and chosen.query_workers * chosen.processes >= 2 * sizing.cores()
    assert 1 <= chosen.max_slow_queries < chosen.query_workers
    # beside the slow ones: one worker for a runaway not yet known as slow, one for quick queries
    assert chosen.query_workers >= chosen.max_slow_queries + 2
    given = sizing.resolved(settings_mod.resolve({"processes": 3, "query_workers": 5, "max_slow_queries": 5},
                                                 environ={}))
    assert (given.processes, given.query_workers, given.max_slow_queries) == (3, 5, 5)
    assert settings_mod.resolve({}, environ={}).http_server == "granian"
