"""``serve --processes N``: several server processes on one port, over one loaded build, under
waitress (supervised by the command) and under granian (``--http-server granian``, its workers).

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


HTTP_SERVERS = ["waitress", "granian"]


@pytest.fixture(params=HTTP_SERVERS)
def two_processes(request, build_dir, built):
    """``serve --processes 2`` under each HTTP server; the process has the name as ``http_server``."""
    process, output = start(["--processes", "2", "--http-server", request.param],
                            env={"KARABAKH_KG_BUILD_DIR": str(build_dir), "KARABAKH_KG_WARM_STORED_QUERIES": "false"})
    process.http_server = request.param
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


@pytest.mark.parametrize("two_processes", ["waitress"], indirect=True)
def test_each_process_answers_on_the_shared_port(two_processes):
    """waitress's processes accept on one shared socket, so a stopped process leaves every new
    connection to the other. (granian's workers listen on sockets of their own, SO_REUSEPORT: a
    stopped worker keeps its share of new connections waiting; the next test covers granian.)"""
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


def _listeners(port: int) -> int:
    """How many sockets listen on ``port`` (granian: one per worker that has started serving)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as handle:
                rows = handle.read().splitlines()[1:]
        except OSError:
            continue
        count += sum(1 for row in rows if row.split()[1].endswith(f":{port:04X}") and row.split()[3] == "0A")
    return count


def _replaced(process, killed: int, port: int | None) -> list[int]:
    """The server processes once ``killed`` has a replacement (listening, under granian)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        children = _children(process.pid)
        if len(children) == 2 and killed not in children and (port is None or _listeners(port) == 2):
            return children
        time.sleep(0.05)
    raise AssertionError(f"no replacement for {killed}: {_children(process.pid)}")


def test_a_dead_process_is_replaced_and_sigterm_stops_all(two_processes):
    """Each server process killed in turn is replaced, and the port answers every new connection
    with the same bytes and ETag (waitress: the replacement alone, the other stopped; granian: a
    connection on its way to the dying worker's own socket can be reset at that instant, so
    requests start once the replacement listens). SIGTERM then stops everything."""
    process, output = two_processes
    endpoint = re.search(r"SPARQL endpoint:\s+(\S+)", output).group(1)
    base = endpoint.rsplit("/", 1)[0]
    port = int(base.rsplit(":", 1)[1]) if process.http_server == "granian" else None
    expected = _get(base + "/queries/claimants.json")
    originals = _wait_for_children(process.pid, 2)
    for killed in originals:  # granian stops on a second death of the same worker within 5.5 s
        os.kill(killed, signal.SIGKILL)
        children = _replaced(process, killed, port)
        others = [pid for pid in children if pid in originals] if process.http_server == "waitress" else []
        for pid in others:
            os.kill(pid, signal.SIGSTOP)  # so the replacement must answer
        try:
            for _ in range(5):
                answer = _get(base + "/queries/claimants.json")
                assert answer.status_code == 200 and answer.json() == expected.json()
                assert answer.headers["ETag"] == expected.headers["ETag"]
        finally:
            for pid in others:
                os.kill(pid, signal.SIGCONT)
    everything = _descendants(process.pid)
    assert not set(originals) & set(everything) and len(everything) > 2  # replacements, query workers under each
    process.send_signal(signal.SIGTERM)
    process.wait(20)
    assert process.returncode == 0
    errors = process.stderr.read()
    assert "Traceback" not in errors, errors
    if process.http_server == "waitress":  # granian logs its "Unexpected exit from worker" on stdout
        assert all(f"server process {pid} ended (signal 9)" in errors for pid in originals), errors
    assert not _wait_gone(everything, 5), "processes outlived the server"


@pytest.mark.parametrize("failure, said", [
    ("sys.exit(3)", "exit status 3"),
    ("raise_(KkgError('bad cors_origins', code='bad-setting'))", "error: bad cors_origins"),
])
def test_processes_that_keep_failing_stop_the_command(failure, said):
    script = ("import sys\n"
              "from karabakh_kg.graph.core.errors import KkgError\n"
              "from karabakh_kg.server.serving import processes\n"
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


@pytest.mark.parametrize("value, expected", [("-1", "processes must be 1 or more (0: one per core), not -1"),
                                             ("two", "--processes")])
def test_bad_process_count_is_a_readable_error(build_dir, built, value, expected):
    result = subprocess.run(CLI + ["serve", "--port", "0", "--processes", value], capture_output=True,
                            text=True, timeout=60, env={**os.environ, "KARABAKH_KG_BUILD_DIR": str(build_dir)})
    assert result.returncode == 1
    assert expected in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("http_server", HTTP_SERVERS)
def test_port_in_use_is_a_readable_error(build_dir, built, http_server):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = subprocess.run(CLI + ["serve", "--port", str(port), "--processes", "2", "--http-server", http_server],
                                capture_output=True,
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
    if "granian" in args:  # "ready" means one worker answers; each listens once it has started
        _wait_listening(endpoint, int(args[args.index("--processes") + 1]) if "--processes" in args else 1)
    return process, endpoint


def _wait_listening(endpoint: str, count: int) -> None:
    port = int(endpoint.rsplit(":", 1)[1].split("/")[0])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and _listeners(port) < count:
        time.sleep(0.05)
    assert _listeners(port) == count


def _wait_gone(pids: list[int], limit: float = 20.0) -> list[int]:
    """The processes among ``pids`` still alive after waiting up to ``limit`` seconds for them to end."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and [pid for pid in pids if _alive(pid)]:
        time.sleep(0.05)
    return [pid for pid in pids if _alive(pid)]


@pytest.mark.parametrize("http_server", HTTP_SERVERS)
@pytest.mark.parametrize("count", ["1", "2"])
def test_sigterm_to_the_whole_group_stops_quietly(build_dir, built, count, http_server):
    process, _endpoint = _start_in_own_group(build_dir, "--processes", count, "--http-server", http_server)
    everything = _descendants(process.pid)
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(20)
    errors = process.stderr.read()
    assert process.returncode == 0, errors
    assert "Traceback" not in errors and "failed" not in errors, errors
    assert not _wait_gone(everything, 5)


@pytest.mark.parametrize("http_server", HTTP_SERVERS)
def test_server_processes_end_with_a_killed_supervisor(build_dir, built, http_server):
    process, endpoint = _start_in_own_group(build_dir, "--processes", "2", "--http-server", http_server)
    _wait_for_children(process.pid, 2)
    everything = _descendants(process.pid)
    process.kill()
    process.wait(10)
    assert not _wait_gone(everything), "server processes outlived their supervisor"
    with pytest.raises(requests.ConnectionError):
        _get(endpoint, query="ASK {}")


def test_unknown_http_server_is_a_readable_error(build_dir, built):
    result = subprocess.run(CLI + ["serve", "--port", "0", "--http-server", "gunicorn"], capture_output=True,
                            text=True, timeout=60, env={**os.environ, "KARABAKH_KG_BUILD_DIR": str(build_dir)})
    assert result.returncode == 1
    assert "unknown http_server 'gunicorn'; choose one of: waitress, granian" in result.stderr
    assert "Traceback" not in result.stderr


def test_granian_url_limits(build_dir, built):
    """granian refuses a request line above 65,534 bytes itself (414, no body): long queries go by
    POST, which takes up to max_request_bytes; a GET just under the limit reaches the app."""
    process, output = start(["--http-server", "granian"], env={"KARABAKH_KG_BUILD_DIR": str(build_dir),
                                                               "KARABAKH_KG_WARM_STORED_QUERIES": "false"})
    try:
        endpoint = re.search(r"SPARQL endpoint:\s+(\S+)", output).group(1)
        padding = "#" + "x" * 60_000 + "\n"
        assert _get(endpoint, query=padding + "ASK {}").json()["boolean"] is True
        assert _get(endpoint, query="#" + "x" * 70_000 + "\nASK {}").status_code == 414
        long_query = "#" + "x" * 500_000 + "\nASK {}"
        posted = requests.post(endpoint, data={"query": long_query}, timeout=20)
        assert posted.status_code == 200 and posted.json()["boolean"] is True
        too_big = requests.post(endpoint, data={"query": "#" + "x" * 1_200_000 + "\nASK {}"}, timeout=20)
        assert too_big.status_code == 413 and too_big.text.startswith("error: ")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(20)
    assert process.returncode == 0


def test_granian_on_a_host_name(build_dir, built):
    process, output = start(["--http-server", "granian", "--host", "localhost"],
                            env={"KARABAKH_KG_BUILD_DIR": str(build_dir), "KARABAKH_KG_WARM_STORED_QUERIES": "false"})
    try:
        endpoint = re.search(r"SPARQL endpoint:\s+(\S+)", output).group(1)
        assert _get(endpoint, query="ASK {}").json()["boolean"] is True
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(20)
    assert process.returncode == 0 and "Traceback" not in process.stderr.read()


def test_granian_workers_that_cannot_start_stop_the_command():
    """The app refusing to start (a KkgError) in granian's workers: one error line each, no
    traceback, never "ready", exit status 1 once granian sees the crash loop."""
    script = ("from karabakh_kg.graph.core.errors import KkgError\n"
              "from karabakh_kg.graph.core import settings\n"
              "from karabakh_kg.server.serving import granian_server\n"
              "def refuse(): raise KkgError('bad cors_origins', code='bad-setting')\n"
              "try:\n"
              "    granian_server.serve(refuse, settings.resolve({'port': 0}, environ={}), 2,\n"
              "                         on_ready=lambda base: print('READY', flush=True))\n"
              "except KkgError as exc:\n"
              "    print('KKG', exc, flush=True)\n"
              "    raise SystemExit(1)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "error: bad cors_origins" in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert "KKG the granian workers kept failing to start" in result.stdout
    assert "READY" not in result.stdout


def test_granian_missing_is_a_readable_error():
    script = ("import sys\nsys.modules['granian'] = None  # as if it were not installed\n"
              "from karabakh_kg.graph.core.errors import KkgError\n"
              "from karabakh_kg.server.serving import granian_server\n"
              "assert granian_server.check_http_server('waitress') == 'waitress'\n"
              "try:\n    granian_server.check_http_server('granian')\n"
              "except KkgError as exc:\n    print(exc)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "needs the granian package: pip install 'karabakh-kg[granian]'" in result.stdout
