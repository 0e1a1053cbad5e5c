"""Time each stored query as shipped beside its text at an earlier git revision; print a Markdown table.

Not a test: a script for judging a rewrite of the stored queries (clearer text, same rows). For each
stored query whose text differs at ``--before`` (a git revision of this repository), both texts are
run on one engine over an existing build, in the same process and run, in alternating rounds (the
median round's p50 counts), each sample timed in a forked copy (bench/bench_build.py's
``_time_in_fork``: the loaded data is shared, an overrun is stopped), and the rows are compared
(same rows, or the table says they differ).

    karabakh-kg generate --triples 1000000 -o /tmp/gen-1m.nt
    karabakh-kg build --facts /tmp/gen-1m.nt --build-dir /tmp/kb-1m
    python bench/bench_query_versions.py --build-dir /tmp/kb-1m --before main [--engine oxigraph]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from bench_build import _time_in_fork  # noqa: E402  (bench/ is not a package)


def text_at(revision: str, query_id: str) -> str | None:
    """The query's SPARQL (its ``#+`` header dropped) at a git revision, or None if it did not exist."""
    shown = subprocess.run(["git", "-C", str(ROOT), "show", f"{revision}:queries/{query_id}.rq"],
                           capture_output=True, text=True)
    if shown.returncode != 0:
        return None
    return "\n".join(line for line in shown.stdout.splitlines() if not line.startswith("#+")).strip() + "\n"


def _rows(result) -> list:
    """The rows as a sorted list (the order is the tests' business; ties may come out either way)."""
    from karabakh_kg.graph.sparql import stored_queries

    return sorted(sorted(row.items()) for row in stored_queries.row_texts(result))


def _median_round(rounds: list[dict]) -> dict:
    """The median of the rounds' p50s (a round stopped at its time limit counts as slowest)."""
    p50s = sorted((r["p50"] if r.get("p50") is not None else float("inf")) for r in rounds)
    middle = p50s[len(p50s) // 2]
    if middle == float("inf"):
        return {"p50": None, "over": max(r.get("over", 0) for r in rounds)}
    return {"p50": middle}


def _ms(measured: dict) -> str:
    if measured.get("p50") is None:
        return f"> {measured.get('over', 0):.0f} s (stopped)"
    return f"{measured['p50'] * 1000:.2f} ms"


def main() -> None:
    """Load the build into the engine, then time the shipped and the earlier text of every changed query."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", type=Path, required=True, help="a directory `karabakh-kg build` wrote")
    parser.add_argument("--before", default="main", help="git revision holding the earlier query texts")
    parser.add_argument("--engine", default="oxigraph", choices=("oxigraph", "rdflib"))
    parser.add_argument("--samples", type=int, default=5, help="runs per query text and round (after a warm-up)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, alternating the two texts; the median round counts")
    parser.add_argument("--budget", type=float, default=10.0, help="seconds of sampling per text at most")
    args = parser.parse_args()

    from karabakh_kg.graph.pipeline import datasets as engine_mod
    from karabakh_kg.graph.sparql import query as query_mod
    from karabakh_kg.graph.sparql import stored_queries

    started = time.perf_counter()
    dataset = engine_mod.new_dataset(args.engine)
    engine_mod.load_nquads(dataset, str(args.build_dir / "dataset.nq"))
    print(f"loaded {args.build_dir} into {args.engine} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    rows = []
    for query in stored_queries.load_all().values():
        earlier = text_at(args.before, query.id)
        if earlier is None or earlier == query.text or "SERVICE" in query.text.upper():
            continue
        bindings = query.bindings({})
        now, then = [], []
        for _ in range(args.rounds):  # alternated, so that a change in the machine's load hits both
            now.append(_time_in_fork(dataset, query_mod, query.text, bindings, args.samples, args.budget))
            then.append(_time_in_fork(dataset, query_mod, earlier, bindings, args.samples, args.budget))
        now, then = _median_round(now), _median_round(then)
        same = _rows(query_mod.run_query(dataset, query.text, bindings)) == _rows(
            query_mod.run_query(dataset, earlier, bindings))
        ratio = (f"{now['p50'] / then['p50']:.2f}" if now.get("p50") and then.get("p50") else "–")
        rows.append(f"| {query.id} | {_ms(then)} | {_ms(now)} | {ratio} | {'yes' if same else 'NO'} |")
    load = os.getloadavg()
    print(f"Machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"load average at the end {load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f}.\n")
    print(f"Command: python bench/bench_query_versions.py {' '.join(sys.argv[1:])}\n")
    print(f"| stored query | p50 at {args.before} | p50 now | now / before | same rows |")
    print("|---|---:|---:|---:|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
