"""A corpus of varied SPARQL queries for comparing engines (tests/test_engines.py, bench/bench_build.py).

Each entry is (name, query text, pre-bound variables). The queries use the shipped prefixes
(``kkg:``, ``concept:``, ``event:``...) without declaring them, as users of the endpoint may, and run
on the seed graph and on generated graphs alike. Between them they cover joins, OPTIONAL, FILTER
(numeric, string, language, EXISTS/NOT EXISTS, IN), aggregates with GROUP BY and HAVING, property
paths (sequence, alternative, inverse, ``*`` and ``+``), UNION, MINUS, VALUES, BIND, subqueries,
GRAPH and FROM / FROM NAMED, ORDER BY with LIMIT/OFFSET, ASK, CONSTRUCT and DESCRIBE.
"""

from rdflib import Literal, URIRef

WAR = URIRef("https://w3id.org/karabakh-kg/id/event/second-nagorno-karabakh-war")

CORPUS = [
    ("lookup-label", """
SELECT ?label WHERE { event:second-nagorno-karabakh-war rdfs:label ?label }""", {}),
    ("lookup-bound-subject", """
SELECT ?p ?o WHERE { ?s ?p ?o } ORDER BY ?p ?o""", {"s": WAR}),
    ("join-claims-claimants", """
SELECT ?claim ?claimant ?label WHERE {
  ?claim a kkg:CasualtyClaim ; kkg:claimant ?claimant .
  ?claimant rdfs:label ?label .
} ORDER BY ?claim""", {}),
    ("optional-figures", """
SELECT ?claim ?value ?min WHERE {
  ?claim a kkg:QuantityClaim .
  OPTIONAL { ?claim kkg:value ?value }
  OPTIONAL { ?claim kkg:minValue ?min }
} ORDER BY ?claim""", {}),
    ("filter-numeric", """
SELECT ?claim ?value WHERE { ?claim kkg:value ?value FILTER (?value > 100 && ?value <= 5000) }
ORDER BY DESC(?value) ?claim""", {}),
    ("filter-string-functions", """
SELECT ?claim (STRLEN(?v) AS ?len) (UCASE(SUBSTR(?v, 1, 3)) AS ?head) WHERE {
  ?claim a kkg:Claim ; kkg:verbatim ?v .
  FILTER (CONTAINS(?v, "killed") || STRSTARTS(?v, "~") || REGEX(?v, "^[0-9]+\\\\+", "i"))
} ORDER BY ?claim""", {}),
    ("filter-lang-and-datatype", """
SELECT ?s ?label (LANG(?label) AS ?lang) (DATATYPE(?n) AS ?dt) WHERE {
  ?s rdfs:label ?label ; kkg:durationDays ?n . FILTER (LANGMATCHES(LANG(?label), "en"))
} ORDER BY ?s""", {}),
    ("filter-in-and-not-exists", """
SELECT ?claim WHERE {
  ?claim kkg:approximation ?a .
  FILTER (?a IN (concept:approximation-approximately, concept:approximation-at-least))
  FILTER NOT EXISTS { ?claim kkg:value ?v }
} ORDER BY ?claim""", {}),
    ("filter-exists", """
SELECT ?event WHERE { ?event a kkg:Event FILTER EXISTS { ?event kkg:involves ?actor } } ORDER BY ?event""", {}),
    ("aggregate-count-group", """
SELECT ?class (COUNT(?s) AS ?n) WHERE { ?s a ?class } GROUP BY ?class ORDER BY DESC(?n) ?class""", {}),
    ("aggregate-sum-min-max-having", """
SELECT ?claimant (COUNT(*) AS ?claims) (SUM(?v) AS ?total) (MIN(?v) AS ?least) (MAX(?v) AS ?most) WHERE {
  ?claim kkg:claimant ?claimant ; kkg:value ?v .
} GROUP BY ?claimant HAVING (COUNT(*) > 1) ORDER BY ?claimant""", {}),
    ("aggregate-avg", """
SELECT ?category (AVG(?v) AS ?mean) (COUNT(DISTINCT ?claim) AS ?n) WHERE {
  ?claim kkg:category ?category ; kkg:value ?v .
} GROUP BY ?category ORDER BY ?category""", {}),
    ("aggregate-count-distinct-total", """
SELECT (COUNT(DISTINCT ?claimant) AS ?claimants) (COUNT(*) AS ?rows) WHERE { ?c kkg:claimant ?claimant }""", {}),
    ("path-sequence", """
SELECT ?claim ?name WHERE { ?claim kkg:claimant/rdfs:label ?name } ORDER BY ?claim""", {}),
    ("path-alternative-inverse", """
SELECT DISTINCT ?event ?place WHERE { ?place ^kkg:location|^(kkg:location/kkg:locatedIn) ?event } ORDER BY ?event ?place""", {}),
    ("path-transitive-partof", """
SELECT ?event ?whole WHERE { ?event kkg:partOf+ ?whole } ORDER BY ?event ?whole""", {}),
    ("path-subclass-star", """
SELECT DISTINCT ?class ?super WHERE { ?class rdfs:subClassOf* kkg:Event . ?class rdfs:subClassOf* ?super .
  FILTER (STRSTARTS(STR(?super), STR(kkg:))) } ORDER BY ?class ?super""", {}),
    ("union", """
SELECT ?x ?kind WHERE {
  { ?x a kkg:War BIND ("war" AS ?kind) } UNION { ?x a kkg:Conflict BIND ("conflict" AS ?kind) }
} ORDER BY ?kind ?x""", {}),
    ("minus", """
SELECT ?actor WHERE { ?actor a kkg:Actor MINUS { ?claim kkg:participant ?actor } } ORDER BY ?actor""", {}),
    ("values-and-bind", """
SELECT ?approx ?label ?short WHERE {
  VALUES ?approx { concept:approximation-exact concept:approximation-approximately concept:approximation-at-least }
  ?approx skos:prefLabel ?label .
  BIND (IF(?approx = concept:approximation-exact, "=", COALESCE(?missing, "~")) AS ?short)
} ORDER BY ?approx""", {}),
    ("subquery-top-claimants", """
SELECT ?claimant ?n WHERE {
  { SELECT ?claimant (COUNT(?claim) AS ?n) WHERE { ?claim kkg:claimant ?claimant } GROUP BY ?claimant }
  FILTER (?n >= 2)
} ORDER BY DESC(?n) ?claimant LIMIT 5""", {}),
    ("order-limit-offset", """
SELECT ?claim ?v WHERE { ?claim kkg:value ?v } ORDER BY ?v ?claim LIMIT 10 OFFSET 3""", {}),
    ("distinct-predicates", """
SELECT DISTINCT ?p WHERE { ?s a kkg:Claim ; ?p ?o } ORDER BY ?p""", {}),
    ("graph-named", """
SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g""", {}),
    ("graph-inferred-types", """
SELECT ?s WHERE { GRAPH <https://w3id.org/karabakh-kg/graph/inferred> { ?s a prov:Entity } } ORDER BY ?s""", {}),
    ("from-facts-only", """
SELECT (COUNT(*) AS ?n) FROM <https://w3id.org/karabakh-kg/graph/facts> WHERE { ?s ?p ?o }""", {}),
    ("from-named", """
SELECT ?g ?s FROM NAMED <https://w3id.org/karabakh-kg/graph/ontology> WHERE {
  GRAPH ?g { ?s a owl:Class } } ORDER BY ?s""", {}),
    ("dates-and-years", """
SELECT ?event (YEAR(?start) AS ?year) ?start WHERE { ?event kkg:startDate ?start
  FILTER (DATATYPE(?start) = xsd:date) } ORDER BY ?start ?event""", {}),
    ("bound-parameter", """
SELECT ?claim ?v WHERE { ?claim kkg:claimant ?who ; kkg:value ?v } ORDER BY ?claim""",
     {"who": URIRef("https://w3id.org/karabakh-kg/id/actor/azerbaijan")}),
    ("bound-projected-parameter", """
SELECT ?who ?claim ?v WHERE { ?claim kkg:claimant ?who ; kkg:value ?v } ORDER BY ?claim""",
     {"who": URIRef("https://w3id.org/karabakh-kg/id/actor/azerbaijan")}),
    ("bound-literal-parameter", """
SELECT ?claim WHERE { ?claim kkg:value ?v } ORDER BY ?claim""", {"v": Literal(6)}),
    # pre-bound variables that are not projected: run natively as a VALUES block (graph/sparql/query.py)
    ("bound-in-union-and-graph", """
SELECT ?dir ?p ?o WHERE {
  { GRAPH ?g { ?who ?p ?o } BIND ("out" AS ?dir) } UNION { GRAPH ?g { ?o ?p ?who } BIND ("in" AS ?dir) }
  FILTER (?g != <https://w3id.org/karabakh-kg/graph/inferred>)
} ORDER BY ?dir ?p ?o""", {"who": URIRef("https://w3id.org/karabakh-kg/id/actor/azerbaijan")}),
    ("bound-in-optional-filter-and-bind", """
SELECT ?claim ?v ?same ?who2 WHERE {
  ?claim kkg:claimant ?c .
  OPTIONAL { ?claim kkg:value ?v FILTER (?c = ?who) }
  BIND (?c = ?who AS ?same)
  OPTIONAL { ?claim kkg:appliesTo ?who2 FILTER (?who2 = ?who) }
  FILTER NOT EXISTS { ?claim kkg:minValue ?who }
} ORDER BY ?claim ?v ?who2""", {"who": URIRef("https://w3id.org/karabakh-kg/id/actor/azerbaijan")}),
    ("bound-in-nested-optional", """
SELECT ?claim ?v WHERE {
  ?claim a kkg:CasualtyClaim .
  { ?claim kkg:category ?cat OPTIONAL { ?claim kkg:value ?v FILTER (?v = ?n) } }
} ORDER BY ?claim""", {"n": Literal(6)}),
    ("bound-in-subquery", """
SELECT ?claim WHERE {
  { SELECT ?claim WHERE { ?claim kkg:claimant ?who } }
} ORDER BY ?claim""", {"who": URIRef("https://w3id.org/karabakh-kg/id/actor/sohr")}),
    ("bound-projected-and-not", """
SELECT ?tag ?p ?o WHERE { ?s ?p ?o } ORDER BY ?p ?o""", {"s": WAR, "tag": Literal("a tag", lang="en")}),
    ("bound-ask", """ASK { ?claim kkg:claimant ?who ; kkg:value 541 }""",
     {"who": URIRef("https://w3id.org/karabakh-kg/id/actor/sohr")}),
    ("bound-string-literal", """
SELECT ?claim WHERE { ?claim kkg:verbatim ?text } ORDER BY ?claim""",
     {"text": Literal("541 Syrian mercenaries killed")}),
    ("ask-true", """ASK { ?s a kkg:War }""", {}),
    ("ask-false", """ASK { ?s kkg:winner <https://w3id.org/karabakh-kg/id/actor/nobody> }""", {}),
    ("construct-claim-summary", """
CONSTRUCT { ?claim rdfs:label ?label ; kkg:value ?v } WHERE { ?claim a kkg:CasualtyClaim ; rdfs:label ?label .
  OPTIONAL { ?claim kkg:value ?v } }""", {}),
    ("describe-war", """DESCRIBE event:second-nagorno-karabakh-war""", {}),
    ("describe-where", """DESCRIBE ?war WHERE { ?war a kkg:War } ORDER BY ?war LIMIT 2""", {}),
]
