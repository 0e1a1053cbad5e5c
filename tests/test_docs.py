"""The documentation stays true: the README's tour runs as written, every relative link in README.md
and docs/ reaches a file and heading that exist, and docs/configuration.md is the generated page."""

from __future__ import annotations

import ast
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from karabakh_kg.graph.core import formats, settings_doc
from karabakh_kg.graph.sparql.query import parse_query
from rdflib import Dataset
from rdflib.query import Result
from test_server_cli import start as start_serve

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
CLI = [sys.executable, "-m", "karabakh_kg.server.cli"]
TOUR_HEADING = "## A five-minute tour"
SERVED_AT = "http://127.0.0.1:5000"  # where the tour's curl and SPARQLWrapper commands expect the server


# -- reading Markdown ------------------------------------------------------------------------

def code_blocks(text: str) -> list[tuple[str, str]]:
    """Every fenced code block as (language, body)."""
    return [(m.group(1), m.group(2)) for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.S | re.M)]


def without_code(text: str) -> str:
    """The text with fenced code blocks and inline code spans blanked out (links there are not links)."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, markup and punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", heading.strip().lower())
    kept = "".join(c for c in text if c in " -" or unicodedata.category(c)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors of a Markdown file's headings (repeated headings get -1, -2... as on GitHub)."""
    found: set[str] = set()
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)
    for match in re.finditer(r"^#{1,6} (.+)$", text, re.M):
        base = anchor = slug(match.group(1))
        n = 0
        while anchor in found:
            n += 1
            anchor = f"{base}-{n}"
        found.add(anchor)
    return found


def relative_links(path: Path) -> list[str]:
    """The targets of the file's Markdown links that point inside the repository."""
    targets = re.findall(r"\]\(([^)\s]+)\)", without_code(path.read_text(encoding="utf-8")))
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t, re.I)]


# -- the links ---------------------------------------------------------------------------------

MARKDOWN_FILES = [README, *DOCS, ROOT / "ontology" / "README.md"]


@pytest.mark.parametrize("path", MARKDOWN_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_reaches_a_file_and_heading(path):
    links = relative_links(path)
    assert links or path.name != "README.md" or path.parent != ROOT, "the README links into docs/"
    broken = []
    for target in links:
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and anchor not in anchors(linked):
            broken.append(f"{target}: no heading #{anchor} in {linked.relative_to(ROOT)}")
    assert not broken, broken


def test_the_link_checker_finds_broken_links(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# A page: `one` heading\n\n[ok](#a-page-one-heading) [gone](nowhere.md) "
                    "[bad](#no-such) `[code](skipped.md)` [web](https://example.org/x)\n")
    assert relative_links(page) == ["#a-page-one-heading", "nowhere.md", "#no-such"]
    assert anchors(page) == {"a-page-one-heading"}


def test_slugs_follow_github():
    assert slug("Under granian: `--http-server granian`") == "under-granian---http-server-granian"
    assert slug("Against the targets (2 cores, shared machine)") == "against-the-targets-2-cores-shared-machine"
    assert slug('The three "who" links, never conflated') == "the-three-who-links-never-conflated"


def test_docs_index_and_readme_list_every_page():
    index = (ROOT / "docs" / "README.md").read_text(encoding="utf-8")
    readme = README.read_text(encoding="utf-8")
    for page in DOCS:
        assert f"](docs/{page.name})" in readme, page.name
        if page.name != "README.md":
            assert f"]({page.name})" in index, page.name


# -- the generated configuration page ---------------------------------------------------------

def test_configuration_page_is_the_generated_text():
    committed = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == settings_doc.configuration_page(), (
        "docs/configuration.md is stale: run `karabakh-kg settings --markdown > docs/configuration.md`")


def test_settings_command_prints_the_page():
    out = subprocess.run(CLI + ["settings", "--markdown"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout == (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    table = subprocess.run(CLI + ["settings"], capture_output=True, text=True, timeout=120)
    assert table.stdout == settings_doc.settings_table()


# -- the README's tour, run as written --------------------------------------------------------

def tour() -> str:
    """The README's tour section."""
    text = README.read_text(encoding="utf-8")
    start = text.index(TOUR_HEADING)
    end = text.find("\n## ", start + len(TOUR_HEADING))
    return text[start:end if end > 0 else None]


def console_steps(section: str) -> list[tuple[str, list[str]]]:
    """Each ``$ command`` of the console blocks, with the output lines the README shows under it."""
    steps: list[tuple[str, list[str]]] = []
    for language, body in code_blocks(section):
        if language != "console":
            continue
        for line in body.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif steps:
                steps[-1][1].append(line)
    return steps


def shell_commands(section: str) -> list[str]:
    """Each command of the sh blocks, continuation lines joined."""
    commands = []
    for language, body in code_blocks(section):
        if language == "sh":
            joined = re.sub(r"\\\n\s*", " ", body)
            commands += [line for line in joined.splitlines() if line.strip() and not line.startswith("#")]
    return commands


def _varying(line: str) -> str:
    """A shown output line with what varies between runs (paths, seconds) replaced."""
    line = re.sub(r"built (\d+) triples into \S+", r"built \1 triples into PATH", line)
    return re.sub(r"\d+\.\d+s", "Ns", line)


def _option(command: str, *names: str) -> str | None:
    words = shlex.split(command)
    for i, word in enumerate(words[:-1]):
        if word in names:
            return words[i + 1]
    return None


def _parse(data: bytes, fmt: formats.Format) -> int:
    """Parse an output in its format; returns how many triples, quads or rows it holds."""
    if fmt.carries in (formats.TRIPLES, formats.QUADS) or fmt.name == "wikibase":
        dataset = Dataset()
        dataset.parse(data=data, format=fmt.parser)
        return len(dataset) if fmt.carries == formats.TRIPLES else sum(len(g) for g in dataset.graphs())
    if fmt.carries == formats.RESULTS:
        return len(Result.parse(io.BytesIO(data), format=fmt.rdflib_name).bindings)
    if fmt.name == "quickstatements":
        lines = data.decode().splitlines()
        assert all(re.match(r"^Q\d+\t", line) for line in lines), lines[:3]
        return len(lines)
    return len(data.decode().strip().splitlines())  # the terminal table


def test_tour_commands_are_found():
    steps = [command for command, _ in console_steps(tour())]
    assert steps[0] == "karabakh-kg build"
    for verb in ("query", "export", "validate"):
        assert any(command.startswith(f"karabakh-kg {verb} ") for command in steps), verb
    curls = shell_commands(tour())
    assert any("/sparql" in c for c in curls) and any("/queries/" in c for c in curls)
    assert any("/data" in c for c in curls)
    assert [language for language, _ in code_blocks(tour())].count("python") == 1


@pytest.mark.slow
def test_readme_tour_runs_as_written(tmp_path):
    env = {**os.environ, "KARABAKH_KG_BUILD_DIR": str(tmp_path / "build"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    work = tmp_path / "work"
    work.mkdir()

    for command, shown in console_steps(tour()):
        out = subprocess.run(["bash", "-c", command], cwd=work, env=env, capture_output=True, timeout=300)
        stdout, stderr = out.stdout.decode(), out.stderr.decode()
        assert out.returncode == 0, (command, stderr)
        assert "Traceback" not in stderr, (command, stderr)
        assert stdout.strip() or _option(command, "-o", "--output"), command
        actual = {_varying(line) for line in stdout.splitlines()}
        for line in shown:
            if line != "...":  # the README leaves some lines out
                assert _varying(line) in actual, (command, line, stdout)
        output = _option(command, "-o", "--output")
        fmt = formats.by_name(_option(command, "-f", "--format") or "table")
        if output:
            assert _parse((work / output).read_bytes(), fmt) > 0, command
        elif command.startswith("karabakh-kg query "):
            assert _parse(out.stdout, fmt) > 0, command

    assert shutil.which("curl"), "the README's tour uses curl: install it (apt-get install curl)"
    process, started = start_serve([], env={"KARABAKH_KG_BUILD_DIR": str(tmp_path / "build")})
    try:
        base = re.search(r"SPARQL endpoint:\s+(\S+)/sparql", started).group(1)
        for command in shell_commands(tour()):
            assert command.startswith("curl "), command
            served = command.replace(SERVED_AT, base)
            assert served != command, f"{command} does not call {SERVED_AT}"
            headers = tmp_path / "headers.txt"
            out = subprocess.run(["bash", "-c", f"curl --fail -sS -D {headers} " + served[len("curl "):]],
                                 cwd=work, env=env, capture_output=True, timeout=60)
            assert out.returncode == 0, (command, out.stderr.decode())
            media_type = re.findall(r"^content-type:\s*([^;\s]+)", headers.read_text(), re.I | re.M)[-1]
            body = out.stdout
            if " -O " in f" {served} ":
                body = (work / served.split()[-1].rsplit("/", 1)[-1]).read_bytes()
            if served.split("?")[0].rstrip("'").endswith(".rq"):
                source = "\n".join(x for x in body.decode().splitlines() if not x.startswith("#+"))
                parse_query(source)
                continue
            fmt = formats.by_media_type(media_type)
            assert fmt is not None, (command, media_type)
            assert _parse(body, fmt) > 0, command

        program = next(body for language, body in code_blocks(tour()) if language == "python")
        assert SERVED_AT in program
        out = subprocess.run([sys.executable, "-c", program.replace(SERVED_AT, base)],
                             capture_output=True, text=True, timeout=60, cwd=work)
        assert out.returncode == 0, out.stderr
        bindings = ast.literal_eval(out.stdout.strip())
        assert int(bindings[0]["n"]["value"]) > 0
    finally:
        process.terminate()
        process.wait(15)
