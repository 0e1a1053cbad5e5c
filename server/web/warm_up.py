"""Answer the stored queries once after start-up, so that their first requests hit the answer cache.

The stored queries are the endpoint's published views and the build never changes while it is
served: at a million triples some take seconds to evaluate, always with the same answer. A
background thread runs each one that needs no parameter (with its defaults), in the formats its
usual URLs ask for, through the same path as a request; the server answers other requests
meanwhile, and a request for a query still being warmed waits for that one evaluation.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask
from werkzeug.datastructures import MIMEAccept

from ...graph import sparql
from ...graph.core.errors import KkgError
from . import negotiation, query_routes

log = logging.getLogger("karabakh_kg.server.web.warm_up")

# What the usual URLs ask for: /queries/<id>.json, and /queries/<id> with no Accept or */*.
_ACCEPTS = (MIMEAccept(), MIMEAccept([("*/*", 1)]))


def start(app: Flask) -> threading.Thread | None:
    """Warm the app's answer cache in a daemon thread (None when there is nothing to warm)."""
    endpoint = app.extensions["karabakh_kg"]
    if not endpoint.settings.warm_stored_queries or not endpoint.queries.answers.max_bytes or endpoint.remote:
        return None
    thread = threading.Thread(target=_warm, args=(app,), name="kkg-warm-up", daemon=True)
    thread.start()
    return thread


def _warm(app: Flask) -> None:
    with app.app_context():
        endpoint = app.extensions["karabakh_kg"]
        for stored in list(endpoint.stored_queries.values()):
            try:
                stored.bindings({})  # a required parameter: nothing to warm
                kind = query_routes.kind_of(stored)
                choices = [query_routes.extension_choice(kind, "json", _ACCEPTS[0])]
                choices += [negotiation.choose(accept, []) for accept in _ACCEPTS]
                for choice in choices:
                    job = query_routes.stored_job(stored, choice, {})
                    if sparql.answer_key(job) is not None:  # never kept (SERVICE...): not run
                        endpoint.run(job, background=True)
            except KkgError as exc:  # busy, too slow, a federated query offline: left to requests
                log.info("stored query %s not warmed: %s", stored.id, exc)
            except Exception:  # noqa: BLE001 - the server must keep serving whatever this meets
                log.exception("stored query %s not warmed", stored.id)
        log.info("stored queries warmed: %d answers kept", len(endpoint.queries.answers))
