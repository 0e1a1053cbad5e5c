"""Synthetic conflict graphs under our ontology, for benchmarks and scale tests.

``karabakh-kg generate --triples N -o FILE`` writes about N triples (N-Triples for ``.nt``, Turtle
for ``.ttl``) shaped like the seed: conflicts over regions, wars and their offensives, battles,
ceasefires, agreements and other events; states, self-declared states, joint claimant groups, armed
groups and organisations; and, above all, **claims**: rival casualty figures from several claimants
(exact "2,906", approximate "~11,000", lower bound "60+"), participation claims (stated, and alleged
by the other side), quantity claims with units, and hedged statements. Every node is labelled and
traceable to a generated source article, so the output passes the shapes and every check, and
``karabakh-kg build --facts FILE`` builds it through the same pipeline as the seed.

The names are invented (syllables), the dates and figures random but plausible; the output depends
only on N and the seed. Every IRI is under ``https://w3id.org/karabakh-kg/id/{kind}/gen-...`` so
generated nodes never collide with real ones.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from ..core import progress
from ..core.errors import KkgError
from ..core.iris import BASE

ID = BASE + "id/"
KKG = BASE + "ontology#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
PROV = "http://www.w3.org/ns/prov#"
DCTERMS = "http://purl.org/dc/terms/"
SCHEMA = "https://schema.org/"
LICENCE = "https://creativecommons.org/licenses/by-sa/4.0/"

TURTLE_PREFIXES = (
    ("kkg", KKG), ("actor", ID + "actor/"), ("event", ID + "event/"), ("claim", ID + "claim/"),
    ("source", ID + "source/"), ("place", ID + "place/"), ("concept", ID + "concept/"),
    ("rdfs", RDFS), ("xsd", XSD), ("skos", SKOS), ("dcterms", DCTERMS), ("prov", PROV),
    ("schema", SCHEMA),
)
FORMATS = {"nt": "ntriples", "ttl": "turtle"}


# -- terms ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Lit:
    """A literal: its text and either a language tag or a datatype IRI (neither: a plain string)."""

    text: str
    lang: str | None = None
    datatype: str | None = None


def _en(text: str) -> Lit:
    return Lit(text, lang="en")


def _int(value: int) -> Lit:
    return Lit(str(value), datatype=XSD + "integer")


def _date(day: date) -> Lit:
    return Lit(day.isoformat(), datatype=XSD + "date")


def _concept(slug: str) -> str:
    return f"{ID}concept/{slug}"


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r"))


@dataclass
class Node:
    """One subject and its predicate-object pairs (IRIs as str, literals as Lit)."""

    iri: str
    pairs: list = field(default_factory=list)

    def add(self, predicate: str, *objects) -> "Node":
        """Add one triple per object; returns the node so calls chain."""
        for obj in objects:
            self.pairs.append((predicate, obj))
        return self


# -- invented names ------------------------------------------------------------------------------

_ONSETS = ["b", "d", "g", "k", "l", "m", "n", "r", "s", "t", "v", "z", "sh", "kh", "ar", "ost", "tal", "ver"]
_VOWELS = ["a", "e", "i", "o", "u", "ia", "ai"]
_CODAS = ["", "n", "r", "sk", "l", "m", "st", "kh"]
_ENDINGS = ["ia", "an", "istan", "ova", "aria", "esh", "or"]


def _name(rng: random.Random) -> str:
    syllables = rng.randint(1, 2)
    word = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables))
    return (word + rng.choice(_ENDINGS)).capitalize()


def _slug(text: str) -> str:
    out = "".join(ch if ch.isalnum() else "-" for ch in text.lower())
    return "-".join(part for part in out.split("-") if part)


def _adjective(name: str) -> str:
    for ending, replacement in (("istan", "istani"), ("ia", "ian"), ("an", "ani"), ("ova", "ovan"),
                                ("esh", "eshi"), ("or", "orian")):
        if name.endswith(ending):
            return name[: -len(ending)] + replacement
    return name + "ian"


def _figure(value: int) -> str:
    return f"{value:,}"


# -- the generator -------------------------------------------------------------------------------

CASUALTY_CATEGORIES = [("killed", "killed"), ("wounded", "wounded"), ("missing", "missing"),
                       ("captured", "captured"), ("wounded-and-sick", "wounded and sick"),
                       ("injured", "injured"), ("displaced", "displaced")]
MEANS = ["means-drones", "means-sensors", "means-long-range-heavy-artillery", "means-missile-strikes",
         "means-state-propaganda", "means-official-social-media-accounts"]


class Generator:
    """Writes nodes conflict by conflict, war by war, claim by claim, until the triple budget is spent."""

    def __init__(self, triples: int, seed: int = 0):
        if triples < 1:
            raise KkgError("--triples must be a positive number", code="bad-parameter")
        self.budget = triples
        self.rng = random.Random(seed)
        self.count = 0
        self.nodes: list[Node] = []

    # node helpers
    def node(self, kind: str, slug: str, cls: str) -> Node:
        """A new node ``/id/{kind}/gen-{slug}`` of class ``kkg:{cls}`` (or a full IRI class)."""
        n = Node(f"{ID}{kind}/gen-{slug}")
        n.add(RDF_TYPE, cls if cls.startswith("http") else KKG + cls)
        self.nodes.append(n)
        return n

    def _traced(self, n: Node, label: str, article: str, section: str = "section-lead",
                verbatim: str | None = None) -> Node:
        n.add(RDFS + "label", _en(label))
        if verbatim:
            n.add(KKG + "verbatim", Lit(verbatim))
        n.add(KKG + "section", _concept(section))
        n.add(PROV + "wasDerivedFrom", article)
        return n

    def _size(self) -> int:
        return sum(len(n.pairs) for n in self.nodes)

    def full(self) -> bool:
        """True once the budget is reached."""
        return self.count + self._size() >= self.budget

    def flush(self) -> list[Node]:
        """Hand out the nodes made so far (the caller writes them) and count their triples."""
        out, self.nodes = self.nodes, []
        self.count += sum(len(n.pairs) for n in out)
        return out

    # the shared part: an encyclopedia and international organisations
    def header(self) -> None:
        """The generated encyclopedia, an overview article, an observatory, a court and a union of nations."""
        enc = self.node("source", "encyclopedia", "Encyclopedia")
        enc.add(RDFS + "label", _en("Generated Encyclopedia (synthetic test data)"))
        enc.add(DCTERMS + "title", _en("Generated Encyclopedia"))
        enc.add(DCTERMS + "language", Lit("en"))
        enc.add(SCHEMA + "url", "https://example.org/generated-encyclopedia/")
        enc.add(DCTERMS + "license", LICENCE)
        enc.add(RDFS + "comment", _en("Synthetic source of generated benchmark data: no real facts."))
        self.encyclopedia = enc.iri
        self.overview = self.article("overview", "Conflicts of the generated world")
        self.observatory = self.node("actor", "observatory", "Organisation")
        self._traced(self.observatory, "Generated Observatory for Human Rights", self.overview,
                     verbatim="Per the Observatory:")
        self.court = self.node("actor", "court", "Organisation")
        self._traced(self.court, "International Court of the Generated World", self.overview)
        self.nations = self.node("actor", "united-nations", "Organisation")
        self._traced(self.nations, "Union of Generated Nations", self.overview)

    def article(self, slug: str, title: str) -> str:
        """A generated encyclopedia article (a kkg:Source every node made from it points to)."""
        art = self.node("source", f"article-{slug}", "EncyclopediaArticle")
        art.add(RDFS + "label", _en(f"{title} (generated article)"))
        art.add(DCTERMS + "title", _en(title))
        art.add(DCTERMS + "language", Lit("en"))
        art.add(SCHEMA + "url", f"https://example.org/generated-encyclopedia/{slug}")
        art.add(DCTERMS + "isPartOf", self.encyclopedia)
        art.add(DCTERMS + "license", LICENCE)
        return art.iri

    def concept(self, slug: str, scheme: str, label: str, definition: str, related: str | None = None) -> str:
        """A new SKOS concept in one of the ontology's schemes (sides and nationalities of invented states)."""
        c = self.node("concept", slug, SKOS + "Concept")
        c.add(RDFS + "label", _en(label))
        c.add(SKOS + "prefLabel", _en(label))
        c.add(SKOS + "definition", _en(definition))
        c.add(SKOS + "inScheme", _concept(f"scheme-{scheme}"))
        if related:
            c.add(SKOS + "related", related)
        return c.iri

    # a conflict: region, places, actors, then wars
    def conflict(self, index: int) -> "Conflict":
        """A region and the actors fighting over it; its wars follow."""
        rng = self.rng
        key = f"c{index}"
        region_name = _name(rng)
        article = self.article(f"{key}-conflict", f"{region_name} conflict")
        region = self.node("place", f"{key}-{_slug(region_name)}", "Place")
        self._traced(region, region_name, article, verbatim=f"the disputed region of {region_name}")
        states = []
        for i in range(2):
            name = _name(rng)
            state = self.node("actor", f"{key}-{_slug(name)}-{i}", "State")
            self._traced(state, name, article, section="section-infobox")
            adjective = _adjective(name)
            nationality = self.concept(f"{key}-nationality-{_slug(name)}-{i}", "nationality", adjective,
                                       f"Of {name}: its citizens, residents or soldiers.", related=state.iri)
            side = self.concept(f"{key}-side-{_slug(name)}-{i}", "side", f"{adjective} side",
                                f"The side of {name} and its allies in the {region_name} conflict.")
            states.append((state.iri, name, nationality, side))
        breakaway_name = _name(rng)
        breakaway = self.node("actor", f"{key}-{_slug(breakaway_name)}-republic", "SelfDeclaredState")
        self._traced(breakaway, f"Republic of {breakaway_name}", article,
                     verbatim=f"the self-declared breakaway state of {breakaway_name}")
        group = self.node("actor", f"{key}-{_slug(states[1][1])}-{_slug(breakaway_name)}", "ActorGroup")
        group_label = f"{states[1][1]}/{breakaway_name}"
        group.add(KKG + "hasMember", states[1][0], breakaway.iri)
        self._traced(group, group_label, article, section="section-infobox", verbatim=f"Per {group_label}:")
        patron_name = _name(rng)
        patron = self.node("actor", f"{key}-{_slug(patron_name)}-patron", "State")
        self._traced(patron, patron_name, article)
        patron_nationality = self.concept(f"{key}-nationality-{_slug(patron_name)}-patron", "nationality",
                                          _adjective(patron_name), f"Of {patron_name}.", related=patron.iri)
        mercenaries = self.node("actor", f"{key}-{_slug(patron_name)}-mercenaries", "ArmedGroup")
        mercenaries.add(KKG + "nationality", patron_nationality)
        self._traced(mercenaries, f"{_adjective(patron_name)} mercenaries", article, section="section-infobox")
        mediator_name = _name(rng)
        mediator = self.node("actor", f"{key}-{_slug(mediator_name)}-mediator", "State")
        self._traced(mediator, mediator_name, article)
        places = [region.iri]
        for i in range(rng.randint(2, 5)):
            name = _name(rng)
            place = self.node("place", f"{key}-{_slug(name)}-{i}", "Place")
            place.add(KKG + "locatedIn", region.iri)
            place.add(KKG + "controlledBy", rng.choice([states[0][0], breakaway.iri]))
            self._traced(place, f"{name}, {region_name}", article)
            places.append(place.iri)
        conflict = self.node("event", f"{key}-{_slug(region_name)}-conflict", "Conflict")
        conflict.add(KKG + "location", region.iri)
        self._traced(conflict, f"{region_name} conflict", article, section="section-infobox",
                     verbatim=f"Part of the {region_name} conflict")
        return Conflict(key, region_name, conflict.iri, article, places, states, breakaway.iri,
                        f"Republic of {breakaway_name}", group.iri, group_label, patron.iri, patron_name,
                        patron_nationality, mercenaries.iri, mediator.iri, mediator_name,
                        rng.randint(1950, 2015))

    def war(self, c: "Conflict", number: int, previous: str | None) -> "War":
        """One war of a conflict, with its article, sub-events and participation claims."""
        rng = self.rng
        ordinal = ["First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth"]
        title = f"{ordinal[number] if number < len(ordinal) else f'War {number + 1} of the'} {c.region} War"
        key = f"{c.key}-w{number}"
        article = self.article(key, title)
        start = date(c.year, 1, 1) + timedelta(days=rng.randint(0, 364))
        c.year = min(2023, start.year + rng.randint(2, 12))
        days = rng.randint(6, 900)
        end = start + timedelta(days=days)
        (a, a_name, a_nat, a_side), (b, b_name, b_nat, b_side) = c.states
        winner, winner_name = rng.choice([(a, a_name), (b, b_name)])
        war = self.node("event", f"{key}-{_slug(c.region)}-war", "War")
        war.add(KKG + "partOf", c.conflict)
        war.add(KKG + "startDate", _date(start)).add(KKG + "endDate", _date(end))
        war.add(KKG + "durationDays", _int(days))
        war.add(KKG + "location", *rng.sample(c.places, min(len(c.places), rng.randint(1, 3))))
        war.add(KKG + "involves", a, b, c.breakaway)
        war.add(KKG + "result", _en(f"{_adjective(winner_name)} victory"))
        war.add(KKG + "winner", winner)
        war.add(KKG + "means", *[_concept(m) for m in rng.sample(MEANS, rng.randint(1, 4))])
        if previous:
            war.add(KKG + "follows", previous)
        war.add(RDFS + "comment", _en(f"An armed conflict between {a_name} and {b_name} over {c.region}, "
                                      f"from {start.year} to {end.year}."))
        self._traced(war, title, article, section="section-infobox",
                     verbatim=f"{start.day} {start:%B} {start.year} – {end.day} {end:%B} {end.year}")
        w = War(key, title, war.iri, article, start, end, c)
        self.sub_events(w, war)
        self.participation(w)
        return w

    def sub_events(self, w: "War", war: Node) -> None:
        """Offensives, battles, ceasefires, an agreement and the like, each part of the war."""
        rng, c = self.rng, w.conflict
        a, b = c.states[0][0], c.states[1][0]
        significant = []
        last = None
        kinds = ["Offensive", "Battle", "Battle", "Clashes", "Ceasefire", "Incident", "Detention",
                 "Deployment", "Campaign", "Protests", "Agreement", "LegalCase", "Condemnation"]
        for i, kind in enumerate(kinds[: rng.randint(4, len(kinds))]):
            day = w.start + timedelta(days=rng.randint(0, (w.end - w.start).days))
            place = rng.choice(c.places)
            ev = self.node("event", f"{w.key}-{kind.lower()}-{i}", kind)
            label = {"Offensive": f"{c.states[0][1]} offensive of {day:%B} {day.year}",
                     "Battle": f"Capture of a town in {c.region}",
                     "Clashes": f"Clashes along the line of contact in {c.region}",
                     "Ceasefire": f"Ceasefire brokered by {c.mediator_name}",
                     "Incident": f"Shoot-down incident near the border of {c.region}",
                     "Detention": "Detention of prisoners of war",
                     "Deployment": f"Deployment of peacekeepers by {c.mediator_name}",
                     "Campaign": "Online information warfare",
                     "Protests": "Anti-government protests after the defeat",
                     "Agreement": f"{c.region} ceasefire agreement",
                     "LegalCase": f"Case before the court about the {w.title}",
                     "Condemnation": f"International condemnation of the {w.title}"}[kind]
            if kind == "Condemnation":
                ev.add(KKG + "concerns", w.iri).add(KKG + "involves", self.nations.iri)
            else:
                ev.add(KKG + "partOf", w.iri)
            if kind in ("Agreement", "Detention"):
                ev.add(KKG + "pointInTime", _date(day))
            else:
                ev.add(KKG + "startDate", _date(day))
            if kind in ("Offensive", "Battle", "Clashes", "Incident"):
                ev.add(KKG + "location", place)
            if kind == "Offensive":
                ev.add(KKG + "involves", a)
            if kind == "Ceasefire":
                ev.add(KKG + "mediator", c.mediator).add(KKG + "occurrences", _int(rng.randint(1, 3)))
                ev.add(KKG + "result", _en("failed to stop the fighting"))
            if kind == "Deployment":
                ev.add(KKG + "involves", c.mediator)
            if kind == "Protests":
                ev.add(KKG + "country", rng.choice([a, b])).add(KKG + "causedBy", w.iri)
            if kind == "LegalCase":
                ev.add(KKG + "court", self.court.iri)
            if kind == "Campaign":
                ev.add(KKG + "means", _concept("means-state-propaganda"))
            if last is not None and kind in ("Battle", "Agreement"):
                ev.add(KKG + "follows", last)
            self._traced(ev, label, w.article)
            if kind in ("Offensive", "Battle", "Agreement"):
                significant.append(ev.iri)
            last = ev.iri
        if significant:
            war.add(KKG + "significantEvent", *significant)

    def claim(self, w: "War", slug: str, cls: str, label: str, claimant: str, verbatim: str,
              status: str = "stated", attribution: str | None = None, field_name: str | None = None,
              section: str = "section-infobox") -> Node:
        """A claim with everything every claim needs: about, claimant, status, rank, source, verbatim."""
        cl = self.node("claim", f"{w.key}-{slug}", cls)
        cl.add(RDFS + "label", _en(label))
        cl.add(KKG + "about", w.iri)
        cl.add(KKG + "claimant", claimant)
        if attribution:
            cl.add(KKG + "attribution", Lit(attribution))
        cl.add(KKG + "epistemicStatus", _concept(f"status-{status}"))
        cl.add(KKG + "rank", _concept("rank-normal"))
        cl.add(KKG + "sourceDocument", w.article)
        cl.add(KKG + "section", _concept(section))
        if field_name:
            cl.add(KKG + "field", Lit(field_name))
        cl.add(KKG + "verbatim", Lit(verbatim))
        return cl

    def participation(self, w: "War") -> None:
        """Belligerents stated by the article, mercenaries and a patron alleged by the other side."""
        c = w.conflict
        (a, a_name, _, a_side), (b, b_name, _, b_side) = c.states
        for actor, name, side in ((a, a_name, a_side), (b, b_name, b_side),
                                  (c.breakaway, c.breakaway_name, b_side)):
            cl = self.claim(w, f"{_slug(name)}-belligerent", "ParticipationClaim",
                            f"{name}: belligerent", w.article, name, field_name="Belligerents")
            cl.add(KKG + "participant", actor).add(KKG + "role", _concept("role-belligerent"))
            cl.add(KKG + "side", side)
        cl = self.claim(w, "mercenaries-belligerent-alleged", "ParticipationClaim",
                        f"{_adjective(c.patron_name)} mercenaries: belligerent, alleged by {b_name}", b,
                        f"{_adjective(c.patron_name)} mercenaries (alleged by {b_name})", status="alleged",
                        attribution=f"alleged by {b_name}", field_name="Belligerents")
        cl.add(KKG + "participant", c.mercenaries).add(KKG + "role", _concept("role-belligerent"))
        cl.add(KKG + "side", a_side)
        cl = self.claim(w, "patron-military-support", "ParticipationClaim",
                        f"{c.patron_name} provided military support to {a_name}", w.article,
                        f"{c.patron_name} provided military support to {a_name}.", section="section-lead")
        cl.add(KKG + "participant", c.patron).add(KKG + "role", _concept("role-military-support"))
        cl.add(KKG + "beneficiary", a)

    def casualty_claims(self, w: "War", index: int) -> None:
        """One round of rival figures: each claimant's figure for one category and group of people."""
        rng, c = self.rng, w.conflict
        (a, a_name, a_nat, _), (b, b_name, b_nat, _) = c.states
        category, words = CASUALTY_CATEGORIES[index % len(CASUALTY_CATEGORIES)]
        military = index % 3 != 2
        if military and category in ("displaced", "injured"):
            category, words = "killed", "killed"
        true_value = rng.randint(3, 12000)
        victims = [(a, a_name, a_nat), (b, b_name, b_nat)][index % 2]
        victim, victim_name, victim_nat = victims
        claimants = [(a, a_name, f"Per {a_name}:"), (c.group, c.group_label, f"Per {c.group_label}:"),
                     (self.observatory.iri, "the Observatory", "Per the Observatory:")]
        for claimant, claimant_name, attribution in claimants:
            if self.full():
                return
            style = rng.choice(["exact", "exact", "approximately", "at-least"])
            value = max(0, int(true_value * rng.uniform(0.4, 1.6)))
            if style == "approximately":
                value = max(10, round(value, -2) if value >= 1000 else round(value, -1))
                text = f"~{_figure(value)}"
            elif style == "at-least":
                text = f"{_figure(value)}+"
            else:
                text = _figure(value)
            group = "servicemen" if military else "civilians"
            verbatim = f"{text} {'servicemen' if military else _adjective(victim_name) + ' civilians'} {words}"
            slug = f"{index}-{_slug(victim_name)}-{group}-{category}-per-{_slug(claimant_name)}"
            cl = self.claim(w, slug, "CasualtyClaim",
                            f"{_adjective(victim_name)} {group} {words}, per {claimant_name}: {text}",
                            claimant, verbatim, attribution=attribution, field_name="Casualties and losses")
            cl.add(KKG + "category", _concept(f"casualty-{category}"))
            cl.add(KKG + "personGroup", _concept(f"group-{group}"))
            cl.add(KKG + "appliesTo", victim if military else victim_nat)
            cl.add(KKG + "approximation", _concept(f"approximation-{style}"))
            cl.add(KKG + ("minValue" if style == "at-least" else "value"), _int(value))

    def other_claims(self, w: "War") -> None:
        """A territory share, a deployment, a mandate duration and a hedged statement."""
        rng, c = self.rng, w.conflict
        (a, a_name, _, _), (b, b_name, _, _) = c.states
        share = rng.randint(5, 95)
        cl = self.claim(w, "territory-share", "QuantityClaim",
                        f"{a_name} gains control of {share}% of {c.breakaway_name} territory", w.article,
                        f"{a_name} gains control of {share}% of {c.breakaway_name} territory",
                        field_name="Territorial changes")
        cl.add(KKG + "category", _concept("quantity-territory-share")).add(KKG + "unit", _concept("unit-percent"))
        cl.add(KKG + "appliesTo", c.breakaway).add(KKG + "beneficiary", a)
        cl.add(KKG + "approximation", _concept("approximation-exact")).add(KKG + "value", _int(share))
        troops = rng.randint(5, 60) * 100
        cl = self.claim(w, "peacekeepers-deployed", "QuantityClaim",
                        f"{c.mediator_name} deploys about {troops:,} peacekeepers", w.article,
                        f"about {troops:,} peacekeepers from {c.mediator_name}", section="section-lead")
        cl.add(KKG + "category", _concept("quantity-deployed")).add(KKG + "appliesTo", c.mediator)
        cl.add(KKG + "approximation", _concept("approximation-approximately")).add(KKG + "value", _int(troops))
        years = rng.randint(2, 10)
        cl = self.claim(w, "mandate-duration", "QuantityClaim", f"Peacekeeping mandate of at least {years} years",
                        w.article, f"for at least {years} years", section="section-lead")
        cl.add(KKG + "category", _concept("quantity-mandate-duration")).add(KKG + "unit", _concept("unit-year"))
        cl.add(KKG + "approximation", _concept("approximation-at-least")).add(KKG + "minValue", _int(years))
        cl = self.claim(w, "hedged-statement", "StatementClaim",
                        f"According to {b_name}, {a_name} shelled civilian areas", b,
                        f"according to {b_name}, {a_name} shelled civilian areas", status="according-to",
                        attribution=f"according to {b_name}", section="section-lead")
        cl.add(KKG + "appliesTo", a)

    def run(self):
        """Yield batches of nodes until about ``triples`` triples have been made."""
        self.header()
        yield self.flush()
        conflict_index = 0
        while not self.full():
            c = self.conflict(conflict_index)
            previous = None
            for number in range(self.rng.randint(1, 4)):
                if self.full():
                    break
                w = self.war(c, number, previous)
                self.other_claims(w)
                previous = w.iri
                for index in range(self.rng.randint(10, 40)):
                    if self.full():
                        break
                    self.casualty_claims(w, index)
                yield self.flush()
            conflict_index += 1
            yield self.flush()


@dataclass
class Conflict:
    """What the wars of one conflict share: region, places, actors."""

    key: str
    region: str
    conflict: str
    article: str
    places: list
    states: list
    breakaway: str
    breakaway_name: str
    group: str
    group_label: str
    patron: str
    patron_name: str
    patron_nationality: str
    mercenaries: str
    mediator: str
    mediator_name: str
    year: int


@dataclass
class War:
    """One generated war: its key, title, IRI, article, dates and conflict."""

    key: str
    title: str
    iri: str
    article: str
    start: date
    end: date
    conflict: Conflict


# -- writing -------------------------------------------------------------------------------------

def _nt_object(obj) -> str:
    if isinstance(obj, Lit):
        text = f'"{_escape(obj.text)}"'
        if obj.lang:
            return f"{text}@{obj.lang}"
        if obj.datatype:
            return f"{text}^^<{obj.datatype}>"
        return text
    return f"<{obj}>"


def _ttl_term(iri: str) -> str:
    for prefix, namespace in TURTLE_PREFIXES:
        if iri.startswith(namespace):
            local = iri[len(namespace):]
            if local and all(ch.isalnum() or ch in "-_" for ch in local) and local[0].isalpha():
                return f"{prefix}:{local}"
    return f"<{iri}>"


def _ttl_object(obj) -> str:
    if isinstance(obj, Lit):
        if obj.datatype == XSD + "integer":
            return obj.text
        text = f'"{_escape(obj.text)}"'
        if obj.lang:
            return f"{text}@{obj.lang}"
        if obj.datatype:
            return f"{text}^^{_ttl_term(obj.datatype)}"
        return text
    return _ttl_term(obj)


def _write_nt(nodes, out) -> None:
    lines = []
    for n in nodes:
        subject = f"<{n.iri}>"
        for predicate, obj in n.pairs:
            lines.append(f"{subject} <{predicate}> {_nt_object(obj)} .\n")
    out.write("".join(lines))


def _write_ttl(nodes, out) -> None:
    blocks = []
    for n in nodes:
        parts = []
        for predicate, obj in n.pairs:
            verb = "a" if predicate == RDF_TYPE else _ttl_term(predicate)
            parts.append(f"{verb} {_ttl_object(obj)}")
        blocks.append(f"{_ttl_term(n.iri)} " + " ;\n    ".join(parts) + " .\n\n")
    out.write("".join(blocks))


def generate(path: str | Path, triples: int, seed: int = 0) -> int:
    """Write about ``triples`` generated triples to ``path`` (``.nt`` or ``.ttl``); returns the exact count."""
    path = Path(path)
    kind = FORMATS.get(path.suffix.lower().lstrip("."))
    if kind is None:
        raise KkgError(f"cannot tell the format of {str(path)!r}: use a .nt (N-Triples) or .ttl (Turtle) file name",
                       code="unknown-format")
    gen = Generator(triples, seed)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        if kind == "turtle":
            out.write(f"# Synthetic conflict graph: {triples} triples requested, seed {seed}. "
                      "Generated by `karabakh-kg generate`; no real facts.\n\n")
            for prefix, namespace in TURTLE_PREFIXES:
                out.write(f"@prefix {prefix}: <{namespace}> .\n")
            out.write("\n")
        writer = _write_ttl if kind == "turtle" else _write_nt
        for batch in gen.run():
            writer(batch, out)
            progress.count("generating: triples", min(gen.count, triples), triples)
    tmp.replace(path)
    return gen.count
