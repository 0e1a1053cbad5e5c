"""A throwaway Virtuoso (open source) for the external-store tests: its own directory, its own
virtuoso.ini adapted from the packaged one, free ports, started in the foreground and killed at
the end.

The tests are skipped when ``virtuoso-t`` is not installed (``apt-get install virtuoso-opensource``
on Debian), unless ``KARABAKH_KG_REQUIRE_VIRTUOSO=1`` (as in CI), when they fail instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGED_INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")
DBA_USER, DBA_PASSWORD = "dba", "dba"  # the password of a freshly created database
START_TIMEOUT = 90.0


# Used when the package's postinst did not write its virtuoso.ini (it generates it; dpkg does not own it).
MINIMAL_INI = """[Database]
DatabaseFile = virtuoso.db
ErrorLogFile = virtuoso.log
LockFile = virtuoso.lck
TransactionFile = virtuoso.trx
xa_persistent_file = virtuoso.pxa
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = virtuoso-temp.db
TransactionFile = virtuoso-temp.trx
[Parameters]
ServerPort = 1111
DisableUnixSocket = 1
DirsAllowed = .
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
[HTTPServer]
ServerPort = 8890
ServerThreads = 10
Charset = UTF-8
[SPARQL]
ResultSetMaxRows = 10000
MaxQueryExecutionTime = 60
"""


def require_virtuoso() -> str:
    """The path of ``virtuoso-t``; skips the test (fails it under KARABAKH_KG_REQUIRE_VIRTUOSO=1) when absent."""
    found = shutil.which("virtuoso-t")
    if found:
        return found
    message = "Virtuoso is not installed (apt-get install virtuoso-opensource)"
    if os.environ.get("KARABAKH_KG_REQUIRE_VIRTUOSO") == "1":
        pytest.fail(message + ", and KARABAKH_KG_REQUIRE_VIRTUOSO=1 requires it")
    pytest.skip(message)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def adapted_ini(packaged: str, directory: Path, sql_port: int, http_port: int) -> str:
    """The packaged virtuoso.ini with its database files in ``directory`` and the two ports changed."""
    lines, section = [], ""
    for line in packaged.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped
        key = stripped.split("=", 1)[0].strip() if "=" in stripped and not stripped.startswith(";") else ""
        if section in ("[Database]", "[TempDatabase]") and key.endswith("File"):
            line = f"{key} = {directory / Path(stripped.split('=', 1)[1].split(';')[0].strip()).name}"
        elif section == "[Parameters]" and key == "ServerPort":
            line = f"ServerPort = 127.0.0.1:{sql_port}"
        elif section == "[Parameters]" and key == "DirsAllowed":
            line = f"DirsAllowed = ., {directory}, /usr/share/virtuoso-opensource-7/vad"
        elif section == "[HTTPServer]" and key == "ServerPort":
            line = f"ServerPort = 127.0.0.1:{http_port}"
        elif section == "[URIQA]" and key == "DefaultHost":
            line = f"DefaultHost = 127.0.0.1:{http_port}"
        lines.append(line)
    return "\n".join(lines) + "\n"


@dataclass
class Virtuoso:
    """A running Virtuoso: its process and URLs."""

    process: subprocess.Popen
    directory: Path
    http_port: int
    sql_port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def sparql(self) -> str:
        """The SPARQL 1.1 Protocol endpoint (read-only for the anonymous SPARQL user)."""
        return self.base + "/sparql"

    @property
    def graph_store(self) -> str:
        """The Graph Store HTTP Protocol endpoint that takes writes (HTTP Digest, user dba)."""
        return self.base + "/sparql-graph-crud-auth"

    def log(self) -> str:
        """The server's log so far (for failure messages)."""
        path = self.directory / "virtuoso.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def count(self, query: str) -> int:
        """The ``?n`` of a one-row SELECT, asked of Virtuoso directly."""
        url = self.sparql + "?" + urllib.parse.urlencode({"query": query, "format": "text/csv"})
        with urllib.request.urlopen(url, timeout=30) as answer:
            return int(answer.read().decode().splitlines()[1].strip('"'))


def start(directory: Path) -> Virtuoso:
    """Start a new Virtuoso with an empty database in ``directory``; returns once it answers SPARQL."""
    binary = require_virtuoso()
    sql_port, http_port = free_port(), free_port()
    ini = directory / "virtuoso.ini"
    packaged = PACKAGED_INI.read_text() if PACKAGED_INI.exists() else MINIMAL_INI
    ini.write_text(adapted_ini(packaged, directory, sql_port, http_port))
    process = subprocess.Popen([binary, "+foreground", "+configfile", str(ini)], cwd=directory,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Virtuoso(process, directory, http_port, sql_port)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"virtuoso-t exited with status {process.returncode}:\n{server.log()}")
        try:
            server.count("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
            return server
        except (OSError, ValueError, IndexError):
            time.sleep(0.3)
    stop(server)
    raise AssertionError(f"virtuoso-t did not answer within {START_TIMEOUT:g} s:\n{server.log()}")


def stop(server: Virtuoso) -> None:
    """Stop the server (SIGTERM, then SIGKILL if it lingers)."""
    server.process.terminate()
    try:
        server.process.wait(20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(5)
