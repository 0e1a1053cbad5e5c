"""The OWL ontology, SHACL shapes and violation checks, shipped as package data."""
