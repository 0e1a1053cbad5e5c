"""A build directory: complete builds published atomically, one build at a time, no leftovers.

Layout (POSIX)::

    BUILD_DIR/.lock                    held (fcntl) by the one build running here
    BUILD_DIR/builds/<id>/             one complete build: dataset.nq and manifest.json together
    BUILD_DIR/builds/.tmp-<id>/        a build being written (removed when it fails; a killed
                                       build's is removed by the next build)
    BUILD_DIR/current -> builds/<id>   the published build, switched by one rename
    BUILD_DIR/dataset.nq -> current/dataset.nq       (for people and scripts)
    BUILD_DIR/manifest.json -> current/manifest.json

A build writes both files into a fresh temporary directory, renames it into ``builds/`` and then
replaces the ``current`` link in one ``rename``: a reader (``query``, ``serve``, ``export``) resolves
``current`` once and reads both files from that one directory, so it never sees a manifest that
describes other data, whatever runs or is killed meanwhile. The build before the current one is
kept (a reader that resolved it a moment before the switch still finds it); older ones are removed.

A directory written by an older version (plain ``dataset.nq`` and ``manifest.json``) is still read.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from pathlib import Path

from ..core.errors import KkgError

DATASET_FILE = "dataset.nq"
MANIFEST_FILE = "manifest.json"
LOCK_FILE = ".lock"
BUILDS = "builds"
CURRENT = "current"
TEMP_PREFIX = ".tmp-"
# what older versions left behind when killed while writing (tempfile names of the old build.py)
_OLD_TEMPS = (DATASET_FILE + ".", ".tmp")


def _cannot(action: str, path: Path, exc: OSError) -> KkgError:
    reason = exc.strerror or str(exc)
    return KkgError(f"cannot {action} {path}: {reason}", code="build-dir", status=500)


def ensure(build_dir: str | Path) -> Path:
    """The build directory, created if needed; a KkgError naming it when it cannot be."""
    path = Path(build_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
        (path / BUILDS).mkdir(exist_ok=True)
    except OSError as exc:
        raise _cannot("create the build directory", path, exc) from None
    return path


@contextlib.contextmanager
def locked(build_dir: str | Path, on_wait=None):
    """Hold the build directory's lock: one build at a time per directory (another waits; ``on_wait``
    is called once if it has to). The lock goes with the process, so a killed build never blocks."""
    path = ensure(build_dir)
    try:
        handle = open(path / LOCK_FILE, "a+b")
    except OSError as exc:
        raise _cannot("lock the build directory", path, exc) from None
    try:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no lock
            yield path
            return
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield path
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()


def remove_leftovers(build_dir: Path) -> list[str]:
    """Remove the temporary files and directories of builds that did not finish (call it holding the
    lock, when no other build can be writing); returns their names."""
    removed = []
    for folder in (build_dir, build_dir / BUILDS):
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            old_temp = folder == build_dir and entry.name.startswith(_OLD_TEMPS[0]) and entry.name.endswith(_OLD_TEMPS[1])
            if entry.name.startswith(TEMP_PREFIX) or old_temp:
                _remove(entry)
                removed.append(entry.name)
    return removed


def _remove(entry: Path) -> None:
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        entry.unlink(missing_ok=True)


def workspace(build_dir: Path) -> Path:
    """A fresh, empty directory for one build's files."""
    try:
        return Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", dir=build_dir / BUILDS))
    except OSError as exc:
        raise _cannot("write into", build_dir, exc) from None


def publish(build_dir: Path, work: Path) -> Path:
    """Make the finished build in ``work`` the current one (one rename switches both files); returns
    its final directory. The previous build is kept, older ones removed."""
    final = build_dir / BUILDS / uuid.uuid4().hex[:12]
    previous = current(build_dir)
    try:
        work.rename(final)
        _switch(build_dir / CURRENT, f"{BUILDS}/{final.name}")
        for name in (DATASET_FILE, MANIFEST_FILE):
            link = build_dir / name
            if not (link.is_symlink() and os.readlink(link) == f"{CURRENT}/{name}"):
                _switch(link, f"{CURRENT}/{name}")
    except OSError as exc:
        raise _cannot("publish the build in", build_dir, exc) from None
    keep = {final.name} | ({previous.name} if previous is not None else set())
    for entry in (build_dir / BUILDS).iterdir():
        if entry.name not in keep and not entry.name.startswith(TEMP_PREFIX):
            _remove(entry)
    return final


def _switch(link: Path, target: str) -> None:
    """Point ``link`` at ``target`` in one rename (a new link beside it replaces it)."""
    fresh = link.with_name(f"{TEMP_PREFIX}{link.name}-{uuid.uuid4().hex[:8]}")
    os.symlink(target, fresh)
    os.replace(fresh, link)


def current(build_dir: str | Path) -> Path | None:
    """The directory holding the current build's two files, resolved once (the published build, or
    the directory itself for a build written by an older version); None when there is none."""
    path = Path(build_dir)
    link = path / CURRENT
    if link.is_symlink():
        target = path / os.readlink(link)
        return target if target.is_dir() else None
    if (path / DATASET_FILE).is_file() and not (path / DATASET_FILE).is_symlink():
        return path
    return None
