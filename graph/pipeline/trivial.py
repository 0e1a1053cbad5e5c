"""Which inferred triples say nothing about the data and are not kept, whichever reasoner ran."""

from __future__ import annotations

from rdflib import Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD

_BUILTIN_NAMESPACES = (str(RDF), str(RDFS), str(OWL), str(XSD))
_SAME_AS = OWL.sameAs


def is_trivial(triple) -> bool:
    """True for inferences that say nothing about our data (reflexive sameAs, built-in vocabulary, literal subjects)."""
    s, p, o = triple
    if isinstance(s, Literal):
        return True
    if p == _SAME_AS and s == o:
        return True
    return isinstance(s, URIRef) and str(s).startswith(_BUILTIN_NAMESPACES)
