"""Bad input files give one located error (file, line, column), never a traceback."""

from __future__ import annotations

import pytest
from karabakh_kg.graph.core.errors import KkgError
from karabakh_kg.graph.pipeline import sources
from rdflib import Dataset, Graph, URIRef


def _source(name: str, text: str | bytes) -> sources.SourceFile:
    return sources.SourceFile(name, text.encode() if isinstance(text, str) else text)


@pytest.mark.parametrize(
    "name, text, line",
    [
        ("a.ttl", '@prefix ex: <http://e/> .\nex:a ex:b ex:c .\nex:a ex:b "open .\n', 3),
        ("b.ttl", "@prefix ex: <http://e/> .\n\n\nex:a ex:b ex:c ex:d .\n", 4),
        ("c.nt", "<http://e/a> <http://e/b> <http://e/c> .\n<http://e/a> <http://e/b> .\n", 2),
        ("d.rdf", '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n<oops\n', 3),
        ("e.jsonld", '{\n  "@id": "http://e/a",\n  "http://e/b": \n}\n', 4),
    ],
)
def test_syntax_errors_name_file_and_line(name, text, line):
    with pytest.raises(KkgError) as info:
        sources.parse_into(Graph(), _source(name, text))
    error = info.value
    assert error.code == "syntax-error"
    assert error.where.source == name
    assert error.where.line == line
    assert str(error).startswith(f"{name}:{line}")


def test_turtle_error_has_a_column():
    text = "@prefix ex: <http://e/> .\nex:a ex:b ex:c ex:d .\n"
    with pytest.raises(KkgError) as info:
        sources.parse_into(Graph(), _source("x.ttl", text))
    assert info.value.where.line == 2
    assert info.value.where.column == 16


def test_non_utf8_file_is_named_with_the_line():
    data = b"@prefix ex: <http://e/> .\nex:a ex:b \"caf\xe9\" .\n"
    with pytest.raises(KkgError) as info:
        sources.parse_into(Graph(), _source("latin1.ttl", data))
    assert info.value.code == "bad-encoding"
    assert info.value.where.line == 2


@pytest.mark.parametrize("name, text, line, column", [
    ("s.ttl", '@prefix ex: <http://e/> .\nex:a ex:b "ok" .\nex:a ex:c "x\\uD800y" .\n', 3, 13),
    ("s.nt", '<http://e/a> <http://e/b> "\\U0000DFFF" .\n', 1, 28),
    ("s.nq", '<http://e/a> <http://e/b> "\\udc00" <http://e/g> .\n', 1, 28),
    ("s.jsonld", '{"@id": "http://e/a",\n "http://e/b": "lone \\ud83d here"}', 2, 22),
    ("g.trig", '<http://e/g> {\n <http://e/a> <http://e/b> "x\\uD800y" .\n}\n', 2, 30),
    ("g.nq", '<http://e/a> <http://e/b> "ok" .\n<http://e/a> <http://e/b> "\\udc00" <http://e/g> .\n', 2, 28),
    ("c.ttl", '# the escape \\uD83D is not allowed\n@prefix ex: <http://e/> .\nex:a ex:b "\\uDE00" .\n', 3, 12),
    ("p.jsonld", '{"@id": "http://e/a",\n "http://e/b": ["ok \\ud83d\\ude00", "bad \\ud83d"]}', 2, 41),
])
def test_an_escaped_lone_surrogate_is_refused_where_it_is_written(name, text, line, column):
    """rdflib reads "\\uD800" into a string no RDF format can write: the build wrote it as "?".
    Through the build's reader (named graphs of quad files included), located at the escape that
    made the bad term: not a comment's, not half of a JSON pair."""
    from karabakh_kg.graph.pipeline import fastparse

    with pytest.raises(KkgError) as info:
        fastparse.read_graphs(_source(name, text))
    assert info.value.code == "syntax-error"
    assert (info.value.where.source, info.value.where.line, info.value.where.column) == (name, line, column)
    assert "surrogate" in info.value.message


def test_a_lone_surrogate_in_a_file_parsed_into_one_graph_of_a_bigger_dataset_is_refused():
    """A file served beside the build is parsed straight into a graph of the build's dataset."""
    dataset = Dataset()
    dataset.graph(URIRef("http://e/other")).add((URIRef("http://e/x"), URIRef("http://e/y"), URIRef("http://e/z")))
    with pytest.raises(KkgError) as info:
        sources.parse_into(dataset.graph(URIRef("http://e/file")), _source("f.ttl", '<http://e/a> <http://e/b> "\\uD800" .\n'))
    assert (info.value.where.line, info.value.where.column) == (1, 28)


def test_a_json_surrogate_pair_is_one_character():
    graph = Graph()
    sources.parse_into(graph, _source("pair.jsonld", '{"@id": "http://e/a", "http://e/b": "smile \\ud83d\\ude00"}'))
    assert [str(o) for o in graph.objects()] == ["smile \U0001F600"]


def test_unknown_extension_lists_the_known_ones():
    with pytest.raises(KkgError) as info:
        sources.parse_into(Graph(), _source("facts.txt", "x"))
    assert ".ttl" in info.value.message and ".nq" in info.value.message


def test_rdfxml_with_external_entity_is_refused_without_reading(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xml = (f'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>\n'
           '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://e/">\n'
           '<rdf:Description rdf:about="http://e/a"><ex:b>&x;</ex:b></rdf:Description></rdf:RDF>\n')
    graph = Graph()
    with pytest.raises(KkgError) as info:
        sources.parse_into(graph, _source("evil.rdf", xml))
    assert info.value.code == "unsafe-xml"
    assert "TOP-SECRET" not in graph.serialize(format="nt")


def test_remote_jsonld_context_is_not_fetched():
    doc = '{"@context": "http://127.0.0.1:9/context.jsonld", "@id": "http://e/a", "b": "c"}'
    with pytest.raises(KkgError) as info:
        sources.parse_into(Graph(), _source("remote.jsonld", doc))
    assert info.value.code == "remote-context"


def test_node_lines_finds_subjects_written_at_column_zero():
    text = ("@prefix ex: <http://e/> .\n\nex:a ex:p ex:b ;\n    ex:q ex:c .\n"
            "<http://e/z> ex:p ex:a .\n")
    index = sources.node_lines([_source("f.ttl", text)])
    assert str(index["http://e/a"]) == "f.ttl:3"
    assert str(index["http://e/z"]) == "f.ttl:5"
    assert "http://e/b" not in index
