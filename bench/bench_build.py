"""Benchmark the build pipeline, the engines and the exports; print one Markdown table.

Not a test: a script. For each size (generated graphs of 10k, 100k and 1M fact triples by default,
written by ``karabakh-kg generate``), every measurement is taken beside its baseline in the same
run, on the same data, each in a fresh subprocess (so peak memory is that step's alone):

* build stages: parse, reason, validate, and the process's peak RSS, for the defaults
  (``--reasoner fast --validator fast``) and for the reference (``owlrl`` + ``pyshacl``; skipped
  above ``--baseline-max`` triples, where it takes many minutes);
* engines: load time of the built N-Quads and peak RSS, then p50/p99 of every stored query and of
  every query of the differential corpus (tests/engine_corpus.py), on Oxigraph and on rdflib;
* exports: seconds per format of ``karabakh-kg export`` (deterministic, sorted) against rdflib's
  own ``serialize`` of the same dataset;
* http (``--http``): server start-up, and served requests per second with 8 concurrent clients
  (lookups and aggregates, karabakh-kg's answer cache on and off, each engine) against
  rdflib-endpoint over the same build, measured by bench/bench_server.py's ``throughput``.

Ratios are baseline / candidate for times and memory, candidate / baseline for requests per second
(above 1: the candidate is faster or smaller). The size ``seed`` is the shipped seed graph. Per-query
HTTP latency against rdflib-endpoint is in bench/bench_server.py's own report.

    python bench/bench_build.py [--sizes seed,10000,100000,1000000] [--samples 20] [--work DIR] [--http]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXPORT_FORMATS = ("nquads", "ntriples", "turtle", "trig", "jsonld", "xml")
SEED = "seed"  # the size naming the shipped seed facts and links instead of generated facts


# -- child steps (run as `python bench_build.py --child STEP ARGS...`) ----------------------------

def _peak_mb() -> float:
    """Peak resident memory of this process or of any child it waited for (forked query timers)."""
    return max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024


def inputs_of(facts: str):
    """The build inputs of a size: the shipped seed, or the shipped ontology with one fact file."""
    from karabakh_kg.graph.pipeline import build

    return build.Inputs.shipped() if facts == SEED else build.Inputs.with_facts([facts])


def child_build(facts: str, reasoner: str, validator: str, engine: str) -> dict:
    """Parse, reason and validate one fact file (or ``seed``) with the given components; stage seconds
    and peak MB."""
    from karabakh_kg.graph.pipeline import build, fastvalidate
    from karabakh_kg.graph.pipeline import datasets as engine_mod

    engine_mod.use(engine)
    fastvalidate.use(validator)
    inputs = inputs_of(facts)
    if reasoner == "fast" and validator == "fast":
        # the candidate: the real `karabakh-kg build` (sets of triples, Oxigraph parsing, the
        # deterministic N-Quads written before validation), into a scratch directory
        with tempfile.TemporaryDirectory() as out:
            manifest = build.build(out, inputs, reasoner).manifest
        timings = dict(manifest["timings"])
        timings.update(violations=0, triples=manifest["triples"], peak_mb=_peak_mb())
        return timings
    # the baseline: plain rdflib (its store and parser), owlrl, pyshacl, rdflib's own serializer
    from karabakh_kg.graph.core.iris import named_graph
    from karabakh_kg.graph.pipeline import reason, sources

    timings = {}
    started = time.perf_counter()
    dataset = build.new_dataset()
    for graph_name, files in (("ontology", inputs.ontology), ("facts", inputs.facts), ("links", inputs.links)):
        for f in files:
            sources.parse_into(dataset.graph(named_graph(graph_name)), f)
    timings["parse"] = time.perf_counter() - started
    started = time.perf_counter()
    reason.close(dataset, [named_graph(n) for n in build.ASSERTED], named_graph("inferred"), reasoner)
    timings["reason"] = time.perf_counter() - started
    started = time.perf_counter()
    violations = build.check(dataset, inputs)
    timings["validate"] = time.perf_counter() - started
    started = time.perf_counter()
    dataset.serialize(format="nquads")
    timings["write"] = time.perf_counter() - started
    timings["total"] = sum(timings[k] for k in ("parse", "reason", "validate", "write"))
    timings["violations"] = len(violations)
    timings["triples"] = sum(len(c) for c in dataset.graphs())
    timings["peak_mb"] = _peak_mb()
    return timings


def _queries() -> list[tuple[str, str, dict]]:
    sys.path.insert(0, str(ROOT / "tests"))
    from engine_corpus import CORPUS
    from karabakh_kg.graph import sparql

    out = []
    for q in sorted(sparql.load_stored_queries().values(), key=lambda q: q.id):
        if "SERVICE" in q.text.upper():
            continue
        try:
            out.append((f"stored:{q.id}", q.text, q.bindings({})))
        except Exception:  # a required parameter without default
            continue
    return out + [(f"corpus:{name}", text, bindings) for name, text, bindings in CORPUS]


def _time_in_fork(dataset, query_mod, text: str, bindings: dict, samples: int, budget: float) -> dict:
    """p50/p99 of one query, timed in a forked copy of this process (the loaded data is shared
    copy-on-write), so that a run past ``3 * budget`` is stopped whatever engine is evaluating it."""
    limit = budget * 3
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: time the query, report, exit without cleanup
        os.close(read)
        parsed = query_mod.parse_query(text)
        times, began = [], time.monotonic()
        for _ in range(samples + 1):
            t0 = time.perf_counter()
            result = query_mod.run_query(dataset, parsed, bindings)
            if result.type in ("CONSTRUCT", "DESCRIBE"):
                len(result.graph)
            elif result.type == "SELECT":
                list(result)
            times.append(time.perf_counter() - t0)
            os.write(write, (json.dumps(times[-1]) + "\n").encode())
            if time.monotonic() - began > budget:
                break
        os._exit(0)
    os.close(write)
    deadline = time.monotonic() + limit + budget
    done = False
    while time.monotonic() < deadline:
        finished, _ = os.waitpid(pid, os.WNOHANG)
        if finished:
            done = True
            break
        time.sleep(0.01)
    if not done:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    with os.fdopen(read) as pipe:
        times = [float(line) for line in pipe.read().split()]
    times = times[1:] or times  # the first run warms caches up (a slow query runs once)
    if not done and not times:
        return {"p50": None, "p99": None, "n": 0, "over": limit}
    ordered = sorted(times)
    return {"p50": statistics.median(times), "p99": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))],
            "n": len(times)}


def child_queries(nquads: str, engine: str, samples: int, budget: float) -> dict:
    """Load the build into one engine, then time every query: load seconds, peak MB, p50/p99 per query."""
    from karabakh_kg.graph import sparql as query_mod
    from karabakh_kg.graph.pipeline import datasets as engine_mod

    started = time.perf_counter()
    dataset = engine_mod.new_dataset(engine)
    engine_mod.load_nquads(dataset, nquads)
    out = {"load": time.perf_counter() - started, "queries": {}}
    cap = float(os.environ.get("KKG_BENCH_QUERY_CAP", "900"))  # seconds for all queries of one engine
    for name, text, bindings in _queries():
        if time.perf_counter() - started > cap:
            out["queries"][name] = {"p50": None, "p99": None, "n": 0}  # not reached within the cap
            continue
        out["queries"][name] = _time_in_fork(dataset, query_mod, text, bindings, samples, budget)
    out["peak_mb"] = _peak_mb()
    return out


def child_export(nquads: str, format_name: str, baseline: bool) -> dict:
    """Seconds to write the build in one format: our deterministic export, or rdflib's serialize."""
    from karabakh_kg.graph.core import formats
    from karabakh_kg.graph.pipeline import datasets as engine_mod
    from karabakh_kg.graph.pipeline import export

    dataset = engine_mod.new_dataset("rdflib")
    engine_mod.load_nquads(dataset, nquads)
    started = time.perf_counter()
    if baseline:
        fmt = formats.by_name(format_name)
        if fmt.carries == formats.QUADS:
            data = dataset.serialize(format=fmt.rdflib_name)
        else:
            from rdflib import Graph

            union = Graph()
            union.addN((s, p, o, union) for s, p, o in dataset.triples((None, None, None)))
            data = union.serialize(format=fmt.rdflib_name)
    else:
        data = export.serialize(dataset, format_name)
    return {"seconds": time.perf_counter() - started, "bytes": len(data), "peak_mb": _peak_mb()}


CHILDREN = {"build": child_build, "queries": child_queries, "export": child_export}


def run_child(step: str, *args, timeout: float = 3600) -> dict | None:
    """Run one step in a fresh interpreter; its JSON result, or None when it failed or timed out."""
    command = [sys.executable, __file__, "--child", step, json.dumps(args)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"  {step} {args}: timed out after {timeout:.0f} s", file=sys.stderr)
        return None
    if done.returncode:
        print(f"  {step} {args} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the report ----------------------------------------------------------------------------------

class Table:
    """Rows of: section, measure, size, candidate, baseline, ratio (baseline / candidate)."""

    def __init__(self):
        self.rows = []

    def add(self, section, measure, size, candidate, baseline, unit="s", cand_name="", base_name="",
            cand_note="", base_note="", ratio=None):
        """One row; values are numbers (None: not measured), notes follow them in their cell. The ratio
        is baseline / candidate (times, memory); ``ratio`` gives it instead where that is not the
        right one (a rate: candidate / baseline, or a bound)."""
        def fmt(v):
            """A number in the row's unit, or an en dash when not measured."""
            if v is None:
                return "–"
            if unit == "ms":
                return f"{v * 1000:.2f} ms" if v < 1 else f"{v:.2f} s"
            if unit == "MB":
                return f"{v:,.0f} MB"
            if unit == "req/s":
                return f"{v:,.1f} req/s"
            return f"{v:.2f} s"
        if ratio is None:
            ratio = f"{baseline / candidate:.1f}×" if candidate and baseline else "–"
        label = f"{cand_name} {fmt(candidate)}".strip() if candidate is not None or not cand_name.startswith(">") \
            else cand_name
        if baseline is not None:
            base = f"{base_name} {fmt(baseline)}".strip()
        else:
            base = base_name if base_name.startswith(">") else "–"
        label, base = f"{label} {cand_note}".strip(), f"{base} {base_note}".strip()
        self.rows.append((section, measure, size, label, base, ratio))
        print(f"| {' | '.join(map(str, self.rows[-1]))} |", file=sys.stderr)

    def markdown(self) -> str:
        """The table as Markdown."""
        lines = ["| section | measure | fact triples | candidate | baseline | ratio |",
                 "|---|---|---:|---|---|---:|"]
        lines += [f"| {' | '.join(map(str, row))} |" for row in self.rows]
        return "\n".join(lines)


def fact_file(n: int | str, work: Path) -> str:
    """The facts of a size: ``seed``, or a file of ``n`` generated fact triples (written once)."""
    from karabakh_kg.graph.pipeline.generate import generate

    if n == SEED:
        return SEED
    facts = work / f"generated-{n}.nt"
    if not facts.is_file():
        generate(facts, n, seed=0)
    return str(facts)


def bench_http(size: str, build_dir: Path, args, table: Table) -> None:
    """Server start-up and throughput rows for one build, each beside rdflib-endpoint's (measured by
    bench_server.throughput, which runs one server at a time and stops each)."""
    import bench_server

    startup, rows, memory = bench_server.throughput(build_dir, args.http_clients, args.http_seconds, args.http_entities,
                                            tuple(args.http_engines.split(",")),
                                            tuple(int(n) for n in args.http_processes.split(",")),
                                            tuple(args.http_servers.split(",")))
    peer_start = startup.pop("rdflib-endpoint")
    for name, seconds in startup.items():
        table.add("http", "server start (process start to first answer)", size, seconds, peer_start,
                  cand_name=name, base_name="rdflib-endpoint")
    peer_memory = memory.pop("rdflib-endpoint", None)
    for name, megabytes in memory.items():
        table.add("http", "server memory after the load runs (PSS of all its processes)", size, megabytes,
                  peer_memory, unit="MB", cand_name=name, base_name="rdflib-endpoint")
    for row in rows:
        table.add("http", f"{row.mix}, {args.http_clients} clients ({row.ours.client}): {row.variant}", size,
                  row.ours.rps, row.peer.rps, unit="req/s", cand_name="karabakh-kg", base_name="rdflib-endpoint",
                  cand_note=row.ours.note(), base_note=row.peer.note(),
                  ratio=bench_server.rate_ratio(row.ours, row.peer))
    engine = args.http_engines.split(",")[-1]
    http_server = args.http_servers.split(",")[0]  # the same server as earlier runs' rows
    served = bench_server.served_stored_queries(build_dir, engine, args.samples, args.budget, http_server)
    for query_id, measured in served.items():
        table.add("http", f"stored:{query_id} over HTTP, p50 ({engine} engine, {http_server})", size,
                  measured["served"]["p50"], measured["evaluated"]["p50"], unit="ms",
                  cand_name="served (answer cache, warmed)", base_name="evaluated on every request")


def bench_size(n: int | str, args, table: Table, work: Path) -> None:
    """Generate ``n`` fact triples (once; ``seed``: the shipped facts), then add the build, engine,
    export and http rows for that size."""
    from karabakh_kg.graph.pipeline import build

    size = n if n == SEED else f"{n:,}"
    count = 0 if n == SEED else n
    facts = fact_file(n, work)
    print(f"== {size} triples", file=sys.stderr)
    if "build" not in args.steps:
        fast = slow = None
    else:
        fast = run_child("build", facts, "fast", "fast", "rdflib")
        slow = run_child("build", facts, "owlrl", "pyshacl", "rdflib",
                         timeout=args.baseline_timeout) if count <= args.baseline_max else None
    for stage in ("parse", "reason", "validate", "write", "total") if "build" in args.steps else ():
        table.add("build", stage, size, fast and fast[stage], slow and slow[stage],
                  cand_name={"parse": "Oxigraph parser", "reason": "fast", "validate": "fast",
                             "write": "sorted, canonical", "total": "karabakh-kg build"}[stage],
                  base_name={"parse": "rdflib", "reason": "owlrl", "validate": "pyshacl+rdflib",
                             "write": "rdflib serialize", "total": "rdflib+owlrl+pyshacl"}[stage])
    if "build" in args.steps:
        table.add("build", "peak memory (whole build)", size, fast and fast["peak_mb"],
                  slow and slow["peak_mb"], unit="MB")
    # the build whose N-Quads the engines and exports read
    out = work / f"build-{n}"
    if not (out / build.DATASET_FILE).is_file():
        build.build(out, inputs_of(facts))
    nquads = str(out / build.DATASET_FILE)
    if "engines" not in args.steps:
        ox = rd = None
        names = []
    else:
        ox = run_child("queries", nquads, "oxigraph", args.samples, args.budget)
        rd = run_child("queries", nquads, "rdflib", args.samples, args.budget)
        table.add("engine", "load N-Quads", size, ox and ox["load"], rd and rd["load"],
                  cand_name="oxigraph", base_name="rdflib")
        table.add("engine", "peak memory (load + all queries)", size, ox and ox["peak_mb"], rd and rd["peak_mb"],
                  unit="MB", cand_name="oxigraph", base_name="rdflib")
        names = list((ox or rd or {"queries": {}})["queries"])
    for name in names:
        a = (ox or {"queries": {}})["queries"].get(name, {})
        b = (rd or {"queries": {}})["queries"].get(name, {})
        table.add("query p50", name, size, a.get("p50"), b.get("p50"), unit="ms",
                  cand_name=f"> {a['over']:.0f} s (stopped)" if a.get("over") else "",
                  base_name=f"> {b['over']:.0f} s (stopped)" if b.get("over") else "")
        table.add("query p99", name, size, a.get("p99"), b.get("p99"), unit="ms")
    if count <= args.export_max and "exports" in args.steps:
        for format_name in EXPORT_FORMATS:
            ours = run_child("export", nquads, format_name, False, timeout=args.baseline_timeout)
            theirs = run_child("export", nquads, format_name, True, timeout=args.baseline_timeout)
            table.add("export", format_name, size, ours and ours["seconds"], theirs and theirs["seconds"],
                      cand_name="deterministic", base_name="rdflib serialize")
    if "http" in args.steps:
        bench_http(size, out, args, table)


def main() -> None:
    """Run the requested sizes and print the table (or, with --child, one step as JSON)."""
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        result = CHILDREN[sys.argv[2]](*json.loads(sys.argv[3]))
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="generated fact triples, comma-separated; `seed`: the shipped seed graph")
    parser.add_argument("--samples", type=int, default=20, help="runs per query and engine (after a warm-up)")
    parser.add_argument("--budget", type=float, default=10.0, help="seconds of sampling per query at most")
    parser.add_argument("--baseline-max", type=int, default=100_000,
                        help="largest size at which owlrl + pyshacl run (they take many minutes above)")
    parser.add_argument("--baseline-timeout", type=float, default=1800.0, help="seconds per baseline step")
    parser.add_argument("--export-max", type=int, default=100_000, help="largest size for the export timings")
    parser.add_argument("--work", type=Path, default=None, help="keep generated files and builds here")
    parser.add_argument("--http", action="store_true", help="also the http step (same as adding it to --steps)")
    parser.add_argument("--steps", default="build,engines,exports",
                        help="which measurements: build, engines, exports, http (comma-separated)")
    parser.add_argument("--http-clients", type=int, default=8, help="concurrent clients in the http step")
    parser.add_argument("--http-seconds", type=float, default=10.0, help="seconds of each load run in the http step")
    parser.add_argument("--http-entities", type=int, default=1000, help="entities the lookups cycle over, at most")
    parser.add_argument("--http-engines", default="rdflib,oxigraph", help="karabakh-kg engines in the http step")
    parser.add_argument("--http-processes", default="1,2",
                        help="server process counts (serve --processes) in the http step, on the last engine")
    parser.add_argument("--http-servers", default="waitress,granian",
                        help="HTTP servers (serve --http-server) in the http step; the others than waitress "
                             "run with each --http-processes count on the last engine")
    parser.add_argument("--query-cap", type=float, default=900.0,
                        help="seconds all queries of one engine may take; later queries show as not measured")
    args = parser.parse_args()
    if args.http:
        args.steps += ",http"
    os.environ["KKG_BENCH_QUERY_CAP"] = str(args.query_cap)
    work = args.work or Path(tempfile.mkdtemp(prefix="kkg-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    table = Table()
    started = time.time()
    for n in [x if x == SEED else int(x) for x in args.sizes.split(",") if x]:
        bench_size(n, args, table, work)
    load = os.getloadavg()
    print(f"\nMachine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"load average at the end {load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f}; "
          f"{(time.time() - started) / 60:.0f} min.\n")
    print(f"Command: python bench/bench_build.py {' '.join(sys.argv[1:])}\n")
    print(table.markdown())


if __name__ == "__main__":
    main()
