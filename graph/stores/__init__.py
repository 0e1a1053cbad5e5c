"""External SPARQL stores over the W3C protocols: the HTTP client that talks to them
(``store_http``), a store queried as the dataset (``remote_store``, with the edits of a query's
text it needs: ``query_text``) and ``push``, which replaces the build's graphs in a store."""
