"""``karabakh-kg import FILE.csv``: a user's own attributed figures, in the columns of the shipped
figures table, checked row by row and written as claims in a Turtle file of their own, which the
build then reads beside the shipped facts.

The rows are read with Python's csv module and checked against one declarative column table
(``figure_rows``), so every error names the file, the row's line and the column, all at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..core.errors import KkgError, Location
from ..core.iris import ID
from ..pipeline import sources
from . import event_rows, figure_rows
from .figure_vocabulary import event_iri, slugify
from .source_facts import event_labels
from .turtle_writer import turtle

EVENT_BASE = f"{ID}event/"


@dataclass
class Imported:
    """What an import wrote: the Turtle file, how many rows and triples, and how long it took."""

    output: Path
    rows: int
    triples: int
    seconds: float


def known_events() -> set[str]:
    """The IRIs of the events the shipped facts define (an imported row must be about one)."""
    return {iri for iri in sources.node_lines(sources.fact_files()) if iri.startswith(EVENT_BASE)}


def _check_events(rows: list[figure_rows.FigureRow], name: str) -> None:
    known = known_events()
    position = figure_rows.COLUMNS.index("event") + 1
    details = [f"{name}:{row.line}: column event ({position}): no event {row['event']!r} in the graph; "
               f"use an id of events.tsv or event:SLUG of a shipped event"
               for row in rows if str(event_iri(row["event"])) not in known]
    if details:
        raise KkgError(f"{len(details)} problem(s) in the figures table", code="bad-table",
                       where=Location(name, rows[0].line), details=details)


def default_output(path: str | Path) -> Path:
    """Where an import writes by default: the table's name with ``.ttl``, beside it."""
    return Path(path).with_suffix(".ttl")


def import_table(path: str | Path, output: str | Path | None = None) -> Imported:
    """Check every row of the table at ``path`` and write its claims to ``output`` as Turtle."""
    started = time.perf_counter()
    rows = figure_rows.read_file(path)
    _check_events(rows, str(path))
    table = (resources.files("karabakh_kg.graph") / "data" / "sources" / "events.tsv").read_bytes()
    labels = event_labels(event_rows.read_event_rows(table))
    graph = figure_rows.figures_graph(rows, labels, prefix=slugify(Path(path).stem, 30) + "-")
    out = Path(output) if output else default_output(path)
    if out.resolve() == Path(path).resolve():
        raise KkgError(f"the output {out} would overwrite the table", code="bad-parameter")
    header = (f"# Imported by `karabakh-kg import` from {Path(path).name} ({len(rows)} rows): one claim per\n"
              f"# row (its id in dcterms:identifier), one kkg:Source per page address. Built beside the\n"
              f"# shipped facts (`karabakh-kg build --add-facts {out.name}`).\n\n")
    try:
        out.write_text(header + turtle(graph), encoding="utf-8")
    except OSError as exc:
        raise KkgError(f"cannot write {out}: {exc.strerror}", code="cannot-write") from None
    return Imported(out, len(rows), len(graph), time.perf_counter() - started)
