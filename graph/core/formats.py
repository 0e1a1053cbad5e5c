"""The one table of formats: name, media type, file extension and rdflib plugin name.

Content negotiation, file exports, the command line and the service description all read
this table, so a format is added or changed in exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import KkgError

# What a format can carry.
TRIPLES = "triples"  # one RDF graph
QUADS = "quads"  # an RDF dataset with named graphs
RESULTS = "results"  # SPARQL SELECT/ASK results
TEXT = "text"  # human-readable only (terminal table)
EXPORT = "export"  # the dataset's claims in another data model (Wikidata's), not an RDF serialisation of it


@dataclass(frozen=True)
class Format:
    """One serialisation: its short name, media type, extension and rdflib plugin name."""

    name: str
    label: str
    media_type: str
    extension: str
    rdflib_name: str | None
    carries: str
    aliases: tuple[str, ...] = field(default=())
    parse_name: str | None = None
    w3c_format_iri: str | None = None
    oxigraph_name: str | None = None  # pyoxigraph's RdfFormat member, where Oxigraph parses it natively
    comment: bytes | None = None  # how a line comment starts, where the syntax has one (``#``)

    @property
    def parser(self) -> str | None:
        """The rdflib parser name (it differs from the serializer for canonical Turtle)."""
        return self.parse_name or self.rdflib_name

    @property
    def all_media_types(self) -> tuple[str, ...]:
        """The media type followed by the alternative media types some clients send."""
        return (self.media_type,) + tuple(a for a in self.aliases if "/" in a)


FORMATS: tuple[Format, ...] = (
    Format("turtle", "Turtle", "text/turtle", "ttl", "longturtle", TRIPLES,
           aliases=("ttl", "application/x-turtle"), parse_name="turtle",
           w3c_format_iri="http://www.w3.org/ns/formats/Turtle", oxigraph_name="TURTLE", comment=b"#"),
    Format("ntriples", "N-Triples", "application/n-triples", "nt", "nt", TRIPLES,
           aliases=("nt", "n-triples"), w3c_format_iri="http://www.w3.org/ns/formats/N-Triples",
           oxigraph_name="N_TRIPLES", comment=b"#"),
    Format("jsonld", "JSON-LD", "application/ld+json", "jsonld", "json-ld", QUADS,
           aliases=("json-ld",), w3c_format_iri="http://www.w3.org/ns/formats/JSON-LD"),
    Format("xml", "RDF/XML", "application/rdf+xml", "rdf", "xml", TRIPLES,
           aliases=("rdfxml", "rdf", "owl"), w3c_format_iri="http://www.w3.org/ns/formats/RDF_XML"),
    Format("trig", "TriG", "application/trig", "trig", "trig", QUADS,
           aliases=(), w3c_format_iri="http://www.w3.org/ns/formats/TriG", oxigraph_name="TRIG",
           comment=b"#"),
    Format("nquads", "N-Quads", "application/n-quads", "nq", "nquads", QUADS,
           aliases=("nq", "n-quads"), w3c_format_iri="http://www.w3.org/ns/formats/N-Quads",
           oxigraph_name="N_QUADS", comment=b"#"),
    Format("json", "SPARQL Results JSON", "application/sparql-results+json", "srj", "json", RESULTS,
           aliases=("srj", "application/json"),
           w3c_format_iri="http://www.w3.org/ns/formats/SPARQL_Results_JSON"),
    Format("srx", "SPARQL Results XML", "application/sparql-results+xml", "srx", "xml", RESULTS,
           aliases=("sparql-xml",), w3c_format_iri="http://www.w3.org/ns/formats/SPARQL_Results_XML"),
    Format("csv", "SPARQL Results CSV", "text/csv", "csv", "csv", RESULTS,
           aliases=(), w3c_format_iri="http://www.w3.org/ns/formats/SPARQL_Results_CSV"),
    Format("tsv", "SPARQL Results TSV", "text/tab-separated-values", "tsv", "tsv", RESULTS,
           aliases=(), w3c_format_iri="http://www.w3.org/ns/formats/SPARQL_Results_TSV"),
    Format("table", "Text table", "text/plain", "txt", None, TEXT),
    Format("wikibase", "Wikibase RDF (Turtle)", "text/turtle", "wikibase.ttl", "longturtle", EXPORT,
           parse_name="turtle"),
    Format("quickstatements", "QuickStatements V1", "text/plain", "qs", None, EXPORT, aliases=("qs",)),
)

RDF_FORMATS = tuple(f for f in FORMATS if f.carries in (TRIPLES, QUADS))
RESULT_FORMATS = tuple(f for f in FORMATS if f.carries == RESULTS)
EXPORT_FORMATS = tuple(f for f in FORMATS if f.carries == EXPORT)


def by_name(name: str, among: tuple[Format, ...] = FORMATS) -> Format:
    """Find a format by its name, an alias, its extension or its media type; a KkgError names the choices."""
    wanted = name.strip().lower()
    for fmt in among:
        if wanted in (fmt.name, fmt.extension, fmt.media_type) or wanted in fmt.aliases:
            return fmt
    raise KkgError(
        f"unknown format {name!r}; choose one of: {', '.join(f.name for f in among)}",
        code="unknown-format",
        status=400,
    )


def by_media_type(media_type: str, among: tuple[Format, ...] = FORMATS) -> Format | None:
    """Find a format by one of its media types (case-insensitive, parameters ignored), or None."""
    wanted = media_type.split(";")[0].strip().lower()
    for fmt in among:
        if wanted in fmt.all_media_types:
            return fmt
    return None


def by_extension(path: str, among: tuple[Format, ...] = RDF_FORMATS) -> Format | None:
    """Guess a file's format from its extension (``.ttl``, ``.nq``...), or None when unknown."""
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    for fmt in among:
        if suffix == fmt.extension or suffix in fmt.aliases:
            return fmt
    if suffix == "owl":
        return by_name("xml")
    return None


# -- kinds of answer: which formats can carry each, in order of preference ----------------------

TABLE = "table"  # SELECT and ASK results
GRAPH = "graph"  # CONSTRUCT and DESCRIBE results, one graph of the dataset
DATASET = "dataset"  # the whole dataset (named graphs kept by the quad formats)

# Preference order when the client accepts several equally: the first is the default for */*.
PREFERENCE = {
    TABLE: ("json", "srx", "csv", "tsv", "table"),
    GRAPH: ("turtle", "ntriples", "jsonld", "xml", "trig", "nquads"),
    DATASET: ("trig", "nquads", "jsonld", "turtle", "ntriples", "xml"),
}

# Names and media types whose meaning depends on the kind of answer (see the module docstring).
KIND_ALIASES = {
    TABLE: {"xml": "srx", "application/xml": "srx", "text/xml": "srx", "sparql-json": "json",
            "text/plain": "table", "txt": "table"},
    GRAPH: {"json": "jsonld", "application/json": "jsonld", "application/x-json+ld": "jsonld",
            "rdf+xml": "xml", "application/xml": "xml", "text/xml": "xml",
            "n3": "turtle", "text/n3": "turtle", "text/rdf+n3": "turtle", "application/n3": "turtle",
            "application/turtle": "turtle", "text/plain": "ntriples"},
}

KIND_ALIASES[DATASET] = KIND_ALIASES[GRAPH]

# The URL extensions of a stored query's twins (``/queries/ID.json``...), for each kind of answer.
TWINS = {TABLE: ("json", "csv", "tsv", "srx"), GRAPH: ("ttl", "jsonld", "nt", "rdf")}

KIND_OF_QUERY = {"SelectQuery": TABLE, "AskQuery": TABLE, "ConstructQuery": GRAPH, "DescribeQuery": GRAPH}


def candidates(kind: str) -> tuple[Format, ...]:
    """The formats that can carry this kind of answer, in preference order."""
    return tuple(by_name(name) for name in PREFERENCE[kind])


@dataclass(frozen=True)
class Choice:
    """The format chosen for each kind of answer, decided before the query's kind is known.

    ``asked`` says what the client asked for, for the 406 message when a kind has no format.
    """

    table: str | None
    graph: str | None
    asked: str

    def for_kind(self, kind: str) -> str:
        """The format name for this kind, or a 406 KkgError listing what is available."""
        name = self.table if kind == TABLE else self.graph
        if name is None:
            raise not_acceptable(kind, self.asked)
        return name


def not_acceptable(kind: str, asked: str) -> KkgError:
    """A 406 error listing the media types (and format names) available for this kind of answer."""
    available = [f"{fmt.media_type} (format={fmt.name})" for fmt in candidates(kind)]
    what = {TABLE: "a table (SELECT or ASK)", GRAPH: "a graph (CONSTRUCT, DESCRIBE or one graph)",
            DATASET: "the dataset"}[kind]
    return KkgError(f"cannot answer {asked} for {what}; available: "
                    + ", ".join(fmt.media_type for fmt in candidates(kind)),
                    code="not-acceptable", status=406, details=available)
