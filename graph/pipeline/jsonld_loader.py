"""JSON-LD documents are read without fetching or opening anything: the context loader refuses all.

rdflib's JSON-LD parser loads every context given by reference (``"@context": "http://..."``, a
reference inside an ``@context`` array, an ``@import``, a relative or ``file:`` reference, however
the JSON spells it: ``HTTP://``, ``\\u003a``...) through one function, the ``source_to_json`` that its
context module calls from ``Context._fetch_context``. That function is replaced here, once, when this
module is imported, by one that refuses every reference with a KkgError: the mechanism, rather than a
pattern over the text, so no spelling gets past it. Inline contexts (JSON objects) work as before.

rdflib has no documented loader option for this (pyld has ``documentLoader``; rdflib does not use
pyld), hence the replacement of the module attribute; tests/test_robustness_jsonld.py checks that the
hook is in place and that hostile documents fetch and read nothing in ``build``, ``validate`` and
``serve``.
"""

from __future__ import annotations

from rdflib.plugins.shared.jsonld import context as _jsonld_context

from ..core.errors import KkgError


class RemoteContextRefused(KkgError):
    """A JSON-LD document referred to a context document (remote or local), which is never loaded."""


def refuse_context_document(source, *args, **kwargs):
    """Stand-in for rdflib's context loader: every context given by reference is refused, whatever
    its scheme (http, https, file, relative), so parsing never touches the network or the disk."""
    shown = str(source)
    if len(shown) > 200:
        shown = shown[:200] + "..."
    error = RemoteContextRefused(
        f"the JSON-LD context {shown!r} is a document to load; contexts are never fetched or read "
        "from files here: put the context inline (a JSON object under \"@context\")",
        code="remote-context")
    error.reference = str(source)
    raise error


def install() -> None:
    """Put the refusing loader in place of rdflib's (idempotent; done when this module is imported)."""
    _jsonld_context.source_to_json = refuse_context_document


def installed() -> bool:
    """True when rdflib's JSON-LD context loader is the refusing one."""
    return _jsonld_context.source_to_json is refuse_context_document


install()
