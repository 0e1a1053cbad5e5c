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

import importlib.util
import multiprocessing
import os
import signal
import threading
import time
from typing import Callable

from flask import Flask

from ..graph.errors import KkgError
from ..graph.settings import Settings

HTTP_SERVERS = ("waitress", "granian")

# Headers (with the query string) up to max_request_bytes must reach the app, which answers 413.
_HEADER_MARGIN = 64 * 1024
_ANNOUNCE_POLL_SECONDS = 0.05


def check_http_server(name: str) -> str:
    """``name`` if it is a known HTTP server usable here, else a KkgError naming the choices."""
    if name not in HTTP_SERVERS:
        raise KkgError(f"unknown http_server {name!r}; choose one of: {', '.join(HTTP_SERVERS)}",
                       code="bad-setting")
    if name == "granian":
        if importlib.util.find_spec("granian") is None:
            raise KkgError("http_server granian needs the granian package: pip install granian",
                           code="bad-setting")
        if multiprocessing.get_start_method() != "fork":
            raise KkgError("http_server granian needs fork() to share the loaded build with its "
                           "workers, which this system does not use by default; use waitress",
                           code="bad-setting")
    return name


def serve(make_app: Callable[[], Flask], settings: Settings, count: int,
          on_ready: Callable[[str], None]) -> None:
    """Serve ``make_app()`` under granian with ``count`` worker processes until SIGINT or SIGTERM.

    ``on_ready(base_url)`` is called once the port answers a request, from a small process forked
    for that, since granian's own loop gives no hook once its workers serve. Raises KkgError when
    the port cannot be bound.
    """
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces
    from granian.log import LogLevels
    from granian.http import HTTP1Settings

    from . import processes, runner

    host = settings.host
    with processes.listening_socket(settings) as probe:  # a clear error for a port in use; port 0 resolved
        port = probe.getsockname()[1]
    base = runner.address_url(host, port)
    server = Granian(
        "karabakh_kg.server.app:create_app",  # not imported: the loader below hands over the app
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=count,
        blocking_threads=max(1, int(settings.threads)),
        backlog=1024,
        http=HTTPModes.http1,
        websockets=False,
        http1_settings=HTTP1Settings(max_buffer_size=max(HTTP1Settings.max_buffer_size,
                                                         settings.max_request_bytes + _HEADER_MARGIN)),
        log_level=LogLevels.error,  # not its warning that 8 threads are many for 2 cores: they mostly wait
        respawn_failed_workers=True,
        workers_kill_timeout=max(10, int(settings.query_timeout) + 5),
    )
    main = os.getpid()

    def load_app(_target: str) -> Flask:
        """In each granian worker: end with the main process, whatever kills it, then the app."""
        processes.end_with_parent(main)
        return make_app()

    _fork_announcer(base, on_ready)
    server.serve(target_loader=load_app)


def _fork_announcer(base: str, on_ready: Callable[[str], None]) -> None:
    """Fork a process that waits for the port to answer, calls ``on_ready`` and exits; it ends
    quietly with this process (a failed start never says ready)."""
    from . import processes, runner

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

