"""The data side of karabakh-kg: everything that makes, checks, queries and exports the dataset.

Rooms, from the bottom up (a room imports only from rooms above it in this list):

- ``core``: what every room shares: errors, identifiers, the format table, the settings table.
- ``pipeline``: the build: parse, reason, validate, write; exports and synthetic data.
- ``stores``: external SPARQL stores over HTTP: the protocol client, a store as the dataset, ``push``.
- ``sparql``: the one doorway for evaluating SPARQL: the choice of engine and its fallbacks,
  worker processes, caches, the stored queries; the web app and the command line call only it.
- ``wikidata``: Wikidata's model, our verified links, exports in Wikidata's statement model.
"""
