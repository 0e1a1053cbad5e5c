"""Worker processes that evaluate queries and can be stopped at the time limit.

rdflib cannot be interrupted inside a thread, so queries run in separate processes that share the
loaded dataset copy-on-write and are killed (SIGKILL) when they overrun.

Forking a process that runs server threads is hazardous (a lock held by another thread stays held
in the child, and the child inherits the clients' sockets), so the pool forks one single-threaded
*spawner* (a multiprocessing 'fork' process) right after the dataset is loaded, before the HTTP
server starts. Every worker, the first ones and each replacement for a killed one, is forked from
that spawner, which hands it a socket the server process created (sent over a Unix socket with
SCM_RIGHTS). The server process talks to each worker over that socket and kills it by pid.

A query waits for a free worker (the queue) at most ``wait`` seconds. A query still running after
``slow_after`` seconds is slow: at most ``max_slow`` run at once (one more is stopped), so that
the other workers stay free for queries that finish fast, and a slow one runs at a lower CPU
priority. When the spawner ends, or keeps failing, the pool is *broken*: ``broken`` says why and
``on_broken`` is called once (the endpoint reports itself unhealthy and, when a supervisor can
replace the server process, ends it).
"""

from __future__ import annotations

import gc
import logging
import math
import multiprocessing
import os
import queue
import select
import signal
import socket
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Callable

from ..core.errors import KkgError
from . import hardening, safety
from . import worker as worker_mod

log = logging.getLogger("karabakh_kg.graph.sparql.pool")

_SPAWN_TIMEOUT = 10.0  # seconds a new worker may take to say hello
_SPAWN_FAILURES_BROKEN = 3  # failed spawns in a row after which the spawner counts as broken
SLOW_NICENESS = 10  # CPU priority (nice value) of a worker while it runs a slow query


@dataclass
class _Worker:
    pid: int
    conn: Connection


def _address_space() -> int | None:
    """This process's virtual memory size in bytes (Linux), or None where it cannot be read."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return None


def _limit_memory(base: int | None, extra_mb: int) -> None:
    """Cap the worker's address space at ``base`` (the spawner's size) plus ``extra_mb``."""
    if extra_mb <= 0 or base is None:
        return
    try:
        import resource

        limit = base + extra_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, OSError, ValueError):
        log.warning("could not cap query worker memory on this system")


STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}  # the signals that stop a server


def _set_niceness(pid: int, niceness: int) -> bool:
    """Set a worker's CPU priority (nice value); False where this process may not (raising it back
    needs privileges) or the worker is gone."""
    try:
        os.setpriority(os.PRIO_PROCESS, pid, niceness)
        return True
    except (OSError, AttributeError):
        return False


def _worker_main(conn: Connection, dataset, config: worker_mod.Config, hard_limit: int,
                 memory_cap: tuple[int | None, int]) -> None:
    """A worker's life: say its pid, then answer jobs until the server closes its socket."""
    _limit_memory(*memory_cap)
    try:
        conn.send(os.getpid())
    except OSError:  # the server process that asked for this worker has ended meanwhile
        return
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        signal.alarm(hard_limit)  # a backstop if the server process is gone: SIGALRM ends the worker
        reply = worker_mod.execute(dataset, job, config)
        signal.alarm(0)
        try:
            conn.send(reply)
        except (OSError, ValueError):
            return


def _neutralise_inherited_sockets(keep: int) -> None:
    """Point every inherited socket descriptor but ``keep`` at /dev/null.

    The spawner inherits the server's sockets (its end of the control socket, other pools'
    workers, listening and client sockets); holding them would keep connections open after the
    server closes them. Closing the numbers outright is unsafe because the Python objects that own
    them may close the same numbers again later, when they might name a worker's socket; a
    /dev/null duplicate is harmless to close.
    """
    import stat

    try:
        numbers = [int(n) for n in os.listdir("/proc/self/fd")]
    except OSError:
        numbers = list(range(3, 1024))
    null = os.open(os.devnull, os.O_RDWR)
    for number in numbers:
        if number in (keep, null) or number < 3:
            continue
        try:
            if stat.S_ISSOCK(os.fstat(number).st_mode):
                os.dup2(null, number)
        except OSError:
            continue
    os.close(null)


def _spawner_main(control: socket.socket, dataset, config: worker_mod.Config, hard_limit: int,
                  memory_mb: int) -> None:
    """The spawner: warm up, lock down, then fork one worker per socket the server sends."""
    _neutralise_inherited_sockets(control.fileno())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # workers are reaped automatically
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the command's handler: a SIGTERM ends us quietly
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # blocked by the server around the fork
    hardening.harden()
    worker_mod.warm_up(dataset, config)
    base_size = _address_space()  # read before the guard forbids reading /proc
    safety.install_guard(config.allow_list, config.store_hosts)
    gc.collect()
    gc.freeze()  # keep the garbage collector from touching (and so copying) the shared pages
    while True:
        try:
            message, fds, _flags, _address = socket.recv_fds(control, 16, 1)
        except OSError:
            break
        if not message or not fds:
            break
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                control.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                _worker_main(Connection(fds[0]), dataset, config, hard_limit, (base_size, memory_mb))
            except BaseException:  # noqa: BLE001 - a worker must never return into the spawner loop
                log.exception("query worker failed")
                code = 1
            finally:
                os._exit(code)
        os.close(fds[0])
    os._exit(0)


class WorkerPool:
    """A fixed number of query worker processes, stoppable at the time limit.

    ``run(job, timeout)`` sends a job to an idle worker and returns its reply; a worker that
    overruns is killed and replaced, and the caller gets a 503 KkgError naming the limit.
    """

    def __init__(self, dataset, size: int, config: worker_mod.Config, memory_mb: int = 0,
                 hard_limit: float = 60.0, slow_after: float = 0.0, max_slow: int = 0,
                 on_broken: Callable[[str], None] | None = None):
        self.size = max(1, int(size))
        self.slow_after = max(0.0, float(slow_after))
        self.max_slow = max(0, int(max_slow))
        self.on_broken = on_broken
        self.broken: str | None = None  # why the pool cannot start workers any more, once it cannot
        self.slow = 0  # queries running past slow_after now
        self.waiting = 0  # queries waiting for a free worker now
        self._spawn_failures = 0
        self._dataset = dataset
        self._config = config
        self._memory_mb = memory_mb
        self._hard_limit = max(2, int(math.ceil(hard_limit)))
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._busy: dict[int, _Worker] = {}
        self._alive = 0
        self._lock = threading.Lock()
        self._control_lock = threading.Lock()
        self._control: socket.socket | None = None
        self._spawner = None
        self.closed = False

    def start(self) -> "WorkerPool":
        """Fork the spawner (call this before starting server threads) and the first workers."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        context = multiprocessing.get_context("fork")
        self._spawner = context.Process(
            target=_spawner_main, name="karabakh-kg-spawner", daemon=True,
            args=(theirs, self._dataset, self._config, self._hard_limit, self._memory_mb))
        # a stop signal arriving during the fork waits until it is over: its handler raising in
        # the middle of the fork's own handlers would be printed and lost
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            self._spawner.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        theirs.close()
        self._control = ours
        threading.Thread(target=self._watch_spawner, name="kkg-spawner-watch", daemon=True).start()
        for _ in range(self.size):
            with self._lock:
                self._alive += 1
            self._add_counted_worker()
        return self

    def _watch_spawner(self) -> None:
        """Wait for the spawner to end; unless the pool is closing, the pool is then broken.

        Not on the process's sentinel: the workers forked from the spawner inherit its write end,
        so it would wait for them too. A pidfd (Linux) is readable once the process has ended;
        elsewhere the spawner is looked at every second."""
        pid = self._spawner.pid
        try:
            handle = os.pidfd_open(pid)
        except (AttributeError, OSError):
            while not self.closed and self._spawner.is_alive():
                time.sleep(1.0)
        else:
            try:
                select.select([handle], [], [])
            finally:
                os.close(handle)
        if not self.closed:
            self._mark_broken(f"the query-worker spawner (pid {self._spawner.pid}) ended")

    def _mark_broken(self, reason: str) -> None:
        """Remember why no new worker can start, and tell ``on_broken`` (once)."""
        with self._lock:
            if self.broken is not None or self.closed:
                return
            self.broken = reason
        log.error("query workers: %s; no new query worker can start", reason)
        if self.on_broken is not None:
            self.on_broken(reason)

    def _add_counted_worker(self) -> None:
        """Fork a worker already counted in ``_alive`` and make it idle; uncount it if the fork fails."""
        try:
            self._idle.put(self._spawn())
        except KkgError:
            with self._lock:
                self._alive -= 1
            raise

    def _spawn(self) -> _Worker:
        """Ask the spawner for a new worker; returns it once it has said its pid."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            with self._control_lock:
                if self._control is None:
                    raise OSError("the pool is closed")
                socket.send_fds(self._control, [b"w"], [theirs.fileno()])
        except OSError:
            ours.close()
            if not self.closed:
                self._mark_broken("the query-worker spawner no longer takes requests")
            raise KkgError("the query workers are not running (the server is shutting down or "
                           "broken); try again later", code="no-workers", status=503,
                           headers={"Retry-After": "10"}) from None
        finally:
            theirs.close()
        conn = Connection(ours.detach())
        if not conn.poll(_SPAWN_TIMEOUT):
            conn.close()
            self._spawn_failed()
            raise KkgError("a query worker did not start in time", code="no-workers", status=503,
                           headers={"Retry-After": "10"})
        try:
            pid = conn.recv()
        except (EOFError, OSError):
            conn.close()
            self._spawn_failed()
            raise KkgError("a query worker failed to start", code="no-workers", status=503,
                           headers={"Retry-After": "10"}) from None
        with self._lock:
            self._spawn_failures = 0
        return _Worker(pid, conn)

    def _spawn_failed(self) -> None:
        with self._lock:
            self._spawn_failures += 1
            failures = self._spawn_failures
        if failures >= _SPAWN_FAILURES_BROKEN:
            self._mark_broken(f"{failures} query workers in a row failed to start")

    def _checkout(self, wait: float) -> _Worker:
        """An idle live worker, a newly spawned one if the pool is short, or one freed within ``wait``
        seconds (waiting in turn with the other queries: the queue)."""
        deadline = time.monotonic() + wait
        with self._lock:
            self.waiting += 1
        try:
            while True:
                try:
                    found = self._idle.get_nowait()
                except queue.Empty:
                    found = self._spawn_if_short()
                    if found is None:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            raise KkgError(f"every query worker stayed busy for {wait:g} s (setting queue_wait); "
                                           f"try again shortly", code="busy", status=503,
                                           headers={"Retry-After": "2"})
                        try:
                            found = self._idle.get(timeout=min(remaining, 0.25))
                        except queue.Empty:
                            continue
                if found.conn.poll(0):  # an idle worker only has something to say if it died
                    self._discard(found)
                    continue
                return found
        finally:
            with self._lock:
                self.waiting -= 1

    def _spawn_if_short(self) -> _Worker | None:
        with self._lock:
            if self._alive >= self.size or self.closed:
                return None
            self._alive += 1
        try:
            return self._spawn()
        except KkgError:
            with self._lock:
                self._alive -= 1
            raise

    def _discard(self, found: _Worker) -> None:
        """Kill a worker (it overran, died or is suspect) and forget it; a replacement comes lazily."""
        try:
            os.kill(found.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        found.conn.close()
        with self._lock:
            self._alive -= 1
            self._busy.pop(found.pid, None)

    def _replace(self) -> None:
        """Start a replacement worker now, so the next query does not wait for a fork."""
        with self._lock:
            if self._alive >= self.size or self.closed:
                return
            self._alive += 1
        try:
            self._add_counted_worker()
        except KkgError:
            log.warning("could not start a replacement query worker; will retry on demand")

    def run(self, job: worker_mod.Job, timeout: float, limit: float | None = None,
            wait: float | None = None, on_ran: Callable[[float], None] | None = None,
            retire: bool = False) -> dict:
        """Evaluate a job in a worker within ``timeout`` seconds; a 503 KkgError naming the time
        limit (``limit``, else ``timeout``) when it overruns, or when it becomes slow while
        ``max_slow`` slow queries run already.

        Waiting for an idle worker is bounded by ``wait`` (else ``timeout``) seconds.
        ``on_ran(seconds)`` is told how long the job held a worker (waiting in the queue not counted).
        ``retire``: the worker is replaced after the job, with the memory the job made it hold.
        """
        if self.closed:
            raise KkgError("the server is shutting down", code="no-workers", status=503,
                           headers={"Retry-After": "10"})
        found = self._checkout(timeout if wait is None else wait)
        with self._lock:
            self._busy[found.pid] = found
        try:
            found.conn.send(job)
        except (OSError, ValueError):
            self._discard(found)
            raise KkgError("a query worker died; try again", code="worker-died", status=503,
                           headers={"Retry-After": "1"}) from None
        sent = time.monotonic()
        try:
            answered, demoted = self._await(found, timeout)
        finally:
            if on_ran is not None:  # the time this query held a worker, however it ended
                on_ran(time.monotonic() - sent)
        if not answered:
            self._discard(found)
            self._replace()
            limit = timeout if limit is None else limit
            raise KkgError(f"the query was stopped after {limit:g} s, the time limit for one query "
                           f"(setting query_timeout); simplify it or add a LIMIT",
                           code="timeout", status=503, headers={"Retry-After": str(max(1, round(timeout)))})
        try:
            reply = found.conn.recv()
        except (EOFError, OSError):
            self._discard(found)
            self._replace()
            raise KkgError("the query worker died while evaluating this query; it may have needed more memory "
                           "than a query may use (setting query_memory_mb)",
                           code="worker-crashed", status=503, headers={"Retry-After": "5"}) from None
        if retire or reply.get("replace") or (demoted and not _set_niceness(found.pid, 0)):
            self._discard(found)
            self._replace()
        else:
            with self._lock:
                self._busy.pop(found.pid, None)
            self._idle.put(found)
        return reply

    def _await(self, found: _Worker, timeout: float) -> tuple[bool, bool]:
        """Wait up to ``timeout`` seconds for the worker's reply: whether it came, and whether the
        worker's CPU priority was lowered meanwhile (the query became slow). A query becoming slow
        while ``max_slow`` others are is stopped with a 503 KkgError."""
        if not self.slow_after or self.slow_after >= timeout:
            return found.conn.poll(timeout), False
        started = time.monotonic()
        if found.conn.poll(self.slow_after):
            return True, False
        with self._lock:
            allowed = not self.max_slow or self.slow < self.max_slow
            if allowed:
                self.slow += 1
        if not allowed:
            self._discard(found)
            self._replace()
            raise KkgError(f"the query was stopped after {self.slow_after:g} s: {self.max_slow} slow queries "
                           f"were already running (setting max_slow_queries); retry later, or simplify it",
                           code="too-many-slow-queries", status=503,
                           headers={"Retry-After": str(max(1, round(timeout)))})
        demoted = _set_niceness(found.pid, SLOW_NICENESS)
        try:
            return found.conn.poll(max(0.0, timeout - (time.monotonic() - started))), demoted
        finally:
            with self._lock:
                self.slow -= 1

    def state(self) -> dict:
        """The pool now: workers alive, busy and idle, slow queries, queries waiting (for /health)."""
        with self._lock:
            return {"size": self.size, "alive": self._alive, "busy": len(self._busy), "idle": self._idle.qsize(),
                    "slow": self.slow, "max_slow": self.max_slow, "waiting": self.waiting}

    def pids(self) -> list[int]:
        """The pids of the live workers (for tests and diagnostics)."""
        with self._lock:
            busy = list(self._busy)
        return busy + [w.pid for w in list(self._idle.queue)]

    @property
    def spawner_pid(self) -> int | None:
        """The spawner's pid, or None before start."""
        return self._spawner.pid if self._spawner else None

    def close(self) -> None:
        """Stop every worker and the spawner."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            busy = list(self._busy.values())
        with self._control_lock:
            if self._control is not None:
                self._control.close()
                self._control = None
        while True:
            try:
                found = self._idle.get_nowait()
            except queue.Empty:
                break
            found.conn.close()  # an idle worker exits when its socket closes
        for found in busy:
            try:
                os.kill(found.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self._spawner is not None:
            self._spawner.join(5)
            if self._spawner.is_alive():
                self._spawner.kill()
                self._spawner.join(1)
