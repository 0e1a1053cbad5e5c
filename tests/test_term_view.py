"""Terms as people read them (server/term_view.py): figures as reported, numbers, dates, language
tags only where values come in several languages, and links to where the canonical base is served."""

from __future__ import annotations

import pytest
from karabakh_kg.server.web.pages import term_view
from karabakh_kg.server.web.pages.term_view import Terms, figure_text
from rdflib import Literal, URIRef
from rdflib.namespace import XSD

B = "https://w3id.org/karabakh-kg/"


@pytest.mark.parametrize("kwargs, expected", [
    ({"value": Literal(2906)}, "2,906"),
    ({"value": Literal(11000), "approximation": URIRef(term_view.APPROXIMATELY)}, "~11,000"),
    ({"minimum": Literal(60), "approximation": URIRef(term_view.AT_LEAST)}, "60+"),
    ({"minimum": Literal(100), "maximum": Literal(200)}, "100–200"),
    ({"value": Literal(72), "unit": URIRef(term_view.PERCENT)}, "72%"),
    ({"value": Literal("72.5", datatype=XSD.decimal)}, "72.5"),
    ({}, ""),
])
def test_figures_as_reported(kwargs, expected):
    assert figure_text(**kwargs) == expected


def test_literals_readable():
    assert term_view.literal_shown(Literal(1234567)).text == "1,234,567"
    assert term_view.literal_shown(Literal("2020-09-27", datatype=XSD.date)).text == "27 September 2020"
    assert term_view.literal_shown(Literal("2025-06", datatype=XSD.gYearMonth)).text == "June 2025"  # a reporting month
    assert term_view.literal_shown(Literal("1993", datatype=XSD.gYear)).text == "1993"
    assert term_view.literal_shown(Literal("killed", lang="en")).lang is None
    assert term_view.literal_shown(Literal("killed", lang="en"), several_languages=True).lang == "en"


def test_language_tags_only_where_values_have_several_languages():
    terms = Terms({})
    one = terms.show_all([Literal("Shusha", lang="en"), Literal("Shushi")])
    assert [s.lang for s in one] == [None, None]
    several = terms.show_all([Literal("Shusha", lang="en"), Literal("Şuşa", lang="az")])
    assert sorted(s.lang for s in several) == ["az", "en"]


def test_links_follow_site_base_and_labels_prefer_english():
    iri = URIRef(B + "id/actor/azerbaijan")
    labels = {str(iri): [Literal("Azərbaycan", lang="az"), Literal("Azerbaijan", lang="en")]}
    local = Terms(labels).show(iri)
    assert (local.text, local.href, local.title) == ("Azerbaijan", "/id/actor/azerbaijan", str(iri))
    assert Terms(labels, site_base=B).show(iri).href == str(iri)
    assert Terms({}, root="/kkg/").href(URIRef(B + "ontology#Claim")) == "/kkg/ontology#Claim"
    other = Terms({}).show(URIRef("http://www.wikidata.org/entity/Q43"))
    assert (other.text, other.href) == ("wd:Q43", "http://www.wikidata.org/entity/Q43")
