"""The README stays true: its two commands, and every setting (there or in docs/), stored query and format it lists."""

from __future__ import annotations

import re
from pathlib import Path

from karabakh_kg.graph import formats, settings, stored_queries

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _first_code_block() -> list[str]:
    match = re.search(r"```\w*\n(.*?)```", README, re.S)
    assert match, "the README has no code block"
    return [line for line in match.group(1).splitlines() if line.strip()]


def test_readme_starts_with_exactly_two_setup_commands():
    before = README.split("```", 1)[0]
    assert before.strip().startswith("# ") and len(before.strip().splitlines()) == 1
    commands = _first_code_block()
    assert len(commands) == 2
    assert "karabakh-kg serve" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert _first_code_block()[1] in ci


def test_every_setting_is_documented():
    """In the README or in the user documentation under docs/ (where the README points)."""
    docs = README + "".join(path.read_text(encoding="utf-8") for path in sorted((ROOT / "docs").glob("*.md")))
    for setting in settings.SETTINGS:
        assert f"`{setting.env_var}`" in docs, setting.name
        assert f"`{setting.flag}`" in docs, setting.name


def test_every_stored_query_is_listed():
    for query_id in stored_queries.load_all():
        assert f"`{query_id}`" in README, query_id


def test_every_format_is_listed():
    for fmt in formats.FORMATS:
        if fmt.carries != formats.TEXT:
            assert f"`{fmt.name}`" in README and f"`{fmt.media_type}`" in README, fmt.name
