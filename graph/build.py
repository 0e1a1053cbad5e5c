"""The build: parse the ontology and facts, close them with a reasoner, validate, write to disk.

``export``, ``query`` and ``serve`` read the last build from the build directory and rebuild
first when there is none or its inputs changed.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import RDF

from .. import __version__
from . import engine, fastparse, fastvalidate, reason, sources, validate
from .fastvalidate import no_gc as _no_gc
from .errors import KkgError
from .export import write_lines
from .iris import KKG, bind_prefixes, named_graph

DATASET_FILE = "dataset.nq"
MANIFEST_FILE = "manifest.json"
ASSERTED = ("ontology", "facts", "links")
CORE_CLASSES = {"actors": KKG.Actor, "events": KKG.Event, "claims": KKG.Claim, "sources": KKG.Source}


@dataclass
class Inputs:
    """What a build reads: the ontology, the facts and links (shipped or the user's)."""

    ontology: list[sources.SourceFile]
    facts: list[sources.SourceFile]
    links: list[sources.SourceFile]
    fact_paths: list[str] | None = None
    extra_fact_paths: list[str] | None = None

    @classmethod
    def shipped(cls) -> "Inputs":
        """The shipped ontology, facts and links."""
        return cls(sources.ontology_files(), sources.fact_files(), sources.link_files())

    @classmethod
    def with_facts(cls, paths: list[str]) -> "Inputs":
        """The shipped ontology with the user's fact files instead of the shipped facts and links."""
        absolute = [str(Path(p).resolve()) for p in paths]
        return cls(sources.ontology_files(), sources.user_files(absolute), [], absolute)

    @classmethod
    def shipped_plus(cls, paths: list[str]) -> "Inputs":
        """The shipped ontology, facts and links, and the user's fact files besides (an import's Turtle)."""
        absolute = [str(Path(p).resolve()) for p in paths]
        return cls(sources.ontology_files(), sources.fact_files() + sources.user_files(absolute),
                   sources.link_files(), extra_fact_paths=absolute)

    def all_files(self) -> list[sources.SourceFile]:
        """Every input file, in a stable order."""
        return self.ontology + self.facts + self.links

    def fingerprint(self, reasoner: str) -> str:
        """The digest that decides whether a build on disk is stale."""
        checks = sources.shapes_files() + sources.check_files()
        return sources.fingerprint(self.all_files() + checks, __version__, reasoner)


class Build:
    """A built dataset and what is known about it.

    The dataset is read from ``dataset_file`` the first time it is asked for, so a ``build`` that is
    only written to disk never pays for an rdflib store.
    """

    def __init__(self, dataset: Dataset | None = None, manifest: dict | None = None,
                 dataset_file: str | Path | None = None):
        if dataset is None and dataset_file is None:
            raise ValueError("a Build needs a dataset or the file holding it")
        self._dataset = dataset
        self.dataset_file = dataset_file
        self.manifest = manifest or {}

    @property
    def dataset(self) -> Dataset:
        """The dataset, with its default graph the union of the named graphs."""
        if self._dataset is None:
            self._dataset = load_dataset_file(self.dataset_file)
        return self._dataset

    @property
    def version(self) -> str:
        """A short identifier of this build's content (used for ETags)."""
        return self.manifest.get("fingerprint", "")[:16]


@dataclass
class Assembly:
    """The triples of a build by named graph, as the keys of plain dicts (sets that keep the input's
    order): the build's working form, a fraction of an rdflib store's size and time at a million
    triples."""

    graphs: dict = field(default_factory=dict)

    def add(self, name: URIRef, triples) -> None:
        """Add triples to the named graph (kept in the order given: dict keys)."""
        existing = self.graphs.get(name)
        if existing is None:
            self.graphs[name] = triples if isinstance(triples, dict) else dict.fromkeys(triples)
        else:
            existing.update(dict.fromkeys(triples))

    def union(self) -> set:
        """Every triple, whatever its graph."""
        return set().union(*self.graphs.values())

    def to_dataset(self) -> Dataset:
        """The assembly as a union-default dataset of the configured engine."""
        return engine.add_graphs(new_dataset(), self.graphs)


def new_dataset() -> Dataset:
    """An empty dataset whose default graph is the union of the named graphs, as users query it.

    The store behind it is the configured engine's (rdflib's memory or Oxigraph; see engine.py).
    """
    return engine.new_dataset()


def union_graph(dataset: Dataset, names=None) -> Graph:
    """One graph holding the triples of the given named graphs (all of them by default)."""
    union = Graph()
    bind_prefixes(union)
    for context in dataset.graphs():
        if names is None or context.identifier in names:
            for triple in context:
                union.add(triple)
    return union


def assemble_graphs(inputs: Inputs, reasoner: str = "fast") -> tuple[Assembly, dict]:
    """Parse the inputs into their named graphs and close them; returns the assembly and stage timings."""
    timings = {}
    start = time.perf_counter()
    assembly = Assembly()
    with _no_gc():
        for graph_name, files in (("ontology", inputs.ontology), ("facts", inputs.facts),
                                  ("links", inputs.links)):
            for f in files:
                for name, triples in fastparse.read_graphs(f).items():
                    assembly.add(named_graph(graph_name) if name is None else name, triples)
    timings["parse"] = time.perf_counter() - start
    start = time.perf_counter()
    asserted = [assembly.graphs.get(named_graph(n), {}) for n in ASSERTED]
    inferred = reason.closure(set().union(*asserted), reasoner)
    if inferred:
        assembly.add(named_graph("inferred"), inferred)
    timings["reason"] = time.perf_counter() - start
    return assembly, timings


def assemble(inputs: Inputs, reasoner: str = "fast") -> tuple[Dataset, dict]:
    """Parse the inputs into their named graphs and close them; returns the dataset and stage timings."""
    assembly, timings = assemble_graphs(inputs, reasoner)
    return assembly.to_dataset(), timings


def check(data: Dataset | Assembly, inputs: Inputs, nquads: Path | None = None) -> list[validate.Violation]:
    """SHACL and violation-check problems of an assembled dataset, located in the input files.

    ``nquads`` may name a file holding the same data as N-Quads (the build writes it first), for speed.
    """
    index = _LazyIndex(inputs)
    if fastvalidate.current() == "fast":
        triples = data.union() if isinstance(data, Assembly) else {t for c in data.graphs() for t in c}
        in_one_graph = isinstance(data, Assembly) and len(triples) == sum(map(len, data.graphs.values()))
        return fastvalidate.validate_triples(list(triples), index, nquads if in_one_graph else None)
    if isinstance(data, Assembly):
        data = data.to_dataset()
    return validate.validate_graph(union_graph(data), index)


class _LazyIndex:
    """Where each node is defined in the inputs (sources.node_lines), read only when a violation
    needs locating: on a valid million-triple build it is never needed."""

    def __init__(self, inputs: Inputs):
        self._inputs = inputs
        self._index: dict | None = None

    def get(self, key, default=None):
        """The location of ``key``, reading the inputs the first time."""
        if self._index is None:
            self._index = sources.node_lines(self._inputs.all_files())
        return self._index.get(key, default)


def summarise(data: Dataset | Assembly) -> dict:
    """Triples per named graph and the number of actors, events, claims and sources."""
    if isinstance(data, Assembly):
        sizes = {str(name): len(triples) for name, triples in data.graphs.items()}
        rdf_type, wanted = RDF.type, {cls: set() for cls in CORE_CLASSES.values()}
        for triples in data.graphs.values():
            for s, p, o in triples:
                if p == rdf_type and o in wanted:
                    wanted[o].add(s)
        counts = {label: len(wanted[cls]) for label, cls in CORE_CLASSES.items()}
    else:
        sizes = {str(c.identifier): len(c) for c in data.graphs()}
        counts = {label: len(set(data.subjects(RDF.type, cls))) for label, cls in CORE_CLASSES.items()}
    graphs = {name: size for name, size in sorted(sizes.items()) if size}
    return {"graphs": graphs, "counts": counts, "triples": sum(graphs.values())}


def build(build_dir: str | Path, inputs: Inputs | None = None, reasoner: str = "fast") -> Build:
    """Assemble, reason, validate and write a build; invalid data raises a KkgError listing every violation."""
    inputs = inputs or Inputs.shipped()
    started = time.perf_counter()
    assembly, timings = assemble_graphs(inputs, reasoner)
    start = time.perf_counter()
    out = Path(build_dir)
    out.mkdir(parents=True, exist_ok=True)
    # a file of this build's own: two builds into one directory never read or publish each other's
    handle, name = tempfile.mkstemp(dir=out, prefix=DATASET_FILE + ".", suffix=".tmp")
    tmp = Path(name)
    try:
        with _no_gc(), os.fdopen(handle, "wb") as stream:
            write_lines(assembly.graphs, stream)
        timings["write"] = time.perf_counter() - start
        start = time.perf_counter()
        violations = check(assembly, inputs, tmp)
        validate.raise_if_invalid(violations, "the data")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    timings["validate"] = time.perf_counter() - start
    manifest = {
        "version": __version__,
        "fingerprint": inputs.fingerprint(reasoner),
        "reasoner": reasoner,
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "inputs": [f.name for f in inputs.all_files()],
        "fact_paths": inputs.fact_paths,
        "extra_fact_paths": inputs.extra_fact_paths,
        **summarise(assembly),
    }
    tmp.replace(out / DATASET_FILE)
    timings["total"] = time.perf_counter() - started
    manifest["timings"] = {k: round(v, 3) for k, v in timings.items()}
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return Build(manifest=manifest, dataset_file=out / DATASET_FILE)


def read_manifest(build_dir: str | Path) -> dict | None:
    """The manifest of the build in ``build_dir``, or None when there is no complete build."""
    path = Path(build_dir) / MANIFEST_FILE
    if not path.is_file() or not (Path(build_dir) / DATASET_FILE).is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _inputs_for(manifest: dict | None) -> Inputs:
    paths = manifest.get("fact_paths") if manifest else None
    extra = manifest.get("extra_fact_paths") if manifest else None
    try:
        if paths:
            return Inputs.with_facts(paths)
        if extra:
            return Inputs.shipped_plus(extra)
    except KkgError:
        pass
    return Inputs.shipped()


def is_fresh(build_dir: str | Path, reasoner: str = "fast") -> bool:
    """True when the build on disk was made from the current inputs."""
    manifest = read_manifest(build_dir)
    if manifest is None:
        return False
    return manifest.get("fingerprint") == _inputs_for(manifest).fingerprint(reasoner)


def load_dataset_file(path: str | Path) -> Dataset:
    """Read a built N-Quads file into a union-default dataset."""
    dataset = new_dataset()
    engine.load_nquads(dataset, path)
    return dataset


def load(build_dir: str | Path, reasoner: str = "fast") -> Build:
    """The last build, rebuilt first when missing or stale (made from other inputs than the current ones)."""
    manifest = read_manifest(build_dir)
    if manifest is None or not is_fresh(build_dir, reasoner):
        return build(build_dir, _inputs_for(manifest), reasoner)
    return Build(manifest=manifest, dataset_file=Path(build_dir) / DATASET_FILE)

