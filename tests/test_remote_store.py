"""The server in front of an external SPARQL store, tested against a real local Virtuoso.

One Virtuoso per module (tests/virtuoso_helpers.py). The seed build is pushed into it with
``karabakh-kg push``; every stored query (but the federated one) then gives the same rows through
``karabakh-kg serve --store-endpoint`` (a subprocess, over HTTP) and through Flask's test client
as through the local build, compared as tests/test_engines.py compares engines.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys

import pytest
import requests
import virtuoso_helpers
from engine_corpus import CORPUS
from karabakh_kg.graph.core.iris import GRAPH_NAMES, named_graph
from karabakh_kg.graph.sparql import stored_queries
from rdflib.compare import to_isomorphic
from rdflib.query import Result
from server_helpers import app_for
from test_engines import _normalised
from test_server_cli import start as start_serve

CLI = [sys.executable, "-m", "karabakh_kg.server.cli"]
FACTS, LINKS = str(named_graph("facts")), str(named_graph("links"))
STORED = sorted(stored_queries.load_all().values(), key=lambda q: q.id)
LOCAL_ONLY = [q.id for q in STORED if re.search(r"\bSERVICE\b", q.text, re.I)]


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory):
    """A fresh Virtuoso for this module."""
    server = virtuoso_helpers.start(tmp_path_factory.mktemp("virtuoso"))
    yield server
    virtuoso_helpers.stop(server)


def push(virtuoso, *extra, env=None):
    """``karabakh-kg push`` into the module's Virtuoso, as a user runs it."""
    args = ["push", "--store-graph-store", virtuoso.graph_store, "--store-endpoint", virtuoso.sparql]
    environment = {**os.environ, "KARABAKH_KG_STORE_USER": virtuoso_helpers.DBA_USER,
                   "KARABAKH_KG_STORE_PASSWORD": virtuoso_helpers.DBA_PASSWORD, **(env or {})}
    return subprocess.run(CLI + args + list(extra), capture_output=True, text=True, timeout=300, env=environment)


@pytest.fixture(scope="module")
def pushed(virtuoso, built):
    """The seed build, pushed into Virtuoso (once)."""
    out = push(virtuoso)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.fixture(scope="module")
def local_app(built):
    """The server over the local build: the reference answers."""
    with app_for(built, stored=stored_queries.load_all()) as app:
        yield app


@pytest.fixture(scope="module")
def remote_app(virtuoso, pushed):
    """The server in front of Virtuoso, as a Flask app."""
    with app_for(None, stored=stored_queries.load_all(), store_endpoint=virtuoso.sparql) as app:
        yield app


@pytest.fixture(scope="module")
def remote_url(virtuoso, pushed, build_dir):
    """``karabakh-kg serve --store-endpoint`` as a subprocess: its SPARQL endpoint's base URL."""
    process, output = start_serve(["--store-endpoint", virtuoso.sparql],
                                  env={"KARABAKH_KG_BUILD_DIR": str(build_dir)})
    try:
        assert f"SPARQL store:     {virtuoso.sparql}" in output
        yield re.search(r"SPARQL endpoint:\s+(\S+)/sparql", output).group(1)
    finally:
        process.terminate()
        process.wait(15)


def _rows(body: bytes, text: str):
    return _normalised(Result.parse(io.BytesIO(body), format="json"), text)


def _local(local_app, stored) -> tuple:
    answer = local_app.test_client().get(f"/queries/{stored.id}.json")
    assert answer.status_code == 200, answer.text
    return _rows(answer.data, stored.text)


# Stored queries Virtuoso 7.2 answers differently, and why (strict: a fixed Virtuoso makes it pass).
# disputed-figures was one (Virtuoso evaluates a FILTER NOT EXISTS nested in another one as if the
# inner pattern did not see the outer variables); since issue 15's data it gives the same 70 rows as
# the local build, so it is compared like every other stored query.
STORED_VIRTUOSO_DIFFERS: dict[str, str] = {}


def _stored_params():
    return [pytest.param(q, id=q.id, marks=pytest.mark.skip(reason="calls SERVICE (no network in tests)"))
            if q.id in LOCAL_ONLY else
            pytest.param(q, id=q.id, marks=pytest.mark.xfail(reason=STORED_VIRTUOSO_DIFFERS[q.id], strict=True))
            if q.id in STORED_VIRTUOSO_DIFFERS else pytest.param(q, id=q.id) for q in STORED]


# -- push --------------------------------------------------------------------------------------

def test_push_prints_each_graph_and_the_store_holds_them(virtuoso, pushed, built):
    for graph, count in built.manifest["graphs"].items():
        assert re.search(rf"^\s+{count}\s+{re.escape(graph)}\s+\({count} in the store\)$", pushed, re.M), pushed
    assert f"pushed {built.manifest['triples']} triples" in pushed


def test_a_second_push_replaces_the_graphs(virtuoso, pushed, built):
    out = push(virtuoso)
    assert out.returncode == 0, out.stderr
    for name in GRAPH_NAMES:
        graph = str(named_graph(name))
        held = virtuoso.count(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        assert held == built.manifest["graphs"][graph]


@pytest.mark.parametrize("args,env,said", [
    (["--store-graph-store", "http://127.0.0.1:9/nothing"], {}, "could not reach the store's Graph Store endpoint"),
    (["--store-graph-store", "not a url"], {}, "is not an http:// or https:// URL"),
    ([], {"KARABAKH_KG_STORE_PASSWORD": "wrong"}, "refused the request (HTTP 401)"),
    ([], {"KARABAKH_KG_STORE_USER": ""}, "set store_user and store_password"),
])
def test_push_failures_are_one_clear_error(virtuoso, pushed, args, env, said):
    out = push(virtuoso, *args, env=env)
    assert out.returncode == 1
    assert said in out.stderr and out.stderr.startswith("error: ")
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_serve_refuses_an_unreachable_store(build_dir):
    out = subprocess.run(CLI + ["serve", "--port", "0", "--store-endpoint", "http://127.0.0.1:9/sparql"],
                         capture_output=True, text=True, timeout=60,
                         env={**os.environ, "KARABAKH_KG_BUILD_DIR": str(build_dir)})
    assert out.returncode == 1
    assert out.stderr.startswith("error: could not reach the SPARQL store at http://127.0.0.1:9/sparql")
    assert "Traceback" not in out.stderr


# -- the same answers as the local build -------------------------------------------------------

@pytest.mark.parametrize("stored", _stored_params())
def test_stored_queries_same_over_http(local_app, remote_url, stored):
    answer = requests.get(f"{remote_url}/queries/{stored.id}.json", timeout=30)
    assert answer.status_code == 200, answer.text
    assert _rows(answer.content, stored.text) == _local(local_app, stored)


@pytest.mark.parametrize("stored", _stored_params())
def test_stored_queries_same_through_the_app(local_app, remote_app, stored):
    answer = remote_app.test_client().get(f"/queries/{stored.id}.json")
    assert answer.status_code == 200, answer.text
    expected = _local(local_app, stored)
    assert _rows(answer.data, stored.text) == expected
    if stored.expected:
        assert len(expected[2]) == len(stored.expected)


def test_parameters_are_bound_on_the_store(local_app, remote_app):
    path = "/queries/claims-by-claimant.json?claimant=actor:sohr"
    stored = stored_queries.load_all()["claims-by-claimant"]
    remote = remote_app.test_client().get(path)
    local = local_app.test_client().get(path)
    assert remote.status_code == local.status_code == 200
    assert _rows(remote.data, stored.text) == _rows(local.data, stored.text)
    assert len(remote.json["results"]["bindings"]) >= 1


# -- the dataset a query sees ------------------------------------------------------------------

def _count(client, query: str, **params) -> int:
    answer = client.get("/sparql", query_string={"query": query, **params},
                        headers={"Accept": "application/sparql-results+json"})
    assert answer.status_code == 200, answer.text
    return int(answer.json["results"]["bindings"][0]["n"]["value"])


@pytest.mark.parametrize("query,params", [
    ("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", {}),
    ("SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", {}),
    (f"SELECT (COUNT(*) AS ?n) FROM <{LINKS}> WHERE {{ ?s ?p ?o }}", {}),
    (f"SELECT (COUNT(*) AS ?n) FROM <{LINKS}> WHERE {{ ?s ?p ?o }}", {"default-graph-uri": FACTS}),
    ("SELECT (COUNT(*) AS ?n) FROM <http://www.openlinksw.com/schemas/virtrdf#> WHERE { ?s ?p ?o }", {}),
    (f"SELECT (COUNT(*) AS ?n) FROM NAMED <{FACTS}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}", {}),
    (f"SELECT (COUNT(*) AS ?n) FROM <{FACTS}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}", {}),
], ids=["union", "named-graphs", "from", "protocol-replaces-from", "store-only-graph-is-empty",
        "from-named", "from-without-named"])
def test_dataset_is_the_builds_as_in_process(local_app, remote_app, query, params):
    assert _count(remote_app.test_client(), query, **params) == _count(local_app.test_client(), query, **params)


# -- what the server still does, and what it says it cannot ------------------------------------

def test_updates_are_still_refused_and_change_nothing(virtuoso, remote_url, built):
    answer = requests.post(f"{remote_url}/sparql", data={"query": f"DROP GRAPH <{FACTS}>"},
                           headers={"Accept": "application/json"}, timeout=30)
    assert answer.status_code == 400 and answer.json()["error"] == "update-refused"
    held = virtuoso.count(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{FACTS}> {{ ?s ?p ?o }} }}")
    assert held == built.manifest["graphs"][FACTS]


def test_row_cap_and_no_etag(virtuoso, pushed):
    with app_for(None, stored={}, store_endpoint=virtuoso.sparql, max_rows=7) as app:
        answer = app.test_client().get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }"},
                                       headers={"Accept": "application/sparql-results+json"})
        assert answer.status_code == 200
        assert len(answer.json["results"]["bindings"]) == 7
        assert answer.headers["X-Karabakh-KG-Truncated"] == "7"
        assert "ETag" not in answer.headers  # the store may change behind the server's back
        assert answer.headers["Cache-Control"] == "no-cache"  # so no client or proxy reuses it unasked


def test_store_errors_keep_the_error_shape(remote_app, local_app):
    # SPARQL makes 1/0 an expression error (?x unbound; rdflib gives no row at all); Virtuoso
    # refuses the whole query with "22012 Division by 0": a 400 in the one error shape, never a
    # 500, and without the store's URL, which is the operator's business.
    query = {"query": "SELECT (1/0 AS ?x) WHERE {}"}
    json_please = {"Accept": "application/json"}
    local = local_app.test_client().get("/sparql", query_string=query, headers=json_please)
    assert local.status_code == 200
    answer = remote_app.test_client().get("/sparql", query_string=query, headers=json_please)
    assert answer.status_code == 400, answer.text
    assert answer.json["error"] == "store-rejected" and "Division by 0" in answer.json["message"]
    assert "127.0.0.1" not in answer.json["message"]


def test_service_description_counts_the_store(local_app, remote_app, monkeypatch):
    """The same VoID figures as in process, counted by the store at most once per cache_max_age."""
    from karabakh_kg.server.web import description

    counted = []
    real = description.store_statistics
    monkeypatch.setattr(description, "store_statistics", lambda store: counted.append(1) or real(store))
    turtle = {"Accept": "text/turtle"}
    remote = remote_app.test_client().get("/sparql", headers=turtle)
    again = remote_app.test_client().get("/sparql", headers={"Accept": "application/n-triples"})
    local = local_app.test_client().get("/sparql", headers=turtle)
    assert remote.status_code == 200 and again.status_code == 200
    numbers = lambda text: sorted(re.findall(r"void:(\w+) (\d+)", text))  # noqa: E731
    assert numbers(remote.text) == numbers(local.text)
    assert len(counted) <= 1  # 0 when an earlier test's request within the period already counted
    monkeypatch.setattr(remote_app.extensions["karabakh_kg"].settings, "_values",
                        {**remote_app.extensions["karabakh_kg"].settings._values, "cache_max_age": 0})
    remote_app.test_client().get("/sparql", headers=turtle)
    assert len(counted) >= 1  # with cache_max_age 0, counted on every request again


def test_exports_say_they_need_the_build(remote_app):
    for path in ("/data", "/data.ttl", "/data/facts.nt", "/data?default"):
        answer = remote_app.test_client().get(path, headers={"Accept": "application/json"})
        assert answer.status_code == 501, path
        assert answer.json["error"] == "not-served" and "karabakh-kg export" in answer.json["message"]
    assert remote_app.test_client().get("/context.jsonld").status_code == 200
    assert json.loads(remote_app.test_client().get("/queries.json").data)


# -- the engine corpus: where Virtuoso and rdflib differ ---------------------------------------

# Corpus queries whose answers differ on Virtuoso 7.2.5 (each checked by hand; see docs/deployment.md).
VIRTUOSO_DIFFERS: dict[str, str] = {
    "path-transitive-partof": "Virtuoso 7 refuses `?x kkg:partOf+ ?y` with both ends variable "
                              "(37000 transitive start not given): a 400 store-rejected",
    "describe-war": "DESCRIBE is implementation-defined: rdflib gives the outgoing triples, Virtuoso "
                    "adds the incoming ones (121 triples instead of 62 here)",
    "describe-where": "DESCRIBE is implementation-defined (as describe-war)",
    "bound-in-optional-filter-and-bind": "Virtuoso 7 gives `?c = ?who` as the integer 0/1, not an "
                                         "xsd:boolean",
    "bound-in-nested-optional": "an external store gets parameters as a VALUES block at the top of the "
                                "query; inside a nested OPTIONAL that is not the same as pre-binding",
    "bound-in-subquery": "as bound-in-nested-optional: a VALUES block at the top does not reach into "
                         "a subquery",
}


def _corpus_params():
    return [pytest.param(name, text, bindings, id=name,
                         marks=[pytest.mark.xfail(reason=VIRTUOSO_DIFFERS[name], strict=True)]
                         if name in VIRTUOSO_DIFFERS else [])
            for name, text, bindings in CORPUS]


def _corpus_answer(app, text: str, bindings: dict):
    from karabakh_kg.graph.core import formats
    from karabakh_kg.graph.sparql.query import parse_query
    from karabakh_kg.graph.sparql.worker import Job
    from rdflib import Graph

    graph_result = parse_query(text).algebra.name in ("ConstructQuery", "DescribeQuery")
    name = "ntriples" if graph_result else "json"
    reply = app.extensions["karabakh_kg"].run(Job(text, formats.Choice(name, name, "test"), 10000,
                                                  bindings=dict(bindings)))
    if graph_result:
        return ("GRAPH", to_isomorphic(Graph().parse(data=reply["data"], format="nt")))
    return _rows(reply["data"], text)


@pytest.mark.parametrize("name,text,bindings", _corpus_params())
def test_engine_corpus_same_as_in_process(local_app, remote_app, name, text, bindings):
    assert _corpus_answer(remote_app, text, bindings) == _corpus_answer(local_app, text, bindings)
