"""The answer cache: a repeated query is answered from memory with the same bytes; volatile queries,
failures and other formats or parameters are not mixed up with it."""

from __future__ import annotations

import requests
from karabakh_kg.graph.sparql import answer_cache
from karabakh_kg.graph.sparql.worker import Job
from karabakh_kg.server.web.negotiation import Choice
from rdflib import Literal
from server_helpers import app_for, live_server, tricky_dataset

LABELS = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o"


def _endpoint(app):
    return app.extensions["karabakh_kg"]


def test_a_repeated_query_is_answered_from_memory_with_the_same_bytes():
    with app_for(tricky_dataset()) as app:
        client, cache = app.test_client(), _endpoint(app).queries.answers
        first = client.get("/sparql", query_string={"query": LABELS})
        assert first.status_code == 200 and cache.hits == 0
        assert len(first.get_json()["results"]["bindings"]) > 1
        second = client.get("/sparql", query_string={"query": LABELS})
        assert second.status_code == 200 and cache.hits == 1
        assert second.data == first.data and second.mimetype == first.mimetype


def test_formats_and_texts_are_kept_apart():
    with app_for(tricky_dataset()) as app:
        client = app.test_client()
        as_json = client.get("/sparql", query_string={"query": LABELS})
        as_csv = client.get("/sparql", query_string={"query": LABELS}, headers={"Accept": "text/csv"})
        assert as_csv.mimetype == "text/csv" and as_json.mimetype == "application/sparql-results+json"
        limited = client.get("/sparql", query_string={"query": LABELS + " LIMIT 1"})
        assert len(limited.get_json()["results"]["bindings"]) == 1
        again = client.get("/sparql", query_string={"query": LABELS}, headers={"Accept": "text/csv"})
        assert again.data == as_csv.data
        assert len(client.get("/sparql", query_string={"query": LABELS}).get_json()["results"]["bindings"]) > 1


def test_volatile_queries_are_evaluated_every_time():
    with app_for(tricky_dataset()) as app:
        client, cache = app.test_client(), _endpoint(app).queries.answers
        query = "SELECT (STRUUID() AS ?id) WHERE {}"
        first = client.get("/sparql", query_string={"query": query}).get_json()
        second = client.get("/sparql", query_string={"query": query}).get_json()
        assert first["results"]["bindings"] != second["results"]["bindings"]
        assert cache.hits == 0


def test_failures_are_not_kept():
    with app_for(tricky_dataset()) as app:
        client, cache = app.test_client(), _endpoint(app).queries.answers
        for _ in range(2):
            assert client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p }"}).status_code == 400
        assert cache.hits == 0


def test_the_cache_can_be_turned_off():
    with app_for(tricky_dataset(), answer_cache_mb=0) as app:
        client, cache = app.test_client(), _endpoint(app).queries.answers
        for _ in range(3):
            assert client.get("/sparql", query_string={"query": LABELS}).status_code == 200
        assert cache.hits == 0


def test_the_cache_serves_real_http_clients():
    with app_for(tricky_dataset()) as app, live_server(app) as url:
        answers = [requests.get(f"{url}/sparql", params={"query": LABELS}, timeout=30) for _ in range(3)]
        assert all(r.status_code == 200 for r in answers)
        assert answers[0].content == answers[1].content == answers[2].content
        assert _endpoint(app).queries.answers.hits == 2


def _job(text: str, **bindings) -> Job:
    return Job(text, Choice("json", "turtle", "*/*"), 100, bindings=bindings)


def test_parameters_are_part_of_the_key():
    assert answer_cache.key_of(_job(LABELS, x=Literal("a"))) != answer_cache.key_of(_job(LABELS, x=Literal("b")))
    assert answer_cache.key_of(_job(LABELS, x=Literal("a"))) == answer_cache.key_of(_job(LABELS, x=Literal("a")))
    assert answer_cache.key_of(_job("SELECT (NOW() AS ?t) WHERE {}")) is None
    assert answer_cache.key_of(_job("SELECT * WHERE { SERVICE <http://x/> { ?s ?p ?o } }")) is None


def test_least_recently_used_answers_go_first_within_the_byte_budget():
    entry = 100 + answer_cache.ENTRY_OVERHEAD
    cache = answer_cache.AnswerCache(max_bytes=4 * entry)
    for name in "abcd":
        cache.put((name,), {"ok": True, "data": b"x" * 100})
    assert cache.get(("a",)) is not None  # a is now the most recent
    cache.put(("e",), {"ok": True, "data": b"x" * 100})
    assert cache.get(("b",)) is None and cache.get(("a",)) is not None and cache.get(("e",)) is not None
    cache.put(("big",), {"ok": True, "data": b"x" * 101})  # over a quarter of the budget: not kept
    assert cache.get(("big",)) is None


def test_a_burst_of_the_same_query_is_evaluated_once():
    """Eight clients at once, one query slot: without sharing, seven would be refused with 503."""
    from concurrent.futures import ThreadPoolExecutor

    from server_helpers import generated_dataset

    query = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d }"
    with app_for(generated_dataset(300), max_concurrent_queries=1, threads=16) as app, live_server(app) as url:
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: requests.get(f"{url}/sparql", params={"query": query}, timeout=60),
                                    range(8)))
        assert [r.status_code for r in answers] == [200] * 8
        assert len({r.content for r in answers}) == 1
        cache = _endpoint(app).queries.answers
        assert cache.shared >= 1 and cache.shared + cache.hits == 7


def test_first_requests_for_different_stored_queries_at_once_all_succeed(dataset):
    """Each stored query is parsed on its first request; rdflib's parser is not thread-safe, and a
    clash once left a query answering 400 until the server restarted."""
    from concurrent.futures import ThreadPoolExecutor

    from karabakh_kg.graph.sparql import stored_queries

    shipped = stored_queries.load_all()
    ids = [q.id for q in shipped.values() if "SERVICE" not in q.text and not q.params]
    for _ in range(3):
        with app_for(dataset, stored=shipped, max_concurrent_queries=16) as app, live_server(app) as url:
            with ThreadPoolExecutor(8) as pool:
                first = list(pool.map(lambda i: requests.get(f"{url}/queries/{i}.json", timeout=60).status_code,
                                      ids * 2))
            again = [requests.get(f"{url}/queries/{i}.json", timeout=60).status_code for i in ids]
            assert first == [200] * 2 * len(ids) and again == [200] * len(ids)


def test_random_values_differ_between_query_workers_on_oxigraph():
    """Oxigraph's random generator is inherited by every forked worker: without a fresh thread per
    such query, two workers drew the same STRUUID()."""
    from karabakh_kg.graph.pipeline import datasets as engine
    from server_helpers import TRICKY_TRIG

    dataset = engine.new_dataset("oxigraph")
    dataset.parse(data=TRICKY_TRIG, format="trig")
    query = "SELECT (STRUUID() AS ?id) (RAND() AS ?r) WHERE {}"
    with app_for(dataset, query_workers=2) as app:
        client = app.test_client()
        seen = [client.get("/sparql", query_string={"query": query}).get_json()["results"]["bindings"][0]["id"]["value"]
                for _ in range(6)]
    assert len(set(seen)) == 6


def test_stored_queries_are_warmed_after_start_up(dataset):
    """With warm_stored_queries, the first request for a stored query is already a cache hit."""
    from karabakh_kg.graph.sparql import stored_queries

    shipped = stored_queries.load_all()
    with app_for(dataset, stored=shipped, warm_stored_queries=True) as app:
        _endpoint(app).warming.join(120)
        cache = _endpoint(app).queries.answers
        warmable = [q for q in shipped.values() if "SERVICE" not in q.text]
        assert len(cache) == len(warmable)  # one answer each: its usual URLs make the same job
        before = cache.hits
        client = app.test_client()
        for query_id in ("casualties-by-claimant", "timeline"):
            assert client.get(f"/queries/{query_id}.json").status_code == 200
            assert client.get(f"/queries/{query_id}").status_code == 200
        assert cache.hits - before == 4
        assert client.get("/queries/entity.json", query_string={"entity": "actor:sohr"}).status_code == 200
        assert cache.hits - before == 4  # a parameter value the warm-up did not use: evaluated


def test_a_warm_up_job_leaves_a_fresh_worker_behind():
    """The warm-up's evaluations (background jobs) retire their worker, with the memory a stored
    query made it hold (0.4 GB a worker at a million triples); a request's keeps its worker."""
    with app_for(tricky_dataset()) as app:
        endpoint = _endpoint(app)
        pool = endpoint.queries.pool
        assert endpoint.run(_job("ASK { ?s ?p ?o } # a request")) is not None
        before = set(pool.pids())
        assert endpoint.run(_job("ASK { ?s ?p ?o } # another request")) is not None
        assert set(pool.pids()) == before
        assert endpoint.run(_job("ASK { ?s ?p ?o } # warming"), background=True)["data"]
        after = set(pool.pids())
        assert len(before - after) == 1 and len(after) == len(before)


def test_warming_is_off_when_the_cache_is(dataset):
    from karabakh_kg.server.web import warm_up

    with app_for(dataset, warm_stored_queries=True, answer_cache_mb=0) as app:
        assert _endpoint(app).warming is None and warm_up.start(app) is None


def test_volatile_functions_written_with_escapes_are_not_kept():
    assert answer_cache.key_of(_job("SELECT (\\u0052AND() AS ?r) WHERE {}")) is None
    assert answer_cache.key_of(_job("SELECT (STR\\u0055UID() AS ?r) WHERE {}")) is None


def test_long_query_texts_cost_what_their_keys_hold():
    """The key is a digest and every entry is counted with an overhead: a stream of distinct,
    megabyte-long query texts cannot grow the cache past its budget."""
    cache = answer_cache.AnswerCache(max_bytes=64 * 1024)
    for i in range(500):
        job = _job("ASK {} #" + "x" * 100_000 + str(i))
        cache.put(answer_cache.key_of(job), {"ok": True, "data": b"true"})
    assert len(cache) <= 64 * 1024 // answer_cache.ENTRY_OVERHEAD
    assert all(len(key) == 32 for key in cache._replies)


def test_waiting_for_an_identical_query_is_bounded():
    """Each waiter holds an HTTP thread: beyond max_waiters a request is refused at once."""
    import threading

    from karabakh_kg.graph.core.errors import KkgError

    cache = answer_cache.AnswerCache(max_bytes=1 << 20, max_waiters=2)
    release, started = threading.Event(), threading.Event()

    def slow():
        started.set()
        release.wait(10)
        return {"ok": True, "data": b"x"}

    results = []
    leader = threading.Thread(target=lambda: results.append(cache.answer(b"k", slow, wait=10)))
    leader.start()
    started.wait(5)
    waiters = [threading.Thread(target=lambda: results.append(cache.answer(b"k", slow, wait=10)))
               for _ in range(2)]
    for t in waiters:
        t.start()
    for _ in range(100):
        if cache._flights[b"k"].waiters == 2:
            break
        threading.Event().wait(0.01)
    try:
        cache.answer(b"k", slow, wait=10, crowded=lambda: KkgError("busy", status=503))
        raise AssertionError("a third waiter was admitted")
    except KkgError as exc:
        assert exc.status == 503
    release.set()
    for t in [leader] + waiters:
        t.join(5)
    assert len(results) == 3 and cache.shared == 2
