"""karabakh-kg: a provenance-aware knowledge graph of the Nagorno-Karabakh conflict.

The repository's top-level folders are installed as subpackages of this package:
``karabakh_kg.graph`` (build, reason, validate, export), ``karabakh_kg.server`` (the SPARQL
endpoint and the command line), ``karabakh_kg.ontology`` and ``karabakh_kg.queries`` (data files).
"""

__version__ = "0.1.0"
