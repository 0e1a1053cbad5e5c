"""The federated stored query `wikidata-labels`: it runs when its endpoint is on the federation
allow-list, is refused naming the endpoint when it is not, and fails cleanly when the endpoint is
down or silent. The Wikidata Query Service is played by a second, local SPARQL server holding
tests/data/wikidata-fixture.ttl: never the internet."""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
from karabakh_kg.graph.core.errors import KkgError
from karabakh_kg.graph.sparql import federation as wikidata_federation
from karabakh_kg.graph.sparql import stored_queries
from rdflib import Graph
from server_helpers import Listener, app_for

FIXTURE = Path(__file__).parent / "data" / "wikidata-fixture.ttl"
WIKIDATA = wikidata_federation.WIKIDATA_SPARQL


class _StandIn(http.server.BaseHTTPRequestHandler):
    """A minimal SPARQL 1.1 Protocol endpoint (GET and form POST) answering from the fixture graph."""

    graph: Graph
    received: list

    def _answer(self, query: str) -> None:
        self.received.append(query)
        body = self.graph.query(query).serialize(format="json")
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 (http.server's naming)
        """A query in the query string."""
        self._answer(urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)["query"][0])

    def do_POST(self):  # noqa: N802
        """A query in a form-encoded body."""
        length = int(self.headers.get("Content-Length", 0))
        self._answer(urllib.parse.parse_qs(self.rfile.read(length).decode("utf-8"))["query"][0])

    def log_message(self, *args):
        """Quiet."""


@pytest.fixture(scope="module")
def stand_in():
    """The local Wikidata stand-in: its endpoint URL and the queries it received."""
    handler = type("StandIn", (_StandIn,), {"graph": Graph().parse(FIXTURE), "received": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sparql", handler.received
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def shipped():
    """The shipped stored query, as the server loads it."""
    return stored_queries.load_all()["wikidata-labels"]


ACCEPT_JSON = {"Accept": "application/json"}  # errors come as JSON when asked, plain text otherwise


def _json(response) -> dict:
    return json.loads(response.get_data(as_text=True))


def _rows(response) -> dict:
    """The result rows by actor slug, each as {variable: value}."""
    out = {}
    for binding in _json(response)["results"]["bindings"]:
        row = {name: value["value"] for name, value in binding.items()}
        out[row["actor"].rsplit("/", 1)[-1]] = row
    return out


def test_the_shipped_query_calls_wikidata_and_nothing_else(shipped):
    assert wikidata_federation.service_endpoints(shipped.text) == [WIKIDATA]
    assert wikidata_federation.is_federated(shipped)


def test_retarget_changes_only_the_service_iri(shipped):
    moved = wikidata_federation.retarget(shipped, "http://127.0.0.1:8999/sparql")
    assert wikidata_federation.service_endpoints(moved.text) == ["http://127.0.0.1:8999/sparql"]
    assert moved.text.replace("http://127.0.0.1:8999/sparql", WIKIDATA) == shipped.text
    assert (moved.id, moved.title, moved.params) == (shipped.id, shipped.title, shipped.params)
    others = wikidata_federation.retarget_all(stored_queries.load_all(), "http://127.0.0.1:8999/sparql")
    assert others["wikidata-labels"].text == moved.text
    assert all(q.text == stored_queries.load_all()[name].text for name, q in others.items() if name != "wikidata-labels")
    with pytest.raises(KkgError, match="not an http"):
        wikidata_federation.retarget(shipped, "file:///etc/passwd")


def test_allowed_endpoint_gives_the_labels(built, shipped, stand_in):
    url, received = stand_in
    received.clear()
    query = wikidata_federation.retarget(shipped, url)
    with app_for(built, stored={query.id: query}, federation_allow_list=url, query_workers=1) as app:
        response = app.test_client().get("/queries/wikidata-labels.json")
        assert response.status_code == 200, response.get_data(as_text=True)
        rows = _rows(response)
    assert rows["armenia"]["hy"] == "Հայաստան" and rows["armenia"]["az"] == "Ermənistan"
    assert rows["armenia"]["ru"] == "Армения" and rows["armenia"]["item"].endswith("/Q399")
    assert (rows["azerbaijan"]["hy"], rows["azerbaijan"]["az"], rows["azerbaijan"]["ru"]) == \
        ("Ադրբեջան", "Azərbaycan", "Азербайджан")
    assert "hy" not in rows["turkey"] and rows["turkey"]["ru"] == "Турция"  # no Armenian label: empty
    assert not {"hy", "az", "ru"} & set(rows["france"])  # not in the stand-in: our row, no labels
    assert len(rows) == 11  # every linked actor, none lost
    # each actor's item is looked up on its own (VALUES), never a scan of the remote labels
    assert received and all("VALUES" in q and "wikidata.org/entity/Q" in q for q in received)


def test_the_wikidata_endpoint_setting_points_the_shipped_query_at_a_mirror(built, shipped, stand_in):
    url, received = stand_in
    received.clear()
    with app_for(built, stored={shipped.id: shipped}, federation_allow_list=url, wikidata_endpoint=url,
                 query_workers=1) as app:
        response = app.test_client().get("/queries/wikidata-labels.json")
        assert response.status_code == 200, response.get_data(as_text=True)
        assert _rows(response)["armenia"]["ru"] == "Армения"
    assert received


def test_endpoint_not_on_the_allow_list_is_refused_naming_it(built, shipped):
    listener = Listener()
    try:
        with app_for(built, stored={shipped.id: shipped}, query_workers=1) as app:
            response = app.test_client().get("/queries/wikidata-labels.json", headers=ACCEPT_JSON)
            assert response.status_code == 400
            problem = _json(response)
            assert problem["error"] == "service-refused"
            assert f"SERVICE <{WIKIDATA}> is refused" in problem["message"]
        moved = wikidata_federation.retarget(shipped, listener.url)
        with app_for(built, stored={moved.id: moved}, federation_allow_list=WIKIDATA, query_workers=1) as app:
            response = app.test_client().get("/queries/wikidata-labels.json", headers=ACCEPT_JSON)
            assert response.status_code == 400
            assert listener.url in _json(response)["message"]
        time.sleep(0.05)
        assert listener.connections == []
    finally:
        listener.close()


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/sparql"


def test_endpoint_down_is_a_clear_error_not_a_500(built, shipped):
    down = _closed_port_url()
    query = wikidata_federation.retarget(shipped, down)
    with app_for(built, stored={query.id: query}, federation_allow_list=down, query_workers=1) as app:
        started = time.monotonic()
        response = app.test_client().get("/queries/wikidata-labels.json", headers=ACCEPT_JSON)
        assert time.monotonic() - started < 10
        assert response.status_code == 502, response.get_data(as_text=True)
        assert down in _json(response)["message"]


class _Silent:
    """A loopback listener that accepts connections and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/sparql"

    def close(self):
        """Stop listening."""
        self.sock.close()


def test_silent_endpoint_is_stopped_at_the_time_limit(built, shipped):
    silent = _Silent()
    try:
        query = wikidata_federation.retarget(shipped, silent.url)
        with app_for(built, stored={query.id: query}, federation_allow_list=silent.url, query_workers=1,
                     query_timeout=2) as app:
            started = time.monotonic()
            response = app.test_client().get("/queries/wikidata-labels.json", headers=ACCEPT_JSON)
            assert time.monotonic() - started < 8
            assert response.status_code == 503, response.get_data(as_text=True)
            assert "query_timeout" in _json(response)["message"]
    finally:
        silent.close()
