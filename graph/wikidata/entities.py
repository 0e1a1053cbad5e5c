"""Wikidata entity documents (the JSON of ``Special:EntityData/Q….json``): read from a folder of
recorded documents, or fetched live, and reduced to what ``links check`` compares.

The shipped documents in ``graph/data/wikidata/Q*.json`` are small, hand-made from the verified
list (see the README there); nothing in them was downloaded.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..core.errors import KkgError, Location
from .vocabulary import DATA_FOLDER, DATA_PACKAGE

ENTITY_DATA_URL = "https://www.wikidata.org/wiki/Special:EntityData/"
USER_AGENT = "karabakh-kg links check (https://w3id.org/karabakh-kg/)"


@dataclass(frozen=True)
class EntityRecord:
    """What a document says about a requested item: whether it exists, where it redirects, its English names."""

    requested: str
    exists: bool
    id: str | None = None
    type: str | None = None
    label: str | None = None
    aliases: tuple[str, ...] = ()
    redirect_to: str | None = None
    source: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        """The English label followed by the English aliases."""
        return ((self.label,) if self.label else ()) + self.aliases


def _english(values) -> str | None:
    if isinstance(values, dict) and isinstance(values.get("en"), dict):
        return values["en"].get("value")
    return None


def record_from_document(requested: str, document, source: str) -> EntityRecord:
    """Reduce an EntityData document to an EntityRecord; a KkgError naming the source when it has the wrong shape.

    A redirect shows up either as a document whose only entity has another ``id`` than the one
    requested (what Special:EntityData serves after following the redirect) or as a ``redirects``
    key (``{"from": requested, "to": target}``, as the wbgetentities API gives it). A missing item is
    a ``missing`` key on the entity, or no entity at all.
    """
    if not isinstance(document, dict) or not isinstance(document.get("entities"), dict):
        raise KkgError('not a Wikidata entity document (expected {"entities": {...}})', code="bad-entity-document",
                       where=Location(source))
    entities = document["entities"]
    entity = entities.get(requested)
    if entity is None and len(entities) == 1:
        entity = next(iter(entities.values()))
    if not isinstance(entity, dict) or "missing" in entity:
        return EntityRecord(requested, exists=False, source=source)
    redirect = entity.get("redirects") or document.get("redirects")
    redirect_to = redirect.get("to") if isinstance(redirect, dict) else None
    entity_id = entity.get("id") or entity.get("title")
    if redirect_to is None and entity_id and entity_id != requested:
        redirect_to = entity_id
    aliases = entity.get("aliases", {}).get("en", []) if isinstance(entity.get("aliases"), dict) else []
    return EntityRecord(requested, exists=True, id=entity_id, type=entity.get("type"),
                        label=_english(entity.get("labels")),
                        aliases=tuple(a.get("value") for a in aliases if isinstance(a, dict) and a.get("value")),
                        redirect_to=redirect_to, source=source)


class RecordedDocuments:
    """Entity documents recorded in a folder as ``Q….json`` (the shipped ones by default)."""

    def __init__(self, folder: str | Path | None = None):
        self.folder = Path(folder) if folder is not None else None
        if self.folder is not None and not self.folder.is_dir():
            raise KkgError(f"no such folder of entity documents: {folder}", code="no-such-file")

    def describe(self) -> str:
        """Where the documents come from, for the report's first line."""
        return f"recorded entity documents in {self.folder}" if self.folder else \
            f"recorded entity documents shipped in graph/{DATA_FOLDER}"

    def _entry(self, qid: str):
        if self.folder is not None:
            return self.folder / f"{qid}.json", str(self.folder / f"{qid}.json")
        return resources.files(DATA_PACKAGE) / DATA_FOLDER / f"{qid}.json", f"graph/{DATA_FOLDER}/{qid}.json"

    def __call__(self, qid: str) -> EntityRecord:
        """The record for ``qid``; a missing file means the item does not exist as far as the recording knows."""
        entry, name = self._entry(qid)
        if not entry.is_file():
            return EntityRecord(qid, exists=False, source=name)
        try:
            document = json.loads(entry.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise KkgError(f"not valid JSON: {exc}", code="bad-entity-document", where=Location(name)) from None
        return record_from_document(qid, document, name)


class LiveDocuments:
    """Entity documents fetched from Wikidata's Special:EntityData (or another base URL), with a short timeout."""

    def __init__(self, base_url: str = ENTITY_DATA_URL, timeout: float = 5.0):
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.timeout = timeout

    def describe(self) -> str:
        """Where the documents come from, for the report's first line."""
        return f"live entity documents from {self.base_url}"

    def __call__(self, qid: str) -> EntityRecord:
        """The live record for ``qid``; HTTP 404 means missing; no network is a KkgError saying so."""
        url = f"{self.base_url}{qid}.json"
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return EntityRecord(qid, exists=False, source=url)
            raise KkgError(f"Wikidata answered HTTP {exc.code} for {url}", code="wikidata-error",
                           status=502) from None
        except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise KkgError(f"cannot reach Wikidata at {self.base_url} ({reason}): the network is unreachable "
                           f"from here, or the address is wrong. Run `karabakh-kg links check` without --live to check against the "
                           f"recorded entity documents", code="network-unreachable", status=503) from None
        try:
            document = json.loads(body)
        except ValueError:
            raise KkgError(f"{url} did not return JSON", code="wikidata-error", status=502) from None
        return record_from_document(qid, document, url)
