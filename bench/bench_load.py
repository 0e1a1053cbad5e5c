"""Serving under load: karabakh-kg ``serve`` (its default configuration) beside the Oxigraph server
and rdflib-endpoint, on the same data, in the same run (issue 12).

Not a test: a script that prints a Markdown report. On the seed plus ``--triples`` generated
triples (built as bench/bench_server.py builds them), for each server in turn (one at a time, so
they never share the cores):

* **look-ups**: ``SELECT ?p ?o WHERE { <s> ?p ?o }`` over 500 subjects of the build, with 8 and 32
  clients (wrk), in two mixes: *rotating* (the 500 texts again and again, as a web page's
  look-ups repeat; karabakh-kg's answer cache may answer them) and *evaluated* (every request a
  text of its own: the subject and a numbered comment, so that no cache helps and every request
  is parsed and evaluated). Printed: served requests/s, refused (any non-2xx answer or socket
  error) and the rate over the Oxigraph server's in the same run;
* **beside two runaways**: two clients keep sending a query that runs until the server's time
  limit (a triple cross join) while one client sends cheap ASK queries, each a text of its own,
  one after another; their p50 / p99 (rdflib-endpoint has no time limit, so it is left out: its
  runaways would never end);
* **beside 200 idle connections**: 200 connections each send half a request and then nothing;
  one new client asks a look-up and the report says whether, and how fast, it was answered.

Everything runs on the loopback interface, every loop is bounded (a duration or a count), and
every server is stopped at the end. The Oxigraph server is the ``oxigraph`` binary of the
``oxigraph`` PyPI wheel (``serve-read-only --union-default-graph``, its time limit set to
karabakh-kg's, over the same N-Quads file).

    apt-get install wrk; pip install oxigraph rdflib-endpoint uvicorn     # not test dependencies
    python bench/bench_load.py [--triples 100000] [--seconds 10] [--work DIR] [--skip rdflib-endpoint]
"""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import shutil
import socket
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).parent))
import bench_server as common  # noqa: E402 - a sibling script, not a package

SUBJECTS = 500
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
IDLE_CONNECTIONS = 200
QUERY_TIMEOUT = 10  # karabakh-kg's default query_timeout; the Oxigraph server is given the same


def lookup(subject: str, number: int | None = None) -> str:
    """The look-up query for one subject; with ``number``, a text of its own (a trailing comment)."""
    text = f"SELECT ?p ?o WHERE {{ <{subject}> ?p ?o }}"
    return text if number is None else f"{text} #{number}"


def cheap_ask(subject: str, number: int) -> str:
    """A cheap query of its own that is not a look-up (karabakh-kg evaluates it in a query worker,
    not in its look-up lane): whether the subject has any triple, with a numbered comment."""
    return f"ASK {{ <{subject}> ?p ?o }} #{number}"


def subjects_of(build_dir: Path, count: int) -> list[str]:
    """``count`` distinct IRI subjects of the build's N-Quads, spread over the file."""
    found: dict[str, None] = {}
    with open(build_dir / "dataset.nq", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("<"):
                found.setdefault(line[1:line.index(">")], None)
    every = sorted(found)
    step = max(1, len(every) // count)
    return every[::step][:count]


# -- servers -----------------------------------------------------------------------------------------

@dataclasses.dataclass
class Peer:
    """A server under test: its name, how to start it, and the path of its query URL."""

    name: str
    start: object  # () -> common.Server
    path: str  # "/sparql" or "/query"
    start_limited: object = None  # () -> common.Server with a query time limit, when start's has none


def oxigraph_binary() -> str | None:
    """The ``oxigraph`` command of the PyPI wheel, next to this Python, else on PATH."""
    beside = Path(sysconfig.get_path("scripts")) / "oxigraph"
    return str(beside) if beside.is_file() else shutil.which("oxigraph")


def start_oxigraph(build_dir: Path, work: Path, time_limit: bool = False) -> common.Server:
    """The Oxigraph server over the same N-Quads (loaded once into a store directory of ``work``);
    ``time_limit``: with karabakh-kg's query time limit (``--timeout-s``), which makes it start a
    thread per query: under 32 clients it then ran out of threads and crashed here, so only the
    runaway measurement uses it."""
    binary = oxigraph_binary()
    store = work / f"oxigraph-{build_dir.name}"
    if not (store / "loaded").is_file():
        shutil.rmtree(store, ignore_errors=True)
        subprocess.run([binary, "load", "--location", str(store), "--file", str(build_dir / "dataset.nq")],
                       check=True, stdout=sys.stderr, stderr=sys.stderr)
        (store / "loaded").write_text("ok")
    port = common.free_port()
    command = [binary, "serve-read-only", "--location", str(store), "--bind", f"127.0.0.1:{port}",
               "--union-default-graph"] + (["--timeout-s", str(QUERY_TIMEOUT)] if time_limit else [])
    return common.Server("Oxigraph server", command, f"http://127.0.0.1:{port}/query")


def peers(build_dir: Path, work: Path, skip: set[str]) -> list[Peer]:
    """The servers to measure, karabakh-kg first and the Oxigraph server second (the reference)."""
    found = [Peer("karabakh-kg serve (default)", lambda: common.start_karabakh(build_dir), "/sparql")]
    if "oxigraph" not in skip and oxigraph_binary():
        found.append(Peer("Oxigraph server", lambda: start_oxigraph(build_dir, work), "/query",
                          lambda: start_oxigraph(build_dir, work, time_limit=True)))
    if "rdflib-endpoint" not in skip:
        try:
            import rdflib_endpoint  # noqa: F401 - only whether it is installed
            found.append(Peer("rdflib-endpoint", lambda: common.start_rdflib_endpoint(build_dir), "/sparql"))
        except ImportError:
            print("rdflib-endpoint is not installed: left out", file=sys.stderr)
    return found


# -- measurements ------------------------------------------------------------------------------------

@dataclasses.dataclass
class Figures:
    """What one server showed."""

    name: str
    loads: dict = dataclasses.field(default_factory=dict)  # (mix, clients) -> common.Load
    runaway: dict | None = None
    idle: dict | None = None


def query_path(path: str, text: str) -> str:
    return f"{path}?{urlencode({'query': text})}"


LOOKUP_SCRIPT = """\
subjects = {%(subjects)s}
evaluated = %(evaluated)s
prefix = "%(path)s?query="
headers = {["Accept"] = "application/sparql-results+json"}
threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  counter = 0
  other = 0
end
local function encode(text)
  return (string.gsub(text, "[^%%w%%-%%._~]", function(c) return string.format("%%%%%%02X", string.byte(c)) end))
end
-- each thread walks the subjects from its own place; an evaluated text names its thread and number
function request()
  counter = counter + 1
  local text = "SELECT ?p ?o WHERE { <" .. subjects[(counter * 2 + id) %% #subjects + 1] .. "> ?p ?o }"
  if evaluated then text = text .. " #" .. id .. "-" .. counter end
  return wrk.format("GET", prefix .. encode(text), headers)
end
""" + common.WRK_REPORT


def wrk_lookups(base: str, path: str, subjects: list[str], evaluated: bool, clients: int,
                seconds: float) -> common.Load:
    """Look-ups from wrk (2 threads, ``clients`` connections) for ``seconds``."""
    import json

    assert not any("]" in s or '"' in s for s in subjects), "subjects go into Lua long brackets"
    script_text = LOOKUP_SCRIPT % {"subjects": ",\n".join(f"[[{s}]]" for s in subjects),
                                   "evaluated": "true" if evaluated else "false", "path": path}
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(script_text)
        script.flush()
        command = ["wrk", f"-t{min(2, clients)}", f"-c{clients}", f"-d{max(1, round(seconds))}s",
                   f"--timeout={common.HTTP_TIMEOUT}s", "-s", script.name, base]
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + common.HTTP_TIMEOUT + 30)
    line = next((line for line in done.stdout.splitlines() if line.startswith("WRK-JSON ")), None)
    if line is None:  # wrk could not connect at all (the server is gone)
        print(f"  wrk failed: {done.stderr.strip()[-300:]}", file=sys.stderr)
        return common.Load(0, 1, seconds, None, None, "wrk")
    summary = json.loads(line.split(" ", 1)[1])
    answered = summary["requests"] > 0
    return common.Load(summary["requests"] - summary["other"], summary["other"] + summary["socket_errors"],
                       summary["seconds"], summary["p50"] if answered else None,
                       summary["p99"] if answered else None, "wrk")


def lookups(base: str, path: str, subjects: list[str], evaluated: bool, clients: int,
            seconds: float) -> common.Load:
    """Look-ups from wrk when it is installed, else from Python threads (which take cores from the
    server: lower figures)."""
    if shutil.which("wrk"):
        return wrk_lookups(base, path, subjects, evaluated, clients, seconds)
    count = int(seconds * 3000) if evaluated else len(subjects)
    paths = [query_path(path, lookup(subjects[i % len(subjects)], i if evaluated else None))
             for i in range(count)]
    return common.run_threads(base, paths, clients, seconds)


class Client:
    """One keep-alive HTTP/1.1 client connection (http.client: cheaper than requests)."""

    def __init__(self, base: str, timeout: float):
        host, port = base.split("//", 1)[1].split(":")
        self.host, self.port, self.timeout = host, int(port), timeout
        self.conn = None

    def get(self, path: str) -> tuple[float, int | str]:
        """Seconds and status of one GET asking for SPARQL JSON ("error" when the connection failed)."""
        started = time.perf_counter()
        for attempt in (0, 1):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                self.conn.request("GET", path, headers={"Accept": "application/sparql-results+json"})
                response = self.conn.getresponse()
                response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                return time.perf_counter() - started, response.status
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt:
                    return time.perf_counter() - started, "error"
        return time.perf_counter() - started, "error"

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def beside_runaways(base: str, path: str, subjects: list[str], seconds: float) -> dict:
    """p50/p99 of cheap uncached ASK queries (cheap_ask) sent one after another while two clients
    keep a runaway query running (each resent as soon as it is answered or stopped)."""
    stop = threading.Event()
    runaway_statuses: list = []

    def runaway(which: int) -> None:
        client = Client(base, QUERY_TIMEOUT * 3 + 10)
        number = 0
        while not stop.is_set():  # texts of their own: a server may evaluate identical queries once
            number += 1
            runaway_statuses.append(client.get(query_path(path, f"{RUNAWAY} #{which}-{number}"))[1])
        client.close()

    threads = [threading.Thread(target=runaway, args=(which,), daemon=True) for which in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # both runaways are evaluating
    client = Client(base, 60)
    times, statuses = [], []
    finish = time.monotonic() + seconds
    number = 10_000_000
    while time.monotonic() < finish:
        number += 1
        elapsed, status = client.get(query_path(path, cheap_ask(subjects[number % len(subjects)], number)))
        times.append(elapsed)
        statuses.append(status)
    client.close()
    stop.set()
    for thread in threads:
        thread.join(QUERY_TIMEOUT * 3 + 15)
    refused = sum(1 for s in statuses if s != 200)
    return {"p50": statistics.median(times), "p99": common.percentile(times, 0.99), "n": len(times),
            "refused": refused, "runaway_statuses": sorted(set(map(str, runaway_statuses)))}


def beside_idle_connections(base: str, path: str, subjects: list[str], count: int) -> dict:
    """Open ``count`` connections that each send half a request and then nothing; then one new
    client asks a look-up (10 s at most). Whether it was answered, its status and its time."""
    host, port = base.split("//", 1)[1].split(":")
    idle = []
    try:
        for _ in range(count):
            sock = socket.create_connection((host, int(port)), timeout=5)
            sock.sendall(f"GET {path}?query=ASK%7B%7D HTTP/1.1\r\nHost: {host}\r\n".encode())
            idle.append(sock)
        time.sleep(1.0)
        client = Client(base, 10)
        elapsed, status = client.get(query_path(path, lookup(subjects[0], 99_999_999)))
        client.close()
    except OSError as exc:
        return {"opened": len(idle), "status": f"error ({exc})", "seconds": None}
    finally:
        for sock in idle:
            sock.close()
    return {"opened": len(idle), "status": status, "seconds": elapsed}


def drain(server: common.Server) -> None:
    """Read the server's standard error as it comes (keeping the last lines for a failure): a
    server whose log fills an unread pipe blocks on its next log line (waitress warns of its task
    queue depth under load)."""
    kept: list[str] = []
    server.log_tail = kept

    def read() -> None:
        for line in server.process.stderr:
            kept.append(line)
            del kept[:-50]

    threading.Thread(target=read, name="drain-stderr", daemon=True).start()


def measure(peer: Peer, subjects: list[str], clients: list[int], seconds: float) -> Figures:
    """Every measurement of one server, started for them and stopped after."""
    figures = Figures(peer.name)
    print(f"starting {peer.name} ...", file=sys.stderr)
    server = started(peer.start)
    try:
        for evaluated in (False, True):
            mix = "evaluated" if evaluated else "rotating"
            for count in clients:
                figures.loads[(mix, count)] = lookups(server.base, peer.path, subjects, evaluated, count, seconds)
                print(f"  {mix} x{count}: {figures.loads[(mix, count)].rps:,.0f}/s", file=sys.stderr)
        figures.idle = beside_idle_connections(server.base, peer.path, subjects, IDLE_CONNECTIONS)
        if peer.name != "rdflib-endpoint":
            if peer.start_limited:
                server.stop()
                server = started(peer.start_limited)
            figures.runaway = beside_runaways(server.base, peer.path, subjects, seconds)
    finally:
        server.stop()
    return figures


def started(start) -> common.Server:
    """A server started, its log drained, once it is idle after start-up."""
    server = start()
    drain(server)
    server.wait_idle(limit=120)
    return server


# -- report ------------------------------------------------------------------------------------------

def report(results: list[Figures], clients: list[int], seconds: float, triples: int) -> None:
    oxigraph = next((f for f in results if f.name == "Oxigraph server"), None)
    emit = common.emit
    emit(f"## Serving under load ({triples:,} triples; {seconds:g} s per run; {common.machine()})", "",
         "Look-ups `SELECT ?p ?o WHERE { <s> ?p ?o }` over 500 subjects (wrk). *rotating*: the 500 texts "
         "in turn; *evaluated*: every request a text of its own. Refused: non-2xx answers and socket errors.",
         "", "| server | mix | clients | look-ups/s | refused | p99 | ratio to Oxigraph |",
         "|---|---|---|---|---|---|---|")
    for figures in results:
        for (mix, count), load in figures.loads.items():
            peer = oxigraph.loads.get((mix, count)) if oxigraph else None
            ratio = f"{load.rps / peer.rps:.2f}" if peer and peer.rps else "–"
            p99 = f"{common.fmt_ms(load.p99)} ms" if load.p99 is not None else "–"
            emit(f"| {figures.name} | {mix} | {count} | {load.rps:,.0f} | {load.other:,} | {p99} | {ratio} |")
    emit("", "Cheap uncached `ASK { <s> ?p ?o }` queries one after another beside two runaway queries (each "
         f"stopped at the server's {QUERY_TIMEOUT} s limit and sent again; karabakh-kg may stop one sooner "
         "as a second slow query):", "",
         "| server | p50 | p99 | queries | refused | runaways answered |", "|---|---|---|---|---|---|")
    for figures in results:
        r = figures.runaway
        if r:
            emit(f"| {figures.name} | {common.fmt_ms(r['p50'])} ms | {common.fmt_ms(r['p99'])} ms | {r['n']:,} "
                 f"| {r['refused']} | {', '.join(r['runaway_statuses'])} |")
    emit("", f"A new client beside {IDLE_CONNECTIONS} idle half-sent connections:", "",
         "| server | idle connections opened | new client's answer | seconds |", "|---|---|---|---|")
    for figures in results:
        i = figures.idle
        seconds_cell = f"{i['seconds']:.3f}" if i["seconds"] is not None else "–"
        emit(f"| {figures.name} | {i['opened']} | {i['status']} | {seconds_cell} |")
    emit("")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triples", type=int, default=100_000, help="generated triples beside the seed")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each load run")
    parser.add_argument("--clients", default="8,32", help="comma-separated client counts")
    parser.add_argument("--work", type=Path, help="directory for builds and the Oxigraph store (kept)")
    parser.add_argument("--skip", default="", help="comma-separated: oxigraph, rdflib-endpoint")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("note: wrk is not installed; Python threads make the load and take cores from the servers",
              file=sys.stderr)
    clients = [int(c) for c in args.clients.split(",") if c.strip()]
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    with tempfile.TemporaryDirectory() as scratch:
        work = args.work or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        build_dir = common.build(work, f"{args.triples // 1000}k" if args.triples else "seed", args.triples or None)
        subjects = subjects_of(build_dir, SUBJECTS)
        results = [measure(peer, subjects, clients, args.seconds) for peer in peers(build_dir, work, skip)]
        report(results, clients, args.seconds, common.triple_count(build_dir))


if __name__ == "__main__":
    main()
