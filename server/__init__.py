"""The outside of karabakh-kg: how people and programs reach the dataset.

- ``web``: the Flask app: routes, pages, templates, content negotiation, HTTP manners.
- ``serving``: the HTTP servers (waitress, granian) and the supervision of several processes.
- ``cli``: the ``karabakh-kg`` command.

Every query goes through ``karabakh_kg.graph.sparql``, the one doorway for evaluating SPARQL.
"""
