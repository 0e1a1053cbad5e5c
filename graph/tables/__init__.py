"""Facts from tables: the collector's tables of attributed figures and event records (shipped in
``graph/data/sources``) and a user's own CSV file of figures, turned into claims.

``figure_rows`` and ``event_rows`` read one row each, with the vocabulary of claimants, parties and
categories (``figure_vocabulary``), dates as reported (``reported_dates``) and the pages they came
from (``page_sources``); ``source_facts`` writes the shipped facts from the shipped tables;
``figure_import`` checks and converts a user's file (``karabakh-kg import``); ``turtle_writer``
writes Turtle fast, without an rdflib store."""
