"""Look-ups answered in the server process, without a query worker (the look-up lane).

The query a Linked Data page or a crawler sends most is one triple pattern about a named subject:
``SELECT ?p ?o WHERE { <s> ?p ?o }``. Sending it to a query worker costs two process hand-overs,
more than Oxigraph takes to answer it. Its cost is bounded by its shape: Oxigraph reads the
subject's triples from its subject index, so the time and memory it takes are those of the
subject's triples in a dataset that does not change while it is served; nothing can make it run
long, read a file or open a connection. So a query of exactly this shape, asking for SPARQL JSON,
is evaluated here by Oxigraph (the same call a worker makes, direct_query.select_json), from a text
written anew from the look-up's parts (``choice.lookup``), so that nothing else the client
wrote reaches the engine; every other query goes to a worker, under its time limit and memory cap.

Which queries have the shape is decided in ``choice`` (:func:`~.choice.in_lookup_lane`): one
triple pattern about a full IRI, over the union of the graphs (no FROM, no protocol dataset, no
parameters).
"""

from __future__ import annotations

import dataclasses

from ..core import formats
from ..core.errors import KkgError
from . import choice
from .worker import Job, direct_json_reply


def answer(dataset, job: Job) -> dict | None:
    """The reply for a look-up asking for SPARQL JSON, evaluated here; None for any other job (or
    when Oxigraph refuses the text), which then goes to a query worker."""
    if not choice.in_lookup_lane(dataset, job.text, job.bindings, job.default_graphs, job.named_graphs,
                                 job.native):
        return None
    try:
        format_name = job.choice.for_kind(formats.TABLE)
    except KkgError:  # no table format acceptable: the worker's path words the 406
        return None
    if format_name != "json":
        return None
    # Oxigraph gets the look-up written anew from its parts, not the client's text; it names full IRIs only
    asked = choice.lookup(job.text)
    return direct_json_reply(dataset, dataclasses.replace(job, text=asked.text), prefixes=False,
                             full_rows=asked.full_rows)
