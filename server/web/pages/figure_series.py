"""A figure group's claims as series: each claimant's figures for one thing, oldest to newest (its
history), and the latest figure of each series (the rival figures shown side by side).

A figure group of a page is one thing counted: an event, a category (killed, missing ...) and a
group of people (servicemen, civilians ...). Within a group, a **series** is one speaker's figures
about the same people (the same ``kkg:appliesTo``): the claimant's own, and where a joint claimant
("Armenia/Artsakh", ``kkg:hasMember``) also gives figures about the same people, its members'
figures with its own (Armenia's reports join Armenia/Artsakh's), as
``queries/figure-history.rq`` counts them.

The order of a series (documented in docs/browsing.md): dated figures by their reporting date
``kkg:asOf``, compared as ISO text like the stored queries (a year or a month ranks at its start,
before the days it begins with), equal dates by the claim's identifier; undated figures after every
dated one. A series' **latest** figure is its newest dated figure; an undated figure is the latest
only when its series has no dated one at all.
"""

from __future__ import annotations

from collections import defaultdict

from rdflib import Graph

from ....graph.core.iris import KKG


def speaker_of(graph: Graph, claim, speakers: set):
    """Whose series a claim belongs to: the joint claimant among ``speakers`` (the claimants of
    figures about the same people) that its claimant is a member of, else its claimant."""
    claimant = graph.value(claim, KKG.claimant)
    joint = sorted(s for s in speakers if s != claimant and (s, KKG.hasMember, claimant) in graph)
    return joint[0] if joint else claimant


def date_order(graph: Graph, claim) -> tuple:
    """The sort key of a claim within its series: dated first by ``kkg:asOf`` as ISO text, undated
    last, equal dates by the claim's identifier."""
    as_of = graph.value(claim, KKG.asOf)
    return (as_of is None, "" if as_of is None else str(as_of), str(claim))


def series_of(graph: Graph, claims) -> dict[tuple, list]:
    """The group's claims by series (speaker, whose people), each series oldest first, undated last."""
    by_people = defaultdict(list)
    for claim in claims:
        by_people[frozenset(graph.objects(claim, KKG.appliesTo))].append(claim)
    series = defaultdict(list)
    for whose, about_them in by_people.items():
        speakers = {graph.value(c, KKG.claimant) for c in about_them} - {None}
        for claim in about_them:
            series[(speaker_of(graph, claim, speakers), whose)].append(claim)
    return {key: sorted(members, key=lambda c: date_order(graph, c)) for key, members in series.items()}


def latest(graph: Graph, ordered: list):
    """The latest figure of a series (ordered by :func:`series_of`): its newest dated claim, or,
    when none is dated, its last undated one."""
    dated = [c for c in ordered if graph.value(c, KKG.asOf) is not None]
    return (dated or ordered)[-1]
