"""``serve --processes N``: several server processes on one port, over one loaded build.

Run as a user runs it (a subprocess, real HTTP). Which process answers a connection is the kernel's
choice, so the tests stop all but one with SIGSTOP to know which one must have answered.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest
import requests

from test_server_cli import CLI, _alive, _children, start

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc, forks")]


def _get(url: str, **params) -> requests.Response:
    """One request on a new connection (so that the kernel hands it to a process again)."""
    return requests.get(url, params=params, timeout=20, headers={"Connection": "close"})


def _wait_for_children(pid: int, count: int, limit: float = 20.0) -> list[int]:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        children = _children(pid)
        if len(children) == count:
            return children
        time.sleep(0.1)
    raise AssertionError(f"expected {count} server processes, found {_children(pid)}")


def _descendants(pid: int) -> list[int]:
    found, stack = [], [pid]
    while stack:
        for child in _children(stack.pop()):
            found.append(child)
            stack.append(child)
    return found


@pytest.fixture
def two_processes(build_dir, built):
    process, output = start(["--processes", "2"], env={"KARABAKH_KG_BUILD_DIR": str(build_dir),
                                                       "KARABAKH_KG_WARM_STORED_QUERIES": "false"})
    try:
        yield process, output
    finally:
        for pid in _descendants(process.pid):
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(20)


def test_each_process_answers_on_the_shared_port(two_processes):
    process, output = two_processes
    assert "2 server processes, 1 query workers each" in output
    endpoint = re.search(r"SPARQL endpoint:\s+(\S+)", output).group(1)
    base = endpoint.rsplit("/", 1)[0]
    first, second = _wait_for_children(process.pid, 2)
    expected = _get(base + "/queries/claimants.json")
    assert expected.status_code == 200
    for stopped, serving in ((first, second), (second, first)):
        os.kill(stopped, signal.SIGSTOP)
        try:
            answer = _get(base + "/queries/claimants.json")
            assert answer.status_code == 200, f"process {serving} alone did not answer"
            assert answer.json() == expected.json()
            assert answer.headers["ETag"] == expected.headers["ETag"]  # derived from the build, not the process
            ask = _get(endpoint, query="ASK { ?s ?p ?o }")
            assert ask.json()["boolean"] is True
        finally:
            os.kill(stopped, signal.SIGCONT)


def test_a_dead_process_is_replaced_and_sigterm_stops_all(two_processes):
    process, output = two_processes
    endpoint = re.search(r"SPARQL endpoint:\s+(\S+)", output).group(1)
    first, second = _wait_for_children(process.pid, 2)
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        children = _children(process.pid)
        if len(children) == 2 and first not in children:
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"no replacement for {first}: {_children(process.pid)}")
    replacement = next(pid for pid in children if pid != second)
    os.kill(second, signal.SIGSTOP)  # so the replacement must answer
    try:
        assert _get(endpoint, query="ASK { ?s ?p ?o }").json()["boolean"] is True
    finally:
        os.kill(second, signal.SIGCONT)
    everything = _descendants(process.pid)
    assert replacement in everything and len(everything) > 2  # query workers under each
    process.send_signal(signal.SIGTERM)
    process.wait(20)
    assert process.returncode == 0
    assert f"server process {first} ended (signal 9)" in process.stderr.read()
    time.sleep(0.3)
    for pid in everything:
        assert not _alive(pid), f"process {pid} outlived the server"


@pytest.mark.parametrize("failure, said", [
    ("sys.exit(3)", "exit status 3"),
    ("raise_(KkgError('bad cors_origins', code='bad-setting'))", "error: bad cors_origins"),
])
def test_processes_that_keep_failing_stop_the_command(failure, said):
    script = ("import sys\n"
              "from karabakh_kg.graph.errors import KkgError\n"
              "from karabakh_kg.server import processes\n"
              "def raise_(exc): raise exc\n"
              f"sys.exit(processes.run(2, lambda: {failure}, answers=lambda: False, "
              "on_ready=lambda: print('READY', flush=True)))\n")
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "keep ending at start-up" in result.stderr
    assert said in result.stderr and "Traceback" not in result.stderr
    assert "READY" not in result.stdout  # never said ready: no process ever answered
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("value, expected", [("0", "processes must be 1 or more, not 0"),
                                             ("two", "--processes")])
def test_bad_process_count_is_a_readable_error(build_dir, built, value, expected):
    result = subprocess.run(CLI + ["serve", "--port", "0", "--processes", value], capture_output=True,
                            text=True, timeout=60, env={**os.environ, "KARABAKH_KG_BUILD_DIR": str(build_dir)})
    assert result.returncode == 1
    assert expected in result.stderr and "Traceback" not in result.stderr


def test_port_in_use_is_a_readable_error(build_dir, built):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = subprocess.run(CLI + ["serve", "--port", str(port), "--processes", "2"], capture_output=True,
                                text=True, timeout=60,
                                env={**os.environ, "KARABAKH_KG_BUILD_DIR": str(build_dir)})
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "Traceback" not in result.stderr


def _start_in_own_group(build_dir, *args):
    """``serve`` in a session of its own, so that a signal can reach the whole process group as
    `timeout`, `kill -- -PGID` and systemd send it."""
    process = subprocess.Popen(CLI + ["serve", "--port", "0", "--query-workers", "1", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                               env={**os.environ, "KARABAKH_KG_BUILD_DIR": str(build_dir),
                                    "KARABAKH_KG_WARM_STORED_QUERIES": "false"})
    deadline = time.monotonic() + 30
    output = ""
    while time.monotonic() < deadline and "ready in" not in output:
        output += process.stdout.readline()
    endpoint = re.search(r"SPARQL endpoint:\s+(\S+)", output).group(1)
    assert _get(endpoint, query="ASK {}").status_code == 200
    return process, endpoint


@pytest.mark.parametrize("count", ["1", "2"])
def test_sigterm_to_the_whole_group_stops_quietly(build_dir, built, count):
    process, _endpoint = _start_in_own_group(build_dir, "--processes", count)
    everything = _descendants(process.pid)
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(20)
    errors = process.stderr.read()
    assert process.returncode == 0, errors
    assert "Traceback" not in errors and "failed" not in errors, errors
    time.sleep(0.3)
    assert not [pid for pid in everything if _alive(pid)]


def test_server_processes_end_with_a_killed_supervisor(build_dir, built):
    process, endpoint = _start_in_own_group(build_dir, "--processes", "2")
    _wait_for_children(process.pid, 2)
    everything = _descendants(process.pid)
    process.kill()
    process.wait(10)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and [pid for pid in everything if _alive(pid)]:
        time.sleep(0.1)
    assert not [pid for pid in everything if _alive(pid)], "server processes outlived their supervisor"
    with pytest.raises(requests.ConnectionError):
        _get(endpoint, query="ASK {}")
