"""How the words of a figures table map onto the graph: claimants to actors, "whose" to parties,
group words to person-group concepts, categories to concepts, event ids to event IRIs.

One table per column, read by ``figure_rows`` (the shipped figures and ``karabakh-kg import``
alike). The page's own words are always kept beside the reading (``kkg:attribution``,
``kkg:appliesToText``, ``kkg:personGroupText``), so a reader can check every mapping here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rdflib import URIRef

from ..core.iris import KKG, entity


@dataclass(frozen=True)
class ActorEntry:
    """A claimant the tables know: its slug, and for a new actor its class and English label."""

    slug: str
    cls: URIRef | None = None  # None: the actor is defined in the seed facts already
    label: str | None = None


# The `claimant` column (normalised by the collector) -> actor. "Azerbaijan (government)" is the
# state speaking through its government; the parliament is a body of its own.
CLAIMANTS: dict[str, ActorEntry] = {
    "Azerbaijan": ActorEntry("azerbaijan"),
    "Azerbaijan (government)": ActorEntry("azerbaijan"),
    "Armenia": ActorEntry("armenia"),
    "Artsakh": ActorEntry("artsakh"),
    "Armenia/Artsakh": ActorEntry("armenia-artsakh"),
    "SOHR": ActorEntry("sohr"),
    "Russia": ActorEntry("russia"),
    "Azerbaijan (parliament)": ActorEntry("azerbaijani-parliament", KKG.Organisation, "Azerbaijani parliament"),
    "Armenian sources": ActorEntry("armenian-sources", KKG.UnnamedSources, "Armenian sources"),
    "Azerbaijani sources": ActorEntry("azerbaijani-sources", KKG.UnnamedSources, "Azerbaijani sources"),
    "Western and Russian estimates": ActorEntry("western-and-russian-estimates", KKG.UnnamedSources,
                                                "Western and Russian estimates"),
    "HRW": ActorEntry("human-rights-watch", KKG.Organisation, "Human Rights Watch"),
    "USSR": ActorEntry("ussr", KKG.State, "USSR"),
    "CDSI": ActorEntry("caspian-defense-studies-institute", KKG.Organisation,
                       "Caspian Defense Studies Institute (CDSI)"),
    "Tatul Hakobyan": ActorEntry("tatul-hakobyan", KKG.Person, "Tatul Hakobyan"),
    "Radio Azatutyun (RFE/RL)": ActorEntry("radio-azatutyun", KKG.Organisation, "Radio Azatutyun (RFE/RL)"),
}


def slugify(text: str, limit: int = 60) -> str:
    """Lowercase kebab case of ASCII letters and digits (other characters become hyphens)."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "x"


def claimant_entry(name: str) -> ActorEntry:
    """The actor for a claimant name: a known one, or a new plain kkg:Actor labelled as written."""
    return CLAIMANTS.get(name) or ActorEntry(slugify(name), KKG.Actor, name)


A = lambda slug: entity("actor", slug)  # noqa: E731 - keeps the tables readable
N = lambda slug: entity("concept", f"nationality-{slug}")  # noqa: E731

# The `whose` column -> the parties a figure counts (kkg:appliesTo). Nationality words go to
# nationality concepts, as in the seed ("Armenian civilians" may be Artsakh's residents). Words not
# listed ("both sides", or a user's own) give no kkg:appliesTo; the words stay in kkg:appliesToText.
WHOSE: dict[str, tuple[URIRef, ...]] = {
    "Armenia/Artsakh": (A("armenia"), A("artsakh")),
    "Armenian side": (A("armenia"), A("artsakh")),
    "Armenia": (A("armenia"),),
    "Artsakh": (A("artsakh"),),
    "Nagorno-Karabakh (Armenian side)": (A("artsakh"),),
    "Azerbaijan": (A("azerbaijan"),),
    "Azerbaijani side": (A("azerbaijan"),),
    "Russia": (A("russia"),),
    "Syrian mercenaries (Azerbaijani side)": (A("syrian-mercenaries"),),
    "Azerbaijani": (N("azerbaijani"),),
    "Azerbaijanis": (N("azerbaijani"),),
    "Azerbaijani civilians": (N("azerbaijani"),),
    "Armenians": (N("armenian"),),
    "Armenian civilians (including citizens of Armenia)": (N("armenian"),),
    "Nagorno-Karabakh Armenians": (N("armenian"),),
    "Armenians (Nagorno-Karabakh)": (N("armenian"),),
}

# Civilians of a state are counted by nationality, as the seed counts them.
CIVILIANS_OF = {"Armenia": N("armenian"), "Azerbaijan": N("azerbaijani")}

G = lambda slug: entity("concept", f"group-{slug}")  # noqa: E731

# The `group` column -> person-group concept. Every word for members of a state's armed forces is
# "servicemen" (the concept's definition); mixed groups ("servicemen and civilians") get none.
GROUPS: dict[str, URIRef] = {
    "servicemen": G("servicemen"),
    "soldiers": G("servicemen"),
    "troops": G("servicemen"),
    "military": G("servicemen"),
    "militari": G("servicemen"),
    "military personnel": G("servicemen"),
    "members of the Armenian armed forces": G("servicemen"),
    "Russian servicemen": G("servicemen"),
    "Syrian mercenaries": G("mercenaries"),
    "civilians": G("civilians"),
    "children": G("children"),
}

C = lambda slug: entity("concept", slug)  # noqa: E731

# The `category` column -> (category concept, claim class).
CATEGORIES: dict[str, tuple[URIRef, URIRef]] = {
    "killed": (C("casualty-killed"), KKG.CasualtyClaim),
    "wounded": (C("casualty-wounded"), KKG.CasualtyClaim),
    "missing": (C("casualty-missing"), KKG.CasualtyClaim),
    "captured": (C("casualty-captured"), KKG.CasualtyClaim),
    "displaced": (C("casualty-displaced"), KKG.CasualtyClaim),
    "killed or missing": (C("casualty-killed-or-missing"), KKG.CasualtyClaim),
    "other:wounded and sick": (C("casualty-wounded-and-sick"), KKG.CasualtyClaim),
    "other:battle deaths": (C("casualty-battle-deaths"), KKG.CasualtyClaim),
    "other:peacekeepers deployed": (C("quantity-deployed"), KKG.QuantityClaim),
    "other:workers laid off": (C("quantity-laid-off"), KKG.QuantityClaim),
    "other:people under blockade": (C("quantity-under-blockade"), KKG.QuantityClaim),
    "other:children under blockade": (C("quantity-under-blockade"), KKG.QuantityClaim),
}

APPROXIMATIONS: dict[str, URIRef] = {
    "exact": C("approximation-exact"),
    "approximately": C("approximation-approximately"),
    "at least": C("approximation-at-least"),
    "range": C("approximation-range"),
}

# The `event` column: ids of events.tsv -> event slugs. Five are events of the seed already.
EVENTS: dict[str, str] = {
    "nagorno-karabakh-conflict": "nagorno-karabakh-conflict",
    "first-nagorno-karabakh-war": "first-nagorno-karabakh-war",
    "second-nagorno-karabakh-war": "second-nagorno-karabakh-war",
    "2020-ceasefire-statement": "ceasefire-agreement-2020",
    "2023-azerbaijani-offensive": "azerbaijani-offensive-2023",
    "sumgait-pogrom": "sumgait-pogrom",
    "khojaly-massacre": "khojaly-massacre",
    "bishkek-protocol": "bishkek-protocol",
    "april-2016-war": "april-2016-war",
    "september-2022-clashes": "september-2022-clashes",
    "blockade-2022-2023": "blockade-2022-2023",
    "2023-fuel-depot-explosion": "2023-fuel-depot-explosion",
    "2023-exodus": "2023-exodus",
}


def event_iri(event_id: str) -> URIRef | None:
    """The event an `event` cell names: an id of events.tsv, or ``event:SLUG`` of any event in the
    graph; None when the cell is neither."""
    if event_id in EVENTS:
        return entity("event", EVENTS[event_id])
    if event_id.startswith("event:"):
        try:
            return entity("event", event_id[len("event:"):])
        except ValueError:
            return None
    return None
