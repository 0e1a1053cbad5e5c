"""``python -m karabakh_kg.server.cli``: the ``karabakh-kg`` command."""

from .main import main

main()
