"""Long commands show their progress on a terminal and nothing in a pipe.

The terminal is a real pseudo-terminal (``pty``) on the command's standard error, as a person's
shell gives it; the pipe is what scripts and CI get.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys

import pytest
from server_helpers import listener  # noqa: F401  (fixture)

CLI = [sys.executable, "-c", "from karabakh_kg.server.cli import main; main()"]


def _on_terminal(args) -> tuple[int, str, str]:
    """Run the command with standard error on a pseudo-terminal: exit status, stdout, terminal text."""
    master, slave = pty.openpty()
    process = subprocess.Popen(CLI + args, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the other end closed (Linux: EIO)
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    out = process.stdout.read().decode()
    return process.wait(timeout=300), out, seen.decode("utf-8", "replace")


def _commands(tmp_path, store_url: str) -> dict:
    build_dir = str(tmp_path / "b")
    return {
        "build": (["build", "--build-dir", build_dir], "build: validating"),
        "generate": (["generate", "--triples", "20000", "--output", str(tmp_path / "g.nt")],
                     "generate: generating: triples"),
        "export": (["export", "-f", "turtle", "--build-dir", build_dir, "-o", str(tmp_path / "x.ttl")],
                   "export: writing turtle"),
        "push": (["push", "--build-dir", build_dir, "--store-graph-store", store_url], "push: pushing graph 1 of"),
    }


@pytest.mark.parametrize("command", ["build", "generate", "export", "push"])
def test_progress_on_a_terminal_and_silence_in_a_pipe(tmp_path, listener, command):
    commands = _commands(tmp_path, listener.url)
    if command in ("export", "push"):
        assert subprocess.run(CLI + commands["build"][0], capture_output=True, timeout=300).returncode == 0
    args, shown = commands[command]
    status, out, terminal = _on_terminal(args)
    assert status == 0, terminal
    assert "\r" + shown in terminal
    assert "\r" not in out  # the result itself is never mixed with the status line
    piped = subprocess.run(CLI + args, capture_output=True, text=True, timeout=300)
    assert piped.returncode == 0, piped.stderr
    assert "\r" not in piped.stderr + piped.stdout
    assert shown not in piped.stderr
