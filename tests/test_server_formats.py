"""Every response format parsed back, with the values checked: literals with commas, quotes, tabs,
newlines, carriage returns and non-ASCII text, language tags, datatypes, and unbound variables."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import XSD
from rdflib.query import Result
from server_helpers import EX, TRICKY_LABELS, client, tricky_app  # noqa: F401  (fixtures)

# ?label is always bound, ?lang only for the language-tagged labels, ?n never (OPTIONAL that fails).
SELECT = """PREFIX ex: <http://example.org/>
SELECT ?thing ?label ?lang ?n WHERE {
  ?thing ex:label ?label .
  OPTIONAL { ?thing ex:label ?label . FILTER(LANG(?label) != "") BIND(LANG(?label) AS ?lang) }
  OPTIONAL { ?thing ex:missing ?n }
  FILTER(?thing = ex:a)
}"""

EXPECTED = {(label, "az" if label == "Qarabağ – Şuşa" else None) for label in TRICKY_LABELS}


def get(client, query, accept):
    response = client.get("/sparql", query_string={"query": query}, headers={"Accept": accept})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == accept
    return response.get_data()


def test_json(client):
    document = json.loads(get(client, SELECT, "application/sparql-results+json"))
    assert document["head"]["vars"] == ["thing", "label", "lang", "n"]
    rows = document["results"]["bindings"]
    assert {(r["label"]["value"], r.get("lang", {}).get("value")) for r in rows} == EXPECTED
    assert all("n" not in r for r in rows)
    assert all(r["thing"] == {"type": "uri", "value": str(EX.a)} for r in rows)
    tagged = next(r for r in rows if r["label"]["value"] == "Qarabağ – Şuşa")
    assert tagged["label"]["xml:lang"] == "az"


def test_xml(client):
    ns = {"s": "http://www.w3.org/2005/sparql-results#"}
    root = ET.fromstring(get(client, SELECT, "application/sparql-results+xml"))
    assert [v.get("name") for v in root.findall("s:head/s:variable", ns)] == ["thing", "label", "lang", "n"]
    found = set()
    for result in root.findall("s:results/s:result", ns):
        values = {b.get("name"): b[0].text for b in result.findall("s:binding", ns)}
        assert "n" not in values
        found.add((values["label"], values.get("lang")))
    assert found == EXPECTED


def test_csv(client):
    data = get(client, SELECT, "text/csv").decode("utf-8")
    rows = list(csv.reader(io.StringIO(data, newline="")))
    assert rows[0] == ["thing", "label", "lang", "n"]
    assert {(r[1], r[2] or None) for r in rows[1:]} == EXPECTED
    assert all(r[3] == "" for r in rows[1:])  # unbound is an empty field
    assert all(r[0] == str(EX.a) for r in rows[1:])


def test_tsv(client):
    data = get(client, SELECT, "text/tab-separated-values")
    lines = data.decode("utf-8").split("\n")
    assert lines[0] == "?thing\t?label\t?lang\t?n"
    body = [line for line in lines[1:] if line]
    assert len(body) == len(TRICKY_LABELS)  # no raw newline inside a row
    assert all(line.count("\t") == 3 for line in body)  # no raw tab inside a value
    assert all(line.endswith("\t") for line in body)  # ?n unbound: empty last field
    parsed = Result.parse(io.BytesIO(data), format="tsv")
    found = {(str(row.label), str(row.lang) if row.lang is not None else None) for row in parsed}
    assert found == EXPECTED
    assert all(row.n is None for row in parsed)


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "application/sparql-results+xml"])
def test_rdflib_reads_results_back(client, accept):
    parsed = Result.parse(io.BytesIO(get(client, SELECT, accept)),
                          format="json" if accept.endswith("json") else "xml")
    labels = {row.label for row in parsed}
    assert Literal("Qarabağ – Şuşa", lang="az") in labels
    assert Literal("new\nline") in labels


def test_typed_values(client):
    query = "PREFIX ex: <http://example.org/> SELECT ?n ?day { ex:a ex:n ?n ; ex:day ?day }"
    row = json.loads(get(client, query, "application/sparql-results+json"))["results"]["bindings"][0]
    assert row["n"] == {"type": "literal", "value": "3", "datatype": str(XSD.integer)}
    assert row["day"] == {"type": "literal", "value": "2020-09-27", "datatype": str(XSD.date)}
    tsv = get(client, query, "text/tab-separated-values").decode()
    assert f'"3"^^<{XSD.integer}>' in tsv or "\t3" in tsv or tsv.split("\n")[1].startswith("3")
    parsed = list(Result.parse(io.BytesIO(tsv.encode()), format="tsv"))[0]
    assert parsed.n == Literal(3) and parsed.day == Literal("2020-09-27", datatype=XSD.date)


def test_bnodes_in_results(client):
    query = "SELECT ?b WHERE { BIND(BNODE() AS ?b) }"
    row = json.loads(get(client, query, "application/sparql-results+json"))["results"]["bindings"][0]
    assert row["b"]["type"] == "bnode"
    assert get(client, query, "text/csv").decode().split("\r\n")[1].startswith("_:")


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "application/sparql-results+xml",
                                    "text/csv", "text/tab-separated-values"])
@pytest.mark.parametrize("query, answer", [("ASK { ?s ?p ?o }", True), ("ASK { ?s ?p <http://nothing> }", False)])
def test_ask(client, accept, query, answer):
    data = get(client, query, accept)
    if accept.endswith("json"):
        assert json.loads(data)["boolean"] is answer
    elif accept.endswith("xml"):
        root = ET.fromstring(data)
        assert root.find("{http://www.w3.org/2005/sparql-results#}boolean").text == str(answer).lower()
    else:
        assert data.decode().split()[-1] == str(answer).lower()


CONSTRUCT = "PREFIX ex: <http://example.org/> CONSTRUCT { ?s ex:label ?o } WHERE { ?s ex:label ?o }"


def expected_graph(tricky_app) -> Graph:
    dataset = tricky_app.extensions["karabakh_kg"].dataset
    graph = Graph()
    for s, p, o in dataset.triples((None, EX.label, None)):
        graph.add((s, p, o))
    return graph


@pytest.mark.parametrize("accept, parser", [
    ("text/turtle", "turtle"), ("application/n-triples", "nt"), ("application/ld+json", "json-ld"),
    ("application/rdf+xml", "xml"), ("application/trig", "trig"), ("application/n-quads", "nquads")])
def test_construct_formats(client, tricky_app, accept, parser):
    data = get(client, CONSTRUCT, accept).decode("utf-8")
    if parser in ("trig", "nquads"):
        back = Dataset()
        back.parse(data=data, format=parser)
        assert [c for c in back.graphs() if len(c) and str(c.identifier) != "urn:x-rdflib:default"] == [], \
            "a CONSTRUCT result belongs in the default graph"
        graph = Graph()
        for s, p, o, _ in back.quads((None, None, None, None)):
            graph.add((s, p, o))
    else:
        graph = Graph().parse(data=data, format=parser)
    assert isomorphic(graph, expected_graph(tricky_app))
    assert Literal('all, "of"\tthem\r\nhere') in set(graph.objects(EX.a, EX.label))


def test_describe(client):
    graph = Graph().parse(data=get(client, "DESCRIBE <http://example.org/b>", "text/turtle").decode(), format="turtle")
    assert (EX.b, EX.ref, EX.a) in graph


@pytest.mark.parametrize("accept, parser", [
    ("text/turtle", "turtle"), ("application/n-triples", "nt"), ("application/ld+json", "json-ld"),
    ("application/rdf+xml", "xml"), ("application/trig", "trig"), ("application/n-quads", "nquads")])
def test_graph_export_formats(client, tricky_app, accept, parser):
    """One named graph (Graph Store Protocol GET): triple formats carry its triples, quad formats
    also keep its name."""
    g1 = URIRef("http://example.org/g1")
    response = client.get("/data", query_string={"graph": str(g1)}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == accept
    text = response.get_data(as_text=True)
    if parser in ("json-ld", "trig", "nquads"):
        graph = Dataset().parse(data=text, format=parser).graph(g1)
    else:
        graph = Graph().parse(data=text, format=parser)
    dataset = tricky_app.extensions["karabakh_kg"].dataset
    assert isomorphic(graph, dataset.graph(g1))


@pytest.mark.parametrize("extension, parser", [("trig", "trig"), ("nq", "nquads"), ("jsonld", "json-ld")])
def test_dataset_export_keeps_graphs(client, tricky_app, extension, parser):
    response = client.get(f"/data.{extension}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="karabakh-kg.{extension}"'
    back = Dataset()
    back.parse(data=response.get_data(as_text=True), format=parser)
    dataset = tricky_app.extensions["karabakh_kg"].dataset
    for name in ("http://example.org/g1", "http://example.org/g2"):
        assert isomorphic(back.graph(URIRef(name)), dataset.graph(URIRef(name))), name
