"""``python -m karabakh_kg.server.cli``: the ``karabakh-kg`` command."""

from . import main

main()
