"""The ``karabakh-kg`` command: ``commands`` holds the group and the data commands, ``serve``,
``links`` and ``push`` their own commands, ``support`` what every command shares.

``main`` is the command itself (the console script's entry point)."""

from .commands import main

__all__ = ["main"]
