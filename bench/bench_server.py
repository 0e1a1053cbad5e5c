"""Benchmark the karabakh-kg SPARQL endpoint against rdflib-endpoint on the same data, same run.

Not a test: a script that prints a Markdown report. It measures, on the seed graph and on a
generated graph of at least 100,000 triples (the seed plus ``karabakh-kg generate`` output, built
and reasoned the usual way):

* server start time (process start until the first query is answered);
* latency p50/p99 of each stored query over HTTP: karabakh-kg's stored-query URL
  (``/queries/<id>.json``, parameters bound as RDF terms), the same query text sent to
  karabakh-kg's ``/sparql``, and the same text sent to rdflib-endpoint (parameters bound with a
  trailing VALUES clause in both text forms);
* requests per second with several concurrent clients cycling over the stored queries;

and the ratio rdflib-endpoint / karabakh-kg (above 1: karabakh-kg is faster).

Everything runs on the loopback interface, every loop is bounded (a sample count and a time
budget per query), and both servers are stopped at the end. Federated stored queries (SERVICE)
are left out: rdflib-endpoint would call the remote endpoint.

    pip install rdflib-endpoint uvicorn        # not a test dependency
    python bench/bench_server.py [--samples 40] [--clients 4] [--triples 100000] [--work DIR]
"""

from __future__ import annotations

import argparse
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

import requests

CLI = [sys.executable, "-c", "from karabakh_kg.server.cli import main; main()"]
HTTP_TIMEOUT = 30  # seconds a client waits; rdflib-endpoint has no query time limit of its own


# -- data ---------------------------------------------------------------------------------------------

def build(work: Path, name: str, extra_triples: int | None) -> Path:
    """A build directory of the seed (``extra_triples`` None) or of the seed plus generated facts."""
    from karabakh_kg.graph import sources

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
    import json

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


class Server:
    """A server subprocess and its SPARQL endpoint URL."""

    def __init__(self, name: str, command: list[str], endpoint: str, env: dict | None = None):
        self.name = name
        started = time.monotonic()
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                        env={**os.environ, **(env or {})})
        self.endpoint = endpoint
        self.base = endpoint.rsplit("/", 1)[0]
        self.start_seconds = wait_ready(endpoint, self.process, started)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL)."""
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def start_karabakh(build_dir: Path) -> Server:
    port = free_port()
    command = CLI + ["serve", "--host", "127.0.0.1", "--port", str(port), "--build-dir", str(build_dir)]
    return Server("karabakh-kg", command, f"http://127.0.0.1:{port}/sparql")


def start_rdflib_endpoint(build_dir: Path) -> Server:
    port = free_port()
    command = [sys.executable, __file__, "--run-rdflib-endpoint", str(build_dir / "dataset.nq"), str(port)]
    return Server("rdflib-endpoint", command, f"http://127.0.0.1:{port}/sparql")


def run_rdflib_endpoint(dataset_file: str, port: int) -> None:
    """The peer: rdflib-endpoint (FastAPI under uvicorn) over the same N-Quads, same prefixes."""
    import uvicorn
    from rdflib import Dataset
    from rdflib_endpoint import SparqlEndpoint

    from karabakh_kg.graph.iris import bind_prefixes

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
                               headers={"Accept": "application/sparql-results+json, text/turtle;q=0.9"})
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


def throughput(requests_list: list[tuple[str, dict | None]], clients: int, seconds: float) -> dict:
    """Requests per second with ``clients`` threads cycling over the requests for ``seconds``."""
    stop = time.monotonic() + seconds
    counts = {"ok": 0, "other": 0}
    lock = threading.Lock()

    def client(offset: int) -> None:
        with requests.Session() as session:
            index = offset
            while time.monotonic() < stop:
                url, params = requests_list[index % len(requests_list)]
                index += 1
                _, status, _ = timed_get(session, url, params)
                with lock:
                    counts["ok" if status == 200 else "other"] += 1

    started = time.monotonic()
    with ThreadPoolExecutor(clients) as executor:
        list(executor.map(client, range(clients)))
    elapsed = time.monotonic() - started
    return {"rps": counts["ok"] / elapsed, "errors": counts["other"]}


def stored_queries_for_bench():
    """The shipped stored queries without SERVICE, with their editor text (parameters in VALUES)."""
    from karabakh_kg.graph import stored_queries
    from karabakh_kg.server.ui_routes import editor_text

    out = []
    for query in stored_queries.load_all().values():
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


def bench_dataset(label: str, build_dir: Path, samples: int, budget: float, clients: int,
                  seconds: float) -> None:
    """Measure both servers on one build, printing the report's lines for it as they come."""
    ours = start_karabakh(build_dir)
    peer = start_rdflib_endpoint(build_dir)
    emit(*[f"### {label}: {triple_count(build_dir):,} triples", "",
             f"Start-up (process start to first answer): karabakh-kg {ours.start_seconds:.2f} s, "
             f"rdflib-endpoint {peer.start_seconds:.2f} s.", "",
             "| stored query | karabakh-kg stored URL p50 / p99 ms | karabakh-kg /sparql p50 / p99 ms "
             "| rdflib-endpoint p50 / p99 ms | ratio p50, stored URL | ratio p50, same text |",
             "|---|---|---|---|---|---|"])
    stored_ratios, text_ratios, light, restarts = [], [], [], 0
    try:
        queries = stored_queries_for_bench()
        for query_id, text in queries:
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
            if complete and max(stored["p50"], direct["p50"], other["p50"]) < 1.0:
                light.append((query_id, text))
            ratios = f"{ratio_stored:.2f} | {ratio_text:.2f}" if complete else "n/a | n/a"
            emit(f"| {query_id} | {cell(stored)} | {cell(direct)} | {cell(other)} | {ratios} |")
        geometric = (f"{statistics.geometric_mean(stored_ratios):.2f} (stored URL), "
                     f"{statistics.geometric_mean(text_ratios):.2f} (same text)") if stored_ratios else "n/a"
        emit("", f"Geometric mean of the p50 ratios over the queries both servers answered: {geometric}. "
                 f"Samples per query and server: {samples} at most, {budget:g} s of sampling at most"
                 + (f"; rdflib-endpoint was restarted {restarts} time(s) after a query it could not finish "
                    f"in {HTTP_TIMEOUT} s" if restarts else "") + ".", "")
        left_out = [q for q, _ in queries if q not in {i for i, _ in light}]
        ours_mix = [(f"{ours.base}/queries/{query_id}.json", None) for query_id, _ in light]
        peer_mix = [(peer.endpoint, {"query": text}) for _, text in light]
        if not light:
            emit("No stored query ran in under 1 s on both servers: no throughput test.", "")
            return
        ours_rate = throughput(ours_mix, clients, seconds)
        peer_rate = throughput(peer_mix, clients, seconds)
        ratio = f"{ours_rate['rps'] / peer_rate['rps']:.2f}" if peer_rate["rps"] else "n/a"
        emit(f"Throughput, {clients} concurrent clients cycling for {seconds:g} s over the {len(light)} stored "
             f"queries both servers answer in under 1 s"
             + (f" (left out: {', '.join(left_out)})" if left_out else "") + ": "
             f"karabakh-kg {ours_rate['rps']:.1f} requests/s ({ours_rate['errors']} not 200), "
             f"rdflib-endpoint {peer_rate['rps']:.1f} requests/s ({peer_rate['errors']} not 200); "
             f"ratio {ratio} (ours / peer).", "")
    finally:
        ours.stop()
        peer.stop()


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
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients in the throughput test")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each throughput test")
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
             f"--clients {args.clients} --seconds {args.seconds:g} --triples {args.triples}`", "",
             f"Machine: {machine()}.", "",
             "Latency is per request over HTTP on the loopback interface, JSON results, one client; "
             "karabakh-kg runs with its default settings (2 query workers, at most 4 concurrent queries, "
             "10 s per query). Ratios are rdflib-endpoint's p50 over karabakh-kg's: above 1, karabakh-kg "
             "answered faster. *Stored URL* binds parameters as RDF terms before evaluation; *same text* "
             "sends both servers the identical query, parameters in a trailing VALUES clause.", "")
        for label, build_dir in (("Seed graph", seed), (f"Seed plus {args.triples:,} generated triples", big)):
            bench_dataset(label, build_dir, args.samples, args.budget, args.clients, args.seconds)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
