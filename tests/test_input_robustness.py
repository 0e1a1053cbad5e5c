"""Hostile and awkward input files: nothing fetched or read, one located error line, never a
traceback, never a hang; a byte-order mark is accepted in every format.

Each file goes through the three commands that read user files: ``build --facts``, ``validate``
and ``serve FILE`` (which stops at the bad file before it listens).
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from karabakh_kg.graph.pipeline import export, fastparse, jsonld_loader, sources
from karabakh_kg.graph.pipeline.sources import SourceFile
from rdflib import Dataset, Graph
from server_helpers import listener  # noqa: F401  (fixture)

CLI = [sys.executable, "-c", "from karabakh_kg.server.cli import main; main()"]
COMMANDS = ["build", "validate", "serve"]


def _run(command: str, path, tmp_path):
    args = {"build": ["build", "--build-dir", str(tmp_path / "b"), "--facts", str(path)],
            "validate": ["validate", str(path)],
            "serve": ["serve", "--port", "0", "--build-dir", str(tmp_path / "b"), str(path)]}[command]
    if command == "serve":  # serve needs a build to serve the file beside: the seed's
        subprocess.run(CLI + ["build", "--build-dir", str(tmp_path / "b")], capture_output=True, timeout=300)
    return subprocess.run(CLI + args, capture_output=True, text=True, timeout=300)


def _one_located_line(result, name: str) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert re.match(rf"error: .*{re.escape(name)}:\d+", errors[0]), errors[0]
    return errors[0]


# -- JSON-LD: no context is ever fetched or read ---------------------------------------------------

def _hostile_contexts(url: str, secret_file) -> dict:
    """Every spelling that got past the old text guard, and a plain local file."""
    file_url = secret_file.as_uri()
    return {
        "array": '{"@context": ["%s"], "@id": "http://e/a", "name": "x"}' % url,
        "import": '{"@context": {"@version": 1.1, "@import": "%s"}, "@id": "http://e/a", "name": "x"}' % url,
        "upper-case": '{"@context": "%s", "@id": "http://e/a", "name": "x"}' % url.replace("http://", "HTTP://"),
        "escaped-colon": '{"@context": "%s", "@id": "http://e/a", "name": "x"}' % url.replace(":", "\\u003a", 1),
        "nested": '{"@context": {"name": "http://e/name"}, "@id": "http://e/a", '
                  '"http://e/p": {"@context": "%s", "name": "y"}}' % url,
        "file": '{"@context": ["%s"], "@id": "http://e/a", "name": "x"}' % file_url,
        "relative": '{"@context": "%s", "@id": "http://e/a", "name": "x"}' % secret_file.name,
    }


def test_the_refusing_context_loader_is_in_place():
    assert jsonld_loader.installed()


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("spelling", ["array", "import", "upper-case", "escaped-colon", "nested", "file",
                                      "relative"])
def test_jsonld_contexts_are_never_fetched_or_read(tmp_path, listener, command, spelling):
    secret = tmp_path / "secret-context.jsonld"
    secret.write_text('{"@context": {"name": "http://e/TOP-SECRET-TERM"}}')
    path = tmp_path / f"{spelling}.jsonld"
    path.write_text(_hostile_contexts(listener.url, secret)[spelling])
    result = subprocess.run(CLI + {"build": ["build", "--build-dir", str(tmp_path / "b"), "--facts", str(path)],
                                   "validate": ["validate", str(path)],
                                   "serve": ["serve", "--port", "0", str(path)]}[command],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr
    assert "never fetched or read" in result.stderr and f"{spelling}.jsonld:" in result.stderr
    assert listener.connections == []
    assert "TOP-SECRET" not in result.stdout + result.stderr
    assert not (tmp_path / "b" / "dataset.nq").exists() or "TOP-SECRET" not in (tmp_path / "b" / "dataset.nq").read_text()


def test_an_inline_context_still_works():
    doc = '{"@context": {"name": "http://e/name"}, "@id": "http://e/a", "name": "x"}'
    graph = Graph()
    sources.parse_into(graph, SourceFile("ok.jsonld", doc.encode()))
    assert len(graph) == 1


# -- one located line ------------------------------------------------------------------------------

BAD_FILES = {
    "space.ttl": ("@prefix ex: <http://e/> .\nex:a ex:p <http://e/x y> .\n", 2, "invalid IRI"),
    "space.nt": ("<http://e/a> <http://e/p> <http://e/o> .\n<http://e/a b> <http://e/p> <http://e/o> .\n", 2, "IRI"),
    "ill-typed.nt": ('<http://e/a> <http://e/p> "1"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'
                     '<http://e/a> <http://e/p> "abc"^^<http://www.w3.org/2001/XMLSchema#integer> .\n', 2,
                     "not a valid xsd:integer"),
    "ill-typed.ttl": ("@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n\n<http://e/a> <http://e/p> "
                      '"abc"^^xsd:integer .\n', 3, "not a valid xsd:integer"),
    "nul.nt": ('<http://e/a> <http://e/p> "a\\u0000b" .\n', 1, "U+0000"),
    "nul.ttl": ('@prefix ex: <http://e/> .\nex:a ex:p "ok" .\nex:a ex:p "a\\u0000b" .\n', 3, "U+0000"),
    "nul.jsonld": ('{"@id": "http://e/a",\n "http://e/p": "a\\u0000b"}\n', 2, "U+0000"),
    "control.nq": ('<http://e/a> <http://e/p> "bell\\u0007" <http://e/g> .\n', 1, "U+0007"),
}


@pytest.mark.parametrize("command", ["build", "validate"])
@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_files_are_one_located_line(tmp_path, command, name):
    text, line, words = BAD_FILES[name]
    path = tmp_path / name
    path.write_text(text)
    error = _one_located_line(_run(command, path, tmp_path), name)
    assert f"{name}:{line}" in error and words in error


@pytest.mark.parametrize("name", ["space.ttl", "nul.nt", "nul.jsonld"])
def test_serve_refuses_bad_extra_files_in_one_located_line(tmp_path, name):
    text, line, words = BAD_FILES[name]
    path = tmp_path / name
    path.write_text(text)
    error = _one_located_line(_run("serve", path, tmp_path), name)
    assert f"{name}:{line}" in error and words in error


@pytest.mark.parametrize("name, line", [("huge-literal.nt", '<http://e/a> <http://e/p> "{}" .\n'),
                                        ("huge-literal.ttl", '<http://e/a> <http://e/p> "{}" .\n'),
                                        ("huge-iri.ttl", '<http://e/a> <http://e/p> <http://e/{}> .\n')])
def test_a_term_over_16_mib_is_one_located_line(tmp_path, name, line):
    path = tmp_path / name
    path.write_text('<http://e/a> <http://e/p> "small" .\n' + line.format("x" * (17 * 1024 * 1024)))
    error = _one_located_line(_run("validate", path, tmp_path), name)
    assert f"{name}:2" in error and "16 MiB" in error


def test_a_megabyte_bad_line_is_located_without_echoing_it(tmp_path):
    path = tmp_path / "long.nt"
    path.write_text('<http://e/a> <http://e/p> "ok" .\n<http://e/a> <http://e/p> "' + "x" * 1_000_000 + "\n")
    result = _run("validate", path, tmp_path)
    error = _one_located_line(result, "long.nt")
    assert "long.nt:2" in error
    assert len(result.stderr) < 1000


# -- a UTF-8 byte-order mark is accepted in every format ---------------------------------------------

PLAIN = {
    "ttl": '@prefix ex: <http://e/> .\nex:a ex:p "é" .\n',
    "nt": '<http://e/a> <http://e/p> "é" .\n',
    "nq": '<http://e/a> <http://e/p> "é" <http://e/g> .\n',
    "trig": '@prefix ex: <http://e/> .\nex:g { ex:a ex:p "é" . }\n',
    "jsonld": '{"@id": "http://e/a", "http://e/p": "é"}\n',
    "rdf": ('<?xml version="1.0" encoding="utf-8"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
            ' xmlns:ex="http://e/"><rdf:Description rdf:about="http://e/a"><ex:p>é</ex:p></rdf:Description>'
            '</rdf:RDF>\n'),
}


@pytest.mark.parametrize("extension", sorted(PLAIN))
def test_a_byte_order_mark_is_accepted_in_every_format(tmp_path, extension):
    path = tmp_path / f"bom.{extension}"
    path.write_bytes(b"\xef\xbb\xbf" + PLAIN[extension].encode("utf-8"))
    with_bom = fastparse.read_graphs(sources.user_files([str(path)])[0])
    without = fastparse.read_graphs(SourceFile(f"plain.{extension}", PLAIN[extension].encode("utf-8")))
    assert sum(map(len, with_bom.values())) == 1
    assert export.lines_of(with_bom) == export.lines_of(without)
    result = subprocess.run(CLI + ["validate", str(path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


def test_nested_blank_nodes_build_and_read_back(tmp_path):
    """2,000 nested blank nodes build (the write step was quadratic: see bench/bench_robustness.py
    for the time) into a dataset with every node."""
    depth = 2000
    path = tmp_path / "nested.ttl"
    path.write_text("@prefix ex: <http://e/> .\nex:a ex:p " + "[ ex:p " * depth + "ex:o" + " ]" * depth + " .\n")
    result = _run("build", path, tmp_path)
    assert result.returncode == 0, result.stderr
    data = Dataset()
    data.parse(tmp_path / "b" / "dataset.nq", format="nquads")
    facts = [g for g in data.graphs() if str(g.identifier).endswith("/graph/facts")][0]
    assert len(facts) == depth + 1
