"""``karabakh-kg diff OLD NEW``: what changed between two builds or datasets, in words or as RDF."""

from __future__ import annotations

import sys

import click

from ...graph.core import formats
from ...graph.pipeline import dataset_diff
from ...graph.pipeline.export import serialize_graph
from .support import reports_errors, write_output

DIFF_FORMATS = ["table"] + [f.name for f in formats.RDF_FORMATS]


@click.command("diff")
@click.argument("old", type=click.Path())
@click.argument("new", type=click.Path())
@click.option("--format", "-f", "format_name", default="table", show_default=True, type=click.Choice(DIFF_FORMATS),
              help="table: the changes in words; an RDF format: one cs:ChangeSet per changed subject.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file instead of standard output.")
@reports_errors
def diff(old, new, format_name, output):
    """Compare two builds (their directories) or RDF files: figures added, removed and changed, with
    claimant, figure and reporting date, and the other asserted triples added and removed (inferred
    triples are left out). Exit status 0 when they hold the same asserted triples, 1 when they differ."""
    result = dataset_diff.diff(dataset_diff.read_side(old), dataset_diff.read_side(new))
    if format_name == "table":
        data = dataset_diff.describe(result).encode("utf-8")
    else:
        data = serialize_graph(dataset_diff.changesets(result), format_name)
    write_output(data, output)
    sys.exit(1 if result.added or result.removed else 0)
