"""Answering one query for a command (``karabakh-kg query``) so that an Oxigraph crash is not the
command's: a panic inside Oxigraph aborts the process it runs in (pyoxigraph 0.5.13 does on some
ORDER BY over values of mixed kinds), and no Python code can catch that. The query is evaluated in
a forked copy of the process; if that copy dies, rdflib's engine answers over the same store.
The server does the same with its query workers (endpoint.py)."""

from __future__ import annotations

import os
import pickle
import sys
import tempfile

import click

from ..graph import engine, query as query_mod
from ..graph.errors import KkgError
from . import worker


def answer(dataset, parsed, bindings: dict, format_name: str) -> bytes:
    """The query's answer written in ``format_name`` (``table`` shows a graph answer as Turtle)."""
    if engine.engine_of(dataset) != "oxigraph" or not hasattr(os, "fork"):
        return _written(dataset, parsed, bindings, format_name, native=True)
    read, write = os.pipe()
    said = tempfile.TemporaryFile()  # the copy's standard error: a panic's backtrace is not for the user
    pid = os.fork()
    if pid == 0:  # the copy: evaluate with Oxigraph, send the bytes or the error, never return
        code = 0
        try:
            os.close(read)
            os.dup2(said.fileno(), 2)
            try:
                reply = ("ok", _written(dataset, parsed, bindings, format_name, native=True))
            except KkgError as exc:
                reply = ("error", worker.error_reply(exc))
            except Exception as exc:  # noqa: BLE001 - raised again in the command, as before
                reply = ("raise", exc)
            with os.fdopen(write, "wb") as out:
                pickle.dump(reply, out)
        except BaseException:  # noqa: BLE001 - the parent sees no reply and evaluates itself
            code = 1
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as source:
        sent = source.read()
    os.waitpid(pid, 0)
    with said:
        said.seek(0)
        told = said.read()
    if not sent:
        click.echo("note: Oxigraph failed on this query; rdflib's engine answers it instead", err=True)
        return _written(dataset, parsed, bindings, format_name, native=False)
    sys.stderr.buffer.write(told)  # warnings the evaluation printed, as if it had run here
    sys.stderr.flush()
    kind, value = pickle.loads(sent)
    if kind == "error":
        raise worker.error_from_reply(value)
    if kind == "raise":
        raise value
    return value


def _written(dataset, parsed, bindings: dict, format_name: str, native: bool) -> bytes:
    result = query_mod.run_query(dataset, parsed, bindings, native=native)
    if format_name == "table" and result.type in ("CONSTRUCT", "DESCRIBE"):
        format_name = "turtle"
    return query_mod.serialize_result(result, format_name)
