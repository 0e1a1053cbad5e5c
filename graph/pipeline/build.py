"""The build: parse the ontology and facts, close them with a reasoner, validate, write to disk.

``export``, ``query`` and ``serve`` read the last build from the build directory and rebuild
first when there is none, or when the files it was made from changed (the same inputs, rebuilt).
They never replace a build they cannot remake from its own inputs: a build whose ``--facts`` files
are gone, a damaged build, or a stale build made by another installation is an error, and the build
is kept. How a build is written (atomically, one at a time) is build_dir.py's job.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import RDF

from ... import __version__
from ..core import progress
from ..core.errors import KkgError
from ..core.iris import KKG, bind_prefixes, named_graph
from . import build_dir as build_dir_mod
from . import datasets, fastparse, fastvalidate, input_checks, reason, sources, validate
from .export import write_lines
from .fastvalidate import no_gc as _no_gc

DATASET_FILE = build_dir_mod.DATASET_FILE
MANIFEST_FILE = build_dir_mod.MANIFEST_FILE
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
        return datasets.add_graphs(new_dataset(), self.graphs)


def new_dataset() -> Dataset:
    """An empty dataset whose default graph is the union of the named graphs, as users query it.

    The store behind it is the configured engine's (rdflib's memory or Oxigraph; see datasets.py).
    """
    return datasets.new_dataset()


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
    total = len(inputs.all_files())
    with _no_gc():
        done = 0
        for graph_name, files in (("ontology", inputs.ontology), ("facts", inputs.facts),
                                  ("links", inputs.links)):
            for f in files:
                progress.count(f"parsing {f.name}: file", done + 1, total)
                done += 1
                for name, triples in fastparse.read_graphs(f).items():
                    assembly.add(named_graph(graph_name) if name is None else name, triples)
    timings["parse"] = time.perf_counter() - start
    start = time.perf_counter()
    progress.step("reasoning (OWL 2 RL closure)")
    asserted = [assembly.graphs.get(named_graph(n), {}) for n in ASSERTED]
    try:
        inferred = reason.closure(set().union(*asserted), reasoner)
    except KkgError as exc:
        raise (_located_inconsistency(exc, inputs) if exc.code == "inconsistent" else exc) from None
    if inferred:
        assembly.add(named_graph("inferred"), inferred)
    timings["reason"] = time.perf_counter() - start
    return assembly, timings


def _located_inconsistency(error: KkgError, inputs: Inputs) -> KkgError:
    """The reasoner's inconsistency, at the first ill-typed literal of the inputs when there is one
    (owlrl names the literal but not its file), the reasoner's own lines kept as details."""
    for f in inputs.all_files():
        bad = input_checks.ill_typed_literals(fastparse.read_graphs(f), f.name, f.text)
        if bad:
            first = bad[0]
            first.message += " (so the data is inconsistent under OWL 2 RL)"
            first.details = [str(other) for other in bad[1:]] + list(error.details)
            return first
    return error


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


def build(build_dir: str | Path, inputs: Inputs | None = None, reasoner: str = "fast",
          on_wait=None) -> Build:
    """Assemble, reason, validate and write a build; invalid data raises a KkgError listing every violation.

    The dataset and its manifest are written into a fresh directory and published together
    (build_dir.py); one build runs at a time per directory (``on_wait`` is called if this one has to
    wait); a failed build leaves the previous one and no temporary file.
    """
    inputs = inputs or Inputs.shipped()
    started = time.perf_counter()
    assembly, timings = assemble_graphs(inputs, reasoner)
    progress.step("waiting for the build directory")
    with build_dir_mod.locked(build_dir, on_wait) as out:
        build_dir_mod.remove_leftovers(out)
        work = build_dir_mod.workspace(out)
        try:
            manifest = _write(assembly, inputs, reasoner, work, timings, started)
            final = build_dir_mod.publish(out, work)
        except OSError as exc:  # disk full, file size limit, permissions...
            raise KkgError(f"cannot write the build into {out}: {exc.strerror or exc}", code="build-dir",
                           status=500) from None
        finally:
            if work.exists():
                shutil.rmtree(work, ignore_errors=True)
    return Build(manifest=manifest, dataset_file=final / DATASET_FILE)


def _write(assembly: Assembly, inputs: Inputs, reasoner: str, work: Path, timings: dict,
           started: float) -> dict:
    """Write the dataset into ``work``, validate it, and write its manifest beside it."""
    start = time.perf_counter()
    progress.step(f"writing {sum(map(len, assembly.graphs.values())):,} triples")
    dataset_file = work / DATASET_FILE
    with _no_gc(), open(dataset_file, "wb") as stream:
        write_lines(assembly.graphs, stream)
    timings["write"] = time.perf_counter() - start
    start = time.perf_counter()
    progress.step("validating (SHACL shapes and checks)")
    violations = check(assembly, inputs, dataset_file)
    validate.raise_if_invalid(violations, "the data")
    timings["validate"] = time.perf_counter() - start
    manifest = {
        "version": __version__,
        "fingerprint": inputs.fingerprint(reasoner),
        "reasoner": reasoner,
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "built_by": installation(),
        "inputs": [f.name for f in inputs.all_files()],
        "fact_paths": inputs.fact_paths,
        "extra_fact_paths": inputs.extra_fact_paths,
        **summarise(assembly),
    }
    timings["total"] = time.perf_counter() - started
    manifest["timings"] = {k: round(v, 3) for k, v in timings.items()}
    with open(work / MANIFEST_FILE, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return manifest


def installation() -> str:
    """Where this karabakh-kg is installed (its package folder): a build records it, so that a
    stale build made by another checkout is never replaced silently."""
    return str(Path(__file__).resolve().parent.parent)


def _damaged(build_dir, why: str) -> KkgError:
    return KkgError(f"the build in {build_dir} is damaged ({why}); it is left as it is: rebuild it with "
                    "`karabakh-kg build` (and the --facts it was made from), or use another --build-dir",
                    code="damaged-build", status=500)


def read_current(build_dir: str | Path) -> tuple[dict, Path] | None:
    """The current build's manifest and the directory holding its files, or None when the directory
    holds no build; a KkgError when it holds a damaged one (a file missing, a torn manifest)."""
    folder = build_dir_mod.current(build_dir)
    if folder is None:
        if (Path(build_dir) / MANIFEST_FILE).exists() or (Path(build_dir) / build_dir_mod.CURRENT).is_symlink():
            raise _damaged(build_dir, f"its {DATASET_FILE} is missing")
        return None
    if not (folder / MANIFEST_FILE).is_file():
        raise _damaged(build_dir, f"its {MANIFEST_FILE} is missing")
    if not (folder / DATASET_FILE).is_file():
        raise _damaged(build_dir, f"its {DATASET_FILE} is missing")
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _damaged(build_dir, f"its {MANIFEST_FILE} cannot be read: {input_checks.shorten(exc, 80)}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("fingerprint"), str):
        raise _damaged(build_dir, f"its {MANIFEST_FILE} has no fingerprint")
    return manifest, folder


def read_manifest(build_dir: str | Path) -> dict | None:
    """The manifest of the build in ``build_dir``, or None when there is no complete build."""
    try:
        found = read_current(build_dir)
    except KkgError:
        return None
    return found[0] if found else None


def recorded_inputs(manifest: dict, build_dir) -> Inputs:
    """The inputs a build was made from: the shipped ones, the --facts files it records, or the
    shipped ones plus the --add-facts files it records; a KkgError when those files are gone (the
    build cannot be remade, so it must not be replaced)."""
    paths = manifest.get("fact_paths")
    extra = manifest.get("extra_fact_paths")
    if not paths and not extra:
        return Inputs.shipped()
    gone = [p for p in (paths or extra) if not Path(p).is_file()]
    if gone:
        option = "--facts" if paths else "--add-facts"
        raise KkgError(f"the build in {build_dir} was made from {option} files that are gone: "
                       f"{', '.join(gone)}; it is left as it is: rebuild it with `karabakh-kg build {option} "
                       "...`, or use another --build-dir", code="build-inputs-gone", status=500)
    return Inputs.with_facts(paths) if paths else Inputs.shipped_plus(extra)


def is_fresh(build_dir: str | Path, reasoner: str = "fast") -> bool:
    """True when the build on disk was made from the current inputs."""
    try:
        found = read_current(build_dir)
        if found is None:
            return False
        return found[0]["fingerprint"] == recorded_inputs(found[0], build_dir).fingerprint(reasoner)
    except KkgError:
        return False


def load_dataset_file(path: str | Path) -> Dataset:
    """Read a built N-Quads file into a union-default dataset."""
    progress.step(f"loading the build ({Path(path).stat().st_size / 1e6:,.0f} MB)")
    dataset = new_dataset()
    datasets.load_nquads(dataset, path)
    return dataset


def load(build_dir: str | Path, reasoner: str = "fast", announce=None) -> Build:
    """The last build; made first when there is none, remade from its own inputs when they changed.

    ``announce(reason)`` is called before building. A build that cannot be remade from its own inputs
    (its --facts files gone, damaged, or made by another installation) is a KkgError and is kept.
    """
    found = read_current(build_dir)
    if found is None:
        if announce:
            announce("no build there")
        return build(build_dir, Inputs.shipped(), reasoner)
    manifest, folder = found
    inputs = recorded_inputs(manifest, build_dir)
    if manifest["fingerprint"] == inputs.fingerprint(reasoner):
        return Build(manifest=manifest, dataset_file=folder / DATASET_FILE)
    made_by = manifest.get("built_by")
    if made_by and made_by != installation():
        raise KkgError(f"the build in {build_dir} was made by the karabakh-kg installed at {made_by} from "
                       "other inputs; it is left as it is: rebuild it here with `karabakh-kg build`, or "
                       "use another --build-dir", code="foreign-build", status=500)
    if announce:
        announce("its inputs changed")
    return build(build_dir, inputs, reasoner)
