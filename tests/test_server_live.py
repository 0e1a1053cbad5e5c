"""The real servers (waitress in a thread and granian in a process of its own, each on a free
loopback port, started the way ``serve`` starts them) with real clients: SPARQLWrapper, and raw
HTTP mimicking what Jena, Comunica, YASGUI, curl and Java's HTTP client send."""

from __future__ import annotations

import csv
import io
import socket
import xml.dom.minidom

import pytest
import requests
from rdflib import Graph, Literal
from server_helpers import EX, TRICKY_LABELS, tricky_app, tricky_url  # noqa: F401  (fixtures)
from SPARQLWrapper import (
    CSV,
    JSON,
    JSONLD,
    POST,
    POSTDIRECTLY,
    TSV,
    TURTLE,
    XML,
    SPARQLWrapper,
)
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

LABELS = "PREFIX ex: <http://example.org/> SELECT ?label WHERE { ex:a ex:label ?label }"
CONSTRUCT = "PREFIX ex: <http://example.org/> CONSTRUCT { ?s ex:label ?o } WHERE { ?s ex:label ?o }"


def wrapper(url: str, query: str, fmt, method=None) -> SPARQLWrapper:
    sparql = SPARQLWrapper(f"{url}/sparql")
    sparql.setQuery(query)
    sparql.setReturnFormat(fmt)
    if method == POSTDIRECTLY:
        sparql.setMethod(POST)
        sparql.setRequestMethod(POSTDIRECTLY)
    elif method:
        sparql.setMethod(method)
    sparql.setTimeout(20)
    return sparql


@pytest.mark.parametrize("method", [None, POST, POSTDIRECTLY], ids=["get", "post-form", "post-direct"])
def test_sparqlwrapper_json(tricky_url, method):
    result = wrapper(tricky_url, LABELS, JSON, method).queryAndConvert()
    assert {b["label"]["value"] for b in result["results"]["bindings"]} == TRICKY_LABELS


def test_sparqlwrapper_xml(tricky_url):
    document = wrapper(tricky_url, LABELS, XML).queryAndConvert()
    assert isinstance(document, xml.dom.minidom.Document)
    values = {"".join(n.data for n in node.childNodes)
              for node in document.getElementsByTagName("literal")}
    assert values == TRICKY_LABELS


def test_sparqlwrapper_csv_and_tsv(tricky_url):
    data = wrapper(tricky_url, LABELS, CSV).queryAndConvert()
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert {r[0] for r in rows[1:]} == TRICKY_LABELS
    tsv = wrapper(tricky_url, LABELS, TSV).queryAndConvert().decode("utf-8")
    assert tsv.startswith("?label\n") and '"tab\\there"' in tsv


def test_sparqlwrapper_ask(tricky_url):
    assert wrapper(tricky_url, "ASK { ?s ?p ?o }", JSON).queryAndConvert()["boolean"] is True
    assert wrapper(tricky_url, "ASK { ?s ?p <http://nothing> }", JSON, POST).queryAndConvert()["boolean"] is False


@pytest.mark.parametrize("fmt", [TURTLE, XML, JSONLD])
def test_sparqlwrapper_construct(tricky_url, fmt):
    result = wrapper(tricky_url, CONSTRUCT, fmt).queryAndConvert()
    graph = result if isinstance(result, Graph) else Graph().parse(data=result.decode("utf-8"), format="turtle")
    assert Literal("Qarabağ – Şuşa", lang="az") in set(graph.objects(EX.a, EX.label))
    assert Literal('all, "of"\tthem\r\nhere') in set(graph.objects(EX.a, EX.label))


def test_sparqlwrapper_errors(tricky_url):
    with pytest.raises(QueryBadFormed) as caught:
        wrapper(tricky_url, "SELECT ?x WHERE { ?x ?y }", JSON).queryAndConvert()
    assert "syntax error" in str(caught.value)
    update = wrapper(tricky_url, "INSERT DATA { <http://x> <http://y> <http://z> }", JSON)
    update.setMethod(POST)
    with pytest.raises(QueryBadFormed) as caught:
        update.query()
    assert "read-only" in str(caught.value)


# -- raw clients -------------------------------------------------------------------------------------

def raw_http(url: str, request: bytes) -> bytes:
    """Send raw bytes; read one response (headers, then Content-Length bytes of body)."""
    host, port = url.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        while len(body) < length:
            body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def test_post_with_charset(tricky_url):
    response = requests.post(f"{tricky_url}/sparql", data=LABELS.encode("utf-8"), timeout=10,
                             headers={"Content-Type": "application/sparql-query; charset=UTF-8",
                                      "Accept": "application/sparql-results+json"})
    assert response.status_code == 200
    assert {b["label"]["value"] for b in response.json()["results"]["bindings"]} == TRICKY_LABELS


def test_java_client_upgrade_h2c_is_ignored(tricky_url):
    """Java's HttpClient asks to upgrade to HTTP/2 in clear text; the answer must be plain HTTP/1.1."""
    body = LABELS.encode("utf-8")
    host = tricky_url.split("//")[1]
    request = (f"POST /sparql HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade, HTTP2-Settings\r\n"
               "HTTP2-Settings: AAEAAEAAAAIAAAABAAMAAABkAAQBAAAAAAUAAEAA\r\nUpgrade: h2c\r\n"
               "User-Agent: Java-http-client/17.0.2\r\nContent-Type: application/sparql-query\r\n"
               "Accept: application/sparql-results+json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    answer = raw_http(tricky_url, request)
    head, _, rest = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    assert b"upgrade" not in head.lower().split(b"\r\n", 1)[1].replace(b"x-content-type-options", b"")
    assert b"Qaraba" in rest


def test_jena_style_request(tricky_url):
    accept = ("application/sparql-results+json, application/sparql-results+xml;q=0.9, "
              "text/tab-separated-values;q=0.7, text/csv;q=0.5, application/json;q=0.2, "
              "application/xml;q=0.2, */*;q=0.1")
    response = requests.get(f"{tricky_url}/sparql", params={"query": LABELS}, timeout=10,
                            headers={"Accept": accept, "Accept-Encoding": "gzip,deflate",
                                     "User-Agent": "Apache-Jena-ARQ/5.0.0"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/sparql-results+json")
    graph_accept = ("text/turtle,application/n-triples;q=0.9,application/ld+json;q=0.8,"
                    "application/rdf+xml;q=0.7,*/*;q=0.5")
    response = requests.get(f"{tricky_url}/sparql", params={"query": CONSTRUCT}, timeout=10,
                            headers={"Accept": graph_accept})
    assert response.headers["Content-Type"].startswith("text/turtle")
    Graph().parse(data=response.text, format="turtle")


def test_comunica_style_request(tricky_url):
    accept = ("application/sparql-results+json;q=1.0,application/sparql-results+xml;q=0.7,"
              "text/csv;q=0.5,text/tab-separated-values;q=0.5,application/n-quads;q=1.0,"
              "application/trig;q=0.95,text/turtle;q=0.6,*/*;q=0.1")
    response = requests.post(f"{tricky_url}/sparql", data={"query": LABELS}, timeout=10,
                             headers={"Accept": accept, "User-Agent": "Comunica/actor-http-fetch"})
    assert response.headers["Content-Type"].startswith("application/sparql-results+json")
    response = requests.post(f"{tricky_url}/sparql", data={"query": CONSTRUCT}, timeout=10,
                             headers={"Accept": accept})
    assert response.headers["Content-Type"].startswith("application/n-quads")


def test_browser_preflight_then_post(tricky_url):
    """What YASGUI in a browser on another origin does."""
    origin = {"Origin": "https://yasgui.example"}
    preflight = requests.options(f"{tricky_url}/sparql", timeout=10, headers={
        **origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code in (200, 204)
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    response = requests.post(f"{tricky_url}/sparql", data={"query": LABELS}, timeout=10, headers={
        **origin, "Accept": "application/sparql-results+json,*/*;q=0.9"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.status_code == 200


def test_head_and_conditional_get_over_http(tricky_url, request):
    with requests.Session() as session:  # one kept-alive connection for all of these
        first = session.get(f"{tricky_url}/sparql", params={"query": LABELS}, timeout=10)
        head = session.head(f"{tricky_url}/sparql", params={"query": LABELS}, timeout=10)
        again = session.get(f"{tricky_url}/sparql", params={"query": LABELS}, timeout=10,
                            headers={"If-None-Match": first.headers["ETag"]})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["ETag"] == first.headers["ETag"]
    assert again.status_code == 304 and again.content == b""
    assert first.headers["Vary"] == "Accept"
    http_server = request.node.callspec.params["tricky_url"]
    assert first.headers["Server"] == {"waitress": "karabakh-kg", "granian": "granian"}[http_server]


def test_chunked_post(tricky_url):
    def chunks():
        yield b"PREFIX ex: <http://example.org/> "
        yield b"ASK { ex:a ex:label ?l }"

    response = requests.post(f"{tricky_url}/sparql", data=chunks(), timeout=10,
                             headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 200 and response.json()["boolean"] is True


def test_errors_over_http_are_the_one_shape(tricky_url):
    response = requests.get(f"{tricky_url}/sparql", params={"query": "SELECT"}, timeout=10,
                            headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert set(response.json()) <= {"error", "status", "message", "where", "details"}
    response = requests.put(f"{tricky_url}/sparql", timeout=10)
    assert response.status_code == 405 and "GET" in response.headers["Allow"]
    assert response.text.startswith("error: ")
