"""The fast build path gives exactly what the rdflib path gave: the same triples from Oxigraph's
parser, the same N-Quads bytes from the line writer, the same dataset from the set-based build."""

from __future__ import annotations

import random

import pytest
from karabakh_kg.graph.core import formats
from karabakh_kg.graph.core.errors import KkgError
from karabakh_kg.graph.pipeline import build as build_mod
from karabakh_kg.graph.pipeline import export, fastparse, generate, sources
from karabakh_kg.graph.pipeline.sources import SourceFile
from karabakh_kg.graph.pipeline.tree_labels import forest_labels
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic, to_canonical_graph
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.namespace import XSD


def _rdflib_graphs(source: SourceFile) -> dict:
    """What rdflib's parser gives for the file, grouped as fastparse.read_graphs groups it."""
    scratch = Dataset()
    target = scratch.graph(URIRef("urn:x-test:target"))
    sources.parse_into(target, source)
    return {None if g.identifier == target.identifier else g.identifier: set(g)
            for g in scratch.graphs() if len(g)}


def _same_graphs(fast: dict, slow: dict) -> None:
    assert fast.keys() == slow.keys()
    for name in fast:
        left, right = Graph(), Graph()
        for t in fast[name]:
            left.add(t)
        for t in slow[name]:
            right.add(t)
        assert len(left) == len(right), name
        assert isomorphic(left, right), name


SHIPPED = sources.ontology_files() + sources.fact_files() + sources.link_files()


@pytest.mark.parametrize("source", SHIPPED, ids=[f.name for f in SHIPPED])
def test_shipped_files_read_the_same_by_both_parsers(source):
    fmt = formats.by_extension(source.name)
    fast = fastparse.read(source, fmt)
    slow = _rdflib_graphs(source)
    if fast is None:  # the fast path stepped aside: read_graphs must then be rdflib's answer
        fast = fastparse.read_graphs(source)
    _same_graphs(fast, slow)


def test_generated_data_takes_the_fast_path_and_reads_the_same(tmp_path):
    path = tmp_path / "generated.nt"
    generate.generate(path, triples=3000, seed=3)
    source = sources.user_files([str(path)])[0]
    fast = fastparse.read(source, formats.by_extension(source.name))
    assert fast is not None, "Oxigraph should read generated N-Triples"
    _same_graphs(fast, _rdflib_graphs(source))


AWKWARD = {
    "plain.nt": (True, '<http://a/s> <http://a/p> "tab\\there \\"quoted\\" \\u00e9 \\U0001F600 back\\\\slash" .\n'
                       '<http://a/s> <http://a/p> "01"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'
                       '<http://a/s> <http://a/p> "1.50"^^<http://www.w3.org/2001/XMLSchema#decimal> .\n'
                       '<http://a/s> <http://a/p> "TRUE"^^<http://www.w3.org/2001/XMLSchema#boolean> .\n'
                       '<http://a/s> <http://a/p> "nope"^^<http://www.w3.org/2001/XMLSchema#date> .\n'
                       '<http://a/s> <http://a/p> "x"@en-gb .\n'
                       '_:b1 <http://a/p> _:b2 .\n_:b2 <http://a/p> _:b1 .\n'),
    "upper-language.nt": (False, '<http://a/s> <http://a/p> "x"@EN .\n'),
    "explicit-string.nt": (False, '<http://a/s> <http://a/p> "x"^^<http://www.w3.org/2001/XMLSchema#string> .\n'),
    "explicit-string.ttl": (False, '@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n'
                                   '<http://a/s> <http://a/p> "x"^^xsd:string .\n'),
    "relative.ttl": (False, '<s> <http://a/p> <o> .\n'),
    "single-quoted-upper.ttl": (False, "<http://a/s> <http://a/p> 'x'@EN, '''y'''@EN .\n"),
    "dotted-prefix-string.ttl": (False, '@prefix x.s: <http://www.w3.org/2001/XMLSchema#> .\n'
                                        '<http://a/s> <http://a/p> "x"^^x.s:string .\n'),
    "escaped-string-iri.nt": (False, '<http://a/s> <http://a/p> '
                                     '"x"^^<http://www.w3.org/2001/XMLSchema\\u0023string> .\n'),
    "comment-before-datatype.ttl": (False, '@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n'
                                           '<http://a/s> <http://a/p> "x"^^ # the type\n xsd:string .\n'),
    "base.ttl": (False, '@base <http://a/b/c/d> .\n<s> <http://a/p> <?q>, <./x/../y> .\n'),
    "nested.ttl": (True, '@prefix : <http://a/> .\n:s :p [ :q ( 1 2.0 "three" ) ; :r """long\nlines""" ] .\n'),
    "quads.nq": (True, '<http://a/s> <http://a/p> <http://a/o> <http://a/g> .\n'
                       '<http://a/s> <http://a/p> "default" .\n'),
    "graphs.trig": (True, '@prefix : <http://a/> .\n:g { :s :p :o } \n:s :p "default" .\n'),
}


@pytest.mark.parametrize("name", sorted(AWKWARD))
def test_awkward_inputs_read_the_same(name):
    expect_fast, text = AWKWARD[name]
    source = SourceFile(name, text.encode("utf-8"))
    fast = fastparse.read(source, formats.by_extension(name))
    assert (fast is not None) == expect_fast
    _same_graphs(fastparse.read_graphs(source), _rdflib_graphs(source))


def test_blank_node_labels_are_scoped_to_their_file():
    text = b"_:b1 <http://a/p> <http://a/o> .\n"
    first = fastparse.read_graphs(SourceFile("one.nt", text))[None]
    second = fastparse.read_graphs(SourceFile("two.nt", text))[None]
    assert next(iter(first))[0] != next(iter(second))[0]


def test_syntax_errors_keep_their_line():
    source = SourceFile("bad.nt", b'<http://a/s> <http://a/p> <http://a/o> .\n<http://a/s> <http://a/p> "open .\n')
    with pytest.raises(KkgError) as caught:
        fastparse.read_graphs(source)
    assert caught.value.where.line == 2 and caught.value.where.source == "bad.nt"


# -- the line writer ------------------------------------------------------------------------------

def _awkward_graph() -> Graph:
    graph = Graph()
    s, p = URIRef("http://a/s"), URIRef("http://a/p")
    for value in ['quote " and \\ backslash', "new\nline\r\tand tab", "é ✓ 😀", "", "line\u2028sep"]:
        graph.add((s, p, Literal(value)))
        graph.add((s, p, Literal(value, lang="fr")))
    graph.add((s, p, Literal("01", datatype=XSD.integer)))
    graph.add((s, p, Literal("x", datatype=XSD.string)))
    graph.add((s, p, Literal("2020-09-27", datatype=XSD.date)))
    graph.add((s, p, URIRef("http://a/o#frag")))
    return graph


def test_line_writer_writes_what_rdflibs_serializers_write():
    graph = _awkward_graph()
    name = URIRef("http://a/g")
    dataset = Dataset()
    target = dataset.graph(name)
    for t in graph:
        target.add(t)
    theirs = dataset.serialize(format="nquads", encoding="utf-8").decode("utf-8")
    expected = "".join(sorted({line + "\n" for line in theirs.split("\n") if line.strip()}))
    assert export.lines_of({name: set(graph)}).decode("utf-8") == expected
    theirs = graph.serialize(format="nt", encoding="utf-8").decode("utf-8")
    expected = "".join(sorted({line + "\n" for line in theirs.split("\n") if line.strip()}))
    assert export.lines_of({None: set(graph)}).decode("utf-8") == expected


def test_line_writer_output_parses_back_to_the_same_graphs(dataset):
    data = export.lines_of({c.identifier: set(c) for c in dataset.graphs() if len(c)})
    back = Dataset()
    back.parse(data=data, format="nquads")
    for context in dataset.graphs():
        if len(context):
            assert isomorphic(back.graph(context.identifier), context), context.identifier


def _random_graph(rng: random.Random) -> Graph:
    graph = Graph()
    blanks = [BNode() for _ in range(rng.randint(1, 6))]
    iris = [URIRef(f"http://a/{i}") for i in range(5)]
    for _ in range(rng.randint(5, 30)):
        s = rng.choice(blanks + iris)
        o = rng.choice(blanks + iris + [Literal(rng.randint(0, 3))])
        graph.add((s, rng.choice(iris[:3]), o))
    return graph


@pytest.mark.parametrize("seed", range(25))
def test_blank_nodes_are_labelled_as_canonicalising_the_whole_graph_labels_them(seed):
    """Blank nodes that are not trees get rdflib's canonical labels (trees: tree_labels, below)."""
    graph = _random_graph(random.Random(seed))
    if forest_labels(set(graph)) is not None:
        pytest.skip("this random graph's blank nodes form trees: labelled by tree_labels")
    whole = sorted(to_canonical_graph(graph), key=lambda t: tuple(n.n3() for n in t))
    assert export._canonical(set(graph)) == whole


NESTED = ("@prefix : <http://a/> .\n:s :p [ :q 1 ], [ :q 1 ], [ :q [ :r 2 ] ], [ :q ( 1 2 ) ] .\n"
          ":t :p [ :q 1 ] .\n[] :z [ :q 1 ] .\n[ :q 1 ] :z :s .\n")


def test_tree_labels_are_canonical_and_keep_the_graph():
    """The same tree-shaped graph, read twice (fresh blank nodes each time), gives the same bytes,
    and those bytes parse back to a graph isomorphic to the input."""
    outputs = {export.lines_of({None: set(Graph().parse(data=NESTED, format="turtle"))}) for _ in range(4)}
    assert len(outputs) == 1
    back = Graph().parse(data=outputs.pop(), format="nt")
    assert isomorphic(back, Graph().parse(data=NESTED, format="turtle"))


def test_deeply_nested_blank_nodes_are_labelled_in_linear_time():
    """2,000 nested blank nodes: rdflib's canonicaliser took 25 s and more (quadratic); the labels
    are asserted distinct and the output isomorphic (no timing asserted here: see bench/)."""
    depth = 2000
    text = "@prefix : <http://a/> .\n:s :p " + "[ :p " * depth + ":o" + " ]" * depth + " .\n"
    triples = fastparse.read_graphs(SourceFile("deep.ttl", text.encode()))[None]
    labels = forest_labels(set(triples))
    assert labels is not None and len(set(labels.values())) == depth
    back = Graph().parse(data=export.lines_of({None: set(triples)}), format="nt")
    assert len(back) == depth + 1
    assert len({node for triple in back for node in triple if isinstance(node, BNode)}) == depth


def test_a_blank_node_cycle_is_not_a_tree():
    a, b = BNode(), BNode()
    p = URIRef("http://a/p")
    assert forest_labels({(a, p, b), (b, p, a)}) is None
    assert forest_labels({(URIRef("http://a/s"), p, a), (URIRef("http://a/t"), p, a)}) is None


# -- the set-based build ----------------------------------------------------------------------------

def _through_rdflib_store(inputs) -> bytes:
    dataset, _ = build_mod.assemble(inputs)
    return export.serialize(dataset, "nquads")


def test_build_writes_what_the_dataset_path_exports(built, build_dir):
    written = (build_dir / build_mod.DATASET_FILE).read_bytes()
    assert written == _through_rdflib_store(build_mod.Inputs.shipped())


def test_generated_build_writes_what_the_dataset_path_exports(tmp_path):
    facts = tmp_path / "generated.nt"
    generate.generate(facts, triples=5000, seed=1)
    inputs = build_mod.Inputs.with_facts([str(facts)])
    build_mod.build(tmp_path / "out", inputs)
    assert (tmp_path / "out" / build_mod.DATASET_FILE).read_bytes() == _through_rdflib_store(inputs)


def test_a_build_reads_its_dataset_only_when_asked(tmp_path):
    result = build_mod.build(tmp_path / "out")
    assert result._dataset is None
    loaded = result.dataset
    assert sum(len(c) for c in loaded.graphs()) == result.manifest["triples"]


def test_facts_repeating_ontology_triples_validate_as_before(tmp_path):
    """A triple in two graphs: the checks cannot use Oxigraph's union of the graphs (it would repeat
    the triple), and the build still validates and writes both copies."""
    path = tmp_path / "facts.nt"
    path.write_bytes(export.lines_of({None: _facts_triples() | set(_ontology_triples()[:1])}))
    inputs = build_mod.Inputs.with_facts([str(path)])
    result = build_mod.build(tmp_path / "out", inputs)
    assert result.manifest["triples"] > 0
    assert (tmp_path / "out" / build_mod.DATASET_FILE).read_bytes() == _through_rdflib_store(inputs)


def _ontology_triples() -> list:
    graph = Graph()
    for f in sources.ontology_files():
        sources.parse_into(graph, f)
    return sorted((t for t in graph if not any(isinstance(n, BNode) for n in t)),
                  key=lambda t: tuple(n.n3() for n in t))


def _facts_triples() -> set:
    graph = Graph()
    for f in sources.fact_files() + sources.link_files():
        sources.parse_into(graph, f)
    return set(graph)


def test_default_graph_name_in_nquads_is_left_empty():
    line = export.lines_of({DATASET_DEFAULT_GRAPH_ID: {(URIRef("http://a/s"), URIRef("http://a/p"), Literal("x"))}})
    assert line == b'<http://a/s> <http://a/p> "x"  .\n'


def test_blank_nodes_keep_one_label_across_graphs_and_never_share_one():
    """Two distinct blank nodes in two graphs must not get the same label (they would merge when the
    file is read back), and one node in two graphs must keep one label."""
    a, b = URIRef("http://a/g1"), URIRef("http://a/g2")
    x, y, shared = BNode(), BNode(), BNode()
    kind = URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    alone = {a: {(x, kind, URIRef("http://a/Event"))}, b: {(y, kind, URIRef("http://a/Source"))}}
    back = Dataset()
    back.parse(data=export.lines_of(alone), format="nquads")
    assert len({s for g in (a, b) for s, _, _ in back.graph(g)}) == 2   # rdflib labels each _:cb0 alone
    graphs = {a: {(x, kind, URIRef("http://a/Event")), (shared, kind, URIRef("http://a/Thing"))},
              b: {(y, kind, URIRef("http://a/Source")), (shared, URIRef("http://a/p"), Literal("v"))}}
    back = Dataset()
    back.parse(data=export.lines_of(graphs), format="nquads")
    nodes = {g: {s for s, _, _ in back.graph(g)} for g in (a, b)}
    assert len(nodes[a] | nodes[b]) == 3          # x, y and the shared node: no merge, no split
    assert len(nodes[a] & nodes[b]) == 1


def test_a_base_direction_is_left_to_rdflib_and_its_error():
    """Oxigraph reads RDF 1.2 directional language tags, rdflib refuses them: the file gets rdflib's
    located error rather than a silently dropped direction."""
    source = SourceFile("dir.nt", b'<http://a/s> <http://a/p> "x"@en--ltr .\n')
    assert fastparse.read(source, formats.by_extension("dir.nt")) is None
    with pytest.raises(KkgError):
        fastparse.read_graphs(source)


def test_an_invalid_build_leaves_the_previous_build_and_no_temporary_file(tmp_path):
    out = tmp_path / "out"
    build_mod.build(out)
    before = (out / build_mod.DATASET_FILE).read_bytes()
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix kkg: <https://w3id.org/karabakh-kg/ontology#> .\n"
                   "<https://w3id.org/karabakh-kg/id/claim/orphan> a kkg:CasualtyClaim .\n")
    with pytest.raises(KkgError):
        build_mod.build(out, build_mod.Inputs.with_facts([str(bad)]))
    assert (out / build_mod.DATASET_FILE).read_bytes() == before
    assert not [p for p in out.rglob("*") if ".tmp" in p.name]
    assert len(list((out / "builds").iterdir())) == 1
