"""The safety rules for untrusted queries, proven (DESIGN section 6): no query reads a file or
opens a connection, a slow query is stopped at the limit while others are served, and the row,
size and concurrency caps hold."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest
import requests
from karabakh_kg.graph.pipeline.build import new_dataset
from server_helpers import (  # noqa: F401
    Listener,
    app_for,
    client,
    generated_dataset,
    listener,
    live_server,
    tricky_app,
    tricky_dataset,
)

SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # 400^3 rows: minutes


class FifoWatch:
    """A FIFO in place of a data file: if anything opens it for reading, a non-blocking open for
    writing succeeds, which a background thread checks for every few milliseconds."""

    def __init__(self, path):
        self.path = path
        os.mkfifo(path)
        self.opened = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self):
        while not self._stop.is_set():
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # ENXIO: nobody has it open for reading
                time.sleep(0.002)
                continue
            self.opened = True
            os.close(fd)
            return

    def stop(self):
        self._stop.set()
        self._thread.join(1)


@pytest.fixture
def marker(tmp_path):
    """A Turtle file whose one triple must never show up, and a FIFO that must never be opened."""
    data = tmp_path / "secret.ttl"
    data.write_text('<http://example.org/secret> <http://example.org/is> "MARKER-7f3a" .\n')
    os.chmod(data, 0o644)
    watch = FifoWatch(str(tmp_path / "secret-fifo.ttl"))
    yield data, watch
    watch.stop()


def _attempts(url: str):
    """Every way a query can name a graph to read: FROM, FROM NAMED and the protocol's parameters."""
    return [
        {"query": f"SELECT * FROM <{url}> WHERE {{ ?s ?p ?o }}"},
        {"query": f"SELECT * FROM NAMED <{url}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"},
        {"query": "SELECT * WHERE { ?s ?p ?o }", "default-graph-uri": url},
        {"query": "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", "named-graph-uri": url},
        {"query": f"ASK FROM <{url}> {{ ?s <http://example.org/is> ?o }}"},
        {"query": f"CONSTRUCT {{ ?s ?p ?o }} FROM <{url}> WHERE {{ ?s ?p ?o }}"},
    ]


def test_from_never_reads_files(client, marker):
    data, watch = marker
    for url in (data.as_uri(), f"file://{watch.path}", "file:///etc/passwd"):
        for params in _attempts(url):
            response = client.get("/sparql", query_string=params)
            assert response.status_code == 200, response.get_data(as_text=True)
            body = response.get_data(as_text=True)
            assert "MARKER-7f3a" not in body and "root:" not in body
            if params["query"].startswith("SELECT"):
                assert json.loads(body)["results"]["bindings"] == []
    time.sleep(0.05)
    assert not watch.opened, "a query opened the FIFO for reading"


def test_from_never_connects(client, listener):
    for params in _attempts(listener.url):
        assert client.get("/sparql", query_string=params).status_code == 200
    time.sleep(0.1)
    assert listener.connections == []


SERVICE_QUERIES = [
    "SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ ?x ?y ?z OPTIONAL {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}",
    "SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }} }}",
    "SELECT * WHERE {{ FILTER EXISTS {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}",
    "SELECT * WHERE {{ VALUES ?e {{ <{url}> }} SERVICE ?e {{ ?s ?p ?o }} }}",
    "CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "ASK {{ MINUS {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}",
    "PREFIX r: <{base}> SELECT * WHERE {{ SERVICE r:sparql {{ ?s ?p ?o }} }}",
]


@pytest.mark.parametrize("template", SERVICE_QUERIES)
def test_service_is_refused_and_never_connects(client, listener, template):
    query = template.format(url=listener.url, base=listener.url[:-len("sparql")])
    response = client.get("/sparql", query_string={"query": query}, headers={"Accept": "application/json"})
    assert response.status_code == 400
    problem = json.loads(response.get_data())
    assert problem["error"] == "service-refused"
    assert listener.url in problem["message"] or "variable" in problem["message"]
    time.sleep(0.05)
    assert listener.connections == []


HIDDEN_AFTER_CARRIAGE_RETURN = [
    # a look-up's shape, answered in the server process
    "SELECT ?p ?o WHERE {{ <http://example.org/a> ?p ?o }} #\r ORDER BY (EXISTS {{ SERVICE <{url}> {{ ?x ?y ?z }} }})",
    # any other query, answered in a worker
    "SELECT * WHERE {{ ?s ?p ?o }} #\r ORDER BY (EXISTS {{ SERVICE <{url}> {{ ?x ?y ?z }} }})",
    "ASK {{ ?s ?p ?o }} # hidden?\r FILTER EXISTS {{ SERVICE <{url}> {{ ?x ?y ?z }} }}",
]


@pytest.mark.parametrize("template", HIDDEN_AFTER_CARRIAGE_RETURN)
def test_a_carriage_return_cannot_hide_a_service_call(client, listener, template):
    """SPARQL (and Oxigraph) end a comment at a carriage return, rdflib only at a line feed: a tail
    after ``#\r`` was checked by nobody and run by Oxigraph. It is a 400 at the carriage return."""
    query = template.format(url=listener.url)
    for send in (lambda: client.get("/sparql", query_string={"query": query}, headers={"Accept": "application/json"}),
                 lambda: client.post("/sparql", data={"query": query}, headers={"Accept": "application/json"})):
        response = send()
        assert response.status_code == 400, response.get_data()
        problem = json.loads(response.get_data())
        assert problem["error"] == "syntax-error" and "carriage return" in problem["message"]
        assert problem["where"]["line"] == 1 and problem["where"]["column"] == query.index("\r") + 1
    time.sleep(0.05)
    assert listener.connections == []


def test_allow_listed_service_is_called_and_others_still_refused(listener):
    other = Listener()
    try:
        with app_for(tricky_dataset(), federation_allow_list=listener.url, query_workers=1) as app:
            test = app.test_client()
            response = test.get("/sparql", query_string={
                "query": f"SELECT ?x WHERE {{ SERVICE <{listener.url}> {{ ?x ?y ?z }} }}"})
            assert response.status_code == 200, response.get_data(as_text=True)
            assert json.loads(response.get_data())["results"]["bindings"][0]["x"]["value"] == "remote"
            assert len(listener.connections) == 1
            # rdflib evaluates every SERVICE of a query with the text of the first one, so an
            # allowed first SERVICE must not let a second one through
            response = test.get("/sparql", query_string={"query": (
                f"SELECT * WHERE {{ SERVICE <{listener.url}> {{ ?x ?y ?z }} "
                f"SERVICE <{other.url}> {{ ?a ?b ?c }} }}")})
            assert response.status_code == 400
            assert other.url in response.get_data(as_text=True)
            description = test.get("/sparql", headers={"Accept": "text/turtle"}).get_data(as_text=True)
            assert "BasicFederatedQuery" in description
        assert other.connections == []
    finally:
        other.close()


def test_worker_guard_refuses_files_network_and_programs(tmp_path):
    """The audit hook installed in query workers, tried in a child process of its own."""
    secret = tmp_path / "secret.txt"
    secret.write_text("MARKER")
    code = f"""
import socket, subprocess
from karabakh_kg.graph.sparql import safety
safety.install_guard(["http://allowed.example/sparql"])
for name, attempt in [
    ("read", lambda: open({str(secret)!r}).read()),
    ("write", lambda: open({str(tmp_path / 'out.txt')!r}, "w")),
    ("connect", lambda: socket.create_connection(("127.0.0.1", 9), timeout=1)),
    ("resolve", lambda: socket.getaddrinfo("example.org", 80)),
    ("run", lambda: subprocess.run(["true"])),
]:
    try:
        attempt()
        print(name, "ALLOWED")
    except PermissionError:
        print(name, "refused")
import json  # modules of the Python installation can still be imported
print("import ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split("\n")[:6] == ["read refused", "write refused", "connect refused",
                                          "resolve refused", "run refused", "import ok"], out.stderr


# -- limits ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def slow_app():
    """Generated data big enough for cross joins that take minutes, a 1 s limit, two workers."""
    with app_for(generated_dataset(400), query_timeout=1, query_workers=2, max_concurrent_queries=4,
                 max_rows=5, max_request_bytes=4000) as app:
        yield app


@pytest.fixture(scope="module")
def slow_url(slow_app):
    with live_server(slow_app) as url:
        yield url


@pytest.mark.slow
def test_slow_query_is_stopped_while_others_are_served(slow_app, slow_url):
    pool = slow_app.extensions["karabakh_kg"].queries.pool
    before = set(pool.pids())

    def slow():
        started = time.monotonic()
        response = requests.get(f"{slow_url}/sparql", params={"query": SLOW}, timeout=30)
        return response, time.monotonic() - started

    with ThreadPoolExecutor(1) as executor:
        pending = executor.submit(slow)
        time.sleep(0.2)
        started = time.monotonic()
        quick = requests.get(f"{slow_url}/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=10)
        quick_time = time.monotonic() - started
        response, elapsed = pending.result()
    assert quick.status_code == 200 and quick.json()["boolean"] is True
    assert quick_time < 0.9
    assert response.status_code == 503
    assert "1 s" in response.text and "query_timeout" in response.text
    assert response.headers["Retry-After"].isdigit()
    assert 1.0 <= elapsed < 2.0, elapsed
    # the overrunning worker was killed and replaced; the server still answers
    after = set(pool.pids())
    assert len(after) == 2 and after != before
    gone = before - after
    for pid in gone:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    again = requests.get(f"{slow_url}/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=10)
    assert again.status_code == 200


@pytest.mark.slow
def test_excess_concurrent_queries_get_503_at_once():
    with app_for(generated_dataset(400), query_timeout=2, query_workers=1, max_concurrent_queries=1) as app:
        with live_server(app) as url:
            with ThreadPoolExecutor(1) as executor:
                pending = executor.submit(requests.get, f"{url}/sparql", params={"query": SLOW}, timeout=30)
                time.sleep(0.3)
                started = time.monotonic()
                refused = requests.get(f"{url}/sparql", params={"query": "ASK {}"}, timeout=10)
                assert time.monotonic() - started < 0.5
                assert refused.status_code == 503
                assert int(refused.headers["Retry-After"]) >= 1
                assert "max_concurrent_queries" in refused.text
                assert pending.result().status_code == 503  # the slow one hit its limit
            assert requests.get(f"{url}/sparql", params={"query": "ASK {}"}, timeout=10).status_code == 200


def test_row_cap_truncates_and_says_so(slow_app):
    test = slow_app.test_client()
    response = test.get("/sparql", query_string={"query": "SELECT ?s WHERE { ?s ?p ?o }"})
    assert response.status_code == 200
    assert response.headers["X-Karabakh-KG-Truncated"] == "5"
    document = json.loads(response.get_data())
    assert len(document["results"]["bindings"]) == 5
    assert document["truncated"]["maxRows"] == 5
    assert set(document) == {"head", "results", "truncated"}
    csv = test.get("/sparql", query_string={"query": "SELECT ?s WHERE { ?s ?p ?o }"}, headers={"Accept": "text/csv"})
    assert csv.headers["X-Karabakh-KG-Truncated"] == "5"
    assert len(csv.get_data(as_text=True).strip().split("\r\n")) == 6
    graph = test.get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o }"},
                     headers={"Accept": "application/n-triples"})
    assert graph.headers["X-Karabakh-KG-Truncated"] == "5"
    assert len([line for line in graph.get_data(as_text=True).split("\n") if line and not line.startswith("#")]) == 5
    small = test.get("/sparql", query_string={"query": "SELECT ?s WHERE { ?s ?p ?o } LIMIT 3"})
    assert "X-Karabakh-KG-Truncated" not in small.headers
    assert "truncated" not in json.loads(small.get_data())


def test_request_size_limits(slow_app, slow_url):
    test = slow_app.test_client()
    padding = "#" + "x" * 5000 + "\n"
    body = test.post("/sparql", data=padding + "ASK {}", content_type="application/sparql-query")
    assert body.status_code == 413
    assert "max_request_bytes" in body.get_data(as_text=True)
    form = test.post("/sparql", data={"query": padding + "ASK {}"})
    assert form.status_code == 413
    url = test.get("/sparql?query=" + quote(padding + "ASK {}"))
    assert url.status_code == 413
    assert test.post("/sparql", data="ASK {}", content_type="application/sparql-query").status_code == 200
    # and through waitress, with and without a Content-Length
    real = requests.post(f"{slow_url}/sparql", data=(padding + "ASK {}").encode(),
                         headers={"Content-Type": "application/sparql-query"}, timeout=10)
    assert real.status_code == 413
    chunks = iter([padding.encode(), b"ASK {}"])
    chunked = requests.post(f"{slow_url}/sparql", data=chunks,
                            headers={"Content-Type": "application/sparql-query"}, timeout=10)
    assert chunked.status_code == 413
    huge = requests.post(f"{slow_url}/sparql", data=b"#" * 100_000, timeout=10,
                         headers={"Content-Type": "application/sparql-query"})
    assert huge.status_code == 413
    assert requests.get(f"{slow_url}/sparql?query=" + quote(padding), timeout=10).status_code == 413


@pytest.mark.slow
def test_memory_cap_stops_a_greedy_query():
    dataset = new_dataset()
    from rdflib import Literal, URIRef

    graph = dataset.graph(URIRef("http://example.org/big"))
    for index in range(150):
        graph.add((URIRef(f"http://example.org/{index}"), URIRef("http://example.org/v"), Literal("x" * 2000)))
    # 22,500 sorted rows of 4,000 characters: far more than 60 MiB
    greedy = "SELECT ?t WHERE { ?a ?b ?c . ?d ?e ?f . BIND(CONCAT(STR(?c), STR(?f)) AS ?t) } ORDER BY ?t"
    with app_for(dataset, query_timeout=20, query_memory_mb=60, query_workers=1) as app:
        test = app.test_client()
        started = time.monotonic()
        response = test.get("/sparql", query_string={"query": greedy})
        assert response.status_code == 503, response.get_data(as_text=True)[:300]
        assert time.monotonic() - started < 20
        assert "query_memory_mb" in response.get_data(as_text=True)
        assert test.get("/sparql", query_string={"query": "ASK {}"}).status_code == 200


@pytest.mark.slow
def test_the_rules_hold_on_the_oxigraph_engine(listener, marker):
    """With the Oxigraph store the same rules hold: graphs selected, never loaded; SERVICE refused
    before Oxigraph could call it; a slow query stopped at the limit."""
    pytest.importorskip("oxrdflib")
    from karabakh_kg.graph.pipeline import datasets as engine

    dataset = engine.new_dataset("oxigraph")
    engine.copy_into(dataset, generated_dataset(300))
    engine.copy_into(dataset, tricky_dataset())
    data, watch = marker
    with app_for(dataset, query_timeout=1, query_workers=1) as app:
        test = app.test_client()
        restricted = test.get("/sparql", query_string={
            "query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "default-graph-uri": "http://example.org/g2"})
        assert json.loads(restricted.get_data())["results"]["bindings"][0]["n"]["value"] == "4"
        for params in _attempts(data.as_uri()) + _attempts(f"file://{watch.path}") + _attempts(listener.url):
            response = test.get("/sparql", query_string=params)
            assert response.status_code == 200 and "MARKER-7f3a" not in response.get_data(as_text=True)
        service = test.get("/sparql", query_string={"query": f"SELECT * {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}"})
        assert service.status_code == 400
        started = time.monotonic()
        slow = test.get("/sparql", query_string={"query": SLOW})
        assert slow.status_code == 503 and time.monotonic() - started < 2.5
        assert test.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"}).status_code == 200
    time.sleep(0.05)
    assert listener.connections == [] and not watch.opened


def test_allow_listed_service_that_is_down_is_a_502_naming_it():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{probe.getsockname()[1]}/sparql"
    with app_for(tricky_dataset(), federation_allow_list=down, query_workers=1) as app:
        response = app.test_client().get("/sparql", headers={"Accept": "application/json"}, query_string={
            "query": f"SELECT * WHERE {{ SERVICE <{down}> {{ ?s ?p ?o }} }}"})
        assert response.status_code == 502
        problem = json.loads(response.get_data())
        assert problem["error"] == "service-failed" and down in problem["message"]
