"""`karabakh-kg diff OLD NEW`: figures added, removed and changed between two builds, in words
(claimant, figure, reporting date) and as RDF changesets that parse back in every RDF format."""

from __future__ import annotations

import subprocess
import sys

import pytest
from karabakh_kg.graph.core import formats
from karabakh_kg.graph.core.iris import KKG, entity
from karabakh_kg.graph.pipeline import build as build_mod
from karabakh_kg.graph.pipeline import sources
from rdflib import Dataset, Graph, Literal, Namespace
from rdflib.namespace import RDF

CLI = [sys.executable, "-m", "karabakh_kg.server.cli"]
CS = Namespace("http://purl.org/vocab/changeset/schema#")
CHANGED = entity("claim", "f056-killed-per-azerbaijan")  # Azerbaijan, 2,900 as of 2021-06-02
REMOVED = entity("claim", "f003-killed-per-azerbaijan")  # Azerbaijan's 320 in an older 2016 copy


def run(*args):
    return subprocess.run(CLI + list(args), capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """Two builds: the shipped facts, and the same with one figure changed, one removed, one added."""
    folder = tmp_path_factory.mktemp("diff")
    old_files, new_files = [], []
    for f in sources.fact_files():
        name = f.name.rsplit("/", 1)[-1]
        (folder / "old").mkdir(exist_ok=True)
        (folder / "new").mkdir(exist_ok=True)
        (folder / "old" / name).write_bytes(f.data)
        text = f.data.decode("utf-8")
        if name == "pages-figures.ttl":
            head, _, rest = text.partition("claim:f003-killed-per-azerbaijan\n")
            text = head + rest.split("\n.\n", 1)[1]  # the whole claim block removed
            assert text.count("kkg:value 2900 ;") == 1
            text = text.replace("kkg:value 2900 ;", "kkg:value 2901 ;").replace('"2021-06-02"^^xsd:date', '"2021-06-03"^^xsd:date')
        (folder / "new" / name).write_text(text, encoding="utf-8")
        old_files.append(str(folder / "old" / name))
        new_files.append(str(folder / "new" / name))
    (folder / "new" / "added.ttl").write_text("""
@prefix kkg: <https://w3id.org/karabakh-kg/ontology#> .
@prefix actor: <https://w3id.org/karabakh-kg/id/actor/> .
@prefix event: <https://w3id.org/karabakh-kg/id/event/> .
@prefix claim: <https://w3id.org/karabakh-kg/id/claim/> .
@prefix source: <https://w3id.org/karabakh-kg/id/source/> .
@prefix concept: <https://w3id.org/karabakh-kg/id/concept/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
claim:test-added a kkg:CasualtyClaim ; kkg:about event:khojaly-massacre ; kkg:category concept:casualty-killed ;
    kkg:minValue 700 ; kkg:approximation concept:approximation-at-least ; kkg:claimant actor:human-rights-watch ;
    kkg:asOf "2030"^^xsd:gYear ; kkg:epistemicStatus concept:status-stated ; kkg:rank concept:rank-normal ;
    kkg:sourceDocument source:wikipedia-second-nagorno-karabakh-war ; kkg:verbatim "700+ (test fixture)" .
""", encoding="utf-8")
    new_files.append(str(folder / "new" / "added.ttl"))
    build_mod.build(folder / "old-build", build_mod.Inputs.with_facts(old_files))
    build_mod.build(folder / "new-build", build_mod.Inputs.with_facts(new_files))
    return folder / "old-build", folder / "new-build"


def test_the_same_build_has_no_differences(builds):
    old, _ = builds
    out = run("diff", str(old), str(old))
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["figures added: 0", "figures removed: 0", "figures changed: 0",
                                       "other triples: 0 added, 0 removed"]


def test_figures_added_removed_and_changed_in_words(builds):
    old, new = builds
    out = run("diff", str(old), str(new))
    assert out.returncode == 1, out.stderr  # they differ
    lines = out.stdout.splitlines()
    assert lines[0] == "figures added: 1"
    assert lines[1] == ("  + Khojaly massacre: killed, per Human Rights Watch: 700+, as of 2030  "
                        "<https://w3id.org/karabakh-kg/id/claim/test-added>")
    assert lines[2] == "figures removed: 1"
    assert lines[3].startswith("  - 2016 Nagorno-Karabakh conflict (Four-Day War, April War): killed, "
                               "per Azerbaijan: 320  <")
    assert lines[4] == "figures changed: 1"
    assert lines[5] == ("  ~ Second Nagorno-Karabakh War: killed, per Azerbaijan: 2,901, as of 2021-06-03  "
                        "(figure 2,900 -> 2,901; as_of 2021-06-02 -> 2021-06-03)  <" + str(CHANGED) + ">")
    assert lines[6].startswith("other triples: ")


def test_the_changes_as_rdf_changesets(builds):
    old, new = builds
    out = subprocess.run(CLI + ["diff", str(old), str(new), "-f", "turtle"], capture_output=True, timeout=300)
    graph = Graph().parse(data=out.stdout, format="turtle")
    reasons = {graph.value(c, CS.subjectOfChange): str(graph.value(c, CS.changeReason))
               for c in graph.subjects(RDF.type, CS.ChangeSet)}
    assert reasons[CHANGED] == "figure changed"
    assert reasons[REMOVED] == "figure removed"
    assert reasons[entity("claim", "test-added")] == "figure added"
    change = next(c for c in graph.subjects(CS.subjectOfChange, CHANGED))

    def statements(prop):
        return {(graph.value(s, RDF.predicate), graph.value(s, RDF.object)) for s in graph.objects(change, prop)}

    assert (KKG.value, Literal(2901)) in statements(CS.addition)
    assert (KKG.value, Literal(2900)) in statements(CS.removal)
    assert len(statements(CS.addition)) == len(statements(CS.removal)) == 2  # the value and the reporting date


@pytest.mark.parametrize("fmt", [f.name for f in formats.RDF_FORMATS])
def test_every_rdf_format_parses_back_to_the_same_changes(builds, fmt):
    old, new = builds
    out = subprocess.run(CLI + ["diff", str(old), str(new), "-f", fmt], capture_output=True, timeout=300)
    assert out.returncode == 1
    parser = formats.by_name(fmt).parser
    container = Dataset() if formats.by_name(fmt).carries == formats.QUADS else Graph()
    container.parse(data=out.stdout, format=parser)
    assert len(set(container.subjects(RDF.type, CS.ChangeSet))) >= 3


def test_a_build_compares_with_an_rdf_file(builds, tmp_path):
    old, _ = builds
    out = run("export", "-f", "trig", "-o", str(tmp_path / "old.trig"), "--build-dir", str(old))
    assert out.returncode == 0, out.stderr
    out = run("diff", str(old), str(tmp_path / "old.trig"))
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("make, words", [
    (lambda p: p / "missing", "no such file or build directory"),
    (lambda p: p, "is a directory without a build"),
    (lambda p: (p / "bad.ttl").write_text("<a> <b> .") and p / "bad.ttl", "bad.ttl:1"),
])
def test_a_bad_side_is_one_clear_error(builds, tmp_path, make, words):
    old, _ = builds
    out = run("diff", str(old), str(make(tmp_path)))
    assert out.returncode == 1 and words in out.stderr, out.stderr
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_an_unknown_format_is_refused():
    out = run("diff", "a", "b", "-f", "yaml")
    assert out.returncode == 2 and "yaml" in out.stderr

