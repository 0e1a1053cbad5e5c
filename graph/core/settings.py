"""Settings, declared once: name, default, type and help text.

Each setting can be given as a command-line flag (``--query-timeout 5``) or as an environment
variable with the ``KARABAKH_KG_`` prefix (``KARABAKH_KG_QUERY_TIMEOUT=5``); the flag wins.
docs/configuration.md is generated from this same table (``karabakh-kg settings --markdown``).
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from .errors import KkgError

ENV_PREFIX = "KARABAKH_KG_"


def _default_build_dir() -> str:
    """``~/.cache/karabakh-kg/<installation>/build``: one per installed copy of the package (each
    clone's own virtual environment, or the checkout itself when installed in place), so two clones
    never share a build without being told to (``--build-dir``)."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    installation = str(Path(__file__).resolve().parent.parent)
    key = hashlib.sha256(installation.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return str(Path(cache) / "karabakh-kg" / key / "build")


def _as_list(text: str | list) -> list[str]:
    if isinstance(text, list):
        return text
    return [item.strip() for item in str(text).split(",") if item.strip()]


def _as_bool(text: str | bool) -> bool:
    if isinstance(text, bool):
        return text
    value = str(text).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected true or false, got {text!r}")


@dataclass(frozen=True)
class Setting:
    """One setting: its name, default, converter from text, and help text."""

    name: str
    default: Any
    convert: Callable[[Any], Any]
    help: str

    @property
    def env_var(self) -> str:
        """The environment variable that sets it."""
        return ENV_PREFIX + self.name.upper()

    @property
    def flag(self) -> str:
        """The command-line flag that sets it."""
        return "--" + self.name.replace("_", "-")


SETTINGS: tuple[Setting, ...] = (
    Setting("build_dir", _default_build_dir(), str,
            "Directory where `build` writes the dataset and where `export`, `query` and `serve` read it."),
    Setting("reasoner", "fast", str,
            "Reasoner used by `build` to close the graph: `fast` (owlrl's exact OWL 2 RL closure, computed "
            "from the compiled ontology; hands over to owlrl for OWL it does not compile) or `owlrl` "
            "(the reference rule engine, about 50 times slower)."),
    Setting("validator", "fast", str,
            "How `build` and `validate` check the shapes and checks: `fast` (compiled shapes and Oxigraph; "
            "pyshacl's exact results, much faster on large graphs; hands over to pyshacl for SHACL it does "
            "not compile) or `pyshacl` (the reference)."),
    Setting("engine", "oxigraph", str,
            "Store and SPARQL engine holding the dataset: `oxigraph` (Oxigraph through oxrdflib, Rust: "
            "loads a build 5x faster in a third of the memory, most queries 2-100x faster) or `rdflib` "
            "(rdflib's in-memory store and engine, pure Python). Every stored query gives the same rows "
            "on both; the corner cases that differ are listed in docs/performance.md."),
    Setting("host", "127.0.0.1", str, "Interface the server listens on."),
    Setting("port", 5000, int, "TCP port the server listens on (0 picks a free port)."),
    Setting("threads", 8, int, "Worker threads of the WSGI server answering HTTP requests."),
    Setting("http_server", "granian", str,
            "HTTP server `serve` runs the app under: `granian` (Rust, the default: about twice the "
            "requests per second of waitress, unaffected by idle half-sent connections; URLs limited to "
            "64 KiB, POSIX with fork only) or `waitress` (pure Python; beyond 100 open connections it "
            "accepts no new client). With `granian`, `processes` is the number of granian workers."),
    Setting("processes", 0, int,
            "HTTP server processes `serve` runs on the one port, sharing the loaded build (forked, "
            "copy-on-write); each has its own threads, query workers, queue and answer cache. One "
            "process answers HTTP on one core at a time; 0 (the default) runs one per core (POSIX only)."),
    Setting("query_timeout", 10.0, float,
            "Seconds a query may run before it is stopped and the client gets a 503 naming the limit."),
    Setting("max_rows", 10000, int,
            "Most result rows returned for one query; longer results are truncated and say so."),
    Setting("max_request_bytes", 1_000_000, int,
            "Largest request body (and query string) accepted, in bytes; larger gets 413."),
    Setting("max_concurrent_queries", 64, int,
            "Queries one server process holds at once, evaluating or waiting in its queue for a free "
            "query worker; one more gets 503 with Retry-After at once."),
    Setting("queue_wait", 10.0, float,
            "Seconds a query may wait in the queue for a free query worker; then it gets 503 with "
            "Retry-After."),
    Setting("query_workers", 0, int,
            "Worker processes that evaluate queries, per server process (a process can be stopped at "
            "the time limit); 0 (the default): enough for twice the cores between the server processes, "
            "and at least two more than `max_slow_queries`, so that a query that finishes fast finds a "
            "worker beside two runaways."),
    Setting("slow_query_seconds", 1.0, float,
            "A query still running after this many seconds is *slow*: see `max_slow_queries` and "
            "`client_query_seconds`."),
    Setting("max_slow_queries", 0, int,
            "Slow queries one server process runs at once, so that the other query workers stay free "
            "for queries that finish fast; a query that becomes slow beyond this is stopped with 503 "
            "and Retry-After. Slow queries also run at a lower CPU priority. 0 (the default): half the "
            "query workers (at least 1, at most all but one)."),
    Setting("client_query_seconds", 60.0, float,
            "Seconds of slow-query time (the whole run of each query that became slow) one client, by "
            "remote address, may use per minute, counted across the server processes of one `serve`; beyond, its queries get 429 with "
            "Retry-After until enough of that minute has passed (cached answers are still served). "
            "Queries that finish within `slow_query_seconds` are not counted. 0 turns the limit off."),
    Setting("cors_origins", "*", str,
            "Value of Access-Control-Allow-Origin; empty disables CORS."),
    Setting("federation_allow_list", [], _as_list,
            "Comma-separated SERVICE endpoint IRIs queries may call; empty refuses every SERVICE."),
    Setting("wikidata_endpoint", "https://query.wikidata.org/sparql", str,
            "SPARQL endpoint the federated stored queries call for Wikidata (a mirror, say); it must "
            "also be on the federation allow-list."),
    Setting("query_memory_mb", 1024, int,
            "Memory (MiB) a query worker may allocate beyond the loaded dataset; a query needing more "
            "is stopped with a 503 (Linux only; 0 disables the cap)."),
    Setting("cache_max_age", 300, int,
            "Seconds clients and proxies may reuse a GET response (Cache-Control max-age); ETags, "
            "derived from the build, make revalidation cheap after that. In front of an external store "
            "(no ETag) responses say `no-cache`, and the store's statistics are counted again after "
            "this many seconds."),
    Setting("answer_cache_mb", 64, int,
            "Memory (MiB) for answers kept in the server process, so a repeated query (same text, "
            "parameters, dataset and format) is not evaluated again; the build never changes while it "
            "is served. Queries using NOW(), RAND(), UUID(), STRUUID(), BNODE() or SERVICE are never "
            "kept; nothing is kept in front of an external store. 0 turns the cache off."),
    Setting("warm_stored_queries", True, bool,
            "After start-up, answer every stored query that needs no parameter (with its defaults) once "
            "in the background, so that its first request is served from the answer cache; the server "
            "answers other requests meanwhile. Needs `answer_cache_mb` above 0."),
    Setting("site_base", "", str,
            "Where the canonical base https://w3id.org/karabakh-kg/ is served, for the links in pages: "
            "empty links to this server's own paths (`/id/actor/azerbaijan`), so pages work on a laptop; "
            "`https://w3id.org/karabakh-kg/` links to the published identifiers when the server sits "
            "behind the w3id.org redirect. The data always keeps the canonical IRIs."),
    Setting("store_endpoint", "", str,
            "SPARQL 1.1 Protocol query URL of an external store (Virtuoso, QLever, Fuseki) holding the "
            "pushed build; `serve` then evaluates every query there instead of in process, and `push` "
            "reports the store's counts. Empty: the in-process build."),
    Setting("store_graph_store", "", str,
            "SPARQL 1.1 Graph Store HTTP Protocol URL where `push` PUTs each named graph (Virtuoso: "
            "`http://HOST:8890/sparql-graph-crud-auth`; Fuseki: `http://HOST:3030/DATASET/data`)."),
    Setting("store_user", "", str,
            "User name for the external store (HTTP Digest or Basic authentication, as it asks); empty: none."),
    Setting("store_password", "", str,
            "Password for `store_user` (prefer the environment variable to the flag, which other local "
            "users can see in the process list)."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


class Settings(Mapping):
    """Resolved settings: flag value, else environment variable, else default."""

    def __init__(self, values: dict[str, Any]):
        self._values = values

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def replace(self, **changes: Any) -> "Settings":
        """A copy with some values changed (converted like user input)."""
        return resolve(changes, environ={}, base=self)


def resolve(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None,
            base: Settings | None = None) -> Settings:
    """Settings from explicit values (flags), then ``KARABAKH_KG_*`` environment variables, then defaults.

    A value that cannot be converted is a KkgError naming the setting and where it came from.
    """
    environ = os.environ if environ is None else environ
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = set(overrides) - set(_BY_NAME)
    if unknown:
        raise KkgError(f"unknown setting(s): {', '.join(sorted(unknown))}", code="bad-setting")
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.name in overrides:
            raw, origin = overrides[setting.name], setting.flag
        elif setting.env_var in environ:
            raw, origin = environ[setting.env_var], setting.env_var
        elif base is not None:
            values[setting.name] = base[setting.name]
            continue
        else:
            values[setting.name] = setting.default
            continue
        try:
            values[setting.name] = _as_bool(raw) if setting.convert is bool else setting.convert(raw)
            if setting.convert is float and not math.isfinite(values[setting.name]):
                raise ValueError("not a finite number")  # nan would turn every comparison off
        except (TypeError, ValueError) as exc:
            raise KkgError(f"{origin}: invalid value {raw!r} ({exc})", code="bad-setting") from None
    return Settings(values)


class ProcessChoice:
    """A setting fixed once for the whole process (the engine, the validator): a command fixes it
    with :meth:`use`; until then the setting's value (flag, environment, default) applies."""

    def __init__(self, setting: str, choices: tuple[str, ...]):
        self.setting = setting
        self.choices = choices
        self._chosen: str | None = None

    def check(self, name: str) -> str:
        """The name, if it is one of the choices; otherwise a KkgError naming them."""
        if name not in self.choices:
            raise KkgError(f"unknown {self.setting} {name!r}; choose one of: {', '.join(self.choices)}",
                           code="bad-setting")
        return name

    def use(self, name: str) -> str:
        """Fix the choice for this process."""
        self._chosen = self.check(name)
        return self._chosen

    def reset(self) -> None:
        """Forget the fixed choice, so the setting applies again (for tests)."""
        self._chosen = None

    def current(self) -> str:
        """The fixed choice, else the setting's current value."""
        if self._chosen is not None:
            return self._chosen
        return self.check(resolve()[self.setting])
