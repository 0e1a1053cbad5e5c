"""Benchmark the karabakh-kg SPARQL endpoint against rdflib-endpoint on the same data, same run.

Not a test: a script that prints a Markdown report. It measures, on the seed graph and on a
generated graph of at least 100,000 triples (the seed plus ``karabakh-kg generate`` output, built
and reasoned the usual way):

* server start time (process start until the first query is answered);
* latency p50/p99 of each stored query over HTTP: karabakh-kg's stored-query URL
  (``/queries/<id>.json``, parameters bound as RDF terms), the same query text sent to
  karabakh-kg's ``/sparql``, and the same text sent to rdflib-endpoint (parameters bound with a
  trailing VALUES clause in both text forms);
* throughput with 8 concurrent clients (``wrk`` when it is on PATH, else Python threads): lookups
  (the stored query ``entity`` cycling over the build's actors, events and places) and aggregates
  (``casualties-by-claimant``, ``claimants``), on karabakh-kg with its answer cache on (the default)
  and off, on each engine, against rdflib-endpoint answering the same query text;

and the ratios: latency rdflib-endpoint / karabakh-kg, throughput karabakh-kg / rdflib-endpoint
(above 1 in both: karabakh-kg is faster).

Everything runs on the loopback interface, every loop is bounded (a sample count and a time
budget per query), and both servers are stopped at the end. Federated stored queries (SERVICE)
are left out: rdflib-endpoint would call the remote endpoint.

    pip install rdflib-endpoint uvicorn        # not a test dependency
    python bench/bench_server.py [--samples 40] [--clients 8] [--triples 100000] [--work DIR]

bench/bench_build.py imports ``throughput`` (``--http``) to put those rows into its own table.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import requests

CLI = [sys.executable, "-c", "from karabakh_kg.server.cli import main; main()"]
HTTP_TIMEOUT = 30  # seconds a client waits; rdflib-endpoint has no query time limit of its own
ACCEPT = "application/sparql-results+json, text/turtle;q=0.9"
AGGREGATES = ("casualties-by-claimant", "claimants")  # stored queries grouping with GROUP BY / GROUP_CONCAT


# -- data ---------------------------------------------------------------------------------------------

def build(work: Path, name: str, extra_triples: int | None) -> Path:
    """A build directory of the seed (``extra_triples`` None) or of the seed plus generated facts."""
    from karabakh_kg.graph.pipeline import sources

    build_dir = work / f"build-{name}"
    if (build_dir / "manifest.json").is_file():
        return build_dir
    command = CLI + ["build", "--build-dir", str(build_dir)]
    if extra_triples:
        generated = work / f"generated-{extra_triples}.nt"
        subprocess.run(CLI + ["generate", "-n", str(extra_triples), "-o", str(generated)], check=True,
                       stdout=sys.stderr)
        seed_dir = work / "seed-facts"
        seed_dir.mkdir(exist_ok=True)
        facts = []
        for source in sources.fact_files() + sources.link_files():
            path = seed_dir / Path(source.name).name
            path.write_bytes(source.data)
            facts.append(path)
        for path in facts + [generated]:
            command += ["--facts", str(path)]
    print(f"building {name} into {build_dir} ...", file=sys.stderr)
    subprocess.run(command, check=True, stdout=sys.stderr)
    return build_dir


def triple_count(build_dir: Path) -> int:
    return json.loads((build_dir / "manifest.json").read_text())["triples"]


# -- servers -----------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen, started: float, limit: float = 300) -> float:
    """Seconds from ``started`` until ``url`` answers a query (the process must stay alive)."""
    while time.monotonic() - started < limit:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {process.stderr.read()[-2000:]}")
        try:
            response = requests.get(url, params={"query": "ASK {}"}, timeout=5,
                                    headers={"Accept": "application/sparql-results+json"})
            if response.status_code == 200:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} not ready after {limit} s")


def _process_tree(pid: int) -> list[int]:
    """A process and all its descendants, as now alive (Linux /proc)."""
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    stack.extend(int(child) for child in handle.read().split())
        except (OSError, ValueError):
            continue
    return found


def _cpu_ticks(pid: int) -> int:
    """CPU time (clock ticks, user + system) of a process and all its descendants, as now alive."""
    total = 0
    for current in _process_tree(pid):
        try:
            with open(f"/proc/{current}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            continue
    return total


def _memory_mb(pid: int) -> float | None:
    """Proportional set size of a process and its descendants, summed (MB): pages they share, such
    as data loaded once and forked copy-on-write, count once in all. None where /proc lacks it."""
    total = 0
    for current in _process_tree(pid):
        try:
            with open(f"/proc/{current}/smaps_rollup") as handle:
                total += next(int(line.split()[1]) for line in handle if line.startswith("Pss:"))
        except (OSError, StopIteration, ValueError):
            if current == pid:
                return None
    return total * 1024 / 1e6


class Server:
    """A server subprocess and its SPARQL endpoint URL."""

    def __init__(self, name: str, command: list[str], endpoint: str, env: dict | None = None):
        self.name = name
        started = time.monotonic()
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                        env={**os.environ, **(env or {})})
        self.endpoint = endpoint
        self.base = endpoint.rsplit("/", 1)[0]
        try:
            self.start_seconds = wait_ready(endpoint, self.process, started)
        except BaseException:  # not ready, or Ctrl-C while waiting: leave no server behind
            self.stop()
            raise

    def wait_idle(self, limit: float = 600.0, busy: float = 0.1) -> float:
        """Seconds until the server's processes (query workers included) use less than ``busy`` of a
        core over a second: after start-up the server answers the stored queries once in the
        background (``warm_stored_queries``), which at a million triples takes a while and would
        otherwise share the cores with the first load run. Returns at once where /proc is missing."""
        started = time.monotonic()
        if not os.path.isdir(f"/proc/{self.process.pid}"):
            return 0.0
        ticks_per_second = os.sysconf("SC_CLK_TCK")
        before = _cpu_ticks(self.process.pid)
        while time.monotonic() - started < limit:
            time.sleep(1.0)
            now = _cpu_ticks(self.process.pid)
            if 0 <= (now - before) / ticks_per_second < busy:  # below 0: a process ended, measure again
                break
            before = now
        return time.monotonic() - started

    def memory_mb(self) -> float | None:
        """The server's memory now: PSS of all its processes summed (see _memory_mb)."""
        return _memory_mb(self.process.pid)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL)."""
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def start_karabakh(build_dir: Path, engine: str | None = None, answer_cache_mb: int | None = None,
                   max_concurrent: int | None = None, processes: int | None = None,
                   http_server: str | None = None) -> Server:
    """karabakh-kg over the build; None keeps a setting's default. The answer cache is set through
    the environment (``serve`` has no flag for it)."""
    port = free_port()
    command = CLI + ["serve", "--host", "127.0.0.1", "--port", str(port), "--build-dir", str(build_dir)]
    if engine:
        command += ["--engine", engine]
    if max_concurrent:
        command += ["--max-concurrent-queries", str(max_concurrent)]
    if processes:
        command += ["--processes", str(processes)]
    if http_server:
        command += ["--http-server", http_server]
    env = {} if answer_cache_mb is None else {"KARABAKH_KG_ANSWER_CACHE_MB": str(answer_cache_mb)}
    return Server("karabakh-kg", command, f"http://127.0.0.1:{port}/sparql", env)


def start_rdflib_endpoint(build_dir: Path) -> Server:
    port = free_port()
    command = [sys.executable, __file__, "--run-rdflib-endpoint", str(build_dir / "dataset.nq"), str(port)]
    return Server("rdflib-endpoint", command, f"http://127.0.0.1:{port}/sparql")


def run_rdflib_endpoint(dataset_file: str, port: int) -> None:
    """The peer: rdflib-endpoint (FastAPI under uvicorn) over the same N-Quads, same prefixes."""
    import uvicorn
    from karabakh_kg.graph.core.iris import bind_prefixes
    from rdflib import Dataset
    from rdflib_endpoint import SparqlEndpoint

    dataset = Dataset(default_union=True)
    dataset.parse(dataset_file, format="nquads")
    bind_prefixes(dataset)
    app = SparqlEndpoint(graph=dataset, path="/sparql", cors_enabled=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


# -- measurements ------------------------------------------------------------------------------------

def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def timed_get(session: requests.Session, url: str, params: dict | None = None) -> tuple[float, int | str, int]:
    """Seconds, status (or "timeout") and body size of one GET asking for SPARQL JSON."""
    started = time.perf_counter()
    try:
        response = session.get(url, params=params, timeout=HTTP_TIMEOUT,
                               headers={"Accept": ACCEPT})
    except requests.Timeout:
        return time.perf_counter() - started, "timeout", 0
    body = response.content
    return time.perf_counter() - started, response.status_code, len(body)


def latency(url: str, params: dict | None, samples: int, budget: float) -> dict:
    """p50/p99 over up to ``samples`` requests after one warm-up, sampling for ``budget`` seconds at most
    (a query slower than the budget is measured once)."""
    times, statuses = [], set()
    with requests.Session() as session:
        warm_seconds, warm_status, _ = timed_get(session, url, params)
        if warm_seconds > budget or warm_status == "timeout":
            return {"p50": warm_seconds, "p99": warm_seconds, "n": 1, "statuses": {warm_status}}
        started = time.monotonic()
        for _ in range(samples):
            seconds, status, _ = timed_get(session, url, params)
            times.append(seconds)
            statuses.add(status)
            if time.monotonic() - started > budget:
                break
    return {"p50": statistics.median(times), "p99": percentile(times, 0.99), "n": len(times),
            "statuses": statuses}


# -- throughput with concurrent clients -------------------------------------------------------------

@dataclasses.dataclass
class Load:
    """One load run: responses counted as served (2xx) or not (other statuses, socket errors and
    timeouts), over ``seconds``, with the latency of every response."""

    served: int
    other: int
    seconds: float
    p50: float | None
    p99: float | None
    client: str

    @property
    def rps(self) -> float:
        """Served (2xx) requests per second."""
        return self.served / self.seconds

    def note(self) -> str:
        """Latency and refusals, for a report cell: ``(p50 2.5 ms, p99 9.1 ms; 0 non-2xx)``."""
        latency = f"p50 {fmt_ms(self.p50)} ms, p99 {fmt_ms(self.p99)} ms" if self.p50 is not None else "no response"
        return f"({latency}; {self.other:,} non-2xx)"


def rate_ratio(ours: Load, peer: Load) -> str:
    """Our served requests per second over the peer's; a lower bound when the peer served none in
    its run (one served request would have been 1 / seconds)."""
    if not ours.served:
        return "–"
    if not peer.served:
        return f"> {ours.rps * peer.seconds:.0f}×"
    return f"{ours.rps / peer.rps:.1f}×"


# The end of every wrk script here: non-2xx answers counted, and one WRK-JSON line of figures.
WRK_REPORT = """\
-- only 2xx is served: wrk's own count of errors lets 3xx through
function response(status, headers, body)
  if status < 200 or status > 299 then other = other + 1 end
end
function done(summary, latency, requests)
  local other = 0
  for _, thread in ipairs(threads) do other = other + thread:get("other") end
  local e = summary.errors
  io.write(string.format('WRK-JSON {"requests": %%d, "other": %%d, "socket_errors": %%d, "seconds": %%f, '
    .. '"p50": %%f, "p99": %%f}\\n', summary.requests, other, e.connect + e.read + e.write + e.timeout,
    summary.duration / 1e6, latency:percentile(50) / 1e6, latency:percentile(99) / 1e6))
end
"""

WRK_SCRIPT = """\
paths = {%(paths)s}
headers = {["Accept"] = "%(accept)s"}
threads = {}
-- each thread starts at its own place in the list, so that the clients do not ask in step
function setup(thread)
  thread:set("first", #threads * 7919)
  table.insert(threads, thread)
end
function init(args)
  counter = first
  other = 0
end
function request()
  counter = counter + 1
  return wrk.format("GET", paths[counter %% #paths + 1], headers)
end
""" + WRK_REPORT


def wrk_script(paths: list[str]) -> str:
    """The Lua script making wrk cycle over ``paths`` and print its summary as one JSON line."""
    assert not any("]" in path for path in paths), "paths go into Lua long brackets: URL-encode them"
    quoted = ",\n".join(f"[[{path}]]" for path in paths)
    return WRK_SCRIPT % {"paths": quoted, "accept": ACCEPT}


def run_wrk(base: str, paths: list[str], clients: int, seconds: float) -> Load:
    """Load from wrk (2 threads, ``clients`` connections) cycling over ``paths`` for ``seconds``:
    a C client, so that the servers, not the clients, use the machine's cores."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(wrk_script(paths))
        script.flush()
        command = ["wrk", f"-t{min(2, clients)}", f"-c{clients}", f"-d{max(1, round(seconds))}s",
                   f"--timeout={HTTP_TIMEOUT}s", "-s", script.name, base]
        done = subprocess.run(command, capture_output=True, text=True, check=True,
                              timeout=seconds + HTTP_TIMEOUT + 30)
    line = next(line for line in done.stdout.splitlines() if line.startswith("WRK-JSON "))
    summary = json.loads(line.split(" ", 1)[1])
    answered = summary["requests"] > 0
    return Load(summary["requests"] - summary["other"], summary["other"] + summary["socket_errors"],
                summary["seconds"], summary["p50"] if answered else None, summary["p99"] if answered else None,
                "wrk")


def run_threads(base: str, paths: list[str], clients: int, seconds: float) -> Load:
    """Load from ``clients`` Python threads cycling over ``paths`` for ``seconds`` (when wrk is not
    installed; the clients then take CPU from the servers, so the figures are low)."""
    stop = time.monotonic() + seconds
    times, statuses = [], []
    lock = threading.Lock()

    def client(offset: int) -> None:
        with requests.Session() as session:
            index = offset
            while time.monotonic() < stop:
                elapsed, status, _ = timed_get(session, base + paths[index % len(paths)])
                index += 1
                with lock:
                    times.append(elapsed)
                    statuses.append(status)

    started = time.monotonic()
    with ThreadPoolExecutor(clients) as executor:
        list(executor.map(client, [i * len(paths) // clients for i in range(clients)]))
    served = sum(1 for status in statuses if isinstance(status, int) and 200 <= status < 300)
    return Load(served, len(statuses) - served, time.monotonic() - started,
                statistics.median(times) if times else None, percentile(times, 0.99) if times else None,
                "Python threads")


def load(base: str, paths: list[str], clients: int, seconds: float) -> Load:
    """Load from wrk when it is on PATH, else from Python threads."""
    return (run_wrk if shutil.which("wrk") else run_threads)(base, paths, clients, seconds)


@dataclasses.dataclass
class Mix:
    """Requests cycled over in one load run: karabakh-kg's stored-query paths and, for
    rdflib-endpoint, the same queries' text (parameters in a VALUES clause)."""

    name: str
    ours: list[str]
    peer: list[str]


def lookup_entities(server: Server, limit: int) -> list[str]:
    """Up to ``limit`` actors, events and places of the build (a third of each at most), in IRI order."""
    found = []
    for kind in ("Actor", "Event", "Place"):
        query = (f"SELECT DISTINCT ?e WHERE {{ GRAPH ?g {{ ?e a <https://w3id.org/karabakh-kg/ontology#{kind}> }} }} "
                 f"ORDER BY ?e LIMIT {max(1, limit // 3)}")
        response = requests.get(server.endpoint, params={"query": query}, timeout=HTTP_TIMEOUT,
                                headers={"Accept": "application/sparql-results+json"})
        response.raise_for_status()
        found += [row["e"]["value"] for row in response.json()["results"]["bindings"]]
    return found


def sparql_path(text: str) -> str:
    """The GET path asking a SPARQL endpoint at /sparql for ``text``."""
    return "/sparql?" + urlencode({"query": text})


def load_mixes(server: Server, entity_limit: int) -> list[Mix]:
    """The lookups (``entity`` over the build's entities) and the aggregates (AGGREGATES)."""
    from karabakh_kg.graph import sparql
    from karabakh_kg.server.web.ui_routes import editor_text

    stored = sparql.load_stored_queries()
    entity = stored["entity"]
    iris = lookup_entities(server, entity_limit)

    def entity_text(iri: str) -> str:
        params = tuple(dataclasses.replace(p, default=iri) for p in entity.params)
        return editor_text(dataclasses.replace(entity, params=params))

    return [Mix(f"lookups (`entity`, {len(iris):,} entities)",
                ["/queries/entity.json?" + urlencode({"entity": iri}) for iri in iris],
                [sparql_path(entity_text(iri)) for iri in iris]),
            Mix(f"aggregates ({', '.join(f'`{q}`' for q in AGGREGATES)})",
                [f"/queries/{q}.json" for q in AGGREGATES],
                [sparql_path(editor_text(stored[q])) for q in AGGREGATES])]


def list_stored_queries(server: Server) -> None:
    """Ask karabakh-kg for its stored-query listing once, before any load: the server parses each
    stored query on its first use to learn its kind, and rdflib's SPARQL parser (pyparsing) is not
    thread-safe, so concurrent first uses can break it for the life of the process (every later
    request for that query fails with 400 "Param.postParse2() missing ... 'tokenList'"). The
    listing parses them one at a time; the runs then measure the steady state."""
    requests.get(server.base + "/queries.json", timeout=HTTP_TIMEOUT).raise_for_status()


def answers(server: Server, limit: float) -> bool:
    """Whether the server answers ``ASK {}`` within ``limit`` seconds. rdflib-endpoint evaluates one
    request at a time, in order, and still evaluates those a load run left in flight when it ended:
    once it answers, they are done and cannot slow the next run down."""
    try:
        return requests.get(server.endpoint, params={"query": "ASK {}"}, timeout=limit,
                            headers={"Accept": "application/sparql-results+json"}).status_code == 200
    except requests.RequestException:
        return False


@dataclasses.dataclass
class Row:
    """One mix on one karabakh-kg configuration, beside rdflib-endpoint on the same mix."""

    mix: str
    variant: str
    ours: Load
    peer: Load


def throughput(build_dir: Path, clients: int, seconds: float, entity_limit: int,
               engines: tuple[str, ...], processes: tuple[int, ...] = (1,),
               http_servers: tuple[str, ...] = ("waitress",)) -> tuple[dict[str, float], list[Row], dict]:
    """Start-up seconds per server, and a Row per mix and karabakh-kg configuration (each engine in
    one waitress process, then the last engine with each count of ``processes`` above 1, then each
    other HTTP server with each count; answer cache on and off; ``--max-concurrent-queries`` at
    least ``clients`` so that refusals do not dominate).
    One server runs at a time, stopped before the next starts: on a small machine they would
    otherwise share its cores. rdflib-endpoint is restarted between its runs when the previous
    run's requests would still hold it for more than HTTP_TIMEOUT seconds."""
    startup, measured, mixes, memory = {}, [], None, {}
    configurations = [(engine, 1, "waitress") for engine in engines]
    configurations += [(engines[-1], n, "waitress") for n in processes if n > 1]
    configurations += [(engines[-1], n, other) for other in http_servers if other != "waitress" for n in processes]
    for engine, count, http_server in configurations:
        for cache in (True, False):
            server = start_karabakh(build_dir, engine, None if cache else 0, max(8, clients), count, http_server)
            try:
                list_stored_queries(server)
                server.wait_idle()  # the stored queries' warm-up is not part of the load runs
                mixes = mixes or load_mixes(server, entity_limit)
                label = (f"{engine} engine" + (f", {count} processes" if count > 1 else "")
                         + (f", {http_server}" if http_server != "waitress" else ""))
                startup.setdefault(f"karabakh-kg, {label}", server.start_seconds)
                variant = f"{label}, answer cache {'on' if cache else 'off'}"
                for mix in mixes:
                    print(f"  {mix.name}: karabakh-kg {variant} ...", file=sys.stderr)
                    measured.append((mix.name, variant, load(server.base, mix.ours, clients, seconds)))
                if cache:
                    memory[f"karabakh-kg, {label}"] = server.memory_mb()
            finally:
                server.stop()
    peer = start_rdflib_endpoint(build_dir)
    try:
        startup["rdflib-endpoint"] = peer.start_seconds
        peers = {}
        for mix in mixes:
            if peers and not answers(peer, HTTP_TIMEOUT):
                peer.stop()
                peer = start_rdflib_endpoint(build_dir)
            print(f"  {mix.name}: rdflib-endpoint ...", file=sys.stderr)
            peers[mix.name] = load(peer.base, mix.peer, clients, seconds)
            memory["rdflib-endpoint"] = peer.memory_mb()
    finally:
        peer.stop()
    return startup, [Row(mix, variant, ours, peers[mix]) for mix, variant, ours in measured], memory


def served_stored_queries(build_dir: Path, engine: str, samples: int, budget: float,
                          http_server: str = "waitress") -> dict:
    """For each stored query needing no parameter: p50/p99 of ``/queries/<id>.json`` over HTTP as
    served (answer cache on, stored queries warmed after start-up) and as evaluated on every request
    (cache off), same engine and build; one client, so these are latencies, not throughput."""
    from karabakh_kg.graph import sparql

    ids = []
    for query in sparql.load_stored_queries().values():
        try:
            query.bindings({})
        except Exception:  # noqa: BLE001 - a required parameter: no URL without a value
            continue
        if not re.search(r"\bSERVICE\b", query.text, re.IGNORECASE):
            ids.append(query.id)
    out = {query_id: {} for query_id in ids}
    for label, cache_mb in (("served", None), ("evaluated", 0)):
        server = start_karabakh(build_dir, engine, cache_mb, http_server=http_server)
        try:
            server.wait_idle()  # "served" means after the warm-up, not while it runs
            for query_id in ids:
                print(f"  stored:{query_id} over HTTP, {label} ...", file=sys.stderr)
                out[query_id][label] = latency(f"{server.base}/queries/{query_id}.json", None, samples, budget)
        finally:
            server.stop()
    return out


def stored_queries_for_bench():
    """The shipped stored queries without SERVICE, with their editor text (parameters in VALUES)."""
    from karabakh_kg.graph import sparql
    from karabakh_kg.server.web.ui_routes import editor_text

    out = []
    for query in sparql.load_stored_queries().values():
        if re.search(r"\bSERVICE\b", query.text, re.IGNORECASE):
            continue
        out.append((query.id, editor_text(query)))
    return out


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def emit(*lines: str) -> None:
    """Print report lines at once, so a long run shows its progress (and keeps what it measured)."""
    print("\n".join(lines), flush=True)


def cell(result: dict) -> str:
    """p50 / p99 in ms, or what stopped the query."""
    if "timeout" in result["statuses"]:
        return f"> {HTTP_TIMEOUT} s (gave up)"
    if result["statuses"] == {503}:
        return f"503 after {fmt_ms(result['p50'])} (time limit)"
    return f"{fmt_ms(result['p50'])} / {fmt_ms(result['p99'])}"


def bench_latency(build_dir: Path, samples: int, budget: float) -> None:
    """Per-stored-query latency of both servers on one build, printing the report's lines as they come."""
    ours = start_karabakh(build_dir)
    peer = start_rdflib_endpoint(build_dir)
    emit(*[f"Start-up (process start to first answer): karabakh-kg {ours.start_seconds:.2f} s, "
           f"rdflib-endpoint {peer.start_seconds:.2f} s.", "",
           "| stored query | karabakh-kg stored URL p50 / p99 ms | karabakh-kg /sparql p50 / p99 ms "
           "| rdflib-endpoint p50 / p99 ms | ratio p50, stored URL | ratio p50, same text |",
           "|---|---|---|---|---|---|"])
    stored_ratios, text_ratios, restarts = [], [], 0
    try:
        for query_id, text in stored_queries_for_bench():
            stored = latency(f"{ours.base}/queries/{query_id}.json", None, samples, budget)
            direct = latency(ours.endpoint, {"query": text}, samples, budget)
            other = latency(peer.endpoint, {"query": text}, samples, budget)
            if "timeout" in other["statuses"]:
                # the abandoned query keeps rdflib-endpoint's event loop busy: start it afresh
                peer.stop()
                peer = start_rdflib_endpoint(build_dir)
                restarts += 1
            complete = stored["statuses"] == direct["statuses"] == other["statuses"] == {200}
            ratio_stored = other["p50"] / stored["p50"]
            ratio_text = other["p50"] / direct["p50"]
            if complete:
                stored_ratios.append(ratio_stored)
                text_ratios.append(ratio_text)
            ratios = f"{ratio_stored:.2f} | {ratio_text:.2f}" if complete else "n/a | n/a"
            emit(f"| {query_id} | {cell(stored)} | {cell(direct)} | {cell(other)} | {ratios} |")
        geometric = (f"{statistics.geometric_mean(stored_ratios):.2f} (stored URL), "
                     f"{statistics.geometric_mean(text_ratios):.2f} (same text)") if stored_ratios else "n/a"
        emit("", f"Geometric mean of the p50 ratios over the queries both servers answered: {geometric}. "
                 f"Samples per query and server: {samples} at most, {budget:g} s of sampling at most"
                 + (f"; rdflib-endpoint was restarted {restarts} time(s) after a query it could not finish "
                    f"in {HTTP_TIMEOUT} s" if restarts else "") + ".", "")
    finally:
        ours.stop()
        peer.stop()


def bench_throughput(build_dir: Path, clients: int, seconds: float, entity_limit: int,
                     engines: tuple[str, ...]) -> None:
    """Throughput of each karabakh-kg configuration beside rdflib-endpoint's on one build, as a table."""
    startup, rows, _memory = throughput(build_dir, clients, seconds, entity_limit, engines)
    client = rows[0].ours.client if rows else "?"
    emit(f"Throughput: {clients} concurrent clients, {seconds:g} s per run, client {client}; karabakh-kg with "
         f"`--max-concurrent-queries {max(8, clients)}`, one server running at a time. Start-up: "
         + ", ".join(f"{name} {value:.2f} s" for name, value in startup.items()) + ".", "",
         "| requests | karabakh-kg configuration | karabakh-kg served req/s | rdflib-endpoint served req/s "
         "| ratio req/s, ours / peer |",
         "|---|---|---|---|---|",
         *[f"| {row.mix} | {row.variant} | {row.ours.rps:,.1f} {row.ours.note()} "
           f"| {row.peer.rps:,.1f} {row.peer.note()} | {rate_ratio(row.ours, row.peer)} |" for row in rows], "")


def machine() -> str:
    model = ""
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import rdflib

    try:
        from importlib.metadata import version
        peer = version("rdflib-endpoint")
    except Exception:  # noqa: BLE001 - only for the report's header
        peer = "?"
    return (f"{os.cpu_count()} cores ({model or platform.processor()}), Python {platform.python_version()}, "
            f"rdflib {rdflib.__version__}, rdflib-endpoint {peer}, {platform.system()} {platform.release()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=40, help="requests per query and server (after 2 warm-ups)")
    parser.add_argument("--budget", type=float, default=20.0, help="seconds of sampling per query and server at most")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients in the throughput test")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each throughput test")
    parser.add_argument("--entities", type=int, default=1000, help="entities the lookups cycle over, at most")
    parser.add_argument("--engines", default="rdflib,oxigraph", help="karabakh-kg engines in the throughput test")
    parser.add_argument("--triples", type=int, default=100_000, help="generated triples added to the seed")
    parser.add_argument("--work", type=Path, default=None, help="keep builds here (reused when present)")
    parser.add_argument("--run-rdflib-endpoint", nargs=2, metavar=("NQUADS", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_rdflib_endpoint:
        run_rdflib_endpoint(args.run_rdflib_endpoint[0], int(args.run_rdflib_endpoint[1]))
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="kkg-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        seed = build(work, "seed", None)
        big = build(work, f"seed-plus-{args.triples}", args.triples)
        emit("## Benchmark: karabakh-kg vs rdflib-endpoint", "",
             f"Command: `python bench/bench_server.py --samples {args.samples} --budget {args.budget:g} "
             f"--clients {args.clients} --seconds {args.seconds:g} --entities {args.entities} "
             f"--engines {args.engines} --triples {args.triples}`", "",
             f"Machine: {machine()}.", "",
             "Latency is per request over HTTP on the loopback interface, JSON results, one client; "
             "karabakh-kg runs with its default settings (2 query workers, at most 4 concurrent queries, "
             "10 s per query). Ratios are rdflib-endpoint's p50 over karabakh-kg's: above 1, karabakh-kg "
             "answered faster. *Stored URL* binds parameters as RDF terms before evaluation; *same text* "
             "sends both servers the identical query, parameters in a trailing VALUES clause.", "")
        engines = tuple(args.engines.split(","))
        for label, build_dir in (("Seed graph", seed), (f"Seed plus {args.triples:,} generated triples", big)):
            emit(f"### {label}: {triple_count(build_dir):,} triples", "")
            bench_latency(build_dir, args.samples, args.budget)
            bench_throughput(build_dir, args.clients, args.seconds, args.entities, engines)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
