"""The pages in a real browser: Playwright driving Debian's chromium (``apt-get install chromium``;
no browser is downloaded) against the seed served by waitress on a loopback port.

One journey, as a journalist would take it: the home page, a search for "Shusha", the war's page with
the latest figures 2,906 (per Azerbaijan) and 3,825 (per Armenia/Artsakh) side by side and Armenia's
history opened, a figure followed to its claim and its source text and on to the source, a stored query run on the query page and an IRI in its
results followed to its page. No page may log a console error or raise, and axe-core may find no
serious or critical accessibility violation on any of them. The journey writes the screenshots the
README shows (docs/img/war-page.png, docs/img/claim-page.png).

Without chromium the tests are skipped, unless KARABAKH_KG_REQUIRE_BROWSER=1 (CI sets it), where a
missing browser fails them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from karabakh_kg.graph.sparql import stored_queries
from server_helpers import app_for, live_server

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "img"
BAD_IMPACTS = ("serious", "critical")

playwright_api = pytest.importorskip("playwright.sync_api")
axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")


def _browser_available() -> bool:
    return os.path.exists(CHROMIUM) or shutil.which("chromium") is not None


if not _browser_available():
    if os.environ.get("KARABAKH_KG_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"chromium is required (KARABAKH_KG_REQUIRE_BROWSER=1) but {CHROMIUM} is missing")
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def site(built):
    with app_for(built, stored=stored_queries.load_all()) as app:
        with live_server(app) as url:
            yield url.rsplit("/sparql", 1)[0] if url.endswith("/sparql") else url.rstrip("/")


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
                                          args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


class Watched:
    """A page whose console errors and uncaught exceptions are recorded, checked by axe on demand."""

    def __init__(self, browser, base: str):
        self.context = browser.new_context(viewport={"width": 1200, "height": 900}, java_script_enabled=True)
        self.page = self.context.new_page()
        self.base = base
        self.errors: list[str] = []
        self.page.on("console", lambda message: self.errors.append(f"console {message.type}: {message.text}")
                     if message.type == "error" else None)
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        self.axe = axe_module.Axe()

    def accessible(self) -> None:
        """No serious or critical axe-core violation on the page as it is now."""
        results = self.axe.run(self.page)
        bad = [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
               for v in results.response["violations"] if v.get("impact") in BAD_IMPACTS]
        assert not bad, f"{self.page.url}:\n" + "\n".join(bad)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watched(browser, site):
    page = Watched(browser, site)
    yield page
    page.close()
    assert page.errors == [], page.errors


def row_with(page, text: str):
    return page.locator("tr", has=page.locator("td", has_text=text)).first


def test_journey_home_search_war_claim_source(watched):
    page = watched.page
    page.goto(watched.base + "/")
    assert "Who says what" in page.locator("h1").inner_text()
    watched.accessible()

    page.fill("#site-search", "Shusha")
    page.press("#site-search", "Enter")
    page.wait_for_url("**/search?q=Shusha")
    results = page.locator("ol.results li")
    assert results.first.inner_text().startswith("Shusha")
    assert page.get_by_role("link", name="Capture of Shusha").count() == 1
    watched.accessible()

    page.goto(watched.base + "/")
    page.get_by_role("link", name="Second Nagorno-Karabakh War", exact=True).first.click()
    page.wait_for_url("**/id/event/second-nagorno-karabakh-war.html")
    group = page.locator(".figure-group", has=page.locator("h3", has_text="killed (servicemen)"))
    rival = [row.split("\t")[:2] for row in group.locator("table.figures tbody tr").all_inner_texts()]
    armenia = rival.index(["3,825", "Armenia/Artsakh"])  # the latest figures of rival claimants,
    assert rival[armenia + 1] == ["2,906", "Azerbaijan"]  # side by side
    chart = group.locator("svg[role=img]")
    assert chart.is_visible() and "2,906" in chart.inner_html() and "3,825" in chart.inner_html()
    history = group.locator("details.history", has_text="with Armenia")
    assert not history.locator("table").is_visible()  # closed until asked for
    history.locator("summary").click()
    assert history.locator("table").is_visible()
    assert history.locator("tbody tr").first.inner_text().split("\t")[1] == "1,166"  # the oldest first
    alleged = row_with(page, "Turkey")
    assert "alleged by Armenia" in page.locator("section", has_text="Participants by side").inner_text()
    assert alleged.count() == 1
    watched.accessible()  # with a history open
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "war-page.png"), full_page=True)

    group.locator("table.figures").get_by_role("link", name="2,906").click()
    page.wait_for_url("**/id/claim/*.html")
    assert "2,906 servicemen killed" in page.locator("blockquote.verbatim").first.inner_text()
    provenance = page.locator("table.facts").first.inner_text()
    assert "Per Azerbaijan:" in provenance and "Azerbaijan" in provenance
    statement = page.locator("pre.qs").first.inner_text()
    assert "P1120" in statement and "P585" in statement  # exported with its reporting date
    watched.accessible()
    page.screenshot(path=str(SCREENSHOTS / "claim-page.png"), full_page=True)

    source = page.locator("table.facts tr", has=page.locator("th", has_text="source document")).locator("a").first
    title = source.inner_text()
    source.click()
    page.wait_for_url("**/id/source/*.html")
    assert title in page.locator("h1").inner_text()
    watched.accessible()


def test_stored_query_results_link_to_pages(watched):
    page = watched.page
    page.goto(watched.base + "/query")
    watched.accessible()
    page.select_option("#stored", "entity")
    page.click("#run")
    link = page.locator("#output a", has_text="Turkey: belligerent, alleged by Armenia")  # its label, fetched
    link.first.wait_for()
    assert "@en" not in page.locator("#output table").inner_text()
    watched.accessible()
    link.first.click()
    page.wait_for_url("**/id/claim/turkey-belligerent-alleged-by-armenia.html")
    assert "Turkey (alleged by Armenia)" in page.locator("blockquote.verbatim").first.inner_text()


def test_pages_work_without_javascript(browser, site):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(site + "/search?q=Artsakh")
        page.get_by_role("link", name="Republic of Artsakh", exact=True).first.click()
        page.wait_for_url("**/id/actor/artsakh.html")
        assert "Claims it makes" in page.locator("main").inner_text()
        page.goto(site + "/id/event/second-nagorno-karabakh-war.html")
        group = page.locator(".figure-group", has=page.locator("h3", has_text="killed (servicemen)"))
        history = group.locator("details.history", has_text="with Armenia")
        history.locator("summary").click()  # <details> opens without a script
        figures = [row.split("\t")[1].split()[0] for row in history.locator("tbody tr").all_inner_texts()]
        assert figures[:2] == ["1,166", "2,317"] and "3,825" in figures
        page.goto(site + "/queries/claims-by-claimant?claimant=actor:sohr")
        page.locator("td a").first.click()
        assert "/id/" in page.url or "/ontology" in page.url
    finally:
        context.close()
