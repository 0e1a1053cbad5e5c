"""Benchmark the small-file, long-run cases of issue 13; print one Markdown table.

Not a test: a script. Each case runs ``karabakh-kg`` in a fresh subprocess on a file written here,
and the table gives the wall-clock seconds and the length of what the command printed on standard
error:

* ``build --facts`` of N nested blank nodes (``ex:a ex:p [ ex:p [ ... ] ]``; 2,000 took 84-93 s,
  the write step quadratic in the depth, before blank-node trees were labelled in linear time);
* ``validate`` of an N-Triples file whose second line is a megabyte long and unterminated (15 s,
  and the error echoed the whole line, before Oxigraph located it);
* ``build`` of the seed, for scale.

    python bench/bench_robustness.py [--depths 500,1000,2000,4000] [--work DIR]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = [sys.executable, "-c", "from karabakh_kg.server.cli import main; main()"]


def _timed(args: list[str]) -> tuple[float, int, int]:
    started = time.perf_counter()
    result = subprocess.run(CLI + args, capture_output=True, text=True)
    return time.perf_counter() - started, result.returncode, len(result.stderr)


def main() -> None:
    """Write the inputs, run each case once, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--depths", default="500,1000,2000,4000")
    parser.add_argument("--work", default=None, help="folder for the inputs and builds (default: a temporary one)")
    options = parser.parse_args()
    work = Path(options.work or tempfile.mkdtemp(prefix="kkg-bench-robustness-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    seconds, status, err = _timed(["build", "--build-dir", str(work / "seed")])
    rows.append(("build (the seed)", "2,863 triples", seconds, status, err))
    for depth in [int(d) for d in options.depths.split(",")]:
        path = work / f"nested-{depth}.ttl"
        path.write_text("@prefix ex: <http://e/> .\nex:a ex:p " + "[ ex:p " * depth + "ex:o" + " ]" * depth + " .\n")
        seconds, status, err = _timed(["build", "--build-dir", str(work / f"b{depth}"), "--facts", str(path)])
        rows.append((f"build --facts, {depth:,} nested blank nodes", f"{path.stat().st_size / 1000:.0f} KB",
                     seconds, status, err))
    path = work / "long-line.nt"
    path.write_text('<http://e/a> <http://e/p> "ok" .\n<http://e/a> <http://e/p> "' + "x" * 1_000_000 + "\n")
    seconds, status, err = _timed(["validate", str(path)])
    rows.append(("validate, a 1 MB unterminated N-Triples line", "1 MB", seconds, status, err))
    print("| case | input | seconds | exit | stderr chars |")
    print("|---|---|---:|---:|---:|")
    for case, size, seconds, status, err in rows:
        print(f"| {case} | {size} | {seconds:.2f} | {status} | {err} |")


if __name__ == "__main__":
    main()
