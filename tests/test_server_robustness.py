"""Protocol edges and bad queries over real HTTP (waitress and granian) and the command line: a 400
with the query position for misplaced aggregates, 400 for non-UTF-8 direct POSTs, N-Triples for
SPARQLWrapper's ``format=turtle`` + ``Accept: application/n-triples``, the one error shape for
bodies over the limit, and well-formed XML or a clear refusal for literals XML cannot carry."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.dom.minidom

import pytest
import requests
from rdflib import Graph
from server_helpers import EX, client, tricky_app, tricky_url  # noqa: F401  (fixtures)
from SPARQLWrapper import TURTLE, SPARQLWrapper

CLI = [sys.executable, "-c", "from karabakh_kg.server.cli import main; main()"]
CONSTRUCT = "PREFIX ex: <http://example.org/> CONSTRUCT { ?s ex:label ?o } WHERE { ?s ex:label ?o }"

MISPLACED = [
    ("SELECT ?s WHERE { ?s ?p ?o FILTER(AVG(?o) > 1) }", "AVG("),
    ("SELECT ?s WHERE {\n  ?s ?p ?o\n  BIND(SUM(?o) AS ?z)\n}", "SUM("),
    ("SELECT ?s WHERE { ?s ?p ?o OPTIONAL { ?s ?q ?x FILTER(max(?x) > 1) } }", "max("),
]


def _position(query: str, word: str) -> tuple[int, int]:
    """The 1-based line and column where ``word`` is written in ``query``."""
    at = query.index(word)
    return query.count("\n", 0, at) + 1, at - (query.rfind("\n", 0, at) + 1) + 1


@pytest.mark.parametrize("query, word", MISPLACED)
def test_misplaced_aggregates_are_a_400_at_their_position(tricky_url, query, word):
    line, column = _position(query, word)
    response = requests.post(f"{tricky_url}/sparql", data=query.encode(), timeout=20,
                             headers={"Content-Type": "application/sparql-query", "Accept": "application/json"})
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["error"] == "query-error"
    assert problem["where"] == {"source": "query", "line": line, "column": column}


def test_grouped_aggregates_still_work(client):
    query = "SELECT ?s (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?s HAVING (COUNT(*) > 1) ORDER BY DESC(SUM(1))"
    response = client.get("/sparql", query_string={"query": query}, headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert json.loads(response.get_data())["results"]["bindings"]


def test_query_command_reports_a_misplaced_aggregate_in_one_line(tmp_path, built, build_dir):
    path = tmp_path / "agg.rq"
    path.write_text(MISPLACED[0][0] + "\n")
    result = subprocess.run(CLI + ["query", str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    line, column = _position(*MISPLACED[0])
    assert result.stderr.startswith(f"error: {path}:{line}:{column}: the aggregate AVG()")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("charset", ["utf-16", "latin-1"])
def test_a_direct_post_not_in_utf8_is_a_400(tricky_url, charset):
    query = 'ASK { ?s ?p "café" }'.encode(charset)
    for content_type in (f"application/sparql-query; charset={charset}", "application/sparql-query"):
        response = requests.post(f"{tricky_url}/sparql", data=query, timeout=20,
                                 headers={"Content-Type": content_type, "Accept": "application/json"})
        assert response.status_code == 400, (content_type, response.text)
        assert response.json()["error"] == "bad-encoding"


def test_sparqlwrapper_gets_ntriples_when_its_accept_header_asks_for_them(tricky_url):
    sparql = SPARQLWrapper(f"{tricky_url}/sparql")
    sparql.setQuery(CONSTRUCT)
    sparql.setReturnFormat(TURTLE)  # it adds format=turtle (and output=, results=) to the URL
    sparql.addCustomHttpHeader("Accept", "application/n-triples")
    sparql.setTimeout(20)
    response = sparql.query()
    assert response.response.headers["Content-Type"].startswith("application/n-triples")
    body = response.response.read().decode("utf-8")
    graph = Graph().parse(data=body, format="nt")  # N-Triples: no prefixes, one triple a line
    assert len(graph) == len(body.strip().splitlines()) and len(graph) > 0
    assert (None, EX.label, None) in graph


def test_format_parameter_still_wins_over_an_unrelated_accept(client):
    response = client.get("/sparql", query_string={"query": CONSTRUCT, "format": "turtle"},
                          headers={"Accept": "application/rdf+xml"})
    assert response.headers["Content-Type"].startswith("text/turtle")


@pytest.mark.parametrize("accept", ["text/plain", "application/json"])
def test_a_body_over_the_limit_gets_the_one_error_shape(tricky_url, accept):
    """Over twice the limit waitress refuses the body itself; granian hands it to the app: both
    answer 413 in the app's shape."""
    body = b"#" + b"x" * 2_500_000 + b"\nASK {}"
    response = requests.post(f"{tricky_url}/sparql", data=body, timeout=30,
                             headers={"Content-Type": "application/sparql-query", "Accept": accept})
    assert response.status_code == 413
    assert "generated by" not in response.text
    if accept == "application/json":
        problem = response.json()
        assert problem["error"] == "too-large" and problem["status"] == 413
        assert "max_request_bytes" in problem["message"]
    else:
        assert response.text.startswith("error: ") and "max_request_bytes" in response.text


def test_a_literal_xml_cannot_carry_is_refused_in_xml_results_not_sent_ill_formed(client):
    query = 'SELECT ?x WHERE { BIND("a\\u0000b" AS ?x) }'
    xml_answer = client.get("/sparql", query_string={"query": query},
                            headers={"Accept": "application/sparql-results+xml"})
    assert xml_answer.status_code == 406
    assert "U+0000" in xml_answer.get_data(as_text=True)
    json_answer = client.get("/sparql", query_string={"query": query}, headers={"Accept": "application/json"})
    assert json.loads(json_answer.get_data())["results"]["bindings"][0]["x"]["value"] == "a\x00b"
    fine = client.get("/sparql", query_string={"query": 'SELECT ?x WHERE { BIND("a\\tb" AS ?x) }'},
                      headers={"Accept": "application/sparql-results+xml"})
    xml.dom.minidom.parseString(fine.get_data())


HUGE = "99999999999999999999999"  # beyond sys.maxsize, beyond Oxigraph's own limit


@pytest.mark.parametrize("query, rows", [
    (f"SELECT (COUNT(*) AS ?n) WHERE {{ {{ SELECT * WHERE {{ ?s ?p ?o }} LIMIT {HUGE} }} }}", None),
    (f"SELECT ?s WHERE {{ ?s ?p ?o }} OFFSET {HUGE} LIMIT 2", 0),
    (f"SELECT ?s WHERE {{ ?s ?p ?o }} OFFSET 9223372036854775806 LIMIT {HUGE}", 0),
])
def test_a_limit_or_offset_beyond_any_answer_means_what_it_says(client, query, rows):
    """Not a 500: LIMIT 10^23 keeps every row, OFFSET 10^23 none."""
    response = client.get("/sparql", query_string={"query": query}, headers={"Accept": "application/json"})
    assert response.status_code == 200, response.get_data()
    bindings = json.loads(response.get_data())["results"]["bindings"]
    if rows is None:
        everything = client.get("/sparql", query_string={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
                                headers={"Accept": "application/json"})
        assert bindings == json.loads(everything.get_data())["results"]["bindings"]
        assert int(bindings[0]["n"]["value"]) > 0
    else:
        assert len(bindings) == rows


def test_query_command_takes_a_limit_beyond_any_answer(tmp_path, built, build_dir):
    path = tmp_path / "huge.rq"
    path.write_text(f"SELECT (COUNT(*) AS ?n) WHERE {{ {{ SELECT * WHERE {{ ?s ?p ?o }} LIMIT {HUGE} }} }}\n")
    done = subprocess.run(CLI + ["query", str(path), "-f", "csv", "--build-dir", str(build_dir)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert done.stdout.splitlines()[0] == "n" and int(done.stdout.splitlines()[1]) > 1000
