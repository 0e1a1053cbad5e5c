"""``karabakh-kg serve`` as a user runs it: a subprocess that prints its URLs, serves extra files
in their own named graphs, stops cleanly, and refuses bad files with a readable error."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import requests

CLI = [sys.executable, "-c", "from karabakh_kg.server.cli import main; main()"]  # as the console script does


def start(args, env=None, timeout=30.0):
    """Start ``serve``; return the process and its start-up output once it says it is ready."""
    process = subprocess.Popen(CLI + ["serve", "--port", "0", "--query-workers", "1"] + args,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, **(env or {})})
    lines = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("ready in"):
            return process, "".join(lines)
    process.kill()
    raise AssertionError("serve did not start:\n" + "".join(lines) + process.stderr.read())


@pytest.mark.slow
def test_serve_prints_urls_and_serves_extra_files(built, build_dir, tmp_path):
    turtle = tmp_path / "My Notes.ttl"
    turtle.write_text('<http://example.org/note> <http://example.org/says> "hello, world" .\n')
    trig = tmp_path / "extra.trig"
    trig.write_text("<http://example.org/g> { <http://example.org/x> <http://example.org/y> 1 . }\n")
    started = time.monotonic()
    process, output = start([str(turtle), str(trig)], env={"KARABAKH_KG_BUILD_DIR": str(build_dir)})
    try:
        assert time.monotonic() - started < 15
        endpoint = re.search(r"SPARQL endpoint:\s+(\S+)", output).group(1)
        assert re.search(r"query page:\s+http://127\.0\.0\.1:\d+/query", output)
        assert re.search(r"home page:\s+http://127\.0\.0\.1:\d+/", output)
        assert re.search(r"stored queries:\s+http://127\.0\.0\.1:\d+/queries", output)
        assert "https://w3id.org/karabakh-kg/graph/file/my-notes" in output
        assert "http://example.org/g" in output
        query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
        rows = requests.get(endpoint, params={"query": query}, timeout=10).json()["results"]["bindings"]
        counts = {r["g"]["value"]: int(r["n"]["value"]) for r in rows}
        assert counts["https://w3id.org/karabakh-kg/graph/file/my-notes"] == 1
        assert counts["http://example.org/g"] == 1
        assert counts["https://w3id.org/karabakh-kg/graph/facts"] == built.manifest["graphs"][
            "https://w3id.org/karabakh-kg/graph/facts"]
        ask = requests.get(endpoint, params={"query": 'ASK { ?s ?p "hello, world" }'}, timeout=10)
        assert ask.json()["boolean"] is True
        children = _children(process.pid)
        assert children, "the spawner should be running"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)
    assert process.returncode == 0
    time.sleep(0.3)
    for pid in children:
        assert not _alive(pid), f"process {pid} outlived the server"


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(p) for p in handle.read().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("name, content, expected", [
    ("broken.ttl", "@prefix ex: <http://example.org/> .\nex:a ex:b ex:c .\nex:d ex:e \"unterminated .\n",
     r"broken\.ttl:3"),
    ("broken.nq", "<http://a> <http://b> <http://c> <http://g> .\nnot a quad\n", r"broken\.nq:2"),
    ("data.xyz", "whatever", r"cannot tell the RDF format"),
    ("missing.ttl", None, r"no such file"),
])
def test_bad_files_are_readable_errors(tmp_path, build_dir, built, name, content, expected):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    result = subprocess.run(CLI + ["serve", "--port", "0", str(path)], capture_output=True, text=True,
                            timeout=60, env={**os.environ, "KARABAKH_KG_BUILD_DIR": str(build_dir)})
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert re.search(expected, result.stderr), result.stderr
    assert "Traceback" not in result.stderr


def test_bad_setting_is_a_readable_error(build_dir, built):
    result = subprocess.run(CLI + ["serve", "--query-timeout", "soon"], capture_output=True, text=True,
                            timeout=60, env={**os.environ, "KARABAKH_KG_BUILD_DIR": str(build_dir)})
    assert result.returncode == 1
    assert "--query-timeout" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_number_setting_that_is_not_finite_is_refused(value):
    """nan compares false with everything: as a time limit or a budget it turned the limit off."""
    from karabakh_kg.graph.core import settings as settings_mod
    from karabakh_kg.graph.core.errors import KkgError

    for name in ("KARABAKH_KG_CLIENT_QUERY_SECONDS", "KARABAKH_KG_SLOW_QUERY_SECONDS", "KARABAKH_KG_QUERY_TIMEOUT"):
        with pytest.raises(KkgError, match=f"{name}: invalid value '{value}'"):
            settings_mod.resolve({}, environ={name: value})


def test_settings_table_lists_server_settings():
    result = subprocess.run(CLI + ["settings"], capture_output=True, text=True, timeout=60)
    for name in ("query_timeout", "max_rows", "max_request_bytes", "max_concurrent_queries", "query_workers",
                 "query_memory_mb", "cors_origins", "federation_allow_list", "cache_max_age"):
        assert f"| {name} |" in result.stdout


def test_serve_help_lists_files_and_settings():
    result = subprocess.run(CLI + ["serve", "--help"], capture_output=True, text=True, timeout=60)
    assert "FILES" in result.stdout and "--query-timeout" in result.stdout and "KARABAKH_KG_PORT" in result.stdout
    json.dumps(result.stdout)  # printable
