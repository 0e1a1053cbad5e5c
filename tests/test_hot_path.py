"""The hot path (server/web/hot_path.py) answers exactly as the ``/sparql`` route would.

Every request of a corpus is sent twice to the same app, once through the wrapped WSGI callable
(the hot path first, Flask for the rest) and once to Flask's own callable underneath, and the two
answers must be the same status, the same headers in the same order and the same bytes. The corpus
holds requests the hot path answers (look-ups in several spellings and Accept headers, a query
answered before, a host with a default port, CORS from a listed origin) and requests it must leave
to Flask (another path, POST, HEAD, format=, a dataset parameter, If-None-Match, a query needing a
worker, a bad query, bad encodings, a body on a GET); the test also checks which were which, so
that it cannot pass with a hot path that answers nothing.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
import requests
from werkzeug.test import EnvironBuilder

from server_helpers import app_for, live_server, tricky_app, tricky_dataset  # noqa: F401  (fixture)

A = "http://example.org/a"
LOOKUP = f"SELECT ?p ?o WHERE {{ <{A}> ?p ?o }}"
JSON = "application/sparql-results+json"


def _q(text: str, plus: bool = False) -> str:
    encoded = quote(text, safe="")
    return "query=" + (encoded.replace("%20", "+") if plus else encoded)


# (name, builder arguments, answered by the hot path)
CORPUS = [
    ("look-up", dict(query_string=_q(LOOKUP), headers={"Accept": JSON}), True),
    ("look-up, + for spaces", dict(query_string=_q(LOOKUP, plus=True), headers={"Accept": JSON}), True),
    ("look-up, no Accept", dict(query_string=_q(LOOKUP + " # no accept")), True),
    ("look-up, */*", dict(query_string=_q(LOOKUP), headers={"Accept": "*/*"}), True),
    ("look-up, json with charset and q",
     dict(query_string=_q(LOOKUP), headers={"Accept": "application/sparql-results+json;charset=utf-8;q=0.9, */*;q=0.1"}),
     True),
    ("look-up of one variable", dict(query_string=_q(f"SELECT ?o WHERE {{ <{A}> <http://example.org/label> ?o }}"),
                                     headers={"Accept": JSON}), True),
    ("look-up selecting an unbound variable", dict(query_string=_q(f"SELECT ?x WHERE {{ <{A}> ?p ?o }}"),
                                                   headers={"Accept": JSON}), True),
    ("look-up with LIMIT and comment", dict(query_string=_q(LOOKUP + " LIMIT 2 # two"), headers={"Accept": JSON}), True),
    ("look-up of nothing", dict(query_string=_q("SELECT ?p ?o WHERE { <http://example.org/none> ?p ?o }"),
                                headers={"Accept": JSON}), True),
    ("look-up, host with default port", dict(query_string=_q(LOOKUP), headers={"Accept": JSON, "Host": "example.org:80"}),
     True),
    ("look-up, https", dict(query_string=_q(LOOKUP), base_url="https://example.org/", headers={"Accept": JSON}), True),
    ("look-up, from an origin", dict(query_string=_q(LOOKUP), headers={"Accept": JSON, "Origin": "https://a.example"}),
     True),
    ("look-up, CSV", dict(query_string=_q(LOOKUP), headers={"Accept": "text/csv"}), False),
    ("look-up, Turtle only (406)", dict(query_string=_q(LOOKUP), headers={"Accept": "text/turtle"}), False),
    ("look-up, format=json", dict(query_string=_q(LOOKUP) + "&format=json"), False),
    ("look-up, default-graph-uri", dict(query_string=_q(LOOKUP) + "&default-graph-uri=" + quote("http://example.org/g1")),
     False),
    ("look-up, If-None-Match", dict(query_string=_q(LOOKUP), headers={"Accept": JSON, "If-None-Match": '"x"'}), False),
    ("look-up, POST", dict(method="POST", data=_q(LOOKUP), content_type="application/x-www-form-urlencoded",
                           headers={"Accept": JSON}), False),
    ("look-up, HEAD", dict(method="HEAD", query_string=_q(LOOKUP), headers={"Accept": JSON}), False),
    ("look-up, GET with a body", dict(query_string=_q(LOOKUP), data="x", headers={"Accept": JSON}), False),
    ("look-up, /sparql/", dict(path="/sparql/", query_string=_q(LOOKUP), headers={"Accept": JSON}), False),
    ("a join", dict(query_string=_q(f"SELECT ?p ?o WHERE {{ <{A}> ?p ?o . ?o ?q ?r }}"), headers={"Accept": JSON}),
     False),
    ("a join asked again (from the answer cache)",
     dict(query_string=_q(f"SELECT ?p ?o WHERE {{ <{A}> ?p ?o . ?o ?q ?r }}"), headers={"Accept": JSON}), True),
    ("a syntax error", dict(query_string=_q("SELECT ?p WHERE { <http://example.org/a> ?p }"), headers={"Accept": JSON}),
     False),
    ("the query twice", dict(query_string=_q(LOOKUP) + "&" + _q(LOOKUP)), False),
    ("not UTF-8 once decoded", dict(query_string="query=SELECT%FF"), False),
    ("an update", dict(query_string="update=" + quote("CLEAR ALL")), False),
    ("no query", dict(query_string=""), False),
    ("a WebSocket upgrade (werkzeug's 400)",
     dict(query_string=_q(LOOKUP), headers={"Accept": JSON, "Connection": "Upgrade", "Upgrade": "websocket"}), False),
    ("a ws: scheme", dict(query_string=_q(LOOKUP), base_url="ws://localhost/", headers={"Accept": JSON}), False),
    ("a look-up with a carriage return in its comment (a 400)",
     dict(query_string=_q(LOOKUP + " #\r LIMIT 1"), headers={"Accept": JSON}), False),
]


def _answer(app, arguments: dict) -> tuple[str, list[tuple[str, str]], bytes]:
    arguments = dict(arguments)
    arguments.setdefault("path", "/sparql")
    environ = EnvironBuilder(**arguments).get_environ()
    started = {}

    def start_response(status, headers, exc_info=None):
        started["status"], started["headers"] = status, list(headers)

    body = b"".join(app(environ, start_response))
    return started["status"], started["headers"], body


@pytest.mark.parametrize("cors", ["*", "https://a.example, https://b.example"])
@pytest.mark.parametrize("cache_mb", [64, 0])
def test_the_hot_path_answers_as_the_route_does(cache_mb, cors):
    with app_for(tricky_dataset(), answer_cache_mb=cache_mb, cors_origins=cors) as app:
        hot = app.wsgi_app
        flask_only = hot.app
        for name, arguments, answered_here in CORPUS:
            before = hot.answered
            fast = _answer(hot, arguments)
            took_it = hot.answered - before
            routed = _answer(flask_only, arguments)
            assert fast == routed, name
            expected = answered_here and (cache_mb or "answer cache" not in name)
            assert took_it == (1 if expected else 0), name
        status, headers, body = _answer(hot, CORPUS[0][1])
        assert status == "200 OK" and b'"bindings"' in body and ("X-Karabakh-KG-Rows", "10") in headers


def test_clients_over_http_get_the_hot_path(tricky_app):
    """Under a real server, a look-up from a client library is answered by the hot path, and
    revalidating it with its ETag gives a 304 from the route."""
    with live_server(tricky_app) as url:
        hot = tricky_app.wsgi_app
        before = hot.answered
        first = requests.get(f"{url}/sparql", params={"query": LOOKUP + " # over http"},
                             headers={"Accept": JSON}, timeout=30)
        assert first.status_code == 200 and hot.answered == before + 1
        rows = first.json()["results"]["bindings"]
        assert int(first.headers["X-Karabakh-KG-Rows"]) == len(rows) == 10
        again = requests.get(f"{url}/sparql", params={"query": LOOKUP + " # over http"},
                             headers={"Accept": JSON, "If-None-Match": first.headers["ETag"]}, timeout=30)
        assert again.status_code == 304 and hot.answered == before + 1
