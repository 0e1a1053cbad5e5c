"""A plain clone passes its tests with nothing beside it: the seed text ships in the package, and no
test or module reads the reference folder next to the checkout (../shared)."""

from __future__ import annotations

import re
from pathlib import Path

from karabakh_kg.graph.pipeline import sources

ROOT = Path(__file__).resolve().parents[1]
# a path built to the folder beside the checkout: "../shared", parents[...] / "shared", "/work/shared"
READS_SHARED = re.compile(r"""\.\./shared|/\s*["']shared["']|["']/work/shared""")


def test_the_seed_text_is_read_from_the_package():
    text = sources.seed_text()
    assert "Second Nagorno-Karabakh War" in text and "Per SOHR" in text


def test_the_seed_ships_with_its_licence_and_address():
    readme = (Path(sources.__file__).parents[1] / "data" / "sources" / "README.md").read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in readme
    assert "https://en.wikipedia.org/wiki/Second_Nagorno-Karabakh_War" in readme


def test_nothing_reads_the_folder_beside_the_checkout():
    offenders = []
    for folder in ("tests", "graph", "server", "bench"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == Path(__file__).name:
                continue  # this file spells the patterns out
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if READS_SHARED.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
