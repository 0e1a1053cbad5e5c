"""`karabakh-kg links check`: passes on the recorded entity documents, fails naming the entity when
a copy is altered (wrong label, redirect, missing item, wrong type), works live against a local
stand-in for Special:EntityData, and says clearly when the network is unreachable."""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import socket
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from karabakh_kg.graph.pipeline import build as build_mod
from karabakh_kg.graph.wikidata import check as wikidata_check
from karabakh_kg.graph.wikidata import entities as wikidata_entities
from karabakh_kg.graph.wikidata import vocabulary as wikidata
from karabakh_kg.server.cli import main

RECORDED = Path(wikidata.__file__).parents[1] / "data" / "wikidata"
AZERBAIJAN = "https://w3id.org/karabakh-kg/id/actor/azerbaijan"
WAR = "https://w3id.org/karabakh-kg/id/event/second-nagorno-karabakh-war"


@pytest.fixture
def docs(tmp_path):
    """A copy of the recorded entity documents that a test may alter."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for path in RECORDED.glob("Q*.json"):
        shutil.copy(path, folder / path.name)
    return folder


def _edit(folder: Path, qid: str, change) -> None:
    path = folder / f"{qid}.json"
    document = json.loads(path.read_text())
    change(document["entities"][qid], document)
    path.write_text(json.dumps(document))


def _check(build_dir, *args):
    return CliRunner().invoke(main, ["links", "check", "--build-dir", str(build_dir), *args])


def test_recorded_documents_are_made_from_the_verified_list_only():
    items = wikidata.verified_items()
    recorded = {p.stem for p in RECORDED.glob("Q*.json")}
    assert recorded == set(items)
    for qid, item in items.items():
        entity = json.loads((RECORDED / f"{qid}.json").read_text())["entities"][qid]
        assert entity["id"] == qid and entity["type"] == "item"
        assert entity["labels"] == {"en": {"language": "en", "value": item.label}}
        assert entity["claims"] == {} and entity["aliases"] == {} and entity["sitelinks"] == {}


def test_check_passes_on_the_recorded_documents(built, build_dir):
    result = _check(build_dir)
    assert result.exit_code == 0, result.output
    assert "ok: all 17 links match" in result.output
    assert "mismatch" not in result.stdout


def test_wrong_label_fails_naming_the_entity(built, build_dir, docs):
    _edit(docs, "Q227", lambda e, d: e["labels"]["en"].update(value="Azerbaijan Democratic Republic"))
    result = _check(build_dir, "--docs", str(docs))
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if line.startswith("mismatch:")]
    assert len(lines) == 1
    assert f"<{AZERBAIJAN}> wd:Q227" in lines[0] and "'Azerbaijan Democratic Republic'" in lines[0]


def test_a_recorded_alias_is_enough(built, build_dir, docs):
    def change(entity, document):
        entity["labels"]["en"]["value"] = "Republic of Azerbaijan"
        entity["aliases"] = {"en": [{"language": "en", "value": "Azerbaijan"}]}
    _edit(docs, "Q227", change)
    assert _check(build_dir, "--docs", str(docs)).exit_code == 0


def test_redirect_by_other_id_fails_naming_the_entity(built, build_dir, docs):
    # Special:EntityData follows a redirect and serves the target's document: another id than asked.
    path = docs / "Q99659280.json"
    document = json.loads(path.read_text())
    entity = document["entities"].pop("Q99659280")
    entity["id"] = "Q381375"
    document["entities"]["Q381375"] = entity
    path.write_text(json.dumps(document))
    result = _check(build_dir, "--docs", str(docs))
    assert result.exit_code == 1
    assert f"mismatch: <{WAR}> wd:Q99659280: the item is a redirect to Q381375" in result.stdout


def test_redirect_by_redirects_key_fails_naming_the_entity(built, build_dir, docs):
    _edit(docs, "Q227", lambda e, d: e.update(redirects={"from": "Q227", "to": "Q399"}))
    result = _check(build_dir, "--docs", str(docs))
    assert result.exit_code == 1
    assert f"<{AZERBAIJAN}> wd:Q227: the item is a redirect to Q399" in result.stdout


@pytest.mark.parametrize("how", ["file removed", "missing key"])
def test_missing_item_fails_naming_the_entity(built, build_dir, docs, how):
    if how == "file removed":
        (docs / "Q227.json").unlink()
    else:
        (docs / "Q227.json").write_text(json.dumps({"entities": {"Q227": {"id": "Q227", "missing": ""}}}))
    result = _check(build_dir, "--docs", str(docs))
    assert result.exit_code == 1
    assert f"<{AZERBAIJAN}> wd:Q227: the item does not exist" in result.stdout


def test_implausible_type_fails_naming_the_entity(dataset):
    graph = build_mod.union_graph(dataset)
    verified = dict(wikidata.verified_items())
    verified["Q227"] = verified["Q227"].__class__(**{**verified["Q227"].__dict__, "kind": "event"})
    _checked, mismatches = wikidata_check.check_links(graph, wikidata_entities.RecordedDocuments(), verified)
    assert [str(m) for m in mismatches] == [
        f"<{AZERBAIJAN}> wd:Q227: implausible type: the verified list records Q227 as event, "
        f"but our entity's class makes it actor"]


def test_entity_that_is_not_an_item_fails(built, build_dir, docs):
    _edit(docs, "Q227", lambda e, d: e.update(type="property"))
    result = _check(build_dir, "--docs", str(docs))
    assert result.exit_code == 1
    assert f"<{AZERBAIJAN}> wd:Q227: the entity is a property, not an item" in result.stdout


def test_a_malformed_document_is_a_located_error(built, build_dir, docs):
    (docs / "Q227.json").write_text("{not json")
    result = _check(build_dir, "--docs", str(docs))
    assert result.exit_code == 1
    assert "Q227.json" in result.stderr and "not valid JSON" in result.stderr


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_live_check_says_when_the_network_is_unreachable(built, build_dir):
    base = f"http://127.0.0.1:{_closed_port()}/wiki/Special:EntityData/"
    result = _check(build_dir, "--live", "--base-url", base, "--timeout", "2")
    assert result.exit_code == 1
    assert "cannot reach Wikidata" in result.stderr and "unreachable" in result.stderr
    assert "without --live" in result.stderr
    assert "Traceback" not in result.output


class _EntityData(http.server.SimpleHTTPRequestHandler):
    """Serves a folder as /wiki/Special:EntityData/Q….json, 404 for anything absent."""

    def translate_path(self, path):
        name = path.split("?")[0].rsplit("/", 1)[-1]
        return str(Path(self.directory) / name)

    def log_message(self, *args):
        pass


@pytest.fixture
def entity_data_server(docs):
    """A local stand-in for Special:EntityData serving the (alterable) copy of the documents."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_EntityData, directory=str(docs)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/wiki/Special:EntityData/", docs
    server.shutdown()
    server.server_close()


def test_live_check_against_a_local_stand_in(built, build_dir, entity_data_server):
    base, docs = entity_data_server
    result = _check(build_dir, "--live", "--base-url", base)
    assert result.exit_code == 0, result.output
    assert f"live entity documents from {base}" in result.stdout
    (docs / "Q227.json").unlink()  # the stand-in now answers 404, as Wikidata does for unknown items
    result = _check(build_dir, "--live", "--base-url", base)
    assert result.exit_code == 1
    assert f"<{AZERBAIJAN}> wd:Q227: the item does not exist" in result.stdout


def test_live_and_docs_exclude_each_other(built, build_dir, docs):
    result = _check(build_dir, "--live", "--docs", str(docs))
    assert result.exit_code == 1 and "exclude each other" in result.stderr
