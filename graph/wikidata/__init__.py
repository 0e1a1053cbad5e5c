"""Wikidata: its RDF vocabulary and our verified item and property lists (``vocabulary``), the
links check (``check``, ``entities``), exports in Wikidata's statement model (``statements``,
``export``) and federated queries against the Wikidata Query Service (``federation``)."""
