"""Shared helpers and fixtures for the server tests (imported by the tests/test_server_*.py modules).

The *tricky* dataset is made here, in code, so its awkward literals are plain to see: commas,
quotes, tabs, newlines, carriage returns and non-ASCII text, in two named graphs. The seed graph
comes from the session's real build (``built`` in conftest.py).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from karabakh_kg.graph.core import settings as settings_mod
from karabakh_kg.graph.pipeline import build as build_mod
from karabakh_kg.graph.pipeline.sources import SourceFile
from karabakh_kg.graph.sparql.stored_queries import parse_stored_query
from karabakh_kg.server.serving import waitress_server as runner
from karabakh_kg.server.web.app import close_app, create_app
from rdflib import Literal, Namespace, URIRef

EX = Namespace("http://example.org/")
G1, G2 = EX.g1, EX.g2

TRICKY_TRIG = r'''
@prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

ex:g1 {
    ex:a ex:label "comma, here" , "quote \" here" , "tab\there" , "new\nline" , "Qarabağ – Şuşa"@az ,
                  "all, \"of\"\tthem\r\nhere" , "Եռաբլուր ծաղկում" ;
         ex:n 3 ;
         ex:day "2020-09-27"^^xsd:date ;
         a ex:Thing .
}

ex:g2 {
    ex:b ex:label "second" ; ex:ref ex:a ; a ex:Thing .
    ex:c ex:ref ex:b .
}
'''

# The labels of ex:a, exactly as they must come back from every format.
TRICKY_LABELS = {"comma, here", 'quote " here', "tab\there", "new\nline", "Qarabağ – Şuşa",
                 'all, "of"\tthem\r\nhere', "Եռաբլուր ծաղկում"}

STORED_TEXTS = {
    "labels.rq": '''#+ title: Labels of a thing
#+ description: Every label of one resource, with its language.
#+ params:
#+   - name: thing
#+     type: iri
#+     default: http://example.org/a
#+     description: the resource
#+   - name: min
#+     type: integer
#+     default: 0
#+     description: unused lower bound, to test integer parameters
PREFIX ex: <http://example.org/>
SELECT ?label (LANG(?label) AS ?lang) WHERE {
  ?thing ex:label ?label .
  FILTER (?min >= 0)
}
ORDER BY ?label
''',
    "refs.rq": '''#+ title: References as a graph
#+ description: CONSTRUCT the ex:ref links.
PREFIX ex: <http://example.org/>
CONSTRUCT { ?s ex:ref ?o } WHERE { ?s ex:ref ?o }
''',
    "needs-name.rq": '''#+ title: Things with a given label
#+ description: A required string parameter.
#+ params:
#+   - name: label
#+     type: string
#+     description: the label to look for
PREFIX ex: <http://example.org/>
SELECT ?thing WHERE { ?thing ex:label ?label }
''',
}


def tricky_dataset():
    """The tricky two-graph dataset, as a union-default Dataset like a build's."""
    dataset = build_mod.new_dataset()
    dataset.parse(data=TRICKY_TRIG, format="trig")
    return dataset


def sample_stored_queries() -> dict:
    """Stored queries over the tricky dataset, parsed like shipped ones."""
    queries = {}
    for name, text in STORED_TEXTS.items():
        query = parse_stored_query(SourceFile(f"queries/{name}", text.encode("utf-8")))
        queries[query.id] = query
    return queries


def generated_dataset(triples: int = 400):
    """A dataset of simple generated triples, for slow cross joins and row caps."""
    dataset = build_mod.new_dataset()
    graph = dataset.graph(EX.generated)
    for index in range(triples):
        graph.add((URIRef(f"http://example.org/item/{index}"), EX.value, Literal(index)))
    return dataset


TEST_SETTINGS = {"query_timeout": 5, "query_workers": 2, "max_concurrent_queries": 4, "port": 0,
                 "host": "127.0.0.1", "threads": 6,
                 "warm_stored_queries": False}  # tests count cache hits and query slots; test_server_cache warms


@contextlib.contextmanager
def app_for(build, stored=None, **settings):
    """An app over ``build`` with test settings; its workers are stopped afterwards, and it must
    not have met a single unexpected error (a bug answered with 500)."""
    config = {"TESTING": True, "SETTINGS": {**TEST_SETTINGS, **settings},
              "STORED_QUERIES": sample_stored_queries() if stored is None else stored}
    app = create_app(config, build=build, settings=settings_mod.resolve({}, environ={}))
    try:
        yield app
    finally:
        close_app(app)
    assert app.extensions["karabakh_kg"].unexpected_errors == 0, "a request met a bug (500)"


@contextlib.contextmanager
def live_server(app):
    """The app under a real waitress server on a free loopback port, the way ``serve`` runs it."""
    background = runner.start_in_background(app, app.extensions["karabakh_kg"].settings)
    try:
        yield background.url
    finally:
        background.stop()


@pytest.fixture(scope="module")
def tricky_app():
    """An app over the tricky dataset with the sample stored queries."""
    with app_for(tricky_dataset()) as app:
        yield app


@pytest.fixture(scope="module")
def client(tricky_app):
    """A Flask test client of the tricky app."""
    return tricky_app.test_client()


# The tricky app under ``granian_server.serve``, as ``serve --http-server granian`` runs it: granian
# forks its worker from the process that calls it, so that process is a fresh interpreter, not pytest.
_GRANIAN_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from server_helpers import TEST_SETTINGS, sample_stored_queries, tricky_dataset
from karabakh_kg.graph.core import settings as settings_mod
from karabakh_kg.server.serving import granian_server
from karabakh_kg.server.web.app import create_app
settings = settings_mod.resolve({{}}, environ={{}}).replace(**TEST_SETTINGS)
dataset = tricky_dataset()
def make_app():
    return create_app({{"TESTING": True, "STORED_QUERIES": sample_stored_queries()}}, build=dataset,
                      settings=settings)
granian_server.serve(make_app, settings, 1, on_ready=lambda base: print("READY", base, flush=True))
"""


@contextlib.contextmanager
def granian_tricky_server():
    """The tricky app under granian in a process of its own (output to files, read as it comes);
    afterwards its log must show no error (an unexpected error, answered 500, is logged with its
    traceback; granian logs its own errors on standard output)."""
    import tempfile

    script = _GRANIAN_SCRIPT.format(tests=str(Path(__file__).parent))
    with tempfile.TemporaryDirectory() as scratch:
        out_path, err_path = Path(scratch) / "out", Path(scratch) / "err"
        with open(out_path, "w") as out, open(err_path, "w") as err:
            process = subprocess.Popen([sys.executable, "-c", script], stdout=out, stderr=err,
                                       start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and "READY" not in out_path.read_text() and process.poll() is None:
                time.sleep(0.05)
            ready = [line for line in out_path.read_text().splitlines() if line.startswith("READY")]
            if not ready:
                raise AssertionError("granian did not start:\n" + err_path.read_text())
            yield ready[0].split()[1]
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log = err_path.read_text() + out_path.read_text()
    assert "Traceback" not in log and "unexpected error" not in log and "[ERROR]" not in log, log


@pytest.fixture(scope="module", params=["waitress", "granian"])
def tricky_url(request):
    """The base URL of the tricky app under a real HTTP server: waitress in a thread of this
    process, then granian in a process of its own (``serve --http-server``)."""
    if request.param == "granian":
        with granian_tricky_server() as url:
            yield url
        return
    with live_server(request.getfixturevalue("tricky_app")) as url:
        yield url


class Listener:
    """A loopback TCP listener that records every connection (and answers a tiny SPARQL result)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/sparql"
        self.connections: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        body = b'{"head": {"vars": ["x"]}, "results": {"bindings": [{"x": {"type": "literal", "value": "remote"}}]}}'
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                request = _whole_request(conn)
                self.connections.append(request)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
                             b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)

    def close(self) -> None:
        """Stop listening."""
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


def _whole_request(conn: socket.socket) -> bytes:
    """The request's head and its whole body (by Content-Length), read before answering: answering
    and closing while a client still sends a large body (``push``) broke its pipe."""
    request = b""
    try:
        while b"\r\n\r\n" not in request:
            chunk = conn.recv(65536)
            if not chunk:
                return request
            request += chunk
        head, _, body = request.partition(b"\r\n\r\n")
        length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        wanted = int(length.group(1)) if length else 0
        while len(body) < wanted:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
            request += chunk
    except OSError:
        pass
    return request


@pytest.fixture
def listener():
    """A fresh loopback listener; closed after the test."""
    found = Listener()
    yield found
    found.close()
