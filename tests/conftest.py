"""Shared fixtures: one seed build per test session, in a temporary build directory.

The environment variable KARABAKH_KG_BUILD_DIR is pointed at that directory so that commands run
by the tests (in-process or as subprocesses) never touch the user's own build.
"""

from __future__ import annotations

import os

import pytest
from karabakh_kg.graph.pipeline import build as build_mod


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory):
    """The session's build directory (also exported as KARABAKH_KG_BUILD_DIR)."""
    path = tmp_path_factory.mktemp("build")
    os.environ["KARABAKH_KG_BUILD_DIR"] = str(path)
    return path


@pytest.fixture(scope="session")
def built(build_dir):
    """The seed graph, built once: parsed, reasoned and validated."""
    return build_mod.build(build_dir)


@pytest.fixture(scope="session")
def dataset(built):
    """The built dataset (default graph = union of the named graphs)."""
    return built.dataset
