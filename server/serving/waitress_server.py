"""Running the app under waitress (a production WSGI server), for ``karabakh-kg serve`` and for
the tests' live-server fixture alike.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field

import waitress
from flask import Flask

from ...graph.core.settings import Settings
from . import waitress_errors

# Waitress answers requests beyond its own limits itself; these margins leave every size decision
# within them to the app, which answers in the one error shape.
HEADER_MARGIN = 64 * 1024


def create_server(app: Flask, settings: Settings, sock: socket.socket | None = None):
    """A waitress server for ``app`` bound to the configured host and port (port 0: a free one), or
    accepting on ``sock``, a listening socket shared by several server processes."""
    where = {"sockets": [sock]} if sock is not None else {"host": settings.host, "port": int(settings.port)}
    server = waitress.create_server(
        app,
        **where,
        threads=max(1, int(settings.threads)),
        ident="karabakh-kg",
        # a long GET query string must reach the app, which answers 413 beyond max_request_bytes
        max_request_header_size=settings.max_request_bytes + HEADER_MARGIN,
        # waitress buffers bodies before calling the app; beyond this it refuses them with its own 413
        max_request_body_size=settings.max_request_bytes * 2 + HEADER_MARGIN,
        channel_timeout=max(30, int(settings.query_timeout) * 3),
        expose_tracebacks=False,
        clear_untrusted_proxy_headers=True,
    )
    waitress_errors.install(server, settings.max_request_bytes)  # its own 413s in the one error shape
    return server


def base_url(server) -> str:
    """The server's base URL (``http://127.0.0.1:5000``), with the port it really listens on."""
    return address_url(server.effective_host, server.effective_port)


def address_url(host: str, port: int) -> str:
    """The base URL for a listening address (a wildcard host becomes the loopback address)."""
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif ":" in str(host):
        host = f"[{host}]" if host not in ("::",) else "[::1]"
    return f"http://{host}:{port}"


def urls(base: str) -> dict[str, str]:
    """The URLs worth printing at start-up, under the base URL ``base``."""
    return {"SPARQL endpoint": f"{base}/sparql", "home page": f"{base}/", "query page": f"{base}/query",
            "stored queries": f"{base}/queries", "data": f"{base}/data"}


def answers(base: str) -> bool:
    """Whether a server answers ``ASK {}`` at ``base`` (a request made before any server process
    has started waits in the listening socket's queue)."""
    import urllib.error
    import urllib.request

    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via an http_proxy
    try:
        with direct.open(f"{base}/sparql?query=ASK%7B%7D", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


@dataclass
class Background:
    """A server running in a thread (tests, benchmarks): its base URL and how to stop it."""

    server: object
    thread: threading.Thread
    url: str
    stopping: threading.Event = field(default_factory=threading.Event)

    def stop(self) -> None:
        """Close the listening socket and open connections, stop the threads, end the server loop."""
        from waitress import wasyncore

        self.stopping.set()
        self.server.close()
        wasyncore.close_all(self.server._map)
        self.server.task_dispatcher.shutdown(timeout=5)
        self.thread.join(5)


def start_in_background(app: Flask, settings: Settings) -> Background:
    """Serve ``app`` from a daemon thread, exactly as ``serve`` does from the main thread."""
    server = create_server(app, settings)
    stopping = threading.Event()

    def run() -> None:
        try:
            server.run()
        except OSError:  # stop() closed the loop's sockets while it was waiting on them
            if not stopping.is_set():
                raise

    thread = threading.Thread(target=run, name="karabakh-kg-waitress", daemon=True)
    thread.start()
    return Background(server, thread, base_url(server), stopping)
