"""Serving the app under granian, a Rust HTTP server (``serve --http-server granian``).

waitress parses HTTP, queues connections and writes responses in Python, which on the seed build
costs more than the answer itself: a cached answer takes about half a millisecond of one core under
waitress and a quarter under granian (hello-world Flask: 4,100 against 10,400 requests/s here).
granian runs the same WSGI app in Python threads and does the rest in Rust.

granian is also the process manager in this mode: ``--processes N`` becomes N granian workers, each
forked from this process after the build is loaded (the data is shared copy-on-write) and each
creating its own app (query workers, answer cache, warm-up). granian restarts a worker that dies
and stops when they keep dying (its "crash loop" check).

Differences from waitress a client can see: a request line (URL) longer than 65,534 bytes gets
granian's bare ``414 URI Too Long`` (use POST for long queries, as the SPARQL protocol advises), and
malformed HTTP gets granian's bare 400; everything the app answers is the same.
"""

from __future__ import annotations

import gc
import importlib
import multiprocessing
import multiprocessing.util
import os
import signal
import sys
import threading
import time
from typing import Callable

from flask import Flask

from ...graph.core.errors import KkgError
from ...graph.core.settings import ProcessChoice, Settings
from ..web.app import close_app

HTTP_SERVERS = ("waitress", "granian")
_CHOICE = ProcessChoice("http_server", HTTP_SERVERS)
_ANNOUNCE_POLL_SECONDS = 0.05


def check_http_server(name: str) -> str:
    """``name`` if it is a known HTTP server usable here, else a KkgError naming the choices."""
    _CHOICE.check(name)
    if name == "granian":
        try:
            importlib.import_module("granian")  # only whether it is there
        except ImportError:
            raise KkgError("http_server granian needs the granian package: pip install 'karabakh-kg[granian]' "
                           "(or pip install granian)", code="bad-setting") from None
        if "fork" not in multiprocessing.get_all_start_methods():
            raise KkgError("http_server granian needs fork() to share the loaded build with its "
                           "workers, which this system lacks; use waitress", code="bad-setting")
    return name


def serve(make_app: Callable[[], Flask], settings: Settings, count: int,
          on_ready: Callable[[str], None]) -> None:
    """Serve ``make_app()`` under granian with ``count`` worker processes until SIGINT or SIGTERM.

    ``on_ready(base_url)`` is called once the port answers a request, from a small process forked
    for that once granian has bound the port, since its loop gives no hook once workers serve.
    Raises KkgError when the port cannot be bound or the workers keep failing to start.
    """
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    from . import processes
    from . import waitress_server as runner

    with processes.listening_socket(settings) as probe:  # a clear error for a port in use; port 0 resolved
        host, port = probe.getsockname()[:2]  # granian takes an IP address, not a host name
    base = runner.address_url(host, port)
    server = Granian(
        "karabakh_kg.server.web.app:create_app",  # not imported: the loader below hands over the app
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=count,
        blocking_threads=max(1, int(settings.threads)),
        backlog=1024,
        http=HTTPModes.http1,
        websockets=False,
        http1_settings=HTTP1Settings(max_buffer_size=max(HTTP1Settings.max_buffer_size,
                                                         settings.max_request_bytes + runner.HEADER_MARGIN)),
        log_level=LogLevels.error,  # not its warning that 8 threads are many for 2 cores: they mostly wait
        respawn_failed_workers=True,
        workers_kill_timeout=max(10, int(settings.query_timeout) + 5),
    )
    main = os.getpid()
    failed = multiprocessing.get_context("fork").Event()

    def load_app(_target: str) -> Flask:
        """In each granian worker: stop on SIGTERM and end with the main process until granian's own
        handlers are in place, then the app, stopped with the worker; a KkgError is one line."""
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the main process stops us
        processes.end_with_parent(main)
        try:
            app = make_app()
        except KkgError as exc:
            sys.stderr.write(f"error: {exc}\n")
            sys.stderr.flush()
            failed.set()
            os._exit(1)
        multiprocessing.util.Finalize(app, close_app, args=(app,), exitpriority=10)
        return app

    server.on_startup(lambda: _fork_announcer(base, on_ready))
    multiprocessing.set_start_method("fork", force=True)  # granian forks its workers with the default method
    gc.collect()
    gc.freeze()  # the workers' collections then leave the shared objects' pages alone
    try:
        server.serve(target_loader=load_app)
    except OSError as exc:  # granian could not bind after all (port 0 taken since the probe)
        raise KkgError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", code="bad-setting") from exc
    except SystemExit as exc:
        if exc.code and failed.is_set():
            raise KkgError("the granian workers kept failing to start (the error above); stopped",
                           code="bad-setting") from None
        raise


def _fork_announcer(base: str, on_ready: Callable[[str], None]) -> None:
    """Fork a process that waits for the port to answer, calls ``on_ready`` and exits; it ends
    quietly with this process (a failed start never says ready)."""
    from . import processes
    from . import waitress_server as runner

    parent = os.getpid()
    pid = os.fork()
    if pid:
        threading.Thread(target=os.waitpid, args=(pid, 0), name="kkg-announcer-reaper", daemon=True).start()
        return
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        processes.end_with_parent(parent)
        while os.getppid() == parent:
            if runner.answers(base):
                on_ready(base)
                break
            time.sleep(_ANNOUNCE_POLL_SECONDS)
    except SystemExit:
        pass
    except BaseException:  # noqa: BLE001 - never return into the caller's code in a forked child
        code = 1
    finally:
        os._exit(code)

