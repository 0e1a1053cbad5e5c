"""The ``karabakh-kg`` command: build, export, query, validate, serve.

Every failure the user can cause is printed as one readable error (file and line when known)
with a non-zero exit status; never a traceback.
"""

from __future__ import annotations

import click

from ...graph import sparql
from ...graph.core import formats, progress, settings_doc
from ...graph.core.errors import KkgError
from ...graph.pipeline import build as build_mod
from ...graph.pipeline import export as export_mod
from ...graph.pipeline import sources, validate
from .diff import diff
from .import_csv import import_figures
from .links import links
from .push import push
from .serve import serve
from .support import (
    load_build,
    reports_errors,
    resolved,
    setting_options,
    shows_progress,
    write_output,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="karabakh-kg")
def main():
    """karabakh-kg: a knowledge graph of the Nagorno-Karabakh conflict, where every contested figure
    is a sourced claim. Build it, query it, export it, serve it over SPARQL."""


def _echo_summary(build: build_mod.Build, out_dir) -> None:
    manifest = build.manifest
    click.echo(f"built {manifest['triples']} triples into {out_dir}")
    for graph, count in manifest["graphs"].items():
        click.echo(f"  {count:>7}  {graph}")
    counts = manifest["counts"]
    click.echo("  " + ", ".join(f"{n} {label}" for label, n in counts.items()))
    timings = manifest.get("timings", {})
    if timings:
        click.echo("  " + ", ".join(f"{stage} {seconds:.2f}s" for stage, seconds in timings.items()))


@main.command()
@click.option("--facts", "facts", multiple=True, type=click.Path(dir_okay=False),
              help="Build from these fact files instead of the shipped facts (repeatable).")
@click.option("--add-facts", "added", multiple=True, type=click.Path(dir_okay=False),
              help="Build from the shipped facts and these fact files besides, e.g. an import's Turtle (repeatable).")
@setting_options("build_dir", "reasoner", "validator", "engine")
@reports_errors
@shows_progress
def build(facts, added, **options):
    """Parse, reason (OWL 2 RL closure), validate (SHACL and checks) and write the dataset to the build directory."""
    settings = resolved(options)
    if facts and added:
        raise KkgError("--facts replaces the shipped facts, --add-facts adds to them: use one", code="bad-parameter")
    inputs = (build_mod.Inputs.with_facts(list(facts)) if facts else
              build_mod.Inputs.shipped_plus(list(added)) if added else build_mod.Inputs.shipped())
    result = build_mod.build(settings.build_dir, inputs, settings.reasoner, on_wait=_waiting(settings))
    progress.finish()
    _echo_summary(result, settings.build_dir)


def _waiting(settings):
    def say() -> None:
        progress.finish()
        click.echo(f"waiting for the build running in {settings.build_dir}", err=True)
    return say


RDF_FORMAT_NAMES = [f.name for f in formats.RDF_FORMATS]
EXPORT_FORMAT_NAMES = [f.name for f in formats.EXPORT_FORMATS]


@main.command()
@click.option("--format", "-f", "format_name", default="turtle", show_default=True,
              type=click.Choice(RDF_FORMAT_NAMES + EXPORT_FORMAT_NAMES),
              help="Output format: an RDF format, or the claims of linked items as Wikibase RDF or QuickStatements.")
@click.option("--graph", "-g", default=None,
              help="One named graph (ontology, facts, links, inferred, or a graph IRI); default: all.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file instead of standard output.")
@setting_options("build_dir", "reasoner", "engine")
@reports_errors
@shows_progress
def export(format_name, graph, output, **options):
    """Write the dataset, or one named graph, in an RDF format (same input, same bytes)."""
    settings = resolved(options)
    if format_name in EXPORT_FORMAT_NAMES:
        from .links import export_wikidata
        return export_wikidata(load_build(settings).dataset, format_name, graph, output)
    dataset = load_build(settings).dataset
    progress.step(f"writing {format_name}")
    data = export_mod.serialize(dataset, format_name, graph)
    progress.finish()
    write_output(data, output)


def _parse_params(pairs) -> dict[str, str]:
    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise KkgError(f"--param {pair!r}: expected name=value", code="bad-parameter")
        params[name.strip()] = value
    return params


@main.command()
@click.argument("query")
@click.option("--param", "-p", "params", multiple=True, help="A parameter of a stored query, as name=value.")
@click.option("--format", "-f", "format_name", default="table", show_default=True,
              type=click.Choice(list(formats.PREFERENCE[formats.TABLE]) + RDF_FORMAT_NAMES),
              help="Result format (RDF formats for CONSTRUCT and DESCRIBE).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file instead of standard output.")
@setting_options("build_dir", "reasoner", "federation_allow_list", "wikidata_endpoint")
@reports_errors
def query(query, params, format_name, output, **options):
    """Run QUERY (a stored query's id, or a .rq file) on the last build.

    The same safety rules as the server apply: FROM never loads anything, and SERVICE calls only
    the endpoints on the federation allow-list.
    """
    settings = resolved(options)
    stored, text = sparql.resolve_query_argument(query)
    if stored is not None and settings.wikidata_endpoint != sparql.WIKIDATA_SPARQL:
        stored = sparql.retarget_all({stored.id: stored}, settings.wikidata_endpoint)[stored.id]
    given = _parse_params(params)
    if stored is None and given:
        raise KkgError("--param is only for stored queries (files with a #+ header)", code="bad-parameter")
    bindings = stored.bindings(given) if stored else {}
    source = stored.source if stored else query
    parsed = sparql.parse_query(stored.text if stored else text, source=source)
    sparql.refuse_unlisted_services(parsed, settings.federation_allow_list, source)
    write_output(sparql.answer_once(load_build(settings).dataset, parsed, bindings, format_name), output)


@main.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@setting_options("reasoner", "validator", "engine")
@reports_errors
def validate_command(files, **options):
    """Check your own RDF files against the ontology's shapes and checks (with the ontology's inferences)."""
    settings = resolved(options)
    inputs = build_mod.Inputs(sources.ontology_files(), sources.user_files(list(files)), [])
    assembly, _ = build_mod.assemble_graphs(inputs, settings.reasoner)  # no store needed to check
    violations = build_mod.check(assembly, inputs)
    validate.raise_if_invalid(violations, ", ".join(files))
    click.echo(f"ok: {', '.join(files)} conform to the shapes and pass every check")


@main.command()
@click.option("--triples", "-n", type=click.IntRange(min=1), required=True,
              help="About how many triples to write (the result is within a few per cent).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), required=True,
              help="File to write: .nt (N-Triples) or .ttl (Turtle).")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed: same seed, same file.")
@reports_errors
@shows_progress
def generate(triples, output, seed):
    """Write a synthetic conflict graph (wars, events, actors, rival casualty claims) for scale tests.

    Build it with `karabakh-kg build --facts FILE`; every generated IRI has a `gen-` slug.
    """
    from ...graph.pipeline.generate import generate as generate_graph

    written = generate_graph(output, triples, seed)
    progress.finish()
    click.echo(f"wrote {written} triples to {output}")


@main.command("settings")
@click.option("--markdown", is_flag=True, help="Print the whole docs/configuration.md page, not only the table.")
def settings_command(markdown):
    """List every setting with its flag, environment variable, default and meaning (Markdown)."""
    click.echo(settings_doc.configuration_page() if markdown else settings_doc.settings_table(), nl=False)


@main.command("queries")
def list_queries():
    """List the stored queries with their parameters."""
    for q in sparql.load_stored_queries().values():
        params = ", ".join(f"{p.name}:{p.type}={p.default}" for p in q.params)
        click.echo(f"{q.id}\t{q.title}" + (f"\t[{params}]" if params else ""))


main.add_command(links)
main.add_command(serve)
main.add_command(push)
main.add_command(import_figures)
main.add_command(diff)
