"""Canonical blank node labels in linear time for the common shape: blank nodes that form trees.

rdflib's canonicaliser refines colours one step per round; a chain of nested blank nodes (Turtle's
``[ :p [ :p [ ... ] ] ]``) needs as many rounds as it is deep, each over every node, so 2,000
nested nodes took 25-90 s to write. When every blank node is the object of at most one triple and
never a predicate or a graph name, the blank nodes form a forest whose shape alone fixes each node:

1. bottom-up, each node's *content* digest: its outgoing (predicate, object) pairs, a blank object
   by its content digest;
2. top-down, each node's *label*: a root by the triple pointing at it (if any) and its content; a
   child by its parent's label, the predicate and its content.

Nodes that end up with equal inputs (siblings with identical subtrees under one predicate) are
interchangeable (an automorphism swaps them), so numbering them in any order gives the same
output. The labels depend only on the graph, never on parse order or node ids: canonical. Graphs
of any other shape return None and the caller uses rdflib's canonicaliser.
"""

from __future__ import annotations

import hashlib

from rdflib import BNode


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def forest_labels(triples) -> dict | None:
    """A canonical label (``BNode("cb<hex>")``) for every blank node of ``triples`` when the blank
    nodes form a forest (module docstring), else None."""
    outgoing: dict = {}
    parent: dict = {}          # blank node -> (subject, predicate) of the one triple pointing at it
    for s, p, o in triples:
        if isinstance(p, BNode):
            return None
        if isinstance(s, BNode):
            outgoing.setdefault(s, []).append((p, o))
        if isinstance(o, BNode):
            if o in parent:
                return None
            parent[o] = (s, p)
            outgoing.setdefault(o, [])
    if not outgoing:
        return {}
    content = _contents(outgoing, parent)
    if content is None:
        return None
    return _labels(outgoing, parent, content)


def _contents(outgoing: dict, parent: dict) -> dict | None:
    """Each blank node's content digest, children before parents (no recursion: trees may be deep);
    None when following blank subjects loops (a cycle is not a tree)."""
    content: dict = {}
    for start in outgoing:
        if start in content:
            continue
        stack, entered = [start], set()
        while stack:
            node = stack[-1]
            if node in content:
                stack.pop()
                continue
            waiting = [o for _p, o in outgoing[node] if isinstance(o, BNode) and o not in content]
            if waiting and node not in entered:
                entered.add(node)
                for child in waiting:
                    if child in entered:
                        return None
                    stack.append(child)
                continue
            if waiting:
                return None  # re-entered with children unfinished: a cycle
            pairs = sorted(p.n3() + " " + ("_:" + content[o] if isinstance(o, BNode) else o.n3())
                           for p, o in outgoing[node])
            content[node] = _digest("content", *pairs)
            stack.pop()
    return content


def _labels(outgoing: dict, parent: dict, content: dict) -> dict:
    """Top-down labels from the roots; equal inputs numbered (they are interchangeable)."""
    labels: dict = {}
    roots: dict = {}
    for node in outgoing:
        above = parent.get(node)
        if above is None or not isinstance(above[0], BNode):
            key = ("root", above[0].n3() if above else "", above[1].n3() if above else "", content[node])
            roots.setdefault(key, []).append(node)
    frontier = []
    for key, nodes in roots.items():
        for number, node in enumerate(nodes):
            labels[node] = _digest(*key, str(number))
            frontier.append(node)
    while frontier:
        node = frontier.pop()
        groups: dict = {}
        for p, o in outgoing[node]:
            if isinstance(o, BNode):
                groups.setdefault((p.n3(), content[o]), []).append(o)
        for (predicate, inner), children in groups.items():
            for number, child in enumerate(children):
                labels[child] = _digest("child", labels[node], predicate, inner, str(number))
                frontier.append(child)
    if len(labels) != len(outgoing):
        return None  # a blank node unreachable from a root: part of a cycle
    return {node: BNode("cb" + label) for node, label in labels.items()}
