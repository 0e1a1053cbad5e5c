"""The settings table as Markdown: what ``karabakh-kg settings`` prints and docs/configuration.md holds.

docs/configuration.md is generated from graph/core/settings.py by ``karabakh-kg settings --markdown``
(a test keeps the committed file equal to it), so the settings are described in one place only.
"""

from __future__ import annotations

from .settings import ENV_PREFIX, SETTINGS, Setting

# build_dir's real default depends on the machine (XDG_CACHE_HOME, the home directory)
_SHOWN_DEFAULTS = {"build_dir": "~/.cache/karabakh-kg/<installation>/build"}

_INTRO = f"""\
# Configuration

<!-- Generated from graph/core/settings.py by `karabakh-kg settings --markdown`; do not edit by hand. -->

Every setting is declared once (`graph/core/settings.py`) with its default and help text, and can be
given as a command-line flag or as an environment variable with the `{ENV_PREFIX}` prefix; the
flag wins. `karabakh-kg settings` prints this table.
"""


def shown_default(setting: Setting) -> str:
    """The default as the documentation shows it (the build directory as the usual path, not this machine's)."""
    return str(_SHOWN_DEFAULTS.get(setting.name, setting.default))


def settings_table() -> str:
    """Every setting as one Markdown table row: name, flag, environment variable, default, meaning."""
    lines = ["| setting | flag | environment variable | default | meaning |", "|---|---|---|---|---|"]
    for s in SETTINGS:
        lines.append(f"| {s.name} | `{s.flag}` | `{s.env_var}` | `{shown_default(s)}` | {s.help} |")
    return "\n".join(lines) + "\n"


def configuration_page() -> str:
    """The whole of docs/configuration.md: a short introduction and the settings table."""
    return _INTRO + "\n" + settings_table()
