"""``karabakh-kg import FILE.csv``: check a table of your own figures, write it as claims, build."""

from __future__ import annotations

import click

from ...graph.pipeline import build as build_mod
from ...graph.tables.figure_import import import_table
from .support import reports_errors, resolved, setting_options


@click.command("import")
@click.argument("table", type=click.Path(dir_okay=False))
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Turtle file to write (default: the table's name with .ttl, beside it).")
@click.option("--no-build", is_flag=True, help="Only check the table and write the Turtle.")
@setting_options("build_dir", "reasoner", "validator", "engine")
@reports_errors
def import_figures(table, output, no_build, **options):
    """Import attributed figures from TABLE (CSV, or TSV for a .tsv name) in the columns of the shipped
    figures table: every row is checked (errors name the row and the column), written as claims in
    their own Turtle file, and built with the shipped facts (`build --add-facts FILE` does the same later)."""
    settings = resolved(options)
    done = import_table(table, output)
    click.echo(f"imported {done.rows} figures from {table} into {done.output} "
               f"({done.triples} triples, {done.seconds:.2f}s)")
    if no_build:
        return
    result = build_mod.build(settings.build_dir, build_mod.Inputs.shipped_plus([str(done.output)]), settings.reasoner)
    counts = ", ".join(f"{n} {label}" for label, n in result.manifest["counts"].items())
    click.echo(f"built {result.manifest['triples']} triples into {settings.build_dir} ({counts})")
