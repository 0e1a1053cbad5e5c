"""Several HTTP server processes on one port, sharing one loaded build (``serve --processes N``).

One Python process answers HTTP with one core at a time (the GIL): on the seed build the server
process, not the queries, is what limits throughput. With ``processes`` above 1 the command loads
the build and binds the listening socket once, then forks that many server processes, each with
its own app (query workers, answer cache, warm-up) accepting connections on the shared socket; the
kernel hands each new connection to one of them. The loaded data is shared copy-on-write.

The parent forks before it starts any thread and then only supervises: it replaces a server
process that dies (unless they keep dying at start-up) and stops them all on SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import socket
import sys
import time
from typing import Callable

from ...graph.core.errors import KkgError
from ...graph.core.settings import Settings
from ...graph.sparql import STOP_SIGNALS

log = logging.getLogger("karabakh_kg.server.serving.processes")

# A server process that dies within this many seconds of being forked counts as failing to start.
_EARLY_DEATH_SECONDS = 5.0
_MAX_EARLY_DEATHS = 3
_STOP_GRACE_SECONDS = 10.0
_POLL_SECONDS = 0.5
_READY_POLL_SECONDS = 0.05
_PR_SET_PDEATHSIG = 1  # prctl(2)


def listening_socket(settings: Settings) -> socket.socket:
    """A socket bound to the configured host and port and listening, for the server processes to
    share (port 0: a free one). Raises KkgError naming the address when it cannot be bound."""
    host, port = settings.host, int(settings.port)
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(1024)
    except OSError as exc:
        raise KkgError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                       code="bad-setting") from exc
    return sock


def check_count(count: int) -> int:
    """``count`` when this system can fork that many server processes, else a KkgError."""
    if count < 1:
        raise KkgError(f"processes must be 1 or more (0: one per core), not {count}", code="bad-setting")
    if count > 1 and not (hasattr(os, "fork") and hasattr(signal, "sigtimedwait")):
        raise KkgError("processes above 1 needs fork() and sigtimedwait(), which this system lacks",
                       code="bad-setting")
    return count


def run(count: int, serve_one: Callable[[], None], answers: Callable[[], bool] = lambda: True,
        on_ready: Callable[[], None] = lambda: None) -> int:
    """Fork ``count`` processes running ``serve_one()`` and supervise them until SIGTERM or SIGINT.

    ``on_ready()`` is called once ``answers()`` is true (the port answers a request), so that
    "ready" is not said before any server process is. Returns the exit status for the command: 0
    when stopped on request, 1 when the server processes kept failing at start-up. Call it before
    this process starts any thread. The stop signals are blocked here and waited for, so none can
    arrive between a fork and its bookkeeping.
    """
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    gc.collect()
    gc.freeze()  # the server processes' collections then leave the shared objects' pages alone
    parent = os.getpid()
    children: dict[int, float] = {}
    early_deaths = 0
    try:
        for _ in range(count):
            pid, started = _fork(serve_one, parent)
            children[pid] = started
        ready = False
        while signal.sigtimedwait(STOP_SIGNALS, _POLL_SECONDS if ready else _READY_POLL_SECONDS) is None:
            if not ready and answers():
                ready = True
                on_ready()
            for pid, status in _ended():
                started = children.pop(pid, None)
                if started is None:  # not a server process (a reparented grandchild)
                    continue
                lived = time.monotonic() - started
                log.warning("server process %d ended (%s) after %.1f s", pid, _describe(status), lived)
                early_deaths = early_deaths + 1 if lived < _EARLY_DEATH_SECONDS else 0
                if early_deaths >= _MAX_EARLY_DEATHS:
                    log.error("server processes keep ending at start-up; stopping")
                    return 1
                pid, started = _fork(serve_one, parent)
                children[pid] = started
        return 0
    finally:
        _stop_all(children)
        while signal.sigtimedwait(STOP_SIGNALS, 0) is not None:
            pass  # a second Ctrl-C while stopping: already stopping, not an abort
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def _ended() -> list[tuple[int, int]]:
    """The children that have ended since the last call, with their wait statuses."""
    ended = []
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return ended
        if not pid:
            return ended
        ended.append((pid, status))


def _fork(serve_one: Callable[[], None], parent: int) -> tuple[int, float]:
    """Fork one server process; in the child, run ``serve_one`` and never return."""
    pid = os.fork()
    if pid:
        return pid, time.monotonic()
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent stops us
        end_with_parent(parent)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # SIGTERM: the command's own handler
        serve_one()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except KkgError as exc:  # a setting or file the app refuses: one line, as the command prints it
        sys.stderr.write(f"error: {exc}\n")
        code = 1
    except BaseException:  # noqa: BLE001 - a child must never return into the parent's loop
        log.exception("server process failed")
        code = 1
    finally:
        os._exit(code)


def end_with_parent(parent: int) -> None:
    """Have the kernel send this process SIGTERM when ``parent`` dies (Linux), so that a supervisor
    killed with SIGKILL leaves no server holding the port; exit now if it is already gone."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the supervisor's own SIGTERM is the only stop
        return
    if os.getppid() != parent:
        raise SystemExit(0)


def _stop_all(children: dict[int, float]) -> None:
    """SIGTERM every server process, wait for them (SIGKILL after a grace period)."""
    for pid in children:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + _STOP_GRACE_SECONDS
    waiting = set(children)
    while waiting and time.monotonic() < deadline:
        for pid in list(waiting):
            try:
                done, _status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                waiting.discard(pid)
        time.sleep(0.05)
    for pid in waiting:
        _signal(pid, signal.SIGKILL)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"
