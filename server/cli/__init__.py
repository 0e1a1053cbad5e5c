"""The ``karabakh-kg`` command: ``main`` holds the group and the data commands, ``serve``,
``links`` and ``push`` their own commands, ``support`` what every command shares."""
