"""The ``karabakh-kg`` command: build, export, query, validate, serve.

Every failure the user can cause is printed as one readable error (file and line when known)
with a non-zero exit status; never a traceback.
"""

from __future__ import annotations

import sys

import click

from ..graph import build as build_mod
from ..graph import export as export_mod
from ..graph import formats, query as query_mod, settings as settings_mod, sources, stored_queries, validate
from ..graph import wikidata_federation
from ..graph.errors import KkgError
from . import forked_query, safety
from .command_support import load_build, reports_errors, resolved, setting_options


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
def build(facts, added, **options):
    """Parse, reason (OWL 2 RL closure), validate (SHACL and checks) and write the dataset to the build directory."""
    settings = resolved(options)
    if facts and added:
        raise KkgError("--facts replaces the shipped facts, --add-facts adds to them: use one", code="bad-parameter")
    inputs = (build_mod.Inputs.with_facts(list(facts)) if facts else
              build_mod.Inputs.shipped_plus(list(added)) if added else build_mod.Inputs.shipped())
    result = build_mod.build(settings.build_dir, inputs, settings.reasoner)
    _echo_summary(result, settings.build_dir)


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
def export(format_name, graph, output, **options):
    """Write the dataset, or one named graph, in an RDF format (same input, same bytes)."""
    settings = resolved(options)
    if format_name in EXPORT_FORMAT_NAMES:
        from .links_command import export_wikidata  # Wikibase RDF, QuickStatements
        return export_wikidata(load_build(settings).dataset, format_name, graph, output)
    data = export_mod.serialize(load_build(settings).dataset, format_name, graph)
    _write(data, output)


def _write(data: bytes, output) -> None:
    if output:
        with open(output, "wb") as handle:
            handle.write(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


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
              type=click.Choice(["table", "json", "srx", "csv", "tsv"] + RDF_FORMAT_NAMES),
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
    stored, text = stored_queries.resolve_query_argument(query)
    if stored is not None and settings.wikidata_endpoint != wikidata_federation.WIKIDATA_SPARQL:
        stored = wikidata_federation.retarget_all({stored.id: stored}, settings.wikidata_endpoint)[stored.id]
    given = _parse_params(params)
    if stored is None and given:
        raise KkgError("--param is only for stored queries (files with a #+ header)", code="bad-parameter")
    bindings = stored.bindings(given) if stored else {}
    source = stored.source if stored else query
    parsed = query_mod.parse_query(stored.text if stored else text, source=source)
    safety.refuse_unlisted_services(parsed, settings.federation_allow_list, source)
    _write(forked_query.answer(load_build(settings).dataset, parsed, bindings, format_name), output)


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
def generate(triples, output, seed):
    """Write a synthetic conflict graph (wars, events, actors, rival casualty claims) for scale tests.

    Build it with `karabakh-kg build --facts FILE`; every generated IRI has a `gen-` slug.
    """
    from ..graph.generate import generate as generate_graph

    written = generate_graph(output, triples, seed)
    click.echo(f"wrote {written} triples to {output}")


@main.command("settings")
def settings_command():
    """List every setting with its flag, environment variable, default and meaning (Markdown)."""
    click.echo("| setting | flag | environment variable | default | meaning |")
    click.echo("|---|---|---|---|---|")
    for s in settings_mod.SETTINGS:
        default = s.default if s.name != "build_dir" else "~/.cache/karabakh-kg/build"
        click.echo(f"| {s.name} | `{s.flag}` | `{s.env_var}` | `{default}` | {s.help} |")


@main.command("queries")
def list_queries():
    """List the stored queries with their parameters."""
    for q in stored_queries.load_all().values():
        params = ", ".join(f"{p.name}:{p.type}={p.default}" for p in q.params)
        click.echo(f"{q.id}\t{q.title}" + (f"\t[{params}]" if params else ""))


if __name__ == "__main__":  # pragma: no cover
    # `python -m karabakh_kg.server.cli`: run the package's own module, where serve_command and
    # links_command (which import it) attach their commands; importing them from __main__ would
    # load this file a second time halfway through and fail on the circular import.
    from karabakh_kg.server.cli import main as package_main

    package_main()
else:
    from .serve_command import serve  # noqa: E402  (the SPARQL endpoint)
    from .links_command import links as _links  # noqa: E402  (the `links` group: list, check)
    from .push_command import push as _push  # noqa: E402  (upload the build into an external store)
    from .import_command import import_figures as _import  # noqa: E402  (a table of your own figures)
    from .diff_command import diff as _diff  # noqa: E402  (what changed between two builds)

    main.add_command(_links)
    main.add_command(serve)
    main.add_command(_push)
    main.add_command(_import)
    main.add_command(_diff)
