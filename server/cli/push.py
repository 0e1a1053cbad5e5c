"""``karabakh-kg push``: upload the last build into an external SPARQL store."""

from __future__ import annotations

import click

from .support import (
    load_build,
    reports_errors,
    resolved,
    setting_options,
    shows_progress,
)

PUSH_SETTINGS = ("store_graph_store", "store_endpoint", "store_user", "store_password", "build_dir",
                 "reasoner", "engine")


@click.command("push")
@setting_options(*PUSH_SETTINGS)
@reports_errors
@shows_progress
def push(**options):
    """Replace the build's named graphs in an external store (Graph Store Protocol PUT per graph).

    With --store-endpoint as well, the store's own counts are read back and must match what was
    sent; then `karabakh-kg serve --store-endpoint URL` serves the store.
    """
    from ...graph.core import progress
    from ...graph.core.errors import KkgError
    from ...graph.sparql import RemoteStore
    from ...graph.stores import push as push_mod

    settings = resolved(options)
    if not settings.store_graph_store:
        raise KkgError("push needs the store's Graph Store Protocol URL: --store-graph-store URL (or "
                       "KARABAKH_KG_STORE_GRAPH_STORE), e.g. http://127.0.0.1:8890/sparql-graph-crud-auth "
                       "for Virtuoso", code="bad-setting")
    store = RemoteStore.from_settings(settings) if settings.store_endpoint else None
    build = load_build(settings)
    pushed = push_mod.push(build.dataset, settings.store_graph_store, settings.store_user,
                           settings.store_password)
    held = store.graph_sizes() if store else {}
    progress.finish()
    click.echo(f"pushed {sum(p.triples for p in pushed)} triples to {settings.store_graph_store}")
    for item in pushed:
        in_store = f"  ({held[item.graph]} in the store)" if item.graph in held else ""
        click.echo(f"  {item.triples:>7}  {item.graph}{in_store}")
    differ = [p.graph for p in pushed if p.graph in held and held[p.graph] != p.triples]
    if differ:
        raise KkgError(f"after the push the store holds a different number of triples in {', '.join(differ)} "
                       f"than the build has (a store that merges equal values, or a concurrent writer?)",
                       code="push-mismatch")
