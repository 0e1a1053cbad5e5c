"""``karabakh-kg links``: list the Wikidata links and check them against Wikidata's entity data."""

from __future__ import annotations

import sys

import click

from ...graph.core.errors import KkgError
from ...graph.pipeline import build as build_mod
from ...graph.wikidata import check as wikidata_check
from ...graph.wikidata import entities as wikidata_entities
from ...graph.wikidata import vocabulary as wikidata
from .support import load_build, reports_errors, resolved, setting_options, write_output


@click.group("links")
def links():
    """Links from our actors, events and places to Wikidata items (skos:exactMatch)."""


@links.command("list")
@setting_options("build_dir", "reasoner")
@reports_errors
def list_links(**options):
    """List every link (entity, QID, confidence) and every actor, event and place left unlinked."""
    graph = build_mod.union_graph(load_build(resolved(options)).dataset)
    found = wikidata.links(graph)
    click.echo(f"linked ({len(found)}):")
    for link in found:
        label = link.labels[0] if link.labels else ""
        click.echo(f"  wd:{link.qid}\t{link.confidence or '-'}\t{link.entity}\t{label}")
    missing = wikidata.unlinked(graph)
    click.echo(f"unlinked, no verified Wikidata item ({len(missing)}):")
    for entity, kind, label in missing:
        click.echo(f"  {kind}\t{entity}\t{label}")


@links.command("check")
@click.option("--live", is_flag=True,
              help="Fetch each item's entity data from Wikidata (needs the network) instead of the recorded documents.")
@click.option("--docs", "docs", type=click.Path(file_okay=False), default=None,
              help="A folder of recorded entity documents (Q….json) to check against; default: the shipped ones.")
@click.option("--base-url", default=wikidata_entities.ENTITY_DATA_URL, show_default=True,
              help="With --live: where Special:EntityData lives (a mirror, or a test stand-in).")
@click.option("--timeout", default=5.0, show_default=True, type=float,
              help="With --live: seconds to wait for each document.")
@setting_options("build_dir", "reasoner")
@reports_errors
def check(live, docs, base_url, timeout, **options):
    """Check every link: the item exists, is not a redirect, its English label or an alias matches
    ours, and its type fits our class. One line per mismatch; exit status 1 when there is any."""
    if live and docs:
        raise KkgError("--live and --docs exclude each other: check live, or against recorded documents",
                       code="bad-option")
    source = wikidata_entities.LiveDocuments(base_url, timeout) if live else wikidata_entities.RecordedDocuments(docs)
    graph = build_mod.union_graph(load_build(resolved(options)).dataset)
    checked, mismatches = wikidata_check.check_links(graph, source)
    click.echo(f"checked {checked} links against {source.describe()}")
    for mismatch in mismatches:
        click.echo(f"mismatch: {mismatch}")
    if mismatches:
        click.echo(f"{len(mismatches)} mismatch(es)", err=True)
        sys.exit(1)
    click.echo(f"ok: all {checked} links match")


def export_wikidata(dataset, format_name: str, graph: str | None, output) -> None:
    """``export --format wikibase|quickstatements``: write the statements of linked items, and say
    on standard error what about them could not be exported, and why."""
    from ...graph.wikidata import export as wikidata_export

    if graph is not None:
        raise KkgError(f"--graph does not apply to --format {format_name}: it exports the statements of "
                       f"every linked item, read from all graphs", code="bad-option")
    data, skipped = wikidata_export.serialize(build_mod.union_graph(dataset), format_name)
    write_output(data, output)
    if skipped:
        click.echo(f"note: {len(skipped)} fact(s) or claim(s) about linked items were not exported:", err=True)
        for item in skipped:
            click.echo(f"  {item}", err=True)
