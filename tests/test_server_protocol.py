"""The SPARQL 1.1 Protocol at /sparql through the Flask test client: ways to send a query, errors a
client can act on, content negotiation, HTTP manners (CORS, caching, HEAD, OPTIONS)."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from rdflib import Graph, URIRef
from server_helpers import G2, TRICKY_LABELS, client, tricky_app  # noqa: F401  (fixtures)

SELECT_LABELS = "SELECT ?label WHERE { <http://example.org/a> <http://example.org/label> ?label }"


def labels_from_json(response) -> set[str]:
    document = json.loads(response.get_data())
    return {b["label"]["value"] for b in document["results"]["bindings"]}


def error_of(response) -> dict:
    """The JSON error document, checked against the one error shape."""
    document = json.loads(response.get_data())
    assert set(document) <= {"error", "status", "message", "where", "details"}
    assert {"error", "status", "message"} <= set(document)
    assert document["status"] == response.status_code
    return document


def test_get_query(client):
    response = client.get("/sparql", query_string={"query": SELECT_LABELS})
    assert response.status_code == 200
    assert response.mimetype == "application/sparql-results+json"
    assert labels_from_json(response) == TRICKY_LABELS


def test_post_form(client):
    response = client.post("/sparql", data={"query": SELECT_LABELS})
    assert response.status_code == 200
    assert labels_from_json(response) == TRICKY_LABELS


@pytest.mark.parametrize("content_type", [
    "application/sparql-query", "application/sparql-query; charset=utf-8",
    "Application/SPARQL-Query; Charset=UTF-8", 'application/sparql-query;charset="utf-8"'])
def test_post_direct(client, content_type):
    response = client.post("/sparql", data=SELECT_LABELS.encode("utf-8"), content_type=content_type)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert labels_from_json(response) == TRICKY_LABELS


@pytest.mark.parametrize("charset, declared", [("utf-16", True), ("latin-1", True), ("utf-16", False),
                                               ("latin-1", False)])
def test_post_direct_in_another_charset_is_a_400(client, charset, declared):
    """SPARQL 1.1 Protocol: a direct POST body is UTF-8; the W3C tests expect 400 for UTF-16 and
    Latin-1 bodies, with or without a charset parameter saying so."""
    query = 'ASK { ?s ?p "Şuşa café"@az }' if charset == "utf-16" else 'ASK { ?s ?p "café" }'
    content_type = "application/sparql-query" + (f"; charset={charset}" if declared else "")
    response = client.post("/sparql", data=query.encode(charset), content_type=content_type,
                           headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert json.loads(response.get_data())["error"] == "bad-encoding"


def test_non_ascii_query_by_get(client):
    response = client.get("/sparql?query=" + quote('ASK { ?s ?p "Qarabağ – Şuşa"@az }'))
    assert json.loads(response.get_data())["boolean"] is True


@pytest.mark.parametrize("send", [
    lambda c: c.get("/sparql?query=ASK%20%7B%7D&query=ASK%20%7B%7D"),
    lambda c: c.post("/sparql?query=ASK%20%7B%7D", data="ASK {}", content_type="application/sparql-query"),
    lambda c: c.post("/sparql", data="query=ASK+%7B%7D&query=ASK+%7B%7D",
                     content_type="application/x-www-form-urlencoded"),
], ids=["get", "url-and-body", "form"])
def test_repeated_query_is_400(client, send):
    response = send(client)
    assert response.status_code == 400
    assert "exactly one query" in response.get_data(as_text=True)


def test_missing_query_in_post_is_400(client):
    response = client.post("/sparql", data={"format": "json"})
    assert response.status_code == 400
    assert "no query" in response.get_data(as_text=True)


def test_empty_query_is_400(client):
    response = client.get("/sparql?query=")
    assert response.status_code == 400


@pytest.mark.parametrize("send", [
    lambda c: c.get("/sparql?query=ASK%20%7B%3Fs%20%3Fp%20%22%FF%22%7D"),
    lambda c: c.post("/sparql", data=b'ASK { ?s ?p "\xff" }', content_type="application/sparql-query"),
    lambda c: c.post("/sparql", data=b"query=ASK+%7B%7D%FF", content_type="application/x-www-form-urlencoded"),
], ids=["get", "direct", "form"])
def test_non_utf8_query_is_400(client, send):
    response = send(client)
    assert response.status_code == 400
    assert "UTF-8" in response.get_data(as_text=True)


def test_syntax_error_has_line_and_column(client):
    query = "PREFIX ex: <http://example.org/>\nSELECT ?x\nWHERE { ?x ex:label ?y . FILTER( }"
    response = client.get("/sparql", query_string={"query": query}, headers={"Accept": "application/json"})
    assert response.status_code == 400
    problem = error_of(response)
    assert problem["error"] == "syntax-error"
    assert problem["where"]["line"] == 3
    assert problem["where"]["column"] >= 1
    text = client.get("/sparql", query_string={"query": query}).get_data(as_text=True)
    assert text.startswith("error: query:3:")


def test_unknown_prefix_is_400(client):
    response = client.get("/sparql", query_string={"query": "SELECT * { ?s nope:x ?o }"})
    assert response.status_code == 400


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_wrong_method_is_405_with_allow(client, method):
    response = getattr(client, method)("/sparql")
    assert response.status_code == 405
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert {"GET", "POST", "HEAD", "OPTIONS"} <= allowed
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", "multipart/form-data; boundary=x", None])
def test_unsupported_body_is_415(client, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/sparql", data=b"ASK {}", headers=headers)
    assert response.status_code == 415
    assert "application/sparql-query" in response.get_data(as_text=True)


def test_updates_are_refused_and_nothing_changes(client, tricky_app):
    dataset = tricky_app.extensions["karabakh_kg"].dataset
    before = len(dataset)
    attempts = [
        client.get("/sparql", query_string={"query": "INSERT DATA { <http://x> <http://y> <http://z> }"}),
        client.get("/sparql", query_string={"query": "PREFIX ex: <http://example.org/> DELETE WHERE { ?s ?p ?o }"}),
        client.post("/sparql", data={"update": "CLEAR ALL"}),
        client.post("/sparql", data="DROP ALL", content_type="application/sparql-update"),
        client.get("/sparql", query_string={"query": "LOAD <http://example.org/data.ttl>"}),
        client.get("/sparql", query_string={"query": "# a comment\nCLEAR DEFAULT"}),
    ]
    for response in attempts:
        assert response.status_code == 400, response.get_data(as_text=True)
    assert all("read-only" in r.get_data(as_text=True) or "syntax" in r.get_data(as_text=True) for r in attempts)
    assert "read-only" in attempts[2].get_data(as_text=True)
    assert len(dataset) == before
    count = client.get("/sparql", query_string={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"})
    assert json.loads(count.get_data())["results"]["bindings"][0]["n"]["value"] == str(before)


# -- content negotiation ---------------------------------------------------------------------------

@pytest.mark.parametrize("accept, expected", [
    (None, "application/sparql-results+json"),
    ("*/*", "application/sparql-results+json"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
    ("text/*", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
    ("application/json", "application/sparql-results+json"),
    ("application/xml", "application/sparql-results+xml"),
    ("application/sparql-results+json; charset=utf-8", "application/sparql-results+json"),
    ("APPLICATION/SPARQL-RESULTS+XML", "application/sparql-results+xml"),
    # Jena ARQ (QueryExecutionHTTP) for SELECT
    ("application/sparql-results+json, application/sparql-results+xml;q=0.9, "
     "text/tab-separated-values;q=0.7, text/csv;q=0.5, application/json;q=0.2, application/xml;q=0.2, */*;q=0.1",
     "application/sparql-results+json"),
    # Comunica-style preferences with XML first
    ("application/sparql-results+xml;q=1.0,application/sparql-results+json;q=0.8,text/csv;q=0.5,*/*;q=0.1",
     "application/sparql-results+xml"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/sparql-results+xml"),
])
def test_select_negotiation(client, accept, expected):
    headers = {"Accept": accept} if accept else {}
    response = client.get("/sparql", query_string={"query": SELECT_LABELS}, headers=headers)
    assert response.status_code == 200
    assert response.mimetype == expected
    assert "Accept" in response.headers["Vary"]


@pytest.mark.parametrize("accept, expected", [
    (None, "text/turtle"),
    ("application/n-triples", "application/n-triples"),
    ("application/ld+json", "application/ld+json"),
    ("application/rdf+xml", "application/rdf+xml"),
    ("application/trig", "application/trig"),
    ("application/n-quads", "application/n-quads"),
    ("application/json", "application/ld+json"),
    ("text/turtle;q=0.5, application/rdf+xml", "application/rdf+xml"),
    ("application/n-quads,application/trig;q=0.95,application/ld+json;q=0.9,application/n-triples;q=0.8,"
     "text/turtle;q=0.6,application/rdf+xml;q=0.5,*/*;q=0.1", "application/n-quads"),  # Comunica
])
def test_construct_negotiation(client, accept, expected):
    headers = {"Accept": accept} if accept else {}
    response = client.get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o }"}, headers=headers)
    assert response.status_code == 200
    assert response.mimetype == expected


@pytest.mark.parametrize("params, query, expected", [
    ({"format": "json"}, SELECT_LABELS, "application/sparql-results+json"),
    ({"output": "csv"}, SELECT_LABELS, "text/csv"),
    ({"format": "xml"}, SELECT_LABELS, "application/sparql-results+xml"),
    ({"format": "application/sparql-results+xml"}, SELECT_LABELS, "application/sparql-results+xml"),
    ({"format": ["tsv", "text/tab-separated-values"], "output": ["tsv", "text/tab-separated-values"],
      "results": "tsv"}, SELECT_LABELS, "text/tab-separated-values"),
    ({"format": "xml"}, "CONSTRUCT WHERE { ?s ?p ?o }", "application/rdf+xml"),
    ({"format": "json"}, "CONSTRUCT WHERE { ?s ?p ?o }", "application/ld+json"),
    ({"format": "turtle"}, "DESCRIBE <http://example.org/a>", "text/turtle"),
    ({"format": ["rdf+xml", "application/rdf+xml"]}, "CONSTRUCT WHERE { ?s ?p ?o }", "application/rdf+xml"),
])
def test_format_parameters(client, params, query, expected):
    response = client.get("/sparql", query_string={"query": query, **params},
                          headers={"Accept": "text/html"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == expected


def test_406_lists_what_is_available(client):
    response = client.get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o }"},
                          headers={"Accept": "text/csv"})
    assert response.status_code == 406
    text = response.get_data(as_text=True)
    for media_type in ("text/turtle", "application/ld+json", "application/n-triples"):
        assert media_type in text
    response = client.get("/sparql", query_string={"query": SELECT_LABELS, "format": "turtle"},
                          headers={"Accept": "application/json"})
    assert response.status_code == 406
    problem = error_of(response)
    assert "application/sparql-results+json (format=json)" in problem["details"]


# -- the dataset a query sees ------------------------------------------------------------------------

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
COUNT_NAMED = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"


def count(client, query=COUNT, **params) -> int:
    response = client.get("/sparql", query_string={"query": query, **params})
    assert response.status_code == 200, response.get_data(as_text=True)
    return int(json.loads(response.get_data())["results"]["bindings"][0]["n"]["value"])


def test_default_graph_is_the_union(client, tricky_app):
    dataset = tricky_app.extensions["karabakh_kg"].dataset
    assert count(client) == len(set(dataset.triples((None, None, None))))
    assert count(client, COUNT_NAMED) == len(dataset)


def test_graph_parameters_select_graphs(client, tricky_app):
    dataset = tricky_app.extensions["karabakh_kg"].dataset
    assert count(client, **{"default-graph-uri": str(G2)}) == len(dataset.graph(G2))
    assert count(client, COUNT_NAMED, **{"named-graph-uri": str(G2)}) == len(dataset.graph(G2))
    assert count(client, COUNT_NAMED, **{"default-graph-uri": str(G2)}) == 0
    assert count(client, **{"default-graph-uri": "http://example.org/unknown"}) == 0
    # the protocol's parameters replace the query's own FROM clauses
    from_g2 = f"SELECT (COUNT(*) AS ?n) FROM <{G2}> WHERE {{ ?s ?p ?o }}"
    assert count(client, from_g2) == len(dataset.graph(G2))
    assert count(client, from_g2, **{"default-graph-uri": "http://example.org/g1"}) == \
        len(dataset.graph(URIRef("http://example.org/g1")))


# -- service description -----------------------------------------------------------------------------

SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"


def test_service_description(client, tricky_app):
    response = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    graph = Graph().parse(data=response.get_data(as_text=True), format="turtle")
    service = next(graph.subjects(URIRef(SD + "endpoint"), None))
    assert str(graph.value(service, URIRef(SD + "endpoint"))).endswith("/sparql")
    assert URIRef(SD + "SPARQL11Query") in set(graph.objects(service, URIRef(SD + "supportedLanguage")))
    formats_ = set(graph.objects(service, URIRef(SD + "resultFormat")))
    assert URIRef("http://www.w3.org/ns/formats/SPARQL_Results_JSON") in formats_
    assert URIRef("http://www.w3.org/ns/formats/Turtle") in formats_
    assert URIRef(SD + "UnionDefaultGraph") in set(graph.objects(service, URIRef(SD + "feature")))
    dataset = tricky_app.extensions["karabakh_kg"].dataset
    names = {}
    for named in graph.subjects(URIRef(SD + "name"), None):
        described = graph.value(named, URIRef(SD + "graph"))
        names[str(graph.value(named, URIRef(SD + "name")))] = int(graph.value(described, URIRef(VOID + "triples")))
    assert names == {str(c.identifier): len(c) for c in dataset.graphs() if len(c)
                     and str(c.identifier).startswith("http")}
    g1 = next(n for n in graph.subjects(URIRef(SD + "name"), URIRef("http://example.org/g1")))
    stats = graph.value(g1, URIRef(SD + "graph"))
    assert int(graph.value(stats, URIRef(VOID + "entities"))) == 1
    assert int(graph.value(stats, URIRef(VOID + "classes"))) == 1
    assert int(graph.value(stats, URIRef(VOID + "properties"))) == 4


@pytest.mark.parametrize("accept, parse_as", [
    ("application/ld+json", "json-ld"), ("application/rdf+xml", "xml"), ("application/n-triples", "nt"),
    ("application/trig", "trig"), ("application/n-quads", "nquads")])
def test_service_description_in_every_rdf_format(client, accept, parse_as):
    turtle = Graph().parse(data=client.get("/sparql", headers={"Accept": "text/turtle"}).get_data(as_text=True),
                           format="turtle")
    response = client.get("/sparql", headers={"Accept": accept})
    assert response.mimetype == accept
    if parse_as in ("trig", "nquads"):
        from rdflib import Dataset

        other = Graph()
        for s, p, o, _ in Dataset().parse(data=response.get_data(as_text=True), format=parse_as).quads():
            other.add((s, p, o))
    else:
        other = Graph().parse(data=response.get_data(as_text=True), format=parse_as)
    assert set(other) == set(turtle)


def test_browser_gets_the_query_page(client):
    response = client.get("/sparql", headers={
        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "<textarea" in page and "app.js" in page


# -- HTTP manners ----------------------------------------------------------------------------------

def test_cors_on_success_error_and_preflight(client):
    ok = client.get("/sparql", query_string={"query": "ASK {}"}, headers={"Origin": "https://example.net"})
    bad = client.get("/sparql", query_string={"query": "ASK {"}, headers={"Origin": "https://example.net"})
    preflight = client.options("/sparql", headers={
        "Origin": "https://example.net", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, accept"})
    for response in (ok, bad, preflight):
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert preflight.status_code in (200, 204)
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "content-type" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "X-Karabakh-KG-Truncated" in ok.headers["Access-Control-Expose-Headers"]


def test_options_and_head(client):
    options = client.options("/sparql")
    assert {"GET", "POST", "HEAD", "OPTIONS"} <= {m.strip() for m in options.headers["Allow"].split(",")}
    get = client.get("/sparql", query_string={"query": SELECT_LABELS})
    head = client.head("/sparql", query_string={"query": SELECT_LABELS})
    assert head.status_code == 200
    assert head.get_data() == b""
    assert head.headers["Content-Type"] == get.headers["Content-Type"]
    assert head.headers["ETag"] == get.headers["ETag"]


def test_etag_and_conditional_get(client):
    first = client.get("/sparql", query_string={"query": SELECT_LABELS})
    etag = first.headers["ETag"]
    assert etag and first.headers["Cache-Control"].startswith("public, max-age=")
    again = client.get("/sparql", query_string={"query": SELECT_LABELS}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag
    other = client.get("/sparql", query_string={"query": SELECT_LABELS},
                       headers={"Accept": "text/csv", "If-None-Match": etag})
    assert other.status_code == 200
    assert other.headers["ETag"] != etag
    post = client.post("/sparql", data={"query": SELECT_LABELS})
    assert "ETag" not in post.headers and post.headers["Cache-Control"] == "no-store"


def test_errors_are_not_cached(client):
    response = client.get("/sparql", query_string={"query": "ASK {"})
    assert response.headers["Cache-Control"] == "no-store"


def test_cors_can_be_limited_to_origins(tricky_app):
    from server_helpers import app_for, tricky_dataset

    with app_for(tricky_dataset(), cors_origins="https://a.example, https://b.example", query_workers=1) as app:
        test = app.test_client()
        allowed = test.get("/sparql?query=ASK%7B%7D", headers={"Origin": "https://b.example"})
        refused = test.get("/sparql?query=ASK%7B%7D", headers={"Origin": "https://evil.example"})
        assert allowed.headers["Access-Control-Allow-Origin"] == "https://b.example"
        assert "Access-Control-Allow-Origin" not in refused.headers
        assert "Origin" in allowed.headers["Vary"]
    with app_for(tricky_dataset(), cors_origins="", query_workers=1) as app:
        response = app.test_client().get("/sparql?query=ASK%7B%7D", headers={"Origin": "https://b.example"})
        assert "Access-Control-Allow-Origin" not in response.headers


# -- the one error shape ---------------------------------------------------------------------------

BAD_REQUESTS = [
    ("get", "/sparql?query=SELEC", {}),
    ("get", "/sparql?query=ASK%20%7B%7D&query=x", {}),
    ("put", "/sparql", {}),
    ("post", "/sparql", {"data": b"x", "content_type": "text/plain"}),
    ("get", "/sparql?query=CONSTRUCT%20WHERE%20%7B%3Fs%20%3Fp%20%3Fo%7D&format=csv", {}),
    ("get", "/nowhere", {}),
    ("get", "/queries/no-such-query", {}),
    ("get", "/queries/labels?thing=not%20an%20iri", {}),
    ("get", "/data?graph=http://example.org/none", {}),
    ("get", "/sparql?query=SELECT%20*%20%7B%20SERVICE%20%3Chttp://x/%3E%20%7B%7D%20%7D", {}),
    ("post", "/sparql", {"data": {"update": "CLEAR ALL"}}),
]


@pytest.mark.parametrize("method, url, kwargs", BAD_REQUESTS, ids=[u for _, u, _ in BAD_REQUESTS])
def test_one_error_shape(client, method, url, kwargs):
    as_text = getattr(client, method)(url, **kwargs)
    assert 400 <= as_text.status_code < 500
    assert as_text.mimetype == "text/plain"
    assert as_text.get_data(as_text=True).startswith("error: ")
    assert "Traceback" not in as_text.get_data(as_text=True)
    as_json = getattr(client, method)(url, headers={"Accept": "application/json"}, **kwargs)
    assert as_json.mimetype == "application/json"
    problem = error_of(as_json)
    assert problem["message"] in as_text.get_data(as_text=True)


def test_cached_queries_forget_the_protocol_graphs(client, tricky_app):
    """Workers keep parsed queries; a default-graph-uri given once must not stick to the query."""
    dataset = tricky_app.extensions["karabakh_kg"].dataset
    union = len(set(dataset.triples((None, None, None))))
    for _ in range(3):  # enough rounds to meet every worker twice
        assert count(client, **{"default-graph-uri": str(G2)}) == len(dataset.graph(G2))
        assert count(client) == union
        from_g2 = f"SELECT (COUNT(*) AS ?n) FROM <{G2}> WHERE {{ ?s ?p ?o }}"
        assert count(client, from_g2, **{"default-graph-uri": "http://example.org/none"}) == 0
        assert count(client, from_g2) == len(dataset.graph(G2))


def test_invalid_regex_pattern_is_an_expression_error_not_a_crash(client):
    """SPARQL: an error inside FILTER removes the row; the invalid pattern must not be a 500."""
    query = 'SELECT ?o WHERE { ?s ?p ?o FILTER REGEX(STR(?o), "(") }'
    response = client.get("/sparql", query_string={"query": query})
    assert response.status_code == 200
    assert response.get_json()["results"]["bindings"] == []
