"""What every room of the project shares: the one error type (``errors``), identifiers and
namespaces (``iris``), the one format table (``formats``), the one settings table (``settings``)
and the one cache abstraction (``caching``). It imports nothing else of the project."""
