"""Where the dataset's inputs live, and how they are read with precise error locations.

The shipped ontology, shapes, checks, facts and queries are package data read through
``importlib.resources``, so an installed wheel works outside the checkout.
"""

from __future__ import annotations

import hashlib
import re
import xml.sax
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from rdflib import BNode, Dataset, Graph, URIRef
from rdflib.plugins.parsers.notation3 import BadSyntax

from ..core import formats
from ..core.errors import KkgError, Location
from ..core.iris import PREFIXES
from . import input_checks, jsonld_loader


@dataclass(frozen=True)
class SourceFile:
    """One input file: a display name (relative to the package, or as the user gave it) and its bytes."""

    name: str
    data: bytes

    @property
    def text(self) -> str:
        """The file as text; a KkgError if it is not UTF-8."""
        try:
            return self.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = self.data[: exc.start].count(b"\n") + 1
            raise KkgError("file is not UTF-8", code="bad-encoding",
                           where=Location(self.name, line)) from None


def _package_files(package: str, pattern: str) -> list[SourceFile]:
    root = resources.files(package)
    found = []
    parts = pattern.split("/")
    folder = root
    for part in parts[:-1]:
        folder = folder / part
    if not folder.is_dir():
        return []
    regex = re.compile("^" + re.escape(parts[-1]).replace(r"\*", ".*") + "$")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_file() and regex.match(entry.name):
            short = package.split(".")[-1]
            found.append(SourceFile(f"{short}/{'/'.join(parts[:-1] + [entry.name])}",
                                    input_checks.strip_bom(entry.read_bytes())))
    return found


def ontology_files() -> list[SourceFile]:
    """The OWL ontology (and its SKOS schemes)."""
    return _package_files("karabakh_kg.ontology", "karabakh-kg.ttl")


def shapes_files() -> list[SourceFile]:
    """The SHACL shapes every build and every `validate` run checks."""
    return _package_files("karabakh_kg.ontology", "shapes.ttl")


def check_files() -> list[SourceFile]:
    """The ``*-violation.rq`` checks that must return no rows."""
    return _package_files("karabakh_kg.ontology", "checks/*-violation.rq")


def check_example_files() -> list[SourceFile]:
    """Small broken examples, one per check, that make that check fire (used by the tests)."""
    return _package_files("karabakh_kg.ontology", "checks/examples/*.ttl")


def fact_files() -> list[SourceFile]:
    """The shipped facts of the seed, one Turtle file per topic."""
    return _package_files("karabakh_kg.graph", "data/facts/*.ttl")


SEED_FILE = "second-nagorno-karabakh-war.txt"


def seed_text() -> str:
    """The source document of the shipped facts: the plain-text infobox and lead of the English
    Wikipedia article "Second Nagorno-Karabakh War" (CC BY-SA 4.0; graph/data/sources/README.md)."""
    return (resources.files("karabakh_kg.graph") / "data" / "sources" / SEED_FILE).read_text(encoding="utf-8")


def link_files() -> list[SourceFile]:
    """The shipped links from our entities to Wikidata items."""
    return _package_files("karabakh_kg.graph", "data/links.ttl")


def query_files() -> list[SourceFile]:
    """The stored SPARQL queries."""
    return _package_files("karabakh_kg.queries", "*.rq")


def expected_answer_files() -> list[SourceFile]:
    """The rows each stored query gives on the seed graph, one ``expected/ID.yaml`` file per query."""
    return _package_files("karabakh_kg.queries", "expected/*.yaml")


def user_files(paths) -> list[SourceFile]:
    """Files the user named on the command line; a missing file is a KkgError naming it."""
    out = []
    for path in paths:
        p = Path(path)
        if not p.is_file():
            raise KkgError(f"no such file: {path}", code="no-such-file")
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise KkgError(f"cannot read {path}: {exc.strerror or exc}", code="no-such-file") from None
        out.append(SourceFile(str(path), input_checks.strip_bom(data)))
    return out


def fingerprint(files: list[SourceFile], *extra: str) -> str:
    """A digest of the inputs' names and bytes: a build is stale when this changes."""
    digest = hashlib.sha256()
    for item in extra:
        digest.update(item.encode() + b"\0")
    for f in files:
        digest.update(f.name.encode() + b"\0" + hashlib.sha256(f.data).digest())
    return digest.hexdigest()


def _syntax_error(source: SourceFile, exc: Exception) -> KkgError:
    """Turn whatever an rdflib parser raised into a KkgError with the file, line and column."""
    if isinstance(exc, BadSyntax):
        position = getattr(exc, "_i", None)
        line = exc.lines + 1
        column = None
        if isinstance(position, int) and 0 <= position <= len(exc._str):
            consumed = exc._str[:position]
            if isinstance(consumed, bytes):
                consumed = consumed.decode("utf-8", "replace")
            line = consumed.count("\n") + 1
            column = len(consumed) - (consumed.rfind("\n") + 1) + 1
        return KkgError(f"syntax error: {input_checks.shorten(exc._why)}", code="syntax-error",
                        where=Location(source.name, line, column))
    if isinstance(exc, xml.sax.SAXParseException):
        return KkgError(f"syntax error: {input_checks.shorten(exc.getMessage())}", code="syntax-error",
                        where=Location(source.name, exc.getLineNumber(), exc.getColumnNumber() + 1))
    match = re.search(r"line (\d+) column (\d+)", str(exc))
    if match:
        return KkgError(f"syntax error: {input_checks.shorten(str(exc).split(':')[0])}", code="syntax-error",
                        where=Location(source.name, int(match.group(1)), int(match.group(2))))
    message = input_checks.shorten(str(exc).strip() or type(exc).__name__)
    return KkgError(f"syntax error: {message}", code="syntax-error", where=Location(source.name))


def _first_bad_line(source: SourceFile, fmt: formats.Format) -> KkgError | None:
    """For line-based formats, find the first line that does not parse on its own."""
    for number, line in enumerate(source.text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            Dataset().parse(data=line + "\n", format=fmt.parser)
        except Exception as exc:  # the parser's own message, located by us
            reason = input_checks.shorten(str(exc).strip().split("\n")[0] or type(exc).__name__)
            return KkgError(f"syntax error: {reason}", code="syntax-error", where=Location(source.name, number, 1))
    return None


def parse_into(graph: Graph, source: SourceFile, format_name: str | None = None) -> None:
    """Parse a file into ``graph`` (or a Dataset for quad formats); syntax errors become located KkgErrors.

    Nothing is fetched from the network while parsing: JSON-LD remote contexts and XML external
    entities are not resolved.
    """
    fmt = formats.by_name(format_name) if format_name else formats.by_extension(source.name)
    if fmt is None:
        raise KkgError(f"cannot tell the RDF format of {source.name!r} from its extension; "
                       f"use one of: {', '.join('.' + f.extension for f in formats.RDF_FORMATS)}",
                       code="unknown-format")
    text = source.text  # checks UTF-8 first, with the line of the bad byte
    try:
        if fmt.name == "xml":
            _parse_rdfxml_safely(graph, source)
        else:
            graph.parse(data=text, format=fmt.parser, publicID=None)
    except jsonld_loader.RemoteContextRefused as exc:
        reference = getattr(exc, "reference", "")
        exc.where = input_checks.locate_text(text, [reference, '"@import"', '"@context"'], source.name)
        raise
    except KkgError:
        raise
    except MemoryError:
        raise input_checks.token_too_long(source.data, source.name) from None
    except Exception as exc:  # any parser's failure is a syntax error in the user's file
        located = _line_format_error(source, fmt) if fmt.name in ("ntriples", "nquads") else None
        raise (located or _syntax_error(source, exc)) from None
    _refuse_lone_surrogates(graph, source, fmt, text)
    input_checks.check_terms(_parsed_graphs(graph, fmt), source.name, lambda: text)


def _parsed_graphs(graph: Graph, fmt: formats.Format) -> dict:
    """What a parse filled: for quad formats every graph of the (scratch) store, else ``graph`` alone
    (it may share a big store with other graphs, see _refuse_lone_surrogates)."""
    if fmt.carries == formats.QUADS:
        return {context.identifier: context for context in graph.store.contexts()}
    return {None: graph}


def _line_format_error(source: SourceFile, fmt: formats.Format) -> KkgError | None:
    """The first syntax error of an N-Triples or N-Quads file, located by Oxigraph's parser (fast even
    on a megabyte line), else by rdflib one line at a time."""
    import pyoxigraph as ox

    name = "N_TRIPLES" if fmt.name == "ntriples" else "N_QUADS"
    try:
        for _ in ox.parse(source.data, format=getattr(ox.RdfFormat, name)):
            pass
    except SyntaxError as exc:
        located = oxigraph_syntax_error(source, exc)
        if located is not None:
            return located
    except (ValueError, MemoryError):
        pass
    return _first_bad_line(source, fmt)


def oxigraph_syntax_error(source: SourceFile, exc: SyntaxError) -> KkgError | None:
    """Oxigraph's syntax error as a located KkgError (its message cut short), or None without a line."""
    if not exc.lineno:
        return None
    reason = input_checks.shorten(str(exc.msg).split(": ", 1)[-1])
    return KkgError(f"syntax error: {reason}", code="syntax-error",
                    where=Location(source.name, exc.lineno, exc.offset))


# \uD800-\uDFFF (or \U0000D800...) written as an escape: half of a UTF-16 pair, not a character
_SURROGATE_ESCAPE = re.compile(r"\\(?:u|U0000)([dD][89a-fA-F][0-9a-fA-F]{2})")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _refuse_lone_surrogates(graph: Graph, source: SourceFile, fmt: formats.Format, text: str) -> None:
    """A located KkgError when an escape in the file gave a term a lone surrogate: rdflib's parsers
    accept ``"\\uD800"``, but no RDF format can write it (UTF-8 cannot encode it), so the build would
    otherwise write the term with a ``?`` in its place. (JSON-LD's surrogate pairs give whole
    characters and pass.) A quad file fills several graphs of its (scratch) store, so all of them
    are checked; any other file fills ``graph`` alone, which may share a big store (a file served
    beside the build), so only ``graph`` is."""
    escapes = list(_SURROGATE_ESCAPE.finditer(text))
    if not escapes:
        return
    bad = set()
    if fmt.carries == formats.QUADS:
        triples = (triple for triple, _contexts in graph.store.triples((None, None, None), None))
        names = [context.identifier for context in graph.store.contexts()]
    else:
        triples, names = iter(graph), []
    for triple in triples:
        for term in triple:
            bad.update(_SURROGATE.findall(str(term)))
    for name in names:
        bad.update(_SURROGATE.findall(str(name)))
    if not bad:
        return
    escape = _culprit(escapes, bad, text)
    line = text.count("\n", 0, escape.start()) + 1
    column = escape.start() - text.rfind("\n", 0, escape.start())
    raise KkgError(f"the escape {escape.group(0)} stands for half of a UTF-16 surrogate pair, not a "
                   "Unicode character, so no RDF format can write it; write the character itself (or "
                   "its code point, e.g. \\U0001F600)", code="syntax-error",
                   where=Location(source.name, line, column))


def _culprit(escapes: list, bad: set, text: str):
    """The escape that gave a term its lone surrogate: one whose code unit a term holds, not the
    first half of a pair (JSON reads a pair as one character), else the first such escape."""
    def unit(match) -> str:
        return chr(int(match.group(1), 16))

    held = [m for m in escapes if unit(m) in bad]
    for match in held:
        following = _SURROGATE_ESCAPE.match(text, match.end())
        paired = "\ud800" <= unit(match) <= "\udbff" and following and "\udc00" <= unit(following) <= "\udfff"
        preceded = any(m.end() == match.start() and "\ud800" <= unit(m) <= "\udbff" for m in escapes)
        if not paired and not (preceded and "\udc00" <= unit(match) <= "\udfff"):
            return match
    return (held or escapes)[0]


def _parse_rdfxml_safely(graph: Graph, source: SourceFile) -> None:
    """RDF/XML without DOCTYPE: external entities and entity expansion are refused outright."""
    if re.search(rb"<!DOCTYPE|<!ENTITY", source.data, re.IGNORECASE):
        raise KkgError("RDF/XML with a DOCTYPE or entity declarations is refused", code="unsafe-xml",
                       where=Location(source.name))
    graph.parse(data=source.data, format="xml")


def node_lines(sources: list[SourceFile]) -> dict[str, Location]:
    """Where each node is first written as a subject (at the start of a line), for readable reports.

    Our Turtle style puts every subject at column 0, so this finds the defining line for prefixed
    names and full IRIs alike.
    """
    where: dict[str, Location] = {}
    for source in sources:
        try:
            text = source.text
        except KkgError:
            continue
        prefixes = dict(PREFIXES)
        for prefix, iri in re.findall(r"^@prefix\s+([\w-]*):\s*<([^>]*)>", text, re.M | re.I):
            prefixes[prefix] = iri
        for prefix, iri in re.findall(r"^PREFIX\s+([\w-]*):\s*<([^>]*)>", text, re.M | re.I):
            prefixes[prefix] = iri
        for number, line in enumerate(text.splitlines(), 1):
            match = re.match(r"^(<[^>]+>|[A-Za-z][\w-]*:[^\s;,]*|:[^\s;,]*)", line)
            if not match:
                continue
            token = match.group(1)
            if token.startswith("<"):
                iri = token[1:-1]
            else:
                prefix, _, local = token.partition(":")
                if prefix not in prefixes or prefix.lower() in ("prefix", "base"):
                    continue
                iri = prefixes[prefix] + local
            where.setdefault(iri, Location(source.name, number))
    return where


def locate(node, index: dict[str, Location]) -> Location | None:
    """The location of a node in the inputs, if it is written there as a subject."""
    if isinstance(node, BNode) or node is None:
        return None
    return index.get(str(node)) if isinstance(node, URIRef) else None
