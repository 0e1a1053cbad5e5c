"""Benchmark `karabakh-kg import`: rows per second checked and written, then the build beside the
shipped facts; print one Markdown table. Not a test: a script.

The tables are generated: rows cycle through the shipped figures table (every column filled as a
collector would), each with its own id and page address, so every row is a new claim and page.

    python bench/bench_import.py [--rows 1000,10000,100000] [--build-max 10000] [--work DIR]
"""

from __future__ import annotations

import argparse
import csv
import io
import resource
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path


def generate(path: Path, rows: int) -> None:
    """A table of ``rows`` figures in the shipped columns, cycling the shipped rows."""
    data = (resources.files("karabakh_kg.graph") / "data" / "sources" / "figures.tsv").read_text(encoding="utf-8")
    shipped = list(csv.DictReader(io.StringIO(data, newline=""), delimiter="\t"))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(shipped[0]))
        writer.writeheader()
        for n in range(rows):
            row = dict(shipped[n % len(shipped)])
            row["id"] = f"G{n}"
            row["url"] = f"https://example.org/generated/{n // 4}"  # four figures per page
            row["page_title"] = f"Generated page {n // 4} (bench)"
            writer.writerow(row)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str]) -> tuple[float, float, str]:
    """Run a command; its wall time, its CPU time (the machine may be shared) and output."""
    start, cpu = time.perf_counter(), _cpu()
    out = subprocess.run(command, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{out.stderr}")
    return time.perf_counter() - start, _cpu() - cpu, out.stdout


def main() -> None:
    """Generate, import, build; print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1000,10000,100000")
    parser.add_argument("--build-max", type=int, default=10000, help="largest table also built")
    parser.add_argument("--work", default=None)
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="kkg-import-bench-"))
    cli = [sys.executable, "-m", "karabakh_kg.server.cli"]
    print("| rows | import wall (CPU) | rows/s by CPU | triples written | build with shipped facts, wall (CPU) |")
    print("|---:|---:|---:|---:|---:|")
    for rows in (int(r) for r in args.rows.split(",")):
        table = work / f"figures-{rows}.csv"
        generate(table, rows)
        seconds, cpu, said = timed(cli + ["import", str(table), "--no-build"])
        triples = said.split("(")[1].split(" triples")[0]
        build = "-"
        if rows <= args.build_max:
            build_seconds, build_cpu, _ = timed(cli + ["build", "--add-facts", str(table.with_suffix(".ttl")),
                                                       "--build-dir", str(work / f"build-{rows}")])
            build = f"{build_seconds:.1f} s ({build_cpu:.1f} s)"
        print(f"| {rows:,} | {seconds:.2f} s ({cpu:.2f} s) | {rows / cpu:,.0f} | {triples} | {build} |")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\npeak RSS of the largest child: {peak:.0f} MiB; work folder {work}")


if __name__ == "__main__":
    main()
