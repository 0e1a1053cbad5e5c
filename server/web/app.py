"""The Flask app factory: ``create_app(test_config=None, build=None, settings=None)``.

``build`` is what to serve: a :class:`~karabakh_kg.graph.pipeline.build.Build`, a bare rdflib Dataset (for
tests and embedding), a :class:`~karabakh_kg.graph.stores.remote_store.RemoteStore`, or None: the external
store of the ``store_endpoint`` setting when set, else the last build from the build directory
(rebuilt when stale). The query workers are forked here, after the dataset is loaded and before any server
thread starts, so create the app before starting a WSGI server; call ``close_app(app)`` (or let
the process exit) to stop them.

``test_config`` is merged into ``app.config``; two keys are the app's own: ``SETTINGS`` (setting
overrides, e.g. ``{"query_timeout": 1}``) and ``STORED_QUERIES`` (a dict of id to StoredQuery,
instead of the shipped ones).
"""

from __future__ import annotations

import atexit
import logging

from flask import Flask

from ...graph import sparql
from ...graph.core import settings as settings_mod
from . import (
    data_routes,
    health_routes,
    hot_path,
    http_errors,
    http_manners,
    query_routes,
    sparql_routes,
    ui_routes,
    warm_up,
)
from .endpoint import Endpoint
from .pages import entity_routes, home_routes, search_routes

EXTENSION = "karabakh_kg"


def create_app(test_config: dict | None = None, build=None,
               settings: settings_mod.Settings | None = None, extra_version: str = "",
               supervised: bool = False, budget_ledger: sparql.BudgetLedger | None = None) -> Flask:
    """A ready app serving ``build`` with ``settings`` (resolved from the environment when None).

    ``extra_version`` changes the ETags when extra files are served beside the build.
    ``supervised``: a supervisor replaces this process when it ends (granian, ``--processes``), so
    the app ends it when its query workers can no longer start (see QueryService).
    ``budget_ledger``: each client's slow-query seconds, made before the server processes were
    forked so that they share it (None: this app keeps its own).
    """
    sparql.never_load_graphs()
    config = dict(test_config or {})
    overrides = config.pop("SETTINGS", None) or {}
    settings = settings or settings_mod.resolve({})
    if overrides:
        settings = settings.replace(**overrides)
    stored = config.pop("STORED_QUERIES", None)
    if stored is None:
        stored = sparql.load_stored_queries()
    if settings.wikidata_endpoint != sparql.WIKIDATA_SPARQL:
        stored = sparql.retarget_all(stored, settings.wikidata_endpoint)

    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=settings.max_request_bytes, JSON_SORT_KEYS=False)
    app.config.update(config)
    app.logger.setLevel(logging.INFO)

    endpoint = Endpoint(sparql.serving_target(build, settings), settings, dict(stored), extra_version,
                        supervised, budget_ledger)
    app.extensions[EXTENSION] = endpoint
    for blueprint in (sparql_routes.bp, query_routes.bp, data_routes.bp, ui_routes.bp, health_routes.bp,
                      home_routes.bp, entity_routes.bp, search_routes.bp):
        app.register_blueprint(blueprint)
    http_errors.register(app)
    http_manners.register(app)
    app.wsgi_app = hot_path.HotPath(app.wsgi_app, endpoint)  # look-ups and repeated queries, without Flask
    endpoint.start()
    atexit.register(endpoint.close)
    endpoint.warming = warm_up.start(app)
    return app


def close_app(app: Flask) -> None:
    """Stop the app's query workers."""
    app.extensions[EXTENSION].close()
