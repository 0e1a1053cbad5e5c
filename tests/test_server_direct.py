"""Plain queries answered without rdflib's parse (graph/sparql/direct_query.py) and look-ups answered
in the server process (graph/sparql/lookup_lane.py) give the answers the usual path gives.

The reference is the same worker with the direct path switched off, so that every query of the
engine corpus is evaluated both ways on the seed build and the answers compared as parsed (JSON
rows, CSV text, graphs by isomorphism).
"""

from __future__ import annotations

import csv
import io
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from rdflib import Graph

from engine_corpus import CORPUS
from karabakh_kg.graph.core import formats
from karabakh_kg.graph.pipeline import build as build_mod
from karabakh_kg.graph.pipeline import datasets
from karabakh_kg.graph.sparql import choice, worker
from server_helpers import EX, app_for, generated_dataset, live_server

SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
PLAIN = [(name, text) for name, text, bindings in CORPUS if not bindings]


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    """The seed build in Oxigraph, as the server holds it."""
    out = tmp_path_factory.mktemp("seed-direct")
    build_mod.build(out)
    dataset = datasets.new_dataset("oxigraph")
    datasets.load_nquads(dataset, out / build_mod.DATASET_FILE)
    return dataset


def _reply(dataset, text: str, format_name: str, direct: bool, monkeypatch) -> dict:
    with monkeypatch.context() as patch:
        if not direct:
            patch.setattr(choice, "oxigraph_alone", lambda *args: None)
        return worker.execute(dataset, worker.Job(text, formats.Choice(format_name, "turtle", "test"), 10000),
                              worker.Config())


def _parsed(reply: dict):
    assert reply["ok"], reply
    data = reply["data"]
    if reply["format"] == "json":
        document = json.loads(data)
        return document.get("head", {}).get("vars"), document.get("boolean"), document.get("results")
    if reply["format"] == "csv":
        return list(csv.reader(io.StringIO(data.decode("utf-8"))))
    graph = Graph()
    graph.parse(data=data, format="turtle")
    return graph


def test_the_corpus_has_plain_queries_taking_the_direct_path(seed):
    taken = [name for name, text in PLAIN if choice.oxigraph_alone(seed, text, {}, None, None)]
    assert len(taken) >= 20, taken  # most of the corpus; FROM and SERVICE ones take the usual path
    assert not choice.oxigraph_alone(seed, "SELECT * FROM <urn:g> WHERE { ?s ?p ?o }", {}, None, None)
    assert not choice.oxigraph_alone(seed, "SELECT * WHERE { \\u003Fs ?p ?o }", {}, None, None)
    assert not choice.oxigraph_alone(seed, "SELECT * WHERE { SERVICE <http://x/> { ?s ?p ?o } }", {}, None, None)


@pytest.mark.parametrize("format_name", ["json", "csv"])
@pytest.mark.parametrize("name,text", PLAIN, ids=[name for name, _ in PLAIN])
def test_direct_answers_are_the_usual_answers(seed, monkeypatch, name, text, format_name):
    usual = _reply(seed, text, format_name, direct=False, monkeypatch=monkeypatch)
    direct = _reply(seed, text, format_name, direct=True, monkeypatch=monkeypatch)
    assert direct["rows"] == usual["rows"] and direct["truncated"] == usual["truncated"]
    got, expected = _parsed(direct), _parsed(usual)
    if isinstance(expected, Graph):
        assert got.isomorphic(expected)
    else:
        assert got == expected


def test_rows_beyond_max_rows_are_cut_and_said_on_the_direct_path(seed):
    text = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
    reply = worker.execute(seed, worker.Job(text, formats.Choice("json", "turtle", "test"), 7), worker.Config())
    document = json.loads(reply["data"])
    assert reply["rows"] == 7 and reply["truncated"] == 7
    assert len(document["results"]["bindings"]) == 7 and document["truncated"]["maxRows"] == 7


def test_errors_on_the_direct_path_are_the_usual_errors(seed, monkeypatch):
    # the last: an aggregate SPARQL forbids (in a FILTER) that Oxigraph would evaluate; rdflib's parse
    # refuses it with its position (query_checks), so it must not skip that parse
    for text in ("SELECT ?x WHERE { ?x ?y }", "SELECT ?x WHERE { ?x nope:p ?y }", "INSERT DATA { <a:b> <a:c> 1 }",
                 "SELECT (AVG(?o) AS ?a) WHERE { ?s ?p ?o FILTER(AVG(?o) > 1) }"):
        usual = _reply(seed, text, "json", direct=False, monkeypatch=monkeypatch)
        direct = _reply(seed, text, "json", direct=True, monkeypatch=monkeypatch)
        assert not usual["ok"] and direct == usual


@pytest.mark.parametrize("text, expected", [
    ("SELECT ?p ?o WHERE { <http://example.org/a> ?p ?o }", True),
    ("select distinct ?o where{<http://example.org/a> a ?o .} LIMIT 10 # note", True),
    ("SELECT ?s WHERE { <http://example.org/a> <http://example.org/p> <http://example.org/b> }", True),
    ("SELECT ?p ?o WHERE { ?s ?p ?o }", False),  # no named subject: a scan of everything
    ("SELECT ?p ?o WHERE { <http://example.org/a> ?p ?o . ?o ?q ?r }", False),  # a join
    ("SELECT ?p ?o FROM <file:///etc/passwd> WHERE { <http://example.org/a> ?p ?o }", False),
    ("SELECT ?p ?o WHERE { SERVICE <http://x/> { <http://example.org/a> ?p ?o } }", False),
    ("SELECT ?p WHERE { ex:a ?p ?o }", False),  # prefixed names: the worker's path
    ("SELECT * WHERE { <http://example.org/a> ?p ?o }", False),
    ("SELECT ?p ?o WHERE { <http://example.org/a> ?p ?o } ORDER BY ?o", False),
    ("SELECT ?p ?o WHERE { <http://example.org/a> ?p ?o } # a comment\r\n", True),
    # SPARQL ends a comment at a carriage return too: what follows it is query, not comment
    ("SELECT ?p ?o WHERE { <http://example.org/a> ?p ?o } #\r ORDER BY ?o", False),
    ("SELECT ?p ?o WHERE { <http://example.org/a> ?p ?o } # x\rLIMIT 1", False),
    # texts SPARQL reads otherwise, or refuses, though a loose pattern took them for look-ups
    ("SELECT ?oWHERE { <http://example.org/a> ?p ?o }", False),  # one variable, ?oWHERE
    ("SELECT ?p ?owhere{ <http://example.org/a> ?p ?o }", False),
    ("SELECT ?p\u017f ?o WHERE { <http://example.org/a> ?p ?o }", False),  # the long s is no ASCII s
    ("SELECT\xa0?p ?o WHERE { <http://example.org/a> ?p ?o }", False),  # not SPARQL white space
    ("SELECT ?p ?o WHERE { <http://example.org/a> ?p ?o }\u2028", False),
    ("SELECT ?p ?o WHERE { <http://example.org/a> ?p ?o } L\u0130MIT 1", False),
    ("SELECT ?t WHERE { <http://example.org/a> A ?t }", False),  # only a lower-case a is rdf:type
])
def test_the_lookup_shape(text, expected):
    assert choice.is_lookup(text) is expected


@pytest.mark.parametrize("text", [
    "SELECT ?p ?o WHERE { <http://example.org/a> ?p ?o } #" + " " * 100_000 + "\nx",
    "SELECT ?p ?o WHERE { <http://example.org/a> ?p ?o" + " " * 100_000 + "x",
    "SELECT " + "?a " * 30_000 + "x",
    "\n" + "        PREFIX p1: <http://example.org/>\n" * 3 + "        SELCT ?s WHERE { ?s ?p ?o }",
    " " * 100_000 + "x",
])
def test_telling_the_path_of_a_near_miss_takes_linear_time(text):
    """The shape tests run in the server process, before any time limit: a long text that is
    almost a look-up (or almost a plain query) is turned down at once; backtracking patterns took
    minutes on such texts (and one blocked the server process while it ran)."""
    started = time.monotonic()
    assert choice.lookup.__wrapped__(text) is None
    choice.plain_form.__wrapped__(text)  # SELECT for most: the form is all it tells
    assert time.monotonic() - started < 5.0


@pytest.mark.parametrize("text, written", [
    ("SELECT ?p ?o WHERE { <http://example.org/a> ?p ?o }", "SELECT ?p ?o WHERE { <http://example.org/a> ?p ?o }"),
    ("  select  distinct ?p\n $o where {\n <http://example.org/a> ?p ?o . } limit 5 # SERVICE <http://x/>\r\n",
     "SELECT DISTINCT ?p $o WHERE { <http://example.org/a> ?p ?o } LIMIT 5"),
    ("SELECT ?t WHERE { <http://example.org/a> a ?t } #", "SELECT ?t WHERE { <http://example.org/a> a ?t }"),
])
def test_the_lane_hands_oxigraph_the_lookup_alone(text, written):
    """The look-up lane evaluates a text written from the look-up's parts: no comment, nothing else
    the client wrote."""
    assert choice.lookup(text).text == written


@pytest.mark.slow
def test_lookups_are_answered_while_every_worker_is_busy():
    """One worker, held by a runaway: look-ups are answered at once, in the server process, with
    the answer a worker gives for the same question."""
    with app_for(generated_dataset(400), query_timeout=3, query_workers=1, slow_query_seconds=0) as app, \
            live_server(app) as url:
        def ask(text):
            return requests.get(f"{url}/sparql", params={"query": text}, timeout=30,
                                headers={"Accept": "application/sparql-results+json"})

        looked_up_text = "SELECT ?p ?o WHERE { <http://example.org/item/7> ?p ?o }"
        by_worker = ask(f"PREFIX ex: <{EX}>\nSELECT ?p ?o WHERE {{ ex:item\\/7 ?p ?o }}")  # not the lane's shape
        with ThreadPoolExecutor(1) as executor:
            runaway = executor.submit(ask, SLOW)
            time.sleep(0.5)
            started = time.monotonic()
            looked_up = [ask(f"{looked_up_text} # {i}") for i in range(5)]
            seconds = time.monotonic() - started
            assert app.extensions["karabakh_kg"].queries.pool.state()["busy"] == 1
            assert runaway.result().status_code == 503
    assert [r.status_code for r in looked_up] == [200] * 5 and seconds < 2.5
    assert by_worker.status_code == 200
    rows = [json.loads(r.content)["results"]["bindings"] for r in looked_up + [by_worker]]
    assert all(r == rows[0] for r in rows) and rows[0][0]["o"]["value"] == "7"
    assert looked_up[0].headers["X-Karabakh-KG-Rows"] == "1"


@pytest.mark.parametrize("text, expected", [
    ("SELECT ?p ?o WHERE { <http://example.org/a> ?p ?o }", True),
    ("SELECT $p ?o WHERE { <http://example.org/a> ?p $o }", True),  # ?v and $v are one variable
    ("SELECT ?o WHERE { <http://example.org/a> <http://example.org/p> ?o } # ?x", True),
    ("SELECT ?x WHERE { <http://example.org/a> ?p ?o }", False),
    ("SELECT ?p ?x WHERE { <http://example.org/a> ?p ?o }", False),
    ("SELECT ?b WHERE { <http://example.org/a?b=1> ?p ?o }", False),  # '?b' inside an IRI is no variable
])
def test_which_lookups_bind_every_variable(text, expected):
    assert choice.is_lookup(text)
    assert choice.lookup(text).full_rows is expected


def test_rows_counted_without_reading_them_are_the_parsed_rows():
    """count_full_rows against the parsed document, over look-ups whose values hold everything a
    count over the text could trip on: quotes, braces, commas, the text of a value object."""
    import pyoxigraph as ox

    from karabakh_kg.graph.sparql import direct_query

    dataset = datasets.new_dataset("oxigraph")
    store = dataset.store._inner
    a, p = ox.NamedNode("http://example.org/a"), ox.NamedNode("http://example.org/p")
    nasty = ['{"type":"uri","value":"x"}', '"},{"', "}},{", "\\", '\\"', "]}", '{"head":{"vars":["x"]}}', "",
             "Qarabağ – Şuşa", "line\nbreak"]
    for index, text in enumerate(nasty):
        store.add(ox.Quad(a, p, ox.Literal(text), ox.NamedNode(f"http://example.org/g{index % 3}")))
        store.add(ox.Quad(a, ox.NamedNode(f"http://example.org/q{index}"), ox.Literal(text, language="en"),
                          ox.DefaultGraph()))
    store.add(ox.Quad(a, p, ox.BlankNode("b1"), ox.DefaultGraph()))
    store.add(ox.Quad(a, p, ox.Literal("7", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
                      ox.DefaultGraph()))
    texts = ["SELECT ?p ?o WHERE { <http://example.org/a> ?p ?o }",
             "SELECT ?o WHERE { <http://example.org/a> <http://example.org/p> ?o }",
             "SELECT ?o ?p WHERE { <http://example.org/a> ?p ?o } LIMIT 3",
             "SELECT ?p ?o WHERE { <http://example.org/none> ?p ?o }"]
    for text in texts:
        data = store.query(text, use_default_graph_as_union=True).serialize(format=ox.QueryResultsFormat.JSON)
        assert direct_query.count_full_rows(data) == len(json.loads(data)["results"]["bindings"]), text
        written = direct_query.select_json(dataset, text, 10_000, prefixes=False, full_rows=True)
        assert written == direct_query.select_json(dataset, text, 10_000), text
    assert direct_query.count_full_rows(b'{"head":{"vars":[]},"results":{"bindings":[{}]}}') is None
    cut = direct_query.select_json(dataset, texts[0], 5, prefixes=False, full_rows=True)
    assert cut[1:] == (5, 5) and len(json.loads(cut[0])["results"]["bindings"]) == 5
