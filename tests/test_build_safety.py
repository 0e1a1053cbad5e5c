"""A build is never lost or replaced by a command that did not make it, and builds are atomic.

``query`` and ``serve`` keep a build whose --facts files are gone or whose manifest is torn (one
error line, non-zero exit); two builds into one directory run one after the other and leave a
manifest that describes the data beside it; a killed build's temporary files are removed by the
next build; a disk that fills up or a build directory that cannot be created is one error line.
"""

from __future__ import annotations

import hashlib
import json
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from karabakh_kg.graph.core import settings as settings_mod
from karabakh_kg.graph.pipeline import build as build_mod
from karabakh_kg.graph.pipeline import build_dir as build_dir_mod
from rdflib import Dataset

CLI = [sys.executable, "-c", "from karabakh_kg.server.cli import main; main()"]

PREFIXES = "@prefix ex: <http://example.org/> .\n"
PLACE = "ex:p{n} ex:label \"place {n}\" .\n"


def _facts(count: int) -> str:
    return PREFIXES + "".join(PLACE.format(n=n) for n in range(count))


def _run(args, **kwargs):
    return subprocess.run(CLI + args, capture_output=True, text=True, timeout=300, **kwargs)


def _one_error_line(result) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def _snapshot(out: Path) -> tuple[bytes, bytes]:
    return (out / "dataset.nq").read_bytes(), (out / "manifest.json").read_bytes()


@pytest.fixture()
def facts_build(tmp_path):
    """A build made with --facts from a user's file, in its own directory."""
    facts = tmp_path / "mine.ttl"
    facts.write_text(_facts(1))
    out = tmp_path / "b"
    result = _run(["build", "--build-dir", str(out), "--facts", str(facts)])
    assert result.returncode == 0, result.stderr
    return facts, out


@pytest.mark.parametrize("command", [["query", "claimants"], ["serve", "--port", "0"]])
def test_a_build_whose_facts_file_is_gone_is_kept(facts_build, command):
    facts, out = facts_build
    before = _snapshot(out)
    facts.unlink()
    result = _run(command + ["--build-dir", str(out)])
    line = _one_error_line(result)
    assert "gone" in line and str(facts) in line
    assert _snapshot(out) == before


@pytest.mark.parametrize("command", [["query", "claimants"], ["serve", "--port", "0"],
                                     ["export", "-f", "nquads"]])
def test_a_torn_manifest_is_an_error_and_the_build_is_kept(facts_build, command):
    _facts, out = facts_build
    manifest = out / "manifest.json"
    manifest.write_bytes(manifest.read_bytes()[:40])  # torn in the middle
    before = _snapshot(out)
    line = _one_error_line(_run(command + ["--build-dir", str(out)]))
    assert "damaged" in line and "manifest.json" in line
    assert _snapshot(out) == before


def test_a_stale_build_made_by_another_installation_is_not_replaced(tmp_path):
    out = tmp_path / "b"
    build_mod.build(out)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest.update(fingerprint="made-from-other-inputs", built_by="/another/clone/karabakh_kg")
    (out / "manifest.json").write_text(json.dumps(manifest))
    before = _snapshot(out)
    line = _one_error_line(_run(["query", "claimants", "--build-dir", str(out)]))
    assert "/another/clone" in line
    assert _snapshot(out) == before


def test_the_default_build_directory_belongs_to_this_installation():
    """Two clones (two installations) get two default build directories."""
    default = Path(settings_mod._default_build_dir())
    assert default.name == "build" and default.parent.parent.name == "karabakh-kg"
    key = hashlib.sha256(build_mod.installation().encode()).hexdigest()[:12]
    assert default.parent.name == key


def test_a_build_made_from_facts_is_named_when_used(facts_build):
    facts, out = facts_build
    result = _run(["query", "claimants", "--build-dir", str(out)])
    assert result.returncode == 0, result.stderr
    assert f"using the build of {facts}" in result.stderr


def test_two_builds_at_once_leave_a_manifest_that_describes_its_data(tmp_path):
    out = tmp_path / "b"
    files = []
    for n, size in ((1, 1), (2, 40)):
        path = tmp_path / f"facts-{n}.ttl"
        path.write_text(_facts(size))
        files.append(path)
    for _round in range(3):
        runs = [subprocess.Popen(CLI + ["build", "--build-dir", str(out), "--facts", str(f)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for f in files]
        for run in runs:
            assert run.wait(timeout=300) == 0, run.stderr.read()
        manifest = json.loads((out / "manifest.json").read_text())
        data = Dataset()
        data.parse(out / "dataset.nq", format="nquads")
        assert manifest["triples"] == len(data)
        assert manifest["fact_paths"] in ([str(files[0])], [str(files[1])])
        assert not [p for p in out.rglob("*") if ".tmp" in p.name]


def test_a_reader_never_sees_a_manifest_that_describes_other_data(tmp_path):
    """While builds of two different inputs replace each other, every read of the current build
    finds a manifest whose triple count is the number of lines of the dataset beside it."""
    out = tmp_path / "b"
    small, large = tmp_path / "small.ttl", tmp_path / "large.ttl"
    small.write_text(_facts(1))
    large.write_text(_facts(300))
    build_mod.build(out, build_mod.Inputs.with_facts([str(small)]))
    script = ("import sys\nfrom karabakh_kg.graph.pipeline import build as b\n"
              "for n in range(8):\n    b.build(sys.argv[1], b.Inputs.with_facts([sys.argv[2 + n % 2]]))\n")
    builder = subprocess.Popen([sys.executable, "-c", script, str(out), str(large), str(small)])
    reads, sizes = 0, set()
    while builder.poll() is None or reads == 0:
        manifest, folder = build_mod.read_current(out)
        lines = (folder / "dataset.nq").read_bytes().count(b"\n")
        assert lines == manifest["triples"], (reads, manifest["fact_paths"])
        reads, sizes = reads + 1, sizes | {lines}
    assert builder.wait() == 0
    assert len(sizes) == 2, "the reads never saw both inputs' builds"


def test_a_killed_build_leaves_nothing_the_next_build_does_not_remove(tmp_path):
    facts = tmp_path / "big.nt"
    assert _run(["generate", "--triples", "150000", "--output", str(facts)]).returncode == 0
    out = tmp_path / "b"
    build_mod.build(out)
    before = _snapshot(out)
    (out / "dataset.nq.old.tmp").write_text("left by an older version")
    process = subprocess.Popen(CLI + ["build", "--build-dir", str(out), "--facts", str(facts)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list((out / "builds").glob(".tmp-*/dataset.nq")):
        assert time.monotonic() < deadline and process.poll() is None, "the build never started writing"
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert list((out / "builds").glob(".tmp-*")), "the kill came too late to leave anything"
    assert _snapshot(out) == before  # the killed build published nothing
    build_mod.build(out)
    assert not [p for p in out.rglob("*") if ".tmp" in p.name]
    assert len(list((out / "builds").iterdir())) == 2  # the current build and the one before


def _limit_file_size():
    resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))


def test_a_full_disk_is_one_error_line_and_keeps_the_previous_build(tmp_path):
    out = tmp_path / "b"
    build_mod.build(out)
    before = _snapshot(out)
    assert len(before[0]) > 200_000  # the seed build does not fit under the limit
    result = subprocess.run(CLI + ["build", "--build-dir", str(out)], capture_output=True, text=True,
                            timeout=300, preexec_fn=_limit_file_size)
    line = _one_error_line(result)
    assert "cannot write the build" in line
    assert _snapshot(out) == before
    assert not [p for p in out.rglob("*") if ".tmp" in p.name]


def test_a_build_directory_that_cannot_be_created_is_one_error_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    line = _one_error_line(_run(["build", "--build-dir", str(blocker / "build")]))
    assert "cannot create the build directory" in line


def test_builds_wait_for_each_other(tmp_path):
    """The lock is held by one build at a time: a second holder waits until the first lets go."""
    out = tmp_path / "b"
    waited = []
    with build_dir_mod.locked(out):
        code = ("import sys, time; from karabakh_kg.graph.pipeline import build_dir as b\n"
                "t = time.monotonic()\nwith b.locked(sys.argv[1], on_wait=lambda: print('waiting', flush=True)):\n"
                "    print(round(time.monotonic() - t, 1))\n")
        process = subprocess.Popen([sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, text=True)
        waited.append(process.stdout.readline().strip())
        time.sleep(1.0)
    waited.append(process.stdout.readline().strip())
    assert process.wait(timeout=60) == 0
    assert waited[0] == "waiting" and float(waited[1]) >= 1.0


def test_an_output_that_cannot_be_written_is_one_error_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    out = tmp_path / "b"
    build_mod.build(out)
    _one_error_line(_run(["export", "-f", "turtle", "--build-dir", str(out), "-o", str(blocker / "x.ttl")]))
    result = subprocess.run(CLI + ["generate", "--triples", "50000", "--output", str(tmp_path / "g.nt")],
                            capture_output=True, text=True, timeout=300, preexec_fn=_limit_file_size)
    assert "File too large" in _one_error_line(result)
