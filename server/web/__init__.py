"""The Flask app: the app factory (``app``), the state one app serves (``endpoint``), one blueprint
per concern (``*_routes``), content negotiation (``negotiation``), the one error shape over HTTP
(``http_errors``), caching and CORS headers (``http_manners``), and the pages' templates."""
