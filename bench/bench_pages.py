"""Benchmark entity pages: p50 and p90 milliseconds of ``/id/{kind}/{slug}.html`` (the page) and
``.ttl`` (the bounded description), each entity asked once per representation, so no answer is
served from a cache (the answer cache is also turned off), over real HTTP (waitress on a loopback
port, one keep-alive client).

Not a test: a script printing one Markdown table. Sizes: ``seed`` (the shipped graph) and numbers of
generated fact triples (``karabakh-kg generate``, as bench/bench_build.py makes them), each built
once into the work directory.

    python bench/bench_pages.py [--sizes seed,1000000] [--entities 300] [--work DIR]

Targets (issue 11): p50 under 20 ms on the seed and under 100 ms at 1M triples.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

SEED = "seed"


def build_size(size: str, work: Path):
    """The build of a size (seed, or n generated fact triples), made once in ``work``."""
    from karabakh_kg.graph.pipeline import build
    from karabakh_kg.graph.pipeline.generate import generate

    target = work / f"build-{size}"
    if size == SEED:
        inputs = build.Inputs.shipped()
    else:
        facts = work / f"generated-{size}.nt"
        if not facts.exists():
            generate(facts, int(size), seed=0)
        inputs = build.Inputs.with_facts([str(facts)])
    if target.exists() and build.is_fresh(target):
        return build.load(target)
    started = time.perf_counter()
    built = build.build(target, inputs)
    print(f"built {size} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return built


def entity_paths(base: str, session: requests.Session, how_many: int, rng: random.Random) -> list[str]:
    """Paths of distinct entities, the same number of each kind (at most 5,000 candidates a kind)."""
    from karabakh_kg.graph.core.iris import KINDS

    chosen = []
    for kind in KINDS:
        query = (f"SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ ?s ?p ?o }} "
                 f"FILTER (STRSTARTS(STR(?s), 'https://w3id.org/karabakh-kg/id/{kind}/')) }} LIMIT 5000")
        rows = session.post(base + "/sparql", data={"query": query},
                            headers={"Accept": "application/sparql-results+json"}, timeout=600).json()
        paths = sorted(row["s"]["value"][len("https://w3id.org/karabakh-kg"):] for row in rows["results"]["bindings"])
        chosen += rng.sample(paths, min(max(1, how_many // len(KINDS)), len(paths)))
    rng.shuffle(chosen)
    return chosen


def measure(size: str, work: Path, how_many: int) -> list[dict]:
    """Timings of one size: a row per representation, and per kind."""
    from karabakh_kg.graph.core import settings as settings_mod
    from karabakh_kg.server.serving import waitress_server as runner
    from karabakh_kg.server.web.app import close_app, create_app

    built = build_size(size, work)
    settings = settings_mod.resolve({}, environ={}).replace(port=0, answer_cache_mb=0, warm_stored_queries=False)
    app = create_app({}, build=built, settings=settings)
    background = runner.start_in_background(app, settings)
    base = background.url.rsplit("/sparql", 1)[0] if background.url.endswith("/sparql") else background.url.rstrip("/")
    rows = []
    try:
        session = requests.Session()
        paths = entity_paths(base, session, how_many, random.Random(0))
        timings: dict[tuple[str, str], list[float]] = {}
        for extension in ("html", "ttl"):
            for path in paths:
                started = time.perf_counter()
                response = session.get(f"{base}{path}.{extension}", timeout=120)
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200:
                    raise SystemExit(f"{path}.{extension}: HTTP {response.status_code}: {response.text[:200]}")
                timings.setdefault((extension, "all"), []).append(elapsed)
                timings.setdefault((extension, path.split("/")[2]), []).append(elapsed)
        for (extension, kind), values in sorted(timings.items()):
            values.sort()
            rows.append({"size": size, "triples": len(built.dataset), "what": f".{extension}", "kind": kind,
                         "n": len(values), "p50": statistics.median(values),
                         "p90": values[min(len(values) - 1, int(len(values) * 0.9))], "max": values[-1]})
    finally:
        background.stop()
        close_app(app)
    return rows


def main() -> None:
    """Parse the arguments, measure each size, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=f"{SEED},1000000", help="comma-separated: `seed` or generated fact triples")
    parser.add_argument("--entities", type=int, default=300, help="distinct entities sampled per size")
    parser.add_argument("--work", type=Path, default=None, help="keep generated files and builds here")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="kkg-bench-pages-"))
    work.mkdir(parents=True, exist_ok=True)
    print("| size | triples | document | kind | entities | p50 ms | p90 ms | max ms |")
    print("|---|---:|---|---|---:|---:|---:|---:|")
    for size in args.sizes.split(","):
        for row in measure(size.strip(), work, args.entities):
            print(f"| {row['size']} | {row['triples']:,} | {row['what']} | {row['kind']} | {row['n']} | "
                  f"{row['p50']:.1f} | {row['p90']:.1f} | {row['max']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
