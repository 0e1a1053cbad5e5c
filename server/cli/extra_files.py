"""Extra RDF files served beside the build (``karabakh-kg serve FILE...``).

TriG, N-Quads and JSON-LD files keep their named graphs; any other file goes into a named graph of
its own, ``https://w3id.org/karabakh-kg/graph/file/<name>``. A bad file is a KkgError with the
file, line and column.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from rdflib import Dataset, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

from ...graph.core import formats
from ...graph.core.errors import KkgError
from ...graph.core.iris import GRAPH
from ...graph.pipeline import fastparse, sources


@dataclass
class Added:
    """What one file added: its path, the graphs it filled, and its triple count."""

    path: str
    graphs: list[str]
    triples: int


def file_graph(path: str, taken: set[str]) -> URIRef:
    """The named graph for a triples file: ``graph/file/<stem>``, made unique with -2, -3..."""
    stem = re.sub(r"[^a-z0-9]+", "-", Path(path).stem.lower()).strip("-") or "file"
    candidate, number = stem, 2
    while str(GRAPH[f"file/{candidate}"]) in taken:
        candidate, number = f"{stem}-{number}", number + 1
    return GRAPH[f"file/{candidate}"]


def add_files(dataset: Dataset, paths: list[str]) -> tuple[list[Added], str]:
    """Parse each file into the dataset; returns what was added and a digest of the files' bytes."""
    files = sources.user_files(paths)
    digest = hashlib.sha256()
    added = []
    for source in files:
        digest.update(source.name.encode() + b"\0" + hashlib.sha256(source.data).digest())
        fmt = formats.by_extension(source.name)
        if fmt is None:
            raise KkgError(f"cannot tell the RDF format of {source.name!r} from its extension; use one of: "
                           + ", ".join("." + f.extension for f in formats.RDF_FORMATS), code="unknown-format")
        before = {str(c.identifier): len(c) for c in dataset.graphs()}
        # read apart (with every input check) and then added: the dataset's store (Oxigraph) would
        # otherwise refuse a bad term halfway through, without a file or line
        parsed = fastparse.read_graphs(source)
        graphs = []
        for name, triples in parsed.items():
            if name is None or name == DATASET_DEFAULT_GRAPH_ID or not triples:
                continue
            target = dataset.graph(name)
            target.addN((s, p, o, target) for s, p, o in triples)
            graphs.append(str(name))
        default_triples = [t for name, triples in parsed.items()
                           if name is None or name == DATASET_DEFAULT_GRAPH_ID for t in triples]
        if default_triples or not graphs:
            target = dataset.graph(file_graph(source.name, set(before)))
            target.addN((s, p, o, target) for s, p, o in default_triples)
            graphs.append(str(target.identifier))
        after = {str(c.identifier): len(c) for c in dataset.graphs()}
        triples = sum(after.get(g, 0) - before.get(g, 0) for g in set(graphs))
        added.append(Added(source.name, sorted(set(graphs)), triples))
    return added, digest.hexdigest()[:16]
