"""Triples gathered in the order they are made, and written as Turtle in our style (every subject
once, at column 0, prefixed names) without an rdflib store: an import of 100,000 figures writes two
million triples, where rdflib's store and its canonical ``longturtle`` serializer dominate the time.
"""

from __future__ import annotations

import re

from rdflib import Graph, Literal, URIRef

from ..core.iris import PREFIXES, bind_prefixes

_LOCAL = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")
_BY_LENGTH = sorted(PREFIXES.items(), key=lambda item: -len(item[1]))
_PREFIX_LINES = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in sorted(PREFIXES.items()))


class TripleBuffer:
    """Triples by subject, each once, in the order first added; ``add`` like an rdflib graph."""

    def __init__(self):
        self.subjects: dict = {}

    def add(self, triple) -> None:
        """Add a (subject, predicate, object) triple (a repeat is ignored)."""
        s, p, o = triple
        self.subjects.setdefault(s, {})[(p, o)] = None

    def __iter__(self):
        for s, pairs in self.subjects.items():
            for p, o in pairs:
                yield s, p, o

    def __len__(self) -> int:
        return sum(len(pairs) for pairs in self.subjects.values())

    def to_graph(self) -> Graph:
        """The triples as an rdflib graph (with the project's prefixes bound)."""
        graph = Graph()
        bind_prefixes(graph)
        for triple in self:
            graph.add(triple)
        return graph


def _name(iri: URIRef) -> str:
    text = str(iri)
    for prefix, namespace in _BY_LENGTH:
        if text.startswith(namespace) and _LOCAL.match(text[len(namespace):]):
            return f"{prefix}:{text[len(namespace):]}"
    return f"<{text}>"


def _term(term) -> str:
    if isinstance(term, Literal):
        if term.datatype is not None:
            return f"{Literal(str(term)).n3()}^^{_name(term.datatype)}"
        return term.n3()
    return _name(term)


def turtle(buffer: TripleBuffer) -> str:
    """The triples as Turtle: the project's prefixes, then each subject once with its predicates."""
    parts = [_PREFIX_LINES]
    for subject, pairs in buffer.subjects.items():
        lines = [f"    {_term(p)} {_term(o)}" for p, o in pairs]
        parts.append(f"\n{_term(subject)}\n" + " ;\n".join(lines) + " .\n")
    return "".join(parts)
