"""Every identifier a page, over real HTTP (waitress on a loopback port, requests as the client):
303 negotiation and the document twins, the bounded descriptions parsed and compared as graphs with
the statements the build holds, 404s and 406s in the one error shape, the ontology, label search,
the home page, readable stored-query results, and the ``site_base`` setting."""

from __future__ import annotations

import html.parser
import re
from html import unescape

import pytest
import requests
from karabakh_kg.graph.core.iris import BASE, KKG, named_graph
from karabakh_kg.graph.pipeline import build as build_mod
from karabakh_kg.graph.sparql import stored_queries
from karabakh_kg.graph.wikidata import export as wikidata_export
from karabakh_kg.graph.wikidata import statements as wikidata_statements
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDFS
from server_helpers import app_for, live_server

WAR = URIRef(BASE + "id/event/second-nagorno-karabakh-war")
TURKEY = URIRef(BASE + "id/actor/turkey")
KILLED_PER_AZ = URIRef(BASE + "id/claim/azerbaijan-servicemen-killed-per-azerbaijan")
KILLED_PER_AM = URIRef(BASE + "id/claim/armenia-artsakh-servicemen-killed-per-armenia-artsakh")
KILLED = URIRef(BASE + "id/concept/casualty-killed")
ARTICLE = URIRef(BASE + "id/source/wikipedia-second-nagorno-karabakh-war")

RDF_TWINS = {"ttl": ("text/turtle", "turtle"), "nt": ("application/n-triples", "nt"),
             "jsonld": ("application/ld+json", "json-ld"), "rdf": ("application/rdf+xml", "xml")}


@pytest.fixture(scope="module")
def seed_url(built):
    with app_for(built, stored=stored_queries.load_all()) as app:
        with live_server(app) as url:
            yield url.rsplit("/sparql", 1)[0] if url.endswith("/sparql") else url.rstrip("/")


def get(url: str, path: str, accept: str | None = None, headers: dict | None = None, **kwargs) -> requests.Response:
    headers = {**({"Accept": accept} if accept else {}), **(headers or {})}
    return requests.get(url + path, headers=headers, timeout=30, allow_redirects=False, **kwargs)


def asserted(built) -> Graph:
    """Every statement of the build but the inferred ones."""
    graph = Graph()
    for name in ("ontology", "facts", "links"):
        for triple in built.dataset.graph(named_graph(name)):
            graph.add(triple)
    return graph


def expected_description(built, node: URIRef) -> Graph:
    """The bounded description worked out here, in Python: the node's asserted statements, those
    pointing to it, the labels of every IRI they name."""
    every = asserted(built)
    out = Graph()
    for triple in list(every.triples((node, None, None))) + list(every.triples((None, None, node))):
        out.add(triple)
    named = {term for triple in out for term in triple if isinstance(term, URIRef)}
    for term in named:
        for label in every.objects(term, RDFS.label):
            out.add((term, RDFS.label, label))
    return out


# -- identifiers: 303 to the negotiated document -----------------------------------------------------

@pytest.mark.parametrize("accept, extension", [
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "html"),  # what browsers send
    ("text/turtle", "ttl"), ("application/ld+json", "jsonld"), ("application/n-triples", "nt"),
    ("application/rdf+xml", "rdf"), ("text/turtle;q=0.5, application/ld+json", "jsonld"), ("*/*", "html")])
def test_identifier_answers_303_to_the_negotiated_document(seed_url, accept, extension):
    response = get(seed_url, "/id/actor/turkey", accept)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/id/actor/turkey.{extension}")
    assert "accept" in response.headers["Vary"].lower()
    document = requests.get(seed_url + "/id/actor/turkey", headers={"Accept": accept}, timeout=30)
    assert document.status_code == 200
    if extension == "html":
        assert document.headers["Content-Type"].startswith("text/html")
    else:
        assert document.headers["Content-Type"].split(";")[0] == RDF_TWINS[extension][0]


@pytest.mark.parametrize("node", [TURKEY, WAR, KILLED_PER_AZ, KILLED, ARTICLE], ids=lambda n: n.rsplit("/", 1)[-1])
@pytest.mark.parametrize("extension", sorted(RDF_TWINS))
def test_description_twins_are_the_bounded_description(seed_url, built, node, extension):
    path = str(node)[len(BASE) - 1:]
    response = get(seed_url, f"{path}.{extension}")
    assert response.status_code == 200
    media_type, parser = RDF_TWINS[extension]
    assert response.headers["Content-Type"].split(";")[0] == media_type
    assert "ETag" in response.headers
    got = Graph().parse(data=response.content, format=parser)
    assert isomorphic(got, expected_description(built, node))
    again = get(seed_url, f"{path}.{extension}", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_description_keeps_contested_claims_apart(seed_url):
    got = Graph().parse(data=get(seed_url, "/id/actor/turkey.ttl").content, format="turtle")
    assert (WAR, KKG.involves, TURKEY) not in got  # Turkey is a belligerent only as alleged by Armenia
    assert (URIRef(BASE + "id/claim/turkey-belligerent-alleged-by-armenia"), KKG.participant, TURKEY) in got


def test_format_parameter_and_document_twins(seed_url):
    response = get(seed_url, "/id/actor/turkey?format=ntriples")
    assert response.status_code == 303 and response.headers["Location"].endswith("/id/actor/turkey.nt")


@pytest.mark.parametrize("path", ["/id/actor/nobody", "/id/actor/nobody.ttl", "/id/actor/nobody.html",
                                  "/id/widget/turkey", "/id/actor/Not_A_Slug", "/id/claim/turkey.ttl"])
def test_unknown_identifiers_are_404_in_the_error_shape(seed_url, path):
    response = get(seed_url, path, "application/json")
    assert response.status_code == 404
    problem = response.json()
    assert problem["status"] == 404 and problem["error"] == "not-found" and problem["message"]
    text = get(seed_url, path, "text/plain")
    assert text.status_code == 404 and text.text.startswith("error: ") and len(text.text.splitlines()) == 1


def test_unacceptable_format_is_406(seed_url):
    for path, accept in (("/id/actor/turkey", "text/csv"), ("/id/actor/turkey.csv", None)):
        response = get(seed_url, path, accept)
        assert response.status_code == 406, path
        assert response.text.startswith("error: ")


# -- the ontology ----------------------------------------------------------------------------------

def test_ontology_is_served_with_an_anchor_per_term(seed_url, built):
    ontology = built.dataset.graph(named_graph("ontology"))
    turtle = get(seed_url, "/ontology", "text/turtle")
    assert turtle.status_code == 200 and turtle.headers["Content-Type"].startswith("text/turtle")
    assert isomorphic(Graph().parse(data=turtle.content, format="turtle"), ontology)
    assert isomorphic(Graph().parse(data=get(seed_url, "/ontology.nt").content, format="nt"), ontology)
    page = get(seed_url, "/ontology", "text/html")
    assert page.status_code == 200
    anchors = set(re.findall(r'id="([^"]+)"', page.text))
    terms = {str(s)[len(str(KKG)):] for s in ontology.subjects(RDFS.label, None) if str(s).startswith(str(KKG))}
    assert terms and terms <= anchors


# -- pages -----------------------------------------------------------------------------------------

class _Text(html.parser.HTMLParser):
    """The visible text of a page's table rows, and every link (text, href)."""

    def __init__(self):
        super().__init__()
        self.rows, self.links, self.scripts = [], [], 0
        self._row, self._href, self._link_text = None, None, []

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self._row = []
        if tag == "a":
            self._href, self._link_text = dict(attrs).get("href"), []
        if tag == "script":
            self.scripts += 1

    def handle_endtag(self, tag):
        if tag == "tr" and self._row is not None:
            self.rows.append(" | ".join(c for c in (" ".join(x.split()) for x in self._row) if c))
            self._row = None
        if tag == "a" and self._href is not None:
            self.links.append(("".join(self._link_text).strip(), self._href))
            self._href = None

    def handle_data(self, data):
        if self._row is not None:
            self._row.append(data)
        if self._href is not None:
            self._link_text.append(data)


def parsed_page(url: str, path: str) -> _Text:
    response = requests.get(url + path, headers={"Accept": "text/html"}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/html")
    page = _Text()
    page.feed(response.text)
    return page


def figure_group(text: str, title: str) -> dict:
    """One figure group of an event page: its rival table and its histories (summary, table), each
    parsed as :class:`_Text`."""
    start = text.index(f"<h3>{title}</h3>")
    ends = [i for i in (text.find('<div class="figure-group">', start), text.find("</section>", start)) if i != -1]
    chunk = text[start:min(ends)]
    rival = _Text()
    rival.feed(chunk[:chunk.index("</table>") + len("</table>")])
    histories = []
    for details in re.findall(r"<details.*?</details>", chunk, re.S):
        parsed = _Text()
        parsed.feed(details)
        summary = unescape(re.sub(r"\s+", " ", re.search(r"<summary>(.*?)</summary>", details, re.S).group(1)))
        histories.append((summary, parsed))
    return {"rival": rival, "histories": histories}


def claim_links(page: _Text) -> list[str]:
    """The claims a table's rows link to, in row order (each row's figure links to its claim)."""
    return [href for _, href in page.links if href.startswith("/id/claim/")]


def body_rows(page: _Text) -> list[str]:
    """A table's rows without its header row."""
    return page.rows[1:]


def test_war_page_puts_rival_figures_side_by_side(seed_url):
    page = parsed_page(seed_url, "/id/event/second-nagorno-karabakh-war")
    assert page.scripts == 0  # works with JavaScript off: there is none
    text = requests.get(seed_url + "/id/event/second-nagorno-karabakh-war.html", timeout=30).text
    rival = body_rows(figure_group(text, "killed (servicemen)")["rival"])
    armenia = rival.index(next(r for r in rival if r.startswith("3,825 | Armenia/Artsakh")))
    assert rival[armenia + 1].startswith("2,906 | Azerbaijan")  # the rival figure, in the next row
    assert len({r.split(" | ")[1] for r in rival}) == len(rival)  # one row per claimant
    rows = page.rows
    assert any(r.startswith("~11,000 | Armenia/Artsakh") for r in rows)
    assert any(r.startswith("60+ | Armenia/Artsakh") for r in rows)
    assert any(r.startswith("Turkey | belligerent | alleged by Armenia") for r in rows)
    assert ("2,906", "/id/claim/azerbaijan-servicemen-killed-per-azerbaijan") in page.links  # in its history
    assert ("Azerbaijan", "/id/actor/azerbaijan") in page.links
    assert ("Azerbaijan's widespread use of drones was seen as crucial in determining the outcome",
            "/id/claim/azerbaijan-drone-use-seen-as-crucial") in page.links  # a claim that is no figure
    chart = next(svg for svg in re.findall(r"<svg.*?</svg>", text, re.S) if "2,906" in svg)
    assert 'role="img"' in chart and "<title" in chart and "2,906" in chart and "3,825" in chart
    bars = re.findall(r'<text[^>]*class="chart-figure"[^>]*>([^<]*)</text>', chart)
    assert bars == [r.split(" | ")[0] for r in rival]  # the chart shows the rival figures, nothing else


def _group_claims(graph: Graph, claim: URIRef) -> list[URIRef]:
    """The claims counting the same thing as ``claim``: same event, category, group and people."""
    def key(c):
        return (graph.value(c, KKG.about), graph.value(c, KKG.category), graph.value(c, KKG.personGroup),
                frozenset(graph.objects(c, KKG.appliesTo)))
    return [c for c in graph.subjects(KKG.category, None) if key(c) == key(claim)]


def _war_groups(seed_url) -> list[dict]:
    text = requests.get(seed_url + "/id/event/second-nagorno-karabakh-war.html", timeout=30).text
    start = text.index("<h2>Figures, side by side</h2>")
    section = text[start:text.index("</section>", start) + len("</section>")]
    return [figure_group(section, title) for title in re.findall(r"<h3>([^<]*)</h3>", section)]


def test_rival_row_per_claimant_is_its_latest_figure(seed_url, built):
    graph = build_mod.union_graph(built.dataset)
    shown, groups = set(), _war_groups(seed_url)
    assert groups
    for group in groups:
        for href in claim_links(group["rival"]):
            claim = URIRef(BASE + href.lstrip("/"))
            as_of = graph.value(claim, KKG.asOf)
            same = [c for c in _group_claims(graph, claim)
                    if graph.value(c, KKG.claimant) == graph.value(claim, KKG.claimant)]
            dates = [str(graph.value(c, KKG.asOf)) for c in same if graph.value(c, KKG.asOf) is not None]
            if as_of is None:
                assert not dates, f"{claim} is undated although its claimant has a dated figure"
            else:
                assert str(as_of) == max(dates), f"{claim} is not its claimant's latest figure"
        shown.update(claim_links(group["rival"]))
        for _, history in group["histories"]:
            shown.update(claim_links(history))
    figures = {s for s in graph.subjects(KKG.about, WAR) if graph.value(s, KKG.category) is not None}
    assert {BASE + h.lstrip("/") for h in shown if "/claim/" in h} >= {str(f) for f in figures}  # none lost


@pytest.mark.parametrize("actor, series", [
    ("armenia", [1166, 2317, 2425, 3621, 3773, 3825]),  # issue 15: the Armenian toll as it moved
    ("azerbaijan", [2783, 2855, 2881, 2900, 2906])])
def test_history_lists_each_figure_oldest_first(seed_url, actor, series):
    params = {"claimant": f"actor:{actor}", "party": f"actor:{actor}", "event": "event:second-nagorno-karabakh-war",
              "category": "concept:casualty-killed"}
    answer = requests.get(seed_url + "/queries/figure-history.json", params=params, timeout=30).json()
    expected = [(int(b["value"]["value"]), b.get("asOf", {}).get("value")) for b in answer["results"]["bindings"]]
    text = requests.get(seed_url + "/id/event/second-nagorno-karabakh-war.html", timeout=30).text
    histories = figure_group(text, "killed (servicemen)")["histories"]
    label = actor.capitalize()
    history = next(table for _, table in histories if any(r.split(" | ")[2] == label for r in body_rows(table)))
    got = [int(r.split(" | ")[1].split()[0].replace(",", "")) for r in body_rows(history)]
    assert got == [value for value, _ in expected]  # the stored query's order: oldest first, undated last
    assert [value for value, as_of in expected if as_of] == series
    undated = [r for r in body_rows(history) if r.startswith("undated")]
    assert body_rows(history)[len(body_rows(history)) - len(undated):] == undated  # undated ones last


def test_claim_page_says_what_its_figure_was_revised_to(seed_url):
    text = requests.get(seed_url + "/id/event/second-nagorno-karabakh-war.html", timeout=30).text
    for _, history in figure_group(text, "killed (servicemen)")["histories"]:
        rows, claims = body_rows(history), claim_links(history)
        latest = claims[next(i for i, r in enumerate(rows) if "(latest)" in r)]
        for row, claim in zip(rows, claims):
            page = requests.get(seed_url + claim + ".html", timeout=30).text
            revised = re.search(r'<p class="revision">(.*?)</p>', page, re.S)
            if claim == latest:
                assert revised is None, claim
            else:
                assert revised and f'href="{latest}"' in revised.group(1), claim
                assert ("Later revised to" in revised.group(1)) == (not row.startswith("undated")), claim


def test_claim_page_shows_provenance_source_text_and_wikidata_statement(seed_url, built):
    page = parsed_page(seed_url, "/id/claim/azerbaijan-servicemen-killed-per-azerbaijan")
    text = requests.get(seed_url + "/id/claim/azerbaijan-servicemen-killed-per-azerbaijan.html", timeout=30).text
    assert "2,906 servicemen killed" in text  # the verbatim source text
    assert any(r.startswith("claimant | Azerbaijan") for r in page.rows)
    assert any(r.startswith("attribution | Per Azerbaijan:") for r in page.rows)
    assert ("Second Nagorno-Karabakh War (English Wikipedia article)",
            "/id/source/wikipedia-second-nagorno-karabakh-war") in page.links
    union = build_mod.union_graph(built.dataset)
    found, _ = wikidata_statements.statements(union)
    lines, _ = wikidata_export.quickstatements_lines([s for s in found if s.origin == KILLED_PER_AZ])
    assert lines, "the seed exports this figure to Wikidata"
    for line in lines:
        assert line.replace('"', "&#34;") in text or line.replace('"', "&quot;") in text


def test_actor_page(seed_url):
    page = parsed_page(seed_url, "/id/actor/armenia-artsakh")
    assert any(label.startswith("Armenian and Artsakh servicemen killed") for label, _ in page.links)
    turkey = parsed_page(seed_url, "/id/actor/turkey")
    assert ("wd:Q43", "http://www.wikidata.org/entity/Q43") in turkey.links
    assert ("Second Nagorno-Karabakh War", "/id/event/second-nagorno-karabakh-war") in turkey.links


@pytest.mark.parametrize("path", ["/id/place/shusha", "/id/concept/casualty-killed",
                                  "/id/source/wikipedia-second-nagorno-karabakh-war"])
def test_other_pages_link_their_statements(seed_url, path):
    page = parsed_page(seed_url, path)
    assert any(href.startswith("/id/") for _, href in page.links)
    assert any(href.endswith(".ttl") for _, href in page.links)
    sparql = [href for text, href in page.links if text == "this page's query"]
    assert sparql and sparql[0].startswith("/query?query=")


def test_open_in_sparql_gives_the_page_query(seed_url):
    page = parsed_page(seed_url, "/id/actor/turkey")
    link = next(href for text, href in page.links if text == "the description's query")
    editor = requests.get(seed_url + link, timeout=30).text
    query = unescape(re.search(r'<textarea[^>]*>(.*?)</textarea>', editor, re.S).group(1))
    answer = requests.post(seed_url + "/sparql", data={"query": query}, headers={"Accept": "application/n-triples"},
                           timeout=30)
    described = Graph().parse(data=get(seed_url, "/id/actor/turkey.nt").content, format="nt")
    assert isomorphic(Graph().parse(data=answer.content, format="nt"), described)


def test_home_page(seed_url):
    page = parsed_page(seed_url, "/")
    assert any(r.startswith("3,825 | Armenia/Artsakh") for r in page.rows)
    assert any(r.startswith("2,906 | Azerbaijan") for r in page.rows)
    hrefs = {href for _, href in page.links}
    assert {"/id/event/second-nagorno-karabakh-war", "/id/actor/sohr", "/query", "/queries"} <= hrefs
    assert any(h.startswith("/queries/") for h in hrefs)


def test_stored_query_page_shows_labels_and_links(seed_url):
    page = parsed_page(seed_url, "/queries/entity?entity=actor:turkey")
    assert ("Turkey: belligerent, alleged by Armenia", "/id/claim/turkey-belligerent-alleged-by-armenia") in page.links
    assert ("participant", "/ontology#participant") in page.links
    assert any(r == "out | rdfs:label | Turkey" for r in page.rows)  # no "@en" noise
    assert not any("@en" in r for r in page.rows)


# -- search ----------------------------------------------------------------------------------------

def test_search_finds_labels_typed(seed_url):
    response = get(seed_url, "/search?q=Shusha", "application/json")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
    results = response.json()["results"]
    iris = [r["iri"] for r in results]
    assert iris[0] == BASE + "id/place/shusha"  # the exact label first
    assert BASE + "id/event/capture-of-shusha" in iris
    shusha = results[0]
    assert shusha["kind"] == "place" and shusha["page"] == "/id/place/shusha"
    assert [t["label"] for t in shusha["types"]] == ["place"]
    assert get(seed_url, "/search.json?q=shusha").json() == response.json() | {"q": "shusha"}
    artsakh = get(seed_url, "/search.json?q=artsakh").json()["results"]
    assert BASE + "id/actor/artsakh" in [r["iri"] for r in artsakh]  # by its alternative label


@pytest.mark.parametrize("text", ['"} } SELECT * WHERE { ?s ?p ?o', "\\", "ünïcödé ' \" <>", "   "])
def test_search_text_is_data_never_query(seed_url, text):
    response = get(seed_url, "/search.json", params={"q": text})
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_search_page_and_limits(seed_url):
    page = parsed_page(seed_url, "/search?q=shusha")
    assert ("Shusha", "/id/place/shusha") in page.links
    too_long = get(seed_url, "/search", "application/json", params={"q": "x" * 201})
    assert too_long.status_code == 400 and too_long.json()["error"] == "bad-parameter"


# -- where the canonical base is served -------------------------------------------------------------

def test_site_base_setting_changes_links_not_data(built):
    with app_for(built, stored={}, site_base="https://w3id.org/karabakh-kg/") as app:
        with live_server(app) as url:
            root = url.rsplit("/sparql", 1)[0] if url.endswith("/sparql") else url.rstrip("/")
            page = parsed_page(root, "/id/event/second-nagorno-karabakh-war")
            assert ("Azerbaijan", "https://w3id.org/karabakh-kg/id/actor/azerbaijan") in page.links
            assert get(root, "/search.json?q=shusha").json()["results"][0]["page"] == \
                "https://w3id.org/karabakh-kg/id/place/shusha"
            described = Graph().parse(data=get(root, "/id/actor/turkey.ttl").content, format="turtle")
            assert isomorphic(described, expected_description(built, TURKEY))


def test_pages_say_when_the_row_cap_cut_them(built):
    with app_for(built, stored={}, max_rows=40) as app:
        with live_server(app) as url:
            root = url.rsplit("/sparql", 1)[0] if url.endswith("/sparql") else url.rstrip("/")
            war = requests.get(root + "/id/event/second-nagorno-karabakh-war.html", timeout=30)
            assert war.status_code == 200 and "only the first statements found are shown" in war.text
            turtle = get(root, "/id/event/second-nagorno-karabakh-war.ttl")
            assert turtle.headers["X-Karabakh-KG-Truncated"] == "40"
            assert len(Graph().parse(data=turtle.content, format="turtle")) == 40
