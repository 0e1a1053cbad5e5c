"""Answering one query for a command (``karabakh-kg query``) so that an Oxigraph crash is not the
command's: a panic inside Oxigraph aborts the process it runs in (pyoxigraph 0.5.13 does on some
ORDER BY over values of mixed kinds), and no Python code can catch that. A query Oxigraph would
evaluate itself is evaluated in a forked copy of the process; if that copy is killed, rdflib's
engine answers over the same store. The server does the same with its query workers (service.py); ``choice`` decides."""

from __future__ import annotations

import os
import pickle
import signal
import sys
import tempfile

import click

from ..core.errors import KkgError
from . import choice, worker
from . import query as query_mod


def answer(dataset, parsed, bindings: dict, format_name: str) -> bytes:
    """The query's answer written in ``format_name`` (``table`` shows a graph answer as Turtle)."""
    if not (hasattr(os, "fork") and choice.oxigraph_evaluates(dataset, getattr(parsed, "kkg_text", None))):
        return _written(dataset, parsed, bindings, format_name, native=True)
    read, write = os.pipe()
    said = tempfile.TemporaryFile()  # the copy's standard error: a panic's backtrace is not for the user
    try:
        pid = os.fork()
    except OSError:  # no memory for a copy: evaluate here, as before
        for fd in (read, write):
            os.close(fd)
        said.close()
        return _written(dataset, parsed, bindings, format_name, native=True)
    if pid == 0:
        _copy(read, write, said, dataset, parsed, bindings, format_name)
    os.close(write)
    with os.fdopen(read, "rb") as source:
        try:
            kind, value = pickle.load(source)
        except Exception:  # noqa: BLE001 - the copy ended before its whole reply
            kind, value = None, None
    _, status = os.waitpid(pid, 0)
    with said:
        said.seek(0)
        told = said.read()
    if os.WIFSIGNALED(status):
        if os.WTERMSIG(status) == signal.SIGINT:
            raise KeyboardInterrupt
        click.echo("note: Oxigraph failed on this query; rdflib's engine answers it instead", err=True)
        return _written(dataset, parsed, bindings, format_name, native=False)
    sys.stderr.buffer.write(told)  # warnings the evaluation printed, as if it had run here
    sys.stderr.flush()
    if kind == "ok":
        return value
    if kind == "error":
        raise worker.error_from_reply(value)
    if kind == "raise":
        raise value
    return _written(dataset, parsed, bindings, format_name, native=True)  # no reply: here, as before


def _copy(read: int, write: int, said, dataset, parsed, bindings: dict, format_name: str) -> None:
    """In the forked copy: evaluate with Oxigraph, send the bytes or the error, never return."""
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
            try:
                pickle.dump(reply, out)
            except (pickle.PicklingError, TypeError, AttributeError):
                code = 1  # an exception that does not pickle: the command evaluates again itself
    except BaseException:  # noqa: BLE001 - the command sees no reply and evaluates itself
        code = 1
    finally:
        os._exit(code)


def _written(dataset, parsed, bindings: dict, format_name: str, native: bool) -> bytes:
    result = query_mod.run_query(dataset, parsed, bindings, native=native)
    if format_name == "table" and result.type in ("CONSTRUCT", "DESCRIBE"):
        format_name = "turtle"
    return query_mod.serialize_result(result, format_name)
