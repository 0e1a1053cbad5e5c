"""``karabakh-kg serve``: the SPARQL endpoint under waitress, over the build held in process."""

from __future__ import annotations

import signal
import time

import click

from ..graph import build as build_mod
from ..graph import engine as engine_mod
from ..graph import settings as settings_mod
from ..graph.errors import KkgError

# The command line's helpers live in cli.py, which imports this module to register `serve`; they
# are restated here (from the same settings table) so that this module never imports cli.py,
# which would be circular when cli.py runs as __main__.


def setting_options(*names: str):
    """Add the named settings as options (help text, environment variable and default from the table)."""
    def decorate(func):
        for name in reversed(names):
            setting = next(s for s in settings_mod.SETTINGS if s.name == name)
            func = click.option(setting.flag, name, default=None,
                                help=f"{setting.help} [env {setting.env_var}; default {setting.default!r}]")(func)
        return func
    return decorate


def resolved(values: dict) -> settings_mod.Settings:
    """Settings from the options given, then KARABAKH_KG_* variables, then defaults; the engine
    (rdflib or Oxigraph) is fixed for the process here, as the other commands do."""
    known = {s.name for s in settings_mod.SETTINGS}
    settings = settings_mod.resolve({k: v for k, v in values.items() if k in known})
    engine_mod.use(settings.engine)
    return settings


def reports_errors(func):
    """Print a KkgError as ``error: where: message`` and exit 1, never a traceback."""
    import functools
    import sys

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except KkgError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
    return wrapper


def _load(settings) -> build_mod.Build:
    if not build_mod.is_fresh(settings.build_dir, settings.reasoner):
        click.echo(f"building into {settings.build_dir} (no build there, or its inputs changed)", err=True)
    return build_mod.load(settings.build_dir, settings.reasoner)

SERVER_SETTINGS = ("host", "port", "threads", "query_timeout", "max_rows", "max_request_bytes",
                   "max_concurrent_queries", "query_workers", "query_memory_mb", "cors_origins",
                   "federation_allow_list", "cache_max_age", "build_dir", "reasoner", "engine")


@click.command("serve")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@setting_options(*SERVER_SETTINGS)
@reports_errors
def serve(files, **options):
    """Serve the SPARQL endpoint, query page, stored queries and exports over HTTP (waitress).

    FILES are extra RDF files served beside the build: TriG, N-Quads and JSON-LD keep their
    named graphs, any other file gets a named graph of its own (printed below).
    """
    from . import extra_files, runner
    from .app import close_app, create_app

    started = time.perf_counter()
    settings = resolved(options)
    build = _load(settings)
    extra_version = ""
    if files:
        added, extra_version = extra_files.add_files(build.dataset, list(files))
        for item in added:
            click.echo(f"serving {item.path} ({item.triples} triples) in {', '.join(item.graphs)}")
    app = create_app(build=build, settings=settings, extra_version=extra_version)
    signal.signal(signal.SIGTERM, _stop)  # so that `kill` also stops the query workers
    try:
        server = runner.create_server(app, settings)
        for label, url in runner.urls(server).items():
            click.echo(f"{label + ':':<17} {url}")
        click.echo(f"ready in {time.perf_counter() - started:.1f} s "
                   f"({settings.query_workers} query workers, {settings.query_timeout:g} s per query, "
                   f"{settings.max_rows} rows at most); Ctrl-C stops", err=False)
        try:
            server.run()
        except KeyboardInterrupt:
            click.echo("stopped")
    finally:
        close_app(app)


def _stop(signum, frame):
    raise SystemExit(0)

