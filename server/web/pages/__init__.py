"""The pages people read: every identifier a page (``entity_routes``, with the bounded
description and page queries of ``entity_queries`` and the page layouts of ``entity_pages``), the
home page (``home_routes``), label search (``search_routes``, ``label_search``), readable terms
(``term_view``, ``result_labels``) and the server-made charts of rival figures (``figure_chart``).
Every query they run goes through the app's query service, like any other request."""
