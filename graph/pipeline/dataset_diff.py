"""What changed between two builds or datasets: figures added, removed and changed (with claimant,
figure and reporting date), and every other asserted triple added or removed.

A side is a build directory (its dataset.nq) or an RDF file in any format of the format table.
Inferred triples (the ``inferred`` named graph) are left out: they follow from the asserted ones.
Blank nodes (the ontology's OWL lists) are compared by canonical labels (rdflib.compare), so
reading the same build twice shows no difference. The machine-readable form is one changeset per changed subject in the Talis ChangeSet vocabulary
(``cs:addition`` / ``cs:removal`` of reified statements), which every RDF format can carry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.compare import to_canonical_graph
from rdflib.namespace import RDF, RDFS

from ..core.errors import KkgError
from ..core.iris import KKG, bind_prefixes, named_graph
from . import fastparse, sources

CS = Namespace("http://purl.org/vocab/changeset/schema#")
DATASET_FILE = "dataset.nq"
# What makes a figure: a change in one of these is a changed figure, anything else an other change.
FIGURE_PROPERTIES = (KKG.value, KKG.minValue, KKG.maxValue, KKG.approximation, KKG.asOf, KKG.claimant,
                     KKG.category, KKG.appliesTo, KKG.about)


def read_side(path: str | Path) -> Graph:
    """The asserted triples of a build directory or an RDF file, as one graph."""
    p = Path(path)
    if p.is_dir():
        p = p / DATASET_FILE
        if not p.is_file():
            raise KkgError(f"{path} is a directory without a build ({DATASET_FILE})", code="no-such-file")
    elif not p.is_file():
        raise KkgError(f"no such file or build directory: {path}", code="no-such-file")
    graphs = fastparse.read_graphs(sources.SourceFile(str(p), p.read_bytes()))
    graph = Graph()
    bind_prefixes(graph)
    inferred = named_graph("inferred")
    for name, triples in graphs.items():
        if name != inferred:
            for triple in triples:
                graph.add(triple)
    return graph


@dataclass
class FigureChange:
    """One figure added, removed or changed: the claim, and the figure before and after (None: absent)."""

    claim: URIRef
    before: dict | None
    after: dict | None


@dataclass
class Diff:
    """The differences between two sides."""

    added: set = field(default_factory=set)
    removed: set = field(default_factory=set)
    figures: list[FigureChange] = field(default_factory=list)

    @property
    def kinds(self) -> dict[str, list[FigureChange]]:
        """The figure changes by kind: added, removed, changed."""
        out = {"added": [], "removed": [], "changed": []}
        for change in self.figures:
            kind = "added" if change.before is None else "removed" if change.after is None else "changed"
            out[kind].append(change)
        return out


def _figure(graph: Graph, claim) -> dict | None:
    """A quantity claim's figure as words: claimant, figure as reported, reporting date, what about."""
    if graph.value(claim, KKG.value) is None and graph.value(claim, KKG.minValue) is None:
        return None
    label = lambda node: str(graph.value(node, RDFS.label) or node) if node is not None else ""  # noqa: E731
    value, low, high = (graph.value(claim, p) for p in (KKG.value, KKG.minValue, KKG.maxValue))
    approximation = str(graph.value(claim, KKG.approximation) or "")
    if value is not None:
        text = ("~" if approximation.endswith("approximately") else "") + f"{int(value):,}"
    elif high is not None:
        text = f"{int(low):,}–{int(high):,}"
    else:
        text = f"{int(low):,}+"
    as_of = graph.value(claim, KKG.asOf)
    return {"claimant": label(graph.value(claim, KKG.claimant)), "figure": text,
            "as_of": str(as_of) if as_of is not None else "", "event": label(graph.value(claim, KKG.about)),
            "category": label(graph.value(claim, KKG.category))}


def diff(old: Graph, new: Graph) -> Diff:
    """The triples only in ``new`` (added), only in ``old`` (removed), and the figures that changed."""
    old_set, new_set = set(to_canonical_graph(old)), set(to_canonical_graph(new))  # blank nodes named alike
    result = Diff(new_set - old_set, old_set - new_set)
    touched = {s for s, p, _ in result.added | result.removed if p in FIGURE_PROPERTIES}
    for claim in sorted(touched):
        before, after = _figure(old, claim), _figure(new, claim)
        if before != after and (before or after):
            result.figures.append(FigureChange(claim, before, after))
    return result


def _words(figure: dict) -> str:
    when = f", as of {figure['as_of']}" if figure["as_of"] else ""
    return f"{figure['event']}: {figure['category']}, per {figure['claimant']}: {figure['figure']}{when}"


def describe(result: Diff) -> str:
    """The differences in words: figures added, removed and changed, then the other triples counted."""
    lines = []
    for kind, changes in result.kinds.items():
        lines.append(f"figures {kind}: {len(changes)}")
        for change in changes:
            if kind == "changed":
                b, a = change.before, change.after
                what = "; ".join(f"{k} {b[k] or '(none)'} -> {a[k] or '(none)'}" for k in b if b[k] != a[k])
                lines.append(f"  ~ {_words(a)}  ({what})  <{change.claim}>")
            else:
                sign, figure = ("+", change.after) if kind == "added" else ("-", change.before)
                lines.append(f"  {sign} {_words(figure)}  <{change.claim}>")
    figure_claims = {c.claim for c in result.figures}
    other_added = sum(1 for s, _, _ in result.added if s not in figure_claims)
    other_removed = sum(1 for s, _, _ in result.removed if s not in figure_claims)
    lines.append(f"other triples: {other_added} added, {other_removed} removed")
    return "\n".join(lines) + "\n"


def changesets(result: Diff) -> Graph:
    """The differences as RDF: one cs:ChangeSet per changed subject, its additions and removals as
    reified statements, and cs:changeReason saying whether a figure was added, removed or changed."""
    graph = Graph()
    bind_prefixes(graph)
    graph.bind("cs", str(CS))
    reasons = {c.claim: ("figure added" if c.before is None else "figure removed" if c.after is None
                         else "figure changed") for c in result.figures}
    by_subject: dict = {}
    for triple in result.added:
        by_subject.setdefault(triple[0], ([], []))[0].append(triple)
    for triple in result.removed:
        by_subject.setdefault(triple[0], ([], []))[1].append(triple)
    for subject, (added, removed) in sorted(by_subject.items(), key=lambda item: str(item[0])):
        change = BNode()
        graph.add((change, RDF.type, CS.ChangeSet))
        graph.add((change, CS.subjectOfChange, subject))
        graph.add((change, CS.changeReason, Literal(reasons.get(subject, "asserted triples changed"))))
        for prop, triples in ((CS.addition, added), (CS.removal, removed)):
            for s, p, o in triples:
                statement = BNode()
                graph.add((change, prop, statement))
                graph.add((statement, RDF.type, RDF.Statement))
                graph.add((statement, RDF.subject, s))
                graph.add((statement, RDF.predicate, p))
                graph.add((statement, RDF.object, o))
    return graph
