"""The SPARQL endpoint (Flask app factory, blueprints, content negotiation) and the command line."""
