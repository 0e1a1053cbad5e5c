"""Close the asserted graphs under OWL 2 RL into the ``inferred`` named graph.

The asserted graphs are never written to. Inferences that carry no information (every node
``owl:sameAs`` itself, owlrl's declarations of the built-in datatypes and vocabularies) are
dropped, so the inferred graph holds only what the ontology makes follow from the facts.
"""

from __future__ import annotations

import owlrl
from owlrl.Namespaces import ERRNS
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import OWL

from ..core.errors import KkgError
from .fastreason import fast_closure
from .trivial import is_trivial

REASONERS = ("fast", "owlrl")
"""``fast``: owlrl's exact closure computed from the compiled ontology (graph/pipeline/fastreason.py), falling
back to owlrl for OWL it does not compile; ``owlrl``: the reference rule engine."""

def owlrl_closure(asserted: Graph) -> Graph:
    """The OWL 2 RL consequences of ``asserted`` not already asserted, minus trivial ones; a KkgError if inconsistent."""
    work = Graph()
    for triple in asserted:
        work.add(triple)
    before = set(work)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False,
                           datatype_axioms=False).expand(work)
    errors = sorted(str(m) for m in work.objects(None, ERRNS.error))
    if errors:
        raise KkgError("the ontology and facts are inconsistent under OWL 2 RL", code="inconsistent",
                       status=422, details=errors)
    merged = sorted(f"{s.n3()} owl:sameAs {o.n3()}" for s, o in work.subject_objects(OWL.sameAs)
                    if isinstance(s, Literal) and isinstance(o, Literal) and s != o)
    if merged:
        raise KkgError("the reasoner merged distinct values (is a property where sources disagree "
                       "declared functional?)", code="merged-values", status=422, details=merged[:20])
    inferred = Graph()
    for triple in work:
        if triple not in before and not is_trivial(triple):
            inferred.add(triple)
    return inferred


def closure(asserted: set, reasoner: str = "owlrl") -> set:
    """The new, non-trivial OWL 2 RL consequences of the ``asserted`` triples, by the named reasoner;
    a KkgError when they are inconsistent or the reasoner is unknown."""
    if reasoner not in REASONERS:
        raise KkgError(f"unknown reasoner {reasoner!r}; choose one of: {', '.join(REASONERS)}",
                       code="bad-setting")
    if reasoner == "fast":
        return fast_closure(asserted, owlrl_closure)
    union = Graph()
    union.addN((s, p, o, union) for s, p, o in asserted)
    return set(owlrl_closure(union))


def close(dataset: Dataset, asserted_graphs: list[URIRef], inferred_graph: URIRef,
          reasoner: str = "owlrl") -> Graph:
    """Reason over the union of ``asserted_graphs`` and store the new triples in ``inferred_graph``."""
    inferred = closure({t for name in asserted_graphs for t in dataset.graph(name)}, reasoner)
    target = dataset.graph(inferred_graph)
    target.addN((s, p, o, target) for s, p, o in inferred)
    return target
