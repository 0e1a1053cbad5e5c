"""What every ``karabakh-kg`` command shares: options from the settings table, resolved settings,
errors printed instead of tracebacks, and the last build.

Kept apart from commands.py so that the commands defined in other modules (serve, links, push) import
these helpers without importing commands.py, which imports them to register their commands.
"""

from __future__ import annotations

import functools
import os
import sys

import click

from ...graph.core import progress
from ...graph.core import settings as settings_mod
from ...graph.core.errors import KkgError
from ...graph.pipeline import build as build_mod
from ...graph.pipeline import datasets as engine_mod
from ...graph.pipeline import fastvalidate


def setting_options(*names: str):
    """Add the named settings as command-line options (help text and defaults from the settings table)."""
    def decorate(func):
        for name in reversed(names):
            setting = next(s for s in settings_mod.SETTINGS if s.name == name)
            func = click.option(setting.flag, name, default=None,
                                help=f"{setting.help} [env {setting.env_var}; default {setting.default!r}]")(func)
        return func
    return decorate


def resolved(values: dict) -> settings_mod.Settings:
    """Settings from the command's options, the environment and the defaults (the engine and the
    validator are fixed for the process here, so every dataset the command makes uses them)."""
    known = {s.name for s in settings_mod.SETTINGS}
    settings = settings_mod.resolve({k: v for k, v in values.items() if k in known})
    engine_mod.use(settings.engine)
    fastvalidate.use(settings.validator)
    return settings


def reports_errors(func):
    """Print KkgErrors as ``error: where: message`` and exit 1, instead of a traceback (a progress
    line on the terminal is cleared first)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except KkgError as exc:
            progress.finish()
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except BrokenPipeError:  # the reader of our output went away (`| head`): stop quietly
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(1)
        except OSError as exc:  # the disk, not the data: a full disk, a folder that cannot be written
            progress.finish()
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"error: {where}{exc.strerror or exc}", err=True)
            sys.exit(1)
        finally:
            progress.finish()
    return wrapper


def shows_progress(func):
    """Show the command's progress on standard error when it is a terminal (graph/progress.py)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        progress.show_on_terminal(func.__name__.replace("_command", "").replace("_", "-"))
        return func(*args, **kwargs)
    return wrapper


def load_build(settings) -> build_mod.Build:
    """The last build, rebuilt first (and said so on standard error) when missing or stale; a build
    made from the user's --facts files is named on standard error, so it is never used silently."""
    def announce(reason: str) -> None:
        progress.finish()
        click.echo(f"building into {settings.build_dir} ({reason})", err=True)

    result = build_mod.load(settings.build_dir, settings.reasoner, announce=announce)
    progress.finish()
    paths = result.manifest.get("fact_paths")
    if paths:
        click.echo(f"using the build of {', '.join(paths)} made at {result.manifest.get('built_at', '?')} "
                   f"in {settings.build_dir}", err=True)
    return result


def write_output(data: bytes, output) -> None:
    """Write a command's answer to the file ``output``, or to standard output when it is empty."""
    if output:
        with open(output, "wb") as handle:
            handle.write(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
