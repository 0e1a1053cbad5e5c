"""`karabakh-kg import FILE.csv`: a table of one's own figures is checked row by row (errors name the
row and the column, never a traceback), written as claims in its own Turtle file, and built beside
the shipped facts, where the stored queries see it."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from importlib import resources

import pytest
from karabakh_kg.graph.core.iris import DCTERMS, KKG, SCHEMA
from karabakh_kg.graph.pipeline import build as build_mod
from karabakh_kg.graph.sparql import query as query_mod
from karabakh_kg.graph.sparql import stored_queries
from karabakh_kg.graph.tables import figure_rows
from rdflib import Graph, Literal
from rdflib.namespace import XSD

CLI = [sys.executable, "-m", "karabakh_kg.server.cli"]
HEADER = list(figure_rows.COLUMNS)
GOOD = {"id": "R1", "event": "second-nagorno-karabakh-war", "claimant_as_written": "Per Azerbaijan:",
        "claimant": "Azerbaijan", "category": "killed", "group": "servicemen", "whose": "Azerbaijan",
        "value": "2910", "min": "", "max": "", "approximation": "exact", "as_of": "2026-01",
        "entry": "Per Azerbaijan: 2,910 servicemen killed", "url": "https://example.org/test-page",
        "page_title": "A test page (Example)", "note": "made up for the test"}


def write_table(path, rows, header=HEADER, delimiter=","):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(column, "") for column in header] if isinstance(row, dict) else row)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def run(*args):
    return subprocess.run(CLI + list(args), capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("import")
    table = write_table(folder / "mine.csv", [GOOD, {**GOOD, "id": "R2", "value": "", "min": "3000",
                                                     "approximation": "at least", "as_of": "2026-02-01",
                                                     "entry": "over 3,000 servicemen killed"}])
    out = run("import", str(table), "--build-dir", str(folder / "build"))
    assert out.returncode == 0, out.stderr
    return folder, table, out


def test_import_writes_claims_in_their_own_turtle_file(imported):
    folder, table, out = imported
    assert f"imported 2 figures from {table} into {folder / 'mine.ttl'}" in out.stdout
    graph = Graph().parse(folder / "mine.ttl", format="turtle")
    claim = graph.value(None, DCTERMS.identifier, Literal("R1"))
    assert graph.value(claim, KKG.value) == Literal(2910)
    assert graph.value(claim, KKG.asOf) == Literal("2026-01", datatype=XSD.gYearMonth)
    assert graph.value(claim, KKG.attribution) == Literal("Per Azerbaijan:")
    page = graph.value(claim, KKG.sourceDocument)
    assert str(graph.value(page, SCHEMA.url)) == "https://example.org/test-page"
    at_least = graph.value(None, DCTERMS.identifier, Literal("R2"))
    assert graph.value(at_least, KKG.minValue) == Literal(3000) and graph.value(at_least, KKG.value) is None


def test_the_import_is_built_with_the_shipped_facts(imported):
    folder, _, out = imported
    assert "built" in out.stdout
    build = build_mod.load(folder / "build")
    assert build.manifest["extra_fact_paths"] == [str((folder / "mine.ttl").resolve())]
    assert build_mod.is_fresh(folder / "build")  # a later query does not rebuild it without the import
    stored = stored_queries.load_all()["figure-history"]
    rows = stored_queries.row_texts(query_mod.run_query(
        build.dataset, stored.text, stored.bindings({"claimant": "actor:azerbaijan", "party": "actor:azerbaijan"})))
    dated = [(r["asOf"], r.get("value") or r.get("minValue")) for r in rows if "asOf" in r]
    assert dated[-3:] == [("2025-06", "2906"), ("2026-01", "2910"), ("2026-02-01", "3000")]


def test_build_add_facts_does_the_same(imported, tmp_path):
    folder, _, _ = imported
    out = run("build", "--add-facts", str(folder / "mine.ttl"), "--build-dir", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert build_mod.read_manifest(tmp_path)["counts"]["claims"] == \
        build_mod.read_manifest(folder / "build")["counts"]["claims"]


def test_a_tab_separated_table_is_read_by_its_name(tmp_path):
    table = write_table(tmp_path / "mine.tsv", [GOOD], delimiter="\t")
    out = run("import", str(table), "--no-build")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "mine.ttl").is_file()


@pytest.mark.parametrize("change, column, words", [
    ({"value": "2,910"}, "value (8)", "not a whole number"),
    ({"approximation": "range"}, "min (9)", "is empty but approximation is 'range'"),
    ({"min": "5"}, "min (9)", "must be empty when approximation is 'exact'"),
    ({"approximation": "roughly"}, "approximation (11)", "unknown approximation"),
    ({"category": "hurt"}, "category (5)", "unknown category"),
    ({"event": "the-moon-landing"}, "event (2)", "unknown event"),
    ({"event": "event:no-such-event"}, "event (2)", "no event 'event:no-such-event' in the graph"),
    ({"as_of": "2021-02-30"}, "as_of (12)", "not a day of the calendar"),
    ({"as_of": "March 2021"}, "as_of (12)", "expected YYYY-MM-DD"),
    ({"url": "javascript:alert(1)"}, "url (14)", "not an http(s) address"),
    ({"entry": ""}, "entry (13)", "is empty"),
    ({"id": "R 1"}, "id (1)", "must be letters"),
])
def test_a_bad_cell_is_named_by_row_and_column(tmp_path, change, column, words):
    table = write_table(tmp_path / "bad.csv", [GOOD, {**GOOD, "id": "R9", **change}])
    out = run("import", str(table), "--no-build")
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert f"{table}:3: column {column}: " in out.stderr and words in out.stderr, out.stderr
    assert not (tmp_path / "bad.ttl").exists()


def test_every_problem_is_reported_at_once(tmp_path):
    table = write_table(tmp_path / "bad.csv", [{**GOOD, "value": "x"}, GOOD, ["R3", "too", "few"]])
    out = run("import", str(table), "--no-build")
    assert out.returncode == 1
    assert "3 problem(s)" in out.stderr
    assert f"{table}:2: column value (8)" in out.stderr
    assert f"{table}:3: column id (1): 'R1' is already the id of line 2" in out.stderr
    assert f"{table}:4: has 3 cells, the header has 16" in out.stderr


@pytest.mark.parametrize("header, words", [
    (HEADER[:-1], "missing column(s): note"),
    (HEADER + ["colour"], "unknown column(s): colour"),
])
def test_a_bad_header_is_one_clear_error(tmp_path, header, words):
    table = write_table(tmp_path / "bad.csv", [], header=header)
    out = run("import", str(table), "--no-build")
    assert out.returncode == 1 and words in out.stderr and f"{table}:1:" in out.stderr
    assert "Traceback" not in out.stderr


def test_not_utf8_empty_and_missing_files(tmp_path):
    (tmp_path / "latin.csv").write_bytes(",".join(HEADER).encode() + b"\nR1,caf\xe9\n")
    out = run("import", str(tmp_path / "latin.csv"), "--no-build")
    assert out.returncode == 1 and "latin.csv:2: file is not UTF-8" in out.stderr
    (tmp_path / "empty.csv").write_text("")
    out = run("import", str(tmp_path / "empty.csv"), "--no-build")
    assert out.returncode == 1 and "the table is empty" in out.stderr
    out = run("import", str(tmp_path / "nope.csv"), "--no-build")
    assert out.returncode == 1 and "no such file" in out.stderr


def test_the_shipped_table_passes_the_same_checks():
    data = (resources.files("karabakh_kg.graph") / "data" / "sources" / "figures.tsv").read_bytes()
    assert len(figure_rows.read_rows(data, "figures.tsv")) == 120
