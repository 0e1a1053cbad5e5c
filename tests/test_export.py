"""Every export format parses back to the same graph, and the same input gives the same bytes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from karabakh_kg.graph.core import formats
from karabakh_kg.graph.core.iris import GRAPH_NAMES, named_graph
from karabakh_kg.graph.pipeline import export
from rdflib import Dataset, Graph
from rdflib.compare import isomorphic

CLI = [sys.executable, "-m", "karabakh_kg.server.cli"]
QUAD_FORMATS = [f for f in formats.RDF_FORMATS if f.carries == formats.QUADS]
TRIPLE_FORMATS = [f for f in formats.RDF_FORMATS if f.carries == formats.TRIPLES]


def _union(dataset) -> Graph:
    union = Graph()
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        union.add((s, p, o))
    return union


@pytest.mark.parametrize("fmt", formats.RDF_FORMATS, ids=lambda f: f.name)
def test_whole_dataset_round_trips(dataset, fmt):
    data = export.serialize(dataset, fmt.name)
    if fmt.carries == formats.QUADS:
        back = Dataset()
        back.parse(data=data, format=fmt.parser)
        for name in GRAPH_NAMES:
            assert isomorphic(back.graph(named_graph(name)), dataset.graph(named_graph(name))), name
    else:
        back = Graph().parse(data=data, format=fmt.parser)
        assert isomorphic(back, _union(dataset))


@pytest.mark.parametrize("fmt", formats.RDF_FORMATS, ids=lambda f: f.name)
def test_one_named_graph_round_trips(dataset, fmt):
    data = export.serialize(dataset, fmt.name, graph="facts")
    back = Dataset()
    back.parse(data=data, format=fmt.parser)
    assert isomorphic(_union(back), dataset.graph(named_graph("facts")))


def test_jsonld_is_compact_with_the_published_context(dataset):
    doc = json.loads(export.serialize(dataset, "jsonld", graph="facts"))
    assert doc["@context"] == export.jsonld_context()
    text = json.dumps(doc)
    assert '"kkg:' in text or '"@type": "kkg:' in text
    assert "https://w3id.org/karabakh-kg/ontology#" not in json.dumps(doc.get("@graph", doc))


def test_unknown_graph_is_a_clear_error(dataset):
    with pytest.raises(Exception) as info:
        export.serialize(dataset, "turtle", graph="nope")
    assert "no graph named 'nope'" in str(info.value)


@pytest.mark.parametrize("fmt", formats.RDF_FORMATS, ids=lambda f: f.name)
def test_exports_are_byte_identical_across_processes(built, build_dir, fmt):
    outputs = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed, KARABAKH_KG_BUILD_DIR=str(build_dir))
        out = subprocess.run(CLI + ["export", "--format", fmt.name], capture_output=True, env=env, timeout=300)
        assert out.returncode == 0, out.stderr
        outputs.append(out.stdout)
    assert outputs[0] == outputs[1]
    assert outputs[0] == export.serialize(built.dataset, fmt.name)


def test_export_to_a_file(build_dir, tmp_path):
    target = tmp_path / "links.ttl"
    out = subprocess.run(CLI + ["export", "-f", "turtle", "-g", "links", "-o", str(target)],
                         capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, KARABAKH_KG_BUILD_DIR=str(build_dir)))
    assert out.returncode == 0, out.stderr
    Graph().parse(target, format="turtle")
