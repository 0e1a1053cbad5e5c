"""``karabakh-kg serve``: the SPARQL endpoint under waitress or granian, over the build held in process or,
with ``--store-endpoint``, in front of an external SPARQL store."""

from __future__ import annotations

import signal
import time

import click

from .support import load_build, reports_errors, resolved, setting_options

SERVER_SETTINGS = ("host", "port", "threads", "query_timeout", "max_rows", "max_request_bytes",
                   "max_concurrent_queries", "queue_wait", "query_workers", "slow_query_seconds",
                   "max_slow_queries", "client_query_seconds", "query_memory_mb", "cors_origins",
                   "federation_allow_list", "wikidata_endpoint", "cache_max_age", "answer_cache_mb",
                   "warm_stored_queries", "processes", "http_server", "build_dir", "reasoner", "engine",
                   "store_endpoint", "store_user", "store_password")


@click.command("serve")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@setting_options(*SERVER_SETTINGS)
@reports_errors
def serve(files, **options):
    """Serve the SPARQL endpoint, query page, stored queries and exports over HTTP (granian, or waitress with --http-server waitress).

    FILES are extra RDF files served beside the build: TriG, N-Quads and JSON-LD keep their
    named graphs, any other file gets a named graph of its own (printed below).

    With --store-endpoint URL the server fronts an external SPARQL store holding the pushed build
    (`karabakh-kg push`): the same URLs, every query evaluated by the store.
    """
    from ...graph import sparql
    from ...graph.core import sizing
    from ..serving import granian_server, processes
    from ..serving import waitress_server as runner
    from ..web.app import close_app, create_app
    from . import extra_files

    started = time.perf_counter()
    settings = sizing.resolved(resolved(options))
    count = processes.check_count(int(settings.processes))
    http_server = granian_server.check_http_server(settings.http_server)
    extra_version = ""
    if settings.store_endpoint:
        build = _store(settings, files)
    else:
        build = load_build(settings)
        if count > 1 or http_server == "granian":
            build.dataset  # loaded once, here, and shared by the server processes
    if files:
        added, extra_version = extra_files.add_files(build.dataset, list(files))
        for item in added:
            click.echo(f"serving {item.path} ({item.triples} triples) in {', '.join(item.graphs)}")
    signal.signal(signal.SIGTERM, _stop)  # so that `kill` also stops the query workers
    ledger = sparql.BudgetLedger()  # one slow-query budget per client across the server processes

    def make_app():
        return create_app(build=build, settings=settings, extra_version=extra_version,
                          supervised=http_server == "granian" or count > 1, budget_ledger=ledger)

    def serve_on(sock=None) -> None:
        app = make_app()
        try:
            server = runner.create_server(app, settings, sock)
            if sock is None:
                _announce(runner.base_url(server), settings, started, count)
            try:
                server.run()
            except KeyboardInterrupt:
                click.echo("stopped")
        finally:
            close_app(app)

    if http_server == "granian":
        granian_server.serve(make_app, settings, count,
                             on_ready=lambda base: _announce(base, settings, started, count))
        click.echo("stopped")
        return
    if count == 1:
        serve_on()
        return
    sock = processes.listening_socket(settings)
    base = runner.address_url(*sock.getsockname()[:2])
    status = processes.run(count, lambda: serve_on(sock), answers=lambda: runner.answers(base),
                           on_ready=lambda: _announce(base, settings, started, count))
    if status:
        raise SystemExit(status)
    click.echo("stopped")


def _announce(base: str, settings, started: float, count: int) -> None:
    """Print the URLs and the figures that bound the service."""
    from ..serving import waitress_server as runner

    for label, url in runner.urls(base).items():
        click.echo(f"{label + ':':<17} {url}")
    each = " each" if count > 1 else ""
    served_by = f"{count} server processes, " if count > 1 else ""
    click.echo(f"ready in {time.perf_counter() - started:.1f} s ({served_by}{settings.query_workers} query "
               f"workers{each}, {settings.query_timeout:g} s per query, {settings.max_rows} rows at most); "
               f"Ctrl-C stops", err=False)


def _store(settings, files):
    """The external store to front, once it has answered a query (a clear error, not a server
    that fails every request, when it cannot be reached)."""
    from ...graph.core.errors import KkgError
    from ...graph.sparql import RemoteStore

    if files:
        raise KkgError("extra files cannot be served beside an external store (setting store_endpoint): "
                       "load them into the store instead", code="bad-setting")
    store = RemoteStore.from_settings(settings)
    store.check()
    click.echo(f"{'SPARQL store:':<17} {store.endpoint} (every query is evaluated there)")
    return store


_stopping = False


def _stop(signum, frame):
    """SIGTERM: stop as Ctrl-C does. Only the first one raises: a second (the query service ending
    this process because its spawner ended with the group) must not raise again inside the cleanup
    the first started, where it would print a traceback from a finaliser."""
    global _stopping
    if _stopping:
        return
    _stopping = True
    raise SystemExit(0)

