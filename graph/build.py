"""The build: parse the ontology and facts, close them with a reasoner, validate, write to disk.

``export``, ``query`` and ``serve`` read the last build from the build directory and rebuild
first when there is none or its inputs changed.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from rdflib import Dataset, Graph
from rdflib.namespace import RDF

from .. import __version__
from . import engine, fastvalidate, reason, sources, validate
from .errors import KkgError
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

    @classmethod
    def shipped(cls) -> "Inputs":
        """The shipped ontology, facts and links."""
        return cls(sources.ontology_files(), sources.fact_files(), sources.link_files())

    @classmethod
    def with_facts(cls, paths: list[str]) -> "Inputs":
        """The shipped ontology with the user's fact files instead of the shipped facts and links."""
        absolute = [str(Path(p).resolve()) for p in paths]
        return cls(sources.ontology_files(), sources.user_files(absolute), [], absolute)

    def all_files(self) -> list[sources.SourceFile]:
        """Every input file, in a stable order."""
        return self.ontology + self.facts + self.links

    def fingerprint(self, reasoner: str) -> str:
        """The digest that decides whether a build on disk is stale."""
        checks = sources.shapes_files() + sources.check_files()
        return sources.fingerprint(self.all_files() + checks, __version__, reasoner)


@dataclass
class Build:
    """A built dataset and what is known about it."""

    dataset: Dataset
    manifest: dict = field(default_factory=dict)

    @property
    def version(self) -> str:
        """A short identifier of this build's content (used for ETags)."""
        return self.manifest.get("fingerprint", "")[:16]


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


def assemble(inputs: Inputs, reasoner: str = "fast") -> tuple[Dataset, dict]:
    """Parse the inputs into their named graphs and close them; returns the dataset and stage timings."""
    timings = {}
    start = time.perf_counter()
    dataset = new_dataset()
    for graph_name, files in (("ontology", inputs.ontology), ("facts", inputs.facts), ("links", inputs.links)):
        target = dataset.graph(named_graph(graph_name))
        for f in files:
            sources.parse_into(target, f)
    timings["parse"] = time.perf_counter() - start
    start = time.perf_counter()
    reason.close(dataset, [named_graph(n) for n in ASSERTED], named_graph("inferred"), reasoner)
    timings["reason"] = time.perf_counter() - start
    return dataset, timings


def check(dataset: Dataset, inputs: Inputs) -> list[validate.Violation]:
    """SHACL and violation-check problems of an assembled dataset, located in the input files."""
    index = sources.node_lines(inputs.all_files())
    if fastvalidate.current() == "fast":
        return fastvalidate.validate_triples(list({t for c in dataset.graphs() for t in c}), index)
    return validate.validate_graph(union_graph(dataset), index)


def summarise(dataset: Dataset) -> dict:
    """Triples per named graph and the number of actors, events, claims and sources."""
    graphs = {}
    for context in sorted(dataset.graphs(), key=lambda g: str(g.identifier)):
        if len(context):
            graphs[str(context.identifier)] = len(context)
    counts = {}
    for label, cls in CORE_CLASSES.items():
        counts[label] = len(set(dataset.subjects(RDF.type, cls)))
    return {"graphs": graphs, "counts": counts, "triples": sum(graphs.values())}


def build(build_dir: str | Path, inputs: Inputs | None = None, reasoner: str = "fast") -> Build:
    """Assemble, reason, validate and write a build; invalid data raises a KkgError listing every violation."""
    inputs = inputs or Inputs.shipped()
    started = time.perf_counter()
    dataset, timings = assemble(inputs, reasoner)
    start = time.perf_counter()
    violations = check(dataset, inputs)
    timings["validate"] = time.perf_counter() - start
    validate.raise_if_invalid(violations, "the data")
    start = time.perf_counter()
    manifest = {
        "version": __version__,
        "fingerprint": inputs.fingerprint(reasoner),
        "reasoner": reasoner,
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "inputs": [f.name for f in inputs.all_files()],
        "fact_paths": inputs.fact_paths,
        **summarise(dataset),
    }
    out = Path(build_dir)
    out.mkdir(parents=True, exist_ok=True)
    from .export import serialize  # the exporter needs the dataset helpers above

    tmp = out / (DATASET_FILE + ".tmp")
    tmp.write_bytes(serialize(dataset, "nquads"))
    tmp.replace(out / DATASET_FILE)
    timings["write"] = time.perf_counter() - start
    timings["total"] = time.perf_counter() - started
    manifest["timings"] = {k: round(v, 3) for k, v in timings.items()}
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return Build(dataset, manifest)


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
    if paths:
        try:
            return Inputs.with_facts(paths)
        except KkgError:
            return Inputs.shipped()
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
    return Build(load_dataset_file(Path(build_dir) / DATASET_FILE), manifest)

